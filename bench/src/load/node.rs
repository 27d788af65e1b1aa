//! The system under load: a release `axle demo` process on a loopback port, with its
//! scratch data dir and, for PostgreSQL, its own database. Everything here is undone on
//! drop, so an error or Ctrl-C anywhere in the run leaves no process, dir or database.

use std::fs::File;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::sync::mpsc;

use crate::Result;

/// How long seeding the demo (which compiles every plugin on a cold cache) may take.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(180);

/// The database a node runs on.
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Backend::Postgres)
    }
}

/// Where the built binary and plugin components are.
pub struct Artifacts {
    pub axle: PathBuf,
    pub plugins: PathBuf,
    pub wasm: PathBuf,
}

/// A running demo node and everything made for it. Fields drop in order: the process
/// goes first, so neither its files nor its database connections are in use when the
/// dir and the database go.
pub struct Node {
    pub url: String,
    pub key: String,
    /// The token `GET /metrics` takes on this node.
    pub metrics_token: String,
    process: Process,
    _data_dir: tempfile::TempDir,
    _database: Option<Database>,
}

impl Node {
    /// Seeds the demo tenant on a fresh database and serves it, as `cargo xtask demo` does
    /// but from the release binary, with the delivery worker, SLA scheduler and reload
    /// listener running as in production.
    pub async fn start(backend: &Backend, artifacts: &Artifacts) -> Result<Node> {
        let data_dir = tempfile::Builder::new()
            .prefix("axle-load-")
            .tempdir()
            .map_err(|err| format!("cannot create a scratch data dir: {err}"))?;
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(Database::create()?),
        };
        let metrics_token = format!("load-metrics-{}", std::process::id());
        let mut command = Command::new(&artifacts.axle);
        command
            .arg("demo")
            // Port 0 and the address the node prints: no race for a free port.
            .args(["--listen", "127.0.0.1:0"])
            .arg("--data-dir")
            .arg(data_dir.path())
            .arg("--plugins")
            .arg(&artifacts.plugins)
            .arg("--wasm")
            .arg(&artifacts.wasm)
            // The node reads these too; the caller's shell must not pick the backend.
            .env_remove("DATABASE_URL")
            .env_remove("REDIS_URL")
            .env_remove("AXLE_PUBLIC_URL")
            .env_remove("AXLE_COMPILED_DIR")
            .env_remove("AXLE_ADMIN_TOKEN")
            .env("AXLE_METRICS_TOKEN", &metrics_token)
            // The log goes to a file: colour codes would only clutter it.
            .env("NO_COLOR", "1");
        if let Some(database) = &database {
            command.env("DATABASE_URL", &database.url);
        }
        let mut process = Process::spawn(command, &data_dir.path().join("axle.log"))?;
        // On an early return the locals drop in reverse order: the process first.
        let (url, key) = process.ready().await?;
        Ok(Node {
            url,
            key,
            metrics_token,
            process,
            _data_dir: data_dir,
            _database: database,
        })
    }

    /// The node's resident memory in KiB, from `/proc` (Linux).
    pub fn rss_kib(&self) -> Option<u64> {
        let status =
            std::fs::read_to_string(format!("/proc/{}/status", self.process.child.id())).ok()?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
    }

    /// What the node has logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.process.log_path).unwrap_or_default()
    }
}

/// The `axle demo` child process. Its stdout carries both the lines that say it is ready
/// and the tracing log, so a thread reads it to the end (a full pipe would stall the node)
/// and copies it to the log file.
struct Process {
    child: Child,
    log_path: PathBuf,
    started: mpsc::UnboundedReceiver<Started>,
}

enum Started {
    Url(String),
    Key(String),
}

impl Process {
    fn spawn(mut command: Command, log_path: &Path) -> Result<Process> {
        let log = File::create(log_path)
            .map_err(|err| format!("cannot create {}: {err}", log_path.display()))?;
        let stderr = log
            .try_clone()
            .map_err(|err| format!("cannot share {}: {err}", log_path.display()))?;
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(stderr)
            .stdin(Stdio::null())
            .spawn()
            .map_err(|err| format!("cannot start {command:?}: {err}"))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (sender, started) = mpsc::unbounded_channel();
        std::thread::spawn(move || copy_log(stdout, log, &sender));
        Ok(Process {
            child,
            log_path: log_path.to_owned(),
            started,
        })
    }

    /// Waits for the address and the demo tenant's API key.
    async fn ready(&mut self) -> Result<(String, String)> {
        let (mut url, mut key) = (None, None);
        let wait = async {
            while let Some(line) = self.started.recv().await {
                match line {
                    Started::Url(found) => url = Some(found),
                    Started::Key(found) => key = Some(found),
                }
                if url.is_some() && key.is_some() {
                    return true;
                }
            }
            false
        };
        let outcome = tokio::time::timeout(STARTUP_TIMEOUT, wait).await;
        match (outcome, url, key) {
            (Ok(true), Some(url), Some(key)) => Ok((url, key)),
            (Ok(_), ..) => Err(format!(
                "axle demo exited before it served; its log:\n{}",
                self.log_tail()
            )),
            (Err(_), ..) => Err(format!(
                "axle demo did not serve within {}s; its log:\n{}",
                STARTUP_TIMEOUT.as_secs(),
                self.log_tail()
            )),
        }
    }

    fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(40)..].join("\n")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn copy_log(stdout: impl std::io::Read, mut log: File, started: &mpsc::UnboundedSender<Started>) {
    for line in BufReader::new(stdout)
        .lines()
        .map_while(std::result::Result::ok)
    {
        let _ = writeln!(log, "{line}");
        // The lines `axle demo` prints once it listens (host/src/seed/mod.rs).
        if let Some(addr) = line.trim().strip_prefix("Axle demo is serving on ") {
            let _ = started.send(Started::Url(addr.to_owned()));
        } else if let Some(key) = line.trim().strip_prefix("export AXLE_KEY=") {
            let _ = started.send(Started::Key(key.to_owned()));
        }
    }
}

/// A PostgreSQL database made for one run and dropped after it.
struct Database {
    name: String,
    url: String,
}

impl Database {
    fn create() -> Result<Database> {
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|since| since.as_secs())
            .unwrap_or_default();
        let name = format!("axle_load_{stamp}_{}", std::process::id());
        psql(&format!("CREATE DATABASE {name}"))?;
        let server = crate::POSTGRES_URL
            .rsplit_once('/')
            .map_or(crate::POSTGRES_URL, |(server, _)| server);
        Ok(Database {
            url: format!("{server}/{name}"),
            name,
        })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // FORCE: a killed node's connections may linger on the server for a moment.
        if let Err(message) = psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )) {
            eprintln!("xtask: {message}; drop the database {} by hand", self.name);
        }
    }
}

/// Runs one statement on the maintenance database with the `psql` client.
fn psql(statement: &str) -> Result {
    let output = Command::new("psql")
        .args([
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            crate::POSTGRES_URL,
            "-c",
        ])
        .arg(statement)
        .output()
        .map_err(|err| {
            format!(
                "cannot run psql (install the PostgreSQL client, or use --backend sqlite): {err}"
            )
        })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "psql `{statement}` failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}
