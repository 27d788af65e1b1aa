//! Dashboards over HTTP: widgets rendered by real report-widget plugins over the tickets
//! the caller sees, drawn as SVG by the host; a failing widget does not take the others
//! down; validation, admin-only writes, tenant isolation and site scope.

use axle_tests::{BACKLOG_CHART, KPI_SUMMARY, Tenant, TestApp, VIP_ROUTING, invalid_fields};
use serde_json::{Value, json};

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

async fn site(app: &TestApp, tenant: &Tenant, body: Value) -> Value {
    app.post(&tenant.key, "/api/v1/sites", &body)
        .await
        .expect(201)
}

/// An OEM with two dealers, a station each; returns (dealer A, station A, station B).
async fn org(app: &TestApp, tenant: &Tenant) -> (Value, Value, Value) {
    let oem = site(
        app,
        tenant,
        json!({ "kind": "oem", "code": "OEM", "name": "OEM" }),
    )
    .await;
    let region = site(
        app,
        tenant,
        json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东" }),
    )
    .await;
    let dealer_a = site(
        app,
        tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "A", "name": "Dealer A" }),
    )
    .await;
    let dealer_b = site(
        app,
        tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "B", "name": "Dealer B" }),
    )
    .await;
    let station_a = site(app, tenant, json!({ "kind": "station", "parent_id": dealer_a["id"], "code": "A-1", "name": "Station A" })).await;
    let station_b = site(app, tenant, json!({ "kind": "station", "parent_id": dealer_b["id"], "code": "B-1", "name": "Station B" })).await;
    (dealer_a, station_a, station_b)
}

/// Creates a ticket and returns its id.
async fn ticket(
    app: &TestApp,
    tenant: &Tenant,
    category: &str,
    priority: &str,
    site: Option<&Value>,
) -> String {
    let mut body = json!({
        "description": format!("{category} problem 故障"),
        "category": category,
        "priority": priority,
    });
    if let Some(site) = site {
        body["site_id"] = site["id"].clone();
    }
    id(&app.ticket(tenant, body).await)
}

/// kpi-summary and backlog-chart installed; returns their installation ids.
async fn widgets(app: &TestApp, tenant: &Tenant) -> (String, String) {
    let kpi = app.install(tenant, &KPI_SUMMARY, json!({}), &[]).await;
    let backlog = app.install(tenant, &BACKLOG_CHART, json!({}), &[]).await;
    (id(&kpi), id(&backlog))
}

async fn dashboard(app: &TestApp, tenant: &Tenant, widgets: &[&str]) -> Value {
    let widgets: Vec<Value> = widgets
        .iter()
        .map(|w| json!({ "installation_id": w }))
        .collect();
    app.post(
        &tenant.key,
        "/api/v1/dashboards",
        &json!({ "name": "服务概览 Service overview", "description": "Backlog at a glance", "widgets": widgets }),
    )
    .await
    .expect(201)
}

async fn rendered(app: &TestApp, key: &str, dashboard: &Value) -> Value {
    app.get(key, &format!("/api/v1/dashboards/{}", id(dashboard)))
        .await
        .expect(200)
}

/// The kpi-summary table's row for `category`.
fn table_row<'a>(widget: &'a Value, category: &str) -> Option<&'a Value> {
    widget["rendering"]["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|row| row[0] == category)
}

