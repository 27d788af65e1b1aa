//! A plugin crate on disk: its plugin.toml, its package name, and where its built
//! component is.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use super::DevError;
use crate::runtime::manifest::Manifest;

/// The target plugins are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// A plugin crate.
#[derive(Debug)]
pub struct Project {
    pub dir: PathBuf,
    pub manifest_text: String,
    pub manifest: Manifest,
    /// The Cargo package name, e.g. `axle-plugin-vip-routing`.
    pub package: String,
}

impl Project {
    /// Reads the crate in `dir`: its Cargo.toml and plugin.toml, checked as the server
    /// checks plugin.toml.
    pub fn open(dir: &Path) -> Result<Project, DevError> {
        let cargo_path = dir.join("Cargo.toml");
        let cargo_text = std::fs::read_to_string(&cargo_path).map_err(|err| {
            DevError::Usage(format!(
                "{} is not a plugin crate: cannot read {} ({err}); run this in the crate or pass --path",
                dir.display(),
                cargo_path.display()
            ))
        })?;
        let cargo: toml::Table = toml::from_str(&cargo_text).map_err(|err| {
            DevError::Usage(format!(
                "{} is not valid: {}",
                cargo_path.display(),
                err.message()
            ))
        })?;
        let package = cargo
            .get("package")
            .and_then(|package| package.get("name"))
            .and_then(|name| name.as_str())
            .ok_or_else(|| {
                DevError::Usage(format!("{} has no [package] name", cargo_path.display()))
            })?
            .to_owned();
        let manifest_path = dir.join("plugin.toml");
        let manifest_text = std::fs::read_to_string(&manifest_path).map_err(|err| {
            DevError::Usage(format!(
                "cannot read {} ({err}); every plugin crate has a plugin.toml next to its Cargo.toml",
                manifest_path.display()
            ))
        })?;
        let manifest = Manifest::parse(&manifest_text)
            .map_err(|err| DevError::Rejected(format!("{}: {err}", manifest_path.display())))?;
        Ok(Project {
            dir: dir.to_owned(),
            manifest_text,
            manifest,
            package,
        })
    }

    /// The component's file name (`axle_plugin_vip_routing.wasm`).
    fn wasm_name(&self) -> String {
        format!("{}.wasm", self.package.replace('-', "_"))
    }

    /// Where `cargo build --release --target wasm32-wasip2` puts the component, asking
    /// cargo for the target directory (it honours CARGO_TARGET_DIR and .cargo/config.toml).
    pub fn component_path(&self) -> Result<PathBuf, DevError> {
        let output = Command::new(cargo())
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .current_dir(&self.dir)
            .output()
            .map_err(|err| {
                DevError::Cargo(format!("cannot run cargo ({err}); is Rust installed?"))
            })?;
        if !output.status.success() {
            return Err(DevError::Cargo(format!(
                "cargo metadata failed in {}: {}",
                self.dir.display(),
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|err| DevError::Cargo(format!("cargo metadata printed no JSON: {err}")))?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .ok_or_else(|| DevError::Cargo("cargo metadata names no target_directory".into()))?;
        Ok(Path::new(target_dir)
            .join(TARGET)
            .join("release")
            .join(self.wasm_name()))
    }

    /// The newest modification time of the crate's sources (src/, Cargo.toml, plugin.toml).
    pub fn sources_modified(&self) -> SystemTime {
        let mut newest = SystemTime::UNIX_EPOCH;
        let mut pending = vec![self.dir.join("src")];
        for file in ["Cargo.toml", "plugin.toml", "Cargo.lock"] {
            newest = newest.max(modified(&self.dir.join(file)));
        }
        while let Some(dir) = pending.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    pending.push(path);
                } else {
                    newest = newest.max(modified(&path));
                }
            }
        }
        newest
    }
}

fn modified(path: &Path) -> SystemTime {
    std::fs::metadata(path)
        .and_then(|meta| meta.modified())
        .unwrap_or(SystemTime::UNIX_EPOCH)
}

/// The cargo to run: the one that runs us when we run under cargo, else `cargo`.
pub fn cargo() -> std::ffi::OsString {
    std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into())
}
