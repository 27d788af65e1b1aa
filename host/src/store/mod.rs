//! Tenant-scoped persistence. Every function takes the caller's tenant id and every
//! query filters on it; a row of another tenant is indistinguishable from a missing one.

pub mod audit;
pub mod campaigns;
pub mod customers;
pub mod dashboards;
pub mod dealer_catalogue;
pub mod field_definitions;
pub mod idempotency;
pub mod installations;
pub mod interactions;
pub mod knowledge_base;
pub mod kpis;
pub mod kv;
pub mod org;
pub mod outbox;
pub mod plugin_clock;
pub mod plugin_policies;
pub mod plugins;
pub mod recorded_inputs;
pub mod service_records;
pub mod settings;
pub mod shadow_runs;
pub mod sla;
pub mod surveys;
pub mod tenants;
pub mod tickets;
pub mod vehicles;
pub mod webhook_secrets;
pub mod workflow_events;

use crate::domain::page::Page;

/// Reads a row struct from a query's row: each listed field from the column of its name,
/// each field after `flatten` from the same row by its own `FromRow`. It is what
/// `#[derive(sqlx::FromRow)]` writes; by hand because sqlx's derive is a proc macro that
/// links both database drivers, SQLite's C build included, a second time at build time.
/// A field left out or misspelt is a compile error: the struct literal names them all.
///
/// `from_row!(Row => Record from "table" { … })` also makes `Row` a [`Table`]: its
/// `SELECT` names exactly the listed fields, and its `into_domain` gives the record.
macro_rules! from_row {
    ($row:ident => $record:ty, from $table:literal { $first:ident $(, $field:ident)* $(,)? }) => {
        $crate::store::from_row!($row { $first $(, $field)* });

        impl $crate::store::Table for $row {
            type Record = $record;
            const SELECT: &'static str = concat!(
                "SELECT ", stringify!($first) $(, ", ", stringify!($field))*, " FROM ", $table
            );

            fn id(&self) -> &str {
                &self.id
            }

            fn into_record(self) -> Result<$record, $crate::store::StoreError> {
                self.into_domain()
            }
        }
    };
    ($row:ident { $($field:ident),* $(,)? $(; flatten $($nested:ident),+ $(,)?)? }) => {
        impl<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> for $row {
            fn from_row(row: &'r sqlx::any::AnyRow) -> Result<Self, sqlx::Error> {
                use sqlx::Row as _;
                Ok(Self {
                    $($field: row.try_get(stringify!($field))?,)*
                    $($($nested: sqlx::FromRow::from_row(row)?,)+)?
                })
            }
        }
    };
}
pub(crate) use from_row;

/// A row struct of one table (see [`from_row!`]): the columns it reads and the record it
/// becomes, so that the reads every table has are written once, below.
pub(crate) trait Table: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow> + Send + Unpin {
    type Record;
    /// `SELECT <the row's columns> FROM <its table>`, for a condition to follow.
    const SELECT: &'static str;
    /// The row's id: the cursor of a page.
    fn id(&self) -> &str;
    fn into_record(self) -> Result<Self::Record, StoreError>;
}

/// `T::SELECT` and `condition`, its placeholders bound to `binds` in order.
fn selected<'q, T: Table>(
    condition: &str,
    binds: &[&'q str],
) -> sqlx::query::QueryAs<'q, sqlx::Any, T, sqlx::any::AnyArguments> {
    let sql = format!("{} {condition}", T::SELECT);
    let mut query = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
    for value in binds {
        query = query.bind(*value);
    }
    query
}

/// The row of `T`'s table that `condition` finds (`WHERE tenant_id = $1 AND id = $2`),
/// with its placeholders bound to `binds` in order.
pub(crate) async fn select_optional<'c, T: Table>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    condition: &str,
    binds: &[&str],
) -> Result<Option<T::Record>, StoreError> {
    selected::<T>(condition, binds)
        .fetch_optional(executor)
        .await?
        .map(T::into_record)
        .transpose()
}

/// Every row of `T`'s table that `condition` finds, as [`select_optional`] binds it.
pub(crate) async fn select_all<'c, T: Table>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    condition: &str,
    binds: &[&str],
) -> Result<Vec<T::Record>, StoreError> {
    selected::<T>(condition, binds)
        .fetch_all(executor)
        .await?
        .into_iter()
        .map(T::into_record)
        .collect()
}

/// Runs `sql` with its placeholders bound to `binds` in order; how many rows it changed.
pub(crate) async fn execute<'c>(
    executor: impl sqlx::Executor<'c, Database = sqlx::Any>,
    sql: &'static str,
    binds: &[&str],
) -> Result<u64, StoreError> {
    let mut query = sqlx::query(sql);
    for value in binds {
        query = query.bind(*value);
    }
    Ok(query.execute(executor).await?.rows_affected())
}

/// The tenant's row of `T` with this id.
pub(crate) async fn by_id<T: Table>(
    db: &crate::db::Db,
    tenant_id: &str,
    id: &str,
) -> Result<Option<T::Record>, StoreError> {
    select_optional::<T>(
        db.reader(),
        "WHERE tenant_id = $1 AND id = $2",
        &[tenant_id, id],
    )
    .await
}

