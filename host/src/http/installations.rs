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
use crate::plugins::manifest::Capability;
use crate::plugins::manifest::World;
use crate::service::plugins::{self, InstallRequest, InstallationChange, Upgraded, VersionRequest};
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

/// `POST /api/v1/installations/{id}/upgrade`: 200 when the new version is live, 202 when
/// it waits for the admin to approve the capabilities it adds.
pub async fn upgrade(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<VersionRequest>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    caller.require_tenant_admin()?;
    Ok(upgraded_reply(
        plugins::upgrade(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// 200 when the new version is live, 202 when it waits for approval.
pub fn upgraded_reply(upgraded: Upgraded) -> (StatusCode, Json<Installation>) {
    match upgraded {
        Upgraded::Applied(installation) => (StatusCode::OK, Json(installation)),
        Upgraded::Pending(installation) => (StatusCode::ACCEPTED, Json(installation)),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// Which of the added capabilities to grant; all of them when omitted.
    #[serde(default)]
    capabilities: Option<Vec<Capability>>,
}

/// `POST /api/v1/installations/{id}/upgrade/approve`: grants what the parked upgrade adds
/// and makes it live.
pub async fn approve_upgrade(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    let grants = body.capabilities;
    Ok(Json(
        plugins::approve_upgrade(&state.core, &caller.tenant_id, &id, grants).await?,
    ))
}

/// `DELETE /api/v1/installations/{id}/upgrade`: drops the parked upgrade.
pub async fn cancel_upgrade(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        plugins::cancel_upgrade(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// `POST /api/v1/installations/{id}/rollback`: back to a version it ran before.
pub async fn rollback(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<VersionRequest>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        plugins::rollback(&state.core, &caller.tenant_id, &id, request).await?,
    ))
}

/// `GET /api/v1/installations/{id}/history`: the versions it ran, newest first.
pub async fn history(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = plugins::history(&state.core, &caller.tenant_id, &id).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `DELETE /api/v1/installations/{id}`: uninstalls; the audit stays.
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_tenant_admin()?;
    if plugins::uninstall(&state.core, &caller.tenant_id, &id).await? {
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

/// `GET /api/v1/plugin-snapshot`: what this node runs for the tenant right now — the
/// generation of its snapshot and the enabled installations in it — so an admin (or a
/// test) can see every node converge after a change.
pub async fn snapshot(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let snapshot = crate::service::registry::snapshot(&state.core, &caller.tenant_id).await?;
    let installations: Vec<serde_json::Value> = snapshot
        .all()
        .iter()
        .map(|ready| {
            serde_json::json!({
                "id": ready.installation.id,
                "plugin": ready.installation.plugin,
                "version": ready.installation.version,
                "world": ready.installation.world,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "generation": snapshot.generation,
        "installations": installations,
    })))
}
