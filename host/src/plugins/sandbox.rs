//! The state one invocation's `Store` carries: who is calling (tenant, installation,
//! grants, config), the per-call budgets, and what the capabilities collected.
//!
//! Host functions read the tenant and installation from here, never from an argument,
//! so a plugin can only ever reach its own tenant's data.

use std::collections::BTreeSet;
use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::types;
use super::limits::Limits;
use super::manifest::Capability;
use crate::db::Db;
use crate::domain::Notification;

/// Who an invocation runs for. Built once per installation load and shared by its calls.
#[derive(Debug)]
pub struct CallContext {
    pub tenant_id: String,
    pub installation_id: String,
    /// `name@version`.
    pub plugin: String,
    pub grants: BTreeSet<Capability>,
    /// The installation config, as JSON text and parsed.
    pub config_json: String,
    pub config: serde_json::Value,
    pub limits: Limits,
}

impl CallContext {
    /// The context of calls on behalf of `installation_id` as `plugin` (`name@version`).
    pub fn new(
        tenant_id: &str,
        installation_id: String,
        plugin: String,
        grants: impl IntoIterator<Item = Capability>,
        config: serde_json::Value,
        limits: Limits,
    ) -> CallContext {
        CallContext {
            tenant_id: tenant_id.to_owned(),
            installation_id,
            plugin,
            grants: grants.into_iter().collect(),
            config_json: config.to_string(),
            config,
            limits,
        }
    }

    /// The `denied` error when `capability` was not granted, else `None`.
    pub fn check_grant(&self, capability: Capability) -> Option<types::Error> {
        if capability.always_granted() || self.grants.contains(&capability) {
            return None;
        }
        Some(types::Error::Denied(format!(
            "capability `{}` was not granted to installation {} of {}; a tenant admin can grant it with PATCH /api/v1/installations/{}",
            capability.as_str(),
            self.installation_id,
            self.plugin,
            self.installation_id
        )))
    }
}

/// What host functions need to reach the tenant's data: the database, a runtime handle
/// to block on from the invocation's blocking thread, and the node's public URL for links.
#[derive(Clone, Debug)]
pub struct HostAccess {
    pub db: Db,
    pub runtime: tokio::runtime::Handle,
    pub public_url: Arc<str>,
}

impl HostAccess {
    /// Runs `future` to completion from the (blocking) invocation thread.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Caps linear memory and remembers whether the cap was hit, so the failure is reported
/// as a memory limit rather than as whatever trap the guest's allocator raises next.
#[derive(Debug)]
pub struct MemoryCap {
    pub max_bytes: usize,
    pub hit: bool,
    /// The largest size any linear memory was allowed to grow to, for `axle plugin test`.
    pub peak_bytes: usize,
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Err(wasmtime::Error::msg(format!(
                "linear memory limit of {} MiB reached",
                self.max_bytes >> 20
            )));
        }
        self.peak_bytes = self.peak_bytes.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// The log budget of one invocation.
#[derive(Debug)]
pub struct LogBudget {
    pub remaining: usize,
    pub dropped: u32,
}

/// The store data of one invocation.
pub struct Sandbox {
    wasi: WasiCtx,
    table: ResourceTable,
    pub memory: MemoryCap,
    pub call: Arc<CallContext>,
    pub log: LogBudget,
    /// Notifications queued through `notify.send`, written to the outbox by the caller.
    pub notifications: Vec<Notification>,
    pub host: Option<HostAccess>,
    /// Set once the instance exists; failures before that are the host's.
    pub instantiated: bool,
}

impl Sandbox {
    /// Fresh state for one call. WASI gets nothing: no files, no env, no network, and
    /// stdio goes nowhere.
    pub fn new(call: Arc<CallContext>, host: Option<HostAccess>) -> Sandbox {
        let limits = call.limits;
        Sandbox {
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            memory: MemoryCap {
                max_bytes: limits.memory_bytes(),
                hit: false,
                peak_bytes: 0,
            },
            log: LogBudget {
                remaining: limits.log_bytes(),
                dropped: 0,
            },
            call,
            notifications: Vec::new(),
            host,
            instantiated: false,
        }
    }
}

impl WasiView for Sandbox {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}
