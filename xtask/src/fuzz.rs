//! `cargo xtask fuzz`: runs the cargo-fuzz targets in `fuzz/` one after the other, each
//! for a fixed time on nightly Rust, and sums up the executions and crashes of each.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use super::{Result, cargo, root, run};

/// `cargo +NIGHTLY …`: through rustup's `cargo` proxy, which alone understands `+NIGHTLY`
/// (`$CARGO` is the stable toolchain's own binary). Without `CARGO_TARGET_DIR`, so the
/// sanitizer builds stay in `fuzz/target` and never mix with a shared stable target dir.
fn nightly_cargo(nightly: &str) -> Command {
    let mut command = Command::new("cargo");
    command
        .arg(format!("+{nightly}"))
        .env_remove("CARGO_TARGET_DIR");
    command
}

/// The targets in `fuzz/fuzz_targets/`, in the order they run.
const TARGETS: [&str; 3] = ["upload", "csv", "vin_plate"];

/// libFuzzer's cap on input size for a target, where its default would not do. The
/// committed real component (60 KB) would raise `upload`'s to its size, and validating an
/// input that large under AddressSanitizer takes ~40 ms: at 4 KiB the fuzzer runs tens of
/// times faster, and the seed's first 4 KiB still give it a real component's layout.
/// `-- -max_len=N` overrides it.
fn max_len(target: &str) -> Option<u32> {
    (target == "upload").then_some(4096)
}

/// Seconds each target runs when `--time` is not given.
const DEFAULT_SECONDS: u64 = 60;

const USAGE: &str = "usage: cargo xtask fuzz [TARGET…] [--time SECONDS] [--sanitizer address|none] \
     [-- libFuzzer args…]\n\
     targets: upload, csv, vin_plate (all when none is named); each runs --time seconds \
     (default 60) under AddressSanitizer unless --sanitizer none";

/// The sanitizers a run may ask for: AddressSanitizer (the default) finds memory errors
/// in unsafe code and cost the `upload` target five sixths of its speed; the parsers
/// fuzzed here are mostly safe Rust (wasmparser and toml have no unsafe code), so `none`
/// buys executions where those errors are unlikely.
const SANITIZERS: &[&str] = &["address", "none"];

/// What one target's run found, read from libFuzzer's closing lines.
#[derive(Default)]
struct Outcome {
    /// `stat::number_of_executed_units`, else the count in `Done N runs`.
    runs: Option<u64>,
    /// `stat::average_exec_per_sec`.
    per_second: Option<u64>,
    /// Inputs libFuzzer wrote out as crashes, leaks, timeouts or out-of-memory.
    crashes: Vec<String>,
}

impl Outcome {
    fn add_line(&mut self, line: &str) {
        if let Some(n) = stat(line, "stat::number_of_executed_units:") {
            self.runs = Some(n);
        } else if let Some(n) = stat(line, "stat::average_exec_per_sec:") {
            self.per_second = Some(n);
        } else if let Some(rest) = line.strip_prefix("Done ") {
            // `Done 1234 runs in 60 second(s)`: the count when no stats were printed.
            let done = rest.split_whitespace().next().and_then(|n| n.parse().ok());
            self.runs = self.runs.or(done);
        } else if let Some((_, path)) = line.split_once("Test unit written to ") {
            self.crashes.push(path.trim().to_owned());
        }
    }
}

fn stat(line: &str, name: &str) -> Option<u64> {
    line.trim().strip_prefix(name)?.trim().parse().ok()
}

