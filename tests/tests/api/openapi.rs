//! The OpenAPI 3.1 document at `GET /api/v1/openapi.json` and the page at `GET /api/docs`:
//! the document is valid by the official OpenAPI 3.1 schema, documents exactly the routes
//! the router registers (read from the router's source, so a route added without
//! documentation fails here), every documented operation reaches a handler, and real
//! replies match the schemas the document gives for them.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use axle_tests::{ADMIN_TOKEN, BACKLOG_CHART, FAQ_AUTOREPLY, KPI_SUMMARY, TestApp};
use serde_json::{Value, json};

/// The official schema of OpenAPI 3.1 documents, version 2022-10-07, from
/// https://spec.openapis.org/oas/3.1/schema/2022-10-07.
const OPENAPI_31_SCHEMA: &str = include_str!("../../fixtures/openapi-3.1-schema.json");

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn host_src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../host/src")
}

/// The document, fetched without credentials.
async fn document(app: &TestApp) -> Value {
    app.get_anonymous("/api/v1/openapi.json").await.expect(200)
}

/// Every (method, path) the document describes.
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let paths = doc["paths"].as_object().expect("the document has paths");
    paths
        .iter()
        .flat_map(|(path, item)| {
            METHODS
                .iter()
                .filter(|method| item.get(**method).is_some())
                .map(|method| (method.to_string(), path.clone()))
        })
        .collect()
}

/// `source` with comments blanked out, so a commented-out route does not count; string
/// literals are kept whole (a `//` inside one is not a comment).
fn without_comments(source: &str) -> String {
    let chars: Vec<char> = source.chars().collect();
    let mut out = String::with_capacity(source.len());
    let mut i = 0;
    while i < chars.len() {
        match (chars[i], chars.get(i + 1)) {
            ('"', _) => {
                out.push('"');
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        out.push(chars[i]);
                        i += 1;
                    }
                    if let Some(c) = chars.get(i) {
                        out.push(*c);
                    }
                    i += 1;
                }
                out.push('"');
                i += 1;
            }
            ('/', Some('/')) => {
                while i < chars.len() && chars[i] != '\n' {
                    out.push(' ');
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
                out.push_str("  ");
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Files under `dir` whose code registers an axum route other than through utoipa-axum's
/// `routes!` (plugin calls named `route` are not axum's).
fn files_with_undocumented_routes(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read host/src") {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            files_with_undocumented_routes(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            let source = std::fs::read_to_string(&path).expect("read a source file");
            let code = without_comments(&source);
            let registers = [".route(", ".route_service(", ".nest_service("]
                .iter()
                .any(|call| code.contains(call));
            if registers && code.contains("Router") {
                found.push(path);
            }
        }
    }
}

#[tokio::test]
async fn the_document_is_openapi_3_1_by_the_official_schema() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;

    let version = doc["openapi"].as_str().expect("an openapi version");
    assert!(version.starts_with("3.1"), "openapi is {version}");
    let schema: Value = serde_json::from_str(OPENAPI_31_SCHEMA).expect("the vendored schema");
    let validator = jsonschema::validator_for(&schema).expect("the OpenAPI 3.1 schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect();
    assert!(errors.is_empty(), "invalid OpenAPI 3.1: {errors:#?}");

    let manifest =
        std::fs::read_to_string(host_src().join("../Cargo.toml")).expect("host manifest");
    let host_version = manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = "))
        .map(|v| v.trim_matches('"'))
        .expect("the host crate's version");
    assert_eq!(doc["info"]["version"], host_version);
    assert_eq!(doc["servers"], json!([{ "url": "/" }]));
}

#[tokio::test]
async fn the_validator_rejects_a_document_that_breaks_the_schema() {
    // Guards the test above: a validator that accepts anything would pass it too.
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let schema: Value = serde_json::from_str(OPENAPI_31_SCHEMA).expect("the vendored schema");
    let validator = jsonschema::validator_for(&schema).expect("the OpenAPI 3.1 schema compiles");
    assert!(validator.is_valid(&doc));

    let mut without_version = doc.clone();
    without_version["info"] = json!({ "title": "Axle" });
    assert!(!validator.is_valid(&without_version));

    let mut bad_responses = doc.clone();
    bad_responses["paths"]["/api/v1/tickets/{id}"]["get"]["responses"] = json!("none");
    assert!(!validator.is_valid(&bad_responses));
}

#[test]
fn routes_are_registered_only_with_the_handlers_that_document_them() {
    // utoipa-axum's `routes!` takes each route's path and method from its handler's
    // `#[utoipa::path]`, so the router and the document cannot drift apart; a route added
    // any other way would be served and not documented.
    let mut found = Vec::new();
    files_with_undocumented_routes(&host_src(), &mut found);
    assert!(
        found.is_empty(),
        "routes registered outside `routes!(…)`, so missing from the OpenAPI document: \
         {found:#?}"
    );
    let router = std::fs::read_to_string(host_src().join("http/mod.rs")).unwrap();
    assert!(
        without_comments(&router).matches("routes!(").count() > 60,
        "the route table in http/mod.rs registers its routes with `routes!`"
    );
}

#[test]
fn the_undocumented_route_finder_sees_an_axum_route() {
    // Guards the test above: a finder that never finds anything would pass it too.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("router.rs"),
        "fn r() -> Router { Router::new().route(\"/x\", get(x)) }",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("commented.rs"),
        "fn r() -> Router { Router::new() } // .route(\"/x\", get(x))",
    )
    .unwrap();
    let mut found = Vec::new();
    files_with_undocumented_routes(dir.path(), &mut found);
    assert_eq!(found, vec![dir.path().join("router.rs")]);
}

