//! When the database goes away, callers get a clear 503 and nothing half-written; when many
//! callers write at once beside the background workers, every one of them succeeds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use axle_host::service::workflow_queue;
use axle_host::store::workflow_events::{self, Held};
use axle_tests::pg_cluster::PgCluster;
use axle_tests::{Backend, SAFETY_ESCALATION, SCRIPTED_STEP, Tenant, TestApp, backend};
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
    axle_host::domain::ids::now_ms() + 7 * 24 * 3_600_000
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

/// `POST path` with an `Idempotency-Key`; the reply and whether it was replayed.
async fn post_once(
    app: &TestApp,
    key: &str,
    idempotency_key: &str,
    path: &str,
    body: &Value,
) -> (axle_tests::Reply, bool) {
    let response = app
        .client
        .post(format!("{}{path}", app.url))
        .bearer_auth(key)
        .header("idempotency-key", idempotency_key)
        .json(body)
        .send()
        .await
        .expect("POST");
    let replayed = response
        .headers()
        .get("idempotent-replayed")
        .is_some_and(|value| value == "true");
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    (axle_tests::Reply { status, body }, replayed)
}

async fn ticket_count(app: &TestApp, tenant: &Tenant) -> usize {
    app.get(&tenant.key, "/api/v1/tickets?limit=100")
        .await
        .expect(200)["items"]
        .as_array()
        .expect("items")
        .len()
}

#[tokio::test]
async fn a_retried_create_with_the_same_idempotency_key_gets_the_first_reply_and_makes_one_ticket()
{
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("retrying-hotline").await;
    let body = json!({ "description": "刹车踏板发软 soft brake pedal" });

    let (first, first_replayed) =
        post_once(&app, &tenant.key, "call-7781", "/api/v1/tickets", &body).await;
    let first = first.expect(201);
    let (retry, retry_replayed) =
        post_once(&app, &tenant.key, "call-7781", "/api/v1/tickets", &body).await;

    assert!(!first_replayed);
    assert!(retry_replayed, "the retry is marked as a replay");
    assert_eq!(retry.expect(201), first, "the retry gets the first reply");
    assert_eq!(ticket_count(&app, &tenant).await, 1);

    // A new key is a new request.
    post_once(&app, &tenant.key, "call-7782", "/api/v1/tickets", &body)
        .await
        .0
        .expect(201);
    assert_eq!(ticket_count(&app, &tenant).await, 2);
}

#[tokio::test]
async fn an_idempotency_key_used_again_for_another_request_is_a_422_and_runs_nothing() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("key-reuser").await;
    post_once(
        &app,
        &tenant.key,
        "k-1",
        "/api/v1/tickets",
        &json!({ "description": "Engine light on" }),
    )
    .await
    .0
    .expect(201);

    let (other_body, _) = post_once(
        &app,
        &tenant.key,
        "k-1",
        "/api/v1/tickets",
        &json!({ "description": "Wipers squeak" }),
    )
    .await;
    let other_route = post_once(
        &app,
        &tenant.key,
        "k-1",
        "/api/v1/customers",
        &json!({ "name": "王芳" }),
    )
    .await
    .0;

    for reply in [other_body, other_route] {
        let reply = reply.expect_error(422);
        assert_eq!(reply.error_code(), "validation_failed");
        assert!(
            reply.error_message().contains("another request"),
            "{}",
            reply.error_message()
        );
    }
    assert_eq!(ticket_count(&app, &tenant).await, 1);
    let customers = app.get(&tenant.key, "/api/v1/customers").await.expect(200);
    assert_eq!(customers["items"].as_array().unwrap().len(), 0);
}

