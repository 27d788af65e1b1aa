//! The work log of a ticket: calls, emails, chats, visits and notes, with their
//! direction, handle time and acting agent, on the timeline and isolated per tenant.

use axle_tests::{Tenant, TestApp, agent_key, field_message, ids, invalid_fields};
use serde_json::{Value, json};

/// A ticket of `tenant`; returns its id.
async fn ticket(app: &TestApp, tenant: &Tenant) -> String {
    app.ticket(
        tenant,
        json!({ "description": "Infotainment screen reboots while driving", "channel": "phone" }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn interactions_path(ticket_id: &str) -> String {
    format!("/api/v1/tickets/{ticket_id}/interactions")
}

#[tokio::test]
async fn every_interaction_kind_is_logged_with_its_direction_handle_time_and_agent() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (agent_id, agent) = agent_key(&app, &tenant).await;
    let id = ticket(&app, &tenant).await;
    let path = interactions_path(&id);

    let logged = [
        json!({ "kind": "call", "direction": "inbound", "handle_time_seconds": 420,
                "summary": "Customer reports reboots on the highway", "occurred_at": "2026-03-01T09:30:00+08:00" }),
        json!({ "kind": "email", "direction": "outbound", "summary": "Sent the reset instructions",
                "body": "Hold the volume knob for 10 seconds…" }),
        json!({ "kind": "chat", "direction": "inbound", "handle_time_seconds": 0, "summary": "Asked whether the reset worked" }),
        json!({ "kind": "visit", "direction": "inbound", "handle_time_seconds": 3600, "summary": "Head unit reflashed at the dealer" }),
        json!({ "kind": "note", "summary": "Known issue with firmware 4.2, see bulletin 88" }),
    ];
    let mut created = Vec::new();
    for body in &logged {
        created.push(app.post(&agent, &path, body).await.expect(201));
    }

    let call = &created[0];
    assert_eq!(call["ticket_id"], id.as_str());
    assert_eq!(call["kind"], "call");
    assert_eq!(call["direction"], "inbound");
    assert_eq!(call["handle_time_seconds"], 420);
    assert_eq!(call["actor"], format!("key:{agent_id}"));
    assert_eq!(
        call["occurred_at"], "2026-03-01T01:30:00Z",
        "occurred_at is kept, in UTC"
    );
    let email = &created[1];
    assert_eq!(email["direction"], "outbound");
    assert_eq!(email["handle_time_seconds"], Value::Null);
    assert_eq!(email["body"], "Hold the volume knob for 10 seconds…");
    assert_eq!(
        email["occurred_at"], email["created_at"],
        "occurred_at defaults to now"
    );
    assert_eq!(
        created[2]["handle_time_seconds"], 0,
        "zero seconds is a time"
    );
    assert_eq!(created[3]["kind"], "visit");
    let note = &created[4];
    assert_eq!(note["kind"], "note");
    assert_eq!(note["direction"], "internal", "notes are internal");

    let listed = app.get(&tenant.key, &path).await.expect(200);
    let mut expected: Vec<String> = created
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect();
    expected.reverse();
    assert_eq!(ids(&listed), expected, "most recently logged first");
    assert_eq!(
        listed["items"][4], created[0],
        "the list shows what was logged"
    );
    assert_eq!(listed["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_note_is_internal_and_cannot_be_logged_as_a_customer_contact() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = ticket(&app, &tenant).await;

    let outbound = app
        .post(
            &tenant.key,
            &interactions_path(&id),
            &json!({ "kind": "note", "direction": "outbound", "summary": "called back" }),
        )
        .await;
    assert_eq!(outbound.status, 422, "{:?}", outbound);
    assert_eq!(invalid_fields(&outbound), ["direction"]);
    assert!(
        field_message(&outbound, "direction").contains("internal"),
        "{}",
        outbound.body
    );

    let internal = app
        .post(
            &tenant.key,
            &interactions_path(&id),
            &json!({ "kind": "note", "direction": "internal", "summary": "waiting for parts", "handle_time_seconds": 60 }),
        )
        .await
        .expect(201);
    assert_eq!(
        internal["handle_time_seconds"], 60,
        "a note may carry a handle time"
    );
}

#[tokio::test]
async fn an_invalid_interaction_is_rejected_with_a_reason_per_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = ticket(&app, &tenant).await;
    let path = interactions_path(&id);

    let everything_wrong = app
        .post(
            &tenant.key,
            &path,
            &json!({ "kind": "fax", "direction": "sideways", "handle_time_seconds": -5,
                     "summary": "   ", "occurred_at": "yesterday" }),
        )
        .await;
    assert_eq!(everything_wrong.status, 422, "{:?}", everything_wrong);
    assert_eq!(everything_wrong.error_code(), "validation_failed");
    assert_eq!(
        invalid_fields(&everything_wrong),
        [
            "kind",
            "direction",
            "handle_time_seconds",
            "summary",
            "occurred_at"
        ]
    );
    assert!(field_message(&everything_wrong, "kind").contains("call, email, chat, visit, note"));
    assert!(field_message(&everything_wrong, "direction").contains("inbound, outbound, internal"));
    assert!(field_message(&everything_wrong, "handle_time_seconds").contains("-5"));
    assert!(field_message(&everything_wrong, "occurred_at").contains("RFC 3339"));

    for kind in ["call", "chat", "visit"] {
        let missing = app.post(&tenant.key, &path, &json!({ "kind": kind })).await;
        assert_eq!(missing.status, 422, "{kind}: {:?}", missing);
        assert_eq!(
            invalid_fields(&missing),
            ["direction", "handle_time_seconds", "summary"],
            "{kind}"
        );
        assert!(
            field_message(&missing, "handle_time_seconds")
                .contains(&format!("required for a {kind}"))
        );
    }

    let no_kind = app.post(&tenant.key, &path, &json!({})).await;
    assert_eq!(invalid_fields(&no_kind), ["kind", "direction", "summary"]);

    let future = app
        .post(
            &tenant.key,
            &path,
            &json!({ "kind": "email", "direction": "inbound", "summary": "from the future",
                     "occurred_at": "2999-01-01T00:00:00Z" }),
        )
        .await;
    assert_eq!(invalid_fields(&future), ["occurred_at"]);

    let too_long = app
        .post(
            &tenant.key,
            &path,
            &json!({ "kind": "call", "direction": "outbound", "handle_time_seconds": 86_401,
                     "summary": "x".repeat(501) }),
        )
        .await;
    assert_eq!(
        invalid_fields(&too_long),
        ["handle_time_seconds", "summary"]
    );

    let unknown_field = app
        .post(
            &tenant.key,
            &path,
            &json!({ "kind": "note", "summary": "hi", "duration": 5 }),
        )
        .await;
    assert_eq!(unknown_field.status, 400, "{:?}", unknown_field);
    assert!(unknown_field.error_message().contains("duration"));

    let listed = app.get(&tenant.key, &path).await.expect(200);
    assert_eq!(ids(&listed), Vec::<String>::new(), "nothing was logged");
}

#[tokio::test]
async fn interactions_page_through_next_cursor_each_exactly_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = ticket(&app, &tenant).await;
    let path = interactions_path(&id);
    let mut logged = Vec::new();
    for n in 0..7 {
        let body = json!({ "kind": "call", "direction": "outbound", "handle_time_seconds": 60 * n,
                           "summary": format!("follow-up call {n}") });
        logged.push(
            app.post(&tenant.key, &path, &body).await.expect(201)["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let (mut seen, mut sizes) = (Vec::new(), Vec::new());
    let mut page = app
        .get(&tenant.key, &format!("{path}?limit=3"))
        .await
        .expect(200);
    loop {
        let items = ids(&page);
        sizes.push(items.len());
        seen.extend(items);
        let Some(cursor) = page["next_cursor"].as_str() else {
            break;
        };
        page = app
            .get(&tenant.key, &format!("{path}?limit=3&cursor={cursor}"))
            .await
            .expect(200);
        assert!(sizes.len() < 10, "pagination does not end: {sizes:?}");
    }
    logged.reverse();
    assert_eq!(sizes, [3, 3, 1]);
    assert_eq!(seen, logged, "newest first, each exactly once");

    let too_big = app.get(&tenant.key, &format!("{path}?limit=500")).await;
    assert_eq!(too_big.status, 400, "{:?}", too_big);
}

#[tokio::test]
async fn the_timeline_shows_each_interaction_with_the_agent_who_logged_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (agent_id, agent) = agent_key(&app, &tenant).await;
    let id = ticket(&app, &tenant).await;
    let call = app
        .post(
            &agent,
            &interactions_path(&id),
            &json!({ "kind": "call", "direction": "inbound", "handle_time_seconds": 95,
                     "summary": "Customer confirms the fix" }),
        )
        .await
        .expect(201);
    app.post(
        &tenant.key,
        &interactions_path(&id),
        &json!({ "kind": "note", "summary": "Close after the survey" }),
    )
    .await
    .expect(201);

    let events = app.timeline(&tenant, &id).await;
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        ["ticket.created", "interaction.logged", "interaction.logged"]
    );
    let logged = &events[1];
    assert_eq!(logged["actor"], format!("key:{agent_id}"));
    assert_eq!(logged["data"]["interaction_id"], call["id"]);
    assert_eq!(logged["data"]["kind"], "call");
    assert_eq!(logged["data"]["direction"], "inbound");
    assert_eq!(logged["data"]["handle_time_seconds"], 95);
    assert_eq!(logged["data"]["summary"], "Customer confirms the fix");
    assert_ne!(
        events[2]["actor"], logged["actor"],
        "the note names the admin key that logged it"
    );
    assert_eq!(events[2]["data"]["direction"], "internal");
}

#[tokio::test]
async fn a_closed_ticket_takes_no_interactions_until_it_is_reopened() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = ticket(&app, &tenant).await;
    let ticket_path = format!("/api/v1/tickets/{id}");
    let callback = json!({ "kind": "call", "direction": "inbound", "handle_time_seconds": 30,
                           "summary": "Customer calls back" });

    app.patch(&tenant.key, &ticket_path, &json!({ "status": "resolved" }))
        .await
        .expect(200);
    app.post(&tenant.key, &interactions_path(&id), &callback)
        .await
        .expect(201);

    app.patch(&tenant.key, &ticket_path, &json!({ "status": "closed" }))
        .await
        .expect(200);
    let refused = app
        .post(&tenant.key, &interactions_path(&id), &callback)
        .await;
    assert_eq!(refused.status, 409, "{:?}", refused);
    assert_eq!(refused.error_code(), "conflict");
    assert!(
        refused.error_message().contains("reopen"),
        "{}",
        refused.error_message()
    );

    app.patch(
        &tenant.key,
        &ticket_path,
        &json!({ "status": "in_progress" }),
    )
    .await
    .expect(200);
    app.post(&tenant.key, &interactions_path(&id), &callback)
        .await
        .expect(201);
    let listed = app
        .get(&tenant.key, &interactions_path(&id))
        .await
        .expect(200);
    assert_eq!(ids(&listed).len(), 2, "the refused call left no trace");
}

#[tokio::test]
async fn another_tenant_can_neither_log_on_nor_list_a_tickets_interactions() {
    let app = TestApp::spawn().await;
    let a = app.tenant("oem-a").await;
    let b = app.tenant("oem-b").await;
    let id = ticket(&app, &a).await;
    let body = json!({ "kind": "note", "summary": "visible to A only" });
    app.post(&a.key, &interactions_path(&id), &body)
        .await
        .expect(201);

    let logged = app.post(&b.key, &interactions_path(&id), &body).await;
    assert_eq!(logged.status, 404, "{:?}", logged);
    assert_eq!(logged.error_code(), "not_found");
    let invalid = app.post(&b.key, &interactions_path(&id), &json!({})).await;
    assert_eq!(
        invalid.status, 404,
        "another tenant's ticket is missing, whatever the body"
    );
    let listed = app.get(&b.key, &interactions_path(&id)).await;
    assert_eq!(listed.status, 404, "{:?}", listed);

    let own = app.get(&a.key, &interactions_path(&id)).await.expect(200);
    assert_eq!(ids(&own).len(), 1, "B's attempts added nothing");
    assert_eq!(app.timeline(&a, &id).await.len(), 2);
}

#[tokio::test]
async fn an_unknown_ticket_has_no_interactions() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let path = interactions_path("no-such-ticket");
    assert_eq!(app.get(&tenant.key, &path).await.status, 404);
    let logged = app
        .post(
            &tenant.key,
            &path,
            &json!({ "kind": "note", "summary": "x" }),
        )
        .await;
    assert_eq!(logged.status, 404, "{:?}", logged);
    let anonymous = app.get_anonymous(&path).await;
    assert_eq!(anonymous.status, 401, "the work log needs an API key");
}
