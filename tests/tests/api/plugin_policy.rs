//! Per-tenant plugin policy: the platform admin's installation quota and per-call
//! budget, the tenant admin's alert address, and the suspension alert it receives.

use axle_tests::{ADMIN_TOKEN, HOSTILE, SAFETY_ESCALATION, TestApp, VIP_ROUTING, agent_key};
use serde_json::{Value, json};

#[tokio::test]
async fn installs_past_the_quota_are_refused_with_the_quota_named() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-quota").await;
    app.put_json(
        ADMIN_TOKEN,
        "/api/v1/tenants/oem-quota/plugin-policy",
        &json!({ "max_installations": 1 }),
    )
    .await
    .expect(200);
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;
    app.upload(&tenant, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
        .await
        .expect(201);

    let refused = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "vip-routing", "config": { "team": "vip" } }),
        )
        .await
        .expect_error(409);
    assert!(
        refused
            .error_message()
            .contains("has 1 installations and its quota is 1"),
        "{refused:?}"
    );
    let policy = app
        .get(&tenant.key, "/api/v1/plugin-policy")
        .await
        .expect(200);
    assert_eq!(policy["max_installations"], 1);
    assert_eq!(policy["installations"], 1);
}

#[tokio::test]
async fn a_plugin_whose_limits_exceed_the_budget_installs_only_with_lower_limits() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-budget").await;
    app.put_json(
        ADMIN_TOKEN,
        "/api/v1/tenants/oem-budget/plugin-policy",
        &json!({ "budget": { "deadline_ms": 20 } }),
    )
    .await
    .expect(200);
    app.upload(
        &tenant,
        &SAFETY_ESCALATION.shipped_manifest(),
        SAFETY_ESCALATION.component(),
    )
    .await
    .expect(201);
    let body = json!({ "plugin": "safety-escalation", "config": { "default_manager": "+8613800000000" }, "capabilities": ["notify"] });

    let refused = app
        .post(&tenant.key, "/api/v1/installations", &body)
        .await
        .expect_error(422);
    assert!(
        refused
            .error_message()
            .contains("deadline_ms = 50 is over the tenant's budget of 20"),
        "{refused:?}"
    );
    let mut lower = body.clone();
    lower["limits"] = json!({ "deadline_ms": 20 });
    let installed = app
        .post(&tenant.key, "/api/v1/installations", &lower)
        .await
        .expect(201);
    app.patch(
        &tenant.key,
        &format!(
            "/api/v1/installations/{}",
            installed["id"].as_str().unwrap()
        ),
        &json!({ "limits": { "deadline_ms": 40 } }),
    )
    .await
    .expect(422);
}

#[tokio::test]
async fn budgets_over_the_platform_maximum_and_bad_addresses_are_refused() {
    let app = TestApp::spawn().await;
    app.tenant("oem-max").await;
    let path = "/api/v1/tenants/oem-max/plugin-policy";
    app.put_json(
        ADMIN_TOKEN,
        path,
        &json!({ "budget": { "memory_mib": 100000 } }),
    )
    .await
    .expect(422);
    app.put_json(
        ADMIN_TOKEN,
        path,
        &json!({ "alert_email": "not-an-address" }),
    )
    .await
    .expect(422);
    app.put_json(ADMIN_TOKEN, path, &json!({ "max_installations": -1 }))
        .await
        .expect(422);
    app.put_json(
        ADMIN_TOKEN,
        "/api/v1/tenants/no-such-tenant/plugin-policy",
        &json!({}),
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn only_the_platform_admin_sets_quotas_and_only_a_tenant_admin_the_alert_address() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-roles").await;
    let other = app.tenant("oem-other").await;
    app.put_json(
        &tenant.key,
        "/api/v1/tenants/oem-roles/plugin-policy",
        &json!({ "max_installations": 100 }),
    )
    .await
    .expect(401);
    app.patch(
        &tenant.key,
        "/api/v1/plugin-policy",
        &json!({ "max_installations": 100 }),
    )
    .await
    .expect(400);
    let (_, agent) = agent_key(&app, &tenant).await;
    app.patch(
        &agent,
        "/api/v1/plugin-policy",
        &json!({ "alert_email": "ops@dealer.cn" }),
    )
    .await
    .expect(403);

    let set = app
        .patch(
            &tenant.key,
            "/api/v1/plugin-policy",
            &json!({ "alert_email": "服务经理@dealer.cn" }),
        )
        .await
        .expect(200);
    assert_eq!(set["alert_email"], "服务经理@dealer.cn");
    let theirs = app
        .get(&other.key, "/api/v1/plugin-policy")
        .await
        .expect(200);
    assert_eq!(theirs["alert_email"], Value::Null, "tenants do not share");
}

#[tokio::test]
async fn a_suspension_emails_the_tenant_alert_address_through_the_outbox() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-alert").await;
    app.patch(
        &tenant.key,
        "/api/v1/plugin-policy",
        &json!({ "alert_email": "ops@dealer.cn" }),
    )
    .await
    .expect(200);
    let installation = app
        .install(&tenant, &HOSTILE, json!({ "mode": "panic" }), &[])
        .await;
    for n in 1..=5 {
        app.ticket(
            &tenant,
            json!({ "description": format!("door rattle {n}") }),
        )
        .await;
    }

    let rows: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT channel, recipient, source, body FROM outbox WHERE tenant_id = $1 AND ticket_id IS NULL",
    )
    .bind(&tenant.id)
    .fetch_all(app.app.core.db.reader())
    .await
    .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
    let (channel, to, source, body) = &rows[0];
    assert_eq!(
        (channel.as_str(), to.as_str(), source.as_str()),
        ("email", "ops@dealer.cn", "system")
    );
    assert!(
        body.contains(installation["id"].as_str().unwrap()) && body.contains("5 failures"),
        "{body}"
    );
}

#[tokio::test]
async fn a_new_tenant_has_a_quota_and_a_per_call_budget_until_the_platform_admin_sets_its_own() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-defaults").await;
    let policy = app
        .get(&tenant.key, "/api/v1/plugin-policy")
        .await
        .expect(200);
    assert_eq!(policy["max_installations"], 50, "{policy}");
    assert_eq!(
        policy["budget"],
        json!({ "deadline_ms": 1000, "memory_mib": 128 }),
        "{policy}"
    );
    app.upload(
        &tenant,
        &SAFETY_ESCALATION.manifest(),
        SAFETY_ESCALATION.component(),
    )
    .await
    .expect(201);
    let body = json!({ "plugin": "safety-escalation", "config": { "default_manager": "+8613800000000" },
                       "capabilities": ["notify"], "limits": { "deadline_ms": 1500 } });
    let refused = app
        .post(&tenant.key, "/api/v1/installations", &body)
        .await
        .expect_error(422);
    assert!(
        refused
            .error_message()
            .contains("deadline_ms = 1500 is over the tenant's budget of 1000"),
        "{refused:?}"
    );

    // The platform admin lifts both, explicitly.
    app.put_json(
        ADMIN_TOKEN,
        "/api/v1/tenants/oem-defaults/plugin-policy",
        &json!({ "max_installations": null, "budget": {} }),
    )
    .await
    .expect(200);
    let policy = app
        .get(&tenant.key, "/api/v1/plugin-policy")
        .await
        .expect(200);
    assert_eq!(policy["max_installations"], Value::Null, "{policy}");
    app.post(&tenant.key, "/api/v1/installations", &body)
        .await
        .expect(201);
}
