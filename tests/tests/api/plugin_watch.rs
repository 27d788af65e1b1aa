//! Dev mode (`axle serve --watch-plugins`): a rebuilt plugin goes live in the watched
//! tenant as a dev version; a bad or half-written build never replaces the running one.

use std::path::PathBuf;

use axle_host::domain::plugin::Capability;
use axle_host::plugin_watch::{PluginWatch, Reload};
use axle_tests::{Plugin, SAFETY_ESCALATION, Tenant, TestApp, VIN_DECODER};
use serde_json::{Value, json};

/// A plugins directory and a wasm directory the test "builds" into.
struct Workspace {
    _root: tempfile::TempDir,
    plugins: PathBuf,
    wasm: PathBuf,
}

impl Workspace {
    fn new() -> Workspace {
        let root = tempfile::tempdir().expect("temp dir");
        let plugins = root.path().join("plugins");
        let wasm = root.path().join("wasm");
        std::fs::create_dir_all(&plugins).unwrap();
        std::fs::create_dir_all(&wasm).unwrap();
        Workspace {
            _root: root,
            plugins,
            wasm,
        }
    }

    /// Writes `plugin`'s manifest (as given) and `component` as if a build just finished.
    fn build(&self, plugin: &Plugin, manifest: &str, component: &[u8]) {
        let dir = self.plugins.join(plugin.name);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("plugin.toml"), manifest).unwrap();
        std::fs::write(self.wasm.join(plugin.wasm), component).unwrap();
    }

    fn write_component(&self, plugin: &Plugin, component: &[u8]) {
        std::fs::write(self.wasm.join(plugin.wasm), component).unwrap();
    }

    fn watch(&self, app: &TestApp, tenant: &Tenant) -> PluginWatch {
        PluginWatch::new(app.app.core.clone(), &tenant.id, &self.plugins, &self.wasm)
    }
}

/// The same component with a custom section appended: still valid, different bytes,
/// like a rebuild after an edit.
fn rebuilt(component: &[u8], edit: &str) -> Vec<u8> {
    let name = b"axle-test-edit";
    let mut payload = vec![name.len() as u8];
    payload.extend_from_slice(name);
    payload.extend_from_slice(edit.as_bytes());
    let mut bytes = component.to_vec();
    bytes.push(0); // custom section
    let mut size = payload.len();
    loop {
        let byte = (size & 0x7f) as u8;
        size >>= 7;
        if size == 0 {
            bytes.push(byte);
            break;
        }
        bytes.push(byte | 0x80);
    }
    bytes.extend_from_slice(&payload);
    bytes
}

/// Scans twice, as the background loop does across two polls: a file must look the same
/// on both before it is picked up.
async fn settle(watch: &mut PluginWatch) -> Vec<Reload> {
    let first = watch.scan_once().await;
    let mut second = watch.scan_once().await;
    let mut all = first;
    all.append(&mut second);
    all
}

fn live_version(reloads: &[Reload]) -> String {
    match reloads {
        [Reload::Live { version, .. }] => version.clone(),
        other => panic!("expected one live reload, got {other:?}"),
    }
}

/// The `<n>` of `0.1.0-dev.<n>`.
fn dev_number(version: &str) -> u64 {
    version
        .rsplit_once("dev.")
        .and_then(|(_, n)| n.parse().ok())
        .unwrap_or_else(|| panic!("{version} is not a dev version"))
}

fn config() -> Value {
    json!({ "default_manager": "+8613800000000" })
}

/// The plugin@version that routed a new brake ticket (Chinese and English text).
async fn deciding_version(app: &TestApp, tenant: &Tenant) -> String {
    let ticket = app
        .ticket(
            tenant,
            json!({ "description": "刹车踏板发软 soft brake pedal", "channel": "phone" }),
        )
        .await;
    let fetched = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    let decisions = fetched["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    decisions[0]["plugin"].as_str().unwrap().to_owned()
}

async fn plugin_versions(app: &TestApp, tenant: &Tenant) -> Vec<String> {
    let body = app
        .get(&tenant.key, "/api/v1/plugins?limit=100")
        .await
        .expect(200);
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            format!(
                "{}@{}",
                v["name"].as_str().unwrap(),
                v["version"].as_str().unwrap()
            )
        })
        .collect()
}

