//! This installation's configuration, as the tenant admin set it. Always granted.
//!
//! Declare the config as a serde struct, mark it [`PluginConfig`] and read it with
//! [`PluginConfig::load`]:
//!
//! ```
//! use axle_sdk::config::PluginConfig;
//! use axle_sdk::{JsonSchema, config};
//! use serde::Deserialize;
//!
//! /// Where VIP tickets go.
//! #[derive(Debug, Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// The team VIP tickets go to.
//!     team: String,
//!     /// Tickets of customers with this many recent tickets are tagged `repeat-contact`.
//!     #[serde(default = "default_threshold")]
//!     repeat_threshold: u32,
//! }
//!
//! fn default_threshold() -> u32 {
//!     2
//! }
//!
//! impl PluginConfig for Config {
//!     fn check(&self) -> Result<(), String> {
//!         if self.team.trim().is_empty() {
//!             return Err("team must name a team, e.g. vip-care".into());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! // In the plugin: `let config = Config::load()?;` (a host call, so only inside the host).
//! // In a native test, the same parsing and checks from JSON text:
//! let config = Config::from_json(r#"{"team": "vip-care"}"#).unwrap();
//! assert_eq!(config.repeat_threshold, 2);
//! let err = Config::from_json(r#"{"team": " "}"#).unwrap_err();
//! assert_eq!(err, axle_sdk::Error::InvalidInput("config: team must name a team, e.g. vip-care".into()));
//! ```
//!
//! `#[derive(JsonSchema)]` gives the struct the schema `axle plugin build` writes into
//! `plugin.toml`, and lets a unit test check that the two agree (see
//! [`config_schema`](crate::config_schema) and
//! [`testing::assert_config_matches_manifest`](crate::testing::assert_config_matches_manifest)).
//! The `#[schemars(crate = …)]` line points the derive at the SDK's copy of `schemars`, so the
//! plugin needs no dependency of its own.

use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::Error;
use crate::wit::plugin::config as host;

/// A plugin's typed configuration: a serde struct whose JSON Schema is `plugin.toml`'s
/// `[config_schema]`. Implement it with an empty block, or override [`check`](Self::check)
/// for rules the schema cannot state.
pub trait PluginConfig: DeserializeOwned {
    /// Checks what serde and the manifest's schema cannot (a phone number's format, two
    /// fields that exclude each other). The message says what is wrong and how to fix it;
    /// it reaches the plugin as `Error::InvalidInput("config: <message>")`.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }

    /// This installation's config, parsed and checked. The host is asked once per invocation
    /// (each invocation runs in a fresh instance, so a changed config is seen by the next
    /// one).
    fn load() -> Result<Self, Error> {
        Self::from_json(cached_json())
    }

    /// Parses and checks config JSON text, with the errors of [`load`](Self::load). Works
    /// natively, so tests can check what a plugin makes of a given config.
    fn from_json(json: &str) -> Result<Self, Error> {
        let config: Self = from_json(json)?;
        config
            .check()
            .map_err(|message| Error::InvalidInput(format!("config: {message}")))?;
        Ok(config)
    }
}

/// The config JSON, fetched from the host on first use. A fresh instance serves each
/// invocation, so this lives exactly as long as one invocation.
fn cached_json() -> &'static str {
    static JSON: OnceLock<String> = OnceLock::new();
    JSON.get_or_init(host::get_json)
}

/// The whole config object as JSON text; `{}` when none was given.
pub fn json() -> String {
    cached_json().to_owned()
}

/// One top-level config key as JSON text, or `None` when it is not set.
pub fn get(key: &str) -> Option<String> {
    host::get(key)
}

/// Deserializes the whole config into `T`.
///
/// Fails with `Error::InvalidInput("config: <serde message>")` when it does not fit `T`.
pub fn parse<T: DeserializeOwned>() -> Result<T, Error> {
    from_json(cached_json())
}

/// Deserializes config JSON text into `T`, with the same errors as [`parse`]. Works natively,
/// so tests can check what a plugin makes of a given config.
pub fn from_json<T: DeserializeOwned>(json: &str) -> Result<T, Error> {
    serde_json::from_str(json).map_err(|e| Error::InvalidInput(format!("config: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    struct Team {
        team: String,
    }

    #[test]
    fn from_json_reads_a_matching_object() {
        let team: Team = from_json(r#"{"team": "vip-care"}"#).unwrap();
        assert_eq!(team.team, "vip-care");
    }

    #[test]
    fn from_json_names_the_config_in_its_error() {
        let err = from_json::<Team>("{}").unwrap_err();
        let Error::InvalidInput(message) = err else {
            panic!("expected invalid-input, got {err:?}");
        };
        assert!(
            message.starts_with("config: missing field `team`"),
            "{message}"
        );
    }

    #[derive(Debug, serde::Deserialize)]
    struct Thresholds {
        low: u32,
        high: u32,
    }

    impl PluginConfig for Thresholds {
        fn check(&self) -> Result<(), String> {
            if self.low > self.high {
                return Err(format!(
                    "low ({}) must not exceed high ({})",
                    self.low, self.high
                ));
            }
            Ok(())
        }
    }

    #[test]
    fn plugin_config_runs_its_check_after_parsing() {
        let ok = Thresholds::from_json(r#"{"low": 1, "high": 2}"#).unwrap();
        assert_eq!((ok.low, ok.high), (1, 2));
        let err = Thresholds::from_json(r#"{"low": 3, "high": 2}"#).unwrap_err();
        assert_eq!(
            err,
            Error::InvalidInput("config: low (3) must not exceed high (2)".into())
        );
    }

    #[test]
    fn plugin_config_reports_parse_errors_before_checking() {
        let err = Thresholds::from_json(r#"{"low": -1, "high": 2}"#).unwrap_err();
        let Error::InvalidInput(message) = err else {
            panic!("expected invalid-input, got {err:?}");
        };
        assert!(message.starts_with("config: invalid value"), "{message}");
    }
}
