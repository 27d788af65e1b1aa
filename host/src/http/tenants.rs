//! Tenants (platform admin) and API keys (tenant admin).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, PlatformAdmin};
use super::error::ApiError;
use super::extract::ApiJson;
use crate::domain::Role;
use crate::service::{FieldError, ServiceError};
use crate::store::tenants;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    name: String,
    slug: String,
}

/// A slug goes into URLs and log lines, so it is plain: no leading or trailing `-`.
fn valid_slug(slug: &str) -> bool {
    (2..=63).contains(&slug.len())
        && !slug.starts_with('-')
        && !slug.ends_with('-')
        && slug
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// A 422 listing every field that failed.
fn invalid(what: &str, errors: Vec<FieldError>) -> Result<(), ApiError> {
    if errors.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Unprocessable {
        message: format!("the {what} is not valid"),
        errors,
    }
    .into())
}

/// `POST /api/v1/tenants`: creates a tenant and its first admin key.
pub async fn create(
    _admin: PlatformAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewTenant>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    let name = body.name.trim();
    let mut errors = Vec::new();
    if name.is_empty() {
        errors.push(FieldError {
            field: "name".into(),
            message: "must not be empty".into(),
        });
    }
    if !valid_slug(&body.slug) {
        errors.push(FieldError {
            field: "slug".into(),
            message: format!(
                "`{}` must be 2-63 characters of a-z, 0-9 and `-`, not starting or ending with `-`",
                body.slug
            ),
        });
    }
    invalid("tenant", errors)?;
    let tenant = tenants::create(&state.core.db, name, &body.slug).await?;
    let (key, secret) = tenants::create_key(
        &state.core.db,
        &tenant.id,
        "initial admin",
        Role::Admin,
        None,
    )
    .await?;
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
    /// Limits the key to a site's subtree (a dealer, say). A key made by a scoped key is
    /// limited to at least the same subtree.
    #[serde(default)]
    site_id: Option<String>,
}

/// `POST /api/v1/api-keys`: a new key for the caller's tenant; the secret is shown once.
pub async fn create_key(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
    caller.require_admin()?;
    let name = body.name.trim();
    if name.is_empty() {
        invalid(
            "API key",
            vec![FieldError {
                field: "name".into(),
                message: "must not be empty: say who or what uses the key".into(),
            }],
        )?;
    }
    let site_id = match (&body.site_id, &caller.scope) {
        (Some(site_id), _) => Some(caller.site(&state, site_id).await?.id),
        (None, Some(scope)) => Some(scope.site_id.clone()),
        (None, None) => None,
    };
    let (key, secret) = tenants::create_key(
        &state.core.db,
        &caller.tenant_id,
        name,
        body.role,
        site_id.as_deref(),
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
    let mut keys = Vec::new();
    for key in tenants::list_keys(&state.core.db, &caller.tenant_id).await? {
        if caller.sees_site(&state, key.site_id.as_deref()).await? {
            keys.push(key);
        }
    }
    Ok(axum::Json(
        serde_json::json!({ "items": keys, "next_cursor": null }),
    ))
}
