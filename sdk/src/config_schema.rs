//! Checks that `plugin.toml`'s `config_schema` and the plugin's config struct describe the
//! same config. Native only: plugins run it in a unit test through
//! [`testing::assert_config_matches_manifest`](crate::testing::assert_config_matches_manifest).
//!
//! The host validates an installation's config against the manifest's schema; the plugin
//! then deserializes it into its struct. The two are written by hand in different files and
//! drift apart: a field renamed in Rust but not in the manifest, a new required field the
//! manifest lets admins leave out. This module compares the manifest's schema with the one
//! [`schemars`] derives from the struct.
//!
//! # What "compatible" means
//!
//! The manifest must not allow what the struct cannot parse, and both must offer the same
//! settings:
//!
//! - **Properties**: the same names on both sides. A property only in the manifest is either
//!   ignored by the plugin or makes it reject the config; one only in the struct cannot be
//!   set by an admin (or is rejected by the host). Map-like objects
//!   (`additionalProperties = {…}`) compare their value schemas instead.
//! - **Required**: the same set. A field the struct needs but the manifest lets admins leave
//!   out fails at parse time; a field the manifest demands but the struct defaults makes the
//!   default dead.
//! - **Types**: every type the manifest allows must be one the struct takes. The struct may
//!   take more (an `Option` also takes `null`; an `f64` also takes integers).
//! - **Enums**: the same values on both sides, and a manifest that restricts a string the
//!   struct restricts to an enum.
//! - **Unknown keys**: when the struct has `#[serde(deny_unknown_fields)]`, the manifest needs
//!   `additionalProperties = false`.
//! - **Bounds**: the manifest is at least as strict as the struct's `minimum`/`maximum`
//!   (a `u32` field needs `minimum = 0`), `minLength`/`maxLength`, `minItems`/`maxItems` and
//!   `pattern` (which must be the same text).
//! - **Defaults**: where both sides state a default, it is the same value.
//!
//! The manifest may be stricter in everything else: `minLength`, `pattern`, `format`,
//! `maximum` and the like on the manifest alone only narrow what admins can enter.
//! Descriptions, titles and examples are never compared. Alternatives that do not reduce to
//! one type (enums with data) compare branch by branch, in order.
//!
//! What the check cannot see: `format` is an annotation on both sides, so a field of a date
//! or URL type parses only dates or URLs however the manifest describes it; and a struct
//! keyword it does not model (`not`, `if`, …) is reported as unsupported rather than passed.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

/// Where a mismatch is, as a path into the config: `config.entries[].answer`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The config path, starting at `config`.
    pub path: String,
    /// What disagrees.
    pub problem: Problem,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.problem)
    }
}

