//! Fleet figures: how fast a plugin change goes live on the node that made it, how fast
//! every other node follows (with Redis, and by polling the database without it), and
//! what 10,000 tenants that each install the same 4 plugins cost in memory.
//!
//! Targets: a change is live on its node within 100 ms of the API call (compile
//! excluded), every node converges within 1 s, and 10,000 tenants × 4 plugins, plus one
//! of them with 100 dealers that each install 2 plugins in their own subtree, take less
//! than 300 MiB RSS above an empty node. The reload figure is taken twice: on a tenant
//! with only tenant-wide installations, and on the tenant with 100 dealers × 2 scoped
//! installations, whose every change rebuilds a snapshot of 204.
//!
//! - Reload latency: one node on a file-backed SQLite database; the installation flips
//!   between two uploaded versions of the same component (already compiled), upgrade and
//!   rollback in turn, timed from the call to `registry::for_record` returning the new version.
//! - Convergence: two nodes on one database (a fresh PostgreSQL database when
//!   `postgres://postgres@127.0.0.1:5432/test` or `AXLE_TEST_DATABASE_URL` answers, a
//!   shared SQLite file otherwise), each with and without a private `redis-server`.
//!   Node A changes the installation; node B's `registry::for_record` is polled every 200 µs until
//!   it runs the new version.
//! - Memory: the process RSS (`VmRSS`) after opening an empty node, then after creating
//!   10,000 tenants, each with its own plugin version rows and installations of the same
//!   4 real plugins, and building every tenant's snapshot in the registry. The database
//!   is a SQLite file, so its pages live in the page cache of the kernel, not in RSS
//!   (only SQLite's own bounded per-connection cache does). The rows are written in bulk
//!   transactions: uploading the same bytes 40,000 times through the API would measure
//!   the upload path, not the fleet's memory.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use axle_host::app::{App, Settings};
use axle_host::delivery::DeliverySettings;
use axle_host::domain::hours::OpeningHours;
use axle_host::domain::ids::new_id;
use axle_host::domain::installations::{Installation, Scope};
use axle_host::domain::org::SiteKind;
use axle_host::domain::plugin::{Capability, World};
use axle_host::runtime::limits::PlatformLimits;
use axle_host::service::access::Access;
use axle_host::service::plugins::{self, InstallRequest, Upgraded, VersionRequest};
use axle_host::service::{Core, registry};
use axle_host::store::installations::{self, NewInstallation};
use axle_host::store::{plugin_clock, tenants};
use criterion::Criterion;
use serde_json::json;
use sqlx::Connection;

const TENANTS: usize = 10_000;
/// Tenants written per transaction while filling the fleet.
const BATCH: usize = 500;
const MEMORY_TARGET_MIB: f64 = 300.0;
const RELOAD_TARGET: Duration = Duration::from_millis(100);
const CONVERGENCE_TARGET: Duration = Duration::from_secs(1);
/// How often node B looks at its registry while waiting for a change.
const WATCH_EVERY: Duration = Duration::from_micros(200);
const SAMPLES_WITH_REDIS: usize = 200;
const SAMPLES_WITHOUT_REDIS: usize = 60;
/// Changes made to one installation before the reload figure moves to a fresh tenant.
/// Each change adds a row to the installation's history and a rollback reads all of it,
/// so without this the figure would grow with the number of criterion iterations
/// (measured: p50 0.85 ms over the first 500 changes, 9.9 ms after 4,500).
const CHANGES_PER_INSTALLATION: usize = 100;

/// Dealers of the one tenant whose dealers install plugins of their own.
const DEALERS: usize = 100;
/// What each of those dealers installs in its subtree: these plugins of [`FLEET`].
const DEALER_PLUGINS: [&str; 2] = ["vip-routing", "kpi-summary"];
/// Reload samples on the tenant with dealers.
const SCOPED_RELOAD_SAMPLES: usize = 200;

/// The plugin that flips between versions in the reload and convergence figures.
const FLIPPED: Plugin = Plugin {
    crate_dir: "vip-routing",
    wasm: "axle_plugin_vip_routing.wasm",
    grants: &[Capability::Records],
};
const V1: &str = "0.1.0";
const V2: &str = "0.2.0";

