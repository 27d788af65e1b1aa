//! Plugin changes reach every node sharing the database: over Redis at once, and by
//! polling the database while Redis is down.

use std::sync::atomic::Ordering;
use std::time::Duration;

use axle_host::app::App;
use axle_host::domain::plugin::World;
use axle_host::service::registry::for_record;
use axle_tests::redis_server::RedisServer;
use axle_tests::{HOSTILE, SAFETY_ESCALATION, Tenant, TestApp, fast_delivery};
use serde_json::json;

/// Long enough for any healthy node to converge; convergence time itself is measured by
/// `cargo xtask bench`, not here.
const PATIENCE: Duration = Duration::from_secs(15);

/// Installs safety-escalation 0.1.0 and uploads 0.2.0; returns the installation id.
async fn installed_with_two_versions(app: &TestApp, tenant: &Tenant) -> String {
    let installation = app
        .install(
            tenant,
            &SAFETY_ESCALATION,
            json!({ "default_manager": "+8613800000000" }),
            &["notify"],
        )
        .await;
    let manifest = SAFETY_ESCALATION
        .manifest()
        .replace("version = \"0.1.0\"", "version = \"0.2.0\"");
    app.upload(tenant, &manifest, SAFETY_ESCALATION.component())
        .await
        .expect(201);
    installation["id"].as_str().unwrap().to_owned()
}

/// The routing rules `node` would run for the tenant now.
async fn rules_on(node: &App, tenant: &Tenant) -> Vec<String> {
    for_record(&node.core, &tenant.id, World::RoutingRule, None)
        .await
        .expect("snapshot")
        .iter()
        .map(|ready| ready.installation.label())
        .collect()
}

