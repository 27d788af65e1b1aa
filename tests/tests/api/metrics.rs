//! `GET /metrics`: Prometheus counters and histograms of plugin invocations by plugin,
//! version, hook and outcome, breaker suspensions, and HTTP requests by route template;
//! only the platform operator may scrape them. And every invocation runs in a
//! `plugin.invoke` span that ends with its outcome and duration.
//!
//! The recorder is process-wide and the tests in this file run at once, so each test
//! installs its plugins under a version string of its own and asserts on those labels,
//! or on increases of shared series.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::{Arc, Mutex, OnceLock};

use axle_tests::node_process::NodeProcess;
use axle_tests::{
    ADMIN_TOKEN, HOSTILE, METRICS_TOKEN, Plugin, Tenant, TestApp, VIN_DECODER, VIP_ROUTING, vin,
};
use serde_json::{Value, json};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The metrics text, scraped with the scrape token.
async fn scrape(app: &TestApp) -> String {
    scrape_at(&app.client, &app.url).await
}

/// The metrics text of the node at `url`, scraped with the scrape token.
async fn scrape_at(client: &reqwest::Client, url: &str) -> String {
    let response = client
        .get(format!("{url}/metrics"))
        .bearer_auth(METRICS_TOKEN)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(response.status().as_u16(), 200);
    let content_type = response.headers()["content-type"]
        .to_str()
        .expect("content type")
        .to_owned();
    assert!(
        content_type.starts_with("text/plain; version=0.0.4"),
        "{content_type}"
    );
    response.text().await.expect("metrics text")
}

/// The value of the series `name` whose labels include every pair in `labels`, summed over
/// the series that match (0 when none does).
fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (series, number) = line.rsplit_once(' ')?;
            let rest = series.strip_prefix(name)?;
            let label_text = match rest {
                "" => "",
                _ => rest.strip_prefix('{')?.strip_suffix('}')?,
            };
            labels
                .iter()
                .all(|(key, want)| label_text.contains(&format!(r#"{key}="{want}""#)))
                .then(|| number.parse::<f64>().expect("a number"))
        })
        .sum()
}

/// Uploads `plugin` under `version` and installs it with `config` and `grants`; returns
/// the installation id.
async fn install_as(
    app: &TestApp,
    tenant: &Tenant,
    plugin: &Plugin,
    version: &str,
    config: Value,
    grants: &[&str],
) -> String {
    let manifest = plugin.manifest().replacen(
        r#"version = "0.1.0""#,
        &format!(r#"version = "{version}""#),
        1,
    );
    assert!(manifest.contains(version), "the manifest names its version");
    let reply = app.upload(tenant, &manifest, plugin.component()).await;
    assert_eq!(reply.status, 201, "{reply:?}");
    let installed = app
        .post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": plugin.name, "config": config, "capabilities": grants }),
        )
        .await
        .expect(201);
    assert_eq!(installed["version"], version);
    installed["id"]
        .as_str()
        .expect("installation id")
        .to_owned()
}

fn invocations(text: &str, plugin: &str, version: &str, outcome: &str) -> f64 {
    value(
        text,
        "axle_plugin_invocations_total",
        &[
            ("plugin", plugin),
            ("version", version),
            ("hook", "route"),
            ("outcome", outcome),
        ],
    )
}

fn timed_invocations(text: &str, plugin: &str, version: &str) -> f64 {
    value(
        text,
        "axle_plugin_invocation_duration_seconds_count",
        &[("plugin", plugin), ("version", version), ("hook", "route")],
    )
}

fn tickets_created(text: &str) -> f64 {
    value(
        text,
        "axle_http_requests_total",
        &[
            ("method", "POST"),
            ("route", "/api/v1/tickets"),
            ("status", "201"),
        ],
    )
}

