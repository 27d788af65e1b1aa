//! Hostile plugins cannot take the host down, lose a ticket or reach another tenant: each
//! failure is contained, audited with its outcome and input digest, and counted by the
//! circuit breaker. Their nodes run with production's limits (a 50 ms default deadline),
//! not the suite's patient ones: the deadline is part of what they test.

use axle_host::runtime::limits::PlatformLimits;
use axle_tests::{ADMIN_TOKEN, HOSTILE, Tenant, TestApp, crafted, tags};
use serde_json::{Value, json};

/// Installs the hostile guest in `mode` with `grants`; returns the installation id.
async fn install_hostile(app: &TestApp, tenant: &Tenant, mode: &str, grants: &[&str]) -> String {
    let installation = app
        .install(tenant, &HOSTILE, json!({ "mode": mode }), grants)
        .await;
    installation["id"]
        .as_str()
        .expect("installation id")
        .to_owned()
}

/// Installs the crafted rule that spreads memory over two memories; returns its id.
async fn install_multi_memory(app: &TestApp, tenant: &Tenant) -> String {
    let installation = app
        .install_component(
            tenant,
            "multi-memory",
            &crafted::manifest("multi-memory"),
            crafted::multi_memory_rule(),
            json!({}),
            &[],
        )
        .await;
    installation["id"]
        .as_str()
        .expect("installation id")
        .to_owned()
}

/// Raises the installation's deadline to the platform's longest, 2 s (the tenant `slug`'s
/// budget with it), for tests about limits other than time: on a loaded 2-core machine a
/// debug host can take longer than the 50 ms default, and a flood of 100,000 log lines or
/// 8 MB of output once took 1.5 s with both backends' passes running side by side.
async fn long_deadline(app: &TestApp, tenant: &Tenant, slug: &str, id: &str) {
    app.put_json(
        ADMIN_TOKEN,
        &format!("/api/v1/tenants/{slug}/plugin-policy"),
        &json!({ "budget": { "deadline_ms": 2_000 } }),
    )
    .await
    .expect(200);
    app.patch(
        &tenant.key,
        &format!("/api/v1/installations/{id}"),
        &json!({ "limits": { "deadline_ms": 2_000 } }),
    )
    .await
    .expect(200);
}

/// The installation's audited invocations, newest first.
async fn invocations(app: &TestApp, tenant: &Tenant, installation: &str) -> Vec<Value> {
    let body = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{installation}/invocations"),
        )
        .await
        .expect(200);
    body["items"].as_array().expect("an items list").clone()
}

async fn installation(app: &TestApp, tenant: &Tenant, id: &str) -> Value {
    app.get(&tenant.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(200)
}

/// Creates a ticket and shows it was saved: 201, then readable by id.
async fn saved_ticket(app: &TestApp, tenant: &Tenant, description: &str) -> Value {
    let ticket = app
        .ticket(tenant, json!({ "description": description }))
        .await;
    let id = ticket["id"].as_str().expect("ticket id");
    let fetched = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}"))
        .await
        .expect(200);
    assert_eq!(fetched["description"], description);
    ticket
}

/// The host still serves: the health check passes and another ticket is saved.
async fn assert_host_stays_up(app: &TestApp, tenant: &Tenant) {
    let health = app.get("", "/healthz").await.expect(200);
    assert_eq!(health["status"], "ok");
    saved_ticket(app, tenant, "Follow-up: the infotainment screen freezes").await;
}

fn is_sha256(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|hex| hex.len() == 64 && hex.chars().all(|c| c.is_ascii_hexdigit()))
}

