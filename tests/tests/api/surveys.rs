//! Satisfaction surveys: resolving a ticket sends a one-time link; the customer answers
//! it without an API key; the answer reaches the timeline and the workflow steps, and
//! stays in its tenant.

use axle_tests::{FAQ_AUTOREPLY, SCRIPTED_STEP, Tenant, TestApp, invalid_fields};
use serde_json::{Value, json};

const SURVEY_PATH: &str = "/api/v1/surveys/";

/// A customer of `tenant` with `contact` (email and/or phone), and a ticket of theirs;
/// returns the customer and the ticket.
async fn customer_ticket(app: &TestApp, tenant: &Tenant, contact: Value) -> (Value, Value) {
    let mut body = json!({ "name": "Li Wei" });
    body.as_object_mut()
        .unwrap()
        .extend(contact.as_object().unwrap().clone());
    let customer = app.customer(tenant, body).await;
    let ticket = app
        .ticket(
            tenant,
            json!({ "subject": "Wallbox will not start charging",
                    "description": "The home charger shows error E42",
                    "customer_id": customer["id"] }),
        )
        .await;
    (customer, ticket)
}

/// A ticket of a customer with an email, resolved: its id and the survey token emailed.
async fn resolved_ticket(app: &TestApp, tenant: &Tenant) -> (String, String) {
    let (_, ticket) = customer_ticket(app, tenant, json!({ "email": "li.wei@example.com" })).await;
    let id = ticket["id"].as_str().unwrap().to_owned();
    let token = app
        .survey_token(&set_status(app, tenant, &id, "resolved").await)
        .await;
    (id, token)
}

/// Moves a ticket to `status`; returns the ticket view.
async fn set_status(app: &TestApp, tenant: &Tenant, ticket_id: &str, status: &str) -> Value {
    app.patch(
        &tenant.key,
        &format!("/api/v1/tickets/{ticket_id}"),
        &json!({ "status": status }),
    )
    .await
    .expect(200)
}

/// The survey notifications of a ticket view, oldest first.
fn survey_notifications(view: &Value) -> Vec<Value> {
    view["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|n| n["body"].as_str().unwrap().contains(SURVEY_PATH))
        .cloned()
        .collect()
}

fn survey_path(token: &str) -> String {
    format!("{SURVEY_PATH}{token}")
}

async fn surveys_of(app: &TestApp, tenant: &Tenant, ticket_id: &str) -> Vec<Value> {
    app.get(&tenant.key, &format!("/api/v1/tickets/{ticket_id}/surveys"))
        .await
        .expect(200)["items"]
        .as_array()
        .unwrap()
        .clone()
}

/// The `on-event` invocations audited for a ticket, newest first.
async fn on_event_invocations(app: &TestApp, tenant: &Tenant, ticket_id: &str) -> Vec<Value> {
    let page = app
        .get(
            &tenant.key,
            &format!("/api/v1/invocations?subject_id={ticket_id}&limit=200"),
        )
        .await
        .expect(200);
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|inv| inv["hook"] == "on-event")
        .cloned()
        .collect()
}

