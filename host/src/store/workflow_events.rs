//! The durable queue of events owed to workflow steps. A row is written in the
//! transaction of the change that caused it, already claimed by the node that made the
//! change, and deleted in the transaction that applies the steps' actions: the claim
//! token makes that delete succeed for one holder only, so the actions commit once.
//!
//! Claiming serves the redelivery pass of every tenant: with [`claim_due`] and
//! [`give_up`] it is not scoped by the caller's tenant, and names rows by id and token.

use sqlx::{AssertSqlSafe, Row};

use super::StoreError;
use crate::db::{Backend, Db, Tx};
use crate::domain::ids::new_id;

/// An event held under a claim: by the node that wrote it, or by a redelivery pass.
#[derive(Clone, Debug, PartialEq)]
pub struct Held {
    pub id: String,
    pub tenant_id: String,
    pub ticket_id: String,
    pub kind: String,
    pub payload: serde_json::Value,
    /// Attempts including this one.
    pub attempts: i64,
    /// The claim's token; settling checks it.
    pub claim_token: String,
}

/// Writes an event inside the change's `tx`, held by the caller until `now + lease_ms`.
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    kind: &str,
    payload: &serde_json::Value,
    now: i64,
    lease_ms: i64,
) -> Result<Held, StoreError> {
    let held = Held {
        id: new_id(),
        tenant_id: tenant_id.to_owned(),
        ticket_id: ticket_id.to_owned(),
        kind: kind.to_owned(),
        payload: payload.clone(),
        attempts: 1,
        claim_token: new_id(),
    };
    sqlx::query(
        "INSERT INTO workflow_events (id, tenant_id, ticket_id, kind, payload, created_at, attempts, \
         claimed_until, claim_token) VALUES ($1, $2, $3, $4, $5, $6, 1, $7, $8)",
    )
    .bind(&held.id)
    .bind(tenant_id)
    .bind(ticket_id)
    .bind(kind)
    .bind(payload.to_string())
    .bind(now)
    .bind(now + lease_ms)
    .bind(&held.claim_token)
    .execute(&mut **tx)
    .await?;
    Ok(held)
}

/// Claims up to `limit` events whose holder's lease ran out by `now`, oldest first with
/// tenants taking turns (each tenant's oldest before any tenant's second), for
/// `lease_ms`. On PostgreSQL the rows are locked with `SKIP LOCKED`, so passes on several
/// nodes never claim the same event; on SQLite the single writer serialises them.
pub async fn claim_due(
    db: &Db,
    now: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Held>, StoreError> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    // The due test is repeated on the locked rows, as in `outbox::claim`: an event another
    // node claimed and committed after this statement's snapshot is no longer locked, and
    // only the re-checked condition keeps it from being claimed twice.
    let due = "failed_at IS NULL AND claimed_until <= $3";
    let rows = sqlx::query(AssertSqlSafe(format!(
        "UPDATE workflow_events SET claimed_until = $1, claim_token = $2, attempts = attempts + 1 \
         WHERE {due} AND id IN (SELECT id FROM workflow_events WHERE {due} AND id IN (\
           SELECT id FROM (SELECT id, created_at, \
               ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY created_at, id) AS turn \
             FROM workflow_events WHERE {due}) due \
           ORDER BY turn, created_at, id LIMIT $4){lock}) \
         RETURNING id, tenant_id, ticket_id, kind, payload, attempts, claim_token"
    )))
    .bind(now + lease_ms)
    .bind(new_id())
    .bind(now)
    .bind(limit)
    .fetch_all(db.writer())
    .await?;
    rows.into_iter()
        .map(|row| {
            let payload: String = row.try_get("payload")?;
            Ok(Held {
                id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                ticket_id: row.try_get("ticket_id")?,
                kind: row.try_get("kind")?,
                payload: super::json_column("workflow_events.payload", &payload)?,
                attempts: row.try_get("attempts")?,
                claim_token: row.try_get("claim_token")?,
            })
        })
        .collect()
}

/// Settles `held` inside the transaction that applies its actions: true when the claim
/// was still the caller's and the event is gone; false, deleting nothing, when another
/// holder took it over after the lease ran out (the caller must roll back).
pub async fn settle(tx: &mut Tx, held: &Held) -> Result<bool, StoreError> {
    let sql = "DELETE FROM workflow_events WHERE tenant_id = $1 AND id = $2 AND claim_token = $3";
    let binds = [held.tenant_id.as_str(), &held.id, &held.claim_token];
    let deleted = super::execute(&mut **tx, sql, &binds).await?;
    Ok(deleted == 1)
}

/// Keeps a held event for another attempt at `retry_at`, noting why this one failed.
pub async fn postpone(db: &Db, held: &Held, retry_at: i64, error: &str) -> Result<(), StoreError> {
    note_failure(db, held, "claimed_until", retry_at, error).await
}

/// Stops retrying a held event: it stays, with `failed_at` and the reason, for an operator.
pub async fn give_up(db: &Db, held: &Held, now: i64, error: &str) -> Result<(), StoreError> {
    note_failure(db, held, "failed_at", now, error).await
}

/// Sets `column` (one of Axle's own, never input) to `at` and `last_error`, if the
/// claim is still the caller's.
async fn note_failure(
    db: &Db,
    held: &Held,
    column: &'static str,
    at: i64,
    error: &str,
) -> Result<(), StoreError> {
    sqlx::query(AssertSqlSafe(format!(
        "UPDATE workflow_events SET {column} = $1, last_error = $2 \
         WHERE tenant_id = $3 AND id = $4 AND claim_token = $5"
    )))
    .bind(at)
    .bind(super::truncated(error))
    .bind(&held.tenant_id)
    .bind(&held.id)
    .bind(&held.claim_token)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// An event still owed to a ticket's steps, or given up on.
#[derive(Clone, Debug, PartialEq)]
pub struct Owed {
    pub kind: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub failed: bool,
}

/// The events of the tenant's ticket not yet applied, oldest first.
pub async fn owed_for_ticket(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<Owed>, StoreError> {
    let rows = sqlx::query(
        "SELECT kind, attempts, last_error, failed_at FROM workflow_events \
         WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY created_at, id",
    )
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(|row| {
            let failed: Option<i64> = row.try_get("failed_at")?;
            Ok(Owed {
                kind: row.try_get("kind")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
                failed: failed.is_some(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}
