-- `Idempotency-Key` on POST: the first reply to a key is kept for a day, so a client that
-- retries after a timeout gets that reply back instead of a second ticket. Keys are the
-- sending API key's own (one dealer never sees another's reply). `status` is NULL while
-- the first request runs; `locked_at` lets a retry take over a reservation whose node died.
CREATE TABLE idempotency_keys (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    key_id TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status INTEGER,
    content_type TEXT,
    body TEXT,
    locked_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, key_id, idempotency_key)
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);
