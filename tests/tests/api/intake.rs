//! Hotline intake: an answered call becomes a ticket linked to the caller and the car,
//! routed and placed, in one transaction, and never twice for the same call.

use axle_tests::{SAFETY_ESCALATION, TestApp, vin};
use serde_json::{Value, json};

async fn customers_with_phone(app: &TestApp, key: &str, phone: &str) -> Vec<Value> {
    let page = app
        .get(
            key,
            &format!(
                "/api/v1/customers?phone={}",
                phone.replace('+', "%2B").replace(' ', "%20")
            ),
        )
        .await
        .expect(200);
    page["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn a_first_time_caller_with_a_soft_brake_pedal_gets_a_routed_ticket_their_record_and_their_car()
 {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("hotline").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;
    let vin = vin("LSVAX4100N2000777");

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "+86 139 0000 1234", "name": "王小明", "city": "上海", "vin": vin.to_lowercase(),
                     "description": "刹车踏板发软，踩到底才有制动", "call_id": "cc-20261126-0001" }),
        )
        .await
        .expect(201);

    assert_eq!(reply["customer_created"], true);
    assert_eq!(reply["vehicle_created"], true);
    assert_eq!(reply["replayed"], false);
    let ticket = &reply["ticket"];
    assert_eq!(ticket["priority"], "critical");
    assert_eq!(ticket["queue"], "safety");
    assert_eq!(ticket["channel"], "phone");
    assert_eq!(ticket["notifications"][0]["channel"], "sms");
    let callers = customers_with_phone(&app, &tenant.key, "+8613900001234").await;
    assert_eq!(callers.len(), 1);
    assert_eq!(callers[0]["name"], "王小明");
    assert_eq!(ticket["customer_id"], callers[0]["id"]);
    let car = app
        .get(&tenant.key, &format!("/api/v1/vehicles?vin={vin}"))
        .await
        .expect(200);
    assert_eq!(car["items"][0]["customer_id"], callers[0]["id"]);
    assert_eq!(ticket["vehicle_id"], car["items"][0]["id"]);
}

