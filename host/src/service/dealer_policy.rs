//! The OEM's policy for dealers' plugins. A tenant-wide admin publishes a catalogue: the
//! plugins a dealer's admin may install in its own subtree, the versions it may run, and
//! the most it may grant and ask for. A dealer's admin manages only installations scoped
//! inside its subtree, and only within the catalogue; it may opt its subtree out of a
//! tenant-wide installation unless the OEM made it mandatory.
//!
//! Changing the catalogue changes what dealers may do next, not what already runs: an
//! installation made under an earlier catalogue keeps running until someone changes it.

use super::access::Access;
use super::{Core, ServiceError};
use crate::domain::installations::{CatalogueEntry, Installation, Scope};
use crate::domain::plugin::{Capability, PluginVersion, RequestedLimits};
use crate::store::plugins as versions;
use crate::store::{dealer_catalogue, installations, plugin_clock};

/// The tenant's catalogue, by plugin name.
pub async fn catalogue(core: &Core, tenant_id: &str) -> Result<Vec<CatalogueEntry>, ServiceError> {
    Ok(dealer_catalogue::list(&core.db, tenant_id).await?)
}

/// What a tenant-wide admin publishes for one plugin.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogueRequest {
    /// The versions dealers may run; every uploaded version when empty or omitted.
    #[serde(default)]
    pub versions: Vec<String>,
    /// The capabilities a dealer may grant, at most; none when omitted.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// The most a dealer's installation may run with; the tenant's budget where unset.
    #[serde(default)]
    pub limits: RequestedLimits,
}

/// Publishes (or replaces) the catalogue's entry for `plugin`. The plugin and each named
/// version must be uploaded in the tenant, and the limits within the platform's maxima.
pub async fn publish(
    core: &Core,
    tenant_id: &str,
    plugin: &str,
    request: CatalogueRequest,
) -> Result<CatalogueEntry, ServiceError> {
    if versions::latest(&core.db, tenant_id, plugin)
        .await?
        .is_none()
    {
        return Err(ServiceError::NotFound("plugin"));
    }
    for version in &request.versions {
        if versions::get_by_name(&core.db, tenant_id, plugin, version)
            .await?
            .is_none()
        {
            return Err(ServiceError::Invalid(format!(
                "versions: {plugin}@{version} is not uploaded in this tenant; upload it before offering it to dealers"
            )));
        }
    }
    core.runtime
        .platform
        .check(&request.limits)
        .map_err(|err| ServiceError::Invalid(format!("limits: {err}")))?;
    let mut capabilities = request.capabilities;
    capabilities.sort();
    capabilities.dedup();
    let entry = CatalogueEntry {
        plugin: plugin.to_owned(),
        versions: request.versions,
        capabilities,
        limits: request.limits,
        updated_at: String::new(),
    };
    let mut tx = core.db.begin_write().await?;
    dealer_catalogue::put(&mut tx, tenant_id, &entry).await?;
    tx.commit().await?;
    dealer_catalogue::get(&core.db, tenant_id, plugin)
        .await?
        .ok_or(ServiceError::NotFound("catalogue entry"))
}

/// Takes `plugin` out of the catalogue; dealers' installations of it keep running.
pub async fn withdraw(core: &Core, tenant_id: &str, plugin: &str) -> Result<(), ServiceError> {
    let mut tx = core.db.begin_write().await?;
    if !dealer_catalogue::delete(&mut tx, tenant_id, plugin).await? {
        return Err(ServiceError::NotFound("catalogue entry"));
    }
    tx.commit().await?;
    Ok(())
}

