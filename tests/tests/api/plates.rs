//! Licence plates: normalised however they are typed (create, PATCH, CSV import, hotline
//! intake), shown on the vehicle and in the 360° view, and searched in any spelling, for
//! vehicles and for their owners, only within the caller's tenant.

use axle_tests::{TestApp, field_message, ids, invalid_fields, vin};
use serde_json::json;

#[tokio::test]
async fn plates_are_stored_normalised_on_create_and_on_patch() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("plates").await;

    let vehicle = app
        .vehicle(
            &tenant,
            json!({ "vin": vin("LSVAX4100N2000401"), "plate": " 沪 a-12345 " }),
        )
        .await;
    assert_eq!(vehicle["plate"], "沪A12345");
    let path = format!("/api/v1/vehicles/{}", vehicle["id"].as_str().unwrap());
    assert_eq!(
        app.get(&tenant.key, &path).await.expect(200)["plate"],
        "沪A12345"
    );

    let moved = app
        .patch(&tenant.key, &path, &json!({ "plate": "粤b·d1234.5" }))
        .await
        .expect(200);
    assert_eq!(moved["plate"], "粤BD12345");

    for bad in ["沪", "沪A_12345", "ABCDEFGHJKLMN"] {
        let reply = app
            .patch(&tenant.key, &path, &json!({ "plate": bad }))
            .await;
        assert_eq!(reply.status, 422, "{bad}");
        assert_eq!(invalid_fields(&reply), ["plate"]);
        assert!(
            field_message(&reply, "plate").contains("沪A12345"),
            "gives an example"
        );
    }
    assert_eq!(
        app.get(&tenant.key, &path).await.expect(200)["plate"],
        "粤BD12345",
        "a refused change writes nothing"
    );
    let refused = app
        .post(
            &tenant.key,
            "/api/v1/vehicles",
            &json!({ "vin": vin("LSVAX4100N2000402"), "plate": "京A-1234?" }),
        )
        .await;
    assert_eq!(refused.status, 422);
    assert_eq!(invalid_fields(&refused), ["plate"]);

    let cleared = app
        .patch(&tenant.key, &path, &json!({ "plate": "" }))
        .await
        .expect(200);
    assert_eq!(cleared["plate"], serde_json::Value::Null);
}

