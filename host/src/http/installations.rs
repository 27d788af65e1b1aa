//! Installations: install, configure, grant, enable/disable, uninstall, and the audit of
//! their invocations.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Admin, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::items::Items;
use super::openapi as doc;
use crate::domain::audit::{Invocation, InvocationFilter};
use crate::domain::installations::{
    HistoryEntry, Installation, InstallationFilter, InstallationStatus, ScopeFilter,
};
use crate::domain::page::Paged;
use crate::domain::plugin::{Capability, World};
use crate::service::dealer_policy::{self, Ask};
use crate::service::invocations;
use crate::service::plugins::{self, InstallRequest, InstallationChange, Upgraded, VersionRequest};

/// Installs a plugin version for the tenant or one site's subtree.
///
/// The capabilities granted must be ones the manifest requests. `scope` limits it to a
/// site's subtree; a dealer's admin key installs only inside its own subtree and only what
/// the OEM's dealer catalogue allows (403 beyond it). `mandatory` (tenant-wide admins,
/// tenant-wide installations) keeps dealers from opting out.
#[utoipa::path(
    post,
    path = "/installations",
    operation_id = "installations_create",
    tag = "installations",
    request_body = InstallRequest,
    responses(
        (status = 201, description = "Created", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<InstallRequest>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    let installation = plugins::install(&state.core, caller.access(), body).await?;
    Ok((StatusCode::CREATED, Json(installation)))
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
    plugin: Option<String>,
    world: Option<World>,
    status: Option<InstallationStatus>,
    /// `tenant` for tenant-wide installations only, or a site id for those scoped to
    /// exactly that site.
    scope: Option<String>,
}

/// Lists the tenant's installations.
///
/// A dealer's key sees those that apply inside its subtree: tenant-wide ones, those of
/// sites above it, and its own.
#[utoipa::path(
    get,
    path = "/installations",
    operation_id = "installations_list",
    tag = "installations",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Installation>),
    ),
)]
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
        scope: query.scope.map(|scope| match scope.as_str() {
            "tenant" => ScopeFilter::Tenant,
            _ => ScopeFilter::Site(scope),
        }),
        applying_within: caller.within(),
    };
    Ok(Json(
        plugins::installations(&state.core, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// One installation.
#[utoipa::path(
    get,
    path = "/installations/{id}",
    operation_id = "installations_get",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    Ok(Json(
        dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Read).await?,
    ))
}

/// Changes an installation's config, grants, limits, run order or state.
///
/// `enabled: true` also lifts a suspension. A dealer's admin key changes only
/// installations inside its subtree, within the OEM's dealer catalogue.
#[utoipa::path(
    patch,
    path = "/installations/{id}",
    operation_id = "installations_update",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = InstallationChange,
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<InstallationChange>,
) -> Result<Json<Installation>, ApiError> {
    let mut asks = vec![Ask::Manage];
    if let Some(capabilities) = &body.capabilities {
        asks.push(Ask::Grant(capabilities));
    }
    if let Some(limits) = &body.limits {
        asks.push(Ask::Limit(limits));
    }
    if body.mandatory.is_some() {
        asks.push(Ask::SetMandatory);
    }
    for ask in asks {
        dealer_policy::authorize(&state.core, caller.access(), &id, ask).await?;
    }
    Ok(Json(
        plugins::change(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// Moves an installation to another version.
///
/// 200 when the new version is live, 202 when it waits for the admin to approve the
/// capabilities it adds.
#[utoipa::path(
    post,
    path = "/installations/{id}/upgrade",
    operation_id = "installations_upgrade",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = VersionRequest,
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 202, description = "Accepted: waiting for the admin to approve the capabilities it adds", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn upgrade(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<VersionRequest>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    let ask = Ask::Run(Some(body.version.as_deref().unwrap_or_default()));
    dealer_policy::authorize(&state.core, caller.access(), &id, ask).await?;
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalBody {
    /// Which of the added capabilities to grant; all of them when omitted.
    #[serde(default)]
    capabilities: Option<Vec<Capability>>,
}

/// Approves a parked upgrade and makes it live.
///
/// Grants the capabilities it adds; all of them when `capabilities` is omitted.
#[utoipa::path(
    post,
    path = "/installations/{id}/upgrade/approve",
    operation_id = "installations_approve_upgrade",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = ApprovalBody,
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn approve_upgrade(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ApprovalBody>,
) -> Result<Json<Installation>, ApiError> {
    let grants = body.capabilities;
    let installation =
        dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    if let Some(parked) = &installation.pending_upgrade {
        let asked = grants.as_ref().unwrap_or(&parked.added_capabilities);
        for ask in [Ask::Run(Some(&parked.version)), Ask::Grant(asked)] {
            dealer_policy::authorize(&state.core, caller.access(), &id, ask).await?;
        }
    }
    Ok(Json(
        plugins::approve_upgrade(&state.core, &caller.tenant_id, &id, grants).await?,
    ))
}

/// Drops a parked upgrade.
#[utoipa::path(
    delete,
    path = "/installations/{id}/upgrade",
    operation_id = "installations_cancel_upgrade",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
pub async fn cancel_upgrade(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    Ok(Json(
        plugins::cancel_upgrade(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// Rolls an installation back to a version it ran before.
///
/// The version it ran before this one when `version` is omitted.
#[utoipa::path(
    post,
    path = "/installations/{id}/rollback",
    operation_id = "installations_rollback",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = VersionRequest,
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn rollback(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<VersionRequest>,
) -> Result<Json<Installation>, ApiError> {
    // Back to a version it ran before: always allowed within the subtree, so a dealer can
    // undo a bad upgrade even if the OEM has since narrowed the catalogue.
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    Ok(Json(
        plugins::rollback(&state.core, &caller.tenant_id, &id, request).await?,
    ))
}

/// The versions an installation ran, newest first.
#[utoipa::path(
    get,
    path = "/installations/{id}/history",
    operation_id = "installations_history",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "OK", body = Items<HistoryEntry>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn history(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Items<HistoryEntry>>, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Read).await?;
    let items = plugins::history(&state.core, &caller.tenant_id, &id).await?;
    Ok(Json(items.into()))
}

/// Uninstalls a plugin; its audit stays.
#[utoipa::path(
    delete,
    path = "/installations/{id}",
    operation_id = "installations_delete",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    if plugins::uninstall(&state.core, &caller.tenant_id, &id).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("installation"))
    }
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvocationQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    outcome: Option<String>,
    subject_id: Option<String>,
}

/// The audit of an installation's calls, newest first.
#[utoipa::path(
    get,
    path = "/installations/{id}/invocations",
    operation_id = "installations_invocations",
    tag = "installations",
    params(("id" = String, Path, description = "The installation's id"), InvocationQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Invocation>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn invocations(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<InvocationQuery>,
) -> Result<Json<Paged<Invocation>>, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Audit).await?;
    let page = page(query.limit, query.cursor)?;
    let filter = InvocationFilter {
        installation_id: Some(id),
        subject_id: query.subject_id,
        outcome: query.outcome,
        tickets_within: caller.within(),
        installations_within: None,
    };
    Ok(Json(
        invocations::list(&state.core, &caller.tenant_id, &filter, &page).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    installation_id: Option<String>,
    outcome: Option<String>,
    subject_id: Option<String>,
}

/// The tenant's plugin audit, newest first.
///
/// Includes invocations of installations since uninstalled.
#[utoipa::path(
    get,
    path = "/invocations",
    operation_id = "installations_audit",
    tag = "installations",
    params(AuditQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Invocation>),
    ),
)]
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
        tickets_within: caller.within(),
        installations_within: caller.within(),
    };
    Ok(Json(
        invocations::list(&state.core, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// What this node runs for the tenant right now.
///
/// The generation of the node's plugin snapshot and the enabled installations in it, so an
/// admin can see every node converge after a change: `{"generation": 7, "installations":
/// [{"id", "plugin", "version", "world"}]}`.
#[utoipa::path(
    get,
    path = "/plugin-snapshot",
    operation_id = "installations_snapshot",
    tag = "installations",
    responses(
        (status = 200, description = "OK", body = Object),
    ),
)]
pub async fn snapshot(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let snapshot = crate::service::registry::snapshot(&state.core, &caller.tenant_id).await?;
    // A dealer's key sees what runs inside its subtree: tenant-wide installations, those
    // of sites above it, and its own; never another dealer's.
    let applies = |scope: &crate::domain::installations::Scope| {
        caller.scope.as_ref().is_none_or(|subtree| {
            subtree.path.starts_with(&scope.path) || caller.access().sees(Some(&scope.path))
        })
    };
    let installations: Vec<serde_json::Value> = snapshot
        .all()
        .iter()
        .filter(|ready| applies(&ready.installation.scope))
        .map(|ready| {
            serde_json::json!({
                "id": ready.installation.id,
                "plugin": ready.installation.plugin,
                "version": ready.installation.version,
                "world": ready.installation.world,
                "scope": ready.installation.scope,
            })
        })
        .collect();
    Ok(Json(serde_json::json!({
        "generation": snapshot.generation,
        "installations": installations,
    })))
}

/// Opts a site's subtree out of a tenant-wide installation.
///
/// It stops running for records at sites inside that subtree. A dealer's admin key opts
/// out sites inside its own subtree; a mandatory installation cannot be opted out of
/// (403).
#[utoipa::path(
    put,
    path = "/installations/{id}/opt-outs/{site_id}",
    operation_id = "installations_opt_out",
    tag = "installations",
    params(
        ("id" = String, Path, description = "The installation's id"),
        ("site_id" = String, Path, description = "The site whose subtree opts out"),
    ),
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn opt_out(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath((id, site_id)): ApiPath<(String, String)>,
) -> Result<Json<Installation>, ApiError> {
    Ok(Json(
        dealer_policy::opt_out(&state.core, caller.access(), &id, &site_id).await?,
    ))
}

/// Withdraws a site's opt-out: the installation runs there again.
#[utoipa::path(
    delete,
    path = "/installations/{id}/opt-outs/{site_id}",
    operation_id = "installations_opt_in",
    tag = "installations",
    params(
        ("id" = String, Path, description = "The installation's id"),
        ("site_id" = String, Path, description = "The site whose subtree opted out"),
    ),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn opt_in(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath((id, site_id)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    dealer_policy::opt_in(&state.core, caller.access(), &id, &site_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
