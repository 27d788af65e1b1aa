//! Installations: a plugin version enabled in a tenant with its config, granted
//! capabilities, limit overrides and circuit-breaker state.

use super::plugin_clock;
use super::{StoreError, json_column, to_json};
use crate::db::{Arg, Backend, Db, SqlBuilder, Tx};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::installations::{
    HistoryEntry, Installation, InstallationFilter, InstallationStatus, PendingUpgrade, Scope,
    ScopeFilter,
};
use crate::domain::page::{Page, Paged};
use crate::domain::plugin::{Capability, RequestedLimits, World};

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
    pub scope: Scope,
    pub mandatory: bool,
}

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
    pending_capabilities: Option<String>,
    shadow: Option<String>,
    site_id: Option<String>,
    scope_path: String,
    mandatory: i64,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(InstallationRow => Installation, from "installations" {
    id,
    plugin_version_id,
    plugin_name,
    plugin_version,
    world,
    config,
    capabilities,
    limits,
    status,
    status_reason,
    consecutive_failures,
    run_order,
    pending_capabilities,
    shadow,
    site_id,
    scope_path,
    mandatory,
    created_at,
    updated_at
});

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
            pending_upgrade: self
                .pending_capabilities
                .as_deref()
                .map(|text| json_column("installations.pending_capabilities", text))
                .transpose()?,
            shadow: self
                .shadow
                .as_deref()
                .map(|text| json_column("installations.shadow", text))
                .transpose()?,
            scope: Scope {
                site_id: self.site_id,
                path: self.scope_path,
            },
            mandatory: self.mandatory != 0,
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

/// Creates an installation; one per plugin name in a tenant. Returns its id.
pub async fn insert(
    tx: &mut Tx,
    tenant_id: &str,
    new: NewInstallation,
) -> Result<String, StoreError> {
    let id = new_id();
    let now = now_ms();
    let status = if new.enabled {
        InstallationStatus::Enabled
    } else {
        InstallationStatus::Disabled
    };
    sqlx::query(
        "INSERT INTO installations (id, tenant_id, plugin_version_id, plugin_name, plugin_version, world, \
         config, capabilities, limits, status, consecutive_failures, run_order, created_at, updated_at, \
         site_id, scope_path, mandatory) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $12, $13, $14, $15)",
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
    .bind(&new.scope.site_id)
    .bind(&new.scope.path)
    .bind(i64::from(new.mandatory))
    .execute(&mut **tx)
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || {
            let scope = match &new.scope.site_id {
                None => "for the whole tenant".to_owned(),
                Some(site) => format!("for site {site}'s subtree"),
            };
            format!("{} is already installed {scope}; PATCH that installation instead", new.plugin)
        })
    })?;
    record_history(
        tx,
        tenant_id,
        &id,
        "install",
        None,
        &new.version,
        &new.plugin_version_id,
        &new.capabilities,
    )
    .await?;
    Ok(id)
}

/// An installation of the tenant.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Installation>, StoreError> {
    let mut conn = db.reader().acquire().await?;
    get_on(&mut conn, tenant_id, id, "").await
}

/// An installation of the tenant, read inside `tx` and locked until it ends (SQLite's
/// write transaction already excludes other writers). Lock the installation before
/// taking the plugin clock, in the same order as the circuit breaker does, so that the
/// two can never deadlock.
pub async fn get_for_change(
    tx: &mut Tx,
    backend: Backend,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Installation>, StoreError> {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE",
    };
    get_on(tx, tenant_id, id, lock).await
}

async fn get_on(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    id: &str,
    lock: &str,
) -> Result<Option<Installation>, StoreError> {
    super::select_optional::<InstallationRow>(
        conn,
        &format!("WHERE tenant_id = $1 AND id = $2{lock}"),
        &[tenant_id, id],
    )
    .await
}

