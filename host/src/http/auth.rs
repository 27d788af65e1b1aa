//! Authentication: tenant API keys and the platform admin token, as extractors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::domain::Role;
use crate::store::tenants;

/// A caller authenticated by a tenant API key.
#[derive(Clone, Debug)]
pub struct Caller {
    pub tenant_id: String,
    pub key_id: String,
    pub role: Role,
}

impl Caller {
    /// Fails unless the key has the admin role.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.role != Role::Admin {
            return Err(ApiError::Forbidden(
                "this needs an admin API key; agent keys cannot manage plugins or keys".to_owned(),
            ));
        }
        Ok(())
    }

    /// Fails unless the key has the admin role; `what` names the action in the message.
    pub fn require_admin_for(&self, what: &str) -> Result<(), ApiError> {
        if self.role != Role::Admin {
            return Err(ApiError::Forbidden(format!(
                "{what} needs an admin API key; ask a tenant admin"
            )));
        }
        Ok(())
    }

    /// The actor name on the ticket timeline.
    pub fn actor(&self) -> crate::service::tickets::Actor {
        crate::service::tickets::Actor(format!("key:{}", self.key_id))
    }
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let header = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| {
            ApiError::Unauthorized("missing `Authorization: Bearer <api key>` header".to_owned())
        })?;
    let value = header.to_str().map_err(|_| {
        ApiError::Unauthorized("the Authorization header is not valid text".to_owned())
    })?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            ApiError::Unauthorized("the Authorization header must be `Bearer <api key>`".to_owned())
        })
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        let owner = tenants::find_key(&state.core.db, token)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("unknown or revoked API key".to_owned()))?;
        tracing::Span::current().record("tenant", owner.tenant_id.as_str());
        Ok(Caller {
            tenant_id: owner.tenant_id,
            key_id: owner.key_id,
            role: owner.role,
        })
    }
}

/// The platform operator, authenticated by the admin token.
#[derive(Clone, Copy, Debug)]
pub struct PlatformAdmin;

impl FromRequestParts<AppState> for PlatformAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer(parts)?;
        if bool::from(token.as_bytes().ct_eq(state.admin_token.as_bytes())) {
            Ok(PlatformAdmin)
        } else {
            Err(ApiError::Unauthorized(
                "this needs the platform admin token (AXLE_ADMIN_TOKEN)".to_owned(),
            ))
        }
    }
}
