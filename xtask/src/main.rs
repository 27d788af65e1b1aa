//! `cargo xtask demo | test | bench | load | fuzz`: the README's commands.
//!
//! - `demo`: adds the wasm32-wasip2 target if missing, builds the plugins, and serves the
//!   seeded demo tenant on embedded SQLite.
//! - `test`: builds the plugins and test guests, runs every test on SQLite, and again on
//!   PostgreSQL when it is reachable.
//! - `bench`: builds the plugins and runs the criterion benchmarks: plugin invocation,
//!   CSV import of 100k rows on SQLite, and a restart with 500 plugin versions on a warm
//!   compiled cache.
//! - `load`: builds the release binary and the plugins, and measures HTTP throughput and
//!   latency against release nodes on SQLite and PostgreSQL, with plugins on and off
//!   (`soak`: one node for many minutes, its memory sampled); both run `axle-load`, of
//!   the `bench/` package.
//! - `fuzz`: installs cargo-fuzz if missing and runs the fuzz targets in `fuzz/` on
//!   nightly (the upload checks, the CSV reader, the VIN and plate parsers), reporting each
//!   one's executions and crashes.

mod fuzz;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

const WASM_TARGET: &str = "wasm32-wasip2";
const POSTGRES_ADDR: &str = "127.0.0.1:5432";
const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = match args.split_first() {
        Some((command, rest)) => (command.as_str(), rest),
        None => ("help", &[][..]),
    };
    let result = match command {
        "demo" => demo(rest),
        "test" => test(rest),
        "bench" => bench(rest),
        "load" | "soak" => measure(command, rest),
        "fuzz" => fuzz::run_targets(rest),
        _ => {
            eprintln!(
                "usage: cargo xtask demo [axle demo args…] | test [cargo test args…] | bench [criterion args…] | load [--help] | soak [--help] | fuzz [TARGET…] [--time SECONDS]"
            );
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_owned()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

/// Test counts read from cargo's `test result:` lines.
#[derive(Default)]
struct Tally {
    passed: u64,
    failed: u64,
}

impl Tally {
    fn add_line(&mut self, line: &str) {
        let Some(summary) = line.strip_prefix("test result: ") else {
            return;
        };
        for part in summary.split(['.', ';']) {
            let mut words = part.split_whitespace();
            match (
                words.next().and_then(|n| n.parse::<u64>().ok()),
                words.next(),
            ) {
                (Some(n), Some("passed")) => self.passed += n,
                (Some(n), Some("failed")) => self.failed += n,
                _ => {}
            }
        }
    }
}

/// A test command running beside others, its output kept until it is asked for, so two
/// passes' lines do not interleave.
struct Beside {
    shown: String,
    started: std::time::Instant,
    child: std::process::Child,
    output: std::thread::JoinHandle<Vec<String>>,
}

impl Beside {
    fn start(command: &mut Command) -> Result<Beside> {
        use std::io::{BufRead, BufReader};
        let shown = format!("{command:?}");
        eprintln!("xtask: starting beside the next step: {shown}");
        let mut child = command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|err| format!("cannot start {shown}: {err}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let stderr = child.stderr.take().expect("stderr is piped");
        // Cargo's progress goes to stderr, the tests' lines to stdout: both are read, or a
        // full pipe would stop the child.
        let errors = std::thread::spawn(move || {
            BufReader::new(stderr)
                .lines()
                .map_while(std::result::Result::ok)
                .collect::<Vec<_>>()
        });
        let output = std::thread::spawn(move || {
            let mut lines: Vec<String> = BufReader::new(stdout)
                .lines()
                .map_while(std::result::Result::ok)
                .collect();
            lines.extend(errors.join().unwrap_or_default());
            lines
        });
        Ok(Beside {
            shown,
            started: std::time::Instant::now(),
            child,
            output,
        })
    }

    /// Waits for the command, then prints its output and counts its results.
    fn finish(mut self, tally: &mut Tally) -> Result {
        let status = self
            .child
            .wait()
            .map_err(|err| format!("waiting for {}: {err}", self.shown))?;
        eprintln!("xtask: output of {}", self.shown);
        for line in self.output.join().unwrap_or_default() {
            println!("{line}");
            tally.add_line(&line);
        }
        concluded(&self.shown, status, self.started)
    }
}

/// Prints how long a step took and turns its exit status into the step's result.
fn concluded(shown: &str, status: std::process::ExitStatus, started: std::time::Instant) -> Result {
    // Each step's time, so a slow CI run says where its minutes went.
    eprintln!("xtask: took {:.0} s", started.elapsed().as_secs_f64());
    if status.success() {
        Ok(())
    } else {
        Err(format!("{shown} failed with {status}"))
    }
}

/// Runs a test command, echoing its output and counting its results.
fn run_tests(command: &mut Command, tally: &mut Tally) -> Result {
    use std::io::{BufRead, BufReader};
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let started = std::time::Instant::now();
    let mut child = command
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|err| format!("cannot start {shown}: {err}"))?;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            println!("{line}");
            tally.add_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|err| format!("waiting for {shown}: {err}"))?;
    concluded(&shown, status, started)
}

fn run(command: &mut Command) -> Result {
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let started = std::time::Instant::now();
    let status = command
        .status()
        .map_err(|err| format!("cannot start {shown}: {err}"))?;
    concluded(&shown, status, started)
}

/// Adds the wasm32-wasip2 target through rustup when it is not installed.
fn ensure_wasm_target() -> Result {
    let output = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|err| format!("cannot run rustup to check for the {WASM_TARGET} target: {err}"))?;
    let installed = String::from_utf8_lossy(&output.stdout);
    if installed.lines().any(|line| line.trim() == WASM_TARGET) {
        return Ok(());
    }
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// Each package directly under `workspace`: its name, directory and manifest text.
fn members(workspace: &Path) -> Result<Vec<(String, PathBuf, String)>> {
    let entries = std::fs::read_dir(workspace)
        .map_err(|err| format!("reading {}: {err}", workspace.display()))?;
    let mut members = Vec::new();
    for entry in entries.filter_map(std::result::Result::ok) {
        let manifest = entry.path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let name = text
            .lines()
            .find_map(|line| {
                line.trim()
                    .strip_prefix("name = ")
                    .map(|name| name.trim_matches('"').to_owned())
            })
            .ok_or_else(|| format!("{} has no package name", manifest.display()))?;
        members.push((name, entry.path(), text));
    }
    Ok(members)
}

/// The package names of a wasm workspace's members (one directory each), grouped by the
/// SDK world feature they enable. Cargo unifies features across the packages of one
/// build, so packages of one world build together (and their LTO links run in parallel),
/// while two worlds in one build would enable both in the SDK, which refuses that. A
/// member without the SDK joins the first group.
fn member_groups(workspace: &Path) -> Result<Vec<Vec<String>>> {
    let mut by_world: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, _, manifest) in members(workspace)? {
        let world = manifest
            .lines()
            .filter(|line| line.trim_start().starts_with("axle-sdk"))
            .find_map(|line| {
                let features = line.split_once("features = [")?.1;
                Some(
                    features
                        .split(']')
                        .next()?
                        .trim()
                        .trim_matches('"')
                        .to_owned(),
                )
            })
            .unwrap_or_default();
        by_world.entry(world).or_default().push(name);
    }
    let mut groups: Vec<Vec<String>> = Vec::new();
    let without_sdk = by_world.remove("").unwrap_or_default();
    groups.extend(by_world.into_values());
    match groups.first_mut() {
        Some(first) => first.extend(without_sdk),
        None if !without_sdk.is_empty() => groups.push(without_sdk),
        None => {}
    }
    for group in &mut groups {
        group.sort();
    }
    Ok(groups)
}

