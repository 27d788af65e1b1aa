//! Running plugin calls off the async runtime and auditing each one: the audit row,
//! the failure log line, and the circuit breaker.

use std::sync::Arc;

use futures_util::future::BoxFuture;

use super::plugins::Ready;
use super::{Core, ServiceError, knowledge_base};
use crate::db::{Db, Tx};
use crate::domain::audit::{Invocation, InvocationFilter};
use crate::domain::knowledge_base::{ArticleFilter, ArticleStatus, Hit};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Notification, NotifyChannel};
use crate::runtime::sandbox::{BackendError, CapabilityBackend, HostAccess};
use crate::runtime::{Failure, Outcome};
use crate::store::audit::{self, NewInvocation};
use crate::store::{installations, outbox, plugin_policies};
use crate::telemetry::metrics;

/// Where plugin alerts go while the tenant admin has set no alert address
/// (`PATCH /api/v1/plugin-policy`).
pub const UNSET_ALERT_ADDRESS: &str = "tenant-admin@alerts.invalid";

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

    fn trips_breaker(&self) -> bool {
        self.failure.as_ref().is_some_and(Failure::trips_breaker)
    }

    /// What the audit row says beside the outcome: the failure and dropped log lines.
    fn detail(&self) -> Option<String> {
        let dropped = (self.logs_dropped > 0).then(|| {
            format!(
                "{} log lines dropped over the log budget",
                self.logs_dropped
            )
        });
        match (self.failure.as_ref().map(ToString::to_string), dropped) {
            (Some(failure), Some(dropped)) => Some(format!("{failure}; {dropped}")),
            (failure, dropped) => failure.or(dropped),
        }
    }

    /// Counts this failure against the installation's circuit breaker inside `tx`. A
    /// suspension is announced at once, before `tx` commits: a node that rebuilds its
    /// snapshot too early still finds the old generation in the database and rebuilds
    /// again on its next use.
    async fn count_failure(
        &self,
        tx: &mut Tx,
        core: &Core,
        tenant_id: &str,
        breaker: installations::Breaker,
    ) -> Result<(), ServiceError> {
        let platform = &core.runtime.platform;
        let suspended = installations::count_failure(
            tx,
            tenant_id,
            &self.installation_id,
            breaker,
            &self
                .failure
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
        )
        .await?;
        if let Some(generation) = suspended {
            self.alert_suspension(tx, tenant_id, breaker, self.detail().as_deref())
                .await?;
            core.reloads.announce(tenant_id, generation);
            metrics::suspension(&self.plugin);
            tracing::warn!(
                tenant = tenant_id,
                installation = %self.installation_id,
                plugin = %self.plugin,
                "installation suspended by the circuit breaker after {} failures within {:?}",
                breaker.threshold,
                platform.failure_window
            );
        }
        Ok(())
    }

    /// Tells the tenant admin, through the outbox and in the same transaction, that the
    /// installation was suspended. Without an alert address set, the row still records
    /// the alert for the delivery log, addressed to [`UNSET_ALERT_ADDRESS`].
    async fn alert_suspension(
        &self,
        tx: &mut Tx,
        tenant_id: &str,
        breaker: installations::Breaker,
        last: Option<&str>,
    ) -> Result<(), ServiceError> {
        let to = plugin_policies::alert_email(tx, tenant_id)
            .await?
            .unwrap_or_else(|| UNSET_ALERT_ADDRESS.to_owned());
        let notification = Notification {
            channel: NotifyChannel::Email,
            to,
            subject: Some(format!("Axle suspended plugin {}", self.plugin)),
            body: format!(
                "The circuit breaker suspended installation {} of {} after {} failures within {} s. \
                 Last failure: {}. It stays suspended until an admin re-enables it \
                 (PATCH /api/v1/installations/{} with {{\"enabled\": true}}).",
                self.installation_id,
                self.plugin,
                breaker.threshold,
                breaker.window_ms / 1000,
                last.unwrap_or("unknown"),
                self.installation_id
            ),
        };
        outbox::enqueue(tx, tenant_id, None, "system", &notification).await?;
        Ok(())
    }
}

