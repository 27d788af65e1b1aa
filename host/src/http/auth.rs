//! Authentication and roles, as extractors: a handler says who may call it by the type it
//! takes. [`Caller`] is any key of the tenant, [`Admin`] an admin key (tenant-wide or a
//! dealer's), [`TenantWide`] any key of the whole tenant, [`TenantAdmin`] an admin key of
//! the whole tenant, [`PlatformAdmin`] the operator's token and [`MetricsScraper`] the
//! scrape token. A refused role is a 403 before the body is read, so a caller without the
//! role learns nothing from validation.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use subtle::ConstantTimeEq;

use super::AppState;
use super::error::ApiError;
use crate::domain::org::Site;
use crate::domain::records::Role;
use crate::service::access::{Access, Subtree, limited_to_subtree};
use crate::service::tenants::{self, KeyCheck};

/// A caller authenticated by a tenant API key.
#[derive(Clone, Debug)]
pub struct Caller {
    pub tenant_id: String,
    pub key_id: String,
    pub role: Role,
    /// `None` for a tenant-wide (OEM) key.
    pub scope: Option<Subtree>,
}

impl Caller {
    /// What the service needs to know of this caller: its tenant and subtree.
    pub fn access(&self) -> Access<'_> {
        Access {
            tenant_id: &self.tenant_id,
            subtree: self.scope.as_ref(),
        }
    }

    /// The path prefix list queries are limited to, for a scoped key.
    pub fn within(&self) -> Option<String> {
        self.access().within()
    }

    /// The site `id` if it exists in the tenant and this caller may see it; another
    /// tenant's or another dealer's site is simply not found.
    pub async fn site(&self, state: &AppState, id: &str) -> Result<Site, ApiError> {
        Ok(self.access().site(&state.core, id).await?)
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
        // The idempotency middleware authenticated this request already.
        if let Some(caller) = parts.extensions.get::<Caller>() {
            return Ok(caller.clone());
        }
        let token = bearer(parts)?;
        let (owner, scope) = match tenants::authenticate(&state.core, token).await? {
            KeyCheck::Valid { owner, subtree } => (owner, subtree),
            KeyCheck::Refused(why) => return Err(ApiError::Unauthorized(why.to_owned())),
        };
        tracing::Span::current().record("tenant", owner.tenant_id.as_str());
        Ok(Caller {
            tenant_id: owner.tenant_id,
            key_id: owner.key_id,
            role: owner.role,
            scope,
        })
    }
}

/// A caller whose key has the admin role, tenant-wide or limited to a site's subtree: it
/// manages keys, sites, teams and agents within its scope.
#[derive(Clone, Debug)]
pub struct Admin(Caller);

/// A caller with an admin key of the whole tenant. Plugins, SLA policies, custom fields,
/// dashboards, the knowledge base, imports and settings change how every dealer's records
/// are handled, so a dealer's admin cannot manage them.
#[derive(Clone, Debug)]
pub struct TenantAdmin(Caller);

/// A caller with a key of the whole tenant, of any role: the OEM's hotline takes calls
/// for every dealer, and a dealer's key must not file them.
#[derive(Clone, Debug)]
pub struct TenantWide(Caller);

/// Each role reads as the caller it wraps: `admin.tenant_id`, `admin.site(…)`.
macro_rules! reads_as_caller {
    ($($role:ident),+) => {$(
        impl std::ops::Deref for $role {
            type Target = Caller;
            fn deref(&self) -> &Caller {
                &self.0
            }
        }
    )+};
}

reads_as_caller!(Admin, TenantWide, TenantAdmin);

/// The action a request asks for, as its method and route template: "`POST
/// /api/v1/plugins`". The template, not the path, so that a refusal never echoes ids.
fn action(parts: &Parts) -> String {
    let route = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map_or("this route", |matched| matched.as_str());
    format!("`{} {route}`", parts.method)
}

fn needs_admin(action: &str) -> ApiError {
    ApiError::Forbidden(format!(
        "{action} needs an admin API key; this is an agent key, so ask a tenant admin"
    ))
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.role != Role::Admin {
            return Err(needs_admin(&action(parts)));
        }
        Ok(Admin(caller))
    }
}

impl FromRequestParts<AppState> for TenantWide {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let caller = Caller::from_request_parts(parts, state).await?;
        if caller.scope.is_some() {
            return Err(ApiError::Forbidden(format!(
                "{} serves the whole tenant; this key is limited to one site's subtree, so \
                 use a key that is not",
                action(parts)
            )));
        }
        Ok(TenantWide(caller))
    }
}

impl FromRequestParts<AppState> for TenantAdmin {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let Admin(caller) = Admin::from_request_parts(parts, state).await?;
        if caller.scope.is_some() {
            return Err(ApiError::Forbidden(limited_to_subtree(&action(parts))));
        }
        Ok(TenantAdmin(caller))
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
