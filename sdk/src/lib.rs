//! Write Axle plugins in Rust.
//!
//! Axle plugins are WebAssembly components built against the `axle:plugin` WIT contract. This
//! crate hides the generated bindings behind plain Rust: the record types ([`Ticket`],
//! [`Customer`], [`Vehicle`], …), one module per host capability ([`config`], [`log`],
//! [`kv`], [`records`], [`notify`]), one trait per world and one [`export!`] macro.
//!
//! # From zero to a working plugin
//!
//! **1. Tools.** Rust 1.95 or newer and the component target:
//! `rustup target add wasm32-wasip2`. The `axle` binary scaffolds, tests and publishes
//! plugins (`axle plugin new NAME --world routing-rule` writes the files below for you);
//! see `docs/plugin-guide.md` in the Axle repository.
//!
//! **2. Pick a world.** A plugin is exactly one of:
//!
//! | world | feature | trait | the host calls it |
//! |---|---|---|---|
//! | routing rule | `routing-rule` | `routing::RoutingRule` | for each new or updated ticket: priority, queue, team, assignee |
//! | workflow step | `workflow-step` | `workflow::WorkflowStep` | for each ticket event: actions (reply, assign, tag, …) |
//! | field provider | `field-provider` | `fields::FieldProvider` | when records are saved: computed and validated custom fields |
//! | report widget | `report-widget` | `widget::ReportWidget` | for a dashboard: declare a dataset, render it |
//!
//! Only the enabled world's module exists, so its page (with a complete example plugin:
//! config, trait impl, `export!` and native tests) shows up in docs built with that feature:
//! `cargo doc -p axle-sdk --features workflow-step --open`.
//!
//! **3. `Cargo.toml`.** A `cdylib` that enables one world feature:
//!
//! ```toml
//! [package]
//! name = "axle-plugin-recall-routing"
//! version = "0.1.0"
//! edition = "2024"
//!
//! [lib]
//! crate-type = ["cdylib"]
//!
//! [dependencies]
//! axle-sdk = { version = "0.1", features = ["routing-rule"] }   # exactly one world
//! serde = { version = "1", features = ["derive"] }
//!
//! [profile.release]
//! opt-level = "s"
//! lto = true
//! strip = true
//! ```
//!
//! **4. `plugin.toml`**, the manifest the host reads: name, version, world, the capabilities
//! the tenant admin must approve (`kv`, `records`, `notify`; `log` and `config` are always
//! granted), optional limits, and the JSON Schema of the installation's config, which
//! `axle plugin build` writes from the config struct of step 5:
//!
//! ```toml
//! name = "safety-first"
//! version = "0.1.0"
//! world = "routing-rule"
//! description = "Critical priority for safety complaints."
//! capabilities = []
//!
//! [config_schema]
//! additionalProperties = false
//! description = "Where safety complaints go."
//! required = ["queue"]
//! type = "object"
//!
//! [config_schema.properties.queue]
//! description = "The queue safety complaints go to."
//! minLength = 1
//! type = "string"
//! ```
//!
//! **5. `src/lib.rs`.** A config struct, the world trait, and [`export!`]. Keep decisions in
//! plain functions: host calls ([`PluginConfig::load`], [`kv`], [`records`], [`notify`],
//! [`log`]) only work inside the host and panic natively.
//!
//! ```rust,standalone_crate
//! # #[cfg(feature = "routing-rule")]
//! # mod plugin {
//! use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
//! use axle_sdk::{Error, JsonSchema, PluginConfig, Priority, Ticket, text};
//! use serde::Deserialize;
//!
//! /// Where safety complaints go.
//! #[derive(Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! pub struct Config {
//!     /// The queue safety complaints go to.
//!     #[schemars(length(min = 1))]
//!     pub queue: String,
//! }
//!
//! impl PluginConfig for Config {}
//!
//! struct SafetyFirst;
//!
//! impl RoutingRule for SafetyFirst {
//!     fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
//!         Ok(decide(&ticket, &Config::load()?))
//!     }
//! }
//!
//! axle_sdk::export!(SafetyFirst);
//!
//! /// Safety complaints (刹车 = brakes, 气囊 = airbag) go to the configured queue.
//! pub fn decide(ticket: &Ticket, config: &Config) -> Option<RoutingDecision> {
//!     let text = format!("{}\n{}", ticket.subject, ticket.description);
//!     let keyword = text::find_keyword(&text, &["brake", "airbag", "刹车", "气囊"])?;
//!     let mut decision = routing::decision(format!("safety keyword \"{keyword}\""));
//!     decision.priority = Some(Priority::Critical);
//!     decision.queue = Some(config.queue.clone());
//!     Some(decision)
//! }
//! # }
//! # fn main() {
//! #     #[cfg(feature = "routing-rule")]
//! #     {
//! #         let config = <plugin::Config as axle_sdk::PluginConfig>::from_json(r#"{"queue": "safety"}"#).unwrap();
//! #         let ticket = axle_sdk::testing::ticket("刹车失灵", "");
//! #         let decision = plugin::decide(&ticket, &config).unwrap();
//! #         assert_eq!(decision.queue.as_deref(), Some("safety"));
//! #         axle_sdk::testing::assert_config_matches_manifest::<plugin::Config>(
//! #             "name = \"safety-first\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n\
//! #              [config_schema]\nadditionalProperties = false\n\
//! #              description = \"Where safety complaints go.\"\nrequired = [\"queue\"]\n\
//! #              type = \"object\"\n[config_schema.properties.queue]\n\
//! #              description = \"The queue safety complaints go to.\"\nminLength = 1\n\
//! #              type = \"string\"\n",
//! #         );
//! #     }
//! # }
//! ```
//!
//! **6. Test natively.** Unit tests call the plain functions with fixture records from
//! [`testing`] and config parsed by [`PluginConfig::from_json`]. One more test, named
//! `config_struct_matches_the_manifest`, keeps `plugin.toml` and the config struct in step
//! (each world's example has it), and is how `axle plugin build` learns the schema:
//! `axle_sdk::testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"))`.
//!
//! Run them with `cargo test --target x86_64-unknown-linux-gnu` (your host's triple; a
//! plugin workspace usually sets `wasm32-wasip2` as its default target).
//!
//! **7. Build** with `cargo build --release --target wasm32-wasip2`: the `cdylib` in
//! `target/wasm32-wasip2/release/` is the component. Upload it with its `plugin.toml`
//! (`axle plugin publish`), install it for a tenant with a config and the capabilities it
//! asks for (`axle plugin install`), and watch its decisions on the tickets' timelines.
//!
//! # Typed config
//!
//! The tenant admin sets each installation's config; the host checks it against the
//! manifest's `config_schema` before the plugin ever sees it. The plugin declares that
//! object as a serde struct implementing [`PluginConfig`] and reads it with
//! [`PluginConfig::load`] (fetched once per invocation); `axle plugin build` writes the
//! manifest's `config_schema` from the struct. [`config_schema`] (native only) says how.
//!
//! # Limits
//!
//! Each invocation runs in a fresh instance under a deadline, a memory cap, input and
//! output size caps and a log budget (manifest `[limits]`: `deadline_ms`, `memory_mib`,
//! `input_kib`, `output_kib`, `log_kib`). A trap, timeout or error is recorded and the ticket
//! goes on without the plugin's decision; repeated failures suspend the installation.

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
pub mod directory;
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

pub use wit::plugin::types::{
    Article, Channel, CustomField, Customer, Error, FieldValue, Notification, Priority, Ticket,
    TicketStatus, TicketSummary, Vehicle,
};

/// VINs read and checked by the same rules as the host's: `Vin::parse` refuses a wrong
/// check digit, `Vin::read` reads the maker and year of any well-formed VIN.
pub use axle_vin as vin;
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
