//! Crafts the routing-rule components the tests need from WAT: what no Rust guest can
//! express (two linear memories) or would ever be (one function that takes the compiler
//! seconds). The WAT is the core module; wit-component wraps it in a component of Axle's
//! own `routing-rule` world, as `cargo component` would. `src/crafted.rs` embeds them.
//!
//! Done here rather than in the tests so that wasm-tools is built once, for the build
//! machine, where wasmtime's own bindings macro already builds it.

use std::path::{Path, PathBuf};

use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::Resolve;

/// The slow-compile rule's size: about 5 s of compiling on the CI machine, well past
/// the test node's 2 s compile timeout.
const SLOW_COMPILE_SIZE: usize = 800;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    write(&out.join("multi_memory_rule.wasm"), &multi_memory_rule());
    write(
        &out.join("slow_compile_rule.wasm"),
        &slow_compile_rule(SLOW_COMPILE_SIZE),
    );
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed={}", wit_dir().display());
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::write(path, bytes).unwrap_or_else(|err| panic!("writing {}: {err}", path.display()));
}

/// Axle's WIT, beside the tests crate.
fn wit_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .join("wit")
}

/// The canonical ABI's plumbing every crafted module shares: the memory the host lowers
/// the ticket into and a bump allocator for it. `route` takes a pointer to the ticket and
/// returns a pointer to its result; 16 bytes of zeros at address 16 read as `ok(none)`.
const PLUMBING: &str = r#"
  (memory $main (export "memory") 4)
  (global $next (mut i32) (i32.const 1024))
  (func (export "cabi_realloc") (param i32 i32) (param $align i32) (param $size i32) (result i32)
    (local $at i32)
    (local.set $at
      (i32.and
        (i32.add (global.get $next) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $next (i32.add (local.get $at) (local.get $size)))
    (local.get $at))
"#;

/// A rule with a second linear memory: it grows that one a MiB at a time until the host
/// refuses, then the first. Under a cap per memory the first would grow as far again and
/// the rule would answer `ok(none)`; under a cap on their sum it is refused and traps.
fn multi_memory_rule() -> Vec<u8> {
    routing_rule(&format!(
        r#"(module {PLUMBING}
  (memory $extra 0)
  (func (export "route") (param i32) (result i32)
    (block $refused
      (loop $grow
        (br_if $refused (i32.eq (memory.grow $extra (i32.const 16)) (i32.const -1)))
        (br $grow)))
    (if (i32.ne (memory.grow $main (i32.const 16)) (i32.const -1))
      (then (return (i32.const 16))))
    unreachable))"#
    ))
}

/// A rule that answers `ok(none)` at once but carries one more function: a loop around a
/// `br_table` over `size` arms, each updating a few of `size` i64 locals that all stay
/// live around the loop. Every arm's end is a merge point carrying every local, so the
/// compile grows with the square of `size` and more: 1,000 takes Cranelift about 9 s
/// (500 about 1.3 s) on one core of the CI machine, from 67 KiB of wasm.
fn slow_compile_rule(size: usize) -> Vec<u8> {
    let (cases, locals) = (size, size);
    let mut body = String::new();
    body.push_str("(loop $top\n");
    for case in (0..cases).rev() {
        body.push_str(&format!("(block $c{case}\n"));
    }
    let targets: String = (0..cases).map(|c| format!("$c{c} ")).collect();
    body.push_str(&format!(
        "(br_table {targets} $c0 (i32.wrap_i64 (local.get 0)))\n"
    ));
    for case in 0..cases {
        body.push_str(")\n");
        for k in 0..4 {
            let (a, b) = (
                1 + (case * 5 + k) % locals,
                1 + (case * 11 + k * 3) % locals,
            );
            body.push_str(&format!(
                "(local.set {a} (i64.add (local.get {a}) (i64.mul (local.get {b}) (local.get 0))))\n"
            ));
        }
    }
    body.push_str("(local.set 0 (i64.sub (local.get 0) (i64.const 1)))\n");
    body.push_str("(br_if $top (i64.ne (local.get 0) (i64.const 0))))\n");
    let sum: String = (1..=locals)
        .map(|l| format!("(local.get {l}) i64.add\n"))
        .collect();
    routing_rule(&format!(
        r#"(module {PLUMBING}
  (func $heavy (param i64) (result i64) (local {decl})
    {body}
    (i64.const 0) {sum})
  (func (export "route") (param i32) (result i32)
    (i32.const 16)))"#,
        decl = "i64 ".repeat(locals),
    ))
}

/// Wraps the core module `wat` as a component of the `routing-rule` world.
fn routing_rule(wat: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit_dir()).expect("Axle's WIT parses");
    let world = resolve
        .select_world(&[package], Some("routing-rule"))
        .expect("the routing-rule world");
    let mut module = wat::parse_str(wat).expect("the crafted WAT parses");
    wit_component::embed_component_metadata(&mut module, &resolve, world, StringEncoding::UTF8)
        .expect("the world's metadata embeds");
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .expect("the module fits the world")
        .encode()
        .expect("the component encodes")
}
