//! Dashboards: a tenant's pages of report widgets. Rendering a widget asks its plugin
//! what dataset it wants, computes that dataset over the caller's tickets, has the plugin
//! render it, and draws the result as SVG. A widget that fails gets an error of its own
//! while the others still render, and every plugin call is audited.

use serde::Serialize;
use serde_json::{Value, json};

use super::datasets::{self, Scope};
use super::invocations::{self, Audit};
use super::plugins::{self, Ready};
use super::svg;
use super::{Core, FieldError, ServiceError};
use crate::domain::dashboards::{Dashboard, Widget};
use crate::domain::ids::now_ms;
use crate::domain::installations::InstallationStatus;
use crate::domain::page::{Page, Paged};
use crate::domain::plugin::World;
use crate::runtime::wit::widget::{ChartKind, DatasetQuery, Rendering};
use crate::store::dashboards::{self, DashboardPatch, NewDashboard, NewWidget};
use crate::store::installations;

/// The most widgets a dashboard holds.
pub const MAX_WIDGETS: usize = 24;
const MAX_NAME_CHARS: usize = 200;
const MAX_DESCRIPTION_CHARS: usize = 2000;
const MAX_TITLE_CHARS: usize = 200;

/// A widget as a client sends it.
#[derive(Clone, Debug, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WidgetInput {
    pub installation_id: String,
    #[serde(default)]
    pub title: Option<String>,
}

/// A dashboard as a client sends it; on a change, unset parts stay.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DashboardInput {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub widgets: Option<Vec<WidgetInput>>,
}

fn field(field: impl Into<String>, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.into(),
        message: message.into(),
    }
}

fn check_text(
    errors: &mut Vec<FieldError>,
    name: &str,
    text: Option<&str>,
    max: usize,
    required: bool,
) -> Option<String> {
    let text = text.map(str::trim)?;
    if required && text.is_empty() {
        errors.push(field(name, "must not be empty"));
    } else if text.chars().count() > max {
        errors.push(field(name, format!("must be at most {max} characters")));
    }
    Some(text.to_owned())
}

/// Checks the widgets: each names an installation of a report-widget plugin in the tenant.
async fn check_widgets(
    core: &Core,
    tenant_id: &str,
    widgets: &[WidgetInput],
    errors: &mut Vec<FieldError>,
) -> Result<Vec<NewWidget>, ServiceError> {
    if widgets.len() > MAX_WIDGETS {
        errors.push(field(
            "widgets",
            format!(
                "a dashboard holds at most {MAX_WIDGETS} widgets, not {}",
                widgets.len()
            ),
        ));
    }
    let mut checked = Vec::with_capacity(widgets.len());
    for (index, widget) in widgets.iter().enumerate() {
        let id = widget.installation_id.trim();
        let name = format!("widgets[{index}].installation_id");
        match installations::get(&core.db, tenant_id, id).await? {
            None => errors.push(field(
                name,
                format!(
                    "no installation `{id}` in this tenant; GET /api/v1/installations?world=report-widget lists the widgets you can use"
                ),
            )),
            Some(installation) if installation.world != World::ReportWidget => errors.push(field(
                name,
                format!(
                    "installation `{id}` is {}, a {} plugin; a dashboard widget needs a report-widget plugin",
                    installation.label(),
                    installation.world.as_str()
                ),
            )),
            Some(_) => {}
        }
        let title = check_text(
            errors,
            &format!("widgets[{index}].title"),
            widget.title.as_deref(),
            MAX_TITLE_CHARS,
            false,
        )
        .filter(|title| !title.is_empty());
        checked.push(NewWidget {
            installation_id: id.to_owned(),
            title,
        });
    }
    Ok(checked)
}

fn unprocessable(errors: Vec<FieldError>) -> Result<(), ServiceError> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Unprocessable {
        message: "the dashboard is not valid".to_owned(),
        errors,
    })
}

/// Creates a dashboard; nothing is stored unless every field is valid.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    input: DashboardInput,
) -> Result<Dashboard, ServiceError> {
    let mut errors = Vec::new();
    let name = check_text(
        &mut errors,
        "name",
        Some(input.name.as_deref().unwrap_or_default()),
        MAX_NAME_CHARS,
        true,
    )
    .unwrap_or_default();
    let description = check_text(
        &mut errors,
        "description",
        input.description.as_deref(),
        MAX_DESCRIPTION_CHARS,
        false,
    )
    .unwrap_or_default();
    let widgets = check_widgets(
        core,
        tenant_id,
        input.widgets.as_deref().unwrap_or_default(),
        &mut errors,
    )
    .await?;
    unprocessable(errors)?;
    Ok(dashboards::insert(
        &core.db,
        tenant_id,
        NewDashboard {
            name,
            description,
            widgets,
        },
    )
    .await?)
}

