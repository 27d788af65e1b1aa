//! Axle over HTTP, as its clients, operators and plugin authors meet it: one test binary
//! with a module per area. One binary links wasmtime, the host and the harness once, where
//! a binary per file linked them 33 times; tests still run in parallel and in any order,
//! each on its own database.

mod compiled_cache;
mod custom_fields;
mod customer360;
mod dashboards;
mod dealer_scopes;
mod fields;
mod hostile;
mod import;
mod intake;
mod interactions;
mod isolation;
mod knowledge_base;
mod kpis;
mod layering;
mod lifecycle;
mod metrics;
mod multi_node;
mod openapi;
mod org;
mod outbox;
mod plates;
mod plugin_cli;
mod plugin_policy;
mod plugin_watch;
mod plugins;
mod reload;
mod resilience;
mod resources;
mod routing;
mod runtime;
mod seed;
mod shadow;
mod sla;
mod surveys;
mod wit_versions;