/// Installs safety-escalation 0.1.0 in `tenant` and puts the same build in `workspace`.
async fn installed(app: &TestApp, tenant: &Tenant) -> String {
    let installation = app
        .install(tenant, &SAFETY_ESCALATION, config(), &["notify"])
        .await;
    installation["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_rebuilt_plugin_runs_as_a_dev_version_for_the_next_ticket_in_the_watched_tenant_only() {
    let app = TestApp::spawn().await;
    let watched = app.tenant("oem-a").await;
    let other = app.tenant("oem-b").await;
    let id = installed(&app, &watched).await;
    let other_id = installed(&app, &other).await;
    let workspace = Workspace::new();
    let component = SAFETY_ESCALATION.component();
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &component,
    );
    let mut watch = workspace.watch(&app, &watched);
    assert_eq!(
        settle(&mut watch).await,
        vec![],
        "the build the tenant already runs is not reloaded"
    );

    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "edit 1"));
    let version = live_version(&settle(&mut watch).await);
    assert!(version.starts_with("0.1.0-dev."), "{version}");
    assert_eq!(
        deciding_version(&app, &watched).await,
        format!("safety-escalation@{version}")
    );
    let installation = app
        .get(&watched.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(200);
    assert_eq!(installation["version"], version.as_str());
    assert_eq!(installation["config"], config(), "the config carries over");

    // A second rebuild gets a later dev version: versions stay immutable.
    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "edit 2"));
    let second = live_version(&settle(&mut watch).await);
    assert!(
        dev_number(&second) > dev_number(&version),
        "{second} after {version}"
    );
    assert_eq!(
        deciding_version(&app, &watched).await,
        format!("safety-escalation@{second}")
    );

    // The other tenant still runs 0.1.0, has no dev versions and cannot see the watched
    // tenant's installation.
    assert_eq!(
        deciding_version(&app, &other).await,
        "safety-escalation@0.1.0"
    );
    assert_eq!(
        plugin_versions(&app, &other).await,
        vec!["safety-escalation@0.1.0"]
    );
    let untouched = app
        .get(&other.key, &format!("/api/v1/installations/{other_id}"))
        .await
        .expect(200);
    assert_eq!(untouched["version"], "0.1.0");
    app.get(&other.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(404);
}

#[tokio::test]
async fn a_corrupt_build_is_reported_once_and_the_previous_version_keeps_running() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    installed(&app, &tenant).await;
    let workspace = Workspace::new();
    let component = SAFETY_ESCALATION.component();
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &component,
    );
    let mut watch = workspace.watch(&app, &tenant);
    settle(&mut watch).await;
    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "good"));
    let good = live_version(&settle(&mut watch).await);

    workspace.write_component(&SAFETY_ESCALATION, &component[..component.len() / 2]);
    let reloads = settle(&mut watch).await;
    match reloads.as_slice() {
        [Reload::Rejected { plugin, error }] => {
            assert_eq!(plugin, "safety-escalation");
            assert!(!error.is_empty());
        }
        other => panic!("expected the corrupt build to be rejected, got {other:?}"),
    }
    assert_eq!(
        deciding_version(&app, &tenant).await,
        format!("safety-escalation@{good}")
    );
    assert_eq!(
        settle(&mut watch).await,
        vec![],
        "the same bad build is not retried until it changes"
    );

    // A component of another world is rejected too.
    workspace.write_component(&SAFETY_ESCALATION, &VIN_DECODER.component());
    assert!(
        matches!(
            settle(&mut watch).await.as_slice(),
            [Reload::Rejected { .. }]
        ),
        "a field-provider component is not a routing rule"
    );
    assert_eq!(
        deciding_version(&app, &tenant).await,
        format!("safety-escalation@{good}")
    );

    // Fixing the build makes it live again.
    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "fixed"));
    let fixed = live_version(&settle(&mut watch).await);
    assert_eq!(
        deciding_version(&app, &tenant).await,
        format!("safety-escalation@{fixed}")
    );
}

