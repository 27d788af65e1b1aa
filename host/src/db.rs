//! The database handle over embedded SQLite or PostgreSQL: migrations, the split between
//! reads and writes, and the small amount of SQL that differs between the two engines.
//!
//! SQLite lets one connection write at a time. Several pooled connections that all write
//! take turns through SQLite's busy handler, which sleeps and polls: under load a writer
//! can wait its whole busy timeout and fail with "database is locked", and a task that
//! holds the write lock while it waits for a second pooled connection stalls every other
//! writer with it. So on SQLite every write goes through one writer connection, queued
//! fairly by the pool, and reads use a pool of read-only connections, which WAL never
//! blocks. Any write sent to the read pool fails at once ("attempt to write a readonly
//! database"). On PostgreSQL both sides are the same pool.
//!
//! A task that holds a transaction never waits on another connection: on SQLite a write
//! would wait on itself, and on PostgreSQL enough such tasks hold every pooled
//! connection while each waits for one more. So asking for the writer while holding a
//! transaction on SQLite panics with the place to fix, and any other use of a pool while
//! holding one panics in debug builds (the test suite) and is logged in release builds.

use std::ops::{Deref, DerefMut};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row, SqlSafeStr};

/// The bytes the process's SQLite has allocated (caches, statements, sorts), whichever
/// database is open; 0 when SQLite was never used.
pub fn sqlite_heap_bytes() -> i64 {
    // SAFETY: a read of SQLite's global counter; safe from any thread, before or after
    // sqlite3_initialize.
    unsafe { libsqlite3_sys::sqlite3_memory_used() }
}

/// Which engine is behind the pool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A cloneable handle to the database.
#[derive(Clone, Debug)]
pub struct Db {
    reader: AnyPool,
    writer: AnyPool,
    backend: Backend,
    /// The tasks holding an open transaction.
    holders: Holders,
}

/// A write transaction. It dereferences to the connection, so `&mut **tx` (or `&mut tx`
/// where a connection is expected) runs a statement inside it.
#[derive(Debug)]
pub struct Tx {
    inner: sqlx::Transaction<'static, sqlx::Any>,
    /// Unregisters the holding task when the transaction ends, however it ends.
    _hold: Option<TxHold>,
}

impl Tx {
    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.inner.commit().await
    }

    /// Rolls the transaction back.
    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        self.inner.rollback().await
    }
}

impl Deref for Tx {
    type Target = AnyConnection;

    fn deref(&self) -> &AnyConnection {
        &self.inner
    }
}

impl DerefMut for Tx {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.inner
    }
}

/// The tasks that hold an open transaction, so a task can be stopped from also waiting on
/// another connection.
#[derive(Clone, Debug, Default)]
struct Holders(Arc<Mutex<Vec<tokio::task::Id>>>);

impl Holders {
    fn list(&self) -> std::sync::MutexGuard<'_, Vec<tokio::task::Id>> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Registers the current task, when there is one, until the returned hold drops.
    fn hold(&self) -> Option<TxHold> {
        let task = tokio::task::try_id()?;
        self.list().push(task);
        Some(TxHold {
            holders: self.clone(),
            task,
        })
    }

    fn current_task_holds(&self) -> bool {
        tokio::task::try_id().is_some_and(|task| self.list().contains(&task))
    }
}

#[derive(Debug)]
struct TxHold {
    holders: Holders,
    task: tokio::task::Id,
}

impl Drop for TxHold {
    fn drop(&mut self) {
        let mut list = self.holders.list();
        if let Some(at) = list.iter().position(|task| *task == self.task) {
            list.swap_remove(at);
        }
    }
}

/// Errors while opening or migrating the database.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported DATABASE_URL `{0}`: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error(
        "in-memory SQLite (`{0}`) is not supported: reads and writes use separate connections, \
         which would each see their own empty database; use sqlite://PATH"
    )]
    InMemorySqlite(String),
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

