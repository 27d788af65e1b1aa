//! Tenants (platform admin) and API keys (tenant admin).

use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::{Admin, PlatformAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi as doc;
use crate::domain::page::Paged;
use crate::domain::tenants::ApiKey;
use crate::service::tenants::{self, NewKey, NewTenant};

/// Creates a tenant and its first admin key.
///
/// Platform admin token only. The reply carries the tenant and the key's secret, shown
/// once.
#[utoipa::path(
    post,
    path = "/tenants",
    operation_id = "tenants_create",
    tag = "tenants",
    request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    _admin: PlatformAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let (tenant, made) = tenants::create(&state.core, body).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            serde_json::json!({ "tenant": tenant, "api_key": { "key": made.key, "secret": made.secret } }),
        ),
    ))
}

/// Creates an API key for the caller's tenant.
///
/// The secret is shown once, in this reply. A key made by a site-scoped key is limited to
/// at least the same subtree.
#[utoipa::path(
    post,
    path = "/api-keys",
    operation_id = "tenants_create_key",
    tag = "tenants",
    request_body = NewKey,
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create_key(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let made = tenants::create_key(&state.core, caller.access(), body).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({ "key": made.key, "secret": made.secret })),
    ))
}

/// Lists the tenant's API keys, without their secrets.
///
/// A site-scoped admin key sees the keys of its subtree.
#[utoipa::path(
    get,
    path = "/api-keys",
    operation_id = "tenants_list_keys",
    tag = "tenants",
    responses(
        (status = 200, description = "OK", body = Paged<ApiKey>),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn list_keys(
    caller: Admin,
    State(state): State<AppState>,
) -> Result<axum::Json<Paged<ApiKey>>, ApiError> {
    // Every key in one page: a tenant has a handful.
    Ok(axum::Json(Paged {
        items: tenants::list_keys(&state.core, caller.access()).await?,
        next_cursor: None,
    }))
}

/// Revokes an API key: its secret is refused from the next request on.
///
/// A site-scoped admin key revokes keys of its subtree only. A key cannot revoke itself,
/// so that a tenant is never left without the key it is using: revoke it with another.
#[utoipa::path(
    delete,
    path = "/api-keys/{id}",
    operation_id = "tenants_revoke_key",
    tag = "tenants",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
pub async fn revoke_key(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    tenants::revoke_key(&state.core, caller.access(), &caller.key_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
