//! The notifications outbox is delivered after commit: SMS and email through the log
//! adapter, webhooks signed with the tenant's secret, retried with backoff, marked failed
//! after the last attempt, each row exactly once across nodes, and the rows of a node that
//! died picked up by another once their lease ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axle_host::delivery::DeliverySettings;
use axle_host::delivery::outbound::OutboundPolicy;
use axle_host::tls::ExtraRoots;
use axle_tests::tls_server::{self, TlsListener};
use axle_tests::{SAFETY_ESCALATION, Tenant, TestApp, fast_delivery};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

/// What the receiver does with a request.
#[derive(Clone, Copy, Debug)]
enum Answer {
    Status(u16),
    /// Never answers, like an endpoint that hangs.
    Hang,
}

/// One request the receiver got.
#[derive(Clone, Debug)]
struct Hit {
    notification_id: String,
    attempt: String,
    signature_valid: bool,
    body: Value,
    at: Instant,
}

struct ReceiverState {
    secret: String,
    /// The answer to the n-th request (from 0).
    plan: Box<dyn Fn(usize) -> Answer + Send + Sync>,
    /// How long each request takes before it is answered.
    delay: Duration,
    hits: Mutex<Vec<Hit>>,
}

/// A webhook endpoint on 127.0.0.1 that checks signatures as docs/webhooks.md says a
/// tenant's receiver should, and remembers every request.
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start(
        secret: &str,
        delay: Duration,
        plan: impl Fn(usize) -> Answer + Send + Sync + 'static,
    ) -> Receiver {
        let state = Arc::new(ReceiverState {
            secret: secret.to_owned(),
            plan: Box::new(plan),
            delay,
            hits: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the receiver");
        let addr = listener.local_addr().expect("receiver address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("http://{addr}/hook"),
            state,
        }
    }

    /// The same receiver over HTTPS, with the test CA's certificate for 127.0.0.1;
    /// answers 200.
    async fn start_tls(secret: &str) -> Receiver {
        let state = Arc::new(ReceiverState {
            secret: secret.to_owned(),
            plan: Box::new(|_| Answer::Status(200)),
            delay: Duration::ZERO,
            hits: Mutex::default(),
        });
        let app = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(state.clone());
        let listener = TlsListener::bind().await;
        let addr = axum::serve::Listener::local_addr(&listener).expect("receiver address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url: format!("https://{addr}/hook"),
            state,
        }
    }

    fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    /// Waits until the receiver has had `count` requests.
    async fn wait_for_hits(&self, count: usize) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.hits().len() < count {
            assert!(
                Instant::now() < deadline,
                "the receiver got {} requests, not {count}",
                self.hits().len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// Checks `Axle-Signature: t=<ts>,v1=<hex>` independently of the host's code: HMAC-SHA256
/// with the secret over `"<ts>.<body>"`, compared in constant time, `ts` within 5 minutes.
fn signature_is_valid(secret: &str, header: &str, body: &[u8]) -> bool {
    let (mut timestamp, mut v1) = (None, None);
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => timestamp = value.parse::<i64>().ok(),
            Some(("v1", value)) => v1 = hex::decode(value).ok(),
            _ => {}
        }
    }
    let (Some(timestamp), Some(v1)) = (timestamp, v1) else {
        return false;
    };
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    if (now - timestamp).abs() > 300 {
        return false;
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{timestamp}.").as_bytes());
    mac.update(body);
    mac.verify_slice(&v1).is_ok()
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> StatusCode {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let signature_valid = signature_is_valid(&state.secret, &header("axle-signature"), &body);
    let n = {
        let mut hits = state.hits.lock().unwrap();
        hits.push(Hit {
            notification_id: header("axle-notification-id"),
            attempt: header("axle-delivery-attempt"),
            signature_valid,
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            at: Instant::now(),
        });
        hits.len() - 1
    };
    tokio::time::sleep(state.delay).await;
    if !signature_valid {
        return StatusCode::UNAUTHORIZED;
    }
    match (state.plan)(n) {
        Answer::Status(code) => StatusCode::from_u16(code).unwrap(),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            StatusCode::OK
        }
    }
}

/// Milliseconds since the epoch, as the store's claims take the time.
fn now_ms() -> i64 {
    let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    i64::try_from(since.as_millis()).unwrap()
}

fn id(value: &Value) -> &str {
    value["id"].as_str().expect("an id")
}

async fn webhook_secret(app: &TestApp, tenant: &Tenant) -> String {
    let body = app
        .get(&tenant.key, "/api/v1/webhook-secret")
        .await
        .expect(200);
    body["secret"].as_str().expect("a secret").to_owned()
}

/// Queues a notification on the ticket through the API.
async fn send(app: &TestApp, tenant: &Tenant, ticket_id: &str, body: Value) -> Value {
    app.post(
        &tenant.key,
        &format!("/api/v1/tickets/{ticket_id}/notifications"),
        &body,
    )
    .await
    .expect(201)
}

async fn webhook(app: &TestApp, tenant: &Tenant, ticket_id: &str, url: &str, text: &str) -> Value {
    send(
        app,
        tenant,
        ticket_id,
        json!({ "channel": "webhook", "to": url, "subject": "Ticket update", "body": text }),
    )
    .await
}

async fn notifications(app: &TestApp, tenant: &Tenant, ticket_id: &str) -> Vec<Value> {
    let body = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{ticket_id}/notifications"),
        )
        .await
        .expect(200);
    body["items"].as_array().expect("items").clone()
}

/// Polls the ticket's notifications until `notification_id` has `status`.
async fn wait_for_status(
    app: &TestApp,
    tenant: &Tenant,
    ticket_id: &str,
    notification_id: &str,
    status: &str,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let items = notifications(app, tenant, ticket_id).await;
        let entry = items
            .iter()
            .find(|entry| entry["id"] == notification_id)
            .unwrap_or_else(|| panic!("notification {notification_id} not listed: {items:?}"))
            .clone();
        if entry["status"] == status {
            return entry;
        }
        assert!(
            Instant::now() < deadline,
            "notification never became {status}: {entry}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn routed_safety_sms_is_delivered_by_the_log_adapter() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-log").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Brake pedal goes soft on the highway" }),
        )
        .await;
    let sms_id = id(&ticket["notifications"][0]).to_owned();

    let sms = wait_for_status(&app, &tenant, id(&ticket), &sms_id, "delivered").await;
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["to"], "+8613800000000");
    assert_eq!(sms["attempts"], 1);
    assert_eq!(sms["last_error"], Value::Null);
    assert!(sms["delivered_at"].is_string(), "{sms}");
    let view = app
        .get(&tenant.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    assert_eq!(view["notifications"][0]["status"], "delivered");
}

#[tokio::test]
async fn webhook_is_posted_with_a_signature_the_receiver_can_verify() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-hook").await;
    let secret = webhook_secret(&app, &tenant).await;
    assert!(secret.starts_with("whsec_"), "{secret}");
    let receiver = Receiver::start(&secret, Duration::ZERO, |_| Answer::Status(200)).await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Infotainment reboots" }))
        .await;

    let queued = webhook(
        &app,
        &tenant,
        id(&ticket),
        &receiver.url,
        "Dealer visit booked",
    )
    .await;
    assert_eq!(queued["channel"], "webhook");
    assert_eq!(queued["to"], receiver.url.as_str());
    assert!(queued["source"].as_str().unwrap().starts_with("key:"));

    let delivered = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "delivered").await;
    assert_eq!(delivered["attempts"], 1);
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1, "{hits:?}");
    let hit = &hits[0];
    assert!(hit.signature_valid, "{hit:?}");
    assert_eq!(hit.notification_id, id(&queued));
    assert_eq!(hit.attempt, "1");
    assert_eq!(hit.body["id"], queued["id"]);
    assert_eq!(hit.body["event"], "notification");
    assert_eq!(hit.body["ticket_id"], ticket["id"]);
    assert_eq!(hit.body["subject"], "Ticket update");
    assert_eq!(hit.body["body"], "Dealer visit booked");
    let timeline = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}/timeline", id(&ticket)),
        )
        .await
        .expect(200);
    let event = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "notification.queued")
        .unwrap_or_else(|| panic!("no notification.queued event: {timeline}"));
    assert_eq!(event["data"]["notification_id"], queued["id"]);
    assert_eq!(event["actor"], queued["source"]);
}

