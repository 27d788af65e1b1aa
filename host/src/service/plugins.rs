//! Uploading plugin versions and installing them in a tenant.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::access::Access;
use super::plugin_policy;
use super::{Core, ServiceError};
use crate::db::Tx;
use crate::domain::ids::sha256_hex;
use crate::domain::installations::{
    HistoryEntry, Installation, InstallationFilter, PendingUpgrade, Scope,
};
use crate::domain::page::{Page, Paged};
use crate::domain::plugin::{Capability, PluginFilter, PluginVersion, RequestedLimits};
use crate::runtime::limits::{Limits, PlatformLimits};
use crate::runtime::manifest::{self, Manifest};
use crate::runtime::sandbox::CallContext;
use crate::runtime::validation::validate_component;
use crate::runtime::{Candidate, Loaded, Runtime};
use crate::store::installations::{self, InstallationPatch, NewInstallation};
use crate::store::plugins::{self as versions, Stored};
use crate::store::{plugin_clock, plugin_policies};

/// The largest component accepted.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;

/// A plugin version that passed every upload check.
pub struct Checked {
    pub manifest: Manifest,
    /// Compiled and checked, kept nowhere yet.
    pub candidate: Candidate,
}

/// The checks an upload passes before its component is compiled — the manifest, its
/// limits against the platform's, the component's size and its validation. Cheap: the
/// fuzzer runs it millions of times, and a broken upload never takes a compile slot.
pub fn precheck(
    platform: &PlatformLimits,
    manifest_text: &str,
    bytes: &[u8],
) -> Result<Manifest, ServiceError> {
    let manifest =
        Manifest::parse(manifest_text).map_err(|err| ServiceError::Invalid(err.to_string()))?;
    platform
        .check(&manifest.limits)
        .map_err(|err| ServiceError::Invalid(format!("plugin.toml [limits]: {err}")))?;
    if bytes.is_empty() {
        return Err(ServiceError::Invalid(
            "the component part is empty".to_owned(),
        ));
    }
    if bytes.len() > MAX_COMPONENT_BYTES {
        return Err(ServiceError::Invalid(format!(
            "the component has {} bytes; the limit is {MAX_COMPONENT_BYTES}",
            bytes.len()
        )));
    }
    validate_component(bytes)?;
    Ok(manifest)
}

/// The checks every upload passes — [`precheck`], then the component loaded as the
/// manifest's world with its imports within the declared capabilities. The server's
/// upload and `axle plugin build` both call this, so a build that passes locally uploads.
/// Slow (compiles): call it off the async runtime.
pub fn check_upload(
    runtime: &Runtime,
    manifest_text: &str,
    bytes: &[u8],
) -> Result<Checked, ServiceError> {
    let manifest = precheck(&runtime.platform, manifest_text, bytes)?;
    let candidate = runtime.candidate(bytes, manifest.world)?;
    let loaded = &candidate.loaded;
    if let Some(component) = loaded.wit.filter(|&wit| wit != manifest.wit) {
        return Err(crate::runtime::ComponentError::WitMismatch {
            manifest: manifest.wit,
            component,
        }
        .into());
    }
    for capability in &loaded.imports {
        if !capability.always_granted() && !manifest.capabilities.contains(capability) {
            return Err(
                crate::runtime::ComponentError::UndeclaredCapability(capability.as_str()).into(),
            );
        }
    }
    Ok(Checked {
        manifest,
        candidate,
    })
}

