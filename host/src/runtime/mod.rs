//! The plugin runtime: the wasmtime engine, the WIT bindings (`wit`), manifests, limits,
//! the sandbox and its capabilities.
//!
//! Loads plugin components (validated, compiled once per content hash, pre-linked) and
//! invokes them: a fresh instance per call from the shared `InstancePre`, under the
//! installation's deadline, memory, input, output and log limits.
//!
//! A load looks in memory (one `Loaded` per content hash and world, shared by every
//! installation in every tenant), then in the on-disk [`CompiledCache`], and compiles
//! only when both miss. Two loads of the same bytes at once compile them once.

mod capabilities;
mod compile_slots;
pub mod compiled_cache;
pub mod convert;
pub mod engine;
pub mod limits;
pub mod manifest;
mod memory_cache;
pub mod sandbox;
pub mod validation;
mod wasi_deadline;
pub mod wit;

pub use capabilities::notification_from_wit;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::Serialize;
use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store, Trap};

use self::compile_slots::CompileSlots;
use self::compiled_cache::{CompiledCache, Lookup};
use self::limits::{Limits, PlatformLimits};
use self::memory_cache::MemoryCache;
use self::sandbox::{CallContext, HostAccess, LogBudget, Sandbox};
use self::validation::check_header;
use crate::domain::ids::sha256_hex;
use crate::domain::plugin::{Capability, WitVersion, World};
use crate::domain::records::Notification;
use wit::{fields, routing, types, widget, workflow};

/// Why a component was rejected at upload or load.
#[derive(Debug, thiserror::Error)]
pub enum ComponentError {
    #[error("the file is not WebAssembly (it does not start with the `\\0asm` magic bytes)")]
    NotWasm,
    #[error(
        "the file is a core WebAssembly module, not a component; build it for the wasm32-wasip2 target"
    )]
    CoreModule,
    #[error("the component is invalid: {0}")]
    Invalid(String),
    #[error(
        "the component imports `{0}`, which Axle does not provide; plugins may import axle:plugin/{{log,config,kv,records,notify}} at 0.1.0 or 0.2.0, axle:plugin/directory at 0.2.0, and WASI 0.2"
    )]
    UnknownImport(String),
    #[error(
        "the component imports axle:plugin at both {0} and {1}; build it against one version of the contract"
    )]
    MixedWitVersions(WitVersion, WitVersion),
    #[error(
        "plugin.toml says wit = \"{manifest}\" but the component imports axle:plugin@{component}; set wit = \"{component}\" or rebuild the component against {manifest}"
    )]
    WitMismatch {
        manifest: WitVersion,
        component: WitVersion,
    },
    #[error(
        "the component imports the `{0}` capability but plugin.toml does not request it; add it to `capabilities`"
    )]
    UndeclaredCapability(&'static str),
    #[error("the component does not implement the {world} world: {reason}")]
    WrongWorld { world: &'static str, reason: String },
    #[error(
        "compiling the component took longer than {0:?}, so it is refused and nothing was stored; a component this slow to compile would stall the nodes that load it"
    )]
    CompileTimeout(Duration),
    #[error(
        "the node is busy compiling other components and none finished within {0:?}; nothing was stored, upload it again shortly"
    )]
    CompileBusy(Duration),
}

/// A world-specific pre-linked component.
enum WorldPre {
    Routing(routing::RoutingRulePre<Sandbox>),
    Workflow(workflow::WorkflowStepPre<Sandbox>),
    Fields(fields::FieldProviderPre<Sandbox>),
    Widget(widget::ReportWidgetPre<Sandbox>),
}

/// A compiled, validated, pre-linked component, shared by every installation (in any
/// tenant) of the same bytes.
pub struct Loaded {
    pub sha256: String,
    pub world: World,
    /// The capability interfaces the component imports.
    pub imports: Vec<Capability>,
    /// The contract version its `axle:plugin` imports name; `None` when it imports none
    /// (its exports are the same in every served version).
    pub wit: Option<WitVersion>,
    /// Kept so a load of the same bytes as another world skips compiling.
    component: Component,
    pre: WorldPre,
}

/// Where a load found its component.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoadSource {
    /// Already loaded in this process (possibly as another world).
    Memory,
    /// Deserialized from the on-disk compiled cache.
    Disk,
    /// Compiled from the component bytes.
    Compiled,
}

