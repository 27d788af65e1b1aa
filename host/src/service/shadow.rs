//! Shadow runs and replay: a candidate version of a routing rule sees the same inputs as
//! the installed version; its outputs are recorded and compared, never applied.
//!
//! Every routing-rule invocation records its input and output in the ticket's transaction
//! (within the tenant's retention), so a candidate can be replayed on the last N inputs.
//! A candidate in shadow runs after the ticket commits, in the background: its trap or
//! timeout never touches the ticket, the audit or the live installation's circuit breaker.
//! It runs with the live grants it also requests, and its `kv` namespace is its own.
//!
//! Agreement: two runs agree when both versions answered (no failure) and their decisions
//! are equal after normalisation: priority, queue, team, assignee, the set of tags (order
//! and duplicates ignored) and the number of notifications; the free-text `reason` is
//! ignored. "No decision" agrees only with "no decision". A run where either version
//! failed does not agree.

use std::sync::Arc;

use super::invocations;
use super::plugins::{self, Upgraded, VersionRequest};
use super::routing::{RoutingRun, RuleCall, micros, output_of};
use super::{Core, FieldError, ServiceError};
use crate::db::Tx;
use crate::domain::ids::{now_ms, rfc3339};
use crate::domain::installations::{Installation, ShadowCandidate};
use crate::domain::plugin::{PluginVersion, RequestedLimits, Source, World};
use crate::runtime::Loaded;
use crate::runtime::sandbox::{CallContext, HostAccess};
use crate::runtime::wit::types;
use crate::store::recorded_inputs::{self, NewRecordedInput, RecordedInput};
use crate::store::shadow_runs::{self, NewRun, Run};
use crate::store::{installations, plugin_policies, plugins as versions, settings};

const DAY_MS: i64 = 86_400_000;
/// Differing decisions and error samples shown in a report.
const REPORT_SAMPLES: usize = 20;
/// Comparisons a report reads, newest first.
const REPORT_RUNS: i64 = 10_000;
/// Most recorded inputs one replay runs.
pub const MAX_REPLAY: i64 = 1_000;

/// A candidate version loaded and ready to run beside an installation.
pub struct Candidate {
    pub version: String,
    pub loaded: Arc<Loaded>,
    pub call: Arc<CallContext>,
}

impl std::fmt::Debug for Candidate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Candidate")
            .field("plugin", &self.call.plugin)
            .finish()
    }
}

/// One routing-rule invocation as it is recorded, with the candidate in shadow, if any.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub installation_id: String,
    pub plugin_version_id: String,
    pub version: String,
    /// The decision as stored (`null` for none), or the failure.
    pub output: Result<serde_json::Value, String>,
    pub outcome: &'static str,
    pub duration_us: i64,
    pub candidate: Option<Arc<Candidate>>,
}

impl Recorded {
    /// The record of a routing rule's call.
    pub fn of(call: &RuleCall) -> Recorded {
        let rule = &call.ready;
        Recorded {
            installation_id: rule.installation.id.clone(),
            plugin_version_id: rule.installation.plugin_version_id.clone(),
            version: rule.installation.version.clone(),
            output: call.output.clone(),
            outcome: call.outcome,
            duration_us: call.duration_us,
            candidate: rule.shadow.clone(),
        }
    }
}

/// The decision with what does not count toward agreement taken out.
fn normalised(decision: &serde_json::Value) -> serde_json::Value {
    let mut decision = decision.clone();
    if let Some(object) = decision.as_object_mut() {
        object.remove("reason");
        if let Some(serde_json::Value::Array(tags)) = object.get_mut("tags") {
            tags.sort_by_key(ToString::to_string);
            tags.dedup();
        }
    }
    decision
}

/// Whether two outputs agree (see the module docs).
pub fn agree(
    primary: &Result<serde_json::Value, String>,
    candidate: &Result<serde_json::Value, String>,
) -> bool {
    match (primary, candidate) {
        (Ok(primary), Ok(candidate)) => normalised(primary) == normalised(candidate),
        _ => false,
    }
}

