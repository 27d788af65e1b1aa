//! Dashboards: a tenant's named pages of report widgets.

use serde::Serialize;

/// A dashboard with its widgets in display order.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Dashboard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub widgets: Vec<Widget>,
    pub created_at: String,
    pub updated_at: String,
}

/// One widget of a dashboard: an installation of a report-widget plugin.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Widget {
    pub id: String,
    pub installation_id: String,
    /// Shown instead of the title the plugin describes.
    pub title: Option<String>,
}
