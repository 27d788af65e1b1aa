//! Tenants (platform admin) and API keys (tenant admin).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, PlatformAdmin};
use super::error::ApiError;
use super::extract::ApiJson;
use crate::domain::Role;
use crate::store::tenants;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    name: String,
    slug: String,
}

fn valid_slug(slug: &str) -> bool {
    (2..=63).contains(&slug.len())
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// `POST /api/v1/tenants`: creates a tenant and its first admin key.
pub async fn create(
    _admin: PlatformAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let name = body.name.trim();
    if name.is_empty() {
        return Err(ApiError::BadRequest("name must not be empty".to_owned()));
    }
    if !valid_slug(&body.slug) {
        return Err(ApiError::BadRequest(format!(
            "slug `{}` must be 2-63 characters of a-z, 0-9 and `-`",
            body.slug
        )));
    }
    let tenant = tenants::create(&state.core.db, name, &body.slug).await?;
    let (key, secret) =
        tenants::create_key(&state.core.db, &tenant.id, "initial admin", Role::Admin).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(
            serde_json::json!({ "tenant": tenant, "api_key": { "key": key, "secret": secret } }),
        ),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    role: Role,
}

/// `POST /api/v1/api-keys`: a new key for the caller's tenant; the secret is shown once.
pub async fn create_key(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    caller.require_admin()?;
    let (key, secret) = tenants::create_key(
        &state.core.db,
        &caller.tenant_id,
        body.name.trim(),
        body.role,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(serde_json::json!({ "key": key, "secret": secret })),
    ))
}

/// `GET /api/v1/api-keys`.
pub async fn list_keys(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let keys = tenants::list_keys(&state.core.db, &caller.tenant_id).await?;
    Ok(axum::Json(
        serde_json::json!({ "items": keys, "next_cursor": null }),
    ))
}
