//! Surveys: one per resolution of a ticket, found by the sha256 of its token, answered once.

use sqlx::AssertSqlSafe;

use super::{StoreError, Table};
use crate::db::{Db, Tx};
use crate::domain::ids::rfc3339;
use crate::domain::records::{NotifyChannel, Survey};

/// A survey to store; times in unix ms.
#[derive(Clone, Debug)]
pub struct NewSurvey<'a> {
    pub id: &'a str,
    pub ticket_id: &'a str,
    pub customer_id: Option<&'a str>,
    pub token_hash: &'a str,
    pub sent_via: Option<NotifyChannel>,
    pub issued_ms: i64,
    pub expires_ms: i64,
}

/// A survey found by its token, with the tenant it belongs to.
#[derive(Clone, Debug)]
pub struct TokenSurvey {
    pub tenant_id: String,
    pub survey: Survey,
    /// When it expires, in unix ms.
    pub expires_ms: i64,
}

/// An answer to store.
#[derive(Clone, Debug)]
pub struct Answer<'a> {
    pub csat: i64,
    pub nps: i64,
    pub comment: Option<&'a str>,
}

struct SurveyRow {
    id: String,
    tenant_id: String,
    ticket_id: String,
    customer_id: Option<String>,
    sent_via: Option<String>,
    issued_at: i64,
    expires_at: i64,
    answered_at: Option<i64>,
    csat: Option<i64>,
    nps: Option<i64>,
    comment: Option<String>,
}

crate::store::from_row!(SurveyRow => Survey, from "surveys" {
    id,
    tenant_id,
    ticket_id,
    customer_id,
    sent_via,
    issued_at,
    expires_at,
    answered_at,
    csat,
    nps,
    comment
});

impl SurveyRow {
    fn into_domain(self) -> Result<Survey, StoreError> {
        let sent_via = self
            .sent_via
            .map(|text| {
                NotifyChannel::parse(&text)
                    .ok_or_else(|| StoreError::Corrupt(format!("surveys.sent_via = `{text}`")))
            })
            .transpose()?;
        Ok(Survey {
            id: self.id,
            ticket_id: self.ticket_id,
            customer_id: self.customer_id,
            sent_via,
            issued_at: rfc3339(self.issued_at),
            expires_at: rfc3339(self.expires_at),
            answered_at: self.answered_at.map(rfc3339),
            csat: self.csat,
            nps: self.nps,
            comment: self.comment,
        })
    }
}

/// Stores a new survey inside `tx`. Unanswered surveys issued earlier for the same ticket
/// expire now: the newest resolution is the one the customer rates.
pub async fn issue(tx: &mut Tx, tenant_id: &str, new: &NewSurvey<'_>) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE surveys SET expires_at = $1 WHERE tenant_id = $2 AND ticket_id = $3 \
         AND answered_at IS NULL AND expires_at > $1",
    )
    .bind(new.issued_ms)
    .bind(tenant_id)
    .bind(new.ticket_id)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "INSERT INTO surveys (id, tenant_id, ticket_id, customer_id, token_hash, sent_via, issued_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new.id)
    .bind(tenant_id)
    .bind(new.ticket_id)
    .bind(new.customer_id)
    .bind(new.token_hash)
    .bind(new.sent_via.map(NotifyChannel::as_str))
    .bind(new.issued_ms)
    .bind(new.expires_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The survey whose token hashes to `token_hash`, in whichever tenant it is: the token
/// alone is the credential of the unauthenticated survey endpoints.
pub async fn by_token_hash(db: &Db, token_hash: &str) -> Result<Option<TokenSurvey>, StoreError> {
    let row: Option<SurveyRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE token_hash = $1",
        SurveyRow::SELECT
    )))
    .bind(token_hash)
    .fetch_optional(db.reader())
    .await?;
    row.map(|row| {
        let (tenant_id, expires_ms) = (row.tenant_id.clone(), row.expires_at);
        Ok(TokenSurvey {
            tenant_id,
            expires_ms,
            survey: row.into_domain()?,
        })
    })
    .transpose()
}

/// Records the answer inside `tx`, provided the survey is still unanswered and unexpired
/// at `now_ms`; returns false, writing nothing, when it is not.
pub async fn answer(
    tx: &mut Tx,
    tenant_id: &str,
    id: &str,
    answer: &Answer<'_>,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE surveys SET csat = $1, nps = $2, comment = $3, answered_at = $4 \
         WHERE tenant_id = $5 AND id = $6 AND answered_at IS NULL AND expires_at > $4",
    )
    .bind(answer.csat)
    .bind(answer.nps)
    .bind(answer.comment)
    .bind(now_ms)
    .bind(tenant_id)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A ticket's surveys, oldest first.
pub async fn for_ticket(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<Survey>, StoreError> {
    super::select_all::<SurveyRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY id",
        &[tenant_id, ticket_id],
    )
    .await
}
