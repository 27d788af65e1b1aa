//! `axle plugin test`: runs the built component against fixture files in the server's
//! sandbox and limits, with the server's own host capabilities, and no server to set up.
//!
//! Each fixture gets a fresh tenant on a throwaway [`SandboxNode`]: its records are created
//! through the HTTP API, the component is uploaded and installed with the fixture's config
//! and grants by the server's service functions (so config is checked against the schema
//! exactly as on install), its kv entries are stored, and the call runs through the real
//! `Runtime` with a real `HostAccess` — records, kv, notify, config and log run the code they
//! run on the server. The runtime is [`Runtime::metered`], so each call reports its fuel.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use super::build::{self, Built};
use super::fixtures::{self, FieldCall, Fixture};
use super::progress::size;
use super::project::Project;
use super::sandbox_node::{SandboxNode, SandboxTenant};
use super::{DevError, EXIT_FAILED, EXIT_SETUP, log_capture};
use crate::domain::plugin::World;
use crate::runtime::limits::{Limits, PlatformLimits};
use crate::runtime::wit::{fields, types, widget, workflow};
use crate::runtime::{Outcome, Runtime, convert};
use crate::service::ServiceError;
use crate::service::invocations::host_access;
use crate::service::plugins::{self as plugin_service, InstallRequest, Ready};
use crate::store::{customers, kv, tickets, vehicles};

/// The fuel each call gets: far more than any call within the deadline can burn, so the
/// deadline, not the fuel, is what stops a runaway plugin, as on the server.
pub const FUEL_PER_CALL: u64 = u64::MAX / 4;

/// Share of a limit from which a fixture's report flags it.
const NEAR_LIMIT: f64 = 0.8;

/// What `axle plugin test` was asked for.
#[derive(Clone, Debug)]
pub struct TestRequest {
    pub dir: PathBuf,
    /// Fixture files; `<dir>/fixtures/*.json` when empty.
    pub fixtures: Vec<PathBuf>,
    pub no_build: bool,
}

/// How one call went, in JSON form, with what it used.
struct Measured {
    result: Result<Value, String>,
    notifications: Vec<Value>,
    duration: Duration,
    fuel_used: Option<u64>,
    memory_peak_bytes: usize,
    output_bytes: usize,
    logs: Vec<String>,
    logs_dropped: u32,
    limits: Limits,
}

/// How a fixture went.
enum Verdict {
    Pass,
    Fail(Vec<String>),
}

/// Runs every fixture and prints a report for each. Returns the exit code: 0 when all pass,
/// 1 when an expectation failed, 2 when a fixture could not be set up.
pub async fn test(request: &TestRequest) -> Result<i32, DevError> {
    log_capture::install();
    let mut project = Project::open(&request.dir)?;
    let files = if request.fixtures.is_empty() {
        fixtures::in_dir(&request.dir.join("fixtures"))?
    } else {
        request.fixtures.clone()
    };
    let loaded = files
        .iter()
        .map(|path| fixtures::load(path))
        .collect::<Result<Vec<_>, _>>()?;
    let runtime = Arc::new(
        Runtime::metered(PlatformLimits::default(), FUEL_PER_CALL).map_err(|err| {
            DevError::Sandbox(format!("cannot start the plugin runtime: {err:#}"))
        })?,
    );
    let built = {
        let runtime = runtime.clone();
        let no_build = request.no_build;
        tokio::task::spawn_blocking(move || {
            let built = if no_build {
                existing(&project).and_then(|path| build::check(&project, &runtime, path))
            } else {
                build::build(&mut project, &runtime)
            };
            built.map(|built| (project, built))
        })
        .await
        .map_err(|err| DevError::Sandbox(format!("the build task failed: {err}")))?
    };
    let (project, built) = built?;
    let node = SandboxNode::start(runtime).await?;

    let (mut passed, mut failed, mut broken) = (0, 0, 0);
    for (index, fixture) in loaded.iter().enumerate() {
        let name = fixture.name();
        let shown = fixture.path.display();
        match run_one(&node, &project, &built, index, &fixture.fixture).await {
            Ok((measured, ids)) => {
                let measured = with_local_names(measured, &ids);
                let verdict = judge(&fixture.fixture, &measured);
                match &verdict {
                    Verdict::Pass => {
                        passed += 1;
                        println!("PASS  {name}  ({shown})");
                    }
                    Verdict::Fail(_) => {
                        failed += 1;
                        println!("FAIL  {name}  ({shown})");
                    }
                }
                print_measured(&measured);
                if let Verdict::Fail(reasons) = verdict {
                    for reason in reasons {
                        println!("  differs     {reason}");
                    }
                }
            }
            Err(err) => {
                broken += 1;
                println!("ERROR {name}  ({shown})");
                println!("  {err}");
            }
        }
        println!();
    }
    println!("{passed} passed, {failed} failed, {broken} could not run");
    Ok(if broken > 0 {
        EXIT_SETUP
    } else if failed > 0 {
        EXIT_FAILED
    } else {
        0
    })
}

