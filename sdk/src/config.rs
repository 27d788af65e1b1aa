//! This installation's configuration, as the tenant admin set it. Always granted.

use serde::de::DeserializeOwned;

use crate::Error;
use crate::wit::plugin::config as host;

/// The whole config object as JSON text; `{}` when none was given.
pub fn json() -> String {
    host::get_json()
}

/// One top-level config key as JSON text, or `None` when it is not set.
pub fn get(key: &str) -> Option<String> {
    host::get(key)
}

/// Deserializes the whole config into `T`.
///
/// Fails with `Error::InvalidInput("config: <serde message>")` when it does not fit `T`.
pub fn parse<T: DeserializeOwned>() -> Result<T, Error> {
    from_json(&json())
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
}