#[tokio::test]
async fn resolving_a_ticket_emails_the_customer_a_one_time_survey_link() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (customer, ticket) = customer_ticket(
        &app,
        &tenant,
        json!({ "email": "li.wei@example.com", "phone": "+8613700000001" }),
    )
    .await;
    let id = ticket["id"].as_str().unwrap();
    assert!(survey_notifications(&ticket).is_empty());

    let in_progress = set_status(&app, &tenant, id, "in_progress").await;
    assert!(
        survey_notifications(&in_progress).is_empty(),
        "only resolving sends a survey"
    );
    let resolved = set_status(&app, &tenant, id, "resolved").await;
    let sent = survey_notifications(&resolved);
    assert_eq!(sent.len(), 1, "{resolved}");
    let email = &sent[0];
    assert_eq!(email["channel"], "email", "email when the customer has one");
    assert_eq!(email["to"], "li.wei@example.com");
    assert_eq!(email["source"], "system");
    assert!(
        ["pending", "sending", "delivered"].contains(&email["status"].as_str().unwrap()),
        "the delivery worker may already have it: {email}"
    );
    assert!(
        email["subject"]
            .as_str()
            .unwrap()
            .contains("Wallbox will not start charging")
    );
    let token = app.link_token(email).await;

    let surveys = surveys_of(&app, &tenant, id).await;
    assert_eq!(surveys.len(), 1);
    assert_eq!(surveys[0]["customer_id"], customer["id"]);
    assert_eq!(surveys[0]["sent_via"], "email");
    assert_eq!(surveys[0]["answered_at"], Value::Null);
    let issued = jiff_ms(&surveys[0]["issued_at"]);
    let expires = jiff_ms(&surveys[0]["expires_at"]);
    assert_eq!(
        expires - issued,
        30 * 24 * 3600 * 1000,
        "the link lasts 30 days"
    );

    let events = app.timeline(&tenant, id).await;
    let issued_event = events
        .iter()
        .find(|e| e["kind"] == "survey.issued")
        .unwrap_or_else(|| panic!("no survey.issued in {events:?}"));
    assert_eq!(issued_event["actor"], "system");
    assert_eq!(issued_event["data"]["survey_id"], surveys[0]["id"]);
    assert_eq!(issued_event["data"]["sent_via"], "email");

    let stored = format!("{surveys:?}{events:?}");
    assert!(
        !stored.contains(&token),
        "the token is stored only as a hash"
    );

    let closed = set_status(&app, &tenant, id, "closed").await;
    assert_eq!(
        survey_notifications(&closed).len(),
        1,
        "closing a resolved ticket sends no second survey"
    );
}

/// Unix ms of an RFC 3339 timestamp in a JSON value.
fn jiff_ms(value: &Value) -> i64 {
    value
        .as_str()
        .unwrap()
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_millisecond()
}

#[tokio::test]
async fn a_customer_without_email_gets_the_survey_link_by_sms() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (_, ticket) = customer_ticket(&app, &tenant, json!({ "phone": "+86 137 0000 0002" })).await;
    let resolved = set_status(&app, &tenant, ticket["id"].as_str().unwrap(), "resolved").await;
    let sent = survey_notifications(&resolved);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["channel"], "sms");
    assert_eq!(sent[0]["to"], "+8613700000002");
    app.link_token(&sent[0]).await;
}

#[tokio::test]
async fn a_ticket_without_a_reachable_customer_gets_a_survey_but_sends_nothing() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let anonymous = app
        .ticket(
            &tenant,
            json!({ "description": "Walk-in question at the dealer" }),
        )
        .await;
    let (_, unreachable) = customer_ticket(&app, &tenant, json!({})).await;

    for ticket in [&anonymous, &unreachable] {
        let id = ticket["id"].as_str().unwrap();
        let resolved = set_status(&app, &tenant, id, "resolved").await;
        assert_eq!(resolved["notifications"], json!([]), "{resolved}");
        let surveys = surveys_of(&app, &tenant, id).await;
        assert_eq!(surveys.len(), 1, "the survey is issued all the same");
        assert_eq!(surveys[0]["sent_via"], Value::Null);
        let events = app.timeline(&tenant, id).await;
        let issued = events
            .iter()
            .find(|e| e["kind"] == "survey.issued")
            .unwrap();
        assert_eq!(issued["data"]["sent_via"], Value::Null);
    }
}

