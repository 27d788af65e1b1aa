//! The org tree inside a tenant: OEM → region → dealer → service station, teams with
//! skills, agents, and keys that see only their own subtree.

use axle_tests::{HOSTILE, SAFETY_ESCALATION, Tenant, TestApp};
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"]
        .as_str()
        .expect("a record with an id")
        .to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a page")
        .iter()
        .map(id)
        .collect()
}

async fn site(app: &TestApp, tenant: &Tenant, body: Value) -> Value {
    app.post(&tenant.key, "/api/v1/sites", &body)
        .await
        .expect(201)
}

/// OEM → East China → two dealers, each with a station.
struct Tree {
    oem: Value,
    region: Value,
    dealer_a: Value,
    dealer_b: Value,
    station_a: Value,
    station_b: Value,
}

async fn tree(app: &TestApp, tenant: &Tenant) -> Tree {
    let oem = site(
        app,
        tenant,
        json!({ "kind": "oem", "code": "OEM", "name": "上汽大众 SAIC Volkswagen" }),
    )
    .await;
    let region = site(app, tenant, json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东 East China" })).await;
    let dealer_a = site(
        app,
        tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "SH-001", "name": "上海浦东 4S 店" }),
    )
    .await;
    let dealer_b = site(
        app,
        tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "HZ-002", "name": "杭州西湖 4S 店" }),
    )
    .await;
    let station_a = site(
        app,
        tenant,
        json!({
            "kind": "station", "parent_id": dealer_a["id"], "code": "SH-001-S1", "name": "浦东服务站",
            "service_area": ["上海", "200120"],
            "opening_hours": { "mon": ["08:30-12:00", "13:00-18:00"], "sat": ["09:00-12:00"] }
        }),
    )
    .await;
    let station_b = site(
        app,
        tenant,
        json!({ "kind": "station", "parent_id": dealer_b["id"], "code": "HZ-002-S1", "name": "西湖服务站", "service_area": ["杭州"] }),
    )
    .await;
    Tree {
        oem,
        region,
        dealer_a,
        dealer_b,
        station_a,
        station_b,
    }
}

/// An agent key limited to `site`'s subtree.
async fn scoped_key(app: &TestApp, tenant: &Tenant, site: &Value, role: &str) -> String {
    let body = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "dealer desk", "role": role, "site_id": site["id"] }),
        )
        .await
        .expect(201);
    assert_eq!(body["key"]["site_id"], site["id"]);
    body["secret"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_org_tree_is_built_tier_by_tier_with_service_areas_and_opening_hours() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("tree").await;
    let t = tree(&app, &tenant).await;

    assert_eq!(t.station_a["service_area"], json!(["上海", "200120"]));
    assert_eq!(
        t.station_a["opening_hours"],
        json!({ "mon": ["08:30-12:00", "13:00-18:00"], "sat": ["09:00-12:00"] })
    );
    assert_eq!(t.station_a["timezone"], "Asia/Shanghai");
    assert_eq!(t.dealer_a["parent_id"], t.region["id"]);
    let stations = app
        .get(&tenant.key, "/api/v1/sites?kind=station")
        .await
        .expect(200);
    assert_eq!(ids(&stations).len(), 2);
    let children = app
        .get(
            &tenant.key,
            &format!("/api/v1/sites?parent_id={}", id(&t.region)),
        )
        .await
        .expect(200);
    assert_eq!(ids(&children), vec![id(&t.dealer_b), id(&t.dealer_a)]);

    let changed = app
        .patch(
            &tenant.key,
            &format!("/api/v1/sites/{}", id(&t.station_b)),
            &json!({ "opening_hours": { "sun": ["00:00-24:00"] } }),
        )
        .await
        .expect(200);
    assert_eq!(changed["opening_hours"], json!({ "sun": ["00:00-24:00"] }));
    assert_eq!(
        app.get(&tenant.key, &format!("/api/v1/sites/{}", id(&t.oem)))
            .await
            .expect(200)["kind"],
        "oem"
    );
}

