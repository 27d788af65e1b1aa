//! `axle plugin build`: writes plugin.toml's `[config_schema]` from the config struct,
//! builds the crate for wasm32-wasip2 and checks the component with the server's own
//! upload checks, so what builds here uploads there.

use std::io::BufRead;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use super::DevError;
use super::progress::{Step, size};
use super::project::{Project, TARGET, cargo};
use crate::domain::ids::sha256_hex;
use crate::runtime::Runtime;
use crate::service::plugins::check_upload;

/// A built and checked component.
#[derive(Debug)]
pub struct Built {
    pub path: PathBuf,
    pub bytes: Vec<u8>,
    pub sha256: String,
}

impl Built {
    /// Prints where the component is, its size and digest.
    pub fn print(&self) {
        println!("component  {}", self.path.display());
        println!(
            "size       {} ({} bytes)",
            size(self.bytes.len() as u64),
            self.bytes.len()
        );
        println!("sha256     {}", self.sha256);
    }
}

/// Runs `cargo build --release --target wasm32-wasip2` in the crate, streaming cargo's
/// own output, and returns the component it produced.
pub fn compile(project: &Project) -> Result<PathBuf, DevError> {
    eprintln!(
        "Building {} ({}) for {TARGET}",
        project.manifest.label(),
        project.dir.display()
    );
    let mut child = Command::new(cargo())
        .args(["build", "--release", "--target", TARGET])
        .args(["--message-format", "json-render-diagnostics"])
        .current_dir(&project.dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|err| DevError::Cargo(format!("cannot run cargo ({err}); is Rust installed?")))?;
    let mut component = None;
    let stdout = child.stdout.take().expect("piped stdout");
    for line in std::io::BufReader::new(stdout).lines() {
        let Ok(line) = line else { break };
        let Ok(message) = serde_json::from_str::<serde_json::Value>(&line) else {
            // Build scripts may print plain text to stdout; pass it on.
            println!("{line}");
            continue;
        };
        if message["reason"] == "compiler-artifact"
            // The lib target is the package name with `-` as `_`.
            && message["target"]["name"].as_str().map(|n| n.replace('-', "_"))
                == Some(project.package.replace('-', "_"))
        {
            let wasm = message["filenames"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|name| name.as_str())
                .find(|name| name.ends_with(".wasm"));
            if let Some(wasm) = wasm {
                component = Some(PathBuf::from(wasm));
            }
        }
    }
    let status = child
        .wait()
        .map_err(|err| DevError::Cargo(format!("waiting for cargo: {err}")))?;
    if !status.success() {
        return Err(DevError::Cargo(format!(
            "cargo build failed ({status}); fix the errors above. If it says the target is \
             missing, run `rustup target add {TARGET}`"
        )));
    }
    component.ok_or_else(|| {
        DevError::Cargo(format!(
            "cargo built no .wasm for {}; its Cargo.toml needs `[lib] crate-type = [\"cdylib\"]`",
            project.package
        ))
    })
}

/// Reads the component at `path` and runs the server's upload checks on it with
/// `runtime`: plugin.toml, limits, size, compile, imports against the declared
/// capabilities and the world's exports.
pub fn check(project: &Project, runtime: &Runtime, path: PathBuf) -> Result<Built, DevError> {
    let bytes = std::fs::read(&path).map_err(|err| DevError::io("cannot read", &path, err))?;
    let step = Step::start(format!(
        "Checking the component as the server does ({} world)",
        project.manifest.world.as_str()
    ));
    match check_upload(runtime, &project.manifest_text, &bytes) {
        Ok(_) => step.done("passed"),
        Err(err) => {
            step.done("failed");
            return Err(DevError::Rejected(err.to_string()));
        }
    }
    let sha256 = sha256_hex(&bytes);
    Ok(Built {
        path,
        bytes,
        sha256,
    })
}

/// Writes plugin.toml's `[config_schema]` from the config struct, then builds and checks
/// the crate.
pub fn build(project: &mut Project, runtime: &Runtime) -> Result<Built, DevError> {
    super::config_schema::write_derived(project)?;
    let path = compile(project)?;
    check(project, runtime, path)
}