/// The candidate in shadow beside `installation`, loaded; `None` when there is none or
/// it cannot be loaded (the live version runs on regardless).
pub async fn candidate(
    core: &Core,
    tenant_id: &str,
    installation: &Installation,
    budget: &RequestedLimits,
) -> Option<Arc<Candidate>> {
    let shadow = installation.shadow.as_ref()?;
    if shadow.plugin_version_id == installation.plugin_version_id {
        return None;
    }
    let loaded = async {
        let version = versions::get(&core.db, tenant_id, &shadow.plugin_version_id)
            .await?
            .ok_or(ServiceError::NotFound("plugin version"))?;
        load(
            core,
            tenant_id,
            installation,
            &version,
            &shadow.config,
            budget,
        )
        .await
    }
    .await;
    match loaded {
        Ok(candidate) => Some(Arc::new(candidate)),
        Err(err) => {
            tracing::warn!(installation = %installation.id, candidate = %shadow.version, error = %err, "shadow candidate cannot be loaded; the installed version runs alone");
            None
        }
    }
}

/// Compiles (or takes from the cache) `version` and builds its call context: the live
/// grants it also requests, never more, and a kv namespace of its own.
async fn load(
    core: &Core,
    tenant_id: &str,
    installation: &Installation,
    version: &PluginVersion,
    config: &serde_json::Value,
    budget: &RequestedLimits,
) -> Result<Candidate, ServiceError> {
    let loaded = plugins::loaded(core, version).await?;
    // The candidate answers to the tenant's per-call budget like the live version, and
    // sees no more of the org tree than it.
    let call = Arc::new(
        CallContext::new(
            tenant_id,
            format!("{}~shadow", installation.id),
            version.label(),
            plugins::kept_grants(&installation.capabilities, version),
            config.clone(),
            plugins::limits(core, version, installation, budget),
        )
        .within(plugins::scope_within(&installation.scope)),
    );
    Ok(Candidate {
        version: version.version.clone(),
        loaded,
        call,
    })
}

/// Records each invocation of the run inside the ticket's transaction, when the tenant
/// keeps inputs (as its plugin snapshot said). Inputs past the retention are purged by [`run_retention`], off the
/// ticket's path.
pub async fn record(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    routed: &RoutingRun,
) -> Result<(), ServiceError> {
    let Some(input) = &routed.input else {
        return Ok(());
    };
    if routed.calls.is_empty() || !routed.keeps_inputs {
        return Ok(());
    }
    let input = input_json(input);
    let rows: Vec<NewRecordedInput<'_>> = routed
        .calls
        .iter()
        .map(|call| NewRecordedInput {
            installation_id: &call.ready.installation.id,
            plugin_version_id: &call.ready.installation.plugin_version_id,
            version: &call.ready.installation.version,
            hook: "route",
            subject_id: Some(ticket_id),
            input: &input,
            output: call.output.as_ref().ok(),
            error: call.output.as_ref().err().map(String::as_str),
            outcome: call.outcome,
            duration_us: call.duration_us,
        })
        .collect();
    recorded_inputs::insert_many(tx, tenant_id, &rows).await?;
    Ok(())
}

/// Deletes every tenant's recorded inputs and shadow comparisons older than its
/// retention (all of them for a tenant that keeps none); returns how many rows went.
pub async fn purge_expired(core: &Core, now: i64) -> Result<u64, ServiceError> {
    let mut purged = 0;
    for (tenant_id, days) in settings::retention_by_tenant(&core.db).await? {
        let before = now - days.max(0) * DAY_MS;
        purged += recorded_inputs::purge(&core.db, &tenant_id, before).await?;
        purged += shadow_runs::purge(&core.db, &tenant_id, before).await?;
    }
    Ok(purged)
}

/// Purges expired inputs every `interval`, for as long as the node runs. One short
/// statement per tenant and table, so requests waiting to write never wait long.
pub async fn run_retention(core: Core, interval: std::time::Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        match purge_expired(&core, now_ms()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged recorded inputs past their retention"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot purge recorded inputs; trying again later")
            }
        }
    }
}

fn input_json(input: &types::Ticket) -> String {
    serde_json::to_string(input).unwrap_or_else(|_| "null".to_owned())
}