#[tokio::test]
async fn webhook_secret_is_kept_per_tenant_and_only_admins_read_it() {
    let app = TestApp::spawn().await;
    let a = app.tenant("secret-a").await;
    let b = app.tenant("secret-b").await;

    let first = app.get(&a.key, "/api/v1/webhook-secret").await.expect(200);
    assert_eq!(first["header"], "Axle-Signature");
    assert_eq!(webhook_secret(&app, &a).await, first["secret"]);
    assert_ne!(webhook_secret(&app, &b).await, first["secret"]);

    let agent = app
        .post(
            &a.key,
            "/api/v1/api-keys",
            &json!({ "name": "hotline agent", "role": "agent" }),
        )
        .await
        .expect(201);
    let agent_key = agent["secret"].as_str().unwrap();
    let reply = app.get(agent_key, "/api/v1/webhook-secret").await;
    assert_eq!(reply.status, 403, "{:?}", reply.body);
    let ticket = app
        .ticket(&a, json!({ "description": "Window regulator stuck" }))
        .await;
    let reply = app
        .post(
            agent_key,
            &format!("/api/v1/tickets/{}/notifications", id(&ticket)),
            &json!({ "channel": "email", "to": "owner@example.com", "body": "We ordered the part." }),
        )
        .await;
    assert_eq!(
        reply.status, 201,
        "agents send notifications: {:?}",
        reply.body
    );
}

