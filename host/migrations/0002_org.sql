-- Org tiers inside a tenant: OEM → region → dealer → service station, teams with skills
-- at a site, and agents in teams. `path` lists a site's ancestors and itself
-- (`/root/…/id/`), so a subtree is a prefix match.

CREATE TABLE sites (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    parent_id TEXT REFERENCES sites (id),
    kind TEXT NOT NULL,
    code TEXT NOT NULL,
    name TEXT NOT NULL,
    path TEXT NOT NULL,
    service_area TEXT NOT NULL DEFAULT '[]',
    opening_hours TEXT NOT NULL DEFAULT '{}',
    timezone TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE INDEX sites_tenant ON sites (tenant_id, id);
CREATE INDEX sites_path ON sites (tenant_id, path);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    site_id TEXT NOT NULL REFERENCES sites (id),
    name TEXT NOT NULL,
    skills TEXT NOT NULL DEFAULT '[]',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, site_id, name)
);
CREATE INDEX teams_tenant ON teams (tenant_id, id);

CREATE TABLE agents (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    team_id TEXT NOT NULL REFERENCES teams (id),
    name TEXT NOT NULL,
    email TEXT,
    phone TEXT,
    role TEXT NOT NULL,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX agents_tenant ON agents (tenant_id, id);
CREATE INDEX agents_team ON agents (tenant_id, team_id);

-- A key scoped to a site sees only that site's subtree; NULL is the whole tenant.
ALTER TABLE api_keys ADD COLUMN site_id TEXT REFERENCES sites (id);
-- The service site handling the ticket.
ALTER TABLE tickets ADD COLUMN site_id TEXT REFERENCES sites (id);
CREATE INDEX tickets_site ON tickets (tenant_id, site_id);