/// Validates and stores an uploaded plugin version. Returns the version and whether it
/// was new. Nothing is stored unless every check passes.
pub async fn upload(
    core: &Core,
    tenant_id: &str,
    manifest_text: &str,
    bytes: Vec<u8>,
) -> Result<(PluginVersion, bool), ServiceError> {
    let runtime = core.runtime.clone();
    let text = manifest_text.to_owned();
    let (checked, bytes) = tokio::task::spawn_blocking(move || {
        let checked = check_upload(&runtime, &text, &bytes);
        (checked, bytes)
    })
    .await
    .map_err(|err| ServiceError::Internal(format!("component compilation task failed: {err}")))?;
    let Checked {
        manifest,
        candidate,
    } = checked?;
    let sha256 = sha256_hex(&bytes);
    let upload = versions::Upload {
        name: &manifest.name,
        version: manifest.version.to_string(),
        world: manifest.world,
        wit_version: manifest.wit.as_str(),
        description: &manifest.description,
        capabilities: &manifest.capabilities,
        config_schema: manifest.config_schema.as_ref(),
        limits: manifest.limits,
        manifest_text,
        bytes: &bytes,
        sha256: &sha256,
    };
    let stored = versions::insert(&core.db, tenant_id, &upload).await?;
    // Stored: now the compiled component may be kept, in memory and on disk.
    core.runtime.keep(candidate);
    match stored {
        Stored::Created(version) => Ok((version, true)),
        Stored::AlreadyThere(version) => Ok((version, false)),
    }
}

/// What an admin asks for when installing.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallRequest {
    /// Plugin name.
    pub plugin: String,
    /// Exact version; the highest uploaded version when omitted.
    #[serde(default)]
    pub version: Option<String>,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// Capabilities to grant; each must be requested by the manifest.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    #[serde(default)]
    pub limits: Option<RequestedLimits>,
    #[serde(default)]
    pub run_order: Option<i64>,
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Where it applies: `{"site_id": "…"}` for one site's subtree. Omitted: the whole
    /// tenant for a tenant-wide admin, the key's own subtree for a dealer's admin.
    #[serde(default)]
    pub scope: Option<Scope>,
    /// Tenant-wide installations only: no dealer may opt out of it.
    #[serde(default)]
    pub mandatory: Option<bool>,
}

fn check_grants(
    version: &PluginVersion,
    grants: &[Capability],
) -> Result<Vec<Capability>, ServiceError> {
    let mut granted = BTreeSet::new();
    for capability in grants {
        if capability.always_granted() {
            continue;
        }
        if !version.capabilities.contains(capability) {
            return Err(ServiceError::Invalid(format!(
                "cannot grant `{}`: {}@{} does not request it (it requests: {})",
                capability.as_str(),
                version.name,
                version.version,
                list(&version.capabilities)
            )));
        }
        granted.insert(*capability);
    }
    Ok(granted.into_iter().collect())
}

