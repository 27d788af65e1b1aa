-- Finding a caller by phone (`WHERE tenant_id = ? AND phone = ? ORDER BY id DESC`): with
-- `(tenant_id, phone)` alone, SQLite's planner walks `customers_tenant` in id order to skip
-- the sort and scans every customer of the tenant when the caller is new, so hotline
-- intake slowed as the customer table grew. With `id` in the index it finds the caller
-- and the order at once.
DROP INDEX customers_phone;
CREATE INDEX customers_phone ON customers (tenant_id, phone, id);