/// One way the manifest and the struct disagree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A property the manifest declares but the struct has no field for.
    OnlyInManifest {
        /// The property name.
        property: String,
        /// Whether the struct rejects unknown fields (else it ignores them).
        struct_denies_unknown: bool,
    },
    /// A field the struct has but the manifest does not declare.
    OnlyInStruct {
        /// The property name.
        property: String,
        /// Whether the manifest forbids undeclared properties (else it accepts them untyped).
        manifest_denies_unknown: bool,
    },
    /// The struct requires it (no `#[serde(default)]`, not an `Option`), the manifest does not.
    RequiredOnlyByStruct(String),
    /// The manifest requires it, the struct has a default for it.
    RequiredOnlyByManifest(String),
    /// The manifest allows JSON types the struct cannot parse.
    Types {
        /// What the manifest allows; empty means any type.
        manifest: Vec<String>,
        /// What the struct takes.
        strukt: Vec<String>,
    },
    /// The two sides list different enum values.
    EnumValues {
        /// Values only the manifest lists.
        only_manifest: Vec<Value>,
        /// Values only the struct accepts.
        only_struct: Vec<Value>,
    },
    /// The struct accepts only these values, the manifest any value of the type.
    EnumMissing(Vec<Value>),
    /// The struct rejects keys it does not know, the manifest allows them.
    UnknownKeysAllowed,
    /// A bound of the struct's (`minimum`, `maxLength`, …) the manifest does not keep to.
    Bound {
        /// The JSON Schema keyword.
        keyword: &'static str,
        /// The struct's value.
        strukt: Value,
        /// The manifest's value, if it has one.
        manifest: Option<Value>,
    },
    /// Both sides state a default and they differ.
    Default {
        /// The manifest's default.
        manifest: Value,
        /// The struct's default.
        strukt: Value,
    },
    /// The two sides are alternatives (`oneOf`/`anyOf`) of different lengths.
    Alternatives {
        /// How many the manifest has (1 when it has none).
        manifest: usize,
        /// How many the struct has.
        strukt: usize,
    },
    /// The two sides describe tuples (`prefixItems`) of different lengths.
    TupleLength {
        /// Positions the manifest describes.
        manifest: usize,
        /// Positions the struct's tuple has.
        strukt: usize,
    },
    /// A `$ref` that points nowhere in its document.
    BadRef(String),
    /// The struct's schema uses a keyword this check does not compare.
    Unsupported(String),
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::OnlyInManifest {
                property,
                struct_denies_unknown: true,
            } => write!(
                f,
                "property `{property}` is in the manifest but not in the struct, which rejects \
                 unknown fields: a config that sets it passes the host and then fails to parse; \
                 add the field to the struct or remove the property from the manifest"
            ),
            Problem::OnlyInManifest { property, .. } => write!(
                f,
                "property `{property}` is in the manifest but not in the struct: the plugin \
                 silently ignores it; add the field (check #[serde(rename)]) or remove the \
                 property from the manifest"
            ),
            Problem::OnlyInStruct {
                property,
                manifest_denies_unknown: true,
            } => write!(
                f,
                "field `{property}` is in the struct but not in the manifest, which forbids \
                 undeclared properties: admins can never set it; declare it under properties"
            ),
            Problem::OnlyInStruct { property, .. } => write!(
                f,
                "field `{property}` is in the struct but not in the manifest: the host accepts \
                 any value for it unchecked; declare it under properties"
            ),
            Problem::RequiredOnlyByStruct(property) => write!(
                f,
                "`{property}` is required by the struct (no #[serde(default)], not an Option) \
                 but not by the manifest: a config without it passes the host and fails to \
                 parse; add it to the manifest's required list or give the field a default"
            ),
            Problem::RequiredOnlyByManifest(property) => write!(
                f,
                "`{property}` is required by the manifest but optional in the struct: the \
                 struct's default is never used; remove it from required or make the field \
                 required"
            ),
            Problem::Types { manifest, strukt } => {
                let strukt = strukt.join(" or ");
                if manifest.is_empty() {
                    write!(
                        f,
                        "the manifest allows any JSON type but the struct takes {strukt}; \
                         set type = \"{}\"",
                        first_word(&strukt)
                    )
                } else {
                    write!(
                        f,
                        "incompatible types: the manifest allows {} but the struct takes {strukt}",
                        manifest.join(" or ")
                    )
                }
            }
            Problem::EnumValues {
                only_manifest,
                only_struct,
            } => {
                write!(f, "enum values differ:")?;
                if !only_manifest.is_empty() {
                    write!(
                        f,
                        " only the manifest has {} (the plugin cannot parse them)",
                        values(only_manifest)
                    )?;
                }
                if !only_manifest.is_empty() && !only_struct.is_empty() {
                    write!(f, ";")?;
                }
                if !only_struct.is_empty() {
                    write!(
                        f,
                        " only the struct has {} (admins cannot choose them)",
                        values(only_struct)
                    )?;
                }
                Ok(())
            }
            Problem::EnumMissing(allowed) => write!(
                f,
                "the struct accepts only {} but the manifest allows any value; add enum = [{}]",
                values(allowed),
                allowed
                    .iter()
                    .map(Value::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            Problem::UnknownKeysAllowed => write!(
                f,
                "the struct rejects unknown fields (#[serde(deny_unknown_fields)]) but the \
                 manifest allows them: add additionalProperties = false"
            ),
            Problem::Bound {
                keyword,
                strukt,
                manifest: None,
            } => write!(
                f,
                "the struct needs {keyword} = {strukt} but the manifest has no {keyword}: it \
                 lets admins enter values the plugin cannot parse; add {keyword} = {strukt}"
            ),
            Problem::Bound {
                keyword,
                strukt,
                manifest: Some(manifest),
            } => write!(
                f,
                "the struct needs {keyword} = {strukt} but the manifest has {keyword} = \
                 {manifest}, which is looser; use {strukt} or stricter"
            ),
            Problem::Default { manifest, strukt } => write!(
                f,
                "defaults differ: the manifest says {manifest} but the struct uses {strukt} when \
                 the key is missing; make them the same"
            ),
            Problem::Alternatives { manifest, strukt } => write!(
                f,
                "the struct takes one of {strukt} alternatives (an enum with data?) but the \
                 manifest has {manifest}; write the manifest's oneOf with the same alternatives \
                 in the same order"
            ),
            Problem::TupleLength { manifest, strukt } => write!(
                f,
                "the struct takes a tuple of {strukt} values but the manifest's prefixItems \
                 describes {manifest}; describe each position in order"
            ),
            Problem::BadRef(reference) => {
                write!(f, "$ref `{reference}` points nowhere in its schema")
            }
            Problem::Unsupported(keyword) => write!(
                f,
                "the struct's schema uses `{keyword}`, which this check cannot compare; check \
                 this part of the manifest by hand"
            ),
        }
    }
}