fn list(capabilities: &[Capability]) -> String {
    if capabilities.is_empty() {
        return "nothing".to_owned();
    }
    capabilities
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn check_config(
    version: &PluginVersion,
    config: &serde_json::Value,
) -> Result<(), ServiceError> {
    manifest::check_config(version.config_schema.as_ref(), config).map_err(|problems| {
        ServiceError::Unprocessable {
            message: format!(
                "config does not match {}@{}'s config schema: {problems}",
                version.name, version.version
            ),
            errors: vec![super::FieldError {
                field: "config".to_owned(),
                message: problems,
            }],
        }
    })
}

/// Where `request` asks to install, as `access` may: a site must be one the caller sees,
/// and a dealer's caller installs only inside its subtree.
async fn scope_of(
    core: &Core,
    access: Access<'_>,
    request: &InstallRequest,
) -> Result<Scope, ServiceError> {
    let site_id = request
        .scope
        .as_ref()
        .and_then(|scope| scope.site_id.as_deref());
    let scope = match (site_id, access.subtree) {
        (Some(site_id), _) => {
            let site = access.site(core, site_id).await?;
            Scope::site(&site.id, &site.path)
        }
        (None, Some(subtree)) => Scope::site(&subtree.site_id, &subtree.path),
        (None, None) => Scope::tenant(),
    };
    if request.mandatory == Some(true) {
        access.whole_tenant("making an installation mandatory")?;
        if !scope.is_tenant() {
            return Err(ServiceError::Invalid(
                "mandatory: only a tenant-wide installation can be mandatory; drop `scope` or `mandatory`".to_owned(),
            ));
        }
    }
    Ok(scope)
}

/// Installs a plugin version in the tenant, or in one site's subtree. A dealer's caller
/// installs only what the OEM's catalogue allows.
pub async fn install(
    core: &Core,
    access: Access<'_>,
    request: InstallRequest,
) -> Result<Installation, ServiceError> {
    let tenant_id = access.tenant_id;
    let scope = scope_of(core, access, &request).await?;
    let version = match &request.version {
        Some(version) => {
            versions::get_by_name(&core.db, tenant_id, &request.plugin, version).await?
        }
        None => versions::latest(&core.db, tenant_id, &request.plugin).await?,
    }
    .ok_or(ServiceError::NotFound("plugin version"))?;
    let config = request.config.unwrap_or_else(|| serde_json::json!({}));
    check_config(&version, &config)?;
    let capabilities = check_grants(&version, &request.capabilities)?;
    let limits = request.limits.unwrap_or_default();
    core.runtime
        .platform
        .check(&limits)
        .map_err(ServiceError::Invalid)?;
    super::dealer_policy::check_install(core, access, &version, &capabilities, &limits).await?;
    let policy = plugin_policies::get(&core.db, tenant_id).await?;
    plugin_policy::check_budget(
        &version.label(),
        &core.runtime.platform.resolve(&version.limits, &limits),
        &policy.budget,
    )?;
    let mut tx = core.db.begin_write().await?;
    // The clock first: it serializes installs, so two cannot both fit the last slot.
    let generation = plugin_clock::bump(&mut tx, tenant_id).await?;
    plugin_policy::check_quota(&mut tx, tenant_id, &policy).await?;
    let id = installations::insert(
        &mut tx,
        tenant_id,
        NewInstallation {
            plugin_version_id: version.id.clone(),
            plugin: version.name.clone(),
            version: version.version.clone(),
            world: version.world,
            config,
            capabilities,
            limits,
            run_order: request.run_order.unwrap_or(100),
            enabled: request.enabled.unwrap_or(true),
            scope,
            mandatory: request.mandatory.unwrap_or(false),
        },
    )
    .await?;
    tx.commit().await?;
    core.reloads.announce(tenant_id, generation);
    reread(core, tenant_id, &id).await
}

/// Stamps the tenant's plugins with a new generation inside `tx`, commits, and tells
/// every node, so that the change is live for the next request on any of them.
pub(super) async fn commit_change(
    core: &Core,
    mut tx: Tx,
    tenant_id: &str,
) -> Result<(), ServiceError> {
    let generation = plugin_clock::bump(&mut tx, tenant_id).await?;
    tx.commit().await?;
    core.reloads.announce(tenant_id, generation);
    Ok(())
}

async fn reread(core: &Core, tenant_id: &str, id: &str) -> Result<Installation, ServiceError> {
    installations::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))
}

/// Refuses a change whose installation moved to another version between `seen` (read
/// before the change's transaction) and `current` (locked inside it).
pub(super) fn same_version(
    seen: &Installation,
    current: &Installation,
) -> Result<(), ServiceError> {
    if current.plugin_version_id == seen.plugin_version_id {
        return Ok(());
    }
    Err(ServiceError::Conflict(format!(
        "installation {} moved to {} while this request ran; look at it again and retry",
        seen.id,
        current.label()
    )))
}

/// The installation, locked for a change inside `tx`.
pub(super) async fn for_change(
    core: &Core,
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
) -> Result<Installation, ServiceError> {
    installations::get_for_change(tx, core.db.backend(), tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))
}

/// Uninstalls. Returns whether there was such an installation.
pub async fn uninstall(core: &Core, tenant_id: &str, id: &str) -> Result<bool, ServiceError> {
    let mut tx = core.db.begin_write().await?;
    if !installations::delete(&mut tx, tenant_id, id).await? {
        return Ok(false);
    }
    commit_change(core, tx, tenant_id).await?;
    Ok(true)
}

