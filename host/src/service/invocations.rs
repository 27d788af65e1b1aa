//! Running plugin calls off the async runtime and auditing each one: the audit row,
//! the failure log line, and the circuit breaker.

use super::plugins::Ready;
use super::{Core, ServiceError};
use crate::db::Tx;
use crate::plugins::runtime::{Failure, Outcome};
use crate::plugins::sandbox::HostAccess;
use crate::store::audit::{self, NewInvocation};
use crate::store::installations;

/// The audit record of one invocation.
#[derive(Clone, Debug)]
pub struct Audit {
    pub installation_id: String,
    pub plugin: String,
    pub hook: &'static str,
    pub subject_id: Option<String>,
    pub input_digest: String,
    pub failure: Option<Failure>,
    /// Guest log lines dropped over the log budget.
    pub logs_dropped: u32,
    pub duration_us: i64,
}

impl Audit {
    /// Builds the record from an outcome, and logs a failure.
    pub fn of<T>(
        ready: &Ready,
        hook: &'static str,
        subject_id: Option<&str>,
        outcome: &Outcome<T>,
    ) -> Audit {
        let failure = outcome.result.as_ref().err().cloned();
        if let Some(failure) = &failure {
            tracing::warn!(
                tenant = %ready.call.tenant_id,
                installation = %ready.call.installation_id,
                plugin = %ready.call.plugin,
                hook,
                outcome = failure.outcome(),
                "plugin invocation failed: {failure}"
            );
        }
        if outcome.logs_dropped > 0 {
            tracing::warn!(plugin = %ready.call.plugin, dropped = outcome.logs_dropped, "plugin log budget exhausted");
        }
        Audit {
            installation_id: ready.call.installation_id.clone(),
            plugin: ready.call.plugin.clone(),
            hook,
            subject_id: subject_id.map(str::to_owned),
            input_digest: outcome.input_digest.clone(),
            failure,
            logs_dropped: outcome.logs_dropped,
            duration_us: i64::try_from(outcome.duration.as_micros()).unwrap_or(i64::MAX),
        }
    }

    /// Writes the audit row and updates the circuit breaker inside `tx`.
    pub async fn record(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        threshold: u32,
    ) -> Result<(), ServiceError> {
        let outcome = self.failure.as_ref().map_or("ok", Failure::outcome);
        let dropped = (self.logs_dropped > 0).then(|| {
            format!(
                "{} log lines dropped over the log budget",
                self.logs_dropped
            )
        });
        let detail = match (self.failure.as_ref().map(ToString::to_string), dropped) {
            (Some(failure), Some(dropped)) => Some(format!("{failure}; {dropped}")),
            (failure, dropped) => failure.or(dropped),
        };
        audit::record_invocation(
            tx,
            tenant_id,
            &NewInvocation {
                installation_id: &self.installation_id,
                plugin: &self.plugin,
                hook: self.hook,
                subject_id: self.subject_id.as_deref(),
                input_digest: &self.input_digest,
                outcome,
                detail: detail.clone(),
                duration_us: self.duration_us,
            },
        )
        .await?;
        let trips = self.failure.as_ref().is_some_and(Failure::trips_breaker);
        let suspended = installations::record_outcome(
            tx,
            tenant_id,
            &self.installation_id,
            trips,
            threshold,
            &self
                .failure
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
        .await?;
        if suspended {
            tracing::warn!(
                tenant = tenant_id,
                installation = %self.installation_id,
                plugin = %self.plugin,
                "installation suspended by the circuit breaker after {threshold} failures in a row"
            );
        }
        Ok(())
    }
}

/// Writes audits in their own transaction (for calls outside a ticket flow).
pub async fn record_all(
    core: &Core,
    tenant_id: &str,
    audits: &[Audit],
) -> Result<(), ServiceError> {
    let mut tx = core.db.begin_write().await?;
    for audit in audits {
        audit
            .record(
                &mut tx,
                tenant_id,
                core.runtime.platform.failures_before_suspend,
            )
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Host access for capabilities, from inside the async runtime.
pub fn host_access(core: &Core) -> HostAccess {
    HostAccess {
        db: core.db.clone(),
        runtime: tokio::runtime::Handle::current(),
        public_url: core.public_url.clone(),
    }
}

/// Runs `work` on the blocking pool inside a span naming the tenant, installation and
/// plugin, so guest log lines and host spans line up.
pub async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || span.in_scope(work))
        .await
        .map_err(|err| ServiceError::Internal(format!("plugin invocation task failed: {err}")))
}

/// A span for one invocation.
pub fn invocation_span(ready: &Ready, hook: &'static str) -> tracing::Span {
    tracing::info_span!(
        "plugin.invoke",
        tenant = %ready.call.tenant_id,
        installation = %ready.call.installation_id,
        plugin = %ready.call.plugin,
        hook
    )
}