#[tokio::test]
async fn vehicles_and_their_owners_are_found_by_plate_in_any_spelling() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("plate-search").await;
    let owner = app
        .customer(&tenant, json!({ "name": "张伟", "phone": "13800138000" }))
        .await;
    let other = app.customer(&tenant, json!({ "name": "李娜" })).await;
    let car = app
        .vehicle(
            &tenant,
            json!({ "vin": vin("LSVAX4100N2000411"), "plate": "沪A12345", "customer_id": owner["id"] }),
        )
        .await;
    app.vehicle(
        &tenant,
        json!({ "vin": vin("LSVAX4100N2000412"), "plate": "沪A54321", "customer_id": other["id"] }),
    )
    .await;

    for spelling in ["沪A12345", "沪 a-12345", "沪a.12345"] {
        let query = format!("/api/v1/vehicles?plate={}", urlencode(spelling));
        let found = app.get(&tenant.key, &query).await.expect(200);
        assert_eq!(ids(&found), [car["id"].as_str().unwrap()], "{spelling}");
        let query = format!("/api/v1/customers?plate={}", urlencode(spelling));
        let owners = app.get(&tenant.key, &query).await.expect(200);
        assert_eq!(ids(&owners), [owner["id"].as_str().unwrap()], "{spelling}");
    }
    let nobody = app
        .get(
            &tenant.key,
            &format!("/api/v1/customers?plate={}", urlencode("苏E00000")),
        )
        .await
        .expect(200);
    assert!(ids(&nobody).is_empty());
    let bad = app.get(&tenant.key, "/api/v1/vehicles?plate=%3F%3F").await;
    assert_eq!(bad.status, 400);
    assert!(bad.error_message().starts_with("plate:"), "{:?}", bad.body);

    let view = app
        .get(
            &tenant.key,
            &format!("/api/v1/customers/{}/360", owner["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(view["vehicles"][0]["plate"], "沪A12345");
}

#[tokio::test]
async fn plate_search_stays_within_the_callers_tenant() {
    let app = TestApp::spawn().await;
    let a = app.tenant("plates-a").await;
    let b = app.tenant("plates-b").await;
    let a_owner = app.customer(&a, json!({ "name": "王芳" })).await;
    let b_owner = app.customer(&b, json!({ "name": "王芳" })).await;
    let a_car = app
        .vehicle(
            &a,
            json!({ "vin": vin("LSVAX4100N2000421"), "plate": "浙A88888", "customer_id": a_owner["id"] }),
        )
        .await;
    app.vehicle(
        &b,
        json!({ "vin": vin("LSVAX4100N2000421"), "plate": "浙A88888", "customer_id": b_owner["id"] }),
    )
    .await;

    let query = format!("/api/v1/vehicles?plate={}", urlencode("浙A88888"));
    let found = app.get(&a.key, &query).await.expect(200);
    assert_eq!(ids(&found), [a_car["id"].as_str().unwrap()]);
    let query = format!("/api/v1/customers?plate={}", urlencode("浙A88888"));
    let owners = app.get(&a.key, &query).await.expect(200);
    assert_eq!(ids(&owners), [a_owner["id"].as_str().unwrap()]);
    let path = format!("/api/v1/vehicles/{}", a_car["id"].as_str().unwrap());
    assert_eq!(
        app.patch(&b.key, &path, &json!({ "plate": "浙B00001" }))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn csv_imports_and_answered_calls_set_normalised_plates() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("plate-import").await;
    let csv = format!(
        "external_id,vin,plate\nV-1,{},沪 a-12345\nV-2,{},沪A_1\nV-3,{},\n",
        vin("LSVAX4100N2000431"),
        vin("LSVAX4100N2000432"),
        vin("LSVAX4100N2000433"),
    );
    let report = app
        .post_raw(&tenant.key, "/api/v1/imports/vehicles", "text/csv", &csv)
        .await
        .expect(200);
    assert_eq!(report["created"], 2);
    assert_eq!(report["failed"], 1);
    assert_eq!(report["errors"][0]["row"], 3);
    assert_eq!(report["errors"][0]["column"], "plate");
    let found = app
        .get(
            &tenant.key,
            &format!("/api/v1/vehicles?plate={}", urlencode("沪A12345")),
        )
        .await
        .expect(200);
    assert_eq!(found["items"][0]["vin"], vin("LSVAX4100N2000431"));

    // Re-importing without the plate column keeps the plate; with it, changes it.
    let keep = format!(
        "external_id,vin,make\nV-1,{},上汽大众\n",
        vin("LSVAX4100N2000431")
    );
    app.post_raw(&tenant.key, "/api/v1/imports/vehicles", "text/csv", &keep)
        .await
        .expect(200);
    let kept = app
        .get(&tenant.key, "/api/v1/vehicles?external_id=V-1")
        .await
        .expect(200);
    assert_eq!(kept["items"][0]["plate"], "沪A12345");

    let intake = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({
                "phone": "13900000001", "vin": vin("LSVAX4100N2000434"), "plate": "苏e 00001",
                "description": "车窗无法升降"
            }),
        )
        .await
        .expect(201);
    assert_eq!(intake["vehicle_created"], true);
    let vehicle_id = intake["ticket"]["vehicle_id"].as_str().unwrap();
    let vehicle = app
        .get(&tenant.key, &format!("/api/v1/vehicles/{vehicle_id}"))
        .await
        .expect(200);
    assert_eq!(vehicle["plate"], "苏E00001");
}

/// Percent-encodes a query value (Chinese characters, spaces).
fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