fn first_word(text: &str) -> &str {
    text.split(' ').next().unwrap_or(text)
}

fn values(values: &[Value]) -> String {
    values
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Compares the manifest's `config_schema` with the schema derived from the config struct,
/// returning every disagreement; empty when they agree.
pub fn compare(manifest: &Value, strukt: &Value) -> Vec<Mismatch> {
    let mut comparison = Comparison {
        manifest_root: manifest,
        struct_root: strukt,
        mismatches: Vec::new(),
        depth: 0,
    };
    comparison.compare("config", manifest, strukt, true);
    comparison.mismatches
}

/// Why a config struct and `plugin.toml` do not match.
#[derive(Debug, thiserror::Error)]
pub enum ManifestCheckError {
    /// The manifest text is not TOML.
    #[error("plugin.toml is not valid TOML: {0}")]
    Toml(String),
    /// The struct has settings, the manifest declares none.
    #[error(
        "plugin.toml has no [config_schema] but `{config}` has fields, so the host would accept \
         any config and the plugin could not parse most of it; add this to plugin.toml:\n\n\
         {suggestion}"
    )]
    NoSchema {
        /// The struct's name.
        config: String,
        /// The struct's schema written as `[config_schema]`.
        suggestion: String,
    },
    /// The two disagree.
    #[error("{}", disagreement(.config, .mismatches, .suggestion))]
    Disagree {
        /// The struct's name.
        config: String,
        /// Every disagreement.
        mismatches: Vec<Mismatch>,
        /// The struct's schema written as `[config_schema]`.
        suggestion: String,
    },
}

fn disagreement(config: &str, mismatches: &[Mismatch], suggestion: &str) -> String {
    let mut text = format!(
        "plugin.toml's [config_schema] and `{config}` disagree ({} problem{}):\n",
        mismatches.len(),
        if mismatches.len() == 1 { "" } else { "s" }
    );
    for mismatch in mismatches {
        text.push_str(&format!("  - {mismatch}\n"));
    }
    if !suggestion.is_empty() {
        text.push_str(&format!(
            "\n`{config}` derives this schema (a starting point; the manifest may be stricter):\n\n\
             {suggestion}"
        ));
    }
    text
}

/// Checks the `config_schema` of `manifest_toml` (a whole `plugin.toml`) against the schema
/// derived from `T`.
pub fn check_manifest<T: schemars::JsonSchema>(
    manifest_toml: &str,
) -> Result<(), ManifestCheckError> {
    let manifest: toml::Table =
        toml::from_str(manifest_toml).map_err(|err| ManifestCheckError::Toml(err.to_string()))?;
    let derived = schemars::SchemaGenerator::default()
        .into_root_schema_for::<T>()
        .to_value();
    let config = T::schema_name().into_owned();
    let suggestion = as_manifest_toml(&derived).unwrap_or_default();
    let Some(schema) = manifest.get("config_schema") else {
        let has_fields = derived
            .get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| !p.is_empty());
        return if has_fields {
            Err(ManifestCheckError::NoSchema { config, suggestion })
        } else {
            Ok(())
        };
    };
    let schema =
        serde_json::to_value(schema).map_err(|err| ManifestCheckError::Toml(err.to_string()))?;
    let mismatches = compare(&schema, &derived);
    if mismatches.is_empty() {
        Ok(())
    } else {
        Err(ManifestCheckError::Disagree {
            config,
            mismatches,
            suggestion,
        })
    }
}

/// Keywords of a struct schema this check understands; any other one it reports.
const KNOWN_STRUCT_KEYWORDS: &[&str] = &[
    "$schema",
    "$id",
    "$ref",
    "$defs",
    "definitions",
    "$comment",
    "title",
    "description",
    "examples",
    "deprecated",
    "readOnly",
    "writeOnly",
    "format",
    "default",
    "uniqueItems",
    "type",
    "enum",
    "const",
    "properties",
    "required",
    "additionalProperties",
    "unevaluatedProperties",
    "items",
    "prefixItems",
    "anyOf",
    "oneOf",
    "allOf",
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
    "minProperties",
    "maxProperties",
    "pattern",
];

