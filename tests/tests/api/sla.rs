//! SLA clocks: targets per priority in business minutes, paused while the ticket waits on
//! the customer, and `sla.warning` / `sla.breached` fired exactly once each by the scheduler,
//! with the team manager told when no workflow step handles them.

use axle_host::service::sla::{Fired, tick};
use axle_tests::{FAQ_AUTOREPLY, SCRIPTED_STEP, Tenant, TestApp};
use serde_json::{Value, json};

const MINUTE: i64 = 60_000;

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

async fn policy(app: &TestApp, tenant: &Tenant, priority: &str, first: i64, resolution: i64) {
    app.put_json(
        &tenant.key,
        &format!("/api/v1/sla-policies/{priority}"),
        &json!({ "first_response_minutes": first, "resolution_minutes": resolution }),
    )
    .await
    .expect(200);
}

async fn clocks(app: &TestApp, tenant: &Tenant, ticket: &Value) -> Vec<Value> {
    let body = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}/sla", id(ticket)))
        .await
        .expect(200);
    body["items"].as_array().unwrap().clone()
}

fn clock<'a>(clocks: &'a [Value], kind: &str) -> &'a Value {
    clocks
        .iter()
        .find(|c| c["kind"] == kind)
        .unwrap_or_else(|| panic!("no {kind} clock in {clocks:?}"))
}

async fn events(app: &TestApp, tenant: &Tenant, ticket: &Value) -> Vec<String> {
    let timeline = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}/timeline", id(ticket)),
        )
        .await
        .expect(200);
    timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// A station open around the clock, with a team and its manager.
async fn staffed_station(app: &TestApp, tenant: &Tenant) -> Value {
    let all_week: Value = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
        .iter()
        .map(|d| (d.to_string(), json!(["00:00-24:00"])))
        .collect::<serde_json::Map<_, _>>()
        .into();
    let post = |body: Value, path: &'static str| async move {
        app.post(&tenant.key, path, &body).await.expect(201)
    };
    let oem = post(
        json!({ "kind": "oem", "code": "OEM", "name": "OEM" }),
        "/api/v1/sites",
    )
    .await;
    let region = post(
        json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东" }),
        "/api/v1/sites",
    )
    .await;
    let dealer = post(
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "SH-001", "name": "上海 4S" }),
        "/api/v1/sites",
    )
    .await;
    let station = post(
        json!({ "kind": "station", "parent_id": dealer["id"], "code": "SH-001-S1", "name": "浦东站", "opening_hours": all_week }),
        "/api/v1/sites",
    )
    .await;
    let team = post(
        json!({ "site_id": station["id"], "name": "Chassis", "skills": ["brakes"] }),
        "/api/v1/teams",
    )
    .await;
    post(json!({ "team_id": team["id"], "name": "赵经理", "phone": "+8613800000009", "role": "manager" }), "/api/v1/agents").await;
    station
}

#[tokio::test]
async fn policies_are_checked_and_listed() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-policies").await;

    policy(&app, &tenant, "critical", 15, 240).await;
    let bad = app
        .put_json(&tenant.key, "/api/v1/sla-policies/high", &json!({ "first_response_minutes": 0, "resolution_minutes": -1, "warn_at_percent": 120 }))
        .await;
    assert_eq!(bad.status, 422);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "first_response_minutes",
            "resolution_minutes",
            "warn_at_percent"
        ]
    );
    let unknown = app
        .put_json(
            &tenant.key,
            "/api/v1/sla-policies/urgent",
            &json!({ "first_response_minutes": 1, "resolution_minutes": 2 }),
        )
        .await;
    assert_eq!(unknown.status, 400);
    let listed = app
        .get(&tenant.key, "/api/v1/sla-policies")
        .await
        .expect(200);
    assert_eq!(
        listed["items"],
        json!([{ "priority": "critical", "first_response_minutes": 15, "resolution_minutes": 240, "warn_at_percent": 80 }])
    );
}