#[tokio::test]
async fn the_document_covers_the_api_and_the_operator_routes() {
    let app = TestApp::spawn().await;
    let documented = documented(&document(&app).await);
    // A sanity floor: the router has well over 90 operations.
    assert!(
        documented.len() > 90,
        "only {} operations",
        documented.len()
    );
    for (method, path) in [
        ("get", "/api/v1/tickets/{id}"),
        ("post", "/api/v1/intake/calls"),
        ("get", "/api/v1/openapi.json"),
        ("get", "/healthz"),
        ("get", "/metrics"),
        ("get", "/kb/{id}"),
    ] {
        assert!(
            documented.contains(&(method.to_owned(), path.to_owned())),
            "{method} {path} is not documented"
        );
    }
}

/// A value for path parameter `name` of `operation`: the first of its enum, if any.
fn sample_parameter(doc: &Value, operation: &Value, name: &str) -> String {
    let parameter = operation["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|p| p["name"] == name && p["in"] == "path")
        .unwrap_or_else(|| panic!("path parameter {name} is not documented"));
    let mut schema = &parameter["schema"];
    if let Some(reference) = schema["$ref"].as_str() {
        schema = doc
            .pointer(reference.trim_start_matches('#'))
            .unwrap_or_else(|| panic!("{reference} resolves"));
    }
    schema["enum"][0]
        .as_str()
        .map_or_else(|| "openapi-probe".to_owned(), str::to_owned)
}

#[tokio::test]
async fn every_documented_operation_reaches_a_handler() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let mut unreachable = Vec::new();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][&method];
        let mut url = path.clone();
        while let Some(start) = url.find('{') {
            let end = start + url[start..].find('}').expect("a closed parameter");
            let value = sample_parameter(&doc, operation, &url[start + 1..end]);
            url.replace_range(start..=end, &value);
        }
        // No credentials: a handler that needs one answers 401, which still proves the
        // router matched; nothing is created or changed.
        let method_name = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let mut request = app.client.request(method_name, format!("{}{url}", app.url));
        if matches!(method.as_str(), "post" | "put" | "patch") {
            request = request.json(&json!({}));
        }
        let response = request.send().await.expect("the request is answered");
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let fallback = status == 405
            || (status == 404 && body["error"]["message"].as_str() == Some("route not found"));
        if fallback {
            unreachable.push(format!(
                "{} {url} -> {status} {body}",
                method.to_uppercase()
            ));
        }
    }
    assert!(
        unreachable.is_empty(),
        "documented operations that hit the router's fallback: {unreachable:#?}"
    );
}

