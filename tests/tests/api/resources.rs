//! The HTTP API as a client sees it: tenants and keys, customers, vehicles, tickets and
//! their lifecycle, pagination, and the shape of errors.

use axle_tests::{
    ADMIN_TOKEN, Tenant, TestApp, agent_key, field_message, ids, invalid_fields, vin,
};
use serde_json::{Value, json};

/// Follows `next_cursor` from the first page of `path` (which has a query string) to the
/// last, returning every id seen and the size of each page.
async fn walk_pages(app: &TestApp, key: &str, path: &str) -> (Vec<String>, Vec<usize>) {
    let (mut seen, mut sizes) = (Vec::new(), Vec::new());
    let mut next = app.get(key, path).await.expect(200);
    loop {
        let page = ids(&next);
        sizes.push(page.len());
        seen.extend(page);
        match next["next_cursor"].as_str() {
            Some(cursor) => {
                next = app
                    .get(key, &format!("{path}&cursor={cursor}"))
                    .await
                    .expect(200)
            }
            None => return (seen, sizes),
        }
        assert!(sizes.len() < 20, "pagination does not end: {sizes:?}");
    }
}

// ---------------------------------------------------------------------------------------
// Tenants

#[tokio::test]
async fn creating_a_tenant_needs_the_platform_admin_token() {
    let app = TestApp::spawn().await;
    let body = json!({ "name": "OEM A", "slug": "oem-a" });

    let anonymous = app
        .client
        .post(format!("{}/api/v1/tenants", app.url))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status().as_u16(), 401);

    let wrong = app
        .post("not-the-admin-token", "/api/v1/tenants", &body)
        .await;
    assert_eq!(wrong.status, 401, "{:?}", wrong);
    assert_eq!(wrong.error_code(), "unauthorized");
    assert!(
        wrong.error_message().contains("AXLE_ADMIN_TOKEN"),
        "{}",
        wrong.error_message()
    );

    let tenant = app.tenant("oem-b").await;
    let tenant_key = app.post(&tenant.key, "/api/v1/tenants", &body).await;
    assert_eq!(
        tenant_key.status, 401,
        "a tenant admin key is not the platform token"
    );
}

#[tokio::test]
async fn a_new_tenant_comes_with_an_admin_key_that_works_at_once() {
    let app = TestApp::spawn().await;

    let body = app
        .post(
            ADMIN_TOKEN,
            "/api/v1/tenants",
            &json!({ "name": "SAIC Dealer Group", "slug": "saic-dealers" }),
        )
        .await
        .expect(201);

    assert_eq!(body["tenant"]["slug"], "saic-dealers");
    assert_eq!(body["tenant"]["name"], "SAIC Dealer Group");
    assert_eq!(body["api_key"]["key"]["role"], "admin");
    let secret = body["api_key"]["secret"].as_str().unwrap();
    let customers = app.get(secret, "/api/v1/customers").await.expect(200);
    assert_eq!(customers, json!({ "items": [], "next_cursor": null }));
}

#[tokio::test]
async fn tenant_slugs_must_be_lower_case_letters_digits_and_hyphens() {
    let app = TestApp::spawn().await;
    let too_long = "a".repeat(64);

    for slug in [
        "Oem-A",
        "oem a",
        "o",
        "oem_a",
        "-oem",
        "oem-",
        too_long.as_str(),
        "",
    ] {
        let reply = app
            .post(
                ADMIN_TOKEN,
                "/api/v1/tenants",
                &json!({ "name": "OEM", "slug": slug }),
            )
            .await;
        assert_eq!(reply.status, 422, "slug {slug:?}: {:?}", reply);
        assert_eq!(reply.error_code(), "validation_failed");
        assert!(
            field_message(&reply, "slug").contains("a-z, 0-9"),
            "{}",
            reply.body
        );
    }
    for slug in ["oem-a", "gac-2024", "42"] {
        app.post(
            ADMIN_TOKEN,
            "/api/v1/tenants",
            &json!({ "name": "OEM", "slug": slug }),
        )
        .await
        .expect(201);
    }
}

