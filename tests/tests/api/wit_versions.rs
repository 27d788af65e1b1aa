//! WIT versions: `axle:plugin@0.1.0` is frozen under `wit/deps/`, the host serves it next
//! to the current 0.2.0, and admins can see which version each plugin targets.

use std::path::Path;

use axle_tests::{
    ROUTING_V0_1, SAFETY_ESCALATION, STATION_ROUTING, TestApp, VIP_ROUTING, repo_root, tags,
};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The released 0.1.0 files and their sha256. Editing a released contract breaks every
/// plugin built against it; planned changes go to `wit/PENDING_CHANGES.md` and a new version.
const FROZEN_0_1_0: [(&str, &str); 3] = [
    (
        "capabilities.wit",
        "893ec7e04597bc7e896d6ea230a585dc6f90dc773e8e6f83637b34caa8821024",
    ),
    (
        "types.wit",
        "09cda654cb80bd70f1654d65149a4237a846e50f57cbdea5293c70f02b879b64",
    ),
    (
        "worlds.wit",
        "9ac48838ef31c66de190213f9a970a850d84b3dc40031d4dfb4ca676e0a362fb",
    ),
];

#[test]
fn the_released_0_1_0_contract_is_unchanged_byte_for_byte() {
    let dir = repo_root().join("wit/deps/plugin-0.1.0");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("read {}: {err}", dir.display()))
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let frozen: Vec<&str> = FROZEN_0_1_0.iter().map(|(name, _)| *name).collect();
    assert_eq!(
        files, frozen,
        "wit/deps/plugin-0.1.0 is frozen: no file may be added or removed"
    );
    for (name, sha256) in FROZEN_0_1_0 {
        let bytes = std::fs::read(dir.join(name)).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&bytes)),
            sha256,
            "wit/deps/plugin-0.1.0/{name} was edited; released WIT versions are frozen \
             (plugins built against them must keep working). Revert the edit and put the \
             change in the current version under wit/, noting it in wit/PENDING_CHANGES.md"
        );
    }
}

#[test]
fn the_current_contract_is_0_2_0_and_the_frozen_one_is_0_1_0() {
    let package = |dir: &Path| {
        std::fs::read_to_string(dir.join("types.wit"))
            .unwrap()
            .lines()
            .next()
            .unwrap()
            .to_owned()
    };
    let root = repo_root().join("wit");
    assert_eq!(package(&root), "package axle:plugin@0.2.0;");
    assert_eq!(
        package(&root.join("deps/plugin-0.1.0")),
        "package axle:plugin@0.1.0;"
    );
}

#[tokio::test]
async fn a_plugin_built_against_0_1_0_keeps_working_on_a_host_serving_0_2_0() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("legacy").await;
    let installation = app
        .install(
            &tenant,
            &ROUTING_V0_1,
            json!({ "team": "老客户组", "on_call": "+8613800000099" }),
            &["kv", "records", "notify"],
        )
        .await;
    assert_eq!(installation["status"], "enabled", "{installation}");
    app.post(
        &tenant.key,
        "/api/v1/kb/articles",
        &json!({
            "title": "刹车踏板发软怎么办", "body": "刹车踏板发软 可能是刹车油不足，请立即停车检查。",
            "status": "published"
        }),
    )
    .await
    .expect(201);
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "陈静", "phone": "+8613912340001", "vip": true }),
        )
        .await;

    let first = app
        .ticket(
            &tenant,
            json!({
                "customer_id": customer["id"], "category": "safety",
                "subject": "刹车踏板发软", "description": "高速上刹车踏板发软"
            }),
        )
        .await;

    // config, records (customer and knowledge base), notify and log all answered.
    assert_eq!(first["team"], "老客户组", "{first}");
    assert_eq!(first["priority"], "critical");
    let first_tags = tags(&first);
    assert!(first_tags.contains(&"wit-0.1.0"), "{first_tags:?}");
    assert!(first_tags.contains(&"vip"), "{first_tags:?}");
    assert!(
        first_tags.iter().any(|tag| tag.starts_with("kb-")),
        "the knowledge-base search answered: {first_tags:?}"
    );
    let sms = &first["notifications"][0];
    assert_eq!(sms["channel"], "sms");
    assert_eq!(sms["to"], "+8613800000099");
    assert_eq!(sms["source"], "routing-v0-1@0.1.0");

    // kv keeps state across calls.
    assert!(first_tags.contains(&"routed-1"), "{first_tags:?}");
    let second = app
        .ticket(
            &tenant,
            json!({ "subject": "保养预约", "description": "想预约保养", "channel": "web" }),
        )
        .await;
    assert!(tags(&second).contains(&"routed-2"), "{second}");
    assert_eq!(second["priority"], "normal");
}