/// The already built component, for `--no-build`.
fn existing(project: &Project) -> Result<PathBuf, DevError> {
    let path = project.component_path()?;
    if !path.is_file() {
        return Err(DevError::Usage(format!(
            "no component at {}; build it with `axle plugin build` or drop --no-build",
            path.display()
        )));
    }
    Ok(path)
}

/// What the call is given, already in WIT form.
enum Input {
    Ticket(types::Ticket),
    Event(workflow::Event),
    Subject(fields::Subject, FieldCall),
    Dataset(widget::Dataset),
}

async fn run_one(
    node: &SandboxNode,
    project: &Project,
    built: &Built,
    index: usize,
    fixture: &Fixture,
) -> Result<(Measured, Vec<(String, String)>), DevError> {
    let core = &node.core;
    let mut tenant = node.tenant(&format!("fixture-{}", index + 1)).await?;
    let records = &fixture.records;
    for (path, bodies) in [
        ("/sites", &records.sites),
        ("/teams", &records.teams),
        ("/customers", &records.customers),
        ("/vehicles", &records.vehicles),
        ("/tickets", &records.tickets),
        ("/kb/articles", &records.articles),
    ] {
        for body in bodies {
            node.create(&mut tenant, path, body).await?;
        }
    }
    // Before the install, so creating the input ticket runs no plugin.
    let input = input(node, &mut tenant, project.manifest.world, fixture).await?;

    let setup =
        |err: ServiceError| DevError::Usage(format!("the fixture's setup was refused: {err}"));
    let (version, _) = plugin_service::upload(
        core,
        &tenant.id,
        &project.manifest_text,
        built.bytes.clone(),
    )
    .await
    .map_err(|err| DevError::Rejected(err.to_string()))?;
    let installation = plugin_service::install(
        core,
        crate::service::access::Access::tenant(&tenant.id),
        InstallRequest {
            plugin: version.name.clone(),
            version: Some(version.version.to_string()),
            config: Some(
                fixture
                    .config
                    .clone()
                    .unwrap_or_else(|| serde_json::json!({})),
            ),
            capabilities: fixture
                .grants
                .clone()
                .unwrap_or_else(|| project.manifest.capabilities.clone()),
            ..InstallRequest::default()
        },
    )
    .await
    .map_err(|err| match err {
        ServiceError::Unprocessable { message, .. } => {
            DevError::Usage(format!("the fixture's config is refused: {message}"))
        }
        other => setup(other),
    })?;
    for (key, value) in &fixture.kv {
        kv::set(
            &core.db,
            &tenant.id,
            &installation.id,
            key,
            value.as_bytes(),
            i64::MAX,
        )
        .await
        .map_err(|err| DevError::Sandbox(format!("storing kv entry `{key}`: {err}")))?;
    }
    let ready = plugin_service::ready(core, &tenant.id, installation)
        .await
        .map_err(setup)?;
    let host = host_access(core);
    let runtime = core.runtime.clone();
    log_capture::take();
    let measured = tokio::task::spawn_blocking(move || {
        let mut measured = call(&runtime, &ready, host, &input);
        measured.logs = log_capture::take();
        measured
    })
    .await
    .map_err(|err| DevError::Sandbox(format!("the call's task failed: {err}")))?;
    let ids = tenant.ids.into_iter().collect();
    Ok((measured, ids))
}

