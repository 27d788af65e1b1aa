-- Installations scoped to a site's subtree, under the OEM's policy for dealers.
--
-- An installation applies to the whole tenant (site_id NULL, scope_path '') or to one
-- site's subtree (scope_path is that site's path; site paths never change, so it is kept
-- here rather than joined). A plugin is installed at most once per scope, so the unique
-- key moves from (tenant, plugin) to (tenant, plugin, scope): two dealers may each run
-- their own vip-routing. SQLite cannot drop a table constraint, so the table is rebuilt.
CREATE TABLE installations_scoped (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    plugin_version_id TEXT NOT NULL REFERENCES plugin_versions (id),
    plugin_name TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    world TEXT NOT NULL,
    config TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    limits TEXT NOT NULL,
    status TEXT NOT NULL,
    status_reason TEXT,
    consecutive_failures BIGINT NOT NULL DEFAULT 0,
    run_order BIGINT NOT NULL DEFAULT 100,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    pending_version_id TEXT,
    pending_capabilities TEXT,
    shadow TEXT,
    window_started_at BIGINT NOT NULL DEFAULT 0,
    window_failures BIGINT NOT NULL DEFAULT 0,
    site_id TEXT REFERENCES sites (id),
    scope_path TEXT NOT NULL DEFAULT '',
    -- Set by the OEM on a tenant-wide installation: no dealer may opt out of it.
    mandatory BIGINT NOT NULL DEFAULT 0
);
INSERT INTO installations_scoped (id, tenant_id, plugin_version_id, plugin_name, plugin_version,
    world, config, capabilities, limits, status, status_reason, consecutive_failures, run_order,
    created_at, updated_at, pending_version_id, pending_capabilities, shadow, window_started_at,
    window_failures)
SELECT id, tenant_id, plugin_version_id, plugin_name, plugin_version, world, config,
    capabilities, limits, status, status_reason, consecutive_failures, run_order, created_at,
    updated_at, pending_version_id, pending_capabilities, shadow, window_started_at,
    window_failures
FROM installations;
DROP TABLE installations;
ALTER TABLE installations_scoped RENAME TO installations;
CREATE INDEX installations_tenant ON installations (tenant_id, id);
CREATE UNIQUE INDEX installations_plugin_scope ON installations (tenant_id, plugin_name, scope_path);

-- A dealer's opt-out of a tenant-wide installation that is not mandatory: it no longer
-- runs for records inside that site's subtree.
CREATE TABLE installation_opt_outs (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    site_id TEXT NOT NULL REFERENCES sites (id),
    site_path TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, site_id)
);

-- The OEM's catalogue for dealers: which plugins a dealer's admin may install in its
-- subtree, which versions (a JSON list; empty for any uploaded version), and the most
-- it may grant (capabilities, a JSON list) and ask for (limits, a JSON object).
CREATE TABLE dealer_catalogue (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    plugin_name TEXT NOT NULL,
    versions TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    limits TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, plugin_name)
);
