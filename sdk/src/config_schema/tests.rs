use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use super::*;

/// A `plugin.toml` whose `[config_schema]` is `schema_toml`, written with table headers
/// relative to the schema (`[properties.team]`) for brevity.
fn manifest(schema_toml: &str) -> String {
    let schema: Vec<String> = schema_toml
        .lines()
        .map(|line| match line.trim_start().strip_prefix('[') {
            Some(header) => format!("[config_schema.{header}"),
            None => line.to_owned(),
        })
        .collect();
    format!(
        "name = \"demo\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n\n[config_schema]\n{}",
        schema.join("\n")
    )
}

fn problems<T: JsonSchema>(schema_toml: &str) -> Vec<Mismatch> {
    match check_manifest::<T>(&manifest(schema_toml)) {
        Ok(()) => Vec::new(),
        Err(ManifestCheckError::Disagree { mismatches, .. }) => mismatches,
        Err(other) => panic!("expected a disagreement, got {other}"),
    }
}

fn one_problem<T: JsonSchema>(schema_toml: &str) -> Mismatch {
    let mut problems = problems::<T>(schema_toml);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    problems.pop().unwrap()
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Vip {
    /// The team VIP tickets go to.
    team: String,
}

const VIP_SCHEMA: &str = r#"
type = "object"
required = ["team"]
additionalProperties = false
[properties.team]
type = "string"
minLength = 1
description = "The team VIP tickets go to, e.g. vip-care."
"#;

#[test]
fn a_manifest_that_is_stricter_than_the_struct_agrees() {
    assert_eq!(problems::<Vip>(VIP_SCHEMA), Vec::new());
}

#[test]
fn a_property_only_in_the_manifest_is_named() {
    let schema = VIP_SCHEMA.replace("properties.team", "properties.squad");
    let problems = problems::<Vip>(&schema.replace("[\"team\"]", "[\"squad\"]"));
    assert_eq!(
        problems,
        vec![
            Mismatch {
                path: "config".into(),
                problem: Problem::OnlyInManifest {
                    property: "squad".into(),
                    struct_denies_unknown: true,
                },
            },
            Mismatch {
                path: "config".into(),
                problem: Problem::OnlyInStruct {
                    property: "team".into(),
                    manifest_denies_unknown: true,
                },
            },
            Mismatch {
                path: "config".into(),
                problem: Problem::RequiredOnlyByStruct("team".into()),
            },
            Mismatch {
                path: "config".into(),
                problem: Problem::RequiredOnlyByManifest("squad".into()),
            },
        ]
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Lenient {
    team: String,
    #[serde(default)]
    queue: Option<String>,
}

#[test]
fn a_manifest_property_the_struct_ignores_is_reported_as_ignored() {
    let problem = one_problem::<Lenient>(
        r#"
        type = "object"
        required = ["team"]
        properties.team.type = "string"
        properties.queue.type = "string"
        properties.agent.type = "string"
        "#,
    );
    assert_eq!(
        problem.problem,
        Problem::OnlyInManifest {
            property: "agent".into(),
            struct_denies_unknown: false,
        }
    );
    assert!(
        problem.to_string().contains("silently ignores"),
        "{problem}"
    );
}

#[test]
fn a_required_field_the_manifest_lets_admins_omit_is_reported() {
    let problem = one_problem::<Vip>(&VIP_SCHEMA.replace("required = [\"team\"]", ""));
    assert_eq!(
        problem.problem,
        Problem::RequiredOnlyByStruct("team".into())
    );
    assert!(
        problem
            .to_string()
            .contains("add it to the manifest's required list"),
        "{problem}"
    );
}

#[test]
fn a_required_manifest_property_the_struct_defaults_is_reported() {
    let problem = one_problem::<Lenient>(
        r#"
        type = "object"
        required = ["team", "queue"]
        properties.team.type = "string"
        properties.queue.type = "string"
        "#,
    );
    assert_eq!(
        problem.problem,
        Problem::RequiredOnlyByManifest("queue".into())
    );
}

#[test]
fn an_option_field_may_be_declared_without_null() {
    let schema = r#"
        type = "object"
        required = ["team"]
        properties.team.type = "string"
        properties.queue.type = "string"
    "#;
    assert_eq!(problems::<Lenient>(schema), Vec::new());
    let problem = one_problem::<Vip>(&VIP_SCHEMA.replace(
        "type = \"string\"\nminLength",
        "type = [\"string\", \"null\"]\nminLength",
    ));
    assert_eq!(problem.path, "config.team");
    assert_eq!(
        problem.problem,
        Problem::Types {
            manifest: vec!["string".into(), "null".into()],
            strukt: vec!["string".into()],
        }
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Numbers {
    threshold: u32,
    ratio: f64,
}

const NUMBERS_SCHEMA: &str = r#"
type = "object"
required = ["threshold", "ratio"]
properties.threshold = { type = "integer", minimum = 0, maximum = 10 }
properties.ratio = { type = "integer" }
"#;

#[test]
fn integers_fit_a_float_field_and_a_bounded_u32_agrees() {
    assert_eq!(problems::<Numbers>(NUMBERS_SCHEMA), Vec::new());
}

#[test]
fn a_string_where_the_struct_wants_an_integer_is_incompatible() {
    let problem = one_problem::<Numbers>(&NUMBERS_SCHEMA.replace(
        "{ type = \"integer\", minimum = 0, maximum = 10 }",
        "{ type = \"string\" }",
    ));
    assert_eq!(problem.path, "config.threshold");
    assert_eq!(
        problem.to_string(),
        "config.threshold: incompatible types: the manifest allows string but the struct takes \
         integer"
    );
}

#[test]
fn fractions_where_the_struct_wants_an_integer_are_incompatible() {
    let problem = one_problem::<Numbers>(&NUMBERS_SCHEMA.replace(
        "{ type = \"integer\", minimum = 0, maximum = 10 }",
        "{ type = \"number\", minimum = 0 }",
    ));
    assert_eq!(
        problem.problem,
        Problem::Types {
            manifest: vec!["number".into()],
            strukt: vec!["integer".into()],
        }
    );
}

#[test]
fn an_unsigned_field_needs_a_minimum_of_zero() {
    let problem = one_problem::<Numbers>(&NUMBERS_SCHEMA.replace("minimum = 0, ", ""));
    assert_eq!(
        problem.problem,
        Problem::Bound {
            keyword: "minimum",
            strukt: json!(0),
            manifest: None,
        }
    );
    let problem = one_problem::<Numbers>(&NUMBERS_SCHEMA.replace("minimum = 0", "minimum = -5"));
    assert!(problem.to_string().contains("which is looser"), "{problem}");
    let stricter = NUMBERS_SCHEMA.replace("minimum = 0", "exclusiveMinimum = 0");
    assert_eq!(problems::<Numbers>(&stricter), Vec::new());
}

#[derive(Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
#[allow(dead_code)]
enum Channel {
    Sms,
    Email,
    WeChat,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Notify {
    channel: Channel,
}

#[test]
fn the_same_enum_values_in_any_order_agree() {
    let schema = r#"
        type = "object"
        required = ["channel"]
        properties.channel = { type = "string", enum = ["we-chat", "sms", "email"] }
    "#;
    assert_eq!(problems::<Notify>(schema), Vec::new());
}

#[test]
fn enum_values_that_differ_are_listed_by_side() {
    let problem = one_problem::<Notify>(
        r#"
        type = "object"
        required = ["channel"]
        properties.channel = { type = "string", enum = ["sms", "email", "wechat"] }
        "#,
    );
    assert_eq!(problem.path, "config.channel");
    assert_eq!(
        problem.problem,
        Problem::EnumValues {
            only_manifest: vec![json!("wechat")],
            only_struct: vec![json!("we-chat")],
        }
    );
    let message = problem.to_string();
    assert!(
        message.contains("only the manifest has \"wechat\"")
            && message.contains("only the struct has \"we-chat\""),
        "{message}"
    );
}

#[test]
fn a_free_string_where_the_struct_takes_an_enum_is_reported() {
    let problem = one_problem::<Notify>(
        r#"
        type = "object"
        required = ["channel"]
        properties.channel.type = "string"
        "#,
    );
    assert_eq!(
        problem.problem,
        Problem::EnumMissing(vec![json!("sms"), json!("email"), json!("we-chat")])
    );
    assert!(
        problem
            .to_string()
            .ends_with("add enum = [\"sms\", \"email\", \"we-chat\"]"),
        "{problem}"
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
enum Documented {
    /// Text message.
    Sms,
    /// Email.
    Email,
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct DocumentedNotify {
    channel: Documented,
}

#[test]
fn documented_enum_variants_compare_as_plain_enums() {
    let schema = r#"
        type = "object"
        required = ["channel"]
        properties.channel = { type = "string", enum = ["Sms", "Email"] }
    "#;
    assert_eq!(problems::<DocumentedNotify>(schema), Vec::new());
    let problem = one_problem::<DocumentedNotify>(&schema.replace(", \"Email\"", ""));
    assert_eq!(
        problem.problem,
        Problem::EnumValues {
            only_manifest: Vec::new(),
            only_struct: vec![json!("Email")],
        }
    );
}

#[test]
fn a_struct_that_rejects_unknown_fields_needs_additional_properties_false() {
    let problem = one_problem::<Vip>(&VIP_SCHEMA.replace("additionalProperties = false", ""));
    assert_eq!(problem.path, "config");
    assert_eq!(problem.problem, Problem::UnknownKeysAllowed);
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Faq {
    #[serde(default)]
    entries: Vec<Entry>,
    #[serde(default = "yes")]
    search_knowledge_base: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct Entry {
    keywords: Vec<String>,
    answer: String,
    #[serde(default)]
    link: Option<String>,
}

const FAQ_SCHEMA: &str = r#"
type = "object"
additionalProperties = false
properties.search_knowledge_base = { type = "boolean", default = true }
[properties.entries]
type = "array"
[properties.entries.items]
type = "object"
required = ["keywords", "answer"]
additionalProperties = false
properties.keywords = { type = "array", minItems = 1, items = { type = "string", minLength = 1 } }
properties.answer = { type = "string", minLength = 1 }
properties.link = { type = "string", pattern = "^https://" }
"#;

#[test]
fn nested_structs_behind_refs_are_compared_field_by_field() {
    assert_eq!(problems::<Faq>(FAQ_SCHEMA), Vec::new());
    let problem = one_problem::<Faq>(&FAQ_SCHEMA.replace(
        "properties.answer = { type = \"string\", minLength = 1 }",
        "properties.answer = { type = \"array\" }",
    ));
    assert_eq!(problem.path, "config.entries[].answer");
    let problem = one_problem::<Faq>(
        &FAQ_SCHEMA.replace("items = { type = \"string\", minLength = 1 }", "items = {}"),
    );
    assert_eq!(problem.path, "config.entries[].keywords[]");
    assert!(
        problem
            .to_string()
            .contains("the manifest allows any JSON type"),
        "{problem}"
    );
}

#[test]
fn defaults_that_differ_are_reported() {
    let problem = one_problem::<Faq>(&FAQ_SCHEMA.replace("default = true", "default = false"));
    assert_eq!(problem.path, "config.search_knowledge_base");
    assert_eq!(
        problem.problem,
        Problem::Default {
            manifest: json!(false),
            strukt: json!(true),
        }
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Managers {
    #[serde(default)]
    managers: BTreeMap<String, String>,
}

#[test]
fn maps_compare_their_value_schemas() {
    let schema = r#"
        type = "object"
        properties.managers = { type = "object", additionalProperties = { type = "string", minLength = 1 } }
    "#;
    assert_eq!(problems::<Managers>(schema), Vec::new());
    let problem = one_problem::<Managers>(&schema.replace("\"string\"", "\"integer\""));
    assert_eq!(problem.path, "config.managers.*");
    let problem =
        one_problem::<Managers>("type = \"object\"\nproperties.managers = { type = \"object\" }");
    assert_eq!(problem.path, "config.managers.*");
}

/// 售后配置:区域经理与升级班组。
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)]
struct 升级配置 {
    /// 升级工单转派的班组,例如"安全专班"。
    班组: String,
    /// 按大区填写的服务经理手机号。
    #[serde(default)]
    区域经理: BTreeMap<String, String>,
}

const CHINESE_SCHEMA: &str = r#"
"$schema" = "https://json-schema.org/draft/2020-12/schema"
type = "object"
required = ["班组"]
additionalProperties = false
description = "售后配置:区域经理与升级班组。"

[properties."班组"]
type = "string"
minLength = 1
description = "升级工单转派的班组,例如「安全专班」。"

[properties."区域经理"]
type = "object"
description = "按大区(华东、华南……)填写的服务经理手机号,E.164 格式。"
additionalProperties = { type = "string", pattern = "^\\+86" }
"#;

#[test]
fn chinese_names_and_descriptions_compare_by_name_only() {
    // The descriptions differ in wording and punctuation; only names and shapes count.
    assert_eq!(problems::<升级配置>(CHINESE_SCHEMA), Vec::new());
}

#[test]
fn chinese_names_are_reported_as_written() {
    let problems = problems::<升级配置>(
        &CHINESE_SCHEMA.replace("properties.\"区域经理\"", "properties.\"区域\""),
    );
    let messages: Vec<String> = problems.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        vec![
            "config: property `区域` is in the manifest but not in the struct, which rejects \
             unknown fields: a config that sets it passes the host and then fails to parse; add \
             the field to the struct or remove the property from the manifest",
            "config: field `区域经理` is in the struct but not in the manifest, which forbids \
             undeclared properties: admins can never set it; declare it under properties",
        ]
    );
    let problem = one_problem::<升级配置>(&CHINESE_SCHEMA.replace(
        "additionalProperties = { type = \"string\", pattern = \"^\\\\+86\" }",
        "additionalProperties = { type = \"integer\" }",
    ));
    assert_eq!(problem.path, "config.区域经理.*");
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Named {
    #[schemars(length(min = 1, max = 40))]
    name: String,
}

#[test]
fn the_manifest_keeps_to_length_bounds_the_struct_declares() {
    let schema = r#"
        type = "object"
        required = ["name"]
        properties.name = { type = "string", minLength = 2, maxLength = 40 }
    "#;
    assert_eq!(problems::<Named>(schema), Vec::new());
    let problem = one_problem::<Named>(&schema.replace("maxLength = 40", "maxLength = 41"));
    assert_eq!(
        problem.problem,
        Problem::Bound {
            keyword: "maxLength",
            strukt: json!(40),
            manifest: Some(json!(41)),
        }
    );
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Escalation {
    #[serde(default)]
    fallback: Option<Vip>,
}

#[test]
fn an_optional_struct_compares_the_struct_inside() {
    let schema = r#"
        type = "object"
        [properties.fallback]
        type = "object"
        required = ["team"]
        additionalProperties = false
        properties.team.type = "string"
    "#;
    assert_eq!(problems::<Escalation>(schema), Vec::new());
    let problem = one_problem::<Escalation>(&schema.replace("\"team\"]", "]"));
    assert_eq!(problem.path, "config.fallback");
    assert_eq!(
        problem.problem,
        Problem::RequiredOnlyByStruct("team".into())
    );
}

#[derive(Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[allow(dead_code)]
enum Target {
    Team { team: String },
    Queue { queue: String },
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Routed {
    target: Target,
}

#[test]
fn an_enum_with_data_needs_the_same_alternatives() {
    let problem = one_problem::<Routed>(
        r#"
        type = "object"
        required = ["target"]
        properties.target.type = "object"
        "#,
    );
    assert_eq!(problem.path, "config.target");
    assert_eq!(
        problem.problem,
        Problem::Alternatives {
            manifest: 1,
            strukt: 2,
        }
    );
}

#[test]
fn keywords_the_check_cannot_compare_are_named() {
    let strukt = json!({
        "type": "object",
        "properties": {"vin": {"type": "string", "not": {"const": ""}}},
        "required": ["vin"],
    });
    let manifest = json!({
        "type": "object",
        "properties": {"vin": {"type": "string"}},
        "required": ["vin"],
    });
    assert_eq!(
        compare(&manifest, &strukt),
        vec![Mismatch {
            path: "config.vin".into(),
            problem: Problem::Unsupported("not".into()),
        }]
    );
}

#[test]
fn a_manifest_ref_into_its_own_defs_is_followed() {
    let manifest = json!({
        "type": "object",
        "required": ["team"],
        "additionalProperties": false,
        "properties": {"team": {"$ref": "#/$defs/team"}},
        "$defs": {"team": {"type": "integer"}},
    });
    let strukt = schemars::schema_for!(Vip).to_value();
    assert_eq!(
        compare(&manifest, &strukt),
        vec![Mismatch {
            path: "config.team".into(),
            problem: Problem::Types {
                manifest: vec!["integer".into()],
                strukt: vec!["string".into()],
            },
        }]
    );
    let dangling = json!({"properties": {"team": {"$ref": "#/$defs/nowhere"}}});
    assert!(
        compare(&dangling, &strukt)
            .iter()
            .any(|m| m.problem == Problem::BadRef("#/$defs/nowhere".into()))
    );
}

#[test]
fn a_manifest_without_config_schema_gets_the_struct_schema_to_paste() {
    let err =
        check_manifest::<Vip>("name = \"demo\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n")
            .unwrap_err();
    let message = err.to_string();
    assert!(
        matches!(err, ManifestCheckError::NoSchema { .. }),
        "{message}"
    );
    assert!(
        message.contains("[config_schema.properties.team]"),
        "{message}"
    );
    assert!(message.contains("`Vip` has fields"), "{message}");
}

#[test]
fn the_report_lists_every_problem_and_the_schema_to_start_from() {
    let err = check_manifest::<Faq>(&manifest(
        &FAQ_SCHEMA
            .replace("default = true", "default = false")
            .replace(
                "required = [\"keywords\", \"answer\"]",
                "required = [\"keywords\"]",
            ),
    ))
    .unwrap_err();
    let message = err.to_string();
    assert!(
        message.starts_with("plugin.toml's [config_schema] and `Faq` disagree (2 problems):\n"),
        "{message}"
    );
    assert!(
        message.contains("  - config.entries[]: `answer` is required by the struct"),
        "{message}"
    );
    assert!(
        message.contains("  - config.search_knowledge_base: defaults differ"),
        "{message}"
    );
    // The suggestion is valid TOML that, pasted as the manifest's schema, agrees.
    let suggestion = message.split_once("):\n\n").map(|(_, s)| s).unwrap();
    let suggested =
        format!("name = \"demo\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n{suggestion}");
    check_manifest::<Faq>(&suggested).unwrap();
}

#[test]
fn a_manifest_that_is_not_toml_is_reported_as_such() {
    let err = check_manifest::<Vip>("name = ").unwrap_err();
    assert!(matches!(err, ManifestCheckError::Toml(_)), "{err}");
}

#[test]
fn a_struct_without_fields_needs_no_config_schema() {
    #[derive(Deserialize, JsonSchema)]
    struct Nothing {}
    check_manifest::<Nothing>("name = \"demo\"\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n")
        .unwrap();
}

#[derive(Deserialize, JsonSchema)]
#[allow(dead_code)]
struct Hours {
    /// Opening and closing hour.
    open: (u8, u8),
}

#[test]
fn tuples_compare_position_by_position() {
    let schema = r#"
        type = "object"
        required = ["open"]
        [properties.open]
        type = "array"
        minItems = 2
        maxItems = 2
        prefixItems = [
            { type = "integer", minimum = 0, maximum = 23 },
            { type = "integer", minimum = 0, maximum = 24 },
        ]
    "#;
    assert_eq!(problems::<Hours>(schema), Vec::new());
    let problem = one_problem::<Hours>(&schema.replace("maximum = 24", "maximum = 300"));
    assert_eq!(problem.path, "config.open[1]");
    assert_eq!(
        problem.problem,
        Problem::Bound {
            keyword: "maximum",
            strukt: json!(255),
            manifest: Some(json!(300)),
        }
    );
    let short = schema.replace(
        "    { type = \"integer\", minimum = 0, maximum = 24 },\n",
        "",
    );
    assert!(
        problems::<Hours>(&short).contains(&Mismatch {
            path: "config.open".into(),
            problem: Problem::TupleLength {
                manifest: 1,
                strukt: 2,
            },
        }),
        "{:#?}",
        problems::<Hours>(&short)
    );
}