#[tokio::test]
async fn a_tenant_needs_a_name() {
    let app = TestApp::spawn().await;

    let reply = app
        .post(
            ADMIN_TOKEN,
            "/api/v1/tenants",
            &json!({ "name": "  ", "slug": "nameless" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(invalid_fields(&reply), ["name"]);
}

#[tokio::test]
async fn a_duplicate_tenant_slug_is_a_conflict() {
    let app = TestApp::spawn().await;
    app.tenant("oem-a").await;

    let reply = app
        .post(
            ADMIN_TOKEN,
            "/api/v1/tenants",
            &json!({ "name": "Another OEM A", "slug": "oem-a" }),
        )
        .await;

    assert_eq!(reply.status, 409, "{:?}", reply);
    assert_eq!(reply.error_code(), "conflict");
    assert!(
        reply.error_message().contains("oem-a"),
        "{}",
        reply.error_message()
    );
}

// ---------------------------------------------------------------------------------------
// API keys and roles

#[tokio::test]
async fn an_admin_key_creates_an_agent_key_whose_secret_is_shown_only_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let (agent_id, agent_secret) = agent_key(&app, &tenant).await;

    app.customer(
        &Tenant {
            key: agent_secret,
            ..tenant.clone()
        },
        json!({ "name": "王芳" }),
    )
    .await;
    let keys = app.get(&tenant.key, "/api/v1/api-keys").await.expect(200);
    let items = keys["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    let agent = items
        .iter()
        .find(|k| k["id"] == agent_id.as_str())
        .expect("the agent key is listed");
    assert_eq!(agent["role"], "agent");
    assert_eq!(agent["name"], "hotline agent");
    assert!(
        items
            .iter()
            .all(|k| k.get("secret").is_none() && k.get("key_hash").is_none()),
        "{keys}"
    );
}

#[tokio::test]
async fn an_api_key_needs_a_name_and_a_known_role() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let nameless = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": " ", "role": "agent" }),
        )
        .await;
    assert_eq!(nameless.status, 422, "{:?}", nameless);
    assert_eq!(invalid_fields(&nameless), ["name"]);

    let owner = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "boss", "role": "owner" }),
        )
        .await;
    assert_eq!(owner.status, 400, "{:?}", owner);
    assert!(
        owner.error_message().contains("agent"),
        "names the roles: {}",
        owner.error_message()
    );
}

#[tokio::test]
async fn agent_keys_get_403_on_admin_only_routes() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (_, secret) = agent_key(&app, &tenant).await;
    let agent = Tenant {
        key: secret,
        ..tenant.clone()
    };

    let attempts = [
        app.post(
            &agent.key,
            "/api/v1/installations",
            &json!({ "plugin": "vip-routing" }),
        )
        .await,
        app.post(
            &agent.key,
            "/api/v1/api-keys",
            &json!({ "name": "mine", "role": "admin" }),
        )
        .await,
        app.get(&agent.key, "/api/v1/api-keys").await,
        app.upload(
            &agent,
            &axle_tests::VIP_ROUTING.manifest(),
            axle_tests::VIP_ROUTING.component(),
        )
        .await,
    ];

    for reply in attempts {
        assert_eq!(reply.status, 403, "{:?}", reply);
        assert_eq!(reply.error_code(), "forbidden");
        assert!(
            reply.error_message().contains("admin API key"),
            "{}",
            reply.error_message()
        );
    }
    assert_eq!(
        app.get(&tenant.key, "/api/v1/plugins").await.expect(200)["items"],
        json!([]),
        "nothing was uploaded"
    );
}

#[tokio::test]
async fn agent_keys_work_customers_vehicles_and_tickets() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (_, secret) = agent_key(&app, &tenant).await;
    let agent = Tenant {
        key: secret,
        ..tenant.clone()
    };

    let customer = app.customer(&agent, json!({ "name": "李娜" })).await;
    app.vehicle(
        &agent,
        json!({ "vin": vin("LSVAX4100N2000101"), "customer_id": customer["id"] }),
    )
    .await;
    let ticket = app
        .ticket(
            &agent,
            json!({ "description": "Infotainment freezes", "customer_id": customer["id"] }),
        )
        .await;
    app.patch(
        &agent.key,
        &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        &json!({ "status": "in_progress" }),
    )
    .await
    .expect(200);
    app.get(&agent.key, "/api/v1/installations")
        .await
        .expect(200);
}

#[tokio::test]
async fn an_unknown_api_key_is_unauthorized() {
    let app = TestApp::spawn().await;
    app.tenant("oem-a").await;

    let reply = app
        .get(
            "axle_0000000000000000000000000000000000000000000000000000000000000000",
            "/api/v1/customers",
        )
        .await;

    assert_eq!(reply.status, 401, "{:?}", reply);
    assert_eq!(reply.error_code(), "unauthorized");
    assert!(
        reply.error_message().contains("unknown"),
        "{}",
        reply.error_message()
    );
}

#[tokio::test]
async fn a_request_without_an_authorization_header_is_told_how_to_authenticate() {
    let app = TestApp::spawn().await;

    let response = app
        .client
        .get(format!("{}/api/v1/tickets", app.url))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["error"]["code"], "unauthorized");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Authorization: Bearer"),
        "{body}"
    );
}

#[tokio::test]
async fn a_basic_authorization_header_is_told_to_use_bearer() {
    let app = TestApp::spawn().await;

    let response = app
        .client
        .get(format!("{}/api/v1/tickets", app.url))
        .basic_auth("agent", Some("secret"))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 401);
    let body: Value = response.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Bearer"),
        "{body}"
    );
}

// ---------------------------------------------------------------------------------------
// Customers

