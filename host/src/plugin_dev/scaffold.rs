//! `axle plugin new`: a plugin crate that builds, passes its unit tests and passes its
//! fixture as generated. The files come from host/templates/plugin/ with `{{placeholder}}`
//! substitution.

use std::path::{Path, PathBuf};

use super::DevError;
use crate::domain::plugin::{WitVersion, World};
use crate::runtime::manifest::{Manifest, ManifestError};

const CARGO_TOML: &str = include_str!("../../templates/plugin/Cargo.toml.in");
const GITIGNORE: &str = include_str!("../../templates/plugin/gitignore.in");

/// plugin.toml, src/lib.rs and the first fixture of a world.
struct WorldTemplates {
    manifest: &'static str,
    lib: &'static str,
    fixture: &'static str,
}

fn templates(world: World) -> WorldTemplates {
    macro_rules! world {
        ($name:literal) => {
            WorldTemplates {
                manifest: include_str!(concat!("../../templates/plugin/", $name, ".toml.in")),
                lib: include_str!(concat!("../../templates/plugin/", $name, ".rs.in")),
                fixture: include_str!(concat!("../../templates/plugin/", $name, ".json.in")),
            }
        };
    }
    match world {
        World::RoutingRule => world!("routing-rule"),
        World::WorkflowStep => world!("workflow-step"),
        World::FieldProvider => world!("field-provider"),
        World::ReportWidget => world!("report-widget"),
    }
}

/// What `axle plugin new` was asked for.
#[derive(Clone, Debug)]
pub struct NewPlugin {
    pub name: String,
    pub world: World,
    /// Where to create the crate; `./NAME` when unset.
    pub path: Option<PathBuf>,
    /// The axle-sdk checkout to depend on; this checkout's sdk/ when unset.
    pub sdk: Option<PathBuf>,
}

/// The SDK of the checkout this binary was built from.
pub fn default_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../sdk")
}

/// Checks `name` by the server's own rule for plugin.toml names.
fn check_name(name: &str) -> Result<(), DevError> {
    let probe = format!(
        "name = {}\nversion = \"0.1.0\"\nworld = \"routing-rule\"\n",
        toml::Value::String(name.to_owned())
    );
    match Manifest::parse(&probe) {
        Ok(_) => Ok(()),
        Err(ManifestError::Name(_)) => Err(DevError::Usage(format!(
            "`{name}` is not a plugin name: use 2-63 lowercase letters, digits and hyphens, \
             starting with a letter (for example `vip-routing`)"
        ))),
        Err(other) => Err(DevError::Usage(format!(
            "`{name}` is not a plugin name: {other}"
        ))),
    }
}

fn render(template: &str, values: &[(&str, &str)]) -> String {
    values
        .iter()
        .fold(template.to_owned(), |text, (key, value)| {
            text.replace(&format!("{{{{{key}}}}}"), value)
        })
}

/// plugin.toml for `name`, targeting the current WIT version and checked by the same
/// parser the server uses.
fn manifest_text(world: World, name: &str) -> Result<String, DevError> {
    let text = render(
        templates(world).manifest,
        &[("name", name), ("wit", WitVersion::LATEST.as_str())],
    );
    Manifest::parse(&text)
        .map(|_| text)
        .map_err(|err| DevError::Usage(format!("the {} template is broken: {err}", world.as_str())))
}

