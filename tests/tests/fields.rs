//! Field providers on new vehicles: the vin-decoder plugin fills in the maker and model
//! year it reads from the VIN, and its audit shows both calls.

use axle_tests::{TestApp, VIN_DECODER, vin};
use serde_json::json;

#[tokio::test]
async fn a_new_vehicle_gets_the_fields_its_vin_decodes_to() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("fields").await;
    let installation = app.install(&tenant, &VIN_DECODER, json!({}), &[]).await;

    let vehicle = app
        .vehicle(
            &tenant,
            json!({ "vin": vin("LSVAX4100N2000101"), "fields": { "plate": "沪A12345" } }),
        )
        .await;

    assert_eq!(vehicle["fields"]["vin_maker"], "SAIC Volkswagen");
    assert_eq!(vehicle["fields"]["vin_model_year"], 2022);
    assert_eq!(
        vehicle["fields"]["plate"], "沪A12345",
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
