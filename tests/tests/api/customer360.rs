//! The 360° customer view: profile, vehicles with their campaigns, open and past tickets
//! with interactions, and survey answers, in one call.

use axle_tests::{TestApp, vin};
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn one_call_shows_the_customer_their_cars_campaigns_tickets_and_scores() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("view-360").await;
    let customer = app
        .customer(&tenant, json!({ "name": "张伟", "phone": "+8613912345601", "email": "zhang.wei@example.cn", "vip": true }))
        .await;
    let lavida = app
        .vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000101"), "customer_id": customer["id"], "model": "Lavida", "model_year": 2022 }))
        .await;
    let han = app
        .vehicle(&tenant, json!({ "vin": vin("LGXC76C00P0000103"), "customer_id": customer["id"], "model": "Han EV", "model_year": 2023 }))
        .await;
    let recall = app
        .post(
            &tenant.key,
            "/api/v1/campaigns",
            &json!({ "code": "R-2026-014", "kind": "recall", "title": "后制动软管检查 Rear brake hose inspection",
                     "vin_prefixes": ["LSVAX41"], "model_year_from": 2021, "model_year_to": 2022 }),
        )
        .await
        .expect(201);
    app.post(
        &tenant.key,
        "/api/v1/campaigns",
        &json!({ "code": "S-2026-002", "kind": "service", "title": "Lavida 2019 software", "vin_prefixes": ["LSVAX41"], "model_year_to": 2019 }),
    )
    .await
    .expect(201);

    let past = app
        .ticket(
            &tenant,
            json!({ "description": "刹车异响", "vehicle_id": lavida["id"] }),
        )
        .await;
    let past_path = format!("/api/v1/tickets/{}", id(&past));
    app.post(
        &tenant.key,
        &format!("{past_path}/interactions"),
        &json!({ "kind": "call", "direction": "outbound", "handle_time_seconds": 300, "summary": "Booked inspection" }),
    )
    .await
    .expect(201);
    let resolved = app
        .patch(&tenant.key, &past_path, &json!({ "status": "resolved" }))
        .await
        .expect(200);
    let token = app.survey_token(&resolved).await;
    app.post_anonymous(
        &format!("/api/v1/surveys/{token}"),
        &json!({ "csat": 5, "nps": 10, "comment": "很满意" }),
    )
    .await
    .expect(201);
    let open = app
        .ticket(
            &tenant,
            json!({ "description": "Charging port cover stuck", "vehicle_id": han["id"] }),
        )
        .await;

    let view = app
        .get(
            &tenant.key,
            &format!("/api/v1/customers/{}/360", id(&customer)),
        )
        .await
        .expect(200);

    assert_eq!(view["customer"]["name"], "张伟");
    let vehicles = view["vehicles"].as_array().unwrap();
    assert_eq!(vehicles.len(), 2);
    let lavida_view = vehicles.iter().find(|v| v["id"] == lavida["id"]).unwrap();
    assert_eq!(
        lavida_view["campaigns"][0]["code"], "R-2026-014",
        "2022 Lavida is in the recall, not the 2019 campaign"
    );
    assert_eq!(lavida_view["campaigns"].as_array().unwrap().len(), 1);
    assert_eq!(
        vehicles.iter().find(|v| v["id"] == han["id"]).unwrap()["campaigns"],
        json!([])
    );
    assert_eq!(view["campaigns"][0]["id"], recall["id"]);
    assert_eq!(view["open_tickets"].as_array().unwrap().len(), 1);
    assert_eq!(view["open_tickets"][0]["id"], open["id"]);
    assert_eq!(view["past_tickets"][0]["id"], past["id"]);
    assert_eq!(
        view["past_tickets"][0]["interactions"][0]["summary"],
        "Booked inspection"
    );
    assert_eq!(view["surveys"][0]["csat"], 5);
    assert_eq!(view["surveys"][0]["nps"], 10);
}

#[tokio::test]
async fn campaigns_are_checked_and_another_tenant_sees_no_360() {
    let app = TestApp::spawn().await;
    let a = app.tenant("view-a").await;
    let b = app.tenant("view-b").await;
    let customer = app.customer(&a, json!({ "name": "李娜" })).await;

    let bad = app
        .post(&a.key, "/api/v1/campaigns", &json!({ "code": " ", "kind": "recall", "title": "", "vin_prefixes": ["LSO"], "model_year_from": 2024, "model_year_to": 2020 }))
        .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let fields: Vec<&str> = bad.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["code", "title", "vin_prefixes", "model_year_to"]);

    assert_eq!(
        app.get(&b.key, &format!("/api/v1/customers/{}/360", id(&customer)))
            .await
            .status,
        404
    );
    assert_eq!(
        app.get(&a.key, "/api/v1/customers/nobody/360").await.status,
        404
    );
    assert_eq!(
        app.get(&b.key, "/api/v1/campaigns").await.expect(200)["items"],
        json!([])
    );
}

#[tokio::test]
async fn a_customer_is_found_by_the_vin_of_their_car() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("find-by-vin").await;
    let owner = app
        .customer(
            &tenant,
            json!({ "name": "周敏", "phone": "+8613912345611" }),
        )
        .await;
    let vin = vin("LB37622Z0N1000104");
    app.vehicle(&tenant, json!({ "vin": vin, "customer_id": owner["id"] }))
        .await;
    let other = app.tenant("find-by-vin-other").await;

    let found = app
        .get(
            &tenant.key,
            &format!("/api/v1/customers?vin={}", vin.to_lowercase()),
        )
        .await
        .expect(200);
    let elsewhere = app
        .get(&other.key, &format!("/api/v1/customers?vin={vin}"))
        .await
        .expect(200);
    let malformed = app.get(&tenant.key, "/api/v1/customers?vin=LB3").await;

    assert_eq!(found["items"][0]["id"], owner["id"]);
    assert_eq!(elsewhere["items"], json!([]));
    assert_eq!(malformed.status, 400);
}