/// `T::SELECT` of the tenant's rows, for a list query to add its filters to.
pub(crate) fn tenant_rows<T: Table>(tenant_id: &str) -> crate::db::SqlBuilder {
    let mut sql = crate::db::SqlBuilder::new(&format!("{} WHERE tenant_id = ", T::SELECT));
    sql.bind(crate::db::Arg::Text(tenant_id.to_owned()));
    sql
}

/// A page of `T`, newest first: `sql` is `T::SELECT` with its conditions, to which the
/// cursor, order and limit are added here.
pub(crate) async fn select_page<T: Table>(
    db: &crate::db::Db,
    mut sql: crate::db::SqlBuilder,
    page: &Page,
) -> Result<crate::domain::page::Paged<T::Record>, StoreError> {
    finish_page(&mut sql, page);
    let rows: Vec<T> = sql.build_as().fetch_all(db.reader()).await?;
    crate::domain::page::Paged::from_rows(rows, page.limit, T::id).try_map(T::into_record)
}

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

/// `(value, id)` of the tenant's rows in `table` whose `column` is one of `values`, for
/// bulk lookups by natural key. `table` and `column` are Axle's own names, never input.
pub(crate) async fn ids_by(
    conn: &mut sqlx::AnyConnection,
    table: &str,
    column: &str,
    tenant_id: &str,
    values: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    if values.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Placeholders::for_conn(conn);
    let sql = format!(
        "SELECT {column}, id FROM {table} WHERE tenant_id = {} AND {column} IN ({})",
        params.one(),
        params.list(values.len())
    );
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant_id);
    for value in values {
        query = query.bind(*value);
    }
    Ok(query.fetch_all(conn).await?)
}

/// Custom fields as their JSON column holds them.
pub(crate) fn fields_json(fields: &crate::domain::records::Fields) -> String {
    serde_json::to_string(fields).unwrap_or_else(|_| "{}".to_owned())
}

/// A value as the text of a JSON column.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// Parses a JSON column.
pub(crate) fn json_column<T: serde::de::DeserializeOwned>(
    column: &str,
    text: &str,
) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|err| StoreError::Corrupt(format!("column {column}: {err}")))
}

/// Appends the cursor condition, order and limit shared by every list query.
pub(crate) fn finish_page(sql: &mut crate::db::SqlBuilder, page: &Page) {
    finish_page_by(sql, page, "id");
}

/// `finish_page` for queries that join tables and so name the id column (`teams.id`).
pub(crate) fn finish_page_by(sql: &mut crate::db::SqlBuilder, page: &Page, id_column: &str) {
    use crate::db::Arg;
    if let Some(cursor) = &page.cursor {
        sql.push(" AND ")
            .push(id_column)
            .push(" < ")
            .bind(Arg::Text(cursor.clone()));
    }
    sql.push(" ORDER BY ")
        .push(id_column)
        .push(" DESC LIMIT ")
        .bind(Arg::Int(page.limit + 1));
}

/// Bind placeholders for statements with many binds (batch lookups and multi-row inserts),
/// numbered in bind order: `$1, $2, …` on PostgreSQL, bare `?` on SQLite. sqlx resolves
/// each `$N` on SQLite by name, and SQLite finds a name by scanning them all, so binding a
/// statement with thousands of `$N` costs quadratic time; `?` has no name to look up.
pub(crate) struct Placeholders {
    sqlite: bool,
    next: usize,
}

impl Placeholders {
    /// Placeholders for a statement to run on `conn`.
    pub(crate) fn for_conn(conn: &sqlx::AnyConnection) -> Placeholders {
        Placeholders {
            sqlite: conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME,
            next: 1,
        }
    }

    /// The next placeholder.
    pub(crate) fn one(&mut self) -> String {
        let n = self.next;
        self.next += 1;
        if self.sqlite {
            "?".to_owned()
        } else {
            format!("${n}")
        }
    }

    /// `count` placeholders separated by commas, for an `IN (…)` list; `NULL` (which
    /// matches nothing) when `count` is 0, since `IN ()` is not SQL.
    pub(crate) fn list(&mut self, count: usize) -> String {
        if count == 0 {
            return "NULL".to_owned();
        }
        (0..count)
            .map(|_| self.one())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `(…), (…)`: a multi-row `VALUES` of `rows` rows with `columns` values each.
    pub(crate) fn rows(&mut self, rows: usize, columns: usize) -> String {
        (0..rows)
            .map(|_| format!("({})", self.list(columns)))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Longest `last_error` kept, in bytes.
const MAX_ERROR_BYTES: usize = 1000;

/// `error` cut to [`MAX_ERROR_BYTES`] on a character boundary, for a `last_error` column.
pub(crate) fn truncated(error: &str) -> String {
    if error.len() <= MAX_ERROR_BYTES {
        return error.to_owned();
    }
    let mut end = MAX_ERROR_BYTES;
    while !error.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &error[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_placeholders_number_on_across_rows() {
        let mut params = Placeholders {
            sqlite: false,
            next: 1,
        };
        assert_eq!(params.one(), "$1");
        assert_eq!(params.rows(2, 2), "($2, $3), ($4, $5)");
        assert_eq!(params.list(0), "NULL");
    }

    #[test]
    fn sqlite_placeholders_are_positional() {
        let mut params = Placeholders {
            sqlite: true,
            next: 1,
        };
        assert_eq!(params.one(), "?");
        assert_eq!(params.list(3), "?, ?, ?");
    }
}