/// The 4 plugins every tenant of the fleet installs.
const FLEET: [Plugin; 4] = [
    Plugin {
        crate_dir: "safety-escalation",
        wasm: "axle_plugin_safety_escalation.wasm",
        grants: &[Capability::Notify],
    },
    FLIPPED,
    Plugin {
        crate_dir: "faq-autoreply",
        wasm: "axle_plugin_faq_autoreply.wasm",
        grants: &[],
    },
    Plugin {
        crate_dir: "kpi-summary",
        wasm: "axle_plugin_kpi_summary.wasm",
        grants: &[],
    },
];

/// One line per figure, printed again together at the end.
static SUMMARY: Mutex<Vec<String>> = Mutex::new(Vec::new());

fn report(line: String) {
    println!("{line}");
    SUMMARY.lock().expect("summary lock").push(line);
}

struct Plugin {
    crate_dir: &'static str,
    wasm: &'static str,
    grants: &'static [Capability],
}

impl Plugin {
    fn manifest(&self) -> String {
        read_text(&format!("../plugins/{}/plugin.toml", self.crate_dir))
    }

    fn bytes(&self) -> Vec<u8> {
        let path = workspace_path(&format!(
            "../target/wasm/wasm32-wasip2/release/{}",
            self.wasm
        ));
        std::fs::read(&path).unwrap_or_else(|err| {
            panic!(
                "read {}: {err}; build the plugins first (`cargo xtask bench` does)",
                path.display()
            )
        })
    }

    /// A config its schema accepts, as a tenant admin would set it.
    fn config(&self) -> serde_json::Value {
        match self.crate_dir {
            "safety-escalation" => json!({
                "default_manager": "+8613800000000",
                "managers": {"华东": "+8613900000001", "north": "+8613900000002"}
            }),
            "vip-routing" => json!({"team": "vip-care"}),
            "faq-autoreply" => json!({"entries": [
                {"keywords": ["保养", "service interval"], "answer": "Every 10,000 km or 12 months.",
                 "link": "https://kb.example.com/service-interval"},
                {"keywords": ["warranty", "保修"], "answer": "3 years or 100,000 km."}
            ]}),
            _ => json!({}),
        }
    }

    /// Uploads the plugin (at `version` when given) and returns its name.
    async fn upload(&self, core: &Core, tenant_id: &str, version: Option<&str>) -> String {
        let mut manifest = self.manifest();
        if let Some(version) = version {
            manifest = manifest.replacen(
                &format!("version = \"{V1}\""),
                &format!("version = \"{version}\""),
                1,
            );
        }
        let (uploaded, _) = plugins::upload(core, tenant_id, &manifest, self.bytes())
            .await
            .unwrap_or_else(|err| panic!("upload {}: {err}", self.crate_dir));
        uploaded.name
    }

    async fn install(&self, core: &Core, tenant_id: &str, name: String) -> Installation {
        plugins::install(
            core,
            Access::tenant(tenant_id),
            InstallRequest {
                plugin: name,
                version: Some(V1.to_owned()),
                config: Some(self.config()),
                capabilities: self.grants.to_vec(),
                ..InstallRequest::default()
            },
        )
        .await
        .unwrap_or_else(|err| panic!("install {}: {err}", self.crate_dir))
    }
}

fn workspace_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

fn read_text(relative: &str) -> String {
    let path = workspace_path(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("read {}: {err}", path.display()))
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

fn settings(data_dir: &Path, database_url: Option<String>, redis_url: Option<String>) -> Settings {
    Settings {
        data_dir: data_dir.to_owned(),
        database_url,
        admin_token: Some("axle_admin_bench".to_owned()),
        metrics_token: None,
        public_url: None,
        compiled_dir: Some(Settings::default_compiled_dir(data_dir)),
        limits: PlatformLimits::default(),
        delivery: DeliverySettings::default(),
        redis_url,
    }
}

/// The process's resident set size, from `/proc/self/status`.
fn rss_bytes() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status");
    kib * 1024
}

fn mib(bytes: i64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `10000` as `10,000`.
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "MISSED" }
}