/// What an admin may change on an installation.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InstallationChange {
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    #[serde(default)]
    pub capabilities: Option<Vec<Capability>>,
    #[serde(default)]
    pub limits: Option<RequestedLimits>,
    #[serde(default)]
    pub run_order: Option<i64>,
    /// `true` enables (and lifts a suspension), `false` disables.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Tenant-wide installations only, by a tenant-wide admin: whether dealers may opt
    /// out of it.
    #[serde(default)]
    pub mandatory: Option<bool>,
}

/// Changes an installation.
pub async fn change(
    core: &Core,
    tenant_id: &str,
    id: &str,
    change: InstallationChange,
) -> Result<Installation, ServiceError> {
    // Read and check everything before the write transaction (see `unchanged_since`).
    let seen = reread(core, tenant_id, id).await?;
    if change.mandatory == Some(true) && !seen.scope.is_tenant() {
        return Err(ServiceError::Invalid(
            "mandatory: only a tenant-wide installation can be mandatory".to_owned(),
        ));
    }
    let version = versions::get(&core.db, tenant_id, &seen.plugin_version_id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))?;
    if let Some(config) = &change.config {
        check_config(&version, config)?;
    }
    let capabilities = change
        .capabilities
        .as_deref()
        .map(|grants| check_grants(&version, grants))
        .transpose()?;
    if let Some(limits) = &change.limits {
        core.runtime
            .platform
            .check(limits)
            .map_err(ServiceError::Invalid)?;
        let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
        plugin_policy::check_budget(
            &version.label(),
            &core.runtime.platform.resolve(&version.limits, limits),
            &budget,
        )?;
    }
    let mut tx = core.db.begin_write().await?;
    let current = for_change(core, &mut tx, tenant_id, id).await?;
    same_version(&seen, &current)?;
    let patch = InstallationPatch {
        config: change.config,
        capabilities,
        limits: change.limits,
        run_order: change.run_order,
        enabled: change.enabled,
        mandatory: change.mandatory,
    };
    installations::update(&mut tx, tenant_id, &current, patch).await?;
    commit_change(core, tx, tenant_id).await?;
    reread(core, tenant_id, id).await
}

/// An installation ready to invoke: its compiled component and call context.
#[derive(Clone)]
pub struct Ready {
    /// Shared, so that handing a snapshot's installations to a request copies no config.
    pub installation: Arc<Installation>,
    pub loaded: Arc<Loaded>,
    pub call: Arc<CallContext>,
    /// The candidate version running in shadow beside it, if any.
    pub shadow: Option<Arc<super::shadow::Candidate>>,
}

/// Loads an installation's component (from the runtime cache, else from storage,
/// compiling off the async runtime) and builds its call context.
pub async fn ready(
    core: &Core,
    tenant_id: &str,
    installation: Installation,
) -> Result<Ready, ServiceError> {
    let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
    ready_within(core, tenant_id, installation, &budget).await
}

/// [`ready`], with limits capped at the tenant's per-call `budget`.
pub async fn ready_within(
    core: &Core,
    tenant_id: &str,
    installation: Installation,
    budget: &RequestedLimits,
) -> Result<Ready, ServiceError> {
    let version = versions::get(&core.db, tenant_id, &installation.plugin_version_id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))?;
    let loaded = loaded(core, &version).await?;
    let call = Arc::new(
        CallContext::new(
            tenant_id,
            installation.id.clone(),
            installation.label(),
            installation.capabilities.iter().copied(),
            installation.config.clone(),
            limits(core, &version, &installation, budget),
        )
        .within(scope_within(&installation.scope)),
    );
    let shadow = super::shadow::candidate(core, tenant_id, &installation, budget).await;
    Ok(Ready {
        installation: Arc::new(installation),
        loaded,
        call,
        shadow,
    })
}

/// The subtree a scoped installation's `records` and `directory` capabilities are limited
/// to, as a site path prefix; `None` for a tenant-wide one.
pub fn scope_within(scope: &Scope) -> Option<String> {
    (!scope.is_tenant()).then(|| scope.path.clone())
}