/// Asserts that the routing call on `ticket` is audited with `outcome`, a detail and the
/// input digest; returns the audit row.
async fn assert_failure_recorded(
    app: &TestApp,
    tenant: &Tenant,
    installation_id: &str,
    ticket: &Value,
    outcome: &str,
) -> Value {
    let items = invocations(app, tenant, installation_id).await;
    let invocation = items
        .iter()
        .find(|row| row["subject_id"] == ticket["id"])
        .expect("an audited invocation for the ticket");
    assert_eq!(invocation["outcome"], outcome, "{invocation}");
    let installed = installation(app, tenant, installation_id).await;
    assert_eq!(
        invocation["plugin"],
        format!(
            "{}@{}",
            installed["plugin"].as_str().unwrap(),
            installed["version"].as_str().unwrap()
        )
    );
    assert_eq!(invocation["hook"], "route");
    assert_eq!(invocation["installation_id"], installation_id);
    assert!(is_sha256(&invocation["input_digest"]), "{invocation}");
    assert!(
        invocation["detail"]
            .as_str()
            .is_some_and(|detail| !detail.is_empty()),
        "{invocation}"
    );
    invocation.clone()
}

#[tokio::test]
async fn endless_loop_times_out_at_the_deadline_and_the_ticket_is_saved() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-loop").await;
    let id = install_hostile(&app, &tenant, "loop", &[]).await;

    let ticket = saved_ticket(&app, &tenant, "Engine warning light stays on").await;

    assert_eq!(ticket["decisions"], json!([]));
    let invocation = assert_failure_recorded(&app, &tenant, &id, &ticket, "timeout").await;
    assert!(
        invocation["detail"].as_str().unwrap().contains("50 ms"),
        "{invocation}"
    );
    assert!(
        invocation["duration_us"].as_i64().unwrap() >= 40_000,
        "{invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn memory_bomb_hits_the_memory_cap_and_the_ticket_is_saved() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-memory").await;
    let id = install_hostile(&app, &tenant, "memory-bomb", &[]).await;
    long_deadline(&app, &tenant, "oem-memory", &id).await;

    let ticket = saved_ticket(&app, &tenant, "Battery drains overnight").await;

    let invocation = assert_failure_recorded(&app, &tenant, &id, &ticket, "memory_limit").await;
    assert!(
        invocation["detail"].as_str().unwrap().contains("32 MiB"),
        "{invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn huge_output_is_refused_over_the_output_cap_and_the_ticket_is_saved() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-output").await;
    let upload = app
        .upload(&tenant, &HOSTILE.manifest(), HOSTILE.component())
        .await;
    assert_eq!(upload.status, 201, "{upload:?}");
    // Building and lifting 8 MB of tags can outlast the 50 ms default on a busy machine
    // with a debug host: a long deadline makes the output cap the only limit in play.
    let installed = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "hostile", "config": { "mode": "huge-output" } }),
        )
        .await
        .expect(201);
    let id = installed["id"].as_str().unwrap();
    long_deadline(&app, &tenant, "oem-output", id).await;

    let ticket = saved_ticket(&app, &tenant, "Navigation maps are out of date").await;

    assert_eq!(
        ticket["decisions"],
        json!([]),
        "no part of an oversized decision is applied"
    );
    assert!(tags(&ticket).is_empty());
    let invocation = assert_failure_recorded(&app, &tenant, id, &ticket, "output_too_large").await;
    assert!(
        invocation["detail"]
            .as_str()
            .unwrap()
            .contains("262144-byte limit"),
        "{invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn panicking_plugin_traps_and_the_ticket_is_saved() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-panic").await;
    let id = install_hostile(&app, &tenant, "panic", &[]).await;

    let ticket = saved_ticket(&app, &tenant, "Rear camera shows a black screen").await;

    let invocation = assert_failure_recorded(&app, &tenant, &id, &ticket, "trap").await;
    assert!(
        invocation["detail"]
            .as_str()
            .unwrap()
            .starts_with("trapped"),
        "{invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn ungranted_capability_call_is_denied_to_the_guest_and_never_reaches_the_data() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-ungranted").await;
    let id = install_hostile(&app, &tenant, "ungranted", &[]).await;

    let ticket = saved_ticket(&app, &tenant, "Key fob not detected").await;

    assert_eq!(tags(&ticket), ["kv-denied"]);
    let reason = ticket["decisions"][0]["decision"]["reason"]
        .as_str()
        .expect("the decision's reason");
    assert!(
        reason.contains("capability `kv` was not granted"),
        "{reason}"
    );
    let timeline = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/tickets/{}/timeline",
                ticket["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    let decided = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "routing.decided")
        .expect("the denial is on the timeline");
    assert_eq!(decided["actor"], "hostile@0.1.0");
    assert!(
        decided["data"]["reason"].as_str().unwrap().contains("`kv`"),
        "{decided}"
    );
    let audited = invocations(&app, &tenant, &id).await;
    assert_eq!(
        audited[0]["outcome"], "ok",
        "the guest handled the denial itself"
    );
    let stored = axle_host::store::kv::get(&app.app.core.db, &tenant.id, &id, "probe")
        .await
        .expect("read kv");
    assert_eq!(stored, None, "the denied write never reached storage");
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn log_flood_is_cut_at_the_log_budget_and_the_plugin_still_routes() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-logs").await;
    let id = install_hostile(&app, &tenant, "log-flood", &[]).await;
    // 10,000 log calls take a while on a loaded machine; this test is about the log
    // budget, not the deadline.
    app.patch(
        &tenant.key,
        &format!("/api/v1/installations/{id}"),
        &json!({ "limits": { "deadline_ms": 1000 } }),
    )
    .await
    .expect(200);

    let ticket = saved_ticket(&app, &tenant, "Windshield wipers stop mid-swipe").await;

    assert_eq!(tags(&ticket), ["hostile-ok"]);
    let audited = invocations(&app, &tenant, &id).await;
    assert_eq!(audited[0]["outcome"], "ok", "{}", audited[0]);
    let detail = audited[0]["detail"].as_str().unwrap_or_default();
    assert!(
        detail.contains("log lines dropped over the log budget"),
        "{detail}"
    );
    assert!(is_sha256(&audited[0]["input_digest"]));
    assert_eq!(
        installation(&app, &tenant, &id).await["consecutive_failures"],
        0
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn circuit_breaker_suspends_after_five_failures_in_a_row_until_an_admin_re_enables_it() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    assert_eq!(app.app.core.runtime.platform.failures_before_suspend, 5);
    let tenant = app.tenant("oem-breaker").await;
    let id = install_hostile(&app, &tenant, "panic", &[]).await;

    for n in 1..=5 {
        saved_ticket(&app, &tenant, &format!("Door rattle, report {n}")).await;
    }

    let suspended = installation(&app, &tenant, &id).await;
    assert_eq!(suspended["status"], "suspended");
    let reason = suspended["status_reason"]
        .as_str()
        .expect("a status reason");
    assert!(
        reason.contains("5 failures within") && reason.contains("trapped"),
        "{reason}"
    );
    assert_eq!(invocations(&app, &tenant, &id).await.len(), 5);

    let ticket = saved_ticket(&app, &tenant, "Door rattle, report 6").await;
    assert_eq!(ticket["decisions"], json!([]));
    assert_eq!(
        invocations(&app, &tenant, &id).await.len(),
        5,
        "a suspended installation is not invoked"
    );

    let enabled = app
        .patch(
            &tenant.key,
            &format!("/api/v1/installations/{id}"),
            &json!({ "enabled": true }),
        )
        .await;
    let enabled = enabled.expect(200);
    assert_eq!(enabled["status"], "enabled");
    assert_eq!(enabled["status_reason"], Value::Null);
    assert_eq!(enabled["consecutive_failures"], 0);

    saved_ticket(&app, &tenant, "Door rattle, report 7").await;
    assert_eq!(
        invocations(&app, &tenant, &id).await.len(),
        6,
        "re-enabled, it runs again"
    );
    let after = installation(&app, &tenant, &id).await;
    assert_eq!(after["status"], "enabled");
    assert_eq!(after["consecutive_failures"], 1);
}

#[tokio::test]
async fn failures_within_the_window_suspend_even_with_successes_between_them() {
    let app = TestApp::spawn_with(PlatformLimits {
        failures_before_suspend: 2,
        ..PlatformLimits::default()
    })
    .await;
    let tenant = app.tenant("oem-window").await;
    let id = install_hostile(&app, &tenant, "panic", &[]).await;
    let path = format!("/api/v1/installations/{id}");

    saved_ticket(&app, &tenant, "Seat heater stays cold").await;
    assert_eq!(
        installation(&app, &tenant, &id).await["consecutive_failures"],
        1
    );
    app.patch(&tenant.key, &path, &json!({ "config": { "mode": "ok" } }))
        .await
        .expect(200);
    saved_ticket(&app, &tenant, "Seat heater stays cold again").await;
    assert_eq!(
        installation(&app, &tenant, &id).await["consecutive_failures"],
        0,
        "a success ends the run of failures in a row"
    );
    app.patch(
        &tenant.key,
        &path,
        &json!({ "config": { "mode": "panic" } }),
    )
    .await
    .expect(200);
    saved_ticket(&app, &tenant, "Seat heater stays cold a third time").await;

    let current = installation(&app, &tenant, &id).await;
    assert_eq!(
        current["status"], "suspended",
        "two failures within the window: {current}"
    );
    assert!(
        current["status_reason"]
            .as_str()
            .unwrap()
            .contains("2 failures within 60 s"),
        "{current}"
    );
}

#[tokio::test]
async fn failures_further_apart_than_the_window_do_not_suspend() {
    let app = TestApp::spawn_with(PlatformLimits {
        failures_before_suspend: 2,
        failure_window: std::time::Duration::from_secs(1),
        ..PlatformLimits::default()
    })
    .await;
    let tenant = app.tenant("oem-apart").await;
    let id = install_hostile(&app, &tenant, "panic", &[]).await;

    saved_ticket(&app, &tenant, "Seat heater stays cold").await;
    tokio::time::sleep(std::time::Duration::from_millis(1_300)).await;
    saved_ticket(&app, &tenant, "Seat heater stays cold again").await;

    let current = installation(&app, &tenant, &id).await;
    assert_eq!(current["status"], "enabled", "{current}");
    assert_eq!(current["consecutive_failures"], 2);
}

#[tokio::test]
async fn deadline_can_be_raised_per_installation_and_limits_over_the_maximum_are_rejected() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-deadline").await;
    let reply = app
        .upload(&tenant, &HOSTILE.manifest(), HOSTILE.component())
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply);
    let install = |limits: Value| json!({ "plugin": "hostile", "config": { "mode": "loop" }, "limits": limits });

    let too_long = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &install(json!({ "deadline_ms": 60_000 })),
        )
        .await;
    assert_eq!(too_long.status, 400, "{:?}", too_long);
    assert!(
        too_long
            .error_message()
            .contains("deadline_ms = 60000 is over the platform maximum of 2000")
    );
    let zero = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &install(json!({ "memory_mib": 0 })),
        )
        .await;
    assert_eq!(zero.status, 400, "{:?}", zero);
    assert!(zero.error_message().contains("memory_mib"));
    let unknown = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &install(json!({ "cpu_percent": 50 })),
        )
        .await;
    assert_eq!(unknown.status, 400, "{:?}", unknown);

    let installed = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &install(json!({ "deadline_ms": 150 })),
        )
        .await
        .expect(201);
    assert_eq!(installed["limits"], json!({ "deadline_ms": 150 }));
    let id = installed["id"].as_str().unwrap();
    let ticket = saved_ticket(&app, &tenant, "Sunroof will not close").await;
    let invocation = assert_failure_recorded(&app, &tenant, id, &ticket, "timeout").await;
    assert!(
        invocation["detail"].as_str().unwrap().contains("150 ms"),
        "{invocation}"
    );
    assert!(
        invocation["duration_us"].as_i64().unwrap() >= 140_000,
        "{invocation}"
    );

    let path = format!("/api/v1/installations/{id}");
    let over = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "limits": { "memory_mib": 1024 } }),
        )
        .await;
    assert_eq!(over.status, 400, "{:?}", over);
    assert!(
        over.error_message()
            .contains("memory_mib = 1024 is over the platform maximum of 256")
    );
    assert_eq!(
        installation(&app, &tenant, id).await["limits"],
        json!({ "deadline_ms": 150 }),
        "unchanged"
    );
    app.patch(
        &tenant.key,
        &path,
        &json!({ "limits": { "deadline_ms": 20 } }),
    )
    .await
    .expect(200);
    let ticket = saved_ticket(&app, &tenant, "Sunroof will not open").await;
    let invocation = assert_failure_recorded(&app, &tenant, id, &ticket, "timeout").await;
    assert!(
        invocation["detail"].as_str().unwrap().contains("20 ms"),
        "{invocation}"
    );
}

