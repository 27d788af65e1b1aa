//! The process's one wasmtime `Engine`: component model, epoch interruption for
//! wall-clock deadlines, and the pooling allocator where the host allows it.

use std::hash::{Hash, Hasher};
use std::sync::OnceLock;
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmparser::WasmFeatures;
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

/// How often the epoch advances; deadlines are counted in these ticks.
pub const EPOCH_TICK: Duration = Duration::from_millis(1);

/// The largest linear memory any installation may ask for (the platform maximum).
const MAX_MEMORY_BYTES: usize = 256 << 20;

/// The engine and how it allocates instances.
pub struct SharedEngine {
    pub engine: Engine,
    /// Whether the pooling allocator is in use (else on-demand allocation).
    pub pooling: bool,
}

fn base_config() -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    config.epoch_interruption(true);
    // One thread per compile, so the node's compile slots bound the cores compiling
    // takes (see `compile_slots`); a component's functions are not spread over all.
    config.parallel_compilation(false);
    config
}

/// The WebAssembly proposals the engine accepts, for validating a component before it is
/// compiled. wasmtime keeps its own set private, so this follows how its `Config` derives
/// it for the crate features and [`base_config`] Axle uses: wasmtime's defaults (the
/// WebAssembly 3.0 set and the component model) without GC, exceptions and threads,
/// whose crate features are off. A test checks the two agree.
pub fn wasm_features() -> WasmFeatures {
    (WasmFeatures::WASM3 | WasmFeatures::COMPONENT_MODEL)
        - (WasmFeatures::GC_TYPES | WasmFeatures::EXCEPTIONS | WasmFeatures::THREADS)
}

fn pooling_config() -> PoolingAllocationConfig {
    let mut pool = PoolingAllocationConfig::default();
    // A Rust wasip2 component instantiates a handful of core instances (the program,
    // the WASI adapter and shims), so budget several per component instance.
    pool.total_component_instances(1_000)
        .total_core_instances(4_000)
        .total_memories(1_000)
        .total_tables(2_000)
        .max_memory_size(MAX_MEMORY_BYTES)
        .max_core_instances_per_component(50)
        // Multi-memory is on (WASM3): a module may define a few memories, and the
        // sandbox caps their sum, not each.
        .max_memories_per_module(4)
        .max_memories_per_component(10)
        .max_tables_per_component(20);
    // A fresh instance per call frees a slot per call, and each free returned its memory
    // with its own madvise: a TLB shootdown on every core per call, about 5 % of a loaded
    // node's CPU. Batched, one madvise covers many slots. (Resetting with memset instead,
    // `linear_memory_keep_resident` at 2 MiB, measured 8 % slower under load.)
    pool.decommit_batch_size(DECOMMIT_BATCH);
    pool
}

/// Freed slots whose memory is returned to the kernel together.
const DECOMMIT_BATCH: usize = 16;

fn build(base: fn() -> Config) -> SharedEngine {
    let mut config = base();
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling_config()));
    match Engine::new(&config) {
        Ok(engine) => SharedEngine {
            engine,
            pooling: true,
        },
        Err(err) => {
            tracing::warn!(error = %err, "pooling allocator unavailable; using on-demand allocation");
            let engine = Engine::new(&base()).expect("wasmtime engine with default config");
            SharedEngine {
                engine,
                pooling: false,
            }
        }
    }
}

/// Builds an engine from `base` and starts its epoch ticker.
fn with_ticker(base: fn() -> Config) -> SharedEngine {
    let shared = build(base);
    let weak = shared.engine.weak();
    std::thread::Builder::new()
        .name("axle-epoch".to_owned())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker thread");
    shared
}

/// The process-wide engine, created on first use with its epoch ticker.
pub fn shared() -> &'static SharedEngine {
    static ENGINE: OnceLock<SharedEngine> = OnceLock::new();
    ENGINE.get_or_init(|| with_ticker(base_config))
}

/// The server's engine configuration plus fuel metering, for `axle plugin test`: it
/// reports how much work a call did. Never used by the server, where fuel accounting
/// would slow every call down.
pub fn metered() -> &'static SharedEngine {
    static ENGINE: OnceLock<SharedEngine> = OnceLock::new();
    ENGINE.get_or_init(|| {
        with_ticker(|| {
            let mut config = base_config();
            config.consume_fuel(true);
            config
        })
    })
}

/// A digest of everything that decides whether `engine` can load another engine's
/// compiled code (target, compiler flags, tunables, features, wasmtime version): equal
/// keys mean compiled components are interchangeable.
pub fn compatibility_key(engine: &Engine) -> [u8; 32] {
    // `DefaultHasher` is not guaranteed to be stable between Rust releases, and the key
    // outlives the process, so feed the hashed bytes into sha256 instead.
    struct Sha256Hasher(Sha256);
    impl Hasher for Sha256Hasher {
        fn write(&mut self, bytes: &[u8]) {
            self.0.update(bytes);
        }
        fn finish(&self) -> u64 {
            let digest = self.0.clone().finalize();
            u64::from_le_bytes(digest[..8].try_into().expect("8 bytes"))
        }
    }
    let mut hasher = Sha256Hasher(Sha256::new());
    engine.precompile_compatibility_hash().hash(&mut hasher);
    hasher.0.finalize().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module's preamble.
    const MODULE: &[u8] = b"\0asm\x01\0\0\0";

    /// `sections` after the preamble.
    fn module(sections: &[u8]) -> Vec<u8> {
        [MODULE, sections].concat()
    }

    #[test]
    fn wasm_features_accept_and_refuse_what_the_engine_does() {
        // (what, module, whether Axle's engine accepts it)
        let probes = [
            (
                "shared memory (threads)",
                module(b"\x05\x04\x01\x03\x01\x01"),
                false,
            ),
            (
                "a tag (exceptions)",
                module(b"\x01\x04\x01\x60\0\0\x0d\x03\x01\0\0"),
                false,
            ),
            ("a struct type (gc)", module(b"\x01\x03\x01\x5f\0"), false),
            (
                "a 64-bit memory (memory64)",
                module(b"\x05\x03\x01\x04\x01"),
                true,
            ),
            (
                "two memories (multi-memory)",
                module(b"\x05\x05\x02\0\x01\0\x01"),
                true,
            ),
            (
                "a v128 parameter (simd)",
                module(b"\x01\x05\x01\x60\x01\x7b\0"),
                true,
            ),
        ];
        let engine = Engine::new(&base_config()).expect("engine");
        for (what, bytes, accepted) in probes {
            let by_wasmtime = wasmtime::Module::validate(&engine, &bytes).is_ok();
            let by_us = wasmparser::Validator::new_with_features(wasm_features())
                .validate_all(&bytes)
                .is_ok();
            assert_eq!(by_wasmtime, accepted, "{what}: wasmtime");
            assert_eq!(by_us, accepted, "{what}: wasm_features()");
        }
    }
}
