//! The test harness: a real `axle` node on 127.0.0.1:0 over a fresh database per test —
//! a temporary SQLite file, or a new PostgreSQL database when
//! `AXLE_TEST_BACKEND=postgres` (then `AXLE_TEST_DATABASE_URL` names the server's
//! maintenance database, default `postgres://postgres@127.0.0.1:5432/test`). Like a
//! production node, a test node runs a delivery worker for the notifications outbox,
//! tuned to poll and retry quickly.

pub mod crafted;
pub mod node_process;
pub mod pg_cluster;
pub mod redis_server;
pub mod tls_server;

use std::path::PathBuf;
use std::time::Duration;

use axle_host::app::{App, Settings};
use axle_host::delivery::outbound::OutboundPolicy;
use axle_host::delivery::{DeliverySettings, DeliveryWorker};
use axle_host::http::Server;
use axle_host::runtime::limits::PlatformLimits;
use reqwest::multipart;
use serde_json::{Value, json};

/// The platform admin token every test node uses.
pub const ADMIN_TOKEN: &str = "test-admin-token";
/// The `/metrics` scrape token of every test node.
pub const METRICS_TOKEN: &str = "test-metrics-token";

/// The public URL every test node puts in links it sends (survey invitations).
pub const PUBLIC_URL: &str = "https://service.axle.test";

/// Which database backs the suite in this run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The backend chosen by `AXLE_TEST_BACKEND` (`sqlite` by default).
pub fn backend() -> Backend {
    match std::env::var("AXLE_TEST_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        Ok("sqlite") | Err(_) => Backend::Sqlite,
        Ok(other) => panic!("AXLE_TEST_BACKEND must be sqlite or postgres, not {other}"),
    }
}

fn postgres_admin_url() -> String {
    std::env::var("AXLE_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// Production's platform limits with a default deadline of one second instead of 50 ms.
/// Most tests are about what a plugin decides, not how fast: with both backends' passes
/// sharing a 2-core machine, a plugin's `records` call can wait on the database past 50 ms
/// and its decision would be missing now and then. Tests of the deadline itself start
/// their node with `TestApp::spawn_with(PlatformLimits::default())`.
pub fn patient_limits() -> PlatformLimits {
    let mut limits = PlatformLimits::default();
    limits.defaults.deadline_ms = 1_000;
    limits
}

/// A fresh PostgreSQL database with Axle's schema, dropped with this value.
pub struct PgDatabase {
    name: String,
    pub url: String,
}

impl PgDatabase {
    /// Creates one on the test server, a copy of the migrated template.
    pub async fn create() -> PgDatabase {
        use sqlx::Connection;
        let admin = postgres_admin_url();
        let template = migrated_template().await;
        let name = format!("axle_t_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|err| panic!("cannot reach PostgreSQL at {admin}: {err}"));
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "CREATE DATABASE {name} TEMPLATE {template}"
        )))
        .execute(&mut conn)
        .await
        .expect("create the test database");
        PgDatabase {
            url: database_url(&admin, &name),
            name,
        }
    }
}

/// Whether the server has a database named `name`.
async fn template_exists(conn: &mut sqlx::PgConnection, name: &str) -> bool {
    use sqlx::Row;
    let row = sqlx::query("SELECT count(*) FROM pg_database WHERE datname = $1")
        .bind(name.to_owned())
        .fetch_one(conn)
        .await
        .expect("look up the template");
    row.get::<i64, _>(0) == 1
}

/// `admin`'s server with `name` for its database.
fn database_url(admin: &str, name: &str) -> String {
    let base = admin
        .rsplit_once('/')
        .map(|(base, _)| base)
        .expect("database url has a path");
    format!("{base}/{name}")
}