#[tokio::test]
async fn a_customer_is_created_and_read_back() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let created = app
        .customer(
            &tenant,
            json!({ "name": " 张伟 ", "phone": "+8613912345601", "email": "zhang.wei@example.cn", "region": "East China", "city": "Shanghai", "vip": true, "fields": { "member_tier": "gold" } }),
        )
        .await;

    assert_eq!(created["name"], "张伟", "the name is trimmed");
    let fetched = app
        .get(
            &tenant.key,
            &format!("/api/v1/customers/{}", created["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(fetched, created);
    assert_eq!(fetched["vip"], true);
    assert_eq!(fetched["fields"]["member_tier"], "gold");
}

#[tokio::test]
async fn an_unknown_customer_is_not_found() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .get(
            &tenant.key,
            "/api/v1/customers/0190c0de-0000-7000-8000-000000000000",
        )
        .await;

    assert_eq!(reply.status, 404, "{:?}", reply);
    assert_eq!(reply.error_code(), "not_found");
    assert_eq!(reply.error_message(), "customer not found");
}

#[tokio::test]
async fn phone_numbers_are_kept_in_e164_reading_national_ones_in_the_tenants_country() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let customer = app
        .customer(
            &tenant,
            json!({ "name": "Emily Chen", "phone": " +86 (139) 1234-5601 " }),
        )
        .await;
    let local = app
        .customer(
            &tenant,
            json!({ "name": "Wu Jun", "phone": "021 6288.1234" }),
        )
        .await;

    assert_eq!(customer["phone"], "+8613912345601");
    assert_eq!(
        local["phone"], "+862162881234",
        "a Shanghai landline, in CN"
    );
    let found = app
        .get(&tenant.key, "/api/v1/customers?phone=%2B86-139-1234-5601")
        .await
        .expect(200);
    assert_eq!(ids(&found), [customer["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn invalid_customer_fields_are_each_reported_with_a_reason() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/customers",
            &json!({ "name": "", "phone": "call me", "email": "zhang.at.example" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(invalid_fields(&reply), ["name", "phone", "email"]);
    assert!(field_message(&reply, "email").contains("zhang.at.example"));
    assert!(field_message(&reply, "phone").contains("not a valid phone number"));
    assert_eq!(
        app.get(&tenant.key, "/api/v1/customers").await.expect(200)["items"],
        json!([]),
        "nothing was saved"
    );
}

#[tokio::test]
async fn a_customer_without_a_name_is_reported_per_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/customers",
            &json!({ "phone": "+8613912345601" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(invalid_fields(&reply), ["name"]);
}

#[tokio::test]
async fn customers_are_filtered_by_phone_vip_region_and_name() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let emily =
        app.customer(&tenant, json!({ "name": "Emily Chen", "phone": "+8613800000001", "region": "East China", "vip": true })).await;
    let wu = app
        .customer(
            &tenant,
            json!({ "name": "Wu Jun", "phone": "+8613800000002", "region": "East China" }),
        )
        .await;
    let li = app.customer(&tenant, json!({ "name": "李娜", "phone": "+8613800000003", "region": "North China", "vip": true })).await;
    let id = |c: &Value| c["id"].as_str().unwrap().to_owned();
    let query = |q: &'static str| {
        let app = &app;
        let key = tenant.key.clone();
        async move {
            ids(&app
                .get(&key, &format!("/api/v1/customers?{q}"))
                .await
                .expect(200))
        }
    };

    assert_eq!(query("phone=%2B8613800000002").await, [id(&wu)]);
    assert_eq!(
        query("vip=true").await,
        [id(&li), id(&emily)],
        "newest first"
    );
    assert_eq!(query("vip=false").await, [id(&wu)]);
    assert_eq!(query("region=East%20China").await, [id(&wu), id(&emily)]);
    assert_eq!(query("region=East%20China&vip=true").await, [id(&emily)]);
    assert_eq!(
        query("name=chen").await,
        [id(&emily)],
        "name matches a part, ignoring case"
    );
    assert_eq!(query("name=%E6%9D%8E").await, [id(&li)], "李");
    assert_eq!(query("name=nobody").await, Vec::<String>::new());
}

#[tokio::test]
async fn a_malformed_phone_filter_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app.get(&tenant.key, "/api/v1/customers?phone=abc").await;

    assert_eq!(reply.status, 400, "{:?}", reply);
    assert!(
        reply.error_message().contains("not a valid phone number"),
        "{}",
        reply.error_message()
    );
}

// ---------------------------------------------------------------------------------------
// Vehicles

#[tokio::test]
async fn a_vin_of_the_wrong_length_is_rejected() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": "LSVAX4100N200010" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(
        field_message(&reply, "vin"),
        "a VIN has 17 characters, `LSVAX4100N200010` has 16"
    );
}

#[tokio::test]
async fn a_vin_with_i_o_or_q_is_rejected_naming_the_position() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    for (letter, bad) in [
        ('I', "LSVAX4100N200010I"),
        ('O', "LSVAX4100N2O00101"),
        ('Q', "QSVAX4100N2000101"),
    ] {
        let reply = app
            .post(&tenant.key, "/api/v1/vehicles", &json!({ "vin": bad }))
            .await;
        assert_eq!(reply.status, 422, "{bad}: {:?}", reply);
        let message = field_message(&reply, "vin");
        let position = bad.find(letter).unwrap() + 1;
        assert!(
            message.contains(&format!("`{letter}` at position {position}")),
            "{message}"
        );
    }
}

#[tokio::test]
async fn a_vin_with_a_wrong_check_digit_is_rejected_with_the_expected_digit() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    // NHTSA's worked example 1M8GDM9AXKP042788 has check digit X.
    let reply = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": "1M8GDM9A1KP042788" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(
        field_message(&reply, "vin"),
        "check digit at position 9 is `1` but the VIN's characters give `X`"
    );
    app.vehicle(&tenant, json!({ "vin": "1M8GDM9AXKP042788" }))
        .await;
}

