//! Uploading, installing and managing plugins: only valid components that match their
//! manifest are stored, versions are immutable, installations are configured, granted,
//! disabled and removed by tenant admins, and every call is audited.

use axle_host::domain::ids::sha256_hex;
use axle_host::runtime::limits::PlatformLimits;
use axle_tests::{
    FAQ_AUTOREPLY, HOSTILE, Reply, SAFETY_ESCALATION, Tenant, TestApp, VIN_DECODER, VIP_ROUTING,
    tags,
};
use serde_json::{Value, json};

async fn plugin_list(app: &TestApp, tenant: &Tenant) -> Vec<Value> {
    app.get(&tenant.key, "/api/v1/plugins").await.expect(200)["items"]
        .as_array()
        .expect("items")
        .clone()
}

async fn invocations(app: &TestApp, tenant: &Tenant, installation: &str) -> Vec<Value> {
    let body = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{installation}/invocations"),
        )
        .await
        .expect(200);
    body["items"].as_array().expect("items").clone()
}

async fn install_request(app: &TestApp, tenant: &Tenant, body: Value) -> Reply {
    app.post(&tenant.key, "/api/v1/installations", &body).await
}

/// `bytes` with a custom section appended: the same component, different content.
fn with_custom_section(mut bytes: Vec<u8>) -> Vec<u8> {
    let name = b"axle-test";
    let payload = b"rebuilt";
    bytes.push(0);
    bytes.push(u8::try_from(1 + name.len() + payload.len()).unwrap());
    bytes.push(u8::try_from(name.len()).unwrap());
    bytes.extend_from_slice(name);
    bytes.extend_from_slice(payload);
    bytes
}

#[tokio::test]
async fn component_declared_for_the_wrong_world_is_rejected_as_invalid_component() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-world").await;
    let manifest = VIP_ROUTING
        .manifest()
        .replace(r#"world = "routing-rule""#, r#"world = "workflow-step""#);
    assert!(manifest.contains("workflow-step"));

    let reply = app
        .upload(&tenant, &manifest, VIP_ROUTING.component())
        .await;

    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code(), "invalid_component");
    assert!(
        reply
            .error_message()
            .contains("does not implement the workflow-step world"),
        "{}",
        reply.error_message()
    );
    assert_eq!(plugin_list(&app, &tenant).await, Vec::<Value>::new());
}

#[tokio::test]
async fn component_importing_a_capability_its_manifest_does_not_request_is_rejected_naming_it() {
    let app = TestApp::spawn_compiling(PlatformLimits::default()).await;
    let tenant = app.tenant("oem-caps").await;
    let manifest: String = HOSTILE
        .manifest()
        .lines()
        .filter(|line| !line.starts_with("capabilities"))
        .map(|line| format!("{line}\n"))
        .collect();

    let reply = app.upload(&tenant, &manifest, HOSTILE.component()).await;

    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code(), "invalid_component");
    assert!(
        reply
            .error_message()
            .contains("imports the `kv` capability"),
        "{}",
        reply.error_message()
    );
    assert!(
        reply.error_message().contains("add it to `capabilities`"),
        "{}",
        reply.error_message()
    );
    assert_eq!(plugin_list(&app, &tenant).await, Vec::<Value>::new());
    // Nothing was kept of it: not the compiled file, not the component in memory.
    let sha256 = axle_host::domain::ids::sha256_hex(&HOSTILE.component());
    let runtime = &app.app.core.runtime;
    let compiled = runtime.compiled_cache().expect("a compiled cache");
    assert!(!compiled.entry_path(&sha256).exists());
    assert!(runtime.cached(&sha256).is_none());
}