#[tokio::test]
async fn concurrent_retries_with_one_idempotency_key_make_one_ticket() {
    let app = Arc::new(TestApp::spawn_without_delivery().await);
    let tenant = app.tenant("impatient-client").await;
    let body = json!({ "description": "Door will not lock", "priority": "high" });

    let retries: Vec<_> = (0..8)
        .map(|_| {
            let (app, key, body) = (app.clone(), tenant.key.clone(), body.clone());
            tokio::spawn(
                async move { post_once(&app, &key, "door-1", "/api/v1/tickets", &body).await },
            )
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for retry in retries {
        let (reply, _) = retry.await.unwrap();
        match reply.status {
            201 => {
                ids.insert(reply.body["id"].as_str().unwrap().to_owned());
            }
            // Still running when this retry came: the client retries again later.
            409 => assert_eq!(reply.error_code(), "conflict", "{:?}", reply.body),
            other => panic!("unexpected {other}: {:?}", reply.body),
        }
    }

    assert_eq!(ids.len(), 1, "every 201 names the same ticket: {ids:?}");
    assert_eq!(ticket_count(&app, &tenant).await, 1);
    let (late, replayed) = post_once(&app, &tenant.key, "door-1", "/api/v1/tickets", &body).await;
    assert!(replayed);
    assert_eq!(
        late.expect(201)["id"].as_str(),
        ids.first().map(String::as_str)
    );
}

#[tokio::test]
async fn a_failed_request_frees_its_idempotency_key_for_the_corrected_retry() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("typo-fixer").await;

    let wrong = post_once(
        &app,
        &tenant.key,
        "vin-fix",
        "/api/v1/vehicles",
        &json!({ "vin": "LSVAU2180N212345O" }),
    )
    .await
    .0;
    wrong.expect_error(422);
    let fixed = post_once(
        &app,
        &tenant.key,
        "vin-fix",
        "/api/v1/vehicles",
        &json!({ "vin": axle_tests::vin("LSVAU2180N2123456") }),
    )
    .await;

    assert!(!fixed.1, "the corrected request runs, it is not a replay");
    fixed.0.expect(201);
}

#[tokio::test]
async fn idempotency_keys_belong_to_the_api_key_that_sent_them() {
    let app = TestApp::spawn_without_delivery().await;
    let oem = app.tenant("oem-keys-a").await;
    let other = app.tenant("oem-keys-b").await;
    let (_, agent) = axle_tests::agent_key(&app, &oem).await;
    let body = json!({ "description": "Rattle from the rear axle" });

    let first = post_once(&app, &oem.key, "shared", "/api/v1/tickets", &body)
        .await
        .0
        .expect(201);
    let (agents, agent_replayed) =
        post_once(&app, &agent, "shared", "/api/v1/tickets", &body).await;
    let (others, other_replayed) =
        post_once(&app, &other.key, "shared", "/api/v1/tickets", &body).await;

    assert!(!agent_replayed && !other_replayed);
    let agents = agents.expect(201);
    let others = others.expect(201);
    assert_ne!(agents["id"], first["id"]);
    assert_ne!(others["id"], first["id"]);
    assert_eq!(ticket_count(&app, &other).await, 1);
}

#[tokio::test]
async fn a_malformed_idempotency_key_or_an_upload_with_one_is_a_400() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("odd-keys").await;
    let body = json!({ "description": "Horn stuck" });

    let spaced = post_once(&app, &tenant.key, "has space", "/api/v1/tickets", &body).await;
    let long = post_once(
        &app,
        &tenant.key,
        &"k".repeat(256),
        "/api/v1/tickets",
        &body,
    )
    .await;
    let csv = app
        .send(
            app.client
                .post(format!("{}/api/v1/imports/customers", app.url))
                .bearer_auth(&tenant.key)
                .header("idempotency-key", "import-1")
                .header("content-type", "text/csv")
                .body("external_id,name\nC1,李雷\n"),
        )
        .await;

    for reply in [spaced.0, long.0, csv] {
        let reply = reply.expect_error(400);
        assert!(
            reply.error_message().contains("Idempotency-Key"),
            "{}",
            reply.error_message()
        );
    }
    assert_eq!(ticket_count(&app, &tenant).await, 0);
}

