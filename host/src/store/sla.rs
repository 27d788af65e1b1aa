//! SLA policies, holidays and per-ticket clocks.

use sqlx::{AnyConnection, Row};

use super::StoreError;
use crate::db::Db;
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::records::Priority;
use crate::domain::sla::{ClockKind, ClockView, Holiday, Policy};

/// Creates or replaces the policy for its priority.
pub async fn put_policy(db: &Db, tenant_id: &str, policy: &Policy) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO sla_policies (tenant_id, priority, first_response_minutes, resolution_minutes, warn_at_percent, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tenant_id, priority) DO UPDATE SET \
         first_response_minutes = excluded.first_response_minutes, resolution_minutes = excluded.resolution_minutes, \
         warn_at_percent = excluded.warn_at_percent, updated_at = excluded.updated_at",
    )
    .bind(tenant_id)
    .bind(policy.priority.as_str())
    .bind(policy.first_response_minutes)
    .bind(policy.resolution_minutes)
    .bind(policy.warn_at_percent)
    .bind(now_ms())
    .execute(db.writer())
    .await?;
    Ok(())
}

fn policy_of(row: &sqlx::any::AnyRow) -> Result<Policy, StoreError> {
    let priority: String = row.try_get("priority")?;
    Ok(Policy {
        priority: Priority::parse(&priority)
            .ok_or_else(|| StoreError::Corrupt(format!("sla priority `{priority}`")))?,
        first_response_minutes: row.try_get("first_response_minutes")?,
        resolution_minutes: row.try_get("resolution_minutes")?,
        warn_at_percent: row.try_get("warn_at_percent")?,
    })
}

const POLICY_COLUMNS: &str =
    "priority, first_response_minutes, resolution_minutes, warn_at_percent";

/// The tenant's policies.
pub async fn policies(db: &Db, tenant_id: &str) -> Result<Vec<Policy>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE tenant_id = $1 ORDER BY priority"
    )))
    .bind(tenant_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(policy_of).collect()
}

/// The policy for `priority`, if the tenant has one.
pub async fn policy(
    conn: &mut AnyConnection,
    tenant_id: &str,
    priority: Priority,
) -> Result<Option<Policy>, StoreError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {POLICY_COLUMNS} FROM sla_policies WHERE tenant_id = $1 AND priority = $2"
    )))
    .bind(tenant_id)
    .bind(priority.as_str())
    .fetch_optional(conn)
    .await?;
    row.as_ref().map(policy_of).transpose()
}

/// Adds (or renames) a holiday.
pub async fn put_holiday(db: &Db, tenant_id: &str, holiday: &Holiday) -> Result<(), StoreError> {
    let sql = "INSERT INTO holidays (tenant_id, day, name) VALUES ($1, $2, $3) \
               ON CONFLICT (tenant_id, day) DO UPDATE SET name = excluded.name";
    super::execute(db.writer(), sql, &[tenant_id, &holiday.day, &holiday.name]).await?;
    Ok(())
}

/// Removes a holiday; false when there was none that day.
pub async fn delete_holiday(db: &Db, tenant_id: &str, day: &str) -> Result<bool, StoreError> {
    let sql = "DELETE FROM holidays WHERE tenant_id = $1 AND day = $2";
    Ok(super::execute(db.writer(), sql, &[tenant_id, day]).await? > 0)
}

/// The tenant's holidays, by date.
pub async fn holidays(
    conn: &mut AnyConnection,
    tenant_id: &str,
) -> Result<Vec<Holiday>, StoreError> {
    let rows = sqlx::query("SELECT day, name FROM holidays WHERE tenant_id = $1 ORDER BY day")
        .bind(tenant_id)
        .fetch_all(conn)
        .await?;
    rows.iter()
        .map(|row| {
            Ok(Holiday {
                day: row.try_get("day")?,
                name: row.try_get("name")?,
            })
        })
        .collect()
}

/// A clock as stored (times in unix ms).
#[derive(Clone, Debug)]
pub struct Clock {
    pub id: String,
    pub tenant_id: String,
    pub ticket_id: String,
    pub kind: ClockKind,
    pub target_minutes: i64,
    pub started_at: i64,
    pub warn_at: Option<i64>,
    pub due_at: Option<i64>,
    pub paused_at: Option<i64>,
    pub warn_left_minutes: Option<i64>,
    pub due_left_minutes: Option<i64>,
    pub met_at: Option<i64>,
    pub warned_at: Option<i64>,
    pub breached_at: Option<i64>,
}

impl Clock {
    /// The API view.
    pub fn view(&self) -> ClockView {
        let state = match (self.met_at, self.breached_at, self.paused_at) {
            (Some(_), _, _) => "met",
            (None, Some(_), _) => "breached",
            (None, None, Some(_)) => "paused",
            (None, None, None) => "running",
        };
        ClockView {
            kind: self.kind,
            target_minutes: self.target_minutes,
            state,
            started_at: rfc3339(self.started_at),
            due_at: self.due_at.map(rfc3339),
            met_at: self.met_at.map(rfc3339),
            warned_at: self.warned_at.map(rfc3339),
            breached_at: self.breached_at.map(rfc3339),
        }
    }
}

