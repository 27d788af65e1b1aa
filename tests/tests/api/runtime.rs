//! Field providers and report widgets run in the sandbox through the runtime (their HTTP
//! surface comes later): fields are described, computed and validated, widgets are
//! described and rendered, and a plugin's error comes back as its own outcome.

use std::sync::Arc;

use axle_host::domain::plugin::World;
use axle_host::runtime::limits::PlatformLimits;
use axle_host::runtime::sandbox::CallContext;
use axle_host::runtime::wit::{fields, types, widget};
use axle_host::runtime::{ComponentError, Failure, Loaded, Runtime};
use axle_tests::{KPI_SUMMARY, Plugin, TICKET_RULES, VIN_DECODER, VIP_ROUTING, vin};

fn runtime() -> Runtime {
    Runtime::new(PlatformLimits::default()).expect("a runtime")
}

fn load(runtime: &Runtime, plugin: &Plugin, world: World) -> Arc<Loaded> {
    runtime
        .load(&plugin.component(), world)
        .unwrap_or_else(|err| panic!("load {}: {err}", plugin.name))
}

/// A call context for `plugin` with no grants, an empty config and the default limits.
fn call(runtime: &Runtime, plugin: &Plugin) -> Arc<CallContext> {
    Arc::new(CallContext {
        tenant_id: "tenant-runtime".to_owned(),
        installation_id: format!("installation-{}", plugin.name),
        plugin: format!("{}@0.1.0", plugin.name),
        grants: Default::default(),
        config_json: "{}".to_owned(),
        config: serde_json::json!({}),
        limits: runtime.platform.defaults,
        within: None,
    })
}

fn vehicle(vin: &str) -> fields::Subject {
    fields::Subject::Vehicle(types::Vehicle {
        id: "vehicle-1".to_owned(),
        vin: vin.to_owned(),
        make: Some("SAIC Volkswagen".to_owned()),
        model: Some("Lavida".to_owned()),
        model_year: None,
        mileage_km: Some(30_000),
        customer_id: None,
        fields: Vec::new(),
    })
}

fn value<'f>(fields: &'f [types::CustomField], name: &str) -> Option<&'f types::FieldValue> {
    fields
        .iter()
        .find(|field| field.name == name)
        .map(|field| &field.value)
}

#[test]
fn vin_decoder_describes_two_computed_vehicle_fields() {
    let runtime = runtime();
    let loaded = load(&runtime, &VIN_DECODER, World::FieldProvider);

    let outcome = runtime.describe_fields(&loaded, call(&runtime, &VIN_DECODER));

    let defs = outcome.result.expect("describe succeeds");
    let names: Vec<&str> = defs.iter().map(|def| def.name.as_str()).collect();
    assert_eq!(names, ["vin_maker", "vin_model_year"]);
    assert!(
        defs.iter()
            .all(|def| def.computed && def.entity == fields::Entity::Vehicle)
    );
    assert_eq!(defs[1].kind, fields::FieldKind::Integer);
}

#[test]
fn vin_decoder_computes_maker_and_model_year_from_a_chinese_vin() {
    let runtime = runtime();
    let loaded = load(&runtime, &VIN_DECODER, World::FieldProvider);
    // LSV: SAIC Volkswagen (China); position 10 `N`: model year 2022.
    let subject = vehicle(&vin("LSVAU2180N2183294"));

    let outcome = runtime.compute_fields(&loaded, call(&runtime, &VIN_DECODER), None, &subject);

    let computed = outcome.result.expect("compute succeeds");
    assert_eq!(
        value(&computed, "vin_maker"),
        Some(&types::FieldValue::Text("SAIC Volkswagen".to_owned()))
    );
    assert_eq!(
        value(&computed, "vin_model_year"),
        Some(&types::FieldValue::Integer(2022))
    );
    assert_eq!(outcome.input_digest.len(), 64);
}

