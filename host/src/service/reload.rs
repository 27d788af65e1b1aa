//! Telling every node that a tenant's plugins changed.
//!
//! The node that makes a change marks it in its own registry at once and publishes
//! `tenant generation` on a Redis channel; the other nodes hear it and rebuild that
//! tenant's snapshot on next use. Redis is only a fast path: every node also polls the
//! database's plugin clock, often while Redis is down or not configured and rarely while
//! it is up, so a lost message or an outage delays a reload but never loses one.
//!
//! Redis is not trusted: anyone who can publish on it could claim that a tenant is at a
//! generation far ahead, which would make every request rebuild that tenant's snapshot,
//! or name millions of tenants. So a message only says "look": the node reads the
//! tenant's generation from the database and takes the smaller of the two, an unknown
//! tenant is ignored, and the messages waiting to be looked at are a bounded queue whose
//! overflow is dropped (polling still catches up).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::registry::Registry;
use crate::db::Db;
use crate::store::plugin_clock;
use crate::telemetry::metrics::{self, Heard};

/// The Redis channel reload messages travel on.
pub const CHANNEL: &str = "axle:plugin-reloads";

/// How often a node polls the plugin clock while Redis carries reloads.
const POLL_WITH_REDIS: Duration = Duration::from_secs(5);

/// How often a node polls while Redis is down or not configured: well under the 1 s in
/// which nodes must converge.
const POLL_WITHOUT_REDIS: Duration = Duration::from_millis(200);

/// The longest wait between attempts to reach Redis again.
const MAX_BACKOFF: Duration = Duration::from_secs(2);

/// How many stamps one poll reads; a backlog larger than this takes several polls.
const POLL_BATCH: i64 = 1_000;

/// Reload messages waiting to be checked against the database; more are dropped.
const CHECK_QUEUE: usize = 1_024;

/// Announcements waiting to be published; more are dropped and left to polling.
const PUBLISH_QUEUE: usize = 1_024;

/// A real message is a tenant id and a number; anything longer is not one of ours.
const MAX_MESSAGE_BYTES: usize = 128;

/// Announces this node's plugin changes. Cheap to clone.
#[derive(Clone)]
pub struct Announcer {
    registry: Arc<Registry>,
    outgoing: Option<mpsc::Sender<String>>,
}

impl Announcer {
    /// An announcer that only updates this node (single node, or before `start`).
    pub fn local(registry: Arc<Registry>) -> Announcer {
        Announcer {
            registry,
            outgoing: None,
        }
    }

    /// Marks the tenant's change on this node and sends it to the others. Call it after
    /// the change commits; sending never blocks and never fails the change.
    pub fn announce(&self, tenant_id: &str, generation: i64) {
        self.registry.heard(tenant_id, generation);
        metrics::reloads_heard(Heard::Local, 1);
        if let Some(outgoing) = &self.outgoing {
            // A full queue means Redis is slow or down; the others poll the change.
            let _ = outgoing.try_send(format!("{tenant_id} {generation}"));
        }
    }
}

/// How this node learns of other nodes' changes, for health checks and tests.
#[derive(Default)]
pub struct ReloadState {
    /// Whether the Redis subscription is live.
    pub redis_connected: AtomicBool,
    /// The highest plugin-clock value this node has caught up to by polling.
    pub caught_up_to: AtomicI64,
    /// Well-formed reload messages received over Redis.
    pub heard_over_redis: AtomicU64,
    /// Messages that claimed a generation the database has not reached (forged, or from
    /// another cluster sharing the Redis), taken at the database's value.
    pub clamped_over_redis: AtomicU64,
    /// Messages dropped unread: malformed, too long, or past the bounded check queue.
    pub dropped_over_redis: AtomicU64,
}

/// Parses a reload message: `tenant generation`.
fn parse(message: &str) -> Option<(&str, i64)> {
    if message.len() > MAX_MESSAGE_BYTES {
        return None;
    }
    let (tenant, generation) = message.split_once(' ')?;
    let generation: i64 = generation.parse().ok()?;
    (!tenant.is_empty() && generation > 0).then_some((tenant, generation))
}

/// Starts the background tasks: the poller always, and the Redis publisher and
/// subscriber when `redis_url` is set. Returns the announcer the node's services use.
pub async fn start(
    db: Db,
    registry: Arc<Registry>,
    redis_url: Option<&str>,
    state: Arc<ReloadState>,
) -> Result<Announcer, redis::RedisError> {
    let start_at = plugin_clock::now(&db).await.unwrap_or(0);
    state.caught_up_to.store(start_at, Ordering::SeqCst);
    let mut announcer = Announcer::local(registry.clone());
    if let Some(url) = redis_url.filter(|url| !url.is_empty()) {
        let client = redis::Client::open(url)?;
        let (outgoing, incoming) = mpsc::channel(PUBLISH_QUEUE);
        announcer.outgoing = Some(outgoing);
        tokio::spawn(publish(client.clone(), incoming));
        let (to_check, checks) = mpsc::channel(CHECK_QUEUE);
        tokio::spawn(subscribe(client, registry.clone(), state.clone(), to_check));
        tokio::spawn(check(db.clone(), registry.clone(), state.clone(), checks));
    }
    tokio::spawn(poll(db, registry, state));
    Ok(announcer)
}