#[tokio::test]
async fn invocations_are_counted_and_timed_by_plugin_version_and_outcome() {
    let app = TestApp::spawn().await;
    let routed = app.tenant("oem-metrics-routed").await;
    let looping = app.tenant("oem-metrics-loop").await;
    let rebuilds_before = value(
        &scrape(&app).await,
        "axle_plugin_snapshot_rebuilds_total",
        &[],
    );
    install_as(
        &app,
        &routed,
        &VIP_ROUTING,
        "0.1.0-metrics.routing",
        json!({ "team": "vip-care" }),
        &["records"],
    )
    .await;
    install_as(
        &app,
        &routed,
        &HOSTILE,
        "0.1.0-metrics.trap",
        json!({ "mode": "panic" }),
        &[],
    )
    .await;
    install_as(
        &app,
        &looping,
        &HOSTILE,
        "0.1.0-metrics.timeout",
        json!({ "mode": "loop" }),
        &[],
    )
    .await;
    let before = scrape(&app).await;

    let vip = app
        .customer(&routed, json!({ "name": "陈美玲", "vip": true }))
        .await;
    let ticket = app
        .ticket(
            &routed,
            json!({ "description": "刹车异响，客户要求尽快检查", "customer_id": vip["id"] }),
        )
        .await;
    assert_eq!(
        ticket["team"], "vip-care",
        "the routing plugin ran: {ticket}"
    );
    app.ticket(&routed, json!({ "description": "CarPlay disconnects" }))
        .await;
    app.ticket(&looping, json!({ "description": "仪表盘警告灯常亮" }))
        .await;
    let ticket_id = ticket["id"].as_str().expect("ticket id");
    app.get(&routed.key, &format!("/api/v1/tickets/{ticket_id}"))
        .await
        .expect(200);

    let after = scrape(&app).await;
    assert_eq!(
        invocations(&after, "vip-routing", "0.1.0-metrics.routing", "ok"),
        2.0
    );
    assert_eq!(
        invocations(&after, "hostile", "0.1.0-metrics.trap", "trap"),
        2.0
    );
    assert_eq!(
        invocations(&after, "hostile", "0.1.0-metrics.trap", "ok"),
        0.0,
        "a trap is not counted as ok"
    );
    assert_eq!(
        invocations(&after, "hostile", "0.1.0-metrics.timeout", "timeout"),
        1.0
    );
    assert_eq!(
        timed_invocations(&after, "vip-routing", "0.1.0-metrics.routing"),
        2.0
    );
    assert_eq!(
        timed_invocations(&after, "hostile", "0.1.0-metrics.timeout"),
        1.0
    );
    assert!(
        value(
            &after,
            "axle_plugin_invocation_duration_seconds_bucket",
            &[
                ("plugin", "vip-routing"),
                ("version", "0.1.0-metrics.routing"),
                ("le", "1"),
            ],
        ) == 2.0,
        "a routing call lands in the buckets up to 1 s"
    );

    assert!(
        tickets_created(&after) >= tickets_created(&before) + 3.0,
        "POST /api/v1/tickets is counted under its route"
    );
    assert!(
        value(
            &after,
            "axle_http_requests_total",
            &[
                ("method", "GET"),
                ("route", "/api/v1/tickets/{id}"),
                ("status", "200"),
            ],
        ) >= 1.0,
        "a ticket read is counted under the route template"
    );
    assert!(
        value(
            &after,
            "axle_http_request_duration_seconds_count",
            &[("method", "POST"), ("route", "/api/v1/tickets")],
        ) >= 3.0
    );
    assert!(
        value(&after, "axle_plugin_snapshot_rebuilds_total", &[]) > rebuilds_before,
        "installing plugins rebuilds the tenants' snapshots"
    );
    // Labels never carry a raw path, a tenant or a ticket: the series stay bounded.
    for private in [ticket_id, &routed.id, &looping.id] {
        assert!(!after.contains(private), "{private} leaked into /metrics");
    }
}

