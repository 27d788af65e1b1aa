//! Customers.

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
use crate::domain::records::Customer;
use crate::service::customers::{self, CustomerBody, CustomerChange, Search};

/// Creates a customer.
///
/// Declared custom fields are checked with the other fields; every problem is listed in one
/// 422.
#[utoipa::path(
    post,
    path = "/customers",
    operation_id = "customers_create",
    tag = "customers",
    request_body = CustomerBody,
    responses(
        (status = 201, description = "Created", body = Customer),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CustomerBody>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    let customer = customers::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// Changes a customer.
///
/// Unset parts stay and an empty string clears an optional field; `fields` merge over the
/// stored ones, `null` removing one.
#[utoipa::path(
    patch,
    path = "/customers/{id}",
    operation_id = "customers_update",
    tag = "customers",
    params(("id" = String, Path, description = "The customer's id")),
    request_body = CustomerChange,
    responses(
        (status = 200, description = "OK", body = Customer),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<CustomerChange>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(
        customers::update(&state.core, &caller.tenant_id, &id, change).await?,
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
    phone: Option<String>,
    vip: Option<bool>,
    region: Option<String>,
    name: Option<String>,
    /// The owner of the car with this VIN.
    vin: Option<String>,
    /// Owners of a car with this plate, in any spelling (`沪 a-12345`).
    plate: Option<String>,
}

/// Lists customers, newest first.
///
/// `vin` finds the owner of that car; `plate` matches any spelling of a plate.
#[utoipa::path(
    get,
    path = "/customers",
    operation_id = "customers_list",
    tag = "customers",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Customer>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Customer>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let search = Search {
        external_id: query.external_id,
        phone: query.phone,
        vip: query.vip,
        region: query.region,
        name: query.name,
        vin: query.vin,
        plate: query.plate,
    };
    Ok(Json(
        customers::list(&state.core, &caller.tenant_id, search, &page).await?,
    ))
}

/// One customer.
#[utoipa::path(
    get,
    path = "/customers/{id}",
    operation_id = "customers_get",
    tag = "customers",
    params(("id" = String, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "OK", body = Customer),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Customer>, ApiError> {
    Ok(Json(
        customers::get(&state.core, &caller.tenant_id, &id).await?,
    ))
}
