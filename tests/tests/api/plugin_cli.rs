//! `axle plugin …` as a plugin developer runs it: the real `axle` binary on crates it
//! scaffolds into temporary directories, against a real server.
//!
//! The scaffolded crates compile axle-sdk and serde for wasm32-wasip2 and, for their unit
//! tests, for the host. They build into the target directory of `plugins/`
//! ([`plugin_target_dir`]), where `cargo xtask test` has already built those dependencies
//! with the same versions, features and profile for the example plugins: each scaffold
//! then compiles only itself (1 s instead of 25 s cold, and the cold builds of five tests
//! used to queue on one cargo lock). Each test uses its own plugin name, suffixed with the
//! backend ([`rule_name`]): the component's file name comes from it, and two tests building
//! the same name into the shared target directory would overwrite each other.

use std::path::{Path, PathBuf};
use std::process::Output;

use axle_tests::node_process::axle_binary;
use axle_tests::{TestApp, repo_root, tls_server};
use serde_json::json;

/// Runs `axle plugin ARGS` in `dir`.
async fn axle(dir: &Path, args: &[&str]) -> Output {
    axle_with(dir, args, &[]).await
}

/// Runs `axle plugin ARGS` in `dir` with the environment variables `env` set.
async fn axle_with(dir: &Path, args: &[&str], env: &[(&str, &Path)]) -> Output {
    tokio::process::Command::new(axle_binary())
        .arg("plugin")
        .args(args)
        .current_dir(dir)
        .envs(env.iter().copied())
        .env("CARGO_TARGET_DIR", plugin_target_dir())
        .env_remove("AXLE_SERVER")
        .env_remove("AXLE_API_KEY")
        .output()
        .await
        .expect("run the axle binary")
}

/// The target directory of `plugins/` and `tests/guests/` (their `.cargo/config.toml`).
fn plugin_target_dir() -> PathBuf {
    repo_root().join("target/wasm")
}

/// The triple `rustc` builds for by default.
fn host_triple() -> String {
    let output = std::process::Command::new("rustc")
        .arg("-vV")
        .output()
        .expect("run rustc -vV");
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .expect("rustc -vV names its host triple")
}

/// The name a test's rule is scaffolded under: `stem` and this pass's backend.
fn rule_name(stem: &str) -> String {
    let backend = match axle_tests::backend() {
        axle_tests::Backend::Sqlite => "sqlite",
        axle_tests::Backend::Postgres => "postgres",
    };
    format!("{stem}-{backend}")
}