#[tokio::test]
async fn sites_must_hang_under_the_tier_above_them() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("tiers").await;
    let t = tree(&app, &tenant).await;

    let cases = [
        (
            json!({ "kind": "station", "parent_id": t.region["id"], "code": "X1", "name": "x" }),
            "parent_id",
        ),
        (
            json!({ "kind": "dealer", "code": "X2", "name": "x" }),
            "parent_id",
        ),
        (
            json!({ "kind": "oem", "code": "X3", "name": "second OEM" }),
            "kind",
        ),
        (
            json!({ "kind": "region", "parent_id": t.oem["id"], "code": "EC", "name": "duplicate code" }),
            "",
        ),
        (
            json!({ "kind": "region", "parent_id": t.oem["id"], "code": "NC", "name": "华北", "timezone": "Mars/Olympus" }),
            "timezone",
        ),
    ];
    for (body, field) in cases {
        let reply = app.post(&tenant.key, "/api/v1/sites", &body).await;
        if field.is_empty() {
            assert_eq!(reply.status, 409, "{body}: {:?}", reply.body);
        } else {
            assert_eq!(reply.status, 422, "{body}: {:?}", reply.body);
            assert_eq!(
                reply.body["error"]["details"][0]["field"], field,
                "{body}: {:?}",
                reply.body
            );
        }
    }
    let bad_hours = app
        .post(
            &tenant.key,
            "/api/v1/sites",
            &json!({ "kind": "region", "parent_id": t.oem["id"], "code": "SC", "name": "华南", "opening_hours": { "mon": ["18:00-08:00"] } }),
        )
        .await;
    assert_eq!(bad_hours.status, 400);
    assert!(
        bad_hours.error_message().contains("18:00-08:00"),
        "{}",
        bad_hours.error_message()
    );
    let unknown_parent = app
        .post(
            &tenant.key,
            "/api/v1/sites",
            &json!({ "kind": "region", "parent_id": "nope", "code": "Z", "name": "z" }),
        )
        .await;
    assert_eq!(unknown_parent.status, 404);
}

#[tokio::test]
async fn teams_have_skills_and_agents_belong_to_teams() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("teams").await;
    let t = tree(&app, &tenant).await;

    let brakes = app
        .post(&tenant.key, "/api/v1/teams", &json!({ "site_id": t.station_a["id"], "name": "Chassis", "skills": ["Brakes", "steering"] }))
        .await
        .expect(201);
    let ev = app
        .post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": t.station_b["id"], "name": "EV", "skills": ["ev", "electrical"] }),
        )
        .await
        .expect(201);
    assert_eq!(brakes["skills"], json!(["brakes", "steering"]));
    let with_brakes = app
        .get(&tenant.key, "/api/v1/teams?skill=brakes")
        .await
        .expect(200);
    assert_eq!(ids(&with_brakes), vec![id(&brakes)]);

    let manager = app
        .post(
            &tenant.key,
            "/api/v1/agents",
            &json!({ "team_id": brakes["id"], "name": "赵经理", "phone": "+86 138 0000 0009", "role": "manager" }),
        )
        .await
        .expect(201);
    assert_eq!(manager["phone"], "+8613800000009");
    app.post(
        &tenant.key,
        "/api/v1/agents",
        &json!({ "team_id": ev["id"], "name": "Li Ming" }),
    )
    .await
    .expect(201);
    let managers = app
        .get(&tenant.key, "/api/v1/agents?role=manager")
        .await
        .expect(200);
    assert_eq!(ids(&managers), vec![id(&manager)]);
    let duplicate = app
        .post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": t.station_a["id"], "name": "Chassis" }),
        )
        .await;
    assert_eq!(duplicate.status, 409);
    let nameless = app
        .post(
            &tenant.key,
            "/api/v1/agents",
            &json!({ "team_id": ev["id"], "name": " " }),
        )
        .await;
    assert_eq!(nameless.status, 422);
}

