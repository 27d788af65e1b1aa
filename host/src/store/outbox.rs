//! The notifications outbox: rows written in the transaction of the change that caused
//! them and delivered afterwards, so a crash between commit and delivery loses nothing.
//!
//! A row is `pending` until a delivery worker claims it (`sending`, under a lease), then
//! `delivered`, `pending` again for a later attempt, or `failed` after the last one.
//! Claiming and settling serve the delivery worker of every tenant: they are the only
//! functions here not scoped by the caller's tenant, and they name the rows they touch
//! by id and claim token.

use sqlx::{AssertSqlSafe, Row};

use super::StoreError;
use crate::db::{Backend, Db, Tx};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::notifications::OutboxEntry;
use crate::domain::records::Notification;

/// Queues `notification` inside `tx`; returns the row's id.
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: Option<&str>,
    source: &str,
    notification: &Notification,
) -> Result<String, StoreError> {
    enqueue_with_link_token(tx, tenant_id, ticket_id, source, notification, None).await
}

/// Where a link's secret goes in a notification body queued with
/// [`enqueue_with_link_token`]; the body as stored and shown keeps this placeholder.
pub const LINK_TOKEN: &str = "{link-token}";

/// [`enqueue`], keeping `link_token` apart from the body: the delivery worker puts it in
/// place of [`LINK_TOKEN`] as it sends, so API replies and logs never carry it.
pub async fn enqueue_with_link_token(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: Option<&str>,
    source: &str,
    notification: &Notification,
    link_token: Option<&str>,
) -> Result<String, StoreError> {
    let now = now_ms();
    let id = new_id();
    sqlx::query(
        "INSERT INTO outbox (id, tenant_id, ticket_id, channel, recipient, subject, body, source, status, \
         attempts, next_attempt_at, created_at, link_token) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9, $10)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(ticket_id)
    .bind(notification.channel.as_str())
    .bind(&notification.to)
    .bind(&notification.subject)
    .bind(&notification.body)
    .bind(source)
    .bind(now)
    .bind(link_token)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

const ENTRY_COLUMNS: &str = "id, ticket_id, channel, recipient, subject, body, source, status, attempts, \
                             last_error, next_attempt_at, created_at, delivered_at";

fn entry_from_row(row: sqlx::any::AnyRow) -> Result<OutboxEntry, sqlx::Error> {
    let status: String = row.try_get("status")?;
    let next: i64 = row.try_get("next_attempt_at")?;
    let delivered: Option<i64> = row.try_get("delivered_at")?;
    Ok(OutboxEntry {
        id: row.try_get("id")?,
        ticket_id: row.try_get("ticket_id")?,
        channel: row.try_get("channel")?,
        to: row.try_get("recipient")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        source: row.try_get("source")?,
        next_attempt_at: (status == "pending").then(|| rfc3339(next)),
        status,
        attempts: row.try_get("attempts")?,
        last_error: row.try_get("last_error")?,
        created_at: rfc3339(row.try_get("created_at")?),
        delivered_at: delivered.map(rfc3339),
    })
}

/// One outbox row of the tenant.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<OutboxEntry>, StoreError> {
    let row = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM outbox WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(entry_from_row).transpose()?)
}

/// The outbox rows of a ticket, oldest first.
pub async fn for_ticket(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {ENTRY_COLUMNS} FROM outbox WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY id"
    )))
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(entry_from_row)
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// A row claimed for delivery: everything an adapter needs, and the claim that lets the
/// worker settle it.
#[derive(Clone, Debug)]
pub struct Claimed {
    pub id: String,
    pub tenant_id: String,
    pub ticket_id: Option<String>,
    /// As stored; the worker fails a row whose channel it does not know.
    pub channel: String,
    pub recipient: String,
    pub subject: Option<String>,
    /// The body to send, its link token in place: never log it.
    pub body: String,
    pub source: String,
    /// Unix ms.
    pub created_at: i64,
    /// Attempts including this one.
    pub attempts: i64,
    /// The claim's token; settling checks it.
    pub claim_token: String,
}

/// What became of a claimed row.
#[derive(Clone, Debug)]
pub enum Settlement {
    Delivered {
        at_ms: i64,
    },
    /// Another attempt at `at_ms`.
    Retry {
        at_ms: i64,
        error: String,
    },
    Failed {
        error: String,
    },
}

