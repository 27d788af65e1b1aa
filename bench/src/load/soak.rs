//! `cargo xtask soak`: a long, bounded load run against one release node, a benchmark and
//! not a test. Clients spread over ticket creation, hotline intake, the 360° view and the
//! KPIs for the whole run while a plugin is hot-reloaded every half minute; the node's
//! resident memory is sampled throughout. What it answers: does a node stay correct and
//! flat under hours of the traffic it serves, reloads included?

use std::sync::Arc;
use std::time::{Duration, Instant};

use super::admin::Admin;
use super::drive::{self, Budget, Outcome, Target};
use super::node::{Backend, Node};
use super::options::list;
use super::report::ms;
use super::scenario::Scenario;
use crate::Result;

pub const USAGE: &str = "usage: cargo xtask soak [OPTIONS]
  --backend sqlite|postgres   default sqlite
  --minutes N                 how long the traffic runs, default 10
  --clients M                 concurrent clients, spread over the scenarios, default 10
  --reload-every S            seconds between hot reloads of a plugin, default 30
  --scenarios a,b,…           default neutral,brake,intake,view360,kpis";

struct Options {
    backend: Backend,
    run_for: Duration,
    clients: usize,
    reload_every: Duration,
    scenarios: Vec<Scenario>,
}

impl Options {
    fn parse(args: &[String]) -> Result<Options> {
        let mut options = Options {
            backend: Backend::Sqlite,
            run_for: Duration::from_secs(600),
            clients: 10,
            reload_every: Duration::from_secs(30),
            scenarios: Scenario::MIXED.to_vec(),
        };
        let mut args = args.iter();
        while let Some(flag) = args.next() {
            let value = args
                .next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
            let invalid = || format!("{flag} {value}: not valid\n{USAGE}");
            let positive = || value.parse::<f64>().ok().filter(|n| *n > 0.0);
            match flag.as_str() {
                "--backend" => {
                    options.backend = match value.as_str() {
                        "sqlite" => Backend::Sqlite,
                        "postgres" => Backend::Postgres,
                        _ => return Err(invalid()),
                    }
                }
                "--minutes" => {
                    options.run_for =
                        Duration::from_secs_f64(positive().ok_or_else(invalid)? * 60.0)
                }
                "--clients" => {
                    options.clients = value.parse().ok().filter(|n| *n > 0).ok_or_else(invalid)?
                }
                "--reload-every" => {
                    options.reload_every = Duration::from_secs_f64(positive().ok_or_else(invalid)?)
                }
                "--scenarios" => {
                    options.scenarios = list(value, Scenario::parse).ok_or_else(invalid)?;
                }
                _ => return Err(format!("unknown option {flag}\n{USAGE}")),
            }
        }
        Ok(options)
    }
}

/// Soaks one node, on the release binary and plugins `cargo xtask soak` built.
pub fn run(args: &[String]) -> Result {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        println!("{USAGE}");
        return Ok(());
    }
    let options = Options::parse(args)?;
    if options.backend.is_postgres() && !crate::postgres_reachable() {
        return Err(format!(
            "PostgreSQL is not reachable on {}; start it or use --backend sqlite",
            crate::POSTGRES_ADDR
        ));
    }
    let artifacts = super::artifacts()?;
    let runtime =
        tokio::runtime::Runtime::new().map_err(|err| format!("cannot start tokio: {err}"))?;
    runtime.block_on(async {
        tokio::select! {
            result = soak(&options, &artifacts) => result,
            _ = tokio::signal::ctrl_c() => Err("interrupted; the node is stopped and its data removed".to_owned()),
        }
    })
}

/// When the node has been under every client long enough for its memory to be compared.
const STEADY_AFTER: Duration = Duration::from_secs(60);

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The resident memory at one moment of the run.
struct Sample {
    at: Duration,
    rss_kib: u64,
    heap: Option<Heap>,
}

/// What the node's heap held at its last report (it reports every 10 s), in MiB: the
/// split that tells live data from free holes from SQLite's caches when RSS moves.
#[derive(Clone, Copy)]
struct Heap {
    in_use: f64,
    free: f64,
    arenas: f64,
    sqlite: f64,
}

