-- One schema for SQLite and PostgreSQL: TEXT ids (UUIDv7), BIGINT unix-millisecond
-- timestamps and 0/1 flags, JSON as TEXT. Every row carries its tenant_id.

CREATE TABLE tenants (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    slug TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX api_keys_tenant ON api_keys (tenant_id, id);

CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    phone TEXT,
    email TEXT,
    region TEXT,
    city TEXT,
    vip BIGINT NOT NULL DEFAULT 0,
    fields TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX customers_tenant ON customers (tenant_id, id);
CREATE INDEX customers_phone ON customers (tenant_id, phone);

CREATE TABLE vehicles (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    vin TEXT NOT NULL,
    customer_id TEXT REFERENCES customers (id),
    make TEXT,
    model TEXT,
    model_year BIGINT,
    mileage_km BIGINT,
    fields TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, vin)
);
CREATE INDEX vehicles_tenant ON vehicles (tenant_id, id);
CREATE INDEX vehicles_customer ON vehicles (tenant_id, customer_id);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    subject TEXT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    priority TEXT NOT NULL,
    category TEXT NOT NULL,
    channel TEXT NOT NULL,
    customer_id TEXT REFERENCES customers (id),
    vehicle_id TEXT REFERENCES vehicles (id),
    queue TEXT,
    team TEXT,
    assignee TEXT,
    tags TEXT NOT NULL DEFAULT '[]',
    fields TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX tickets_tenant ON tickets (tenant_id, id);
CREATE INDEX tickets_customer ON tickets (tenant_id, customer_id, created_at);
CREATE INDEX tickets_status ON tickets (tenant_id, status);

-- The ticket's timeline: every change, naming its actor (a user, `system` or plugin@version).
CREATE TABLE ticket_events (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL DEFAULT '{}',
    created_at BIGINT NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (tenant_id, ticket_id, id);

CREATE TABLE plugin_versions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    world TEXT NOT NULL,
    wit_version TEXT NOT NULL,
    description TEXT NOT NULL,
    capabilities TEXT NOT NULL,
    config_schema TEXT,
    limits TEXT NOT NULL,
    manifest TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, name, version)
);
CREATE INDEX plugin_versions_tenant ON plugin_versions (tenant_id, id);

CREATE TABLE installations (
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
    UNIQUE (tenant_id, plugin_name)
);
CREATE INDEX installations_tenant ON installations (tenant_id, id);

-- One row per plugin invocation, whatever its outcome. No foreign key to installations:
-- the audit outlives an uninstall.
CREATE TABLE plugin_invocations (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    plugin TEXT NOT NULL,
    hook TEXT NOT NULL,
    subject_id TEXT,
    input_digest TEXT NOT NULL,
    outcome TEXT NOT NULL,
    detail TEXT,
    duration_us BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX plugin_invocations_tenant ON plugin_invocations (tenant_id, installation_id, id);
CREATE INDEX plugin_invocations_subject ON plugin_invocations (tenant_id, subject_id);

-- What each plugin decided about a ticket, as returned, before merging.
CREATE TABLE plugin_decisions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT NOT NULL REFERENCES tickets (id),
    installation_id TEXT NOT NULL,
    plugin TEXT NOT NULL,
    hook TEXT NOT NULL,
    decision TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX plugin_decisions_ticket ON plugin_decisions (tenant_id, ticket_id);

CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    ticket_id TEXT REFERENCES tickets (id),
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT,
    body TEXT NOT NULL,
    source TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE INDEX outbox_ticket ON outbox (tenant_id, ticket_id);
CREATE INDEX outbox_pending ON outbox (status, next_attempt_at);

CREATE TABLE kv_entries (
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    installation_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, installation_id, key)
);

-- Component bytes by content hash, shared by every plugin version (in any tenant) with
-- the same bytes. Reached only through a tenant's plugin_versions row.
CREATE TABLE component_blobs (
    sha256 TEXT PRIMARY KEY,
    size_bytes BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    created_at BIGINT NOT NULL
);