/// The limits calls of `installation` to `version` run under: the installation's
/// overrides, else the version's manifest, else the platform default, capped at the
/// platform maximum and the tenant's per-call `budget`.
pub(super) fn limits(
    core: &Core,
    version: &PluginVersion,
    installation: &Installation,
    budget: &RequestedLimits,
) -> Limits {
    core.runtime
        .platform
        .resolve(&version.limits, &installation.limits)
        .capped(budget)
}

/// A version's compiled component: from the runtime cache, else from storage, compiled
/// off the async runtime.
pub(super) async fn loaded(
    core: &Core,
    version: &PluginVersion,
) -> Result<Arc<Loaded>, ServiceError> {
    // One component can export several worlds' functions, and another tenant may have
    // loaded the same bytes as a different world; only a load of this world will do.
    let cached = core
        .runtime
        .cached(&version.sha256)
        .filter(|loaded| loaded.world == version.world);
    let loaded = match cached {
        Some(loaded) => loaded,
        None => {
            let bytes = versions::blob(&core.db, &version.sha256).await?;
            let runtime = core.runtime.clone();
            let world = version.world;
            tokio::task::spawn_blocking(move || runtime.load(&bytes, world))
                .await
                .map_err(|err| {
                    ServiceError::Internal(format!("component compilation task failed: {err}"))
                })??
        }
    };
    Ok(loaded)
}

/// What an admin asks for when moving an installation to another version.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionRequest {
    /// The version to run; for a rollback, the one it ran before when omitted.
    #[serde(default)]
    pub version: Option<String>,
    /// The config to run it with; the current config when omitted.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
}

/// What became of an upgrade.
pub enum Upgraded {
    /// The new version is live.
    Applied(Installation),
    /// The new version asks for more capabilities; it waits for the admin's approval
    /// while the current version keeps running.
    Pending(Installation),
}

fn difference(from: &[Capability], to: &[Capability]) -> Vec<Capability> {
    to.iter()
        .filter(|capability| !from.contains(capability))
        .copied()
        .collect()
}

async fn version_of(
    core: &Core,
    tenant_id: &str,
    plugin: &str,
    version: &str,
) -> Result<PluginVersion, ServiceError> {
    versions::get_by_name(&core.db, tenant_id, plugin, version)
        .await?
        .ok_or_else(|| {
            ServiceError::Invalid(format!(
                "{plugin}@{version} is not uploaded in this tenant; upload it first"
            ))
        })
}

/// Locks the installation for the change and checks that nothing moved it since `seen`,
/// the installation as read before the change's transaction. Everything a change needs
/// to read or compile happens before its write transaction begins: on SQLite that
/// transaction holds the one write lock, and a second pool connection wanted while
/// holding it could wait behind writers that are themselves waiting for the lock.
async fn unchanged_since(
    core: &Core,
    tx: &mut Tx,
    tenant_id: &str,
    seen: &Installation,
) -> Result<Installation, ServiceError> {
    let current = for_change(core, tx, tenant_id, &seen.id).await?;
    if current.plugin_version_id != seen.plugin_version_id
        || current.pending_upgrade != seen.pending_upgrade
        || current.config != seen.config
        || current.capabilities != seen.capabilities
    {
        return Err(ServiceError::Conflict(format!(
            "installation {} changed while this request ran (it now runs {}); look at it again and retry",
            seen.id,
            current.label()
        )));
    }
    Ok(current)
}

/// Checks `target` against the tenant's budget and compiles it (or takes it from the
/// cache), so that a version that cannot load or run here never goes live.
async fn prepare(
    core: &Core,
    tenant_id: &str,
    seen: &Installation,
    target: &PluginVersion,
) -> Result<(), ServiceError> {
    let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
    plugin_policy::check_budget(
        &target.label(),
        &core.runtime.platform.resolve(&target.limits, &seen.limits),
        &budget,
    )?;
    loaded(core, target).await?;
    Ok(())
}