/// What a caller asks to do with an installation, as far as the policy cares.
#[derive(Clone, Copy, Debug)]
pub enum Ask<'a> {
    /// Read it: the installation and its history.
    Read,
    /// Read the audit of its calls: a dealer's caller sees only its own installations'.
    Audit,
    /// Change how it runs without going past what it runs now: config, run order,
    /// enable/disable, cancel a parked upgrade, stop a shadow run, replay, uninstall.
    Manage,
    /// Grant these capabilities.
    Grant(&'a [Capability]),
    /// Run with these limit overrides.
    Limit(&'a RequestedLimits),
    /// Run this version of its plugin (upgrade, rollback, shadow, promote); `None` when
    /// the service picks it (the previous version, for a rollback).
    Run(Option<&'a str>),
    /// Make it mandatory, or not.
    SetMandatory,
}

/// The installation `id`, if `access` may do `ask` with it. A tenant-wide caller may do
/// anything. A dealer's caller sees installations that apply inside its subtree, may
/// change only those scoped inside it, and only within the catalogue; what lies elsewhere
/// is not found.
pub async fn authorize(
    core: &Core,
    access: Access<'_>,
    id: &str,
    ask: Ask<'_>,
) -> Result<Installation, ServiceError> {
    let installation = installations::get(&core.db, access.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))?;
    let Some(subtree) = access.subtree else {
        return Ok(installation);
    };
    let scope = &installation.scope;
    let own = !scope.is_tenant() && access.sees(Some(&scope.path));
    let applies_here = subtree.path.starts_with(&scope.path);
    if !own && !applies_here {
        return Err(ServiceError::NotFound("installation"));
    }
    if !own {
        match ask {
            Ask::Read => return Ok(installation),
            Ask::Audit => {
                return Err(ServiceError::Forbidden(format!(
                    "installation {} applies {}; its invocations are for the admins of that \
                     scope, and this key sees only its own subtree's installations' invocations",
                    installation.id,
                    describe(scope)
                )));
            }
            _ => {}
        }
        return Err(ServiceError::Forbidden(format!(
            "installation {} ({}) applies {}, above this key's subtree; only admins of that \
             scope can change it{}",
            installation.id,
            installation.label(),
            describe(scope),
            if scope.is_tenant() && !installation.mandatory {
                ". A dealer can opt its subtree out with PUT /api/v1/installations/{id}/opt-outs/{site_id}"
            } else {
                ""
            }
        )));
    }
    match ask {
        Ask::Read | Ask::Audit | Ask::Manage => {}
        Ask::SetMandatory => {
            return Err(ServiceError::Forbidden(
                "only a tenant-wide admin can make an installation mandatory, and only a tenant-wide one".to_owned(),
            ));
        }
        Ask::Grant(capabilities) => {
            let entry = entry(core, access.tenant_id, &installation.plugin).await?;
            check_capabilities(&entry, capabilities)?;
        }
        Ask::Limit(limits) => {
            let entry = entry(core, access.tenant_id, &installation.plugin).await?;
            let version =
                versions::get(&core.db, access.tenant_id, &installation.plugin_version_id)
                    .await?
                    .ok_or(ServiceError::NotFound("plugin version"))?;
            check_limits(core, &entry, &version, limits)?;
        }
        Ask::Run(version) => {
            let entry = entry(core, access.tenant_id, &installation.plugin).await?;
            if let Some(version) = version {
                check_version(&entry, version)?;
            }
        }
    }
    Ok(installation)
}

/// Checks what a dealer's caller asks to install against the catalogue; a tenant-wide
/// caller passes.
pub async fn check_install(
    core: &Core,
    access: Access<'_>,
    version: &PluginVersion,
    capabilities: &[Capability],
    limits: &RequestedLimits,
) -> Result<(), ServiceError> {
    if access.subtree.is_none() {
        return Ok(());
    }
    let entry = entry(core, access.tenant_id, &version.name).await?;
    check_version(&entry, &version.version)?;
    check_capabilities(&entry, capabilities)?;
    check_limits(core, &entry, version, limits)
}

/// Checks a version the service picked for a dealer's installation (a rollback's
/// previous version) against the catalogue.
pub async fn check_version_for(
    core: &Core,
    access: Access<'_>,
    plugin: &str,
    version: &str,
) -> Result<(), ServiceError> {
    if access.subtree.is_none() {
        return Ok(());
    }
    check_version(&entry(core, access.tenant_id, plugin).await?, version)
}

async fn entry(core: &Core, tenant_id: &str, plugin: &str) -> Result<CatalogueEntry, ServiceError> {
    dealer_catalogue::get(&core.db, tenant_id, plugin)
        .await?
        .ok_or_else(|| {
            ServiceError::Forbidden(format!(
                "{plugin} is not in the OEM's catalogue for dealers; a tenant-wide admin can \
                 offer it with PUT /api/v1/dealer-catalogue/{plugin}"
            ))
        })
}

fn check_version(entry: &CatalogueEntry, version: &str) -> Result<(), ServiceError> {
    if entry.allows_version(version) {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "the OEM's catalogue lets dealers run {} only at {}, not {version}",
        entry.plugin,
        entry.versions.join(", ")
    )))
}