/// The `q` quantile of `samples` (nearest rank).
fn quantile(samples: &[Duration], q: f64) -> Duration {
    let mut sorted = samples.to_vec();
    sorted.sort();
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// A tenant with [`FLIPPED`] uploaded at both versions and installed at [`V1`].
struct Flipping {
    tenant_id: String,
    installation_id: String,
    runs_v2: bool,
}

impl Flipping {
    async fn create(core: &Core, slug: &str) -> Flipping {
        let tenant = tenants::create(&core.db, slug, slug)
            .await
            .expect("create tenant");
        let name = FLIPPED.upload(core, &tenant.id, None).await;
        FLIPPED.upload(core, &tenant.id, Some(V2)).await;
        let installation = FLIPPED.install(core, &tenant.id, name).await;
        Flipping {
            tenant_id: tenant.id,
            installation_id: installation.id,
            runs_v2: false,
        }
    }

    /// Upgrades to [`V2`] or rolls back to [`V1`], whichever it does not run; returns the
    /// version it now runs.
    async fn flip(&mut self, core: &Core) -> &'static str {
        if self.runs_v2 {
            plugins::rollback(
                core,
                &self.tenant_id,
                &self.installation_id,
                VersionRequest::default(),
            )
            .await
            .expect("rollback");
        } else {
            let request = VersionRequest {
                version: Some(V2.to_owned()),
                config: None,
            };
            match plugins::upgrade(core, &self.tenant_id, &self.installation_id, request)
                .await
                .expect("upgrade")
            {
                Upgraded::Applied(_) => {}
                Upgraded::Pending(_) => panic!("the upgrade asks for no new capabilities"),
            }
        }
        self.runs_v2 = !self.runs_v2;
        if self.runs_v2 { V2 } else { V1 }
    }

    /// Whether `core`'s snapshot runs `version`.
    async fn runs(&self, core: &Core, version: &str) -> bool {
        registry::for_record(core, &self.tenant_id, World::RoutingRule, None)
            .await
            .expect("for_record")
            .iter()
            .any(|ready| ready.installation.version == version)
    }
}

/// Memory of 10,000 tenants that each install the same 4 plugins. Runs first, while the
/// process's heap holds nothing else.
fn memory() {
    let tokio = tokio_runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = tokio
        .block_on(App::open(&settings(dir.path(), None, None)))
        .expect("open a node");
    let core = &app.core;
    let empty = rss_bytes();

    let (template, one_tenant) = tokio.block_on(async {
        let tenant = tenants::create(&core.db, "template", "template")
            .await
            .expect("create tenant");
        let mut template = Vec::new();
        for plugin in &FLEET {
            let name = plugin.upload(core, &tenant.id, None).await;
            template.push(plugin.install(core, &tenant.id, name).await);
        }
        let snapshot = registry::snapshot(core, &tenant.id)
            .await
            .expect("snapshot");
        assert_eq!(snapshot.all().len(), FLEET.len());
        (template, rss_bytes())
    });

    let started = Instant::now();
    let tenant_ids = tokio.block_on(fill(core, &template, TENANTS - 1));
    let filled = started.elapsed();
    let rows = rss_bytes();

    let started = Instant::now();
    tokio.block_on(async {
        for tenant_id in &tenant_ids {
            let snapshot = registry::snapshot(core, tenant_id).await.expect("snapshot");
            assert_eq!(snapshot.all().len(), FLEET.len(), "tenant {tenant_id}");
        }
    });
    let built = started.elapsed();
    let full = rss_bytes();
    assert_eq!(core.registry.tenants(), TENANTS);
    assert_eq!(
        core.runtime.loaded_count(),
        FLEET.len(),
        "components are shared"
    );

    let tenants_only = full as i64 - empty as i64;
    // One tenant's dealers each install 2 plugins in their own subtree.
    let started = Instant::now();
    tokio.block_on(async {
        let oem = &template[0];
        let tenant_id = tenant_of(core, oem).await;
        add_dealers(core, &tenant_id, &template).await;
        let snapshot = registry::snapshot(core, &tenant_id)
            .await
            .expect("snapshot");
        assert_eq!(
            snapshot.all().len(),
            FLEET.len() + DEALERS * DEALER_PLUGINS.len()
        );
    });
    let dealers_built = started.elapsed();
    let with_dealers = rss_bytes();
    let delta = with_dealers as i64 - empty as i64;
    println!();
    println!(
        "memory, {TENANTS} tenants × {} plugins (SQLite file):",
        FLEET.len()
    );
    println!(
        "  empty node:                         {:>7.1} MiB RSS",
        mib(empty as i64)
    );
    println!(
        "  + 1 tenant (4 components compiled): {:>+7.1} MiB",
        mib(one_tenant as i64 - empty as i64)
    );
    println!(
        "  + {} tenants' rows written:       {:>+7.1} MiB  ({:.1} s)",
        TENANTS - 1,
        mib(rows as i64 - one_tenant as i64),
        filled.as_secs_f64()
    );
    println!(
        "  + every snapshot built:             {:>+7.1} MiB  ({:.1} s)",
        mib(full as i64 - rows as i64),
        built.as_secs_f64()
    );
    println!(
        "  + {DEALERS} dealers × {} scoped plugins:    {:>+7.1} MiB  ({:.1} s, sites, rows and snapshot)",
        DEALER_PLUGINS.len(),
        mib(with_dealers as i64 - full as i64),
        dealers_built.as_secs_f64()
    );
    report(format!(
        "{} tenants × {} plugins: {:+.1} MiB RSS ({:.1} KiB per tenant); with {DEALERS} dealers × {} scoped plugins in one tenant: {:+.1} MiB; target < {MEMORY_TARGET_MIB} MiB: {}",
        thousands(TENANTS),
        FLEET.len(),
        mib(tenants_only),
        tenants_only as f64 / 1024.0 / TENANTS as f64,
        DEALER_PLUGINS.len(),
        mib(delta),
        verdict(mib(delta) < MEMORY_TARGET_MIB)
    ));
    println!();
    tokio.block_on(core.db.close());
}

