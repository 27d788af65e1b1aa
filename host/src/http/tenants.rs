//! Tenants (platform admin) and API keys (tenant admin).

use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Admin, PlatformAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::openapi as doc;
use crate::domain::page::Paged;
use crate::domain::records::Role;
use crate::domain::tenants::ApiKey;
use crate::service::{FieldError, ServiceError};
use crate::store::tenants;

#[derive(Deserialize, utoipa::ToSchema)]
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

/// Creates a tenant and its first admin key.
///
/// Platform admin token only. The reply carries the tenant and the key's secret, shown
/// once.
#[utoipa::path(
    post,
    path = "/api/v1/tenants",
    operation_id = "tenants_create",
    tag = "tenants",
    request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("admin_token" = [])),
)]
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    name: String,
    role: Role,
    /// Limits the key to a site's subtree (a dealer, say). A key made by a scoped key is
    /// limited to at least the same subtree.
    #[serde(default)]
    site_id: Option<String>,
}

/// Creates an API key for the caller's tenant.
///
/// The secret is shown once, in this reply. A key made by a site-scoped key is limited to
/// at least the same subtree.
#[utoipa::path(
    post,
    path = "/api/v1/api-keys",
    operation_id = "tenants_create_key",
    tag = "tenants",
    request_body = NewKey,
    responses(
        (status = 201, description = "Created", body = Object),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create_key(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<NewKey>,
) -> Result<(StatusCode, axum::Json<serde_json::Value>), ApiError> {
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

/// Lists the tenant's API keys, without their secrets.
///
/// A site-scoped admin key sees the keys of its subtree.
#[utoipa::path(
    get,
    path = "/api/v1/api-keys",
    operation_id = "tenants_list_keys",
    tag = "tenants",
    responses(
        (status = 200, description = "OK", body = Paged<ApiKey>),
        (status = 403, response = doc::Forbidden),
    ),
    security(("api_key" = [])),
)]
pub async fn list_keys(
    caller: Admin,
    State(state): State<AppState>,
) -> Result<axum::Json<Paged<ApiKey>>, ApiError> {
    let mut keys = Vec::new();
    for key in tenants::list_keys(&state.core.db, &caller.tenant_id).await? {
        if caller.sees_site(&state, key.site_id.as_deref()).await? {
            keys.push(key);
        }
    }
    // Every key in one page: a tenant has a handful.
    Ok(axum::Json(Paged {
        items: keys,
        next_cursor: None,
    }))
}

/// Revokes an API key: its secret is refused from the next request on.
///
/// A site-scoped admin key revokes keys of its subtree only. A key cannot revoke itself,
/// so that a tenant is never left without the key it is using: revoke it with another.
#[utoipa::path(
    delete,
    path = "/api/v1/api-keys/{id}",
    operation_id = "tenants_revoke_key",
    tag = "tenants",
    params(("id" = String, Path, description = "The key's id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
    security(("api_key" = [])),
)]
pub async fn revoke_key(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let key = tenants::key(&state.core.db, &caller.tenant_id, &id)
        .await?
        .ok_or(ApiError::NotFound("API key"))?;
    if !caller.sees_site(&state, key.site_id.as_deref()).await? {
        return Err(ApiError::NotFound("API key"));
    }
    if key.id == caller.key_id {
        return Err(ServiceError::Conflict(
            "a key cannot revoke itself; revoke it with another admin key, so the tenant keeps one it can use"
                .to_owned(),
        )
        .into());
    }
    if !tenants::revoke_key(&state.core.db, &caller.tenant_id, &id).await? {
        // Revoked by someone else in between.
        return Err(ApiError::NotFound("API key"));
    }
    Ok(StatusCode::NO_CONTENT)
}
