//! Dealers enable their own plugins: installations scoped to a site's subtree, under the
//! OEM's catalogue and its mandatory rules. One OEM with two dealers, a station each.

use axle_tests::{
    HOSTILE, Reply, SAFETY_ESCALATION, STATION_ROUTING, Tenant, TestApp, VIP_ROUTING, tags,
};
use serde_json::{Value, json};

/// OEM → East China → dealers A (Shanghai) and B (Hangzhou), a station and a brakes team
/// each, an admin key for each dealer, and the routing plugins uploaded.
struct Oem {
    app: TestApp,
    tenant: Tenant,
    dealer_a: Value,
    station_a: Value,
    dealer_b: Value,
    station_b: Value,
    /// Dealer A's admin key.
    admin_a: String,
    /// Dealer B's admin key.
    admin_b: String,
}

fn id(record: &Value) -> String {
    record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a record with an id: {record}"))
        .to_owned()
}

impl Oem {
    async fn new(slug: &str) -> Oem {
        let app = TestApp::spawn().await;
        let tenant = app.tenant(slug).await;
        let key = tenant.key.clone();
        let site = |body: Value| {
            let app = &app;
            let key = key.clone();
            async move { app.post(&key, "/api/v1/sites", &body).await.expect(201) }
        };
        let oem = site(json!({ "kind": "oem", "code": "OEM", "name": "车轴汽车" })).await;
        let region =
            site(json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东" }))
                .await;
        let dealer_a = site(json!({ "kind": "dealer", "parent_id": region["id"], "code": "SH-001", "name": "上海浦东 4S 店" })).await;
        let station_a = site(json!({ "kind": "station", "parent_id": dealer_a["id"], "code": "SH-001-S1", "name": "浦东服务站", "service_area": ["上海"] })).await;
        let dealer_b = site(json!({ "kind": "dealer", "parent_id": region["id"], "code": "HZ-002", "name": "杭州西湖 4S 店" })).await;
        let station_b = site(json!({ "kind": "station", "parent_id": dealer_b["id"], "code": "HZ-002-S1", "name": "西湖服务站", "service_area": ["杭州"] })).await;
        for (station, team) in [(&station_a, "浦东制动组"), (&station_b, "西湖制动组")] {
            app.post(
                &key,
                "/api/v1/teams",
                &json!({ "site_id": station["id"], "name": team, "skills": ["brakes"] }),
            )
            .await
            .expect(201);
        }
        let admin_key = |dealer: &Value, name: &str| {
            let body = json!({ "name": name, "role": "admin", "site_id": dealer["id"] });
            let app = &app;
            let key = key.clone();
            async move {
                let created = app.post(&key, "/api/v1/api-keys", &body).await.expect(201);
                created["secret"].as_str().expect("a secret").to_owned()
            }
        };
        let admin_a = admin_key(&dealer_a, "dealer A admin").await;
        let admin_b = admin_key(&dealer_b, "dealer B admin").await;
        for plugin in [&VIP_ROUTING, &SAFETY_ESCALATION, &STATION_ROUTING, &HOSTILE] {
            let reply = app
                .upload(&tenant, &plugin.manifest(), plugin.component())
                .await;
            assert_eq!(reply.status, 201, "upload {}: {reply:?}", plugin.name);
        }
        Oem {
            app,
            tenant,
            dealer_a,
            station_a,
            dealer_b,
            station_b,
            admin_a,
            admin_b,
        }
    }

    /// Offers vip-routing to dealers, with `records` at most.
    async fn offer_vip_routing(&self) {
        self.app
            .put_json(
                &self.tenant.key,
                "/api/v1/dealer-catalogue/vip-routing",
                &json!({ "versions": ["0.1.0"], "capabilities": ["records"], "limits": { "memory_mib": 32 } }),
            )
            .await
            .expect(200);
    }

    /// Installs vip-routing as dealer A's admin, sending VIPs to `team`.
    async fn dealer_a_installs_vip(&self, team: &str) -> Value {
        self.app
            .post(
                &self.admin_a,
                "/api/v1/installations",
                &json!({ "plugin": "vip-routing", "config": { "team": team }, "capabilities": ["records"] }),
            )
            .await
            .expect(201)
    }

    /// A VIP customer living in `city`.
    async fn vip(&self, name: &str, city: &str) -> Value {
        self.app
            .customer(
                &self.tenant,
                json!({ "name": name, "city": city, "vip": true }),
            )
            .await
    }

    /// A ticket of `customer` filed (by the OEM's hotline) at `station`.
    async fn ticket_at(&self, station: &Value, customer: &Value, description: &str) -> Value {
        self.app
            .ticket(
                &self.tenant,
                json!({ "description": description, "customer_id": customer["id"], "site_id": station["id"] }),
            )
            .await
    }

    /// The routing decisions on the ticket's timeline, in the order they were made.
    async fn decisions(&self, ticket: &Value) -> Vec<Value> {
        self.app
            .timeline(&self.tenant, &id(ticket))
            .await
            .into_iter()
            .filter(|event| event["kind"] == "routing.decided")
            .collect()
    }
}

#[track_caller]
fn assert_forbidden(reply: Reply, says: &str) {
    assert_eq!(reply.status, 403, "{reply:?}");
    assert!(
        reply.error_message().contains(says),
        "the refusal should say `{says}`: {}",
        reply.error_message()
    );
}

#[tokio::test]
async fn a_dealers_rule_routes_only_its_own_stations_tickets() {
    let oem = Oem::new("scopes-own").await;
    oem.offer_vip_routing().await;
    let installation = oem.dealer_a_installs_vip("浦东 VIP 专席").await;
    assert_eq!(
        installation["scope"]["site_id"], oem.dealer_a["id"],
        "a dealer's admin installs into its own subtree when it names no scope"
    );
    let zhang = oem.vip("张伟", "上海").await;

    let at_a = oem.ticket_at(&oem.station_a, &zhang, "空调不制冷").await;
    assert_eq!(at_a["team"], "浦东 VIP 专席", "{at_a}");
    assert_eq!(at_a["priority"], "high");
    assert!(tags(&at_a).contains(&"vip"));
    let decided = oem.decisions(&at_a).await;
    assert_eq!(decided.len(), 1, "{decided:?}");
    assert_eq!(decided[0]["actor"], "vip-routing@0.1.0");
    assert_eq!(
        decided[0]["data"]["scope"],
        json!({ "site_id": oem.dealer_a["id"], "mandatory": false }),
        "the timeline names the decision's scope"
    );

    let at_b = oem.ticket_at(&oem.station_b, &zhang, "空调不制冷").await;
    assert_eq!(at_b["team"], Value::Null, "{at_b}");
    assert_eq!(at_b["priority"], "normal");
    assert!(oem.decisions(&at_b).await.is_empty());

    // The hotline files without a site: the dispatcher places the ticket at the station
    // serving the customer's city before the rules run, so the dealer's rule sees it.
    let dispatched = oem
        .app
        .ticket(
            &oem.tenant,
            json!({ "description": "空调不制冷", "customer_id": zhang["id"] }),
        )
        .await;
    assert_eq!(dispatched["site_id"], oem.station_a["id"], "{dispatched}");
    assert_eq!(dispatched["team"], "浦东 VIP 专席", "{dispatched}");
    // A caller from a city no station serves stays at no site, outside every subtree.
    let lhasa = oem.vip("次仁", "拉萨").await;
    let nowhere = oem
        .app
        .ticket(
            &oem.tenant,
            json!({ "description": "空调不制冷", "customer_id": lhasa["id"] }),
        )
        .await;
    assert_eq!(nowhere["site_id"], Value::Null, "{nowhere}");
    assert_eq!(nowhere["team"], Value::Null, "{nowhere}");

    // Dealer B installs the same plugin for itself; each routes its own.
    oem.app
        .post(
            &oem.admin_b,
            "/api/v1/installations",
            &json!({ "plugin": "vip-routing", "config": { "team": "西湖 VIP" }, "capabilities": ["records"] }),
        )
        .await
        .expect(201);
    let at_b = oem.ticket_at(&oem.station_b, &zhang, "雨刮异响").await;
    assert_eq!(at_b["team"], "西湖 VIP", "{at_b}");
    let at_a = oem.ticket_at(&oem.station_a, &zhang, "雨刮异响").await;
    assert_eq!(at_a["team"], "浦东 VIP 专席", "{at_a}");
}

#[tokio::test]
async fn oem_rules_run_first_and_a_mandatory_one_is_not_overridden() {
    let oem = Oem::new("scopes-mandatory").await;
    oem.offer_vip_routing().await;
    let safety = oem
        .app
        .post(
            &oem.tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "safety-escalation", "config": { "default_manager": "+8613800000000" },
                     "capabilities": ["notify"], "mandatory": true }),
        )
        .await
        .expect(201);
    assert_eq!(safety["scope"]["site_id"], Value::Null);
    assert_eq!(safety["mandatory"], true);
    // The dealer's rule asks to run before everything; scope order still puts it after.
    let vip = oem.dealer_a_installs_vip("浦东 VIP 专席").await;
    oem.app
        .patch(
            &oem.admin_a,
            &format!("/api/v1/installations/{}", id(&vip)),
            &json!({ "run_order": 1 }),
        )
        .await
        .expect(200);
    let zhang = oem.vip("张伟", "上海").await;

    let ticket = oem
        .ticket_at(&oem.station_a, &zhang, "刹车踏板发软 soft brake pedal")
        .await;
    let routed = &ticket;
    assert_eq!(
        routed["priority"], "critical",
        "vip's high does not lower it: {ticket}"
    );
    assert_eq!(routed["queue"], "safety");
    assert_eq!(
        routed["team"], "浦东 VIP 专席",
        "the dealer's rule still adds what the OEM's left open"
    );
    assert_eq!(tags(routed), vec!["safety", "vip"]);
    let decided = oem.decisions(&ticket).await;
    let order: Vec<&str> = decided
        .iter()
        .map(|d| d["actor"].as_str().unwrap())
        .collect();
    assert_eq!(
        order,
        ["safety-escalation@0.1.0", "vip-routing@0.1.0"],
        "OEM first"
    );
    assert_eq!(
        decided[0]["data"]["scope"],
        json!({ "site_id": null, "mandatory": true })
    );

    // Dealer A can neither switch the mandatory rule off nor opt out of it.
    let safety_path = format!("/api/v1/installations/{}", id(&safety));
    assert_forbidden(
        oem.app
            .patch(&oem.admin_a, &safety_path, &json!({ "enabled": false }))
            .await,
        "applies to the whole tenant",
    );
    assert_forbidden(
        oem.app
            .put_json(
                &oem.admin_a,
                &format!("{safety_path}/opt-outs/{}", id(&oem.dealer_a)),
                &json!({}),
            )
            .await,
        "mandatory",
    );
    let again = oem.ticket_at(&oem.station_a, &zhang, "制动失灵").await;
    assert_eq!(again["priority"], "critical");

    // Once the OEM drops `mandatory`, a dealer may opt its own subtree out, and only its own.
    oem.app
        .patch(
            &oem.tenant.key,
            &safety_path,
            &json!({ "mandatory": false }),
        )
        .await
        .expect(200);
    oem.app
        .put_json(
            &oem.admin_a,
            &format!("{safety_path}/opt-outs/{}", id(&oem.dealer_a)),
            &json!({}),
        )
        .await
        .expect(200);
    let reply = oem
        .app
        .put_json(
            &oem.admin_a,
            &format!("{safety_path}/opt-outs/{}", id(&oem.dealer_b)),
            &json!({}),
        )
        .await;
    assert_eq!(
        reply.status, 404,
        "another dealer's site is not found: {reply:?}"
    );
    let at_a = oem.ticket_at(&oem.station_a, &zhang, "制动失灵").await;
    assert_eq!(at_a["priority"], "high", "opted out: {at_a}");
    let at_b = oem.ticket_at(&oem.station_b, &zhang, "制动失灵").await;
    assert_eq!(
        at_b["priority"], "critical",
        "dealer B still runs it: {at_b}"
    );
    // Making it mandatory again overrides the opt-out.
    oem.app
        .patch(&oem.tenant.key, &safety_path, &json!({ "mandatory": true }))
        .await
        .expect(200);
    let at_a = oem.ticket_at(&oem.station_a, &zhang, "制动失灵").await;
    assert_eq!(at_a["priority"], "critical", "{at_a}");
}