/// `installed` again, enabled, running `plugin_version_id` in `scope`.
fn copy_of(installed: &Installation, plugin_version_id: String, scope: Scope) -> NewInstallation {
    NewInstallation {
        plugin_version_id,
        plugin: installed.plugin.clone(),
        version: installed.version.clone(),
        world: installed.world,
        config: installed.config.clone(),
        capabilities: installed.capabilities.clone(),
        limits: installed.limits,
        run_order: installed.run_order,
        enabled: true,
        scope,
        mandatory: false,
    }
}

/// The tenant of `installation` (the bench's template tenant).
async fn tenant_of(core: &Core, installation: &Installation) -> String {
    let (tenant_id,): (String,) =
        sqlx::query_as("SELECT tenant_id FROM installations WHERE id = $1")
            .bind(&installation.id)
            .fetch_one(core.db.reader())
            .await
            .expect("the installation's tenant");
    tenant_id
}

/// Gives `tenant_id` an OEM site with [`DEALERS`] dealers under it, each of which installs
/// the [`DEALER_PLUGINS`] of `template` (the tenant's own installations) in its subtree.
async fn add_dealers(core: &Core, tenant_id: &str, template: &[Installation]) {
    use axle_host::store::org::{self, NewSite};
    let site = |parent: Option<&axle_host::domain::org::Site>, kind, code: String| NewSite {
        parent: parent.cloned(),
        kind,
        name: format!("{code} 4S 店"),
        code,
        service_area: vec![],
        opening_hours: OpeningHours::default(),
        timezone: "Asia/Shanghai".to_owned(),
    };
    let oem = org::insert_site(
        &core.db,
        tenant_id,
        site(None, SiteKind::Oem, "OEM".to_owned()),
    )
    .await
    .expect("insert the OEM site");
    let mut dealers = Vec::with_capacity(DEALERS);
    for n in 0..DEALERS {
        let dealer = site(Some(&oem), SiteKind::Dealer, format!("D-{n:03}"));
        dealers.push(
            org::insert_site(&core.db, tenant_id, dealer)
                .await
                .expect("insert a dealer"),
        );
    }
    let mut tx = core.db.begin_write().await.expect("begin");
    for dealer in &dealers {
        for installed in template
            .iter()
            .filter(|installed| DEALER_PLUGINS.contains(&installed.plugin.as_str()))
        {
            let scope = Scope::site(&dealer.id, &dealer.path);
            let copy = copy_of(installed, installed.plugin_version_id.clone(), scope);
            installations::insert(&mut tx, tenant_id, copy)
                .await
                .expect("insert a dealer's installation");
        }
    }
    let generation = plugin_clock::bump(&mut tx, tenant_id)
        .await
        .expect("bump the plugin clock");
    tx.commit().await.expect("commit");
    core.registry.heard(tenant_id, generation);
}

