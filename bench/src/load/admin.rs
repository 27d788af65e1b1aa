//! The few admin calls around the measurements: find a demo VIN, switch every plugin
//! installation off, and wait until the node runs what the database says.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::Result;

/// How long a node may take to pick up a plugin change (it polls every 200 ms without Redis).
const CONVERGE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long a node may take to finish the work a cell left behind.
pub const SETTLE_TIMEOUT: Duration = Duration::from_secs(30);
/// A ticket page read faster than this means the database pool is free again.
const IDLE_READ: Duration = Duration::from_millis(200);

/// The demo tenant's API, as its admin.
pub struct Admin<'a> {
    pub client: &'a reqwest::Client,
    pub url: &'a str,
    pub key: &'a str,
}

/// One plugin installation of the tenant.
pub struct Installation {
    pub id: String,
    pub plugin: String,
    pub status: String,
    /// Why it is not enabled, e.g. what tripped the circuit breaker.
    pub status_reason: Option<String>,
}

impl Admin<'_> {
    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value> {
        let mut request = self
            .client
            .request(method.clone(), format!("{}/api/v1{path}", self.url))
            .bearer_auth(self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply = request
            .send()
            .await
            .map_err(|err| format!("{method} {path}: {err}"))?;
        let status = reply.status();
        let text = reply
            .text()
            .await
            .map_err(|err| format!("{method} {path}: reading the reply: {err}"))?;
        if !status.is_success() {
            return Err(format!("{method} {path}: {status}: {text}"));
        }
        serde_json::from_str(&text).map_err(|err| format!("{method} {path}: {err} in {text}"))
    }

    /// The VIN of a seeded vehicle, so the brake complaint names a known car.
    pub async fn demo_vin(&self) -> Result<String> {
        let page = self
            .call(reqwest::Method::GET, "/vehicles?limit=1", None)
            .await?;
        page["items"][0]["vin"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the demo tenant has no vehicle: {page}"))
    }

    /// The id of a seeded customer, for the 360° view.
    pub async fn demo_customer(&self) -> Result<String> {
        let page = self
            .call(reqwest::Method::GET, "/customers?limit=1", None)
            .await?;
        page["items"][0]["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("the demo tenant has no customer: {page}"))
    }

    /// Every installation of the tenant (the demo has seven).
    pub async fn installations(&self) -> Result<Vec<Installation>> {
        let page = self
            .call(reqwest::Method::GET, "/installations?limit=200", None)
            .await?;
        let items = page["items"]
            .as_array()
            .ok_or_else(|| format!("GET /installations: no items in {page}"))?;
        Ok(items
            .iter()
            .map(|item| Installation {
                id: item["id"].as_str().unwrap_or_default().to_owned(),
                plugin: item["plugin"].as_str().unwrap_or_default().to_owned(),
                status: item["status"].as_str().unwrap_or_default().to_owned(),
                status_reason: item["status_reason"].as_str().map(str::to_owned),
            })
            .collect())
    }

    pub async fn set_enabled(&self, id: &str, enabled: bool) -> Result {
        self.call(
            reqwest::Method::PATCH,
            &format!("/installations/{id}"),
            Some(json!({ "enabled": enabled })),
        )
        .await
        .map(drop)
    }

    /// Waits until the node's plugin snapshot holds `expected` installations: a change
    /// reaches the request path only when the reload listener has rebuilt the snapshot.
    pub async fn converge(&self, expected: usize) -> Result {
        let deadline = Instant::now() + CONVERGE_TIMEOUT;
        loop {
            let snapshot = self
                .call(reqwest::Method::GET, "/plugin-snapshot", None)
                .await?;
            let running = snapshot["installations"].as_array().map_or(0, Vec::len);
            if running == expected {
                return Ok(());
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "the node runs {running} installations {}s after the change, not {expected}",
                    CONVERGE_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Waits until a ticket page reads quickly. Work a cell leaves behind (workflow steps
    /// after commit, requests stuck on the database) would otherwise slow the next cell.
    /// Returns false when the node stays busy.
    pub async fn settle(&self) -> bool {
        let deadline = Instant::now() + SETTLE_TIMEOUT;
        while Instant::now() < deadline {
            let started = Instant::now();
            // An error here (a pool timeout, say) only means the node is still busy.
            let read = self
                .call(reqwest::Method::GET, "/tickets?limit=1", None)
                .await;
            if read.is_ok() && started.elapsed() < IDLE_READ {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }
}
