//! Plugin versions on a live node: upgrade, rollback, approval of added capabilities,
//! and reloads under traffic that never fail a request.

use axle_tests::{SAFETY_ESCALATION, Tenant, TestApp};
use serde_json::{Value, json};

/// safety-escalation's manifest as version `version`, asking for `capabilities`.
fn manifest(version: &str, capabilities: &str) -> String {
    SAFETY_ESCALATION.manifest_as(version, capabilities)
}

fn config() -> Value {
    json!({ "default_manager": "+8613800000000" })
}

/// Installs safety-escalation 0.1.0 and uploads `extra` versions of it.
async fn installed(app: &TestApp, tenant: &Tenant, extra: &[(&str, &str)]) -> String {
    let installation = app
        .install(tenant, &SAFETY_ESCALATION, config(), &["notify"])
        .await;
    for (version, capabilities) in extra {
        let reply = app
            .upload(
                tenant,
                &manifest(version, capabilities),
                SAFETY_ESCALATION.component(),
            )
            .await;
        assert!(reply.status == 201 || reply.status == 200, "{reply:?}");
    }
    installation["id"].as_str().unwrap().to_owned()
}

/// The plugin@version that routed a new brake ticket.
async fn deciding_version(app: &TestApp, tenant: &Tenant) -> String {
    let ticket = app
        .ticket(
            tenant,
            json!({ "description": "刹车踏板发软 soft brake pedal", "channel": "phone" }),
        )
        .await;
    let decisions = ticket_decisions(app, tenant, ticket["id"].as_str().unwrap()).await;
    assert_eq!(decisions.len(), 1, "{decisions:?}");
    decisions[0].clone()
}

async fn ticket_decisions(app: &TestApp, tenant: &Tenant, id: &str) -> Vec<String> {
    let fetched = app
        .get(&tenant.key, &format!("/api/v1/tickets/{id}"))
        .await
        .expect(200);
    fetched["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["plugin"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn an_upgrade_is_live_for_the_next_ticket_and_a_rollback_restores_the_old_version() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant, &[("0.2.0", "[\"notify\"]")]).await;
    assert_eq!(
        deciding_version(&app, &tenant).await,
        "safety-escalation@0.1.0"
    );

    let upgraded = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/upgrade"),
            &json!({ "version": "0.2.0" }),
        )
        .await
        .expect(200);
    assert_eq!(upgraded["version"], "0.2.0");
    assert_eq!(
        upgraded["capabilities"],
        json!(["notify"]),
        "grants carry over"
    );
    assert_eq!(
        deciding_version(&app, &tenant).await,
        "safety-escalation@0.2.0"
    );

    let rolled_back = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/rollback"),
            &json!({}),
        )
        .await
        .expect(200);
    assert_eq!(rolled_back["version"], "0.1.0");
    assert_eq!(
        deciding_version(&app, &tenant).await,
        "safety-escalation@0.1.0"
    );

    let history = app
        .get(&tenant.key, &format!("/api/v1/installations/{id}/history"))
        .await
        .expect(200);
    let steps: Vec<(String, String)> = history["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            (
                h["action"].as_str().unwrap().to_owned(),
                h["to_version"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            ("rollback".to_owned(), "0.1.0".to_owned()),
            ("upgrade".to_owned(), "0.2.0".to_owned()),
            ("install".to_owned(), "0.1.0".to_owned()),
        ]
    );
}

#[tokio::test]
async fn an_upgrade_that_asks_for_more_capabilities_waits_for_approval_of_the_difference() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(
        &app,
        &tenant,
        &[("0.3.0", "[\"notify\", \"kv\", \"records\"]")],
    )
    .await;

    let parked = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/upgrade"),
            &json!({ "version": "0.3.0" }),
        )
        .await
        .expect(202);
    assert_eq!(parked["version"], "0.1.0", "the running version stays");
    assert_eq!(parked["pending_upgrade"]["version"], "0.3.0");
    assert_eq!(
        parked["pending_upgrade"]["added_capabilities"],
        json!(["kv", "records"])
    );
    assert_eq!(
        deciding_version(&app, &tenant).await,
        "safety-escalation@0.1.0",
        "nothing changes before approval"
    );

    let stray = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/upgrade/approve"),
            &json!({ "capabilities": ["notify", "kv"] }),
        )
        .await
        .expect_error(400);
    assert!(stray.error_message().contains("`notify`"), "{stray:?}");

    let approved = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/upgrade/approve"),
            &json!({ "capabilities": ["kv"] }),
        )
        .await
        .expect(200);
    assert_eq!(approved["version"], "0.3.0");
    assert_eq!(approved["capabilities"], json!(["kv", "notify"]));
    assert_eq!(approved["pending_upgrade"], Value::Null);
    assert_eq!(
        deciding_version(&app, &tenant).await,
        "safety-escalation@0.3.0"
    );

    app.post(
        &tenant.key,
        &format!("/api/v1/installations/{id}/upgrade/approve"),
        &json!({}),
    )
    .await
    .expect(409);
}