fn text(output: &Output) -> String {
    format!(
        "exit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn assert_exit(output: &Output, code: i32) {
    assert_eq!(output.status.code(), Some(code), "{}", text(output));
}

/// Scaffolds a routing rule called [`rule_name`]`(stem)` in a fresh temporary directory.
async fn new_rule(temp: &tempfile::TempDir, stem: &str) -> PathBuf {
    let name = rule_name(stem);
    let output = axle(temp.path(), &["new", &name, "--world", "routing-rule"]).await;
    assert_exit(&output, 0);
    temp.path().join(name)
}

/// Runs the crate's native unit tests (`cargo test`) for the host triple named, as
/// `cargo xtask test` runs the example plugins' unit tests, so that their dependencies are
/// found built ([`plugin_target_dir`]).
async fn unit_tests(crate_dir: &Path) -> Output {
    tokio::process::Command::new(env!("CARGO"))
        .args(["test", "--target", &host_triple()])
        .current_dir(crate_dir)
        .env("CARGO_TARGET_DIR", plugin_target_dir())
        .output()
        .await
        .unwrap()
}

/// Replaces the one occurrence of `from` in the file at `path` with `to`.
fn edit(path: &Path, from: &str, to: &str) {
    let before = std::fs::read_to_string(path).unwrap();
    assert_eq!(
        before.matches(from).count(),
        1,
        "`{from}` in {}",
        path.display()
    );
    std::fs::write(path, before.replace(from, to)).unwrap();
}

const RAISE_TO_HIGH: &str = "decision.priority = Some(Priority::High);";
const RAISE_TO_CRITICAL: &str = "decision.priority = Some(Priority::Critical);";

#[tokio::test]
async fn a_new_plugin_goes_from_scaffold_to_routing_live_tickets() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "powertrain-rule").await;

    // As generated, its unit tests pass natively and its fixture passes in the sandbox.
    assert_exit(&unit_tests(&crate_dir).await, 0);
    let first = axle(&crate_dir, &["test"]).await;
    assert_exit(&first, 0);
    let report = String::from_utf8_lossy(&first.stdout);
    assert!(report.contains("PASS"), "{report}");
    let figure = |label: &str| -> f64 {
        let line = report
            .lines()
            .find(|line| line.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in {report}"));
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    };
    assert!(figure("fuel") > 0.0, "{report}");
    assert!(figure("memory") > 0.0, "{report}");
    assert!(
        report.contains("\"team\":\"powertrain-experts\""),
        "{report}"
    );

    // The developer changes the rule's logic and the fixture's expectation.
    edit(
        &crate_dir.join("src/lib.rs"),
        RAISE_TO_HIGH,
        RAISE_TO_CRITICAL,
    );
    edit(
        &crate_dir.join("fixtures/basic.json"),
        "\"High\"",
        "\"Critical\"",
    );
    assert_exit(&axle(&crate_dir, &["test"]).await, 0);

    let build = axle(&crate_dir, &["build"]).await;
    assert_exit(&build, 0);
    let built = String::from_utf8_lossy(&build.stdout);
    assert!(built.contains("sha256"), "{built}");
    let file = format!(
        "axle_plugin_{}.wasm",
        rule_name("powertrain-rule").replace('-', "_")
    );
    assert!(built.contains(&file), "{built}");

    let app = TestApp::spawn().await;
    let tenant = app.tenant("plugin-cli").await;
    let remote = ["--server", app.url.as_str(), "--key", tenant.key.as_str()];
    let publish = axle(&crate_dir, &[&["publish"][..], &remote].concat()).await;
    assert_exit(&publish, 0);
    assert!(
        String::from_utf8_lossy(&publish.stdout)
            .contains(&format!("Published {}@0.1.0", rule_name("powertrain-rule"))),
        "{}",
        text(&publish)
    );
    let config = r#"{"category": "powertrain", "team": "powertrain-experts"}"#;
    let install = axle(
        &crate_dir,
        &[&["install", "--config", config][..], &remote].concat(),
    )
    .await;
    assert_exit(&install, 0);

    let ticket = app
        .ticket(
            &tenant,
            json!({"subject": "Engine stalls", "description": "at idle", "category": "powertrain"}),
        )
        .await;
    assert_eq!(ticket["priority"], "critical", "{ticket}");
    assert_eq!(ticket["team"], "powertrain-experts", "{ticket}");
    let other = app
        .ticket(
            &tenant,
            json!({"subject": "Invoice", "description": "wrong total", "category": "billing"}),
        )
        .await;
    assert_eq!(other["team"], serde_json::Value::Null, "{other}");

    // Version 0.2.0 sends the category to another team; replay shows what would change on
    // the two recorded tickets before anyone upgrades.
    edit(
        &crate_dir.join("plugin.toml"),
        "version = \"0.1.0\"",
        "version = \"0.2.0\"",
    );
    let replay = axle(
        &crate_dir,
        &[
            &["replay", "--last", "10", "--config"][..],
            &[r#"{"category": "powertrain", "team": "engine-team"}"#],
            &remote,
        ]
        .concat(),
    )
    .await;
    assert_exit(&replay, 0);
    let replayed = String::from_utf8_lossy(&replay.stdout);
    assert!(
        replayed.contains("agreement  1 of 2 (50%)"),
        "the billing ticket agrees (no decision), the powertrain one differs: {}",
        text(&replay)
    );
    assert!(replayed.contains("engine-team"), "{}", text(&replay));
    let installations = app
        .get(&tenant.key, "/api/v1/installations")
        .await
        .expect(200);
    assert_eq!(
        installations["items"][0]["version"], "0.1.0",
        "a replay changes nothing: {installations}"
    );
}

#[tokio::test]
async fn build_writes_the_config_schema_from_the_config_struct() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "schema-rule").await;
    let manifest = crate_dir.join("plugin.toml");
    let before = std::fs::read_to_string(&manifest).unwrap();

    // The developer gives the config a new setting, with what admins should read and enter.
    edit(
        &crate_dir.join("src/lib.rs"),
        "    team: String,\n}",
        "    team: String,\n    /// 升级时抄送的队列 (the queue copied on escalations).\n    \
         #[serde(default)]\n    #[schemars(length(max = 40))]\n    cc_queue: Option<String>,\n}",
    );
    // The manifest no longer matches: the unit test names the new property.
    let stale = unit_tests(&crate_dir).await;
    assert_exit(&stale, 101);
    assert!(
        text(&stale).contains("config_schema.properties.cc_queue: the manifest has nothing"),
        "{}",
        text(&stale)
    );

    let build = axle(&crate_dir, &["build"]).await;
    assert_exit(&build, 0);
    assert!(
        String::from_utf8_lossy(&build.stderr)
            .contains("[config_schema] written from the config struct"),
        "{}",
        text(&build)
    );
    let after = std::fs::read_to_string(&manifest).unwrap();
    let table: toml::Table = toml::from_str(&after).unwrap();
    let cc_queue = &table["config_schema"]["properties"]["cc_queue"];
    assert_eq!(cc_queue["maxLength"].as_integer(), Some(40), "{after}");
    assert_eq!(
        cc_queue["description"].as_str(),
        Some("升级时抄送的队列 (the queue copied on escalations).")
    );
    // The rest of the manifest is as the developer wrote it.
    let head = |text: &str| text[..text.find("[config_schema]").unwrap()].to_owned();
    assert_eq!(head(&after), head(&before));
    // Manifest and struct agree again, and a second build leaves the file alone.
    assert_exit(&unit_tests(&crate_dir).await, 0);
    let again = axle(&crate_dir, &["build"]).await;
    assert_exit(&again, 0);
    assert!(!String::from_utf8_lossy(&again.stderr).contains("written from"));
    assert_eq!(std::fs::read_to_string(&manifest).unwrap(), after);
}