/// The members of `workspace` with a `#[test]` in their sources: a guest that only exists
/// to be loaded by the host's tests has nothing to run natively, and building it for the
/// host costs a link.
fn members_with_tests(workspace: &Path) -> Result<std::collections::BTreeSet<String>> {
    fn mentions_test(dir: &Path) -> bool {
        std::fs::read_dir(dir)
            .into_iter()
            .flatten()
            .filter_map(std::result::Result::ok)
            .any(|entry| {
                let path = entry.path();
                if path.is_dir() {
                    mentions_test(&path)
                } else {
                    path.extension().is_some_and(|ext| ext == "rs")
                        && std::fs::read_to_string(&path).is_ok_and(|text| text.contains("#[test]"))
                }
            })
    }
    let mut tested = std::collections::BTreeSet::new();
    for (name, dir, _) in members(workspace)? {
        if mentions_test(&dir.join("src")) {
            tested.insert(name);
        }
    }
    Ok(tested)
}

/// `-p NAME` for each package of a group.
fn package_args(group: &[String]) -> Vec<String> {
    group
        .iter()
        .flat_map(|name| ["-p".to_owned(), name.clone()])
        .collect()
}

/// Builds every member of a wasm workspace to a component, one cargo call per world.
fn build_components(workspace: &Path) -> Result {
    for group in member_groups(workspace)? {
        run(cargo()
            .current_dir(workspace)
            .args(["build", "--release", "--quiet"])
            .args(package_args(&group)))?;
    }
    Ok(())
}