#[tokio::test]
async fn a_parked_upgrade_can_be_cancelled() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant, &[("0.3.0", "[\"notify\", \"kv\"]")]).await;
    app.post(
        &tenant.key,
        &format!("/api/v1/installations/{id}/upgrade"),
        &json!({ "version": "0.3.0" }),
    )
    .await
    .expect(202);

    let cancelled = app
        .delete(&tenant.key, &format!("/api/v1/installations/{id}/upgrade"))
        .await
        .expect(200);
    assert_eq!(cancelled["pending_upgrade"], Value::Null);
    assert_eq!(cancelled["version"], "0.1.0");
    app.delete(&tenant.key, &format!("/api/v1/installations/{id}/upgrade"))
        .await
        .expect(409);
}

#[tokio::test]
async fn upgrades_to_unknown_or_current_versions_and_empty_rollbacks_are_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant, &[]).await;
    let path = format!("/api/v1/installations/{id}/upgrade");

    let unknown = app
        .post(&tenant.key, &path, &json!({ "version": "9.9.9" }))
        .await
        .expect_error(400);
    assert!(
        unknown
            .error_message()
            .contains("safety-escalation@9.9.9 is not uploaded"),
        "{unknown:?}"
    );
    app.post(&tenant.key, &path, &json!({ "version": "0.1.0" }))
        .await
        .expect(409);
    app.post(&tenant.key, &path, &json!({})).await.expect(400);
    let nothing = app
        .post(
            &tenant.key,
            &format!("/api/v1/installations/{id}/rollback"),
            &json!({}),
        )
        .await
        .expect_error(409);
    assert!(
        nothing.error_message().contains("nothing to roll back to"),
        "{nothing:?}"
    );
}

#[tokio::test]
async fn an_upgrade_whose_config_no_longer_fits_is_refused_until_a_config_is_given() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant, &[]).await;
    let stricter = manifest("0.2.0", "[\"notify\"]").replace(
        "required = [\"default_manager\"]",
        "required = [\"default_manager\", \"managers\"]",
    );
    app.upload(&tenant, &stricter, SAFETY_ESCALATION.component())
        .await
        .expect(201);
    let path = format!("/api/v1/installations/{id}/upgrade");

    let refused = app
        .post(&tenant.key, &path, &json!({ "version": "0.2.0" }))
        .await
        .expect_error(422);
    assert!(refused.error_message().contains("config"), "{refused:?}");
    let upgraded = app
        .post(
            &tenant.key,
            &path,
            &json!({ "version": "0.2.0", "config": { "default_manager": "+8613800000000", "managers": {} } }),
        )
        .await
        .expect(200);
    assert_eq!(upgraded["config"]["managers"], json!({}));
}

#[tokio::test]
async fn another_tenant_cannot_move_or_read_the_history_of_an_installation() {
    let app = TestApp::spawn().await;
    let a = app.tenant("oem-a").await;
    let b = app.tenant("oem-b").await;
    let id = installed(&app, &a, &[("0.2.0", "[\"notify\"]")]).await;

    app.post(
        &b.key,
        &format!("/api/v1/installations/{id}/upgrade"),
        &json!({ "version": "0.2.0" }),
    )
    .await
    .expect(404);
    app.post(
        &b.key,
        &format!("/api/v1/installations/{id}/rollback"),
        &json!({}),
    )
    .await
    .expect(404);
    app.get(&b.key, &format!("/api/v1/installations/{id}/history"))
        .await
        .expect(404);
}

#[tokio::test]
async fn tickets_created_while_versions_flip_all_succeed_and_each_names_one_version() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-a").await;
    let id = installed(&app, &tenant, &[("0.2.0", "[\"notify\"]")]).await;

    let traffic = async {
        let mut created = Vec::new();
        for round in 0..40 {
            let ticket = app
                .post(
                    &tenant.key,
                    "/api/v1/tickets",
                    &json!({ "description": format!("soft brake pedal, call {round}"), "channel": "phone" }),
                )
                .await
                .expect(201);
            created.push(ticket["id"].as_str().unwrap().to_owned());
        }
        created
    };
    let flips = async {
        for round in 0..10 {
            let (action, body) = if round % 2 == 0 {
                ("upgrade", json!({ "version": "0.2.0" }))
            } else {
                ("rollback", json!({}))
            };
            app.post(
                &tenant.key,
                &format!("/api/v1/installations/{id}/{action}"),
                &body,
            )
            .await
            .expect(200);
        }
    };
    let (created, ()) = tokio::join!(traffic, flips);

    let mut seen = std::collections::BTreeSet::new();
    for ticket in &created {
        let decisions = ticket_decisions(&app, &tenant, ticket).await;
        assert_eq!(decisions.len(), 1, "ticket {ticket}: {decisions:?}");
        seen.insert(decisions[0].clone());
    }
    assert!(
        seen.iter()
            .all(|label| label == "safety-escalation@0.1.0" || label == "safety-escalation@0.2.0"),
        "{seen:?}"
    );
}
