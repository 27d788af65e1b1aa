//! The `axle` binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use axle_host::app::{App, Settings};
use axle_host::delivery::{DeliverySettings, DeliveryWorker};
use axle_host::http::Server;
use axle_host::plugin_watch::PluginWatch;
use axle_host::plugins::limits::PlatformLimits;
use axle_host::seed;
use axle_host::store::tenants;

#[derive(Parser)]
#[command(
    name = "axle",
    version,
    about = "After-sales service CRM with sandboxed WebAssembly plugins"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API.
    ///
    /// With `--watch-plugins DIR` it also runs the plugin dev mode: whenever a plugin's built
    /// component or plugin.toml changes, the build is uploaded to the watched tenant as a
    /// dev version (`<version>-dev.<unix ms>`) and its installations are upgraded to it
    /// within a second; a bad build is logged and the previous version keeps running.
    Serve {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        watch: WatchArgs,
    },
    /// Create (or top up) the demo tenant with its plugins and data, and print an API key.
    Seed {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        plugins: PluginDirs,
    },
    /// Seed the demo tenant, then serve (with `--watch-plugins DIR`, in plugin dev mode).
    Demo {
        #[command(flatten)]
        node: NodeArgs,
        #[command(flatten)]
        plugins: PluginDirs,
        #[command(flatten)]
        watch: WatchArgs,
    },
}

#[derive(Args)]
struct NodeArgs {
    /// Address to listen on.
    #[arg(long, env = "AXLE_LISTEN", default_value = "127.0.0.1:8080")]
    listen: String,
    /// Directory for the embedded database and the generated admin token.
    #[arg(long, env = "AXLE_DATA_DIR", default_value = "axle-data")]
    data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; embedded SQLite when unset.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// The platform admin token; generated on first start when unset.
    #[arg(long, env = "AXLE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// `redis://…` to fan plugin reloads out to every node at once (several nodes on one
    /// PostgreSQL); without it nodes poll the database for plugin changes.
    #[arg(long, env = "REDIS_URL")]
    redis_url: Option<String>,
    /// The base URL customers reach this node at (survey links); `http://<listen>` when unset.
    #[arg(long, env = "AXLE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Directory for compiled plugin components, kept across restarts;
    /// `<data-dir>/compiled` when unset, `off` to keep them in memory only.
    #[arg(long, env = "AXLE_COMPILED_DIR")]
    compiled_dir: Option<String>,
}

#[derive(Args)]
struct PluginDirs {
    /// The plugin sources (one directory per plugin with its plugin.toml).
    #[arg(long, default_value = "plugins")]
    plugins: PathBuf,
    /// Where the built components are (`axle_plugin_<name>.wasm`).
    #[arg(long, default_value = "target/wasm/wasm32-wasip2/release")]
    wasm: PathBuf,
}

#[derive(Args)]
struct WatchArgs {
    /// Dev mode: watch the plugin sources in DIR (one directory per plugin with its
    /// plugin.toml) and reload each rebuilt plugin into the watched tenant. Not for
    /// production: it grants rebuilt plugins the capabilities they add without asking.
    #[arg(long, value_name = "DIR")]
    watch_plugins: Option<PathBuf>,
    /// Where the watched plugins' components are built (`axle_plugin_<name>.wasm`).
    #[arg(
        long,
        value_name = "DIR",
        default_value = "target/wasm/wasm32-wasip2/release"
    )]
    watch_wasm: PathBuf,
    /// The slug of the tenant that dev mode reloads plugins into.
    #[arg(long, value_name = "SLUG", default_value = seed::DEMO_SLUG)]
    watch_tenant: String,
}

impl WatchArgs {
    /// Starts the watcher in the background when `--watch-plugins` is given.
    async fn start(&self, app: &App) -> anyhow::Result<()> {
        let Some(plugins_dir) = &self.watch_plugins else {
            return Ok(());
        };
        let tenant = tenants::by_slug(&app.core.db, &self.watch_tenant)
            .await?
            .with_context(|| {
                format!(
                    "--watch-tenant: no tenant `{}`; create it (or run `axle seed` for `{}`) first",
                    self.watch_tenant,
                    seed::DEMO_SLUG
                )
            })?;
        seed::plugin_dirs(plugins_dir).context("--watch-plugins")?;
        let watch = PluginWatch::new(app.core.clone(), &tenant.id, plugins_dir, &self.watch_wasm);
        tokio::spawn(watch.run());
        println!(
            "Dev mode: reloading plugins rebuilt under {} (components in {}) into tenant `{}`",
            plugins_dir.display(),
            self.watch_wasm.display(),
            self.watch_tenant
        );
        Ok(())
    }
}

impl NodeArgs {
    fn settings(&self) -> Settings {
        Settings {
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            admin_token: self.admin_token.clone(),
            public_url: Some(
                self.public_url
                    .clone()
                    .unwrap_or_else(|| format!("http://{}", self.listen)),
            ),
            compiled_dir: match self.compiled_dir.as_deref() {
                None => Some(Settings::default_compiled_dir(&self.data_dir)),
                Some("off" | "") => None,
                Some(dir) => Some(PathBuf::from(dir)),
            },
            limits: PlatformLimits::default(),
            delivery: DeliverySettings::default(),
            redis_url: self.redis_url.clone(),
        }
    }
}

async fn open(node: &NodeArgs) -> anyhow::Result<App> {
    let app = App::open(&node.settings()).await.context("starting axle")?;
    if app.admin_token_generated {
        println!(
            "Generated the platform admin token (kept in {}):",
            node.data_dir.join("admin-token").display()
        );
        println!("  {}", app.admin_token);
    }
    Ok(app)
}

/// Serves until the server stops or the process gets Ctrl-C, then lets the deliveries in
/// flight finish.
async fn run_until_stopped(server: Server, delivery: DeliveryWorker) -> anyhow::Result<()> {
    let result = tokio::select! {
        result = server.wait() => result.context("server stopped"),
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("shutting down");
            Ok(())
        }
    };
    delivery.stop().await;
    result
}

async fn start(app: &App, listen: &str) -> anyhow::Result<(Server, DeliveryWorker)> {
    let server = app
        .serve(listen)
        .await
        .with_context(|| format!("listening on {listen}"))?;
    tracing::info!(addr = %server.addr, "axle is serving");
    let delivery = app
        .start_delivery()
        .context("starting notification delivery")?;
    Ok((server, delivery))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    axle_host::telemetry::init();
    let cli = Cli::parse();
    match cli.command {
        Command::Serve { node, watch } => {
            let app = open(&node).await?;
            let (server, delivery) = start(&app, &node.listen).await?;
            println!("Axle is serving on http://{}", server.addr);
            watch.start(&app).await?;
            run_until_stopped(server, delivery).await
        }
        Command::Seed { node, plugins } => {
            let app = open(&node).await?;
            let seeded = seed::demo(&app.core, &plugins.plugins, &plugins.wasm).await?;
            seeded.print(None);
            Ok(())
        }
        Command::Demo {
            node,
            plugins,
            watch,
        } => {
            let app = open(&node).await?;
            let seeded = seed::demo(&app.core, &plugins.plugins, &plugins.wasm).await?;
            let (server, delivery) = start(&app, &node.listen).await?;
            seeded.print(Some(server.addr));
            watch.start(&app).await?;
            run_until_stopped(server, delivery).await
        }
    }
}
