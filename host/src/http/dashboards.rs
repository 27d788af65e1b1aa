//! Dashboards: `/api/v1/dashboards`. Admins compose them from report-widget
//! installations; any key of the tenant reads them, each widget rendered over the tickets
//! that key sees (a site-scoped key: its subtree).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use crate::service::dashboards::{self, DashboardInput, RenderedDashboard};
use crate::service::datasets::Scope;
use crate::store::Paged;
use crate::store::dashboards::{self as store, Dashboard};

const WRITING: &str = "changing dashboards";

fn scope(caller: &Caller) -> Scope {
    Scope {
        tenant_id: caller.tenant_id.clone(),
        within: caller.within(),
    }
}

/// `POST /api/v1/dashboards`.
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DashboardInput>,
) -> Result<(StatusCode, Json<Dashboard>), ApiError> {
    caller.require_admin_for(WRITING)?;
    let dashboard = dashboards::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(dashboard)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/dashboards`: the dashboards and their widgets, not rendered.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Dashboard>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        store::list(&state.core.db, &caller.tenant_id, &page).await?,
    ))
}

/// `GET /api/v1/dashboards/{id}`: every widget rendered.
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<RenderedDashboard>, ApiError> {
    Ok(Json(
        dashboards::render(&state.core, &scope(&caller), &id).await?,
    ))
}

/// `PATCH /api/v1/dashboards/{id}`.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DashboardInput>,
) -> Result<Json<Dashboard>, ApiError> {
    caller.require_admin_for(WRITING)?;
    Ok(Json(
        dashboards::change(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// `DELETE /api/v1/dashboards/{id}`.
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_admin_for(WRITING)?;
    if store::delete(&state.core.db, &caller.tenant_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("dashboard"))
    }
}

/// `GET /api/v1/dashboards/{id}/widgets/{widget_id}/svg`: one widget as `image/svg+xml`.
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
