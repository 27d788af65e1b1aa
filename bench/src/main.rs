//! `axle-load load | soak`: drives release nodes over HTTP and reports what they did.
//! `cargo xtask load` and `cargo xtask soak` build the release binary and the plugins,
//! then run this; see [`load`] and [`load::soak`] for what each measures.
//!
//! Its own package, beside the criterion benches, so that the task runner needs no
//! dependencies: `cargo xtask` builds before anything else, and an HTTP client and tokio
//! built for it alone (other features than the workspace's) cost CI a minute.

mod load;

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::Duration;

const WASM_TARGET: &str = "wasm32-wasip2";
const POSTGRES_ADDR: &str = "127.0.0.1:5432";
const POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

type Result<T = ()> = std::result::Result<T, String>;

fn main() -> ExitCode {
    // The workspace builds reqwest without a TLS provider of its own (the host picks ring);
    // its client refuses to start without one, plain-HTTP loopback traffic or not. Ring's
    // provider is deprecated for lacking post-quantum key exchange, which the loopback
    // does not need (see `axle_host::tls`).
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let _ = provider.install_default();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.split_first() {
        Some((command, rest)) if command == "load" => load::run(rest),
        Some((command, rest)) if command == "soak" => load::soak::run(rest),
        _ => {
            eprintln!("usage: axle-load load [--help] | soak [--help]");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The repository root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("bench/ has a parent")
        .to_owned()
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()))
}

fn postgres_reachable() -> bool {
    let addr: SocketAddr = POSTGRES_ADDR.parse().expect("a socket address");
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_ok()
}
