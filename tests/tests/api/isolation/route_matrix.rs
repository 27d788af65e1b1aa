//! The route × role matrix: every operation in the OpenAPI document, called as every kind
//! of caller, answers the status written for it in [`MATRIX`]. An operation without its
//! row fails, as does a row for an operation the document lacks.
//!
//! The records a path names belong to tenant A and, where records have a site, to dealer
//! B's subtree; the dealer keys belong to dealer A. So a dealer key that reaches a record
//! is a hole in the dealer wall, and tenant B's admin that reaches one is a hole in the
//! tenant wall. Request bodies name tenant A's records too (a ticket's customer, a team's
//! site, a dashboard's widgets), so that a create cannot reach across a wall either.
//!
//! Every 2xx reply to a keyed route is read for what its caller must not see: tenant B's
//! ids for tenant A's keys, tenant A's for tenant B's, dealer B's for dealer A's, and no
//! reply at all may carry a survey token or an API key's secret after its creation.

use std::collections::{BTreeMap, BTreeSet};

use axle_tests::{
    ADMIN_TOKEN, BACKLOG_CHART, KPI_SUMMARY, METRICS_TOKEN, Reply, SAFETY_ESCALATION, Tenant,
    TestApp, VIP_ROUTING, vin,
};
use serde_json::{Value, json};

/// Who calls, in the order each row is called: the tenant admin last, so that a
/// destructive call it is allowed does not change what the refused callers meet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Who {
    /// No `Authorization` header.
    Anonymous,
    /// A bearer token that is not the shape of any key.
    Malformed,
    /// A key of tenant A that its admin revoked.
    Revoked,
    /// The `/metrics` scrape token.
    Scraper,
    /// The platform operator's admin token.
    Platform,
    /// Tenant B's admin key.
    OtherTenant,
    /// An agent key limited to dealer A's subtree.
    DealerAgent,
    /// An admin key limited to dealer A's subtree.
    DealerAdmin,
    /// An agent key of the whole of tenant A.
    Agent,
    /// An admin key of the whole of tenant A.
    Admin,
}

const CALLERS: [Who; 10] = [
    Who::Anonymous,
    Who::Malformed,
    Who::Revoked,
    Who::Scraper,
    Who::Platform,
    Who::OtherTenant,
    Who::DealerAgent,
    Who::DealerAdmin,
    Who::Agent,
    Who::Admin,
];