/// After the ticket commits: runs the candidates in shadow on the same input in the
/// background and records the comparisons. Never fails the ticket.
pub fn after_commit(core: &Core, tenant_id: &str, ticket_id: &str, routed: &RoutingRun) {
    let Some(input) = routed.input.clone() else {
        return;
    };
    let shadowed: Vec<(Recorded, Arc<Candidate>)> = routed
        .calls
        .iter()
        .map(Recorded::of)
        .filter_map(|recorded| Some((recorded.clone(), recorded.candidate.clone()?)))
        .collect();
    if shadowed.is_empty() {
        return;
    }
    let core = core.clone();
    let tenant_id = tenant_id.to_owned();
    let ticket_id = ticket_id.to_owned();
    tokio::spawn(async move {
        let keep_input = match settings::of(&core.db, &tenant_id).await {
            Ok(settings) => settings.input_retention_days > 0,
            Err(_) => false,
        };
        let host = invocations::host_access(&core);
        let runtime = core.runtime.clone();
        let compared = invocations::run_blocking(move || {
            let kept = keep_input.then(|| input_json(&input));
            shadowed
                .into_iter()
                .map(|(primary, candidate)| {
                    let (output, duration_us) =
                        run_candidate(&runtime, &candidate, host.clone(), &input);
                    comparison(
                        Source::Live,
                        Some(ticket_id.clone()),
                        kept.clone(),
                        primary,
                        &candidate.version,
                        output,
                        duration_us,
                    )
                })
                .collect::<Vec<_>>()
        })
        .await;
        let stored = match compared {
            Ok(runs) => shadow_runs::insert_all(&core.db, &tenant_id, &runs)
                .await
                .map_err(ServiceError::from),
            Err(err) => Err(err),
        };
        if let Err(err) = stored {
            tracing::warn!(tenant = %tenant_id, error = %err, "recording a shadow run failed");
        }
    });
}

/// Runs the candidate on `input`; its notifications and decision go nowhere.
fn run_candidate(
    runtime: &crate::runtime::Runtime,
    candidate: &Candidate,
    host: HostAccess,
    input: &types::Ticket,
) -> (Result<serde_json::Value, String>, i64) {
    let _span = tracing::info_span!("plugin.shadow", plugin = %candidate.call.plugin).entered();
    let outcome = runtime.route(&candidate.loaded, candidate.call.clone(), Some(host), input);
    if let Err(failure) = &outcome.result {
        tracing::info!(plugin = %candidate.call.plugin, "shadow candidate failed: {failure}");
    }
    (output_of(&outcome).0, micros(outcome.duration))
}

fn comparison(
    source: Source,
    subject_id: Option<String>,
    input: Option<String>,
    primary: Recorded,
    candidate_version: &str,
    candidate: Result<serde_json::Value, String>,
    candidate_us: i64,
) -> NewRun {
    NewRun {
        installation_id: primary.installation_id,
        source,
        subject_id,
        primary_version: primary.version,
        candidate_version: candidate_version.to_owned(),
        input,
        agreed: agree(&primary.output, &candidate),
        primary_output: primary.output.as_ref().ok().cloned(),
        primary_error: primary.output.err(),
        candidate_output: candidate.as_ref().ok().cloned(),
        candidate_error: candidate.err(),
        primary_us: primary.duration_us,
        candidate_us,
    }
}

/// What an admin asks for when putting a candidate in shadow or replaying one.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CandidateRequest {
    /// An uploaded version of the installed plugin, other than the installed one.
    pub version: String,
    /// The config to run it with; the installation's config when omitted.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
}

/// Checks that `request` names a version the installation can be compared with: uploaded,
/// of the same plugin and world, not the installed one, its config valid for it.
async fn checked(
    core: &Core,
    tenant_id: &str,
    installation: &Installation,
    request: CandidateRequest,
) -> Result<(PluginVersion, serde_json::Value), ServiceError> {
    if installation.world != World::RoutingRule {
        return Err(ServiceError::Invalid(format!(
            "{} is a {} plugin; shadow runs and replay cover routing rules",
            installation.label(),
            installation.world.as_str()
        )));
    }
    let version =
        versions::get_by_name(&core.db, tenant_id, &installation.plugin, &request.version)
            .await?
            .ok_or_else(|| ServiceError::Unprocessable {
                message: format!(
                    "{}@{} is not uploaded in this tenant; upload it first",
                    installation.plugin, request.version
                ),
                errors: vec![FieldError {
                    field: "version".to_owned(),
                    message: "no such uploaded version of this plugin".to_owned(),
                }],
            })?;
    if version.id == installation.plugin_version_id {
        return Err(ServiceError::Conflict(format!(
            "the installation already runs {}; name another version as the candidate",
            installation.label()
        )));
    }
    if version.world != installation.world {
        return Err(ServiceError::Invalid(format!(
            "{}@{} is a {} plugin, the installation a {} one",
            version.name,
            version.version,
            version.world.as_str(),
            installation.world.as_str()
        )));
    }
    let config = request
        .config
        .unwrap_or_else(|| installation.config.clone());
    plugins::check_config(&version, &config)?;
    Ok((version, config))
}

