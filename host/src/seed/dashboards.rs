//! The demo's "Service overview" dashboard: the installed report widgets side by side,
//! the KPI table first. Created once; seeding again leaves it (and any edits) alone.

use crate::domain::installations::InstallationFilter;
use crate::domain::page::Page;
use crate::domain::plugin::World;
use crate::service::dashboards::{self, DashboardInput, WidgetInput};
use crate::service::{Core, plugins};

/// The dashboard's name.
pub const SERVICE_OVERVIEW: &str = "Service overview 服务概览";

/// Widgets in this order come first; other report widgets follow by name.
const ORDER: [&str; 2] = ["kpi-summary", "backlog-chart"];

/// Creates the dashboard unless the tenant has one of that name or no report widget.
pub async fn seed(core: &Core, tenant_id: &str) -> anyhow::Result<()> {
    let everything = Page {
        limit: 200,
        cursor: None,
    };
    let existing = dashboards::list(core, tenant_id, &everything).await?;
    if existing.items.iter().any(|d| d.name == SERVICE_OVERVIEW) {
        return Ok(());
    }
    let filter = InstallationFilter {
        world: Some(World::ReportWidget),
        ..Default::default()
    };
    let mut widgets = plugins::installations(core, tenant_id, &filter, &everything)
        .await?
        .items;
    if widgets.is_empty() {
        return Ok(());
    }
    let rank = |name: &str| ORDER.iter().position(|n| *n == name).unwrap_or(ORDER.len());
    widgets.sort_by(|a, b| (rank(&a.plugin), &a.plugin).cmp(&(rank(&b.plugin), &b.plugin)));
    dashboards::create(
        core,
        tenant_id,
        DashboardInput {
            name: Some(SERVICE_OVERVIEW.to_owned()),
            description: Some(
                "Tickets, backlog and critical cases of the last 30 days / 近30天工单、积压与紧急工单"
                    .to_owned(),
            ),
            widgets: Some(
                widgets
                    .into_iter()
                    .map(|installation| WidgetInput {
                        installation_id: installation.id,
                        title: None,
                    })
                    .collect(),
            ),
        },
    )
    .await?;
    Ok(())
}
