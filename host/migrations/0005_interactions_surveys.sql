-- The ticket's work log (interactions) and satisfaction surveys.

-- One contact or note on a ticket. `actor` is the key that logged it (`key:<id>`);
-- handle_time_s feeds AHT, and is required for calls, chats and visits.
CREATE TABLE interactions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    direction TEXT NOT NULL,
    handle_time_s BIGINT,
    summary TEXT NOT NULL,
    body TEXT,
    actor TEXT NOT NULL,
    occurred_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX interactions_ticket ON interactions (tenant_id, ticket_id, id);
CREATE INDEX interactions_occurred ON interactions (tenant_id, occurred_at);

-- One survey per resolution of a ticket. The token is a random 256-bit secret that only
-- its recipient sees; the table keeps its sha256. The answer columns stay NULL until the
-- one answer the token allows.
CREATE TABLE surveys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    customer_id TEXT REFERENCES customers (id),
    token_hash TEXT NOT NULL UNIQUE,
    -- `email`, `sms`, or NULL when the customer could not be reached.
    sent_via TEXT,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    answered_at BIGINT,
    csat BIGINT,
    nps BIGINT,
    comment TEXT
);
CREATE INDEX surveys_ticket ON surveys (tenant_id, ticket_id);
CREATE INDEX surveys_customer ON surveys (tenant_id, customer_id);
CREATE INDEX surveys_answered ON surveys (tenant_id, answered_at);