/// The name of a database that holds Axle's migrated, empty schema, created on the test
/// server the first time any test process asks for it. Copying it is what makes a test
/// database cheap: running the migrations takes PostgreSQL a second of commits, a copy a
/// tenth of that. It is named for the migrations, so a changed schema gets a new one.
async fn migrated_template() -> &'static str {
    static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
    TEMPLATE
        .get_or_init(|| async {
            use sqlx::Connection;
            let admin = postgres_admin_url();
            let fingerprint = axle_host::db::schema_fingerprint();
            let template = format!("axle_template_{}", &fingerprint[..16]);
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .unwrap_or_else(|err| panic!("cannot reach PostgreSQL at {admin}: {err}"));
            if template_exists(&mut conn, &template).await {
                return template;
            }
            // Another test process may be building it too: one builds, under a lock held
            // on the server, and the rest find it done.
            let lock = i64::from_str_radix(&fingerprint[..15], 16).expect("hex");
            sqlx::query("SELECT pg_advisory_lock($1)")
                .bind(lock)
                .execute(&mut conn)
                .await
                .expect("lock the template");
            if !template_exists(&mut conn, &template).await {
                // Built under another name and renamed when complete, so a run that dies
                // half-way leaves no half-migrated template behind the real name.
                let building = format!("axle_building_{}", uuid::Uuid::now_v7().simple());
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {building}")))
                    .execute(&mut conn)
                    .await
                    .expect("create the template database");
                let db = axle_host::db::Db::connect(&database_url(&admin, &building))
                    .await
                    .expect("migrate the template database");
                db.close().await;
                // The server may still be ending the closed connections' backends, and a
                // database with sessions cannot be renamed: a few tries.
                let rename = format!("ALTER DATABASE {building} RENAME TO {template}");
                for attempt in 1.. {
                    match sqlx::raw_sql(sqlx::AssertSqlSafe(rename.clone()))
                        .execute(&mut conn)
                        .await
                    {
                        Ok(_) => break,
                        Err(err) if attempt < 50 => {
                            tracing::debug!(%err, "template still in use");
                            tokio::time::sleep(Duration::from_millis(100)).await;
                        }
                        Err(err) => panic!("cannot name the template database: {err}"),
                    }
                }
            }
            sqlx::query("SELECT pg_advisory_unlock($1)")
                .bind(lock)
                .execute(&mut conn)
                .await
                .expect("unlock the template");
            template
        })
        .await
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any async context we can use, so a short-lived runtime on its
        // own thread does the cleanup.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            runtime.block_on(async {
                use sqlx::Connection;
                let mut conn = sqlx::PgConnection::connect(&postgres_admin_url())
                    .await
                    .ok()?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                    "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                )))
                .execute(&mut conn)
                .await
                .ok()
            })
        })
        .join();
    }
}

/// Delivery settings for tests: quick polls and short backoff, so retries take
/// milliseconds.
pub fn fast_delivery() -> DeliverySettings {
    DeliverySettings {
        poll_interval: Duration::from_millis(20),
        max_in_flight: 16,
        lease: Duration::from_secs(10),
        max_attempts: 5,
        backoff_base: Duration::from_millis(50),
        backoff_cap: Duration::from_secs(1),
        webhook_timeout: Duration::from_secs(5),
        // The tests' webhook receivers listen on loopback, which only an operator's
        // allowance opens (`AXLE_WEBHOOK_ALLOW`).
        outbound: OutboundPolicy::allowing(["127.0.0.0/8".parse().expect("a CIDR")]),
        trusted_roots: Default::default(),
    }
}

/// Which compiled cache a test node uses.
enum Compiled {
    /// The suite's, [`shared_compiled_dir`].
    Shared,
    /// One of its own, in its data directory.
    Own,
}

/// A running node and a client for it.
pub struct TestApp {
    pub url: String,
    pub client: reqwest::Client,
    pub app: App,
    server: Option<Server>,
    delivery: Option<DeliveryWorker>,
    /// What the node was opened with; a test opens another node on the same database
    /// with a changed copy.
    pub settings: Settings,
    _data_dir: tempfile::TempDir,
    _pg: Option<PgDatabase>,
}

/// A tenant created through the API, with its admin key.
#[derive(Clone, Debug)]
pub struct Tenant {
    pub id: String,
    pub key: String,
}

/// An HTTP response, read whole.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    /// The body, after asserting the status.
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self.body
    }

    /// The reply itself, after asserting the status: for error replies whose message or
    /// details a test reads.
    #[track_caller]
    pub fn expect_error(self, status: u16) -> Reply {
        assert_eq!(
            self.status, status,
            "unexpected status; body: {}",
            self.body
        );
        self
    }

    /// The error code of an error reply.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or_default()
    }

    /// The error message of an error reply.
    pub fn error_message(&self) -> &str {
        self.body["error"]["message"].as_str().unwrap_or_default()
    }
}