/// The tenant's installations, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &InstallationFilter,
    page: &Page,
) -> Result<Paged<Installation>, StoreError> {
    let mut sql = super::tenant_rows::<InstallationRow>(tenant_id);
    sql.and_eq("plugin_name", filter.plugin.clone().map(Arg::Text))
        .and_eq(
            "world",
            filter.world.map(|w| Arg::Text(w.as_str().to_owned())),
        )
        .and_eq(
            "status",
            filter.status.map(|s| Arg::Text(s.as_str().to_owned())),
        );
    match &filter.scope {
        Some(ScopeFilter::Tenant) => {
            sql.push(" AND site_id IS NULL");
        }
        Some(ScopeFilter::Site(site_id)) => {
            sql.and_eq("site_id", Some(Arg::Text(site_id.clone())));
        }
        None => {}
    }
    if let Some(subtree) = &filter.applying_within {
        // Its own and below (scope_path under the subtree), or above it (the subtree's
        // path under scope_path; '' is under nothing but prefixes everything).
        sql.push(" AND (scope_path LIKE ")
            .bind(Arg::Text(format!("{subtree}%")))
            .push(" OR ")
            .bind(Arg::Text(subtree.clone()))
            .push(" LIKE scope_path || '%')");
    }
    super::select_page::<InstallationRow>(db, sql, page).await
}

/// The tenant's enabled installations, in run order.
pub async fn all_enabled(db: &Db, tenant_id: &str) -> Result<Vec<Installation>, StoreError> {
    super::select_all::<InstallationRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND status = 'enabled' \
         ORDER BY run_order, id",
        &[tenant_id],
    )
    .await
}

/// A dealer's opt-out of a tenant-wide installation, for its site's subtree.
pub struct OptOut {
    pub installation_id: String,
    pub site_id: String,
    pub site_path: String,
}

/// Every opt-out in the tenant, for its plugin snapshot.
pub async fn opt_outs(db: &Db, tenant_id: &str) -> Result<Vec<OptOut>, StoreError> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT installation_id, site_id, site_path FROM installation_opt_outs WHERE tenant_id = $1 \
         ORDER BY installation_id, site_path",
    )
    .bind(tenant_id)
    .fetch_all(db.reader())
    .await?;
    Ok(rows
        .into_iter()
        .map(|(installation_id, site_id, site_path)| OptOut {
            installation_id,
            site_id,
            site_path,
        })
        .collect())
}

/// Records that the site's subtree opts out of the installation; doing it twice is one
/// opt-out. Returns whether it is new.
pub async fn opt_out(
    tx: &mut Tx,
    tenant_id: &str,
    installation_id: &str,
    site_id: &str,
    site_path: &str,
) -> Result<bool, StoreError> {
    let added = sqlx::query(
        "INSERT INTO installation_opt_outs (tenant_id, installation_id, site_id, site_path, created_at) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(site_id)
    .bind(site_path)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?
    .rows_affected();
    Ok(added > 0)
}

/// Withdraws the site's opt-out. Returns whether there was one.
pub async fn opt_in(
    tx: &mut Tx,
    tenant_id: &str,
    installation_id: &str,
    site_id: &str,
) -> Result<bool, StoreError> {
    let sql = "DELETE FROM installation_opt_outs WHERE tenant_id = $1 AND installation_id = $2 AND site_id = $3";
    Ok(super::execute(&mut **tx, sql, &[tenant_id, installation_id, site_id]).await? > 0)
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
    pub mandatory: Option<bool>,
}

/// Applies `patch` to the installation.
pub async fn update(
    tx: &mut Tx,
    tenant_id: &str,
    current: &Installation,
    patch: InstallationPatch,
) -> Result<(), StoreError> {
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
         status_reason = $6, consecutive_failures = $7, updated_at = $8, mandatory = $9 \
         WHERE tenant_id = $10 AND id = $11",
    )
    .bind(to_json(patch.config.as_ref().unwrap_or(&current.config)))
    .bind(to_json(patch.capabilities.as_ref().unwrap_or(&current.capabilities)))
    .bind(to_json(patch.limits.as_ref().unwrap_or(&current.limits)))
    .bind(patch.run_order.unwrap_or(current.run_order))
    .bind(status.as_str())
    .bind(reason)
    .bind(failures)
    .bind(now_ms())
    .bind(i64::from(patch.mandatory.unwrap_or(current.mandatory)))
    .bind(tenant_id)
    .bind(&current.id)
    .execute(&mut **tx)
    .await?;
    if patch.enabled.is_some() {
        // An admin's enable or disable gives the breaker a fresh window.
        let sql = "UPDATE installations SET window_failures = 0, window_started_at = 0 \
                   WHERE tenant_id = $1 AND id = $2";
        super::execute(&mut **tx, sql, &[tenant_id, &current.id]).await?;
    }
    Ok(())
}

