//! `axle plugin publish` and `axle plugin install`: upload the built component to a
//! server, then install it in the API key's tenant or upgrade the installation there.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_util::TryStreamExt;
use serde_json::{Value, json};

use super::DevError;
use super::build::{self, Built};
use super::progress::Step;
use super::project::Project;
use crate::domain::plugin::Capability;
use crate::runtime::Runtime;
use crate::runtime::limits::PlatformLimits;

/// Components from this size up show upload progress.
const SHOW_PROGRESS_FROM: usize = 256 << 10;

/// Upload chunk size, so the progress counter moves.
const CHUNK: usize = 64 << 10;

/// The server and the key to talk to it with.
#[derive(Clone, Debug)]
pub struct Remote {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    server: String,
    key: String,
}

/// The server's `error.message` from a reply, with field details when it sent any.
pub fn server_message(reply: &Value) -> String {
    let error = &reply["error"];
    let Some(message) = error["message"].as_str() else {
        return reply.to_string();
    };
    let details: Vec<String> = error["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|detail| {
            Some(format!(
                "{}: {}",
                detail["field"].as_str()?,
                detail["message"].as_str()?
            ))
        })
        .collect();
    if details.is_empty() {
        message.to_owned()
    } else {
        format!("{message} ({})", details.join("; "))
    }
}

impl Remote {
    /// The server at `server` (an `https://` or `http://` base URL), reached with `key`.
    pub fn new(server: &str, key: &str) -> Result<Remote, DevError> {
        if !server.starts_with("https://") && !server.starts_with("http://") {
            return Err(DevError::Usage(format!(
                "--server {server}: give the server's base URL, e.g. https://axle.example.com \
                 or http://127.0.0.1:8080"
            )));
        }
        Ok(Remote {
            server: server.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        })
    }

    pub(super) fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.server.trim_end_matches('/'))
    }

    /// Sends `request` and returns the status and JSON reply, mapping the failures every
    /// call shares: the server cannot be reached, the key is refused or is not an admin's.
    pub(super) async fn send(
        &self,
        request: reqwest::RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Value), DevError> {
        let response = request.bearer_auth(&self.key).send().await.map_err(|err| {
            match crate::tls::handshake_error(&err) {
                Some(tls) => DevError::Server(format!(
                    "cannot reach the Axle server at {}: the TLS handshake failed: {tls}; a \
                     certificate of a private CA is trusted once the CA is in the system's \
                     store, or in the PEM file SSL_CERT_FILE names",
                    self.server
                )),
                None => DevError::Server(format!(
                    "cannot reach the Axle server at {}: {err}; check --server (or AXLE_SERVER) and that the server is running",
                    self.server
                )),
            }
        })?;
        let status = response.status();
        let reply: Value = response.json().await.unwrap_or(Value::Null);
        match status.as_u16() {
            401 => Err(DevError::Server(format!(
                "the server at {} refused the API key (401): {}; check --key (or AXLE_API_KEY)",
                self.server,
                server_message(&reply)
            ))),
            403 => Err(DevError::Server(format!(
                "the API key may not manage plugins (403): {}; use a tenant admin's key",
                server_message(&reply)
            ))),
            _ => Ok((status, reply)),
        }
    }
}

/// The component to publish: built again when it is missing or older than the sources,
/// and checked as the server will check it either way.
fn component(project: &mut Project) -> Result<Built, DevError> {
    let runtime = Runtime::new(PlatformLimits::default())
        .map_err(|err| DevError::Sandbox(format!("cannot start the plugin runtime: {err:#}")))?;
    let path = project.component_path()?;
    let fresh = std::fs::metadata(&path)
        .and_then(|meta| meta.modified())
        .is_ok_and(|built| built >= project.sources_modified());
    if fresh {
        build::check(project, &runtime, path)
    } else {
        eprintln!(
            "{} is missing or older than the sources; building it",
            path.display()
        );
        build::build(project, &runtime)
    }
}