/// Bytes that look random but are the same in every run.
fn noise(len: usize) -> Vec<u8> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}

#[tokio::test]
async fn malformed_wasm_uploads_get_400_with_a_reason_and_nothing_is_stored() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-malformed").await;
    let component = HOSTILE.component();
    let cases: [(&str, Vec<u8>, &str); 4] = [
        ("random bytes", noise(4096), "not WebAssembly"),
        (
            "a zip archive",
            b"PK\x03\x04\x14\0\0\0\x08\0plugin.wasm".to_vec(),
            "not WebAssembly",
        ),
        (
            "a core module",
            b"\0asm\x01\0\0\0".to_vec(),
            "build it for the wasm32-wasip2 target",
        ),
        (
            "a truncated component",
            component[..component.len() / 2].to_vec(),
            "the component is invalid",
        ),
    ];

    for (what, bytes, reason) in cases {
        let reply = app.upload(&tenant, &HOSTILE.manifest(), bytes).await;
        assert_eq!(reply.status, 400, "{what}: {:?}", reply);
        assert_eq!(reply.error_code(), "invalid_component", "{what}");
        assert!(
            reply.error_message().contains(reason),
            "{what}: {}",
            reply.error_message()
        );
    }

    let plugins = app.get(&tenant.key, "/api/v1/plugins").await.expect(200);
    assert_eq!(plugins["items"], json!([]));
    let install = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "hostile", "config": { "mode": "ok" } }),
        )
        .await;
    assert_eq!(install.status, 404, "{:?}", install);
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn plugins_failing_in_one_tenant_do_not_affect_another_tenants_plugin_calls() {
    let app = TestApp::spawn_with(PlatformLimits {
        failures_before_suspend: 2,
        ..PlatformLimits::default()
    })
    .await;
    let bomb = app.tenant("oem-bomb").await;
    let spin = app.tenant("oem-spin").await;
    let calm = app.tenant("oem-calm").await;
    let bomb_id = install_hostile(&app, &bomb, "memory-bomb", &[]).await;
    let spin_id = install_hostile(&app, &spin, "loop", &[]).await;
    let calm_id = install_hostile(&app, &calm, "ok", &[]).await;
    // This test is about isolation, not deadlines: on a loaded 2-core machine the healthy
    // plugin shares the CPU with a spinning one, and the bomb must reach its memory cap
    // before any deadline, so give both room.
    long_deadline(&app, &calm, "oem-calm", &calm_id).await;
    long_deadline(&app, &bomb, "oem-bomb", &bomb_id).await;

    for n in 1..=3 {
        let description = format!("Tyre pressure warning, report {n}");
        let body = json!({ "description": description });
        let (bombed, spun, calmed) = tokio::join!(
            app.ticket(&bomb, body.clone()),
            app.ticket(&spin, body.clone()),
            app.ticket(&calm, body.clone())
        );
        assert!(tags(&bombed).is_empty());
        assert!(tags(&spun).is_empty());
        assert_eq!(tags(&calmed), ["hostile-ok"], "report {n}");
    }

    for (tenant, id, outcome) in [
        (&bomb, &bomb_id, "memory_limit"),
        (&spin, &spin_id, "timeout"),
    ] {
        let failed = installation(&app, tenant, id).await;
        assert_eq!(failed["status"], "suspended", "{failed}");
        let audited = invocations(&app, tenant, id).await;
        assert_eq!(audited.len(), 2);
        assert!(
            audited.iter().all(|row| row["outcome"] == outcome),
            "{audited:?}"
        );
    }
    let healthy = installation(&app, &calm, &calm_id).await;
    assert_eq!(healthy["status"], "enabled");
    assert_eq!(healthy["consecutive_failures"], 0);
    let audited = invocations(&app, &calm, &calm_id).await;
    assert_eq!(audited.len(), 3);
    assert!(
        audited.iter().all(|row| row["outcome"] == "ok"),
        "{audited:?}"
    );
    let foreign = app
        .get(
            &calm.key,
            &format!("/api/v1/installations/{bomb_id}/invocations"),
        )
        .await;
    assert_eq!(foreign.status, 404, "another tenant's audit is not visible");
}

