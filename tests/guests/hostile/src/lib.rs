//! A routing rule that misbehaves on purpose, for the host's tests of limits, traps and
//! capability checks. Its config's `mode` picks the behaviour.

use std::fmt::Write;
use std::hint::black_box;

use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
use axle_sdk::{Error, Ticket, config, kv, log, records};
use serde::Deserialize;

/// Installation config.
#[derive(Debug, Deserialize)]
struct Config {
    mode: Mode,
    /// The customer `probe-customer` looks up.
    #[serde(default)]
    customer_id: String,
}

/// What the guest does when routing.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(rename_all = "kebab-case")]
enum Mode {
    /// Behaves: a decision tagged `hostile-ok`.
    Ok,
    /// Spins forever, until the host's deadline interrupts it.
    Loop,
    /// Allocates and touches 1 MiB chunks until the host's memory cap stops it.
    MemoryBomb,
    /// Returns a decision of about 8 MB, far over an output cap but under a 32 MiB memory cap.
    HugeOutput,
    /// Panics, which traps.
    Panic,
    /// Calls `kv::set`, which an installation without the `kv` grant must be denied.
    Ungranted,
    /// Looks up `customer_id` with `records::customer`.
    ProbeCustomer,
    /// Logs 10,000 lines of 1 KiB, far over a log budget, then behaves.
    LogFlood,
    /// Logs 100,000 empty lines, then behaves: short lines must cost something too.
    EmptyLogFlood,
    /// Sleeps for an hour through WASI's clock, far past any deadline.
    Sleep,
    /// Opens WASI pollables without ever closing them, until the host refuses more.
    ResourceFlood,
}

/// `huge-output`: this many tags of [`TAG_LEN`] characters.
const HUGE_TAGS: usize = 200_000;
const TAG_LEN: usize = 40;

/// `memory-bomb`: the size of each chunk.
const CHUNK: usize = 1 << 20;

/// `empty-log-flood`: this many empty lines.
const EMPTY_LOG_LINES: usize = 100_000;

/// `log-flood`: lines of [`LOG_LINE_LEN`] bytes.
const LOG_LINES: usize = 10_000;
const LOG_LINE_LEN: usize = 1024;

struct Hostile;

impl RoutingRule for Hostile {
    fn route(_ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
        let config: Config = config::parse()?;
        let decision = match config.mode {
            Mode::Ok => tagged("hostile-ok", "ok"),
            Mode::Loop => spin(),
            Mode::MemoryBomb => exhaust_memory(),
            Mode::HugeOutput => huge_output(),
            Mode::Panic => panic!("hostile guest panicked on purpose"),
            Mode::Ungranted => match kv::set("probe", b"x") {
                Ok(()) => tagged("kv-allowed", "kv.set succeeded"),
                Err(Error::Denied(message)) => tagged("kv-denied", &message),
                Err(other) => tagged("kv-error", &format!("{other:?}")),
            },
            Mode::ProbeCustomer => {
                let result = records::customer(&config.customer_id);
                let tag = match &result {
                    Ok(Some(_)) => "customer-found",
                    Ok(None) => "customer-not-found",
                    Err(Error::Denied(_)) => "records-denied",
                    Err(_) => "records-error",
                };
                tagged(tag, &format!("{result:?}"))
            }
            Mode::LogFlood => {
                let line = "x".repeat(LOG_LINE_LEN);
                for _ in 0..LOG_LINES {
                    log::info(&line);
                }
                tagged("hostile-ok", "logged 10000 lines")
            }
            Mode::EmptyLogFlood => {
                for _ in 0..EMPTY_LOG_LINES {
                    log::info("");
                }
                tagged("hostile-ok", "logged 100000 empty lines")
            }
            Mode::Sleep => {
                std::thread::sleep(std::time::Duration::from_secs(3600));
                tagged("hostile-ok", "woke up after an hour")
            }
            Mode::ResourceFlood => flood_resources(),
        };
        Ok(Some(decision))
    }
}

axle_sdk::export!(Hostile);

/// A decision with one tag and a reason.
fn tagged(tag: &str, reason: &str) -> RoutingDecision {
    let mut decision = routing::decision(reason);
    decision.tags.push(tag.into());
    decision
}

/// Loops forever; `black_box` keeps the compiler from proving the loop useless.
fn spin() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Grows memory 1 MiB at a time, writing every page so none stays untouched, until the
/// allocator fails (an abort, which traps) or the host stops the guest.
fn exhaust_memory() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        let mut chunk = vec![0u8; CHUNK];
        for page in chunk.iter_mut().step_by(4096) {
            *page = 1;
        }
        chunks.push(black_box(chunk));
    }
}

/// Subscribes to the clock over and over, keeping every pollable, until the host stops
/// handing them out (which traps).
#[cfg(target_arch = "wasm32")]
fn flood_resources() -> ! {
    let mut held = Vec::new();
    loop {
        held.push(wasip2::clocks::monotonic_clock::subscribe_duration(3_600_000_000_000));
        black_box(&held);
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn flood_resources() -> ! {
    unreachable!("resource-flood runs only as a component")
}

/// 200,000 distinct 40-character tags: about 8 MB of strings. Each is allocated at its exact
/// size, so with allocator overhead, string headers and the lowered list the guest peaks
/// around 14 MB, well under a 32 MiB memory cap.
fn huge_output() -> RoutingDecision {
    let mut decision = routing::decision("huge output");
    decision.tags = (0..HUGE_TAGS)
        .map(|i| {
            let mut tag = String::with_capacity(TAG_LEN);
            write!(tag, "{i:0width$}", width = TAG_LEN).expect("writing to a String");
            tag
        })
        .collect();
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_read_from_kebab_case_config() {
        let config: Config = config::from_json(r#"{"mode": "memory-bomb"}"#).unwrap();
        assert_eq!(config.mode, Mode::MemoryBomb);
        assert!(config::from_json::<Config>(r#"{"mode": "nope"}"#).is_err());
    }

    #[test]
    fn huge_output_is_about_8_mb() {
        let decision = huge_output();
        assert_eq!(decision.tags.len(), HUGE_TAGS);
        assert!(decision.tags.iter().all(|tag| tag.len() == TAG_LEN));
    }
}