#[tokio::test]
async fn every_operation_has_a_summary_a_tag_a_unique_id_and_its_errors() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let declared: BTreeSet<&str> = doc["tags"]
        .as_array()
        .expect("the document declares its tags")
        .iter()
        .filter_map(|tag| tag["name"].as_str())
        .collect();
    let mut ids = BTreeSet::new();
    for (method, path) in documented(&doc) {
        let operation = &doc["paths"][&path][&method];
        let name = format!("{} {path}", method.to_uppercase());
        let summary = operation["summary"].as_str().unwrap_or_default();
        assert!(!summary.trim().is_empty(), "{name} has no summary");
        assert!(
            !summary.contains('`') || !summary.contains("/api/"),
            "{name}: the summary repeats the route instead of saying what it does: {summary}"
        );
        let tags = operation["tags"].as_array().expect("tags");
        assert!(!tags.is_empty(), "{name} has no tag");
        for tag in tags {
            let tag = tag.as_str().unwrap_or_default();
            assert!(declared.contains(tag), "{name}: tag {tag} is not declared");
        }
        let id = operation["operationId"].as_str().expect("an operation id");
        assert!(
            ids.insert(id.to_owned()),
            "{name}: operationId {id} is taken"
        );

        let responses = operation["responses"].as_object().expect("responses");
        assert!(
            responses.keys().any(|status| status.starts_with('2')),
            "{name} documents no success"
        );
        let secured = operation["security"]
            .as_array()
            .is_some_and(|s| !s.is_empty());
        if secured {
            assert!(
                responses.contains_key("401"),
                "{name} needs a credential but documents no 401"
            );
        }
        let takes_input =
            operation.get("requestBody").is_some() || operation.get("parameters").is_some();
        if takes_input {
            assert!(
                responses.contains_key("400"),
                "{name} parses input but documents no 400"
            );
        }
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                let reference = response["$ref"].as_str().unwrap_or_default();
                let error = doc
                    .pointer(reference.trim_start_matches('#'))
                    .unwrap_or_else(|| panic!("{name} {status}: {reference} resolves"));
                assert_eq!(
                    error["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/ErrorBody",
                    "{name} {status} is not the ApiError body"
                );
            }
        }
    }
}

#[tokio::test]
async fn every_reference_in_the_document_resolves() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let mut references = Vec::new();
    collect_references(&doc, &mut references);
    assert!(
        references.len() > 100,
        "only {} references",
        references.len()
    );
    let dangling: BTreeSet<_> = references
        .iter()
        .filter(|r| !r.starts_with('#') || doc.pointer(r.trim_start_matches('#')).is_none())
        .collect();
    assert!(dangling.is_empty(), "references to nothing: {dangling:#?}");
}

fn collect_references(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(reference)) => found.push(reference.clone()),
                    _ => collect_references(child, found),
                }
            }
        }
        Value::Array(items) => items
            .iter()
            .for_each(|item| collect_references(item, found)),
        _ => {}
    }
}

/// Asserts that `body`, a reply to `method path` with `status`, matches the schema the
/// document gives for it.
fn assert_conforms(doc: &Value, method: &str, path: &str, status: u16, body: &Value) {
    let response = &doc["paths"][path][method]["responses"][status.to_string()];
    let response = match response["$ref"].as_str() {
        Some(reference) => doc
            .pointer(reference.trim_start_matches('#'))
            .expect("the response resolves"),
        None => response,
    };
    let mut schema = response["content"]["application/json"]["schema"].clone();
    assert!(
        schema.is_object(),
        "{method} {path} {status} documents no JSON body"
    );
    // The schema's references point into the document's components.
    schema["components"] = doc["components"].clone();
    let validator = jsonschema::validator_for(&schema).expect("the documented schema compiles");
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| format!("{}: {error}", error.instance_path()))
        .collect();
    assert!(
        errors.is_empty(),
        "{method} {path} {status}: the reply does not match the document: {errors:#?}\n{body:#}"
    );
}

