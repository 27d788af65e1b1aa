//! An `axle serve` process on a free loopback port, as an operator runs it: the way to
//! test several nodes sharing PostgreSQL and Redis.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `axle` binary next to the running test (`cargo xtask test` builds it first).
pub fn axle_binary() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable's path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("tests run from target/<profile>/deps");
    let binary = dir.join(format!("axle{}", std::env::consts::EXE_SUFFIX));
    assert!(
        binary.exists(),
        "{} is missing; build it with `cargo build -p axle-host --bin axle` (cargo xtask test does)",
        binary.display()
    );
    binary
}

/// A running `axle serve`.
pub struct NodeProcess {
    pub url: String,
    pub log: PathBuf,
    child: Child,
    _data_dir: tempfile::TempDir,
}

impl NodeProcess {
    /// Starts a node on `database_url` and `redis_url` with the platform `admin_token`,
    /// and waits until it answers its health check.
    pub fn start(database_url: &str, redis_url: &str, admin_token: &str) -> NodeProcess {
        NodeProcess::start_with(&[
            "--database-url",
            database_url,
            "--redis-url",
            redis_url,
            "--admin-token",
            admin_token,
        ])
    }

    /// Starts `axle serve` with `args` besides its listen address and data directory
    /// (the embedded SQLite database lives there unless `--database-url` is given), and
    /// waits until it accepts connections.
    pub fn start_with(args: &[&str]) -> NodeProcess {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let data_dir = tempfile::tempdir().expect("temp dir");
        let log = data_dir.path().join("axle.log");
        let child = Command::new(axle_binary())
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(data_dir.path())
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("node log file"))
            .spawn()
            .expect("start axle serve");
        let node = NodeProcess {
            url: format!("http://127.0.0.1:{port}"),
            log,
            child,
            _data_dir: data_dir,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "axle serve did not start; its log:\n{}",
                node.log_text()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        node
    }

    /// The node's data directory (its embedded database, unless it runs on PostgreSQL).
    pub fn data_dir(&self) -> &std::path::Path {
        self._data_dir.path()
    }

    /// Kills the node with SIGKILL: no shutdown, no cleanup, work in flight cut off.
    pub fn kill(&mut self) {
        self.child.kill().expect("kill the node");
        self.child.wait().expect("reap the node");
    }

    /// What the node has logged so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