/// The tenant's dashboards, newest first.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    page: &Page,
) -> Result<Paged<Dashboard>, ServiceError> {
    Ok(dashboards::list(&core.db, tenant_id, page).await?)
}

/// Deletes a dashboard; `NotFound` when the tenant has none with that id.
pub async fn delete(core: &Core, tenant_id: &str, id: &str) -> Result<(), ServiceError> {
    if dashboards::delete(&core.db, tenant_id, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("dashboard"))
    }
}

/// Changes a dashboard: name, description, or every widget replaced in the given order.
pub async fn change(
    core: &Core,
    tenant_id: &str,
    id: &str,
    input: DashboardInput,
) -> Result<Dashboard, ServiceError> {
    let mut errors = Vec::new();
    let name = check_text(
        &mut errors,
        "name",
        input.name.as_deref(),
        MAX_NAME_CHARS,
        true,
    );
    let description = check_text(
        &mut errors,
        "description",
        input.description.as_deref(),
        MAX_DESCRIPTION_CHARS,
        false,
    );
    let widgets = match &input.widgets {
        Some(widgets) => Some(check_widgets(core, tenant_id, widgets, &mut errors).await?),
        None => None,
    };
    unprocessable(errors)?;
    dashboards::update(
        &core.db,
        tenant_id,
        id,
        DashboardPatch {
            name,
            description,
            widgets,
        },
    )
    .await?
    .ok_or(ServiceError::NotFound("dashboard"))
}

/// Why a widget could not be drawn.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct WidgetError {
    /// `installation_missing`, `installation_disabled`, `installation_suspended`,
    /// `plugin_unavailable`, `plugin_failed` or `invalid_query`.
    pub code: &'static str,
    pub message: String,
}

/// The dataset a widget asked for, as it asked.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct QueryView {
    pub measures: Vec<String>,
    pub group_by: Vec<String>,
    pub period_days: u32,
}

/// One widget, drawn or with the reason it was not.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RenderedWidget {
    pub id: String,
    pub installation_id: String,
    /// `name@version`, when the installation exists.
    pub plugin: Option<String>,
    pub title: String,
    pub query: Option<QueryView>,
    /// The plugin's rendering: `{"type": "chart" | "table" | "stats", …}`.
    pub rendering: Option<Value>,
    pub svg: Option<String>,
    pub error: Option<WidgetError>,
}

/// A dashboard with every widget rendered.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RenderedDashboard {
    pub id: String,
    pub name: String,
    pub description: String,
    pub widgets: Vec<RenderedWidget>,
    pub created_at: String,
    pub updated_at: String,
}

/// The rendering as JSON, tagged by `type`.
pub fn rendering_json(rendering: &Rendering) -> Value {
    match rendering {
        Rendering::Chart(chart) => json!({
            "type": "chart",
            "kind": match chart.kind {
                ChartKind::Bar => "bar",
                ChartKind::Line => "line",
                ChartKind::Pie => "pie",
            },
            "title": chart.title,
            "labels": chart.labels,
            "series": chart.series.iter().map(|s| json!({ "name": s.name, "values": s.values })).collect::<Vec<_>>(),
        }),
        Rendering::Table(table) => json!({
            "type": "table",
            "title": table.title,
            "columns": table.columns,
            "rows": table.rows,
        }),
        Rendering::Stats(stats) => json!({
            "type": "stats",
            "stats": stats.iter().map(|s| json!({ "label": s.label, "value": s.value, "unit": s.unit })).collect::<Vec<_>>(),
        }),
    }
}

fn query_view(query: &DatasetQuery) -> QueryView {
    QueryView {
        measures: query.measures.clone(),
        group_by: query.group_by.clone(),
        period_days: query.period_days,
    }
}