fn check_capabilities(entry: &CatalogueEntry, asked: &[Capability]) -> Result<(), ServiceError> {
    let beyond: Vec<&str> = asked
        .iter()
        .filter(|capability| {
            !capability.always_granted() && !entry.capabilities.contains(capability)
        })
        .map(|capability| capability.as_str())
        .collect();
    if beyond.is_empty() {
        return Ok(());
    }
    let allowed: Vec<&str> = entry.capabilities.iter().map(|c| c.as_str()).collect();
    Err(ServiceError::Forbidden(format!(
        "the OEM's catalogue does not let dealers grant {} to {} (it allows: {})",
        beyond.join(", "),
        entry.plugin,
        if allowed.is_empty() {
            "none".to_owned()
        } else {
            allowed.join(", ")
        }
    )))
}

fn check_limits(
    core: &Core,
    entry: &CatalogueEntry,
    version: &PluginVersion,
    limits: &RequestedLimits,
) -> Result<(), ServiceError> {
    let over = core
        .runtime
        .platform
        .resolve(&version.limits, limits)
        .over_budget(&entry.limits);
    if over.is_empty() {
        return Ok(());
    }
    Err(ServiceError::Forbidden(format!(
        "{} would run with {}, beyond the OEM's ceiling for dealers; ask for less",
        version.label(),
        over.join(", ")
    )))
}

/// How a refusal names a scope.
fn describe(scope: &Scope) -> String {
    match &scope.site_id {
        None => "to the whole tenant".to_owned(),
        Some(site) => format!("to site {site}'s subtree"),
    }
}

/// Opts the subtree of `site_id` out of the tenant-wide installation `id`: it stops
/// running for records there. A mandatory installation cannot be opted out of.
pub async fn opt_out(
    core: &Core,
    access: Access<'_>,
    id: &str,
    site_id: &str,
) -> Result<Installation, ServiceError> {
    let site = access.site(core, site_id).await?;
    let installation = installations::get(&core.db, access.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))?;
    if !installation.scope.is_tenant() {
        return Err(ServiceError::Invalid(format!(
            "installation {id} applies {}; only tenant-wide installations can be opted out of \
             (disable or uninstall a scoped one instead)",
            describe(&installation.scope)
        )));
    }
    if installation.mandatory {
        return Err(ServiceError::Forbidden(format!(
            "{} is mandatory by the OEM's policy: no dealer can turn it off",
            installation.label()
        )));
    }
    let mut tx = core.db.begin_write().await?;
    installations::opt_out(&mut tx, access.tenant_id, id, &site.id, &site.path).await?;
    let generation = plugin_clock::bump(&mut tx, access.tenant_id).await?;
    tx.commit().await?;
    core.reloads.announce(access.tenant_id, generation);
    Ok(installation)
}

/// Withdraws the opt-out of `site_id`'s subtree from installation `id`.
pub async fn opt_in(
    core: &Core,
    access: Access<'_>,
    id: &str,
    site_id: &str,
) -> Result<(), ServiceError> {
    let site = access.site(core, site_id).await?;
    let mut tx = core.db.begin_write().await?;
    if !installations::opt_in(&mut tx, access.tenant_id, id, &site.id).await? {
        return Err(ServiceError::NotFound("opt-out"));
    }
    let generation = plugin_clock::bump(&mut tx, access.tenant_id).await?;
    tx.commit().await?;
    core.reloads.announce(access.tenant_id, generation);
    Ok(())
}
