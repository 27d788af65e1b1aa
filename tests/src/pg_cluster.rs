//! A private PostgreSQL cluster on a free loopback port (initdb + pg_ctl), so a test can
//! stop and restart the database under a running node without touching any other test.
//! PostgreSQL refuses to run as root, so as root the cluster runs as the `postgres` user.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

/// A running (or stopped) private cluster, removed with the value.
pub struct PgCluster {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

/// The newest installed PostgreSQL's programs (Debian keeps them out of PATH).
fn postgres_bin() -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("PostgreSQL is installed under /usr/lib/postgresql")
        .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
        .filter(|bin| bin.join("initdb").exists())
        .collect();
    versions.sort();
    versions.pop().expect("an initdb under /usr/lib/postgresql")
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.starts_with(b"0\n"))
}

impl PgCluster {
    /// Creates a cluster in a temporary directory and starts it.
    pub fn start() -> PgCluster {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let dir = tempfile::tempdir().expect("temp dir");
        let cluster = PgCluster {
            port,
            bin: postgres_bin(),
            dir,
        };
        if is_root() {
            let chown = Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(cluster.dir.path())
                .status()
                .expect("chown");
            assert!(chown.success());
        }
        let data = cluster.data();
        cluster.run(
            "initdb",
            &[
                "-D",
                data.to_str().unwrap(),
                "--auth=trust",
                "--username=postgres",
                "--encoding=UTF8",
                "--no-sync",
            ],
        );
        cluster.start_again();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// One of PostgreSQL's programs, to run as `postgres` when we are root.
    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if is_root() {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        }
    }

    /// Runs one of PostgreSQL's programs and insists that it succeeds.
    fn run(&self, program: &str, args: &[&str]) -> Output {
        let output = self.command(program).args(args).output().expect(program);
        assert!(
            output.status.success(),
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        output
    }

    /// `postgres://postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Starts the server (again) and waits until it accepts connections.
    pub fn start_again(&self) {
        let data = self.data();
        let log = self.dir.path().join("postgres.log");
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        self.run(
            "pg_ctl",
            &[
                "-D",
                data.to_str().unwrap(),
                "-l",
                log.to_str().unwrap(),
                "-o",
                &options,
                "-w",
                "start",
            ],
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the private PostgreSQL never came up"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the server at once, as a crash or an operator's `pg_ctl stop -m immediate`
    /// does: connections are cut, nothing is shut down cleanly.
    pub fn stop_immediately(&self) {
        self.pg_ctl_stop("immediate");
    }

    fn pg_ctl_stop(&self, mode: &str) {
        let data = self.data();
        self.run(
            "pg_ctl",
            &["-D", data.to_str().unwrap(), "-m", mode, "-w", "stop"],
        );
    }

    /// The server's own log, for a failing test's message.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("postgres.log")).unwrap_or_default()
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        let _ = self
            .command("pg_ctl")
            .args(["-D", data.to_str().unwrap(), "-m", "immediate", "stop"])
            .output();
    }
}
