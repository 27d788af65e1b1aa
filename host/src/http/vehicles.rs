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
use crate::domain::{FieldEntity, Fields, Vehicle};
use crate::service::field_checks;
use crate::service::vehicles::checked_plate;
use crate::service::{self, FieldError, ServiceError};
use crate::store::Paged;
use crate::store::customers;
use crate::store::vehicles::{self, NewVehicle, VehicleFilter};
use crate::vin::Vin;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleBody {
    /// The vehicle's id in the dealer's sheet or DMS.
    #[serde(default)]
    external_id: Option<String>,
    /// Defaulted so a missing VIN is reported with the other fields, not as bad JSON.
    #[serde(default)]
    vin: String,
    /// The licence plate, in any spelling (`沪 a-12345`); stored normalised.
    #[serde(default)]
    plate: Option<String>,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    make: Option<String>,
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    model_year: Option<i64>,
    #[serde(default)]
    mileage_km: Option<i64>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    fields: Fields,
}

/// Checks the parts of a vehicle other than its VIN; problems go to `errors`.
async fn check_details(
    state: &AppState,
    tenant_id: &str,
    customer_id: Option<&str>,
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ApiError> {
    if let Some(customer_id) = customer_id
        && customers::get(&state.core.db, tenant_id, customer_id)
            .await?
            .is_none()
    {
        errors.push(FieldError {
            field: "customer_id".into(),
            message: format!("no customer `{customer_id}` in this tenant"),
        });
    }
    service::vehicles::check_figures(model_year, mileage_km, errors);
    Ok(())
}

/// A `?plate=` search in any spelling, normalised as plates are stored.
pub(super) fn plate_filter(raw: Option<&str>) -> Result<Option<String>, ApiError> {
    raw.map(crate::plate::normalise_plate)
        .transpose()
        .map_err(|message| ApiError::BadRequest(format!("plate: {message}")))
}

/// What is wrong with `fields` by the tenant's declared vehicle fields.
async fn declared_problems(
    state: &AppState,
    tenant_id: &str,
    fields: &Fields,
) -> Result<Vec<FieldError>, ApiError> {
    Ok(field_checks::check_record(&state.core, tenant_id, FieldEntity::Vehicle, fields).await?)
}

fn invalid(errors: Vec<FieldError>) -> ApiError {
    ServiceError::Unprocessable {
        message: "the vehicle is not valid".into(),
        errors,
    }
    .into()
}

/// Creates a vehicle.
///
/// Field-provider plugins check it and fill in the fields they compute before it is stored.
#[utoipa::path(
    post,
    path = "/api/v1/vehicles",
    operation_id = "vehicles_create",
    tag = "vehicles",
    request_body = VehicleBody,
    responses(
        (status = 201, description = "Created", body = Vehicle),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<VehicleBody>,
) -> Result<(StatusCode, Json<Vehicle>), ApiError> {
    let mut errors = Vec::new();
    let vin = if body.vin.trim().is_empty() {
        errors.push(FieldError {
            field: "vin".into(),
            message: "is required: the vehicle's 17-character VIN".into(),
        });
        None
    } else {
        Vin::parse(&body.vin)
            .map_err(|err| {
                errors.push(FieldError {
                    field: "vin".into(),
                    message: err.to_string(),
                })
            })
            .ok()
    };
    let plate = checked_plate(body.plate.as_deref(), &mut errors);
    check_details(
        &state,
        &caller.tenant_id,
        body.customer_id.as_deref(),
        body.model_year,
        body.mileage_km,
        &mut errors,
    )
    .await?;
    let Some(vin) = vin.filter(|_| errors.is_empty()) else {
        return Err(invalid(errors));
    };
    let mut vehicle = NewVehicle {
        vin,
        plate,
        external_id: body
            .external_id
            .map(|id| id.trim().to_owned())
            .filter(|id| !id.is_empty()),
        customer_id: body.customer_id,
        make: body.make,
        model: body.model,
        model_year: body.model_year,
        mileage_km: body.mileage_km,
        fields: body.fields,
    }
    .into_vehicle();
    // Field providers check the vehicle and fill in the fields they compute.
    let provided =
        crate::service::fields::for_vehicle(&state.core, &caller.tenant_id, &vehicle).await?;
    crate::service::invocations::record_all(&state.core, &caller.tenant_id, &provided.audits)
        .await?;
    vehicle.fields.extend(provided.values);
    // Declared fields are checked after the providers filled theirs in, so a computed
    // field can satisfy a required one.
    let mut issues = provided.issues;
    issues.extend(declared_problems(&state, &caller.tenant_id, &vehicle.fields).await?);
    if !issues.is_empty() {
        return Err(invalid(issues));
    }
    let mut conn = state
        .core
        .db
        .writer()
        .acquire()
        .await
        .map_err(|err| ApiError::Service(err.into()))?;
    vehicles::insert_in(&mut conn, &caller.tenant_id, &vehicle).await?;
    Ok((StatusCode::CREATED, Json(vehicle)))
}

/// Changes to a vehicle; the VIN is its identity and does not change. An empty
/// `customer_id` unlinks the owner.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleChange {
    customer_id: Option<String>,
    /// A new plate; an empty one removes it.
    plate: Option<String>,
    make: Option<String>,
    model: Option<String>,
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    /// Merged over the existing fields; `null` removes a field.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    fields: Option<Fields>,
}