/// The schema's migrations as `(version, description, SQL)`, embedded in the binary.
/// Listed here rather than by `sqlx::migrate!`, whose proc macro links both database
/// drivers (SQLite's C build too) a second time at build time; the test
/// `the_embedded_migrations_are_the_directory_as_sqlx_reads_it` holds this list to
/// `host/migrations/`, checksums included, so a database migrated by either agrees.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "foundation",
        include_str!("../migrations/0001_foundation.sql"),
    ),
    (2, "org", include_str!("../migrations/0002_org.sql")),
    (
        3,
        "outbox delivery",
        include_str!("../migrations/0003_outbox_delivery.sql"),
    ),
    (4, "import", include_str!("../migrations/0004_import.sql")),
    (
        5,
        "interactions surveys",
        include_str!("../migrations/0005_interactions_surveys.sql"),
    ),
    (6, "sla", include_str!("../migrations/0006_sla.sql")),
    (7, "kpis", include_str!("../migrations/0007_kpis.sql")),
    (
        8,
        "campaigns",
        include_str!("../migrations/0008_campaigns.sql"),
    ),
    (9, "intake", include_str!("../migrations/0009_intake.sql")),
    (
        10,
        "knowledge base",
        include_str!("../migrations/0010_knowledge_base.sql"),
    ),
    (
        11,
        "custom fields",
        include_str!("../migrations/0011_custom_fields.sql"),
    ),
    (
        12,
        "dashboards",
        include_str!("../migrations/0012_dashboards.sql"),
    ),
    (
        13,
        "plugin lifecycle",
        include_str!("../migrations/0013_plugin_lifecycle.sql"),
    ),
    (
        15,
        "shadow replay",
        include_str!("../migrations/0015_shadow_replay.sql"),
    ),
    (
        16,
        "plugin policy",
        include_str!("../migrations/0016_plugin_policy.sql"),
    ),
    (
        17,
        "customer phone lookup",
        include_str!("../migrations/0017_customer_phone_lookup.sql"),
    ),
    (
        18,
        "outbox link token",
        include_str!("../migrations/0018_outbox_link_token.sql"),
    ),
    (
        19,
        "idempotency keys",
        include_str!("../migrations/0019_idempotency_keys.sql"),
    ),
    (
        20,
        "phone country",
        include_str!("../migrations/0020_phone_country.sql"),
    ),
    (
        21,
        "national phone index",
        include_str!("../migrations/0021_national_phone_index.sql"),
    ),
    (
        22,
        "workflow events",
        include_str!("../migrations/0022_workflow_events.sql"),
    ),
    (
        23,
        "installation scopes",
        include_str!("../migrations/0023_installation_scopes.sql"),
    ),
];

/// The migrator for [`MIGRATIONS`], built once.
fn migrator() -> &'static Migrator {
    static MIGRATOR: std::sync::OnceLock<Migrator> = std::sync::OnceLock::new();
    MIGRATOR.get_or_init(|| {
        Migrator::with_migrations(
            MIGRATIONS
                .iter()
                .map(|&(version, description, sql)| {
                    Migration::new(
                        version,
                        description.into(),
                        MigrationType::Simple,
                        sql.into_sql_str(),
                        sql.starts_with("-- no-transaction"),
                    )
                })
                .collect(),
        )
    })
}

/// What the migrations hold, as hex: two databases migrated under the same fingerprint have
/// the same schema. Test harnesses key a migrated template database by it.
pub fn schema_fingerprint() -> String {
    use sha2::Digest;
    let mut hash = sha2::Sha256::new();
    for migration in migrator().iter() {
        hash.update(migration.version.to_le_bytes());
        hash.update(&migration.checksum);
    }
    hex::encode(hash.finalize())
}

/// How long a request waits for a pooled connection before it fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// SQLite read connections. Reads are short; more connections than cores only adds threads.
const SQLITE_READERS: u32 = 8;

/// The memory all SQLite connections of the process may hold together (the limit is
/// process-wide) before SQLite reuses cached pages rather than allocating more. Each
/// connection's own cache (2 MiB by default) otherwise fills as the data outgrows it, so a
/// node's footprint would follow its data. The soak at 24 MiB saw SQLite's share climb
/// from 12 to 24 MiB over six minutes while the rest of the heap held still: the cap, not
/// the load, sets what SQLite keeps, and 12 MiB is what the loaded node held at first.
/// Pages it drops are read again from the kernel's page cache.
const SQLITE_HEAP_LIMIT: u64 = 12 * 1024 * 1024;

