//! `axle plugin …`: the plugin developer's commands — scaffold a crate, build and check it
//! as the server would, run it against fixture files in the server's sandbox, publish and
//! install it.
//!
//! Each job is its own module: [`scaffold`] (`new`), [`project`] (finding a plugin crate and
//! its component), [`build`], [`fixtures`] (the fixture format and expectation matching),
//! [`sandbox_node`] (the throwaway node fixtures run in), [`run`] (`test`), [`publish`]
//! (`publish`, `install`), [`progress`] (spinners and byte counts) and [`log_capture`] (the
//! plugin's log lines).

pub mod build;
pub mod config_schema;
pub mod fixtures;
pub mod log_capture;
pub mod progress;
pub mod project;
pub mod publish;
pub mod replay;
pub mod run;
pub mod sandbox_node;
pub mod scaffold;

/// Why a plugin command could not do its job. Every variant is a usage or setup problem
/// (exit code 2); a fixture whose expectation fails is not an error but a result.
#[derive(Debug, thiserror::Error)]
pub enum DevError {
    /// The user asked for something that cannot be done as asked.
    #[error("{0}")]
    Usage(String),
    /// A file could not be read or written.
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
    /// `cargo` failed or could not be run.
    #[error("{0}")]
    Cargo(String),
    /// The component or manifest fails the server's upload checks.
    #[error("the plugin would be rejected by the server: {0}")]
    Rejected(String),
    /// The server said no, or could not be reached.
    #[error("{0}")]
    Server(String),
    /// The local sandbox node could not be set up.
    #[error("cannot set up the local sandbox: {0}")]
    Sandbox(String),
}

impl DevError {
    /// An I/O error on `path` while doing `what` ("cannot read", "cannot write", …).
    pub fn io(what: &'static str, path: &std::path::Path, source: std::io::Error) -> DevError {
        DevError::Io {
            what,
            path: path.display().to_string(),
            source,
        }
    }
}

/// The process exit code for usage and setup errors.
pub const EXIT_SETUP: i32 = 2;
/// The process exit code when a fixture's expectation failed.
pub const EXIT_FAILED: i32 = 1;
