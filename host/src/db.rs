//! The database handle: one `sqlx::Any` pool over embedded SQLite or PostgreSQL,
//! migrations, and the small amount of SQL that differs between the two.

use std::path::Path;
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, AssertSqlSafe, Executor};

/// Which engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A cloneable handle to the database.
#[derive(Clone, Debug)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
}

/// A write transaction.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Errors while opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
}

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

impl Db {
    /// Connects to `url` and runs pending migrations.
    pub async fn connect(url: &str) -> Result<Self, DbError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_owned()));
        };
        let options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Sqlite => options
                .max_connections(8)
                .after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run while one writer commits; busy_timeout makes a
                        // second writer wait instead of failing.
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA busy_timeout = 10000; PRAGMA foreign_keys = ON;",
                        )
                        .await?;
                        Ok(())
                    })
                })
                .connect(url)
                .await
                .map_err(DbError::Connect)?,
            Backend::Postgres => options
                .max_connections(16)
                .connect(url)
                .await
                .map_err(DbError::Connect)?,
        };
        MIGRATOR.run(&pool).await?;
        Ok(Db { pool, backend })
    }

    /// Opens (creating if needed) the embedded SQLite database under `data_dir`.
    pub async fn open_embedded(data_dir: &Path) -> Result<Self, DbError> {
        std::fs::create_dir_all(data_dir).map_err(|source| DbError::DataDir {
            path: data_dir.display().to_string(),
            source,
        })?;
        let url = format!("sqlite://{}?mode=rwc", data_dir.join("axle.db").display());
        Self::connect(&url).await
    }

    /// The pool, for queries that need no transaction.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that will write. On SQLite it takes the write lock up front,
    /// so a transaction that reads first cannot fail with SQLITE_BUSY when it later writes.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Closes the pool, waiting for connections to be returned.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A bind value for queries whose SQL is assembled at run time (list filters).
#[derive(Clone, Debug)]
pub enum Arg {
    Text(String),
    Int(i64),
}

/// SQL assembled piece by piece with `$N` placeholders, which both SQLite and PostgreSQL
/// accept (sqlx's `QueryBuilder` for `Any` writes `?`, which PostgreSQL rejects).
#[derive(Debug, Default)]
pub struct SqlBuilder {
    sql: String,
    args: Vec<Arg>,
}

impl SqlBuilder {
    /// Starts with `sql`.
    pub fn new(sql: &str) -> Self {
        SqlBuilder {
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    /// Starts with `sql` that already holds the placeholders `$1..$n` for `args`.
    pub fn numbered(sql: &str, args: Vec<Arg>) -> Self {
        SqlBuilder {
            sql: sql.to_owned(),
            args,
        }
    }

    /// Puts `prefix` before and `suffix` after the SQL so far (to use it as a subquery),
    /// keeping its arguments.
    pub fn wrap(mut self, prefix: &str, suffix: &str) -> Self {
        self.sql = format!("{prefix}{}{suffix}", self.sql);
        self
    }

    /// Appends raw SQL.
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// Appends a placeholder bound to `arg`.
    pub fn bind(&mut self, arg: Arg) -> &mut Self {
        self.args.push(arg);
        self.sql.push_str(&format!("${}", self.args.len()));
        self
    }

    /// Appends `AND <column> = <arg>` when `value` is set.
    pub fn and_eq(&mut self, column: &str, value: Option<Arg>) -> &mut Self {
        if let Some(value) = value {
            self.push(" AND ").push(column).push(" = ").bind(value);
        }
        self
    }

    /// Appends `AND <column> LIKE '<prefix>%'` when `prefix` is set: a site path prefix,
    /// which limits a query to one subtree of the org tree.
    pub fn and_within(&mut self, column: &str, prefix: Option<&str>) -> &mut Self {
        if let Some(prefix) = prefix {
            self.push(" AND ")
                .push(column)
                .push(" LIKE ")
                .bind(Arg::Text(format!("{prefix}%")));
        }
        self
    }

    /// The query, with its arguments bound in order.
    pub fn build(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments> {
        let mut query = sqlx::query(AssertSqlSafe(self.sql.as_str()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(int) => query.bind(*int),
            };
        }
        query
    }

    /// The query mapping rows to `T`, with its arguments bound in order.
    pub fn build_as<T>(&self) -> sqlx::query::QueryAs<'_, sqlx::Any, T, sqlx::any::AnyArguments>
    where
        T: for<'r> sqlx::FromRow<'r, sqlx::any::AnyRow>,
    {
        let mut query = sqlx::query_as(AssertSqlSafe(self.sql.as_str()));
        for arg in &self.args {
            query = match arg {
                Arg::Text(text) => query.bind(text.clone()),
                Arg::Int(int) => query.bind(*int),
            };
        }
        query
    }
}