#[tokio::test]
async fn a_customer_answers_the_survey_once_without_an_api_key() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (customer, ticket) =
        customer_ticket(&app, &tenant, json!({ "email": "li.wei@example.com" })).await;
    let id = ticket["id"].as_str().unwrap();
    let resolved = set_status(&app, &tenant, id, "resolved").await;
    let path = survey_path(&app.survey_token(&resolved).await);

    let form = app.get_anonymous(&path).await.expect(200);
    assert_eq!(form["subject"], "Wallbox will not start charging");
    assert_eq!(form["answered"], false);
    let questions = form["questions"].as_array().unwrap();
    let fields: Vec<&str> = questions
        .iter()
        .map(|q| q["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["csat", "nps", "comment"]);
    assert_eq!(
        (questions[0]["min"].clone(), questions[0]["max"].clone()),
        (json!(1), json!(5))
    );
    assert_eq!(
        (questions[1]["min"].clone(), questions[1]["max"].clone()),
        (json!(0), json!(10))
    );
    assert_eq!(questions[2]["required"], false);
    assert!(
        form.get("customer_id").is_none() && form.get("ticket_id").is_none(),
        "the form shows nothing the customer did not already know: {form}"
    );

    let answered = app
        .post_anonymous(
            &path,
            &json!({ "csat": 4, "nps": 9, "comment": "  Fixed on the first visit.  " }),
        )
        .await
        .expect(201);
    assert_eq!(answered["csat"], 4);
    assert_eq!(answered["nps"], 9);
    assert_eq!(answered["comment"], "Fixed on the first visit.");

    let again = app
        .post_anonymous(&path, &json!({ "csat": 1, "nps": 0 }))
        .await;
    assert_eq!(again.status, 409, "{:?}", again);
    assert_eq!(again.error_code(), "conflict");
    assert!(again.error_message().contains("already answered"));
    let form = app.get_anonymous(&path).await.expect(200);
    assert_eq!(form["answered"], true);

    let surveys = surveys_of(&app, &tenant, id).await;
    assert_eq!(surveys.len(), 1);
    assert_eq!(surveys[0]["csat"], 4, "the first answer stands");
    assert_eq!(surveys[0]["nps"], 9);
    assert_eq!(surveys[0]["comment"], "Fixed on the first visit.");
    assert_eq!(surveys[0]["ticket_id"], id);
    assert_eq!(surveys[0]["customer_id"], customer["id"]);
    assert_eq!(surveys[0]["answered_at"], answered["answered_at"]);

    let events = app.timeline(&tenant, id).await;
    let received: Vec<&Value> = events
        .iter()
        .filter(|e| e["kind"] == "survey.received")
        .collect();
    assert_eq!(received.len(), 1, "one answer, one event: {events:?}");
    assert_eq!(
        received[0]["actor"],
        format!("customer:{}", customer["id"].as_str().unwrap())
    );
    assert_eq!(received[0]["data"]["csat"], 4);
    assert_eq!(received[0]["data"]["nps"], 9);
    assert_eq!(received[0]["data"]["survey_id"], surveys[0]["id"]);

    let after = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}"))
        .await
        .expect(200);
    assert_eq!(
        after["status"], "resolved",
        "answering leaves the ticket as it was"
    );
    assert_eq!(after["updated_at"], resolved["updated_at"]);
}

#[tokio::test]
async fn scores_out_of_range_or_missing_are_rejected_per_field_and_spend_no_token() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (id, token) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();
    let path = survey_path(&token);

    let cases = [
        (json!({ "csat": 0, "nps": 11 }), vec!["csat", "nps"]),
        (json!({ "csat": 6, "nps": -1 }), vec!["csat", "nps"]),
        (json!({ "csat": "5", "nps": 9.5 }), vec!["csat", "nps"]),
        (json!({ "nps": 10 }), vec!["csat"]),
        (json!({ "csat": 5, "nps": null }), vec!["nps"]),
        (
            json!({ "csat": 5, "nps": 10, "comment": "x".repeat(2001) }),
            vec!["comment"],
        ),
    ];
    for (body, fields) in cases {
        let reply = app.post_anonymous(&path, &body).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply);
        assert_eq!(reply.error_code(), "validation_failed");
        assert_eq!(invalid_fields(&reply), fields, "{body}");
    }
    let reply = app
        .post_anonymous(&path, &json!({ "csat": 0, "nps": 11 }))
        .await;
    let messages = format!("{}", reply.body["error"]["details"]);
    assert!(messages.contains("from 1 to 5"), "{messages}");
    assert!(messages.contains("from 0 to 10"), "{messages}");
    let unknown = app
        .post_anonymous(&path, &json!({ "csat": 5, "nps": 10, "ces": 3 }))
        .await;
    assert_eq!(unknown.status, 400, "{:?}", unknown);

    app.post_anonymous(&path, &json!({ "csat": 1, "nps": 0 }))
        .await
        .expect(201);
    let surveys = surveys_of(&app, &tenant, id).await;
    assert_eq!(
        (surveys[0]["csat"].clone(), surveys[0]["nps"].clone()),
        (json!(1), json!(0))
    );
    let received = app
        .timeline(&tenant, id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "survey.received")
        .count();
    assert_eq!(received, 1, "rejected answers leave no trace");
}