/// Lower bounds: the manifest's value must be at least the struct's.
const LOWER_BOUNDS: &[&str] = &["minLength", "minItems", "minProperties"];
/// Upper bounds: the manifest's value must be at most the struct's.
const UPPER_BOUNDS: &[&str] = &["maxLength", "maxItems", "maxProperties"];

/// Deeper than this, the schemas are taken to be recursive and the comparison stops.
const MAX_DEPTH: usize = 64;

struct Comparison<'a> {
    manifest_root: &'a Value,
    struct_root: &'a Value,
    mismatches: Vec<Mismatch>,
    depth: usize,
}

/// A schema reduced to what the comparison looks at: `$ref`s followed, `allOf` merged,
/// `oneOf`/`anyOf` of constants or of one type plus `null` folded into one schema.
#[derive(Debug)]
enum Shape {
    /// `true` or a schema without constraints.
    Any,
    /// `false`.
    Never,
    /// One schema object.
    One(Map<String, Value>),
    /// Alternatives that did not fold.
    Alternatives(Vec<Value>),
}

/// The JSON types, in the order messages name them.
const TYPES: &[&str] = &[
    "object", "array", "string", "integer", "number", "boolean", "null",
];

impl Comparison<'_> {
    fn mismatch(&mut self, path: &str, problem: Problem) {
        self.mismatches.push(Mismatch {
            path: path.to_owned(),
            problem,
        });
    }

    fn compare(&mut self, path: &str, manifest: &Value, strukt: &Value, root: bool) {
        if self.depth >= MAX_DEPTH {
            return;
        }
        self.depth += 1;
        let manifest = self.shape(path, manifest, true);
        let strukt = self.shape(path, strukt, false);
        match (manifest, strukt) {
            (_, Shape::Any) | (Shape::Never, _) => {}
            (Shape::Alternatives(m), Shape::Alternatives(s)) if m.len() == s.len() => {
                for (i, (m, s)) in m.iter().zip(&s).enumerate() {
                    self.compare(&format!("{path} (alternative {})", i + 1), m, s, false);
                }
            }
            (m, Shape::Alternatives(s)) => {
                let manifest = match m {
                    Shape::Alternatives(m) => m.len(),
                    _ => 1,
                };
                self.mismatch(
                    path,
                    Problem::Alternatives {
                        manifest,
                        strukt: s.len(),
                    },
                );
            }
            (Shape::Alternatives(m), s) => {
                // Each alternative the manifest offers must parse on its own.
                let s = match s {
                    Shape::One(s) => Value::Object(s),
                    _ => Value::Bool(false),
                };
                for (i, m) in m.iter().enumerate() {
                    self.compare(&format!("{path} (alternative {})", i + 1), m, &s, false);
                }
            }
            (Shape::Any, Shape::Never) | (Shape::One(_), Shape::Never) => self.mismatch(
                path,
                Problem::Types {
                    manifest: Vec::new(),
                    strukt: vec!["nothing".into()],
                },
            ),
            (Shape::Any, Shape::One(s)) => self.compare_objects(path, &Map::new(), &s, root),
            (Shape::One(m), Shape::One(s)) => self.compare_objects(path, &m, &s, root),
        }
        self.depth -= 1;
    }

    /// Follows `$ref`s, merges `allOf` and folds alternatives where they reduce to one schema.
    fn shape(&mut self, path: &str, schema: &Value, manifest: bool) -> Shape {
        let root = if manifest {
            self.manifest_root
        } else {
            self.struct_root
        };
        let mut schema = schema.clone();
        for _ in 0..MAX_DEPTH {
            let Some(reference) = schema.get("$ref").and_then(Value::as_str) else {
                break;
            };
            let Some(target) = resolve(root, reference) else {
                let problem = Problem::BadRef(reference.to_owned());
                self.mismatch(path, problem);
                return Shape::Any;
            };
            // Keywords beside a `$ref` apply too (draft 2020-12); they win over the target's
            // for the annotations both may carry.
            let mut merged = target.as_object().cloned().unwrap_or_default();
            if target == &Value::Bool(false) {
                return Shape::Never;
            }
            for (key, value) in schema.as_object().into_iter().flatten() {
                if key != "$ref" {
                    merged.insert(key.clone(), value.clone());
                }
            }
            schema = Value::Object(merged);
        }
        let mut object = match schema {
            Value::Bool(true) => return Shape::Any,
            Value::Bool(false) => return Shape::Never,
            Value::Object(object) => object,
            _ => return Shape::Any,
        };
        if let Some(Value::Array(parts)) = object.remove("allOf") {
            for part in parts {
                match self.shape(path, &part, manifest) {
                    Shape::One(part) => merge(&mut object, part),
                    Shape::Never => return Shape::Never,
                    Shape::Any => {}
                    Shape::Alternatives(alternatives) => {
                        object.insert("anyOf".into(), Value::Array(alternatives));
                    }
                }
            }
        }
        for keyword in ["anyOf", "oneOf"] {
            let Some(Value::Array(alternatives)) = object.remove(keyword) else {
                continue;
            };
            match self.fold(path, alternatives, manifest) {
                Ok(folded) => merge(&mut object, folded),
                Err(alternatives) => return Shape::Alternatives(alternatives),
            }
        }
        if object.keys().all(|key| is_annotation(key)) {
            return Shape::Any;
        }
        Shape::One(object)
    }

    /// Folds alternatives that are all constants into one `enum`, and `X or null` into `X`
    /// with `null` added to its types; gives them back when they do not fold.
    fn fold(
        &mut self,
        path: &str,
        alternatives: Vec<Value>,
        manifest: bool,
    ) -> Result<Map<String, Value>, Vec<Value>> {
        let mut shapes = Vec::new();
        for alternative in &alternatives {
            match self.shape(path, alternative, manifest) {
                Shape::One(object) => shapes.push(object),
                Shape::Never => {}
                Shape::Any | Shape::Alternatives(_) => return Err(alternatives),
            }
        }
        let is_null = |s: &Map<String, Value>| {
            s.get("type").and_then(Value::as_str) == Some("null") && s.len() == 1
        };
        let nullable = shapes.iter().any(is_null);
        shapes.retain(|s| !is_null(s));
        let mut folded = if shapes.len() == 1 {
            shapes.pop().expect("one shape")
        } else if !shapes.is_empty() && shapes.iter().all(|s| enum_values(s).is_some()) {
            let mut values = Vec::new();
            let mut types = BTreeSet::new();
            for shape in &shapes {
                let shape_values = enum_values(shape).expect("checked above");
                types.extend(type_set(shape).unwrap_or_else(|| value_types(&shape_values)));
                values.extend(shape_values);
            }
            let mut folded = Map::new();
            folded.insert("enum".into(), Value::Array(values));
            folded.insert("type".into(), types_value(&types));
            folded
        } else {
            return Err(alternatives);
        };
        if nullable && let Some(mut types) = type_set(&folded) {
            types.insert("null");
            folded.insert("type".into(), types_value(&types));
        }
        Ok(folded)
    }

    fn compare_objects(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
        root: bool,
    ) {
        for keyword in strukt.keys() {
            if !KNOWN_STRUCT_KEYWORDS.contains(&keyword.as_str()) {
                self.mismatch(path, Problem::Unsupported(keyword.clone()));
            }
        }
        let mut manifest_types =
            type_set(manifest).or_else(|| enum_values(manifest).map(|values| value_types(&values)));
        if root {
            // The host only ever stores an object as config.
            manifest_types.get_or_insert_with(|| BTreeSet::from(["object"]));
        }
        let struct_types =
            type_set(strukt).or_else(|| enum_values(strukt).map(|values| value_types(&values)));
        if let Some(struct_types) = &struct_types {
            let uncovered = match &manifest_types {
                None => true,
                Some(manifest_types) => manifest_types.iter().any(|t| !covers(struct_types, t)),
            };
            if uncovered {
                self.mismatch(
                    path,
                    Problem::Types {
                        manifest: manifest_types.as_ref().map(named).unwrap_or_default(),
                        strukt: named(struct_types),
                    },
                );
                // Comparing the insides of two different types only adds noise.
                return;
            }
        }
        let allows = |t: &str| {
            manifest_types
                .as_ref()
                .is_none_or(|types| types.contains(t))
        };
        self.compare_enums(path, manifest, strukt);
        if allows("integer") || allows("number") {
            self.compare_numeric_bounds(path, manifest, strukt);
        }
        self.compare_counted_bounds(path, manifest, strukt);
        if let Some(pattern) = strukt.get("pattern")
            && manifest.get("pattern") != Some(pattern)
        {
            self.mismatch(
                path,
                Problem::Bound {
                    keyword: "pattern",
                    strukt: pattern.clone(),
                    manifest: manifest.get("pattern").cloned(),
                },
            );
        }
        if let (Some(m), Some(s)) = (manifest.get("default"), strukt.get("default"))
            && m != s
        {
            self.mismatch(
                path,
                Problem::Default {
                    manifest: m.clone(),
                    strukt: s.clone(),
                },
            );
        }
        let struct_is_object = struct_types.as_ref().is_none_or(|t| t.contains("object"));
        if allows("object") && struct_is_object {
            self.compare_properties(path, manifest, strukt);
        }
        let struct_is_array = struct_types.as_ref().is_none_or(|t| t.contains("array"));
        if allows("array") && struct_is_array {
            self.compare_items(path, manifest, strukt);
        }
    }

    fn compare_enums(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
    ) {
        let Some(struct_values) = enum_values(strukt) else {
            return;
        };
        // `null` is a matter of types (an `Option`), compared there.
        let struct_values: Vec<Value> =
            struct_values.into_iter().filter(|v| !v.is_null()).collect();
        let Some(manifest_values) = enum_values(manifest) else {
            self.mismatch(path, Problem::EnumMissing(struct_values));
            return;
        };
        let manifest_values: Vec<Value> = manifest_values
            .into_iter()
            .filter(|v| !v.is_null())
            .collect();
        let only_manifest: Vec<Value> = manifest_values
            .iter()
            .filter(|v| !struct_values.contains(v))
            .cloned()
            .collect();
        let only_struct: Vec<Value> = struct_values
            .iter()
            .filter(|v| !manifest_values.contains(v))
            .cloned()
            .collect();
        if !only_manifest.is_empty() || !only_struct.is_empty() {
            self.mismatch(
                path,
                Problem::EnumValues {
                    only_manifest,
                    only_struct,
                },
            );
        }
    }

    fn compare_numeric_bounds(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
    ) {
        for lower in [true, false] {
            let Some(struct_bound) = bound(strukt, lower) else {
                continue;
            };
            let manifest_bound = bound(manifest, lower);
            let keeps_to = manifest_bound.as_ref().is_some_and(|m| {
                if lower {
                    m.value > struct_bound.value
                        || (m.value == struct_bound.value
                            && (m.exclusive || !struct_bound.exclusive))
                } else {
                    m.value < struct_bound.value
                        || (m.value == struct_bound.value
                            && (m.exclusive || !struct_bound.exclusive))
                }
            });
            if !keeps_to {
                self.mismatch(
                    path,
                    Problem::Bound {
                        keyword: struct_bound.keyword,
                        strukt: struct_bound.raw,
                        manifest: manifest_bound.map(|m| m.raw),
                    },
                );
            }
        }
    }

    fn compare_counted_bounds(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
    ) {
        for &keyword in LOWER_BOUNDS.iter().chain(UPPER_BOUNDS) {
            let Some(s) = strukt.get(keyword).and_then(Value::as_f64) else {
                continue;
            };
            let m = manifest.get(keyword).and_then(Value::as_f64);
            let keeps_to = m.is_some_and(|m| {
                if LOWER_BOUNDS.contains(&keyword) {
                    m >= s
                } else {
                    m <= s
                }
            });
            if !keeps_to {
                self.mismatch(
                    path,
                    Problem::Bound {
                        keyword,
                        strukt: strukt[keyword].clone(),
                        manifest: manifest.get(keyword).cloned(),
                    },
                );
            }
        }
    }

    fn compare_properties(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
    ) {
        let empty = Map::new();
        let manifest_properties = properties(manifest).unwrap_or(&empty);
        let struct_properties = properties(strukt).unwrap_or(&empty);
        let manifest_extra = Extra::of(manifest);
        let struct_extra = Extra::of(strukt);
        let names: BTreeSet<&String> = manifest_properties
            .keys()
            .chain(struct_properties.keys())
            .collect();
        for name in names {
            let child = child_path(path, name);
            match (manifest_properties.get(name), struct_properties.get(name)) {
                (Some(m), Some(s)) => self.compare(&child, m, s, false),
                (Some(m), None) => match &struct_extra {
                    Extra::Schema(s) => self.compare(&child, m, s, false),
                    Extra::Any => {}
                    Extra::Denied | Extra::Ignored => self.mismatch(
                        path,
                        Problem::OnlyInManifest {
                            property: name.clone(),
                            struct_denies_unknown: matches!(struct_extra, Extra::Denied),
                        },
                    ),
                },
                (None, Some(s)) => match &manifest_extra {
                    Extra::Schema(m) => self.compare(&child, m, s, false),
                    Extra::Denied | Extra::Any | Extra::Ignored => self.mismatch(
                        path,
                        Problem::OnlyInStruct {
                            property: name.clone(),
                            manifest_denies_unknown: matches!(manifest_extra, Extra::Denied),
                        },
                    ),
                },
                (None, None) => unreachable!("names come from the two maps"),
            }
        }
        let values_path = format!("{path}.*");
        match (&manifest_extra, &struct_extra) {
            (Extra::Denied, _) | (_, Extra::Any) => {}
            (Extra::Any | Extra::Ignored, Extra::Denied) | (Extra::Schema(_), Extra::Denied) => {
                self.mismatch(path, Problem::UnknownKeysAllowed)
            }
            (Extra::Schema(m), Extra::Schema(s)) => self.compare(&values_path, m, s, false),
            (Extra::Any | Extra::Ignored, Extra::Schema(s)) => {
                self.compare(&values_path, &Value::Bool(true), s, false)
            }
            // A manifest that declares extra keys the struct ignores offers settings that do
            // nothing.
            (Extra::Schema(_), Extra::Ignored) => self.mismatch(
                path,
                Problem::OnlyInManifest {
                    property: "*".into(),
                    struct_denies_unknown: false,
                },
            ),
            (Extra::Any | Extra::Ignored, Extra::Ignored) => {}
        }
        let manifest_required = required(manifest);
        let struct_required = required(strukt);
        for name in struct_required.difference(&manifest_required) {
            self.mismatch(path, Problem::RequiredOnlyByStruct(name.clone()));
        }
        for name in manifest_required.difference(&struct_required) {
            self.mismatch(path, Problem::RequiredOnlyByManifest(name.clone()));
        }
    }

    fn compare_items(
        &mut self,
        path: &str,
        manifest: &Map<String, Value>,
        strukt: &Map<String, Value>,
    ) {
        let items_path = format!("{path}[]");
        let manifest_prefix = manifest.get("prefixItems").and_then(Value::as_array);
        let struct_prefix = strukt.get("prefixItems").and_then(Value::as_array);
        if manifest_prefix.is_some() || struct_prefix.is_some() {
            let (m, s) = (
                manifest_prefix.map_or(&[][..], Vec::as_slice),
                struct_prefix.map_or(&[][..], Vec::as_slice),
            );
            if m.len() != s.len() {
                self.mismatch(
                    path,
                    Problem::TupleLength {
                        manifest: m.len(),
                        strukt: s.len(),
                    },
                );
            }
            for (i, (m, s)) in m.iter().zip(s).enumerate() {
                self.compare(&format!("{path}[{i}]"), m, s, false);
            }
        }
        let any = Value::Bool(true);
        let m = manifest.get("items").unwrap_or(&any);
        let s = strukt.get("items").unwrap_or(&any);
        self.compare(&items_path, m, s, false);
    }
}

