//! Shadow runs and replay of candidate versions, and their comparison report.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Admin;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::openapi as doc;
use crate::domain::installations::Installation;
use crate::domain::plugin::Source;
use crate::service::dealer_policy::{self, Ask};
use crate::service::shadow::{self, CandidateRequest, ReplayRequest, Report};

/// Runs a candidate version in shadow beside the installed one.
///
/// The candidate sees live inputs; its outputs are recorded for comparison and never
/// applied.
#[utoipa::path(
    put,
    path = "/installations/{id}/shadow",
    operation_id = "shadow_start",
    tag = "shadow",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = CandidateRequest,
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn start(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CandidateRequest>,
) -> Result<Json<Installation>, ApiError> {
    dealer_policy::authorize(
        &state.core,
        caller.access(),
        &id,
        Ask::Run(Some(&body.version)),
    )
    .await?;
    Ok(Json(
        shadow::start(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// Stops the shadow run.
#[utoipa::path(
    delete,
    path = "/installations/{id}/shadow",
    operation_id = "shadow_stop",
    tag = "shadow",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
pub async fn stop(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    Ok(Json(
        shadow::stop(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// Upgrades the installation to its shadow candidate.
///
/// 200 when the candidate is live, 202 when the capabilities it adds wait for approval.
#[utoipa::path(
    post,
    path = "/installations/{id}/shadow/promote",
    operation_id = "shadow_promote",
    tag = "shadow",
    params(("id" = String, Path, description = "The installation's id")),
    responses(
        (status = 200, description = "OK", body = Installation),
        (status = 202, description = "Accepted: waiting for the admin to approve the capabilities it adds", body = Installation),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
    ),
)]
pub async fn promote(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    let installation =
        dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    if let Some(candidate) = &installation.shadow {
        let ask = Ask::Run(Some(&candidate.version));
        dealer_policy::authorize(&state.core, caller.access(), &id, ask).await?;
    }
    Ok(super::installations::upgraded_reply(
        shadow::promote(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// Replays recorded inputs through a candidate and compares it with the installed version.
#[utoipa::path(
    post,
    path = "/installations/{id}/replay",
    operation_id = "shadow_replay",
    tag = "shadow",
    params(("id" = String, Path, description = "The installation's id")),
    request_body = ReplayRequest,
    responses(
        (status = 200, description = "OK", body = Report),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn replay(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<Json<Report>, ApiError> {
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Manage).await?;
    Ok(Json(
        shadow::replay(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    source: Option<Source>,
}

/// Compares the installed version with the candidate.
///
/// `source=live` (the default) compares the shadow run, `source=replay` the last replay.
#[utoipa::path(
    get,
    path = "/installations/{id}/shadow-report",
    operation_id = "shadow_report",
    tag = "shadow",
    params(("id" = String, Path, description = "The installation's id"), ReportQuery),
    responses(
        (status = 200, description = "OK", body = Report),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn report(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    let source = query.source.unwrap_or(Source::Live);
    dealer_policy::authorize(&state.core, caller.access(), &id, Ask::Audit).await?;
    Ok(Json(
        shadow::report(&state.core, &caller.tenant_id, &id, source).await?,
    ))
}