#[tokio::test]
async fn a_dealer_cannot_go_beyond_the_oems_policy() {
    let oem = Oem::new("scopes-policy").await;
    let install = |body: Value| {
        let oem = &oem;
        async move {
            oem.app
                .post(&oem.admin_a, "/api/v1/installations", &body)
                .await
        }
    };
    let vip = json!({ "plugin": "vip-routing", "config": { "team": "vip" }, "capabilities": ["records"] });

    assert_forbidden(install(vip.clone()).await, "not in the OEM's catalogue");
    oem.app
        .put_json(
            &oem.tenant.key,
            "/api/v1/dealer-catalogue/vip-routing",
            &json!({ "versions": ["0.1.0"], "capabilities": [], "limits": { "memory_mib": 32 } }),
        )
        .await
        .expect(200);
    assert_forbidden(
        install(vip.clone()).await,
        "does not let dealers grant records",
    );
    oem.offer_vip_routing().await;
    assert_forbidden(
        install(json!({ "plugin": "vip-routing", "config": { "team": "vip" }, "limits": { "memory_mib": 64 } })).await,
        "memory_mib",
    );
    assert_forbidden(
        install(json!({ "plugin": "vip-routing", "config": { "team": "vip" }, "mandatory": true }))
            .await,
        "mandatory",
    );
    let elsewhere = install(json!({ "plugin": "vip-routing", "config": { "team": "vip" }, "scope": { "site_id": oem.dealer_b["id"] } })).await;
    assert_eq!(
        elsewhere.status, 404,
        "another dealer's site: {elsewhere:?}"
    );
    // A dealer cannot change the catalogue itself.
    assert_eq!(
        oem.app
            .put_json(
                &oem.admin_a,
                "/api/v1/dealer-catalogue/safety-escalation",
                &json!({})
            )
            .await
            .status,
        403
    );

    let installed = install(vip.clone()).await.expect(201);
    let path = format!("/api/v1/installations/{}", id(&installed));
    // Within its own installation, the ceiling still holds.
    assert_forbidden(
        oem.app
            .patch(
                &oem.admin_a,
                &path,
                &json!({ "limits": { "memory_mib": 64 } }),
            )
            .await,
        "beyond the OEM's ceiling",
    );
    oem.app
        .patch(
            &oem.admin_a,
            &path,
            &json!({ "config": { "team": "VIP 专席" }, "enabled": false }),
        )
        .await
        .expect(200);
    // A version outside the catalogue cannot be run, live or in shadow.
    let reply = oem
        .app
        .upload(
            &oem.tenant,
            &VIP_ROUTING.manifest_as("0.2.0", "[\"records\"]"),
            VIP_ROUTING.component(),
        )
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    assert_forbidden(
        oem.app
            .post(
                &oem.admin_a,
                &format!("{path}/upgrade"),
                &json!({ "version": "0.2.0" }),
            )
            .await,
        "only at 0.1.0",
    );
    assert_forbidden(
        oem.app
            .put_json(
                &oem.admin_a,
                &format!("{path}/shadow"),
                &json!({ "version": "0.2.0" }),
            )
            .await,
        "only at 0.1.0",
    );
    // Once the OEM allows it, the dealer upgrades on its own.
    oem.app
        .put_json(
            &oem.tenant.key,
            "/api/v1/dealer-catalogue/vip-routing",
            &json!({ "capabilities": ["records"] }),
        )
        .await
        .expect(200);
    let upgraded = oem
        .app
        .post(
            &oem.admin_a,
            &format!("{path}/upgrade"),
            &json!({ "version": "0.2.0" }),
        )
        .await
        .expect(200);
    assert_eq!(upgraded["version"], "0.2.0");
    oem.app
        .post(&oem.admin_a, &format!("{path}/rollback"), &json!({}))
        .await
        .expect(200);

    // Within the catalogue, the dealer tries a candidate on its own tickets: in shadow on
    // live traffic, and replayed on what its installation saw.
    oem.app
        .patch(
            &oem.tenant.key,
            "/api/v1/settings",
            &json!({ "input_retention_days": 7 }),
        )
        .await
        .expect(200);
    oem.app
        .patch(&oem.admin_a, &path, &json!({ "enabled": true }))
        .await
        .expect(200);
    oem.app
        .put_json(
            &oem.admin_a,
            &format!("{path}/shadow"),
            &json!({ "version": "0.2.0" }),
        )
        .await
        .expect(200);
    let zhang = oem.vip("张伟", "上海").await;
    oem.ticket_at(&oem.station_a, &zhang, "车窗异响").await;
    // Shadow runs finish after the ticket is answered.
    let mut live = Value::Null;
    for _ in 0..200 {
        live = oem
            .app
            .get(&oem.admin_a, &format!("{path}/shadow-report"))
            .await
            .expect(200);
        if live["runs"] == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(live["runs"], 1, "{live}");
    oem.app
        .delete(&oem.admin_a, &format!("{path}/shadow"))
        .await
        .expect(200);
    let replayed = oem
        .app
        .post(
            &oem.admin_a,
            &format!("{path}/replay"),
            &json!({ "version": "0.2.0", "last": 10 }),
        )
        .await
        .expect(200);
    assert_eq!(replayed["runs"], 1, "{replayed}");
    assert_eq!(
        replayed["agreed"], 1,
        "the same component agrees with itself: {replayed}"
    );

    // Dealer B neither sees nor touches dealer A's installation.
    for reply in [
        oem.app.get(&oem.admin_b, &path).await,
        oem.app
            .patch(&oem.admin_b, &path, &json!({ "enabled": true }))
            .await,
        oem.app.delete(&oem.admin_b, &path).await,
        oem.app
            .get(&oem.admin_b, &format!("{path}/invocations"))
            .await,
    ] {
        assert_eq!(reply.status, 404, "{reply:?}");
    }
    let listed = oem
        .app
        .get(&oem.admin_b, "/api/v1/installations")
        .await
        .expect(200);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["id"] != installed["id"]),
        "{listed}"
    );
    let mine = oem
        .app
        .get(
            &oem.admin_a,
            &format!("/api/v1/installations?scope={}", id(&oem.dealer_a)),
        )
        .await
        .expect(200);
    assert_eq!(mine["items"].as_array().unwrap().len(), 1, "{mine}");
    let tenant_wide = oem
        .app
        .get(&oem.tenant.key, "/api/v1/installations?scope=tenant")
        .await
        .expect(200);
    assert!(
        tenant_wide["items"].as_array().unwrap().is_empty(),
        "{tenant_wide}"
    );
    oem.app.delete(&oem.admin_a, &path).await.expect(204);
}