/// What an object schema says about keys it does not name.
enum Extra {
    /// Any key with any value (`additionalProperties = true`).
    Any,
    /// No keyword: a manifest accepts them, a struct ignores them.
    Ignored,
    /// `additionalProperties = false`.
    Denied,
    /// Keys with values of this schema (maps).
    Schema(Value),
}

impl Extra {
    fn of(schema: &Map<String, Value>) -> Extra {
        let extra = schema
            .get("additionalProperties")
            .or_else(|| schema.get("unevaluatedProperties"));
        match extra {
            None => Extra::Ignored,
            Some(Value::Bool(true)) => Extra::Any,
            Some(Value::Bool(false)) => Extra::Denied,
            Some(schema) => Extra::Schema(schema.clone()),
        }
    }
}

/// A numeric bound of a schema, exclusive or not.
struct Bound {
    keyword: &'static str,
    value: f64,
    exclusive: bool,
    raw: Value,
}

/// The tighter of `minimum`/`exclusiveMinimum` (or of the maxima when `lower` is false).
fn bound(schema: &Map<String, Value>, lower: bool) -> Option<Bound> {
    let (inclusive, exclusive) = if lower {
        ("minimum", "exclusiveMinimum")
    } else {
        ("maximum", "exclusiveMaximum")
    };
    let read = |keyword: &'static str, is_exclusive: bool| {
        let raw = schema.get(keyword)?;
        Some(Bound {
            keyword,
            value: raw.as_f64()?,
            exclusive: is_exclusive,
            raw: raw.clone(),
        })
    };
    match (read(inclusive, false), read(exclusive, true)) {
        (Some(a), Some(b)) => {
            let b_tighter = if lower {
                b.value >= a.value
            } else {
                b.value <= a.value
            };
            Some(if b_tighter { b } else { a })
        }
        (a, b) => a.or(b),
    }
}