#[tokio::test]
async fn a_failing_expectation_exits_1_and_names_the_key_that_differed() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "mismatch-rule").await;
    edit(
        &crate_dir.join("fixtures/basic.json"),
        "\"team\": \"powertrain-experts\", \"priority\"",
        "\"team\": \"body-shop\", \"priority\"",
    );
    let output = axle(&crate_dir, &["test"]).await;
    assert_exit(&output, 1);
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(report.contains("FAIL"), "{report}");
    assert!(
        report.contains("result.team: expected \"body-shop\", got \"powertrain-experts\""),
        "{report}"
    );
}

#[tokio::test]
async fn publishing_changed_code_under_the_same_version_says_to_bump_it() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "bump-rule").await;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("bump").await;
    let remote = ["--server", app.url.as_str(), "--key", tenant.key.as_str()];
    assert_exit(
        &axle(&crate_dir, &[&["publish"][..], &remote].concat()).await,
        0,
    );

    edit(
        &crate_dir.join("src/lib.rs"),
        RAISE_TO_HIGH,
        RAISE_TO_CRITICAL,
    );
    let again = axle(&crate_dir, &[&["publish"][..], &remote].concat()).await;
    assert_exit(&again, 2);
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(
        stderr.contains("bump `version` in plugin.toml"),
        "{}",
        text(&again)
    );
}

#[tokio::test]
async fn publishing_to_an_unreachable_server_names_its_url() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "offline-rule").await;
    // A port that was free a moment ago: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let output = axle(&crate_dir, &["publish", "--server", &url, "--key", "k"]).await;
    assert_exit(&output, 2);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("cannot reach the Axle server at {url}")),
        "{}",
        text(&output)
    );
}

#[tokio::test]
async fn publishing_over_https_needs_a_certificate_the_machine_trusts() {
    let temp = tempfile::tempdir().unwrap();
    let crate_dir = new_rule(&temp, "tls-rule").await;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("plugin-cli-tls").await;
    // The node behind a TLS front, as behind an operator's reverse proxy.
    let server = tls_server::front(&app.url).await;
    let publish = ["publish", "--server", &server, "--key", &tenant.key];

    // The system's roots do not hold the test CA.
    let untrusted = axle(&crate_dir, &publish).await;
    assert_exit(&untrusted, 2);
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert!(
        stderr.contains("the TLS handshake failed") && stderr.contains("certificate"),
        "{}",
        text(&untrusted)
    );

    // With the CA in the PEM file SSL_CERT_FILE names, it is trusted.
    let ca = tls_server::fixture("ca.pem");
    let trusted = axle_with(&crate_dir, &publish, &[("SSL_CERT_FILE", &ca)]).await;
    assert_exit(&trusted, 0);
    assert!(
        String::from_utf8_lossy(&trusted.stdout)
            .contains(&format!("Published {}@0.1.0", rule_name("tls-rule"))),
        "{}",
        text(&trusted)
    );
    let versions = app.get(&tenant.key, "/api/v1/plugins").await.expect(200);
    assert_eq!(
        versions["items"][0]["name"],
        rule_name("tls-rule").as_str(),
        "{versions}"
    );
}

#[tokio::test]
async fn new_refuses_a_directory_that_is_not_empty() {
    let temp = tempfile::tempdir().unwrap();
    let taken = temp.path().join("taken");
    std::fs::create_dir(&taken).unwrap();
    std::fs::write(taken.join("notes.txt"), "mine").unwrap();
    let output = axle(
        temp.path(),
        &[
            "new",
            "taken-rule",
            "--world",
            "routing-rule",
            "--path",
            "taken",
        ],
    )
    .await;
    assert_exit(&output, 2);
    assert!(
        String::from_utf8_lossy(&output.stderr).contains("is not empty"),
        "{}",
        text(&output)
    );
    assert_eq!(
        std::fs::read_dir(&taken).unwrap().count(),
        1,
        "nothing was written"
    );
}
