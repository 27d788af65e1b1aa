//! The HTTP API: JSON under `/api/v1`, `Authorization: Bearer <api key>`.

mod auth;
mod campaigns;
mod customers;
mod dashboards;
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
use axum::routing::{delete, get, post, put};
use axum::{Json, Router};
use tower_http::trace::TraceLayer;

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

/// The router with every route.
pub fn router(state: AppState) -> Router {
    crate::telemetry::metrics::install();
    let api = Router::new()
        .route("/tenants", post(tenants::create))
        .route("/tenants/{slug}/plugin-policy", put(plugin_policy::put))
        .route(
            "/plugin-policy",
            get(plugin_policy::get).patch(plugin_policy::patch),
        )
        .route(
            "/api-keys",
            post(tenants::create_key).get(tenants::list_keys),
        )
        .route("/api-keys/{id}", delete(tenants::revoke_key))
        .route("/customers", post(customers::create).get(customers::list))
        .route(
            "/customers/{id}",
            get(customers::get).patch(customers::update),
        )
        .route(
            "/field-definitions",
            post(field_definitions::create).get(field_definitions::list),
        )
        .route(
            "/field-definitions/{id}",
            get(field_definitions::get)
                .patch(field_definitions::update)
                .delete(field_definitions::delete),
        )
        .route("/vehicles", post(vehicles::create).get(vehicles::list))
        .route("/vehicles/{id}", get(vehicles::get).patch(vehicles::update))
        .route(
            "/vehicles/{id}/service-records",
            get(service_records::list).post(service_records::create),
        )
        .route(
            "/imports/{kind}",
            post(imports::import).layer(DefaultBodyLimit::max(imports::IMPORT_BODY_LIMIT)),
        )
        .route("/tickets", post(tickets::create).get(tickets::list))
        .route("/tickets/{id}", get(tickets::get).patch(tickets::update))
        .route("/tickets/{id}/timeline", get(tickets::timeline))
        .route(
            "/tickets/{id}/interactions",
            post(interactions::create).get(interactions::list),
        )
        .route("/tickets/{id}/surveys", get(surveys::for_ticket))
        .route("/surveys/{token}", get(surveys::form).post(surveys::answer))
        .route(
            "/tickets/{id}/notifications",
            get(notifications::list).post(notifications::send),
        )
        .route("/webhook-secret", get(notifications::webhook_secret))
        .route(
            "/plugins",
            post(plugins::upload)
                .get(plugins::list)
                .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT)),
        )
        .route("/plugins/{id}", get(plugins::get))
        .route(
            "/installations",
            post(installations::create).get(installations::list),
        )
        .route(
            "/installations/{id}",
            get(installations::get)
                .patch(installations::update)
                .delete(installations::delete),
        )
        .route(
            "/installations/{id}/invocations",
            get(installations::invocations),
        )
        .route(
            "/installations/{id}/upgrade",
            post(installations::upgrade).delete(installations::cancel_upgrade),
        )
        .route(
            "/installations/{id}/upgrade/approve",
            post(installations::approve_upgrade),
        )
        .route(
            "/installations/{id}/rollback",
            post(installations::rollback),
        )
        .route("/installations/{id}/history", get(installations::history))
        .route("/plugin-snapshot", get(installations::snapshot))
        .route(
            "/installations/{id}/shadow",
            put(shadow::start).delete(shadow::stop),
        )
        .route("/installations/{id}/shadow/promote", post(shadow::promote))
        .route("/installations/{id}/shadow-report", get(shadow::report))
        .route("/installations/{id}/replay", post(shadow::replay))
        .route("/settings", get(settings::get).patch(settings::update))
        .route("/invocations", get(installations::audit))
        .route("/sites", post(org::create_site).get(org::list_sites))
        .route("/sites/{id}", get(org::get_site).patch(org::update_site))
        .route("/teams", post(org::create_team).get(org::list_teams))
        .route("/teams/{id}", get(org::get_team))
        .route("/agents", post(org::create_agent).get(org::list_agents))
        .route("/agents/{id}", get(org::get_agent))
        .route("/sla-policies", get(sla::list_policies))
        .route("/sla-policies/{priority}", put(sla::put_policy))
        .route("/holidays", get(sla::list_holidays))
        .route(
            "/holidays/{day}",
            put(sla::put_holiday).delete(sla::delete_holiday),
        )
        .route("/tickets/{id}/sla", get(sla::ticket_clocks))
        .route("/campaigns", post(campaigns::create).get(campaigns::list))
        .route("/intake/calls", post(tickets::intake))
        .route("/customers/{id}/360", get(campaigns::customer_360))
        .route(
            "/dashboards",
            post(dashboards::create).get(dashboards::list),
        )
        .route(
            "/dashboards/{id}",
            get(dashboards::get)
                .patch(dashboards::update)
                .delete(dashboards::delete),
        )
        .route(
            "/dashboards/{id}/widgets/{widget_id}/svg",
            get(dashboards::widget_svg),
        )
        .route("/reports/kpis", get(reports::kpis))
        .route("/reports/kpis/tickets", get(reports::tickets))
        .route(
            "/kb/articles",
            post(knowledge_base::create).get(knowledge_base::list),
        )
        .route("/openapi.json", get(openapi::document))
        .route(
            "/kb/articles/{id}",
            get(knowledge_base::get)
                .patch(knowledge_base::update)
                .delete(knowledge_base::delete),
        )
        // Outermost on the API: a replayed reply skips the handler and its extractors.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::at_most_once,
        ));
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics::scrape))
        .route("/kb/{id}", get(knowledge_base::page_html))
        .route("/api/docs", get(openapi::docs_page))
        .route("/api/docs/{file}", get(openapi::docs_asset))
        .nest("/api/v1", api)
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