#[test]
fn vin_decoder_reports_a_bad_check_digit_as_an_issue_on_vin() {
    let runtime = runtime();
    let loaded = load(&runtime, &VIN_DECODER, World::FieldProvider);
    let good = vin("LSVAU2180N2183294");
    let wrong_digit = if &good[8..9] == "0" { '1' } else { '0' };
    let bad = format!("{}{wrong_digit}{}", &good[..8], &good[9..]);

    let valid =
        runtime.validate_fields(&loaded, call(&runtime, &VIN_DECODER), None, &vehicle(&good));
    let invalid =
        runtime.validate_fields(&loaded, call(&runtime, &VIN_DECODER), None, &vehicle(&bad));

    assert_eq!(valid.result.expect("validate succeeds"), []);
    let issues = invalid.result.expect("validate succeeds");
    assert_eq!(issues.len(), 1, "{issues:?}");
    assert_eq!(issues[0].field, "vin");
    assert!(
        issues[0].message.contains("check digit"),
        "{}",
        issues[0].message
    );
}

/// `ticket-rules` with `config`: compute reports whether validate ran in its instance.
fn ticket_rules(runtime: &Runtime, config: serde_json::Value) -> Arc<CallContext> {
    Arc::new(CallContext {
        tenant_id: "tenant-runtime".to_owned(),
        installation_id: "installation-ticket-rules".to_owned(),
        plugin: "ticket-rules@0.1.0".to_owned(),
        grants: Default::default(),
        config_json: config.to_string(),
        config,
        limits: runtime.platform.defaults,
        within: None,
    })
}

fn validated_first(computed: &[types::CustomField]) -> Option<&types::FieldValue> {
    value(computed, "validated_first")
}

#[test]
fn validate_and_compute_of_one_record_run_in_one_instance_each_with_its_own_outcome() {
    let runtime = runtime();
    let loaded = load(&runtime, &TICKET_RULES, World::FieldProvider);
    let config = serde_json::json!({ "required": [], "report_visit": true });
    let subject = vehicle(&vin("LSVAU2180N2183294"));

    let (validated, computed) = runtime.validate_and_compute(
        &loaded,
        ticket_rules(&runtime, config.clone()),
        None,
        &subject,
    );
    let alone = runtime.compute_fields(&loaded, ticket_rules(&runtime, config), None, &subject);

    assert_eq!(validated.result.expect("validate succeeds"), []);
    assert_eq!(
        validated_first(&computed.result.expect("compute succeeds")),
        Some(&types::FieldValue::Boolean(true)),
        "compute ran in the instance validate ran in"
    );
    assert_eq!(validated.input_digest, computed.input_digest);
    assert_eq!(
        validated_first(&alone.result.expect("compute succeeds")),
        Some(&types::FieldValue::Boolean(false)),
        "a compute on its own gets a fresh instance"
    );
}

#[test]
fn after_a_validate_that_traps_compute_runs_in_a_fresh_instance() {
    let runtime = runtime();
    let loaded = load(&runtime, &TICKET_RULES, World::FieldProvider);
    let config =
        serde_json::json!({ "required": [], "report_visit": true, "trap_in_validate": true });

    let (validated, computed) = runtime.validate_and_compute(
        &loaded,
        ticket_rules(&runtime, config),
        None,
        &vehicle(&vin("LSVAU2180N2183294")),
    );

    assert!(
        matches!(validated.result, Err(Failure::Trap(_))),
        "{:?}",
        validated.result
    );
    assert_eq!(
        validated_first(&computed.result.expect("compute succeeds")),
        Some(&types::FieldValue::Boolean(false)),
        "the trapped instance is not reused"
    );
}

fn dataset(columns: &[&str], rows: Vec<Vec<widget::Cell>>) -> widget::Dataset {
    widget::Dataset {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        rows,
    }
}

fn text(s: &str) -> widget::Cell {
    widget::Cell::Text(s.to_owned())
}