/// Upgrades (or moves sideways or down) an installation to another uploaded version.
/// Capabilities granted before carry over where the new version still asks for them.
/// A version that asks for capabilities the running one did not is parked until the
/// admin approves the difference.
pub async fn upgrade(
    core: &Core,
    tenant_id: &str,
    id: &str,
    request: VersionRequest,
) -> Result<Upgraded, ServiceError> {
    let wanted = request
        .version
        .as_deref()
        .ok_or_else(|| ServiceError::Invalid("say which `version` to upgrade to".to_owned()))?;
    let seen = reread(core, tenant_id, id).await?;
    let target = version_of(core, tenant_id, &seen.plugin, wanted).await?;
    if target.id == seen.plugin_version_id {
        return Err(ServiceError::Conflict(format!(
            "the installation already runs {}",
            seen.label()
        )));
    }
    let running = versions::get(&core.db, tenant_id, &seen.plugin_version_id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))?;
    let config = request.config.unwrap_or_else(|| seen.config.clone());
    check_config(&target, &config)?;
    let added = difference(&running.capabilities, &target.capabilities);
    if !added.is_empty() {
        let pending = PendingUpgrade {
            plugin_version_id: target.id.clone(),
            version: target.version.clone(),
            added_capabilities: added,
            removed_capabilities: difference(&target.capabilities, &running.capabilities),
            config,
        };
        let mut tx = core.db.begin_write().await?;
        unchanged_since(core, &mut tx, tenant_id, &seen).await?;
        installations::set_pending(&mut tx, tenant_id, id, Some(&pending)).await?;
        tx.commit().await?;
        return Ok(Upgraded::Pending(reread(core, tenant_id, id).await?));
    }
    prepare(core, tenant_id, &seen, &target).await?;
    let grants = kept_grants(&seen.capabilities, &target);
    switch(core, &seen, tenant_id, "upgrade", &target, grants, &config).await?;
    Ok(Upgraded::Applied(reread(core, tenant_id, id).await?))
}

/// The grants that carry over to `target`: those it still asks for.
pub(super) fn kept_grants(granted: &[Capability], target: &PluginVersion) -> Vec<Capability> {
    granted
        .iter()
        .filter(|capability| target.capabilities.contains(capability))
        .copied()
        .collect()
}

/// Points the installation at `target` in one short write transaction, provided nothing
/// changed it since `seen`, and tells every node.
async fn switch(
    core: &Core,
    seen: &Installation,
    tenant_id: &str,
    action: &'static str,
    target: &PluginVersion,
    capabilities: Vec<Capability>,
    config: &serde_json::Value,
) -> Result<(), ServiceError> {
    let mut tx = core.db.begin_write().await?;
    let current = unchanged_since(core, &mut tx, tenant_id, seen).await?;
    installations::switch_version(
        &mut tx,
        tenant_id,
        &current,
        &installations::VersionSwitch {
            action,
            plugin_version_id: &target.id,
            version: &target.version,
            capabilities,
            config,
        },
    )
    .await?;
    commit_change(core, tx, tenant_id).await
}

/// Approves a parked upgrade, granting `grants` of the capabilities it adds (all of them
/// when `None`), and makes it live.
pub async fn approve_upgrade(
    core: &Core,
    tenant_id: &str,
    id: &str,
    grants: Option<Vec<Capability>>,
) -> Result<Installation, ServiceError> {
    let seen = reread(core, tenant_id, id).await?;
    let pending = seen.pending_upgrade.clone().ok_or_else(|| {
        ServiceError::Conflict("no upgrade is waiting for approval on this installation".to_owned())
    })?;
    let approved = grants.unwrap_or_else(|| pending.added_capabilities.clone());
    if let Some(stray) = approved
        .iter()
        .find(|capability| !pending.added_capabilities.contains(capability))
    {
        return Err(ServiceError::Invalid(format!(
            "`{}` is not among the capabilities {} adds ({}); approve only those",
            stray.as_str(),
            pending.version,
            list(&pending.added_capabilities)
        )));
    }
    let target = versions::get(&core.db, tenant_id, &pending.plugin_version_id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))?;
    prepare(core, tenant_id, &seen, &target).await?;
    let mut capabilities = kept_grants(&seen.capabilities, &target);
    capabilities.extend(approved);
    capabilities.sort();
    capabilities.dedup();
    switch(
        core,
        &seen,
        tenant_id,
        "upgrade",
        &target,
        capabilities,
        &pending.config,
    )
    .await?;
    reread(core, tenant_id, id).await
}

