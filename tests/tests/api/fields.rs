//! Field providers on new vehicles: the vin-decoder plugin fills in the maker and model
//! year it reads from the VIN, and its audit shows both calls. A provider's issues with a
//! ticket refuse `POST /tickets` with a 422, but an answered call keeps them on its timeline.

use axle_tests::{TICKET_RULES, TestApp, VIN_DECODER, field_message, ids, invalid_fields, vin};
use serde_json::json;

#[tokio::test]
async fn a_new_vehicle_gets_the_fields_its_vin_decodes_to() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("fields").await;
    let installation = app.install(&tenant, &VIN_DECODER, json!({}), &[]).await;

    let vehicle = app
        .vehicle(
            &tenant,
            json!({ "vin": vin("LSVAX4100N2000101"), "fields": { "colour": "珠光白" } }),
        )
        .await;

    assert_eq!(vehicle["fields"]["vin_maker"], "SAIC Volkswagen");
    assert_eq!(vehicle["fields"]["vin_model_year"], 2022);
    assert_eq!(
        vehicle["fields"]["colour"], "珠光白",
        "fields the caller set stay"
    );
    let stored = app
        .get(
            &tenant.key,
            &format!("/api/v1/vehicles/{}", vehicle["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(stored["fields"], vehicle["fields"]);
    let audit = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/installations/{}/invocations",
                installation["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    let hooks: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["hook"].as_str().unwrap())
        .collect();
    assert_eq!(hooks, ["compute", "validate"], "newest first");
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["outcome"] == "ok" && i["subject_id"] == vehicle["id"])
    );
}

#[tokio::test]
async fn without_a_field_provider_vehicles_keep_only_their_own_fields() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("no-fields").await;

    let vehicle = app
        .vehicle(&tenant, json!({ "vin": vin("LSVAX4100N2000102") }))
        .await;

    assert_eq!(vehicle["fields"], json!({}));
}

#[tokio::test]
async fn field_providers_see_every_new_ticket_before_the_routing_rules() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("ticket-fields").await;
    let installation = app.install(&tenant, &VIN_DECODER, json!({}), &[]).await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Brake pads worn", "fields": { "odometer": 42000 } }),
        )
        .await;

    assert_eq!(
        ticket["fields"],
        json!({ "odometer": 42000 }),
        "vin-decoder computes nothing for tickets"
    );
    let audit = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/installations/{}/invocations?subject_id={}",
                installation["id"].as_str().unwrap(),
                ticket["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    let hooks: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["hook"].as_str().unwrap())
        .collect();
    assert_eq!(hooks, ["compute", "validate"]);
}

#[tokio::test]
async fn a_ticket_a_field_provider_rejects_gets_a_422_naming_the_field_and_is_not_stored() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("ticket-rules").await;
    app.install(
        &tenant,
        &TICKET_RULES,
        json!({ "required": ["repair_order"] }),
        &[],
    )
    .await;

    let refused = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "发动机抖动", "fields": { "repair_order": " " } }),
        )
        .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(invalid_fields(&refused), ["repair_order"]);
    let message = field_message(&refused, "repair_order");
    assert!(
        message.contains("ticket-rules"),
        "names the plugin: {message}"
    );
    let stored = app.get(&tenant.key, "/api/v1/tickets").await.expect(200);
    assert!(ids(&stored).is_empty(), "nothing is stored");

    let accepted = app
        .ticket(
            &tenant,
            json!({ "description": "发动机抖动", "fields": { "repair_order": "RO-2026-001" } }),
        )
        .await;
    assert_eq!(accepted["fields"]["repair_order"], "RO-2026-001");
}

#[tokio::test]
async fn the_same_ticket_from_an_answered_call_is_kept_with_the_issue_on_its_timeline() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("ticket-rules-call").await;
    app.install(
        &tenant,
        &TICKET_RULES,
        json!({ "required": ["repair_order"] }),
        &[],
    )
    .await;

    let intake = app
        .post(
            &tenant.key,
            "/api/v1/intake/calls",
            &json!({ "phone": "13800001234", "description": "发动机抖动", "call_id": "call-1" }),
        )
        .await
        .expect(201);
    let ticket_id = intake["ticket"]["id"].as_str().unwrap();
    let timeline = app.timeline(&tenant, ticket_id).await;
    let issues = timeline
        .iter()
        .find(|event| event["kind"] == "fields.issues")
        .unwrap_or_else(|| panic!("no fields.issues in {timeline:?}"));
    assert_eq!(issues["data"]["issues"][0]["field"], "repair_order");
    assert!(
        issues["data"]["issues"][0]["message"]
            .as_str()
            .unwrap()
            .contains("ticket-rules")
    );
    let stored = app.get(&tenant.key, "/api/v1/tickets").await.expect(200);
    assert_eq!(ids(&stored), [ticket_id]);
}
