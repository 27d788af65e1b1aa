//! Shadow candidates and the comparisons of a candidate with the installed version.

use super::StoreError;
use crate::db::{Db, Tx};
use crate::domain::ids::{new_id, now_ms};
use crate::domain::installations::ShadowCandidate;
use crate::domain::plugin::Source;

/// Sets (or with `None` clears) the installation's shadow candidate inside `tx`.
pub async fn set_candidate(
    tx: &mut Tx,
    tenant_id: &str,
    installation_id: &str,
    candidate: Option<&ShadowCandidate>,
) -> Result<(), StoreError> {
    let text = candidate
        .map(serde_json::to_string)
        .transpose()
        .map_err(|err| StoreError::Corrupt(format!("shadow candidate: {err}")))?;
    sqlx::query(
        "UPDATE installations SET shadow = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4",
    )
    .bind(text)
    .bind(now_ms())
    .bind(tenant_id)
    .bind(installation_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// One comparison to store.
#[derive(Clone, Debug)]
pub struct NewRun {
    pub installation_id: String,
    pub source: Source,
    pub subject_id: Option<String>,
    pub primary_version: String,
    pub candidate_version: String,
    /// The input, when the tenant's retention allows keeping it.
    pub input: Option<String>,
    pub primary_output: Option<serde_json::Value>,
    pub primary_error: Option<String>,
    pub candidate_output: Option<serde_json::Value>,
    pub candidate_error: Option<String>,
    pub agreed: bool,
    pub primary_us: i64,
    pub candidate_us: i64,
}

/// A stored comparison.
#[derive(Clone, Debug)]
pub struct Run {
    pub subject_id: Option<String>,
    pub primary_version: String,
    pub candidate_version: String,
    pub input: Option<String>,
    pub primary_output: Option<String>,
    pub primary_error: Option<String>,
    pub candidate_output: Option<String>,
    pub candidate_error: Option<String>,
    pub agreed: i64,
    pub primary_us: i64,
    pub candidate_us: i64,
    pub created_at: i64,
}

crate::store::from_row!(Run {
    subject_id,
    primary_version,
    candidate_version,
    input,
    primary_output,
    primary_error,
    candidate_output,
    candidate_error,
    agreed,
    primary_us,
    candidate_us,
    created_at
});

/// Stores comparisons in one transaction.
pub async fn insert_all(db: &Db, tenant_id: &str, runs: &[NewRun]) -> Result<(), StoreError> {
    let mut tx = db.begin_write().await?;
    let now = now_ms();
    for run in runs {
        sqlx::query(
            "INSERT INTO shadow_runs (id, tenant_id, installation_id, source, subject_id, primary_version, \
             candidate_version, input, primary_output, primary_error, candidate_output, candidate_error, \
             agreed, primary_us, candidate_us, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(&run.installation_id)
        .bind(run.source.as_str())
        .bind(&run.subject_id)
        .bind(&run.primary_version)
        .bind(&run.candidate_version)
        .bind(&run.input)
        .bind(run.primary_output.as_ref().map(ToString::to_string))
        .bind(&run.primary_error)
        .bind(run.candidate_output.as_ref().map(ToString::to_string))
        .bind(&run.candidate_error)
        .bind(i64::from(run.agreed))
        .bind(run.primary_us)
        .bind(run.candidate_us)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the installation's comparisons from `source` (a new replay replaces the last).
pub async fn clear(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    source: Source,
) -> Result<(), StoreError> {
    sqlx::query(
        "DELETE FROM shadow_runs WHERE tenant_id = $1 AND installation_id = $2 AND source = $3",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(source.as_str())
    .execute(db.writer())
    .await?;
    Ok(())
}

/// Deletes the tenant's comparisons older than `before` (epoch ms): they carry inputs.
pub async fn purge(db: &Db, tenant_id: &str, before: i64) -> Result<u64, StoreError> {
    Ok(
        sqlx::query("DELETE FROM shadow_runs WHERE tenant_id = $1 AND created_at < $2")
            .bind(tenant_id)
            .bind(before)
            .execute(db.writer())
            .await?
            .rows_affected(),
    )
}

/// The candidate version of the installation's newest comparison from `source`.
pub async fn newest_candidate(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    source: Source,
) -> Result<Option<String>, StoreError> {
    let row: Option<(String,)> = sqlx::query_as(
        "SELECT candidate_version FROM shadow_runs WHERE tenant_id = $1 AND installation_id = $2 \
         AND source = $3 ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(source.as_str())
    .fetch_optional(db.reader())
    .await?;
    Ok(row.map(|(version,)| version))
}

/// The installation's comparisons of `candidate_version` from `source`, newest first, at
/// most `limit`.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    installation_id: &str,
    source: Source,
    candidate_version: &str,
    limit: i64,
) -> Result<Vec<Run>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT subject_id, primary_version, candidate_version, input, primary_output, primary_error, \
         candidate_output, candidate_error, agreed, primary_us, candidate_us, created_at \
         FROM shadow_runs WHERE tenant_id = $1 AND installation_id = $2 AND source = $3 \
         AND candidate_version = $4 ORDER BY created_at DESC, id DESC LIMIT $5",
    )
    .bind(tenant_id)
    .bind(installation_id)
    .bind(source.as_str())
    .bind(candidate_version)
    .bind(limit)
    .fetch_all(db.reader())
    .await?)
}