#[tokio::test]
async fn real_replies_match_the_documented_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let tenant = app.tenant("openapi").await;
    let key = tenant.key.as_str();

    let customer = app
        .post(
            key,
            "/api/v1/customers",
            &json!({ "name": "Li Wei", "phone": "13800000000" }),
        )
        .await
        .expect(201);
    assert_conforms(&doc, "post", "/api/v1/customers", 201, &customer);
    let customer_id = customer["id"].as_str().unwrap();
    let vehicle = app
        .post(
            key,
            "/api/v1/vehicles",
            &json!({ "vin": "LSVAX41Z8N2012345", "customer_id": customer_id, "plate": "沪A12345" }),
        )
        .await
        .expect(201);
    assert_conforms(&doc, "post", "/api/v1/vehicles", 201, &vehicle);
    let ticket = app
        .post(
            key,
            "/api/v1/tickets",
            &json!({ "description": "brakes squeal", "customer_id": customer_id,
                     "priority": "high" }),
        )
        .await
        .expect(201);
    assert_conforms(&doc, "post", "/api/v1/tickets", 201, &ticket);
    let ticket_id = ticket["id"].as_str().unwrap();

    let reads = [
        ("/api/v1/customers", "/api/v1/customers".to_owned()),
        (
            "/api/v1/customers/{id}/360",
            format!("/api/v1/customers/{customer_id}/360"),
        ),
        ("/api/v1/tickets", "/api/v1/tickets".to_owned()),
        (
            "/api/v1/tickets/{id}",
            format!("/api/v1/tickets/{ticket_id}"),
        ),
        (
            "/api/v1/tickets/{id}/timeline",
            format!("/api/v1/tickets/{ticket_id}/timeline"),
        ),
        (
            "/api/v1/tickets/{id}/sla",
            format!("/api/v1/tickets/{ticket_id}/sla"),
        ),
        ("/api/v1/api-keys", "/api/v1/api-keys".to_owned()),
        ("/api/v1/plugin-policy", "/api/v1/plugin-policy".to_owned()),
        ("/api/v1/settings", "/api/v1/settings".to_owned()),
        ("/api/v1/reports/kpis", "/api/v1/reports/kpis".to_owned()),
    ];
    for (template, url) in reads {
        let body = app.get(key, &url).await.expect(200);
        assert_conforms(&doc, "get", template, 200, &body);
    }

    // Errors carry the one ApiError body: a 422 with details, a 404, a 401.
    let invalid = app
        .post(key, "/api/v1/customers", &json!({}))
        .await
        .expect_error(422);
    assert_conforms(&doc, "post", "/api/v1/customers", 422, &invalid.body);
    let missing = app
        .get(key, "/api/v1/customers/nobody")
        .await
        .expect_error(404);
    assert_conforms(&doc, "get", "/api/v1/customers/{id}", 404, &missing.body);
    let anonymous = app
        .get_anonymous("/api/v1/customers")
        .await
        .expect_error(401);
    assert_conforms(&doc, "get", "/api/v1/customers", 401, &anonymous.body);
    let platform = app
        .put_json(
            ADMIN_TOKEN,
            "/api/v1/tenants/openapi/plugin-policy",
            &json!({ "max_installations": 3 }),
        )
        .await
        .expect(200);
    assert_conforms(
        &doc,
        "put",
        "/api/v1/tenants/{slug}/plugin-policy",
        200,
        &platform,
    );
}

/// Sends `method url` with `body` (JSON unless `csv`), asserts the status, and asserts the
/// reply matches the document's schema for `template`; returns the reply.
async fn checked(
    app: &TestApp,
    doc: &Value,
    key: &str,
    (method, template, url): (&str, &str, &str),
    body: Option<&Value>,
    status: u16,
) -> Value {
    let reply = match (method, body) {
        ("get", _) => app.get(key, url).await,
        ("post", Some(Value::String(csv))) => app.post_raw(key, url, "text/csv", csv).await,
        ("post", Some(body)) => app.post(key, url, body).await,
        ("put", Some(body)) => app.put_json(key, url, body).await,
        ("patch", Some(body)) => app.patch(key, url, body).await,
        other => panic!("no request helper for {other:?}"),
    };
    let body = reply.expect(status);
    assert_conforms(doc, method, template, status, &body);
    body
}

