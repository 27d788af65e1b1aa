//! The OEM's catalogue for dealers: which plugins a dealer's admin may install in its own
//! subtree, which versions, and the most it may grant and ask for.

use super::{StoreError, json_column, to_json};
use crate::db::{Db, Tx};
use crate::domain::ids::{now_ms, rfc3339};
use crate::domain::installations::CatalogueEntry;

type Row = (String, String, String, String, i64);

fn entry(
    (plugin, versions, capabilities, limits, updated_at): Row,
) -> Result<CatalogueEntry, StoreError> {
    Ok(CatalogueEntry {
        plugin,
        versions: json_column("dealer_catalogue.versions", &versions)?,
        capabilities: json_column("dealer_catalogue.capabilities", &capabilities)?,
        limits: json_column("dealer_catalogue.limits", &limits)?,
        updated_at: rfc3339(updated_at),
    })
}

const SELECT: &str =
    "SELECT plugin_name, versions, capabilities, limits, updated_at FROM dealer_catalogue";

/// The tenant's catalogue, by plugin name.
pub async fn list(db: &Db, tenant_id: &str) -> Result<Vec<CatalogueEntry>, StoreError> {
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 ORDER BY plugin_name"
    )))
    .bind(tenant_id)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter().map(entry).collect()
}

/// The catalogue's entry for `plugin`, if dealers may install it.
pub async fn get(
    db: &Db,
    tenant_id: &str,
    plugin: &str,
) -> Result<Option<CatalogueEntry>, StoreError> {
    let row: Option<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{SELECT} WHERE tenant_id = $1 AND plugin_name = $2"
    )))
    .bind(tenant_id)
    .bind(plugin)
    .fetch_optional(db.reader())
    .await?;
    row.map(entry).transpose()
}

/// Writes the entry for its plugin, replacing any before.
pub async fn put(tx: &mut Tx, tenant_id: &str, entry: &CatalogueEntry) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO dealer_catalogue (tenant_id, plugin_name, versions, capabilities, limits, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, plugin_name) DO UPDATE SET \
         versions = excluded.versions, capabilities = excluded.capabilities, \
         limits = excluded.limits, updated_at = excluded.updated_at",
    )
    .bind(tenant_id)
    .bind(&entry.plugin)
    .bind(to_json(&entry.versions))
    .bind(to_json(&entry.capabilities))
    .bind(to_json(&entry.limits))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes `plugin` out of the catalogue. Returns whether it was in it.
pub async fn delete(tx: &mut Tx, tenant_id: &str, plugin: &str) -> Result<bool, StoreError> {
    let sql = "DELETE FROM dealer_catalogue WHERE tenant_id = $1 AND plugin_name = $2";
    Ok(super::execute(&mut **tx, sql, &[tenant_id, plugin]).await? > 0)
}
