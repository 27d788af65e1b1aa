//! When the database goes away, callers get a clear 503 and nothing half-written.

use axle_tests::TestApp;
use serde_json::json;

#[tokio::test]
async fn requests_get_a_503_naming_the_database_when_it_goes_away() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("outage").await;
    app.customer(&tenant, json!({ "name": "陈静" })).await;

    app.app.core.db.close().await;

    let reply = app.get(&tenant.key, "/api/v1/customers").await;
    assert_eq!(reply.status, 503, "{:?}", reply.body);
    assert_eq!(reply.error_code(), "database_unavailable");
    assert!(
        reply.error_message().contains("database"),
        "{}",
        reply.error_message()
    );
    let health = app.get("", "/healthz").await;
    assert_eq!(health.status, 503);
}

#[tokio::test]
async fn a_stopped_server_finishes_cleanly() {
    let mut app = TestApp::spawn().await;
    let tenant = app.tenant("shutdown").await;
    app.ticket(&tenant, json!({ "description": "Wiper motor noise" }))
        .await;

    app.stop().await;

    assert!(
        app.client
            .get(format!("{}/healthz", app.url))
            .send()
            .await
            .is_err()
    );
}