#[tokio::test]
async fn a_dealer_sees_only_its_own_installations_invocations() {
    let oem = Oem::new("scopes-audit").await;
    oem.offer_vip_routing().await;
    let safety = oem
        .app
        .install(
            &oem.tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    let vip = oem.dealer_a_installs_vip("VIP").await;
    let zhang = oem.vip("张伟", "上海").await;
    oem.ticket_at(&oem.station_a, &zhang, "刹车异响").await;

    let audit = oem
        .app
        .get(&oem.admin_a, "/api/v1/invocations")
        .await
        .expect(200);
    let seen: Vec<&Value> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| &i["installation_id"])
        .collect();
    assert_eq!(
        seen,
        vec![&vip["id"]],
        "only its own installation's calls: {audit}"
    );
    let everything = oem
        .app
        .get(&oem.tenant.key, "/api/v1/invocations")
        .await
        .expect(200);
    assert_eq!(
        everything["items"].as_array().unwrap().len(),
        2,
        "{everything}"
    );
    assert_forbidden(
        oem.app
            .get(
                &oem.admin_a,
                &format!("/api/v1/installations/{}/invocations", id(&safety)),
            )
            .await,
        "its invocations are for the admins of that scope",
    );
    // The OEM's installation is listed for the dealer (it runs there), read-only.
    oem.app
        .get(
            &oem.admin_a,
            &format!("/api/v1/installations/{}", id(&safety)),
        )
        .await
        .expect(200);
}

