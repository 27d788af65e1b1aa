//! The delivery worker: one background task per node that claims due outbox rows,
//! delivers each through its channel's adapter and records the outcome. Several nodes on
//! one PostgreSQL database each run one; row locking gives every row to one of them, and
//! the claim's lease hands the rows of a node that died to the others.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::{Semaphore, watch};
use tokio::task::{JoinHandle, JoinSet};

use super::{Adapters, DeliveryError, DeliverySettings, SetupError, backoff};
use crate::db::Db;
use crate::domain::ids::now_ms;
use crate::store::outbox::{self, Claimed, Settlement};

/// The shortest wait after the database failed, so an outage is not logged in a loop.
const ERROR_PAUSE: Duration = Duration::from_secs(1);

/// How long a freed slot waits for others before they are claimed again together.
const TOP_UP_DELAY: Duration = Duration::from_millis(20);

/// What a worker has done since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    pub delivered: u64,
    /// Attempts that failed and were scheduled again.
    pub retried: u64,
    /// Rows given up on.
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    delivered: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
}

impl Counters {
    fn snapshot(&self) -> DeliveryStats {
        DeliveryStats {
            delivered: self.delivered.load(Ordering::Relaxed),
            retried: self.retried.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
        }
    }
}

/// A running worker. Dropping the handle stops it after the deliveries in flight.
pub struct DeliveryWorker {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    counters: Arc<Counters>,
}

/// What the worker needs.
struct Worker {
    db: Db,
    settings: DeliverySettings,
    adapters: Adapters,
    counters: Arc<Counters>,
}

impl DeliveryWorker {
    /// Starts a worker on `db`.
    pub fn start(db: Db, settings: DeliverySettings) -> Result<DeliveryWorker, SetupError> {
        settings.validate()?;
        let counters = Arc::new(Counters::default());
        let worker = Arc::new(Worker {
            adapters: Adapters::new(&settings)?,
            db,
            settings,
            counters: counters.clone(),
        });
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(worker.run(stopped));
        Ok(DeliveryWorker {
            stop,
            task,
            counters,
        })
    }

    /// What the worker has done so far.
    pub fn stats(&self) -> DeliveryStats {
        self.counters.snapshot()
    }

    /// Stops claiming, lets the deliveries in flight finish and record their outcome.
    pub async fn stop(self) -> DeliveryStats {
        let _ = self.stop.send(true);
        if let Err(err) = self.task.await {
            tracing::error!(error = %err, "the delivery worker panicked");
        }
        self.counters.snapshot()
    }

    /// Stops at once, abandoning the deliveries in flight as a crashed node would. Their
    /// rows stay claimed until the lease ends, then any worker claims them again.
    pub async fn abort(self) -> DeliveryStats {
        self.task.abort();
        let _ = self.task.await;
        self.counters.snapshot()
    }
}

