//! Who is asking, as far as the service needs to know: the tenant, and for a dealer's key
//! (or, later, user) the site subtree it is limited to. HTTP builds one from the caller's
//! key; the console, the import and the seed build their own, so every door applies the
//! same visibility rules.

use super::{Core, ServiceError};
use crate::domain::org::Site;
use crate::store::org;

/// The part of the org tree a key is limited to.
#[derive(Clone, Debug)]
pub struct Subtree {
    pub site_id: String,
    /// The site's path; its subtree is every path with this prefix.
    pub path: String,
}

/// A tenant, and the subtree a dealer's caller is limited to (`None`: the whole tenant).
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    pub tenant_id: &'a str,
    pub subtree: Option<&'a Subtree>,
}

impl<'a> Access<'a> {
    /// The whole tenant, as the OEM's keys, the import and the seed see it.
    pub fn tenant(tenant_id: &'a str) -> Access<'a> {
        Access {
            tenant_id,
            subtree: None,
        }
    }

    /// The path prefix list queries are limited to, for a scoped caller.
    pub fn within(&self) -> Option<String> {
        self.subtree.map(|subtree| subtree.path.clone())
    }

    /// Whether a record at the site with `path` (or at no site, `None`) is visible.
    pub fn sees(&self, path: Option<&str>) -> bool {
        match (self.subtree, path) {
            (None, _) => true,
            (Some(subtree), Some(path)) => path.starts_with(&subtree.path),
            (Some(_), None) => false,
        }
    }

    /// Fails unless the caller covers the whole tenant; `what` names the action, as in
    /// "changing a station's service area".
    pub fn whole_tenant(&self, what: &str) -> Result<(), ServiceError> {
        match self.subtree {
            None => Ok(()),
            Some(_) => Err(ServiceError::Forbidden(limited_to_subtree(what))),
        }
    }

    /// The site `id` if it exists in the tenant and this caller may see it; another
    /// tenant's or another dealer's site is simply not found.
    pub async fn site(&self, core: &Core, id: &str) -> Result<Site, ServiceError> {
        org::site(core.db.reader(), self.tenant_id, id)
            .await?
            .filter(|site| self.sees(Some(&site.path)))
            .ok_or(ServiceError::NotFound("site"))
    }

    /// Whether a record at site `site_id` is visible to this caller.
    pub async fn sees_site(
        &self,
        core: &Core,
        site_id: Option<&str>,
    ) -> Result<bool, ServiceError> {
        if self.subtree.is_none() {
            return Ok(true);
        }
        let Some(site_id) = site_id else {
            return Ok(false);
        };
        let site = org::site(core.db.reader(), self.tenant_id, site_id).await?;
        Ok(site.is_some_and(|site| self.sees(Some(&site.path))))
    }
}

/// Why a caller limited to a subtree may not do `what`, which is managed tenant-wide.
pub fn limited_to_subtree(what: &str) -> String {
    format!(
        "{what} is managed tenant-wide; this admin key is limited to one site's subtree, so \
         use an admin key of the whole tenant"
    )
}
