//! Routing-rule components crafted from WAT rather than compiled from a guest crate: what
//! no Rust guest can express (two linear memories) or would ever be (one function that
//! takes the compiler seconds). `build.rs` crafts them; their WAT is there.

/// The manifest for a crafted routing rule called `name`.
pub fn manifest(name: &str) -> String {
    format!(
        "name = \"{name}\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\nwit = \"0.2.0\"\n\
         description = \"A routing rule crafted from WAT by the tests.\"\n"
    )
}

/// A rule with a second linear memory: it grows that one a MiB at a time until the host
/// refuses, then the first. Under a cap per memory the first would grow as far again and
/// the rule would answer `ok(none)`; under a cap on their sum it is refused and traps.
pub fn multi_memory_rule() -> Vec<u8> {
    include_bytes!(concat!(env!("OUT_DIR"), "/multi_memory_rule.wasm")).to_vec()
}

/// A rule that answers `ok(none)` at once but carries one function that takes Cranelift
/// about 5 s on one core of the CI machine (a `br_table` over 800 arms, each merging 800
/// live locals; see `build.rs`), well past the test node's 2 s compile timeout.
pub fn slow_compile_rule() -> Vec<u8> {
    include_bytes!(concat!(env!("OUT_DIR"), "/slow_compile_rule.wasm")).to_vec()
}
