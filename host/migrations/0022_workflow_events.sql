-- Workflow steps get every ticket and SLA event exactly once. The event is written in the
-- transaction of the change that caused it, held by the node that made the change
-- (`claim_token`, `claimed_until`), and deleted in the transaction that applies the
-- steps' actions, so the actions commit once or not at all. When the holding node dies
-- between the two, the lease runs out and any node's redelivery pass claims the event
-- again. An event that keeps failing is kept with `failed_at` set, for an operator to see.
CREATE TABLE workflow_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    attempts INTEGER NOT NULL,
    claimed_until BIGINT NOT NULL,
    claim_token TEXT NOT NULL,
    last_error TEXT,
    failed_at BIGINT
);
CREATE INDEX workflow_events_due ON workflow_events (claimed_until) WHERE failed_at IS NULL;
CREATE INDEX workflow_events_ticket ON workflow_events (tenant_id, ticket_id);
