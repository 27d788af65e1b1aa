//! Dashboards: `/api/v1/dashboards`. Admins compose them from report-widget
//! installations; any key of the tenant reads them, each widget rendered over the tickets
//! that key sees (a site-scoped key: its subtree).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::dashboards::Dashboard;
use crate::domain::page::Paged;
use crate::service::dashboards::{self, DashboardInput, RenderedDashboard};
use crate::service::datasets::Scope;

fn scope(caller: &Caller) -> Scope {
    Scope {
        tenant_id: caller.tenant_id.clone(),
        within: caller.within(),
    }
}

/// Creates a dashboard from report-widget installations.
#[utoipa::path(
    post,
    path = "/dashboards",
    operation_id = "dashboards_create",
    tag = "dashboards",
    request_body = DashboardInput,
    responses(
        (status = 201, description = "Created", body = Dashboard),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    // Dashboards are the tenant's; a dealer's admin reads them but does not change them.
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DashboardInput>,
) -> Result<(StatusCode, Json<Dashboard>), ApiError> {
    let dashboard = dashboards::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(dashboard)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
}

/// Lists dashboards and their widgets, not rendered.
#[utoipa::path(
    get,
    path = "/dashboards",
    operation_id = "dashboards_list",
    tag = "dashboards",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Dashboard>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Dashboard>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        dashboards::list(&state.core, &caller.tenant_id, &page).await?,
    ))
}

/// A dashboard with every widget rendered.
///
/// Each widget is rendered over the tickets the caller's key sees.
#[utoipa::path(
    get,
    path = "/dashboards/{id}",
    operation_id = "dashboards_get",
    tag = "dashboards",
    params(("id" = String, Path, description = "The dashboard's id")),
    responses(
        (status = 200, description = "OK", body = RenderedDashboard),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RenderedDashboard>, ApiError> {
    Ok(Json(
        dashboards::render(&state.core, &scope(&caller), &id).await?,
    ))
}

/// Changes a dashboard.
///
/// Unset parts stay; `widgets` replaces the whole list.
#[utoipa::path(
    patch,
    path = "/dashboards/{id}",
    operation_id = "dashboards_update",
    tag = "dashboards",
    params(("id" = String, Path, description = "The dashboard's id")),
    request_body = DashboardInput,
    responses(
        (status = 200, description = "OK", body = Dashboard),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    // Dashboards are the tenant's; a dealer's admin reads them but does not change them.
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DashboardInput>,
) -> Result<Json<Dashboard>, ApiError> {
    Ok(Json(
        dashboards::change(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// Deletes a dashboard.
#[utoipa::path(
    delete,
    path = "/dashboards/{id}",
    operation_id = "dashboards_delete",
    tag = "dashboards",
    params(("id" = String, Path, description = "The dashboard's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete(
    // Dashboards are the tenant's; a dealer's admin reads them but does not change them.
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    dashboards::delete(&state.core, &caller.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One widget of a dashboard as an SVG image.
#[utoipa::path(
    get,
    path = "/dashboards/{id}/widgets/{widget_id}/svg",
    operation_id = "dashboards_widget_svg",
    tag = "dashboards",
    params(("id" = String, Path, description = "The dashboard's id"), ("widget_id" = String, Path, description = "The widget's id")),
    responses(
        (status = 200, description = "OK", body = String, content_type = "image/svg+xml"),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn widget_svg(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath((id, widget_id)): ApiPath<(String, String)>,
) -> Result<impl IntoResponse, ApiError> {
    let svg = dashboards::widget_svg(&state.core, &scope(&caller), &id, &widget_id).await?;
    Ok((
        [(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")],
        svg,
    ))
}