#[tokio::test]
async fn a_known_caller_and_car_are_linked_not_duplicated() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("hotline-known").await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "李娜", "phone": "+86 139 1234 5602" }),
        )
        .await;
    let vin = vin("LGXC76C00P0000103");
    let unowned = app.vehicle(&tenant, json!({ "vin": vin })).await;

    // The switchboard sends the national form; the record has the international one.
    let reply = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "13912345602", "vin": vin, "description": "Charging stops at 80%" }),
        )
        .await
        .expect(201);
    let again = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "+8613912345602", "vin": vin, "description": "Still stops at 80%" }),
        )
        .await
        .expect(201);

    assert_eq!(customer["phone"], "+8613912345602");
    for call in [&reply, &again] {
        assert_eq!(call["customer_created"], false);
        assert_eq!(call["vehicle_created"], false);
        assert_eq!(call["ticket"]["customer_id"], customer["id"]);
        assert_eq!(call["ticket"]["vehicle_id"], unowned["id"]);
    }
    let owner = app
        .get(
            &tenant.key,
            &format!("/api/v1/vehicles/{}", unowned["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(
        owner["customer_id"], customer["id"],
        "the caller claimed the unowned car"
    );
    assert_eq!(
        customers_with_phone(&app, &tenant.key, "139 1234 5602")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_tenants_phone_country_reads_national_numbers_and_others_need_a_country_code() {
    let app = TestApp::spawn().await;
    let german = app.tenant("autohaus-berlin").await;
    let chinese = app.tenant("hotline-default-cn").await;
    app.patch(
        &german.key,
        "/api/v1/settings",
        &json!({ "phone_country": "de" }),
    )
    .await
    .expect(200);

    let settings = app.get(&german.key, "/api/v1/settings").await.expect(200);
    let berliner = app
        .customer(
            &german,
            json!({ "name": "Jonas Weber", "phone": "030 901820" }),
        )
        .await;
    let traveller = app
        .customer(
            &german,
            json!({ "name": "王伟", "phone": "+86 139 1234 5603" }),
        )
        .await;
    let defaults = app.get(&chinese.key, "/api/v1/settings").await.expect(200);
    let refused = app
        .post(
            &chinese.key,
            "/api/v1/customers",
            &json!({ "name": "Jonas Weber", "phone": "030 901820" }),
        )
        .await;
    let nowhere = app
        .patch(
            &german.key,
            "/api/v1/settings",
            &json!({ "phone_country": "Germany" }),
        )
        .await;

    assert_eq!(settings["phone_country"], "DE");
    assert_eq!(berliner["phone"], "+4930901820");
    assert_eq!(traveller["phone"], "+8613912345603");
    assert_eq!(defaults["phone_country"], "CN");
    let refused = refused.expect_error(422);
    let why = axle_tests::field_message(&refused, "phone");
    assert!(why.contains("in CN"), "{why}");
    assert_eq!(
        axle_tests::invalid_fields(&nowhere.expect_error(422)),
        ["phone_country"]
    );
}

#[tokio::test]
async fn numbers_stored_before_e164_are_rewritten_at_startup_and_found_by_intake() {
    use axle_host::store::customers::{self, NewCustomer};
    let app = TestApp::spawn().await;
    let tenant = app.tenant("hotline-legacy").await;
    let legacy = customers::insert(
        &app.app.core.db,
        &tenant.id,
        NewCustomer {
            name: "赵磊".to_owned(),
            phone: Some("13912345604".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let unreadable = customers::insert(
        &app.app.core.db,
        &tenant.id,
        NewCustomer {
            name: "号码不全".to_owned(),
            phone: Some("1391234".to_owned()),
            ..Default::default()
        },
    )
    .await
    .unwrap();

    let changed = axle_host::service::customers::phones_to_e164(&app.app.core.db)
        .await
        .unwrap();
    let call = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "+86 139 1234 5604", "description": "Tyre pressure warning" }),
        )
        .await
        .expect(201);

    assert_eq!(changed, 1);
    assert_eq!(call["customer_created"], false);
    assert_eq!(call["ticket"]["customer_id"], legacy.id.as_str());
    let kept = app
        .get(&tenant.key, &format!("/api/v1/customers/{}", unreadable.id))
        .await
        .expect(200);
    assert_eq!(
        kept["phone"], "1391234",
        "an unreadable number is left as it was"
    );
}

#[tokio::test]
async fn a_retried_call_returns_the_ticket_it_already_made() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("hotline-retry").await;
    let call =
        json!({ "phone": "+8613700000001", "description": "Airbag light on", "call_id": "cc-42" });

    let first = app
        .post(&tenant.key, "/api/v1/intake/calls", &call)
        .await
        .expect(201);
    let (second, third) = tokio::join!(
        app.post(&tenant.key, "/api/v1/intake/calls", &call),
        app.post(&tenant.key, "/api/v1/intake/calls", &call)
    );

    for retry in [second.expect(200), third.expect(200)] {
        assert_eq!(retry["replayed"], true);
        assert_eq!(retry["ticket"]["id"], first["ticket"]["id"]);
    }
    let all = app.get(&tenant.key, "/api/v1/tickets").await.expect(200);
    assert_eq!(all["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        customers_with_phone(&app, &tenant.key, "+8613700000001")
            .await
            .len(),
        1
    );
}

#[tokio::test]
async fn a_bad_phone_or_vin_is_rejected_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("hotline-bad").await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "call me maybe", "vin": "LSVAX4100N200077", "description": "x" }),
        )
        .await;

    assert_eq!(reply.status, 422, "{:?}", reply.body);
    let fields: Vec<&str> = reply.body["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["phone", "vin"]);
    assert_eq!(
        app.get(&tenant.key, "/api/v1/customers").await.expect(200)["items"],
        json!([])
    );
    let no_description = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "+8613700000002" }),
        )
        .await;
    assert_eq!(no_description.status, 422);
    assert_eq!(
        app.get(&tenant.key, "/api/v1/customers").await.expect(200)["items"],
        json!([]),
        "nothing half-written"
    );
}