impl Worker {
    /// Keeps up to `max_in_flight` deliveries going: whenever one ends, its slot is
    /// claimed again. A receiver that hangs until its timeout holds one slot, never a
    /// whole round of other rows (and other tenants' SMS) behind it.
    async fn run(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        tracing::info!(settings = ?self.settings, "delivery worker started");
        let slots = Arc::new(Semaphore::new(self.settings.max_in_flight as usize));
        let mut deliveries = JoinSet::new();
        // Whether the last claim filled every free slot, so more rows may be due: then a
        // slot that frees up is claimed again at once; else the next poll will do.
        let mut more_due;
        loop {
            if *stopped.borrow() {
                break;
            }
            while let Some(done) = deliveries.try_join_next() {
                report_panic(done);
            }
            let free = slots.available_permits();
            let pause = if free == 0 {
                // Every slot busy: wait for one to free up (or the stop).
                more_due = true;
                Duration::MAX
            } else {
                match self.claim(free).await {
                    Ok(claimed) => {
                        let filled = claimed.len() == free;
                        more_due = filled;
                        for row in claimed {
                            let slot = slots
                                .clone()
                                .try_acquire_owned()
                                .expect("a slot for each claimed row");
                            let worker = self.clone();
                            deliveries.spawn(async move {
                                let _slot = slot;
                                worker.deliver(row).await;
                            });
                        }
                        if filled {
                            continue;
                        }
                        self.settings.poll_interval
                    }
                    Err(err) => {
                        more_due = false;
                        tracing::warn!(error = %err, "cannot claim outbox rows; trying again shortly");
                        self.settings.poll_interval.max(ERROR_PAUSE)
                    }
                }
            };
            tokio::select! {
                _ = tokio::time::sleep(pause), if pause != Duration::MAX => {}
                Some(done) = deliveries.join_next(), if more_due && !deliveries.is_empty() => {
                    report_panic(done);
                    // Let a few more end, so one claim refills several slots: under a
                    // backlog a claim per delivery would crowd the database's writer.
                    tokio::time::sleep(TOP_UP_DELAY).await;
                }
                changed = stopped.changed() => {
                    // An error means the handle was dropped: stop then too.
                    if changed.is_err() {
                        break;
                    }
                }
            }
        }
        while let Some(done) = deliveries.join_next().await {
            report_panic(done);
        }
        tracing::info!(stats = ?self.counters.snapshot(), "delivery worker stopped");
    }

    /// Claims up to `limit` due rows, taking turns between tenants.
    async fn claim(&self, limit: usize) -> Result<Vec<Claimed>, crate::store::StoreError> {
        let lease_ms = i64::try_from(self.settings.lease.as_millis()).unwrap_or(i64::MAX / 2);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        outbox::claim(&self.db, now_ms(), lease_ms, limit).await
    }

    /// Makes one attempt at `row` and records the outcome.
    async fn deliver(&self, row: Claimed) {
        let outcome = match self.adapters.deliver(&self.db, &row).await {
            Ok(()) => Settlement::Delivered { at_ms: now_ms() },
            Err(DeliveryError::Retryable(error))
                if row.attempts < i64::from(self.settings.max_attempts) =>
            {
                let attempt = u32::try_from(row.attempts).unwrap_or(u32::MAX);
                let wait = backoff::delay(
                    attempt,
                    self.settings.backoff_base,
                    self.settings.backoff_cap,
                    &mut rand::rng(),
                );
                let wait_ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
                Settlement::Retry {
                    at_ms: now_ms() + wait_ms,
                    error,
                }
            }
            Err(DeliveryError::Retryable(error)) => Settlement::Failed {
                error: format!("{error} (gave up after {} attempts)", row.attempts),
            },
            Err(DeliveryError::Permanent(error)) => Settlement::Failed { error },
        };
        match outbox::settle(&self.db, &row, &outcome).await {
            Ok(true) => {
                let counter = match &outcome {
                    Settlement::Delivered { .. } => &self.counters.delivered,
                    Settlement::Retry { .. } => &self.counters.retried,
                    Settlement::Failed { .. } => &self.counters.failed,
                };
                counter.fetch_add(1, Ordering::Relaxed);
                match &outcome {
                    Settlement::Delivered { .. } => {}
                    Settlement::Retry { error, .. } => {
                        tracing::info!(notification = %row.id, attempt = row.attempts, %error, "delivery failed; will retry")
                    }
                    Settlement::Failed { error } => {
                        tracing::warn!(notification = %row.id, attempts = row.attempts, %error, "delivery failed for good")
                    }
                }
            }
            Ok(false) => tracing::warn!(
                notification = %row.id,
                "the claim on this row ran out before its attempt finished; another worker owns it now"
            ),
            Err(err) => tracing::error!(
                notification = %row.id,
                error = %err,
                "cannot record the delivery outcome; the row is tried again after its lease"
            ),
        }
    }
}

fn report_panic(done: Result<(), tokio::task::JoinError>) {
    if let Err(err) = done {
        tracing::error!(error = %err, "a delivery task panicked; its row is retried after its lease");
    }
}
