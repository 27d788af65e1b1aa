//! Each tenant's plugin policy: its installation quota, its per-call budget, and where
//! plugin alerts go.

use super::{StoreError, json_column};
use crate::db::{Db, Tx};
use crate::domain::ids::now_ms;
use crate::domain::plugin::PluginPolicy;

/// The tenant's policy.
pub async fn get(db: &Db, tenant_id: &str) -> Result<PluginPolicy, StoreError> {
    let row: Option<(Option<i64>, String, Option<String>)> = sqlx::query_as(
        "SELECT max_installations, budget, alert_email FROM plugin_policies WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(db.reader())
    .await?;
    let Some((max_installations, budget, alert_email)) = row else {
        return Ok(PluginPolicy::default());
    };
    Ok(PluginPolicy {
        max_installations,
        budget: json_column("plugin_policies.budget", &budget)?,
        alert_email,
    })
}

/// Replaces the tenant's policy inside `tx`.
pub async fn put(tx: &mut Tx, tenant_id: &str, policy: &PluginPolicy) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plugin_policies (tenant_id, max_installations, budget, alert_email, updated_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (tenant_id) DO UPDATE SET \
         max_installations = excluded.max_installations, budget = excluded.budget, \
         alert_email = excluded.alert_email, updated_at = excluded.updated_at",
    )
    .bind(tenant_id)
    .bind(policy.max_installations)
    .bind(serde_json::to_string(&policy.budget).unwrap_or_else(|_| "{}".to_owned()))
    .bind(&policy.alert_email)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The tenant's alert address, read inside `tx`.
pub async fn alert_email(tx: &mut Tx, tenant_id: &str) -> Result<Option<String>, StoreError> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT alert_email FROM plugin_policies WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_optional(&mut **tx)
            .await?;
    Ok(row.and_then(|(email,)| email))
}

/// How many installations the tenant has (inside an installing transaction, or not).
pub async fn installations(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
) -> Result<i64, StoreError> {
    let (count,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM installations WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_one(conn)
            .await?;
    Ok(count)
}