#[tokio::test]
async fn a_lower_case_vin_is_accepted_and_stored_upper_case() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let vin = vin("LSVAX4100N2000101");

    let vehicle = app.vehicle(&tenant, json!({ "vin": format!(" {} ", vin.to_lowercase()), "make": "SAIC Volkswagen", "model_year": 2022 })).await;

    assert_eq!(vehicle["vin"], vin);
    let fetched = app
        .get(
            &tenant.key,
            &format!("/api/v1/vehicles/{}", vehicle["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(fetched, vehicle);
    let by_vin = app
        .get(
            &tenant.key,
            &format!("/api/v1/vehicles?vin={}", vin.to_lowercase()),
        )
        .await
        .expect(200);
    assert_eq!(ids(&by_vin), [vehicle["id"].as_str().unwrap()]);
}

#[tokio::test]
async fn a_vin_is_unique_within_a_tenant_but_not_across_tenants() {
    let app = TestApp::spawn().await;
    let oem_a = app.tenant("oem-a").await;
    let oem_b = app.tenant("oem-b").await;
    let vin = vin("LSVAX4100N2000101");
    app.vehicle(&oem_a, json!({ "vin": vin })).await;

    let again = app
        .post(
            &oem_a.key,
            "/api/v1/vehicles",
            &json!({ "vin": vin.to_lowercase() }),
        )
        .await;
    assert_eq!(again.status, 409, "{:?}", again);
    assert_eq!(again.error_code(), "conflict");
    assert!(
        again.error_message().contains(&vin),
        "{}",
        again.error_message()
    );

    app.vehicle(&oem_b, json!({ "vin": vin })).await;
}

#[tokio::test]
async fn a_vehicle_for_an_unknown_customer_is_rejected() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": vin("LSVAX4100N2000101"), "customer_id": "no-such-customer" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(invalid_fields(&reply), ["customer_id"]);
    assert!(field_message(&reply, "customer_id").contains("no-such-customer"));
}

#[tokio::test]
async fn a_vehicle_without_a_vin_is_reported_per_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "make": "BYD", "model_year": 1900 }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    assert_eq!(invalid_fields(&reply), ["vin", "model_year"]);
}

#[tokio::test]
async fn vehicles_are_filtered_by_customer() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let owner = app.customer(&tenant, json!({ "name": "Emily Chen" })).await;
    let owned = app
        .vehicle(
            &tenant,
            json!({ "vin": vin("LSVAX4100N2000101"), "customer_id": owner["id"] }),
        )
        .await;
    app.vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000102") }))
        .await;

    let listed = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/vehicles?customer_id={}",
                owner["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);

    assert_eq!(ids(&listed), [owned["id"].as_str().unwrap()]);
}

// ---------------------------------------------------------------------------------------
// Tickets

#[tokio::test]
async fn a_ticket_links_its_customer_and_vehicle() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let customer = app.customer(&tenant, json!({ "name": "张伟" })).await;
    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000101") }))
        .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "subject": "Window regulator", "description": "Rear left window stuck half open", "category": "Body", "channel": "dealer",
                    "customer_id": customer["id"], "vehicle_id": vehicle["id"], "tags": ["warranty"], "fields": { "dealer_code": "SH-001" } }),
        )
        .await;

    assert_eq!(ticket["customer_id"], customer["id"]);
    assert_eq!(ticket["vehicle_id"], vehicle["id"]);
    assert_eq!(ticket["subject"], "Window regulator");
    assert_eq!(ticket["status"], "new");
    assert_eq!(ticket["priority"], "normal");
    assert_eq!(ticket["category"], "body", "categories are lower-cased");
    assert_eq!(ticket["channel"], "dealer");
    assert_eq!(ticket["tags"], json!(["warranty"]));
    assert_eq!(ticket["fields"]["dealer_code"], "SH-001");
    assert_eq!(ticket["decisions"], json!([]));
    assert_eq!(ticket["notifications"], json!([]));
    let fetched = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(fetched, ticket);
}

#[tokio::test]
async fn a_ticket_linked_by_vin_also_gets_the_vehicles_owner() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let owner = app.customer(&tenant, json!({ "name": "Emily Chen" })).await;
    let vin = vin("LSVAX4100N2000101");
    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin, "customer_id": owner["id"] }))
        .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Check-engine light on", "vin": vin.to_lowercase() }),
        )
        .await;

    assert_eq!(ticket["vehicle_id"], vehicle["id"]);
    assert_eq!(ticket["customer_id"], owner["id"]);
    assert_eq!(
        ticket["channel"], "phone",
        "the hotline is the default channel"
    );
    assert_eq!(ticket["category"], "general");
}

#[tokio::test]
async fn the_subject_defaults_to_the_first_80_characters_of_the_description() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let long = "空调不制冷".repeat(20);

    let short = app
        .ticket(&tenant, json!({ "description": "  Wipers squeak  " }))
        .await;
    let long_ticket = app
        .ticket(&tenant, json!({ "description": long, "subject": "   " }))
        .await;

    assert_eq!(short["subject"], "Wipers squeak");
    assert_eq!(short["description"], "Wipers squeak");
    assert_eq!(
        long_ticket["subject"],
        long.chars().take(80).collect::<String>()
    );
    assert_eq!(long_ticket["description"], long);
}

