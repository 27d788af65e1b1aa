//! The `kv` capability's storage: one namespace per tenant and installation.

use sqlx::Row;

use super::StoreError;
use crate::db::Db;
use crate::domain::ids::now_ms;

/// Whether a set stored the value.
#[derive(Debug, PartialEq, Eq)]
pub enum SetOutcome {
    Stored,
    TooManyKeys,
}

/// Reads a value.
pub async fn get(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    key: &str,
) -> Result<Option<Vec<u8>>, StoreError> {
    let row = sqlx::query(
        "SELECT value FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2 AND key = $3",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(key)
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(|row| row.try_get("value")).transpose()?)
}

/// Writes a value unless that would exceed `max_keys` keys.
pub async fn set(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    key: &str,
    value: &[u8],
    max_keys: i64,
) -> Result<SetOutcome, StoreError> {
    let mut tx = db.begin_write().await?;
    let exists = sqlx::query(
        "SELECT 1 FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2 AND key = $3",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?
    .is_some();
    if !exists {
        let count: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2",
        )
        .bind(tenant_id)
        .bind(installation_id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        if count >= max_keys {
            return Ok(SetOutcome::TooManyKeys);
        }
    }
    sqlx::query(
        "INSERT INTO kv_entries (tenant_id, installation_id, key, value, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (tenant_id, installation_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(key)
    .bind(value.to_vec())
    .bind(now_ms())
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(SetOutcome::Stored)
}

/// Deletes a key.
pub async fn delete(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    key: &str,
) -> Result<(), StoreError> {
    let sql = "DELETE FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2 AND key = $3";
    super::execute(db.writer(), sql, &[tenant_id, installation_id, key]).await?;
    Ok(())
}

/// Keys starting with `prefix`, in order (at most 1,000).
pub async fn list_keys(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    prefix: &str,
) -> Result<Vec<String>, StoreError> {
    let rows = sqlx::query(
        "SELECT key FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2 ORDER BY key LIMIT 1000",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .fetch_all(db.reader())
    .await?;
    let keys = rows
        .into_iter()
        .map(|row| row.try_get::<String, _>("key"))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(keys
        .into_iter()
        .filter(|key| key.starts_with(prefix))
        .collect())
}
