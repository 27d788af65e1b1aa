//! Exactly-once delivery of ticket and SLA events to workflow steps.
//!
//! A change that owes the tenant's steps an event writes it to `workflow_events` in its
//! own transaction, held by this node for [`LEASE_MS`]. Right after the commit the node
//! runs the steps and applies their actions in a transaction that also deletes the
//! event, so the actions commit once or not at all. If the node dies in between, or the
//! apply fails, the event stays: the redelivery pass on any node claims it once its lease
//! runs out and tries again, up to [`MAX_ATTEMPTS`] times, after which it is kept as
//! failed for an operator. Steps may run more than once for one event (their calls are
//! pure functions of the event); their actions are applied once.

use std::time::Duration;

use super::{Core, ServiceError};
use crate::db::Tx;
use crate::domain::ids::now_ms;
use crate::store::workflow_events::{self, Held};

/// How long a node holds an event it is delivering before another may take it over.
/// Steps run under per-call deadlines of a second or so; this is far beyond a slow run.
pub const LEASE_MS: i64 = 60_000;

/// Deliveries of one event before it is given up on.
pub const MAX_ATTEMPTS: i64 = 5;

/// Events claimed per redelivery pass.
const BATCH: i64 = 32;

/// Whether the tenant has workflow steps, so a change owes them an event. Read before
/// the change's transaction opens: the snapshot may need the database on a cold node.
/// Any step in any scope counts; delivery runs the ones whose scope holds the ticket.
pub async fn owes_steps(core: &Core, tenant_id: &str) -> Result<bool, ServiceError> {
    let snapshot = super::registry::snapshot(core, tenant_id).await?;
    Ok(snapshot
        .all()
        .iter()
        .any(|ready| ready.installation.world == crate::domain::plugin::World::WorkflowStep))
}

/// Writes `kind` about `ticket_id` inside the change's `tx`, held by this node.
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    kind: &str,
    payload: &serde_json::Value,
) -> Result<Held, ServiceError> {
    Ok(
        workflow_events::enqueue(tx, tenant_id, ticket_id, kind, payload, now_ms(), LEASE_MS)
            .await?,
    )
}

/// Delivers a held event to the steps against the ticket as it is now. A failure leaves
/// the event for a later attempt (or gives it up after the last) and is logged: the
/// change that caused it is committed whatever happens here.
pub async fn deliver(core: &Core, held: &Held) {
    if let Err(err) = super::tickets::apply_event(core, held).await {
        retry_later(core, held, &err).await;
    }
}

/// Puts a held event back for another attempt after `err`, or gives it up after
/// [`MAX_ATTEMPTS`]. When even that write fails, the lease running out does the same.
pub async fn retry_later(core: &Core, held: &Held, err: &ServiceError) {
    let now = now_ms();
    let error = err.to_string();
    let written = if held.attempts >= MAX_ATTEMPTS {
        tracing::error!(
            tenant = %held.tenant_id, ticket = %held.ticket_id, event = %held.kind,
            attempts = held.attempts, error = %error,
            "workflow steps could not be given an event; it is kept as failed"
        );
        workflow_events::give_up(&core.db, held, now, &error).await
    } else {
        tracing::warn!(
            tenant = %held.tenant_id, ticket = %held.ticket_id, event = %held.kind,
            attempts = held.attempts, error = %error,
            "workflow steps could not be given an event; it is tried again later"
        );
        workflow_events::postpone(&core.db, held, now + backoff_ms(held.attempts), &error).await
    };
    if let Err(err) = written {
        tracing::warn!(event = %held.id, error = %err, "could not note a failed workflow event; its lease will run out instead");
    }
}

/// 5 s after the first attempt, doubling, up to the lease.
fn backoff_ms(attempts: i64) -> i64 {
    let doublings = u32::try_from(attempts.clamp(1, 16) - 1).unwrap_or(0);
    (5_000_i64 << doublings).min(LEASE_MS)
}

/// One redelivery pass at `now`: claims the events whose holder's lease ran out (their
/// node died, or an attempt failed) and delivers them, several at once. Returns how many
/// it claimed. Safe on several nodes at once: each event goes to one pass.
pub async fn redeliver_due(core: &Core, now: i64) -> Result<usize, ServiceError> {
    let due = workflow_events::claim_due(&core.db, now, LEASE_MS, BATCH).await?;
    let claimed = due.len();
    let mut deliveries = tokio::task::JoinSet::new();
    for held in due {
        let core = core.clone();
        deliveries.spawn(async move { deliver(&core, &held).await });
    }
    while let Some(done) = deliveries.join_next().await {
        if let Err(err) = done {
            tracing::error!(error = %err, "delivering a workflow event panicked");
        }
    }
    Ok(claimed)
}

/// Runs [`redeliver_due`] every `interval` until the process ends.
pub async fn run_redelivery(core: Core, interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        match redeliver_due(&core, now_ms()).await {
            Ok(0) => {}
            Ok(claimed) => tracing::info!(claimed, "workflow events redelivered"),
            Err(err) => tracing::warn!(error = %err, "workflow redelivery pass failed"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_back_off_from_five_seconds_to_the_lease() {
        assert_eq!(backoff_ms(1), 5_000);
        assert_eq!(backoff_ms(2), 10_000);
        assert_eq!(backoff_ms(4), 40_000);
        assert_eq!(backoff_ms(5), LEASE_MS);
        assert_eq!(backoff_ms(40), LEASE_MS);
    }
}
