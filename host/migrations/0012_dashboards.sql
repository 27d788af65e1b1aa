-- Dashboards: a tenant's named pages of report widgets, each widget an installation of a
-- report-widget plugin. No foreign key to installations: uninstalling a plugin leaves
-- the widget in place, and rendering says its installation is gone.

CREATE TABLE dashboards (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    name TEXT NOT NULL,
    description TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX dashboards_tenant ON dashboards (tenant_id, id);

CREATE TABLE dashboard_widgets (
    id TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants (id),
    dashboard_id TEXT NOT NULL REFERENCES dashboards (id),
    position BIGINT NOT NULL,
    installation_id TEXT NOT NULL,
    title TEXT,
    UNIQUE (dashboard_id, position)
);
CREATE INDEX dashboard_widgets_dashboard ON dashboard_widgets (tenant_id, dashboard_id, position);