const CLOCK_COLUMNS: &str = "id, tenant_id, ticket_id, kind, target_minutes, started_at, warn_at, due_at, paused_at, \
                             warn_left_minutes, due_left_minutes, met_at, warned_at, breached_at";

fn clock_of(row: &sqlx::any::AnyRow) -> Result<Clock, StoreError> {
    let kind: String = row.try_get("kind")?;
    Ok(Clock {
        id: row.try_get("id")?,
        tenant_id: row.try_get("tenant_id")?,
        ticket_id: row.try_get("ticket_id")?,
        kind: ClockKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("sla clock kind `{kind}`")))?,
        target_minutes: row.try_get("target_minutes")?,
        started_at: row.try_get("started_at")?,
        warn_at: row.try_get("warn_at")?,
        due_at: row.try_get("due_at")?,
        paused_at: row.try_get("paused_at")?,
        warn_left_minutes: row.try_get("warn_left_minutes")?,
        due_left_minutes: row.try_get("due_left_minutes")?,
        met_at: row.try_get("met_at")?,
        warned_at: row.try_get("warned_at")?,
        breached_at: row.try_get("breached_at")?,
    })
}

/// A clock to start.
#[derive(Clone, Debug)]
pub struct NewClock<'a> {
    pub ticket_id: &'a str,
    pub kind: ClockKind,
    pub target_minutes: i64,
    pub started_at: i64,
    pub warn_at: Option<i64>,
    pub due_at: Option<i64>,
}

/// Starts a clock.
pub async fn insert_clock(
    conn: &mut AnyConnection,
    tenant_id: &str,
    clock: &NewClock<'_>,
) -> Result<(), StoreError> {
    insert_clocks(conn, tenant_id, std::slice::from_ref(clock)).await
}

/// Starts `clocks` in one statement.
pub async fn insert_clocks(
    conn: &mut AnyConnection,
    tenant_id: &str,
    clocks: &[NewClock<'_>],
) -> Result<(), StoreError> {
    if clocks.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO sla_clocks (id, tenant_id, ticket_id, kind, target_minutes, started_at, warn_at, due_at) VALUES {}",
        crate::db::values_placeholders(clocks.len(), 8)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for clock in clocks {
        query = query
            .bind(new_id())
            .bind(tenant_id)
            .bind(clock.ticket_id)
            .bind(clock.kind.as_str())
            .bind(clock.target_minutes)
            .bind(clock.started_at)
            .bind(clock.warn_at)
            .bind(clock.due_at);
    }
    query.execute(conn).await?;
    Ok(())
}

/// A ticket's clocks.
pub async fn clocks(
    conn: &mut AnyConnection,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<Clock>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY kind"
    )))
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(conn)
    .await?;
    rows.iter().map(clock_of).collect()
}

/// Writes a clock's mutable state.
pub async fn save_clock(conn: &mut AnyConnection, clock: &Clock) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE sla_clocks SET warn_at = $1, due_at = $2, paused_at = $3, warn_left_minutes = $4, \
         due_left_minutes = $5, met_at = $6 WHERE tenant_id = $7 AND id = $8",
    )
    .bind(clock.warn_at)
    .bind(clock.due_at)
    .bind(clock.paused_at)
    .bind(clock.warn_left_minutes)
    .bind(clock.due_left_minutes)
    .bind(clock.met_at)
    .bind(&clock.tenant_id)
    .bind(&clock.id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Running clocks, across tenants, whose warning or breach has fallen due by `now`.
pub async fn due(db: &Db, now: i64, limit: i64) -> Result<Vec<Clock>, StoreError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CLOCK_COLUMNS} FROM sla_clocks WHERE met_at IS NULL AND paused_at IS NULL \
         AND ((breached_at IS NULL AND due_at <= $1) OR (warned_at IS NULL AND warn_at <= $1)) \
         ORDER BY due_at LIMIT $2"
    )))
    .bind(now)
    .bind(limit)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(clock_of).collect()
}

/// Which event a claim is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    Warning,
    Breach,
}

/// Marks the clock's `stage` as fired, atomically: exactly one caller across all nodes
/// gets `true` for a clock and stage. The row lock the UPDATE takes on PostgreSQL (and the
/// single writer on SQLite) make the check and the mark one step.
pub async fn claim(
    conn: &mut AnyConnection,
    clock_id: &str,
    stage: Stage,
    now: i64,
) -> Result<bool, StoreError> {
    let sql = match stage {
        // A breach also settles the warning, so a late clock fires one event, not two.
        Stage::Breach => {
            "UPDATE sla_clocks SET breached_at = $1, warned_at = COALESCE(warned_at, $1) \
             WHERE id = $2 AND breached_at IS NULL AND met_at IS NULL AND paused_at IS NULL AND due_at <= $1"
        }
        Stage::Warning => {
            "UPDATE sla_clocks SET warned_at = $1 \
             WHERE id = $2 AND warned_at IS NULL AND met_at IS NULL AND paused_at IS NULL AND warn_at <= $1"
        }
    };
    let updated = sqlx::query(sql)
        .bind(now)
        .bind(clock_id)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(updated == 1)
}