/// Builds the world's input from the fixture, creating the records it names.
async fn input(
    node: &SandboxNode,
    tenant: &mut SandboxTenant,
    world: World,
    fixture: &Fixture,
) -> Result<Input, DevError> {
    let given: Vec<&str> = [
        ("ticket", fixture.ticket.is_some()),
        ("event", fixture.event.is_some()),
        ("subject", fixture.subject.is_some()),
        ("dataset", fixture.dataset.is_some()),
    ]
    .into_iter()
    .filter_map(|(key, present)| present.then_some(key))
    .collect();
    let wanted = match world {
        World::RoutingRule => "ticket",
        World::WorkflowStep => "event",
        World::FieldProvider => "subject",
        World::ReportWidget => "dataset",
    };
    if given != [wanted] {
        return Err(DevError::Usage(format!(
            "a {} fixture gives its input as `{wanted}` (and nothing else of ticket, event, subject, dataset); this one gives: {}",
            world.as_str(),
            if given.is_empty() {
                "none".to_owned()
            } else {
                given.join(", ")
            }
        )));
    }
    Ok(match world {
        World::RoutingRule => {
            let body = fixture.ticket.as_ref().expect("checked above");
            Input::Ticket(ticket(node, tenant, body).await?)
        }
        World::WorkflowStep => {
            let event = fixture.event.as_ref().expect("checked above");
            let ticket = ticket(node, tenant, &event.ticket).await?;
            Input::Event(workflow::Event {
                kind: event.kind.clone(),
                occurred_at: ticket.updated_at.clone(),
                ticket,
                payload: event
                    .payload
                    .clone()
                    .unwrap_or_else(|| serde_json::json!({}))
                    .to_string(),
            })
        }
        World::FieldProvider => {
            let subject = fixture.subject.as_ref().expect("checked above");
            Input::Subject(field_subject(node, tenant, subject).await?, fixture.call)
        }
        World::ReportWidget => {
            let dataset = fixture.dataset.as_ref().expect("checked above");
            Input::Dataset(widget::Dataset {
                columns: dataset.columns.clone(),
                rows: dataset
                    .rows
                    .iter()
                    .map(|row| row.iter().map(cell).collect())
                    .collect::<Result<_, _>>()?,
            })
        }
    })
}

fn cell(value: &Value) -> Result<widget::Cell, DevError> {
    Ok(match value {
        Value::Null => widget::Cell::Empty,
        Value::String(text) => widget::Cell::Text(text.clone()),
        Value::Number(number) => widget::Cell::Number(number.as_f64().unwrap_or_default()),
        other => {
            return Err(DevError::Usage(format!(
                "dataset cells are text, numbers or null, not {other}"
            )));
        }
    })
}

fn sandbox_err(err: crate::store::StoreError) -> DevError {
    DevError::Sandbox(err.to_string())
}

/// The record a fixture just created, read back from the sandbox's database.
fn stored<T>(
    found: Result<Option<T>, crate::store::StoreError>,
    kind: &str,
    id: &str,
) -> Result<T, DevError> {
    found.map_err(sandbox_err)?.ok_or_else(|| {
        DevError::Sandbox(format!("the {kind} {id} just created cannot be read back"))
    })
}

/// Creates the ticket in `body` and returns it with its customer and vehicle, as the server
/// hands tickets to plugins.
async fn ticket(
    node: &SandboxNode,
    tenant: &mut SandboxTenant,
    body: &Value,
) -> Result<types::Ticket, DevError> {
    let id = node.create(tenant, "/tickets", body).await?;
    let db = &node.core.db;
    let ticket = stored(tickets::get(db, &tenant.id, &id).await, "ticket", &id)?;
    let customer = match &ticket.customer_id {
        Some(id) => customers::get(db, &tenant.id, id)
            .await
            .map_err(sandbox_err)?,
        None => None,
    };
    let vehicle = match &ticket.vehicle_id {
        Some(id) => vehicles::get(db, &tenant.id, id)
            .await
            .map_err(sandbox_err)?,
        None => None,
    };
    Ok(convert::ticket(
        &ticket,
        customer.as_ref(),
        vehicle.as_ref(),
    ))
}

async fn field_subject(
    node: &SandboxNode,
    tenant: &mut SandboxTenant,
    subject: &Value,
) -> Result<fields::Subject, DevError> {
    let entries: Vec<(&String, &Value)> = subject
        .as_object()
        .map(|object| object.iter().collect())
        .unwrap_or_default();
    let db = &node.core.db;
    match entries.as_slice() {
        [(kind, body)] if kind.as_str() == "ticket" => {
            Ok(fields::Subject::Ticket(ticket(node, tenant, body).await?))
        }
        [(kind, body)] if kind.as_str() == "customer" => {
            let id = node.create(tenant, "/customers", body).await?;
            let customer = stored(customers::get(db, &tenant.id, &id).await, "customer", &id)?;
            Ok(fields::Subject::Customer(convert::customer(&customer)))
        }
        [(kind, body)] if kind.as_str() == "vehicle" => {
            let id = node.create(tenant, "/vehicles", body).await?;
            let vehicle = stored(vehicles::get(db, &tenant.id, &id).await, "vehicle", &id)?;
            Ok(fields::Subject::Vehicle(convert::vehicle(&vehicle)))
        }
        _ => Err(DevError::Usage(format!(
            "`subject` names one record: {{\"customer\": {{…}}}}, {{\"vehicle\": {{…}}}} or {{\"ticket\": {{…}}}}, not {subject}"
        ))),
    }
}

