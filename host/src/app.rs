//! Opening an Axle node: settings, database, plugin runtime (warmed up with every
//! installed component), admin token, and the notifications delivery worker.

use std::path::PathBuf;
use std::sync::Arc;

use crate::db::Db;
use crate::delivery::{DeliverySettings, DeliveryWorker};
use crate::http::{AppState, Server};
use crate::runtime::Runtime;
use crate::runtime::limits::PlatformLimits;
use crate::service::Core;
use crate::service::registry::Registry;
use crate::service::reload::{self, ReloadState};
use crate::service::warm_up::WarmUp;

/// How often recorded routing inputs past their retention are purged.
const RETENTION_TICK: std::time::Duration = std::time::Duration::from_secs(300);

/// How often the SLA scheduler looks for due warnings and breaches.
const SLA_TICK: std::time::Duration = std::time::Duration::from_secs(15);

/// How often SQLite's write-ahead log is emptied. Under heavy writes it grows by tens of
/// MB a second; an empty checkpoint (nothing written since) costs a statement.
const WAL_CHECKPOINT_TICK: std::time::Duration = std::time::Duration::from_secs(2);

/// How often freed memory is handed back to the kernel: a walk of every allocator arena,
/// a millisecond or two for a node's heap.
const HEAP_TRIM_TICK: std::time::Duration = std::time::Duration::from_secs(10);

/// How often a node looks for workflow events whose holder died or failed. An event waits
/// for its lease (a minute) to run out first, so a shorter tick would only add queries.
const WORKFLOW_REDELIVERY_TICK: std::time::Duration = std::time::Duration::from_secs(10);

/// How a node is configured.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Where the embedded database and other files live.
    pub data_dir: PathBuf,
    /// `postgres://…` for PostgreSQL; embedded SQLite under `data_dir` when unset.
    pub database_url: Option<String>,
    /// The platform admin token; generated and printed when unset.
    pub admin_token: Option<String>,
    /// The token Prometheus scrapes `/metrics` with; `/metrics` refuses every scrape
    /// when unset. Never the admin token: a scraper's config is not where that belongs.
    pub metrics_token: Option<String>,
    /// The base URL customers reach this node at, for links such as survey invitations;
    /// [`DEFAULT_PUBLIC_URL`] when unset.
    pub public_url: Option<String>,
    /// Where compiled plugin components are kept across restarts (see
    /// [`Settings::default_compiled_dir`]); memory only when unset.
    pub compiled_dir: Option<PathBuf>,
    pub limits: PlatformLimits,
    /// How the notifications outbox is delivered.
    pub delivery: DeliverySettings,
    /// `redis://…` to fan plugin reloads out to other nodes at once; without it nodes
    /// learn of each other's plugin changes by polling the database.
    pub redis_url: Option<String>,
}

impl Settings {
    /// The compiled-component cache directory when none is configured.
    pub fn default_compiled_dir(data_dir: &std::path::Path) -> PathBuf {
        data_dir.join("compiled")
    }
}

/// The public URL when none is configured: the default listen address.
pub const DEFAULT_PUBLIC_URL: &str = "http://127.0.0.1:8080";

/// An opened node, ready to serve.
pub struct App {
    pub core: Core,
    pub admin_token: String,
    /// Whether the admin token was generated (and should be shown).
    pub admin_token_generated: bool,
    pub metrics_token: Option<String>,
    /// How this node hears of plugin changes on other nodes.
    pub reload_state: Arc<ReloadState>,
    /// What loading the installed components at startup did.
    pub warm_up: WarmUp,
    delivery: DeliverySettings,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error(transparent)]
    Delivery(#[from] crate::delivery::SetupError),
    #[error("REDIS_URL is not a usable Redis address: {0}")]
    Redis(String),
    #[error("cannot start the plugin runtime: {0}")]
    Runtime(String),
    #[error("cannot store the admin token in {path}: {source}")]
    AdminToken {
        path: String,
        source: std::io::Error,
    },
}

