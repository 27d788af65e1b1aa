-- Shadow runs and replay of candidate plugin versions.

-- The candidate version an installation runs in shadow, as JSON
-- ({plugin_version_id, version, config, started_at}); NULL when none.
ALTER TABLE installations ADD COLUMN shadow TEXT;

-- Per-tenant settings. input_retention_days: how long routing inputs are kept for replay;
-- 0 keeps none. A tenant without a row has the defaults.
CREATE TABLE tenant_settings (
    tenant_id TEXT PRIMARY KEY REFERENCES tenants (id),
    input_retention_days BIGINT NOT NULL
);

-- What each routing-rule invocation saw and answered, so a candidate version can be
-- replayed on it. Written in the ticket's transaction; purged past the tenant's retention.
CREATE TABLE recorded_inputs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    plugin_version_id TEXT NOT NULL,
    version TEXT NOT NULL,
    hook TEXT NOT NULL,
    subject_id TEXT,
    input TEXT NOT NULL,
    output TEXT,
    error TEXT,
    outcome TEXT NOT NULL,
    duration_us BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX recorded_inputs_installation ON recorded_inputs (tenant_id, installation_id, plugin_version_id, created_at);
CREATE INDEX recorded_inputs_age ON recorded_inputs (tenant_id, created_at);

-- One comparison of the installed version with a candidate on one input, from live
-- traffic (source 'live') or a replay of recorded inputs (source 'replay').
CREATE TABLE shadow_runs (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    source TEXT NOT NULL,
    subject_id TEXT,
    primary_version TEXT NOT NULL,
    candidate_version TEXT NOT NULL,
    input TEXT,
    primary_output TEXT,
    primary_error TEXT,
    candidate_output TEXT,
    candidate_error TEXT,
    agreed BIGINT NOT NULL,
    primary_us BIGINT NOT NULL,
    candidate_us BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX shadow_runs_installation ON shadow_runs (tenant_id, installation_id, source, created_at);
CREATE INDEX shadow_runs_age ON shadow_runs (tenant_id, created_at);
