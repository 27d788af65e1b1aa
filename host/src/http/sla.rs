//! SLA policies per priority, the tenant's holidays, and a ticket's clocks.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::domain::records::Priority;
use crate::domain::sla::{ClockView, Holiday, Policy};
use crate::service::sla::{self, HolidayBody, PolicyBody};

/// Sets the SLA targets of a priority.
///
/// Targets are in business minutes and apply to new tickets of that priority.
#[utoipa::path(
    put,
    path = "/sla-policies/{priority}",
    operation_id = "sla_put_policy",
    tag = "sla",
    params(("priority" = Priority, Path, description = "The priority the targets apply to")),
    request_body = PolicyBody,
    responses(
        (status = 200, description = "OK", body = Policy),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn put_policy(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(priority): ApiPath<String>,
    ApiJson(body): ApiJson<PolicyBody>,
) -> Result<Json<Policy>, ApiError> {
    Ok(Json(
        sla::put_policy(&state.core, &caller.tenant_id, &priority, body).await?,
    ))
}

/// The tenant's SLA policies, one per priority.
#[utoipa::path(
    get,
    path = "/sla-policies",
    operation_id = "sla_list_policies",
    tag = "sla",
    responses(
        (status = 200, description = "OK", body = Items<Policy>),
    ),
)]
pub async fn list_policies(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Items<Policy>>, ApiError> {
    let policies = sla::policies(&state.core, &caller.tenant_id).await?;
    Ok(Json(policies.into()))
}

/// Adds or renames a day the SLA calendar skips.
#[utoipa::path(
    put,
    path = "/holidays/{day}",
    operation_id = "sla_put_holiday",
    tag = "sla",
    params(("day" = String, Path, description = "The day, `YYYY-MM-DD`")),
    request_body = HolidayBody,
    responses(
        (status = 200, description = "OK", body = Holiday),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn put_holiday(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
    ApiJson(body): ApiJson<HolidayBody>,
) -> Result<(StatusCode, Json<Holiday>), ApiError> {
    let holiday = sla::put_holiday(&state.core, &caller.tenant_id, &day, body).await?;
    Ok((StatusCode::OK, Json(holiday)))
}

/// Removes a holiday.
#[utoipa::path(
    delete,
    path = "/holidays/{day}",
    operation_id = "sla_delete_holiday",
    tag = "sla",
    params(("day" = String, Path, description = "The day, `YYYY-MM-DD`")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete_holiday(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(day): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    sla::delete_holiday(&state.core, &caller.tenant_id, &day).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The days the SLA calendar skips.
#[utoipa::path(
    get,
    path = "/holidays",
    operation_id = "sla_list_holidays",
    tag = "sla",
    responses(
        (status = 200, description = "OK", body = Items<Holiday>),
    ),
)]
pub async fn list_holidays(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<Items<Holiday>>, ApiError> {
    let holidays = sla::holidays(&state.core, &caller.tenant_id).await?;
    Ok(Json(holidays.into()))
}

/// A ticket's SLA clocks.
#[utoipa::path(
    get,
    path = "/tickets/{id}/sla",
    operation_id = "sla_ticket_clocks",
    tag = "sla",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = Items<ClockView>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn ticket_clocks(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Items<ClockView>>, ApiError> {
    super::tickets::visible(&caller, &state, &id).await?;
    let clocks = sla::clocks(&state.core, &caller.tenant_id, &id).await?;
    Ok(Json(clocks.into()))
}
