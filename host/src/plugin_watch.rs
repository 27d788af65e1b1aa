//! Dev mode (`axle serve --watch-plugins DIR`): watches the plugin sources and their built
//! components, and makes each rebuild live in one tenant within a second.
//!
//! Versions are immutable, so a rebuild is uploaded as a dev version of its manifest's
//! version (`0.1.0-dev.<unix ms>`, a semver pre-release that sorts after the earlier
//! ones) and the tenant's installations of the plugin are upgraded to it. Polling keeps
//! this dependency-free and behaves the same on every file system; at one `stat` pair per
//! plugin every 200 ms it costs nothing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use crate::domain::ids::{now_ms, sha256_hex};
use crate::domain::installations::{Installation, InstallationFilter};
use crate::domain::page::Page;
use crate::domain::plugin::Capability;
use crate::runtime::manifest::{self, Manifest};
use crate::seed;
use crate::service::access::Access;
use crate::service::plugins::{self, InstallRequest, Upgraded, VersionRequest};
use crate::service::{Core, ServiceError};
use crate::store::{StoreError, installations, plugins as versions};

/// How often the background loop looks at the files.
pub const POLL_EVERY: Duration = Duration::from_millis(200);

/// What one scan did about one plugin.
#[derive(Clone, Debug, PartialEq)]
pub enum Reload {
    /// The rebuild is live: every installation of it in the tenant runs `version`.
    Live {
        plugin: String,
        version: String,
        /// The installations now running it (one was created if there was none).
        installations: Vec<String>,
        /// Capabilities the rebuild added that dev mode granted without asking.
        approved: Vec<Capability>,
        took: Duration,
    },
    /// Uploaded, but nothing runs it: the plugin is not installed in the tenant and its
    /// config schema does not accept an empty config.
    NotInstalled {
        plugin: String,
        version: String,
        reason: String,
    },
    /// The rebuild was rejected; the previous version keeps running.
    Rejected { plugin: String, error: String },
}

impl Reload {
    /// The plugin (or, when its manifest cannot be read, its directory) this is about.
    pub fn plugin(&self) -> &str {
        match self {
            Reload::Live { plugin, .. }
            | Reload::NotInstalled { plugin, .. }
            | Reload::Rejected { plugin, .. } => plugin,
        }
    }

    /// Logs one line for the developer watching the console.
    pub fn log(&self) {
        match self {
            Reload::Live {
                plugin,
                version,
                installations,
                approved,
                took,
            } => {
                if !approved.is_empty() {
                    tracing::warn!(
                        "dev mode granted {plugin} {version} the capabilities it added ({}) without an admin's approval",
                        list(approved)
                    );
                }
                tracing::info!(
                    installations = installations.len(),
                    "reloaded {plugin} {version} in {} ms",
                    took.as_millis()
                );
            }
            Reload::NotInstalled {
                plugin,
                version,
                reason,
            } => tracing::warn!("uploaded {plugin} {version} but did not install it: {reason}"),
            Reload::Rejected { plugin, error } => tracing::error!(
                "rejected the new build of {plugin}; the previous version keeps running: {error}"
            ),
        }
    }
}

fn list(capabilities: &[Capability]) -> String {
    capabilities
        .iter()
        .map(|c| c.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Size and modification time of a file; `None` when it is missing.
type FileStamp = Option<(u64, SystemTime)>;

fn stamp(path: &Path) -> FileStamp {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.len(), meta.modified().ok()?))
}

/// What the watcher knows about one plugin directory.
#[derive(Default)]
struct Watched {
    /// The stamps (manifest, component) seen by the previous poll.
    seen: Option<(FileStamp, FileStamp)>,
    /// The stamps whose content was last looked at.
    settled: Option<(FileStamp, FileStamp)>,
    /// The hash of the manifest and component last handled, whether it went live or not:
    /// a rejected build is retried only when it changes again.
    handled: Option<String>,
}

/// Watches `plugins_dir` (one directory per plugin with its `plugin.toml`) and the
/// components built into `wasm_dir`, reloading changes into one tenant.
pub struct PluginWatch {
    core: Core,
    tenant_id: String,
    plugins_dir: PathBuf,
    wasm_dir: PathBuf,
    watched: HashMap<PathBuf, Watched>,
    dev_versions: DevVersions,
}

impl PluginWatch {
    /// A watcher that has seen nothing yet.
    pub fn new(core: Core, tenant_id: &str, plugins_dir: &Path, wasm_dir: &Path) -> PluginWatch {
        PluginWatch {
            core,
            tenant_id: tenant_id.to_owned(),
            plugins_dir: plugins_dir.to_owned(),
            wasm_dir: wasm_dir.to_owned(),
            watched: HashMap::new(),
            dev_versions: DevVersions::default(),
        }
    }