/// Writes the audit rows of `audits` and updates the circuit breakers inside `tx`, in a
/// few statements whatever their number: all rows in one insert, each failure counted
/// (failures are rare, and each may suspend its installation), then one statement ending
/// the failure streak of every installation whose last call here succeeded.
pub async fn record_in<'a>(
    tx: &mut Tx,
    core: &Core,
    tenant_id: &str,
    audits: impl IntoIterator<Item = &'a Audit>,
) -> Result<(), ServiceError> {
    let audits: Vec<&Audit> = audits.into_iter().collect();
    if audits.is_empty() {
        return Ok(());
    }
    let rows: Vec<NewInvocation<'_>> = audits
        .iter()
        .map(|audit| NewInvocation {
            installation_id: &audit.installation_id,
            plugin: &audit.plugin,
            hook: audit.hook,
            subject_id: audit.subject_id.as_deref(),
            input_digest: &audit.input_digest,
            outcome: audit.failure.as_ref().map_or("ok", Failure::outcome),
            detail: audit.detail(),
            duration_us: audit.duration_us,
        })
        .collect();
    audit::record_invocations(tx, tenant_id, &rows).await?;
    let platform = &core.runtime.platform;
    let breaker = installations::Breaker {
        threshold: platform.failures_before_suspend,
        window_ms: i64::try_from(platform.failure_window.as_millis()).unwrap_or(i64::MAX),
    };
    for audit in audits.iter().filter(|audit| audit.trips_breaker()) {
        audit.count_failure(tx, core, tenant_id, breaker).await?;
    }
    let mut recovered: Vec<&str> = Vec::new();
    for (n, audit) in audits.iter().enumerate() {
        let last_of_its_installation = audits[n + 1..]
            .iter()
            .all(|later| later.installation_id != audit.installation_id);
        if last_of_its_installation && !audit.trips_breaker() {
            recovered.push(&audit.installation_id);
        }
    }
    installations::clear_failure_streaks(tx, tenant_id, &recovered).await?;
    Ok(())
}

/// Writes audits in their own transaction (for calls outside a ticket flow).
pub async fn record_all(
    core: &Core,
    tenant_id: &str,
    audits: &[Audit],
) -> Result<(), ServiceError> {
    if audits.is_empty() {
        return Ok(());
    }
    let mut tx = core.db.begin_write().await?;
    record_in(&mut tx, core, tenant_id, audits).await?;
    tx.commit().await?;
    Ok(())
}

/// Host access for capabilities, from inside the async runtime.
pub fn host_access(core: &Core) -> HostAccess {
    HostAccess {
        db: core.db.clone(),
        runtime: tokio::runtime::Handle::current(),
        backend: Arc::new(Backend {
            db: core.db.clone(),
            public_url: core.public_url.clone(),
        }),
    }
}

/// The service's side of the capabilities: what a host function asks for that takes the
/// service's rules, answered with them.
#[derive(Debug)]
struct Backend {
    db: Db,
    public_url: Arc<str>,
}

impl CapabilityBackend for Backend {
    fn search_articles<'a>(
        &'a self,
        tenant_id: &'a str,
        query: &'a str,
        limit: usize,
    ) -> BoxFuture<'a, Result<Vec<Hit>, BackendError>> {
        Box::pin(async move {
            let published = ArticleFilter {
                status: Some(ArticleStatus::Published),
                ..Default::default()
            };
            knowledge_base::search(
                &self.db,
                &self.public_url,
                tenant_id,
                query,
                &published,
                limit,
                // Plugins answer customers with no agent in between.
                knowledge_base::Reader::Customer,
            )
            .await
            .map_err(|err| match err {
                ServiceError::Invalid(message) => BackendError::Invalid(message),
                other => BackendError::Unavailable(other.to_string()),
            })
        })
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

/// The tenant's plugin invocations matching `filter`, newest first; those of
/// installations since uninstalled too.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    filter: &InvocationFilter,
    page: &Page,
) -> Result<Paged<Invocation>, ServiceError> {
    Ok(audit::list_invocations(&core.db, tenant_id, filter, page).await?)
}