/// Creates `count` tenants, each with its own version rows and installations copied from
/// `template` (the installations of one tenant), in bulk transactions. Returns their ids.
async fn fill(core: &Core, template: &[Installation], count: usize) -> Vec<String> {
    let mut ids = Vec::with_capacity(count);
    for first in (0..count).step_by(BATCH) {
        let mut tx = core.db.begin_write().await.expect("begin");
        for n in first..(first + BATCH).min(count) {
            let tenant_id = new_id();
            let slug = format!("fleet-{n}");
            sqlx::query("INSERT INTO tenants (id, name, slug, created_at) VALUES ($1, $2, $2, 0)")
                .bind(&tenant_id)
                .bind(&slug)
                .execute(&mut *tx)
                .await
                .expect("insert tenant");
            for installed in template {
                // What an upload does for a tenant whose bytes are already stored: a
                // version row of its own pointing at the shared blob.
                let version_id = new_id();
                sqlx::query(
                    "INSERT INTO plugin_versions (id, tenant_id, name, version, world, wit_version, \
                     description, capabilities, config_schema, limits, manifest, sha256, size_bytes, \
                     created_at) \
                     SELECT $1, $2, name, version, world, wit_version, description, capabilities, \
                     config_schema, limits, manifest, sha256, size_bytes, created_at \
                     FROM plugin_versions WHERE id = $3",
                )
                .bind(&version_id)
                .bind(&tenant_id)
                .bind(&installed.plugin_version_id)
                .execute(&mut *tx)
                .await
                .expect("insert plugin version");
                let copy = copy_of(installed, version_id, Scope::tenant());
                installations::insert(&mut tx, &tenant_id, copy)
                    .await
                    .expect("insert installation");
            }
            plugin_clock::bump(&mut tx, &tenant_id)
                .await
                .expect("bump the plugin clock");
            ids.push(tenant_id);
        }
        tx.commit().await.expect("commit");
    }
    ids
}

/// Time from an upgrade or rollback to the new version being live on the same node.
fn reload_latency(c: &mut Criterion) {
    let tokio = tokio_runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = tokio
        .block_on(App::open(&settings(dir.path(), None, None)))
        .expect("open a node");
    let core = &app.core;
    let fresh = |n: usize| {
        tokio.block_on(async {
            let mut flipping = Flipping::create(core, &format!("reload-{n}")).await;
            // Both versions loaded once, so compiling is not part of any sample.
            for _ in 0..2 {
                let version = flipping.flip(core).await;
                assert!(flipping.runs(core, version).await);
            }
            flipping
        })
    };
    let mut tenants = 1;
    let mut flipping = fresh(tenants);
    let mut changes = 0;

    let mut samples = Vec::new();
    let mut group = c.benchmark_group("fleet");
    group.sample_size(30);
    group.measurement_time(Duration::from_secs(10));
    group.bench_function("reload latency: upgrade or rollback until live", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                if changes == CHANGES_PER_INSTALLATION {
                    tenants += 1;
                    flipping = fresh(tenants);
                    changes = 0;
                }
                changes += 1;
                let elapsed = tokio.block_on(async {
                    let started = Instant::now();
                    let version = flipping.flip(core).await;
                    assert!(flipping.runs(core, version).await, "live at once");
                    started.elapsed()
                });
                samples.push(elapsed);
                total += elapsed;
            }
            total
        })
    });
    group.finish();

    let p99 = quantile(&samples, 0.99);
    report(format!(
        "reload latency (upgrade/rollback → live on its node, compile excluded): p50 {:.2} ms p99 {:.2} ms over {} changes; target < {} ms: {}",
        ms(quantile(&samples, 0.5)),
        ms(p99),
        samples.len(),
        RELOAD_TARGET.as_millis(),
        verdict(p99 < RELOAD_TARGET)
    ));
    println!(
        "  (p90 {:.2} ms; {tenants} tenants, at most {CHANGES_PER_INSTALLATION} changes each)",
        ms(quantile(&samples, 0.9))
    );
    tokio.block_on(core.db.close());
}

