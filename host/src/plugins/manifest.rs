//! `plugin.toml`: what a plugin says about itself — name, version, world, the
//! capabilities it asks for, its config schema and the limits it wants.

use serde::{Deserialize, Serialize};

use super::limits::RequestedLimits;

/// The contract version this host serves.
pub const WIT_VERSION: &str = "0.1.0";

/// The four plugin worlds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum World {
    RoutingRule,
    WorkflowStep,
    FieldProvider,
    ReportWidget,
}

impl World {
    /// The world's WIT name.
    pub fn as_str(self) -> &'static str {
        match self {
            World::RoutingRule => "routing-rule",
            World::WorkflowStep => "workflow-step",
            World::FieldProvider => "field-provider",
            World::ReportWidget => "report-widget",
        }
    }

    /// Parses the WIT name.
    pub fn parse(text: &str) -> Option<World> {
        [
            World::RoutingRule,
            World::WorkflowStep,
            World::FieldProvider,
            World::ReportWidget,
        ]
        .into_iter()
        .find(|world| world.as_str() == text)
    }
}

/// A host capability a plugin can import.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Log,
    Config,
    Kv,
    Records,
    Notify,
}

impl Capability {
    /// The WIT interface name.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Log => "log",
            Capability::Config => "config",
            Capability::Kv => "kv",
            Capability::Records => "records",
            Capability::Notify => "notify",
        }
    }

    /// Parses the interface name.
    pub fn parse(text: &str) -> Option<Capability> {
        [
            Capability::Log,
            Capability::Config,
            Capability::Kv,
            Capability::Records,
            Capability::Notify,
        ]
        .into_iter()
        .find(|cap| cap.as_str() == text)
    }

    /// Whether every installation has it without a grant.
    pub fn always_granted(self) -> bool {
        matches!(self, Capability::Log | Capability::Config)
    }
}

/// A parsed, checked `plugin.toml`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub name: String,
    pub version: semver::Version,
    pub world: World,
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