#[tokio::test]
async fn org_plugin_and_knowledge_base_replies_match_the_documented_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let tenant = app.tenant("openapi-more").await;
    let key = tenant.key.as_str();

    let oem = checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/sites", "/api/v1/sites"),
        Some(
            &json!({ "kind": "oem", "code": "OEM", "name": "Axle Motors",
                      "opening_hours": { "mon": ["08:30-12:00", "13:00-18:00"] } }),
        ),
        201,
    )
    .await;
    let team = checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/teams", "/api/v1/teams"),
        Some(&json!({ "site_id": oem["id"], "name": "Brakes", "skills": ["brakes"] })),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/agents", "/api/v1/agents"),
        Some(&json!({ "team_id": team["id"], "name": "Wang Fang" })),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/sites", "/api/v1/sites"),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/field-definitions",
            "/api/v1/field-definitions",
        ),
        Some(
            &json!({ "entity": "ticket", "name": "odometer", "label": "Odometer",
                      "kind": "integer" }),
        ),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/campaigns", "/api/v1/campaigns"),
        Some(
            &json!({ "code": "R-1", "kind": "recall", "title": "Brake hose",
                      "vin_prefixes": ["LSVAX41"] }),
        ),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        (
            "put",
            "/api/v1/sla-policies/{priority}",
            "/api/v1/sla-policies/high",
        ),
        Some(&json!({ "first_response_minutes": 60, "resolution_minutes": 480 })),
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/sla-policies", "/api/v1/sla-policies"),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        (
            "put",
            "/api/v1/holidays/{day}",
            "/api/v1/holidays/2026-10-01",
        ),
        Some(&json!({ "name": "National Day" })),
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/holidays", "/api/v1/holidays"),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        (
            "post",
            "/api/v1/imports/{kind}",
            "/api/v1/imports/customers",
        ),
        Some(&json!(
            "external_id,name,phone\nC-1,Zhang San,13900000000\n"
        )),
        200,
    )
    .await;

    let vehicle = app
        .vehicle(&tenant, json!({ "vin": "LSVAX41Z8N2012345" }))
        .await;
    let vehicle_id = vehicle["id"].as_str().unwrap();
    let records = format!("/api/v1/vehicles/{vehicle_id}/service-records");
    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/vehicles/{id}/service-records", &records),
        Some(
            &json!({ "service_date": "2026-01-05", "mileage_km": 12000, "work_done": "oil change",
                      "dealer_code": "SH-001", "cost": "1280.50" }),
        ),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/vehicles/{id}/service-records", &records),
        None,
        200,
    )
    .await;

    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/kb/articles", "/api/v1/kb/articles"),
        Some(&json!({ "title": "Brake squeal after rain",
                      "body": "Light squeal after rain is surface rust on the discs.",
                      "category": "brakes", "tags": ["brakes"], "status": "published" })),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/kb/articles", "/api/v1/kb/articles"),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/kb/articles",
            "/api/v1/kb/articles?q=brake%20squeal",
        ),
        None,
        200,
    )
    .await;

    // A plugin: its version, its installation, its history and the audit of its calls.
    let upload = app
        .upload(
            &tenant,
            &FAQ_AUTOREPLY.manifest(),
            FAQ_AUTOREPLY.component(),
        )
        .await
        .expect(201);
    assert_conforms(&doc, "post", "/api/v1/plugins", 201, &upload);
    let installation = checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/installations", "/api/v1/installations"),
        Some(
            &json!({ "plugin": "faq-autoreply", "capabilities": ["records"],
                      "config": { "entries": [{ "keywords": ["brakes"],
                                                "answer": "See the article.",
                                                "link": "https://kb.example.com/brakes" }] } }),
        ),
        201,
    )
    .await;
    let id = installation["id"].as_str().unwrap();
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/plugins", "/api/v1/plugins"),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/installations", "/api/v1/installations"),
        None,
        200,
    )
    .await;
    let history = format!("/api/v1/installations/{id}/history");
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/installations/{id}/history", &history),
        None,
        200,
    )
    .await;
    let ticket = app
        .ticket(
            &tenant,
            json!({ "description": "brakes squeal after rain" }),
        )
        .await;
    assert_conforms(&doc, "post", "/api/v1/tickets", 201, &ticket);
    let ticket_id = ticket["id"].as_str().unwrap();
    let interactions = format!("/api/v1/tickets/{ticket_id}/interactions");
    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/tickets/{id}/interactions", &interactions),
        Some(&json!({ "kind": "note", "summary": "Asked for photos" })),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/tickets/{id}/interactions", &interactions),
        None,
        200,
    )
    .await;
    let notifications = format!("/api/v1/tickets/{ticket_id}/notifications");
    checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/tickets/{id}/notifications", &notifications),
        Some(&json!({ "channel": "email", "to": "li@example.com", "body": "We are on it." })),
        201,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/tickets/{id}/notifications", &notifications),
        None,
        200,
    )
    .await;
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/invocations", "/api/v1/invocations"),
        None,
        200,
    )
    .await;
    let patch = format!("/api/v1/tickets/{ticket_id}");
    checked(
        &app,
        &doc,
        key,
        ("patch", "/api/v1/tickets/{id}", &patch),
        Some(&json!({ "status": "resolved" })),
        200,
    )
    .await;
    let surveys = format!("/api/v1/tickets/{ticket_id}/surveys");
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/tickets/{id}/surveys", &surveys),
        None,
        200,
    )
    .await;
    // An illegal move: the 409 lists the allowed states, as documented.
    checked(
        &app,
        &doc,
        key,
        ("patch", "/api/v1/tickets/{id}", &patch),
        Some(&json!({ "status": "new" })),
        409,
    )
    .await;
}