#[tokio::test]
async fn a_component_slower_to_compile_than_the_timeout_is_refused_and_nothing_is_stored() {
    let app = TestApp::spawn_compiling(PlatformLimits {
        compile_timeout: std::time::Duration::from_millis(1),
        ..PlatformLimits::default()
    })
    .await;
    let tenant = app.tenant("oem-slow-compile").await;

    let reply = app
        .upload(&tenant, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
        .await;

    assert_eq!(reply.status, 400, "{reply:?}");
    assert_eq!(reply.error_code(), "invalid_component");
    assert!(
        reply.error_message().contains("took longer than 1ms")
            && reply.error_message().contains("nothing was stored"),
        "{}",
        reply.error_message()
    );
    assert_eq!(plugin_list(&app, &tenant).await, Vec::<Value>::new());
    let sha256 = axle_host::domain::ids::sha256_hex(&VIP_ROUTING.component());
    let runtime = &app.app.core.runtime;
    assert!(runtime.cached(&sha256).is_none());
    // The compile went on in the background and ended; nothing was kept of it either.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let compiled = runtime.compiled_cache().expect("a compiled cache");
    assert!(!compiled.entry_path(&sha256).exists());
}

#[tokio::test]
async fn bad_manifests_are_rejected_with_what_is_wrong() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-manifest").await;
    let manifest = VIP_ROUTING.shipped_manifest();
    let cases = [
        (
            "an unknown key",
            format!("colour = \"red\"\n{manifest}"),
            "colour",
        ),
        (
            "a bad name",
            manifest.replace(r#"name = "vip-routing""#, r#"name = "VIP_Routing""#),
            "VIP_Routing",
        ),
        (
            "a bad version",
            manifest.replace(r#"version = "0.1.0""#, r#"version = "1.0""#),
            "version",
        ),
        (
            "an unknown world",
            manifest.replace("routing-rule", "mind-reader"),
            "mind-reader",
        ),
        (
            "limits over the maximum",
            manifest.replace("deadline_ms = 50", "deadline_ms = 99999"),
            "deadline_ms",
        ),
    ];

    for (what, text, named) in cases {
        assert_ne!(text, manifest, "{what}: the manifest was changed");
        let reply = app.upload(&tenant, &text, VIP_ROUTING.component()).await;
        assert_eq!(reply.status, 400, "{what}: {reply:?}");
        assert!(
            reply.error_message().contains(named),
            "{what}: {}",
            reply.error_message()
        );
    }
    assert_eq!(plugin_list(&app, &tenant).await, Vec::<Value>::new());
}

#[tokio::test]
async fn a_version_is_immutable_once_uploaded() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-immutable").await;
    let first = app
        .upload(&tenant, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
        .await
        .expect(201);

    let again = app
        .upload(&tenant, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
        .await
        .expect(200);
    assert_eq!(
        again["id"], first["id"],
        "the same bytes are the same version"
    );
    let changed = app
        .upload(
            &tenant,
            &VIP_ROUTING.manifest(),
            with_custom_section(VIP_ROUTING.component()),
        )
        .await;

    assert_eq!(changed.status, 409, "{changed:?}");
    assert_eq!(changed.error_code(), "conflict");
    assert!(
        changed.error_message().contains("bump the version"),
        "{}",
        changed.error_message()
    );
    let listed = plugin_list(&app, &tenant).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["sha256"], sha256_hex(&VIP_ROUTING.component()));
}

#[tokio::test]
async fn uploaded_versions_are_listed_with_their_contract_version_and_sha256() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-list").await;
    let bumped = VIP_ROUTING
        .manifest()
        .replace(r#"version = "0.1.0""#, r#"version = "0.2.0""#);
    let rebuilt = with_custom_section(VIP_ROUTING.component());
    app.upload(&tenant, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
        .await
        .expect(201);
    app.upload(&tenant, &bumped, rebuilt.clone())
        .await
        .expect(201);
    app.upload(&tenant, &VIN_DECODER.manifest(), VIN_DECODER.component())
        .await
        .expect(201);

    let listed = plugin_list(&app, &tenant).await;

    assert_eq!(listed.len(), 3);
    assert!(
        listed
            .iter()
            .all(|version| version["wit_version"] == "0.2.0"),
        "{listed:?}"
    );
    let find = |name: &str, version: &str| {
        listed
            .iter()
            .find(|v| v["name"] == name && v["version"] == version)
            .unwrap_or_else(|| panic!("{name}@{version}"))
    };
    let vip = find("vip-routing", "0.1.0");
    assert_eq!(vip["sha256"], sha256_hex(&VIP_ROUTING.component()));
    assert_eq!(vip["world"], "routing-rule");
    assert_eq!(vip["capabilities"], json!(["records"]));
    assert_eq!(vip["size_bytes"], VIP_ROUTING.component().len());
    assert_eq!(find("vip-routing", "0.2.0")["sha256"], sha256_hex(&rebuilt));
    assert_eq!(find("vin-decoder", "0.1.0")["world"], "field-provider");
    let by_name = app
        .get(&tenant.key, "/api/v1/plugins?name=vip-routing")
        .await
        .expect(200);
    assert_eq!(by_name["items"].as_array().unwrap().len(), 2);
    let other = app.tenant("dealer-other").await;
    assert_eq!(
        plugin_list(&app, &other).await,
        Vec::<Value>::new(),
        "versions belong to their tenant"
    );
}

#[tokio::test]
async fn install_with_config_that_violates_the_schema_is_unprocessable() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-config").await;
    app.upload(&tenant, &HOSTILE.manifest(), HOSTILE.component())
        .await
        .expect(201);

    let reply = install_request(
        &app,
        &tenant,
        json!({ "plugin": "hostile", "config": { "mode": "explode" } }),
    )
    .await;

    assert_eq!(reply.status, 422, "{reply:?}");
    assert_eq!(reply.error_code(), "validation_failed");
    assert_eq!(reply.body["error"]["details"][0]["field"], "config");
    assert!(
        reply.error_message().contains("explode"),
        "{}",
        reply.error_message()
    );
    let missing = install_request(&app, &tenant, json!({ "plugin": "hostile" })).await;
    assert_eq!(missing.status, 422, "{missing:?}");
    assert!(
        missing.error_message().contains("mode"),
        "{}",
        missing.error_message()
    );
    let listed = app
        .get(&tenant.key, "/api/v1/installations")
        .await
        .expect(200);
    assert_eq!(listed["items"], json!([]));
}

#[tokio::test]
async fn granting_a_capability_the_manifest_does_not_request_is_rejected() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-grants").await;
    app.upload(
        &tenant,
        &SAFETY_ESCALATION.manifest(),
        SAFETY_ESCALATION.component(),
    )
    .await
    .expect(201);
    let body = |grants: Value| json!({ "plugin": "safety-escalation", "config": { "default_manager": "+8613800000000" }, "capabilities": grants });

    let reply = install_request(&app, &tenant, body(json!(["notify", "kv"]))).await;

    assert_eq!(reply.status, 400, "{reply:?}");
    assert!(
        reply.error_message().contains("cannot grant `kv`"),
        "{}",
        reply.error_message()
    );
    assert!(
        reply.error_message().contains("it requests: notify"),
        "{}",
        reply.error_message()
    );
    let unknown = install_request(&app, &tenant, body(json!(["filesystem"]))).await;
    assert_eq!(unknown.status, 400, "{unknown:?}");
    let installed = install_request(&app, &tenant, body(json!(["notify"])))
        .await
        .expect(201);
    let path = format!(
        "/api/v1/installations/{}",
        installed["id"].as_str().unwrap()
    );
    let patched = app
        .patch(&tenant.key, &path, &json!({ "capabilities": ["records"] }))
        .await;
    assert_eq!(patched.status, 400, "{patched:?}");
    assert_eq!(
        app.get(&tenant.key, &path).await.expect(200)["capabilities"],
        json!(["notify"])
    );
}

#[tokio::test]
async fn config_changes_take_effect_and_a_disabled_plugin_no_longer_routes() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer-patch").await;
    let installation = app
        .install(
            &tenant,
            &VIP_ROUTING,
            json!({ "team": "vip-care" }),
            &["records"],
        )
        .await;
    let path = format!(
        "/api/v1/installations/{}",
        installation["id"].as_str().unwrap()
    );
    let vip = app
        .customer(&tenant, json!({ "name": "Emily Chen", "vip": true }))
        .await;
    let ticket = json!({ "description": "Paint chip on the bonnet", "customer_id": vip["id"] });
    assert_eq!(
        app.ticket(&tenant, ticket.clone()).await["team"],
        "vip-care"
    );

    let bad = app
        .patch(&tenant.key, &path, &json!({ "config": { "team": 7 } }))
        .await;
    assert_eq!(bad.status, 422, "{bad:?}");
    let patched = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "config": { "team": "platinum" } }),
        )
        .await
        .expect(200);
    assert_eq!(patched["config"], json!({ "team": "platinum" }));
    assert_eq!(
        app.ticket(&tenant, ticket.clone()).await["team"],
        "platinum"
    );

    let disabled = app
        .patch(&tenant.key, &path, &json!({ "enabled": false }))
        .await
        .expect(200);
    assert_eq!(disabled["status"], "disabled");
    let unrouted = app.ticket(&tenant, ticket.clone()).await;
    assert_eq!(unrouted["team"], Value::Null);
    assert_eq!(unrouted["priority"], "normal");
    assert_eq!(unrouted["decisions"], json!([]));
    assert_eq!(
        invocations(&app, &tenant, installation["id"].as_str().unwrap())
            .await
            .len(),
        2
    );

    app.patch(&tenant.key, &path, &json!({ "enabled": true }))
        .await
        .expect(200);
    assert_eq!(app.ticket(&tenant, ticket).await["team"], "platinum");
}

