-- What a tenant may do with plugins, set by the platform admin: how many installations,
-- and a per-call budget (each part at most the platform maximum). The tenant admin sets
-- where plugin alerts (suspensions) are sent.
CREATE TABLE plugin_policies (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    max_installations BIGINT,
    budget TEXT NOT NULL DEFAULT '{}',
    alert_email TEXT,
    updated_at BIGINT NOT NULL
);

-- The circuit breaker counts failures within a window rather than in a row.
ALTER TABLE installations ADD COLUMN window_started_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE installations ADD COLUMN window_failures BIGINT NOT NULL DEFAULT 0;