fn build_plugins(with_guests: bool) -> Result {
    ensure_wasm_target()?;
    build_components(&root().join("plugins"))?;
    if with_guests {
        build_components(&root().join("tests/guests"))?;
    }
    Ok(())
}

fn demo(args: &[String]) -> Result {
    build_plugins(false)?;
    let root = root();
    run(cargo()
        .current_dir(&root)
        .args([
            "run",
            "--quiet",
            "-p",
            "axle-host",
            "--bin",
            "axle",
            "--",
            "demo",
        ])
        .args([
            "--data-dir",
            "target/demo",
            "--plugins",
            "plugins",
            "--wasm",
            "target/wasm/wasm32-wasip2/release",
        ])
        .args(args))
}

/// `load` and `soak`: builds the release binaries (the workspace's feature set, as
/// `test` builds it: with `-p axle-host` alone wasmtime would compile again) and the
/// plugins, then hands over to `axle-load`, which starts the nodes and drives them.
fn measure(command: &str, args: &[String]) -> Result {
    let root = root();
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        // Its options are the tool's own: a debug build of it alone is enough to list them.
        return run(cargo()
            .current_dir(&root)
            .args([
                "run",
                "--quiet",
                "-p",
                "axle-bench",
                "--bin",
                "axle-load",
                "--",
            ])
            .arg(command)
            .args(args));
    }
    run(cargo().current_dir(&root).args([
        "build",
        "--release",
        "--quiet",
        "--workspace",
        "--bins",
    ]))?;
    build_plugins(false)?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|dir| root.join(dir))
        .unwrap_or_else(|| root.join("target"));
    let tool = target
        .join("release")
        .join(format!("axle-load{}", std::env::consts::EXE_SUFFIX));
    run(Command::new(tool).arg(command).args(args))
}

fn postgres_reachable() -> bool {
    let addr: SocketAddr = POSTGRES_ADDR.parse().expect("a socket address");
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}

fn test(args: &[String]) -> Result {
    let mut tally = Tally::default();
    let result = test_all(args, &mut tally);
    // One closing line for CI, whatever ran: cargo's last `test result:` is often a crate
    // with no tests at all.
    println!("xtask: {} passed, {} failed", tally.passed, tally.failed);
    result
}

fn test_all(args: &[String], tally: &mut Tally) -> Result {
    let root = root();
    // The multi-node and `axle plugin` tests run the `axle` binary itself, as an operator
    // would. Built with the test targets, so with exactly the feature set the tests below
    // use: built with `-p axle-host` alone, features unify differently and wasmtime would
    // compile a second time; built without `--tests`, the dev-dependencies' features are
    // off and a dozen crates and axle-host compile twice.
    //
    // The longest step, so the plugins and their native tests run beside it, in their own
    // workspaces and target directory: they fill the cores its slow single crates
    // (cranelift-codegen, axle-host) leave idle.
    let build = Beside::start(cargo().current_dir(&root).args([
        "build",
        "--quiet",
        "--workspace",
        "--bins",
        "--tests",
    ]))?;
    let components = component_tests(tally);
    let built = build.finish(tally);
    components.and(built)?;
    // The PostgreSQL pass runs the one suite that depends on the backend, beside the
    // SQLite pass: it mostly waits on the server (57 % of one core alone), so the two
    // passes share the machine's cores instead of taking turns.
    let postgres = if postgres_reachable() {
        let url =
            std::env::var("AXLE_TEST_DATABASE_URL").unwrap_or_else(|_| POSTGRES_URL.to_owned());
        eprintln!(
            "xtask: PostgreSQL answers on {POSTGRES_ADDR}; running the database-backed suite against it"
        );
        Some(Beside::start(
            cargo()
                .current_dir(&root)
                // `--workspace` for the same feature set as the build above, so nothing
                // recompiles; the integration tests are the suite that reads the backend.
                .args(["test", "--workspace", "--test", "api", "--no-fail-fast"])
                .args(with_skips(args, &BACKEND_FREE))
                .env("AXLE_TEST_BACKEND", "postgres")
                // Six at a time: the pass mostly waits on the server, so at libtest's two
                // (one per core) it took 162 s beside the SQLite pass; at six, 105 s.
                .env(
                    "RUST_TEST_THREADS",
                    std::env::var("RUST_TEST_THREADS").unwrap_or_else(|_| "6".to_owned()),
                )
                .env("AXLE_TEST_DATABASE_URL", url),
        )?)
    } else {
        eprintln!(
            "xtask: PostgreSQL is not reachable on {POSTGRES_ADDR}; the PostgreSQL suite did not run"
        );
        None
    };
    let sqlite = run_tests(
        cargo()
            .current_dir(&root)
            // Every test binary runs even after one fails, so one failure hides no other.
            .args(["test", "--workspace", "--no-fail-fast"])
            .args(args)
            .env("AXLE_TEST_BACKEND", "sqlite"),
        tally,
    );
    let postgres = postgres.map_or(Ok(()), |pass| pass.finish(tally));
    sqlite.and(postgres)
}

