//! When the database goes away, callers get a clear 503 and nothing half-written; when many
//! callers write at once beside the background workers, every one of them succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axle_tests::{SAFETY_ESCALATION, SCRIPTED_STEP, Tenant, TestApp};
use serde_json::{Value, json};

#[tokio::test]
async fn requests_get_a_503_naming_the_database_when_it_goes_away() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("outage").await;
    app.customer(&tenant, json!({ "name": "陈静" })).await;

    app.app.core.db.close().await;

    let reply = app.get(&tenant.key, "/api/v1/customers").await;
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.error_code(), "database_unavailable");
    assert!(
        reply.error_message().contains("database"),
        "{}",
        reply.error_message()
    );
    let health = app.get("", "/healthz").await;
    assert_eq!(health.status, 503);
}

#[tokio::test]
async fn a_stopped_server_finishes_cleanly() {
    let mut app = TestApp::spawn().await;
    let tenant = app.tenant("shutdown").await;
    app.ticket(&tenant, json!({ "description": "Wiper motor noise" }))
        .await;

    app.stop().await;

    assert!(
        app.client
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .is_err()
    );
}

/// Hotline agents working at once in the concurrent-writers test, and what each one does.
const AGENTS: usize = 8;
const ROUNDS: usize = 5;

/// Now plus a week, in unix ms: an SLA pass at that time finds every open clock late.
fn a_week_ahead() -> i64 {
    axle_host::ids::now_ms() + 7 * 24 * 3_600_000
}