#[tokio::test]
async fn a_ticket_without_a_description_is_rejected_per_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let missing = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "subject": "Noise" }),
        )
        .await;
    let blank = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": " \n " }),
        )
        .await;

    for reply in [missing, blank] {
        assert_eq!(reply.status, 422, "{:?}", reply);
        assert_eq!(reply.error_code(), "validation_failed");
        assert_eq!(invalid_fields(&reply), ["description"]);
    }
    assert_eq!(
        app.get(&tenant.key, "/api/v1/tickets").await.expect(200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn a_ticket_for_an_unknown_vin_is_rejected_with_a_hint() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let vin = vin("LSVAX4100N2000101");

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "Rattle", "vin": vin }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply);
    let message = field_message(&reply, "vin");
    assert!(
        message.contains(&vin) && message.contains("POST /api/v1/vehicles"),
        "{message}"
    );
}

#[tokio::test]
async fn a_ticket_with_an_invalid_vin_or_unknown_links_reports_every_field() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let bad_vin = app.post(&tenant.key, "/api/v1/tickets", &json!({ "description": "Rattle", "vin": "1M8GDM9A1KP042788", "customer_id": "nobody" })).await;
    let bad_ids = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "Rattle", "vehicle_id": "nothing", "category": "no spaces!" }),
        )
        .await;

    assert_eq!(bad_vin.status, 422, "{:?}", bad_vin);
    assert_eq!(invalid_fields(&bad_vin), ["vin", "customer_id"]);
    assert!(field_message(&bad_vin, "vin").contains("`X`"));
    assert_eq!(bad_ids.status, 422, "{:?}", bad_ids);
    assert_eq!(invalid_fields(&bad_ids), ["vehicle_id", "category"]);
}

#[tokio::test]
async fn tickets_are_filtered_by_status_priority_category_and_customer() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let emily = app.customer(&tenant, json!({ "name": "Emily Chen" })).await;
    let recall = app
        .ticket(&tenant, json!({ "description": "Recall letter received", "category": "recall", "priority": "high", "customer_id": emily["id"] }))
        .await;
    let service = app.ticket(&tenant, json!({ "description": "Book 30,000 km service", "category": "maintenance", "priority": "low" })).await;
    let noise = app.ticket(&tenant, json!({ "description": "Wind noise", "category": "maintenance", "customer_id": emily["id"] })).await;
    let noise_id = noise["id"].as_str().unwrap();
    app.patch(
        &tenant.key,
        &format!("/api/v1/tickets/{noise_id}"),
        &json!({ "status": "in_progress" }),
    )
    .await
    .expect(200);
    let id = |t: &Value| t["id"].as_str().unwrap().to_owned();
    let query = |q: String| {
        let app = &app;
        let key = tenant.key.clone();
        async move {
            ids(&app
                .get(&key, &format!("/api/v1/tickets?{q}"))
                .await
                .expect(200))
        }
    };

    assert_eq!(query("status=in_progress".into()).await, [id(&noise)]);
    assert_eq!(
        query("status=new".into()).await,
        [id(&service), id(&recall)]
    );
    assert_eq!(query("priority=high".into()).await, [id(&recall)]);
    assert_eq!(
        query("category=maintenance".into()).await,
        [id(&noise), id(&service)]
    );
    assert_eq!(
        query("category=Maintenance".into()).await,
        [id(&noise), id(&service)],
        "as stored, lower-cased"
    );
    assert_eq!(
        query(format!("customer_id={}", id(&emily))).await,
        [id(&noise), id(&recall)]
    );
    assert_eq!(
        query(format!("customer_id={}&category=recall", id(&emily))).await,
        [id(&recall)]
    );

    let bad = app.get(&tenant.key, "/api/v1/tickets?status=open").await;
    assert_eq!(bad.status, 400, "{:?}", bad);
    assert!(
        bad.error_message().contains("in_progress"),
        "lists the statuses: {}",
        bad.error_message()
    );
}

#[tokio::test]
async fn patching_a_ticket_changes_only_the_given_fields() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Door seal leaks", "category": "body", "tags": ["rain"], "fields": { "km": 1200, "dealer": "SH-001" } }))
        .await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());

    let patched = app
        .patch(&tenant.key, &path, &json!({ "priority": "high", "team": "body-shop", "tags": ["rain", "warranty"], "fields": { "km": 1300, "dealer": null } }))
        .await
        .expect(200);

    assert_eq!(patched["priority"], "high");
    assert_eq!(patched["team"], "body-shop");
    assert_eq!(patched["tags"], json!(["rain", "warranty"]));
    assert_eq!(
        patched["fields"],
        json!({ "km": 1300 }),
        "null removes a field"
    );
    assert_eq!(patched["description"], "Door seal leaks");
    assert_eq!(patched["category"], "body");
    assert_eq!(patched["status"], "new");
    assert_eq!(app.get(&tenant.key, &path).await.expect(200), patched);

    let blank = app
        .patch(&tenant.key, &path, &json!({ "subject": "" }))
        .await;
    assert_eq!(blank.status, 422, "{:?}", blank);
    assert_eq!(invalid_fields(&blank), ["subject"]);
}

