//! The throwaway node `axle plugin test` runs fixtures in: a fresh embedded SQLite
//! database in a temporary directory (real migrations), the real HTTP API on a loopback
//! port for creating records with the API's own validation, and the plugin runtime the
//! caller passes (a metered one).

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::DevError;
use crate::db::Db;
use crate::domain::records::Role;
use crate::http::{AppState, Server};
use crate::runtime::Runtime;
use crate::service::Core;
use crate::service::registry::Registry;
use crate::service::reload::{self, ReloadState};
use crate::store::tenants;

/// A running throwaway node. Its database goes when it is dropped.
pub struct SandboxNode {
    pub core: Core,
    url: String,
    client: reqwest::Client,
    _server: Server,
    _dir: tempfile::TempDir,
}

/// A tenant of the sandbox with an admin key, and the local names of its records.
pub struct SandboxTenant {
    pub id: String,
    key: String,
    /// Local fixture names to real ids.
    pub ids: HashMap<String, String>,
}

impl SandboxNode {
    /// Starts a node on `runtime`.
    pub async fn start(runtime: Arc<Runtime>) -> Result<SandboxNode, DevError> {
        let dir = tempfile::tempdir().map_err(|err| {
            DevError::Sandbox(format!("cannot create a temporary directory: {err}"))
        })?;
        let db = Db::open_embedded(dir.path())
            .await
            .map_err(|err| DevError::Sandbox(err.to_string()))?;
        let registry = Arc::new(Registry::default());
        let reloads = reload::start(
            db.clone(),
            registry.clone(),
            None,
            Arc::new(ReloadState::default()),
        )
        .await
        .map_err(|err| DevError::Sandbox(err.to_string()))?;
        let core = Core {
            db,
            runtime,
            public_url: Arc::from("http://axle.localhost"),
            registry,
            reloads,
        };
        let state = AppState {
            core: core.clone(),
            // Nobody uses the platform API here; the key is random so nobody can.
            admin_token: Arc::from(uuid::Uuid::now_v7().simple().to_string()),
            metrics_token: None,
            limits: Default::default(),
        };
        let server = Server::start(state, "127.0.0.1:0")
            .await
            .map_err(|err| DevError::Sandbox(format!("cannot listen on a loopback port: {err}")))?;
        Ok(SandboxNode {
            core,
            url: format!("http://{}/api/v1", server.addr),
            client: crate::tls::client(),
            _server: server,
            _dir: dir,
        })
    }

    /// A fresh tenant with an admin key.
    pub async fn tenant(&self, slug: &str) -> Result<SandboxTenant, DevError> {
        let store_err = |err: crate::store::StoreError| DevError::Sandbox(err.to_string());
        let tenant = tenants::create(&self.core.db, slug, slug)
            .await
            .map_err(store_err)?;
        let (_, key) =
            tenants::create_key(&self.core.db, &tenant.id, "plugin test", Role::Admin, None)
                .await
                .map_err(store_err)?;
        Ok(SandboxTenant {
            id: tenant.id,
            key,
            ids: HashMap::new(),
        })
    }

    /// Creates a record with `POST <path>` as the tenant's admin. A body's `"id"` is a
    /// local name: it is taken out, the record's real id is remembered under it, and string
    /// `…_id` fields naming a local name get the real id. Returns the real id.
    pub async fn create(
        &self,
        tenant: &mut SandboxTenant,
        path: &str,
        body: &Value,
    ) -> Result<String, DevError> {
        let mut body = body.clone();
        let local = match body.as_object_mut() {
            Some(object) => object.remove("id"),
            None => {
                return Err(DevError::Usage(format!(
                    "a record for {path} must be a JSON object, not {body}"
                )));
            }
        };
        if let Some(object) = body.as_object_mut() {
            for (key, value) in object.iter_mut() {
                let real = value
                    .as_str()
                    .filter(|_| key.ends_with("_id"))
                    .and_then(|name| tenant.ids.get(name));
                if let Some(real) = real {
                    *value = Value::String(real.clone());
                }
            }
        }
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(&tenant.key)
            .json(&body)
            .send()
            .await
            .map_err(|err| DevError::Sandbox(format!("POST {path}: {err}")))?;
        let status = response.status();
        let reply: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            let message = super::publish::server_message(&reply);
            return Err(DevError::Usage(format!(
                "the fixture's {path} record {body} was refused ({status}): {message}"
            )));
        }
        let id = reply["id"]
            .as_str()
            .ok_or_else(|| {
                DevError::Sandbox(format!("POST {path} answered without an id: {reply}"))
            })?
            .to_owned();
        if let Some(Value::String(local)) = local {
            tenant.ids.insert(local, id.clone());
        }
        Ok(id)
    }
}