#[tokio::test]
async fn failing_webhook_is_retried_with_growing_backoff_until_it_answers_2xx() {
    let app = TestApp::spawn_delivering(DeliverySettings {
        backoff_base: Duration::from_millis(200),
        backoff_cap: Duration::from_secs(2),
        ..fast_delivery()
    })
    .await;
    let tenant = app.tenant("oem-retry").await;
    let secret = webhook_secret(&app, &tenant).await;
    let receiver = Receiver::start(&secret, Duration::ZERO, |n| {
        Answer::Status(if n < 2 { 500 } else { 200 })
    })
    .await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Check engine light" }))
        .await;

    let queued = webhook(
        &app,
        &tenant,
        id(&ticket),
        &receiver.url,
        "Recall check done",
    )
    .await;

    let delivered = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "delivered").await;
    assert_eq!(delivered["attempts"], 3, "{delivered}");
    assert!(
        delivered["last_error"].as_str().unwrap().contains("500"),
        "the last failure stays on record: {delivered}"
    );
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3, "{hits:?}");
    assert!(hits.iter().all(|hit| hit.notification_id == id(&queued)));
    assert_eq!(
        hits.iter()
            .map(|hit| hit.attempt.as_str())
            .collect::<Vec<_>>(),
        ["1", "2", "3"]
    );
    // Equal jitter keeps at least half of base·2^(n-1): 100 ms, then 200 ms.
    let first_wait = hits[1].at - hits[0].at;
    let second_wait = hits[2].at - hits[1].at;
    assert!(first_wait >= Duration::from_millis(100), "{first_wait:?}");
    assert!(second_wait >= Duration::from_millis(200), "{second_wait:?}");
}

#[tokio::test]
async fn webhook_that_keeps_failing_ends_failed_after_the_last_attempt() {
    let app = TestApp::spawn_delivering(DeliverySettings {
        max_attempts: 3,
        backoff_base: Duration::from_millis(20),
        ..fast_delivery()
    })
    .await;
    let tenant = app.tenant("oem-fail").await;
    let secret = webhook_secret(&app, &tenant).await;
    let receiver = Receiver::start(&secret, Duration::ZERO, |_| Answer::Status(503)).await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Seat heater broken" }))
        .await;

    let queued = webhook(&app, &tenant, id(&ticket), &receiver.url, "Part ordered").await;

    let failed = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "failed").await;
    assert_eq!(failed["attempts"], 3);
    assert_eq!(failed["delivered_at"], Value::Null);
    let error = failed["last_error"].as_str().unwrap();
    assert!(error.contains("503"), "{error}");
    assert!(error.contains("gave up after 3 attempts"), "{error}");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.hits().len(), 3, "no attempt after the last one");
}

#[tokio::test]
async fn an_https_webhook_is_delivered_when_its_certificate_is_trusted_and_fails_saying_why_when_not()
 {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("oem-tls").await;
    let secret = webhook_secret(&app, &tenant).await;
    let receiver = Receiver::start_tls(&secret).await;
    assert!(receiver.url.starts_with("https://127.0.0.1:"));
    let ticket = app
        .ticket(&tenant, json!({ "description": "Key fob not detected" }))
        .await;

    // A node that trusts the system's roots only: the test CA is not among them.
    let untrusting = app
        .peer(DeliverySettings {
            max_attempts: 1,
            ..fast_delivery()
        })
        .await;
    let worker = untrusting.start_delivery().unwrap();
    let queued = webhook(&app, &tenant, id(&ticket), &receiver.url, "Untrusted").await;
    let failed = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "failed").await;
    worker.stop().await;
    let error = failed["last_error"].as_str().unwrap();
    assert!(
        error.contains("TLS handshake") && error.contains("certificate"),
        "{error}"
    );
    assert!(
        receiver.hits().is_empty(),
        "nothing was sent: {:?}",
        receiver.hits()
    );

    // The operator trusts the receiver's CA (`AXLE_WEBHOOK_CA`).
    let trusting = app
        .peer(DeliverySettings {
            trusted_roots: ExtraRoots::read(&tls_server::fixture("ca.pem")).expect("the test CA"),
            ..fast_delivery()
        })
        .await;
    let worker = trusting.start_delivery().unwrap();
    let queued = webhook(&app, &tenant, id(&ticket), &receiver.url, "Over TLS").await;
    wait_for_status(&app, &tenant, id(&ticket), id(&queued), "delivered").await;
    worker.stop().await;
    let hits = receiver.hits();
    assert_eq!(hits.len(), 1);
    assert!(hits[0].signature_valid);
    assert_eq!(hits[0].body["body"], "Over TLS");
}

