//! Writes to the host's log, tagged with tenant, installation and plugin version. Always
//! granted; lines past the invocation's log budget are dropped, never an error.

use crate::wit::plugin::log::{Level, log};

/// Logs `msg` at trace level.
pub fn trace(msg: &str) {
    log(Level::Trace, msg);
}

/// Logs `msg` at debug level.
pub fn debug(msg: &str) {
    log(Level::Debug, msg);
}

/// Logs `msg` at info level.
pub fn info(msg: &str) {
    log(Level::Info, msg);
}

/// Logs `msg` at warn level.
pub fn warn(msg: &str) {
    log(Level::Warn, msg);
}

/// Logs `msg` at error level.
pub fn error(msg: &str) {
    log(Level::Error, msg);
}