/// Changes a vehicle.
///
/// The VIN is its identity and does not change; an empty `customer_id` unlinks the owner.
#[utoipa::path(
    patch,
    path = "/api/v1/vehicles/{id}",
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
    security(("api_key" = [])),
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<VehicleChange>,
) -> Result<Json<Vehicle>, ApiError> {
    let mut vehicle = vehicles::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .ok_or(ApiError::NotFound("vehicle"))?;
    let customer_id = change.customer_id.map(|c| c.trim().to_owned());
    let mut errors = Vec::new();
    check_details(
        &state,
        &caller.tenant_id,
        customer_id.as_deref().filter(|c| !c.is_empty()),
        change.model_year,
        change.mileage_km,
        &mut errors,
    )
    .await?;
    if let Some(plate) = &change.plate {
        vehicle.plate = checked_plate(Some(plate), &mut errors);
    }
    if let Some(fields) = change.fields {
        crate::domain::merge_fields(&mut vehicle.fields, fields);
        errors.extend(declared_problems(&state, &caller.tenant_id, &vehicle.fields).await?);
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    if let Some(customer_id) = customer_id {
        vehicle.customer_id = Some(customer_id).filter(|c| !c.is_empty());
    }
    vehicle.make = change.make.or(vehicle.make);
    vehicle.model = change.model.or(vehicle.model);
    vehicle.model_year = change.model_year.or(vehicle.model_year);
    vehicle.mileage_km = change.mileage_km.or(vehicle.mileage_km);
    Ok(Json(
        vehicles::update(&state.core.db, &caller.tenant_id, vehicle).await?,
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
    path = "/api/v1/vehicles",
    operation_id = "vehicles_list",
    tag = "vehicles",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Vehicle>),
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Vehicle>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let vin = query
        .vin
        .map(|raw| Vin::parse(&raw).map(|vin| vin.as_str().to_owned()))
        .transpose()
        .map_err(|err| ApiError::BadRequest(format!("vin: {err}")))?;
    let plate = plate_filter(query.plate.as_deref())?;
    let filter = VehicleFilter {
        external_id: query.external_id,
        vin,
        plate,
        customer_id: query.customer_id,
    };
    Ok(Json(
        vehicles::list(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// One vehicle.
#[utoipa::path(
    get,
    path = "/api/v1/vehicles/{id}",
    operation_id = "vehicles_get",
    tag = "vehicles",
    params(("id" = String, Path, description = "The vehicle's id")),
    responses(
        (status = 200, description = "OK", body = Vehicle),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Vehicle>, ApiError> {
    vehicles::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("vehicle"))
}