/// Waits until `node` runs exactly `expected` for the tenant.
async fn converges(node: &App, tenant: &Tenant, expected: &[&str]) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let rules = rules_on(node, tenant).await;
        if rules == expected {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the peer still runs {rules:?}, not {expected:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn flip(app: &TestApp, tenant: &Tenant, id: &str, action: &str) {
    let body = match action {
        "upgrade" => json!({ "version": "0.2.0" }),
        _ => json!({}),
    };
    app.post(
        &tenant.key,
        &format!("/api/v1/installations/{id}/{action}"),
        &body,
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn without_redis_a_peer_node_picks_up_changes_by_polling() {
    let app = TestApp::spawn().await;
    let peer = app.peer(fast_delivery()).await;
    let tenant = app.tenant("oem-a").await;
    let id = installed_with_two_versions(&app, &tenant).await;
    converges(&peer, &tenant, &["safety-escalation@0.1.0"]).await;

    flip(&app, &tenant, &id, "upgrade").await;
    converges(&peer, &tenant, &["safety-escalation@0.2.0"]).await;

    app.patch(
        &tenant.key,
        &format!("/api/v1/installations/{id}"),
        &json!({ "enabled": false }),
    )
    .await
    .expect(200);
    converges(&peer, &tenant, &[]).await;
    assert_eq!(peer.reload_state.heard_over_redis.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn with_redis_peers_hear_at_once_fall_back_to_polling_when_it_stops_and_resume_when_it_returns()
 {
    let mut redis = RedisServer::start();
    let app = TestApp::spawn_with_redis(&redis.url()).await;
    let peer = app.peer(fast_delivery()).await;
    let tenant = app.tenant("oem-a").await;
    let id = installed_with_two_versions(&app, &tenant).await;
    subscribed(&peer, true).await;

    let before = peer.reload_state.heard_over_redis.load(Ordering::SeqCst);
    flip(&app, &tenant, &id, "upgrade").await;
    converges(&peer, &tenant, &["safety-escalation@0.2.0"]).await;
    assert!(
        peer.reload_state.heard_over_redis.load(Ordering::SeqCst) > before,
        "the change came over redis"
    );

    redis.stop();
    subscribed(&peer, false).await;
    flip(&app, &tenant, &id, "rollback").await;
    converges(&peer, &tenant, &["safety-escalation@0.1.0"]).await;
    let ticket = app
        .post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": "soft brake pedal", "channel": "phone" }),
        )
        .await
        .expect(201);
    assert_eq!(ticket["priority"], "critical", "the node keeps serving");

    redis.restart();
    subscribed(&peer, true).await;
    let before = peer.reload_state.heard_over_redis.load(Ordering::SeqCst);
    flip(&app, &tenant, &id, "upgrade").await;
    converges(&peer, &tenant, &["safety-escalation@0.2.0"]).await;
    // The publisher reconnects on its first send after the outage; the subscriber may
    // still be reconnecting then, so wait for a message rather than assume the first.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while peer.reload_state.heard_over_redis.load(Ordering::SeqCst) == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis carries reloads again"
        );
        flip(&app, &tenant, &id, "rollback").await;
        flip(&app, &tenant, &id, "upgrade").await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the node's Redis subscription is (or is no longer) live.
async fn subscribed(node: &App, live: bool) {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while node.reload_state.redis_connected.load(Ordering::SeqCst) != live {
        assert!(
            tokio::time::Instant::now() < deadline,
            "redis subscription never became {live}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_suspension_by_the_circuit_breaker_reaches_the_peer() {
    let app = TestApp::spawn().await;
    let peer = app.peer(fast_delivery()).await;
    let tenant = app.tenant("oem-a").await;
    app.install(&tenant, &HOSTILE, json!({ "mode": "panic" }), &[])
        .await;
    converges(&peer, &tenant, &["hostile@0.1.0"]).await;

    for n in 1..=5 {
        app.post(
            &tenant.key,
            "/api/v1/tickets",
            &json!({ "description": format!("door rattle, report {n}"), "channel": "phone" }),
        )
        .await
        .expect(201);
    }

    assert!(
        rules_on(&app.app, &tenant).await.is_empty(),
        "suspended here at once"
    );
    converges(&peer, &tenant, &[]).await;
}

/// Publishes `messages` on the reload channel of the Redis on `port`, as anyone who can
/// reach that Redis could.
fn publish_forged(port: u16, messages: impl Iterator<Item = String>) {
    use std::io::Write;
    let mut cli = std::process::Command::new("redis-cli")
        .args(["-p", &port.to_string()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-cli");
    let mut stdin = cli.stdin.take().unwrap();
    for message in messages {
        writeln!(
            stdin,
            "PUBLISH {} \"{message}\"",
            axle_host::service::reload::CHANNEL
        )
        .unwrap();
    }
    drop(stdin);
    assert!(cli.wait().unwrap().success());
}

#[tokio::test]
async fn forged_and_flooded_reload_messages_are_clamped_to_the_database_and_bounded() {
    let redis = RedisServer::start();
    let app = TestApp::spawn_with_redis(&redis.url()).await;
    let tenant = app.tenant("oem-forged").await;
    let id = installed_with_two_versions(&app, &tenant).await;
    let node = &app.app;
    subscribed(node, true).await;
    rules_on(node, &tenant).await;
    let stored = axle_host::store::plugin_clock::generation(&node.core.db, &tenant.id)
        .await
        .unwrap();
    let heard_before = node.core.registry.tenants_heard();

    // One message far in the future for a real tenant, then a flood naming tenants that
    // do not exist, and junk.
    publish_forged(
        redis.port,
        std::iter::once(format!("{} 9000000000000000000", tenant.id))
            .chain((0..20_000).map(|n| format!("t_forged_{n} {}", n + 1)))
            .chain((0..100).map(|n| format!("not a reload {n}"))),
    );
    // The junk comes last: once it is dropped, every message before it was read.
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while node.reload_state.dropped_over_redis.load(Ordering::SeqCst) < 100 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the flood was never read through"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And the bounded queue of messages to check drains in moments.
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The real tenant's claim, and every checked one naming a tenant that does not exist.
    assert!(node.reload_state.clamped_over_redis.load(Ordering::SeqCst) >= 1);
    assert_eq!(
        node.core.registry.heard_of(&tenant.id),
        stored,
        "the claim was taken at the database's generation"
    );
    assert!(
        node.core.registry.current(&tenant.id).is_some(),
        "the snapshot is still current, so requests do not rebuild it"
    );
    assert_eq!(
        node.core.registry.tenants_heard(),
        heard_before,
        "tenants that do not exist were not remembered"
    );
    // A real change still arrives over Redis after the flood.
    let peer = app.peer(fast_delivery()).await;
    subscribed(&peer, true).await;
    converges(&peer, &tenant, &["safety-escalation@0.1.0"]).await;
    flip(&app, &tenant, &id, "upgrade").await;
    converges(&peer, &tenant, &["safety-escalation@0.2.0"]).await;
    app.ticket(
        &tenant,
        json!({ "description": "刹车踏板发软 soft brake pedal" }),
    )
    .await;
}
