//! Uploading plugin versions and installing them in a tenant.

use std::collections::BTreeSet;
use std::sync::Arc;

use super::{Core, ServiceError};
use crate::plugins::limits::RequestedLimits;
use crate::plugins::manifest::{self, Capability, Manifest, WIT_VERSION};
use crate::plugins::runtime::{Loaded, sha256_hex};
use crate::plugins::sandbox::CallContext;
use crate::store::installations::{self, Installation, InstallationPatch, NewInstallation};
use crate::store::plugins::{self as versions, PluginVersion, Stored};

/// The largest component accepted.
pub const MAX_COMPONENT_BYTES: usize = 64 << 20;

/// Validates and stores an uploaded plugin version. Returns the version and whether it
/// was new. Nothing is stored unless every check passes.
pub async fn upload(
    core: &Core,
    tenant_id: &str,
    manifest_text: &str,
    bytes: Vec<u8>,
) -> Result<(PluginVersion, bool), ServiceError> {
    let manifest =
        Manifest::parse(manifest_text).map_err(|err| ServiceError::Invalid(err.to_string()))?;
    core.runtime
        .platform
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
    let runtime = core.runtime.clone();
    let world = manifest.world;
    let (loaded, bytes) = tokio::task::spawn_blocking(move || {
        let loaded = runtime.load(&bytes, world);
        (loaded, bytes)
    })
    .await
    .map_err(|err| ServiceError::Internal(format!("component compilation task failed: {err}")))?;
    let loaded = loaded?;
    for capability in &loaded.imports {
        if !capability.always_granted() && !manifest.capabilities.contains(capability) {
            return Err(
                crate::plugins::runtime::ComponentError::UndeclaredCapability(capability.as_str())
                    .into(),
            );
        }
    }
    let sha256 = sha256_hex(&bytes);
    match versions::insert(
        &core.db,
        tenant_id,
        &manifest,
        manifest_text,
        WIT_VERSION,
        &bytes,
        &sha256,
    )
    .await?
    {
        Stored::Created(version) => Ok((version, true)),
        Stored::AlreadyThere(version) => Ok((version, false)),
    }
}

/// What an admin asks for when installing.
#[derive(Clone, Debug, Default, serde::Deserialize)]
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

fn check_config(version: &PluginVersion, config: &serde_json::Value) -> Result<(), ServiceError> {
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

/// Installs a plugin version in the tenant.
pub async fn install(
    core: &Core,
    tenant_id: &str,
    request: InstallRequest,
) -> Result<Installation, ServiceError> {
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
    let installation = installations::insert(
        &core.db,
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
        },
    )
    .await?;
    Ok(installation)
}

/// What an admin may change on an installation.
#[derive(Clone, Debug, Default, serde::Deserialize)]
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
}

/// Changes an installation.
pub async fn change(
    core: &Core,
    tenant_id: &str,
    id: &str,
    change: InstallationChange,
) -> Result<Installation, ServiceError> {
    let current = installations::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))?;
    let version = versions::get(&core.db, tenant_id, &current.plugin_version_id)
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
    }
    let patch = InstallationPatch {
        config: change.config,
        capabilities,
        limits: change.limits,
        run_order: change.run_order,
        enabled: change.enabled,
    };
    Ok(installations::update(&core.db, tenant_id, &current, patch).await?)
}

/// An installation ready to invoke: its compiled component and call context.
pub struct Ready {
    pub installation: Installation,
    pub loaded: Arc<Loaded>,
    pub call: Arc<CallContext>,
}

/// Loads an installation's component (from the runtime cache, else from storage,
/// compiling off the async runtime) and builds its call context.
pub async fn ready(
    core: &Core,
    tenant_id: &str,
    installation: Installation,
) -> Result<Ready, ServiceError> {
    let version = versions::get(&core.db, tenant_id, &installation.plugin_version_id)
        .await?
        .ok_or(ServiceError::NotFound("plugin version"))?;
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
    let limits = core
        .runtime
        .platform
        .resolve(&version.limits, &installation.limits);
    let call = Arc::new(CallContext {
        tenant_id: tenant_id.to_owned(),
        installation_id: installation.id.clone(),
        plugin: installation.label(),
        grants: installation.capabilities.iter().copied().collect(),
        config_json: installation.config.to_string(),
        config: installation.config.clone(),
        limits,
    });
    Ok(Ready {
        installation,
        loaded,
        call,
    })
}

/// Every enabled installation of `world` in the tenant, ready to invoke, in run order.
/// One that cannot be loaded is skipped with a warning: the ticket flow goes on.
pub async fn ready_for(
    core: &Core,
    tenant_id: &str,
    world: manifest::World,
) -> Result<Vec<Ready>, ServiceError> {
    let mut ready_list = Vec::new();
    for installation in installations::enabled(&core.db, tenant_id, world).await? {
        let label = installation.label();
        match ready(core, tenant_id, installation).await {
            Ok(ready) => ready_list.push(ready),
            Err(err) => {
                tracing::warn!(plugin = %label, error = %err, "skipping installation that cannot be loaded")
            }
        }
    }
    Ok(ready_list)
}
