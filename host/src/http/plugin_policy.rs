//! The tenant's plugin policy: quota and budget (platform admin), alert address (tenant
//! admin).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, PlatformAdmin, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi as doc;
use crate::domain::plugin::PluginPolicy;
use crate::service::plugin_policy::{self, PolicyView};
use crate::service::tenants;

/// The tenant's plugin policy and how much of its quota is used.
#[utoipa::path(
    get,
    path = "/plugin-policy",
    operation_id = "plugin_policy_get",
    tag = "plugin-policy",
    responses(
        (status = 200, description = "OK", body = PolicyView),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(
        plugin_policy::view(&state.core, &caller.tenant_id).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertChange {
    /// Where plugin alerts go; `null` clears it. The quota and budget are the platform
    /// admin's (`PUT /api/v1/tenants/{id}/plugin-policy`).
    alert_email: Option<String>,
}

/// Sets the address plugin alerts are emailed to.
///
/// Only the alert address: the quota and budget are the platform admin's.
#[utoipa::path(
    patch,
    path = "/plugin-policy",
    operation_id = "plugin_policy_patch",
    tag = "plugin-policy",
    request_body = AlertChange,
    responses(
        (status = 200, description = "OK", body = PolicyView),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn patch(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AlertChange>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(
        plugin_policy::set_alert_email(&state.core, &caller.tenant_id, body.alert_email).await?,
    ))
}

/// Sets a tenant's whole plugin policy.
///
/// Platform admin token only.
#[utoipa::path(
    put,
    path = "/tenants/{slug}/plugin-policy",
    operation_id = "plugin_policy_put",
    tag = "plugin-policy",
    params(("slug" = String, Path, description = "The tenant's slug")),
    request_body = PluginPolicy,
    responses(
        (status = 200, description = "OK", body = PolicyView),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn put(
    _admin: PlatformAdmin,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<PluginPolicy>,
) -> Result<Json<PolicyView>, ApiError> {
    let tenant = tenants::by_slug(&state.core, &slug).await?;
    Ok(Json(
        plugin_policy::replace(&state.core, &tenant.id, body).await?,
    ))
}