/// Runs the call. Blocking: host capabilities block on the async runtime.
fn call(
    runtime: &Runtime,
    ready: &Ready,
    host: crate::runtime::sandbox::HostAccess,
    input: &Input,
) -> Measured {
    let (loaded, context) = (&ready.loaded, ready.call.clone());
    let limits = context.limits;
    let host = Some(host);
    match input {
        Input::Ticket(ticket) => measure(runtime.route(loaded, context, host, ticket), limits),
        Input::Event(event) => measure(runtime.on_event(loaded, context, host, event), limits),
        Input::Subject(subject, FieldCall::Compute) => measure(
            runtime.compute_fields(loaded, context, host, subject),
            limits,
        ),
        Input::Subject(subject, FieldCall::Validate) => measure(
            runtime.validate_fields(loaded, context, host, subject),
            limits,
        ),
        Input::Dataset(dataset) => measure(runtime.render_widget(loaded, context, dataset), limits),
    }
}

fn measure<T: Serialize>(outcome: Outcome<T>, limits: Limits) -> Measured {
    let result = match &outcome.result {
        Ok(output) => Ok(serde_json::to_value(output).unwrap_or(Value::Null)),
        Err(failure) => Err(failure.to_string()),
    };
    let output_bytes = result
        .as_ref()
        .map(|value| value.to_string().len())
        .unwrap_or(0);
    Measured {
        result,
        notifications: outcome
            .notifications
            .iter()
            .map(|notification| serde_json::to_value(notification).unwrap_or(Value::Null))
            .collect(),
        duration: outcome.duration,
        fuel_used: outcome.fuel_used,
        memory_peak_bytes: outcome.memory_peak_bytes,
        output_bytes,
        logs: Vec::new(),
        logs_dropped: outcome.logs_dropped,
        limits,
    }
}

/// Shows the fixture's local names in place of the real ids the sandbox gave its records,
/// wherever they appear (a decision's reason often quotes an id).
fn with_local_names(mut measured: Measured, ids: &[(String, String)]) -> Measured {
    let rename_text = |text: &mut String| {
        for (local, real) in ids {
            if text.contains(real.as_str()) {
                *text = text.replace(real.as_str(), local);
            }
        }
    };
    fn rename(value: &mut Value, rename_text: &dyn Fn(&mut String)) {
        match value {
            Value::String(text) => rename_text(text),
            Value::Array(items) => items.iter_mut().for_each(|item| rename(item, rename_text)),
            Value::Object(object) => object
                .values_mut()
                .for_each(|item| rename(item, rename_text)),
            _ => {}
        }
    }
    match &mut measured.result {
        Ok(result) => rename(result, &rename_text),
        Err(error) => rename_text(error),
    }
    measured
        .notifications
        .iter_mut()
        .for_each(|notification| rename(notification, &rename_text));
    measured.logs.iter_mut().for_each(rename_text);
    measured
}

fn judge(fixture: &Fixture, measured: &Measured) -> Verdict {
    let expect = &fixture.expect;
    let mut reasons = Vec::new();
    match (&measured.result, &expect.error) {
        (Ok(result), Some(wanted)) => reasons.push(format!(
            "error: expected the call to fail with an error containing {wanted:?}, but it returned {result}"
        )),
        (Err(error), Some(wanted)) if !error.contains(wanted.as_str()) => reasons.push(format!(
            "error: expected an error containing {wanted:?}, got {error:?}"
        )),
        (Err(_), Some(_)) => {}
        (Err(error), None) => reasons.push(format!("the call failed: {error}")),
        (Ok(result), None) => {
            if let Some(wanted) = &expect.result {
                reasons.extend(fixtures::mismatch(wanted, result, "result"));
            }
        }
    }
    if let Some(wanted) = &expect.notifications {
        let got = Value::Array(measured.notifications.clone());
        reasons.extend(fixtures::mismatch(
            &Value::Array(wanted.clone()),
            &got,
            "notifications",
        ));
    }
    if reasons.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Fail(reasons)
    }
}

fn share(used: f64, limit: f64) -> String {
    let share = if limit > 0.0 { used / limit } else { 0.0 };
    let flag = if share >= NEAR_LIMIT {
        "  << near limit"
    } else {
        ""
    };
    format!("({:.0}%){flag}", share * 100.0)
}