/// Renders one widget, pushing the audits of its plugin calls onto `audits`.
async fn render_widget(
    core: &Core,
    scope: &Scope,
    widget: &Widget,
    audits: &mut Vec<Audit>,
) -> Result<RenderedWidget, ServiceError> {
    let mut out = RenderedWidget {
        id: widget.id.clone(),
        installation_id: widget.installation_id.clone(),
        plugin: None,
        title: widget.title.clone().unwrap_or_default(),
        query: None,
        rendering: None,
        svg: None,
        error: None,
    };
    let fail = |mut out: RenderedWidget, code, message: String| {
        if out.title.is_empty() {
            out.title = out.plugin.clone().unwrap_or_else(|| "Widget".to_owned());
        }
        out.error = Some(WidgetError { code, message });
        Ok(out)
    };
    let Some(installation) =
        installations::get(&core.db, &scope.tenant_id, &widget.installation_id).await?
    else {
        let message = format!(
            "installation `{}` no longer exists; point the widget at another report-widget installation",
            widget.installation_id
        );
        return fail(out, "installation_missing", message);
    };
    out.plugin = Some(installation.label());
    match installation.status {
        InstallationStatus::Enabled => {}
        InstallationStatus::Disabled => {
            let message = format!(
                "{} is disabled; an admin enables it with PATCH /api/v1/installations/{}",
                installation.label(),
                installation.id
            );
            return fail(out, "installation_disabled", message);
        }
        InstallationStatus::Suspended => {
            let message = format!(
                "{} is suspended ({}); an admin re-enables it",
                installation.label(),
                installation.status_reason.clone().unwrap_or_default()
            );
            return fail(out, "installation_suspended", message);
        }
    }
    let ready = match plugins::ready(core, &scope.tenant_id, installation).await {
        Ok(ready) => std::sync::Arc::new(ready),
        Err(err) => return fail(out, "plugin_unavailable", err.to_string()),
    };

    let runtime = core.runtime.clone();
    let (for_call, widget_id) = (ready.clone(), widget.id.clone());
    let described = invocations::run_blocking(move || {
        let ready: &Ready = &for_call;
        let _span = invocations::invocation_span(ready, "describe").entered();
        let outcome = runtime.describe_widget(&ready.loaded, ready.call.clone());
        let audit = Audit::of(ready, "describe", Some(&widget_id), &outcome);
        (outcome.result, audit)
    })
    .await?;
    audits.push(described.1);
    let description = match described.0 {
        Ok(description) => description,
        Err(failure) => return fail(out, "plugin_failed", format!("describe {failure}")),
    };
    if out.title.is_empty() {
        out.title = description.title.clone();
    }
    out.query = Some(query_view(&description.query));
    let checked = match datasets::check(&description.query) {
        Ok(checked) => checked,
        Err(problems) => return fail(out, "invalid_query", problems),
    };
    // A widget installed for a subtree draws that subtree's tickets only, whoever looks.
    let installed_within = plugins::scope_within(&ready.installation.scope);
    let dataset = datasets::compute(
        &core.db,
        scope,
        installed_within.as_deref(),
        &checked,
        now_ms(),
    )
    .await?;

    let runtime = core.runtime.clone();
    let widget_id = widget.id.clone();
    let rendered = invocations::run_blocking(move || {
        let ready: &Ready = &ready;
        let _span = invocations::invocation_span(ready, "render").entered();
        let outcome = runtime.render_widget(&ready.loaded, ready.call.clone(), &dataset);
        let audit = Audit::of(ready, "render", Some(&widget_id), &outcome);
        (outcome.result, audit)
    })
    .await?;
    audits.push(rendered.1);
    match rendered.0 {
        Ok(rendering) => {
            out.svg = Some(svg::render(&rendering, widget.title.as_deref()));
            out.rendering = Some(rendering_json(&rendering));
            Ok(out)
        }
        Err(failure) => fail(out, "plugin_failed", format!("render {failure}")),
    }
}

/// Renders `widgets` for `scope` and records the audits of every plugin call.
async fn render_all(
    core: &Core,
    scope: &Scope,
    widgets: &[Widget],
) -> Result<Vec<RenderedWidget>, ServiceError> {
    let mut audits = Vec::new();
    let mut rendered = Vec::with_capacity(widgets.len());
    for widget in widgets {
        rendered.push(render_widget(core, scope, widget, &mut audits).await?);
    }
    invocations::record_all(core, &scope.tenant_id, &audits).await?;
    Ok(rendered)
}

/// The dashboard `id` with every widget rendered over the tickets `scope` sees.
pub async fn render(
    core: &Core,
    scope: &Scope,
    id: &str,
) -> Result<RenderedDashboard, ServiceError> {
    let dashboard = dashboards::get(&core.db, &scope.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("dashboard"))?;
    let widgets = render_all(core, scope, &dashboard.widgets).await?;
    Ok(RenderedDashboard {
        id: dashboard.id,
        name: dashboard.name,
        description: dashboard.description,
        widgets,
        created_at: dashboard.created_at,
        updated_at: dashboard.updated_at,
    })
}

/// One widget of dashboard `id` as an SVG document; a widget that failed is drawn as a
/// panel saying why.
pub async fn widget_svg(
    core: &Core,
    scope: &Scope,
    id: &str,
    widget_id: &str,
) -> Result<String, ServiceError> {
    let dashboard = dashboards::get(&core.db, &scope.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("dashboard"))?;
    let widget = dashboard
        .widgets
        .into_iter()
        .find(|w| w.id == widget_id)
        .ok_or(ServiceError::NotFound("widget"))?;
    let rendered = render_all(core, scope, std::slice::from_ref(&widget))
        .await?
        .remove(0);
    Ok(match (rendered.svg, rendered.error) {
        (Some(svg), _) => svg,
        (None, Some(error)) => svg::error_panel(&rendered.title, &error.message),
        (None, None) => svg::error_panel(&rendered.title, "the widget rendered nothing"),
    })
}