#[tokio::test]
async fn uninstalled_plugins_are_gone_and_no_longer_route() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-uninstall").await;
    let installation = app
        .install(
            &tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    let path = format!(
        "/api/v1/installations/{}",
        installation["id"].as_str().unwrap()
    );
    let brakes = json!({ "description": "Brake pedal goes to the floor" });
    assert_eq!(
        app.ticket(&tenant, brakes.clone()).await["priority"],
        "critical"
    );

    let deleted = app.delete(&tenant.key, &path).await;

    assert_eq!(deleted.status, 204, "{deleted:?}");
    assert_eq!(app.get(&tenant.key, &path).await.status, 404);
    assert_eq!(app.delete(&tenant.key, &path).await.status, 404);
    let ticket = app.ticket(&tenant, brakes).await;
    assert_eq!(ticket["priority"], "normal");
    assert_eq!(ticket["queue"], Value::Null);
    assert_eq!(ticket["notifications"], json!([]));
    let listed = app
        .get(&tenant.key, "/api/v1/installations")
        .await
        .expect(200);
    assert_eq!(listed["items"], json!([]));
    assert_eq!(
        plugin_list(&app, &tenant).await.len(),
        1,
        "the uploaded version stays for reinstalling"
    );
    app.install(
        &tenant,
        &SAFETY_ESCALATION,
        json!({ "default_manager": "+8613800000000" }),
        &["notify"],
    )
    .await;
}

