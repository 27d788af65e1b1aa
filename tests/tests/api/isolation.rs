//! Tenant isolation: tenant B's key cannot read, list, change or route through anything of
//! tenant A, and a plugin installed in B sees only B's records.

mod route_matrix;

use axle_tests::{HOSTILE, Reply, SAFETY_ESCALATION, Tenant, TestApp, vin};
use serde_json::{Value, json};

/// Two tenants on one node; A has a customer, a vehicle, a routed ticket with an SMS in
/// the outbox, and a routing plugin installed.
struct World {
    app: TestApp,
    a: Tenant,
    b: Tenant,
    customer: Value,
    vehicle: Value,
    ticket: Value,
    installation: Value,
    vin: String,
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let a = app.tenant("oem-a").await;
        let b = app.tenant("oem-b").await;
        let installation = app
            .install(
                &a,
                &SAFETY_ESCALATION,
                json!({ "default_manager": "+8613800000000" }),
                &["notify"],
            )
            .await;
        let customer = app
            .customer(&a, json!({ "name": "张伟", "phone": "+8613912345601", "region": "East China", "vip": true }))
            .await;
        let vin = vin("LSVAX4100N2000101");
        let vehicle = app
            .vehicle(&a, json!({ "vin": vin, "customer_id": customer["id"] }))
            .await;
        let ticket = app
            .ticket(&a, json!({ "description": "Soft brake pedal at highway speed", "vin": vin, "category": "safety" }))
            .await;
        assert_eq!(
            ticket["notifications"].as_array().unwrap().len(),
            1,
            "A's ticket was routed: {ticket}"
        );
        World {
            app,
            a,
            b,
            customer,
            vehicle,
            ticket,
            installation,
            vin,
        }
    }
}

/// The `id` of a JSON record.
fn id(record: &Value) -> &str {
    record["id"].as_str().expect("a record with an id")
}

#[track_caller]
fn assert_not_found(reply: Reply, what: &str) {
    assert_eq!(reply.status, 404, "{what}: {:?}", reply);
    assert_eq!(reply.error_code(), "not_found", "{what}");
}