/// Uninstalls: removes the installation and its kv namespace. Audit rows stay.
pub async fn delete(tx: &mut Tx, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let kv = "DELETE FROM kv_entries WHERE tenant_id = $1 AND installation_id = $2";
    super::execute(&mut **tx, kv, &[tenant_id, id]).await?;
    let opt_outs =
        "DELETE FROM installation_opt_outs WHERE tenant_id = $1 AND installation_id = $2";
    super::execute(&mut **tx, opt_outs, &[tenant_id, id]).await?;
    let installation = "DELETE FROM installations WHERE tenant_id = $1 AND id = $2";
    let deleted = super::execute(&mut **tx, installation, &[tenant_id, id]).await?;
    Ok(deleted > 0)
}

/// How the circuit breaker trips: `threshold` failures within `window_ms`.
#[derive(Clone, Copy, Debug)]
pub struct Breaker {
    pub threshold: u32,
    pub window_ms: i64,
}

/// Counts a failure against the circuit breaker: in the current window, or in a new one
/// when the last has passed, and in the count of failures in a row (shown to admins,
/// ended by [`clear_failure_streaks`]). Suspends the installation when the window holds
/// `breaker.threshold` failures, and then returns the tenant's new plugin generation.
pub async fn count_failure(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    breaker: Breaker,
    reason: &str,
) -> Result<Option<i64>, StoreError> {
    let now = now_ms();
    sqlx::query(
        "UPDATE installations SET consecutive_failures = consecutive_failures + 1, \
         window_failures = CASE WHEN window_started_at + $1 > $2 THEN window_failures + 1 ELSE 1 END, \
         window_started_at = CASE WHEN window_started_at + $1 > $2 THEN window_started_at ELSE $2 END \
         WHERE tenant_id = $3 AND id = $4",
    )
    .bind(breaker.window_ms)
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let suspended = sqlx::query(
        "UPDATE installations SET status = 'suspended', status_reason = $1, updated_at = $2 \
         WHERE tenant_id = $3 AND id = $4 AND status = 'enabled' AND window_failures >= $5",
    )
    .bind(format!(
        "suspended after {} failures within {} s; last: {reason}",
        breaker.threshold,
        breaker.window_ms / 1000
    ))
    .bind(now)
    .bind(tenant_id)
    .bind(id)
    .bind(i64::from(breaker.threshold))
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if suspended > 0 {
        return Ok(Some(plugin_clock::bump(tx, tenant_id).await?));
    }
    Ok(None)
}

/// Ends the failure streak of the installations in `ids` that had one: the successes of
/// one flow, cleared in one statement.
pub async fn clear_failure_streaks(
    tx: &mut Tx,
    tenant_id: &str,
    ids: &[&str],
) -> Result<(), StoreError> {
    if ids.is_empty() {
        return Ok(());
    }
    let mut sql =
        SqlBuilder::new("UPDATE installations SET consecutive_failures = 0 WHERE tenant_id = ");
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .push(" AND consecutive_failures <> 0 AND id IN (");
    for (n, id) in ids.iter().enumerate() {
        if n > 0 {
            sql.push(", ");
        }
        sql.bind(Arg::Text((*id).to_owned()));
    }
    sql.push(")");
    sql.build().execute(&mut **tx).await?;
    Ok(())
}