#[tokio::test]
async fn a_key_left_running_by_a_node_that_died_is_taken_over_after_it_goes_stale() {
    use axle_host::service::idempotency::{self, Claim, STALE_AFTER_MS};
    use axle_host::store::idempotency::{KeyRef, reserve};
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("dead-node").await;
    let (key_id, agent) = axle_tests::agent_key(&app, &tenant).await;
    let body = json!({ "description": "AC blows warm air" });
    let fingerprint = idempotency::fingerprint(
        "POST",
        "/api/v1/tickets",
        serde_json::to_string(&body).unwrap().as_bytes(),
    );
    let key = KeyRef {
        tenant_id: &tenant.id,
        key_id: &key_id,
        key: "ac-1",
    };
    let long_ago = axle_host::domain::ids::now_ms() - STALE_AFTER_MS - 1_000;
    // A node reserved the key and died before answering.
    reserve(&app.app.core.db, key, &fingerprint, long_ago, 0, 0)
        .await
        .unwrap()
        .unwrap();
    let fresh = axle_host::domain::ids::now_ms();
    reserve(
        &app.app.core.db,
        KeyRef { key: "ac-2", ..key },
        &fingerprint,
        fresh,
        0,
        0,
    )
    .await
    .unwrap()
    .unwrap();

    let (stale, _) = post_once(&app, &agent, "ac-1", "/api/v1/tickets", &body).await;
    let (running, _) = post_once(&app, &agent, "ac-2", "/api/v1/tickets", &body).await;

    stale.expect(201);
    running.expect_error(409);
    assert!(matches!(
        idempotency::claim(&app.app.core, &tenant.id, &key_id, "ac-1", &fingerprint)
            .await
            .unwrap(),
        Claim::Replay(_)
    ));
}

/// What the writers of the restart test saw.
#[derive(Default)]
struct Seen {
    acknowledged: Vec<String>,
    unavailable: usize,
}

#[tokio::test]
async fn a_postgres_restart_during_ticket_creation_keeps_every_acknowledged_ticket_and_the_node_recovers()
 {
    // PostgreSQL's own fault: the PostgreSQL pass of `cargo xtask test` runs it, on a
    // private cluster so that stopping it touches no other test.
    if backend() != Backend::Postgres {
        return;
    }
    let cluster = PgCluster::start();
    let app = Arc::new(TestApp::spawn_on(&cluster.url()).await);
    let tenant = app.tenant("restart").await;
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(std::sync::Mutex::new(Seen::default()));
    let writers: Vec<_> = (0..4)
        .map(|writer| {
            let (app, key, stop, seen) =
                (app.clone(), tenant.key.clone(), stop.clone(), seen.clone());
            tokio::spawn(async move {
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let body =
                        json!({ "description": format!("刹车异响 writer {writer} call {n}") });
                    let reply = app.post(&key, "/api/v1/tickets", &body).await;
                    match reply.status {
                        201 => seen
                            .lock()
                            .unwrap()
                            .acknowledged
                            .push(reply.body["id"].as_str().unwrap().to_owned()),
                        503 => {
                            assert_eq!(
                                reply.error_code(),
                                "database_unavailable",
                                "{:?}",
                                reply.body
                            );
                            seen.lock().unwrap().unavailable += 1;
                        }
                        other => panic!("unexpected {other} during the restart: {:?}", reply.body),
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                }
            })
        })
        .collect();

    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let before = seen.lock().unwrap().acknowledged.len();
    cluster.stop_immediately();
    // Longer than a request waits for a connection (10 s), so requests give up with 503.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    let during = seen.lock().unwrap().unavailable;
    cluster.start_again();
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
    let after_restart = loop {
        let reply = app.get(&tenant.key, "/api/v1/tickets?limit=1").await;
        if reply.status == 200 {
            break reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never recovered: {:?}\n{}",
            reply.body,
            cluster.log_text()
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    let recovered = seen.lock().unwrap().acknowledged.len();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("a writer saw only 201s and 503s");
    }

    assert!(before > 0, "tickets were created before the restart");
    assert!(during > 0, "requests during the outage got 503");
    assert!(after_restart.body["items"].is_array());
    let acknowledged: std::collections::BTreeSet<String> =
        seen.lock().unwrap().acknowledged.iter().cloned().collect();
    assert!(
        acknowledged.len() > recovered,
        "tickets were created again after the restart, without restarting the node"
    );
    let stored = every_ticket_id(&app, &tenant).await;
    let missing: Vec<_> = acknowledged.difference(&stored).collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    // A request cut off by the outage may have committed before its connection broke
    // (its caller saw a 503 and would retry); at most one per writer.
    assert!(
        stored.len() - acknowledged.len() <= 4,
        "{} unacknowledged tickets",
        stored.len() - acknowledged.len()
    );
}

/// Every ticket id of the tenant, page by page.
async fn every_ticket_id(app: &TestApp, tenant: &Tenant) -> std::collections::BTreeSet<String> {
    let mut ids = std::collections::BTreeSet::new();
    let mut cursor = String::new();
    loop {
        let page = app
            .get(
                &tenant.key,
                &format!("/api/v1/tickets?limit=200&cursor={cursor}"),
            )
            .await
            .expect(200);
        ids.extend(axle_tests::ids(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => return ids,
        }
    }
}

/// A tenant whose scripted workflow step comments on every `ticket.updated`, and one of
/// its tickets.
async fn a_ticket_with_a_commenting_step(app: &TestApp, name: &str) -> (Tenant, String) {
    let tenant = app.tenant(name).await;
    app.install(
        &tenant,
        &SCRIPTED_STEP,
        json!({ "rules": [{ "on": "ticket.updated" }] }),
        &[],
    )
    .await;
    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "仪表盘异响 rattle in the dashboard" }),
        )
        .await;
    (tenant, ticket["id"].as_str().unwrap().to_owned())
}