/// How an invocation failed.
#[derive(Clone, Debug, PartialEq)]
pub enum Failure {
    InputTooLarge {
        bytes: usize,
        limit: usize,
    },
    Timeout {
        deadline_ms: u64,
    },
    MemoryLimit {
        limit_mib: u64,
    },
    OutputTooLarge {
        bytes: usize,
        limit: usize,
    },
    Trap(String),
    /// The plugin returned its WIT error.
    Plugin(String),
    /// The host could not run the plugin (instantiation failed, wrong world).
    Host(String),
}

impl Failure {
    /// The audit outcome name.
    pub fn outcome(&self) -> &'static str {
        match self {
            Failure::InputTooLarge { .. } => "input_too_large",
            Failure::Timeout { .. } => "timeout",
            Failure::MemoryLimit { .. } => "memory_limit",
            Failure::OutputTooLarge { .. } => "output_too_large",
            Failure::Trap(_) => "trap",
            Failure::Plugin(_) => "plugin_error",
            Failure::Host(_) => "host_error",
        }
    }

    /// Whether it counts toward suspending the installation: traps, timeouts and limit
    /// hits do; an error the plugin chose to return does not.
    pub fn trips_breaker(&self) -> bool {
        !matches!(self, Failure::Plugin(_) | Failure::Host(_))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::InputTooLarge { bytes, limit } => {
                write!(f, "input of {bytes} bytes is over the {limit}-byte limit")
            }
            Failure::Timeout { deadline_ms } => write!(f, "did not finish within {deadline_ms} ms"),
            Failure::MemoryLimit { limit_mib } => write!(f, "hit the {limit_mib} MiB memory limit"),
            Failure::OutputTooLarge { bytes, limit } => {
                write!(f, "output of {bytes} bytes is over the {limit}-byte limit")
            }
            Failure::Trap(message) => write!(f, "trapped: {message}"),
            Failure::Plugin(message) => write!(f, "returned an error: {message}"),
            Failure::Host(message) => write!(f, "could not run: {message}"),
        }
    }
}

/// What one invocation produced, success or not, with what the audit needs.
#[derive(Debug)]
pub struct Outcome<T> {
    pub result: Result<T, Failure>,
    /// sha256 of the input's JSON form.
    pub input_digest: String,
    pub duration: Duration,
    /// Queued through `notify.send`; only valid when `result` is `Ok`.
    pub notifications: Vec<Notification>,
    pub logs_dropped: u32,
    /// Fuel the call consumed, on a [`Runtime::metered`] runtime only.
    pub fuel_used: Option<u64>,
    /// The largest size a linear memory of the instance grew to.
    pub memory_peak_bytes: usize,
}

/// A component compiled and checked against a world, not yet kept: an upload keeps it
/// only once its manifest's checks pass as well.
pub struct Candidate {
    pub loaded: Loaded,
    source: LoadSource,
}

/// The plugin runtime: the engine, the linker with every host capability, and the
/// compiled-component cache.
pub struct Runtime {
    engine: Engine,
    linker: Linker<Sandbox>,
    /// Loaded components by sha256, at most one per world.
    cache: Mutex<MemoryCache>,
    compiles: CompileSlots,
    /// One lock per sha256 being loaded, so concurrent loads of it compile once.
    in_flight: Mutex<HashMap<String, Arc<Mutex<()>>>>,
    compiled: Option<CompiledCache>,
    pub platform: PlatformLimits,
    /// The fuel each call gets on a metered runtime; `None` on the server's.
    fuel_per_call: Option<u64>,
}

impl Runtime {
    /// A runtime on the process's shared engine.
    pub fn new(platform: PlatformLimits) -> wasmtime::Result<Runtime> {
        Runtime::on_engine(engine::shared().engine.clone(), platform)
    }

    /// A runtime for `axle plugin test`: the server's engine configuration plus fuel
    /// metering, each call getting `fuel_per_call`, so a run can report the fuel used.
    /// Deadlines and every other limit work as on the server.
    pub fn metered(platform: PlatformLimits, fuel_per_call: u64) -> wasmtime::Result<Runtime> {
        let mut runtime = Runtime::on_engine(engine::metered().engine.clone(), platform)?;
        runtime.fuel_per_call = Some(fuel_per_call);
        Ok(runtime)
    }