#[tokio::test]
async fn concurrent_answers_with_one_token_record_exactly_one() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (id, token) = resolved_ticket(&app, &tenant).await;
    let path = survey_path(&token);

    let mut answers = tokio::task::JoinSet::new();
    for csat in 1..=5 {
        let request = app
            .client
            .post(format!("{}{path}", app.url))
            .json(&json!({ "csat": csat, "nps": 2 * csat }));
        answers.spawn(async move {
            let response = request.send().await.expect("POST");
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.expect("JSON body"))
        });
    }
    let replies = answers.join_all().await;
    let mut statuses: Vec<u16> = replies.iter().map(|(status, _)| *status).collect();
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409, 409, 409, 409], "{replies:?}");

    let (_, winner) = replies.iter().find(|(status, _)| *status == 201).unwrap();
    let surveys = surveys_of(&app, &tenant, &id).await;
    assert_eq!(
        surveys[0]["csat"], winner["csat"],
        "the stored answer is the one accepted"
    );
    let received = app
        .timeline(&tenant, &id)
        .await
        .into_iter()
        .filter(|e| e["kind"] == "survey.received")
        .count();
    assert_eq!(received, 1);
}

#[tokio::test]
async fn an_unknown_survey_token_is_not_found() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (_, token) = resolved_ticket(&app, &tenant).await;

    let mut forged = token.clone().into_bytes();
    forged[0] = if forged[0] == b'0' { b'1' } else { b'0' };
    let forged = String::from_utf8(forged).unwrap();
    for unknown in [forged.as_str(), "nope", &token.to_uppercase()] {
        let form = app.get_anonymous(&survey_path(unknown)).await;
        assert_eq!(form.status, 404, "{unknown}: {:?}", form);
        assert_eq!(form.error_code(), "not_found");
        let answer = app
            .post_anonymous(&survey_path(unknown), &json!({ "csat": 5, "nps": 10 }))
            .await;
        assert_eq!(answer.status, 404, "{unknown}: {:?}", answer);
    }
    app.get_anonymous(&survey_path(&token)).await.expect(200);
}

#[tokio::test]
async fn an_expired_survey_link_is_gone() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (id, token) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();
    let path = survey_path(&token);

    // Thirty days pass: move the deadline into the past rather than wait.
    sqlx::query("UPDATE surveys SET expires_at = issued_at - 1 WHERE ticket_id = $1")
        .bind(id)
        .execute(app.app.core.db.writer())
        .await
        .unwrap();

    let form = app.get_anonymous(&path).await;
    assert_eq!(form.status, 410, "{:?}", form);
    assert_eq!(form.error_code(), "gone");
    assert!(
        form.error_message().contains("expired"),
        "{}",
        form.error_message()
    );
    let answer = app
        .post_anonymous(&path, &json!({ "csat": 5, "nps": 10 }))
        .await;
    assert_eq!(answer.status, 410, "{:?}", answer);
    assert_eq!(
        surveys_of(&app, &tenant, id).await[0]["answered_at"],
        Value::Null
    );
}

#[tokio::test]
async fn a_reopened_and_re_resolved_ticket_gets_a_new_token_and_the_old_one_is_gone() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (id, first) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();
    set_status(&app, &tenant, id, "in_progress").await;
    let again = set_status(&app, &tenant, id, "resolved").await;
    let sent = survey_notifications(&again);
    assert_eq!(sent.len(), 2, "one link per resolution");
    let second = app.survey_token(&again).await;
    assert_ne!(first, second);

    let old = app
        .post_anonymous(&survey_path(&first), &json!({ "csat": 2, "nps": 3 }))
        .await;
    assert_eq!(
        old.status, 410,
        "the newer survey replaces the older: {:?}",
        old
    );
    app.post_anonymous(&survey_path(&second), &json!({ "csat": 5, "nps": 10 }))
        .await
        .expect(201);

    let surveys = surveys_of(&app, &tenant, id).await;
    assert_eq!(surveys.len(), 2);
    assert_eq!(surveys[0]["answered_at"], Value::Null);
    assert_eq!(surveys[1]["csat"], 5);
}

