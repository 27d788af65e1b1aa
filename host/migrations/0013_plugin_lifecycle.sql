-- Plugin changes, numbered. Every change to a tenant's installations (install, upgrade,
-- rollback, config, enable, disable, suspend, uninstall) takes the next number from the
-- one-row clock in the transaction that makes the change, and stamps the tenant with it.
-- A node whose snapshot of a tenant's plugins is older than the stamp reloads it; nodes
-- learn of stamps over Redis, or by polling for stamps above the last one they saw.
CREATE TABLE plugin_clock (
    id INTEGER PRIMARY KEY,
    value BIGINT NOT NULL
);
INSERT INTO plugin_clock (id, value) VALUES (1, 0);

CREATE TABLE plugin_generations (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    generation BIGINT NOT NULL
);
CREATE INDEX plugin_generations_generation ON plugin_generations (generation);

-- An upgrade that asks for capabilities the running version did not waits here for the
-- tenant admin to approve the difference; the pinned version keeps running meanwhile.
ALTER TABLE installations ADD COLUMN pending_version_id TEXT;
ALTER TABLE installations ADD COLUMN pending_capabilities TEXT;

-- Every version an installation has run, for rollback and for the record.
CREATE TABLE installation_history (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    action TEXT NOT NULL,
    from_version TEXT,
    to_version TEXT NOT NULL,
    plugin_version_id TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX installation_history_installation ON installation_history (tenant_id, installation_id, created_at);
