//! Installations: a plugin version enabled in a tenant with its config, granted
//! capabilities, limit overrides and circuit-breaker state.

use serde::Serialize;

use sqlx::AssertSqlSafe;

use super::{Page, Paged, StoreError, finish_page, json_column};
use crate::db::{Arg, Db, SqlBuilder, Tx};
use crate::ids::{new_id, now_ms, rfc3339};
use crate::plugins::limits::RequestedLimits;
use crate::plugins::manifest::{Capability, World};

/// Whether an installation runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstallationStatus {
    Enabled,
    Disabled,
    /// Stopped by the circuit breaker; an admin re-enables it.
    Suspended,
}

impl InstallationStatus {
    fn as_str(self) -> &'static str {
        match self {
            InstallationStatus::Enabled => "enabled",
            InstallationStatus::Disabled => "disabled",
            InstallationStatus::Suspended => "suspended",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match text {
            "enabled" => Some(InstallationStatus::Enabled),
            "disabled" => Some(InstallationStatus::Disabled),
            "suspended" => Some(InstallationStatus::Suspended),
            _ => None,
        }
    }
}

/// An installation.
#[derive(Clone, Debug, Serialize)]
pub struct Installation {
    pub id: String,
    pub plugin_version_id: String,
    pub plugin: String,
    pub version: String,
    pub world: World,
    pub config: serde_json::Value,
    /// Capabilities granted by the tenant admin.
    pub capabilities: Vec<Capability>,
    /// Per-installation limit overrides.
    pub limits: RequestedLimits,
    pub status: InstallationStatus,
    pub status_reason: Option<String>,
    pub consecutive_failures: i64,
    /// Installations of one world run in ascending order.
    pub run_order: i64,
    pub created_at: String,
    pub updated_at: String,
}

impl Installation {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.plugin, self.version)
    }
}

/// An installation to create.
#[derive(Clone, Debug)]
pub struct NewInstallation {
    pub plugin_version_id: String,
    pub plugin: String,
    pub version: String,
    pub world: World,
    pub config: serde_json::Value,
    pub capabilities: Vec<Capability>,
    pub limits: RequestedLimits,
    pub run_order: i64,
    pub enabled: bool,
}

/// List filters.
#[derive(Clone, Debug, Default)]
pub struct InstallationFilter {
    pub plugin: Option<String>,
    pub world: Option<World>,
    pub status: Option<InstallationStatus>,
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    id: String,
    plugin_version_id: String,
    plugin_name: String,
    plugin_version: String,
    world: String,
    config: String,
    capabilities: String,
    limits: String,
    status: String,
    status_reason: Option<String>,
    consecutive_failures: i64,
    run_order: i64,
    created_at: i64,
    updated_at: i64,
}

impl InstallationRow {
    fn into_domain(self) -> Result<Installation, StoreError> {
        Ok(Installation {
            world: World::parse(&self.world).ok_or_else(|| {
                StoreError::Corrupt(format!("installation world `{}`", self.world))
            })?,
            status: InstallationStatus::parse(&self.status).ok_or_else(|| {
                StoreError::Corrupt(format!("installation status `{}`", self.status))
            })?,
            config: json_column("installations.config", &self.config)?,
            capabilities: json_column("installations.capabilities", &self.capabilities)?,
            limits: json_column("installations.limits", &self.limits)?,
            id: self.id,
            plugin_version_id: self.plugin_version_id,
            plugin: self.plugin_name,
            version: self.plugin_version,
            status_reason: self.status_reason,
            consecutive_failures: self.consecutive_failures,
            run_order: self.run_order,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

const COLUMNS: &str = "id, plugin_version_id, plugin_name, plugin_version, world, config, capabilities, \
                       limits, status, status_reason, consecutive_failures, run_order, created_at, updated_at";

fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Creates an installation; one per plugin name in a tenant.
pub async fn insert(
    db: &Db,
    tenant_id: &str,
    new: NewInstallation,
) -> Result<Installation, StoreError> {
    let id = new_id();
    let now = now_ms();
    let status = if new.enabled {
        InstallationStatus::Enabled
    } else {
        InstallationStatus::Disabled
    };
    sqlx::query(
        "INSERT INTO installations (id, tenant_id, plugin_version_id, plugin_name, plugin_version, world, \
         config, capabilities, limits, status, consecutive_failures, run_order, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $12)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&new.plugin_version_id)
    .bind(&new.plugin)
    .bind(&new.version)
    .bind(new.world.as_str())
    .bind(to_json(&new.config))
    .bind(to_json(&new.capabilities))
    .bind(to_json(&new.limits))
    .bind(status.as_str())
    .bind(new.run_order)
    .bind(now)
    .execute(db.pool())
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || {
            format!("{} is already installed in this tenant; PATCH that installation instead", new.plugin)
        })
    })?;
    get(db, tenant_id, &id)
        .await?
        .ok_or(StoreError::NotFound("installation"))
}

/// An installation of the tenant.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Installation>, StoreError> {
    let row: Option<InstallationRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM installations WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    row.map(InstallationRow::into_domain).transpose()
}

/// The tenant's installations, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &InstallationFilter,
    page: &Page,
) -> Result<Paged<Installation>, StoreError> {
    let mut sql = SqlBuilder::new(&format!(
        "SELECT {COLUMNS} FROM installations WHERE tenant_id = "
    ));
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .and_eq("plugin_name", filter.plugin.clone().map(Arg::Text))
        .and_eq(
            "world",
            filter.world.map(|w| Arg::Text(w.as_str().to_owned())),
        )
        .and_eq(
            "status",
            filter.status.map(|s| Arg::Text(s.as_str().to_owned())),
        );
    finish_page(&mut sql, page);
    let rows: Vec<InstallationRow> = sql.build_as().fetch_all(db.pool()).await?;
    Paged::from_rows(rows, page.limit, |row| &row.id).try_map(InstallationRow::into_domain)
}

