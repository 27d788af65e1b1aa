//! `plugin.toml`'s `config_schema`, generated from the plugin's config struct. Native only.
//!
//! The host validates an installation's config against the manifest's schema; the plugin
//! then deserializes it into its struct. Written by hand in two files, the two drift apart:
//! a field renamed in Rust but not in the manifest, a new required field the manifest lets
//! admins leave out. So the struct is the one source: [`schemars`] derives its schema,
//! [`as_manifest_toml`] writes that as the manifest's `[config_schema]`, and
//! `axle plugin build` puts it into `plugin.toml`. What the manifest should say beyond the
//! struct's types is said on the struct, where serde and the host then agree on it:
//!
//! - doc comments become `description`s, each paragraph on one line;
//! - `#[serde(default)]` and `Option` fields are not `required`;
//!   `#[serde(deny_unknown_fields)]` is `additionalProperties = false`;
//! - `#[schemars(length(min = 1))]` is `minLength` (strings) or `minItems` (lists);
//!   `#[schemars(range(min = 1, max = 10))]` is `minimum`/`maximum`;
//!   `#[schemars(regex(pattern = "^https://"))]` is `pattern`;
//!   `#[schemars(inner(length(min = 1)))]` constrains a list's items;
//! - `#[schemars(extend("additionalProperties" = { "type": "string", "minLength": 1 }))]`
//!   states what no attribute does, here the values of a map.
//!
//! [`check_manifest`] is the check that the two still agree: the plugin's unit test
//! `config_struct_matches_the_manifest` calls it through
//! [`testing::assert_config_matches_manifest`](crate::testing::assert_config_matches_manifest),
//! and it fails, naming each difference, when the struct changed and the manifest was not
//! written again.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

/// The unit test through which `axle plugin build` derives the schema: any test whose name
/// contains this, run natively with [`OUT_VAR`] set.
pub const TEST_NAME: &str = "config_struct_matches_the_manifest";

/// Set to a file path, [`testing::assert_config_matches_manifest`](crate::testing::assert_config_matches_manifest)
/// writes the struct's `[config_schema]` there instead of checking the manifest: this is how
/// `axle plugin build` asks a plugin for its schema.
pub const OUT_VAR: &str = "AXLE_CONFIG_SCHEMA_OUT";

/// The schema of `T` as the manifest states it: `$ref`s inlined, and the generator's
/// bookkeeping dropped (`$schema`, `$defs`, the root title, Rust integer formats, `null`
/// defaults). `None` when it is too deep to write out (a recursive type).
pub fn derived<T: schemars::JsonSchema>() -> Option<Value> {
    let root = schemars::SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value();
    inline(&root, &root, 0)
}

/// `schema` as `plugin.toml`'s `[config_schema]` tables.
pub fn as_manifest_toml(schema: &Value) -> Option<String> {
    let mut table = BTreeMap::new();
    table.insert("config_schema", schema);
    toml::to_string(&table).ok()
}

/// Checks that the `config_schema` of `manifest_toml` (a whole `plugin.toml`) is the one
/// derived from `T`.
pub fn check_manifest<T: schemars::JsonSchema>(
    manifest_toml: &str,
) -> Result<(), ManifestCheckError> {
    let manifest: toml::Table =
        toml::from_str(manifest_toml).map_err(|err| ManifestCheckError::Toml(err.to_string()))?;
    let config = T::schema_name().into_owned();
    let strukt = derived::<T>().ok_or_else(|| ManifestCheckError::TooDeep(config.clone()))?;
    let generated = as_manifest_toml(&strukt).unwrap_or_default();
    let Some(schema) = manifest.get("config_schema") else {
        let has_fields = strukt
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        return if has_fields {
            Err(ManifestCheckError::NoSchema { config, generated })
        } else {
            Ok(())
        };
    };
    let schema =
        serde_json::to_value(schema).map_err(|err| ManifestCheckError::Toml(err.to_string()))?;
    let mut differences = Vec::new();
    differ("config_schema", &schema, &strukt, &mut differences);
    if differences.is_empty() {
        Ok(())
    } else {
        Err(ManifestCheckError::Disagree {
            config,
            differences,
            generated,
        })
    }
}

/// Where the manifest's schema and the struct's differ.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    /// The key in the manifest: `config_schema.properties.team.minLength`.
    pub path: String,
    /// The manifest's value there; `None` when it has none.
    pub manifest: Option<Value>,
    /// The struct's value there; `None` when it has none.
    pub strukt: Option<Value>,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |value: &Option<Value>| match value {
            Some(value) => value.to_string(),
            None => "nothing".to_owned(),
        };
        write!(
            f,
            "{}: the manifest has {}, the struct {}",
            self.path,
            show(&self.manifest),
            show(&self.strukt)
        )
    }
}