/// Points the installation at another version of its plugin with `capabilities` granted
/// and `config`, clearing any pending upgrade, and records it in the history.
pub async fn switch_version(
    tx: &mut Tx,
    tenant_id: &str,
    current: &Installation,
    switch: &VersionSwitch<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE installations SET plugin_version_id = $1, plugin_version = $2, capabilities = $3, config = $4, \
         pending_version_id = NULL, pending_capabilities = NULL, updated_at = $5 WHERE tenant_id = $6 AND id = $7",
    )
    .bind(switch.plugin_version_id)
    .bind(switch.version)
    .bind(to_json(&switch.capabilities))
    .bind(to_json(switch.config))
    .bind(now_ms())
    .bind(tenant_id)
    .bind(&current.id)
    .execute(&mut **tx)
    .await?;
    record_history(
        tx,
        tenant_id,
        &current.id,
        switch.action,
        Some(&current.version),
        switch.version,
        switch.plugin_version_id,
        &switch.capabilities,
    )
    .await
}

/// A move to another version.
pub struct VersionSwitch<'a> {
    /// `upgrade` or `rollback`.
    pub action: &'static str,
    pub plugin_version_id: &'a str,
    pub version: &'a str,
    pub capabilities: Vec<Capability>,
    pub config: &'a serde_json::Value,
}

/// Parks an upgrade until the tenant admin approves the capabilities it adds; `None`
/// cancels a parked one.
pub async fn set_pending(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    pending: Option<&PendingUpgrade>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE installations SET pending_version_id = $1, pending_capabilities = $2, updated_at = $3 \
         WHERE tenant_id = $4 AND id = $5",
    )
    .bind(pending.map(|p| p.plugin_version_id.clone()))
    .bind(pending.map(to_json))
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

crate::store::from_row!(HistoryEntry {
    action,
    from_version,
    to_version,
    plugin_version_id,
    capabilities,
    created_ms
});

#[allow(clippy::too_many_arguments)]
async fn record_history(
    tx: &mut Tx,
    tenant_id: &str,
    installation_id: &str,
    action: &str,
    from_version: Option<&str>,
    to_version: &str,
    plugin_version_id: &str,
    capabilities: &[Capability],
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO installation_history (id, tenant_id, installation_id, action, from_version, to_version, \
         plugin_version_id, capabilities, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(installation_id)
    .bind(action)
    .bind(from_version)
    .bind(to_version)
    .bind(plugin_version_id)
    .bind(to_json(&capabilities))
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The versions the installation ran, newest first.
pub async fn history(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    installation_id: &str,
) -> Result<Vec<HistoryEntry>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT action, from_version, to_version, plugin_version_id, capabilities, created_at AS created_ms \
         FROM installation_history WHERE tenant_id = $1 AND installation_id = $2 ORDER BY created_at DESC, id DESC",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .fetch_all(conn)
    .await?)
}

/// The newest history entry of the installation, or the newest that moved it to
/// `to_version`: what a rollback needs, read with the history index, not the whole list.
pub async fn last_ran(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    to_version: Option<&str>,
) -> Result<Option<HistoryEntry>, StoreError> {
    let mut sql = SqlBuilder::new(
        "SELECT action, from_version, to_version, plugin_version_id, capabilities, created_at AS created_ms \
         FROM installation_history WHERE tenant_id = ",
    );
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .and_eq(
            "installation_id",
            Some(Arg::Text(installation_id.to_owned())),
        )
        .and_eq("to_version", to_version.map(|v| Arg::Text(v.to_owned())));
    sql.push(" ORDER BY created_at DESC, id DESC LIMIT 1");
    Ok(sql.build_as().fetch_optional(db.reader()).await?)
}

impl HistoryEntry {
    /// The capabilities granted while it ran.
    pub fn granted(&self) -> Result<Vec<Capability>, StoreError> {
        json_column("installation_history.capabilities", &self.capabilities)
    }
}