/// How long SQLite's writer waits for another process's lock (`axle seed` beside a node).
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a WAL checkpoint waits for readers on the log, holding the writer meanwhile:
/// under reads that never pause (dashboards polled back to back) it keeps failing, and
/// then costs the writer at most this per tick.
const CHECKPOINT_WAIT: Duration = Duration::from_millis(50);

/// Frames (4 KiB pages) the WAL may hold before a blocked checkpoint holds reads back to
/// get through: about 32 MiB, a second or two of the heaviest write load measured.
const WAL_DRAIN_FRAMES: i64 = 8_192;

/// How long a checkpoint that holds reads back waits for the reads already running; new
/// reads queue meanwhile, so this is what it may add to a request's latency.
const READ_DRAIN_WAIT: Duration = Duration::from_secs(2);

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
        let options = || AnyPoolOptions::new().acquire_timeout(ACQUIRE_TIMEOUT);
        let (reader, writer) = match backend {
            Backend::Sqlite => {
                if url.contains(":memory:") || url.contains("mode=memory") {
                    return Err(DbError::InMemorySqlite(url.to_owned()));
                }
                // A file in this process cannot go away under an open connection, so the
                // ping before each acquire only adds a round trip to the connection's thread
                // (and, for the writer, holds it longer).
                let options = || options().test_before_acquire(false);
                let writer = options()
                    .max_connections(1)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            // WAL lets readers run while the writer commits. The busy timeout
                            // only matters for another process on the same file (`axle seed`
                            // beside a server): inside this one, writers queue for the pool.
                            conn.execute(AssertSqlSafe(format!(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA busy_timeout = {}; PRAGMA foreign_keys = ON; \
                                 PRAGMA soft_heap_limit = {SQLITE_HEAP_LIMIT};",
                                BUSY_TIMEOUT.as_millis()
                            )))
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                // Migrate before the readers open, so they find the database in WAL mode.
                migrator().run(&writer).await?;
                let reader = options()
                    .max_connections(SQLITE_READERS)
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("PRAGMA busy_timeout = 10000; PRAGMA query_only = ON;")
                                .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                (reader, writer)
            }
            Backend::Postgres => {
                let pool = options()
                    .max_connections(16)
                    .connect(url)
                    .await
                    .map_err(DbError::Connect)?;
                migrator().run(&pool).await?;
                (pool.clone(), pool)
            }
        };
        Ok(Db {
            reader,
            writer,
            backend,
            holders: Holders::default(),
        })
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

    /// The pool for reads outside a transaction. On SQLite its connections are read-only.
    /// Inside a transaction, read on the transaction.
    pub fn reader(&self) -> &AnyPool {
        self.refuse_second_connection("a read through the pool", false);
        &self.reader
    }

    /// The pool for a single write statement outside a transaction. On SQLite it is the one
    /// writer connection.
    ///
    /// # Panics
    /// On SQLite, when the calling task holds the writer in an open [`Tx`]: the statement
    /// would wait for the transaction that waits for it. Run it on the transaction instead.
    pub fn writer(&self) -> &AnyPool {
        self.refuse_second_connection("a write outside the open transaction", true);
        &self.writer
    }

    /// Which engine this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that will write. On SQLite it takes the one writer connection
    /// and the write lock up front, so a transaction that reads first cannot fail with
    /// SQLITE_BUSY when it later writes. Hold it only for database work: never across a
    /// plugin call, a network call or a wait on another connection's write.
    ///
    /// # Panics
    /// On SQLite, when the calling task already holds the writer in an open [`Tx`]; in
    /// debug builds, when it holds any open [`Tx`].
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        self.refuse_second_connection("a second transaction", true);
        let inner = match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.writer.begin().await?,
        };
        Ok(Tx {
            inner,
            _hold: self.holders.hold(),
        })
    }

    /// On SQLite, copies the write-ahead log into the database and empties it
    /// (`wal_checkpoint(TRUNCATE)`); `None` on PostgreSQL, which needs nothing of the kind.
    ///
    /// SQLite's own checkpoint after each commit copies frames but restarts the log only
    /// when no reader is on it, and under steady traffic one always is: the log then grows
    /// without end (5 GB in two minutes of the soak) and with it every connection's
    /// mapping of its index. A truncating checkpoint holds the writer while it waits for
    /// the readers already on the log (new ones read the database file), at most
    /// [`CHECKPOINT_WAIT`].
    pub async fn checkpoint_wal(&self) -> Result<Option<WalCheckpoint>, sqlx::Error> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let mut conn = self.writer().acquire().await?;
        // The writer's busy timeout (10 s) is how long the checkpoint would wait for
        // readers, holding every writer back: wait a moment instead, and try again on the
        // next tick when a reader is still on the log.
        conn.execute(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            CHECKPOINT_WAIT.as_millis()
        )))
        .await?;
        let done = sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await;
        conn.execute(AssertSqlSafe(format!(
            "PRAGMA busy_timeout = {}",
            BUSY_TIMEOUT.as_millis()
        )))
        .await?;
        let row = done?;
        Ok(Some(WalCheckpoint {
            blocked: row.try_get::<i64, _>(0)? != 0,
            frames: row.try_get(1)?,
            copied: row.try_get(2)?,
        }))
    }

    /// Like [`Db::checkpoint_wal`], but first takes every read connection from the pool,
    /// so no read of this process is on the log when it is emptied: new reads queue until
    /// the ones already running finish (at most [`READ_DRAIN_WAIT`], else nothing is done
    /// and `None` is returned) and the checkpoint is over.
    ///
    /// Reads that follow each other without a pause (dashboards polled back to back) keep
    /// some reader on an old snapshot at every moment, so the plain checkpoint never
    /// empties the log and it grows by the write rate. This is the way through, used only
    /// when the log has grown ([`run_wal_checkpoints`]). No deadlock: a task holding a
    /// transaction never waits for a read connection (see the module notes), so every
    /// read connection is given back without waiting for the writer; and were one to, the
    /// wait ends after [`READ_DRAIN_WAIT`].
    pub async fn checkpoint_wal_between_reads(&self) -> Result<Option<WalCheckpoint>, sqlx::Error> {
        if self.backend != Backend::Sqlite {
            return Ok(None);
        }
        let drained = tokio::time::timeout(READ_DRAIN_WAIT, async {
            let mut held = Vec::with_capacity(SQLITE_READERS as usize);
            for _ in 0..SQLITE_READERS {
                held.push(self.reader.acquire().await?);
            }
            Ok::<_, sqlx::Error>(held)
        })
        .await;
        let held = match drained {
            Ok(held) => held?,
            Err(_) => return Ok(None),
        };
        let done = self.checkpoint_wal().await;
        drop(held);
        done
    }

    /// Closes the pools, waiting for connections to be returned.
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }

    /// Stops a task that holds a transaction from waiting on another connection; `writes`
    /// when that connection would be SQLite's one writer, which the task already holds.
    fn refuse_second_connection(&self, what: &str, writes: bool) {
        if !self.holders.current_task_holds() {
            return;
        }
        let message = format!(
            "{what} was asked for while this task holds a transaction; run it on that \
             transaction, or before it begins or after it commits"
        );
        // On SQLite the writer would wait on itself for ever; elsewhere this task holds a
        // connection while it waits for another, which starves the pool under load.
        if self.backend == Backend::Sqlite && writes {
            panic!("{message}: SQLite has one writer");
        }
        if cfg!(debug_assertions) {
            panic!("{message}");
        }
        tracing::error!("{message}");
    }
}

