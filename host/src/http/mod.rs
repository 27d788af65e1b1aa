//! The HTTP API: JSON under `/api/v1`, `Authorization: Bearer <api key>`.

mod auth;
mod campaigns;
mod customers;
mod dashboards;
mod dealer_catalogue;
mod error;
mod extract;
mod field_definitions;
mod idempotency;
mod imports;
mod installations;
mod interactions;
mod items;
mod knowledge_base;
mod metrics;
mod notifications;
mod openapi;
mod org;
mod plugin_policy;
mod plugins;
pub mod rate_limit;
mod reports;
mod service_records;
mod settings;
mod shadow;
mod sla;
mod surveys;
mod tenants;
mod tickets;
mod vehicles;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::Request;
use axum::middleware;
use axum::{Json, Router};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::SecurityRequirement;
use utoipa_axum::router::{OpenApiRouter, UtoipaMethodRouterExt};
use utoipa_axum::routes;

pub use error::ApiError;

use crate::service::Core;

/// Shared request state.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub admin_token: Arc<str>,
    /// The `/metrics` scrape token; `None` refuses every scrape.
    pub metrics_token: Option<Arc<str>>,
    /// Per-tenant rate limits of this node.
    pub limits: Arc<rate_limit::TenantLimits>,
}

/// Uploads carry components of up to 64 MiB plus the manifest.
const UPLOAD_BODY_LIMIT: usize = crate::service::plugins::MAX_COMPONENT_BYTES + (1 << 20);

/// Where the JSON API is mounted.
const API_PREFIX: &str = "/api/v1";

/// The router with every route.
pub fn router(state: AppState) -> Router {
    crate::telemetry::metrics::install();
    let (api, _) = api().split_for_parts();
    let (site, _) = site().split_for_parts();
    // Outermost on the API: a replayed reply skips the handler and its extractors.
    let api = api.layer(middleware::from_fn_with_state(
        state.clone(),
        idempotency::at_most_once,
    ));
    site.nest(API_PREFIX, api)
        .fallback(|| async { ApiError::NotFound("route") })
        .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
        .layer(middleware::from_fn(metrics::track))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                // The route's template, never the raw path: a path can carry a survey
                // token or a customer's data. A request no route matched logs no path.
                let route = request
                    .extensions()
                    .get::<axum::extract::MatchedPath>()
                    .map_or("<unmatched>", |matched| matched.as_str());
                tracing::info_span!(
                    "http.request",
                    method = %request.method(),
                    route,
                    tenant = tracing::field::Empty,
                )
            }),
        )
        .with_state(state)
}

/// The paths and operations of every route, as their handlers document them.
fn documented() -> utoipa::openapi::OpenApi {
    site().nest(API_PREFIX, api()).into_openapi()
}

