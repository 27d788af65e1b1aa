-- SLA policies per tenant and priority, the tenant's holidays, and one clock per ticket
-- and target (first response, resolution). Times are unix milliseconds.

CREATE TABLE sla_policies (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    priority TEXT NOT NULL,
    first_response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    warn_at_percent BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, priority)
);

CREATE TABLE holidays (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    day TEXT NOT NULL,
    name TEXT NOT NULL,
    PRIMARY KEY (tenant_id, day)
);

CREATE TABLE sla_clocks (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    target_minutes BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    -- While running: when the warning and the breach fall due. NULL while paused.
    warn_at BIGINT,
    due_at BIGINT,
    -- While paused: since when, and the business minutes left until warning and breach.
    paused_at BIGINT,
    warn_left_minutes BIGINT,
    due_left_minutes BIGINT,
    met_at BIGINT,
    warned_at BIGINT,
    breached_at BIGINT,
    UNIQUE (tenant_id, ticket_id, kind)
);
CREATE INDEX sla_clocks_due ON sla_clocks (met_at, paused_at, due_at);
CREATE INDEX sla_clocks_warn ON sla_clocks (met_at, paused_at, warn_at);
