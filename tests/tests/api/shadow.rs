//! Shadow runs and replay: a candidate version sees the same routing inputs as the
//! installed one, its outputs are compared and never applied.

use std::time::Duration;

use axle_tests::{HOSTILE, Plugin, SAFETY_ESCALATION, Tenant, TestApp, VIP_ROUTING, agent_key};
use serde_json::{Value, json};

/// Uploads `plugin`'s component again as `version`.
async fn upload_version(app: &TestApp, tenant: &Tenant, plugin: &Plugin, version: &str) {
    let manifest = plugin
        .manifest()
        .replace("version = \"0.1.0\"", &format!("version = \"{version}\""));
    let reply = app.upload(tenant, &manifest, plugin.component()).await;
    assert!(reply.status == 201 || reply.status == 200, "{reply:?}");
}

fn id(value: &Value) -> String {
    value["id"].as_str().expect("id").to_owned()
}

fn report_path(installation: &str, source: &str) -> String {
    format!("/api/v1/installations/{installation}/shadow-report?source={source}")
}

/// The live report once it counts `runs` comparisons (shadow runs finish after the
/// ticket is answered).
async fn live_report(app: &TestApp, tenant: &Tenant, installation: &str, runs: u64) -> Value {
    for _ in 0..200 {
        let report = app
            .get(&tenant.key, &report_path(installation, "live"))
            .await
            .expect(200);
        if report["runs"].as_u64() == Some(runs) {
            return report;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the live shadow report never reached {runs} runs");
}

async fn shadow(app: &TestApp, tenant: &Tenant, installation: &str, body: Value) -> Value {
    app.put_json(
        &tenant.key,
        &format!("/api/v1/installations/{installation}/shadow"),
        &body,
    )
    .await
    .expect(200)
}

async fn vip_and_regular(app: &TestApp, tenant: &Tenant) -> (Value, Value) {
    let vip = app
        .customer(tenant, json!({ "name": "张伟", "vip": true }))
        .await;
    let regular = app.customer(tenant, json!({ "name": "Wu Jun" })).await;
    (vip, regular)
}

#[tokio::test]
async fn a_shadow_candidate_is_compared_on_live_tickets_but_never_applied() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-shadow").await;
    let vip_rule = app
        .install(
            &tenant,
            &VIP_ROUTING,
            json!({ "team": "vip-care" }),
            &["records"],
        )
        .await;
    let safety = app
        .install(
            &tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    upload_version(&app, &tenant, &VIP_ROUTING, "0.2.0").await;
    upload_version(&app, &tenant, &SAFETY_ESCALATION, "0.2.0").await;
    let (vip, regular) = vip_and_regular(&app, &tenant).await;

    let shown = shadow(
        &app,
        &tenant,
        &id(&vip_rule),
        json!({ "version": "0.2.0", "config": { "team": "vip-gold" } }),
    )
    .await;
    assert_eq!(shown["version"], "0.1.0");
    assert_eq!(shown["shadow"]["version"], "0.2.0");
    assert_eq!(shown["shadow"]["config"]["team"], "vip-gold");
    shadow(
        &app,
        &tenant,
        &id(&safety),
        json!({ "version": "0.2.0", "config": { "default_manager": "+8613999999999" } }),
    )
    .await;

    // Two VIP tickets (the candidate picks another team) and one regular ticket (both
    // versions decide nothing): one run in three agrees.
    let mut tickets = Vec::new();
    for (customer, text) in [
        (&vip, "刹车踏板发软 soft brake pedal"),
        (&vip, "CarPlay 连接断开"),
        (&regular, "CarPlay disconnects"),
    ] {
        tickets.push(
            app.ticket(
                &tenant,
                json!({ "description": text, "customer_id": customer["id"] }),
            )
            .await,
        );
    }
    assert_eq!(tickets[0]["team"], "vip-care");
    assert_eq!(tickets[1]["team"], "vip-care");
    assert_eq!(tickets[0]["queue"], "safety");

    let report = live_report(&app, &tenant, &id(&vip_rule), 3).await;
    assert_eq!(report["installed_version"], "0.1.0");
    assert_eq!(report["candidate_version"], "0.2.0");
    assert_eq!(report["agreed"], 1);
    let rate = report["agreement_rate"].as_f64().unwrap();
    assert!((rate - 1.0 / 3.0).abs() < 1e-9, "{report}");
    let differences = report["differences"].as_array().unwrap();
    assert_eq!(differences.len(), 2, "{report}");
    for difference in differences {
        assert_eq!(difference["installed"]["decision"]["team"], "vip-care");
        assert_eq!(difference["candidate"]["decision"]["team"], "vip-gold");
        assert_eq!(difference["input"]["customer"]["name"], "张伟");
    }
    assert_eq!(report["errors"]["candidate"]["count"], 0);
    assert!(report["latency_us"]["candidate"]["p50"].as_i64().is_some());
    assert!(report["latency_us"]["installed"]["p99"].as_i64().is_some());

    // safety-escalation's candidate decides the same, and its SMS to another manager
    // is never queued.
    let safety_report = live_report(&app, &tenant, &id(&safety), 3).await;
    assert_eq!(safety_report["agreed"], 3, "{safety_report}");
    let view = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}", id(&tickets[0])))
        .await
        .expect(200);
    let recipients: Vec<&str> = view["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["to"].as_str().unwrap())
        .collect();
    assert_eq!(recipients, vec!["+8613800000000"], "{view}");
    let deciders: Vec<&str> = view["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["plugin"].as_str().unwrap())
        .collect();
    assert!(
        deciders.iter().all(|p| p.ends_with("@0.1.0")),
        "{deciders:?}"
    );

    // Stopping the shadow keeps the report but runs the candidate no more.
    let stopped = app
        .delete(
            &tenant.key,
            &format!("/api/v1/installations/{}/shadow", id(&vip_rule)),
        )
        .await
        .expect(200);
    assert_eq!(stopped["shadow"], json!(null));
    app.ticket(
        &tenant,
        json!({ "description": "noise", "customer_id": vip["id"] }),
    )
    .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let after = app
        .get(&tenant.key, &report_path(&id(&vip_rule), "live"))
        .await
        .expect(200);
    assert_eq!(after["runs"], 3);
}

#[tokio::test]
async fn a_trapping_candidate_shows_errors_for_itself_only_and_never_suspends_the_live_rule() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-trap").await;
    let hostile = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    shadow(
        &app,
        &tenant,
        &id(&hostile),
        json!({ "version": "0.2.0", "config": { "mode": "panic" } }),
    )
    .await;
    // More tickets than the circuit breaker's threshold.
    for n in 0..7 {
        let ticket = app
            .ticket(&tenant, json!({ "description": format!("工单 {n}") }))
            .await;
        assert!(
            ticket["tags"]
                .as_array()
                .unwrap()
                .contains(&json!("hostile-ok")),
            "{ticket}"
        );
    }
    let report = live_report(&app, &tenant, &id(&hostile), 7).await;
    assert_eq!(report["agreed"], 0);
    assert_eq!(report["errors"]["candidate"]["count"], 7);
    assert_eq!(report["errors"]["installed"]["count"], 0);
    let sample = report["errors"]["candidate"]["samples"][0]["error"]
        .as_str()
        .unwrap();
    assert!(
        sample.contains("panicked") || sample.contains("trap"),
        "{sample}"
    );
    assert_eq!(
        report["differences"][0]["installed"]["decision"]["tags"][0],
        "hostile-ok"
    );

    let live = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{}", id(&hostile)),
        )
        .await
        .expect(200);
    assert_eq!(live["status"], "enabled", "{live}");
    assert_eq!(live["consecutive_failures"], 0);
}

#[tokio::test]
async fn promoting_the_candidate_makes_it_live_and_ends_the_shadow_run() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-promote").await;
    let rule = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    let path = format!("/api/v1/installations/{}/shadow/promote", id(&rule));
    let nothing = app.post(&tenant.key, &path, &json!({})).await;
    assert_eq!(nothing.status, 409, "{nothing:?}");

    shadow(&app, &tenant, &id(&rule), json!({ "version": "0.2.0" })).await;
    let promoted = app.post(&tenant.key, &path, &json!({})).await.expect(200);
    assert_eq!(promoted["version"], "0.2.0");
    assert_eq!(promoted["shadow"], json!(null));

    let ticket = app
        .ticket(&tenant, json!({ "description": "after promotion" }))
        .await;
    let view = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    assert_eq!(view["decisions"][0]["plugin"], "hostile@0.2.0", "{view}");
}

