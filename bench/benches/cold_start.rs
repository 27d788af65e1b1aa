//! A restart with 500 installed plugin versions: a fresh `Runtime` on a warm compiled
//! cache loads all of them (read, checksum, deserialize, check imports and world,
//! pre-link) through the same parallel warm-up the server runs at startup. Target: under
//! 2 s.
//!
//! The 500 versions are one real routing plugin with a distinct custom section appended
//! to each: valid components with distinct sha256s, each its own cache entry. Compiling
//! all 500 to fill the cache would take minutes on a small machine, so when compiling
//! one variant yields exactly the base component's artifact (custom sections do not
//! reach compiled code), that artifact is written under every variant's key; otherwise
//! all 500 are compiled. The cold (empty cache) figure is measured on a sample and
//! extrapolated, and printed as such.

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axle_host::domain::ids::sha256_hex;
use axle_host::domain::plugin::World;
use axle_host::runtime::limits::PlatformLimits;
use axle_host::runtime::{Runtime, engine};
use axle_host::service::warm_up::{WarmUp, load_all};
use criterion::{Criterion, criterion_group, criterion_main};
use wasmtime::component::Component;

const COMPONENT: &str = "../target/wasm/wasm32-wasip2/release/axle_plugin_vip_routing.wasm";
const VERSIONS: usize = 500;
/// Compiles timed for the cold figure.
const COLD_SAMPLE: usize = 12;

fn component_bytes() -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(COMPONENT);
    std::fs::read(&path)
        .unwrap_or_else(|err| panic!("read {}: {err}; run `cargo xtask bench`", path.display()))
}

/// `base` with a custom section `axle-bench-version` holding `n`: same code, new hash.
fn variant(base: &[u8], n: usize) -> Vec<u8> {
    let name = b"axle-bench-version";
    let payload = n.to_string();
    let mut bytes = base.to_vec();
    bytes.push(0);
    let size = 1 + name.len() + payload.len();
    assert!(size < 128, "a one-byte LEB128 section size");
    bytes.push(size as u8);
    bytes.push(name.len() as u8);
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload.as_bytes());
    bytes
}

struct Versions {
    bytes: Arc<HashMap<String, Vec<u8>>>,
    installed: Vec<(String, World)>,
}

impl Versions {
    fn new(base: &[u8], count: usize) -> Versions {
        let mut bytes = HashMap::new();
        let mut installed = Vec::new();
        for n in 0..count {
            let variant = variant(base, n);
            let sha256 = sha256_hex(&variant);
            installed.push((sha256.clone(), World::RoutingRule));
            bytes.insert(sha256, variant);
        }
        Versions {
            bytes: Arc::new(bytes),
            installed,
        }
    }

    /// Loads `installed` (or its first `take`) into a fresh runtime the way startup does.
    fn warm(
        &self,
        tokio: &tokio::runtime::Runtime,
        cache: Option<&std::path::Path>,
        take: usize,
    ) -> WarmUp {
        let mut runtime = Runtime::new(PlatformLimits::default()).expect("runtime");
        if let Some(dir) = cache {
            runtime = runtime.with_compiled_cache(dir).expect("compiled cache");
        }
        let bytes = self.bytes.clone();
        let installed = self.installed.iter().take(take).cloned().collect();
        tokio.block_on(load_all(Arc::new(runtime), installed, move |sha256| {
            let found = bytes.get(&sha256).cloned();
            async move { found.ok_or_else(|| format!("no bytes for {sha256}")) }
        }))
    }
}

/// Fills `dir` with an entry for every version.
fn populate(
    versions: &Versions,
    base: &[u8],
    dir: &std::path::Path,
    tokio: &tokio::runtime::Runtime,
) {
    let engine = engine::shared().engine.clone();
    let runtime = Runtime::new(PlatformLimits::default())
        .expect("runtime")
        .with_compiled_cache(dir)
        .expect("compiled cache");
    let cache = runtime.compiled_cache().expect("configured");
    let compiled = Component::new(&engine, base).expect("compile the base component");
    let artifact = compiled.serialize().expect("serialize");
    let (first, _) = &versions.installed[0];
    let first_compiled =
        Component::new(&engine, &versions.bytes[first]).expect("compile a variant");
    if first_compiled.serialize().expect("serialize") == artifact {
        for (sha256, _) in &versions.installed {
            cache.put(sha256, &compiled);
        }
    } else {
        println!("variants compile to distinct artifacts; compiling all {VERSIONS}");
        let warm = versions.warm(tokio, Some(dir), VERSIONS);
        assert_eq!(warm.failed, 0, "{warm:?}");
    }
}

fn cold_start(c: &mut Criterion) {
    let base = component_bytes();
    let versions = Versions::new(&base, VERSIONS);
    let tokio = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    // Bring the shared engine up outside the timings, as a serving node has by then.
    let _ = engine::shared();

    populate(&versions, &base, dir.path(), &tokio);

    let started = Instant::now();
    let cold = versions.warm(&tokio, None, COLD_SAMPLE);
    let cold_time = started.elapsed();
    assert_eq!(cold.compiled, COLD_SAMPLE, "{cold:?}");

    let started = Instant::now();
    let warm = versions.warm(&tokio, Some(dir.path()), VERSIONS);
    let warm_time = started.elapsed();
    assert_eq!(
        warm.from_disk, VERSIONS,
        "every version loads from disk: {warm:?}"
    );

    let per_cold = cold_time / COLD_SAMPLE as u32;
    println!();
    println!("cold start, {VERSIONS} plugin versions:");
    println!(
        "  warm compiled cache: {:>8.1} ms  ({:.2} ms per version; target < 2000 ms: {})",
        ms(warm_time),
        ms(warm_time) / VERSIONS as f64,
        if warm_time < Duration::from_secs(2) {
            "met"
        } else {
            "MISSED"
        }
    );
    println!(
        "  empty cache (compile): {:>6.0} ms  (extrapolated from {COLD_SAMPLE} compiles: {:.1} ms each)",
        ms(per_cold * VERSIONS as u32),
        ms(per_cold)
    );
    println!(
        "  ({} cores; base component {} KB)",
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        base.len() / 1024
    );
    println!();

    let mut group = c.benchmark_group("cold start");
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(15));
    group.bench_function(format!("{VERSIONS} versions, warm compiled cache"), |b| {
        b.iter(|| {
            let warm = versions.warm(&tokio, Some(dir.path()), VERSIONS);
            assert_eq!(warm.from_disk, VERSIONS);
            black_box(warm)
        })
    });
    group.finish();
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

criterion_group!(benches, cold_start);
criterion_main!(benches);
