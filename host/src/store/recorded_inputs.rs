//! Routing inputs as a plugin saw them, with what it answered, kept for replay within
//! the tenant's retention.

use super::StoreError;
use sqlx::AssertSqlSafe;

use crate::db::{Db, Tx, values_placeholders};
use crate::domain::ids::{new_id, now_ms, rfc3339};

/// One invocation to record.
#[derive(Debug)]
pub struct NewRecordedInput<'a> {
    pub installation_id: &'a str,
    pub plugin_version_id: &'a str,
    pub version: &'a str,
    pub hook: &'a str,
    pub subject_id: Option<&'a str>,
    /// The WIT input, serialized as JSON.
    pub input: &'a str,
    /// The output as stored on the ticket's record (`null` for no decision), when it ran.
    pub output: Option<&'a serde_json::Value>,
    pub error: Option<&'a str>,
    pub outcome: &'a str,
    pub duration_us: i64,
}

/// A recorded invocation.
#[derive(Clone, Debug)]
pub struct RecordedInput {
    pub id: String,
    pub version: String,
    pub subject_id: Option<String>,
    pub input: String,
    pub output: Option<String>,
    pub error: Option<String>,
    pub duration_us: i64,
    pub created_at: i64,
}

crate::store::from_row!(RecordedInput {
    id,
    version,
    subject_id,
    input,
    output,
    error,
    duration_us,
    created_at
});

impl RecordedInput {
    /// When it was recorded, RFC 3339.
    pub fn recorded_at(&self) -> String {
        rfc3339(self.created_at)
    }
}

/// Records the invocations of one flow inside the ticket's transaction, in one statement.
pub async fn insert_many(
    tx: &mut Tx,
    tenant_id: &str,
    rows: &[NewRecordedInput<'_>],
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sql = format!(
        "INSERT INTO recorded_inputs (id, tenant_id, installation_id, plugin_version_id, version, hook, \
         subject_id, input, output, error, outcome, duration_us, created_at) VALUES {}",
        values_placeholders(rows.len(), 13)
    );
    let now = now_ms();
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for new in rows {
        query = query
            .bind(new_id())
            .bind(tenant_id)
            .bind(new.installation_id)
            .bind(new.plugin_version_id)
            .bind(new.version)
            .bind(new.hook)
            .bind(new.subject_id)
            .bind(new.input)
            .bind(new.output.map(ToString::to_string))
            .bind(new.error)
            .bind(new.outcome)
            .bind(new.duration_us)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Deletes the tenant's recorded inputs older than `before` (epoch ms).
pub async fn purge(db: &Db, tenant_id: &str, before: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM recorded_inputs WHERE tenant_id = $1 AND created_at < $2")
            .bind(tenant_id)
            .bind(before)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

/// The last `limit` recorded inputs of the installation at `plugin_version_id`, newest
/// first.
pub async fn last(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    plugin_version_id: &str,
    limit: i64,
) -> Result<Vec<RecordedInput>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT id, version, subject_id, input, output, error, duration_us, created_at \
         FROM recorded_inputs WHERE tenant_id = $1 AND installation_id = $2 AND plugin_version_id = $3 \
         ORDER BY created_at DESC, id DESC LIMIT $4",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(plugin_version_id)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}