#[tokio::test]
async fn two_nodes_deliver_each_notification_exactly_once() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("oem-pair").await;
    let secret = webhook_secret(&app, &tenant).await;
    // Slow enough that one node alone needs 800 ms for the 24 rows, three at a time: on a
    // loaded machine the second node's first poll can come a few hundred ms after the first's.
    let receiver =
        Receiver::start(&secret, Duration::from_millis(100), |_| Answer::Status(200)).await;
    let mut queued = Vec::new();
    for t in 0..3 {
        let ticket = app
            .ticket(
                &tenant,
                json!({ "description": format!("Rattle from the dashboard #{t}") }),
            )
            .await;
        for n in 0..8 {
            let entry = webhook(
                &app,
                &tenant,
                id(&ticket),
                &receiver.url,
                &format!("update {n}"),
            )
            .await;
            queued.push((id(&ticket).to_owned(), id(&entry).to_owned()));
        }
    }
    assert!(
        receiver.hits().is_empty(),
        "nothing is delivered without a worker"
    );

    let settings = DeliverySettings {
        max_in_flight: 3,
        poll_interval: Duration::from_millis(10),
        ..fast_delivery()
    };
    let (one, two) = (app.peer(settings.clone()).await, app.peer(settings).await);
    let (one_worker, two_worker) = (one.start_delivery().unwrap(), two.start_delivery().unwrap());
    for (ticket_id, notification_id) in &queued {
        wait_for_status(&app, &tenant, ticket_id, notification_id, "delivered").await;
    }
    let (one_stats, two_stats) = (one_worker.stop().await, two_worker.stop().await);

    let mut per_id: HashMap<String, usize> = HashMap::new();
    for hit in receiver.hits() {
        assert!(hit.signature_valid, "{hit:?}");
        *per_id.entry(hit.notification_id).or_default() += 1;
    }
    assert_eq!(per_id.len(), queued.len());
    assert!(
        per_id.values().all(|&count| count == 1),
        "each row delivered once: {per_id:?}"
    );
    assert_eq!(one_stats.delivered + two_stats.delivered, 24);
    assert!(
        one_stats.delivered > 0 && two_stats.delivered > 0,
        "both nodes took part: {one_stats:?} {two_stats:?}"
    );
}

#[tokio::test]
async fn claims_racing_from_many_nodes_never_take_the_same_row_twice() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("oem-race").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Clunk over speed bumps" }))
        .await;
    let mut queued = Vec::new();
    for n in 0..48 {
        let entry = webhook(
            &app,
            &tenant,
            id(&ticket),
            "http://127.0.0.1:9/",
            &format!("update {n}"),
        )
        .await;
        queued.push(id(&entry).to_owned());
    }

    // Six nodes claiming at the same moment, round after round, as their workers do when
    // they start on a backlog together: each one's candidates are the rows another is
    // claiming and committing just then.
    let mut nodes = Vec::new();
    for _ in 0..6 {
        nodes.push(app.peer(fast_delivery()).await);
    }
    let start = Arc::new(tokio::sync::Barrier::new(nodes.len()));
    let claimers: Vec<_> = nodes
        .iter()
        .map(|node| {
            let (db, start) = (node.core.db.clone(), start.clone());
            tokio::spawn(async move {
                let mut taken = Vec::new();
                for _round in 0..16 {
                    start.wait().await;
                    let claimed = axle_host::store::outbox::claim(&db, now_ms(), 60_000, 2)
                        .await
                        .expect("claim");
                    taken.extend(claimed.into_iter().map(|row| row.id));
                }
                taken
            })
        })
        .collect();
    let mut per_id: HashMap<String, usize> = HashMap::new();
    for claimer in claimers {
        for taken in claimer.await.unwrap() {
            *per_id.entry(taken).or_default() += 1;
        }
    }
    // Claimers that lose every race may leave rows behind; one more claim takes them.
    for row in axle_host::store::outbox::claim(&app.app.core.db, now_ms(), 60_000, 100)
        .await
        .expect("claim the rest")
    {
        *per_id.entry(row.id).or_default() += 1;
    }
    let twice: Vec<_> = per_id.iter().filter(|(_, count)| **count > 1).collect();
    assert!(twice.is_empty(), "claimed more than once: {twice:?}");
    let mut claimed: Vec<_> = per_id.into_keys().collect();
    claimed.sort();
    queued.sort();
    assert_eq!(claimed, queued, "every queued row was claimed");
}