#[tokio::test]
async fn an_unchanged_build_causes_no_reload() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    installed(&app, &tenant).await;
    let workspace = Workspace::new();
    let component = SAFETY_ESCALATION.component();
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &component,
    );
    let mut watch = workspace.watch(&app, &tenant);
    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "once"));
    live_version(&settle(&mut watch).await);
    let before = plugin_versions(&app, &tenant).await;

    for _ in 0..5 {
        assert_eq!(watch.scan_once().await, vec![]);
    }
    // Rewriting the same bytes (a no-op rebuild touches the file) uploads nothing either.
    workspace.write_component(&SAFETY_ESCALATION, &rebuilt(&component, "once"));
    assert_eq!(settle(&mut watch).await, vec![]);
    assert_eq!(plugin_versions(&app, &tenant).await, before);
}

#[tokio::test]
async fn a_half_written_build_waits_until_it_stops_changing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    installed(&app, &tenant).await;
    let workspace = Workspace::new();
    let component = SAFETY_ESCALATION.component();
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &component,
    );
    let mut watch = workspace.watch(&app, &tenant);
    settle(&mut watch).await;

    let next = rebuilt(&component, "slow build");
    workspace.write_component(&SAFETY_ESCALATION, &next[..next.len() / 3]);
    assert_eq!(watch.scan_once().await, vec![], "the file just changed");
    workspace.write_component(&SAFETY_ESCALATION, &next[..2 * next.len() / 3]);
    assert_eq!(watch.scan_once().await, vec![], "it is still growing");
    workspace.write_component(&SAFETY_ESCALATION, &next);
    assert_eq!(watch.scan_once().await, vec![], "it may still be growing");
    let version = live_version(&watch.scan_once().await);
    assert_eq!(
        deciding_version(&app, &tenant).await,
        format!("safety-escalation@{version}")
    );
}

#[tokio::test]
async fn a_manifest_that_adds_a_capability_is_approved_automatically_in_dev_mode() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant).await;
    let workspace = Workspace::new();
    let component = SAFETY_ESCALATION.component();
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &component,
    );
    let mut watch = workspace.watch(&app, &tenant);
    settle(&mut watch).await;

    let manifest = SAFETY_ESCALATION.manifest().replace(
        "capabilities = [\"notify\"]",
        "capabilities = [\"notify\", \"kv\"]",
    );
    workspace.build(&SAFETY_ESCALATION, &manifest, &component);
    let reloads = settle(&mut watch).await;
    let version = match reloads.as_slice() {
        [
            Reload::Live {
                version, approved, ..
            },
        ] => {
            assert_eq!(approved, &vec![Capability::Kv]);
            version.clone()
        }
        other => panic!("expected a live reload, got {other:?}"),
    };
    let installation = app
        .get(&tenant.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(200);
    assert_eq!(installation["version"], version.as_str());
    assert_eq!(installation["capabilities"], json!(["kv", "notify"]));
    assert_eq!(installation["pending_upgrade"], Value::Null);
}

#[tokio::test]
async fn a_plugin_not_yet_installed_is_installed_only_when_an_empty_config_fits() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let workspace = Workspace::new();
    workspace.build(
        &VIN_DECODER,
        &VIN_DECODER.manifest(),
        &VIN_DECODER.component(),
    );
    workspace.build(
        &SAFETY_ESCALATION,
        &SAFETY_ESCALATION.manifest(),
        &SAFETY_ESCALATION.component(),
    );
    let mut watch = workspace.watch(&app, &tenant);
    let mut reloads = settle(&mut watch).await;
    reloads.sort_by(|a, b| a.plugin().cmp(b.plugin()));
    match reloads.as_slice() {
        [
            Reload::NotInstalled { plugin, reason, .. },
            Reload::Live {
                plugin: installed,
                version,
                ..
            },
        ] => {
            assert_eq!(plugin, "safety-escalation");
            assert!(reason.contains("default_manager"), "{reason}");
            assert_eq!(installed, "vin-decoder");
            let list = app
                .get(&tenant.key, "/api/v1/installations")
                .await
                .expect(200);
            let items = list["items"].as_array().unwrap();
            assert_eq!(items.len(), 1, "{items:?}");
            assert_eq!(items[0]["plugin"], "vin-decoder");
            assert_eq!(items[0]["version"], version.as_str());
        }
        other => panic!("unexpected reloads {other:?}"),
    }
    assert!(
        plugin_versions(&app, &tenant)
            .await
            .iter()
            .any(|v| v.starts_with("safety-escalation@0.1.0-dev.")),
        "the build is uploaded so that an admin can install it"
    );
}