#[test]
fn kpi_summary_describes_its_dataset_and_renders_a_table_with_a_total_row() {
    let runtime = runtime();
    let loaded = load(&runtime, &KPI_SUMMARY, World::ReportWidget);

    let description = runtime
        .describe_widget(&loaded, call(&runtime, &KPI_SUMMARY))
        .result
        .expect("describe succeeds");
    assert_eq!(
        description.query.measures,
        ["tickets", "open-tickets", "critical-tickets"]
    );
    assert_eq!(description.query.group_by, ["category"]);
    assert_eq!(description.query.period_days, 30);
    let data = dataset(
        &["category", "tickets", "open-tickets", "critical-tickets"],
        vec![
            vec![
                text("safety"),
                widget::Cell::Number(3.0),
                widget::Cell::Number(2.0),
                widget::Cell::Number(3.0),
            ],
            vec![
                text("ev-charging"),
                widget::Cell::Number(12.0),
                widget::Cell::Number(5.0),
                widget::Cell::Empty,
            ],
        ],
    );

    let outcome = runtime.render_widget(&loaded, call(&runtime, &KPI_SUMMARY), &data);

    let widget::Rendering::Table(table) = outcome.result.expect("render succeeds") else {
        panic!("kpi-summary renders a table");
    };
    assert_eq!(table.title, description.title);
    assert_eq!(table.columns, ["Category", "Tickets", "Open", "Critical"]);
    assert_eq!(
        table.rows,
        [
            ["safety", "3", "2", "3"],
            ["ev-charging", "12", "5", ""],
            ["Total", "15", "7", "3"]
        ]
    );
}

#[test]
fn kpi_summary_missing_a_column_is_a_plugin_error_outcome() {
    let runtime = runtime();
    let loaded = load(&runtime, &KPI_SUMMARY, World::ReportWidget);
    let data = dataset(
        &["category", "open-tickets"],
        vec![vec![text("safety"), widget::Cell::Number(1.0)]],
    );

    let outcome = runtime.render_widget(&loaded, call(&runtime, &KPI_SUMMARY), &data);

    let failure = outcome
        .result
        .expect_err("a dataset without `tickets` cannot render");
    assert_eq!(failure.outcome(), "plugin_error");
    assert!(
        !failure.trips_breaker(),
        "a plugin's own error does not count toward suspension"
    );
    let Failure::Plugin(message) = &failure else {
        panic!("expected a plugin error, got {failure:?}")
    };
    assert!(
        message.starts_with("invalid-input") && message.contains("`tickets`"),
        "{message}"
    );
}

#[test]
fn loading_a_routing_component_as_a_field_provider_is_rejected_as_the_wrong_world() {
    let runtime = runtime();

    let err = runtime
        .load(&VIP_ROUTING.component(), World::FieldProvider)
        .err()
        .expect("the wrong world is rejected");

    assert!(
        matches!(
            err,
            ComponentError::WrongWorld {
                world: "field-provider",
                ..
            }
        ),
        "{err}"
    );
    assert!(
        runtime
            .load(&VIP_ROUTING.component(), World::RoutingRule)
            .is_ok(),
        "it loads as what it is"
    );
}

#[test]
fn the_same_bytes_are_compiled_once_and_shared() {
    let runtime = runtime();

    let first = load(&runtime, &VIN_DECODER, World::FieldProvider);
    let second = load(&runtime, &VIN_DECODER, World::FieldProvider);

    assert!(Arc::ptr_eq(&first, &second));
    assert!(runtime.cached(&first.sha256).is_some());
}

#[test]
fn components_no_installation_holds_leave_memory_beyond_the_warm_few() {
    let runtime = Runtime::new(PlatformLimits {
        warm_components: 1,
        ..PlatformLimits::default()
    })
    .expect("a runtime");
    // Held, as an installation's snapshot holds its component.
    let held = load(&runtime, &VIP_ROUTING, World::RoutingRule);
    // Loaded and let go, one after the other: only the most recent stays warm.
    drop(load(&runtime, &KPI_SUMMARY, World::ReportWidget));
    drop(load(&runtime, &VIN_DECODER, World::FieldProvider));
    drop(load(&runtime, &TICKET_RULES, World::FieldProvider));

    assert_eq!(runtime.loaded_count(), 2, "the held one and the warm one");
    let sha256 = |plugin: &Plugin| axle_host::domain::ids::sha256_hex(&plugin.component());
    assert!(runtime.cached(&sha256(&TICKET_RULES)).is_some());
    assert!(runtime.cached(&sha256(&KPI_SUMMARY)).is_none());
    assert!(runtime.cached(&sha256(&VIN_DECODER)).is_none());
    // A lookup counts as a use: the held one becomes the warm one.
    assert!(runtime.cached(&sha256(&VIP_ROUTING)).is_some());
    assert_eq!(runtime.loaded_count(), 1);
    drop(held);
}
