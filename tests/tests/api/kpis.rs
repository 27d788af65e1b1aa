//! KPI reports over HTTP: exact FCR, AHT, CSAT, NPS, backlog, backlog rate and SLA
//! attainment per group on a small hand-computed dataset across two dealers, drill-down to
//! exactly the tickets behind a cell, and the tenant and site scope of the numbers.

use axle_host::service::sla::tick;
use axle_tests::{Tenant, TestApp};
use serde_json::{Value, json};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const SURVEY_PATH: &str = "/api/v1/surveys/";
/// A window that holds every ticket the tests create.
const WINDOW: &str = "from=2000-01-01&to=2100-01-01T00:00:00Z";

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn id(record: &Value) -> String {
    record["id"].as_str().unwrap().to_owned()
}

/// The org tree, the tickets by name, and the tenant.
struct Desk {
    tenant: Tenant,
    region: Value,
    dealer_a: Value,
    dealer_b: Value,
    station_a: Value,
    tickets: std::collections::HashMap<&'static str, String>,
}

impl Desk {
    fn ticket(&self, name: &str) -> String {
        self.tickets[name].clone()
    }

    fn ids(&self, names: &[&str]) -> Vec<String> {
        let mut ids: Vec<String> = names.iter().map(|n| self.ticket(n)).collect();
        ids.sort();
        ids
    }
}

async fn site(app: &TestApp, tenant: &Tenant, body: Value) -> Value {
    app.post(&tenant.key, "/api/v1/sites", &body)
        .await
        .expect(201)
}

async fn set_status(app: &TestApp, tenant: &Tenant, ticket: &str, status: &str) -> Value {
    app.patch(
        &tenant.key,
        &format!("/api/v1/tickets/{ticket}"),
        &json!({ "status": status }),
    )
    .await
    .expect(200)
}

async fn interaction(app: &TestApp, tenant: &Tenant, ticket: &str, body: Value) {
    app.post(
        &tenant.key,
        &format!("/api/v1/tickets/{ticket}/interactions"),
        &body,
    )
    .await
    .expect(201);
}

/// Resolves the ticket and answers the survey it sends, through the public endpoint.
async fn resolve_and_answer(app: &TestApp, tenant: &Tenant, ticket: &str, csat: i64, nps: i64) {
    let view = set_status(app, tenant, ticket, "resolved").await;
    let token = app.survey_token(&view).await;
    app.post_anonymous(
        &format!("{SURVEY_PATH}{token}"),
        &json!({ "csat": csat, "nps": nps }),
    )
    .await
    .expect(201);
}

