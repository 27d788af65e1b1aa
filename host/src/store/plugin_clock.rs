//! The plugin-change clock: each change to a tenant's installations takes the next
//! number and stamps the tenant with it, so any node can tell whether its snapshot of
//! that tenant's plugins is current.

use super::StoreError;
use crate::db::{Db, Tx};

/// Takes the next number and stamps `tenant_id` with it, inside the change's transaction.
/// Returns the tenant's new generation.
pub async fn bump(tx: &mut Tx, tenant_id: &str) -> Result<i64, StoreError> {
    let (generation,): (i64,) =
        sqlx::query_as("UPDATE plugin_clock SET value = value + 1 WHERE id = 1 RETURNING value")
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query(
        "INSERT INTO plugin_generations (tenant_id, generation) VALUES ($1, $2) \
         ON CONFLICT (tenant_id) DO UPDATE SET generation = excluded.generation",
    )
    .bind(tenant_id)
    .bind(generation)
    .execute(&mut **tx)
    .await?;
    Ok(generation)
}

/// The tenant's generation; 0 before its first plugin change.
pub async fn generation(db: &Db, tenant_id: &str) -> Result<i64, StoreError> {
    let row: Option<(i64,)> =
        sqlx::query_as("SELECT generation FROM plugin_generations WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(db.reader())
            .await?;
    Ok(row.map_or(0, |(generation,)| generation))
}

/// `(tenant_id, generation)` of every tenant stamped after `after`, oldest first, at most
/// `limit`: what a polling node has missed.
pub async fn since(db: &Db, after: i64, limit: i64) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT tenant_id, generation FROM plugin_generations WHERE generation > $1 \
         ORDER BY generation LIMIT $2",
    )
    .bind(after)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}

/// The clock's current value: where a node that starts now begins polling.
pub async fn now(db: &Db) -> Result<i64, StoreError> {
    let (value,): (i64,) = sqlx::query_as("SELECT value FROM plugin_clock WHERE id = 1")
        .fetch_one(db.reader())
        .await?;
    Ok(value)
}