fn svg_texts(svg: &str) -> Vec<String> {
    let doc = roxmltree::Document::parse(svg).unwrap_or_else(|err| panic!("{err}: {svg}"));
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| n.text().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_dashboard_renders_the_kpi_table_and_the_backlog_chart_from_the_tenants_tickets() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-render").await;
    let (kpi, backlog) = widgets(&app, &tenant).await;
    ticket(&app, &tenant, "刹车", "critical", None).await;
    let resolved = ticket(&app, &tenant, "刹车", "normal", None).await;
    ticket(&app, &tenant, "ev-charging", "normal", None).await;
    app.patch(
        &tenant.key,
        &format!("/api/v1/tickets/{resolved}"),
        &json!({ "status": "resolved" }),
    )
    .await
    .expect(200);
    let board = dashboard(&app, &tenant, &[&kpi, &backlog]).await;

    let body = rendered(&app, &tenant.key, &board).await;
    assert_eq!(body["name"], "服务概览 Service overview");
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets.len(), 2);

    let table = &widgets[0];
    assert_eq!(table["error"], Value::Null, "{table}");
    assert_eq!(table["installation_id"], kpi.as_str());
    assert_eq!(table["plugin"], "kpi-summary@0.1.0");
    assert_eq!(table["title"], "Tickets by category (30 days)");
    assert_eq!(
        table["query"],
        json!({ "measures": ["tickets", "open-tickets", "critical-tickets"], "group_by": ["category"], "period_days": 30 })
    );
    assert_eq!(table["rendering"]["type"], "table");
    assert_eq!(
        table["rendering"]["columns"],
        json!(["Category", "Tickets", "Open", "Critical"])
    );
    assert_eq!(
        table_row(table, "刹车"),
        Some(&json!(["刹车", "2", "1", "1"]))
    );
    assert_eq!(
        table_row(table, "ev-charging"),
        Some(&json!(["ev-charging", "1", "1", "0"]))
    );
    assert_eq!(
        table_row(table, "Total"),
        Some(&json!(["Total", "3", "2", "1"]))
    );
    let texts = svg_texts(table["svg"].as_str().unwrap());
    for label in [
        "刹车",
        "ev-charging",
        "Total",
        "Tickets by category (30 days)",
    ] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }

    let chart = &widgets[1];
    assert_eq!(chart["error"], Value::Null, "{chart}");
    assert_eq!(chart["plugin"], "backlog-chart@0.1.0");
    assert_eq!(chart["rendering"]["type"], "chart");
    assert_eq!(chart["rendering"]["kind"], "bar");
    // Ties on open tickets sort by name: `ev-charging` before `刹车`.
    assert_eq!(chart["rendering"]["labels"], json!(["ev-charging", "刹车"]));
    assert_eq!(
        chart["rendering"]["series"],
        json!([
            { "name": "critical", "values": [0.0, 1.0] },
            { "name": "normal", "values": [1.0, 0.0] },
        ])
    );
    let svg = chart["svg"].as_str().unwrap();
    let texts = svg_texts(svg);
    for label in ["刹车", "ev-charging", "critical", "normal"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    let doc = roxmltree::Document::parse(svg).unwrap();
    let bars = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("bar"))
        .count();
    assert_eq!(bars, 4, "one bar per value of each series");

    // Each render asks each plugin twice (describe, render), and the calls are audited.
    let audit = app
        .get(
            &tenant.key,
            &format!("/api/v1/installations/{backlog}/invocations"),
        )
        .await
        .expect(200);
    let hooks: Vec<(&str, &str)> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["hook"].as_str().unwrap(), i["outcome"].as_str().unwrap()))
        .collect();
    assert_eq!(
        hooks,
        [("render", "ok"), ("describe", "ok")],
        "newest first"
    );
}