/// Runs the named targets (all by default) for `--time` seconds each; extra arguments
/// after `--` go to libFuzzer. Fails when any target crashed.
pub fn run_targets(args: &[String]) -> Result {
    let (ours, libfuzzer) = match args.iter().position(|arg| arg == "--") {
        Some(at) => (&args[..at], &args[at + 1..]),
        None => (args, &[][..]),
    };
    let mut seconds = DEFAULT_SECONDS;
    let mut sanitizer = SANITIZERS[0];
    let mut targets = Vec::new();
    let mut words = ours.iter();
    while let Some(word) = words.next() {
        match word.as_str() {
            "--time" => {
                seconds = words
                    .next()
                    .and_then(|n| n.parse().ok())
                    .ok_or_else(|| format!("--time needs a number of seconds\n{USAGE}"))?;
            }
            "--sanitizer" => {
                sanitizer = words
                    .next()
                    .and_then(|name| SANITIZERS.iter().find(|known| *known == name))
                    .ok_or_else(|| format!("--sanitizer needs address or none\n{USAGE}"))?;
            }
            name if TARGETS.contains(&name) => targets.push(name),
            other => return Err(format!("unknown fuzz argument `{other}`\n{USAGE}")),
        }
    }
    if targets.is_empty() {
        targets = TARGETS.to_vec();
    }
    let nightly = nightly_toolchain()?;
    ensure_cargo_fuzz(&nightly)?;

    let mut summary = Vec::new();
    for target in targets {
        let outcome = fuzz(&nightly, target, seconds, sanitizer, libfuzzer)?;
        summary.push((target, outcome));
    }
    println!(
        "xtask: fuzzing, {seconds} s per target, sanitizer {sanitizer} (toolchain {nightly}):"
    );
    let mut crashed = 0;
    for (target, outcome) in &summary {
        let runs = outcome.runs.map_or("?".to_owned(), |n| n.to_string());
        let rate = outcome.per_second.map_or("?".to_owned(), |n| n.to_string());
        println!(
            "  {target:<10} {runs:>12} executions  {rate:>7} exec/s  {} crashes",
            outcome.crashes.len()
        );
        for path in &outcome.crashes {
            println!("    {path}");
        }
        crashed += outcome.crashes.len();
    }
    if crashed > 0 {
        return Err(format!(
            "{crashed} crashing input(s); reproduce one with `cargo +nightly fuzz run TARGET PATH` in fuzz/"
        ));
    }
    Ok(())
}

/// Runs one target, echoing libFuzzer's output and reading its figures from it.
fn fuzz(
    nightly: &str,
    target: &str,
    seconds: u64,
    sanitizer: &str,
    libfuzzer: &[String],
) -> Result<Outcome> {
    let dir = root().join("fuzz");
    // New inputs go to `corpus/TARGET` (not committed); the committed seeds are read too.
    let corpus = format!("corpus/{target}");
    std::fs::create_dir_all(dir.join(&corpus))
        .map_err(|err| format!("creating {corpus}: {err}"))?;
    let mut command = nightly_cargo(nightly);
    command
        .current_dir(&dir)
        .args(["fuzz", "run", "--sanitizer", sanitizer, target, &corpus])
        .arg(format!("seeds/{target}"))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        .arg("-print_final_stats=1")
        .args(max_len(target).map(|n| format!("-max_len={n}")))
        .args(libfuzzer)
        .stderr(Stdio::piped());
    let shown = format!("{command:?}");
    eprintln!("xtask: running {shown}");
    let mut child = command
        .spawn()
        .map_err(|err| format!("cannot start {shown}: {err}"))?;
    let mut outcome = Outcome::default();
    if let Some(stderr) = child.stderr.take() {
        for line in BufReader::new(stderr)
            .lines()
            .map_while(std::result::Result::ok)
        {
            eprintln!("{line}");
            outcome.add_line(&line);
        }
    }
    let status = child
        .wait()
        .map_err(|err| format!("waiting for {shown}: {err}"))?;
    // A crash ends the run with a failure status and its input written out; any other
    // failure (a build error) has no figures to report.
    if !status.success() && outcome.crashes.is_empty() {
        return Err(format!("{shown} failed with {status}"));
    }
    Ok(outcome)
}

/// The installed nightly toolchain's name, as `rustup toolchain list` prints it.
fn nightly_toolchain() -> Result<String> {
    let output = Command::new("rustup")
        .args(["toolchain", "list"])
        .output()
        .map_err(|err| format!("cannot run rustup to find a nightly toolchain: {err}"))?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .find(|name| name.starts_with("nightly"))
        .map(str::to_owned)
        .ok_or_else(|| {
            "cargo-fuzz needs nightly Rust: install it with `rustup toolchain install nightly`"
                .to_owned()
        })
}

/// Installs cargo-fuzz when `cargo fuzz` is not there.
fn ensure_cargo_fuzz(nightly: &str) -> Result {
    let installed = nightly_cargo(nightly)
        .args(["fuzz", "--version"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if installed {
        return Ok(());
    }
    run(cargo().args(["install", "cargo-fuzz", "--locked"]))
}
