use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::*;

const HEAD: &str = "name = \"demo\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n\n";

/// A `plugin.toml` whose `[config_schema]` is what `axle plugin build` writes for `T`.
fn generated_manifest<T: JsonSchema>() -> String {
    format!(
        "{HEAD}{}",
        as_manifest_toml(&derived::<T>().unwrap()).unwrap()
    )
}

/// Installation config of a routing rule.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Routing {
    /// The team tickets go to.
    #[schemars(length(min = 1))]
    team: String,
    /// How many recent tickets
    /// make a repeat contact.
    #[serde(default = "two")]
    #[schemars(range(min = 1, max = 10))]
    repeat_threshold: u32,
    /// A knowledge-base article to link.
    #[schemars(regex(pattern = "^https://"))]
    link: Option<String>,
    /// Words that select the rule.
    #[serde(default)]
    #[schemars(length(min = 1), inner(length(min = 1)))]
    keywords: Vec<String>,
    /// Managers by region.
    #[serde(default)]
    #[schemars(extend("additionalProperties" = { "type": "string", "minLength": 1 }))]
    managers: BTreeMap<String, String>,
    #[serde(default)]
    escalation: Option<Escalation>,
}

fn two() -> u32 {
    2
}

/// When to escalate.
#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Escalation {
    after_minutes: u16,
}

#[test]
fn the_struct_states_types_requirements_bounds_and_descriptions() {
    let schema = derived::<Routing>().unwrap();
    assert_eq!(
        schema,
        json!({
            "description": "Installation config of a routing rule.",
            "type": "object",
            "additionalProperties": false,
            "required": ["team"],
            "properties": {
                "team": {
                    "description": "The team tickets go to.",
                    "type": "string",
                    "minLength": 1,
                },
                "repeat_threshold": {
                    "description": "How many recent tickets make a repeat contact.",
                    "type": "integer",
                    "minimum": 1,
                    "maximum": 10,
                    "default": 2,
                },
                "link": {
                    "description": "A knowledge-base article to link.",
                    "type": ["string", "null"],
                    "pattern": "^https://",
                },
                "keywords": {
                    "description": "Words that select the rule.",
                    "type": "array",
                    "minItems": 1,
                    "items": { "type": "string", "minLength": 1 },
                    "default": [],
                },
                "managers": {
                    "description": "Managers by region.",
                    "type": "object",
                    "additionalProperties": { "type": "string", "minLength": 1 },
                    "default": {},
                },
                "escalation": {
                    // The nested struct is inlined: a manifest has no `$defs`.
                    "anyOf": [
                        {
                            "description": "When to escalate.",
                            "type": "object",
                            "properties": {
                                "after_minutes": {
                                    "type": "integer",
                                    "minimum": 0,
                                    "maximum": 65535,
                                },
                            },
                            "required": ["after_minutes"],
                        },
                        { "type": "null" },
                    ],
                },
            },
        })
    );
}

#[test]
fn the_generated_manifest_passes_its_own_check() {
    check_manifest::<Routing>(&generated_manifest::<Routing>()).unwrap();
}

#[test]
fn a_manifest_not_written_again_after_the_struct_changed_names_each_difference() {
    let stale = generated_manifest::<Routing>()
        .replace("minLength = 1\n", "")
        .replace("repeat_threshold", "threshold");
    let Err(ManifestCheckError::Disagree {
        differences,
        generated,
        ..
    }) = check_manifest::<Routing>(&stale)
    else {
        panic!("a stale manifest passed");
    };
    let paths: Vec<&str> = differences.iter().map(|d| d.path.as_str()).collect();
    assert!(
        paths.contains(&"config_schema.properties.team.minLength"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"config_schema.properties.threshold"),
        "{paths:?}"
    );
    assert!(
        paths.contains(&"config_schema.properties.repeat_threshold"),
        "{paths:?}"
    );
    let team = differences
        .iter()
        .find(|d| d.path == "config_schema.properties.team.minLength")
        .unwrap();
    assert_eq!(
        team.to_string(),
        "config_schema.properties.team.minLength: the manifest has nothing, the struct 1"
    );
    // The error carries what to write instead.
    assert_eq!(
        format!("{HEAD}{generated}"),
        generated_manifest::<Routing>()
    );
}

#[test]
fn a_config_with_fields_needs_a_schema_and_one_without_does_not() {
    assert!(matches!(
        check_manifest::<Routing>(HEAD),
        Err(ManifestCheckError::NoSchema { .. })
    ));

    #[derive(Deserialize, JsonSchema)]
    struct Nothing {}
    check_manifest::<Nothing>(HEAD).unwrap();
}

#[test]
fn whole_and_fractional_spellings_of_a_bound_are_the_same() {
    let mut out = Vec::new();
    differ(
        "x",
        &json!({ "minimum": 1.0 }),
        &json!({ "minimum": 1 }),
        &mut out,
    );
    assert!(out.is_empty(), "{out:?}");
    differ(
        "x",
        &json!({ "minimum": 1.5 }),
        &json!({ "minimum": 1 }),
        &mut out,
    );
    assert_eq!(out.len(), 1);
}

#[test]
fn a_manifest_that_is_not_toml_is_reported_as_such() {
    assert!(matches!(
        check_manifest::<Routing>("name = "),
        Err(ManifestCheckError::Toml(_))
    ));
}