impl TestApp {
    /// The survey token of the latest survey invitation in a ticket view. The reply shows
    /// the link with `{link-token}` in its place (checked here); the token itself is
    /// read from the outbox row, as the delivery worker reads it.
    pub async fn survey_token(&self, view: &Value) -> String {
        let link = format!("{PUBLIC_URL}/api/v1/surveys/");
        let invitation = view["notifications"]
            .as_array()
            .unwrap_or_else(|| panic!("no notifications in {view}"))
            .iter()
            .rfind(|n| n["body"].as_str().is_some_and(|b| b.contains(&link)))
            .unwrap_or_else(|| panic!("no survey sent: {view}"));
        self.link_token(invitation).await
    }

    /// The link token of an outbox entry as the API shows it, after checking that the
    /// shown body carries the placeholder and not the token.
    pub async fn link_token(&self, entry: &Value) -> String {
        let body = entry["body"].as_str().unwrap_or_default();
        assert!(
            body.contains("/api/v1/surveys/{link-token}"),
            "the reply shows the link without its token: {body:?}"
        );
        let token: Option<String> =
            sqlx::query_scalar("SELECT link_token FROM outbox WHERE id = $1")
                .bind(entry["id"].as_str().expect("an outbox id"))
                .fetch_one(self.app.core.db.reader())
                .await
                .expect("read the outbox row");
        let token = token.expect("the row keeps its link token");
        assert!(!body.contains(&token));
        assert_eq!(token.len(), 64, "a 256-bit token in hex");
        token
    }
    /// Starts a node with [`patient_limits`].
    pub async fn spawn() -> TestApp {
        Self::spawn_with(patient_limits()).await
    }

    /// Starts a node with `limits`.
    pub async fn spawn_with(limits: PlatformLimits) -> TestApp {
        Self::spawn_node(limits, fast_delivery(), true).await
    }

    /// Starts a node with `limits` and a compiled cache of its own, empty: for a test of
    /// what compiling does, which the suite's shared cache would answer from disk.
    pub async fn spawn_compiling(limits: PlatformLimits) -> TestApp {
        Self::spawn_with_database(limits, fast_delivery(), true, None, None, Compiled::Own).await
    }

    /// Starts a node whose delivery worker runs with `delivery`.
    pub async fn spawn_delivering(delivery: DeliverySettings) -> TestApp {
        Self::spawn_node(patient_limits(), delivery, true).await
    }

    /// Starts a node that fans plugin reloads out over the Redis at `redis_url`; its
    /// [`peer`](Self::peer)s use the same Redis.
    pub async fn spawn_with_redis(redis_url: &str) -> TestApp {
        Self::spawn_full(
            patient_limits(),
            fast_delivery(),
            true,
            Some(redis_url.to_owned()),
        )
        .await
    }

    /// Starts a node without a delivery worker: notifications stay pending until a
    /// worker (of this node or a [`peer`](Self::peer)) starts.
    pub async fn spawn_without_delivery() -> TestApp {
        Self::spawn_node(patient_limits(), fast_delivery(), false).await
    }

    async fn spawn_node(
        limits: PlatformLimits,
        delivery: DeliverySettings,
        deliver: bool,
    ) -> TestApp {
        Self::spawn_full(limits, delivery, deliver, None).await
    }

    /// Starts a node (with its delivery worker) on the PostgreSQL database at
    /// `database_url`, which the test owns: a private cluster it stops and starts.
    pub async fn spawn_on(database_url: &str) -> TestApp {
        Self::spawn_with_database(
            patient_limits(),
            fast_delivery(),
            true,
            None,
            Some(database_url.to_owned()),
            Compiled::Shared,
        )
        .await
    }

    async fn spawn_full(
        limits: PlatformLimits,
        delivery: DeliverySettings,
        deliver: bool,
        redis_url: Option<String>,
    ) -> TestApp {
        Self::spawn_with_database(limits, delivery, deliver, redis_url, None, Compiled::Shared)
            .await
    }

    async fn spawn_with_database(
        limits: PlatformLimits,
        delivery: DeliverySettings,
        deliver: bool,
        redis_url: Option<String>,
        database_url: Option<String>,
        compiled: Compiled,
    ) -> TestApp {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let compiled_dir = match compiled {
            Compiled::Shared => shared_compiled_dir(),
            Compiled::Own => Settings::default_compiled_dir(data_dir.path()),
        };
        let pg = match (backend(), &database_url) {
            (_, Some(_)) | (Backend::Sqlite, None) => None,
            (Backend::Postgres, None) => Some(PgDatabase::create().await),
        };
        let settings = Settings {
            data_dir: data_dir.path().to_owned(),
            database_url: database_url.or_else(|| pg.as_ref().map(|pg| pg.url.clone())),
            admin_token: Some(ADMIN_TOKEN.to_owned()),
            metrics_token: Some(METRICS_TOKEN.to_owned()),
            public_url: Some(PUBLIC_URL.to_owned()),
            compiled_dir: Some(compiled_dir),
            limits,
            delivery,
            redis_url,
        };
        let app = App::open(&settings).await.expect("open the node");
        let server = app.serve("127.0.0.1:0").await.expect("bind 127.0.0.1:0");
        let delivery = deliver.then(|| app.start_delivery().expect("start delivery"));
        TestApp {
            url: format!("http://{}", server.addr),
            client: axle_host::tls::client(),
            app,
            server: Some(server),
            delivery,
            settings,
            _data_dir: data_dir,
            _pg: pg,
        }
    }