#[tokio::test]
async fn a_patch_that_changes_nothing_leaves_no_trace_on_the_timeline() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Seat heater dead", "priority": "high" }),
        )
        .await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());

    let same = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "priority": "high", "status": "new" }),
        )
        .await
        .expect(200);
    let empty = app.patch(&tenant.key, &path, &json!({})).await.expect(200);

    assert_eq!(same, ticket);
    assert_eq!(empty, ticket);
    let timeline = app
        .get(&tenant.key, &format!("{path}/timeline"))
        .await
        .expect(200);
    assert_eq!(
        timeline["items"].as_array().unwrap().len(),
        1,
        "only ticket.created: {timeline}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_to_one_ticket_all_take_effect() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Two agents on one call" }))
        .await;
    let url = format!(
        "{}/api/v1/tickets/{}",
        app.url,
        ticket["id"].as_str().unwrap()
    );

    let mut patches = tokio::task::JoinSet::new();
    for n in 0..10 {
        let request = app
            .client
            .patch(&url)
            .bearer_auth(&tenant.key)
            .json(&json!({ "fields": { format!("note_{n}"): n } }));
        patches.spawn(async move { request.send().await.expect("PATCH").status().as_u16() });
    }
    let statuses = patches.join_all().await;

    assert_eq!(statuses, [200; 10]);
    let fields = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        )
        .await
        .expect(200)["fields"]
        .clone();
    let expected: serde_json::Map<String, Value> =
        (0..10).map(|n| (format!("note_{n}"), json!(n))).collect();
    assert_eq!(fields, Value::Object(expected), "no change was lost");
    let timeline = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/tickets/{}/timeline",
                ticket["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    assert_eq!(timeline["items"].as_array().unwrap().len(), 11);
}

#[tokio::test]
async fn patching_an_unknown_ticket_is_not_found() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .patch(
            &tenant.key,
            "/api/v1/tickets/nope",
            &json!({ "priority": "high" }),
        )
        .await;

    assert_eq!(reply.status, 404, "{:?}", reply);
    assert_eq!(reply.error_message(), "ticket not found");
}

#[tokio::test]
async fn assigning_a_new_ticket_moves_it_to_assigned() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Key fob not detected" }))
        .await;
    let preassigned = app
        .ticket(
            &tenant,
            json!({ "description": "Key fob not detected", "assignee": "agent-007" }),
        )
        .await;

    let patched = app
        .patch(
            &tenant.key,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
            &json!({ "assignee": "agent-007" }),
        )
        .await
        .expect(200);

    assert_eq!(patched["assignee"], "agent-007");
    assert_eq!(patched["status"], "assigned");
    assert_eq!(preassigned["status"], "assigned");
}

#[tokio::test]
async fn a_ticket_moves_through_its_lifecycle_and_can_be_reopened() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Bluetooth drops calls" }))
        .await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());

    for status in [
        "assigned",
        "in_progress",
        "pending_customer",
        "resolved",
        "closed",
        "in_progress",
        "resolved",
    ] {
        let patched = app
            .patch(&tenant.key, &path, &json!({ "status": status }))
            .await
            .expect(200);
        assert_eq!(patched["status"], status);
    }
    assert_eq!(
        app.get(&tenant.key, &path).await.expect(200)["status"],
        "resolved"
    );
}

#[tokio::test]
async fn an_illegal_status_change_is_a_conflict_that_lists_the_allowed_states() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let ticket = app
        .ticket(&tenant, json!({ "description": "Sunroof leaks" }))
        .await;
    let path = format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap());
    app.patch(&tenant.key, &path, &json!({ "status": "closed" }))
        .await
        .expect(200);

    let reply = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "status": "resolved", "priority": "high" }),
        )
        .await;

    assert_eq!(reply.status, 409, "{:?}", reply);
    assert_eq!(reply.error_code(), "illegal_transition");
    assert_eq!(reply.body["error"]["allowed"], json!(["in_progress"]));
    assert!(
        reply.error_message().contains("closed to resolved"),
        "{}",
        reply.error_message()
    );
    let unchanged = app.get(&tenant.key, &path).await.expect(200);
    assert_eq!(unchanged["status"], "closed");
    assert_eq!(
        unchanged["priority"], "normal",
        "nothing of a refused change is saved"
    );

    let in_progress = app
        .ticket(&tenant, json!({ "description": "Sunroof leaks again" }))
        .await;
    let path = format!("/api/v1/tickets/{}", in_progress["id"].as_str().unwrap());
    app.patch(&tenant.key, &path, &json!({ "status": "in_progress" }))
        .await
        .expect(200);
    let back_to_new = app
        .patch(&tenant.key, &path, &json!({ "status": "new" }))
        .await;
    assert_eq!(back_to_new.status, 409, "{:?}", back_to_new);
    assert_eq!(
        back_to_new.body["error"]["allowed"],
        json!(["assigned", "pending_customer", "resolved", "closed"])
    );
}