#[tokio::test]
async fn tenant_b_cannot_read_tenant_a_records() {
    let w = World::new().await;
    let (app, key) = (&w.app, &w.b.key);

    assert_not_found(
        app.get(key, &format!("/api/v1/customers/{}", id(&w.customer)))
            .await,
        "customer",
    );
    assert_not_found(
        app.get(key, &format!("/api/v1/vehicles/{}", id(&w.vehicle)))
            .await,
        "vehicle",
    );
    assert_not_found(
        app.get(key, &format!("/api/v1/tickets/{}", id(&w.ticket)))
            .await,
        "ticket",
    );
    assert_not_found(
        app.get(key, &format!("/api/v1/tickets/{}/timeline", id(&w.ticket)))
            .await,
        "timeline",
    );
    assert_not_found(
        app.get(
            key,
            &format!("/api/v1/installations/{}", id(&w.installation)),
        )
        .await,
        "installation",
    );
    assert_not_found(
        app.get(
            key,
            &format!("/api/v1/installations/{}/invocations", id(&w.installation)),
        )
        .await,
        "invocations",
    );
    let version = &w.installation["plugin_version_id"].as_str().unwrap();
    assert_not_found(
        app.get(key, &format!("/api/v1/plugins/{version}")).await,
        "plugin version",
    );

    // The same reads with A's key succeed, so the 404s above are about the tenant.
    app.get(&w.a.key, &format!("/api/v1/customers/{}", id(&w.customer)))
        .await
        .expect(200);
    app.get(&w.a.key, &format!("/api/v1/plugins/{version}"))
        .await
        .expect(200);
    let invocations = app
        .get(
            &w.a.key,
            &format!("/api/v1/installations/{}/invocations", id(&w.installation)),
        )
        .await
        .expect(200);
    assert_eq!(invocations["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn tenant_b_lists_none_of_tenant_a_records_whatever_the_filter() {
    let w = World::new().await;
    let (app, key) = (&w.app, &w.b.key);
    app.customer(&w.b, json!({ "name": "Wu Jun", "region": "East China" }))
        .await;

    let paths = [
        "/api/v1/customers?vip=true".to_owned(),
        "/api/v1/customers?region=East%20China&name=%E5%BC%A0".to_owned(),
        "/api/v1/customers?phone=%2B8613912345601".to_owned(),
        format!("/api/v1/vehicles?vin={}", w.vin),
        format!("/api/v1/vehicles?customer_id={}", id(&w.customer)),
        "/api/v1/vehicles".to_owned(),
        "/api/v1/tickets".to_owned(),
        format!("/api/v1/tickets?customer_id={}", id(&w.customer)),
        "/api/v1/tickets?priority=critical".to_owned(),
        "/api/v1/installations".to_owned(),
        "/api/v1/plugins".to_owned(),
        "/api/v1/plugins?name=safety-escalation".to_owned(),
        "/api/v1/api-keys".to_owned(),
    ];
    for path in &paths {
        let page = app.get(key, path).await.expect(200);
        let items = page["items"].as_array().unwrap();
        let leaked: Vec<&Value> = items
            .iter()
            .filter(|item| {
                [&w.customer, &w.vehicle, &w.ticket, &w.installation]
                    .iter()
                    .any(|a| item["id"] == a["id"])
                    || item["id"] == w.installation["plugin_version_id"]
            })
            .collect();
        assert!(leaked.is_empty(), "{path} shows A's records: {leaked:?}");
    }
    let customers = app
        .get(key, "/api/v1/customers?region=East%20China")
        .await
        .expect(200);
    assert_eq!(
        customers["items"].as_array().unwrap().len(),
        1,
        "only B's own customer"
    );
    let keys = app.get(key, "/api/v1/api-keys").await.expect(200);
    assert_eq!(
        keys["items"].as_array().unwrap().len(),
        1,
        "only B's own key"
    );
}

#[tokio::test]
async fn tenant_b_cannot_change_tenant_a_tickets_or_installations() {
    let w = World::new().await;
    let (app, key) = (&w.app, &w.b.key);

    assert_not_found(
        app.patch(
            key,
            &format!("/api/v1/tickets/{}", id(&w.ticket)),
            &json!({ "status": "closed", "assignee": "mallory" }),
        )
        .await,
        "ticket",
    );
    assert_not_found(
        app.patch(
            key,
            &format!("/api/v1/installations/{}", id(&w.installation)),
            &json!({ "enabled": false }),
        )
        .await,
        "installation",
    );
    assert_not_found(
        app.delete(
            key,
            &format!("/api/v1/installations/{}", id(&w.installation)),
        )
        .await,
        "uninstall",
    );

    let ticket = app
        .get(&w.a.key, &format!("/api/v1/tickets/{}", id(&w.ticket)))
        .await
        .expect(200);
    assert_eq!(ticket["status"], w.ticket["status"]);
    assert_eq!(ticket["assignee"], Value::Null);
    assert_eq!(ticket["updated_at"], w.ticket["updated_at"]);
    let timeline = app
        .get(
            &w.a.key,
            &format!("/api/v1/tickets/{}/timeline", id(&w.ticket)),
        )
        .await
        .expect(200);
    assert!(
        timeline["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["kind"] != "ticket.updated"),
        "{timeline}"
    );
    let installation = app
        .get(
            &w.a.key,
            &format!("/api/v1/installations/{}", id(&w.installation)),
        )
        .await
        .expect(200);
    assert_eq!(installation["status"], "enabled");
}

#[tokio::test]
async fn tenant_b_cannot_change_tenant_a_customers_or_vehicles() {
    let w = World::new().await;
    let (app, key) = (&w.app, &w.b.key);

    let changes = [
        (
            format!("/api/v1/customers/{}", id(&w.customer)),
            json!({ "name": "mallory", "vip": false }),
        ),
        (
            format!("/api/v1/vehicles/{}", id(&w.vehicle)),
            json!({ "make": "mallory", "customer_id": "" }),
        ),
    ];
    for (path, change) in changes {
        assert_not_found(app.patch(key, &path, &change).await, &path);
        // Records are never deleted over the API, by anyone.
        let delete = app.delete(key, &path).await;
        assert_eq!(delete.status, 405, "{path}: {:?}", delete);
        assert_eq!(delete.error_code(), "method_not_allowed");
    }
    let customer = app
        .get(&w.a.key, &format!("/api/v1/customers/{}", id(&w.customer)))
        .await
        .expect(200);
    assert_eq!(customer, w.customer);
    let vehicle = app
        .get(&w.a.key, &format!("/api/v1/vehicles/{}", id(&w.vehicle)))
        .await
        .expect(200);
    assert_eq!(vehicle, w.vehicle);
}

#[tokio::test]
async fn tenant_b_cannot_link_a_ticket_or_vehicle_to_tenant_a_records() {
    let w = World::new().await;
    let (app, key) = (&w.app, &w.b.key);

    let cases = [
        (
            json!({ "description": "Noise", "customer_id": id(&w.customer) }),
            "customer_id",
        ),
        (
            json!({ "description": "Noise", "vehicle_id": id(&w.vehicle) }),
            "vehicle_id",
        ),
        (json!({ "description": "Noise", "vin": w.vin }), "vin"),
    ];
    for (body, field) in cases {
        let reply = app.post(key, "/api/v1/tickets", &body).await;
        assert_eq!(reply.status, 422, "{field}: {:?}", reply);
        let fields: Vec<&str> = reply.body["error"]["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, [field]);
        assert!(
            reply.body["error"]["details"][0]["message"]
                .as_str()
                .unwrap()
                .contains("in this tenant")
        );
    }
    let vehicle = app
        .post(
            key,
            "/api/v1/vehicles",
            &json!({ "vin": vin("LSVAX4100N2000202"), "customer_id": id(&w.customer) }),
        )
        .await;
    assert_eq!(vehicle.status, 422, "{:?}", vehicle);
    assert_eq!(
        app.get(key, "/api/v1/tickets").await.expect(200)["items"],
        json!([])
    );
    assert_eq!(
        app.get(key, "/api/v1/vehicles").await.expect(200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn the_same_vin_in_two_tenants_links_each_ticket_to_its_own_tenants_vehicle() {
    let w = World::new().await;
    let own = w.app.vehicle(&w.b, json!({ "vin": w.vin })).await;

    let ticket = w
        .app
        .ticket(
            &w.b,
            json!({ "description": "Rattle from the dashboard", "vin": w.vin }),
        )
        .await;

    assert_eq!(ticket["vehicle_id"], own["id"]);
    assert_eq!(
        ticket["customer_id"],
        Value::Null,
        "A's owner does not come along"
    );
}

#[tokio::test]
async fn tenant_b_cannot_install_a_plugin_uploaded_by_tenant_a() {
    let w = World::new().await;

    let reply = w
        .app
        .post(
            &w.b.key,
            "/api/v1/installations",
            &json!({ "plugin": SAFETY_ESCALATION.name, "capabilities": ["notify"] }),
        )
        .await;
    let pinned = w
        .app
        .post(
            &w.b.key,
            "/api/v1/installations",
            &json!({ "plugin": SAFETY_ESCALATION.name, "version": "0.1.0" }),
        )
        .await;

    assert_not_found(reply, "latest version");
    assert_not_found(pinned, "pinned version");
    assert_eq!(
        w.app
            .get(&w.b.key, "/api/v1/installations")
            .await
            .expect(200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn the_same_component_uploaded_by_two_tenants_is_two_separate_versions() {
    let w = World::new().await;

    let reply = w
        .app
        .upload(
            &w.b,
            &SAFETY_ESCALATION.manifest(),
            SAFETY_ESCALATION.component(),
        )
        .await;

    // 201, not "already there": A's copy is not B's, even though the bytes are stored once.
    assert_eq!(reply.status, 201, "{:?}", reply);
    assert_ne!(reply.body["id"], w.installation["plugin_version_id"]);
    let a_version = w
        .app
        .get(
            &w.a.key,
            &format!(
                "/api/v1/plugins/{}",
                w.installation["plugin_version_id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    assert_eq!(reply.body["sha256"], a_version["sha256"]);
}

#[tokio::test]
async fn tenant_a_routing_rules_never_run_on_tenant_b_tickets() {
    let w = World::new().await;

    let ticket = w
        .app
        .ticket(
            &w.b,
            json!({ "description": "Soft brake pedal at highway speed", "category": "safety" }),
        )
        .await;

    assert_eq!(ticket["priority"], "normal");
    assert_eq!(ticket["queue"], Value::Null);
    assert_eq!(ticket["decisions"], json!([]));
    assert_eq!(ticket["notifications"], json!([]));
    let fetched = w
        .app
        .get(&w.b.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    assert_eq!(fetched["decisions"], json!([]));
    assert_eq!(fetched["notifications"], json!([]));
    let timeline = w
        .app
        .get(
            &w.b.key,
            &format!("/api/v1/tickets/{}/timeline", id(&ticket)),
        )
        .await
        .expect(200);
    let kinds: Vec<&str> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["ticket.created"]);
    let a_invocations = w
        .app
        .get(
            &w.a.key,
            &format!("/api/v1/installations/{}/invocations", id(&w.installation)),
        )
        .await
        .expect(200);
    assert_eq!(
        a_invocations["items"].as_array().unwrap().len(),
        1,
        "only A's own ticket was routed"
    );
}

#[tokio::test]
async fn tenant_b_tickets_never_show_tenant_a_notifications_or_decisions() {
    let w = World::new().await;
    let b_rule = w
        .app
        .install(
            &w.b,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613900000000" }),
            &["notify"],
        )
        .await;

    let ticket = w
        .app
        .ticket(&w.b, json!({ "description": "Airbag light stays on" }))
        .await;

    let fetched = w
        .app
        .get(&w.b.key, &format!("/api/v1/tickets/{}", id(&ticket)))
        .await
        .expect(200);
    let notifications = fetched["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1, "{fetched}");
    assert_eq!(notifications[0]["to"], "+8613900000000");
    let decisions = fetched["decisions"].as_array().unwrap();
    assert_eq!(decisions.len(), 1, "{fetched}");
    assert_eq!(decisions[0]["installation_id"], b_rule["id"]);
    let a_ticket = w
        .app
        .get(&w.a.key, &format!("/api/v1/tickets/{}", id(&w.ticket)))
        .await
        .expect(200);
    assert_eq!(
        a_ticket["notifications"].as_array().unwrap().len(),
        1,
        "B's routing added nothing to A's ticket"
    );
    assert_eq!(a_ticket["notifications"][0]["to"], "+8613800000000");
    assert_eq!(
        a_ticket["decisions"][0]["installation_id"],
        w.installation["id"]
    );
}

/// Installs the hostile guest in `tenant`, probing for `customer_id` through `records`,
/// and returns the tags of a fresh ticket's decision.
async fn probe_tags(app: &TestApp, tenant: &Tenant, customer_id: &str) -> Vec<String> {
    app.install(
        tenant,
        &HOSTILE,
        json!({ "mode": "probe-customer", "customer_id": customer_id }),
        &["records"],
    )
    .await;
    let ticket = app
        .ticket(tenant, json!({ "description": "Which dealer is nearest?" }))
        .await;
    let decision = ticket["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["plugin"] == format!("{}@0.1.0", HOSTILE.name))
        .unwrap_or_else(|| panic!("no decision from the guest: {ticket}"))
        .clone();
    let tags: Vec<String> = decision["decision"]["tags"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap().to_owned())
        .collect();
    for tag in &tags {
        assert!(
            ticket["tags"].as_array().unwrap().contains(&json!(tag)),
            "the decision's tags land on the ticket"
        );
    }
    tags
}

#[tokio::test]
async fn a_plugin_in_tenant_b_cannot_look_up_tenant_a_customers() {
    let w = World::new().await;

    let tags = probe_tags(&w.app, &w.b, id(&w.customer)).await;

    assert_eq!(tags, ["customer-not-found"]);
}

#[tokio::test]
async fn the_same_probe_in_tenant_a_finds_tenant_a_customer() {
    let w = World::new().await;

    let tags = probe_tags(&w.app, &w.a, id(&w.customer)).await;

    assert_eq!(tags, ["customer-found"]);
}

#[tokio::test]
async fn a_plugin_in_tenant_b_finds_tenant_b_customers() {
    let w = World::new().await;
    let own = w.app.customer(&w.b, json!({ "name": "Wu Jun" })).await;

    let tags = probe_tags(&w.app, &w.b, id(&own)).await;

    assert_eq!(tags, ["customer-found"]);
}
