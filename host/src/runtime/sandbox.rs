//! The state one invocation's `Store` carries: who is calling (tenant, installation,
//! grants, config), the per-call budgets, and what the capabilities collected.
//!
//! Host functions read the tenant and installation from here, never from an argument,
//! so a plugin can only ever reach its own tenant's data.

use std::collections::BTreeSet;
use std::sync::Arc;

use futures_util::future::BoxFuture;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::limits::Limits;
use super::wit::types;
use crate::db::Db;
use crate::domain::knowledge_base::Hit;
use crate::domain::plugin::Capability;
use crate::domain::records::Notification;

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
    /// For an installation scoped to a site's subtree, that site's path: `records` and
    /// `directory` answer only with what lies inside it. `None` for a tenant-wide one.
    pub within: Option<String>,
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
            within: None,
        }
    }

    /// The same context, limited to the subtree at `within` (when `Some`).
    pub fn within(mut self, within: Option<String>) -> CallContext {
        self.within = within;
        self
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
/// to block on from the invocation's blocking thread, and the backend for the answers
/// that are more than a lookup.
#[derive(Clone, Debug)]
pub struct HostAccess {
    pub db: Db,
    pub runtime: tokio::runtime::Handle,
    pub backend: Arc<dyn CapabilityBackend>,
}

/// What capabilities ask of the layer above the runtime: answers that take the service's
/// rules, not only a row. The service implements it and hands it in with `HostAccess`, so
/// the runtime calls up without importing the service, and the dependency keeps pointing
/// one way (service → runtime).
pub trait CapabilityBackend: Send + Sync + std::fmt::Debug {
    /// Published knowledge-base articles of the tenant that match `query`, best first, as
    /// a customer answered without an agent is shown them.
    fn search_articles<'a>(
        &'a self,
        tenant_id: &'a str,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Hit>, BackendError>>;
}

/// Why the backend could not answer.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// The plugin asked for something that cannot be answered, e.g. a query with no words.
    #[error("{0}")]
    Invalid(String),
    /// The data could not be reached.
    #[error("{0}")]
    Unavailable(String),
}

impl HostAccess {
    /// Runs `future` to completion from the (blocking) invocation thread.
    pub fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}

/// Caps the linear memory of the whole instance, summed over all its memories (a
/// component may hold several core modules, each with its own), and remembers whether the
/// cap was hit, so the failure is reported as a memory limit rather than as whatever trap
/// the guest's allocator raises next.
#[derive(Debug)]
pub struct MemoryCap {
    pub max_bytes: usize,
    pub hit: bool,
    /// The bytes of every linear memory of the instance together.
    pub total_bytes: usize,
    /// The largest `total_bytes` reached, for `axle plugin test`.
    pub peak_bytes: usize,
}

