//! The notifications outbox: rows written in the transaction of the change that caused
//! them and delivered afterwards, so a crash between commit and delivery loses nothing.

use serde::Serialize;
use sqlx::Row;

use super::StoreError;
use crate::db::{Db, Tx};
use crate::domain::Notification;
use crate::ids::{new_id, now_ms, rfc3339};

/// An outbox row.
#[derive(Clone, Debug, Serialize)]
pub struct OutboxEntry {
    pub id: String,
    pub ticket_id: Option<String>,
    pub channel: String,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    /// Who queued it: `system` or `plugin@version`.
    pub source: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}

/// Queues `notification` inside `tx`.
pub async fn enqueue(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: Option<&str>,
    source: &str,
    notification: &Notification,
) -> Result<(), StoreError> {
    let now = now_ms();
    sqlx::query(
        "INSERT INTO outbox (id, tenant_id, ticket_id, channel, recipient, subject, body, source, status, \
         attempts, next_attempt_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', 0, $9, $9)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(ticket_id)
    .bind(notification.channel.as_str())
    .bind(&notification.to)
    .bind(&notification.subject)
    .bind(&notification.body)
    .bind(source)
    .bind(now)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The outbox rows of a ticket, oldest first.
pub async fn for_ticket(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<OutboxEntry>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, ticket_id, channel, recipient, subject, body, source, status, attempts, last_error, \
         created_at, delivered_at FROM outbox WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY id",
    )
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(db.pool())
    .await?;
    rows.into_iter()
        .map(|row| {
            let delivered: Option<i64> = row.try_get("delivered_at")?;
            Ok(OutboxEntry {
                id: row.try_get("id")?,
                ticket_id: row.try_get("ticket_id")?,
                channel: row.try_get("channel")?,
                to: row.try_get("recipient")?,
                subject: row.try_get("subject")?,
                body: row.try_get("body")?,
                source: row.try_get("source")?,
                status: row.try_get("status")?,
                attempts: row.try_get("attempts")?,
                last_error: row.try_get("last_error")?,
                created_at: rfc3339(row.try_get("created_at")?),
                delivered_at: delivered.map(rfc3339),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()
        .map_err(StoreError::from)
}