#[tokio::test]
async fn a_candidate_must_be_another_uploaded_version_with_a_valid_config() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-checks").await;
    let rule = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    let path = format!("/api/v1/installations/{}/shadow", id(&rule));

    let same = app
        .put_json(&tenant.key, &path, &json!({ "version": "0.1.0" }))
        .await;
    assert_eq!(same.status, 409, "{same:?}");
    let missing = app
        .put_json(&tenant.key, &path, &json!({ "version": "9.9.9" }))
        .await;
    assert_eq!(missing.status, 422, "{missing:?}");
    assert!(missing.error_message().contains("9.9.9"));
    let bad_config = app
        .put_json(
            &tenant.key,
            &path,
            &json!({ "version": "0.2.0", "config": { "mode": "跳舞" } }),
        )
        .await;
    assert_eq!(bad_config.status, 422, "{bad_config:?}");
    let unchanged = app
        .get(&tenant.key, &format!("/api/v1/installations/{}", id(&rule)))
        .await
        .expect(200);
    assert_eq!(unchanged["shadow"], json!(null));
}

#[tokio::test]
async fn replay_compares_a_candidate_with_the_recorded_inputs_including_one_that_traps() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-replay").await;
    let rule = app
        .install(
            &tenant,
            &VIP_ROUTING,
            json!({ "team": "vip-care" }),
            &["records"],
        )
        .await;
    upload_version(&app, &tenant, &VIP_ROUTING, "0.2.0").await;
    let (vip, regular) = vip_and_regular(&app, &tenant).await;
    for customer in [&vip, &regular, &regular, &vip] {
        app.ticket(
            &tenant,
            json!({ "description": "导航黑屏", "customer_id": customer["id"] }),
        )
        .await;
    }
    let path = format!("/api/v1/installations/{}/replay", id(&rule));

    let report = app
        .post(
            &tenant.key,
            &path,
            &json!({ "version": "0.2.0", "config": { "team": "vip-gold" }, "last": 3 }),
        )
        .await
        .expect(200);
    assert_eq!(report["source"], "replay");
    assert_eq!(report["candidate_version"], "0.2.0");
    assert_eq!(report["runs"], 3, "{report}");
    // The last three: regular, regular, VIP.
    assert_eq!(report["agreed"], 2, "{report}");
    assert_eq!(
        report["differences"][0]["candidate"]["decision"]["team"],
        "vip-gold"
    );
    assert_eq!(report["differences"][0]["input"]["description"], "导航黑屏");
    let stored = app
        .get(&tenant.key, &report_path(&id(&rule), "replay"))
        .await
        .expect(200);
    assert_eq!(stored["runs"], 3);
    assert_eq!(stored["agreed"], 2);

    let too_many = app
        .post(
            &tenant.key,
            &path,
            &json!({ "version": "0.2.0", "last": 1001 }),
        )
        .await;
    assert_eq!(too_many.status, 422, "{too_many:?}");

    // A hostile rule whose candidate panics on replay.
    let hostile = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    app.ticket(&tenant, json!({ "description": "one more" }))
        .await;
    let trapped = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{}/replay", id(&hostile)),
            &json!({ "version": "0.2.0", "config": { "mode": "panic" } }),
        )
        .await
        .expect(200);
    assert_eq!(trapped["runs"], 1, "{trapped}");
    assert_eq!(trapped["agreed"], 0);
    assert_eq!(trapped["errors"]["candidate"]["count"], 1);
    assert_eq!(trapped["errors"]["installed"]["count"], 0);
    let live = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{}", id(&hostile)),
        )
        .await
        .expect(200);
    assert_eq!(live["status"], "enabled");
}