/// Follows a local JSON pointer reference (`#/$defs/Entry`).
fn resolve<'a>(root: &'a Value, reference: &str) -> Option<&'a Value> {
    let pointer = reference.strip_prefix('#')?;
    let decoded: String = pointer.replace("~1", "/").replace("~0", "~");
    if pointer.contains('%') {
        return None;
    }
    root.pointer(&decoded)
}

/// Merges `part` into `into`: properties and required lists are unioned, the rest overwritten.
fn merge(into: &mut Map<String, Value>, part: Map<String, Value>) {
    for (key, value) in part {
        match (key.as_str(), into.get_mut(&key), value) {
            ("properties", Some(Value::Object(existing)), Value::Object(more)) => {
                existing.extend(more);
            }
            ("required", Some(Value::Array(existing)), Value::Array(more)) => {
                for name in more {
                    if !existing.contains(&name) {
                        existing.push(name);
                    }
                }
            }
            (_, _, value) => {
                into.insert(key, value);
            }
        }
    }
}

/// Keywords that describe and never constrain.
fn is_annotation(keyword: &str) -> bool {
    matches!(
        keyword,
        "$schema"
            | "$id"
            | "$defs"
            | "definitions"
            | "$comment"
            | "title"
            | "description"
            | "examples"
            | "deprecated"
            | "readOnly"
            | "writeOnly"
            | "default"
            | "format"
    )
}