impl std::fmt::Display for Heap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "heap {:.1} MiB in use, {:.1} MiB free in {} arenas; SQLite {:.1} MiB of it",
            self.in_use, self.free, self.arenas, self.sqlite
        )
    }
}

/// The node's `axle_heap_bytes`, `axle_heap_arenas` and `axle_sqlite_heap_bytes`, or
/// `None` before its first report or where the allocator does not say.
async fn heap(client: &reqwest::Client, node: &Node) -> Option<Heap> {
    let text = client
        .get(format!("{}/metrics", node.url))
        .bearer_auth(&node.metrics_token)
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let value_of = |series: &str| {
        text.lines()
            .find_map(|line| line.strip_prefix(series))
            .and_then(|value| value.trim().parse::<f64>().ok())
    };
    let mib_of = |series: &str| value_of(series).map(|bytes| bytes / (1024.0 * 1024.0));
    Some(Heap {
        in_use: mib_of("axle_heap_bytes{part=\"in_use\"} ")?,
        free: mib_of("axle_heap_bytes{part=\"free\"} ")?,
        arenas: value_of("axle_heap_arenas ")?,
        sqlite: mib_of("axle_sqlite_heap_bytes ")?,
    })
}

async fn soak(options: &Options, artifacts: &super::node::Artifacts) -> Result {
    let client = super::client()?;
    eprintln!(
        "xtask: seeding and starting a release node on {}",
        options.backend.name()
    );
    let node = Node::start(&options.backend, artifacts).await?;
    let admin = Admin {
        client: &client,
        url: &node.url,
        key: &node.key,
    };
    let installations = admin.installations().await?;
    // The station rule runs on every ticket: reloading it swaps code under live traffic.
    let reloaded = installations
        .iter()
        .find(|installation| installation.plugin == "station-routing")
        .or(installations.first())
        .ok_or("the demo tenant has no installation to reload")?
        .id
        .clone();
    let target = Arc::new(Target::of(&admin).await?);
    // Warm up every path first, so the first sample is of a node that has served each.
    for &scenario in &options.scenarios {
        let warm_up = Budget {
            requests: 50,
            time: Duration::from_secs(2),
        };
        drive::run(&target, scenario, 2, warm_up).await;
    }
    eprintln!(
        "xtask: {} clients for {:.0} min on {}, a reload every {:.0} s",
        options.clients,
        options.run_for.as_secs_f64() / 60.0,
        options.backend.name(),
        options.reload_every.as_secs_f64()
    );
    let started = Instant::now();
    let budget = Budget {
        requests: u64::MAX,
        time: options.run_for,
    };
    let kinds = options.scenarios.len();
    let runs: Vec<_> = options
        .scenarios
        .iter()
        .enumerate()
        .map(|(index, &scenario)| {
            // The clients dealt out over the scenarios like cards, one at least each.
            let clients =
                (options.clients / kinds + usize::from(index < options.clients % kinds)).max(1);
            let target = Arc::clone(&target);
            tokio::spawn(async move {
                (
                    scenario,
                    clients,
                    drive::run(&target, scenario, clients, budget).await,
                )
            })
        })
        .collect();

    let mut samples = vec![Sample {
        at: Duration::ZERO,
        rss_kib: node.rss_kib().unwrap_or(0),
        heap: heap(&client, &node).await,
    }];
    let mut reloads = 0u64;
    let mut reload_errors = Vec::new();
    let mut next_reload = options.reload_every;
    let mut next_sample = Duration::from_secs(30);
    while started.elapsed() < options.run_for {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let at = started.elapsed();
        if at >= next_reload {
            next_reload += options.reload_every;
            // Off and on again: two generations, two snapshot rebuilds under traffic.
            for enabled in [false, true] {
                match admin.set_enabled(&reloaded, enabled).await {
                    Ok(()) => reloads += 1,
                    Err(err) => reload_errors.push(err),
                }
            }
        }
        if at >= next_sample {
            next_sample += Duration::from_secs(30);
            if let Some(rss_kib) = node.rss_kib() {
                let heap = heap(&client, &node).await;
                eprintln!(
                    "xtask: {:>4.1} min, RSS {:.1} MiB{}",
                    at.as_secs_f64() / 60.0,
                    mib(rss_kib),
                    heap.map(|h| format!(" ({h})")).unwrap_or_default()
                );
                samples.push(Sample { at, rss_kib, heap });
            }
        }
    }
    let mut outcomes = Vec::new();
    for run in runs {
        outcomes.push(
            run.await
                .map_err(|err| format!("a scenario failed: {err}"))?,
        );
    }
    if let Some(rss_kib) = node.rss_kib() {
        samples.push(Sample {
            at: started.elapsed(),
            rss_kib,
            heap: heap(&client, &node).await,
        });
    }
    print(options, &outcomes, &samples, reloads, &reload_errors);
    let errors: u64 = outcomes.iter().map(|(_, _, outcome)| outcome.errors).sum();
    if errors > 0 || !reload_errors.is_empty() {
        return Err(format!(
            "{errors} requests and {} reloads failed; see above",
            reload_errors.len()
        ));
    }
    Ok(())
}