/// The expected status of every operation for every caller, in [`CALLERS`] order.
#[rustfmt::skip]
const MATRIX: &[(&str, [u16; 10])] = &[
    //                                                   anon mal  rev  scr  plat othr dAg  dAd  agt  adm
    ("GET /healthz",                                     [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /metrics",                                     [401, 401, 401, 200, 401, 401, 401, 401, 401, 401]),
    ("GET /api/docs",                                    [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/docs/{file}",                             [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/openapi.json",                         [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /kb/{id}",                                     [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("GET /api/v1/surveys/{token}",                      [200, 200, 200, 200, 200, 200, 200, 200, 200, 200]),
    ("POST /api/v1/surveys/{token}",                     [201, 409, 409, 409, 409, 409, 409, 409, 409, 409]),
    // The platform operator.
    ("POST /api/v1/tenants",                             [401, 401, 401, 401, 201, 401, 401, 401, 401, 401]),
    ("PUT /api/v1/tenants/{slug}/plugin-policy",         [401, 401, 401, 401, 200, 401, 401, 401, 401, 401]),
    // Keys and the org tree.
    ("GET /api/v1/api-keys",                             [401, 401, 401, 401, 401, 200, 403, 200, 403, 200]),
    ("POST /api/v1/api-keys",                            [401, 401, 401, 401, 401, 404, 403, 404, 403, 201]),
    ("DELETE /api/v1/api-keys/{id}",                     [401, 401, 401, 401, 401, 404, 403, 404, 403, 204]),
    ("GET /api/v1/sites",                                [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/sites",                               [401, 401, 401, 401, 401, 404, 403, 404, 403, 201]),
    ("GET /api/v1/sites/{id}",                           [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("PATCH /api/v1/sites/{id}",                         [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("GET /api/v1/teams",                                [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/teams",                               [401, 401, 401, 401, 401, 404, 403, 404, 403, 201]),
    ("GET /api/v1/teams/{id}",                           [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/agents",                               [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/agents",                              [401, 401, 401, 401, 401, 404, 403, 404, 403, 201]),
    ("GET /api/v1/agents/{id}",                          [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    // Customers and vehicles are the tenant's, shared by its dealers.
    ("GET /api/v1/customers",                            [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/customers",                           [401, 401, 401, 401, 401, 201, 201, 201, 201, 201]),
    ("GET /api/v1/customers/{id}",                       [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("PATCH /api/v1/customers/{id}",                     [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("GET /api/v1/customers/{id}/360",                   [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("GET /api/v1/vehicles",                             [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/vehicles",                            [401, 401, 401, 401, 401, 422, 201, 201, 201, 201]),
    ("GET /api/v1/vehicles/{id}",                        [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("PATCH /api/v1/vehicles/{id}",                      [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("GET /api/v1/vehicles/{id}/service-records",        [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("POST /api/v1/vehicles/{id}/service-records",       [401, 401, 401, 401, 401, 404, 201, 201, 201, 201]),
    ("POST /api/v1/imports/{kind}",                      [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    ("GET /api/v1/field-definitions",                    [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/field-definitions",                   [401, 401, 401, 401, 401, 201, 403, 403, 403, 201]),
    ("GET /api/v1/field-definitions/{id}",               [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("PATCH /api/v1/field-definitions/{id}",             [401, 401, 401, 401, 401, 404, 403, 403, 403, 200]),
    ("DELETE /api/v1/field-definitions/{id}",            [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    ("GET /api/v1/campaigns",                            [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/campaigns",                           [401, 401, 401, 401, 401, 201, 403, 403, 403, 201]),
    // Tickets: the dealer wall.
    ("GET /api/v1/tickets",                              [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/tickets",                             [401, 401, 401, 401, 401, 422, 201, 201, 201, 201]),
    ("POST /api/v1/intake/calls",                        [401, 401, 401, 401, 401, 201, 403, 403, 201, 201]),
    ("GET /api/v1/tickets/{id}",                         [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("PATCH /api/v1/tickets/{id}",                       [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/tickets/{id}/timeline",                [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/tickets/{id}/sla",                     [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/tickets/{id}/interactions",            [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("POST /api/v1/tickets/{id}/interactions",           [401, 401, 401, 401, 401, 404, 404, 404, 201, 201]),
    ("GET /api/v1/tickets/{id}/notifications",           [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("POST /api/v1/tickets/{id}/notifications",          [401, 401, 401, 401, 401, 404, 404, 404, 201, 201]),
    ("GET /api/v1/tickets/{id}/surveys",                 [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/webhook-secret",                       [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    // SLA policies and the holiday calendar are tenant-wide.
    ("GET /api/v1/sla-policies",                         [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("PUT /api/v1/sla-policies/{priority}",              [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    ("GET /api/v1/holidays",                             [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("PUT /api/v1/holidays/{day}",                       [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    ("DELETE /api/v1/holidays/{day}",                    [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    // Reports and dashboards: a dealer's numbers cover its subtree.
    ("GET /api/v1/reports/kpis",                         [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("GET /api/v1/reports/kpis/tickets",                 [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("GET /api/v1/dashboards",                           [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/dashboards",                          [401, 401, 401, 401, 401, 422, 403, 403, 403, 201]),
    ("GET /api/v1/dashboards/{id}",                      [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("PATCH /api/v1/dashboards/{id}",                    [401, 401, 401, 401, 401, 422, 403, 403, 403, 200]),
    ("DELETE /api/v1/dashboards/{id}",                   [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    ("GET /api/v1/dashboards/{id}/widgets/{widget_id}/svg", [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    // The knowledge base: read by every key of the tenant, written tenant-wide.
    ("GET /api/v1/kb/articles",                          [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/kb/articles",                         [401, 401, 401, 401, 401, 201, 403, 403, 403, 201]),
    ("GET /api/v1/kb/articles/{id}",                     [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("PATCH /api/v1/kb/articles/{id}",                   [401, 401, 401, 401, 401, 404, 403, 403, 403, 200]),
    ("DELETE /api/v1/kb/articles/{id}",                  [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    // Plugins: uploads are a tenant-wide admin's. The installation a path names is dealer
    // B's own (scoped to its subtree), so dealer A's keys meet the dealer wall.
    ("GET /api/v1/plugins",                              [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/plugins",                             [401, 401, 401, 401, 401, 201, 403, 403, 403, 201]),
    ("GET /api/v1/plugins/{id}",                         [401, 401, 401, 401, 401, 404, 200, 200, 200, 200]),
    ("GET /api/v1/installations",                        [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("POST /api/v1/installations",                       [401, 401, 401, 401, 401, 404, 403, 403, 403, 201]),
    ("GET /api/v1/installations/{id}",                   [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("PATCH /api/v1/installations/{id}",                 [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("DELETE /api/v1/installations/{id}",                [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    ("GET /api/v1/installations/{id}/history",           [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("GET /api/v1/installations/{id}/invocations",       [401, 401, 401, 401, 401, 404, 404, 404, 200, 200]),
    ("POST /api/v1/installations/{id}/upgrade",          [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("DELETE /api/v1/installations/{id}/upgrade",        [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("POST /api/v1/installations/{id}/upgrade/approve",  [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("POST /api/v1/installations/{id}/rollback",         [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("PUT /api/v1/installations/{id}/shadow",            [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("DELETE /api/v1/installations/{id}/shadow",         [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("POST /api/v1/installations/{id}/shadow/promote",   [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("GET /api/v1/installations/{id}/shadow-report",     [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("POST /api/v1/installations/{id}/replay",           [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("PUT /api/v1/installations/{id}/opt-outs/{site_id}", [401, 401, 401, 401, 401, 404, 403, 404, 403, 200]),
    ("DELETE /api/v1/installations/{id}/opt-outs/{site_id}", [401, 401, 401, 401, 401, 404, 403, 404, 403, 204]),
    // The OEM's catalogue for dealers: published tenant-wide, read by every admin.
    ("GET /api/v1/dealer-catalogue",                     [401, 401, 401, 401, 401, 200, 403, 200, 403, 200]),
    ("PUT /api/v1/dealer-catalogue/{plugin}",            [401, 401, 401, 401, 401, 404, 403, 403, 403, 200]),
    ("DELETE /api/v1/dealer-catalogue/{plugin}",         [401, 401, 401, 401, 401, 404, 403, 403, 403, 204]),
    ("GET /api/v1/invocations",                          [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("GET /api/v1/plugin-snapshot",                      [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("GET /api/v1/plugin-policy",                        [401, 401, 401, 401, 401, 200, 200, 200, 200, 200]),
    ("PATCH /api/v1/plugin-policy",                      [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    ("GET /api/v1/settings",                             [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
    ("PATCH /api/v1/settings",                           [401, 401, 401, 401, 401, 200, 403, 403, 403, 200]),
];

/// A request body.
enum Body {
    None,
    Json(Value),
    Csv(String),
    /// A plugin upload: manifest text and component bytes.
    Upload(String, Vec<u8>),
}

/// What a caller must not find in a 2xx reply.
#[derive(Default)]
struct Secrets {
    /// Ids of tenant A's records.
    tenant_a: BTreeSet<String>,
    /// Ids of tenant B's records.
    tenant_b: BTreeSet<String>,
    /// Ids of records in dealer B's subtree (of tenant A).
    dealer_b: BTreeSet<String>,
    /// Survey tokens and API key secrets: in no reply at all.
    anywhere: BTreeSet<String>,
}

/// Tenant A (an OEM with dealers A and B) and tenant B, with one of every record.
struct World {
    app: TestApp,
    a: Tenant,
    b: Tenant,
    agent: String,
    dealer_admin: String,
    dealer_agent: String,
    revoked: String,
    dealer_b: Value,
    station_b: Value,
    team_b: Value,
    agent_b: Value,
    customer: Value,
    vehicle: Value,
    ticket_b: Value,
    survey_token: String,
    plugin_version: Value,
    installation: Value,
    kpi: Value,
    dashboard: Value,
    field: Value,
    article: Value,
    secrets: Secrets,
    /// Makes each created record unique: phones, VINs, codes, call ids.
    serial: u32,
}

fn id(record: &Value) -> String {
    record["id"]
        .as_str()
        .unwrap_or_else(|| panic!("a record with an id: {record}"))
        .to_owned()
}

fn safety_config() -> Value {
    json!({ "default_manager": "+8613800000000" })
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let a = app.tenant("matrix-a").await;
        let b = app.tenant("matrix-b").await;
        let mut secrets = Secrets::default();
        secrets.tenant_a.insert(a.id.clone());
        secrets.tenant_b.insert(b.id.clone());
        secrets.anywhere.extend([a.key.clone(), b.key.clone()]);

        let mut w = World {
            app,
            a,
            b,
            agent: String::new(),
            dealer_admin: String::new(),
            dealer_agent: String::new(),
            revoked: String::new(),
            dealer_b: Value::Null,
            station_b: Value::Null,
            team_b: Value::Null,
            agent_b: Value::Null,
            customer: Value::Null,
            vehicle: Value::Null,
            ticket_b: Value::Null,
            survey_token: String::new(),
            plugin_version: Value::Null,
            installation: Value::Null,
            kpi: Value::Null,
            dashboard: Value::Null,
            field: Value::Null,
            article: Value::Null,
            secrets,
            serial: 0,
        };

        // The org tree: OEM → East China → dealers A and B, a station each.
        let oem = w
            .create_a(
                "/api/v1/sites",
                json!({ "kind": "oem", "code": "OEM", "name": "Axle Motors 车轴汽车" }),
            )
            .await;
        let region = w
            .create_a("/api/v1/sites", json!({ "kind": "region", "parent_id": oem["id"], "code": "EC", "name": "华东 East China" }))
            .await;
        let dealer_a = w
            .create_a("/api/v1/sites", json!({ "kind": "dealer", "parent_id": region["id"], "code": "SH-001", "name": "上海浦东 4S 店" }))
            .await;
        let station_a = w
            .create_a("/api/v1/sites", json!({ "kind": "station", "parent_id": dealer_a["id"], "code": "SH-001-S1", "name": "浦东服务站", "service_area": ["上海"] }))
            .await;
        w.dealer_b = w
            .create_a("/api/v1/sites", json!({ "kind": "dealer", "parent_id": region["id"], "code": "HZ-002", "name": "杭州西湖 4S 店" }))
            .await;
        w.station_b = w
            .create_a("/api/v1/sites", json!({ "kind": "station", "parent_id": w.dealer_b["id"], "code": "HZ-002-S1", "name": "西湖服务站", "service_area": ["杭州"] }))
            .await;
        w.secrets
            .dealer_b
            .extend([id(&w.dealer_b), id(&w.station_b)]);
        let team_a = w
            .create_a("/api/v1/teams", json!({ "site_id": station_a["id"], "name": "Brakes 制动组", "skills": ["brakes"] }))
            .await;
        w.create_a(
            "/api/v1/agents",
            json!({ "team_id": team_a["id"], "name": "王芳" }),
        )
        .await;
        w.team_b = w
            .create_a("/api/v1/teams", json!({ "site_id": w.station_b["id"], "name": "Chassis 底盘组", "skills": ["brakes"] }))
            .await;
        w.agent_b = w
            .create_a(
                "/api/v1/agents",
                json!({ "team_id": w.team_b["id"], "name": "赵经理", "role": "manager" }),
            )
            .await;
        w.secrets.dealer_b.extend([id(&w.team_b), id(&w.agent_b)]);

        // The keys the matrix calls with, and one revoked before it starts.
        w.agent = w
            .key_a(json!({ "name": "hotline", "role": "agent" }))
            .await
            .1;
        w.dealer_admin = w
            .key_a(json!({ "name": "dealer A admin", "role": "admin", "site_id": dealer_a["id"] }))
            .await
            .1;
        w.dealer_agent = w
            .key_a(json!({ "name": "dealer A desk", "role": "agent", "site_id": station_a["id"] }))
            .await
            .1;
        let (revoked_id, revoked) = w.key_a(json!({ "name": "left", "role": "agent" })).await;
        w.app
            .delete(&w.a.key, &format!("/api/v1/api-keys/{revoked_id}"))
            .await
            .expect(204);
        w.revoked = revoked;

        // Records: a customer with her car, a ticket at each dealer, a resolved one at
        // dealer B whose customer was sent a survey.
        w.customer = w
            .create_a("/api/v1/customers", json!({ "name": "张伟", "phone": "+8613912345601", "email": "zhang.wei@example.com", "city": "杭州" }))
            .await;
        w.vehicle = w
            .create_a(
                "/api/v1/vehicles",
                json!({ "vin": vin("LSVAX4100N2000101"), "customer_id": w.customer["id"] }),
            )
            .await;
        w.app
            .post(&w.dealer_agent, "/api/v1/tickets", &json!({ "description": "空调不制冷 A/C blows warm", "customer_id": w.customer["id"] }))
            .await
            .expect(201);
        w.ticket_b = w.dealer_b_ticket("刹车踏板发软 soft brake pedal").await;
        w.app
            .post(
                &w.a.key,
                &format!("/api/v1/tickets/{}/interactions", id(&w.ticket_b)),
                &json!({ "kind": "note", "summary": "Asked for photos" }),
            )
            .await
            .expect(201);
        let surveyed = w
            .dealer_b_ticket("雨后刹车异响 brakes squeal after rain")
            .await;
        let resolved = w
            .app
            .patch(
                &w.a.key,
                &format!("/api/v1/tickets/{}", id(&surveyed)),
                &json!({ "status": "resolved" }),
            )
            .await
            .expect(200);
        w.survey_token = w.app.survey_token(&resolved).await;
        w.secrets.anywhere.insert(w.survey_token.clone());

        // Tenant-wide records.
        w.field = w
            .create_a("/api/v1/field-definitions", json!({ "entity": "ticket", "name": "odometer", "label": "里程 Odometer", "kind": "integer" }))
            .await;
        w.article = w
            .create_a("/api/v1/kb/articles", json!({ "title": "刹车踏板发软怎么办", "body": "请立即停车检查刹车油。", "status": "published" }))
            .await;
        w.create_a("/api/v1/campaigns", json!({ "code": "R-2026-014", "kind": "recall", "title": "后制动软管检查", "vin_prefixes": ["LSVAX41"] }))
            .await;
        w.app
            .put_json(
                &w.a.key,
                "/api/v1/holidays/2026-10-01",
                &json!({ "name": "国庆节" }),
            )
            .await
            .expect(200);

        // Plugins: safety-escalation in three versions (0.3.0 asks for one more
        // capability), installed at 0.1.0; kpi-summary behind a dashboard.
        w.installation = w.install_safety().await;
        for (version, capabilities) in
            [("0.2.0", "[\"notify\"]"), ("0.3.0", "[\"notify\", \"kv\"]")]
        {
            let reply = w
                .app
                .upload(
                    &w.a,
                    &SAFETY_ESCALATION.manifest_as(version, capabilities),
                    SAFETY_ESCALATION.component(),
                )
                .await;
            assert!(reply.status == 201 || reply.status == 200, "{reply:?}");
        }
        // vip-routing is uploaded, for the matrix to install.
        let reply = w
            .app
            .upload(&w.a, &VIP_ROUTING.manifest(), VIP_ROUTING.component())
            .await;
        assert_eq!(reply.status, 201, "{reply:?}");
        let versions = w.app.get(&w.a.key, "/api/v1/plugins").await.expect(200);
        w.plugin_version = versions["items"][0].clone();
        w.record_a(&w.plugin_version.clone());
        w.kpi = w.app.install(&w.a, &KPI_SUMMARY, json!({}), &[]).await;
        w.record_a(&w.kpi.clone());
        w.dashboard = w.create_a("/api/v1/dashboards", w.dashboard_body()).await;
        // A brake ticket at dealer B ran the safety rule, so the invocation audit has
        // a row about a dealer B ticket.
        w.dealer_b_ticket("刹车失灵 brake failure on the highway")
            .await;

        // Tenant B's own records.
        for (path, body) in [
            (
                "/api/v1/sites",
                json!({ "kind": "oem", "code": "OEM", "name": "Other Motors" }),
            ),
            (
                "/api/v1/customers",
                json!({ "name": "李娜", "phone": "+8613800001111" }),
            ),
            (
                "/api/v1/tickets",
                json!({ "description": "engine light on" }),
            ),
        ] {
            let record = w.app.post(&w.b.key, path, &body).await.expect(201);
            w.secrets.tenant_b.insert(id(&record));
        }
        w
    }

    /// Posts `body` to `path` as tenant A's admin; the created record's id is tenant A's.
    async fn create_a(&mut self, path: &str, body: Value) -> Value {
        let record = self.app.post(&self.a.key, path, &body).await.expect(201);
        self.record_a(&record);
        record
    }

    fn record_a(&mut self, record: &Value) {
        self.secrets.tenant_a.insert(id(record));
    }

    /// A new key of tenant A: its id and its secret.
    async fn key_a(&mut self, body: Value) -> (String, String) {
        let created = self
            .app
            .post(&self.a.key, "/api/v1/api-keys", &body)
            .await
            .expect(201);
        let key_id = id(&created["key"]);
        let secret = created["secret"].as_str().expect("a secret").to_owned();
        self.secrets.tenant_a.insert(key_id.clone());
        self.secrets.anywhere.insert(secret.clone());
        (key_id, secret)
    }

    /// A ticket filed at dealer B's station.
    async fn dealer_b_ticket(&mut self, description: &str) -> Value {
        let ticket = self
            .create_a(
                "/api/v1/tickets",
                json!({ "description": description, "customer_id": self.customer["id"],
                        "site_id": self.station_b["id"], "category": "safety" }),
            )
            .await;
        self.secrets.dealer_b.insert(id(&ticket));
        ticket
    }

    /// safety-escalation at 0.1.0, installed by the OEM for dealer B's subtree.
    async fn install_safety(&mut self) -> Value {
        let reply = self
            .app
            .upload(
                &self.a,
                &SAFETY_ESCALATION.manifest(),
                SAFETY_ESCALATION.component(),
            )
            .await;
        assert!(reply.status == 201 || reply.status == 200, "{reply:?}");
        let installation = self
            .app
            .post(&self.a.key, "/api/v1/installations", &json!({ "plugin": "safety-escalation", "version": "0.1.0", "config": safety_config(), "capabilities": ["notify"], "scope": { "site_id": self.dealer_b["id"] } }))
            .await
            .expect(201);
        assert_eq!(installation["scope"]["site_id"], self.dealer_b["id"]);
        self.record_a(&installation);
        self.secrets.dealer_b.insert(id(&installation));
        installation
    }

    /// safety-escalation installed afresh at 0.1.0 for dealer B (a plugin is installed
    /// once per scope): its id.
    async fn reinstall_safety(&mut self) -> String {
        self.app
            .delete(
                &self.a.key,
                &format!("/api/v1/installations/{}", id(&self.installation)),
            )
            .await
            .expect(204);
        self.installation = self.install_safety().await;
        id(&self.installation)
    }

    fn dashboard_body(&self) -> Value {
        json!({ "name": "服务概览 Service overview", "widgets": [{ "installation_id": self.kpi["id"] }] })
    }

    fn next(&mut self) -> u32 {
        self.serial += 1;
        self.serial
    }

    /// The key `who` calls with, if any.
    fn token(&self, who: Who) -> Option<&str> {
        match who {
            Who::Anonymous => None,
            Who::Malformed => Some("not an axle key"),
            Who::Revoked => Some(&self.revoked),
            Who::Scraper => Some(METRICS_TOKEN),
            Who::Platform => Some(ADMIN_TOKEN),
            Who::OtherTenant => Some(&self.b.key),
            Who::DealerAgent => Some(&self.dealer_agent),
            Who::DealerAdmin => Some(&self.dealer_admin),
            Who::Agent => Some(&self.agent),
            Who::Admin => Some(&self.a.key),
        }
    }

    /// The ids `who` must not find in a 2xx reply to a keyed route.
    fn hidden_from(&self, who: Who) -> Vec<&String> {
        let s = &self.secrets;
        match who {
            Who::OtherTenant => s.tenant_a.iter().collect(),
            Who::DealerAgent | Who::DealerAdmin => s.tenant_b.iter().chain(&s.dealer_b).collect(),
            Who::Agent | Who::Admin => s.tenant_b.iter().collect(),
            Who::Anonymous | Who::Malformed | Who::Revoked | Who::Scraper | Who::Platform => {
                Vec::new()
            }
        }
    }

    /// The values of `operation`'s path parameters, setting up what its allowed call
    /// consumes: a fresh record to delete, an upgrade waiting for approval, a shadow.
    async fn prepare(&mut self, operation: &str) -> BTreeMap<&'static str, String> {
        let mut params = BTreeMap::new();
        let (_, path) = operation.split_once(' ').expect("METHOD /path");
        let installation = || id(&self.installation);
        if path.contains("{plugin}") {
            params.insert("plugin", "vip-routing".to_owned());
        }
        if path.contains("{site_id}") {
            params.insert("site_id", id(&self.station_b));
        }
        let value = |name: &str| -> Option<String> {
            Some(match name {
                "file" => "swagger-ui.css".to_owned(),
                "token" => self.survey_token.clone(),
                "slug" => "matrix-a".to_owned(),
                "priority" => "high".to_owned(),
                "day" => "2026-10-01".to_owned(),
                "kind" => "customers".to_owned(),
                _ => return None,
            })
        };
        for name in ["file", "token", "slug", "priority", "day", "kind"] {
            if path.contains(&format!("{{{name}}}")) {
                params.insert(name, value(name).expect("a value"));
            }
        }
        if path.contains("{id}") {
            let resource = path
                .trim_start_matches("/api/v1")
                .split('/')
                .nth(1)
                .expect("a resource");
            let target = match resource {
                "kb" => id(&self.article),
                "customers" => id(&self.customer),
                "vehicles" => id(&self.vehicle),
                "tickets" => id(&self.ticket_b),
                "sites" => id(&self.station_b),
                "teams" => id(&self.team_b),
                "agents" => id(&self.agent_b),
                "field-definitions" => id(&self.field),
                "dashboards" => id(&self.dashboard),
                "plugins" => id(&self.plugin_version),
                "installations" => installation(),
                "api-keys" => String::new(),
                other => panic!("no record for /{other}/{{id}}"),
            };
            params.insert("id", target);
        }

        // What the tenant admin's call consumes or needs, made fresh for it.
        let a = self.a.key.clone();
        match operation {
            "GET /api/v1/dashboards/{id}/widgets/{widget_id}/svg" => {
                // A change to the dashboard replaces its widgets: read the current one.
                let dashboard = self
                    .app
                    .get(&a, &format!("/api/v1/dashboards/{}", id(&self.dashboard)))
                    .await
                    .expect(200);
                params.insert("widget_id", id(&dashboard["widgets"][0]));
            }
            "DELETE /api/v1/api-keys/{id}" => {
                let n = self.next();
                let (key_id, _) = self
                    .key_a(json!({ "name": format!("dealer B desk {n}"), "role": "agent", "site_id": self.station_b["id"] }))
                    .await;
                self.secrets.dealer_b.insert(key_id.clone());
                params.insert("id", key_id);
            }
            "DELETE /api/v1/field-definitions/{id}" => {
                let n = self.next();
                let field = self
                    .create_a("/api/v1/field-definitions", json!({ "entity": "customer", "name": format!("loyalty_{n}"), "label": "Loyalty", "kind": "text" }))
                    .await;
                params.insert("id", id(&field));
            }
            "DELETE /api/v1/holidays/{day}" => {
                self.app
                    .put_json(
                        &a,
                        "/api/v1/holidays/2026-10-02",
                        &json!({ "name": "国庆节" }),
                    )
                    .await
                    .expect(200);
                params.insert("day", "2026-10-02".to_owned());
            }
            "DELETE /api/v1/dashboards/{id}" => {
                let dashboard = self
                    .create_a("/api/v1/dashboards", self.dashboard_body())
                    .await;
                params.insert("id", id(&dashboard));
            }
            "DELETE /api/v1/kb/articles/{id}" => {
                let article = self
                    .create_a(
                        "/api/v1/kb/articles",
                        json!({ "title": "Outdated", "body": "Soon gone.", "status": "draft" }),
                    )
                    .await;
                params.insert("id", id(&article));
            }
            "DELETE /api/v1/installations/{id}" => {
                let chart = self
                    .app
                    .install(&self.a, &BACKLOG_CHART, json!({}), &[])
                    .await;
                self.record_a(&chart);
                params.insert("id", id(&chart));
            }
            "PUT /api/v1/installations/{id}/opt-outs/{site_id}" => {
                // Only a tenant-wide installation can be opted out of.
                params.insert("id", id(&self.kpi));
            }
            "DELETE /api/v1/installations/{id}/opt-outs/{site_id}" => {
                let path = format!(
                    "/api/v1/installations/{}/opt-outs/{}",
                    id(&self.kpi),
                    id(&self.station_b)
                );
                self.app.put_json(&a, &path, &json!({})).await.expect(200);
                params.insert("id", id(&self.kpi));
            }
            "DELETE /api/v1/dealer-catalogue/{plugin}" => {
                self.app
                    .put_json(&a, "/api/v1/dealer-catalogue/vip-routing", &json!({}))
                    .await
                    .expect(200);
            }
            "POST /api/v1/installations/{id}/replay" => {
                // A brake ticket for the fresh installation to have an input to replay.
                let fresh = self.reinstall_safety().await;
                self.dealer_b_ticket("刹车异响 brake noise").await;
                params.insert("id", fresh);
            }
            "POST /api/v1/installations/{id}/upgrade" | "PUT /api/v1/installations/{id}/shadow" => {
                let fresh = self.reinstall_safety().await;
                params.insert("id", fresh);
            }
            "DELETE /api/v1/installations/{id}/upgrade"
            | "POST /api/v1/installations/{id}/upgrade/approve" => {
                let fresh = self.reinstall_safety().await;
                self.app
                    .post(
                        &a,
                        &format!("/api/v1/installations/{fresh}/upgrade"),
                        &json!({ "version": "0.3.0" }),
                    )
                    .await
                    .expect(202);
                params.insert("id", fresh);
            }
            "POST /api/v1/installations/{id}/rollback" => {
                let fresh = self.reinstall_safety().await;
                self.app
                    .post(
                        &a,
                        &format!("/api/v1/installations/{fresh}/upgrade"),
                        &json!({ "version": "0.2.0" }),
                    )
                    .await
                    .expect(200);
                params.insert("id", fresh);
            }
            "DELETE /api/v1/installations/{id}/shadow"
            | "POST /api/v1/installations/{id}/shadow/promote" => {
                let fresh = self.reinstall_safety().await;
                self.app
                    .put_json(
                        &a,
                        &format!("/api/v1/installations/{fresh}/shadow"),
                        &json!({ "version": "0.2.0" }),
                    )
                    .await
                    .expect(200);
                params.insert("id", fresh);
            }
            _ => {}
        }
        params
    }

    /// The body `operation` is called with; `n` makes it unique where it must be.
    fn body(&self, operation: &str, n: u32) -> Body {
        let customer = &self.customer["id"];
        Body::Json(match operation {
            "POST /api/v1/surveys/{token}" => {
                json!({ "csat": 5, "nps": 10, "comment": "一次修好 fixed first time" })
            }
            "POST /api/v1/tenants" => {
                json!({ "name": format!("Tenant {n}"), "slug": format!("matrix-new-{n}") })
            }
            "PUT /api/v1/tenants/{slug}/plugin-policy" => json!({ "max_installations": 100 }),
            "POST /api/v1/api-keys" => {
                json!({ "name": "dealer B desk", "role": "agent", "site_id": self.station_b["id"] })
            }
            "POST /api/v1/sites" => {
                json!({ "kind": "station", "parent_id": self.dealer_b["id"], "code": format!("HZ-002-S{n}"), "name": "西湖二站" })
            }
            "PATCH /api/v1/sites/{id}" => json!({ "name": "西湖服务站 West Lake" }),
            "POST /api/v1/teams" => {
                json!({ "site_id": self.station_b["id"], "name": format!("Team {n}") })
            }
            "POST /api/v1/agents" => {
                json!({ "team_id": self.team_b["id"], "name": format!("Agent {n}") })
            }
            "POST /api/v1/customers" => {
                json!({ "name": "陈静", "phone": format!("+86139000{n:05}") })
            }
            "PATCH /api/v1/customers/{id}" => json!({ "city": "杭州" }),
            "POST /api/v1/vehicles" => {
                json!({ "vin": vin(&format!("LSVAX4100P3{n:06}")), "customer_id": customer })
            }
            "PATCH /api/v1/vehicles/{id}" => json!({ "mileage_km": 12000 + n }),
            "POST /api/v1/vehicles/{id}/service-records" => {
                json!({ "service_date": "2026-01-05", "mileage_km": 12000, "work_done": "oil change", "dealer_code": "HZ-002" })
            }
            "POST /api/v1/imports/{kind}" => {
                return Body::Csv("external_id,name,phone\nC-1,Zhang San,13900000000\n".to_owned());
            }
            "POST /api/v1/field-definitions" => {
                json!({ "entity": "ticket", "name": format!("odometer_{n}"), "label": "Odometer", "kind": "integer" })
            }
            "PATCH /api/v1/field-definitions/{id}" => json!({ "label": "里程 Odometer (km)" }),
            "POST /api/v1/campaigns" => {
                json!({ "code": format!("R-{n}"), "kind": "recall", "title": "Brake hose", "vin_prefixes": ["LSVAX41"] })
            }
            "POST /api/v1/tickets" => {
                json!({ "description": "雨刮器异响 wiper noise", "customer_id": customer })
            }
            "POST /api/v1/intake/calls" => {
                json!({ "phone": format!("+86 139 1111 {n:04}"), "name": "刘洋", "description": "车门异响 door rattle", "call_id": format!("cc-matrix-{n}") })
            }
            "PATCH /api/v1/tickets/{id}" => json!({ "priority": "high" }),
            "POST /api/v1/tickets/{id}/interactions" => {
                json!({ "kind": "note", "summary": "Called back" })
            }
            "POST /api/v1/tickets/{id}/notifications" => {
                json!({ "channel": "email", "to": "zhang.wei@example.com", "body": "Your part has arrived." })
            }
            "PUT /api/v1/sla-policies/{priority}" => {
                json!({ "first_response_minutes": 60, "resolution_minutes": 480 })
            }
            "PUT /api/v1/holidays/{day}" => json!({ "name": "国庆节 National Day" }),
            "POST /api/v1/dashboards" | "PATCH /api/v1/dashboards/{id}" => self.dashboard_body(),
            "POST /api/v1/kb/articles" => {
                json!({ "title": format!("Article {n}"), "body": "Check the brake fluid.", "status": "published" })
            }
            "PATCH /api/v1/kb/articles/{id}" => {
                json!({ "title": "刹车踏板发软怎么办？", "body": "请立即停车检查刹车油。", "status": "published" })
            }
            "POST /api/v1/plugins" => {
                return Body::Upload(
                    SAFETY_ESCALATION.manifest_as("0.4.0", "[\"notify\"]"),
                    SAFETY_ESCALATION.component(),
                );
            }
            "POST /api/v1/installations" => {
                json!({ "plugin": "vip-routing", "config": { "team": "vip-care" }, "capabilities": ["records"] })
            }
            "PATCH /api/v1/installations/{id}" => json!({ "config": safety_config() }),
            "POST /api/v1/installations/{id}/upgrade" => json!({ "version": "0.2.0" }),
            "POST /api/v1/installations/{id}/upgrade/approve" => json!({ "capabilities": ["kv"] }),
            "POST /api/v1/installations/{id}/rollback" => json!({}),
            "PUT /api/v1/installations/{id}/shadow" => json!({ "version": "0.2.0" }),
            "POST /api/v1/installations/{id}/replay" => json!({ "version": "0.2.0", "last": 1 }),
            "PATCH /api/v1/plugin-policy" => json!({ "alert_email": "plugins@example.com" }),
            "PUT /api/v1/dealer-catalogue/{plugin}" => json!({ "capabilities": ["records"] }),
            "PATCH /api/v1/settings" => json!({ "input_retention_days": 7 }),
            _ => return Body::None,
        })
    }

    /// Calls `operation` (its path filled from `params`) as `who`.
    async fn call(
        &self,
        operation: &str,
        params: &BTreeMap<&str, String>,
        who: Who,
        body: Body,
    ) -> Reply {
        let (method, template) = operation.split_once(' ').expect("METHOD /path");
        let mut path = template.to_owned();
        for (name, value) in params {
            path = path.replace(&format!("{{{name}}}"), value);
        }
        if operation == "GET /api/v1/reports/kpis/tickets" {
            path.push_str("?metric=backlog");
        }
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("a method");
        let mut request = self
            .app
            .client
            .request(method, format!("{}{path}", self.app.url));
        if let Some(token) = self.token(who) {
            request = request.bearer_auth(token);
        }
        request = match body {
            Body::None => request,
            Body::Json(body) => request.json(&body),
            Body::Csv(csv) => request.header("content-type", "text/csv").body(csv),
            Body::Upload(manifest, component) => request.multipart(
                reqwest::multipart::Form::new()
                    .part(
                        "manifest",
                        reqwest::multipart::Part::text(manifest).file_name("plugin.toml"),
                    )
                    .part(
                        "component",
                        reqwest::multipart::Part::bytes(component).file_name("plugin.wasm"),
                    ),
            ),
        };
        self.app.send(request).await
    }
}

/// Every (METHOD, path) the OpenAPI document describes, as "METHOD /path".
async fn documented_operations(app: &TestApp) -> BTreeSet<String> {
    let doc = app.get_anonymous("/api/v1/openapi.json").await.expect(200);
    let mut operations = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                operations.insert(format!("{} {path}", method.to_uppercase()));
            }
        }
    }
    operations
}

#[tokio::test]
async fn every_operation_answers_every_caller_as_the_matrix_says_and_shows_nothing_beyond_its_walls()
 {
    let mut w = World::new().await;

    let documented = documented_operations(&w.app).await;
    let rows: BTreeSet<String> = MATRIX.iter().map(|(op, _)| (*op).to_owned()).collect();
    assert_eq!(rows.len(), MATRIX.len(), "an operation has two rows");
    let without_row: Vec<_> = documented.difference(&rows).collect();
    let without_operation: Vec<_> = rows.difference(&documented).collect();
    assert!(
        without_row.is_empty() && without_operation.is_empty(),
        "operations without a row in MATRIX: {without_row:#?}\n\
         rows for operations the document lacks: {without_operation:#?}"
    );

    let mut wrong = Vec::new();
    let mut cells = 0;
    for (operation, expected) in MATRIX {
        let params = w.prepare(operation).await;
        // A route anyone may call carries no tenant's walls (the token or the id in its
        // path is the capability), so only keyed routes are read for leaks.
        let public = expected[0] < 300;
        for (who, want) in CALLERS.iter().zip(expected) {
            let n = w.next();
            let body = w.body(operation, n);
            let reply = w.call(operation, &params, *who, body).await;
            cells += 1;
            if reply.status != *want {
                wrong.push(format!(
                    "{operation} as {who:?}: {} (expected {want}) {}",
                    reply.status, reply.body
                ));
                continue;
            }
            if !(200..300).contains(&reply.status) {
                continue;
            }
            let text = reply.body.to_string();
            let hidden = if public {
                Vec::new()
            } else {
                w.hidden_from(*who)
            };
            for secret in hidden.into_iter().chain(&w.secrets.anywhere) {
                if text.contains(secret.as_str()) {
                    wrong.push(format!("{operation} as {who:?} shows `{secret}`: {text}"));
                }
            }
        }
    }
    assert_eq!(cells, MATRIX.len() * CALLERS.len());
    assert!(
        wrong.is_empty(),
        "{} of {cells} cells are wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}