    /// Looks at every plugin once and reloads those whose build changed and has stayed the
    /// same size and age since the previous scan (a build still writing is left alone).
    pub async fn scan_once(&mut self) -> Vec<Reload> {
        let dirs = match seed::plugin_dirs(&self.plugins_dir) {
            Ok(dirs) => dirs,
            Err(err) => {
                tracing::warn!("dev mode cannot read its plugins: {err:#}");
                return Vec::new();
            }
        };
        let mut reloads = Vec::new();
        for dir in dirs {
            if let Some(reload) = self.look_at(&dir).await {
                reloads.push(reload);
            }
        }
        reloads
    }

    /// Polls every [`POLL_EVERY`] and logs each reload, until the task is dropped.
    pub async fn run(mut self) {
        loop {
            for reload in self.scan_once().await {
                reload.log();
            }
            tokio::time::sleep(POLL_EVERY).await;
        }
    }

    async fn look_at(&mut self, dir: &Path) -> Option<Reload> {
        let manifest_path = dir.join("plugin.toml");
        let manifest_text = std::fs::read_to_string(&manifest_path).ok()?;
        let parsed = Manifest::parse(&manifest_text);
        let component_path = parsed
            .as_ref()
            .ok()
            .map(|manifest| seed::component_file(&self.wasm_dir, &manifest.name));
        let stamps = (
            stamp(&manifest_path),
            component_path.as_deref().and_then(stamp),
        );
        let watched = self.watched.entry(dir.to_owned()).or_default();
        let stable = watched.seen == Some(stamps);
        watched.seen = Some(stamps);
        if !stable || watched.settled == Some(stamps) {
            return None;
        }
        watched.settled = Some(stamps);
        let bytes = match &component_path {
            Some(path) => std::fs::read(path).ok()?,
            None => Vec::new(),
        };
        let fingerprint = sha256_hex(&[manifest_text.as_bytes(), b"\0", &bytes].concat());
        let first_look = watched.handled.is_none();
        if watched.handled.as_deref() == Some(fingerprint.as_str()) {
            return None;
        }
        watched.handled = Some(fingerprint);
        let manifest = match parsed {
            Ok(manifest) => manifest,
            Err(err) => {
                return Some(Reload::Rejected {
                    plugin: dir.display().to_string(),
                    error: format!("{}: {err}", manifest_path.display()),
                });
            }
        };
        if first_look && self.already_running(&manifest, &bytes).await {
            return None;
        }
        let started = Instant::now();
        Some(match self.reload(&manifest, &manifest_text, bytes).await {
            Ok(Outcome::Live {
                version,
                installations,
                approved,
            }) => Reload::Live {
                plugin: manifest.name,
                version,
                installations,
                approved,
                took: started.elapsed(),
            },
            Ok(Outcome::NotInstalled { version, reason }) => Reload::NotInstalled {
                plugin: manifest.name,
                version,
                reason,
            },
            Err(err) => Reload::Rejected {
                plugin: manifest.name,
                error: err.to_string(),
            },
        })
    }

    /// Whether every installation of the plugin already runs exactly this build, so that
    /// starting the watcher does not reload what is live.
    async fn already_running(&self, manifest: &Manifest, bytes: &[u8]) -> bool {
        let Ok(installed) = self.installations(&manifest.name).await else {
            return false;
        };
        if installed.is_empty() {
            return false;
        }
        let sha256 = sha256_hex(bytes);
        for installation in installed {
            let running = versions::get(
                &self.core.db,
                &self.tenant_id,
                &installation.plugin_version_id,
            )
            .await;
            let same = matches!(running, Ok(Some(version))
                if version.sha256 == sha256
                    && version.world == manifest.world
                    && version.capabilities == manifest.capabilities
                    && version.limits == manifest.limits
                    && version.config_schema == manifest.config_schema);
            if !same {
                return false;
            }
        }
        true
    }

    async fn installations(&self, plugin: &str) -> Result<Vec<Installation>, StoreError> {
        let filter = InstallationFilter {
            plugin: Some(plugin.to_owned()),
            ..Default::default()
        };
        let page = Page {
            limit: 100,
            cursor: None,
        };
        Ok(
            installations::list(&self.core.db, &self.tenant_id, &filter, &page)
                .await?
                .items,
        )
    }