#[tokio::test]
async fn scoped_capabilities_cannot_read_outside_the_subtree() {
    let oem = Oem::new("scopes-capabilities").await;
    // Two customers: one served by dealer A, one only by dealer B.
    let shanghai = oem.vip("张伟", "上海").await;
    let hangzhou = oem.vip("李娜", "杭州").await;
    oem.ticket_at(&oem.station_a, &shanghai, "保养预约").await;
    oem.ticket_at(&oem.station_b, &hangzhou, "保养预约").await;

    // The OEM installs, for dealer A only, a probe that looks up dealer B's customer and
    // the station router, which looks up stations and teams in the directory.
    let install = |plugin: &str, config: Value, grants: Value| {
        let body = json!({ "plugin": plugin, "config": config, "capabilities": grants,
                           "scope": { "site_id": oem.dealer_a["id"] } });
        let oem = &oem;
        async move {
            oem.app
                .post(&oem.tenant.key, "/api/v1/installations", &body)
                .await
                .expect(201)
        }
    };
    let probe = install(
        "hostile",
        json!({ "mode": "probe-customer", "customer_id": hangzhou["id"] }),
        json!(["records"]),
    )
    .await;
    install(
        "station-routing",
        json!({ "skills": { "general": "brakes" } }),
        json!(["directory"]),
    )
    .await;

    // A Hangzhou customer calls dealer A: the router cannot see dealer B's station, and
    // the probe cannot see the customer whose only tickets are dealer B's.
    let ticket = oem.ticket_at(&oem.station_a, &hangzhou, "刹车异响").await;
    let seen = tags(&ticket);
    assert!(seen.contains(&"customer-not-found"), "{ticket}");
    assert!(!seen.iter().any(|t| t.starts_with("station:")), "{ticket}");
    assert_eq!(ticket["team"], Value::Null);

    // Inside its subtree both see what they need.
    oem.app
        .patch(
            &oem.tenant.key,
            &format!("/api/v1/installations/{}", id(&probe)),
            &json!({ "config": { "mode": "probe-customer", "customer_id": shanghai["id"] } }),
        )
        .await
        .expect(200);
    let ticket = oem.ticket_at(&oem.station_a, &shanghai, "刹车异响").await;
    let seen = tags(&ticket);
    assert!(seen.contains(&"customer-found"), "{ticket}");
    assert!(seen.contains(&"station:SH-001-S1"), "{ticket}");
    assert_eq!(ticket["team"], "浦东制动组");

    // The same router tenant-wide finds dealer B's station for the Hangzhou customer.
    let tenant_wide = oem
        .app
        .post(
            &oem.tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "station-routing", "config": {}, "capabilities": ["directory"] }),
        )
        .await
        .expect(201);
    assert_eq!(tenant_wide["scope"]["site_id"], Value::Null);
    let ticket = oem.ticket_at(&oem.station_b, &hangzhou, "刹车异响").await;
    assert!(tags(&ticket).contains(&"station:HZ-002-S1"), "{ticket}");
}
