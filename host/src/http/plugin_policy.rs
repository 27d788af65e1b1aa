//! The tenant's plugin policy: quota and budget (platform admin), alert address (tenant
//! admin).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, PlatformAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use crate::service::plugin_policy::{self, PolicyView};
use crate::store::plugin_policies::PluginPolicy;
use crate::store::tenants;

/// `GET /api/v1/plugin-policy`: the caller's tenant's policy.
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<PolicyView>, ApiError> {
    Ok(Json(
        plugin_policy::view(&state.core, &caller.tenant_id).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertChange {
    /// Where plugin alerts go; `null` clears it. The quota and budget are the platform
    /// admin's (`PUT /api/v1/tenants/{id}/plugin-policy`).
    alert_email: Option<String>,
}

/// `PATCH /api/v1/plugin-policy`: the tenant admin sets the alert address.
pub async fn patch(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AlertChange>,
) -> Result<Json<PolicyView>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        plugin_policy::set_alert_email(&state.core, &caller.tenant_id, body.alert_email).await?,
    ))
}

/// `PUT /api/v1/tenants/{slug}/plugin-policy`: the platform admin sets a tenant's whole
/// policy.
pub async fn put(
    _admin: PlatformAdmin,
    State(state): State<AppState>,
    ApiPath(slug): ApiPath<String>,
    ApiJson(body): ApiJson<PluginPolicy>,
) -> Result<Json<PolicyView>, ApiError> {
    let tenant = tenants::by_slug(&state.core.db, &slug)
        .await?
        .ok_or(ApiError::NotFound("tenant"))?;
    Ok(Json(
        plugin_policy::replace(&state.core, &tenant.id, body).await?,
    ))
}