/// The status of a replay of `rule`'s recorded inputs through version 0.2.0: 409 when
/// nothing is recorded.
async fn replay_status(app: &TestApp, tenant: &Tenant, rule: &str) -> u16 {
    app.post(
        &tenant.key,
        &format!("/api/v1/installations/{rule}/replay"),
        &json!({ "version": "0.2.0" }),
    )
    .await
    .status
}

#[tokio::test]
async fn recorded_inputs_are_purged_once_past_their_tenants_retention_and_not_before() {
    let app = TestApp::spawn().await;
    let keeps = app.tenant("oem-keeps-30-days").await;
    let short = app.tenant("oem-keeps-1-day").await;
    app.patch(
        &short.key,
        "/api/v1/settings",
        &json!({ "input_retention_days": 1 }),
    )
    .await
    .expect(200);
    let mut rules = Vec::new();
    for tenant in [&keeps, &short] {
        let rule = app
            .install(tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
            .await;
        upload_version(&app, tenant, &HOSTILE, "0.2.0").await;
        app.ticket(tenant, json!({ "description": "保留输入 keep the input" }))
            .await;
        rules.push(id(&rule));
    }
    let day = 86_400_000;
    let now = axle_host::domain::ids::now_ms();
    let core = &app.app.core;

    let purged = axle_host::service::shadow::purge_expired(core, now)
        .await
        .expect("purge");
    assert_eq!(purged, 0, "nothing is a day old yet");

    let purged = axle_host::service::shadow::purge_expired(core, now + 2 * day)
        .await
        .expect("purge");
    assert_eq!(purged, 1, "the 1-day tenant's input goes");
    assert_eq!(replay_status(&app, &keeps, &rules[0]).await, 200);
    assert_eq!(
        replay_status(&app, &short, &rules[1]).await,
        409,
        "nothing left to replay"
    );

    let purged = axle_host::service::shadow::purge_expired(core, now + 31 * day)
        .await
        .expect("purge");
    assert!(
        purged >= 2,
        "the 30-day tenant's input and its replay comparison go after 30 days: {purged}"
    );
    assert_eq!(replay_status(&app, &keeps, &rules[0]).await, 409);
}

#[tokio::test]
async fn with_retention_zero_nothing_is_recorded_and_there_is_nothing_to_replay() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-no-inputs").await;
    let settings = app.get(&tenant.key, "/api/v1/settings").await.expect(200);
    assert_eq!(settings["input_retention_days"], 30);
    let bad = app
        .patch(
            &tenant.key,
            "/api/v1/settings",
            &json!({ "input_retention_days": -1 }),
        )
        .await;
    assert_eq!(bad.status, 422, "{bad:?}");
    let changed = app
        .patch(
            &tenant.key,
            "/api/v1/settings",
            &json!({ "input_retention_days": 0 }),
        )
        .await
        .expect(200);
    assert_eq!(changed["input_retention_days"], 0);

    let rule = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    app.ticket(&tenant, json!({ "description": "不记录" }))
        .await;
    let reply = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{}/replay", id(&rule)),
            &json!({ "version": "0.2.0" }),
        )
        .await;
    assert_eq!(reply.status, 409, "{reply:?}");
    assert!(
        reply.error_message().contains("nothing to replay"),
        "{reply:?}"
    );
}

