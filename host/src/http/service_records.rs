//! A vehicle's service records (maintenance history).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::domain::records::ServiceRecord;
use crate::service::service_records::{self, ServiceRecordInput};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRecordBody {
    #[serde(default)]
    external_id: Option<String>,
    /// Defaulted so that missing fields are reported together, not as bad JSON.
    #[serde(default)]
    service_date: String,
    #[serde(default)]
    mileage_km: Option<i64>,
    #[serde(default)]
    work_done: String,
    #[serde(default)]
    dealer_code: String,
    /// A decimal amount, as a string (`"1280.50"`) or a number.
    #[serde(default)]
    cost: Option<serde_json::Value>,
}

/// Records a service visit of a vehicle.
#[utoipa::path(
    post,
    path = "/vehicles/{id}/service-records",
    operation_id = "service_records_create",
    tag = "service-records",
    params(("id" = String, Path, description = "The vehicle's id")),
    request_body = ServiceRecordBody,
    responses(
        (status = 201, description = "Created", body = ServiceRecord),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(vehicle_id): ApiPath<String>,
    ApiJson(body): ApiJson<ServiceRecordBody>,
) -> Result<(StatusCode, Json<ServiceRecord>), ApiError> {
    let cost = match body.cost {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(text)) => Some(text),
        Some(serde_json::Value::Number(number)) => Some(number.to_string()),
        Some(other) => {
            return Err(ApiError::BadRequest(format!(
                "cost must be a decimal amount such as \"1280.50\", not {other}"
            )));
        }
    };
    let input = ServiceRecordInput {
        external_id: body.external_id.as_deref(),
        service_date: &body.service_date,
        mileage_km: body.mileage_km,
        work_done: &body.work_done,
        dealer_code: &body.dealer_code,
        cost: cost.as_deref(),
    };
    let record =
        service_records::create(&state.core.db, &caller.tenant_id, &vehicle_id, &input).await?;
    Ok((StatusCode::CREATED, Json(record)))
}

/// A vehicle's service history, latest visit first.
#[utoipa::path(
    get,
    path = "/vehicles/{id}/service-records",
    operation_id = "service_records_list",
    tag = "service-records",
    params(("id" = String, Path, description = "The vehicle's id")),
    responses(
        (status = 200, description = "OK", body = Items<ServiceRecord>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(vehicle_id): ApiPath<String>,
) -> Result<Json<Items<ServiceRecord>>, ApiError> {
    let items = service_records::history(&state.core.db, &caller.tenant_id, &vehicle_id).await?;
    Ok(Json(items.into()))
}
