//! The checks an upload passes before compiling: `plugin.toml` parsed and checked (TOML,
//! name, limits, the config's JSON Schema), then the component's preamble and its
//! validation with the engine's proposals.
//!
//! An input is the manifest text, then the component from its first NUL byte on: TOML
//! text cannot hold a NUL and a component starts with `\0asm`, so a seed is simply
//! `cat plugin.toml plugin.wasm`.

#![no_main]

use std::sync::LazyLock;

use axle_host::runtime::limits::PlatformLimits;
use axle_host::service::plugins::precheck;
use libfuzzer_sys::fuzz_target;

static PLATFORM: LazyLock<PlatformLimits> = LazyLock::new(PlatformLimits::default);

fuzz_target!(|data: &[u8]| {
    let split = data.iter().position(|&b| b == 0).unwrap_or(data.len());
    let (manifest, component) = data.split_at(split);
    // The upload handler refuses a manifest part that is not UTF-8 before this point.
    let Ok(manifest) = std::str::from_utf8(manifest) else {
        return;
    };
    let _ = precheck(&PLATFORM, manifest, component);
});
