//! Each tenant's plugin policy: its installation quota, its per-call budget, and where
//! plugin alerts go.

use serde::{Deserialize, Serialize};

use super::{StoreError, json_column};
use crate::db::{Db, Tx};
use crate::ids::now_ms;
use crate::plugins::limits::RequestedLimits;

/// A tenant's plugin policy; the defaults ([`DEFAULT_MAX_INSTALLATIONS`],
/// [`DEFAULT_BUDGET`], no alert address) until the platform admin sets one, and for the
/// parts a set policy leaves out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PluginPolicy {
    /// How many installations the tenant may have: 50 unless set; `null` for no quota.
    pub max_installations: Option<i64>,
    /// Caps on each call's limits, within the platform maxima: a 1,000 ms deadline and
    /// 128 MiB of memory unless set.
    pub budget: RequestedLimits,
    /// Where suspensions and other plugin alerts are emailed.
    pub alert_email: Option<String>,
}

/// Installations a tenant may have until the platform admin sets its quota.
pub const DEFAULT_MAX_INSTALLATIONS: i64 = 50;

/// What one call of a tenant's plugin may use until the platform admin sets its budget:
/// a plugin that runs for seconds on every ticket would slow the hotline, and one that
/// holds the platform's maximum memory on every call would crowd out other tenants.
pub const DEFAULT_BUDGET: RequestedLimits = RequestedLimits {
    deadline_ms: Some(1_000),
    memory_mib: Some(128),
    input_kib: None,
    output_kib: None,
    log_kib: None,
};

impl Default for PluginPolicy {
    fn default() -> Self {
        PluginPolicy {
            max_installations: Some(DEFAULT_MAX_INSTALLATIONS),
            budget: DEFAULT_BUDGET,
            alert_email: None,
        }
    }
}

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