#[tokio::test]
async fn the_timeline_lists_creation_then_updates_with_the_acting_key() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let (agent_id, secret) = agent_key(&app, &tenant).await;
    let ticket = app
        .ticket(
            &Tenant {
                key: secret.clone(),
                ..tenant.clone()
            },
            json!({ "description": "Horn does not work" }),
        )
        .await;
    let id = ticket["id"].as_str().unwrap();
    app.patch(
        &secret,
        &format!("/api/v1/tickets/{id}"),
        &json!({ "status": "in_progress", "priority": "high" }),
    )
    .await
    .expect(200);

    let timeline = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}/timeline"))
        .await
        .expect(200);

    let events = timeline["items"].as_array().unwrap();
    let kinds: Vec<&str> = events.iter().map(|e| e["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["ticket.created", "ticket.updated"]);
    for event in events {
        assert_eq!(event["actor"], format!("key:{agent_id}"));
    }
    assert_eq!(events[0]["data"]["priority"], "normal");
    assert_eq!(
        events[1]["data"]["status"],
        json!({ "from": "new", "to": "in_progress" })
    );
    assert_eq!(
        events[1]["data"]["priority"],
        json!({ "from": "normal", "to": "high" })
    );
}

#[tokio::test]
async fn the_timeline_of_an_unknown_ticket_is_not_found() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app.get(&tenant.key, "/api/v1/tickets/nope/timeline").await;

    assert_eq!(reply.status, 404, "{:?}", reply);
}

// ---------------------------------------------------------------------------------------
// Pagination

#[tokio::test]
async fn customers_page_through_next_cursor_returning_each_exactly_once() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let mut created = Vec::new();
    for n in 1..=5 {
        created.push(
            app.customer(&tenant, json!({ "name": format!("Customer {n}") }))
                .await["id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }

    let (seen, sizes) = walk_pages(&app, &tenant.key, "/api/v1/customers?limit=2").await;

    assert_eq!(sizes, [2, 2, 1]);
    created.reverse();
    assert_eq!(seen, created, "every customer once, newest first");
}

#[tokio::test]
async fn a_last_page_that_is_exactly_full_has_no_next_cursor() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    for n in 0..4 {
        app.ticket(&tenant, json!({ "description": format!("Ticket {n}") }))
            .await;
    }

    let (seen, sizes) =
        walk_pages(&app, &tenant.key, "/api/v1/tickets?limit=2&priority=normal").await;

    assert_eq!(sizes, [2, 2]);
    assert_eq!(seen.len(), 4);
    let everything = app.get(&tenant.key, "/api/v1/tickets").await.expect(200);
    assert_eq!(ids(&everything), seen);
    assert_eq!(everything["next_cursor"], Value::Null);
}

#[tokio::test]
async fn a_page_size_outside_1_to_200_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    for path in [
        "/api/v1/customers?limit=0",
        "/api/v1/tickets?limit=500",
        "/api/v1/vehicles?limit=-1",
        "/api/v1/customers?limit=ten",
    ] {
        let reply = app.get(&tenant.key, path).await;
        assert_eq!(reply.status, 400, "{path}: {:?}", reply);
        assert_eq!(reply.error_code(), "bad_request");
        assert!(
            reply.error_message().contains("limit"),
            "{path}: {}",
            reply.error_message()
        );
    }
    app.get(&tenant.key, "/api/v1/customers?limit=200")
        .await
        .expect(200);
}

// ---------------------------------------------------------------------------------------
// Errors and health

#[tokio::test]
async fn malformed_json_is_a_bad_request_with_a_json_error_body() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post_raw(
            &tenant.key,
            "/api/v1/tickets",
            "application/json",
            "{\"description\": \"Brakes",
        )
        .await;

    assert_eq!(reply.status, 400, "{:?}", reply);
    assert_eq!(reply.error_code(), "bad_request");
    assert!(!reply.error_message().is_empty());
    let error = reply.body["error"].as_object().expect("an error object");
    assert!(
        error
            .keys()
            .all(|k| ["code", "message"].contains(&k.as_str())),
        "{error:?}"
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post_raw(&tenant.key, "/api/v1/customers", "text/plain", "name=Zhang")
        .await;

    assert_eq!(reply.status, 400, "{:?}", reply);
    assert!(
        reply.error_message().contains("application/json"),
        "{}",
        reply.error_message()
    );
}

#[tokio::test]
async fn an_unknown_json_field_is_a_bad_request_naming_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/customers",
            &json!({ "name": "Zhang", "vip_level": 3 }),
        )
        .await;
    let ticket = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "Noise", "severity": "high" }),
        )
        .await;

    for (reply, field) in [(reply, "vip_level"), (ticket, "severity")] {
        assert_eq!(reply.status, 400, "{:?}", reply);
        assert_eq!(reply.error_code(), "bad_request");
        assert!(
            reply.error_message().contains(field),
            "{}",
            reply.error_message()
        );
    }
}

#[tokio::test]
async fn an_unknown_query_parameter_is_a_bad_request() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    let reply = app.get(&tenant.key, "/api/v1/tickets?sort=oldest").await;

    assert_eq!(reply.status, 400, "{:?}", reply);
    assert!(
        reply.error_message().contains("sort"),
        "{}",
        reply.error_message()
    );
}