fn print_measured(measured: &Measured) {
    let limits = measured.limits;
    match &measured.result {
        Ok(result) => println!("  result      {result}"),
        Err(error) => println!("  error       {error}"),
    }
    for notification in &measured.notifications {
        println!("  notified    {notification}");
    }
    let deadline = limits.deadline();
    println!(
        "  time        {:.2} ms of {} ms {}",
        measured.duration.as_secs_f64() * 1000.0,
        deadline.as_millis(),
        share(measured.duration.as_secs_f64(), deadline.as_secs_f64())
    );
    if let Some(fuel) = measured.fuel_used {
        println!("  fuel        {fuel}");
    }
    let memory = limits.memory_bytes();
    println!(
        "  memory      {} peak of {} {}",
        size(measured.memory_peak_bytes as u64),
        size(memory as u64),
        share(measured.memory_peak_bytes as f64, memory as f64)
    );
    let output = limits.output_bytes();
    println!(
        "  output      {} of {} {}",
        size(measured.output_bytes as u64),
        size(output as u64),
        share(measured.output_bytes as f64, output as f64)
    );
    let log_bytes: usize = measured.logs.iter().map(|line| line.len()).sum();
    println!(
        "  log         {} lines, about {} of {} {}",
        measured.logs.len(),
        size(log_bytes as u64),
        size(limits.log_bytes() as u64),
        share(log_bytes as f64, limits.log_bytes() as f64)
    );
    for line in &measured.logs {
        println!("    {line}");
    }
    if measured.logs_dropped > 0 {
        println!(
            "    ({} lines dropped: the log budget ran out)  << limit reached",
            measured.logs_dropped
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn measured(result: Result<Value, String>) -> Measured {
        Measured {
            result,
            notifications: vec![json!({"channel": "sms", "to": "+8613900000001"})],
            duration: Duration::from_millis(1),
            fuel_used: Some(1),
            memory_peak_bytes: 1 << 20,
            output_bytes: 10,
            logs: Vec::new(),
            logs_dropped: 0,
            limits: PlatformLimits::default().resolve(&Default::default(), &Default::default()),
        }
    }

    fn fixture(expect: Value) -> Fixture {
        serde_json::from_value(json!({ "expect": expect })).unwrap()
    }

    fn reasons(verdict: Verdict) -> Vec<String> {
        match verdict {
            Verdict::Pass => Vec::new(),
            Verdict::Fail(reasons) => reasons,
        }
    }

    #[test]
    fn an_expected_error_must_happen_and_contain_the_text() {
        let expect = fixture(json!({"error": "config"}));
        let failed = measured(Err("returned an error: config: missing field `team`".into()));
        assert!(reasons(judge(&expect, &failed)).is_empty());
        let other = measured(Err("trapped: unreachable".into()));
        assert!(reasons(judge(&expect, &other))[0].contains("\"config\""));
        let succeeded = measured(Ok(json!({"team": "a"})));
        assert!(reasons(judge(&expect, &succeeded))[0].contains("returned"));
    }

    #[test]
    fn an_unexpected_error_fails_the_fixture() {
        let failed = measured(Err("did not finish within 50 ms".into()));
        let found = reasons(judge(&fixture(json!({})), &failed));
        assert!(found[0].contains("did not finish"), "{found:?}");
    }

    #[test]
    fn notifications_are_matched_item_by_item() {
        let sent = measured(Ok(Value::Null));
        let right = fixture(json!({"notifications": [{"to": "+8613900000001"}]}));
        assert!(reasons(judge(&right, &sent)).is_empty());
        let wrong = fixture(json!({"notifications": [{"to": "+1"}]}));
        assert!(reasons(judge(&wrong, &sent))[0].starts_with("notifications[0].to"));
    }

    #[test]
    fn real_ids_show_as_the_fixtures_local_names() {
        let ids = [("alice".to_owned(), "01a2-real".to_owned())];
        let renamed = with_local_names(
            measured(Ok(
                json!({"assignee": "01a2-real", "reason": "customer 01a2-real"}),
            )),
            &ids,
        );
        assert_eq!(
            renamed.result.unwrap(),
            json!({"assignee": "alice", "reason": "customer alice"})
        );
    }

    #[test]
    fn limits_used_to_80_percent_or_more_are_flagged() {
        assert!(share(80.0, 100.0).contains("near limit"));
        assert!(share(100.0, 100.0).contains("near limit"));
        assert!(!share(79.0, 100.0).contains("near limit"));
    }
}
