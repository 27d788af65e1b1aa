//! Installations: install, configure, grant, enable/disable, uninstall, and the audit of
//! their invocations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use crate::plugins::manifest::World;
use crate::service::plugins::{self, InstallRequest, InstallationChange};
use crate::store::Paged;
use crate::store::audit::{self, Invocation, InvocationFilter};
use crate::store::installations::{
    self as store, Installation, InstallationFilter, InstallationStatus,
};

/// `POST /api/v1/installations`.
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InstallRequest>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    caller.require_tenant_admin()?;
    let installation = plugins::install(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(installation)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    plugin: Option<String>,
    world: Option<World>,
    status: Option<InstallationStatus>,
}

/// `GET /api/v1/installations`.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Installation>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = InstallationFilter {
        plugin: query.plugin,
        world: query.world,
        status: query.status,
    };
    Ok(Json(
        store::list(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// `GET /api/v1/installations/{id}`.
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    store::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("installation"))
}

/// `PATCH /api/v1/installations/{id}`.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InstallationChange>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        plugins::change(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// `DELETE /api/v1/installations/{id}`: uninstalls; the audit stays.
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_tenant_admin()?;
    if store::delete(&state.core.db, &caller.tenant_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("installation"))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InvocationQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    outcome: Option<String>,
    subject_id: Option<String>,
}

/// `GET /api/v1/installations/{id}/invocations`: the audit of its calls, newest first.
pub async fn invocations(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<InvocationQuery>,
) -> Result<Json<Paged<Invocation>>, ApiError> {
    if store::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound("installation"));
    }
    let page = page(query.limit, query.cursor)?;
    let filter = InvocationFilter {
        installation_id: Some(id),
        subject_id: query.subject_id,
        outcome: query.outcome,
    };
    Ok(Json(
        audit::list_invocations(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    installation_id: Option<String>,
    outcome: Option<String>,
    subject_id: Option<String>,
}

/// `GET /api/v1/invocations`: the tenant's plugin audit, newest first, including
/// invocations of installations since uninstalled.
pub async fn audit(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AuditQuery>,
) -> Result<Json<Paged<Invocation>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = InvocationFilter {
        installation_id: query.installation_id,
        subject_id: query.subject_id,
        outcome: query.outcome,
    };
    Ok(Json(
        audit::list_invocations(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}