/// Uploads the crate's component and plugin.toml; returns the uploaded version's JSON.
pub async fn publish(project: Project, remote: &Remote) -> Result<Value, DevError> {
    let (project, built) = tokio::task::spawn_blocking(move || {
        let mut project = project;
        let built = component(&mut project);
        built.map(|built| (project, built))
    })
    .await
    .map_err(|err| DevError::Sandbox(format!("the build task failed: {err}")))??;
    let label = project.manifest.label();
    let total = built.bytes.len();
    let sent = Arc::new(AtomicU64::new(0));
    let chunks: Vec<Result<bytes::Bytes, std::io::Error>> = built
        .bytes
        .chunks(CHUNK)
        .map(|chunk| Ok(bytes::Bytes::copy_from_slice(chunk)))
        .collect();
    let counter = sent.clone();
    let stream = futures_util::stream::iter(chunks).inspect_ok(move |chunk: &bytes::Bytes| {
        counter.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    });
    let component = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::wrap_stream(stream),
        total as u64,
    )
    .file_name(
        built
            .path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_else(|| "component.wasm".to_owned()),
    )
    .mime_str("application/wasm")
    .expect("a valid MIME type");
    let form = reqwest::multipart::Form::new()
        .text("manifest", project.manifest_text.clone())
        .part("component", component);
    let step = (total >= SHOW_PROGRESS_FROM).then(|| {
        Step::bytes(
            format!("Uploading {label} to {}", remote.server),
            sent.clone(),
            total as u64,
        )
    });
    let client = crate::tls::client();
    let result = remote
        .send(client.post(remote.url("/plugins")).multipart(form))
        .await;
    if let Some(step) = step {
        step.done(if result.is_ok() { "sent" } else { "failed" });
    }
    let (status, reply) = result?;
    match status.as_u16() {
        201 => {
            println!(
                "Published {label} (plugin version {})",
                reply["id"].as_str().unwrap_or("?")
            );
            Ok(reply)
        }
        200 => {
            println!("{label} was already published with these exact contents; nothing changed");
            Ok(reply)
        }
        409 => Err(DevError::Server(format!(
            "{label} is already published with other contents (409): versions are immutable; \
             bump `version` in plugin.toml and publish again. The server said: {}",
            server_message(&reply)
        ))),
        _ => Err(DevError::Server(format!(
            "the server rejected {label} ({status}): {}",
            server_message(&reply)
        ))),
    }
}

/// Installs the crate's published version in the key's tenant, or moves the tenant's
/// installation of the plugin to it.
pub async fn install(
    project: &Project,
    remote: &Remote,
    config: Option<Value>,
    grants: &[Capability],
) -> Result<(), DevError> {
    let manifest = &project.manifest;
    let (name, version, label) = (
        manifest.name.as_str(),
        manifest.version.to_string(),
        manifest.label(),
    );
    let client = crate::tls::client();
    let Some(existing) = installation_of(remote, name).await? else {
        let mut body = json!({ "plugin": name, "version": version, "capabilities": grants });
        if let Some(config) = config {
            body["config"] = config;
        }
        let (status, reply) = remote
            .send(client.post(remote.url("/installations")).json(&body))
            .await?;
        return match status.as_u16() {
            201 => {
                println!(
                    "Installed {label} (installation {})",
                    reply["id"].as_str().unwrap_or("?")
                );
                let missing: Vec<&str> = manifest
                    .capabilities
                    .iter()
                    .filter(|capability| {
                        !capability.always_granted() && !grants.contains(capability)
                    })
                    .map(|capability| capability.as_str())
                    .collect();
                if !missing.is_empty() {
                    println!(
                        "Not granted: {} (the plugin asks for them; pass --grant to grant them)",
                        missing.join(", ")
                    );
                }
                Ok(())
            }
            404 => Err(DevError::Server(format!(
                "{label} is not published on {}; run `axle plugin publish` first",
                remote.server
            ))),
            _ => Err(DevError::Server(format!(
                "the server refused to install {label} ({status}): {}",
                server_message(&reply)
            ))),
        };
    };
    let id = existing["id"].as_str().unwrap_or_default();
    if existing["version"] == version.as_str() {
        println!("Installation {id} already runs {label}; nothing changed");
        return Ok(());
    }
    let mut body = json!({ "version": version });
    if let Some(config) = config {
        body["config"] = config;
    }
    let (status, reply) = remote
        .send(
            client
                .post(remote.url(&format!("/installations/{id}/upgrade")))
                .json(&body),
        )
        .await?;
    match status.as_u16() {
        200 => {
            println!(
                "Upgraded installation {id} from {}@{} to {label}",
                name,
                existing["version"].as_str().unwrap_or("?")
            );
            Ok(())
        }
        202 => {
            let added = &reply["pending_upgrade"]["added_capabilities"];
            println!(
                "The upgrade of installation {id} to {label} waits for approval: it asks for \
                 capabilities the running version did not ({added}). A tenant admin approves it \
                 with POST /api/v1/installations/{id}/upgrade/approve; until then {}@{} keeps running.",
                name,
                existing["version"].as_str().unwrap_or("?")
            );
            Ok(())
        }
        _ => Err(DevError::Server(format!(
            "the server refused to upgrade installation {id} to {label} ({status}): {}",
            server_message(&reply)
        ))),
    }
}

