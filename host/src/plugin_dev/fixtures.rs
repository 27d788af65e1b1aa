//! The fixture file format of `axle plugin test`, and how expectations are matched.
//!
//! A fixture is one JSON file describing one call:
//!
//! ```json
//! {
//!   "name": "a VIP ticket goes to the VIP team",
//!   "config": { "team": "vip-care" },
//!   "grants": ["records"],
//!   "records": {
//!     "customers": [{ "id": "alice", "name": "Alice", "vip": true }],
//!     "vehicles": [{ "id": "car", "vin": "LSVAU218XN2183294", "customer_id": "alice" }],
//!     "tickets": [{ "subject": "earlier visit", "customer_id": "alice" }],
//!     "articles": [{ "title": "…", "body": "…", "status": "published" }],
//!     "sites": [{ "id": "oem", "kind": "oem", "code": "OEM", "name": "OEM" }],
//!     "teams": [{ "site_id": "oem", "name": "vip-care" }]
//!   },
//!   "kv": { "last-seen": "2026-01-01" },
//!   "ticket": { "subject": "…", "category": "powertrain", "customer_id": "alice" },
//!   "expect": {
//!     "result": { "team": "vip-care", "priority": "High" },
//!     "notifications": [{ "channel": "sms" }]
//!   }
//! }
//! ```
//!
//! - `config` (default `{}`) is checked against plugin.toml's `config_schema` as an install
//!   on the server checks it. `grants` (default: every capability plugin.toml requests)
//!   are the capabilities the install grants.
//! - `records` are created in a throwaway tenant through the HTTP API, with the bodies of
//!   its create calls (`POST /api/v1/customers`, `/vehicles`, `/tickets`, `/kb/articles`,
//!   `/sites`, `/teams`). A record may carry an `"id"`: a local name that other records'
//!   `…_id` fields and the input can use; results show local names instead of the real ids.
//! - `kv` entries are stored in the installation's namespace before the call.
//! - The input matches the world: `ticket` (routing-rule; a ticket create body, created
//!   before the call), `event` (workflow-step; `{"kind", "ticket": <create body>, "payload":
//!   {…}}`), `subject` (field-provider; `{"customer" | "vehicle" | "ticket": <create body>}`,
//!   with `"call": "compute"` (default) or `"validate"`), `dataset` (report-widget;
//!   `{"columns": […], "rows": [[text | number | null, …], …]}`).
//! - `expect.result` is a partial match against the result's JSON form as the runner prints
//!   it: an object matches when every key it lists matches (recursively), an array when it
//!   has as many items and each matches, anything else when equal. `expect.error` is a
//!   substring of the plugin's error (the call must fail). `expect.notifications` partially
//!   matches what the plugin sent through `notify.send`, item by item.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::DevError;
use crate::domain::plugin::Capability;

/// One fixture file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// What the fixture checks; the file name when unset.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub config: Option<Value>,
    /// Capabilities to grant; every one plugin.toml requests when unset.
    #[serde(default)]
    pub grants: Option<Vec<Capability>>,
    #[serde(default)]
    pub records: Records,
    #[serde(default)]
    pub kv: BTreeMap<String, String>,
    #[serde(default)]
    pub ticket: Option<Value>,
    #[serde(default)]
    pub event: Option<EventInput>,
    #[serde(default)]
    pub subject: Option<Value>,
    /// For field providers: which export to call.
    #[serde(default)]
    pub call: FieldCall,
    #[serde(default)]
    pub dataset: Option<DatasetInput>,
    #[serde(default)]
    pub expect: Expect,
}

/// Records to create before the call, by kind, in the HTTP API's create-body shapes.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Records {
    #[serde(default)]
    pub sites: Vec<Value>,
    #[serde(default)]
    pub teams: Vec<Value>,
    #[serde(default)]
    pub customers: Vec<Value>,
    #[serde(default)]
    pub vehicles: Vec<Value>,
    #[serde(default)]
    pub tickets: Vec<Value>,
    #[serde(default)]
    pub articles: Vec<Value>,
}

/// A workflow event: its kind, the ticket (a create body) and the payload object.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EventInput {
    pub kind: String,
    pub ticket: Value,
    #[serde(default)]
    pub payload: Option<Value>,
}

/// Which field-provider export a fixture calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldCall {
    #[default]
    Compute,
    Validate,
}

/// A dataset for a report widget; cells are text, numbers or null (empty).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatasetInput {
    pub columns: Vec<String>,
    pub rows: Vec<Vec<Value>>,
}

/// What the call should produce.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// Partial match against the result (`null` included: the rule made no decision).
    #[serde(default, deserialize_with = "present")]
    pub result: Option<Value>,
    /// A substring of the plugin's error.
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub notifications: Option<Vec<Value>>,
}

