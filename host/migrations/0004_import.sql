-- CSV import: the ids that customers and vehicles carry in the dealer's Excel sheet or
-- DMS, and the maintenance history (service records). An external id is unique within a
-- tenant when set; NULLs do not collide on either engine.

ALTER TABLE customers ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX customers_external_id ON customers (tenant_id, external_id);

ALTER TABLE vehicles ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX vehicles_external_id ON vehicles (tenant_id, external_id);

-- One visit of a vehicle to a workshop. service_date is an ISO date (YYYY-MM-DD), so text
-- order is date order; cost is in minor currency units (cents / fen).
CREATE TABLE service_records (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    vehicle_id TEXT NOT NULL REFERENCES vehicles (id),
    external_id TEXT,
    service_date TEXT NOT NULL,
    mileage_km BIGINT NOT NULL,
    work_done TEXT NOT NULL,
    dealer_code TEXT NOT NULL,
    cost_cents BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX service_records_external_id ON service_records (tenant_id, external_id);
CREATE INDEX service_records_vehicle ON service_records (tenant_id, vehicle_id, service_date);
