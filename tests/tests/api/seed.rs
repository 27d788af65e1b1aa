//! `axle seed` / `cargo xtask demo`: the demo tenant is realistic and fully wired.

use axle_host::seed::Seeded;
use axle_tests::{Tenant, TestApp, repo_root};
use serde_json::Value;

async fn count(app: &TestApp, key: &str, path: &str) -> usize {
    let page = app.get(key, path).await.expect(200);
    assert_eq!(page["next_cursor"], Value::Null, "{path} fits one page");
    page["items"].as_array().unwrap().len()
}

/// Seeds (or re-seeds) the demo tenant on `app` from the built plugins.
async fn seed_demo(app: &TestApp) -> Seeded {
    let root = repo_root();
    axle_host::seed::demo(
        &app.app.core,
        &root.join("plugins"),
        &root.join("target/wasm/wasm32-wasip2/release"),
    )
    .await
    .expect("seed the demo tenant")
}

#[tokio::test]
async fn the_demo_tenant_has_the_org_tree_plugins_and_routed_tickets() {
    let app = TestApp::spawn().await;
    let seeded = seed_demo(&app).await;
    let key = seeded.api_key.clone();

    assert!(seeded.created);
    assert_eq!(seeded.plugins.len(), 7, "{:?}", seeded.plugins);
    assert_eq!(count(&app, &key, "/api/v1/sites?kind=oem").await, 1);
    assert_eq!(count(&app, &key, "/api/v1/sites?kind=region").await, 3);
    assert_eq!(count(&app, &key, "/api/v1/sites?kind=dealer").await, 12);
    assert_eq!(
        count(&app, &key, "/api/v1/sites?kind=station&limit=200").await,
        30
    );
    assert_eq!(
        count(&app, &key, "/api/v1/installations?scope=tenant").await,
        7
    );
    let safety = app
        .get(&key, "/api/v1/installations?plugin=safety-escalation")
        .await
        .expect(200);
    assert_eq!(safety["items"][0]["mandatory"], true, "{safety}");

    // One dealer runs a plugin of its own, installed through the OEM's catalogue, and the
    // seed hands out its admin key, which sees it.
    let (code, dealer_key) = seeded.dealer.clone().expect("a dealer with its own plugin");
    assert_eq!(code, "SH-001");
    let own = app
        .get(&dealer_key, "/api/v1/installations?plugin=vip-routing")
        .await
        .expect(200);
    let scopes: Vec<&Value> = own["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|installation| &installation["scope"]["site_id"])
        .collect();
    assert_eq!(scopes.len(), 2, "the OEM's and the dealer's: {own}");
    assert!(scopes.iter().any(|site| site.is_string()), "{own}");
    let catalogue = app
        .get(&dealer_key, "/api/v1/dealer-catalogue")
        .await
        .expect(200);
    assert_eq!(catalogue["items"][0]["plugin"], "vip-routing");
    // A Shanghai VIP's call goes to the dealer's own VIP desk, not the OEM's vip-care.
    let tenant = Tenant {
        id: seeded.tenant_id.clone(),
        key: key.clone(),
    };
    let vip = app
        .customer(
            &tenant,
            serde_json::json!({ "name": "王静", "city": "上海", "vip": true }),
        )
        .await;
    let ticket = app
        .ticket(
            &tenant,
            serde_json::json!({ "description": "空调不制冷", "customer_id": vip["id"] }),
        )
        .await;
    assert_eq!(ticket["team"], "浦东 VIP 专席 Pudong VIP desk", "{ticket}");

    let critical = app
        .get(&key, "/api/v1/tickets?priority=critical")
        .await
        .expect(200);
    let critical = critical["items"].as_array().unwrap();
    assert!(!critical.is_empty());
    assert!(
        critical.iter().all(|t| t["queue"] == "safety"),
        "{critical:?}"
    );
    let tickets = app.get(&key, "/api/v1/tickets?limit=200").await.expect(200);
    let placed = tickets["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !t["site_id"].is_null())
        .count();
    assert!(
        placed >= 8,
        "the dispatcher placed most demo tickets at a station: {placed}"
    );
    assert!(
        critical.iter().any(|t| t["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|tag| tag.as_str().unwrap().starts_with("station:"))),
        "station-routing found the safety tickets' stations through the directory: {critical:?}"
    );

    // The hotline finds a demo customer by the plate an agent types.
    let owners = app
        .get(&key, "/api/v1/customers?plate=%E6%B2%AAa-d12345")
        .await
        .expect(200);
    assert_eq!(owners["items"][0]["name"], "张伟", "沪a-d12345: {owners}");

    // Seeding again keeps the data and hands out a fresh key.
    let again = seed_demo(&app).await;
    assert!(!again.created);
    assert_ne!(again.api_key, key);
    assert_eq!(
        count(&app, &again.api_key, "/api/v1/sites?kind=dealer").await,
        12
    );
    assert_eq!(
        count(&app, &again.api_key, "/api/v1/dashboards").await,
        1,
        "seeding again adds no second dashboard"
    );
}

#[tokio::test]
async fn the_demo_service_overview_dashboard_renders_its_table_and_chart() {
    let app = TestApp::spawn().await;
    let root = repo_root();
    let seeded = axle_host::seed::demo(
        &app.app.core,
        &root.join("plugins"),
        &root.join("target/wasm/wasm32-wasip2/release"),
    )
    .await
    .expect("seed the demo tenant");
    let list = app
        .get(&seeded.api_key, "/api/v1/dashboards")
        .await
        .expect(200);
    let board = &list["items"][0];
    assert_eq!(board["name"], "Service overview 服务概览");
    let body = app
        .get(
            &seeded.api_key,
            &format!("/api/v1/dashboards/{}", board["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    let widgets = body["widgets"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = widgets
        .iter()
        .map(|w| {
            assert_eq!(w["error"], Value::Null, "{w}");
            assert!(w["svg"].as_str().unwrap().starts_with("<svg"));
            (
                w["plugin"].as_str().unwrap(),
                w["rendering"]["type"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("kpi-summary@0.1.0", "table"),
            ("backlog-chart@0.1.0", "chart")
        ]
    );
    // Six months of history leave a backlog in the last 30 days.
    assert!(
        !widgets[1]["rendering"]["labels"]
            .as_array()
            .unwrap()
            .is_empty(),
        "{}",
        widgets[1]["rendering"]
    );
}

#[tokio::test]
async fn the_demo_kpis_are_plausible_and_non_trivial() {
    let app = TestApp::spawn().await;
    let seeded = seed_demo(&app).await;

    let from = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24 * 200))
        .unwrap();
    let report = app
        .get(
            &seeded.api_key,
            &format!("/api/v1/reports/kpis?group_by=region&from={from}"),
        )
        .await
        .expect(200);

    let total = &report["total"]["kpis"];
    let value = |kpi: &str| {
        total[kpi]["value"]
            .as_f64()
            .unwrap_or_else(|| panic!("{kpi} has a value: {total}"))
    };
    let fcr = value("fcr");
    assert!((40.0..95.0).contains(&fcr), "FCR {fcr}");
    assert!(
        (120.0..900.0).contains(&value("aht")),
        "AHT {}",
        value("aht")
    );
    assert!(
        (50.0..100.0).contains(&value("csat")),
        "CSAT {}",
        value("csat")
    );
    assert!(
        (-100.0..100.0).contains(&value("nps")) && value("nps") != 0.0,
        "NPS {}",
        value("nps")
    );
    assert!(value("backlog") > 0.0, "backlog {}", value("backlog"));
    assert!(
        (50.0..100.0).contains(&value("sla")),
        "SLA {}",
        value("sla")
    );
    assert_eq!(
        report["rows"].as_array().unwrap().len(),
        3,
        "three regions: {report}"
    );
}

#[tokio::test]
async fn the_demo_knowledge_base_answers_demo_tickets_with_real_article_links() {
    let app = TestApp::spawn().await;
    let seeded = seed_demo(&app).await;
    let key = seeded.api_key.clone();

    assert_eq!(
        count(&app, &key, "/api/v1/kb/articles?status=published").await,
        5
    );
    // The history seeds many tickets; page through them for the demo brake ticket.
    let mut cursor = String::new();
    let brakes = loop {
        let page = app
            .get(&key, &format!("/api/v1/tickets?limit=200&cursor={cursor}"))
            .await
            .expect(200);
        if let Some(found) = page["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["subject"] == "刹车踏板发软")
        {
            break found.clone();
        }
        cursor = page["next_cursor"]
            .as_str()
            .expect("the demo brake ticket is listed")
            .to_owned();
    };
    let demo = Tenant {
        id: seeded.tenant_id.clone(),
        key: key.clone(),
    };
    let reply = app
        .timeline(&demo, brakes["id"].as_str().unwrap())
        .await
        .into_iter()
        .find(|event| event["kind"] == "reply")
        .expect("the brake ticket was answered");
    let link = reply["data"]["link"].as_str().unwrap();
    let path = link
        .strip_prefix(axle_tests::PUBLIC_URL)
        .unwrap_or_else(|| panic!("{link} is an article page"));
    assert!(path.starts_with("/kb/"), "{link}");
    let page = app.get_anonymous(path).await.expect(200);
    assert!(page.as_str().unwrap().contains("刹车"), "{page}");
}
