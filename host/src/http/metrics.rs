//! `GET /metrics` for Prometheus, and the middleware that counts and times every request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::auth::MetricsScraper;
use crate::telemetry::metrics;

/// Prometheus metrics of this node.
///
/// Metrics span every tenant, so only the platform operator's scraper may read them, with
/// its own token (`AXLE_METRICS_TOKEN`), never the admin token.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics_scrape",
    tag = "operations",
    responses(
        (status = 200, description = "OK", body = String, content_type = "text/plain"),
    ),
)]
pub async fn scrape(_scraper: MetricsScraper) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics::render(),
    )
}

/// Counts and times each request by method, route template and status. The template
/// (`/api/v1/tickets/{id}`), never the raw path, keeps the label set bounded.
pub async fn track(request: Request, next: Next) -> Response {
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let started = Instant::now();
    let response = next.run(request).await;
    metrics::http_request(method, route, response.status().as_u16(), started.elapsed());
    response
}

/// Standard methods by name; any other (clients can send arbitrary tokens) as `other`.
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}