async fn installation(
    core: &Core,
    tenant_id: &str,
    id: &str,
) -> Result<Installation, ServiceError> {
    installations::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("installation"))
}

/// Puts a candidate version in shadow beside the installation (replacing any other).
pub async fn start(
    core: &Core,
    tenant_id: &str,
    id: &str,
    request: CandidateRequest,
) -> Result<Installation, ServiceError> {
    // Check and compile before the write transaction, which on SQLite holds the one
    // write lock: a candidate that cannot load must not be set.
    let seen = installation(core, tenant_id, id).await?;
    let (version, config) = checked(core, tenant_id, &seen, request).await?;
    let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
    load(core, tenant_id, &seen, &version, &config, &budget).await?;
    let mut tx = core.db.begin_write().await?;
    let current = plugins::for_change(core, &mut tx, tenant_id, id).await?;
    plugins::same_version(&seen, &current)?;
    let candidate = ShadowCandidate {
        plugin_version_id: version.id.clone(),
        version: version.version.clone(),
        config,
        started_at: rfc3339(now_ms()),
    };
    shadow_runs::set_candidate(&mut tx, tenant_id, id, Some(&candidate)).await?;
    plugins::commit_change(core, tx, tenant_id).await?;
    installation(core, tenant_id, id).await
}

/// Stops the shadow run; the comparisons recorded so far stay for the report.
pub async fn stop(core: &Core, tenant_id: &str, id: &str) -> Result<Installation, ServiceError> {
    let mut tx = core.db.begin_write().await?;
    let current = plugins::for_change(core, &mut tx, tenant_id, id).await?;
    if current.shadow.is_none() {
        return Err(ServiceError::Conflict(
            "no candidate runs in shadow on this installation".to_owned(),
        ));
    }
    shadow_runs::set_candidate(&mut tx, tenant_id, id, None).await?;
    plugins::commit_change(core, tx, tenant_id).await?;
    installation(core, tenant_id, id).await
}

/// Upgrades the installation to its shadow candidate through the ordinary upgrade (so a
/// candidate that asks for more capabilities waits for approval) and ends the shadow run.
pub async fn promote(core: &Core, tenant_id: &str, id: &str) -> Result<Upgraded, ServiceError> {
    let current = installation(core, tenant_id, id).await?;
    let candidate = current.shadow.ok_or_else(|| {
        ServiceError::Conflict(
            "no candidate runs in shadow on this installation; PUT …/shadow first".to_owned(),
        )
    })?;
    let upgraded = plugins::upgrade(
        core,
        tenant_id,
        id,
        VersionRequest {
            version: Some(candidate.version),
            config: Some(candidate.config),
        },
    )
    .await?;
    let mut tx = core.db.begin_write().await?;
    shadow_runs::set_candidate(&mut tx, tenant_id, id, None).await?;
    plugins::commit_change(core, tx, tenant_id).await?;
    let installation = installation(core, tenant_id, id).await?;
    Ok(match upgraded {
        Upgraded::Applied(_) => Upgraded::Applied(installation),
        Upgraded::Pending(_) => Upgraded::Pending(installation),
    })
}

/// What an admin asks for when replaying a candidate.
#[derive(Clone, Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplayRequest {
    pub version: String,
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// How many of the newest recorded inputs to replay, 1 to 1000; 100 when omitted.
    #[serde(default)]
    pub last: Option<i64>,
}