    /// Another node on this node's database (no HTTP server, no worker started), its
    /// delivery worker configured by `delivery`.
    pub async fn peer(&self, delivery: DeliverySettings) -> App {
        let settings = Settings {
            delivery,
            ..self.settings.clone()
        };
        App::open(&settings).await.expect("open a peer node")
    }

    /// Stops the server and the delivery worker, letting work in flight finish.
    pub async fn stop(&mut self) {
        if let Some(server) = self.server.take() {
            server.stop().await.expect("server stops cleanly");
        }
        if let Some(delivery) = self.delivery.take() {
            delivery.stop().await;
        }
    }

    async fn read(response: reqwest::Response) -> Reply {
        let status = response.status().as_u16();
        let text = response.text().await.expect("read the body");
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::String(text))
        };
        Reply { status, body }
    }

    /// Sends a request built on [`client`](Self::client) and reads the reply whole.
    pub async fn send(&self, request: reqwest::RequestBuilder) -> Reply {
        Self::read(request.send().await.expect("the request is answered")).await
    }

    /// `GET path` with `key`.
    pub async fn get(&self, key: &str, path: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .expect("GET");
        Self::read(response).await
    }

    /// `GET path` without any credentials.
    pub async fn get_anonymous(&self, path: &str) -> Reply {
        let response = self
            .client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("GET");
        Self::read(response).await
    }

    /// `POST path` with a JSON body and without any credentials.
    pub async fn post_anonymous(&self, path: &str, body: &Value) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .json(body)
            .send()
            .await
            .expect("POST");
        Self::read(response).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, key: &str, path: &str, body: &Value) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("POST");
        Self::read(response).await
    }

    /// `POST path` with a raw body and content type.
    pub async fn post_raw(&self, key: &str, path: &str, content_type: &str, body: &str) -> Reply {
        let response = self
            .client
            .post(format!("{}{path}", self.url))
            .bearer_auth(key)
            .header("content-type", content_type)
            .body(body.to_owned())
            .send()
            .await
            .expect("POST");
        Self::read(response).await
    }

    /// `PATCH path` with a JSON body.
    pub async fn patch(&self, key: &str, path: &str, body: &Value) -> Reply {
        let response = self
            .client
            .patch(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("PATCH");
        Self::read(response).await
    }

    /// `PUT path` with a JSON body.
    pub async fn put_json(&self, key: &str, path: &str, body: &Value) -> Reply {
        let response = self
            .client
            .put(format!("{}{path}", self.url))
            .bearer_auth(key)
            .json(body)
            .send()
            .await
            .expect("PUT");
        Self::read(response).await
    }

    /// `DELETE path`.
    pub async fn delete(&self, key: &str, path: &str) -> Reply {
        let response = self
            .client
            .delete(format!("{}{path}", self.url))
            .bearer_auth(key)
            .send()
            .await
            .expect("DELETE");
        Self::read(response).await
    }

    /// Creates a tenant through the admin API.
    pub async fn tenant(&self, slug: &str) -> Tenant {
        let body = self
            .post(
                ADMIN_TOKEN,
                "/api/v1/tenants",
                &json!({ "name": format!("Tenant {slug}"), "slug": slug }),
            )
            .await
            .expect(201);
        Tenant {
            id: body["tenant"]["id"].as_str().expect("tenant id").to_owned(),
            key: body["api_key"]["secret"]
                .as_str()
                .expect("api key")
                .to_owned(),
        }
    }

    /// Creates a customer and returns its JSON.
    pub async fn customer(&self, tenant: &Tenant, body: Value) -> Value {
        self.post(&tenant.key, "/api/v1/customers", &body)
            .await
            .expect(201)
    }

    /// Creates a vehicle and returns its JSON.
    pub async fn vehicle(&self, tenant: &Tenant, body: Value) -> Value {
        self.post(&tenant.key, "/api/v1/vehicles", &body)
            .await
            .expect(201)
    }

    /// Creates a ticket and returns its JSON.
    pub async fn ticket(&self, tenant: &Tenant, body: Value) -> Value {
        self.post(&tenant.key, "/api/v1/tickets", &body)
            .await
            .expect(201)
    }

    /// The events on a ticket's timeline, oldest first.
    pub async fn timeline(&self, tenant: &Tenant, ticket_id: &str) -> Vec<Value> {
        let body = self
            .get(
                &tenant.key,
                &format!("/api/v1/tickets/{ticket_id}/timeline"),
            )
            .await
            .expect(200);
        body["items"].as_array().expect("timeline items").clone()
    }

    /// Uploads a plugin from its manifest text and component bytes.
    pub async fn upload(&self, tenant: &Tenant, manifest: &str, component: Vec<u8>) -> Reply {
        let form = multipart::Form::new()
            .part(
                "manifest",
                multipart::Part::text(manifest.to_owned()).file_name("plugin.toml"),
            )
            .part(
                "component",
                multipart::Part::bytes(component).file_name("plugin.wasm"),
            );
        let response = self
            .client
            .post(format!("{}/api/v1/plugins", self.url))
            .bearer_auth(&tenant.key)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        Self::read(response).await
    }

    /// Uploads one of the built plugins (or test guests) and installs it with `config`
    /// and `grants`; returns the installation JSON.
    pub async fn install(
        &self,
        tenant: &Tenant,
        plugin: &Plugin,
        config: Value,
        grants: &[&str],
    ) -> Value {
        self.install_component(
            tenant,
            plugin.name,
            &plugin.manifest(),
            plugin.component(),
            config,
            grants,
        )
        .await
    }

    /// Uploads `component` with `manifest` as the plugin `name` and installs it for
    /// `tenant` with `config` and `grants`; returns the installation JSON.
    pub async fn install_component(
        &self,
        tenant: &Tenant,
        name: &str,
        manifest: &str,
        component: Vec<u8>,
        config: Value,
        grants: &[&str],
    ) -> Value {
        let reply = self.upload(tenant, manifest, component).await;
        assert!(
            reply.status == 201 || reply.status == 200,
            "upload {name}: {reply:?}"
        );
        self.post(
            &tenant.key,
            "/api/v1/installations",
            &json!({ "plugin": name, "config": config, "capabilities": grants }),
        )
        .await
        .expect(201)
    }
}

