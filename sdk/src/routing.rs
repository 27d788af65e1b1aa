//! The `routing-rule` world: decide priority, queue, team and assignee for a ticket.
//!
//! # A complete routing rule
//!
//! Recall enquiries (English or Chinese) go to a configured queue at high priority. The
//! decision lives in a plain function, so a native unit test covers it; only
//! [`RoutingRule::route`] touches the host (for the config).
//!
//! `plugin.toml`:
//!
//! ```toml
//! name = "recall-routing"
//! version = "0.1.0"
//! world = "routing-rule"
//! description = "Routes recall enquiries to the recall queue at high priority."
//! capabilities = []
//!
//! [config_schema]
//! additionalProperties = false
//! description = "Where recall enquiries go."
//! required = ["keywords"]
//! type = "object"
//!
//! [config_schema.properties.keywords]
//! description = "Words that mark a recall enquiry, e.g. recall, 召回."
//! minItems = 1
//! type = "array"
//!
//! [config_schema.properties.keywords.items]
//! minLength = 1
//! type = "string"
//!
//! [config_schema.properties.queue]
//! default = "recalls"
//! description = "The queue recall enquiries go to."
//! minLength = 1
//! type = "string"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```rust,standalone_crate
//! use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
//! use axle_sdk::{Error, JsonSchema, PluginConfig, Priority, Ticket, text};
//! use serde::Deserialize;
//!
//! /// Where recall enquiries go.
//! #[derive(Debug, Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// Words that mark a recall enquiry, e.g. recall, 召回.
//!     #[schemars(length(min = 1), inner(length(min = 1)))]
//!     keywords: Vec<String>,
//!     /// The queue recall enquiries go to.
//!     #[serde(default = "recall_queue")]
//!     #[schemars(length(min = 1))]
//!     queue: String,
//! }
//!
//! fn recall_queue() -> String {
//!     "recalls".into()
//! }
//!
//! impl PluginConfig for Config {}
//!
//! struct RecallRouting;
//!
//! impl RoutingRule for RecallRouting {
//!     fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
//!         Ok(decide(&ticket, &Config::load()?))
//!     }
//! }
//!
//! axle_sdk::export!(RecallRouting);
//!
//! /// The decision for `ticket`, or `None` when it is not about a recall.
//! fn decide(ticket: &Ticket, config: &Config) -> Option<RoutingDecision> {
//!     let text = format!("{}\n{}", ticket.subject, ticket.description);
//!     let keyword = text::find_keyword(&text, &config.keywords)?;
//!     let mut decision = routing::decision(format!("recall enquiry (keyword \"{keyword}\")"));
//!     decision.priority = Some(Priority::High);
//!     decision.queue = Some(config.queue.clone());
//!     decision.tags.push("recall".into());
//!     Some(decision)
//! }
//!
//! # /*
//! #[cfg(test)]
//! # */
//! mod tests {
//!     use super::*;
//!     use axle_sdk::testing;
//!
//!     fn config() -> Config {
//!         Config::from_json(r#"{"keywords": ["recall", "召回"]}"#).unwrap()
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn chinese_recall_enquiry_goes_to_the_recall_queue() {
//!         let ticket = testing::ticket("召回咨询", "我的车在召回范围内吗?");
//!         let decision = decide(&ticket, &config()).unwrap();
//!         assert_eq!(decision.queue.as_deref(), Some("recalls"));
//!         assert_eq!(decision.priority, Some(Priority::High));
//!         assert!(decision.reason.contains("召回"), "{}", decision.reason);
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn other_tickets_are_left_alone() {
//!         let ticket = testing::ticket("Bluetooth drops", "CarPlay disconnects");
//!         assert_eq!(decide(&ticket, &config()), None);
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn config_struct_matches_the_manifest() {
//!         # /*
//!         testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
//!         # */
//!         # testing::assert_config_matches_manifest::<Config>(crate::PLUGIN_TOML);
//!     }
//!     # pub fn run() {
//!     #     chinese_recall_enquiry_goes_to_the_recall_queue();
//!     #     other_tickets_are_left_alone();
//!     #     config_struct_matches_the_manifest();
//!     # }
//! }
//! # // A doctest is not built with --test: the tests above run from main, and
//! # // PLUGIN_TOML is the manifest shown above.
//! # const PLUGIN_TOML: &str = r##"
//! # name = "recall-routing"
//! # version = "0.1.0"
//! # world = "routing-rule"
//! # description = "Routes recall enquiries to the recall queue at high priority."
//! # capabilities = []
//! #
//! # [config_schema]
//! # additionalProperties = false
//! # description = "Where recall enquiries go."
//! # required = ["keywords"]
//! # type = "object"
//! #
//! # [config_schema.properties.keywords]
//! # description = "Words that mark a recall enquiry, e.g. recall, 召回."
//! # minItems = 1
//! # type = "array"
//! #
//! # [config_schema.properties.keywords.items]
//! # minLength = 1
//! # type = "string"
//! #
//! # [config_schema.properties.queue]
//! # default = "recalls"
//! # description = "The queue recall enquiries go to."
//! # minLength = 1
//! # type = "string"
//! # "##;
//! # fn main() {
//! #     tests::run();
//! # }
//! ```
//!
//! Run the tests natively with `cargo test --target x86_64-unknown-linux-gnu` (your host's
//! triple), build the component with `cargo build --release --target wasm32-wasip2`, and
//! see the [plugin guide](https://github.com/axle/axle/blob/main/docs/plugin-guide.md) for
//! testing it in the real sandbox and publishing it.

pub use crate::wit::RoutingDecision;
use crate::{Error, Ticket};

/// A routing rule. The host calls [`RoutingRule::route`] for every new or updated ticket and
/// merges the decisions of all rules: highest priority wins, the first rule to name a queue,
/// team or assignee wins, tags and notifications are unioned.
///
/// The [module documentation](self) has a complete routing rule: manifest, config, this trait,
/// `export!` and native tests.
pub trait RoutingRule {
    /// Looks at `ticket` and returns a decision, or `None` when the rule does not apply.
    /// An error is recorded by the host, which routes the ticket without this rule.
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error>;
}

/// A decision that changes nothing yet: no priority, queue, team, assignee, tags or
/// notifications, only the `reason` an agent reads on the ticket's timeline.
pub fn decision(reason: impl Into<String>) -> RoutingDecision {
    RoutingDecision {
        priority: None,
        queue: None,
        team: None,
        assignee: None,
        tags: Vec::new(),
        notifications: Vec::new(),
        reason: reason.into(),
    }
}

/// Exports `$ty`, which implements [`RoutingRule`], as this component's routing rule.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyRule);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn route(
                    ticket: $crate::Ticket,
                ) -> ::core::result::Result<
                    ::core::option::Option<$crate::routing::RoutingDecision>,
                    $crate::Error,
                > {
                    <$ty as $crate::routing::RoutingRule>::route(ticket)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_carries_only_the_reason() {
        let d = decision("why");
        assert_eq!(d.reason, "why");
        assert!(d.priority.is_none() && d.queue.is_none() && d.team.is_none());
        assert!(d.assignee.is_none() && d.tags.is_empty() && d.notifications.is_empty());
    }
}