/// Keeps an explicit `null` as `Some(Null)`, so `"result": null` can be expected.
fn present<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(deserializer).map(Some)
}

/// A fixture read from `path`.
#[derive(Debug)]
pub struct Loaded {
    pub path: PathBuf,
    pub fixture: Fixture,
}

impl Loaded {
    /// The fixture's name, else its file name.
    pub fn name(&self) -> String {
        self.fixture.name.clone().unwrap_or_else(|| {
            self.path
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
    }
}

/// Reads and parses a fixture file.
pub fn load(path: &Path) -> Result<Loaded, DevError> {
    let text =
        std::fs::read_to_string(path).map_err(|err| DevError::io("cannot read", path, err))?;
    let fixture = serde_json::from_str(&text).map_err(|err| {
        DevError::Usage(format!(
            "{} is not a valid fixture: {err} (see `axle plugin test --help` for the format)",
            path.display()
        ))
    })?;
    Ok(Loaded {
        path: path.to_owned(),
        fixture,
    })
}

/// The `*.json` files in `dir`, sorted.
pub fn in_dir(dir: &Path) -> Result<Vec<PathBuf>, DevError> {
    let entries = std::fs::read_dir(dir).map_err(|err| {
        DevError::Usage(format!(
            "cannot read the fixtures directory {} ({err}); create it with at least one .json fixture or name fixture files",
            dir.display()
        ))
    })?;
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect();
    files.sort();
    if files.is_empty() {
        return Err(DevError::Usage(format!(
            "{} has no .json fixtures; add one (see `axle plugin test --help`)",
            dir.display()
        )));
    }
    Ok(files)
}

/// Where `actual` differs from the partial `expected`, or `None` when it matches. `path` is
/// the JSON path of both, for the message (`result.team`).
pub fn mismatch(expected: &Value, actual: &Value, path: &str) -> Option<String> {
    match (expected, actual) {
        (Value::Object(wanted), Value::Object(got)) => wanted.iter().find_map(|(key, value)| {
            let at = format!("{path}.{key}");
            match got.get(key) {
                Some(actual) => mismatch(value, actual, &at),
                None => Some(format!("{at}: expected {value}, but the key is missing")),
            }
        }),
        (Value::Array(wanted), Value::Array(got)) => {
            if wanted.len() != got.len() {
                return Some(format!(
                    "{path}: expected {} items, got {}: {actual}",
                    wanted.len(),
                    got.len()
                ));
            }
            wanted
                .iter()
                .zip(got)
                .enumerate()
                .find_map(|(index, (value, actual))| {
                    mismatch(value, actual, &format!("{path}[{index}]"))
                })
        }
        (Value::Number(wanted), Value::Number(got)) if wanted.as_f64() == got.as_f64() => None,
        _ if expected == actual => None,
        _ => Some(format!("{path}: expected {expected}, got {actual}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listed_keys_must_match_and_others_are_ignored() {
        let actual = json!({"team": "vip", "priority": "High", "reason": "VIP"});
        assert_eq!(mismatch(&json!({"team": "vip"}), &actual, "result"), None);
        let differs = mismatch(&json!({"team": "care"}), &actual, "result").unwrap();
        assert!(differs.starts_with("result.team:"), "{differs}");
        assert!(
            differs.contains("\"care\"") && differs.contains("\"vip\""),
            "{differs}"
        );
    }

    #[test]
    fn nested_keys_and_array_items_are_named_in_the_difference() {
        let actual = json!({"series": [{"values": [3.0, 5.0]}]});
        let differs = mismatch(&json!({"series": [{"values": [3, 4]}]}), &actual, "result");
        assert_eq!(
            differs.as_deref(),
            Some("result.series[0].values[1]: expected 4, got 5.0")
        );
        let missing = mismatch(&json!({"queue": "q"}), &json!({}), "result").unwrap();
        assert!(missing.contains("missing"), "{missing}");
    }

    #[test]
    fn arrays_must_have_as_many_items() {
        let differs = mismatch(&json!(["a"]), &json!(["a", "b"]), "result").unwrap();
        assert!(differs.contains("expected 1 items, got 2"), "{differs}");
    }

    #[test]
    fn null_is_expected_explicitly() {
        let fixture: Fixture = serde_json::from_str(r#"{"expect": {"result": null}}"#).unwrap();
        assert_eq!(fixture.expect.result, Some(Value::Null));
        let fixture: Fixture = serde_json::from_str(r#"{"expect": {}}"#).unwrap();
        assert_eq!(fixture.expect.result, None);
        assert!(mismatch(&Value::Null, &json!({"team": "x"}), "result").is_some());
    }

    #[test]
    fn unknown_fixture_keys_are_rejected() {
        let err = serde_json::from_str::<Fixture>(r#"{"tickets": []}"#).unwrap_err();
        assert!(err.to_string().contains("tickets"), "{err}");
    }
}