#[tokio::test]
async fn the_plugin_list_says_which_wit_version_each_plugin_targets() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("versions").await;
    for plugin in [ROUTING_V0_1, VIP_ROUTING] {
        app.upload(&tenant, &plugin.manifest(), plugin.component())
            .await
            .expect(201);
    }

    let list = app.get(&tenant.key, "/api/v1/plugins").await.expect(200);

    let wit_of = |name: &str| -> Value {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap_or_else(|| panic!("{name} in {list}"))["wit_version"]
            .clone()
    };
    assert_eq!(wit_of("routing-v0-1"), "0.1.0");
    assert_eq!(wit_of("vip-routing"), "0.2.0");
}

#[tokio::test]
async fn a_manifest_that_misstates_the_components_wit_version_is_refused() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("mismatch").await;

    let claims_new = ROUTING_V0_1.manifest().replace(
        "world = \"routing-rule\"",
        "world = \"routing-rule\"\nwit = \"0.2.0\"",
    );
    let reply = app
        .upload(&tenant, &claims_new, ROUTING_V0_1.component())
        .await
        .expect_error(400);
    assert!(
        reply.error_message().contains("wit = \"0.1.0\""),
        "{}",
        reply.error_message()
    );

    // A current component whose manifest predates versions (so means 0.1.0).
    let claims_old = SAFETY_ESCALATION
        .manifest()
        .replace("wit = \"0.2.0\"\n", "");
    let reply = app
        .upload(&tenant, &claims_old, SAFETY_ESCALATION.component())
        .await
        .expect_error(400);
    assert!(
        reply.error_message().contains("axle:plugin@0.2.0"),
        "{}",
        reply.error_message()
    );
}

#[tokio::test]
async fn a_0_1_0_plugin_cannot_ask_for_the_0_2_0_directory() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("too-new").await;
    let manifest = ROUTING_V0_1.manifest().replace(
        "[\"kv\", \"records\", \"notify\"]",
        "[\"kv\", \"directory\"]",
    );
    let reply = app
        .upload(&tenant, &manifest, ROUTING_V0_1.component())
        .await
        .expect_error(400);
    assert!(
        reply.error_message().contains("directory"),
        "{}",
        reply.error_message()
    );
}