fn print(
    options: &Options,
    outcomes: &[(Scenario, usize, Outcome)],
    samples: &[Sample],
    reloads: u64,
    reload_errors: &[String],
) {
    println!();
    println!(
        "## Soak: {} clients, {:.0} min, {} (release build), a plugin reloaded every {:.0} s",
        options.clients,
        options.run_for.as_secs_f64() / 60.0,
        options.backend.name(),
        options.reload_every.as_secs_f64()
    );
    println!();
    println!("| scenario | clients | requests | errors | req/s | p50 | p99 |");
    println!("|---|---:|---:|---:|---:|---:|---:|");
    let mut all: Vec<Duration> = Vec::new();
    let mut total_errors = 0;
    for (scenario, clients, outcome) in outcomes {
        println!(
            "| {} | {clients} | {} | {} | {:.0} | {} | {} |",
            scenario.label(),
            outcome.latencies.len() as u64 + outcome.errors,
            outcome.errors,
            outcome.rate(),
            ms(outcome.percentile(50.0)),
            ms(outcome.percentile(99.0)),
        );
        all.extend(outcome.latencies.iter().copied());
        total_errors += outcome.errors;
    }
    all.sort_unstable();
    println!(
        "| **all** | {} | {} | {total_errors} | {:.0} | {} | {} |",
        options.clients,
        all.len() as u64 + total_errors,
        all.len() as f64 / options.run_for.as_secs_f64(),
        ms(drive::percentile(&all, 50.0)),
        ms(drive::percentile(&all, 99.0)),
    );
    println!();
    println!(
        "Hot reloads: {reloads} plugin changes applied under traffic, {} failed.",
        reload_errors.len()
    );
    for error in reload_errors.iter().take(3) {
        println!("- {error}");
    }
    if let (Some(start), Some(last)) = (samples.first(), samples.last()) {
        println!(
            "RSS: {:.1} MiB after the warm-up requests, {:.1} MiB at {:.1} min.",
            mib(start.rss_kib),
            mib(last.rss_kib),
            last.at.as_secs_f64() / 60.0
        );
    }
    // The first minute under every client fills what a loaded node holds for good (a
    // connection's page cache, an instance slot per concurrent call, a thread's arena).
    // From there on, a node that leaks grows with every minute served.
    let steady: Vec<&Sample> = samples.iter().filter(|s| s.at >= STEADY_AFTER).collect();
    if let (Some(first), Some(last)) = (steady.first(), steady.last()) {
        let change = (last.rss_kib as f64 - first.rss_kib as f64) / first.rss_kib.max(1) as f64;
        let low = steady.iter().map(|s| s.rss_kib).min().unwrap_or(0);
        let peak = steady.iter().map(|s| s.rss_kib).max().unwrap_or(0);
        println!(
            "RSS under load: {:.1} MiB at {:.1} min, {:.1} MiB at {:.1} min ({:+.1} %); \
             between {:.1} and {:.1} MiB.",
            mib(first.rss_kib),
            first.at.as_secs_f64() / 60.0,
            mib(last.rss_kib),
            last.at.as_secs_f64() / 60.0,
            change * 100.0,
            mib(low),
            mib(peak)
        );
        if let (Some(from), Some(to)) = (first.heap, last.heap) {
            println!("Heap under load: {from} at the first; {to} at the last.");
        }
    }
}