    fn on_engine(engine: Engine, platform: PlatformLimits) -> wasmtime::Result<Runtime> {
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker)?;
        routing::RoutingRule::add_to_linker::<Sandbox, HasSelf<Sandbox>>(&mut linker, |s| s)?;
        wit::since_v0_1_0::add_to_linker(&mut linker)?;
        self::wasi_deadline::add_to_linker(&mut linker)?;
        Ok(Runtime {
            engine,
            linker,
            cache: Mutex::new(MemoryCache::new(platform.warm_components)),
            compiles: CompileSlots::new(platform.compile_slots, platform.compile_timeout),
            in_flight: Mutex::new(HashMap::new()),
            compiled: None,
            platform,
            fuel_per_call: None,
        })
    }

    /// Keeps compiled components in `dir` (created if needed), in a subdirectory for
    /// this engine's configuration, so later runtimes deserialize instead of compiling.
    pub fn with_compiled_cache(mut self, dir: &std::path::Path) -> std::io::Result<Runtime> {
        self.compiled = Some(CompiledCache::open(dir, &self.engine)?);
        Ok(self)
    }

    /// The on-disk compiled cache, when one is configured.
    pub fn compiled_cache(&self) -> Option<&CompiledCache> {
        self.compiled.as_ref()
    }

    /// Whether the pooling allocator is in use.
    pub fn pooling(&self) -> bool {
        engine::shared().pooling
    }

    /// A loaded component for `sha256` (of any world), if it is in memory.
    pub fn cached(&self, sha256: &str) -> Option<Arc<Loaded>> {
        self.cache
            .lock()
            .expect("component cache lock")
            .get(sha256, None)
    }

    /// The component for `sha256` loaded as `world`, if it is in memory.
    pub fn cached_as(&self, sha256: &str, world: World) -> Option<Arc<Loaded>> {
        self.cache
            .lock()
            .expect("component cache lock")
            .get(sha256, Some(world))
    }

    /// How many distinct (component, world) pairs are in memory: those installations
    /// hold, and the most recently loaded few.
    pub fn loaded_count(&self) -> usize {
        self.cache.lock().expect("component cache lock").live()
    }

    /// Validates, compiles and pre-links `bytes` as a component of `world`, or returns
    /// the cached one. Slow (compilation): call it off the async runtime.
    pub fn load(&self, bytes: &[u8], world: World) -> Result<Arc<Loaded>, ComponentError> {
        self.load_traced(bytes, world).map(|(loaded, _)| loaded)
    }

    /// [`load`](Self::load), also saying where the component came from.
    pub fn load_traced(
        &self,
        bytes: &[u8],
        world: World,
    ) -> Result<(Arc<Loaded>, LoadSource), ComponentError> {
        let sha256 = sha256_hex(bytes);
        if let Some(loaded) = self.cached_as(&sha256, world) {
            return Ok((loaded, LoadSource::Memory));
        }
        check_header(bytes)?;
        self.single_flight(&sha256, || {
            // A load of these bytes that held the lock before may have kept them.
            if let Some(loaded) = self.cached_as(&sha256, world) {
                return Ok((loaded, LoadSource::Memory));
            }
            Ok(self.keep(self.unkept(&sha256, bytes, world)?))
        })
    }

    /// Validates, compiles and pre-links `bytes` as a component of `world` (or takes it
    /// from memory or disk), keeping nothing: [`keep`](Self::keep) does, once every
    /// other check has passed. Slow (compilation): call it off the async runtime.
    pub fn candidate(&self, bytes: &[u8], world: World) -> Result<Candidate, ComponentError> {
        let sha256 = sha256_hex(bytes);
        check_header(bytes)?;
        self.single_flight(&sha256, || self.unkept(&sha256, bytes, world))
    }

    fn unkept(
        &self,
        sha256: &str,
        bytes: &[u8],
        world: World,
    ) -> Result<Candidate, ComponentError> {
        let (component, source) = match self.stored_component(sha256) {
            Some(found) => found,
            None => (
                self.compiles.compile(&self.engine, bytes)?,
                LoadSource::Compiled,
            ),
        };
        Ok(Candidate {
            loaded: self.prepare(sha256, world, component)?,
            source,
        })
    }

    /// Keeps `candidate` in memory, and a freshly compiled one on disk too; returns the
    /// kept component (an equal one kept first, if loads raced) and where it came from.
    pub fn keep(&self, candidate: Candidate) -> (Arc<Loaded>, LoadSource) {
        let Candidate { loaded, source } = candidate;
        if source == LoadSource::Compiled
            && let Some(compiled) = &self.compiled
        {
            compiled.put(&loaded.sha256, &loaded.component);
        }
        let kept = self
            .cache
            .lock()
            .expect("component cache lock")
            .put(Arc::new(loaded));
        (kept, source)
    }

    /// Loads `sha256` as `world` from memory or the on-disk compiled cache, without the
    /// source bytes; `None` when neither has it (the caller then fetches the bytes and
    /// calls [`load`](Self::load)). For warming up at startup.
    pub fn load_compiled(
        &self,
        sha256: &str,
        world: World,
    ) -> Option<Result<(Arc<Loaded>, LoadSource), ComponentError>> {
        if let Some(loaded) = self.cached_as(sha256, world) {
            return Some(Ok((loaded, LoadSource::Memory)));
        }
        self.single_flight(sha256, || {
            if let Some(loaded) = self.cached_as(sha256, world) {
                return Some(Ok((loaded, LoadSource::Memory)));
            }
            let (component, source) = self.stored_component(sha256)?;
            Some(
                self.prepare(sha256, world, component)
                    .map(|loaded| self.keep(Candidate { loaded, source })),
            )
        })
    }

    /// The compiled component for `sha256` from another world's load or from disk.
    fn stored_component(&self, sha256: &str) -> Option<(Component, LoadSource)> {
        if let Some(loaded) = self.cached(sha256) {
            return Some((loaded.component.clone(), LoadSource::Memory));
        }
        match self.compiled.as_ref()?.get(&self.engine, sha256) {
            Lookup::Hit(component) => Some((component, LoadSource::Disk)),
            Lookup::Miss | Lookup::Rejected(_) => None,
        }
    }

    /// Validates a compiled component's imports and world and pre-links it.
    fn prepare(
        &self,
        sha256: &str,
        world: World,
        component: Component,
    ) -> Result<Loaded, ComponentError> {
        let (imports, wit) = self.check_imports(&component)?;
        let pre = self.link(&component, world)?;
        Ok(Loaded {
            sha256: sha256.to_owned(),
            world,
            imports,
            wit,
            component,
            pre,
        })
    }

    /// Runs `work` holding `sha256`'s load lock: a second load of the same component
    /// waits for the first and then finds it in memory instead of compiling it again.
    fn single_flight<T>(&self, sha256: &str, work: impl FnOnce() -> T) -> T {
        let lock = self
            .in_flight
            .lock()
            .expect("in-flight lock")
            .entry(sha256.to_owned())
            .or_default()
            .clone();
        let result = {
            let _held = lock.lock().unwrap_or_else(PoisonError::into_inner);
            work()
        };
        let mut in_flight = self.in_flight.lock().expect("in-flight lock");
        // Clones are only taken under this map lock, so two means nobody else waits.
        if Arc::strong_count(&lock) == 2 {
            in_flight.remove(sha256);
        }
        result
    }

    /// The capabilities `component` imports and the one contract version they name.
    fn check_imports(
        &self,
        component: &Component,
    ) -> Result<(Vec<Capability>, Option<WitVersion>), ComponentError> {
        let mut capabilities = Vec::new();
        let mut wit: Option<WitVersion> = None;
        for (name, _) in component.component_type().imports(&self.engine) {
            if name.starts_with("wasi:") {
                continue;
            }
            let unknown = || ComponentError::UnknownImport(name.to_owned());
            let (interface, version) = name
                .strip_prefix("axle:plugin/")
                .and_then(|rest| rest.split_once('@'))
                .ok_or_else(unknown)?;
            let version = WitVersion::parse(version).ok_or_else(unknown)?;
            match wit {
                Some(seen) if seen != version => {
                    return Err(ComponentError::MixedWitVersions(
                        seen.min(version),
                        seen.max(version),
                    ));
                }
                _ => wit = Some(version),
            }
            if interface == "types" {
                continue;
            }
            let capability = Capability::parse(interface)
                .filter(|&capability| WitVersion::introducing(capability) <= version)
                .ok_or_else(unknown)?;
            capabilities.push(capability);
        }
        capabilities.sort();
        Ok((capabilities, wit))
    }

    fn link(&self, component: &Component, world: World) -> Result<WorldPre, ComponentError> {
        let instance_pre = self.linker.instantiate_pre(component).map_err(|err| {
            ComponentError::Invalid(format!("its imports cannot be satisfied: {err:#}"))
        })?;
        let wrong_world = |err: wasmtime::Error| ComponentError::WrongWorld {
            world: world.as_str(),
            reason: format!("{err:#}"),
        };
        Ok(match world {
            World::RoutingRule => {
                WorldPre::Routing(routing::RoutingRulePre::new(instance_pre).map_err(wrong_world)?)
            }
            World::WorkflowStep => WorldPre::Workflow(
                workflow::WorkflowStepPre::new(instance_pre).map_err(wrong_world)?,
            ),
            World::FieldProvider => {
                WorldPre::Fields(fields::FieldProviderPre::new(instance_pre).map_err(wrong_world)?)
            }
            World::ReportWidget => {
                WorldPre::Widget(widget::ReportWidgetPre::new(instance_pre).map_err(wrong_world)?)
            }
        })
    }

    /// Runs a routing rule on `ticket`.
    pub fn route(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        ticket: &types::Ticket,
    ) -> Outcome<Option<routing::RoutingDecision>> {
        self.invoke(loaded, call, host, ticket, |store, pre, ticket| {
            let WorldPre::Routing(pre) = pre else {
                return Ok(Err(wrong_world_call(World::RoutingRule)));
            };
            started_instance(store, |s| pre.instantiate(s))?.call_route(&mut *store, ticket)
        })
    }

    /// Runs a workflow step on `event`.
    pub fn on_event(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        event: &workflow::Event,
    ) -> Outcome<Vec<workflow::Action>> {
        self.invoke(loaded, call, host, event, |store, pre, event| {
            let WorldPre::Workflow(pre) = pre else {
                return Ok(Err(wrong_world_call(World::WorkflowStep)));
            };
            started_instance(store, |s| pre.instantiate(s))?.call_on_event(&mut *store, event)
        })
    }

    /// Asks a field provider which fields it owns.
    pub fn describe_fields(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
    ) -> Outcome<Vec<fields::FieldDef>> {
        self.invoke(loaded, call, None, &(), |store, pre, ()| {
            let WorldPre::Fields(pre) = pre else {
                return Ok(Err(wrong_world_call(World::FieldProvider)));
            };
            started_instance(store, |s| pre.instantiate(s))?
                .call_describe(&mut *store)
                .map(Ok)
        })
    }

    /// Computes a field provider's fields for `subject`.
    pub fn compute_fields(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        subject: &fields::Subject,
    ) -> Outcome<Vec<types::CustomField>> {
        self.invoke(loaded, call, host, subject, |store, pre, subject| {
            let WorldPre::Fields(pre) = pre else {
                return Ok(Err(wrong_world_call(World::FieldProvider)));
            };
            started_instance(store, |s| pre.instantiate(s))?.call_compute(&mut *store, subject)
        })
    }

    /// Validates `subject` with a field provider.
    pub fn validate_fields(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        subject: &fields::Subject,
    ) -> Outcome<Vec<fields::FieldIssue>> {
        self.invoke(loaded, call, host, subject, |store, pre, subject| {
            let WorldPre::Fields(pre) = pre else {
                return Ok(Err(wrong_world_call(World::FieldProvider)));
            };
            started_instance(store, |s| pre.instantiate(s))?.call_validate(&mut *store, subject)
        })
    }

    /// Asks a report widget for its title and dataset query.
    pub fn describe_widget(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
    ) -> Outcome<widget::WidgetDescription> {
        self.invoke(loaded, call, None, &(), |store, pre, ()| {
            let WorldPre::Widget(pre) = pre else {
                return Ok(Err(wrong_world_call(World::ReportWidget)));
            };
            started_instance(store, |s| pre.instantiate(s))?
                .call_describe(&mut *store)
                .map(Ok)
        })
    }

    /// Renders `dataset` with a report widget.
    pub fn render_widget(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        dataset: &widget::Dataset,
    ) -> Outcome<widget::Rendering> {
        self.invoke(loaded, call, None, dataset, |store, pre, dataset| {
            let WorldPre::Widget(pre) = pre else {
                return Ok(Err(wrong_world_call(World::ReportWidget)));
            };
            started_instance(store, |s| pre.instantiate(s))?.call_render(&mut *store, dataset)
        })
    }

    /// Validates `subject` with a field provider, then computes its fields, in one fresh
    /// instance: the two calls a provider gets for one record are one visit. Each call
    /// has its own deadline, log budget and outcome. After a validate that left the
    /// instance unusable (a trap, a timeout, a limit), compute gets a fresh instance.
    pub fn validate_and_compute(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        subject: &fields::Subject,
    ) -> (
        Outcome<Vec<fields::FieldIssue>>,
        Outcome<Vec<types::CustomField>>,
    ) {
        let WorldPre::Fields(pre) = &loaded.pre else {
            return (
                self.validate_fields(loaded, call.clone(), host.clone(), subject),
                self.compute_fields(loaded, call, host, subject),
            );
        };
        let input = match Input::measured(subject, call.limits) {
            Ok(input) => input,
            // Refused as too large; compute is refused the same way.
            Err(refused) => return (refused, self.compute_fields(loaded, call, host, subject)),
        };
        let mut store = self.fresh_store(call.clone(), host.clone());
        let mut provider = None;
        let started = Instant::now();
        let raw = started_instance(&mut store, |s| pre.instantiate(s)).and_then(|instance| {
            let issues = instance.call_validate(&mut store, subject);
            provider = Some(instance);
            issues
        });
        let validated = self.finish_call(&mut store, &input, started, raw);
        let computed = match provider {
            Some(instance) if still_usable(&validated.result) => {
                self.rearm(&mut store);
                let started = Instant::now();
                let raw = instance.call_compute(&mut store, subject);
                self.finish_call(&mut store, &input, started, raw)
            }
            _ => self.compute_fields(loaded, call, host, subject),
        };
        (validated, computed)
    }

    /// The shared invocation path: measure and cap the input, run in a fresh store under
    /// the limits, classify failures, and cap the output.
    fn invoke<I: Serialize, O: Serialize>(
        &self,
        loaded: &Loaded,
        call: Arc<CallContext>,
        host: Option<HostAccess>,
        input: &I,
        run: impl FnOnce(
            &mut Store<Sandbox>,
            &WorldPre,
            &I,
        ) -> wasmtime::Result<Result<O, types::Error>>,
    ) -> Outcome<O> {
        let started = Instant::now();
        let measured = match Input::measured(input, call.limits) {
            Ok(measured) => measured,
            Err(failure) => return failure,
        };
        let mut store = self.fresh_store(call, host);
        let raw = run(&mut store, &loaded.pre, input);
        self.finish_call(&mut store, &measured, started, raw)
    }

    /// A store for one visit, under the call's memory limit, deadline and fuel.
    fn fresh_store(&self, call: Arc<CallContext>, host: Option<HostAccess>) -> Store<Sandbox> {
        let mut store = Store::new(&self.engine, Sandbox::new(call, host));
        store.limiter(|sandbox| &mut sandbox.memory);
        store.epoch_deadline_trap();
        self.rearm(&mut store);
        store
    }

    /// Gives the next call in `store` a whole deadline, log budget and fuel allowance.
    fn rearm(&self, store: &mut Store<Sandbox>) {
        let limits = store.data().call.limits;
        let ticks = limits.deadline().as_millis() / engine::EPOCH_TICK.as_millis();
        store.set_epoch_deadline(u64::try_from(ticks).unwrap_or(u64::MAX).max(1));
        if let Some(fuel) = self.fuel_per_call {
            store
                .set_fuel(fuel)
                .expect("fuel is enabled on the metered engine");
        }
        let sandbox = store.data_mut();
        sandbox.log = LogBudget::new(limits.log_bytes());
        sandbox.deadline = std::time::Instant::now() + limits.deadline();
    }

    /// Classifies what one call in `store` returned and caps its output; takes the
    /// notifications it queued.
    fn finish_call<O: Serialize>(
        &self,
        store: &mut Store<Sandbox>,
        input: &Input,
        started: Instant,
        raw: wasmtime::Result<Result<O, types::Error>>,
    ) -> Outcome<O> {
        let fuel_used = self
            .fuel_per_call
            .map(|fuel| fuel.saturating_sub(store.get_fuel().unwrap_or(0)));
        let sandbox = store.data_mut();
        let limits = sandbox.call.limits;
        let result = match raw {
            Ok(Ok(output)) => {
                let size = json_size(&output);
                if size > limits.output_bytes() {
                    Err(Failure::OutputTooLarge {
                        bytes: size,
                        limit: limits.output_bytes(),
                    })
                } else {
                    Ok(output)
                }
            }
            Ok(Err(error)) => Err(Failure::Plugin(self::convert::error_text(&error))),
            Err(err) if sandbox.memory.hit => {
                drop(err);
                Err(Failure::MemoryLimit {
                    limit_mib: limits.memory_mib,
                })
            }
            Err(err)
                if err.downcast_ref::<Trap>() == Some(&Trap::Interrupt)
                    || err
                        .downcast_ref::<self::wasi_deadline::DeadlinePassed>()
                        .is_some() =>
            {
                Err(Failure::Timeout {
                    deadline_ms: limits.deadline_ms,
                })
            }
            // A trap before the instance exists (a start function) is the plugin's; any other
            // error there, like an exhausted instance pool, is the host's.
            Err(err) if !sandbox.instantiated && err.downcast_ref::<Trap>().is_none() => Err(
                Failure::Host(format!("could not instantiate: {}", trap_message(&err))),
            ),
            Err(err) => Err(Failure::Trap(trap_message(&err))),
        };
        let notifications = std::mem::take(&mut sandbox.notifications);
        Outcome {
            notifications: if result.is_ok() {
                notifications
            } else {
                Vec::new()
            },
            result,
            input_digest: input.digest.clone(),
            duration: started.elapsed(),
            logs_dropped: sandbox.log.dropped,
            fuel_used,
            memory_peak_bytes: sandbox.memory.peak_bytes,
        }
    }
}