/// Sends announcements to Redis, reconnecting as needed. A message that cannot be sent
/// is dropped: the other nodes' polling picks the change up.
async fn publish(client: redis::Client, mut incoming: mpsc::Receiver<String>) {
    let mut connection = None;
    while let Some(message) = incoming.recv().await {
        if connection.is_none() {
            connection = client.get_multiplexed_async_connection().await.ok();
        }
        let Some(conn) = connection.as_mut() else {
            tracing::debug!("redis unreachable; reload left to polling");
            continue;
        };
        let sent: redis::RedisResult<()> = redis::cmd("PUBLISH")
            .arg(CHANNEL)
            .arg(&message)
            .query_async(conn)
            .await;
        if let Err(err) = sent {
            tracing::warn!(error = %err, "publishing a plugin reload failed; left to polling");
            connection = None;
        }
    }
}

/// Listens for other nodes' announcements, reconnecting with backoff while Redis is down,
/// and queues the news (a generation above what this node has heard) for [`check`].
async fn subscribe(
    client: redis::Client,
    registry: Arc<Registry>,
    state: Arc<ReloadState>,
    to_check: mpsc::Sender<(String, i64)>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        match client.get_async_pubsub().await {
            Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                Ok(()) => {
                    tracing::info!("plugin reloads arrive over redis");
                    state.redis_connected.store(true, Ordering::SeqCst);
                    backoff = Duration::from_millis(100);
                    let mut messages = pubsub.on_message();
                    while let Some(message) = messages.next().await {
                        let payload = message.get_payload::<String>().unwrap_or_default();
                        let Some((tenant, generation)) = parse(&payload) else {
                            dropped(&state, "malformed");
                            continue;
                        };
                        state.heard_over_redis.fetch_add(1, Ordering::SeqCst);
                        metrics::reloads_heard(Heard::Redis, 1);
                        if generation <= registry.heard_of(tenant) {
                            continue;
                        }
                        if to_check.try_send((tenant.to_owned(), generation)).is_err() {
                            dropped(&state, "the check queue is full");
                        }
                    }
                    state.redis_connected.store(false, Ordering::SeqCst);
                    tracing::warn!("lost the redis subscription; polling the database meanwhile");
                }
                Err(err) => tracing::warn!(error = %err, "cannot subscribe to plugin reloads"),
            },
            Err(err) => tracing::debug!(error = %err, "redis unreachable"),
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

/// Counts one more on `counter`; the new count when it is the first or a 10,000th, the
/// ones worth a log line: a flood of messages must not also flood the log.
fn count_to_tell(counter: &AtomicU64) -> Option<u64> {
    let count = counter.fetch_add(1, Ordering::SeqCst) + 1;
    (count % 10_000 == 1).then_some(count)
}

/// Counts a message dropped unread.
fn dropped(state: &ReloadState, why: &'static str) {
    if let Some(dropped) = count_to_tell(&state.dropped_over_redis) {
        tracing::warn!(why, dropped, "dropping reload messages from redis");
    }
}

/// Checks queued reload messages against the database: the tenant's generation there is
/// the most a message can move this node to.
async fn check(
    db: Db,
    registry: Arc<Registry>,
    state: Arc<ReloadState>,
    mut checks: mpsc::Receiver<(String, i64)>,
) {
    while let Some((tenant, claimed)) = checks.recv().await {
        // Several messages for one change, or a poll that got there first.
        if claimed <= registry.heard_of(&tenant) {
            continue;
        }
        let stored = match plugin_clock::generation(&db, &tenant).await {
            Ok(stored) => stored,
            Err(err) => {
                tracing::debug!(error = %err, "cannot check a reload message; left to polling");
                continue;
            }
        };
        if claimed > stored
            && let Some(clamped) = count_to_tell(&state.clamped_over_redis)
        {
            tracing::warn!(
                tenant,
                claimed,
                stored,
                clamped,
                "a reload message claimed a generation the database has not reached"
            );
        }
        let generation = claimed.min(stored);
        // 0: no such tenant (or none of its plugins ever changed), nothing to hear.
        if generation > 0 {
            registry.heard(&tenant, generation);
        }
    }
}

/// Polls the plugin clock for changes this node has not heard of.
async fn poll(db: Db, registry: Arc<Registry>, state: Arc<ReloadState>) {
    loop {
        let interval = if state.redis_connected.load(Ordering::SeqCst) {
            POLL_WITH_REDIS
        } else {
            POLL_WITHOUT_REDIS
        };
        tokio::time::sleep(interval).await;
        if db.reader().is_closed() {
            return;
        }
        let after = state.caught_up_to.load(Ordering::SeqCst);
        match plugin_clock::since(&db, after, POLL_BATCH).await {
            Ok(stamps) => {
                let mut newest = after;
                metrics::reloads_heard(Heard::Poll, stamps.len() as u64);
                for (tenant, generation) in stamps {
                    registry.heard(&tenant, generation);
                    newest = newest.max(generation);
                }
                state.caught_up_to.fetch_max(newest, Ordering::SeqCst);
            }
            Err(err) => tracing::warn!(error = %err, "polling for plugin changes failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn a_reload_message_names_the_tenant_and_generation() {
        assert_eq!(parse("t_123 42"), Some(("t_123", 42)));
        assert_eq!(parse("t_123"), None);
        assert_eq!(parse("t_123 forty"), None);
        assert_eq!(parse(" 42"), None);
        assert_eq!(parse("t_123 -1"), None);
        assert_eq!(parse(&format!("{} 1", "t".repeat(200))), None);
    }
}