#[tokio::test]
async fn dashboard_report_and_shadow_replies_match_the_documented_schemas() {
    let app = TestApp::spawn().await;
    let doc = document(&app).await;
    let tenant = app.tenant("openapi-reports").await;
    let key = tenant.key.as_str();
    for priority in ["high", "low"] {
        app.ticket(
            &tenant,
            json!({ "description": "engine light", "category": "engine", "priority": priority }),
        )
        .await;
    }

    let kpi = app.install(&tenant, &KPI_SUMMARY, json!({}), &[]).await;
    let backlog = app.install(&tenant, &BACKLOG_CHART, json!({}), &[]).await;
    let dashboard = checked(
        &app,
        &doc,
        key,
        ("post", "/api/v1/dashboards", "/api/v1/dashboards"),
        Some(&json!({ "name": "Overview", "widgets": [
            { "installation_id": kpi["id"] }, { "installation_id": backlog["id"] }] })),
        201,
    )
    .await;
    let rendered = format!("/api/v1/dashboards/{}", dashboard["id"].as_str().unwrap());
    let page = checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/dashboards/{id}", &rendered),
        None,
        200,
    )
    .await;
    assert_eq!(page["widgets"].as_array().map(Vec::len), Some(2));
    checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/dashboards", "/api/v1/dashboards"),
        None,
        200,
    )
    .await;

    let report = checked(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/reports/kpis",
            "/api/v1/reports/kpis?group_by=category",
        ),
        None,
        200,
    )
    .await;
    assert!(!report["rows"].as_array().unwrap().is_empty(), "{report}");
    checked(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/reports/kpis/tickets",
            "/api/v1/reports/kpis/tickets?metric=backlog&group_by=category&group=engine",
        ),
        None,
        200,
    )
    .await;

    let shadow_report = format!(
        "/api/v1/installations/{}/shadow-report",
        kpi["id"].as_str().unwrap()
    );
    checked(
        &app,
        &doc,
        key,
        (
            "get",
            "/api/v1/installations/{id}/shadow-report",
            &shadow_report,
        ),
        None,
        200,
    )
    .await;
    let snapshot = checked(
        &app,
        &doc,
        key,
        ("get", "/api/v1/plugin-snapshot", "/api/v1/plugin-snapshot"),
        None,
        200,
    )
    .await;
    assert_eq!(snapshot["installations"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn the_docs_page_is_html_that_loads_the_document() {
    let app = TestApp::spawn().await;
    let response = app
        .client
        .get(format!("{}/api/docs", app.url))
        .send()
        .await
        .expect("GET /api/docs");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(content_type.starts_with("text/html"), "{content_type}");
    let page = response.text().await.expect("the page");
    assert!(page.starts_with("<!doctype html>"), "{page}");
    assert!(page.contains(r#"url: "/api/v1/openapi.json""#), "{page}");
    assert!(
        !page.contains("://"),
        "nothing comes from another host (no CDN): {page}"
    );
    for (asset, kind) in [
        ("swagger-ui-bundle.js", "javascript"),
        ("swagger-ui.css", "text/css"),
    ] {
        assert!(page.contains(&format!("/api/docs/{asset}")), "{page}");
        let served = app
            .client
            .get(format!("{}/api/docs/{asset}", app.url))
            .send()
            .await
            .expect("GET the asset");
        assert_eq!(served.status().as_u16(), 200, "{asset}");
        let content_type = served.headers()["content-type"].to_str().unwrap();
        assert!(content_type.contains(kind), "{asset}: {content_type}");
        assert!(served.bytes().await.unwrap().len() > 1000, "{asset}");
    }
    let missing = app.get_anonymous("/api/docs/not-there.js").await;
    assert_eq!(missing.status, 404);
}