/// Runs a candidate on the recorded inputs of the last N invocations of the installed
/// version, stores the comparisons (replacing the previous replay's) and reports on them.
pub async fn replay(
    core: &Core,
    tenant_id: &str,
    id: &str,
    request: ReplayRequest,
) -> Result<Report, ServiceError> {
    let last = request.last.unwrap_or(100);
    if !(1..=MAX_REPLAY).contains(&last) {
        return Err(ServiceError::Unprocessable {
            message: format!("`last` is {last}; replay 1 to {MAX_REPLAY} recorded inputs"),
            errors: vec![FieldError {
                field: "last".to_owned(),
                message: format!("must be 1 to {MAX_REPLAY}"),
            }],
        });
    }
    let current = installation(core, tenant_id, id).await?;
    let (version, config) = checked(
        core,
        tenant_id,
        &current,
        CandidateRequest {
            version: request.version,
            config: request.config,
        },
    )
    .await?;
    let inputs =
        recorded_inputs::last(&core.db, tenant_id, id, &current.plugin_version_id, last).await?;
    if inputs.is_empty() {
        let days = settings::of(&core.db, tenant_id)
            .await?
            .input_retention_days;
        return Err(ServiceError::Conflict(format!(
            "nothing to replay: no inputs of {} are recorded (this tenant keeps inputs for {days} days; 0 records none)",
            current.label()
        )));
    }
    let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
    let candidate = Arc::new(load(core, tenant_id, &current, &version, &config, &budget).await?);
    let host = invocations::host_access(core);
    let runtime = core.runtime.clone();
    let installation_id = current.id.clone();
    let runs = invocations::run_blocking(move || {
        inputs
            .into_iter()
            .rev()
            .map(|recorded| {
                replay_one(
                    &runtime,
                    &candidate,
                    host.clone(),
                    &installation_id,
                    recorded,
                )
            })
            .collect::<Vec<_>>()
    })
    .await?;
    shadow_runs::clear(&core.db, tenant_id, id, Source::Replay).await?;
    shadow_runs::insert_all(&core.db, tenant_id, &runs).await?;
    report(core, tenant_id, id, Source::Replay).await
}

fn replay_one(
    runtime: &crate::runtime::Runtime,
    candidate: &Candidate,
    host: HostAccess,
    installation_id: &str,
    recorded: RecordedInput,
) -> NewRun {
    let primary_output = match (&recorded.output, &recorded.error) {
        (_, Some(error)) => Err(error.clone()),
        (Some(output), None) => serde_json::from_str(output).map_err(|err| err.to_string()),
        (None, None) => Ok(serde_json::Value::Null),
    };
    let (output, duration_us) = match serde_json::from_str::<types::Ticket>(&recorded.input) {
        Ok(input) => run_candidate(runtime, candidate, host, &input),
        Err(err) => (Err(format!("the recorded input no longer reads: {err}")), 0),
    };
    let primary = Recorded {
        installation_id: installation_id.to_owned(),
        plugin_version_id: String::new(),
        version: recorded.version.clone(),
        output: primary_output,
        outcome: "ok",
        duration_us: recorded.duration_us,
        candidate: None,
    };
    comparison(
        Source::Replay,
        recorded.subject_id.clone(),
        Some(recorded.input),
        primary,
        &candidate.version,
        output,
        duration_us,
    )
}

/// A comparison of the installed version with a candidate.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Report {
    pub installation_id: String,
    pub source: Source,
    pub installed_version: String,
    /// The candidate compared; `None` when nothing was compared yet.
    pub candidate_version: Option<String>,
    /// The candidate in shadow now, if any.
    pub shadow: Option<ShadowCandidate>,
    pub runs: usize,
    pub agreed: usize,
    /// `agreed / runs`; `None` with no runs.
    pub agreement_rate: Option<f64>,
    /// What counts as agreeing.
    pub agreement: &'static str,
    /// Runs whose decisions differ, newest first, at most 20.
    pub differences: Vec<Difference>,
    pub errors: Versions<Errors>,
    pub latency_us: Versions<Latency>,
}

/// Agreement, as the report explains it.
pub const AGREEMENT: &str = "both versions answered and their decisions are equal in priority, queue, team, assignee, the set of tags and the number of notifications; the reason text is ignored; a failure on either side never agrees";

/// One value per version.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Versions<T> {
    pub installed: T,
    pub candidate: T,
}

/// One differing run.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Difference {
    pub subject_id: Option<String>,
    /// The input both versions saw; `None` when the tenant keeps no inputs.
    pub input: Option<serde_json::Value>,
    pub installed: Side,
    pub candidate: Side,
    pub at: String,
}

/// What one version answered.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct Side {
    pub decision: Option<serde_json::Value>,
    pub error: Option<String>,
}

/// Failures of one version.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Errors {
    pub count: usize,
    /// Newest first, at most 20.
    pub samples: Vec<ErrorSample>,
}

/// One failure.
#[derive(Clone, Debug, serde::Serialize, utoipa::ToSchema)]
pub struct ErrorSample {
    pub subject_id: Option<String>,
    pub error: String,
}

/// Latency percentiles of one version, in microseconds.
#[derive(Clone, Debug, Default, serde::Serialize, utoipa::ToSchema)]
pub struct Latency {
    pub p50: Option<i64>,
    pub p99: Option<i64>,
}