/// What one [`Db::checkpoint_wal`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// A reader kept the log from being emptied; the next checkpoint tries again.
    pub blocked: bool,
    /// Frames left in the log: 0 once it was emptied.
    pub frames: i64,
    /// Frames copied into the database.
    pub copied: i64,
}

/// Checkpoints SQLite's write-ahead log every `interval` until the process ends, so it
/// stays small under any traffic (see [`Db::checkpoint_wal`]). Returns at once on
/// PostgreSQL.
pub async fn run_wal_checkpoints(db: Db, interval: Duration) {
    if db.backend() != Backend::Sqlite {
        return;
    }
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        let done = match db.checkpoint_wal().await {
            Ok(Some(done)) if done.blocked && done.frames > WAL_DRAIN_FRAMES => {
                db.checkpoint_wal_between_reads().await
            }
            done => done,
        };
        match done {
            Ok(Some(done)) if done.blocked => tracing::info!(
                frames = done.frames,
                "readers kept the WAL from being emptied; trying again on the next tick"
            ),
            Ok(None) => tracing::info!(
                "reads ran too long to empty the WAL between them; trying again on the next tick"
            ),
            Ok(Some(_)) => {}
            Err(err) => tracing::warn!(error = %err, "WAL checkpoint failed"),
        }
    }
}