/// The key's tenant's installation of the plugin `name`, if it has one.
pub(super) async fn installation_of(
    remote: &Remote,
    name: &str,
) -> Result<Option<Value>, DevError> {
    let (status, reply) = remote
        .send(
            // Plugin names are a-z, 0-9 and `-`: nothing to escape.
            crate::tls::client()
                .get(remote.url(&format!("/installations?plugin={name}&limit=100"))),
        )
        .await?;
    if !status.is_success() {
        return Err(DevError::Server(format!(
            "cannot list the tenant's installations ({status}): {}",
            server_message(&reply)
        )));
    }
    Ok(reply["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|installation| installation["plugin"] == name)
        .cloned())
}

/// Reads `--config`: JSON text, or `@file` holding JSON.
pub fn parse_config(raw: &str) -> Result<Value, DevError> {
    let (text, source) = match raw.strip_prefix('@') {
        Some(path) => (
            std::fs::read_to_string(path)
                .map_err(|err| DevError::io("cannot read", std::path::Path::new(path), err))?,
            path.to_owned(),
        ),
        None => (raw.to_owned(), "--config".to_owned()),
    };
    serde_json::from_str(&text)
        .map_err(|err| DevError::Usage(format!("{source} is not JSON: {err}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_messages_carry_field_details() {
        let reply = json!({"error": {"code": "unprocessable", "message": "config does not match",
            "details": [{"field": "config", "message": "\"team\" is a required property"}]}});
        assert_eq!(
            server_message(&reply),
            "config does not match (config: \"team\" is a required property)"
        );
        assert_eq!(server_message(&json!({"x": 1})), "{\"x\":1}");
    }

    #[test]
    fn servers_are_https_or_http_base_urls() {
        let remote = Remote::new("http://127.0.0.1:8080/", "k").unwrap();
        assert_eq!(
            remote.url("/plugins"),
            "http://127.0.0.1:8080/api/v1/plugins"
        );
        let tls = Remote::new("https://axle.example.com/", "k").unwrap();
        assert_eq!(
            tls.url("/plugins"),
            "https://axle.example.com/api/v1/plugins"
        );
        let bare = Remote::new("axle.example.com", "k").unwrap_err();
        assert!(bare.to_string().contains("http://127.0.0.1:8080"), "{bare}");
    }

    #[test]
    fn config_is_json_text_or_a_file() {
        assert_eq!(
            parse_config(r#"{"team": "a"}"#).unwrap(),
            json!({"team": "a"})
        );
        let temp = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(temp.path(), r#"{"team": "b"}"#).unwrap();
        let from_file = parse_config(&format!("@{}", temp.path().display())).unwrap();
        assert_eq!(from_file, json!({"team": "b"}));
        assert!(
            parse_config("{team")
                .unwrap_err()
                .to_string()
                .contains("not JSON")
        );
    }
}