/// Reload latency on a tenant whose 100 dealers run 2 scoped installations each: every
/// change rebuilds a snapshot of 204 installations. Sampled directly, not by criterion:
/// the figure to compare is the same p50/p99 as [`reload_latency`]'s.
fn reload_latency_scoped() {
    let tokio = tokio_runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let app = tokio
        .block_on(App::open(&settings(dir.path(), None, None)))
        .expect("open a node");
    let core = &app.core;
    let samples = tokio.block_on(async {
        let mut flipping = Flipping::create(core, "reload-dealers").await;
        let mut template = Vec::new();
        for plugin in FLEET.iter().filter(|p| p.crate_dir != FLIPPED.crate_dir) {
            let name = plugin.upload(core, &flipping.tenant_id, None).await;
            template.push(plugin.install(core, &flipping.tenant_id, name).await);
        }
        let flipped = installations::get(&core.db, &flipping.tenant_id, &flipping.installation_id)
            .await
            .expect("read")
            .expect("the flipped installation");
        template.push(flipped);
        add_dealers(core, &flipping.tenant_id, &template).await;
        let snapshot = registry::snapshot(core, &flipping.tenant_id)
            .await
            .expect("snapshot");
        assert_eq!(
            snapshot.all().len(),
            FLEET.len() + DEALERS * DEALER_PLUGINS.len()
        );
        for _ in 0..2 {
            let version = flipping.flip(core).await;
            assert!(flipping.runs(core, version).await);
        }
        let mut samples = Vec::with_capacity(SCOPED_RELOAD_SAMPLES);
        for _ in 0..SCOPED_RELOAD_SAMPLES {
            let started = Instant::now();
            let version = flipping.flip(core).await;
            assert!(flipping.runs(core, version).await, "live at once");
            samples.push(started.elapsed());
        }
        samples
    });
    let p99 = quantile(&samples, 0.99);
    report(format!(
        "reload latency with {DEALERS} dealers × {} scoped plugins in the tenant ({} installations): p50 {:.2} ms p99 {:.2} ms over {} changes; target < {} ms: {}",
        DEALER_PLUGINS.len(),
        FLEET.len() + DEALERS * DEALER_PLUGINS.len(),
        ms(quantile(&samples, 0.5)),
        ms(p99),
        samples.len(),
        RELOAD_TARGET.as_millis(),
        verdict(p99 < RELOAD_TARGET)
    ));
    tokio.block_on(core.db.close());
}

/// A private `redis-server` on a free loopback port, killed on drop.
struct RedisServer {
    port: u16,
    child: Child,
}

impl RedisServer {
    fn start() -> Option<RedisServer> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .ok()?
            .port();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .ok()?;
        let server = RedisServer { port, child };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Some(server)
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A fresh PostgreSQL database for the bench, dropped afterwards.
struct Postgres {
    admin_url: String,
    name: String,
}

impl Postgres {
    fn create(tokio: &tokio::runtime::Runtime) -> Option<Postgres> {
        let admin_url = std::env::var("AXLE_TEST_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned());
        let name = format!("axle_bench_{}", new_id().to_lowercase().replace('-', "_"));
        tokio.block_on(async {
            let mut conn = tokio::time::timeout(
                Duration::from_secs(3),
                sqlx::PgConnection::connect(&admin_url),
            )
            .await
            .ok()?
            .ok()?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                .execute(&mut conn)
                .await
                .ok()?;
            Some(Postgres { admin_url, name })
        })
    }

    fn url(&self) -> String {
        let (server, _) = self
            .admin_url
            .rsplit_once('/')
            .expect("a database in the URL");
        format!("{server}/{}", self.name)
    }

    fn drop_database(&self, tokio: &tokio::runtime::Runtime) {
        tokio.block_on(async {
            let mut conn = sqlx::PgConnection::connect(&self.admin_url)
                .await
                .expect("reconnect to PostgreSQL");
            sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                self.name
            )))
            .execute(&mut conn)
            .await
            .expect("drop the bench database");
        });
    }
}

