//! SLA policies per priority, the tenant's holidays, and a ticket's clocks.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use crate::domain::Priority;
use crate::service::{ServiceError, sla as service};
use crate::store::sla::{self, ClockView, Holiday, Policy};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    first_response_minutes: i64,
    resolution_minutes: i64,
    #[serde(default = "default_warn_at")]
    warn_at_percent: i64,
}

fn default_warn_at() -> i64 {
    80
}

/// `PUT /api/v1/sla-policies/{priority}`: targets in business minutes for new tickets of
/// that priority.
pub async fn put_policy(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(priority): ApiPath<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<Policy>, ApiError> {
    caller.require_tenant_admin()?;
    let priority = Priority::parse(&priority).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`{priority}` is not a priority; use {}",
            Priority::expected()
        ))
    })?;
    let policy = Policy {
        priority,
        first_response_minutes: body.first_response_minutes,
        resolution_minutes: body.resolution_minutes,
        warn_at_percent: body.warn_at_percent,
    };
    service::check_policy(&policy).map_err(|errors| ServiceError::Unprocessable {
        message: "the SLA policy is not valid".to_owned(),
        errors,
    })?;
    sla::put_policy(&state.core.db, &caller.tenant_id, &policy).await?;
    Ok(Json(policy))
}

/// `GET /api/v1/sla-policies`.
pub async fn list_policies(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let policies = sla::policies(&state.core.db, &caller.tenant_id).await?;
    Ok(Json(serde_json::json!({ "items": policies })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    name: String,
}

/// `PUT /api/v1/holidays/{day}`: a day (`YYYY-MM-DD`) the SLA calendar skips.
pub async fn put_holiday(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
    ApiJson(body): ApiJson<HolidayBody>,
) -> Result<(StatusCode, Json<Holiday>), ApiError> {
    caller.require_tenant_admin()?;
    let date: jiff::civil::Date = day
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{day}` is not a date like 2026-10-01")))?;
    let holiday = Holiday {
        day: date.to_string(),
        name: body.name.trim().to_owned(),
    };
    sla::put_holiday(&state.core.db, &caller.tenant_id, &holiday).await?;
    Ok((StatusCode::OK, Json(holiday)))
}

/// `DELETE /api/v1/holidays/{day}`.
pub async fn delete_holiday(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_tenant_admin()?;
    if sla::delete_holiday(&state.core.db, &caller.tenant_id, &day).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("holiday"))
    }
}

/// `GET /api/v1/holidays`.
pub async fn list_holidays(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let mut conn = state
        .core
        .db
        .pool()
        .acquire()
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    let holidays = sla::holidays(&mut conn, &caller.tenant_id).await?;
    Ok(Json(serde_json::json!({ "items": holidays })))
}

/// `GET /api/v1/tickets/{id}/sla`: the ticket's clocks.
pub async fn ticket_clocks(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    super::tickets::visible(&caller, &state, &id).await?;
    let mut conn = state
        .core
        .db
        .pool()
        .acquire()
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    let clocks: Vec<ClockView> = sla::clocks(&mut conn, &caller.tenant_id, &id)
        .await?
        .iter()
        .map(|c| c.view())
        .collect();
    Ok(Json(serde_json::json!({ "items": clocks })))
}
