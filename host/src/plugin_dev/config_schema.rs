//! The first step of every build: plugin.toml's `[config_schema]` written from the plugin's
//! config struct, so the schema the server validates configs against is the one the plugin
//! parses them with.
//!
//! The struct's schema comes from the plugin itself: its native unit test
//! `config_struct_matches_the_manifest` calls `axle_sdk::testing::assert_config_matches_manifest`,
//! which, with `AXLE_CONFIG_SCHEMA_OUT` set, writes the `[config_schema]` that schemars
//! derives instead of checking the manifest. Without that test the manifest is used as
//! written.

use std::path::Path;
use std::process::{Command, Stdio};

use super::DevError;
use super::progress::Step;
use super::project::{Project, cargo};

/// The unit test that reports the schema (`axle_sdk::config_schema::TEST_NAME`).
const TEST_NAME: &str = "config_struct_matches_the_manifest";

/// Where the test writes it (`axle_sdk::config_schema::OUT_VAR`).
const OUT_VAR: &str = "AXLE_CONFIG_SCHEMA_OUT";

/// What became of plugin.toml's `[config_schema]`.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Written from the struct: it was missing or differed.
    Written,
    /// Already the struct's.
    Unchanged,
    /// The crate has no `config_struct_matches_the_manifest` test.
    NoTest,
}

/// Writes the config struct's schema into `project`'s plugin.toml and reads the project
/// again. Runs the one unit test natively, so the crate's native build comes first.
pub fn write_derived(project: &mut Project) -> Result<Outcome, DevError> {
    let step = Step::start("Deriving config_schema from the config struct");
    let out = tempfile::NamedTempFile::new()
        .map_err(|err| DevError::io("cannot create", Path::new("a temporary file"), err))?;
    let output = Command::new(cargo())
        .args(["test", "--quiet", "--lib", "--target", &host_triple()?])
        .args(["--", TEST_NAME])
        .env(OUT_VAR, out.path())
        .current_dir(&project.dir)
        .stdin(Stdio::null())
        .output()
        .map_err(|err| DevError::Cargo(format!("cannot run cargo ({err}); is Rust installed?")))?;
    if !output.status.success() {
        step.done("failed");
        return Err(DevError::Cargo(format!(
            "the native build of {} for its config schema failed ({}):\n{}{}",
            project.package,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )));
    }
    let derived = std::fs::read_to_string(out.path())
        .map_err(|err| DevError::io("cannot read", out.path(), err))?;
    if derived.is_empty() {
        step.done(&format!(
            "skipped: no `{TEST_NAME}` test, so plugin.toml's [config_schema] is used as written"
        ));
        return Ok(Outcome::NoTest);
    }
    let manifest_path = project.dir.join("plugin.toml");
    let Some(rewritten) = with_config_schema(&project.manifest_text, &derived)? else {
        step.done("unchanged");
        return Ok(Outcome::Unchanged);
    };
    std::fs::write(&manifest_path, rewritten)
        .map_err(|err| DevError::io("cannot write", &manifest_path, err))?;
    *project = Project::open(&project.dir)?;
    step.done("written into plugin.toml");
    eprintln!(
        "{}: [config_schema] written from the config struct",
        manifest_path.display()
    );
    Ok(Outcome::Written)
}

/// `manifest` with its `config_schema` replaced by the one in `derived` (a TOML document
/// holding only `[config_schema]`), everything else as written; `None` when it already is
/// that schema.
fn with_config_schema(manifest: &str, derived: &str) -> Result<Option<String>, DevError> {
    let invalid = |what: &str, err: toml_edit::TomlError| {
        DevError::Rejected(format!("{what} is not valid TOML: {err}"))
    };
    let mut document: toml_edit::DocumentMut = manifest
        .parse()
        .map_err(|err| invalid("plugin.toml", err))?;
    let derived: toml_edit::DocumentMut = derived
        .parse()
        .map_err(|err| invalid("the derived schema", err))?;
    let mut schema = derived
        .get("config_schema")
        .cloned()
        .ok_or_else(|| DevError::Rejected("the derived schema has no [config_schema]".into()))?;
    if let Some(table) = schema.as_table_mut() {
        // A blank line before it, as before any other table of the manifest.
        table.decor_mut().set_prefix("\n");
    }
    // Compared as data: the same schema may be spelt with other tables or key order.
    let parsed = |text: &str| {
        toml::from_str::<toml::Table>(text)
            .ok()
            .and_then(|mut table| table.remove("config_schema"))
    };
    if parsed(manifest).is_some() && parsed(manifest) == parsed(&derived.to_string()) {
        return Ok(None);
    }
    document.remove("config_schema");
    document.insert("config_schema", schema);
    Ok(Some(document.to_string()))
}

/// The triple `rustc` builds for by default: the native build the test runs in, also for
/// crates whose `.cargo/config.toml` builds for wasm32-wasip2.
fn host_triple() -> Result<String, DevError> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|err| DevError::Cargo(format!("cannot run rustc -vV ({err})")))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| DevError::Cargo("rustc -vV names no host triple".into()))
}

#[cfg(test)]
mod tests {
    use super::with_config_schema;

    const MANIFEST: &str = "# The VIP rule.\nname = \"vip\"\nversion = \"0.1.0\"\n\n\
        [limits]\ndeadline_ms = 50 # tight\n\n\
        [config_schema]\ntype = \"object\"\n\n\
        [config_schema.properties.team]\ntype = \"string\"\n";

    #[test]
    fn the_schema_is_replaced_and_the_rest_kept_as_written() {
        let derived = "[config_schema]\ntype = \"object\"\nrequired = [\"team\"]\n\n\
            [config_schema.properties.team]\ntype = \"string\"\nminLength = 1\n";
        let written = with_config_schema(MANIFEST, derived).unwrap().unwrap();
        assert!(
            written.starts_with("# The VIP rule.\nname = \"vip\""),
            "{written}"
        );
        assert!(written.contains("deadline_ms = 50 # tight"), "{written}");
        let table: toml::Table = toml::from_str(&written).unwrap();
        assert_eq!(
            table["config_schema"]["properties"]["team"]["minLength"].as_integer(),
            Some(1)
        );
        assert_eq!(
            table["config_schema"]["required"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn the_same_schema_in_another_spelling_is_left_alone() {
        let derived =
            "[config_schema]\ntype = \"object\"\nproperties = { team = { type = \"string\" } }\n";
        assert_eq!(with_config_schema(MANIFEST, derived).unwrap(), None);
    }

    #[test]
    fn a_manifest_without_a_schema_gets_one() {
        let manifest = "name = \"vip\"\nversion = \"0.1.0\"\n";
        let derived = "[config_schema]\ntype = \"object\"\n";
        let written = with_config_schema(manifest, derived).unwrap().unwrap();
        let table: toml::Table = toml::from_str(&written).unwrap();
        assert_eq!(table["config_schema"]["type"].as_str(), Some("object"));
        assert_eq!(table["name"].as_str(), Some("vip"));
    }
}
