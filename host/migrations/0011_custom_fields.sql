-- Custom fields a tenant declares on its customers, vehicles and tickets (the values live
-- in each record's `fields` JSON), and the licence plate as a searchable vehicle column.

CREATE TABLE field_definitions (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    -- customer, vehicle or ticket.
    entity TEXT NOT NULL,
    -- The key in the record's `fields`; stable once declared.
    name TEXT NOT NULL,
    label TEXT NOT NULL,
    -- text, number, integer, boolean, date or choice.
    kind TEXT NOT NULL,
    required BIGINT NOT NULL DEFAULT 0,
    -- A JSON array of the allowed values of a choice; `[]` for other kinds.
    options TEXT NOT NULL DEFAULT '[]',
    description TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (tenant_id, entity, name)
);

-- Stored normalised (no spaces or separators, ASCII upper-case), as searches look it up.
ALTER TABLE vehicles ADD COLUMN plate TEXT;
CREATE INDEX vehicles_plate ON vehicles (tenant_id, plate);
