//! Routing rules decide priority, queue and team for new tickets inside the sandbox.

use axle_tests::{SAFETY_ESCALATION, TestApp, VIP_ROUTING, vin};
use serde_json::json;

#[tokio::test]
async fn brake_pedal_ticket_is_critical_in_the_safety_queue_with_an_sms_to_the_regional_manager() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "managers": { "East China": "+8613800000001" }, "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "张伟", "phone": "+8613912345601", "region": "East China" }),
        )
        .await;
    let vin = vin("LSVAX4100N2000101");
    app.vehicle(
        &tenant,
        json!({ "vin": vin, "customer_id": customer["id"], "make": "SAIC Volkswagen" }),
    )
    .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Customer reports a soft brake pedal at highway speed", "vin": vin, "channel": "phone" }),
        )
        .await;

    assert_eq!(ticket["priority"], "critical");
    assert_eq!(ticket["queue"], "safety");
    assert_eq!(ticket["customer_id"], customer["id"]);
    assert!(
        ticket["tags"]
            .as_array()
            .unwrap()
            .contains(&json!("safety"))
    );
    let sms = &ticket["notifications"][0];
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["to"], "+8613800000001");
    // Queued with the ticket; the node's delivery worker may already be on it.
    assert!(
        ["pending", "sending", "delivered"].contains(&sms["status"].as_str().unwrap()),
        "{sms}"
    );
    assert_eq!(sms["source"], "safety-escalation@0.1.0");

    let fetched = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{}", ticket["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    assert_eq!(fetched["priority"], "critical");
    assert_eq!(fetched["decisions"][0]["plugin"], "safety-escalation@0.1.0");
    assert_eq!(fetched["decisions"][0]["decision"]["queue"], "safety");
}

#[tokio::test]
async fn chinese_descriptions_trigger_the_safety_rule_too() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-cn").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;

    let ticket = app
        .ticket(&tenant, json!({ "description": "高速行驶时刹车踏板发软" }))
        .await;

    assert_eq!(ticket["priority"], "critical");
    assert_eq!(ticket["notifications"][0]["to"], "+8613800000000");
}

#[tokio::test]
async fn ordinary_tickets_are_left_alone_by_the_safety_rule() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-b").await;
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "想预约 3 万公里保养", "category": "maintenance" }),
        )
        .await;

    assert_eq!(ticket["priority"], "normal");
    assert_eq!(ticket["queue"], json!(null));
    assert_eq!(ticket["notifications"], json!([]));
}

#[tokio::test]
async fn vip_customers_go_to_the_team_named_in_config() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer-vip").await;
    app.install(
        &tenant,
        &VIP_ROUTING,
        json!({ "team": "vip-care" }),
        &["records"],
    )
    .await;
    let vip = app
        .customer(&tenant, json!({ "name": "Emily Chen", "vip": true }))
        .await;
    let regular = app.customer(&tenant, json!({ "name": "Wu Jun" })).await;

    let vip_ticket = app
        .ticket(
            &tenant,
            json!({ "description": "CarPlay disconnects", "customer_id": vip["id"] }),
        )
        .await;
    let regular_ticket = app
        .ticket(
            &tenant,
            json!({ "description": "CarPlay disconnects", "customer_id": regular["id"] }),
        )
        .await;

    assert_eq!(vip_ticket["team"], "vip-care");
    assert_eq!(vip_ticket["priority"], "high");
    assert_eq!(regular_ticket["team"], json!(null));
    assert_eq!(regular_ticket["priority"], "normal");
}
