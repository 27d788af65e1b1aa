//! One cell of the matrix: a fixed number of clients sending one scenario back to back
//! over keep-alive connections, until the request budget or the time budget runs out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::scenario::Scenario;

/// How many error replies a cell keeps to show; the rest are only counted.
const KEPT_ERRORS: usize = 3;
/// How much of an error body is worth printing.
const ERROR_BODY_CHARS: usize = 300;

/// Where the requests go.
pub struct Target {
    pub client: reqwest::Client,
    pub url: String,
    pub key: String,
    pub vin: String,
    /// A seeded customer, for the 360° view.
    pub customer: String,
    /// Numbers the requests of a node so that no two intake calls look like one retried.
    pub sequence: AtomicU64,
}

impl Target {
    /// The demo node `admin` speaks to, with a seeded car and customer to name.
    pub async fn of(admin: &super::admin::Admin<'_>) -> crate::Result<Target> {
        Ok(Target {
            client: admin.client.clone(),
            url: admin.url.to_owned(),
            key: admin.key.to_owned(),
            vin: admin.demo_vin().await?,
            customer: admin.demo_customer().await?,
            sequence: AtomicU64::new(0),
        })
    }
}

/// The most a phase may send and the longest it may take; whichever comes first ends it.
#[derive(Clone, Copy)]
pub struct Budget {
    pub requests: u64,
    pub time: Duration,
}

/// What a phase measured.
#[derive(Default)]
pub struct Outcome {
    /// Latencies of the 2xx replies, sorted.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_errors: Vec<String>,
    pub elapsed: Duration,
}

impl Outcome {
    /// 2xx replies per second.
    pub fn rate(&self) -> f64 {
        let seconds = self.elapsed.as_secs_f64();
        if seconds > 0.0 {
            self.latencies.len() as f64 / seconds
        } else {
            0.0
        }
    }

    /// The nearest-rank percentile of the 2xx latencies.
    pub fn percentile(&self, p: f64) -> Option<Duration> {
        percentile(&self.latencies, p)
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        for error in other.first_errors {
            if self.first_errors.len() < KEPT_ERRORS {
                self.first_errors.push(error);
            }
        }
    }
}

/// The nearest-rank percentile of `sorted` latencies.
pub fn percentile(sorted: &[Duration], p: f64) -> Option<Duration> {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.max(1) - 1).copied()
}

/// Runs `clients` concurrent clients until `budget` is spent.
pub async fn run(
    target: &Arc<Target>,
    scenario: Scenario,
    clients: usize,
    budget: Budget,
) -> Outcome {
    let issued = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + budget.time;
    let tasks: Vec<_> = (0..clients)
        .map(|_| {
            let target = Arc::clone(target);
            let issued = Arc::clone(&issued);
            tokio::spawn(async move {
                client(&target, scenario, &issued, budget.requests, deadline).await
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for task in tasks {
        match task.await {
            Ok(part) => outcome.merge(part),
            Err(err) => {
                outcome.errors += 1;
                outcome
                    .first_errors
                    .push(format!("a client task failed: {err}"));
            }
        }
    }
    outcome.elapsed = started.elapsed();
    outcome.latencies.sort_unstable();
    outcome
}

/// One client: the next request only once the previous reply is read in full, which is
/// also what lets the connection be reused.
async fn client(
    target: &Target,
    scenario: Scenario,
    issued: &AtomicU64,
    requests: u64,
    deadline: Instant,
) -> Outcome {
    let mut outcome = Outcome::default();
    while issued.fetch_add(1, Ordering::Relaxed) < requests && Instant::now() < deadline {
        let n = target.sequence.fetch_add(1, Ordering::Relaxed);
        let sent = Instant::now();
        let reply = scenario.request(target, n).send().await;
        let error = match reply {
            Ok(reply) => {
                let status = reply.status();
                match reply.bytes().await {
                    Ok(_) if status.is_success() => {
                        outcome.latencies.push(sent.elapsed());
                        continue;
                    }
                    Ok(bytes) => format!(
                        "{status}: {}",
                        String::from_utf8_lossy(&bytes)
                            .chars()
                            .take(ERROR_BODY_CHARS)
                            .collect::<String>()
                    ),
                    Err(err) => format!("{status}, then reading the body: {}", causes(&err)),
                }
            }
            Err(err) => format!("transport error: {}", causes(&err)),
        };
        outcome.errors += 1;
        if outcome.first_errors.len() < KEPT_ERRORS {
            outcome.first_errors.push(error);
        }
    }
    outcome
}

/// An error with its sources: reqwest's own message rarely says what went wrong.
fn causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