impl MemoryCap {
    pub fn new(max_bytes: usize) -> MemoryCap {
        MemoryCap {
            max_bytes,
            hit: false,
            total_bytes: 0,
            peak_bytes: 0,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let total = self
            .total_bytes
            .saturating_sub(current)
            .saturating_add(desired);
        if total > self.max_bytes {
            self.hit = true;
            return Err(wasmtime::Error::msg(format!(
                "memory limit of {} MiB reached (all linear memories of the instance together)",
                self.max_bytes >> 20
            )));
        }
        self.total_bytes = total;
        self.peak_bytes = self.peak_bytes.max(total);
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

/// The log budget of one invocation: bytes, each line charged at least
/// [`LOG_LINE_MIN_BYTES`], and a number of lines.
#[derive(Debug)]
pub struct LogBudget {
    pub remaining: usize,
    pub lines_left: u32,
    pub dropped: u32,
}

/// What a log line costs at least, however short: an empty line still costs a host call,
/// a tracing event and a line in the node's log.
pub const LOG_LINE_MIN_BYTES: usize = 64;

/// The most lines one invocation may log.
pub const LOG_LINES_PER_CALL: u32 = 200;

/// The most host resources (pollables, streams) one instance may hold at once.
pub const MAX_RESOURCES: usize = 1_000;

impl LogBudget {
    /// A full budget of `bytes`.
    pub fn new(bytes: usize) -> LogBudget {
        LogBudget {
            remaining: bytes,
            lines_left: LOG_LINES_PER_CALL,
            dropped: 0,
        }
    }

    /// Charges a line of `len` bytes; `false` (and counted as dropped) when the budget
    /// cannot pay for it.
    pub fn charge(&mut self, len: usize) -> bool {
        let cost = len.max(LOG_LINE_MIN_BYTES);
        if self.lines_left == 0 || cost > self.remaining {
            self.remaining = 0;
            self.lines_left = 0;
            self.dropped = self.dropped.saturating_add(1);
            return false;
        }
        self.remaining -= cost;
        self.lines_left -= 1;
        true
    }
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
    /// Where the guest's monotonic clock starts.
    clock_start: std::time::Instant,
    /// When the current call's time is up: WASI sleeps end there at the latest.
    pub deadline: std::time::Instant,
}

impl Sandbox {
    /// Fresh state for one call. WASI gets nothing: no files, no env, no network, and
    /// stdio goes nowhere.
    pub fn new(call: Arc<CallContext>, host: Option<HostAccess>) -> Sandbox {
        let limits = call.limits;
        let mut table = ResourceTable::new();
        table.set_max_capacity(MAX_RESOURCES);
        let now = std::time::Instant::now();
        Sandbox {
            wasi: WasiCtx::builder().build(),
            table,
            memory: MemoryCap::new(limits.memory_bytes()),
            log: LogBudget::new(limits.log_bytes()),
            call,
            notifications: Vec::new(),
            host,
            instantiated: false,
            clock_start: now,
            deadline: now + limits.deadline(),
        }
    }

    /// The host resources of the instance, for the WASI functions the sandbox wraps.
    pub(super) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }

    /// What a WASI wait (which an alarm bounds by the deadline) returned; past the
    /// deadline, an error that ends the call as a timeout.
    pub(super) fn after_wait<T>(&self, waited: wasmtime::Result<T>) -> wasmtime::Result<T> {
        let waited = waited?;
        if std::time::Instant::now() >= self.deadline {
            return Err(super::wasi_deadline::DeadlinePassed.into());
        }
        Ok(waited)
    }

    /// The guest's monotonic clock, in nanoseconds.
    pub fn clock_nanos(&self) -> u64 {
        u64::try_from(self.clock_start.elapsed().as_nanos()).unwrap_or(u64::MAX)
    }

    /// A pollable ready after `wait`, or at the call's deadline if that comes first; an
    /// error, which ends the call as a timeout, once the deadline has passed.
    pub fn alarm(
        &mut self,
        wait: std::time::Duration,
    ) -> wasmtime::Result<wasmtime::component::Resource<wasmtime_wasi::p2::DynPollable>> {
        let now = std::time::Instant::now();
        if now >= self.deadline {
            return Err(super::wasi_deadline::DeadlinePassed.into());
        }
        let at = now
            .checked_add(wait)
            .map_or(self.deadline, |at| at.min(self.deadline));
        let alarm =
            self.table
                .push(super::wasi_deadline::Alarm(tokio::time::Instant::from_std(
                    at,
                )))?;
        wasmtime_wasi::p2::subscribe(&mut self.table, alarm)
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

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn the_memory_cap_counts_every_linear_memory_of_the_instance_together() {
        let mut cap = MemoryCap::new(32 * MIB);
        // Two memories of 16 MiB each reach the cap exactly.
        assert!(cap.memory_growing(0, 16 * MIB, None).unwrap());
        assert!(cap.memory_growing(0, 16 * MIB, None).unwrap());
        assert_eq!(cap.total_bytes, 32 * MIB);
        // A third of 1 MiB, or either growing, is over it, though each is under 32 MiB.
        assert!(cap.memory_growing(0, MIB, None).is_err());
        assert!(cap.hit);
        let mut cap = MemoryCap::new(32 * MIB);
        cap.memory_growing(0, 16 * MIB, None).unwrap();
        cap.memory_growing(0, 8 * MIB, None).unwrap();
        assert!(cap.memory_growing(8 * MIB, 16 * MIB, None).unwrap());
        assert!(cap.memory_growing(16 * MIB, 17 * MIB, None).is_err());
        assert_eq!(cap.peak_bytes, 32 * MIB);
    }

    #[test]
    fn every_log_line_costs_at_least_the_minimum_and_the_lines_are_counted() {
        let mut budget = LogBudget::new(64 << 10);
        // Empty lines cost the minimum: a 64 KiB budget pays for 1,024 of them, but the
        // line count stops them first.
        let written = (0..10_000).filter(|_| budget.charge(0)).count();
        assert_eq!(written, LOG_LINES_PER_CALL as usize);
        assert_eq!(budget.dropped, 10_000 - LOG_LINES_PER_CALL);

        let mut budget = LogBudget::new(10 * LOG_LINE_MIN_BYTES);
        assert!(budget.charge(1));
        assert_eq!(budget.remaining, 9 * LOG_LINE_MIN_BYTES);
        assert!(budget.charge(5 * LOG_LINE_MIN_BYTES));
        assert!(
            !budget.charge(5 * LOG_LINE_MIN_BYTES),
            "over the bytes left"
        );
        assert!(!budget.charge(0), "a cut budget stays cut");
        assert_eq!(budget.dropped, 2);
    }
}
