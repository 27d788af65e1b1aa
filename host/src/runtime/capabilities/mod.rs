//! Host capabilities, one module per WIT interface. Each checks the grant from the
//! store's `CallContext` and scopes every lookup to the calling tenant and installation.
//! Bad guest input is a WIT error the guest sees; only host faults trap.

mod config;
mod directory;
mod kv;
mod log;
mod notify;

pub use notify::notification_from_wit;
mod records;

use super::sandbox::Sandbox;
use super::wit::types;

impl types::Host for Sandbox {}

/// The error a guest sees when the host cannot reach its storage.
fn unavailable(what: &str, err: impl std::fmt::Display) -> types::Error {
    tracing::warn!(error = %err, "plugin capability {what} failed");
    types::Error::Unavailable(format!("{what} is unavailable right now; try again later"))
}