/// Creates the crate and returns its directory.
pub fn create(request: &NewPlugin) -> Result<PathBuf, DevError> {
    let name = request.name.as_str();
    check_name(name)?;
    let dir = request.path.clone().unwrap_or_else(|| PathBuf::from(name));
    if let Ok(mut entries) = std::fs::read_dir(&dir) {
        if entries.next().is_some() {
            return Err(DevError::Usage(format!(
                "{} already exists and is not empty; choose another --path or remove it",
                dir.display()
            )));
        }
    } else if dir.exists() {
        return Err(DevError::Usage(format!(
            "{} exists and is not a directory; choose another --path",
            dir.display()
        )));
    }
    let sdk = request.sdk.clone().unwrap_or_else(default_sdk);
    let sdk = std::fs::canonicalize(&sdk).map_err(|err| {
        DevError::Usage(format!(
            "the SDK path {} cannot be used ({err}); point --sdk at the axle-sdk crate (the sdk/ directory of an Axle checkout)",
            sdk.display()
        ))
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(DevError::Usage(format!(
            "{} has no Cargo.toml; point --sdk at the axle-sdk crate (the sdk/ directory of an Axle checkout)",
            sdk.display()
        )));
    }
    let sdk_text = sdk.to_string_lossy().replace('\\', "/");
    let world = request.world;
    let values = [
        ("name", name),
        ("world", world.as_str()),
        ("sdk_path", sdk_text.as_str()),
    ];
    let templates = templates(world);
    let files = [
        ("Cargo.toml", render(CARGO_TOML, &values)),
        ("plugin.toml", manifest_text(world, name)?),
        ("src/lib.rs", render(templates.lib, &values)),
        ("fixtures/basic.json", render(templates.fixture, &values)),
        (".gitignore", GITIGNORE.to_owned()),
    ];
    for (relative, text) in files {
        let path = dir.join(relative);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|err| DevError::io("cannot create", parent, err))?;
        }
        std::fs::write(&path, text).map_err(|err| DevError::io("cannot write", &path, err))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(dir: &Path, name: &str, world: World) -> NewPlugin {
        NewPlugin {
            name: name.to_owned(),
            world,
            path: Some(dir.join(name)),
            sdk: None,
        }
    }

    #[test]
    fn every_world_gets_a_manifest_the_server_accepts() {
        for world in [
            World::RoutingRule,
            World::WorkflowStep,
            World::FieldProvider,
            World::ReportWidget,
        ] {
            let text = manifest_text(world, "my-plugin").unwrap();
            let manifest = Manifest::parse(&text).unwrap();
            assert_eq!(manifest.world, world);
            assert_eq!(manifest.name, "my-plugin");
        }
    }

    #[test]
    fn every_world_gets_a_fixture_whose_config_fits_its_schema() {
        for world in [
            World::RoutingRule,
            World::WorkflowStep,
            World::FieldProvider,
            World::ReportWidget,
        ] {
            let manifest = Manifest::parse(&manifest_text(world, "my-plugin").unwrap()).unwrap();
            let fixture: serde_json::Value =
                serde_json::from_str(templates(world).fixture).unwrap();
            crate::runtime::manifest::check_config(
                manifest.config_schema.as_ref(),
                &fixture["config"],
            )
            .unwrap_or_else(|err| panic!("{}: {err}", world.as_str()));
        }
    }

    #[test]
    fn creates_the_crate_with_the_sdk_as_a_path_dependency() {
        let temp = tempfile::tempdir().unwrap();
        let dir = create(&request(temp.path(), "road-rule", World::RoutingRule)).unwrap();
        let cargo = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(
            cargo.contains("name = \"axle-plugin-road-rule\""),
            "{cargo}"
        );
        assert!(cargo.contains("features = [\"routing-rule\"]"), "{cargo}");
        assert!(cargo.contains("[workspace]"), "{cargo}");
        let sdk = std::fs::canonicalize(default_sdk()).unwrap();
        assert!(cargo.contains(&*sdk.to_string_lossy()), "{cargo}");
        assert!(dir.join("src/lib.rs").is_file());
        assert!(dir.join("fixtures/basic.json").is_file());
        assert!(dir.join(".gitignore").is_file());
        assert!(
            !dir.join(".cargo").exists(),
            "no build.target: cargo test runs natively"
        );
    }

    #[test]
    fn refuses_a_non_empty_directory() {
        let temp = tempfile::tempdir().unwrap();
        std::fs::create_dir(temp.path().join("taken")).unwrap();
        std::fs::write(temp.path().join("taken/notes.txt"), "mine").unwrap();
        let err = create(&request(temp.path(), "taken", World::RoutingRule)).unwrap_err();
        assert!(err.to_string().contains("not empty"), "{err}");
        assert_eq!(
            std::fs::read_to_string(temp.path().join("taken/notes.txt")).unwrap(),
            "mine"
        );
    }

    #[test]
    fn refuses_names_the_server_would_refuse() {
        let temp = tempfile::tempdir().unwrap();
        for name in ["My_Plugin", "9lives", "x", "a\"b"] {
            let err = create(&request(temp.path(), name, World::RoutingRule)).unwrap_err();
            assert!(
                err.to_string().contains("lowercase letters"),
                "{name}: {err}"
            );
        }
    }
}