#[tokio::test]
async fn a_dealer_key_sees_only_its_own_subtree_and_the_oem_sees_all() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("scopes").await;
    let t = tree(&app, &tenant).await;
    let team_a = app
        .post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": t.station_a["id"], "name": "A" }),
        )
        .await
        .expect(201);
    let team_b = app
        .post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": t.station_b["id"], "name": "B" }),
        )
        .await
        .expect(201);
    let dealer_a = scoped_key(&app, &tenant, &t.dealer_a, "agent").await;

    let sites = app.get(&dealer_a, "/api/v1/sites").await.expect(200);
    assert_eq!(ids(&sites), vec![id(&t.station_a), id(&t.dealer_a)]);
    assert_eq!(
        app.get(&dealer_a, &format!("/api/v1/sites/{}", id(&t.dealer_b)))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&dealer_a, &format!("/api/v1/sites/{}", id(&t.oem)))
            .await
            .status,
        404
    );
    assert_eq!(
        ids(&app.get(&dealer_a, "/api/v1/teams").await.expect(200)),
        vec![id(&team_a)]
    );
    assert_eq!(
        app.get(&dealer_a, &format!("/api/v1/teams/{}", id(&team_b)))
            .await
            .status,
        404
    );

    // Tickets: the dealer's key files at its own site and sees only its subtree's tickets.
    let own = app
        .post(
            &dealer_a,
            "/api/v1/tickets",
            &json!({ "description": "异响 noise from the front axle" }),
        )
        .await
        .expect(201);
    assert_eq!(own["site_id"], t.dealer_a["id"]);
    let at_station = app
        .post(
            &dealer_a,
            "/api/v1/tickets",
            &json!({ "description": "Oil change", "site_id": t.station_a["id"] }),
        )
        .await
        .expect(201);
    let elsewhere = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "Battery warning", "site_id": t.station_b["id"] }),
        )
        .await
        .expect(201);
    let unsited = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "Hotline question" }),
        )
        .await
        .expect(201);

    let seen = app.get(&dealer_a, "/api/v1/tickets").await.expect(200);
    assert_eq!(ids(&seen), vec![id(&at_station), id(&own)]);
    for hidden in [&elsewhere, &unsited] {
        let path = format!("/api/v1/tickets/{}", id(hidden));
        assert_eq!(app.get(&dealer_a, &path).await.status, 404);
        assert_eq!(
            app.patch(&dealer_a, &path, &json!({ "priority": "low" }))
                .await
                .status,
            404
        );
        assert_eq!(
            app.get(&dealer_a, &format!("{path}/timeline")).await.status,
            404
        );
    }
    let filed_elsewhere = app
        .post(
            &dealer_a,
            "/api/v1/tickets",
            &json!({ "description": "x", "site_id": t.station_b["id"] }),
        )
        .await;
    assert_eq!(filed_elsewhere.status, 404);
    let moved_away = app
        .patch(
            &dealer_a,
            &format!("/api/v1/tickets/{}", id(&own)),
            &json!({ "site_id": t.station_b["id"] }),
        )
        .await;
    assert_eq!(moved_away.status, 404);

    // The OEM key sees everything, and can narrow to a subtree.
    assert_eq!(
        ids(&app.get(&tenant.key, "/api/v1/tickets").await.expect(200)).len(),
        4
    );
    let region = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets?site_id={}", id(&t.region)),
        )
        .await
        .expect(200);
    assert_eq!(ids(&region).len(), 3);
    let dealer_b_only = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets?site_id={}", id(&t.dealer_b)),
        )
        .await
        .expect(200);
    assert_eq!(ids(&dealer_b_only), vec![id(&elsewhere)]);
}

#[tokio::test]
async fn a_scoped_admin_manages_only_its_subtree_and_its_keys_stay_inside_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("scoped-admin").await;
    let t = tree(&app, &tenant).await;
    let admin_a = scoped_key(&app, &tenant, &t.dealer_a, "admin").await;

    let station = app
        .post(&admin_a, "/api/v1/sites", &json!({ "kind": "station", "parent_id": t.dealer_a["id"], "code": "SH-001-S2", "name": "二号站" }))
        .await
        .expect(201);
    assert_eq!(station["parent_id"], t.dealer_a["id"]);
    let foreign = app
        .post(&admin_a, "/api/v1/sites", &json!({ "kind": "station", "parent_id": t.dealer_b["id"], "code": "HZ-X", "name": "x" }))
        .await;
    assert_eq!(foreign.status, 404);
    let root = app
        .post(
            &admin_a,
            "/api/v1/sites",
            &json!({ "kind": "oem", "code": "OEM2", "name": "x" }),
        )
        .await;
    assert_eq!(root.status, 403);

    let inherited = app
        .post(
            &admin_a,
            "/api/v1/api-keys",
            &json!({ "name": "desk", "role": "agent" }),
        )
        .await
        .expect(201);
    assert_eq!(inherited["key"]["site_id"], t.dealer_a["id"]);
    let widened = app
        .post(
            &admin_a,
            "/api/v1/api-keys",
            &json!({ "name": "x", "role": "agent", "site_id": t.oem["id"] }),
        )
        .await;
    assert_eq!(widened.status, 404);
    let keys = app.get(&admin_a, "/api/v1/api-keys").await.expect(200);
    assert!(
        keys["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["site_id"] == t.dealer_a["id"]),
        "{keys}"
    );
    let all_keys = app.get(&tenant.key, "/api/v1/api-keys").await.expect(200);
    assert!(all_keys["items"].as_array().unwrap().len() > keys["items"].as_array().unwrap().len());
}

