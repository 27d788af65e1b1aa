//! Write Axle plugins in Rust.
//!
//! Axle plugins are WebAssembly components built against the `axle:plugin` WIT contract. This
//! crate hides the generated bindings behind plain Rust: the record types, one module per host
//! capability, one trait per world and one [`export!`] macro.
//!
//! A plugin enables exactly one world feature (`routing-rule`, `workflow-step`,
//! `field-provider` or `report-widget`), implements that world's trait and exports it:
//!
//! ```ignore
//! use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
//! use axle_sdk::{Error, Priority, Ticket};
//!
//! struct Rule;
//!
//! impl RoutingRule for Rule {
//!     fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
//!         if ticket.category != "safety" {
//!             return Ok(None);
//!         }
//!         let mut decision = routing::decision("safety category");
//!         decision.priority = Some(Priority::Critical);
//!         Ok(Some(decision))
//!     }
//! }
//!
//! axle_sdk::export!(Rule);
//! ```
//!
//! Build it with `cargo build --release --target wasm32-wasip2`; the `cdylib` is a component.
//!
//! Host calls ([`kv`], [`records`], [`notify`], [`log`], [`config`]) only work inside the host:
//! natively they panic. Keep the plugin's decisions in plain functions that take what they need
//! as arguments, and unit-test those with `cargo test --target <host triple>`.

#![warn(missing_docs)]

#[cfg(any(
    all(
        feature = "routing-rule",
        any(
            feature = "workflow-step",
            feature = "field-provider",
            feature = "report-widget"
        )
    ),
    all(
        feature = "workflow-step",
        any(feature = "field-provider", feature = "report-widget")
    ),
    all(feature = "field-provider", feature = "report-widget"),
))]
compile_error!(
    "axle-sdk: enable exactly one world feature (routing-rule, workflow-step, field-provider or \
     report-widget). Cargo unifies features across the packages of one build, so build plugins \
     of different worlds one at a time: `cargo build --release -p <plugin>`."
);

// The generated code documents what the WIT documents; that leaves some fields and cases bare.
#[allow(missing_docs)]
mod wit;

pub mod config;
#[cfg(not(target_family = "wasm"))]
pub mod config_schema;
pub mod kv;
pub mod log;
pub mod notify;
pub mod records;
pub mod testing;
pub mod text;

#[cfg(feature = "routing-rule")]
pub mod routing;

#[cfg(all(feature = "workflow-step", not(feature = "routing-rule")))]
pub mod workflow;

#[cfg(all(
    feature = "field-provider",
    not(any(feature = "routing-rule", feature = "workflow-step"))
))]
pub mod fields;

#[cfg(all(
    feature = "report-widget",
    not(any(
        feature = "routing-rule",
        feature = "workflow-step",
        feature = "field-provider"
    ))
))]
pub mod widget;

pub use wit::axle::plugin::types::{
    Article, Channel, CustomField, Customer, Error, FieldValue, Notification, Priority, Ticket,
    TicketStatus, TicketSummary, Vehicle,
};

pub use config::PluginConfig;
/// The JSON Schema generator, re-exported so plugins need no dependency of their own.
pub use schemars;
/// Derives a JSON Schema for a config struct; add `#[schemars(crate = "axle_sdk::schemars")]`.
pub use schemars::JsonSchema;

/// What [`export!`] expands to needs; not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::wit::*;
}

/// Exports a type as this component's implementation of the enabled world.
///
/// Without a world feature there is nothing to export: enable one of `routing-rule`,
/// `workflow-step`, `field-provider` or `report-widget`.
#[cfg(not(any(
    feature = "routing-rule",
    feature = "workflow-step",
    feature = "field-provider",
    feature = "report-widget"
)))]
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        ::core::compile_error!(
            "axle_sdk::export! needs a world: enable one feature of axle-sdk \
             (routing-rule, workflow-step, field-provider or report-widget)"
        );
    };
}