#[tokio::test]
async fn every_invocation_writes_an_audit_row() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-audit").await;
    let installation = app
        .install(
            &tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    let id = installation["id"].as_str().unwrap();

    let first = app
        .ticket(&tenant, json!({ "description": "Airbag light is on" }))
        .await;
    let second = app
        .ticket(&tenant, json!({ "description": "Radio presets lost" }))
        .await;
    let updated = app
        .patch(
            &tenant.key,
            &format!("/api/v1/tickets/{}", second["id"].as_str().unwrap()),
            &json!({ "description": "Radio presets lost after the steering wheel airbag recall" }),
        )
        .await
        .expect(200);

    assert_eq!(
        updated["priority"], "critical",
        "routing runs again when the description changes"
    );
    let audited = invocations(&app, &tenant, id).await;
    assert_eq!(audited.len(), 3);
    for row in &audited {
        assert_eq!(row["installation_id"], id);
        assert_eq!(row["plugin"], "safety-escalation@0.1.0");
        assert_eq!(row["hook"], "route");
        assert_eq!(row["outcome"], "ok");
        assert_eq!(row["detail"], Value::Null);
        assert!(row["duration_us"].as_i64().unwrap() > 0, "{row}");
        let digest = row["input_digest"].as_str().unwrap();
        assert!(
            digest.len() == 64 && digest.chars().all(|c| c.is_ascii_hexdigit()),
            "{row}"
        );
    }
    let digests: std::collections::BTreeSet<&str> = audited
        .iter()
        .map(|row| row["input_digest"].as_str().unwrap())
        .collect();
    assert_eq!(digests.len(), 3, "each input has its own digest");
    let for_first = app
        .get(
            &tenant.key,
            &format!(
                "/api/v1/installations/{id}/invocations?subject_id={}",
                first["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    assert_eq!(for_first["items"].as_array().unwrap().len(), 1);
    let paged = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{id}/invocations?limit=2"),
        )
        .await
        .expect(200);
    assert_eq!(paged["items"].as_array().unwrap().len(), 2);
    assert!(paged["next_cursor"].is_string(), "{paged}");
}

fn faq_config() -> Value {
    json!({ "entries": [{
        "keywords": ["充电", "charging"],
        "answer": "Please check that the charging cable is locked in, then restart charging from the app.",
        "link": "https://kb.example.com/ev/charging",
    }] })
}

#[tokio::test]
async fn faq_question_gets_a_tagged_reply_with_the_kb_link_emailed_to_the_customer() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-faq").await;
    let installation = app
        .install(&tenant, &FAQ_AUTOREPLY, faq_config(), &["records"])
        .await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "李娜", "phone": "+8613912345602", "email": "li.na@example.com" }),
        )
        .await;

    let ticket = app
        .ticket(&tenant, json!({ "subject": "家用充电桩无法充电", "description": "充电桩一直报错", "customer_id": customer["id"] }))
        .await;

    assert_eq!(tags(&ticket), ["faq-answered"]);
    let ticket_id = ticket["id"].as_str().unwrap();
    let fetched = app
        .get(&tenant.key, &format!("/api/v1/tickets/{ticket_id}"))
        .await
        .expect(200);
    assert_eq!(tags(&fetched), ["faq-answered"]);
    let timeline = app
        .get(
            &tenant.key,
            &format!("/api/v1/tickets/{ticket_id}/timeline"),
        )
        .await
        .expect(200);
    let reply = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|event| event["kind"] == "reply")
        .unwrap_or_else(|| panic!("a reply on the timeline: {timeline}"));
    assert_eq!(reply["actor"], "faq-autoreply@0.1.0");
    assert_eq!(reply["data"]["link"], "https://kb.example.com/ev/charging");
    let notifications = fetched["notifications"].as_array().unwrap();
    assert_eq!(notifications.len(), 1, "{notifications:?}");
    let email = &notifications[0];
    assert_eq!(email["channel"], "email");
    assert_eq!(email["to"], "li.na@example.com");
    assert!(
        ["pending", "sending", "delivered"].contains(&email["status"].as_str().unwrap()),
        "{email}"
    );
    assert_eq!(email["source"], "faq-autoreply@0.1.0");
    assert!(
        email["body"]
            .as_str()
            .unwrap()
            .contains("https://kb.example.com/ev/charging"),
        "{email}"
    );
    let audited = invocations(&app, &tenant, installation["id"].as_str().unwrap()).await;
    assert_eq!(audited[0]["hook"], "on-event");
    assert_eq!(audited[0]["outcome"], "ok");
    assert_eq!(audited[0]["subject_id"], ticket_id);

    let updated = app
        .patch(
            &tenant.key,
            &format!("/api/v1/tickets/{ticket_id}"),
            &json!({ "description": "充电桩还是报错" }),
        )
        .await
        .expect(200);
    assert_eq!(
        updated["notifications"].as_array().unwrap().len(),
        1,
        "an update does not reply again"
    );
}