#[tokio::test]
async fn a_survey_answered_in_time_cannot_be_replaced_by_a_later_resolution() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (id, first) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();
    app.post_anonymous(&survey_path(&first), &json!({ "csat": 3, "nps": 7 }))
        .await
        .expect(201);
    set_status(&app, &tenant, id, "in_progress").await;
    set_status(&app, &tenant, id, "resolved").await;

    let surveys = surveys_of(&app, &tenant, id).await;
    assert_eq!(surveys.len(), 2);
    assert_eq!(surveys[0]["csat"], 3, "an answered survey keeps its answer");
    let form = app.get_anonymous(&survey_path(&first)).await.expect(200);
    assert_eq!(form["answered"], true);
}

#[tokio::test]
async fn a_workflow_step_that_resolves_a_ticket_issues_a_survey() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let step = app
        .install(
            &tenant,
            &SCRIPTED_STEP,
            json!({ "rules": [{ "on": "ticket.updated", "transition": "resolved" }] }),
            &[],
        )
        .await;
    let (_, ticket) =
        customer_ticket(&app, &tenant, json!({ "email": "li.wei@example.com" })).await;
    let id = ticket["id"].as_str().unwrap();

    let view = set_status(&app, &tenant, id, "in_progress").await;
    assert_eq!(view["status"], "resolved", "the step resolved it: {view}");
    let token = app.survey_token(&view).await;
    let events = app.timeline(&tenant, id).await;
    let changed = events
        .iter()
        .find(|e| e["kind"] == "status.changed")
        .unwrap_or_else(|| panic!("no status.changed in {events:?}"));
    assert_eq!(
        changed["actor"],
        format!("scripted-step@{}", step["version"].as_str().unwrap())
    );
    assert!(events.iter().any(|e| e["kind"] == "survey.issued"));
    app.post_anonymous(&survey_path(&token), &json!({ "csat": 5, "nps": 10 }))
        .await
        .expect(201);
}

#[tokio::test]
async fn a_workflow_step_receives_survey_received_with_the_scores() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    // A low score reopens the ticket: the step comments with what it got, then acts.
    app.install(
        &tenant,
        &SCRIPTED_STEP,
        json!({ "rules": [{ "on": "survey.received", "transition": "in_progress" }] }),
        &[],
    )
    .await;
    let (id, token) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();

    app.post_anonymous(
        &survey_path(&token),
        &json!({ "csat": 2, "nps": 4, "comment": "Still broken" }),
    )
    .await
    .expect(201);

    let events = app.timeline(&tenant, id).await;
    let comment = events
        .iter()
        .find(|e| e["kind"] == "comment")
        .unwrap_or_else(|| panic!("the step did not act: {events:?}"));
    let body = comment["data"]["body"].as_str().unwrap();
    let payload: Value = serde_json::from_str(
        body.strip_prefix("survey.received ")
            .unwrap_or_else(|| panic!("the step saw another event: {body}")),
    )
    .unwrap();
    assert_eq!(payload["csat"], 2);
    assert_eq!(payload["nps"], 4);
    assert_eq!(payload["comment"], "Still broken");
    let after = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}"))
        .await
        .expect(200);
    assert_eq!(
        after["status"], "in_progress",
        "the step's action was applied"
    );
}

#[tokio::test]
async fn answering_a_survey_invokes_the_tenants_workflow_steps_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let faq = app
        .install(
            &tenant,
            &FAQ_AUTOREPLY,
            json!({ "entries": [] }),
            &["records"],
        )
        .await;
    let (id, token) = resolved_ticket(&app, &tenant).await;
    let id = id.as_str();
    let before = on_event_invocations(&app, &tenant, id).await;
    assert_eq!(
        before.len(),
        2,
        "ticket.created and ticket.updated: {before:?}"
    );

    app.post_anonymous(&survey_path(&token), &json!({ "csat": 5, "nps": 9 }))
        .await
        .expect(201);
    let after = on_event_invocations(&app, &tenant, id).await;
    assert_eq!(after.len(), 3, "one more for survey.received: {after:?}");
    let newest = &after[0];
    assert_eq!(newest["installation_id"], faq["id"]);
    assert_eq!(newest["outcome"], "ok");
    assert_eq!(newest["subject_id"], id);

    app.post_anonymous(&survey_path(&token), &json!({ "csat": 5, "nps": 9 }))
        .await;
    assert_eq!(
        on_event_invocations(&app, &tenant, id).await.len(),
        3,
        "a refused second answer fires nothing"
    );
}

