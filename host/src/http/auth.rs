//! Authentication: tenant API keys and the platform admin token, as extractors.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::domain::Role;
use crate::store::org::{self, Site};
use crate::store::tenants;

/// The part of the org tree a key is limited to.
#[derive(Clone, Debug)]
pub struct Scope {
    pub site_id: String,
    /// The site's path; its subtree is every path with this prefix.
    pub path: String,
}

/// A caller authenticated by a tenant API key.
#[derive(Clone, Debug)]
pub struct Caller {
    pub tenant_id: String,
    pub key_id: String,
    pub role: Role,
    /// `None` for a tenant-wide (OEM) key.
    pub scope: Option<Scope>,
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

    /// Fails unless the key is an admin key for the whole tenant: plugins, SLA policies and
    /// custom fields change how every dealer's records are handled, so a dealer-scoped
    /// admin cannot manage them.
    pub fn require_tenant_admin(&self) -> Result<(), ApiError> {
        self.require_admin()?;
        if self.scope.is_some() {
            return Err(ApiError::Forbidden(
                "this is managed tenant-wide (plugins, SLA policies, custom fields, dashboards, \
                 imports, the webhook secret, service areas); this admin key is limited to one \
                 site's subtree: use a key of the whole tenant"
                    .to_owned(),
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

    /// The path prefix list queries are limited to, for a scoped key.
    pub fn within(&self) -> Option<String> {
        self.scope.as_ref().map(|scope| scope.path.clone())
    }

    /// Whether a record at the site with `path` (or at no site, `None`) is visible.
    pub fn sees(&self, path: Option<&str>) -> bool {
        match (&self.scope, path) {
            (None, _) => true,
            (Some(scope), Some(path)) => path.starts_with(&scope.path),
            (Some(_), None) => false,
        }
    }

    /// The site `id` if it exists in the tenant and this caller may see it; another
    /// tenant's or another dealer's site is simply not found.
    pub async fn site(&self, state: &AppState, id: &str) -> Result<Site, ApiError> {
        org::site(state.core.db.reader(), &self.tenant_id, id)
            .await?
            .filter(|site| self.sees(Some(&site.path)))
            .ok_or(ApiError::NotFound("site"))
    }

    /// Whether a record at site `site_id` is visible to this caller.
    pub async fn sees_site(
        &self,
        state: &AppState,
        site_id: Option<&str>,
    ) -> Result<bool, ApiError> {
        if self.scope.is_none() {
            return Ok(true);
        }
        let Some(site_id) = site_id else {
            return Ok(false);
        };
        let site = org::site(state.core.db.reader(), &self.tenant_id, site_id).await?;
        Ok(site.is_some_and(|site| self.sees(Some(&site.path))))
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

/// Passes when the bearer token is `expected`, compared in constant time; otherwise the
/// refusal says this needs `what`.
fn bearer_is(parts: &Parts, expected: &str, what: &str) -> Result<(), ApiError> {
    let token = bearer(parts)?;
    if bool::from(token.as_bytes().ct_eq(expected.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::Unauthorized(format!("this needs {what}")))
    }
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
        let scope = match &owner.site_id {
            Some(site_id) => {
                let site = org::site(state.core.db.reader(), &owner.tenant_id, site_id)
                    .await?
                    .ok_or_else(|| {
                        ApiError::Unauthorized("this key's site no longer exists".to_owned())
                    })?;
                Some(Scope {
                    site_id: site.id,
                    path: site.path,
                })
            }
            None => None,
        };
        Ok(Caller {
            tenant_id: owner.tenant_id,
            key_id: owner.key_id,
            role: owner.role,
            scope,
        })
    }
}

/// A metrics scraper, authenticated by the scrape token (`AXLE_METRICS_TOKEN`).
#[derive(Clone, Copy, Debug)]
pub struct MetricsScraper;

impl FromRequestParts<AppState> for MetricsScraper {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Some(expected) = &state.metrics_token else {
            bearer(parts)?;
            return Err(ApiError::Unauthorized(
                "metrics are off on this node: set AXLE_METRICS_TOKEN and scrape with it"
                    .to_owned(),
            ));
        };
        bearer_is(
            parts,
            expected,
            "the metrics scrape token (AXLE_METRICS_TOKEN)",
        )?;
        Ok(MetricsScraper)
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
        bearer_is(
            parts,
            &state.admin_token,
            "the platform admin token (AXLE_ADMIN_TOKEN)",
        )?;
        Ok(PlatformAdmin)
    }
}