#[tokio::test]
async fn a_breaker_suspension_is_counted_once_for_the_plugin_version() {
    let app = TestApp::spawn().await;
    assert_eq!(app.app.core.runtime.platform.failures_before_suspend, 5);
    let tenant = app.tenant("oem-metrics-breaker").await;
    let version = "0.1.0-metrics.breaker";
    let id = install_as(
        &app,
        &tenant,
        &HOSTILE,
        version,
        json!({ "mode": "panic" }),
        &[],
    )
    .await;

    for n in 1..=4 {
        app.ticket(
            &tenant,
            json!({ "description": format!("车门异响，第{n}次报修") }),
        )
        .await;
    }
    let series = [("plugin", "hostile"), ("version", version)];
    let text = scrape(&app).await;
    assert_eq!(invocations(&text, "hostile", version, "trap"), 4.0);
    assert_eq!(value(&text, "axle_plugin_suspensions_total", &series), 0.0);

    app.ticket(&tenant, json!({ "description": "车门异响，第5次报修" }))
        .await;
    let status = app
        .get(&tenant.key, &format!("/api/v1/installations/{id}"))
        .await
        .expect(200);
    assert_eq!(status["status"], "suspended");
    let text = scrape(&app).await;
    assert_eq!(invocations(&text, "hostile", version, "trap"), 5.0);
    assert_eq!(value(&text, "axle_plugin_suspensions_total", &series), 1.0);

    app.ticket(&tenant, json!({ "description": "Door rattle, report 6" }))
        .await;
    let text = scrape(&app).await;
    assert_eq!(
        invocations(&text, "hostile", version, "trap"),
        5.0,
        "a suspended installation is not invoked, so not counted"
    );
    assert_eq!(value(&text, "axle_plugin_suspensions_total", &series), 1.0);
}

#[tokio::test]
async fn metrics_need_their_scrape_token_and_not_the_admin_token() {
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-metrics-auth").await;

    let anonymous = app.get_anonymous("/metrics").await;
    assert_eq!(anonymous.status, 401, "{anonymous:?}");
    assert!(
        anonymous.error_message().contains("Authorization"),
        "{anonymous:?}"
    );
    let tenant_admin = app.get(&tenant.key, "/metrics").await;
    assert_eq!(
        tenant_admin.status, 401,
        "metrics span every tenant, so a tenant admin key cannot read them"
    );
    assert!(
        tenant_admin.error_message().contains("AXLE_METRICS_TOKEN"),
        "{tenant_admin:?}"
    );
    let platform_admin = app.get(ADMIN_TOKEN, "/metrics").await;
    assert_eq!(
        platform_admin.status, 401,
        "the admin token does not belong in a scraper's config"
    );
    let wrong = app.get("not-the-metrics-token", "/metrics").await;
    assert_eq!(wrong.status, 401);

    let text = scrape(&app).await;
    assert!(
        text.contains("# TYPE axle_http_requests_total counter"),
        "{text}"
    );
    assert!(
        value(
            &text,
            "axle_http_requests_total",
            &[("route", "/metrics"), ("status", "401")],
        ) >= 4.0,
        "refused scrapes are counted too"
    );
}

#[tokio::test]
async fn a_node_reports_its_heap_in_use_and_free_and_what_sqlite_holds() {
    let app = TestApp::spawn().await;
    // A node reports when it starts serving, then every 10 s, from a blocking thread.
    let mut text = scrape(&app).await;
    for _ in 0..50 {
        if text.contains("axle_heap_bytes{") && text.contains("axle_sqlite_heap_bytes ") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape(&app).await;
    }
    let in_use = value(&text, "axle_heap_bytes", &[("part", "in_use")]);
    assert!(value(&text, "axle_heap_arenas", &[]) >= 1.0, "{text}");
    // A node holds at least its plugin snapshot and its connection pools.
    assert!(in_use > 1024.0 * 1024.0, "heap in use: {in_use}\n{text}");
    assert!(text.contains("axle_heap_bytes{part=\"free\"} "), "{text}");
    let sqlite = value(&text, "axle_sqlite_heap_bytes", &[]);
    match axle_tests::backend() {
        axle_tests::Backend::Sqlite => assert!(sqlite > 0.0, "SQLite's heap: {text}"),
        // Process-wide, and no node of this process need have opened SQLite: reported, 0
        // or more.
        axle_tests::Backend::Postgres => {
            assert!(text.contains("axle_sqlite_heap_bytes "), "{text}")
        }
    }
}