fn side(output: Option<&str>, error: Option<&str>) -> Side {
    Side {
        decision: output.and_then(|text| serde_json::from_str(text).ok()),
        error: error.map(str::to_owned),
    }
}

/// The nearest-rank percentile `p` (0..=100) of `values`.
fn percentile(values: &mut [i64], p: usize) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = (values.len() * p).div_ceil(100).max(1);
    values.get(rank - 1).copied()
}

fn errors(runs: &[Run], pick: fn(&Run) -> Option<&String>) -> Errors {
    let failed: Vec<&Run> = runs.iter().filter(|run| pick(run).is_some()).collect();
    Errors {
        count: failed.len(),
        samples: failed
            .iter()
            .take(REPORT_SAMPLES)
            .map(|run| ErrorSample {
                subject_id: run.subject_id.clone(),
                error: pick(run).cloned().unwrap_or_default(),
            })
            .collect(),
    }
}

fn latency(runs: &[Run], pick: fn(&Run) -> i64) -> Latency {
    let mut values: Vec<i64> = runs.iter().map(pick).collect();
    Latency {
        p50: percentile(&mut values, 50),
        p99: percentile(&mut values, 99),
    }
}

/// The comparison report of the installation's candidate from `source`: the candidate
/// in shadow (live) or the newest compared one.
pub async fn report(
    core: &Core,
    tenant_id: &str,
    id: &str,
    source: Source,
) -> Result<Report, ServiceError> {
    let current = installation(core, tenant_id, id).await?;
    let candidate_version = match (source, &current.shadow) {
        (Source::Live, Some(shadow)) => Some(shadow.version.clone()),
        _ => shadow_runs::newest_candidate(&core.db, tenant_id, id, source).await?,
    };
    let runs = match &candidate_version {
        Some(version) => {
            shadow_runs::list(&core.db, tenant_id, id, source, version, REPORT_RUNS).await?
        }
        None => Vec::new(),
    };
    let agreed = runs.iter().filter(|run| run.agreed != 0).count();
    let differences = runs
        .iter()
        .filter(|run| run.agreed == 0)
        .take(REPORT_SAMPLES)
        .map(|run| Difference {
            subject_id: run.subject_id.clone(),
            input: run
                .input
                .as_deref()
                .and_then(|text| serde_json::from_str(text).ok()),
            installed: side(run.primary_output.as_deref(), run.primary_error.as_deref()),
            candidate: side(
                run.candidate_output.as_deref(),
                run.candidate_error.as_deref(),
            ),
            at: rfc3339(run.created_at),
        })
        .collect();
    Ok(Report {
        installation_id: current.id.clone(),
        source,
        installed_version: current.version.clone(),
        candidate_version,
        shadow: current.shadow.clone(),
        runs: runs.len(),
        agreed,
        #[allow(clippy::cast_precision_loss)]
        agreement_rate: (!runs.is_empty()).then(|| agreed as f64 / runs.len() as f64),
        agreement: AGREEMENT,
        differences,
        errors: Versions {
            installed: errors(&runs, |run| run.primary_error.as_ref()),
            candidate: errors(&runs, |run| run.candidate_error.as_ref()),
        },
        latency_us: Versions {
            installed: latency(&runs, |run| run.primary_us),
            candidate: latency(&runs, |run| run.candidate_us),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tag_order_and_reason_do_not_count_toward_agreement() {
        let a = Ok(json!({ "priority": "high", "tags": ["vip", "安全"], "reason": "a" }));
        let b = Ok(json!({ "priority": "high", "tags": ["安全", "vip"], "reason": "b" }));
        assert!(agree(&a, &b));
        let c = Ok(json!({ "priority": "critical", "tags": ["vip", "安全"], "reason": "a" }));
        assert!(!agree(&a, &c));
    }

    #[test]
    fn a_failure_never_agrees() {
        let ok = Ok(serde_json::Value::Null);
        assert!(!agree(&ok, &Err("trap".to_owned())));
        assert!(!agree(&Err("trap".to_owned()), &Err("trap".to_owned())));
        assert!(agree(&ok, &Ok(serde_json::Value::Null)));
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut values: Vec<i64> = (1..=100).rev().collect();
        assert_eq!(percentile(&mut values, 50), Some(50));
        assert_eq!(percentile(&mut values, 99), Some(99));
        assert_eq!(percentile(&mut [7], 99), Some(7));
        assert_eq!(percentile(&mut [], 50), None);
    }
}
