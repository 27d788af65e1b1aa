//! Tenant-scoped persistence. Every function takes the caller's tenant id and every
//! query filters on it; a row of another tenant is indistinguishable from a missing one.

pub mod audit;
pub mod campaigns;
pub mod customers;
pub mod installations;
pub mod interactions;
pub mod kpis;
pub mod kv;
pub mod org;
pub mod outbox;
pub mod plugins;
pub mod sla;
pub mod surveys;
pub mod tenants;
pub mod tickets;
pub mod vehicles;
pub mod webhook_secrets;

use serde::Serialize;

/// Errors at the storage boundary.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
}

impl StoreError {
    /// Maps a unique-constraint violation to `Conflict(message)`, other errors through.
    pub fn conflict_on_unique(err: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(message())
            }
            _ => StoreError::Db(err),
        }
    }
}

/// Parses a JSON column.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(format!("column {column}: {err}")))
}

/// A page request: newest first, after `cursor` (the last id of the previous page).
#[derive(Clone, Debug)]
pub struct Page {
    pub limit: i64,
    pub cursor: Option<String>,
}

/// One page of results.
#[derive(Clone, Debug, Serialize)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> &str) -> Paged<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| id(row).to_owned())
        } else {
            None
        };
        Paged {
            items: rows,
            next_cursor,
        }
    }

    /// Converts every item.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Paged<U>, E> {
        Ok(Paged {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}

/// Appends the cursor condition, order and limit shared by every list query.
pub(crate) fn finish_page(sql: &mut crate::db::SqlBuilder, page: &Page) {
    use crate::db::Arg;
    if let Some(cursor) = &page.cursor {
        sql.push(" AND id < ").bind(Arg::Text(cursor.clone()));
    }
    sql.push(" ORDER BY id DESC LIMIT ")
        .bind(Arg::Int(page.limit + 1));
}