#[tokio::test]
async fn turning_retention_to_zero_stops_recording_at_once_for_plugins_already_running() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-stops-recording").await;
    let rule = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    app.ticket(&tenant, json!({ "description": "记录 recorded" }))
        .await;
    app.patch(
        &tenant.key,
        "/api/v1/settings",
        &json!({ "input_retention_days": 0 }),
    )
    .await
    .expect(200);

    app.ticket(&tenant, json!({ "description": "不记录 not recorded" }))
        .await;

    let report = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{}/replay", id(&rule)),
            &json!({ "version": "0.2.0" }),
        )
        .await
        .expect(200);
    assert_eq!(
        report["runs"], 1,
        "only the ticket before the change was recorded: {report}"
    );
}

#[tokio::test]
async fn another_tenant_cannot_see_the_report_or_replay_or_shadow_the_installation() {
    let app = TestApp::spawn().await;
    let a = app.tenant("oem-a").await;
    let b = app.tenant("oem-b").await;
    let rule = app
        .install(&a, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &a, &HOSTILE, "0.2.0").await;
    upload_version(&app, &b, &HOSTILE, "0.2.0").await;
    app.ticket(&a, json!({ "description": "A's ticket" })).await;
    let rule_id = id(&rule);

    let report = app.get(&b.key, &report_path(&rule_id, "live")).await;
    assert_eq!(report.status, 404);
    let replay = app
        .post(
            &b.key,
            &format!("/api/v1/installations/{rule_id}/replay"),
            &json!({ "version": "0.2.0" }),
        )
        .await;
    assert_eq!(replay.status, 404);
    let put = app
        .put_json(
            &b.key,
            &format!("/api/v1/installations/{rule_id}/shadow"),
            &json!({ "version": "0.2.0" }),
        )
        .await;
    assert_eq!(put.status, 404);

    // An agent key of A manages no shadow runs.
    let (_, agent) = agent_key(&app, &a).await;
    let denied = app
        .put_json(
            &agent,
            &format!("/api/v1/installations/{rule_id}/shadow"),
            &json!({ "version": "0.2.0" }),
        )
        .await;
    assert_eq!(denied.status, 403);
}

#[tokio::test]
async fn a_candidate_runs_with_no_more_capabilities_than_the_live_installation_was_granted() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-grants").await;
    // hostile requests kv and records; the live installation is granted neither.
    let ungranted = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    upload_version(&app, &tenant, &HOSTILE, "0.2.0").await;
    shadow(
        &app,
        &tenant,
        &id(&ungranted),
        json!({ "version": "0.2.0", "config": { "mode": "ungranted" } }),
    )
    .await;
    app.ticket(&tenant, json!({ "description": "权限检查" }))
        .await;
    let report = live_report(&app, &tenant, &id(&ungranted), 1).await;
    assert_eq!(
        report["differences"][0]["candidate"]["decision"]["tags"][0], "kv-denied",
        "{report}"
    );

    // Granted kv, the candidate may write, in a namespace of its own.
    app.patch(
        &tenant.key,
        &format!("/api/v1/installations/{}", id(&ungranted)),
        &json!({ "capabilities": ["kv"] }),
    )
    .await
    .expect(200);
    app.ticket(&tenant, json!({ "description": "再检查" }))
        .await;
    let report = live_report(&app, &tenant, &id(&ungranted), 2).await;
    assert_eq!(
        report["differences"][0]["candidate"]["decision"]["tags"][0], "kv-allowed",
        "{report}"
    );
}