#[tokio::test]
async fn a_plugin_sleeping_through_wasi_is_stopped_at_its_deadline_and_the_ticket_is_saved() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-sleep").await;
    let id = install_hostile(&app, &tenant, "sleep", &[]).await;

    // An hour's sleep through wasi:clocks and wasi:io/poll, which the epoch interrupt
    // alone would not stop: the sleep ends at the deadline and the call with it.
    let ticket = saved_ticket(&app, &tenant, "Radio loses presets overnight").await;

    assert_eq!(ticket["decisions"], json!([]));
    let invocation = assert_failure_recorded(&app, &tenant, &id, &ticket, "timeout").await;
    let took = invocation["duration_us"].as_i64().unwrap();
    assert!(
        (40_000..10_000_000).contains(&took),
        "ended at the 50 ms deadline, not after an hour: {invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn empty_log_lines_are_charged_so_a_flood_of_them_is_cut_and_the_plugin_still_routes() {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-empty-logs").await;
    let id = install_hostile(&app, &tenant, "empty-log-flood", &[]).await;
    long_deadline(&app, &tenant, "oem-empty-logs", &id).await;

    let ticket = saved_ticket(&app, &tenant, "Seat heater stays on").await;

    assert_eq!(tags(&ticket), ["hostile-ok"]);
    let audited = invocations(&app, &tenant, &id).await;
    assert_eq!(audited[0]["outcome"], "ok", "{}", audited[0]);
    let detail = audited[0]["detail"].as_str().unwrap_or_default();
    let dropped: u64 = detail
        .split_whitespace()
        .next()
        .and_then(|count| count.parse().ok())
        .unwrap_or_else(|| panic!("a count of dropped lines: {detail}"));
    // 100,000 empty lines; at most the per-call line count got through.
    let logged = 100_000 - dropped;
    assert!(
        (1..=u64::from(axle_host::runtime::sandbox::LOG_LINES_PER_CALL)).contains(&logged),
        "{detail}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn a_plugin_holding_host_resources_without_end_is_stopped_at_the_cap_and_the_ticket_is_saved()
{
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-resources").await;
    let id = install_hostile(&app, &tenant, "resource-flood", &[]).await;
    long_deadline(&app, &tenant, "oem-resources", &id).await;

    let ticket = saved_ticket(&app, &tenant, "Sunroof leaks in the rain").await;

    assert_eq!(ticket["decisions"], json!([]));
    let invocation = assert_failure_recorded(&app, &tenant, &id, &ticket, "trap").await;
    assert!(
        invocation["duration_us"].as_i64().unwrap() < 1_000_000,
        "stopped at the cap, not at the deadline: {invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn sleeping_flooding_hoarding_and_memory_spreading_plugins_leave_another_tenants_plugin_unaffected()
 {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let calm = app.tenant("oem-calm-neighbour").await;
    let calm_id = install_hostile(&app, &calm, "ok", &[]).await;
    // One call before the neighbours arrive: a component's first call also pays for its
    // first instance, and on a loaded CI machine report 1 once came back untagged, past the
    // 50 ms deadline. What is under test is the neighbours' effect on warm calls.
    let warm = app
        .ticket(
            &calm,
            json!({ "description": "Brake squeal, before the neighbours" }),
        )
        .await;
    assert_eq!(tags(&warm), ["hostile-ok"]);
    let mut hostile = Vec::new();
    for mode in ["sleep", "empty-log-flood", "resource-flood"] {
        let tenant = app.tenant(&format!("oem-{mode}")).await;
        install_hostile(&app, &tenant, mode, &[]).await;
        hostile.push(tenant);
    }
    let spreading = app.tenant("oem-multi-memory").await;
    install_multi_memory(&app, &spreading).await;
    hostile.push(spreading);

    for n in 1..=3 {
        let body = json!({ "description": format!("Brake squeal, report {n}") });
        let noisy = hostile
            .iter()
            .map(|tenant| app.ticket(tenant, body.clone()));
        let (calmed, _) = tokio::join!(
            app.ticket(&calm, body.clone()),
            futures_util::future::join_all(noisy)
        );
        assert_eq!(tags(&calmed), ["hostile-ok"], "report {n}");
    }

    let audited = invocations(&app, &calm, &calm_id).await;
    assert_eq!(audited.len(), 4);
    assert!(
        audited.iter().all(|row| row["outcome"] == "ok"),
        "the calm plugin met its 50 ms deadline every time: {audited:?}"
    );
    assert_eq!(
        installation(&app, &calm, &calm_id).await["consecutive_failures"],
        0
    );
}

#[tokio::test]
async fn a_plugin_spreading_memory_over_two_memories_is_stopped_at_their_summed_cap_and_the_ticket_is_saved()
 {
    let app = TestApp::spawn_with(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-multi-memory").await;
    let id = &install_multi_memory(&app, &tenant).await;
    long_deadline(&app, &tenant, "oem-multi-memory", id).await;

    // The second memory grows to the cap; under a cap per memory the first would then
    // grow too and the rule would answer. The cap is on their sum, so it traps.
    let ticket = saved_ticket(&app, &tenant, "Infotainment reboots while driving").await;

    assert_eq!(ticket["decisions"], json!([]));
    let invocation = assert_failure_recorded(&app, &tenant, id, &ticket, "memory_limit").await;
    assert!(
        invocation["detail"].as_str().unwrap().contains("32 MiB"),
        "{invocation}"
    );
    assert_host_stays_up(&app, &tenant).await;
}

#[tokio::test]
async fn a_component_slow_to_compile_is_refused_at_the_timeout_while_tickets_and_other_tenants_plugins_carry_on()
 {
    // The calm tenant's plugin must load within the 2 s limit too, which a cold compile on
    // a busy CI machine can miss: a node with the platform's 30 s limit compiles it into
    // the suite's shared cache first, so the node under test loads it from disk.
    let warm = TestApp::spawn_with(PlatformLimits::default()).await;
    let warm_tenant = warm.tenant("oem-warms-the-cache").await;
    install_hostile(&warm, &warm_tenant, "ok", &[]).await;
    drop(warm);
    let app = std::sync::Arc::new(
        TestApp::spawn_with(PlatformLimits {
            compile_timeout: std::time::Duration::from_secs(2),
            ..PlatformLimits::default()
        })
        .await,
    );
    let calm = app.tenant("oem-calm-compiler").await;
    let calm_id = install_hostile(&app, &calm, "ok", &[]).await;
    let slow = app.tenant("oem-slow-compile").await;

    let upload = {
        let (app, slow) = (app.clone(), slow.clone());
        tokio::spawn(async move {
            app.upload(
                &slow,
                &crafted::manifest("slow-compile"),
                crafted::slow_compile_rule(),
            )
            .await
        })
    };
    // While the compile runs, both tenants' tickets are saved and the calm tenant's
    // plugin answers within its 50 ms deadline every time.
    for n in 1..=3 {
        let body = json!({ "description": format!("Door lock sticks, report {n}") });
        let (calmed, slowed) =
            tokio::join!(app.ticket(&calm, body.clone()), app.ticket(&slow, body));
        assert_eq!(tags(&calmed), ["hostile-ok"], "report {n}");
        assert_eq!(slowed["status"], "new", "report {n}");
    }
    let refused = upload.await.unwrap();

    assert_eq!(refused.status, 400, "{refused:?}");
    assert!(
        refused
            .error_message()
            .contains("compiling the component took longer than 2s"),
        "{refused:?}"
    );
    let plugins = app.get(&slow.key, "/api/v1/plugins").await.expect(200);
    assert_eq!(plugins["items"], json!([]), "nothing was stored");
    let audited = invocations(&app, &calm, &calm_id).await;
    assert_eq!(audited.len(), 3);
    assert!(
        audited.iter().all(|row| row["outcome"] == "ok"),
        "the calm plugin met its 50 ms deadline every time: {audited:?}"
    );
}