#[tokio::test]
async fn rows_claimed_by_a_node_that_died_are_delivered_by_another_after_the_lease() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("oem-crash").await;
    let secret = webhook_secret(&app, &tenant).await;
    // The first request never gets an answer: the node sending it dies meanwhile.
    let receiver = Receiver::start(&secret, Duration::ZERO, |n| {
        if n == 0 {
            Answer::Hang
        } else {
            Answer::Status(200)
        }
    })
    .await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Tyre pressure warning" }))
        .await;
    let queued = webhook(&app, &tenant, id(&ticket), &receiver.url, "Tyres checked").await;

    let lease = Duration::from_millis(1500);
    let doomed = app
        .peer(DeliverySettings {
            lease,
            webhook_timeout: Duration::from_secs(1),
            ..fast_delivery()
        })
        .await;
    let doomed_worker = doomed.start_delivery().unwrap();
    receiver.wait_for_hits(1).await;
    doomed_worker.abort().await;
    doomed.core.db.close().await;
    let claimed = notifications(&app, &tenant, id(&ticket)).await;
    assert_eq!(claimed[0]["status"], "sending", "{claimed:?}");
    assert_eq!(claimed[0]["attempts"], 1);

    let survivor = app.peer(fast_delivery()).await;
    let survivor_worker = survivor.start_delivery().unwrap();
    let delivered = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "delivered").await;
    survivor_worker.stop().await;

    assert_eq!(delivered["attempts"], 2);
    assert!(
        delivered["last_error"].as_str().unwrap().contains("lease"),
        "{delivered}"
    );
    let hits = receiver.hits();
    assert_eq!(hits.len(), 2, "{hits:?}");
    assert!(hits.iter().all(|hit| hit.notification_id == id(&queued)));
    assert_eq!(hits[1].attempt, "2");
    let waited = hits[1].at - hits[0].at;
    assert!(
        waited >= lease - Duration::from_millis(200),
        "claimed again only after the lease ran out, not after {waited:?}"
    );
}

#[tokio::test]
async fn tenant_b_cannot_list_or_send_notifications_on_tenant_a_tickets() {
    let app = TestApp::spawn().await;
    let a = app.tenant("iso-a").await;
    let b = app.tenant("iso-b").await;
    let ticket = app
        .ticket(&a, json!({ "description": "Sunroof leaks" }))
        .await;
    send(
        &app,
        &a,
        id(&ticket),
        json!({ "channel": "sms", "to": "+8613800000009", "body": "Bring the car in" }),
    )
    .await;
    let path = format!("/api/v1/tickets/{}/notifications", id(&ticket));

    let listed = app.get(&b.key, &path).await;
    assert_eq!(listed.status, 404, "{:?}", listed.body);
    let sent = app
        .post(
            &b.key,
            &path,
            &json!({ "channel": "sms", "to": "+8613800000010", "body": "hijack" }),
        )
        .await;
    assert_eq!(sent.status, 404, "{:?}", sent.body);

    let items = notifications(&app, &a, id(&ticket)).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["to"], "+8613800000009");
}