#[tokio::test]
async fn another_tenant_cannot_see_or_use_the_org_tree() {
    let app = TestApp::spawn().await;
    let a = app.tenant("org-a").await;
    let b = app.tenant("org-b").await;
    let t = tree(&app, &a).await;

    assert_eq!(
        app.get(&b.key, &format!("/api/v1/sites/{}", id(&t.oem)))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&b.key, "/api/v1/sites").await.expect(200)["items"],
        json!([])
    );
    let under_a = app
        .post(
            &b.key,
            "/api/v1/sites",
            &json!({ "kind": "region", "parent_id": t.oem["id"], "code": "R", "name": "r" }),
        )
        .await;
    assert_eq!(under_a.status, 404);
    let ticket = app
        .post(
            &b.key,
            "/api/v1/tickets",
            &json!({ "description": "x", "site_id": t.station_a["id"] }),
        )
        .await;
    assert_eq!(ticket.status, 422);
    let key = app
        .post(
            &b.key,
            "/api/v1/api-keys",
            &json!({ "name": "x", "role": "agent", "site_id": t.dealer_a["id"] }),
        )
        .await;
    assert_eq!(key.status, 404);
    // B builds its own tree with the same codes.
    site(
        &app,
        &b,
        json!({ "kind": "oem", "code": "OEM", "name": "B OEM" }),
    )
    .await;
}

#[tokio::test]
async fn a_dealers_admin_installs_only_what_the_oem_offers_dealers() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("scoped-plugins").await;
    let t = tree(&app, &tenant).await;
    let admin_a = scoped_key(&app, &tenant, &t.dealer_a, "admin").await;
    let uploaded = app
        .upload(
            &tenant,
            &SAFETY_ESCALATION.manifest(),
            SAFETY_ESCALATION.component(),
        )
        .await;
    assert_eq!(uploaded.status, 201, "{uploaded:?}");

    let reply = app
        .post(
            &admin_a,
            "/api/v1/installations",
            &json!({ "plugin": "safety-escalation", "config": { "default_manager": "+8613800000000" } }),
        )
        .await;

    assert_eq!(reply.status, 403);
    assert!(
        reply.error_message().contains("not in the OEM's catalogue"),
        "{}",
        reply.error_message()
    );
    let upload = app.post(&admin_a, "/api/v1/plugins", &json!({})).await;
    assert_eq!(upload.status, 403, "uploads stay the OEM's: {upload:?}");
}

#[tokio::test]
async fn tickets_no_rule_placed_go_to_the_covering_station_and_its_least_busy_skilled_team() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dispatch").await;
    let t = tree(&app, &tenant).await;
    for (name, skills) in [
        ("Electrical 1", json!(["electrical"])),
        ("Electrical 2", json!(["electrical", "ev"])),
        ("Body", json!(["body"])),
    ] {
        app.post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": t.station_b["id"], "name": name, "skills": skills }),
        )
        .await
        .expect(201);
    }
    let customer = app
        .customer(&tenant, json!({ "name": "李娜", "city": "杭州" }))
        .await;
    let ticket = |category: &str| json!({ "description": "仪表盘报警 dashboard warning", "category": category, "customer_id": customer["id"] });

    let first = app.ticket(&tenant, ticket("electrical")).await;
    let second = app.ticket(&tenant, ticket("electrical")).await;
    let charging = app.ticket(&tenant, ticket("ev-charging")).await;

    assert_eq!(first["site_id"], t.station_b["id"]);
    assert_eq!(first["team"], "Electrical 1");
    assert_eq!(
        second["team"], "Electrical 2",
        "the team with fewer open tickets gets the next one"
    );
    assert_eq!(
        charging["team"], "Electrical 2",
        "only Electrical 2 has the ev skill"
    );
    let timeline = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}/timeline", id(&first)),
        )
        .await
        .expect(200);
    let dispatched = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["kind"] == "ticket.dispatched")
        .cloned();
    let dispatched = dispatched.expect("a ticket.dispatched event");
    assert_eq!(dispatched["actor"], "system");
    assert!(
        dispatched["data"]["reason"]
            .as_str()
            .unwrap()
            .contains("HZ-002-S1 serves 杭州"),
        "{dispatched}"
    );

    let nowhere = app
        .customer(&tenant, json!({ "name": "Wu Jun", "city": "Qingdao" }))
        .await;
    let unplaced = app
        .ticket(
            &tenant,
            json!({ "description": "Noise", "customer_id": nowhere["id"] }),
        )
        .await;
    assert_eq!(unplaced["site_id"], Value::Null);
    assert_eq!(unplaced["team"], Value::Null);
    let explicit = app
        .ticket(&tenant, json!({ "description": "Noise", "customer_id": customer["id"], "site_id": t.station_a["id"], "team": "front desk" }))
        .await;
    assert_eq!(explicit["site_id"], t.station_a["id"]);
    assert_eq!(explicit["team"], "front desk");
}