/// The ids of a list reply's items, in order.
pub fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("a list reply has items")
        .iter()
        .map(|item| item["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A ticket's tags.
pub fn tags(ticket: &Value) -> Vec<&str> {
    ticket["tags"]
        .as_array()
        .expect("tags")
        .iter()
        .filter_map(Value::as_str)
        .collect()
}

/// The `field` of every entry in a 422 reply's `details`.
pub fn invalid_fields(reply: &Reply) -> Vec<&str> {
    reply.body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| d["field"].as_str())
        .collect()
}

/// The message a 422 reply gives for `field`.
pub fn field_message<'a>(reply: &'a Reply, field: &str) -> &'a str {
    reply.body["error"]["details"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|d| d["field"] == field)
        .and_then(|d| d["message"].as_str())
        .unwrap_or_else(|| panic!("no detail for `{field}` in {}", reply.body))
}

/// A new agent key of `tenant`: its id and its secret.
pub async fn agent_key(app: &TestApp, tenant: &Tenant) -> (String, String) {
    let body = app
        .post(
            &tenant.key,
            "/api/v1/api-keys",
            &json!({ "name": "hotline agent", "role": "agent" }),
        )
        .await
        .expect(201);
    (
        body["key"]["id"].as_str().unwrap().to_owned(),
        body["secret"].as_str().unwrap().to_owned(),
    )
}

/// A plugin built by `cargo xtask test` (or a test guest).
#[derive(Clone, Copy, Debug)]
pub struct Plugin {
    pub name: &'static str,
    /// The source directory, relative to the repository root.
    pub dir: &'static str,
    /// The component's file name.
    pub wasm: &'static str,
}