/// The tenant's enabled installations of `world`, in run order.
pub async fn enabled(
    db: &Db,
    tenant_id: &str,
    world: World,
) -> Result<Vec<Installation>, StoreError> {
    let rows: Vec<InstallationRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM installations WHERE tenant_id = $1 AND world = $2 AND status = 'enabled' \
         ORDER BY run_order, id"
    )))
    .bind(tenant_id)
    .bind(world.as_str())
    .fetch_all(db.pool())
    .await?;
    rows.into_iter().map(InstallationRow::into_domain).collect()
}

/// Changes to an installation; unset parts stay.
#[derive(Clone, Debug, Default)]
pub struct InstallationPatch {
    pub config: Option<serde_json::Value>,
    pub capabilities: Option<Vec<Capability>>,
    pub limits: Option<RequestedLimits>,
    pub run_order: Option<i64>,
    /// `Some(true)` enables (also lifting a suspension and resetting the failure count).
    pub enabled: Option<bool>,
}

/// Applies `patch` to the installation.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    current: &Installation,
    patch: InstallationPatch,
) -> Result<Installation, StoreError> {
    let status = match patch.enabled {
        Some(true) => InstallationStatus::Enabled,
        Some(false) => InstallationStatus::Disabled,
        None => current.status,
    };
    let (reason, failures) = match patch.enabled {
        Some(_) => (None, 0),
        None => (current.status_reason.clone(), current.consecutive_failures),
    };
    sqlx::query(
        "UPDATE installations SET config = $1, capabilities = $2, limits = $3, run_order = $4, status = $5, \
         status_reason = $6, consecutive_failures = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10",
    )
    .bind(to_json(patch.config.as_ref().unwrap_or(&current.config)))
    .bind(to_json(patch.capabilities.as_ref().unwrap_or(&current.capabilities)))
    .bind(to_json(patch.limits.as_ref().unwrap_or(&current.limits)))
    .bind(patch.run_order.unwrap_or(current.run_order))
    .bind(status.as_str())
    .bind(reason)
    .bind(failures)
    .bind(now_ms())
    .bind(tenant_id)
    .bind(&current.id)
    .execute(db.pool())
    .await?;
    get(db, tenant_id, &current.id)
        .await?
        .ok_or(StoreError::NotFound("installation"))
}

/// Uninstalls: removes the installation and its kv namespace. Audit rows stay.
pub async fn delete(db: &Db, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    sqlx::query("DELETE FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let deleted = sqlx::query("DELETE FROM installations WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok(deleted > 0)
}

/// Records a breaker-relevant outcome: a success resets the count, a failure adds one and
/// suspends the installation at `threshold`. Returns whether this call suspended it.
pub async fn record_outcome(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    failed: bool,
    threshold: u32,
    reason: &str,
) -> Result<bool, StoreError> {
    if !failed {
        sqlx::query(
            "UPDATE installations SET consecutive_failures = 0 WHERE tenant_id = $1 AND id = $2 AND consecutive_failures <> 0",
        )
        .bind(tenant_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
        return Ok(false);
    }
    let suspended = sqlx::query(
        "UPDATE installations SET consecutive_failures = consecutive_failures + 1, status = 'suspended', \
         status_reason = $1, updated_at = $2 \
         WHERE tenant_id = $3 AND id = $4 AND status = 'enabled' AND consecutive_failures + 1 >= $5",
    )
    .bind(format!("suspended after {threshold} failures in a row; last: {reason}"))
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .bind(i64::from(threshold))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if suspended > 0 {
        return Ok(true);
    }
    sqlx::query("UPDATE installations SET consecutive_failures = consecutive_failures + 1 WHERE tenant_id = $1 AND id = $2")
        .bind(tenant_id)
        .bind(id)
        .execute(&mut **tx)
        .await?;
    Ok(false)
}
