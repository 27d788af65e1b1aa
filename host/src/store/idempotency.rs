//! Idempotency keys: the first reply to a POST sent with an `Idempotency-Key`, per API key.

use sqlx::Any;
use sqlx::any::AnyArguments;
use sqlx::query::Query;

use super::StoreError;
use crate::db::Db;

/// Whose key it is: the tenant, the API key that sent it, and the key itself.
#[derive(Clone, Copy, Debug)]
pub struct KeyRef<'a> {
    pub tenant_id: &'a str,
    pub key_id: &'a str,
    pub key: &'a str,
}

impl<'a> KeyRef<'a> {
    /// `sql` with the key bound as `$1` (tenant), `$2` (API key) and `$3` (the key).
    fn bound(self, sql: &'static str) -> Query<'a, Any, AnyArguments> {
        sqlx::query(sql)
            .bind(self.tenant_id)
            .bind(self.key_id)
            .bind(self.key)
    }
}

/// A key's row as a retry finds it.
#[derive(Clone, Debug)]
pub struct Kept {
    pub fingerprint: String,
    /// `None` while the first request still runs.
    pub status: Option<i64>,
    pub content_type: Option<String>,
    pub body: Option<String>,
    pub locked_at: i64,
    pub created_at: i64,
}

crate::store::from_row!(Kept {
    fingerprint,
    status,
    content_type,
    body,
    locked_at,
    created_at
});

/// Takes the key for a request with `fingerprint`, locked at `now`: true when this request
/// is the first. A row created before `expired_before`, or still running since before
/// `stale_before` (its node died), is taken over as if it were not there.
pub async fn reserve(
    db: &Db,
    key: KeyRef<'_>,
    fingerprint: &str,
    now: i64,
    expired_before: i64,
    stale_before: i64,
) -> Result<Result<(), Kept>, StoreError> {
    let inserted = key
        .bound(
            "INSERT INTO idempotency_keys (tenant_id, key_id, idempotency_key, fingerprint, locked_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (tenant_id, key_id, idempotency_key) DO NOTHING",
        )
        .bind(fingerprint)
    .bind(now)
    .execute(db.writer())
    .await?;
    if inserted.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    // The conditions are checked again in the UPDATE, so of two retries racing for an
    // expired or stale row only one takes it.
    let taken = key
        .bound(
            "UPDATE idempotency_keys SET fingerprint = $4, status = NULL, content_type = NULL, \
             body = NULL, locked_at = $5, created_at = $5 \
             WHERE tenant_id = $1 AND key_id = $2 AND idempotency_key = $3 \
             AND (created_at < $6 OR (status IS NULL AND locked_at < $7))",
        )
        .bind(fingerprint)
        .bind(now)
        .bind(expired_before)
        .bind(stale_before)
        .execute(db.writer())
        .await?;
    if taken.rows_affected() == 1 {
        return Ok(Ok(()));
    }
    let kept: Option<Kept> = sqlx::query_as(
        "SELECT fingerprint, status, content_type, body, locked_at, created_at FROM idempotency_keys \
         WHERE tenant_id = $1 AND key_id = $2 AND idempotency_key = $3",
    )
    .bind(key.tenant_id)
    .bind(key.key_id)
    .bind(key.key)
    .fetch_optional(db.writer())
    .await?;
    match kept {
        Some(kept) => Ok(Err(kept)),
        // Released between our INSERT and SELECT: the caller may simply try again.
        None => Err(StoreError::Conflict(
            "the idempotency key was released while this request looked at it".to_owned(),
        )),
    }
}

/// Keeps the first reply of the reservation locked at `locked_at`.
pub async fn complete(
    db: &Db,
    key: KeyRef<'_>,
    locked_at: i64,
    status: u16,
    content_type: Option<&str>,
    body: &str,
) -> Result<(), StoreError> {
    key.bound(
        "UPDATE idempotency_keys SET status = $5, content_type = $6, body = $7 \
         WHERE tenant_id = $1 AND key_id = $2 AND idempotency_key = $3 AND locked_at = $4 \
         AND status IS NULL",
    )
    .bind(locked_at)
    .bind(i64::from(status))
    .bind(content_type)
    .bind(body)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Lets the key go again after a reply that is not kept (an error the client may retry).
pub async fn release(db: &Db, key: KeyRef<'_>, locked_at: i64) -> Result<(), StoreError> {
    key.bound(
        "DELETE FROM idempotency_keys \
         WHERE tenant_id = $1 AND key_id = $2 AND idempotency_key = $3 AND locked_at = $4 \
         AND status IS NULL",
    )
    .bind(locked_at)
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Deletes every key created before `before`; returns how many went.
pub async fn purge(db: &Db, before: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}
