//! The `axle` binary.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};

use axle_host::app::{App, Settings};
use axle_host::delivery::outbound::OutboundPolicy;
use axle_host::delivery::{DeliverySettings, DeliveryWorker};
use axle_host::domain::plugin::{Capability, World};
use axle_host::http::Server;
use axle_host::plugin_dev::{self, DevError};
use axle_host::plugin_watch::PluginWatch;
use axle_host::runtime::Runtime;
use axle_host::runtime::limits::PlatformLimits;
use axle_host::seed;
use axle_host::store::tenants;
use axle_host::tls::ExtraRoots;

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
    /// Write, build, test, publish and install plugins.
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
}

/// The fixture format, shown by `axle plugin test --help`.
const FIXTURE_HELP: &str = r#"FIXTURES
  One JSON file per call (default: DIR/fixtures/*.json):
    {
      "name": "a VIP ticket goes to the VIP team",
      "config": {"team": "vip-care"},            checked against plugin.toml's config_schema
      "grants": ["records"],                     default: every capability plugin.toml asks for
      "records": {                               created through the HTTP API's create bodies
        "customers": [{"id": "alice", "name": "Alice", "vip": true}],
        "vehicles": [], "tickets": [], "articles": [], "sites": [], "teams": []
      },
      "kv": {"key": "text value"},               stored in the installation's kv namespace
      "ticket": {"subject": "...", "customer_id": "alice"},
      "expect": {"result": {"team": "vip-care"}, "notifications": [{"channel": "sms"}]}
    }
  A record's "id" is a local name that `..._id` fields and the input may use; results show
  local names in place of real ids.
  The input matches the world:
    routing-rule    "ticket": a ticket create body (created before the plugin is installed)
    workflow-step   "event": {"kind": "ticket.created", "ticket": {...}, "payload": {...}}
    field-provider  "subject": {"customer" | "vehicle" | "ticket": {...}},
                    "call": "compute" (default) | "validate"
    report-widget   "dataset": {"columns": [...], "rows": [["text", 1.5, null], ...]}
  expect.result partially matches the result's JSON as printed: objects match when every
  listed key matches (recursively), arrays item by item with equal length, other values
  when equal (WIT enums and variants print as Rust names: "High", {"AddTags": [...]}).
  expect.error is a substring of the error the call must fail with.
  expect.notifications matches what the plugin sent with notify.send, item by item.

  Exit code: 0 all passed, 1 an expectation failed, 2 a usage or setup error."#;

#[derive(Subcommand)]
enum PluginCommand {
    /// Create a plugin crate: Cargo.toml, plugin.toml, src/lib.rs with unit tests, a fixture.
    New {
        /// The plugin's name: lowercase letters, digits and hyphens, e.g. `vip-routing`.
        name: String,
        /// Which world the plugin implements.
        #[arg(long, value_parser = ["routing-rule", "workflow-step", "field-provider", "report-widget"])]
        world: String,
        /// Where to create it (default ./NAME); must not exist or be empty.
        #[arg(long, value_name = "DIR")]
        path: Option<PathBuf>,
        /// The axle-sdk crate to depend on (default: the sdk/ of this Axle checkout).
        #[arg(long, value_name = "PATH")]
        sdk: Option<PathBuf>,
    },
    /// Write plugin.toml's config_schema from the config struct, build the component for
    /// wasm32-wasip2 and check it as the server checks uploads.
    Build {
        /// The plugin crate.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
    },
    /// Run the plugin against fixture files in the server's sandbox and limits.
    #[command(after_long_help = FIXTURE_HELP)]
    Test {
        /// The plugin crate.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
        /// Fixture files (default: DIR/fixtures/*.json).
        fixtures: Vec<PathBuf>,
        /// Use the component built last instead of building first.
        #[arg(long)]
        no_build: bool,
    },
    /// Upload the plugin (building it first if needed) to a server.
    Publish {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The plugin crate.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
    },
    /// Install the published version in the key's tenant, or upgrade its installation.
    Install {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The plugin crate.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
        /// The installation config: JSON, or @FILE holding JSON.
        #[arg(long, value_name = "JSON|@FILE")]
        config: Option<String>,
        /// Capabilities to grant (of those plugin.toml asks for).
        #[arg(long = "grant", value_name = "CAP", num_args = 1..)]
        grants: Vec<String>,
    },
    /// Compare this version with the installed one on the tenant's recorded inputs.
    ///
    /// Publishes the crate's version if needed, replays the newest recorded inputs of the
    /// tenant's installation of this plugin through it (nothing is applied to tickets) and
    /// prints the agreement rate, errors, latency and the first differences. Routing rules
    /// only. `GET /api/v1/installations/{id}/shadow-report?source=replay` has the full report.
    Replay {
        #[command(flatten)]
        remote: RemoteArgs,
        /// The plugin crate.
        #[arg(long, value_name = "DIR", default_value = ".")]
        path: PathBuf,
        /// How many of the newest recorded inputs to replay (1 to 1000).
        #[arg(long, default_value_t = 100)]
        last: i64,
        /// Config for this version: JSON, or @FILE holding JSON (default: the installation's).
        #[arg(long, value_name = "JSON|@FILE")]
        config: Option<String>,
    },
}

#[derive(Args)]
struct RemoteArgs {
    /// The Axle server's base URL, e.g. http://127.0.0.1:8080.
    #[arg(long, env = "AXLE_SERVER")]
    server: String,
    /// A tenant admin's API key.
    #[arg(long, env = "AXLE_API_KEY", hide_env_values = true)]
    key: String,
}

impl RemoteArgs {
    fn remote(&self) -> Result<plugin_dev::publish::Remote, DevError> {
        plugin_dev::publish::Remote::new(&self.server, &self.key)
    }
}

/// `--config JSON|@FILE`, when given.
fn config_arg(raw: Option<String>) -> Result<Option<serde_json::Value>, DevError> {
    raw.as_deref()
        .map(plugin_dev::publish::parse_config)
        .transpose()
}

/// Runs a plugin command and returns the process exit code.
async fn plugin_command(command: PluginCommand) -> Result<i32, DevError> {
    use plugin_dev::project::Project;
    match command {
        PluginCommand::New {
            name,
            world,
            path,
            sdk,
        } => {
            let world = World::parse(&world).expect("clap checked the world");
            let dir = plugin_dev::scaffold::create(&plugin_dev::scaffold::NewPlugin {
                name: name.clone(),
                world,
                path,
                sdk,
            })?;
            println!(
                "Created the {} plugin `{name}` in {}",
                world.as_str(),
                dir.display()
            );
            println!(
                "Next: cd {} && cargo test && axle plugin test",
                dir.display()
            );
            Ok(0)
        }
        PluginCommand::Build { path } => {
            let mut project = Project::open(&path)?;
            let runtime = Runtime::new(PlatformLimits::default())
                .map_err(|err| DevError::Sandbox(format!("{err:#}")))?;
            plugin_dev::build::build(&mut project, &runtime)?.print();
            Ok(0)
        }
        PluginCommand::Test {
            path,
            fixtures,
            no_build,
        } => {
            plugin_dev::run::test(&plugin_dev::run::TestRequest {
                dir: path,
                fixtures,
                no_build,
            })
            .await
        }
        PluginCommand::Publish { remote, path } => {
            let project = Project::open(&path)?;
            plugin_dev::publish::publish(project, &remote.remote()?).await?;
            Ok(0)
        }
        PluginCommand::Install {
            remote,
            path,
            config,
            grants,
        } => {
            let project = Project::open(&path)?;
            let config = config_arg(config)?;
            let grants = grants
                .iter()
                .map(|name| {
                    Capability::parse(name).ok_or_else(|| {
                        let grantable: Vec<&str> = Capability::ALL
                            .iter()
                            .copied()
                            .filter(|capability| !capability.always_granted())
                            .map(Capability::as_str)
                            .collect();
                        DevError::Usage(format!(
                            "--grant {name}: not a capability; use one of {}",
                            grantable.join(", ")
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            plugin_dev::publish::install(&project, &remote.remote()?, config, &grants).await?;
            Ok(0)
        }
        PluginCommand::Replay {
            remote,
            path,
            last,
            config,
        } => {
            let project = Project::open(&path)?;
            let config = config_arg(config)?;
            let request = plugin_dev::replay::ReplayRequest { last, config };
            plugin_dev::replay::replay(project, &remote.remote()?, request).await?;
            Ok(0)
        }
    }
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
    // Hidden values: a URL can carry a password, and `--help` must not print it.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The platform admin token; generated on first start when unset.
    #[arg(long, env = "AXLE_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// The token Prometheus scrapes `GET /metrics` with; metrics are refused when unset.
    #[arg(long, env = "AXLE_METRICS_TOKEN", hide_env_values = true)]
    metrics_token: Option<String>,
    /// `redis://…` to fan plugin reloads out to every node at once (several nodes on one
    /// PostgreSQL); without it nodes poll the database for plugin changes.
    #[arg(long, env = "REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    /// The base URL customers reach this node at (survey links); `http://<listen>` when unset.
    #[arg(long, env = "AXLE_PUBLIC_URL")]
    public_url: Option<String>,
    /// Directory for compiled plugin components, kept across restarts;
    /// `<data-dir>/compiled` when unset, `off` to keep them in memory only.
    #[arg(long, env = "AXLE_COMPILED_DIR")]
    compiled_dir: Option<String>,
    /// Networks webhooks may reach besides the public internet, in CIDR form separated by
    /// commas (`10.20.0.0/16,192.168.5.7/32`): receivers on the node's own networks are
    /// refused unless listed here.
    #[arg(long, env = "AXLE_WEBHOOK_ALLOW", value_parser = OutboundPolicy::parse)]
    webhook_allow: Option<OutboundPolicy>,
    /// A PEM file of certificate authorities `https://` webhooks are trusted with besides
    /// the system's: an operator's private CA for receivers on its own network.
    #[arg(long, env = "AXLE_WEBHOOK_CA", value_parser = ExtraRoots::parse)]
    webhook_ca: Option<ExtraRoots>,
    /// How long a node's claim on a notification lasts (`2m`, `90s`): a node that dies
    /// mid-delivery leaves its notifications to the others after this. Must exceed
    /// `--webhook-timeout`.
    #[arg(long, env = "AXLE_DELIVERY_LEASE", value_parser = duration, default_value = "2m")]
    delivery_lease: std::time::Duration,
    /// How long a webhook receiver may take to answer, connecting included (`10s`).
    #[arg(long, env = "AXLE_WEBHOOK_TIMEOUT", value_parser = duration, default_value = "10s")]
    webhook_timeout: std::time::Duration,
}

/// A duration as people write it (`90s`, `2m`, `1h 30m`) or in ISO 8601 (`PT90S`).
fn duration(text: &str) -> Result<std::time::Duration, String> {
    let signed: jiff::SignedDuration = text
        .parse()
        .map_err(|err| format!("`{text}` is not a duration such as 90s or 2m: {err}"))?;
    std::time::Duration::try_from(signed).map_err(|_| format!("`{text}` is negative"))
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
            metrics_token: self.metrics_token.clone(),
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
            delivery: DeliverySettings {
                outbound: self.webhook_allow.clone().unwrap_or_default(),
                trusted_roots: self.webhook_ca.clone().unwrap_or_default(),
                lease: self.delivery_lease,
                webhook_timeout: self.webhook_timeout,
                ..DeliverySettings::default()
            },
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

fn main() -> anyhow::Result<()> {
    axle_host::heap::limit_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?
        .block_on(run(Cli::parse()))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::Plugin { command } = cli.command {
        // Developer commands print their own reports; `plugin test` captures plugin logs.
        let code = plugin_command(command).await.unwrap_or_else(|err| {
            eprintln!("error: {err}");
            plugin_dev::EXIT_SETUP
        });
        std::process::exit(code);
    }
    axle_host::telemetry::init();
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
        Command::Plugin { .. } => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Variables whose values are credentials or may hold one (a password in a URL).
    const SECRET_VARIABLES: [&str; 5] = [
        "DATABASE_URL",
        "REDIS_URL",
        "AXLE_METRICS_TOKEN",
        "AXLE_ADMIN_TOKEN",
        "AXLE_API_KEY",
    ];

    #[test]
    fn help_never_prints_the_value_of_a_variable_that_can_hold_a_secret() {
        let mut seen = Vec::new();
        let mut commands = vec![Cli::command()];
        while let Some(command) = commands.pop() {
            for arg in command.get_arguments() {
                let Some(env) = arg.get_env().and_then(|env| env.to_str()) else {
                    continue;
                };
                if SECRET_VARIABLES.contains(&env) {
                    assert!(
                        arg.is_hide_env_values_set(),
                        "`{} --{}` would print ${env} in --help",
                        command.get_name(),
                        arg.get_id()
                    );
                    seen.push(env.to_owned());
                }
            }
            commands.extend(command.get_subcommands().cloned());
        }
        for env in SECRET_VARIABLES {
            assert!(seen.iter().any(|s| s == env), "no argument reads ${env}");
        }
    }
}