fn properties(schema: &Map<String, Value>) -> Option<&Map<String, Value>> {
    schema.get("properties").and_then(Value::as_object)
}

fn required(schema: &Map<String, Value>) -> BTreeSet<String> {
    schema
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect()
}

/// `enum`, or `const` as a one-value enum.
fn enum_values(schema: &Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(Value::Array(values)) = schema.get("enum") {
        return Some(values.clone());
    }
    schema.get("const").map(|value| vec![value.clone()])
}

/// The `type` keyword as a set; `None` when absent.
fn type_set(schema: &Map<String, Value>) -> Option<BTreeSet<&'static str>> {
    let named = |name: &str| TYPES.iter().copied().find(|t| *t == name);
    match schema.get("type")? {
        Value::String(name) => Some(named(name).into_iter().collect()),
        Value::Array(names) => Some(
            names
                .iter()
                .filter_map(Value::as_str)
                .filter_map(named)
                .collect(),
        ),
        _ => None,
    }
}

/// Type names in the order messages use.
fn named(types: &BTreeSet<&'static str>) -> Vec<String> {
    TYPES
        .iter()
        .filter(|t| types.contains(*t))
        .map(|t| t.to_string())
        .collect()
}

fn types_value(types: &BTreeSet<&'static str>) -> Value {
    if types.len() == 1 {
        Value::String(types.iter().next().expect("one type").to_string())
    } else {
        Value::Array(types.iter().map(|t| Value::String(t.to_string())).collect())
    }
}

