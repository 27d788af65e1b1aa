//! What Axle does, independent of HTTP: ticket intake and updates with routing and
//! workflow plugins, the work log, satisfaction surveys, plugin upload and installation.
//! The HTTP layer and `axle seed` both call in here.

pub mod access;
pub mod campaigns;
pub mod customer360;
pub mod customers;
pub mod dashboards;
pub mod datasets;
pub mod dealer_policy;
pub mod dispatch;
pub mod field_checks;
pub mod field_definitions;
pub mod fields;
pub mod hooks;
pub mod idempotency;
pub mod imports;
pub mod intake;
pub mod interactions;
pub mod invocations;
pub mod knowledge_base;
pub mod kpis;
pub mod notifications;
pub mod org;
pub mod plugin_policy;
pub mod plugins;
pub mod registry;
pub mod reload;
pub mod routing;
pub mod service_records;
pub mod settings;
pub mod shadow;
pub mod sla;
pub mod surveys;
pub mod svg;
pub mod tenants;
pub mod tickets;
pub mod vehicles;
pub mod warm_up;
pub mod workflow;
pub mod workflow_queue;

use std::sync::Arc;

use crate::db::Db;
use crate::runtime::{ComponentError, Runtime};
use crate::store::StoreError;

/// The core: the database, the plugin runtime, and the address customers reach us at.
#[derive(Clone)]
pub struct Core {
    pub db: Db,
    pub runtime: Arc<Runtime>,
    /// The node's public base URL (no trailing slash), for links sent to customers.
    pub public_url: Arc<str>,
    /// This node's snapshots of each tenant's enabled plugins.
    pub registry: Arc<registry::Registry>,
    /// Tells this node and the others that a tenant's plugins changed.
    pub reloads: reload::Announcer,
}

/// A field that failed validation.
#[derive(Clone, Debug, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Validation problems collected field by field, so that a request hears of all of them at
/// once rather than one per attempt.
#[derive(Debug, Default)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// Notes that `field` is wrong, and why.
    pub fn push(&mut self, field: &str, message: impl Into<String>) {
        self.0.push(FieldError {
            field: field.to_owned(),
            message: message.into(),
        });
    }

    /// Notes problems found by a check that reports its own.
    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.0.extend(errors);
    }

    /// The list itself, for checks that push onto a `Vec<FieldError>`.
    pub fn list(&mut self) -> &mut Vec<FieldError> {
        &mut self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// `Ok` when nothing failed; otherwise a 422 saying "the `what` is not valid", with
    /// every problem.
    pub fn check(self, what: &str) -> Result<(), ServiceError> {
        if self.0.is_empty() {
            return Ok(());
        }
        Err(ServiceError::Unprocessable {
            message: format!("the {what} is not valid"),
            errors: self.0,
        })
    }
}

/// Errors at the service boundary; `ApiError` maps them to HTTP.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The request is malformed.
    #[error("{0}")]
    Invalid(String),
    /// The request is well-formed but fields fail validation.
    #[error("{message}")]
    Unprocessable {
        message: String,
        errors: Vec<FieldError>,
    },
    /// The caller may not do this: a dealer's key asking for a tenant-wide change.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(String),
    /// The thing existed but is no longer available (an expired survey link).
    #[error("{0}")]
    Gone(String),
    #[error("cannot move a ticket from {from} to {to}; allowed: {allowed}")]
    IllegalTransition {
        from: String,
        to: String,
        allowed: String,
    },
    #[error(transparent)]
    Component(#[from] ComponentError),
    #[error("storage failed: {0}")]
    Store(StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    /// Whether the database could not be reached (as opposed to refusing the statement):
    /// the caller may retry later, so HTTP answers 503 rather than 500.
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            ServiceError::Store(StoreError::Db(
                sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::Io(_)
                    | sqlx::Error::WorkerCrashed
            ))
        )
    }
}

impl From<StoreError> for ServiceError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound(what) => ServiceError::NotFound(what),
            StoreError::Conflict(message) => ServiceError::Conflict(message),
            other => ServiceError::Store(other),
        }
    }
}

impl From<sqlx::Error> for ServiceError {
    fn from(err: sqlx::Error) -> Self {
        ServiceError::Store(StoreError::Db(err))
    }
}