/// Time from a change on node A to node B running it, `samples` times.
fn converge(
    data_dir: &Path,
    database_url: Option<String>,
    redis_url: Option<String>,
    samples: usize,
    slug: &str,
) -> (Vec<Duration>, u64) {
    // A runtime of its own: dropping it ends both nodes' background tasks.
    let tokio = tokio_runtime();
    let settings = settings(data_dir, database_url, redis_url.clone());
    tokio.block_on(async {
        let a = App::open(&settings).await.expect("open node A");
        let b = App::open(&settings).await.expect("open node B");
        if redis_url.is_some() {
            let deadline = Instant::now() + Duration::from_secs(10);
            while !(a.reload_state.redis_connected.load(Ordering::SeqCst)
                && b.reload_state.redis_connected.load(Ordering::SeqCst))
            {
                assert!(Instant::now() < deadline, "the nodes did not reach Redis");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
        let mut flipping = Flipping::create(&a.core, slug).await;
        let heard_before = b.reload_state.heard_over_redis.load(Ordering::SeqCst);
        let mut taken = Vec::with_capacity(samples);
        // The first two changes load both versions on B and are not counted.
        for n in 0..samples + 2 {
            // Changes land at random points of B's 200 ms polling period: a pause shorter
            // than the period would keep each change just after B's last poll.
            let pause = rand::random_range(5..260);
            tokio::time::sleep(Duration::from_millis(pause)).await;
            let started = Instant::now();
            let version = flipping.flip(&a.core).await;
            while !flipping.runs(&b.core, version).await {
                assert!(
                    started.elapsed() < Duration::from_secs(10),
                    "node B did not pick up {version}"
                );
                // A blocking sleep: tokio's timer is too coarse for 200 µs, and this
                // future runs on the bench's own thread, not on a runtime worker.
                std::thread::sleep(WATCH_EVERY);
            }
            if n >= 2 {
                taken.push(started.elapsed());
            }
        }
        let heard = b.reload_state.heard_over_redis.load(Ordering::SeqCst) - heard_before;
        a.core.db.close().await;
        b.core.db.close().await;
        (taken, heard)
    })
}

fn convergence() {
    let admin = tokio_runtime();
    let postgres = Postgres::create(&admin);
    let (database_url, database) = match &postgres {
        Some(pg) => (Some(pg.url()), "PostgreSQL".to_owned()),
        None => {
            println!(
                "PostgreSQL is not reachable; the two nodes share a SQLite file instead (set AXLE_TEST_DATABASE_URL to use PostgreSQL)"
            );
            (
                None,
                "shared SQLite file, PostgreSQL not reachable".to_owned(),
            )
        }
    };
    let dir = tempfile::tempdir().expect("temp dir");
    println!();
    println!("convergence across two nodes ({database}):");

    match RedisServer::start() {
        Some(redis) => {
            let (samples, heard) = converge(
                dir.path(),
                database_url.clone(),
                Some(redis.url()),
                SAMPLES_WITH_REDIS,
                "converge-redis",
            );
            print_convergence("with redis", &database, &samples);
            println!(
                "  (node B got {heard} reload messages over Redis for {} changes and the install)",
                samples.len() + 2
            );
        }
        None => report(
            "convergence with redis: not measured, `redis-server` could not be started".to_owned(),
        ),
    }
    let (samples, _) = converge(
        dir.path(),
        database_url,
        None,
        SAMPLES_WITHOUT_REDIS,
        "converge-polling",
    );
    print_convergence("without redis, polling", &database, &samples);
    println!();

    if let Some(pg) = postgres {
        pg.drop_database(&admin);
    }
}

fn print_convergence(how: &str, database: &str, samples: &[Duration]) {
    let p99 = quantile(samples, 0.99);
    report(format!(
        "convergence {how} ({database}): p50 {:.1} ms p99 {:.1} ms over {} changes; target < {} ms: {}",
        ms(quantile(samples, 0.5)),
        ms(p99),
        samples.len(),
        CONVERGENCE_TARGET.as_millis(),
        verdict(p99 < CONVERGENCE_TARGET)
    ));
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    memory();
    reload_latency(&mut criterion);
    reload_latency_scoped();
    convergence();
    criterion.final_summary();
    println!();
    println!(
        "fleet summary ({} cores):",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    for line in SUMMARY.lock().expect("summary lock").iter() {
        println!("  {line}");
    }
}
