//! Running plugin calls off the async runtime and auditing each one: the audit row,
//! the failure log line, and the circuit breaker.

use super::plugins::Ready;
use super::{Core, ServiceError};
use crate::db::Tx;
use crate::plugins::runtime::{Failure, Outcome};
use crate::plugins::sandbox::HostAccess;
use crate::store::audit::{self, NewInvocation};
use crate::store::installations;
use crate::telemetry::metrics;

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
    /// Builds the record from an outcome, counts and times it, and logs a failure.
    pub fn of<T>(
        ready: &Ready,
        hook: &'static str,
        subject_id: Option<&str>,
        outcome: &Outcome<T>,
    ) -> Audit {
        let failure = outcome.result.as_ref().err().cloned();
        let result = failure.as_ref().map_or("ok", Failure::outcome);
        // Every invocation passes here, so this is the one place that measures them.
        metrics::invocation(
            &ready.installation.plugin,
            &ready.installation.version,
            hook,
            result,
            outcome.duration,
        );
        let span = tracing::Span::current();
        span.record("outcome", result);
        span.record("duration_us", outcome.duration.as_micros());
        if let Some(failure) = &failure {
            tracing::warn!(
                tenant = %ready.call.tenant_id,
                installation = %ready.call.installation_id,
                plugin = %ready.call.plugin,
                hook,
                outcome = failure.outcome(),
                "plugin invocation failed: {failure}"
            );
        } else {
            tracing::debug!("plugin invocation finished");
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

    /// Writes the audit row and updates the circuit breaker inside `tx`. A suspension is
    /// announced at once, before `tx` commits: a node that rebuilds its snapshot too early
    /// still finds the old generation in the database and rebuilds again on its next use.
    pub async fn record(
        &self,
        tx: &mut Tx,
        core: &Core,
        tenant_id: &str,
    ) -> Result<(), ServiceError> {
        let threshold = core.runtime.platform.failures_before_suspend;
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
        if let Some(generation) = suspended {
            core.reloads.announce(tenant_id, generation);
            metrics::suspension(&self.plugin);
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
        audit.record(&mut tx, core, tenant_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Host access for capabilities, from inside the async runtime.
pub fn host_access(core: &Core) -> HostAccess {
    HostAccess {
        db: core.db.clone(),
        runtime: tokio::runtime::Handle::current(),
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

/// A span for one invocation, entered around the call. `Audit::of`, called inside it,
/// records the outcome and duration.
pub fn invocation_span(ready: &Ready, hook: &'static str) -> tracing::Span {
    tracing::info_span!(
        "plugin.invoke",
        tenant = %ready.call.tenant_id,
        installation = %ready.call.installation_id,
        plugin = %ready.call.plugin,
        hook,
        outcome = tracing::field::Empty,
        duration_us = tracing::field::Empty,
    )
}