/// What `last_error` says about a row claimed again after its lease ran out.
const LEASE_EXPIRED: &str =
    "the node delivering it stopped before finishing; claimed again after its lease ended";

/// Claims up to `limit` due rows of any tenant for `lease_ms`: pending rows whose
/// `next_attempt_at` has come, and rows whose claim expired because the node holding it
/// died. Tenants take turns: each tenant's oldest due row comes before any tenant's
/// second, so one tenant's backlog of thousands does not hold back another's one SMS.
/// One statement flips them to `sending`; on PostgreSQL the rows are locked with
/// `SKIP LOCKED`, so workers on several nodes never claim the same row, and on SQLite the
/// single writer serialises the claims.
pub async fn claim(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> Result<Vec<Claimed>, StoreError> {
    let lock = match db.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let token = new_id();
    // The due test is repeated where the rows are locked and updated. On PostgreSQL the
    // candidates come from the statement's snapshot: a row another node claimed and
    // committed after it was taken is not locked any more, so SKIP LOCKED does not skip
    // it, and only a condition on the locked row's latest version (re-checked there)
    // keeps it from being claimed, and delivered, twice.
    let due = "((status = 'pending' AND next_attempt_at <= $4) OR (status = 'sending' AND claimed_until <= $4))";
    let rows = sqlx::query(AssertSqlSafe(format!(
        "UPDATE outbox SET status = 'sending', claimed_until = $1, claim_token = $2, attempts = attempts + 1, \
         last_error = CASE WHEN status = 'sending' THEN $3 ELSE last_error END \
         WHERE {due} AND id IN (SELECT id FROM outbox WHERE {due} AND id IN (\
           SELECT id FROM (SELECT id, next_attempt_at, \
               ROW_NUMBER() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at, id) AS turn \
             FROM outbox \
             WHERE {due}) due \
           ORDER BY turn, next_attempt_at, id LIMIT $5){lock}) \
         RETURNING id, tenant_id, ticket_id, channel, recipient, subject, body, source, created_at, attempts, \
         link_token"
    )))
    .bind(now_ms + lease_ms)
    .bind(&token)
    .bind(LEASE_EXPIRED)
    .bind(now_ms)
    .bind(limit)
    .fetch_all(db.writer())
    .await?;
    rows.into_iter()
        .map(|row| {
            let body: String = row.try_get("body")?;
            let link_token: Option<String> = row.try_get("link_token")?;
            Ok(Claimed {
                id: row.try_get("id")?,
                tenant_id: row.try_get("tenant_id")?,
                ticket_id: row.try_get("ticket_id")?,
                channel: row.try_get("channel")?,
                recipient: row.try_get("recipient")?,
                subject: row.try_get("subject")?,
                body: match link_token {
                    Some(token) => body.replace(LINK_TOKEN, &token),
                    None => body,
                },
                source: row.try_get("source")?,
                created_at: row.try_get("created_at")?,
                attempts: row.try_get("attempts")?,
                claim_token: token.clone(),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}

/// Records the outcome of a claimed row's attempt. Returns false, writing nothing, when
/// the claim is no longer the row's (its lease ran out and another worker claimed it).
pub async fn settle(db: &Db, row: &Claimed, outcome: &Settlement) -> Result<bool, StoreError> {
    let query = match outcome {
        Settlement::Delivered { at_ms } => sqlx::query(
            "UPDATE outbox SET status = 'delivered', delivered_at = $1, claimed_until = NULL, claim_token = NULL \
             WHERE tenant_id = $2 AND id = $3 AND claim_token = $4",
        )
        .bind(*at_ms),
        Settlement::Retry { at_ms, error } => sqlx::query(
            "UPDATE outbox SET status = 'pending', next_attempt_at = $1, last_error = $2, claimed_until = NULL, \
             claim_token = NULL WHERE tenant_id = $3 AND id = $4 AND claim_token = $5",
        )
        .bind(*at_ms)
        .bind(super::truncated(error)),
        Settlement::Failed { error } => sqlx::query(
            "UPDATE outbox SET status = 'failed', last_error = $1, claimed_until = NULL, claim_token = NULL \
             WHERE tenant_id = $2 AND id = $3 AND claim_token = $4",
        )
        .bind(super::truncated(error)),
    };
    let result = query
        .bind(&row.tenant_id)
        .bind(&row.id)
        .bind(&row.claim_token)
        .execute(db.writer())
        .await?;
    Ok(result.rows_affected() == 1)
}