/// An invocation's input, measured against its limit.
struct Input {
    /// sha256 of its JSON form.
    digest: String,
}

impl Input {
    /// The input's digest, or the outcome of refusing it when it is over the limit.
    fn measured<I: Serialize, O>(input: &I, limits: Limits) -> Result<Input, Outcome<O>> {
        let started = Instant::now();
        let json = serde_json::to_vec(input).unwrap_or_default();
        let digest = sha256_hex(&json);
        if json.len() > limits.input_bytes() {
            return Err(Outcome {
                result: Err(Failure::InputTooLarge {
                    bytes: json.len(),
                    limit: limits.input_bytes(),
                }),
                input_digest: digest,
                duration: started.elapsed(),
                notifications: Vec::new(),
                logs_dropped: 0,
                fuel_used: None,
                memory_peak_bytes: 0,
            });
        }
        Ok(Input { digest })
    }
}

/// Whether an instance that returned `result` can take another call: not after a trap,
/// a timeout or a limit, which leave it mid-way.
fn still_usable<T>(result: &Result<T, Failure>) -> bool {
    matches!(
        result,
        Ok(_) | Err(Failure::Plugin(_) | Failure::OutputTooLarge { .. })
    )
}

/// The length of `value`'s JSON form, counted without building it.
fn json_size<T: Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 += bytes.len();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// Marks the sandbox as instantiated, so later failures are the plugin's and earlier ones
/// (an exhausted instance pool, say) are the host's and never trip the breaker.
fn started_instance<T>(
    store: &mut Store<Sandbox>,
    instantiate: impl FnOnce(&mut Store<Sandbox>) -> wasmtime::Result<T>,
) -> wasmtime::Result<T> {
    let instance = instantiate(store);
    if instance.is_ok() {
        store.data_mut().instantiated = true;
    }
    instance
}

fn wrong_world_call(world: World) -> types::Error {
    types::Error::Other(format!("the component is not a {} plugin", world.as_str()))
}

/// The first line of a trap's message and its root cause, without the wasm backtrace.
fn trap_message(err: &wasmtime::Error) -> String {
    let top = err.to_string();
    let root = err.root_cause().to_string();
    let top = top.lines().next().unwrap_or_default();
    if root == top || root.is_empty() {
        top.to_owned()
    } else {
        format!("{top}: {}", root.lines().next().unwrap_or_default())
    }
}
