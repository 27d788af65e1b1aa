//! SLA policies per priority, the tenant's holidays, and a ticket's clocks.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::domain::records::Priority;
use crate::domain::sla::{ClockView, Holiday, Policy};
use crate::service::{ServiceError, sla as service};
use crate::store::sla;

#[derive(Deserialize, utoipa::ToSchema)]
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

/// Sets the SLA targets of a priority.
///
/// Targets are in business minutes and apply to new tickets of that priority.
#[utoipa::path(
    put,
    path = "/api/v1/sla-policies/{priority}",
    operation_id = "sla_put_policy",
    tag = "sla",
    params(("priority" = Priority, Path, description = "The priority the targets apply to")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "OK", body = Policy),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn put_policy(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(priority): ApiPath<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<Policy>, ApiError> {
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

/// The tenant's SLA policies, one per priority.
#[utoipa::path(
    get,
    path = "/api/v1/sla-policies",
    operation_id = "sla_list_policies",
    tag = "sla",
    responses(
        (status = 200, description = "OK", body = Items<Policy>),
    ),
    security(("api_key" = [])),
)]
pub async fn list_policies(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Items<Policy>>, ApiError> {
    let policies = sla::policies(&state.core.db, &caller.tenant_id).await?;
    Ok(Json(policies.into()))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    name: String,
}

/// Adds or renames a day the SLA calendar skips.
#[utoipa::path(
    put,
    path = "/api/v1/holidays/{day}",
    operation_id = "sla_put_holiday",
    tag = "sla",
    params(("day" = String, Path, description = "The day, `YYYY-MM-DD`")),
    request_body = HolidayBody,
    responses(
        (status = 200, description = "OK", body = Holiday),
        (status = 403, response = doc::Forbidden),
    ),
    security(("api_key" = [])),
)]
pub async fn put_holiday(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
    ApiJson(body): ApiJson<HolidayBody>,
) -> Result<(StatusCode, Json<Holiday>), ApiError> {
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

/// Removes a holiday.
#[utoipa::path(
    delete,
    path = "/api/v1/holidays/{day}",
    operation_id = "sla_delete_holiday",
    tag = "sla",
    params(("day" = String, Path, description = "The day, `YYYY-MM-DD`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn delete_holiday(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if sla::delete_holiday(&state.core.db, &caller.tenant_id, &day).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::NotFound("holiday"))
    }
}

/// The days the SLA calendar skips.
#[utoipa::path(
    get,
    path = "/api/v1/holidays",
    operation_id = "sla_list_holidays",
    tag = "sla",
    responses(
        (status = 200, description = "OK", body = Items<Holiday>),
    ),
    security(("api_key" = [])),
)]
pub async fn list_holidays(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Items<Holiday>>, ApiError> {
    let mut conn = state
        .core
        .db
        .reader()
        .acquire()
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    let holidays = sla::holidays(&mut conn, &caller.tenant_id).await?;
    Ok(Json(holidays.into()))
}

/// A ticket's SLA clocks.
#[utoipa::path(
    get,
    path = "/api/v1/tickets/{id}/sla",
    operation_id = "sla_ticket_clocks",
    tag = "sla",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = Items<ClockView>),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn ticket_clocks(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Items<ClockView>>, ApiError> {
    super::tickets::visible(&caller, &state, &id).await?;
    let mut conn = state
        .core
        .db
        .reader()
        .acquire()
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    let clocks: Vec<ClockView> = sla::clocks(&mut conn, &caller.tenant_id, &id)
        .await?
        .iter()
        .map(|c| c.view())
        .collect();
    Ok(Json(clocks.into()))
}