/// Two dealers under one region, each with a station, and eight tickets:
///
/// | ticket | site      | contacts (handle s)      | status                 | survey  | SLA clocks        |
/// |--------|-----------|--------------------------|------------------------|---------|-------------------|
/// | a1     | station A | call 300                 | resolved               | 5 / 10  | both met          |
/// | a2     | station A | call 200, email out      | resolved               | 3 / 6   | both met          |
/// | a3     | station A | call 100                 | resolved, reopened, resolved | 4 / 8 | both met   |
/// | a4     | station A | chat 400                 | in_progress            |         | FR met, res breached |
/// | b1     | station B | none                     | resolved               | 2 / 9   | both met          |
/// | b2     | station B | none                     | new                    |         | both breached     |
/// | b3     | station B | visit 600                | pending_customer       |         | FR met, res paused |
/// | n1     | none      | note (no contact)        | new                    |         | both breached     |
///
/// a1 and a2 are for team Chassis at station A.
async fn desk(app: &TestApp, slug: &str) -> Desk {
    let tenant = app.tenant(slug).await;
    app.put_json(
        &tenant.key,
        "/api/v1/sla-policies/normal",
        &json!({ "first_response_minutes": 60, "resolution_minutes": 240 }),
    )
    .await
    .expect(200);
    let oem = site(
        app,
        &tenant,
        json!({ "kind": "oem", "code": "OEM", "name": "OEM" }),
    )
    .await;
    let region = site(
        app,
        &tenant,
        json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "East" }),
    )
    .await;
    let dealer_a = site(
        app,
        &tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "A", "name": "Dealer A" }),
    )
    .await;
    let dealer_b = site(
        app,
        &tenant,
        json!({ "kind": "dealer", "parent_id": region["id"], "code": "B", "name": "Dealer B" }),
    )
    .await;
    let station_a = site(app, &tenant, json!({ "kind": "station", "parent_id": dealer_a["id"], "code": "A-1", "name": "Station A" })).await;
    let station_b = site(app, &tenant, json!({ "kind": "station", "parent_id": dealer_b["id"], "code": "B-1", "name": "Station B" })).await;
    let customer = app
        .customer(
            &tenant,
            json!({ "name": "Li Wei", "email": "li.wei@example.com" }),
        )
        .await;

    let mut tickets = std::collections::HashMap::new();
    let plan: [(&str, Option<&Value>, Option<&str>); 8] = [
        ("a1", Some(&station_a), Some("Chassis")),
        ("a2", Some(&station_a), Some("Chassis")),
        ("a3", Some(&station_a), None),
        ("a4", Some(&station_a), None),
        ("b1", Some(&station_b), None),
        ("b2", Some(&station_b), None),
        ("b3", Some(&station_b), None),
        ("n1", None, None),
    ];
    for (name, station, team) in plan {
        let mut body = json!({ "description": format!("Ticket {name}"), "customer_id": customer["id"], "priority": "normal" });
        if let Some(station) = station {
            body["site_id"] = station["id"].clone();
        }
        if let Some(team) = team {
            body["team"] = json!(team);
        }
        let ticket = app.ticket(&tenant, body).await;
        assert_eq!(
            ticket["site_id"],
            station.map_or(Value::Null, |s| s["id"].clone())
        );
        tickets.insert(name, id(&ticket));
    }
    let t = |name: &str| tickets[name].clone();
    let call = |s: i64| json!({ "kind": "call", "direction": "inbound", "handle_time_seconds": s, "summary": "call" });

    interaction(app, &tenant, &t("a1"), call(300)).await;
    resolve_and_answer(app, &tenant, &t("a1"), 5, 10).await;

    interaction(app, &tenant, &t("a2"), call(200)).await;
    interaction(
        app,
        &tenant,
        &t("a2"),
        json!({ "kind": "email", "direction": "outbound", "summary": "follow-up" }),
    )
    .await;
    resolve_and_answer(app, &tenant, &t("a2"), 3, 6).await;

    interaction(app, &tenant, &t("a3"), call(100)).await;
    set_status(app, &tenant, &t("a3"), "resolved").await;
    set_status(app, &tenant, &t("a3"), "in_progress").await;
    resolve_and_answer(app, &tenant, &t("a3"), 4, 8).await;

    interaction(app, &tenant, &t("a4"), json!({ "kind": "chat", "direction": "inbound", "handle_time_seconds": 400, "summary": "chat" })).await;
    set_status(app, &tenant, &t("a4"), "in_progress").await;

    resolve_and_answer(app, &tenant, &t("b1"), 2, 9).await;

    interaction(app, &tenant, &t("b3"), json!({ "kind": "visit", "direction": "inbound", "handle_time_seconds": 600, "summary": "visit" })).await;
    set_status(app, &tenant, &t("b3"), "pending_customer").await;

    interaction(
        app,
        &tenant,
        &t("n1"),
        json!({ "kind": "note", "summary": "internal note" }),
    )
    .await;

    // Every running clock falls due well before this.
    tick(&app.app.core, now_ms() + 30 * DAY_MS).await.unwrap();

    Desk {
        tenant,
        region,
        dealer_a,
        dealer_b,
        station_a,
        tickets,
    }
}