#[tokio::test]
async fn a_late_ticket_warns_then_breaches_once_each_and_the_team_manager_is_told() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-breach").await;
    let station = staffed_station(&app, &tenant).await;
    policy(&app, &tenant, "high", 30, 120).await;
    let created = now_ms();
    let ticket = app
        .ticket(&tenant, json!({ "description": "Brake squeal", "priority": "high", "site_id": station["id"], "team": "Chassis" }))
        .await;
    let first = clock(&clocks(&app, &tenant, &ticket).await, "first_response").clone();
    assert_eq!(first["state"], "running");
    assert_eq!(first["target_minutes"], 30);

    let core = &app.app.core;
    assert_eq!(
        tick(core, created + 10 * MINUTE).await.unwrap(),
        Fired::default()
    );
    assert_eq!(
        tick(core, created + 25 * MINUTE).await.unwrap(),
        Fired {
            warnings: 1,
            breaches: 0,
            failed: 0
        }
    );
    assert_eq!(
        tick(core, created + 26 * MINUTE).await.unwrap(),
        Fired::default(),
        "a warning fires once"
    );
    assert_eq!(
        tick(core, created + 31 * MINUTE).await.unwrap(),
        Fired {
            warnings: 0,
            breaches: 1,
            failed: 0
        }
    );
    assert_eq!(
        tick(core, created + 100 * MINUTE).await.unwrap(),
        Fired {
            warnings: 1,
            breaches: 0,
            failed: 0
        },
        "resolution warning"
    );
    assert_eq!(
        tick(core, created + 121 * MINUTE).await.unwrap(),
        Fired {
            warnings: 0,
            breaches: 1,
            failed: 0
        },
        "resolution breach"
    );
    assert_eq!(
        tick(core, created + 300 * MINUTE).await.unwrap(),
        Fired::default()
    );

    let kinds = events(&app, &tenant, &ticket).await;
    assert_eq!(
        kinds.iter().filter(|k| *k == "sla.warning").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "sla.breached").count(),
        2,
        "{kinds:?}"
    );
    assert_eq!(
        kinds.iter().filter(|k| *k == "sla.escalated").count(),
        4,
        "{kinds:?}"
    );
    let view = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    let to_manager: Vec<&Value> = view["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["to"] == "+8613800000009")
        .collect();
    assert_eq!(to_manager.len(), 4);
    assert!(
        to_manager.iter().any(|n| n["body"]
            .as_str()
            .unwrap()
            .contains("missed its first response target of 30")),
        "{to_manager:?}"
    );
    assert_eq!(
        clock(&clocks(&app, &tenant, &ticket).await, "first_response")["state"],
        "breached"
    );
}

#[tokio::test]
async fn the_clock_pauses_while_the_ticket_waits_on_the_customer() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-pause").await;
    policy(&app, &tenant, "normal", 10, 60).await;
    let created = now_ms();
    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Need the service booklet photo" }),
        )
        .await;
    let path = format!("/api/v1/tickets/{}", id(&ticket));

    app.patch(&tenant.key, &path, &json!({ "status": "pending_customer" }))
        .await
        .expect(200);
    let paused = clocks(&app, &tenant, &ticket).await;
    assert_eq!(
        clock(&paused, "first_response")["state"],
        "met",
        "asking the customer is a response"
    );
    assert_eq!(clock(&paused, "resolution")["state"], "paused");
    assert_eq!(clock(&paused, "resolution")["due_at"], Value::Null);
    assert_eq!(
        tick(&app.app.core, created + 10_000 * MINUTE)
            .await
            .unwrap(),
        Fired::default(),
        "paused clocks never fire"
    );

    app.patch(&tenant.key, &path, &json!({ "status": "in_progress" }))
        .await
        .expect(200);
    let resumed = clock(&clocks(&app, &tenant, &ticket).await, "resolution").clone();
    assert_eq!(resumed["state"], "running");
    let due: jiff::Timestamp = resumed["due_at"].as_str().unwrap().parse().unwrap();
    assert!(
        due.as_millisecond() >= now_ms() + 59 * MINUTE,
        "the remaining hour starts again now: {due}"
    );

    app.patch(&tenant.key, &path, &json!({ "status": "resolved" }))
        .await
        .expect(200);
    assert_eq!(
        clock(&clocks(&app, &tenant, &ticket).await, "resolution")["state"],
        "met"
    );
    assert_eq!(
        tick(&app.app.core, created + 20_000 * MINUTE)
            .await
            .unwrap(),
        Fired::default(),
        "met clocks never fire"
    );
}

#[tokio::test]
async fn a_step_that_moves_a_new_ticket_on_commits_with_it_and_its_clocks_follow() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-created-step").await;
    policy(&app, &tenant, "normal", 10, 60).await;
    app.install(
        &tenant,
        &SCRIPTED_STEP,
        json!({ "rules": [{ "on": "ticket.created", "transition": "pending_customer" }] }),
        &[],
    )
    .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Which oil does the Lavida take?" }),
        )
        .await;

    assert_eq!(ticket["status"], "pending_customer", "{ticket}");
    let started = clocks(&app, &tenant, &ticket).await;
    assert_eq!(clock(&started, "first_response")["state"], "met");
    assert_eq!(clock(&started, "resolution")["state"], "paused");
    let kinds = events(&app, &tenant, &ticket).await;
    let created = kinds.iter().position(|k| k == "ticket.created");
    let moved = kinds.iter().position(|k| k == "status.changed");
    assert!(
        created.is_some() && moved.is_some() && created < moved,
        "created, then the step's change: {kinds:?}"
    );
    let stored = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    assert_eq!(stored["status"], "pending_customer");
    assert_eq!(
        stored["created_at"], stored["updated_at"],
        "one write: {stored}"
    );
}

#[tokio::test]
async fn tickets_of_a_priority_without_a_policy_have_no_clocks() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-none").await;
    policy(&app, &tenant, "critical", 15, 240).await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Wiper blade squeaks", "priority": "low" }),
        )
        .await;

    assert!(clocks(&app, &tenant, &ticket).await.is_empty());
}