/// The JSON types of some values.
fn value_types(values: &[Value]) -> BTreeSet<&'static str> {
    values
        .iter()
        .map(|value| match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
            Value::Number(n) if n.as_f64().is_some_and(|f| f.fract() == 0.0) => "integer",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        })
        .collect()
}

/// Whether a struct that takes `types` parses values of JSON type `t`.
fn covers(types: &BTreeSet<&'static str>, t: &str) -> bool {
    types.contains(t) || (t == "integer" && types.contains("number"))
}

/// `path.name`, or `path["name"]` when the name would not read as one segment.
fn child_path(path: &str, name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c == '-')
    {
        format!("{path}.{name}")
    } else {
        format!("{path}[{}]", Value::String(name.to_owned()))
    }
}

/// The struct's schema as it would read in `plugin.toml`: `$ref`s inlined, the generator's
/// bookkeeping (`$schema`, `$defs`, the root title, Rust integer formats, `null` defaults)
/// dropped. `None` when it cannot be written as TOML.
pub fn as_manifest_toml(strukt: &Value) -> Option<String> {
    let inlined = inline(strukt, strukt, 0)?;
    let mut table = BTreeMap::new();
    table.insert("config_schema", inlined);
    toml::to_string(&table).ok()
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
                if !bookkeeping {
                    out.insert(key.clone(), inline(root, value, depth + 1)?);
                }
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
