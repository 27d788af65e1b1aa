-- Outbox delivery: a worker claims due rows (status `sending`) under a lease, delivers
-- them and marks them `delivered`, or `pending` again with a later next_attempt_at, or
-- `failed` after the last attempt. A claim whose lease ran out (its node died between
-- claiming and marking) is claimed again, so nothing committed is ever lost.

-- When the current claim ends (unix ms); NULL unless status = 'sending'.
ALTER TABLE outbox ADD COLUMN claimed_until BIGINT;
-- A fresh token per claim: only the holder of the live claim may mark the row.
ALTER TABLE outbox ADD COLUMN claim_token TEXT;
CREATE INDEX outbox_leases ON outbox (status, claimed_until);

-- Each tenant's webhook signing secret, created on first use.
CREATE TABLE webhook_secrets (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
