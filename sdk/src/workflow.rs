//! The `workflow-step` world: react to ticket events with actions the host applies.
//!
//! # A complete workflow step
//!
//! New tickets get an acknowledgement in the customer's language and an `acknowledged` tag.
//! The actions come from a plain function that a native unit test covers; only
//! [`WorkflowStep::on_event`] touches the host (for the config).
//!
//! `plugin.toml`:
//!
//! ```toml
//! name = "acknowledge"
//! version = "0.1.0"
//! world = "workflow-step"
//! description = "Acknowledges new tickets in the customer's language (Chinese or English)."
//! capabilities = []
//!
//! [config_schema]
//! additionalProperties = false
//! description = "How new tickets are acknowledged."
//! required = ["greeting_zh", "greeting_en"]
//! type = "object"
//!
//! [config_schema.properties.channels]
//! default = []
//! description = "Channels to acknowledge; empty means all."
//! type = "array"
//!
//! [config_schema.properties.channels.items]
//! enum = ["web", "app", "hotline", "email", "wechat"]
//! type = "string"
//!
//! [config_schema.properties.greeting_en]
//! description = "The acknowledgement for all other tickets."
//! minLength = 1
//! type = "string"
//!
//! [config_schema.properties.greeting_zh]
//! description = "中文工单的自动回复。"
//! minLength = 1
//! type = "string"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```rust,standalone_crate
//! use axle_sdk::workflow::{Action, Event, Reply, WorkflowStep};
//! use axle_sdk::{Error, JsonSchema, PluginConfig, Ticket};
//! use serde::Deserialize;
//!
//! /// How new tickets are acknowledged.
//! #[derive(Debug, Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// 中文工单的自动回复。
//!     #[schemars(length(min = 1))]
//!     greeting_zh: String,
//!     /// The acknowledgement for all other tickets.
//!     #[schemars(length(min = 1))]
//!     greeting_en: String,
//!     /// Channels to acknowledge; empty means all.
//!     #[serde(default)]
//!     #[schemars(extend("items" = {
//!         "type": "string", "enum": ["web", "app", "hotline", "email", "wechat"]
//!     }))]
//!     channels: Vec<String>,
//! }
//!
//! impl PluginConfig for Config {
//!     fn check(&self) -> Result<(), String> {
//!         if self.greeting_zh.trim().is_empty() || self.greeting_en.trim().is_empty() {
//!             return Err("greeting_zh and greeting_en must both say something".into());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! struct Acknowledge;
//!
//! impl WorkflowStep for Acknowledge {
//!     fn on_event(event: Event) -> Result<Vec<Action>, Error> {
//!         // Only new tickets: an update must not send a second acknowledgement.
//!         if event.kind != "ticket.created" {
//!             return Ok(Vec::new());
//!         }
//!         Ok(acknowledge(&event.ticket, &Config::load()?))
//!     }
//! }
//!
//! axle_sdk::export!(Acknowledge);
//!
//! /// A reply in the ticket's language and an `acknowledged` tag; nothing for channels the
//! /// config leaves out.
//! fn acknowledge(ticket: &Ticket, config: &Config) -> Vec<Action> {
//!     if !config.channels.is_empty() && !config.channels.contains(&ticket.channel) {
//!         return Vec::new();
//!     }
//!     let text = format!("{}{}", ticket.subject, ticket.description);
//!     let chinese = text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c));
//!     let body = if chinese { &config.greeting_zh } else { &config.greeting_en };
//!     vec![
//!         Action::Reply(Reply { body: body.clone(), link: None }),
//!         Action::AddTags(vec!["acknowledged".into()]),
//!     ]
//! }
//!
//! # /*
//! #[cfg(test)]
//! # */
//! mod tests {
//!     use super::*;
//!     use axle_sdk::testing;
//!
//!     fn config(channels: &str) -> Config {
//!         Config::from_json(&format!(
//!             r#"{{"greeting_zh": "您好,我们已收到您的问题。",
//!                 "greeting_en": "Thanks, we got your request.",
//!                 "channels": {channels}}}"#
//!         ))
//!         .unwrap()
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn chinese_tickets_get_the_chinese_greeting() {
//!         let ticket = testing::ticket("空调不制冷", "开了二十分钟还是热风");
//!         let actions = acknowledge(&ticket, &config("[]"));
//!         assert_eq!(
//!             actions[0],
//!             Action::Reply(Reply { body: "您好,我们已收到您的问题。".into(), link: None })
//!         );
//!         assert_eq!(actions[1], Action::AddTags(vec!["acknowledged".into()]));
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn channels_left_out_of_the_config_get_nothing() {
//!         let ticket = testing::ticket("A/C blows warm air", "");
//!         assert!(acknowledge(&ticket, &config(r#"["app"]"#)).is_empty());
//!         assert_eq!(acknowledge(&ticket, &config(r#"["web"]"#)).len(), 2);
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn blank_greetings_are_a_config_error() {
//!         let err = Config::from_json(r#"{"greeting_zh": " ", "greeting_en": "Hi"}"#);
//!         assert!(matches!(err, Err(Error::InvalidInput(m)) if m.contains("greeting_zh")));
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
//!     #     chinese_tickets_get_the_chinese_greeting();
//!     #     channels_left_out_of_the_config_get_nothing();
//!     #     blank_greetings_are_a_config_error();
//!     #     config_struct_matches_the_manifest();
//!     # }
//! }
//! # // A doctest is not built with --test: the tests above run from main, and
//! # // PLUGIN_TOML is the manifest shown above.
//! # const PLUGIN_TOML: &str = r##"
//! # name = "acknowledge"
//! # version = "0.1.0"
//! # world = "workflow-step"
//! # description = "Acknowledges new tickets in the customer's language (Chinese or English)."
//! # capabilities = []
//! #
//! # [config_schema]
//! # additionalProperties = false
//! # description = "How new tickets are acknowledged."
//! # required = ["greeting_zh", "greeting_en"]
//! # type = "object"
//! #
//! # [config_schema.properties.channels]
//! # default = []
//! # description = "Channels to acknowledge; empty means all."
//! # type = "array"
//! #
//! # [config_schema.properties.channels.items]
//! # enum = ["web", "app", "hotline", "email", "wechat"]
//! # type = "string"
//! #
//! # [config_schema.properties.greeting_en]
//! # description = "The acknowledgement for all other tickets."
//! # minLength = 1
//! # type = "string"
//! #
//! # [config_schema.properties.greeting_zh]
//! # description = "中文工单的自动回复。"
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

use crate::Error;
pub use crate::wit::{Action, Assignment, Event, Reply};

/// A workflow step. The host calls [`WorkflowStep::on_event`] for each ticket event
/// (`ticket.created`, `ticket.updated`, …) and applies the returned actions in order, in one
/// transaction.
///
/// The [module documentation](self) has a complete workflow step: manifest, config, this trait,
/// `export!` and native tests.
pub trait WorkflowStep {
    /// Handles `event` and returns the actions to apply, possibly none. An error is recorded
    /// by the host, which then applies nothing from this step.
    fn on_event(event: Event) -> Result<Vec<Action>, Error>;
}

/// Exports `$ty`, which implements [`WorkflowStep`], as this component's workflow step.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyStep);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn on_event(
                    event: $crate::workflow::Event,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::workflow::Action>,
                    $crate::Error,
                > {
                    <$ty as $crate::workflow::WorkflowStep>::on_event(event)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