#[tokio::test]
async fn an_unknown_route_is_a_json_not_found() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;

    for path in ["/nope", "/api/v1/nope", "/api/v2/tickets"] {
        let reply = app.get(&tenant.key, path).await;
        assert_eq!(reply.status, 404, "{path}: {:?}", reply);
        assert_eq!(reply.error_code(), "not_found", "{path}");
        assert_eq!(reply.error_message(), "route not found");
    }
}

#[tokio::test]
async fn healthz_answers_without_a_key() {
    let app = TestApp::spawn().await;

    let response = app
        .client
        .get(format!("{}/healthz", app.url))
        .send()
        .await
        .unwrap();

    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["status"], "ok");
    let expected = match axle_tests::backend() {
        axle_tests::Backend::Sqlite => "sqlite",
        axle_tests::Backend::Postgres => "postgres",
    };
    assert_eq!(body["database"], expected);
}

#[tokio::test]
async fn a_customer_is_changed_field_by_field_and_checked_like_a_new_one() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("patch-customer").await;
    let customer = app
        .customer(&tenant, json!({ "name": "李娜", "phone": "+8613912345602", "city": "杭州", "fields": { "level": "gold" } }))
        .await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());

    let changed = app
        .patch(&tenant.key, &path, &json!({ "vip": true, "city": "", "phone": "+86 139 1234 5699", "fields": { "level": null, "wechat": "lina88" } }))
        .await
        .expect(200);

    assert_eq!(changed["name"], "李娜");
    assert_eq!(changed["vip"], true);
    assert_eq!(changed["city"], Value::Null);
    assert_eq!(changed["phone"], "+8613912345699");
    assert_eq!(changed["fields"], json!({ "wechat": "lina88" }));
    assert_eq!(app.get(&tenant.key, &path).await.expect(200), changed);

    let bad = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "email": "not-an-email", "name": " " }),
        )
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    assert_eq!(invalid_fields(&bad), vec!["name", "email"]);
    assert_eq!(app.get(&tenant.key, &path).await.expect(200), changed);
}

#[tokio::test]
async fn a_vehicle_changes_owner_and_mileage_but_never_its_vin() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("patch-vehicle").await;
    let first = app.customer(&tenant, json!({ "name": "王芳" })).await;
    let second = app.customer(&tenant, json!({ "name": "刘洋" })).await;
    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin("LGXC76C00P0000103"), "customer_id": first["id"], "mileage_km": 1000 }))
        .await;
    let path = format!("/api/v1/vehicles/{}", vehicle["id"].as_str().unwrap());

    let changed = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "customer_id": second["id"], "mileage_km": 15000 }),
        )
        .await
        .expect(200);
    assert_eq!(changed["customer_id"], second["id"]);
    assert_eq!(changed["mileage_km"], 15000);
    assert_eq!(changed["vin"], vehicle["vin"]);

    let vin_change = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "vin": vin("LGXC76C00P0000104") }),
        )
        .await;
    assert_eq!(vin_change.status, 400, "{:?}", vin_change.body);
    let bad = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "customer_id": "nobody", "mileage_km": -5 }),
        )
        .await;
    assert_eq!(bad.status, 422);
    assert_eq!(invalid_fields(&bad), vec!["customer_id", "mileage_km"]);
    let unlinked = app
        .patch(&tenant.key, &path, &json!({ "customer_id": "" }))
        .await
        .expect(200);
    assert_eq!(unlinked["customer_id"], Value::Null);
}

#[tokio::test]
async fn a_wrong_method_gets_a_json_405() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("methods").await;

    let reply = app.delete(&tenant.key, "/api/v1/tickets").await;

    assert_eq!(reply.status, 405);
    assert_eq!(reply.error_code(), "method_not_allowed");
}

#[tokio::test]
async fn a_revoked_key_is_refused_on_its_next_request_and_only_an_admin_revokes() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-revoke").await;
    let other = app.tenant("oem-other").await;
    let (agent_id, agent) = agent_key(&app, &tenant).await;
    let path = format!("/api/v1/api-keys/{agent_id}");
    app.get(&agent, "/api/v1/customers").await.expect(200);

    let by_agent = app.delete(&agent, &path).await;
    let by_other_tenant = app.delete(&other.key, &path).await;
    let admin_id = app.get(&tenant.key, "/api/v1/api-keys").await.expect(200)["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|key| key["id"] != agent_id.as_str())
        .expect("the admin key")["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let itself = app
        .delete(&tenant.key, &format!("/api/v1/api-keys/{admin_id}"))
        .await;

    assert_eq!(by_agent.status, 403, "{by_agent:?}");
    assert_eq!(by_other_tenant.status, 404, "{by_other_tenant:?}");
    assert_eq!(itself.status, 409, "{itself:?}");
    assert!(itself.error_message().contains("another admin key"));
    app.get(&agent, "/api/v1/customers").await.expect(200);

    assert_eq!(app.delete(&tenant.key, &path).await.status, 204);

    assert_eq!(app.get(&agent, "/api/v1/customers").await.status, 401);
    let listed = app.get(&tenant.key, "/api/v1/api-keys").await.expect(200);
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|key| key["id"] != agent_id.as_str()),
        "{listed}"
    );
    assert_eq!(
        app.delete(&tenant.key, &path).await.status,
        404,
        "once only"
    );
}