/// Drops a parked upgrade; the current version keeps running.
pub async fn cancel_upgrade(
    core: &Core,
    tenant_id: &str,
    id: &str,
) -> Result<Installation, ServiceError> {
    let mut tx = core.db.begin_write().await?;
    let current = for_change(core, &mut tx, tenant_id, id).await?;
    if current.pending_upgrade.is_none() {
        return Err(ServiceError::Conflict(
            "no upgrade is waiting for approval on this installation".to_owned(),
        ));
    }
    installations::set_pending(&mut tx, tenant_id, id, None).await?;
    tx.commit().await?;
    reread(core, tenant_id, id).await
}

/// Moves the installation back to a version it ran before: `version`, or the one it ran
/// just before the current one. It gets the grants it had then, where that version asks
/// for them, so a rollback never needs a new approval.
pub async fn rollback(
    core: &Core,
    tenant_id: &str,
    id: &str,
    request: VersionRequest,
) -> Result<Installation, ServiceError> {
    let seen = reread(core, tenant_id, id).await?;
    let wanted = match request.version {
        Some(version) => version,
        None => installations::last_ran(&core.db, tenant_id, id, None)
            .await?
            .and_then(|latest| latest.from_version)
            .ok_or_else(|| {
                ServiceError::Conflict(format!(
                    "{} has run no other version; there is nothing to roll back to",
                    seen.label()
                ))
            })?,
    };
    if wanted == seen.version {
        return Err(ServiceError::Conflict(format!(
            "the installation already runs {}",
            seen.label()
        )));
    }
    let ran = installations::last_ran(&core.db, tenant_id, id, Some(&wanted))
        .await?
        .ok_or_else(|| {
            ServiceError::Invalid(format!(
                "this installation never ran {}@{wanted}; use upgrade to move to a new version",
                seen.plugin
            ))
        })?;
    let target = version_of(core, tenant_id, &seen.plugin, &wanted).await?;
    let config = request.config.unwrap_or_else(|| seen.config.clone());
    check_config(&target, &config)?;
    prepare(core, tenant_id, &seen, &target).await?;
    let grants = kept_grants(&ran.granted()?, &target);
    switch(core, &seen, tenant_id, "rollback", &target, grants, &config).await?;
    reread(core, tenant_id, id).await
}

/// The versions the installation ran, newest first.
pub async fn history(
    core: &Core,
    tenant_id: &str,
    id: &str,
) -> Result<Vec<HistoryEntry>, ServiceError> {
    if installations::get(&core.db, tenant_id, id).await?.is_none() {
        return Err(ServiceError::NotFound("installation"));
    }
    let mut conn = core
        .db
        .reader()
        .acquire()
        .await
        .map_err(crate::store::StoreError::from)?;
    Ok(installations::history(&mut conn, tenant_id, id).await?)
}

/// The tenant's uploaded plugin versions, newest first.
pub async fn versions(
    core: &Core,
    tenant_id: &str,
    filter: &PluginFilter,
    page: &Page,
) -> Result<Paged<PluginVersion>, ServiceError> {
    Ok(versions::list(&core.db, tenant_id, filter, page).await?)
}

/// One uploaded plugin version of the tenant.
pub async fn version(
    core: &Core,
    tenant_id: &str,
    id: &str,
) -> Result<PluginVersion, ServiceError> {
    versions::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))
}

/// The tenant's installations, in run order.
pub async fn installations(
    core: &Core,
    tenant_id: &str,
    filter: &InstallationFilter,
    page: &Page,
) -> Result<Paged<Installation>, ServiceError> {
    Ok(installations::list(&core.db, tenant_id, filter, page).await?)
}

/// One installation of the tenant.
pub async fn installation(
    core: &Core,
    tenant_id: &str,
    id: &str,
) -> Result<Installation, ServiceError> {
    installations::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))
}