#[tokio::test]
async fn a_served_node_shares_at_most_two_malloc_arenas_among_its_threads() {
    let node = NodeProcess::start_with(&[
        "--admin-token",
        ADMIN_TOKEN,
        "--metrics-token",
        METRICS_TOKEN,
    ]);
    let client = axle_host::tls::client();
    // Threads that allocate at once are what makes glibc open arenas: tenants created in
    // parallel keep the runtime's workers, SQLite's connection threads and key hashing busy.
    let creates = (0..24).map(|n| {
        client
            .post(format!("{}/api/v1/tenants", node.url))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({ "name": format!("Arena {n}"), "slug": format!("arena-{n}") }))
            .send()
    });
    for reply in futures_util::future::join_all(creates).await {
        assert_eq!(reply.expect("POST /tenants").status().as_u16(), 201);
    }
    // The gauges are read at each heap trim, every 10 s (the heap in use is never the same
    // twice); arenas are never given back, so the next report after the load counts every
    // arena the load opened.
    let in_use = |text: &str| value(text, "axle_heap_bytes", &[("part", "in_use")]);
    let before = in_use(&scrape_at(&client, &node.url).await);
    let mut text = scrape_at(&client, &node.url).await;
    for _ in 0..150 {
        if in_use(&text) != before {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        text = scrape_at(&client, &node.url).await;
    }
    let arenas = value(&text, "axle_heap_arenas", &[]);
    assert!((1.0..=2.0).contains(&arenas), "arenas: {arenas}\n{text}");
}

#[tokio::test]
async fn a_node_without_a_scrape_token_refuses_every_scrape() {
    let mut app = TestApp::spawn().await;
    let mut settings = app.settings.clone();
    settings.metrics_token = None;
    let node = axle_host::app::App::open(&settings)
        .await
        .expect("open a second node");
    let server = node.serve("127.0.0.1:0").await.expect("serve");
    let url = format!("http://{}/metrics", server.addr);

    for token in [METRICS_TOKEN, ADMIN_TOKEN] {
        let reply = app
            .client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .expect("GET /metrics");
        assert_eq!(reply.status().as_u16(), 401);
        let body = reply.text().await.expect("body");
        assert!(body.contains("metrics are off"), "{body}");
    }
    server.stop().await.expect("stop");
    app.stop().await;
}

/// A span's fields, as text.
#[derive(Default)]
struct Fields(BTreeMap<String, String>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_owned(), value.to_owned());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.insert(field.name().to_owned(), format!("{value:?}"));
    }
}

type Closed = Arc<Mutex<Vec<BTreeMap<String, String>>>>;

/// Keeps the fields of every `plugin.invoke` and `http.request` span when it closes, with
/// the span's name under `span`.
struct InvocationSpans(Closed);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> Layer<S> for InvocationSpans {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let name = attrs.metadata().name();
        if !matches!(name, "plugin.invoke" | "http.request") {
            return;
        }
        let mut fields = Fields::default();
        fields.0.insert("span".to_owned(), name.to_owned());
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(fields) = span.extensions_mut().get_mut::<Fields>()
        {
            values.record(fields);
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(&id)
            && let Some(fields) = span.extensions_mut().remove::<Fields>()
        {
            self.0.lock().expect("spans lock").push(fields.0);
        }
    }
}

/// The closed invocation spans of this test process (the subscriber is installed once).
fn invocation_spans() -> &'static Closed {
    static SPANS: OnceLock<Closed> = OnceLock::new();
    SPANS.get_or_init(|| {
        let spans = Closed::default();
        let subscriber = tracing_subscriber::registry().with(InvocationSpans(spans.clone()));
        tracing::subscriber::set_global_default(subscriber)
            .expect("one subscriber per test process");
        spans
    })
}

/// The closed invocation spans of the installation `id`.
fn spans_of(id: &str) -> Vec<BTreeMap<String, String>> {
    invocation_spans()
        .lock()
        .expect("spans lock")
        .iter()
        .filter(|span| span.get("installation").is_some_and(|i| i == id))
        .cloned()
        .collect()
}