/// The route table of the JSON API. Each route is registered with the handler whose
/// `#[utoipa::path]` documents it, so the router and the OpenAPI document cannot drift
/// apart; routes are grouped by the credential they take, which `requiring` writes into
/// each operation's `security`.
fn api() -> OpenApiRouter<AppState> {
    // A tenant's API key; each handler's extractor says which role and scope it needs.
    let keyed = OpenApiRouter::new()
        .routes(routes!(tenants::create_key, tenants::list_keys))
        .routes(routes!(tenants::revoke_key))
        .routes(routes!(plugin_policy::get, plugin_policy::patch))
        .routes(routes!(customers::create, customers::list))
        .routes(routes!(customers::get, customers::update))
        .routes(routes!(field_definitions::create, field_definitions::list))
        .routes(routes!(
            field_definitions::get,
            field_definitions::update,
            field_definitions::delete
        ))
        .routes(routes!(vehicles::create, vehicles::list))
        .routes(routes!(vehicles::get, vehicles::update))
        .routes(routes!(service_records::list, service_records::create))
        .routes(routes!(imports::import).layer(DefaultBodyLimit::max(imports::IMPORT_BODY_LIMIT)))
        .routes(routes!(tickets::create, tickets::list))
        .routes(routes!(tickets::get, tickets::update))
        .routes(routes!(tickets::timeline))
        .routes(routes!(interactions::create, interactions::list))
        .routes(routes!(surveys::for_ticket))
        .routes(routes!(notifications::list, notifications::send))
        .routes(routes!(notifications::webhook_secret))
        .routes(
            routes!(plugins::upload, plugins::list).layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .routes(routes!(plugins::get))
        .routes(routes!(installations::create, installations::list))
        .routes(routes!(
            installations::get,
            installations::update,
            installations::delete
        ))
        .routes(routes!(installations::invocations))
        .routes(routes!(
            installations::upgrade,
            installations::cancel_upgrade
        ))
        .routes(routes!(installations::approve_upgrade))
        .routes(routes!(installations::rollback))
        .routes(routes!(installations::history))
        .routes(routes!(installations::opt_out, installations::opt_in))
        .routes(routes!(dealer_catalogue::list))
        .routes(routes!(dealer_catalogue::put, dealer_catalogue::delete))
        .routes(routes!(installations::snapshot))
        .routes(routes!(shadow::start, shadow::stop))
        .routes(routes!(shadow::promote))
        .routes(routes!(shadow::report))
        .routes(routes!(shadow::replay))
        .routes(routes!(settings::get, settings::update))
        .routes(routes!(installations::audit))
        .routes(routes!(org::create_site, org::list_sites))
        .routes(routes!(org::get_site, org::update_site))
        .routes(routes!(org::create_team, org::list_teams))
        .routes(routes!(org::get_team))
        .routes(routes!(org::create_agent, org::list_agents))
        .routes(routes!(org::get_agent))
        .routes(routes!(sla::list_policies))
        .routes(routes!(sla::put_policy))
        .routes(routes!(sla::list_holidays))
        .routes(routes!(sla::put_holiday, sla::delete_holiday))
        .routes(routes!(sla::ticket_clocks))
        .routes(routes!(campaigns::create, campaigns::list))
        .routes(routes!(tickets::intake))
        .routes(routes!(campaigns::customer_360))
        .routes(routes!(dashboards::create, dashboards::list))
        .routes(routes!(
            dashboards::get,
            dashboards::update,
            dashboards::delete
        ))
        .routes(routes!(dashboards::widget_svg))
        .routes(routes!(reports::kpis))
        .routes(routes!(reports::tickets))
        .routes(routes!(knowledge_base::create, knowledge_base::list))
        .routes(routes!(
            knowledge_base::get,
            knowledge_base::update,
            knowledge_base::delete
        ));
    // The platform operator's admin token.
    let platform = OpenApiRouter::new()
        .routes(routes!(tenants::create))
        .routes(routes!(plugin_policy::put));
    // No credential: the survey link's token is its own credential, and the document
    // describes the API to whoever asks.
    let open = OpenApiRouter::new()
        .routes(routes!(surveys::form, surveys::answer))
        .routes(routes!(openapi::document));
    requiring("api_key", keyed)
        .merge(requiring("admin_token", platform))
        .merge(open)
}

/// The routes outside the JSON API: health, metrics, public article pages and the API's
/// browsable docs.
fn site() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .merge(requiring(
            "metrics_token",
            OpenApiRouter::new().routes(routes!(metrics::scrape)),
        ))
        .routes(routes!(knowledge_base::page_html))
        .routes(routes!(openapi::docs_page))
        .routes(routes!(openapi::docs_asset))
}

/// `router` with each of its operations documented as taking the credential `scheme`.
fn requiring(scheme: &str, mut router: OpenApiRouter<AppState>) -> OpenApiRouter<AppState> {
    let requirement = SecurityRequirement::new(scheme, Vec::<String>::new());
    for operation in openapi::operations_mut(router.get_openapi_mut()) {
        operation.security = Some(vec![requirement.clone()]);
    }
    router
}

/// Whether the node and its database are up.
///
/// `{"status": "ok", "database": "sqlite"|"postgres", "pooling_allocator": bool}`.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "operations",
    responses(
        (status = 200, description = "OK", body = Object),
    ),
)]
async fn healthz(State(state): State<AppState>) -> Result<Json<serde_json::Value>, ApiError> {
    sqlx::query("SELECT 1")
        .execute(state.core.db.reader())
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    Ok(Json(serde_json::json!({
        "status": "ok",
        "database": format!("{:?}", state.core.db.backend()).to_lowercase(),
        "pooling_allocator": state.core.runtime.pooling(),
    })))
}

/// A running server.
pub struct Server {
    pub addr: SocketAddr,
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Server {
    /// Binds `listen` and serves in the background.
    pub async fn start(state: AppState, listen: &str) -> std::io::Result<Server> {
        let listener = tokio::net::TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (shutdown, on_shutdown) = tokio::sync::oneshot::channel::<()>();
        let app = router(state);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = on_shutdown.await;
                })
                .await
        });
        Ok(Server {
            addr,
            shutdown,
            task,
        })
    }

    /// Stops accepting, lets requests in flight finish, and waits.
    pub async fn stop(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(());
        self.task.await.unwrap_or(Ok(()))
    }

    /// Serves until the task ends (or the process is stopped).
    pub async fn wait(self) -> std::io::Result<()> {
        self.task.await.unwrap_or(Ok(()))
    }
}
