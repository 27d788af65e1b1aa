//! A vehicle's service records (maintenance history).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use crate::domain::ServiceRecord;
use crate::service::service_records::{self, ServiceRecordInput};

#[derive(Deserialize)]
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

/// `POST /api/v1/vehicles/{id}/service-records`.
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

/// A vehicle's whole service history.
#[derive(Serialize)]
pub struct History {
    items: Vec<ServiceRecord>,
}

/// `GET /api/v1/vehicles/{id}/service-records`: latest visit first.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(vehicle_id): ApiPath<String>,
) -> Result<Json<History>, ApiError> {
    let items = service_records::history(&state.core.db, &caller.tenant_id, &vehicle_id).await?;
    Ok(Json(History { items }))
}
