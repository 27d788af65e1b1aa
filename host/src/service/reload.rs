//! Telling every node that a tenant's plugins changed.
//!
//! The node that makes a change marks it in its own registry at once and publishes
//! `tenant generation` on a Redis channel; the other nodes hear it and rebuild that
//! tenant's snapshot on next use. Redis is only a fast path: every node also polls the
//! database's plugin clock, often while Redis is down or not configured and rarely while
//! it is up, so a lost message or an outage delays a reload but never loses one.

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

/// Announces this node's plugin changes. Cheap to clone.
#[derive(Clone)]
pub struct Announcer {
    registry: Arc<Registry>,
    outgoing: Option<mpsc::UnboundedSender<String>>,
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
            let _ = outgoing.send(format!("{tenant_id} {generation}"));
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
    /// Reload messages received over Redis.
    pub heard_over_redis: AtomicU64,
}

/// Parses a reload message: `tenant generation`.
fn parse(message: &str) -> Option<(&str, i64)> {
    let (tenant, generation) = message.split_once(' ')?;
    Some((tenant, generation.parse().ok()?))
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
        let (outgoing, incoming) = mpsc::unbounded_channel();
        announcer.outgoing = Some(outgoing);
        tokio::spawn(publish(client.clone(), incoming));
        tokio::spawn(subscribe(client, registry.clone(), state.clone()));
    }
    tokio::spawn(poll(db, registry, state));
    Ok(announcer)
}

/// Sends announcements to Redis, reconnecting as needed. A message that cannot be sent
/// is dropped: the other nodes' polling picks the change up.
async fn publish(client: redis::Client, mut incoming: mpsc::UnboundedReceiver<String>) {
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

/// Listens for other nodes' announcements, reconnecting with backoff while Redis is down.
async fn subscribe(client: redis::Client, registry: Arc<Registry>, state: Arc<ReloadState>) {
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
                        let Ok(payload) = message.get_payload::<String>() else {
                            continue;
                        };
                        match parse(&payload) {
                            Some((tenant, generation)) => {
                                registry.heard(tenant, generation);
                                state.heard_over_redis.fetch_add(1, Ordering::SeqCst);
                                metrics::reloads_heard(Heard::Redis, 1);
                            }
                            None => tracing::warn!(payload, "ignoring a malformed reload message"),
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
    }
}
