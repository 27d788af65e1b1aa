//! Tenant-scoped persistence. Every function takes the caller's tenant id and every
//! query filters on it; a row of another tenant is indistinguishable from a missing one.

pub mod audit;
pub mod customers;
pub mod installations;
pub mod kv;
pub mod outbox;
pub mod plugins;
pub mod service_records;
pub mod tenants;
pub mod tickets;
pub mod vehicles;

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

/// `$first, $first+1, …`: `count` placeholders for an `IN (…)` list.
pub(crate) fn list_placeholders(first: usize, count: usize) -> String {
    let mut sql = String::with_capacity(count * 6);
    for n in first..first + count {
        if n > first {
            sql.push_str(", ");
        }
        sql.push('$');
        sql.push_str(&n.to_string());
    }
    sql
}

/// `($first, …), (…)`: placeholders for a multi-row `VALUES` of `rows` rows with
/// `columns` values each.
pub(crate) fn values_placeholders(first: usize, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 7);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        sql.push_str(&list_placeholders(first + row * columns, columns));
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_on_across_rows() {
        assert_eq!(list_placeholders(2, 3), "$2, $3, $4");
        assert_eq!(values_placeholders(1, 2, 2), "($1, $2), ($3, $4)");
    }
}
