-- KPI reports. `reopened` counts the times a ticket went from resolved or closed back to
-- an open state, so FCR can tell "never reopened" without reading the timeline. It is
-- maintained by the ticket UPDATE itself (see store/tickets.rs), whoever changes the status.
ALTER TABLE tickets ADD COLUMN reopened BIGINT NOT NULL DEFAULT 0;

-- The report population is "tickets created in [from, to)" within a tenant.
CREATE INDEX tickets_created ON tickets (tenant_id, created_at);
