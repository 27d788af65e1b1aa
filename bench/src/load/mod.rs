//! `cargo xtask load` (which builds, then runs `axle-load load`): a bounded HTTP load run
//! against release nodes, a benchmark and not a test. For each backend it starts a seeded
//! demo node, then measures ticket creation and hotline intake at several client counts,
//! first with the demo's plugins and then with every installation disabled, so the table
//! shows what the plugins cost. Each cell stops at a request count or a time limit,
//! whichever comes first; all traffic stays on 127.0.0.1.

mod admin;
mod drive;
mod node;
mod options;
mod report;
mod scenario;
pub mod soak;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use admin::Admin;
use drive::{Budget, Target};
use node::{Artifacts, Backend, Node};
use options::{Options, USAGE};
use report::{Cell, Row};

use crate::{Result, cargo, root};

/// A request slower than this counts as an error rather than stalling a cell. Above the
/// node's own 10 s database timeouts, so their replies arrive and say what went wrong.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(15);

/// Measures every backend, on the release binary and plugins `cargo xtask load` built.
pub fn run(args: &[String]) -> Result {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let mut options = Options::parse(args)?;
    if !crate::postgres_reachable() {
        if !options.postgres_optional && options.backends.iter().any(Backend::is_postgres) {
            return Err(format!(
                "PostgreSQL is not reachable on {}; start it or use --backend sqlite",
                crate::POSTGRES_ADDR
            ));
        }
        if options.backends.iter().any(Backend::is_postgres) {
            eprintln!(
                "xtask: PostgreSQL is not reachable on {}; measuring SQLite only",
                crate::POSTGRES_ADDR
            );
            options.backends.retain(|backend| !backend.is_postgres());
        }
    }
    let artifacts = artifacts()?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|err| format!("cannot start tokio: {err}"))?;
    runtime.block_on(async {
        tokio::select! {
            result = measure(&options, &artifacts) => result,
            // Dropping `measure` drops its nodes, which kills them and removes their data.
            _ = tokio::signal::ctrl_c() => Err("interrupted; the nodes are stopped and their data removed".to_owned()),
        }
    })
}

/// The client the load goes out on.
fn client() -> Result<reqwest::Client> {
    // No proxy: the traffic must stay on the loopback whatever the shell's HTTP_PROXY says.
    reqwest::Client::builder()
        .no_proxy()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .map_err(|err| format!("cannot build the HTTP client: {err}"))
}

/// The release `axle` and the plugin components. `axle` is the binary beside this one:
/// `cargo xtask` built both in one release build, wherever `CARGO_TARGET_DIR` put it. The
/// plugins' workspace has a target directory of its own.
fn artifacts() -> Result<Artifacts> {
    let root = root();
    let this = std::env::current_exe()
        .map_err(|err| format!("cannot find this binary's own path: {err}"))?;
    let binary = format!("axle{}", std::env::consts::EXE_SUFFIX);
    Ok(Artifacts {
        axle: this.with_file_name(binary),
        plugins: root.join("plugins"),
        wasm: target_dir(&root.join("plugins"))?
            .join(crate::WASM_TARGET)
            .join("release"),
    })
}

fn target_dir(workspace: &Path) -> Result<PathBuf> {
    let output = cargo()
        .current_dir(workspace)
        .args(["metadata", "--format-version", "1", "--no-deps", "--quiet"])
        .output()
        .map_err(|err| format!("cannot run cargo metadata: {err}"))?;
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).map_err(|err| {
        format!(
            "cargo metadata in {}: {err}: {}",
            workspace.display(),
            String::from_utf8_lossy(&output.stderr)
        )
    })?;
    metadata["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| {
            format!(
                "cargo metadata in {} names no target directory",
                workspace.display()
            )
        })
}