async fn report(app: &TestApp, key: &str, query: &str) -> Value {
    app.get(key, &format!("/api/v1/reports/kpis?{WINDOW}&{query}"))
        .await
        .expect(200)
}

fn row<'a>(report: &'a Value, group: &Value) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| &r["group"] == group)
        .unwrap_or_else(|| panic!("no row for group {group} in {report}"))
}

/// Asserts `metric` of `row` is `value` from `numerator` / `denominator`.
#[track_caller]
fn assert_kpi(row: &Value, metric: &str, value: Value, numerator: i64, denominator: i64) {
    let cell = &row["kpis"][metric];
    assert_eq!(
        (
            &cell["value"],
            cell["numerator"].as_i64(),
            cell["denominator"].as_i64()
        ),
        (&value, Some(numerator), Some(denominator)),
        "{metric} of {}: {cell}",
        row["label"]
    );
}

async fn drill(app: &TestApp, key: &str, link: &str) -> Value {
    app.get(key, link).await.expect(200)
}

fn item_ids(drill: &Value) -> Vec<String> {
    let mut ids: Vec<String> = drill["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn kpis_per_dealer_match_hand_computed_values() {
    let app = TestApp::spawn().await;
    let d = desk(&app, "kpi-dealers").await;
    let body = report(&app, &d.tenant.key, "group_by=dealer").await;
    assert_eq!(body["group_by"], "dealer");
    assert_eq!(body["rows"].as_array().unwrap().len(), 3, "{body}");

    let a = row(&body, &d.dealer_a["id"]);
    assert_eq!(a["label"], "Dealer A");
    assert_eq!(a["tickets"], 4);
    assert_kpi(a, "fcr", json!(33.33), 1, 3);
    assert_kpi(a, "aht", json!(250.0), 1000, 4);
    assert_kpi(a, "csat", json!(66.67), 2, 3);
    assert_kpi(a, "nps", json!(0.0), 0, 3);
    assert_kpi(a, "backlog", json!(1.0), 1, 4);
    assert_kpi(a, "backlog_rate", json!(100.0), 1, 1);
    assert_kpi(a, "sla", json!(87.5), 7, 8);

    let b = row(&body, &d.dealer_b["id"]);
    assert_eq!(b["label"], "Dealer B");
    assert_eq!(b["tickets"], 3);
    assert_kpi(b, "fcr", json!(100.0), 1, 1);
    assert_kpi(b, "aht", json!(600.0), 600, 1);
    assert_kpi(b, "csat", json!(0.0), 0, 1);
    assert_kpi(b, "nps", json!(100.0), 1, 1);
    assert_kpi(b, "backlog", json!(2.0), 2, 3);
    assert_kpi(b, "backlog_rate", json!(50.0), 1, 2);
    assert_kpi(b, "sla", json!(60.0), 3, 5);

    // The ticket without a site has no dealer; empty denominators give null.
    let none = row(&body, &Value::Null);
    assert_eq!(none["label"], "(no dealer)");
    assert_eq!(none["tickets"], 1);
    assert_kpi(none, "fcr", Value::Null, 0, 0);
    assert_kpi(none, "aht", Value::Null, 0, 0);
    assert_kpi(none, "csat", Value::Null, 0, 0);
    assert_kpi(none, "nps", Value::Null, 0, 0);
    assert_kpi(none, "backlog", json!(1.0), 1, 1);
    assert_kpi(none, "backlog_rate", json!(100.0), 1, 1);
    assert_kpi(none, "sla", json!(0.0), 0, 2);

    let total = &body["total"];
    assert_eq!(total["tickets"], 8);
    assert_kpi(total, "fcr", json!(50.0), 2, 4);
    assert_kpi(total, "aht", json!(320.0), 1600, 5);
    assert_kpi(total, "csat", json!(50.0), 2, 4);
    assert_kpi(total, "nps", json!(25.0), 1, 4);
    assert_kpi(total, "backlog", json!(4.0), 4, 8);
    assert_kpi(total, "backlog_rate", json!(75.0), 3, 4);
    assert_kpi(total, "sla", json!(66.67), 10, 15);

    // Without group_by the report is one total row.
    let ungrouped = report(&app, &d.tenant.key, "").await;
    assert_eq!(ungrouped["rows"].as_array().unwrap().len(), 1);
    assert_eq!(ungrouped["rows"][0], ungrouped["total"]);
    assert_kpi(&ungrouped["rows"][0], "sla", json!(66.67), 10, 15);
}

#[tokio::test]
async fn region_site_and_team_groups_and_filters() {
    let app = TestApp::spawn().await;
    let d = desk(&app, "kpi-groups").await;

    let by_region = report(&app, &d.tenant.key, "group_by=region").await;
    let east = row(&by_region, &d.region["id"]);
    assert_eq!(
        (east["label"].as_str(), east["tickets"].as_i64()),
        (Some("East"), Some(7))
    );
    assert_kpi(east, "fcr", json!(50.0), 2, 4);
    assert_eq!(row(&by_region, &Value::Null)["tickets"], 1);

    let by_site = report(&app, &d.tenant.key, "group_by=site").await;
    let station_a = row(&by_site, &d.station_a["id"]);
    assert_eq!(station_a["label"], "Station A");
    assert_eq!(station_a["site_id"], d.station_a["id"]);
    assert_kpi(station_a, "aht", json!(250.0), 1000, 4);

    let by_team = report(&app, &d.tenant.key, "group_by=team").await;
    let chassis_key = json!(format!("{}/Chassis", id(&d.station_a)));
    let chassis = row(&by_team, &chassis_key);
    assert_eq!(chassis["label"], "Chassis @ Station A");
    assert_eq!(chassis["tickets"], 2);
    assert_kpi(chassis, "fcr", json!(50.0), 1, 2);
    assert_kpi(chassis, "csat", json!(50.0), 1, 2);
    assert_eq!(row(&by_team, &Value::Null)["tickets"], 6);

    // Nobody is assigned and every ticket came in by phone.
    let by_agent = report(&app, &d.tenant.key, "group_by=agent").await;
    let unassigned = row(&by_agent, &Value::Null);
    assert_eq!(
        (unassigned["label"].as_str(), unassigned["tickets"].as_i64()),
        (Some("(unassigned)"), Some(8))
    );
    let by_channel = report(&app, &d.tenant.key, "group_by=channel").await;
    assert_eq!(by_channel["rows"].as_array().unwrap().len(), 1);
    assert_kpi(row(&by_channel, &json!("phone")), "nps", json!(25.0), 1, 4);

    // A site filter takes the subtree; a priority nobody has leaves nothing.
    let only_b = report(&app, &d.tenant.key, &format!("site_id={}", id(&d.dealer_b))).await;
    assert_eq!(only_b["total"]["tickets"], 3);
    assert_kpi(&only_b["total"], "sla", json!(60.0), 3, 5);
    let none = report(&app, &d.tenant.key, "priority=critical&group_by=dealer").await;
    assert_eq!(none["rows"], json!([]));
    assert_eq!(none["total"]["tickets"], 0);
    assert_kpi(&none["total"], "fcr", Value::Null, 0, 0);

    // A window that ended before the tickets were created holds none of them.
    let past = app
        .get(
            &d.tenant.key,
            "/api/v1/reports/kpis?from=2001-01-01&to=2001-02-01",
        )
        .await
        .expect(200);
    assert_eq!(past["total"]["tickets"], 0);
    // The default window (the last 30 days) holds them all.
    let recent = app
        .get(&d.tenant.key, "/api/v1/reports/kpis")
        .await
        .expect(200);
    assert_eq!(recent["total"]["tickets"], 8);
}

#[tokio::test]
async fn drill_down_returns_exactly_the_tickets_behind_a_cell() {
    let app = TestApp::spawn().await;
    let d = desk(&app, "kpi-drill").await;
    let key = &d.tenant.key;
    let body = report(&app, key, "group_by=dealer").await;
    let a = row(&body, &d.dealer_a["id"]);
    let b = row(&body, &d.dealer_b["id"]);

    // FCR of dealer A: its resolved tickets, a1 the only first-contact resolution.
    let fcr = drill(&app, key, a["kpis"]["fcr"]["tickets"].as_str().unwrap()).await;
    assert_eq!(item_ids(&fcr), d.ids(&["a1", "a2", "a3"]));
    assert_eq!(
        (fcr["numerator"].as_i64(), fcr["denominator"].as_i64()),
        (Some(1), Some(3))
    );
    let counted: Vec<&Value> = fcr["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["numerator"] == 1)
        .map(|i| &i["id"])
        .collect();
    assert_eq!(counted, vec![&json!(d.ticket("a1"))]);

    // Backlog rate of dealer B: its open tickets, b2 past its SLA.
    let rate = drill(
        &app,
        key,
        b["kpis"]["backlog_rate"]["tickets"].as_str().unwrap(),
    )
    .await;
    assert_eq!(item_ids(&rate), d.ids(&["b2", "b3"]));
    assert_eq!(rate["value"], json!(50.0));

    // Backlog of the row without a dealer: the open ticket without a site.
    let none = row(&body, &Value::Null);
    let backlog = drill(
        &app,
        key,
        none["kpis"]["backlog"]["tickets"].as_str().unwrap(),
    )
    .await;
    assert_eq!(item_ids(&backlog), d.ids(&["n1"]));
    assert_eq!(backlog["numerator"], 1);

    // AHT and SLA of the total: every ticket with handle time, every decided clock.
    let aht = drill(
        &app,
        key,
        body["total"]["kpis"]["aht"]["tickets"].as_str().unwrap(),
    )
    .await;
    assert_eq!(item_ids(&aht), d.ids(&["a1", "a2", "a3", "a4", "b3"]));
    assert_eq!(
        (aht["numerator"].as_i64(), aht["denominator"].as_i64()),
        (Some(1600), Some(5))
    );
    assert_eq!(aht["truncated"], false);
    let sla = drill(
        &app,
        key,
        body["total"]["kpis"]["sla"]["tickets"].as_str().unwrap(),
    )
    .await;
    assert_eq!(sla["total"], 8);
    let sum = |field: &str| -> i64 {
        sla["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i[field].as_i64().unwrap())
            .sum()
    };
    assert_eq!((sum("numerator"), sum("denominator")), (10, 15));

    // Surveys of the Chassis team, named by its group key.
    let csat = app
        .get(
            key,
            &format!(
                "/api/v1/reports/kpis/tickets?{WINDOW}&metric=csat&group_by=team&group={}%2FChassis",
                id(&d.station_a)
            ),
        )
        .await
        .expect(200);
    assert_eq!(item_ids(&csat), d.ids(&["a1", "a2"]));
    assert_eq!(csat["value"], json!(50.0));
}

#[tokio::test]
async fn a_drill_down_past_its_limit_counts_every_ticket_and_lists_the_oldest_500() {
    const LIMIT: usize = 500;
    let app = TestApp::spawn().await;
    let tenant = app.tenant("kpi-drill-limit").await;
    let mut created = Vec::new();
    for n in 0..LIMIT + 3 {
        let ticket = app
            .ticket(
                &tenant,
                json!({
                    "subject": format!("刹车异响 #{n}"),
                    "description": "踩刹车时前轮有异响",
                    "category": "brakes",
                }),
            )
            .await;
        created.push(id(&ticket));
    }
    let backlog = drill(
        &app,
        &tenant.key,
        &format!("/api/v1/reports/kpis/tickets?{WINDOW}&metric=backlog"),
    )
    .await;
    assert_eq!(
        (&backlog["total"], &backlog["limit"], &backlog["truncated"]),
        (&json!(LIMIT + 3), &json!(LIMIT), &json!(true))
    );
    // The cell's figures count every ticket, not only the listed ones.
    assert_eq!(backlog["numerator"], json!(LIMIT + 3));
    let listed: Vec<String> = backlog["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(listed, created[..LIMIT]);
}

#[tokio::test]
async fn a_dealer_key_sees_only_its_subtree_and_another_tenant_sees_nothing() {
    let app = TestApp::spawn().await;
    let d = desk(&app, "kpi-scope").await;
    let dealer_key = app
        .post(
            &d.tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "dealer A desk", "role": "agent", "site_id": d.dealer_a["id"] }),
        )
        .await
        .expect(201)["secret"]
        .as_str()
        .unwrap()
        .to_owned();

    let body = report(&app, &dealer_key, "group_by=dealer").await;
    let rows = body["rows"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "{body}");
    assert_eq!(rows[0]["group"], d.dealer_a["id"]);
    assert_eq!(body["total"]["tickets"], 4);
    assert_kpi(&body["total"], "sla", json!(87.5), 7, 8);
    // Dealer B's cells, even asked for by name, hold nothing for this key.
    let other = app
        .get(
            &dealer_key,
            &format!(
                "/api/v1/reports/kpis/tickets?{WINDOW}&metric=backlog&group_by=dealer&group={}",
                id(&d.dealer_b)
            ),
        )
        .await
        .expect(200);
    assert_eq!(other["items"], json!([]));
    assert_eq!(other["denominator"], 0);
    let filtered = app
        .get(
            &dealer_key,
            &format!("/api/v1/reports/kpis?site_id={}", id(&d.dealer_b)),
        )
        .await;
    assert_eq!(filtered.status, 404, "{:?}", filtered.body);

    let stranger = app.tenant("kpi-stranger").await;
    let theirs = report(&app, &stranger.key, "group_by=dealer").await;
    assert_eq!(theirs["rows"], json!([]));
    assert_eq!(theirs["total"]["tickets"], 0);
    let drilled = app
        .get(
            &stranger.key,
            &format!(
                "/api/v1/reports/kpis/tickets?{WINDOW}&metric=fcr&group_by=dealer&group={}",
                id(&d.dealer_a)
            ),
        )
        .await
        .expect(200);
    assert_eq!(drilled["items"], json!([]));
}

#[tokio::test]
async fn bad_report_parameters_are_rejected_naming_the_problem() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("kpi-bad").await;
    let cases = [
        ("/api/v1/reports/kpis?group_by=week", "group_by"),
        ("/api/v1/reports/kpis?from=yesterday", "from"),
        ("/api/v1/reports/kpis?to=2026-13-01", "to"),
        (
            "/api/v1/reports/kpis?from=2026-02-01&to=2026-01-01",
            "before",
        ),
        ("/api/v1/reports/kpis?channel=pigeon", "channel"),
        ("/api/v1/reports/kpis?colour=red", "colour"),
        (
            "/api/v1/reports/kpis?metric=fcr",
            "/api/v1/reports/kpis/tickets",
        ),
        ("/api/v1/reports/kpis/tickets?metric=speed", "metric"),
        ("/api/v1/reports/kpis/tickets", "metric"),
        (
            "/api/v1/reports/kpis/tickets?metric=fcr&group_by=dealer",
            "group",
        ),
        (
            "/api/v1/reports/kpis/tickets?metric=fcr&group=x",
            "group_by",
        ),
    ];
    for (path, named) in cases {
        let reply = app.get(&tenant.key, path).await;
        assert_eq!(reply.status, 400, "{path}: {:?}", reply.body);
        assert!(
            reply.error_message().contains(named),
            "{path}: `{}` should name {named}",
            reply.error_message()
        );
    }
    let anonymous = app.get_anonymous("/api/v1/reports/kpis").await;
    assert_eq!(anonymous.status, 401);
}