/// Modules of the `api` suite whose subject does not depend on the database: the source's
/// layering, the `axle plugin` CLI (its server side, upload and install, is tested on both
/// backends by `plugins::`) and the wasm runtime. The PostgreSQL pass skips them, since the
/// SQLite pass runs them; the CLI's scaffold builds were a third of that pass's time.
const BACKEND_FREE: [&str; 3] = ["layering::", "plugin_cli::", "runtime::"];

/// `args` (cargo's, then libtest's after `--`) with `--skip` for each of `modules`.
fn with_skips(args: &[String], modules: &[&str]) -> Vec<String> {
    let mut all = args.to_vec();
    if !all.iter().any(|arg| arg == "--") {
        all.push("--".to_owned());
    }
    for module in modules {
        all.extend(["--skip".to_owned(), (*module).to_owned()]);
    }
    all
}

/// Builds the plugins and test guests for wasm32-wasip2, then runs the plugins' and the
/// SDK's own unit tests natively.
fn component_tests(tally: &mut Tally) -> Result {
    build_plugins(true)?;
    let root = root();
    // Plugin logic is ordinary Rust: its unit tests run natively, one world at a time.
    let host_triple = host_triple()?;
    for workspace in ["plugins", "tests/guests"] {
        let dir = root.join(workspace);
        let tested = members_with_tests(&dir)?;
        for group in member_groups(&dir)? {
            let group: Vec<String> = group
                .into_iter()
                .filter(|name| tested.contains(name))
                .collect();
            if group.is_empty() {
                continue;
            }
            run_tests(
                cargo()
                    .current_dir(&dir)
                    .args(["test", "--quiet", "--target", &host_triple])
                    .args(package_args(&group)),
                tally,
            )?;
        }
    }
    sdk_tests(&root, &host_triple, tally)
}

/// The SDK's own tests, natively, in the plugins' workspace it belongs to: its unit tests
/// and world-free doctests, then its per-world docs, which carry complete example plugins
/// and exist only with their world's feature: one doctest run per world.
fn sdk_tests(root: &Path, host_triple: &str, tally: &mut Tally) -> Result {
    let plugins = root.join("plugins");
    let sdk = || {
        let mut command = cargo();
        command.current_dir(&plugins).args([
            "test",
            "--quiet",
            "-p",
            "axle-sdk",
            "--target",
            host_triple,
        ]);
        command
    };
    run_tests(&mut sdk(), tally)?;
    for world in [
        "routing-rule",
        "workflow-step",
        "field-provider",
        "report-widget",
    ] {
        run_tests(sdk().args(["--doc", "--features", world]), tally)?;
    }
    Ok(())
}

fn host_triple() -> Result<String> {
    let output = Command::new("rustc")
        .arg("-vV")
        .output()
        .map_err(|err| format!("cannot run rustc -vV: {err}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        .ok_or_else(|| "rustc -vV printed no host triple".to_owned())
}

fn bench(args: &[String]) -> Result {
    build_plugins(false)?;
    run(cargo()
        .current_dir(root())
        .args([
            "bench",
            "-p",
            "axle-bench",
            "--bench",
            "invocation",
            "--bench",
            "import",
            "--bench",
            "cold_start",
            "--bench",
            "fleet",
            "--",
        ])
        .args(args))
}

#[cfg(test)]
mod tests {
    use super::with_skips;

    fn strings(args: &[&str]) -> Vec<String> {
        args.iter().map(|arg| (*arg).to_owned()).collect()
    }

    #[test]
    fn skips_start_libtest_args_when_the_caller_gave_none() {
        assert_eq!(
            with_skips(&strings(&["--release"]), &["runtime::"]),
            strings(&["--release", "--", "--skip", "runtime::"])
        );
    }

    #[test]
    fn skips_follow_the_callers_own_libtest_args() {
        assert_eq!(
            with_skips(&strings(&["--", "tickets"]), &["a::", "b::"]),
            strings(&["--", "tickets", "--skip", "a::", "--skip", "b::"])
        );
    }
}