#[tokio::test]
async fn survey_answers_stay_in_their_tenant() {
    let app = TestApp::spawn().await;
    let a = app.tenant("oem-a").await;
    let b = app.tenant("oem-b").await;
    app.install(&b, &FAQ_AUTOREPLY, json!({ "entries": [] }), &["records"])
        .await;
    let (_, ticket_a) = customer_ticket(&app, &a, json!({ "email": "a@example.com" })).await;
    let (_, ticket_b) = customer_ticket(&app, &b, json!({ "email": "b@example.com" })).await;
    let (id_a, id_b) = (
        ticket_a["id"].as_str().unwrap(),
        ticket_b["id"].as_str().unwrap(),
    );
    let token_a = app
        .survey_token(&set_status(&app, &a, id_a, "resolved").await)
        .await;
    set_status(&app, &b, id_b, "resolved").await;
    let b_invocations = app.get(&b.key, "/api/v1/invocations").await.expect(200);

    // Answering with B's key in the header changes nothing: the token alone decides.
    let answered = app
        .client
        .post(format!("{}{}", app.url, survey_path(&token_a)))
        .bearer_auth(&b.key)
        .json(&json!({ "csat": 5, "nps": 10, "comment": "for A" }))
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status().as_u16(), 201);

    let in_a = surveys_of(&app, &a, id_a).await;
    assert_eq!(in_a[0]["comment"], "for A");
    let from_b = app
        .get(&b.key, &format!("/api/v1/tickets/{id_a}/surveys"))
        .await;
    assert_eq!(from_b.status, 404, "{:?}", from_b);
    let in_b = surveys_of(&app, &b, id_b).await;
    assert_eq!(in_b.len(), 1);
    assert_eq!(
        in_b[0]["answered_at"],
        Value::Null,
        "B's survey is untouched"
    );
    assert!(
        !app.timeline(&b, id_b)
            .await
            .iter()
            .any(|e| e["kind"] == "survey.received")
    );
    assert_eq!(
        app.get(&b.key, "/api/v1/invocations").await.expect(200),
        b_invocations,
        "A's survey.received never reached B's workflow steps"
    );
}

#[tokio::test]
async fn the_survey_link_gets_its_token_only_as_it_is_delivered() {
    let app = TestApp::spawn_without_delivery().await;
    let tenant = app.tenant("oem-link-token").await;
    let (_, ticket) =
        customer_ticket(&app, &tenant, json!({ "email": "li.wei@example.com" })).await;
    let id = ticket["id"].as_str().unwrap();

    let resolved = set_status(&app, &tenant, id, "resolved").await;
    let token = app.survey_token(&resolved).await;
    let listed = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}/notifications"))
        .await
        .expect(200);
    let timeline = app.timeline(&tenant, id).await;
    let claimed = axle_host::store::outbox::claim(
        &app.app.core.db,
        axle_host::domain::ids::now_ms(),
        60_000,
        10,
    )
    .await
    .expect("claim");

    for shown in [
        resolved.to_string(),
        listed.to_string(),
        format!("{timeline:?}"),
    ] {
        assert!(
            !shown.contains(&token),
            "an API reply holds the token: {shown}"
        );
    }
    let invitation = claimed
        .iter()
        .find(|row| row.body.contains(SURVEY_PATH))
        .expect("the invitation is claimed for delivery");
    assert!(
        invitation.body.contains(&format!("{SURVEY_PATH}{token}")),
        "{}",
        invitation.body
    );
    assert!(!invitation.body.contains("{link-token}"));
}