#[tokio::test]
async fn faq_reply_goes_by_sms_to_a_customer_without_email_and_unmatched_tickets_get_none() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dealer-faq").await;
    app.install(&tenant, &FAQ_AUTOREPLY, faq_config(), &["records"])
        .await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "Wu Jun", "phone": "+8613912345603" }),
        )
        .await;

    let answered = app
        .ticket(
            &tenant,
            json!({ "description": "Slow charging at home", "customer_id": customer["id"] }),
        )
        .await;
    let unmatched = app
        .ticket(
            &tenant,
            json!({ "description": "车门异响", "customer_id": customer["id"] }),
        )
        .await;

    assert_eq!(answered["notifications"][0]["channel"], "sms");
    assert_eq!(answered["notifications"][0]["to"], "+8613912345603");
    assert_eq!(tags(&unmatched), Vec::<&str>::new());
    assert_eq!(unmatched["notifications"], json!([]));
}

#[tokio::test]
async fn kv_works_for_an_installation_granted_it() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-kv").await;
    let installation = app
        .install(&tenant, &HOSTILE, json!({ "mode": "ungranted" }), &["kv"])
        .await;
    let id = installation["id"].as_str().unwrap();

    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "Remote start does nothing" }),
        )
        .await;

    assert_eq!(tags(&ticket), ["kv-allowed"]);
    let stored = axle_host::store::kv::get(&app.app.core.db, &tenant.id, id, "probe")
        .await
        .expect("read kv");
    assert_eq!(stored.as_deref(), Some(&b"x"[..]));
    let other = app.tenant("oem-kv-other").await;
    let foreign = axle_host::store::kv::get(&app.app.core.db, &other.id, id, "probe")
        .await
        .expect("read kv");
    assert_eq!(foreign, None, "the namespace belongs to the tenant");

    app.delete(&tenant.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(204);
    let after = axle_host::store::kv::get(&app.app.core.db, &tenant.id, id, "probe")
        .await
        .expect("read kv");
    assert_eq!(after, None, "uninstalling removes the namespace");
}

#[tokio::test]
async fn the_audit_of_an_uninstalled_plugin_stays_readable_tenant_wide() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("audit-keep").await;
    let installation = app
        .install(
            &tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    let installation_id = installation["id"].as_str().unwrap();
    app.ticket(
        &tenant,
        json!({ "description": "Steering wheel shakes at speed" }),
    )
    .await;

    app.delete(
        &tenant.key,
        &format!("/api/v1/installations/{installation_id}"),
    )
    .await
    .expect(204);

    let audit = app
        .get(
            &tenant.key,
            &format!("/api/v1/invocations?installation_id={installation_id}"),
        )
        .await
        .expect(200);
    let rows = audit["items"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{audit}");
    assert_eq!(rows[0]["plugin"], "safety-escalation@0.1.0");
    assert_eq!(rows[0]["outcome"], "ok");
    let other = app.tenant("audit-other").await;
    let theirs = app
        .get(
            &other.key,
            &format!("/api/v1/invocations?installation_id={installation_id}"),
        )
        .await
        .expect(200);
    assert_eq!(theirs["items"], json!([]));
}
