//! Shadow runs and replay of candidate versions, and their comparison report.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::service::shadow::{self, CandidateRequest, ReplayRequest, Report};
use crate::store::installations::Installation;
use crate::store::shadow_runs::Source;

/// `PUT /api/v1/installations/{id}/shadow`: runs a candidate version beside the
/// installed one on live traffic.
pub async fn start(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<CandidateRequest>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        shadow::start(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

/// `DELETE /api/v1/installations/{id}/shadow`: stops the shadow run.
pub async fn stop(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Installation>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        shadow::stop(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// `POST /api/v1/installations/{id}/shadow/promote`: upgrades to the candidate; 202 when
/// the capabilities it adds wait for approval.
pub async fn promote(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<Installation>), ApiError> {
    caller.require_tenant_admin()?;
    Ok(super::installations::upgraded_reply(
        shadow::promote(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// `POST /api/v1/installations/{id}/replay`: runs a candidate on the recorded inputs of
/// the last N invocations and reports the comparison.
pub async fn replay(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ReplayRequest>,
) -> Result<Json<Report>, ApiError> {
    caller.require_tenant_admin()?;
    Ok(Json(
        shadow::replay(&state.core, &caller.tenant_id, &id, body).await?,
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    source: Option<Source>,
}

/// `GET /api/v1/installations/{id}/shadow-report?source=live|replay`.
pub async fn report(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ReportQuery>,
) -> Result<Json<Report>, ApiError> {
    caller.require_tenant_admin()?;
    let source = query.source.unwrap_or(Source::Live);
    Ok(Json(
        shadow::report(&state.core, &caller.tenant_id, &id, source).await?,
    ))
}
