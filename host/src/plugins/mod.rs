//! The plugin runtime: bindings, manifest, limits, the sandbox and its capabilities.

pub mod bindings;
mod capabilities;
pub mod compiled_cache;
pub mod convert;
pub mod engine;
pub mod limits;
pub mod manifest;
pub mod runtime;
pub mod sandbox;
mod since_v0_1_0;
mod wasi_deadline;

pub use capabilities::notification_from_wit;
