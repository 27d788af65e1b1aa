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
use crate::domain::{Customer, FieldEntity, Fields};
use crate::service::customers::checked_contact;
use crate::service::field_checks;
use crate::service::settings::phone_country;
use crate::service::{FieldError, ServiceError};
use crate::store::Paged;
use crate::store::customers::{self, CustomerFilter, NewCustomer};

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    /// The customer's id in the dealer's sheet or DMS.
    #[serde(default)]
    external_id: Option<String>,
    /// Defaulted so a missing name is reported with the other fields, not as bad JSON.
    #[serde(default)]
    name: String,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    region: Option<String>,
    #[serde(default)]
    city: Option<String>,
    #[serde(default)]
    vip: bool,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    fields: Fields,
}

fn invalid(errors: Vec<FieldError>) -> ApiError {
    ServiceError::Unprocessable {
        message: "the customer is not valid".into(),
        errors,
    }
    .into()
}

/// What is wrong with `fields` by the tenant's declared customer fields.
async fn declared_problems(
    state: &AppState,
    tenant_id: &str,
    fields: &Fields,
) -> Result<Vec<FieldError>, ApiError> {
    Ok(field_checks::check_record(&state.core, tenant_id, FieldEntity::Customer, fields).await?)
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Creates a customer.
///
/// Declared custom fields are checked with the other fields; every problem is listed in one
/// 422.
#[utoipa::path(
    post,
    path = "/api/v1/customers",
    operation_id = "customers_create",
    tag = "customers",
    request_body = CustomerBody,
    responses(
        (status = 201, description = "Created", body = Customer),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CustomerBody>,
) -> Result<(StatusCode, Json<Customer>), ApiError> {
    let mut errors = Vec::new();
    let (name, phone, email) = checked_contact(
        phone_country(&state.core, &caller.tenant_id).await?,
        &body.name,
        body.phone.as_deref(),
        body.email.as_deref(),
        &mut errors,
    );
    errors.extend(declared_problems(&state, &caller.tenant_id, &body.fields).await?);
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let customer = customers::insert(
        &state.core.db,
        &caller.tenant_id,
        NewCustomer {
            external_id: non_empty(body.external_id),
            name,
            phone,
            email,
            region: non_empty(body.region),
            city: non_empty(body.city),
            vip: body.vip,
            fields: body.fields,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(customer)))
}

/// Changes to a customer; unset parts stay, an empty string clears an optional field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChange {
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    region: Option<String>,
    city: Option<String>,
    vip: Option<bool>,
    /// Merged over the existing fields; `null` removes a field.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    fields: Option<Fields>,
}

/// Changes a customer.
///
/// Unset parts stay and an empty string clears an optional field; `fields` merge over the
/// stored ones, `null` removing one.
#[utoipa::path(
    patch,
    path = "/api/v1/customers/{id}",
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
    security(("api_key" = [])),
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<CustomerChange>,
) -> Result<Json<Customer>, ApiError> {
    let mut customer = customers::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .ok_or(ApiError::NotFound("customer"))?;
    let mut errors = Vec::new();
    let (name, phone, email) = checked_contact(
        phone_country(&state.core, &caller.tenant_id).await?,
        change.name.as_deref().unwrap_or(&customer.name),
        change.phone.as_deref().or(customer.phone.as_deref()),
        change.email.as_deref().or(customer.email.as_deref()),
        &mut errors,
    );
    // The result must be valid, not only the change: removing a required field fails.
    if let Some(fields) = change.fields {
        crate::domain::merge_fields(&mut customer.fields, fields);
        errors.extend(declared_problems(&state, &caller.tenant_id, &customer.fields).await?);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    customer.name = name;
    customer.phone = phone;
    customer.email = email;
    if let Some(region) = change.region {
        customer.region = non_empty(Some(region));
    }
    if let Some(city) = change.city {
        customer.city = non_empty(Some(city));
    }
    if let Some(vip) = change.vip {
        customer.vip = vip;
    }
    Ok(Json(
        customers::update(&state.core.db, &caller.tenant_id, customer).await?,
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
    path = "/api/v1/customers",
    operation_id = "customers_list",
    tag = "customers",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Customer>),
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Customer>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    if let Some(raw) = &query.vin {
        let vin = crate::vin::Vin::parse(raw)
            .map_err(|err| ApiError::BadRequest(format!("vin: {err}")))?;
        let vehicle =
            crate::store::vehicles::get_by_vin(&state.core.db, &caller.tenant_id, vin.as_str())
                .await?;
        let owner = match vehicle.and_then(|v| v.customer_id) {
            Some(id) => customers::get(&state.core.db, &caller.tenant_id, &id).await?,
            None => None,
        };
        return Ok(Json(Paged {
            items: owner.into_iter().collect(),
            next_cursor: None,
        }));
    }
    let phone = match query.phone.as_deref() {
        Some(raw) => Some(
            phone_country(&state.core, &caller.tenant_id)
                .await?
                .normalise(raw),
        ),
        None => None,
    }
    .transpose()
    .map_err(ApiError::BadRequest)?;
    let filter = CustomerFilter {
        plate: super::vehicles::plate_filter(query.plate.as_deref())?,
        external_id: query.external_id,
        phone,
        vip: query.vip,
        region: query.region,
        name: query.name,
    };
    Ok(Json(
        customers::list(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// One customer.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}",
    operation_id = "customers_get",
    tag = "customers",
    params(("id" = String, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "OK", body = Customer),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Customer>, ApiError> {
    customers::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("customer"))
}
