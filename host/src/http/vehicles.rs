//! Vehicles.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::page::Paged;
use crate::domain::records::Vehicle;
use crate::service::vehicles::{self, Search, VehicleBody, VehicleChange};

/// Creates a vehicle.
///
/// Field-provider plugins check it and fill in the fields they compute before it is stored.
#[utoipa::path(
    post,
    path = "/vehicles",
    operation_id = "vehicles_create",
    tag = "vehicles",
    request_body = VehicleBody,
    responses(
        (status = 201, description = "Created", body = Vehicle),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VehicleBody>,
) -> Result<(StatusCode, Json<Vehicle>), ApiError> {
    let vehicle = vehicles::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(vehicle)))
}

/// Changes a vehicle.
///
/// The VIN is its identity and does not change; an empty `customer_id` unlinks the owner.
#[utoipa::path(
    patch,
    path = "/vehicles/{id}",
    operation_id = "vehicles_update",
    tag = "vehicles",
    params(("id" = String, Path, description = "The vehicle's id")),
    request_body = VehicleChange,
    responses(
        (status = 200, description = "OK", body = Vehicle),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<VehicleChange>,
) -> Result<Json<Vehicle>, ApiError> {
    Ok(Json(
        vehicles::update(&state.core, &caller.tenant_id, &id, change).await?,
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    external_id: Option<String>,
    vin: Option<String>,
    /// Any spelling of the plate; searched normalised.
    plate: Option<String>,
    customer_id: Option<String>,
}

/// Lists vehicles, newest first.
#[utoipa::path(
    get,
    path = "/vehicles",
    operation_id = "vehicles_list",
    tag = "vehicles",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Vehicle>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Vehicle>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let search = Search {
        external_id: query.external_id,
        vin: query.vin,
        plate: query.plate,
        customer_id: query.customer_id,
    };
    Ok(Json(
        vehicles::list(&state.core, &caller.tenant_id, search, &page).await?,
    ))
}

/// One vehicle.
#[utoipa::path(
    get,
    path = "/vehicles/{id}",
    operation_id = "vehicles_get",
    tag = "vehicles",
    params(("id" = String, Path, description = "The vehicle's id")),
    responses(
        (status = 200, description = "OK", body = Vehicle),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vehicle>, ApiError> {
    Ok(Json(
        vehicles::get(&state.core, &caller.tenant_id, &id).await?,
    ))
}
