//! The plugin runtime: bindings, manifest, limits, the sandbox and its capabilities.

pub mod bindings;
mod capabilities;
mod compile_slots;
pub mod compiled_cache;
pub mod convert;
pub mod engine;
pub mod limits;
pub mod manifest;
mod memory_cache;
pub mod runtime;
pub mod sandbox;
mod since_v0_1_0;
pub mod validation;
mod wasi_deadline;

pub use capabilities::notification_from_wit;