/// `($1, …, $columns), ($columns+1, …), …` for a multi-row INSERT of `rows` rows, in
/// the `$N` form both engines accept.
pub fn values_placeholders(rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 1..=columns {
            if column > 1 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * columns + column));
        }
        sql.push(')');
    }
    sql
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

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_embedded_migrations_are_the_directory_as_sqlx_reads_it() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
        let read = Migrator::new(dir.as_path())
            .await
            .expect("read host/migrations");
        let shown = |m: &Migrator| -> Vec<_> {
            m.iter()
                .map(|migration| {
                    (
                        migration.version,
                        migration.description.to_string(),
                        migration.migration_type,
                        hex::encode(&migration.checksum),
                        migration.no_tx,
                    )
                })
                .collect()
        };
        assert_eq!(shown(migrator()), shown(&read));
    }

    async fn sqlite() -> (Db, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_embedded(dir.path()).await.expect("open SQLite");
        (db, dir)
    }

    /// The size of the database's write-ahead log in `dir`.
    fn wal_len(dir: &tempfile::TempDir) -> u64 {
        std::fs::metadata(dir.path().join("axle.db-wal"))
            .map(|m| m.len())
            .unwrap_or(0)
    }

    /// Writes 200 tenants, opens a read transaction that reads them, then writes a 201st:
    /// the returned reader sits on an old snapshot, holding the log's frames.
    async fn a_reader_behind_the_last_of_201_writes(
        db: &Db,
    ) -> sqlx::Transaction<'static, sqlx::Any> {
        for n in 0..200 {
            sqlx::query("INSERT INTO tenants (id, name, slug, created_at) VALUES ($1, $2, $1, 0)")
                .bind(format!("t{n}"))
                .bind(format!("Tenant {n}"))
                .execute(db.writer())
                .await
                .unwrap();
        }
        let mut reader = db.reader().begin().await.unwrap();
        sqlx::query("SELECT COUNT(*) FROM tenants")
            .fetch_one(&mut *reader)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO tenants (id, name, slug, created_at) VALUES ('late', 'Late', 'late', 0)",
        )
        .execute(db.writer())
        .await
        .unwrap();
        reader
    }

    /// The panic message of `work` run as a task (a request handler or a worker is one;
    /// the guard follows tasks), or `None` when it finished.
    async fn panic_of(
        work: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> Option<String> {
        let err = tokio::spawn(work).await.err()?;
        let payload = err.into_panic();
        payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
    }

    #[tokio::test]
    async fn a_write_outside_the_open_transaction_panics_instead_of_waiting_on_itself() {
        let (db, _dir) = sqlite().await;
        let message = panic_of(async move {
            let _tx = db.begin_write().await.expect("begin");
            let _ = db.writer();
        })
        .await
        .expect("a panic");
        assert!(message.contains("SQLite has one writer"), "{message}");
    }

    #[tokio::test]
    async fn a_second_transaction_in_the_same_task_panics_instead_of_waiting_on_itself() {
        let (db, _dir) = sqlite().await;
        let message = panic_of(async move {
            let _tx = db.begin_write().await.expect("begin");
            let _second = db.begin_write().await;
        })
        .await
        .expect("a panic");
        assert!(message.contains("a second transaction"), "{message}");
    }

    #[tokio::test]
    async fn a_read_through_the_pool_inside_a_transaction_is_refused_in_tests() {
        let (db, _dir) = sqlite().await;
        let message = panic_of(async move {
            let _tx = db.begin_write().await.expect("begin");
            let _ = db.reader();
        })
        .await
        .expect("a panic");
        assert!(message.contains("holds a transaction"), "{message}");
    }

    #[tokio::test]
    async fn the_same_task_uses_the_pools_again_once_its_transaction_ends() {
        let (db, _dir) = sqlite().await;
        let writer = db.clone();
        let finished = panic_of(async move {
            let tx = writer.begin_write().await.expect("begin");
            tx.rollback().await.expect("rollback");
            let _ = writer.writer();
            let _ = writer.reader();
        })
        .await;
        assert_eq!(finished, None);
    }

    #[tokio::test]
    async fn the_pools_are_free_again_once_the_transaction_ends() {
        let (db, _dir) = sqlite().await;
        let mut tx = db.begin_write().await.expect("begin");
        sqlx::query("CREATE TABLE notes (body TEXT)")
            .execute(&mut *tx)
            .await
            .expect("create");
        tx.commit().await.expect("commit");
        sqlx::query("INSERT INTO notes (body) VALUES ('刹车')")
            .execute(db.writer())
            .await
            .expect("a write through the writer");
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM notes")
            .fetch_one(db.reader())
            .await
            .expect("a read through the pool");
        assert_eq!(count, 1);
    }

    #[tokio::test]
    async fn the_read_pool_refuses_writes_on_sqlite() {
        let (db, _dir) = sqlite().await;
        let err = sqlx::query("DELETE FROM tenants")
            .execute(db.reader())
            .await
            .expect_err("read-only");
        assert!(err.to_string().contains("readonly"), "{err}");
    }

    #[tokio::test]
    async fn a_checkpoint_waits_briefly_for_a_reader_on_the_wal_and_empties_it_once_the_reader_is_done()
     {
        let (db, dir) = sqlite().await;
        let wal_len = || wal_len(&dir);
        let reader = a_reader_behind_the_last_of_201_writes(&db).await;
        assert!(wal_len() > 0, "the writes went to the WAL");
        let blocked = db
            .checkpoint_wal()
            .await
            .unwrap()
            .expect("SQLite checkpoints");
        assert!(blocked.blocked, "the reader keeps the log: {blocked:?}");
        assert!(wal_len() > 0);
        reader.rollback().await.unwrap();

        let done = db
            .checkpoint_wal()
            .await
            .unwrap()
            .expect("SQLite checkpoints");
        assert!(!done.blocked, "{done:?}");
        assert_eq!(done.frames, 0, "truncated: {done:?}");
        assert_eq!(wal_len(), 0);
        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tenants")
            .fetch_one(db.reader())
            .await
            .unwrap();
        assert_eq!(count, 201, "every write is in the database");
    }

    #[tokio::test]
    async fn a_checkpoint_between_reads_holds_new_reads_back_until_the_running_read_is_done_then_empties_the_wal()
     {
        let (db, dir) = sqlite().await;
        let wal_len = || wal_len(&dir);
        let running = a_reader_behind_the_last_of_201_writes(&db).await;

        let checkpoint = tokio::spawn({
            let db = db.clone();
            async move { db.checkpoint_wal_between_reads().await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!checkpoint.is_finished(), "it waits for the running read");
        let new_read = tokio::spawn({
            let db = db.clone();
            async move {
                sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM tenants")
                    .fetch_one(db.reader())
                    .await
            }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!new_read.is_finished(), "a read begun meanwhile waits");
        assert!(wal_len() > 0);

        running.rollback().await.unwrap();
        let done = checkpoint
            .await
            .unwrap()
            .unwrap()
            .expect("the reads were done within the wait");
        assert!(!done.blocked, "{done:?}");
        assert_eq!(done.frames, 0, "truncated: {done:?}");
        assert_eq!(wal_len(), 0);
        assert_eq!(
            new_read.await.unwrap().unwrap(),
            201,
            "the held-back read runs after, on every write"
        );
    }
}