#[tokio::test]
async fn a_widget_is_served_alone_as_image_svg_xml() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-svg").await;
    let (_, backlog) = widgets(&app, &tenant).await;
    ticket(&app, &tenant, "车身", "high", None).await;
    let board = dashboard(&app, &tenant, &[&backlog]).await;
    let widget = &board["widgets"][0];
    let response = app
        .client
        .get(format!(
            "{}/api/v1/dashboards/{}/widgets/{}/svg",
            app.url,
            id(&board),
            id(widget)
        ))
        .bearer_auth(&tenant.key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "image/svg+xml; charset=utf-8"
    );
    let svg = response.text().await.unwrap();
    let texts = svg_texts(&svg);
    assert!(texts.iter().any(|t| t == "车身"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "high"), "{texts:?}");

    let missing = app
        .get(
            &tenant.key,
            &format!("/api/v1/dashboards/{}/widgets/nope/svg", id(&board)),
        )
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn a_failing_or_disabled_widget_gets_an_error_while_the_others_render() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-fail").await;
    let (kpi, backlog) = widgets(&app, &tenant).await;
    ticket(&app, &tenant, "brakes", "critical", None).await;
    let board = dashboard(&app, &tenant, &[&kpi, &backlog]).await;
    let backlog_path = format!("/api/v1/installations/{backlog}");
    // backlog-chart cannot start in 1 MiB of linear memory.
    app.patch(
        &tenant.key,
        &backlog_path,
        &json!({ "limits": { "memory_mib": 1 } }),
    )
    .await
    .expect(200);

    let body = rendered(&app, &tenant.key, &board).await;
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets[0]["error"], Value::Null, "{}", widgets[0]);
    assert_eq!(
        table_row(&widgets[0], "brakes"),
        Some(&json!(["brakes", "1", "1", "1"]))
    );
    assert_eq!(
        widgets[1]["error"]["code"], "plugin_failed",
        "{}",
        widgets[1]
    );
    assert_eq!(widgets[1]["plugin"], "backlog-chart@0.1.0");
    assert_eq!(widgets[1]["rendering"], Value::Null);
    assert_eq!(widgets[1]["svg"], Value::Null);
    let audit = app
        .get(&tenant.key, &format!("{backlog_path}/invocations"))
        .await
        .expect(200);
    let items = audit["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{audit}");
    assert_eq!(items[0]["hook"], "describe");
    assert_ne!(items[0]["outcome"], "ok");

    // Now the other way round: kpi-summary disabled, backlog-chart given its memory back.
    app.patch(
        &tenant.key,
        &backlog_path,
        &json!({ "limits": {}, "enabled": true }),
    )
    .await
    .expect(200);
    app.patch(
        &tenant.key,
        &format!("/api/v1/installations/{kpi}"),
        &json!({ "enabled": false }),
    )
    .await
    .expect(200);
    let body = rendered(&app, &tenant.key, &board).await;
    let widgets = body["widgets"].as_array().unwrap();
    assert_eq!(widgets[0]["error"]["code"], "installation_disabled");
    assert!(
        widgets[0]["error"]["message"]
            .as_str()
            .unwrap()
            .contains("disabled")
    );
    assert_eq!(widgets[0]["svg"], Value::Null);
    assert_eq!(widgets[1]["error"], Value::Null, "{}", widgets[1]);
    assert_eq!(widgets[1]["rendering"]["labels"], json!(["brakes"]));

    // The failed widget's SVG says why, as a well-formed panel.
    let svg = app
        .client
        .get(format!(
            "{}/api/v1/dashboards/{}/widgets/{}/svg",
            app.url,
            id(&board),
            id(&widgets[0])
        ))
        .bearer_auth(&tenant.key)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        svg_texts(&svg).iter().any(|t| t.contains("disabled")),
        "{svg}"
    );

    // An uninstalled plugin leaves its widget in place, saying so.
    app.delete(&tenant.key, &format!("/api/v1/installations/{kpi}"))
        .await
        .expect(204);
    let body = rendered(&app, &tenant.key, &board).await;
    assert_eq!(body["widgets"][0]["error"]["code"], "installation_missing");
    assert_eq!(body["widgets"][1]["error"], Value::Null);
}

#[tokio::test]
async fn a_site_scoped_key_sees_only_its_subtrees_counts() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-scope").await;
    let (kpi, _) = widgets(&app, &tenant).await;
    let (dealer_a, station_a, station_b) = org(&app, &tenant).await;
    ticket(&app, &tenant, "刹车", "critical", Some(&station_a)).await;
    ticket(&app, &tenant, "刹车", "normal", Some(&station_b)).await;
    ticket(&app, &tenant, "body", "normal", Some(&station_b)).await;
    ticket(&app, &tenant, "body", "normal", None).await;
    let board = dashboard(&app, &tenant, &[&kpi]).await;
    let dealer_key = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "dealer A desk", "role": "agent", "site_id": dealer_a["id"] }),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let all = rendered(&app, &tenant.key, &board).await;
    assert_eq!(
        table_row(&all["widgets"][0], "Total"),
        Some(&json!(["Total", "4", "4", "1"]))
    );
    let mine = rendered(&app, &dealer_key, &board).await;
    let widget = &mine["widgets"][0];
    assert_eq!(
        table_row(widget, "刹车"),
        Some(&json!(["刹车", "1", "1", "1"]))
    );
    assert_eq!(table_row(widget, "body"), None);
    assert_eq!(
        table_row(widget, "Total"),
        Some(&json!(["Total", "1", "1", "1"]))
    );
}