pub const SAFETY_ESCALATION: Plugin = Plugin {
    name: "safety-escalation",
    dir: "plugins/safety-escalation",
    wasm: "axle_plugin_safety_escalation.wasm",
};
pub const VIP_ROUTING: Plugin = Plugin {
    name: "vip-routing",
    dir: "plugins/vip-routing",
    wasm: "axle_plugin_vip_routing.wasm",
};
pub const FAQ_AUTOREPLY: Plugin = Plugin {
    name: "faq-autoreply",
    dir: "plugins/faq-autoreply",
    wasm: "axle_plugin_faq_autoreply.wasm",
};
pub const VIN_DECODER: Plugin = Plugin {
    name: "vin-decoder",
    dir: "plugins/vin-decoder",
    wasm: "axle_plugin_vin_decoder.wasm",
};
pub const KPI_SUMMARY: Plugin = Plugin {
    name: "kpi-summary",
    dir: "plugins/kpi-summary",
    wasm: "axle_plugin_kpi_summary.wasm",
};
pub const BACKLOG_CHART: Plugin = Plugin {
    name: "backlog-chart",
    dir: "plugins/backlog-chart",
    wasm: "axle_plugin_backlog_chart.wasm",
};
pub const STATION_ROUTING: Plugin = Plugin {
    name: "station-routing",
    dir: "plugins/station-routing",
    wasm: "axle_plugin_station_routing.wasm",
};
pub const HOSTILE: Plugin = Plugin {
    name: "hostile",
    dir: "tests/guests/hostile",
    wasm: "axle_guest_hostile.wasm",
};
pub const SCRIPTED_STEP: Plugin = Plugin {
    name: "scripted-step",
    dir: "tests/guests/scripted-step",
    wasm: "axle_guest_scripted_step.wasm",
};
/// A routing rule built against the frozen `axle:plugin@0.1.0`, without the SDK.
pub const ROUTING_V0_1: Plugin = Plugin {
    name: "routing-v0-1",
    dir: "tests/guests/routing-v0-1",
    wasm: "axle_guest_routing_v0_1.wasm",
};
pub const TICKET_RULES: Plugin = Plugin {
    name: "ticket-rules",
    dir: "tests/guests/ticket-rules",
    wasm: "axle_guest_ticket_rules.wasm",
};

/// The compiled cache every test node shares, as the nodes of one deployment share a
/// plugin's bytes: each component is compiled once per engine configuration and then
/// loaded from disk, so the suite spends its time on what it tests rather than in
/// Cranelift. Entries are written under a temporary name and renamed, so concurrent
/// tests (and the two backends' passes) can share it. Tests of compiling itself use
/// [`TestApp::spawn_compiling`].
pub fn shared_compiled_dir() -> PathBuf {
    repo_root().join("target").join("test-compiled")
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_owned()
}

impl Plugin {
    /// The plugin.toml text without the deadline the plugin asks for, so it runs under
    /// its test node's default: [`patient_limits`]' second, or production's 50 ms for the
    /// nodes of the tests about time. The shipped plugins ask for 20 to 200 ms, which a
    /// `records` call waiting on a database shared by both backends' passes can outlast.
    pub fn manifest(&self) -> String {
        self.shipped_manifest()
            .lines()
            .filter(|line| !line.trim_start().starts_with("deadline_ms"))
            .map(|line| format!("{line}\n"))
            .collect()
    }

    /// The plugin.toml text as shipped.
    pub fn shipped_manifest(&self) -> String {
        let path = repo_root().join(self.dir).join("plugin.toml");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
    }

    /// The plugin.toml text as version `version`, asking for `capabilities` (a TOML
    /// array): the same component uploaded as another version.
    pub fn manifest_as(&self, version: &str, capabilities: &str) -> String {
        self.manifest()
            .lines()
            .map(|line| {
                if line.starts_with("version = ") {
                    format!("version = \"{version}\"\n")
                } else if line.starts_with("capabilities = ") {
                    format!("capabilities = {capabilities}\n")
                } else {
                    format!("{line}\n")
                }
            })
            .collect()
    }

    /// The built component's bytes.
    pub fn component(&self) -> Vec<u8> {
        let path = repo_root()
            .join("target/wasm/wasm32-wasip2/release")
            .join(self.wasm);
        std::fs::read(&path).unwrap_or_else(|err| {
            panic!(
                "read {}: {err}; `cargo xtask test` builds the plugins before the tests",
                path.display()
            )
        })
    }
}

/// A valid VIN built from a 17-character stem (its check digit is fixed up).
pub fn vin(stem: &str) -> String {
    axle_vin::Vin::with_check_digit(stem)
        .expect("a 17-character VIN stem")
        .to_string()
}
