-- Recall and service campaigns: which VINs they cover (by VIN prefix and model years).

CREATE TABLE campaigns (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    code TEXT NOT NULL,
    kind TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    vin_prefixes TEXT NOT NULL,
    model_year_from BIGINT,
    model_year_to BIGINT,
    active BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    UNIQUE (tenant_id, code)
);
CREATE INDEX campaigns_tenant ON campaigns (tenant_id, id);
