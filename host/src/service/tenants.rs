//! Tenants (made by the platform admin) and their API keys (made by a tenant's admins).
//! A key is shown once, when made, and stored only as its sha256; a dealer's admin makes
//! and sees keys of its own subtree only.

use serde::Deserialize;

use super::access::{Access, Subtree};
use super::{Core, FieldErrors, ServiceError};
use crate::domain::records::Role;
use crate::domain::tenants::{ApiKey, KeyOwner, Tenant};
use crate::store::{org, tenants as store};

/// A tenant as the platform admin creates it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTenant {
    pub name: String,
    /// 2-63 characters of a-z, 0-9 and `-`, not starting or ending with `-`.
    pub slug: String,
}

/// An API key as an admin asks for it.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Who or what uses the key.
    pub name: String,
    pub role: Role,
    /// Limits the key to a site's subtree (a dealer, say). A key made by a scoped key is
    /// limited to at least the same subtree.
    #[serde(default)]
    pub site_id: Option<String>,
}

/// A key and its secret, which is shown only this once.
pub struct MadeKey {
    pub key: ApiKey,
    pub secret: String,
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

/// Creates a tenant and its first admin key.
pub async fn create(core: &Core, body: NewTenant) -> Result<(Tenant, MadeKey), ServiceError> {
    let name = body.name.trim();
    let mut errors = FieldErrors::default();
    if name.is_empty() {
        errors.push("name", "must not be empty");
    }
    if !valid_slug(&body.slug) {
        errors.push(
            "slug",
            format!(
                "`{}` must be 2-63 characters of a-z, 0-9 and `-`, not starting or ending with `-`",
                body.slug
            ),
        );
    }
    errors.check("tenant")?;
    let tenant = store::create(&core.db, name, &body.slug).await?;
    let (key, secret) =
        store::create_key(&core.db, &tenant.id, "initial admin", Role::Admin, None).await?;
    Ok((tenant, MadeKey { key, secret }))
}

/// What a presented key turns out to be.
pub enum KeyCheck {
    /// A live key, with the subtree it is limited to.
    Valid {
        owner: KeyOwner,
        subtree: Option<Subtree>,
    },
    /// Not a key to accept; says why, for the 401.
    Refused(&'static str),
}

/// The caller `secret` identifies.
pub async fn authenticate(core: &Core, secret: &str) -> Result<KeyCheck, ServiceError> {
    let Some(owner) = store::find_key(&core.db, secret).await? else {
        return Ok(KeyCheck::Refused("unknown or revoked API key"));
    };
    let subtree = match &owner.site_id {
        Some(site_id) => match org::site(core.db.reader(), &owner.tenant_id, site_id).await? {
            Some(site) => Some(Subtree {
                site_id: site.id,
                path: site.path,
            }),
            None => return Ok(KeyCheck::Refused("this key's site no longer exists")),
        },
        None => None,
    };
    Ok(KeyCheck::Valid { owner, subtree })
}

/// Makes an API key in the caller's tenant, limited to the caller's subtree or a site in it.
pub async fn create_key(
    core: &Core,
    access: Access<'_>,
    body: NewKey,
) -> Result<MadeKey, ServiceError> {
    let name = body.name.trim();
    let mut errors = FieldErrors::default();
    if name.is_empty() {
        errors.push("name", "must not be empty: say who or what uses the key");
    }
    errors.check("API key")?;
    let site_id = match (&body.site_id, access.subtree) {
        (Some(site_id), _) => Some(access.site(core, site_id).await?.id),
        (None, Some(subtree)) => Some(subtree.site_id.clone()),
        (None, None) => None,
    };
    let (key, secret) = store::create_key(
        &core.db,
        access.tenant_id,
        name,
        body.role,
        site_id.as_deref(),
    )
    .await?;
    Ok(MadeKey { key, secret })
}

/// The tenant's keys the caller sees, without their secrets.
pub async fn list_keys(core: &Core, access: Access<'_>) -> Result<Vec<ApiKey>, ServiceError> {
    let mut keys = Vec::new();
    for key in store::list_keys(&core.db, access.tenant_id).await? {
        if access.sees_site(core, key.site_id.as_deref()).await? {
            keys.push(key);
        }
    }
    Ok(keys)
}

/// Revokes a key the caller sees. A key cannot revoke itself (`own_key_id`), so that a
/// tenant is never left without the key it is using.
pub async fn revoke_key(
    core: &Core,
    access: Access<'_>,
    own_key_id: &str,
    id: &str,
) -> Result<(), ServiceError> {
    let key = store::key(&core.db, access.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("API key"))?;
    if !access.sees_site(core, key.site_id.as_deref()).await? {
        return Err(ServiceError::NotFound("API key"));
    }
    if key.id == own_key_id {
        return Err(ServiceError::Conflict(
            "a key cannot revoke itself; revoke it with another admin key, so the tenant keeps one it can use"
                .to_owned(),
        ));
    }
    if !store::revoke_key(&core.db, access.tenant_id, id).await? {
        // Revoked by someone else in between.
        return Err(ServiceError::NotFound("API key"));
    }
    Ok(())
}

/// The tenant with `slug`, as the platform admin names it.
pub async fn by_slug(core: &Core, slug: &str) -> Result<Tenant, ServiceError> {
    store::by_slug(&core.db, slug)
        .await?
        .ok_or(ServiceError::NotFound("tenant"))
}