impl App {
    /// Opens the database (running migrations) and the plugin runtime.
    pub async fn open(settings: &Settings) -> Result<App, StartError> {
        settings.delivery.validate()?;
        let db = match &settings.database_url {
            Some(url) if !url.is_empty() => Db::connect(url).await?,
            _ => Db::open_embedded(&settings.data_dir).await?,
        };
        match crate::service::customers::phones_to_e164(&db).await {
            Ok(0) => {}
            Ok(changed) => tracing::info!(changed, "stored phone numbers rewritten in E.164"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot rewrite stored phone numbers in E.164")
            }
        }
        let mut runtime =
            Runtime::new(settings.limits).map_err(|err| StartError::Runtime(format!("{err:#}")))?;
        let registry = Arc::new(Registry::default());
        let reload_state = Arc::new(ReloadState::default());
        let reloads = reload::start(
            db.clone(),
            registry.clone(),
            settings.redis_url.as_deref(),
            reload_state.clone(),
        )
        .await
        .map_err(|err| StartError::Redis(err.to_string()))?;
        if let Some(dir) = &settings.compiled_dir {
            runtime = runtime.with_compiled_cache(dir).map_err(|err| {
                StartError::Runtime(format!(
                    "cannot use {} for compiled components: {err}",
                    dir.display()
                ))
            })?;
        }
        let (admin_token, admin_token_generated) = match &settings.admin_token {
            Some(token) if !token.is_empty() => (token.clone(), false),
            _ => admin_token_from_file(&settings.data_dir)?,
        };
        let mut app = App {
            core: Core {
                db,
                runtime: Arc::new(runtime),
                public_url: Arc::from(
                    settings
                        .public_url
                        .as_deref()
                        .filter(|url| !url.is_empty())
                        .unwrap_or(DEFAULT_PUBLIC_URL)
                        .trim_end_matches('/'),
                ),
                registry,
                reloads,
            },
            reload_state,
            admin_token,
            admin_token_generated,
            metrics_token: settings
                .metrics_token
                .clone()
                .filter(|t| !t.trim().is_empty()),
            warm_up: WarmUp::default(),
            delivery: settings.delivery.clone(),
        };
        // Before serving, so the first tickets after a restart do not wait for compiles.
        app.warm_up = crate::service::warm_up::warm_up(&app.core).await;
        Ok(app)
    }

    /// Starts serving HTTP on `listen`, with the SLA scheduler, the workflow events'
    /// redelivery and the purges of expired recorded inputs and idempotency keys in the
    /// background.
    pub async fn serve(&self, listen: &str) -> std::io::Result<Server> {
        tokio::spawn(crate::service::sla::run_scheduler(
            self.core.clone(),
            SLA_TICK,
        ));
        tokio::spawn(crate::heap::run_trim(HEAP_TRIM_TICK));
        tokio::spawn(crate::db::run_wal_checkpoints(
            self.core.db.clone(),
            WAL_CHECKPOINT_TICK,
        ));
        tokio::spawn(crate::service::workflow_queue::run_redelivery(
            self.core.clone(),
            WORKFLOW_REDELIVERY_TICK,
        ));
        tokio::spawn(crate::service::shadow::run_retention(
            self.core.clone(),
            RETENTION_TICK,
        ));
        tokio::spawn(crate::service::idempotency::run_purge(
            self.core.clone(),
            RETENTION_TICK,
        ));
        let state = AppState {
            core: self.core.clone(),
            admin_token: Arc::from(self.admin_token.as_str()),
            metrics_token: self.metrics_token.as_deref().map(Arc::from),
            limits: Arc::default(),
        };
        Server::start(state, listen).await
    }

    /// Starts delivering the notifications outbox in the background. Every serving node
    /// runs one worker; on PostgreSQL they share the work, each row going to one of them.
    pub fn start_delivery(&self) -> Result<DeliveryWorker, StartError> {
        Ok(DeliveryWorker::start(
            self.core.db.clone(),
            self.delivery.clone(),
        )?)
    }
}

/// Reads the generated admin token from the data dir, creating it on first start so a
/// restart keeps the same token.
fn admin_token_from_file(data_dir: &std::path::Path) -> Result<(String, bool), StartError> {
    let path = data_dir.join("admin-token");
    let err = |source| StartError::AdminToken {
        path: path.display().to_string(),
        source,
    };
    if let Ok(token) = std::fs::read_to_string(&path) {
        let token = token.trim().to_owned();
        if !token.is_empty() {
            // A file written before tokens were kept private is made private now.
            owner_only(&path).map_err(err)?;
            return Ok((token, false));
        }
    }
    std::fs::create_dir_all(data_dir).map_err(err)?;
    let mut bytes = [0u8; 24];
    rand::RngCore::fill_bytes(&mut rand::rng(), &mut bytes);
    let token = format!("axle_admin_{}", hex::encode(bytes));
    write_owner_only(&path, &token).map_err(err)?;
    Ok((token, true))
}

/// Writes `contents` to a file only its owner can read or write (0600 on Unix), created
/// with that mode so the token is never readable by others, not even for a moment.
fn write_owner_only(path: &std::path::Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    owner_only(path)?;
    file.write_all(contents.as_bytes())
}

/// Makes `path` readable and writable by its owner only (a no-op off Unix).
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::admin_token_from_file;

    #[cfg(unix)]
    fn mode(path: &std::path::Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(path)
            .expect("the token file")
            .permissions()
            .mode()
            & 0o777
    }

    #[cfg(unix)]
    #[test]
    fn the_generated_admin_token_is_readable_by_its_owner_only_and_kept_across_starts() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let path = dir.path().join("admin-token");

        let (token, generated) = admin_token_from_file(dir.path()).expect("a token");
        assert!(generated);
        assert_eq!(mode(&path), 0o600);

        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let (again, generated) = admin_token_from_file(dir.path()).expect("the token");
        assert!(!generated);
        assert_eq!(again, token);
        assert_eq!(
            mode(&path),
            0o600,
            "an older, readable file is made private"
        );
    }
}