#[tokio::test]
async fn a_0_2_0_routing_rule_picks_the_station_and_team_from_the_directory() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("network").await;
    let site = |body: Value| {
        let app = &app;
        let key = tenant.key.clone();
        async move { app.post(&key, "/api/v1/sites", &body).await.expect(201) }
    };
    let oem = site(json!({ "kind": "oem", "code": "OEM", "name": "上汽大众" })).await;
    let region =
        site(json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东" }))
            .await;
    let dealer = site(json!({ "kind": "dealer", "parent_id": region["id"], "code": "SH-001", "name": "上海浦东 4S 店" })).await;
    let pudong = site(json!({ "kind": "station", "parent_id": dealer["id"], "code": "SH-001-S1", "name": "浦东服务站", "service_area": ["上海", "Shanghai"] })).await;
    let west = site(json!({ "kind": "station", "parent_id": dealer["id"], "code": "HZ-002-S1", "name": "西湖服务站", "service_area": ["杭州"] })).await;
    for (station, name, skills) in [
        (&pudong, "刹车组 Brakes", json!(["brakes"])),
        (&pudong, "电动车组 EV", json!(["ev"])),
        (&west, "西湖刹车组", json!(["brakes"])),
    ] {
        app.post(
            &tenant.key,
            "/api/v1/teams",
            &json!({ "site_id": station["id"], "name": name, "skills": skills }),
        )
        .await
        .expect(201);
    }
    let installation = app
        .install(
            &tenant,
            &STATION_ROUTING,
            json!({ "skills": { "safety": "brakes" } }),
            &["directory"],
        )
        .await;
    assert_eq!(installation["status"], "enabled", "{installation}");
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "李娜", "phone": "+8613912340002", "city": "shanghai" }),
        )
        .await;

    let ticket = app
        .ticket(
            &tenant,
            json!({
                "customer_id": customer["id"], "category": "safety",
                "subject": "刹车异响", "description": "刹车时有异响"
            }),
        )
        .await;

    assert_eq!(ticket["team"], "刹车组 Brakes", "{ticket}");
    assert!(tags(&ticket).contains(&"station:SH-001-S1"), "{ticket}");
}

#[tokio::test]
async fn the_directory_needs_its_grant_and_shows_only_the_callers_tenant() {
    let app = TestApp::spawn().await;
    let other = app.tenant("other-oem").await;
    let oem = app
        .post(
            &other.key,
            "/api/v1/sites",
            &json!({ "kind": "oem", "code": "OEM", "name": "Other OEM" }),
        )
        .await
        .expect(201);
    let region = app
        .post(
            &other.key,
            "/api/v1/sites",
            &json!({ "kind": "region", "parent_id": oem["id"], "code": "R", "name": "R" }),
        )
        .await
        .expect(201);
    let dealer = app
        .post(
            &other.key,
            "/api/v1/sites",
            &json!({ "kind": "dealer", "parent_id": region["id"], "code": "D", "name": "D" }),
        )
        .await
        .expect(201);
    let station = app.post(&other.key, "/api/v1/sites", &json!({ "kind": "station", "parent_id": dealer["id"], "code": "S", "name": "Other station", "service_area": ["上海"] })).await.expect(201);
    app.post(
        &other.key,
        "/api/v1/teams",
        &json!({ "site_id": station["id"], "name": "Other brakes", "skills": ["brakes"] }),
    )
    .await
    .expect(201);

    let tenant = app.tenant("own-oem").await;
    app.install(&tenant, &STATION_ROUTING, json!({}), &["directory"])
        .await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "王芳", "phone": "+8613912340003", "city": "上海" }),
        )
        .await;
    let ticket = app
        .ticket(
            &tenant,
            json!({ "customer_id": customer["id"], "category": "brakes", "description": "刹车软" }),
        )
        .await;
    // The other tenant's Shanghai station is invisible: the rule found no station.
    assert!(
        !tags(&ticket).iter().any(|tag| tag.starts_with("station:")),
        "{ticket}"
    );
    assert_ne!(ticket["team"], "Other brakes");

    let ungranted = app.tenant("ungranted").await;
    let installation = app
        .install(&ungranted, &STATION_ROUTING, json!({}), &[])
        .await;
    let customer = app
        .customer(
            &ungranted,
            json!({ "name": "赵磊", "phone": "+8613912340004", "city": "上海" }),
        )
        .await;
    let ticket = app
        .ticket(
            &ungranted,
            json!({ "customer_id": customer["id"], "category": "brakes", "description": "刹车软" }),
        )
        .await;
    let invocations = app
        .get(
            &ungranted.key,
            &format!(
                "/api/v1/installations/{}/invocations?subject_id={}",
                installation["id"].as_str().unwrap(),
                ticket["id"].as_str().unwrap()
            ),
        )
        .await
        .expect(200);
    let call = &invocations["items"][0];
    assert_eq!(call["outcome"], "plugin_error", "{invocations}");
    assert!(
        call["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("`directory` was not granted"),
        "the denial names the missing grant: {call}"
    );
}