/// Records in `out` every key below `path` where `manifest` and `strukt` differ: objects
/// key by key, anything else as a whole.
fn differ(path: &str, manifest: &Value, strukt: &Value, out: &mut Vec<Difference>) {
    match (manifest, strukt) {
        (Value::Object(manifest), Value::Object(strukt)) => {
            let keys: std::collections::BTreeSet<&String> =
                manifest.keys().chain(strukt.keys()).collect();
            for key in keys {
                let path = format!("{path}.{key}");
                match (manifest.get(key), strukt.get(key)) {
                    (Some(m), Some(s)) => differ(&path, m, s, out),
                    (m, s) => out.push(Difference {
                        path,
                        manifest: m.cloned(),
                        strukt: s.cloned(),
                    }),
                }
            }
        }
        // TOML has one number type per kind; 1 and 1.0 are the same bound.
        (Value::Number(m), Value::Number(s)) if m.as_f64() == s.as_f64() => {}
        _ if manifest == strukt => {}
        _ => out.push(Difference {
            path: path.to_owned(),
            manifest: Some(manifest.clone()),
            strukt: Some(strukt.clone()),
        }),
    }
}

/// Why a config struct and `plugin.toml` do not match.
#[derive(Debug, thiserror::Error)]
pub enum ManifestCheckError {
    /// The manifest text is not TOML.
    #[error("plugin.toml is not valid TOML: {0}")]
    Toml(String),
    /// The struct's schema nests too deep to write out.
    #[error("the schema of `{0}` nests too deep to write into plugin.toml (a recursive type?)")]
    TooDeep(String),
    /// The struct has settings, the manifest declares none.
    #[error(
        "plugin.toml has no [config_schema] but `{config}` has fields, so the host would accept \
         any config; run `axle plugin build`, which writes it, or add:\n\n{generated}"
    )]
    NoSchema {
        /// The struct's name.
        config: String,
        /// The struct's schema as `[config_schema]`.
        generated: String,
    },
    /// The two differ.
    #[error("{}", disagreement(.config, .differences, .generated))]
    Disagree {
        /// The struct's name.
        config: String,
        /// Every difference.
        differences: Vec<Difference>,
        /// The struct's schema as `[config_schema]`.
        generated: String,
    },
}

fn disagreement(config: &str, differences: &[Difference], generated: &str) -> String {
    let mut text = format!(
        "plugin.toml's [config_schema] is not the one `{config}` derives ({} difference{}):\n",
        differences.len(),
        if differences.len() == 1 { "" } else { "s" }
    );
    for difference in differences {
        text.push_str(&format!("  - {difference}\n"));
    }
    text.push_str(&format!(
        "\nState on the struct what the manifest should say (see axle_sdk::config_schema) and \
         run `axle plugin build`, which writes `{config}`'s schema into plugin.toml:\n\n\
         {generated}"
    ));
    text
}

/// Resolves a local `$ref` (`#/$defs/Entry`) against `root`.
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    root.pointer(pointer)
}

fn inline(root: &Value, schema: &Value, depth: usize) -> Option<Value> {
    if depth > 16 {
        return None;
    }
    match schema {
        Value::Object(object) => {
            let mut out = Map::new();
            if let Some(target) = object
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| resolve(root, r))
                && let Value::Object(target) = inline(root, target, depth + 1)?
            {
                out.extend(target);
            }
            for (key, value) in object {
                let bookkeeping = matches!(key.as_str(), "$ref" | "$schema" | "$defs")
                    || (depth == 0 && key == "title")
                    || (key == "format" && value.as_str().is_some_and(is_rust_number_format))
                    || value.is_null();
                if bookkeeping {
                    continue;
                }
                let value = match (key.as_str(), value) {
                    ("description", Value::String(text)) => Value::String(unwrapped(text)),
                    _ => inline(root, value, depth + 1)?,
                };
                out.insert(key.clone(), value);
            }
            Some(Value::Object(out))
        }
        Value::Array(items) => Some(Value::Array(
            items
                .iter()
                .filter(|v| !v.is_null())
                .map(|v| inline(root, v, depth + 1))
                .collect::<Option<_>>()?,
        )),
        other => Some(other.clone()),
    }
}

/// A doc comment as prose: the lines of each paragraph joined, since they were wrapped for
/// the source file, not for the admin who reads them beside a form field.
fn unwrapped(text: &str) -> String {
    text.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The `format`s schemars gives Rust number types, which mean nothing to a JSON Schema
/// validator.
fn is_rust_number_format(format: &str) -> bool {
    matches!(
        format,
        "int"
            | "uint"
            | "double"
            | "float"
            | "int8"
            | "int16"
            | "int32"
            | "int64"
            | "int128"
            | "uint8"
            | "uint16"
            | "uint32"
            | "uint64"
            | "uint128"
    )
}

#[cfg(test)]
mod tests;