async fn measure(options: &Options, artifacts: &Artifacts) -> Result {
    let started = Instant::now();
    let client = client()?;
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    for backend in &options.backends {
        eprintln!(
            "xtask: seeding and starting a release node on {}",
            backend.name()
        );
        let node = Node::start(backend, artifacts).await?;
        eprintln!("xtask: {} node serving on {}", backend.name(), node.url);
        measure_node(&client, backend, &node, options, &mut rows, &mut notes).await?;
        notes.extend(log_notes(backend, &node.log()));
    }
    report::print(&rows, &notes);
    println!();
    println!(
        "The measurements took {:.0} s (after the build).",
        started.elapsed().as_secs_f64()
    );
    let errors: u64 = rows.iter().map(|row| row.outcome.errors).sum();
    if errors > 0 {
        return Err(format!(
            "{errors} of the measured requests failed; see the errors above"
        ));
    }
    Ok(())
}

/// Every cell on one node: plugins on, then every installation disabled. The node is
/// thrown away afterwards, so nothing is re-enabled. After each cell the node is let
/// settle, so one cell's leftovers do not slow the next.
async fn measure_node(
    client: &reqwest::Client,
    backend: &Backend,
    node: &Node,
    options: &Options,
    rows: &mut Vec<Row>,
    notes: &mut Vec<String>,
) -> Result {
    let admin = Admin {
        client,
        url: &node.url,
        key: &node.key,
    };
    let installations = admin.installations().await?;
    let enabled = installations
        .iter()
        .filter(|installation| installation.status == "enabled")
        .count();
    admin.converge(enabled).await?;
    let target = Arc::new(Target::of(&admin).await?);
    let mut suspended = Vec::new();
    for plugins in [true, false] {
        if !plugins {
            for installation in &installations {
                admin.set_enabled(&installation.id, false).await?;
            }
            admin.converge(0).await?;
        }
        for &scenario in &options.scenarios {
            for &clients in &options.clients {
                let cell = Cell {
                    backend: backend.name(),
                    plugins,
                    scenario,
                    clients,
                };
                // Opens the connections and warms caches; not measured.
                let warm_up = Budget {
                    requests: (clients as u64 * 10).max(20),
                    time: Duration::from_secs(1),
                };
                drive::run(&target, scenario, clients, warm_up).await;
                let outcome = drive::run(&target, scenario, clients, options.budget).await;
                if !admin.settle().await {
                    notes.push(format!(
                        "- {cell}: the node was still busy {} s after this cell",
                        admin::SETTLE_TIMEOUT.as_secs()
                    ));
                }
                if plugins {
                    note_suspensions(&admin, &cell, &mut suspended, notes).await?;
                }
                let row = Row { cell, outcome };
                eprintln!("xtask: {}", row.progress());
                rows.push(row);
            }
        }
    }
    Ok(())
}

/// Notes each installation that stopped running. One the circuit breaker suspends makes
/// the later "on" cells partly "off" ones, so the report says where it happened.
async fn note_suspensions(
    admin: &Admin<'_>,
    cell: &Cell,
    noted: &mut Vec<String>,
    notes: &mut Vec<String>,
) -> Result {
    for installation in admin.installations().await? {
        if installation.status != "enabled" && !noted.contains(&installation.id) {
            notes.push(format!(
                "- {cell}: the {} installation was {} after this cell ({})",
                installation.plugin,
                installation.status,
                installation
                    .status_reason
                    .as_deref()
                    .unwrap_or("no reason given")
            ));
            noted.push(installation.id);
        }
    }
    Ok(())
}

/// What the node logged above info level, in brief: the table alone would hide lock
/// contention or plugin failures that did not turn into error replies.
fn log_notes(backend: &Backend, log: &str) -> Vec<String> {
    const SHOWN: usize = 3;
    const CHARS: usize = 300;
    let locked = log.matches("database is locked").count();
    let flagged: Vec<&str> = log
        .lines()
        .filter(|line| line.contains(" WARN ") || line.contains(" ERROR "))
        .collect();
    let mut notes = Vec::new();
    if locked > 0 {
        notes.push(format!(
            "- {}: the node logged \"database is locked\" {locked} times",
            backend.name()
        ));
    }
    if !flagged.is_empty() {
        notes.push(format!(
            "- {}: the node logged {} warnings or errors; the first ones:",
            backend.name(),
            flagged.len()
        ));
        notes.extend(
            flagged
                .iter()
                .take(SHOWN)
                .map(|line| format!("  - {}", line.chars().take(CHARS).collect::<String>())),
        );
    }
    notes
}