#[tokio::test]
async fn invalid_notifications_are_rejected_naming_the_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-invalid").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "AC blows warm air" }))
        .await;
    let path = format!("/api/v1/tickets/{}/notifications", id(&ticket));

    let bad_phone = app
        .post(
            &tenant.key,
            &path,
            &json!({ "channel": "sms", "to": "call me", "body": "hi" }),
        )
        .await;
    assert_eq!(bad_phone.status, 422, "{:?}", bad_phone.body);
    assert_eq!(bad_phone.body["error"]["details"][0]["field"], "to");
    let no_body = app
        .post(
            &tenant.key,
            &path,
            &json!({ "channel": "webhook", "to": "http://127.0.0.1:9/hook" }),
        )
        .await;
    assert_eq!(no_body.status, 422, "{:?}", no_body.body);
    assert_eq!(no_body.body["error"]["details"][0]["field"], "body");
    let bad_channel = app
        .post(
            &tenant.key,
            &path,
            &json!({ "channel": "fax", "to": "+8613800000000", "body": "hi" }),
        )
        .await;
    assert_eq!(bad_channel.status, 400, "{:?}", bad_channel.body);
    let missing = app
        .get(&tenant.key, "/api/v1/tickets/no-such-ticket/notifications")
        .await;
    assert_eq!(missing.status, 404);
    assert!(notifications(&app, &tenant, id(&ticket)).await.is_empty());
}

#[tokio::test]
async fn a_webhook_into_the_nodes_own_network_is_refused_unless_the_operator_allowed_it() {
    let app = TestApp::spawn_without_delivery().await;
    // A node as shipped: no network allowed beyond the public internet.
    let strict = app
        .peer(DeliverySettings {
            outbound: OutboundPolicy::default(),
            ..fast_delivery()
        })
        .await;
    let strict_worker = strict.start_delivery().unwrap();
    let tenant = app.tenant("oem-ssrf").await;
    let secret = webhook_secret(&app, &tenant).await;
    let receiver = Receiver::start(&secret, Duration::ZERO, |_| Answer::Status(200)).await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Door lock sticks" }))
        .await;
    let by_name = receiver.url.replace("127.0.0.1", "localhost");

    for url in [
        receiver.url.clone(),
        by_name,
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::1]:9/hook".to_owned(),
    ] {
        let queued = webhook(&app, &tenant, id(&ticket), &url, "Hello").await;
        let failed = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "failed").await;
        assert_eq!(failed["attempts"], 1, "a refusal is not retried: {failed}");
        let error = failed["last_error"].as_str().unwrap();
        assert!(error.starts_with("refused by policy"), "{url}: {error}");
    }
    assert!(receiver.hits().is_empty(), "nothing reached the receiver");
    strict_worker.stop().await;

    // The same receiver, on a node whose operator allows loopback (as the tests' nodes do).
    let allowed = app.peer(fast_delivery()).await;
    let worker = allowed.start_delivery().unwrap();
    let queued = webhook(&app, &tenant, id(&ticket), &receiver.url, "Allowed").await;
    wait_for_status(&app, &tenant, id(&ticket), id(&queued), "delivered").await;
    worker.stop().await;
    assert_eq!(receiver.hits().len(), 1);
}

#[tokio::test]
async fn a_closed_port_is_recorded_without_the_reason_it_was_closed() {
    let app = TestApp::spawn_delivering(DeliverySettings {
        max_attempts: 1,
        ..fast_delivery()
    })
    .await;
    let tenant = app.tenant("oem-portscan").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Horn is weak" }))
        .await;
    // Port 9 (discard) on loopback: nothing listens, the connection is refused.
    let queued = webhook(
        &app,
        &tenant,
        id(&ticket),
        "http://127.0.0.1:9/hook",
        "Hello",
    )
    .await;

    let failed = wait_for_status(&app, &tenant, id(&ticket), id(&queued), "failed").await;
    let error = failed["last_error"].as_str().unwrap().to_lowercase();
    assert!(error.contains("could not connect"), "{error}");
    assert!(!error.contains("refused"), "{error}");
    assert!(!error.contains("os error"), "{error}");
}

#[tokio::test]
async fn a_receiver_that_hangs_holds_one_delivery_slot_and_other_tenants_sms_go_out_meanwhile() {
    let app = TestApp::spawn_delivering(DeliverySettings {
        max_in_flight: 2,
        webhook_timeout: Duration::from_secs(10),
        lease: Duration::from_secs(30),
        ..fast_delivery()
    })
    .await;
    let slow = app.tenant("oem-slow-receiver").await;
    let other = app.tenant("oem-sms").await;
    let secret = webhook_secret(&app, &slow).await;
    let receiver = Receiver::start(&secret, Duration::ZERO, |_| Answer::Hang).await;
    let slow_ticket = app
        .ticket(&slow, json!({ "description": "Bluetooth drops calls" }))
        .await;
    let hanging = webhook(&app, &slow, id(&slow_ticket), &receiver.url, "Hello").await;
    receiver.wait_for_hits(1).await;

    // While that webhook hangs (for up to 10 s), the other tenant's SMS are delivered.
    let ticket = app
        .ticket(&other, json!({ "description": "Oil change reminder" }))
        .await;
    let started = Instant::now();
    for n in 0..3 {
        let sms = send(
            &app,
            &other,
            id(&ticket),
            json!({ "channel": "sms", "to": "+8613900000001", "body": format!("Reminder {n}") }),
        )
        .await;
        wait_for_status(&app, &other, id(&ticket), id(&sms), "delivered").await;
    }
    let still = notifications(&app, &slow, id(&slow_ticket)).await;
    let webhook_row = still.iter().find(|row| row["id"] == hanging["id"]).unwrap();
    assert_eq!(
        webhook_row["status"],
        "sending",
        "the SMS went out while the webhook still hung ({:?} in)",
        started.elapsed()
    );
}