#[tokio::test]
async fn every_invocation_runs_in_a_span_that_ends_with_its_outcome_and_duration() {
    invocation_spans();
    let app = TestApp::spawn().await;
    let tenant = app.tenant("oem-metrics-spans").await;
    let routing = install_as(
        &app,
        &tenant,
        &VIP_ROUTING,
        "0.1.0-spans.routing",
        json!({ "team": "vip-care" }),
        &["records"],
    )
    .await;
    let trapping = install_as(
        &app,
        &tenant,
        &HOSTILE,
        "0.1.0-spans.trap",
        json!({ "mode": "panic" }),
        &[],
    )
    .await;
    let fields = install_as(
        &app,
        &tenant,
        &VIN_DECODER,
        "0.1.0-spans.fields",
        json!({}),
        &[],
    )
    .await;

    app.vehicle(
        &tenant,
        json!({ "vin": vin("LSVAX4100N2000101"), "fields": { "plate": "京A12345" } }),
    )
    .await;
    app.ticket(&tenant, json!({ "description": "空调不制冷" }))
        .await;

    let routed = spans_of(&routing);
    assert_eq!(routed.len(), 1, "{routed:?}");
    let span = &routed[0];
    assert_eq!(span["tenant"], tenant.id);
    assert_eq!(span["plugin"], "vip-routing@0.1.0-spans.routing");
    assert_eq!(span["hook"], "route");
    assert_eq!(span["outcome"], "ok");
    assert!(span["duration_us"].parse::<u64>().is_ok(), "{span:?}");

    let trapped = spans_of(&trapping);
    assert_eq!(trapped.len(), 1, "{trapped:?}");
    assert_eq!(trapped[0]["plugin"], "hostile@0.1.0-spans.trap");
    assert_eq!(trapped[0]["outcome"], "trap");

    // A field provider is called twice per record (validate, then compute), once for the
    // vehicle and once for the ticket: each call has a span of its own hook.
    let mut hooks: Vec<String> = spans_of(&fields)
        .iter()
        .map(|span| {
            assert_eq!(span["outcome"], "ok", "{span:?}");
            assert!(span.contains_key("duration_us"), "{span:?}");
            span["hook"].clone()
        })
        .collect();
    hooks.sort();
    assert_eq!(hooks, ["compute", "compute", "validate", "validate"]);
}

#[tokio::test]
async fn request_spans_name_the_route_template_never_the_path_it_was_called_with() {
    invocation_spans();
    let app = TestApp::spawn().await;
    let secret = "tok_request-span-secret-7f3a";

    app.get_anonymous(&format!("/api/v1/surveys/{secret}"))
        .await;
    app.get_anonymous(&format!("/no/such/route/{secret}")).await;

    // A request's span closes as its response finishes, which may be just after the
    // client has read it.
    let request_spans = || -> Vec<BTreeMap<String, String>> {
        invocation_spans()
            .lock()
            .expect("spans lock")
            .iter()
            .filter(|span| span.get("span").is_some_and(|name| name == "http.request"))
            .cloned()
            .collect()
    };
    let routes_of = |spans: &[BTreeMap<String, String>]| -> Vec<String> {
        spans
            .iter()
            .filter_map(|span| span.get("route").cloned())
            .collect()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let mut spans = request_spans();
    while !["/api/v1/surveys/{token}", "<unmatched>"]
        .iter()
        .all(|route| routes_of(&spans).iter().any(|r| r == route))
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        spans = request_spans();
    }
    let routes = routes_of(&spans);
    assert!(
        routes.iter().any(|r| r == "/api/v1/surveys/{token}"),
        "{routes:?}"
    );
    assert!(routes.iter().any(|r| r == "<unmatched>"), "{routes:?}");
    for span in &spans {
        assert!(
            span.values().all(|value| !value.contains(secret)),
            "a request span holds the raw path: {span:?}"
        );
    }
}
