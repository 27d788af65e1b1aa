//! Axle: an after-sales customer-service CRM for car makers and their dealers, extended
//! by sandboxed WebAssembly component plugins.

pub mod app;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod heap;
pub mod http;
pub mod plugin_dev;
pub mod plugin_watch;
pub mod runtime;
pub mod seed;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod tls;