#[tokio::test]
async fn a_widget_installed_for_a_dealer_counts_only_its_subtree_whoever_looks() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-dealer-widget").await;
    let (dealer_a, station_a, station_b) = org(&app, &tenant).await;
    let reply = app
        .upload(&tenant, &KPI_SUMMARY.manifest(), KPI_SUMMARY.component())
        .await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let dealers_kpi = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": "kpi-summary", "config": {}, "scope": { "site_id": dealer_a["id"] } }),
        )
        .await
        .expect(201);
    ticket(&app, &tenant, "刹车", "critical", Some(&station_a)).await;
    ticket(&app, &tenant, "刹车", "normal", Some(&station_b)).await;
    ticket(&app, &tenant, "body", "normal", None).await;
    let board = dashboard(&app, &tenant, &[&id(&dealers_kpi)]).await;

    // The OEM's admin sees the whole tenant elsewhere, but this widget is dealer A's.
    let seen = rendered(&app, &tenant.key, &board).await;
    let widget = &seen["widgets"][0];
    assert_eq!(widget["error"], Value::Null, "{widget}");
    assert_eq!(
        table_row(widget, "Total"),
        Some(&json!(["Total", "1", "1", "1"]))
    );
    assert_eq!(table_row(widget, "body"), None);
}

#[tokio::test]
async fn another_tenant_cannot_see_a_dashboard_nor_use_its_installations() {
    let app = TestApp::spawn().await;
    let owner = app.tenant("dash-owner").await;
    let (kpi, _) = widgets(&app, &owner).await;
    let board = dashboard(&app, &owner, &[&kpi]).await;
    let stranger = app.tenant("dash-stranger").await;
    let path = format!("/api/v1/dashboards/{}", id(&board));

    assert_eq!(app.get(&stranger.key, &path).await.status, 404);
    let list = app
        .get(&stranger.key, "/api/v1/dashboards")
        .await
        .expect(200);
    assert_eq!(list["items"], json!([]));
    assert_eq!(
        app.patch(&stranger.key, &path, &json!({ "name": "mine" }))
            .await
            .status,
        404
    );
    assert_eq!(app.delete(&stranger.key, &path).await.status, 404);
    let svg = app
        .get(
            &stranger.key,
            &format!("{path}/widgets/{}/svg", id(&board["widgets"][0])),
        )
        .await;
    assert_eq!(svg.status, 404);

    let borrowed = app
        .post(
            &stranger.key,
            "/api/v1/dashboards",
            &json!({ "name": "borrowed", "widgets": [{ "installation_id": kpi }] }),
        )
        .await;
    assert_eq!(borrowed.status, 422, "{:?}", borrowed.body);
    assert_eq!(invalid_fields(&borrowed), ["widgets[0].installation_id"]);
    // The owner's dashboard is untouched.
    let body = rendered(&app, &owner.key, &board).await;
    assert_eq!(body["name"], "服务概览 Service overview");
}