#[tokio::test]
async fn tenants_take_turns_in_a_claim_so_a_backlog_does_not_hold_back_another_tenants_row() {
    let app = TestApp::spawn_without_delivery().await;
    let busy = app.tenant("oem-backlog").await;
    let quiet = app.tenant("oem-quiet").await;
    let busy_ticket = app
        .ticket(&busy, json!({ "description": "Recall letters" }))
        .await;
    for n in 0..40 {
        send(
            &app,
            &busy,
            id(&busy_ticket),
            json!({ "channel": "sms", "to": "+8613900000002", "body": format!("Recall notice {n}") }),
        )
        .await;
    }
    let quiet_ticket = app
        .ticket(&quiet, json!({ "description": "Brake pads worn" }))
        .await;
    let late = send(
        &app,
        &quiet,
        id(&quiet_ticket),
        json!({ "channel": "sms", "to": "+8613900000003", "body": "Your car is ready" }),
    )
    .await;

    // A claim of 4 takes the quiet tenant's one row beside the busy tenant's oldest,
    // although 40 of the busy tenant's rows were due before it.
    let claimed = axle_host::store::outbox::claim(
        &app.app.core.db,
        axle_host::domain::ids::now_ms() + 1_000,
        60_000,
        4,
    )
    .await
    .expect("claim");
    assert_eq!(claimed.len(), 4);
    assert!(
        claimed.iter().any(|row| row.id == id(&late)),
        "{:?}",
        claimed.iter().map(|row| &row.tenant_id).collect::<Vec<_>>()
    );
    let busy_rows = claimed
        .iter()
        .filter(|row| row.tenant_id == busy.id)
        .count();
    assert_eq!(busy_rows, 3);
}

#[tokio::test]
async fn notifications_past_a_tenants_burst_get_429_with_retry_after_and_other_tenants_are_not_held()
 {
    let app = TestApp::spawn_without_delivery().await;
    let noisy = app.tenant("oem-noisy").await;
    let calm = app.tenant("oem-calm-sender").await;
    let ticket = app
        .ticket(&noisy, json!({ "description": "Key battery low" }))
        .await;
    let path = format!("/api/v1/tickets/{}/notifications", id(&ticket));
    let sms =
        json!({ "channel": "sms", "to": "+8613900000004", "body": "Replace the key battery" });
    let burst = axle_host::http::rate_limit::NOTIFICATION_BURST;
    // The bucket refills (120 a minute) while the burst is sent, so the 429 comes after
    // the burst plus what refilled meanwhile: a slow machine sends a few more.
    let started = std::time::Instant::now();
    let mut accepted = 0;
    let response = loop {
        let response = app
            .client
            .post(format!("{}{path}", app.url))
            .bearer_auth(&noisy.key)
            .json(&sms)
            .send()
            .await
            .unwrap();
        match response.status().as_u16() {
            201 => accepted += 1,
            429 => break response,
            other => panic!("notification {accepted}: {other}"),
        }
        assert!(
            accepted <= 2 * burst,
            "no 429 after {accepted} notifications"
        );
    };
    let refilled = (started.elapsed().as_secs_f64() * 2.0).ceil() as u32;
    assert!(
        (burst..=burst + refilled + 1).contains(&accepted),
        "{accepted} accepted before the 429, with a burst of {burst} and {refilled} refilled"
    );
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    assert_eq!(
        notifications(&app, &noisy, id(&ticket)).await.len(),
        accepted as usize,
        "every accepted notification was queued and the refused one was not"
    );

    let other = app
        .ticket(&calm, json!({ "description": "Tyre rotation due" }))
        .await;
    send(&app, &calm, id(&other), sms).await;
}