/// What a node leaves behind when it commits a change and dies before the workflow steps
/// ran: the change's event, written in its transaction and still held under its lease.
async fn an_event_whose_node_died(app: &TestApp, tenant: &Tenant, ticket_id: &str) -> Held {
    let mut tx = app.app.core.db.begin_write().await.unwrap();
    let held = workflow_queue::enqueue(
        &mut tx,
        &tenant.id,
        ticket_id,
        "ticket.updated",
        &json!({ "status": { "from": "new", "to": "in_progress" } }),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    held
}

/// The step's comments on `ticket.updated` in the ticket's timeline.
async fn update_comments(app: &TestApp, tenant: &Tenant, ticket_id: &str) -> usize {
    app.timeline(tenant, ticket_id)
        .await
        .iter()
        .filter(|e| e["kind"] == "comment")
        .filter(|e| {
            e["data"]["body"]
                .as_str()
                .is_some_and(|b| b.starts_with("ticket.updated"))
        })
        .count()
}

/// After the lease of every event written now has run out.
fn past_the_lease() -> i64 {
    axle_host::domain::ids::now_ms() + 2 * workflow_queue::LEASE_MS
}

#[tokio::test]
async fn an_event_whose_node_died_before_the_steps_ran_is_delivered_once_by_another_node() {
    let app = TestApp::spawn().await;
    let (tenant, ticket) = a_ticket_with_a_commenting_step(&app, "wf-died").await;
    an_event_whose_node_died(&app, &tenant, &ticket).await;
    let core = &app.app.core;

    let early = workflow_queue::redeliver_due(core, axle_host::domain::ids::now_ms())
        .await
        .unwrap();
    assert_eq!(early, 0, "the holder's lease has not run out yet");
    assert_eq!(update_comments(&app, &tenant, &ticket).await, 0);

    // Two nodes' passes at once, once the lease ran out: one of them gets the event.
    let later = past_the_lease();
    let (a, b) = tokio::join!(
        workflow_queue::redeliver_due(core, later),
        workflow_queue::redeliver_due(core, later)
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1);
    assert_eq!(update_comments(&app, &tenant, &ticket).await, 1);
    assert_eq!(
        workflow_events::owed_for_ticket(&core.db, &tenant.id, &ticket)
            .await
            .unwrap(),
        vec![],
        "nothing is owed once applied"
    );
    assert_eq!(workflow_queue::redeliver_due(core, later).await.unwrap(), 0);
    assert_eq!(update_comments(&app, &tenant, &ticket).await, 1);
}

#[tokio::test]
async fn a_slow_holder_whose_event_was_taken_over_applies_nothing() {
    let app = TestApp::spawn().await;
    let (tenant, ticket) = a_ticket_with_a_commenting_step(&app, "wf-slow").await;
    let held = an_event_whose_node_died(&app, &tenant, &ticket).await;
    let core = &app.app.core;
    assert_eq!(
        workflow_queue::redeliver_due(core, past_the_lease())
            .await
            .unwrap(),
        1
    );

    // The first holder wakes up after its lease and delivers what it still holds.
    workflow_queue::deliver(core, &held).await;

    assert_eq!(
        update_comments(&app, &tenant, &ticket).await,
        1,
        "the actions are applied once"
    );
}

#[tokio::test]
async fn an_event_whose_actions_cannot_be_saved_is_retried_then_kept_as_failed() {
    let app = TestApp::spawn().await;
    let (tenant, ticket) = a_ticket_with_a_commenting_step(&app, "wf-fails").await;
    an_event_whose_node_died(&app, &tenant, &ticket).await;
    let core = &app.app.core;
    // The step's decision cannot be recorded, so its actions cannot commit.
    sqlx::query("ALTER TABLE plugin_decisions RENAME TO plugin_decisions_away")
        .execute(core.db.writer())
        .await
        .unwrap();

    let mut passes = 0;
    loop {
        let owed = workflow_events::owed_for_ticket(&core.db, &tenant.id, &ticket)
            .await
            .unwrap();
        assert_eq!(owed.len(), 1, "the event is kept: {owed:?}");
        if owed[0].failed {
            assert_eq!(owed[0].attempts, workflow_queue::MAX_ATTEMPTS);
            assert!(
                owed[0]
                    .last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("plugin_decisions")),
                "{owed:?}"
            );
            break;
        }
        assert!(passes < workflow_queue::MAX_ATTEMPTS, "{owed:?}");
        assert_eq!(
            workflow_queue::redeliver_due(core, past_the_lease() + passes * 120_000)
                .await
                .unwrap(),
            1
        );
        passes += 1;
    }
    assert_eq!(
        passes,
        workflow_queue::MAX_ATTEMPTS - 1,
        "the holder's attempt counts"
    );

    sqlx::query("ALTER TABLE plugin_decisions_away RENAME TO plugin_decisions")
        .execute(core.db.writer())
        .await
        .unwrap();
    assert_eq!(
        workflow_queue::redeliver_due(core, past_the_lease() + 3_600_000)
            .await
            .unwrap(),
        0,
        "a failed event is not tried again"
    );
    assert_eq!(update_comments(&app, &tenant, &ticket).await, 0);
}

#[tokio::test]
async fn a_ticket_update_reaches_the_steps_at_once_and_leaves_nothing_queued() {
    let app = TestApp::spawn().await;
    let (tenant, ticket) = a_ticket_with_a_commenting_step(&app, "wf-update").await;

    let updated = app
        .patch(
            &tenant.key,
            &format!("/api/v1/tickets/{ticket}"),
            &json!({ "status": "in_progress" }),
        )
        .await
        .expect(200);

    assert_eq!(updated["status"], "in_progress");
    assert_eq!(update_comments(&app, &tenant, &ticket).await, 1);
    assert_eq!(
        workflow_events::owed_for_ticket(&app.app.core.db, &tenant.id, &ticket)
            .await
            .unwrap(),
        vec![]
    );
}
