//! Startup warm-up: every installed component is loaded before the node serves, so the
//! first ticket after a restart does not pay for compiling. With a warm compiled cache
//! that is a deserialize per component, run on the blocking pool in parallel.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use super::Core;
use crate::domain::plugin::World;
use crate::runtime::{LoadSource, Runtime};
use crate::store::plugins as versions;

/// What a warm-up did.
#[derive(Clone, Debug, Default)]
pub struct WarmUp {
    /// Distinct (component, world) pairs asked for.
    pub components: usize,
    /// How many came from each place.
    pub from_memory: usize,
    pub from_disk: usize,
    pub compiled: usize,
    /// How many could not be loaded (each logged).
    pub failed: usize,
    pub elapsed: Duration,
}

/// Loads every component some installation uses. Failures are logged and skipped: a
/// plugin that cannot load is skipped by the ticket flow too.
pub async fn warm_up(core: &Core) -> WarmUp {
    let started = Instant::now();
    let installed = match versions::installed_components(&core.db).await {
        Ok(installed) => installed,
        Err(err) => {
            tracing::warn!(error = %err, "cannot list installed components; skipping warm-up");
            return WarmUp::default();
        }
    };
    let db = core.db.clone();
    let warm = load_all(core.runtime.clone(), installed, move |sha256| {
        let db = db.clone();
        async move {
            versions::blob(&db, &sha256)
                .await
                .map_err(|err| err.to_string())
        }
    })
    .await;
    let warm = WarmUp {
        elapsed: started.elapsed(),
        ..warm
    };
    tracing::info!(
        components = warm.components,
        from_disk = warm.from_disk,
        compiled = warm.compiled,
        failed = warm.failed,
        elapsed_ms = warm.elapsed.as_millis() as u64,
        "plugin components warmed up"
    );
    warm
}

/// Loads each (sha256, world) through `runtime`, from memory or the compiled cache when
/// it can and else from the bytes `fetch` returns, a few at a time on the blocking pool.
pub async fn load_all<F, Fut>(
    runtime: Arc<Runtime>,
    components: Vec<(String, World)>,
    fetch: F,
) -> WarmUp
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, String>>,
{
    let started = Instant::now();
    let parallel = std::thread::available_parallelism().map_or(2, |n| n.get());
    let total = components.len();
    let results: Vec<Result<LoadSource, String>> = futures_util::stream::iter(components)
        .map(|(sha256, world)| {
            let runtime = runtime.clone();
            let fetch = &fetch;
            async move {
                let result = load_one(runtime, &sha256, world, fetch).await;
                if let Err(err) = &result {
                    tracing::warn!(sha256, world = world.as_str(), error = %err, "cannot warm up component");
                }
                result
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let mut sources: HashMap<LoadSource, usize> = HashMap::new();
    let mut failed = 0;
    for result in results {
        match result {
            Ok(source) => *sources.entry(source).or_default() += 1,
            Err(_) => failed += 1,
        }
    }
    WarmUp {
        components: total,
        from_memory: sources.get(&LoadSource::Memory).copied().unwrap_or(0),
        from_disk: sources.get(&LoadSource::Disk).copied().unwrap_or(0),
        compiled: sources.get(&LoadSource::Compiled).copied().unwrap_or(0),
        failed,
        elapsed: started.elapsed(),
    }
}

async fn load_one<F, Fut>(
    runtime: Arc<Runtime>,
    sha256: &str,
    world: World,
    fetch: &F,
) -> Result<LoadSource, String>
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = Result<Vec<u8>, String>>,
{
    let task_failed = |err: tokio::task::JoinError| format!("load task failed: {err}");
    let key = sha256.to_owned();
    let loader = runtime.clone();
    let stored = tokio::task::spawn_blocking(move || loader.load_compiled(&key, world))
        .await
        .map_err(task_failed)?;
    let loaded = match stored {
        Some(loaded) => loaded,
        None => {
            let bytes = fetch(sha256.to_owned()).await?;
            tokio::task::spawn_blocking(move || runtime.load_traced(&bytes, world))
                .await
                .map_err(task_failed)?
        }
    };
    loaded
        .map(|(_, source)| source)
        .map_err(|err| err.to_string())
}