#[tokio::test]
async fn a_dealers_key_reaches_no_sub_resource_of_another_dealers_ticket() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("walls").await;
    let t = tree(&app, &tenant).await;
    let dealer_a = scoped_key(&app, &tenant, &t.dealer_a, "agent").await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "陈静", "phone": "+8613812345678" }),
        )
        .await;
    let theirs = app
        .ticket(
            &tenant,
            json!({ "description": "Battery warning", "site_id": t.station_b["id"], "customer_id": customer["id"] }),
        )
        .await;
    let ours = app
        .ticket(
            &tenant,
            json!({ "description": "Oil change", "site_id": t.station_a["id"], "customer_id": customer["id"] }),
        )
        .await;
    let call = json!({ "kind": "call", "direction": "outbound", "handle_time_seconds": 60, "summary": "回电 Called back" });
    let sms = json!({ "channel": "sms", "to": "+8613812345678", "body": "您的车已修好 Your car is ready" });

    for ticket in [&theirs, &ours] {
        let base = format!("/api/v1/tickets/{}", id(ticket));
        let statuses = [
            app.get(&dealer_a, &format!("{base}/interactions"))
                .await
                .status,
            app.post(&dealer_a, &format!("{base}/interactions"), &call)
                .await
                .status,
            app.get(&dealer_a, &format!("{base}/notifications"))
                .await
                .status,
            app.post(&dealer_a, &format!("{base}/notifications"), &sms)
                .await
                .status,
            app.get(&dealer_a, &format!("{base}/surveys")).await.status,
        ];
        if ticket == &theirs {
            assert_eq!(statuses, [404; 5], "another dealer's ticket is not there");
        } else {
            assert_eq!(statuses, [200, 201, 200, 201, 200], "its own ticket");
        }
    }
    let untouched = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}/interactions", id(&theirs)),
        )
        .await
        .expect(200);
    assert_eq!(untouched["items"], json!([]), "nothing was written to it");
}