#[tokio::test]
async fn concurrent_scheduler_passes_fire_each_event_exactly_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-race").await;
    policy(&app, &tenant, "normal", 5, 10).await;
    let created = now_ms();
    let mut tickets = Vec::new();
    for n in 0..6 {
        tickets.push(
            app.ticket(&tenant, json!({ "description": format!("Ticket {n}") }))
                .await,
        );
    }

    let core = &app.app.core;
    let late = created + 100 * MINUTE;
    let (a, b, c) = tokio::join!(tick(core, late), tick(core, late), tick(core, late));
    let total = [a.unwrap(), b.unwrap(), c.unwrap()]
        .iter()
        .map(|f| f.warnings + f.breaches)
        .sum::<usize>();

    assert_eq!(
        total, 12,
        "two clocks per ticket, each breached once (a breach settles its warning)"
    );
    for ticket in &tickets {
        let kinds = events(&app, &tenant, ticket).await;
        assert_eq!(
            kinds.iter().filter(|k| *k == "sla.breached").count(),
            2,
            "{kinds:?}"
        );
        assert_eq!(
            kinds.iter().filter(|k| *k == "sla.warning").count(),
            0,
            "{kinds:?}"
        );
    }
}

#[tokio::test]
async fn an_installed_workflow_step_gets_the_sla_event_instead_of_the_default_escalation() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-step").await;
    let installation = app
        .install(
            &tenant,
            &FAQ_AUTOREPLY,
            json!({ "entries": [] }),
            &["records"],
        )
        .await;
    policy(&app, &tenant, "normal", 5, 10).await;
    let created = now_ms();
    let ticket = app
        .ticket(&tenant, json!({ "description": "Rattle in the dashboard" }))
        .await;

    tick(&app.app.core, created + 6 * MINUTE).await.unwrap();

    let kinds = events(&app, &tenant, &ticket).await;
    assert!(kinds.contains(&"sla.breached".to_owned()), "{kinds:?}");
    assert!(!kinds.contains(&"sla.escalated".to_owned()), "{kinds:?}");
    let audit = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/installations/{}/invocations?subject_id={}",
                id(&installation),
                id(&ticket)
            ),
        )
        .await
        .expect(200);
    let hooks: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        hooks,
        ["ok", "ok"],
        "ticket.created, then sla.breached: {audit}"
    );
}

#[tokio::test]
async fn another_tenant_cannot_read_a_tickets_clocks() {
    let app = TestApp::spawn().await;
    let a = app.tenant("sla-a").await;
    let b = app.tenant("sla-b").await;
    policy(&app, &a, "normal", 5, 10).await;
    let ticket = app.ticket(&a, json!({ "description": "x" })).await;

    assert_eq!(
        app.get(&b.key, &format!("/api/v1/tickets/{}/sla", id(&ticket)))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&b.key, "/api/v1/sla-policies").await.expect(200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn an_outbound_call_is_the_first_response() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("sla-call").await;
    policy(&app, &tenant, "normal", 30, 600).await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Infotainment reboots" }))
        .await;

    app.post(
        &tenant.key,
        &format!("/api/v1/tickets/{}/interactions", id(&ticket)),
        &json!({ "kind": "call", "direction": "outbound", "handle_time_seconds": 240, "summary": "Called back, asked for the software version" }),
    )
    .await
    .expect(201);

    let clocks = clocks(&app, &tenant, &ticket).await;
    assert_eq!(clock(&clocks, "first_response")["state"], "met");
    assert_eq!(clock(&clocks, "resolution")["state"], "running");
}

#[tokio::test]
async fn an_event_that_cannot_fire_is_logged_and_the_pass_fires_the_other_tenants_events() {
    let app = TestApp::spawn().await;
    let broken = app.tenant("sla-broken").await;
    let fine = app.tenant("sla-fine").await;
    policy(&app, &broken, "normal", 5, 10).await;
    policy(&app, &fine, "normal", 5, 10).await;
    let created = now_ms();
    let unreadable = app
        .ticket(&broken, json!({ "description": "Wipers smear" }))
        .await;
    let ticket = app
        .ticket(&fine, json!({ "description": "Wipers squeak" }))
        .await;
    // A row the code cannot read back: its ticket's events cannot fire.
    sqlx::query("UPDATE tickets SET priority = 'whenever' WHERE id = $1")
        .bind(id(&unreadable))
        .execute(app.app.core.db.writer())
        .await
        .expect("corrupt the row");

    let fired = tick(&app.app.core, created + 6 * MINUTE).await.unwrap();

    assert_eq!(
        fired,
        Fired {
            warnings: 0,
            breaches: 1,
            failed: 1
        }
    );
    let kinds = events(&app, &fine, &ticket).await;
    assert!(kinds.contains(&"sla.breached".to_owned()), "{kinds:?}");
}