#[tokio::test]
async fn a_node_killed_mid_delivery_loses_no_notification_and_a_redelivery_keeps_its_id() {
    use axle_tests::node_process::NodeProcess;
    let pg = match axle_tests::backend() {
        axle_tests::Backend::Postgres => Some(axle_tests::PgDatabase::create().await),
        axle_tests::Backend::Sqlite => None,
    };
    let mut args = vec![
        "--admin-token",
        axle_tests::ADMIN_TOKEN,
        "--webhook-allow",
        "127.0.0.0/8",
        // The answer takes 1.5 s, so a delivery is in flight for that long: long enough
        // that one is still in flight when the test gets round to the kill on a busy
        // machine, and within the timeout and the lease, so neither re-sends it first.
        "--delivery-lease",
        "5s",
        "--webhook-timeout",
        "3s",
    ];
    if let Some(pg) = &pg {
        args.extend(["--database-url", pg.url.as_str()]);
    }
    let mut doomed = NodeProcess::start_with(&args);
    let client = axle_host::tls::client();
    let call = |method: reqwest::Method, key: &str, path: &str, body: Option<Value>| {
        let mut request = client
            .request(method, format!("{}{path}", doomed.url))
            .bearer_auth(key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("the node answers");
            assert!(response.status().is_success(), "{}", response.status());
            response.json::<Value>().await.expect("JSON")
        }
    };
    let tenant = call(
        reqwest::Method::POST,
        axle_tests::ADMIN_TOKEN,
        "/api/v1/tenants",
        Some(json!({ "name": "Killed node OEM", "slug": "oem-killed" })),
    )
    .await;
    let key = tenant["api_key"]["secret"].as_str().unwrap().to_owned();
    let secret = call(reqwest::Method::GET, &key, "/api/v1/webhook-secret", None).await["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    // Every answer takes long enough that deliveries are in flight when the node dies.
    let receiver = Receiver::start(&secret, Duration::from_millis(1500), |_| {
        Answer::Status(200)
    })
    .await;
    let ticket = call(
        reqwest::Method::POST,
        &key,
        "/api/v1/tickets",
        Some(json!({ "description": "刹车踏板发软 soft brake pedal" })),
    )
    .await;
    let path = format!("/api/v1/tickets/{}/notifications", id(&ticket));
    const SENT: usize = 40;
    for n in 0..SENT {
        let hook =
            json!({ "channel": "webhook", "to": receiver.url, "body": format!("update {n}") });
        call(reqwest::Method::POST, &key, &path, Some(hook)).await;
    }

    receiver.wait_for_hits(3).await;
    doomed.kill();
    let seen_before = receiver.hits().len();
    assert!(
        seen_before < SENT,
        "the node died before it delivered everything"
    );
    let mut settings = axle_host::app::Settings {
        data_dir: doomed.data_dir().to_owned(),
        database_url: pg.as_ref().map(|pg| pg.url.clone()),
        admin_token: Some(axle_tests::ADMIN_TOKEN.to_owned()),
        metrics_token: None,
        public_url: None,
        compiled_dir: None,
        limits: Default::default(),
        delivery: fast_delivery(),
        redis_url: None,
    };
    settings.delivery.webhook_timeout = Duration::from_secs(3);
    let survivor = axle_host::app::App::open(&settings)
        .await
        .expect("the survivor opens");
    let worker = survivor.start_delivery().expect("the survivor delivers");

    let tenant_id = tenant["tenant"]["id"].as_str().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = axle_host::store::outbox::for_ticket(&survivor.core.db, tenant_id, id(&ticket))
            .await
            .unwrap();
        if rows.len() == SENT && rows.iter().all(|row| row.status == "delivered") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "not every notification was delivered after the node was killed: {:?}",
            rows.iter().map(|row| &row.status).collect::<Vec<_>>()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    worker.stop().await;
    let mut by_text: HashMap<String, Vec<String>> = HashMap::new();
    for hit in receiver.hits() {
        by_text
            .entry(hit.body["body"].as_str().unwrap_or_default().to_owned())
            .or_default()
            .push(hit.notification_id);
    }

    assert_eq!(
        by_text.len(),
        SENT,
        "every notification reached the receiver"
    );
    let ids: std::collections::HashSet<&String> = by_text.values().flatten().collect();
    assert_eq!(ids.len(), SENT, "one id per notification");
    for (text, deliveries) in &by_text {
        assert!(
            deliveries.iter().all(|id| id == &deliveries[0]),
            "{text} was delivered under several ids: {deliveries:?}"
        );
    }
    let redelivered = by_text.values().filter(|d| d.len() > 1).count();
    assert!(
        redelivered >= 1,
        "a delivery cut off by the kill was made again (with the same id)"
    );
}