    async fn reload(
        &mut self,
        manifest: &Manifest,
        manifest_text: &str,
        bytes: Vec<u8>,
    ) -> Result<Outcome, ServiceError> {
        let version = self.dev_versions.next(&manifest.version).to_string();
        let dev_manifest = with_version(manifest_text, &version)?;
        plugins::upload(&self.core, &self.tenant_id, &dev_manifest, bytes).await?;
        let installed = self.installations(&manifest.name).await?;
        if installed.is_empty() {
            return self.install(manifest, version).await;
        }
        let mut ids = Vec::new();
        let mut approved = Vec::new();
        for installation in installed {
            let request = VersionRequest {
                version: Some(version.clone()),
                config: None,
            };
            match plugins::upgrade(&self.core, &self.tenant_id, &installation.id, request).await? {
                Upgraded::Applied(_) => {}
                Upgraded::Pending(parked) => {
                    if let Some(pending) = &parked.pending_upgrade {
                        approved.extend(pending.added_capabilities.iter().copied());
                    }
                    plugins::approve_upgrade(&self.core, &self.tenant_id, &parked.id, None).await?;
                }
            }
            ids.push(installation.id);
        }
        approved.sort();
        approved.dedup();
        Ok(Outcome::Live {
            version,
            installations: ids,
            approved,
        })
    }

    /// Installs a plugin the tenant does not have yet, with an empty config and every
    /// capability it asks for, when its config schema accepts an empty config.
    async fn install(&self, manifest: &Manifest, version: String) -> Result<Outcome, ServiceError> {
        let empty = serde_json::json!({});
        if let Err(problems) = manifest::check_config(manifest.config_schema.as_ref(), &empty) {
            return Ok(Outcome::NotInstalled {
                reason: format!(
                    "it is not installed in this tenant and its config schema needs a config ({problems}); \
                     install it once (POST /api/v1/installations with its config) and the next rebuild upgrades it"
                ),
                version,
            });
        }
        let request = InstallRequest {
            plugin: manifest.name.clone(),
            version: Some(version.clone()),
            config: Some(empty),
            capabilities: manifest.capabilities.clone(),
            ..Default::default()
        };
        let installation =
            plugins::install(&self.core, Access::tenant(&self.tenant_id), request).await?;
        Ok(Outcome::Live {
            version,
            installations: vec![installation.id],
            approved: manifest
                .capabilities
                .iter()
                .filter(|capability| !capability.always_granted())
                .copied()
                .collect(),
        })
    }
}

/// Hands out dev versions: `<base>-dev.<unix ms>`, each later than the one before.
#[derive(Default)]
struct DevVersions {
    last: i64,
}

impl DevVersions {
    fn next(&mut self, base: &semver::Version) -> semver::Version {
        self.last = now_ms().max(self.last + 1);
        let mut version = base.clone();
        let pre = if base.pre.is_empty() {
            format!("dev.{}", self.last)
        } else {
            format!("{}.dev.{}", base.pre, self.last)
        };
        version.pre = semver::Prerelease::new(&pre).expect("a valid pre-release");
        version
    }
}

enum Outcome {
    Live {
        version: String,
        installations: Vec<String>,
        approved: Vec<Capability>,
    },
    NotInstalled {
        version: String,
        reason: String,
    },
}

/// `manifest_text` with its top-level `version` replaced.
fn with_version(manifest_text: &str, version: &str) -> Result<String, ServiceError> {
    let mut table: toml::Table = toml::from_str(manifest_text)
        .map_err(|err| ServiceError::Invalid(format!("plugin.toml is not valid: {err}")))?;
    table.insert(
        "version".to_owned(),
        toml::Value::String(version.to_owned()),
    );
    toml::to_string(&table)
        .map_err(|err| ServiceError::Internal(format!("rewriting plugin.toml: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dev_manifest_keeps_everything_but_the_version() {
        let text = "name = \"vip-routing\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n\
                    capabilities = [\"records\"]\n[config_schema]\ntype = \"object\"\n\
                    [config_schema.properties.team]\ntype = \"string\"\n";
        let dev = Manifest::parse(&with_version(text, "0.1.0-dev.17").unwrap()).unwrap();
        let mut original = Manifest::parse(text).unwrap();
        assert_eq!(dev.version.to_string(), "0.1.0-dev.17");
        original.version = dev.version.clone();
        assert_eq!(dev, original);
    }

    #[test]
    fn dev_versions_increase_and_are_pre_releases_of_their_base() {
        let base = semver::Version::new(0, 1, 0);
        let earlier = semver::Version::parse("0.1.0-alpha").unwrap();
        let mut stamps = DevVersions::default();
        let first = stamps.next(&base);
        let second = stamps.next(&base);
        assert!(first < second, "{first} < {second}");
        assert!(first < base, "a pre-release sorts before its release");
        assert!(
            stamps
                .next(&earlier)
                .to_string()
                .starts_with("0.1.0-alpha.dev.")
        );
    }
}
