//! `plugin.toml`: what a plugin says about itself — name, version, world, the
//! capabilities it asks for, its config schema and the limits it wants.

use serde::{Deserialize, Serialize};

use crate::domain::plugin::{Capability, RequestedLimits, WitVersion, World};

/// A parsed, checked `plugin.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: semver::Version,
    pub world: World,
    /// The `axle:plugin` version the component is built against; `0.1.0` when omitted,
    /// because manifests written before versions existed targeted it.
    #[serde(default = "first_wit_version")]
    pub wit: WitVersion,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    #[serde(default)]
    pub limits: RequestedLimits,
    /// A JSON Schema for the installation's config.
    #[serde(default)]
    pub config_schema: Option<serde_json::Value>,
}

/// Why a manifest was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ManifestError {
    #[error("plugin.toml is not valid: {0}")]
    Syntax(String),
    #[error(
        "plugin name `{0}` must be 2-63 characters of a-z, 0-9 and `-`, starting with a letter"
    )]
    Name(String),
    #[error("config_schema is not a valid JSON Schema: {0}")]
    Schema(String),
    #[error(
        "capability `{capability}` needs wit = \"{needs}\" or later, but plugin.toml says wit = \"{wit}\"; rebuild the plugin with the current SDK and set wit = \"{needs}\""
    )]
    CapabilityTooNew {
        capability: &'static str,
        needs: WitVersion,
        wit: WitVersion,
    },
}

fn first_wit_version() -> WitVersion {
    WitVersion::V0_1_0
}

impl Manifest {
    /// Parses and checks `text`.
    pub fn parse(text: &str) -> Result<Manifest, ManifestError> {
        let mut manifest: Manifest =
            toml::from_str(text).map_err(|err| ManifestError::Syntax(err.message().to_owned()))?;
        if !valid_name(&manifest.name) {
            return Err(ManifestError::Name(manifest.name));
        }
        if let Some(schema) = &manifest.config_schema {
            jsonschema::validator_for(schema)
                .map_err(|err| ManifestError::Schema(err.to_string()))?;
        }
        manifest.capabilities.sort();
        manifest.capabilities.dedup();
        if let Some(&capability) = manifest
            .capabilities
            .iter()
            .find(|&&c| WitVersion::introducing(c) > manifest.wit)
        {
            return Err(ManifestError::CapabilityTooNew {
                capability: capability.as_str(),
                needs: WitVersion::introducing(capability),
                wit: manifest.wit,
            });
        }
        Ok(manifest)
    }

    /// `name@version`, the label audits and logs use.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    (2..=63).contains(&name.len())
        && chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Checks `config` against `schema`, returning every problem in one message.
pub fn check_config(
    schema: Option<&serde_json::Value>,
    config: &serde_json::Value,
) -> Result<(), String> {
    if !config.is_object() {
        return Err("config must be a JSON object".to_owned());
    }
    let Some(schema) = schema else {
        return Ok(());
    };
    let validator = jsonschema::validator_for(schema).map_err(|err| err.to_string())?;
    let problems: Vec<String> = validator
        .iter_errors(config)
        .map(|err| {
            let path = err.instance_path().to_string();
            if path.is_empty() {
                err.to_string()
            } else {
                format!("{path}: {err}")
            }
        })
        .collect();
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
        name = "safety-escalation"
        version = "0.1.0"
        world = "routing-rule"
        capabilities = ["notify", "log"]
        [limits]
        deadline_ms = 40
        [config_schema]
        type = "object"
        required = ["default_manager"]
        [config_schema.properties.default_manager]
        type = "string"
    "#;

    #[test]
    fn parses_a_routing_rule_manifest() {
        let manifest = Manifest::parse(MANIFEST).unwrap();
        assert_eq!(manifest.world, World::RoutingRule);
        assert_eq!(
            manifest.capabilities,
            vec![Capability::Log, Capability::Notify]
        );
        assert_eq!(manifest.limits.deadline_ms, Some(40));
        assert_eq!(manifest.label(), "safety-escalation@0.1.0");
    }

    #[test]
    fn rejects_unknown_worlds_and_keys() {
        let err = Manifest::parse(&MANIFEST.replace("routing-rule", "mind-reader")).unwrap_err();
        assert!(err.to_string().contains("mind-reader"), "{err}");
        let err = Manifest::parse(&format!("{MANIFEST}\n[extra]\nx = 1")).unwrap_err();
        assert!(err.to_string().contains("extra"), "{err}");
    }

    #[test]
    fn wit_version_defaults_to_the_first_release() {
        assert_eq!(Manifest::parse(MANIFEST).unwrap().wit, WitVersion::V0_1_0);
        let current = MANIFEST.replace(
            "world = \"routing-rule\"",
            "world = \"routing-rule\"\nwit = \"0.2.0\"",
        );
        assert_eq!(Manifest::parse(&current).unwrap().wit, WitVersion::V0_2_0);
        let err = Manifest::parse(&MANIFEST.replace(
            "world = \"routing-rule\"",
            "world = \"routing-rule\"\nwit = \"9.9.9\"",
        ))
        .unwrap_err();
        assert!(err.to_string().contains("9.9.9"), "{err}");
    }

    #[test]
    fn directory_needs_wit_0_2_0() {
        let asks = MANIFEST.replace("[\"notify\", \"log\"]", "[\"directory\"]");
        let err = Manifest::parse(&asks).unwrap_err();
        assert!(err.to_string().contains("wit = \"0.2.0\""), "{err}");
        let current = asks.replace(
            "world = \"routing-rule\"",
            "world = \"routing-rule\"\nwit = \"0.2.0\"",
        );
        assert_eq!(
            Manifest::parse(&current).unwrap().capabilities,
            vec![Capability::Directory]
        );
    }

    #[test]
    fn config_is_checked_against_the_schema() {
        let manifest = Manifest::parse(MANIFEST).unwrap();
        let schema = manifest.config_schema.as_ref();
        assert!(
            check_config(
                schema,
                &serde_json::json!({"default_manager": "+8613800000000"})
            )
            .is_ok()
        );
        let err = check_config(schema, &serde_json::json!({})).unwrap_err();
        assert!(err.contains("default_manager"), "{err}");
    }
}