#[tokio::test]
async fn a_dealers_key_sees_only_its_own_installations_calls_about_its_own_tickets() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("audit-walls").await;
    let t = tree(&app, &tenant).await;
    // The same rule tenant-wide (the OEM's) and for dealer A's subtree (the dealer's).
    let oems = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ok" }), &[])
        .await;
    let rule = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "hostile", "config": { "mode": "ok" }, "scope": { "site_id": t.dealer_a["id"] } }),
        )
        .await
        .expect(201);
    let dealer_a = scoped_key(&app, &tenant, &t.dealer_a, "admin").await;
    let ours = app
        .ticket(
            &tenant,
            json!({ "description": "Oil change", "site_id": t.station_a["id"] }),
        )
        .await;
    let theirs = app
        .ticket(
            &tenant,
            json!({ "description": "Battery warning", "site_id": t.station_b["id"] }),
        )
        .await;
    let subjects = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|call| call["subject_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };

    let all = app
        .get(&tenant.key, "/api/v1/invocations")
        .await
        .expect(200);
    let seen = app.get(&dealer_a, "/api/v1/invocations").await.expect(200);
    let of_rule = app
        .get(
            &dealer_a,
            &format!("/api/v1/installations/{}/invocations", id(&rule)),
        )
        .await
        .expect(200);
    let asked = app
        .get(
            &dealer_a,
            &format!("/api/v1/invocations?subject_id={}", id(&theirs)),
        )
        .await
        .expect(200);

    assert!(subjects(&all).contains(&id(&theirs)), "{all}");
    assert_eq!(subjects(&seen), vec![id(&ours)]);
    assert!(
        seen["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|call| call["installation_id"] == rule["id"]),
        "not the OEM's installation's calls: {seen}"
    );
    assert_eq!(subjects(&of_rule), vec![id(&ours)]);
    let of_oems = app
        .get(
            &dealer_a,
            &format!("/api/v1/installations/{}/invocations", id(&oems)),
        )
        .await;
    assert_eq!(of_oems.status, 403, "{of_oems:?}");
    assert_eq!(
        asked["items"],
        json!([]),
        "asking by id finds nothing either"
    );
}

#[tokio::test]
async fn what_is_managed_tenant_wide_is_refused_to_a_dealers_admin() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("tenant-wide").await;
    let t = tree(&app, &tenant).await;
    let dealer_admin = scoped_key(&app, &tenant, &t.dealer_a, "admin").await;
    let board = json!({ "name": "服务概览 Service overview", "widgets": [] });
    let dashboard = app
        .post(&tenant.key, "/api/v1/dashboards", &board)
        .await
        .expect(201);
    let dashboard_path = format!("/api/v1/dashboards/{}", id(&dashboard));
    let station_path = format!("/api/v1/sites/{}", id(&t.station_a));
    let csv = "external_id,name,phone\nC-1,李雷,+8613800000001\n";
    let new_station = |service_area: Value| json!({ "kind": "station", "parent_id": t.dealer_a["id"], "code": format!("SH-001-S{}", service_area.as_array().map_or(0, Vec::len) + 2), "name": "浦东二站", "service_area": service_area });

    let refused = [
        app.get(&dealer_admin, "/api/v1/webhook-secret").await,
        app.post(&dealer_admin, "/api/v1/dashboards", &board).await,
        app.patch(&dealer_admin, &dashboard_path, &board).await,
        app.delete(&dealer_admin, &dashboard_path).await,
        app.post_raw(&dealer_admin, "/api/v1/imports/customers", "text/csv", csv)
            .await,
        app.patch(
            &dealer_admin,
            &station_path,
            &json!({ "service_area": ["上海", "杭州"] }),
        )
        .await,
        app.post(
            &dealer_admin,
            "/api/v1/sites",
            &new_station(json!(["杭州"])),
        )
        .await,
    ];
    for reply in &refused {
        assert_eq!(reply.status, 403, "{reply:?}");
        assert!(reply.error_message().contains("tenant-wide"), "{reply:?}");
    }

    // Within its subtree, the rest stays the dealer's own.
    let renamed = app
        .patch(
            &dealer_admin,
            &station_path,
            &json!({ "name": "浦东服务站（新）" }),
        )
        .await
        .expect(200);
    assert_eq!(renamed["service_area"], t.station_a["service_area"]);
    app.post(&dealer_admin, "/api/v1/sites", &new_station(json!([])))
        .await
        .expect(201);
    app.get(&tenant.key, &dashboard_path).await.expect(200);
    app.get(&tenant.key, "/api/v1/webhook-secret")
        .await
        .expect(200);
}

#[tokio::test]
async fn a_dealers_admin_revokes_keys_of_its_own_subtree_only() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("revoke-walls").await;
    let t = tree(&app, &tenant).await;
    let admin_a = scoped_key(&app, &tenant, &t.dealer_a, "admin").await;
    let key_id = |site: Option<&Value>| {
        let body = match site {
            Some(site) => json!({ "name": "desk", "role": "agent", "site_id": site["id"] }),
            None => json!({ "name": "desk", "role": "agent" }),
        };
        let app = &app;
        let key = tenant.key.clone();
        async move {
            app.post(&key, "/api/v1/api-keys", &body).await.expect(201)["key"]["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let at_station_a = key_id(Some(&t.station_a)).await;
    let at_dealer_b = key_id(Some(&t.dealer_b)).await;
    let tenant_wide = key_id(None).await;
    let path = |id: &str| format!("/api/v1/api-keys/{id}");

    let theirs = app.delete(&admin_a, &path(&at_dealer_b)).await;
    let wide = app.delete(&admin_a, &path(&tenant_wide)).await;
    let ours = app.delete(&admin_a, &path(&at_station_a)).await;

    assert_eq!(theirs.status, 404, "another dealer's key: {theirs:?}");
    assert_eq!(wide.status, 404, "a tenant-wide key: {wide:?}");
    assert_eq!(ours.status, 204, "its own station's key: {ours:?}");
}