#[tokio::test]
async fn invalid_dashboards_get_a_422_per_field_and_nothing_is_stored() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-invalid").await;
    let (kpi, _) = widgets(&app, &tenant).await;
    let routing = app
        .install(&tenant, &VIP_ROUTING, json!({ "team": "VIP desk" }), &[])
        .await;

    let reply = app
        .post(
            &tenant.key,
            "/api/v1/dashboards",
            &json!({
                "name": "   ",
                "widgets": [
                    { "installation_id": kpi, "title": "看板".repeat(101) },
                    { "installation_id": "no-such-installation" },
                    { "installation_id": routing["id"] },
                ],
            }),
        )
        .await;
    assert_eq!(reply.status, 422, "{:?}", reply.body);
    assert_eq!(
        invalid_fields(&reply),
        [
            "name",
            "widgets[0].title",
            "widgets[1].installation_id",
            "widgets[2].installation_id",
        ]
    );
    let message = axle_tests::field_message(&reply, "widgets[2].installation_id");
    assert!(message.contains("report-widget"), "{message}");
    let list = app.get(&tenant.key, "/api/v1/dashboards").await.expect(200);
    assert_eq!(list["items"], json!([]));

    let unknown = app
        .post(
            &tenant.key,
            "/api/v1/dashboards",
            &json!({ "name": "x", "colour": "red" }),
        )
        .await;
    assert_eq!(unknown.status, 400);

    // A bad change leaves the dashboard as it was.
    let board = dashboard(&app, &tenant, &[&kpi]).await;
    let path = format!("/api/v1/dashboards/{}", id(&board));
    let bad = app
        .patch(
            &tenant.key,
            &path,
            &json!({ "name": "新名字", "widgets": [{ "installation_id": routing["id"] }] }),
        )
        .await;
    assert_eq!(bad.status, 422);
    let list = app.get(&tenant.key, "/api/v1/dashboards").await.expect(200);
    assert_eq!(list["items"][0]["name"], "服务概览 Service overview");
    assert_eq!(
        list["items"][0]["widgets"][0]["installation_id"],
        kpi.as_str()
    );
}

#[tokio::test]
async fn agents_read_dashboards_but_only_admins_change_them() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-roles").await;
    let (kpi, _) = widgets(&app, &tenant).await;
    let board = dashboard(&app, &tenant, &[&kpi]).await;
    let path = format!("/api/v1/dashboards/{}", id(&board));
    let (_, agent) = axle_tests::agent_key(&app, &tenant).await;

    let create = app
        .post(&agent, "/api/v1/dashboards", &json!({ "name": "mine" }))
        .await;
    assert_eq!(create.status, 403, "{:?}", create.body);
    assert!(create.error_message().contains("admin"));
    assert_eq!(
        app.patch(&agent, &path, &json!({ "name": "mine" }))
            .await
            .status,
        403
    );
    assert_eq!(app.delete(&agent, &path).await.status, 403);
    let body = rendered(&app, &agent, &board).await;
    assert_eq!(body["widgets"][0]["rendering"]["type"], "table");
    let list = app.get(&agent, "/api/v1/dashboards").await.expect(200);
    assert_eq!(list["items"][0]["id"], board["id"]);
    assert!(
        list["items"][0]["widgets"][0].get("svg").is_none(),
        "lists do not render"
    );
}

#[tokio::test]
async fn a_change_replaces_the_widgets_in_order_and_delete_removes_the_dashboard() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("dash-change").await;
    let (kpi, backlog) = widgets(&app, &tenant).await;
    let board = dashboard(&app, &tenant, &[&kpi]).await;
    let path = format!("/api/v1/dashboards/{}", id(&board));

    let changed = app
        .patch(
            &tenant.key,
            &path,
            &json!({
                "description": "售后积压",
                "widgets": [
                    { "installation_id": backlog, "title": "积压工单" },
                    { "installation_id": kpi },
                ],
            }),
        )
        .await
        .expect(200);
    assert_eq!(
        changed["name"], "服务概览 Service overview",
        "unset parts stay"
    );
    assert_eq!(changed["description"], "售后积压");
    let order: Vec<&str> = changed["widgets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["installation_id"].as_str().unwrap())
        .collect();
    assert_eq!(order, [backlog.as_str(), kpi.as_str()]);
    let body = rendered(&app, &tenant.key, &board).await;
    assert_eq!(body["widgets"][0]["title"], "积压工单");
    let heading = svg_texts(body["widgets"][0]["svg"].as_str().unwrap());
    assert_eq!(heading[0], "积压工单", "the override heads the drawing");
    assert_eq!(body["widgets"][1]["title"], "Tickets by category (30 days)");

    app.delete(&tenant.key, &path).await.expect(204);
    assert_eq!(app.get(&tenant.key, &path).await.status, 404);
    assert_eq!(app.delete(&tenant.key, &path).await.status, 404);
}
