//! Axle: an after-sales customer-service CRM for car makers and their dealers, extended
//! by sandboxed WebAssembly component plugins.

pub mod app;
pub mod calendar;
pub mod db;
pub mod delivery;
pub mod domain;
pub mod heap;
pub mod hours;
pub mod http;
pub mod ids;
pub mod money;
pub mod phone;
pub mod plate;
pub mod plugin_dev;
pub mod plugin_watch;
pub mod plugins;
pub mod seed;
pub mod service;
pub mod store;
pub mod svg;
pub mod telemetry;
pub mod text_search;
pub mod tls;
pub mod vin;