/// One agent's round: a brake complaint (a safety rule texts the manager), a hotline call
/// from a new caller, and a status change (a workflow step comments on each event).
async fn agent_round(app: &TestApp, tenant: &Tenant, agent: usize, round: usize) -> Vec<String> {
    let mut failures = Vec::new();
    let mut check = |what: &str, reply: axle_tests::Reply| {
        if !(200..300).contains(&reply.status) {
            failures.push(format!("{what}: {} {}", reply.status, reply.body));
        }
        reply.body
    };
    let ticket = check(
        "create a ticket",
        app.post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": format!("刹车踏板发软 soft brake pedal (agent {agent}, round {round})") }),
        )
        .await,
    );
    check(
        "take a hotline call",
        app.post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": format!("+86 139 {agent:04} {round:04}"), "name": "王小明", "city": "上海",
                     "description": "Charging stops at 80%", "call_id": format!("call-{agent}-{round}") }),
        )
        .await,
    );
    if let Some(id) = ticket["id"].as_str() {
        check(
            "update a ticket",
            app.patch(
                &tenant.key,
                &format!("/api/v1/tickets/{id}"),
                &json!({ "status": "in_progress" }),
            )
            .await,
        );
    }
    failures
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_tickets_calls_and_updates_all_succeed_beside_the_background_workers() {
    let app = Arc::new(TestApp::spawn().await);
    let tenant = app.tenant("rush-hour").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000001" }),
        &["notify"],
    )
    .await;
    for priority in ["normal", "critical"] {
        app.put_json(
            &tenant.key,
            &format!("/api/v1/sla-policies/{priority}"),
            &json!({ "first_response_minutes": 30, "resolution_minutes": 240 }),
        )
        .await
        .expect(200);
    }
    let events = [
        "ticket.created",
        "ticket.updated",
        "sla.warning",
        "sla.breached",
    ];
    let rules: Vec<Value> = events.iter().map(|on| json!({ "on": on })).collect();
    app.install(&tenant, &SCRIPTED_STEP, json!({ "rules": rules }), &[])
        .await;
    // The node's delivery worker is running; an SLA scheduler pass runs back to back beside
    // the agents, a week ahead, so every new clock warns and breaches while they work.
    let stop = Arc::new(AtomicBool::new(false));
    let scheduler = {
        let (app, stop) = (app.clone(), stop.clone());
        tokio::spawn(async move {
            let mut passes = 0;
            while !stop.load(Ordering::Relaxed) {
                axle_host::service::sla::tick(&app.app.core, a_week_ahead())
                    .await
                    .expect("an SLA pass");
                passes += 1;
                tokio::task::yield_now().await;
            }
            passes
        })
    };

    let agents: Vec<_> = (0..AGENTS)
        .map(|agent| {
            let (app, tenant) = (app.clone(), tenant.clone());
            tokio::spawn(async move {
                let mut failures = Vec::new();
                for round in 0..ROUNDS {
                    failures.extend(agent_round(&app, &tenant, agent, round).await);
                }
                failures
            })
        })
        .collect();
    let mut failures = Vec::new();
    for agent in agents {
        failures.extend(agent.await.expect("an agent's task"));
    }
    stop.store(true, Ordering::Relaxed);
    let passes = scheduler.await.expect("the scheduler's task");

    assert_eq!(failures, Vec::<String>::new(), "every request succeeds");
    assert!(passes > 0);
    let tickets = app
        .get(&tenant.key, "/api/v1/tickets?limit=200")
        .await
        .expect(200);
    let tickets = tickets["items"].as_array().unwrap();
    assert_eq!(
        tickets.len(),
        2 * AGENTS * ROUNDS,
        "a ticket per complaint and per call"
    );
    // One last pass fires whatever the agents' final tickets started.
    axle_host::service::sla::tick(&app.app.core, a_week_ahead())
        .await
        .expect("the last SLA pass");
    for ticket in tickets {
        let timeline = app.timeline(&tenant, ticket["id"].as_str().unwrap()).await;
        let count = |kind: &str| timeline.iter().filter(|e| e["kind"] == kind).count();
        assert_eq!(count("ticket.created"), 1, "{timeline:?}");
        let comments: Vec<&str> = timeline
            .iter()
            .filter(|e| e["kind"] == "comment")
            .filter_map(|e| e["data"]["body"].as_str())
            .collect();
        assert!(
            comments.iter().any(|c| c.starts_with("ticket.created")),
            "the workflow step saw the ticket created: {timeline:?}"
        );
        // A clock a week late fires one event (the breach settles the warning), once, and
        // the workflow step sees it. A call's ticket is never touched again, so both of its
        // clocks (first response, resolution) fire.
        let fired = count("sla.warning") + count("sla.breached");
        assert!(fired <= 2, "{fired} SLA events: {timeline:?}");
        if ticket["description"] == "Charging stops at 80%" {
            assert_eq!(fired, 2, "both clocks fire: {timeline:?}");
        }
        let seen = comments.iter().filter(|c| c.starts_with("sla.")).count();
        assert_eq!(
            seen, fired,
            "the workflow step saw every SLA event: {timeline:?}"
        );
    }
    // Every text to the manager is delivered, none failed or stuck.
    let complaints = tickets.iter().filter(|t| t["queue"] == "safety").count();
    assert!(complaints >= AGENTS * ROUNDS, "{complaints} safety tickets");
    for _ in 0..200 {
        let pending = outbox_states(&app, &tenant, tickets).await;
        if pending.iter().all(|status| status == "delivered") {
            assert!(pending.len() >= AGENTS * ROUNDS, "{pending:?}");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!(
        "notifications not all delivered: {:?}",
        outbox_states(&app, &tenant, tickets).await
    );
}

/// The status of every notification of `tickets`.
async fn outbox_states(app: &TestApp, tenant: &Tenant, tickets: &[Value]) -> Vec<String> {
    let mut states = Vec::new();
    for ticket in tickets {
        let id = ticket["id"].as_str().unwrap();
        let view = app
            .get(&tenant.key, &format!("/api/v1/tickets/{id}"))
            .await
            .expect(200);
        for entry in view["notifications"].as_array().unwrap() {
            states.push(entry["status"].as_str().unwrap().to_owned());
        }
    }
    states
}
