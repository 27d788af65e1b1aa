//! Vehicles: created (with the field providers' say), changed, found and read. Checks are
//! shared by the API and the CSV import.

use serde::Deserialize;

use super::{Core, FieldError, ServiceError, field_checks};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{FieldEntity, Fields, Vehicle, merge_fields};
use crate::store::customers;
use crate::store::vehicles::{self as store, NewVehicle, VehicleFilter};
use axle_vin::Vin;

/// A vehicle as created.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VehicleBody {
    /// The vehicle's id in the dealer's sheet or DMS.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Defaulted so a missing VIN is reported with the other fields, not as bad JSON.
    #[serde(default)]
    pub vin: String,
    /// The licence plate, in any spelling (`沪 a-12345`); stored normalised.
    #[serde(default)]
    pub plate: Option<String>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub model_year: Option<i64>,
    #[serde(default)]
    pub mileage_km: Option<i64>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
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

/// What a vehicle search asks for, as the caller typed it.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub external_id: Option<String>,
    pub vin: Option<String>,
    /// Any spelling of the plate; searched normalised.
    pub plate: Option<String>,
    pub customer_id: Option<String>,
}

fn invalid(errors: Vec<FieldError>) -> ServiceError {
    ServiceError::Unprocessable {
        message: "the vehicle is not valid".into(),
        errors,
    }
}

/// Checks the parts of a vehicle other than its VIN; problems go to `errors`.
async fn check_details(
    core: &Core,
    tenant_id: &str,
    customer_id: Option<&str>,
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    errors: &mut Vec<FieldError>,
) -> Result<(), ServiceError> {
    if let Some(customer_id) = customer_id
        && customers::get(&core.db, tenant_id, customer_id)
            .await?
            .is_none()
    {
        errors.push(FieldError {
            field: "customer_id".into(),
            message: format!("no customer `{customer_id}` in this tenant"),
        });
    }
    check_figures(model_year, mileage_km, errors);
    Ok(())
}

/// Creates a vehicle. Field-provider plugins check it and fill in the fields they
/// compute before it is stored; declared fields are checked after that, so a computed
/// field can satisfy a required one.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    body: VehicleBody,
) -> Result<Vehicle, ServiceError> {
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
        core,
        tenant_id,
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
    let provided = super::fields::for_vehicle(core, tenant_id, &vehicle).await?;
    super::invocations::record_all(core, tenant_id, &provided.audits).await?;
    vehicle.fields.extend(provided.values);
    let mut issues = provided.issues;
    issues.extend(
        field_checks::check_record(core, tenant_id, FieldEntity::Vehicle, &vehicle.fields).await?,
    );
    if !issues.is_empty() {
        return Err(invalid(issues));
    }
    let mut conn = core
        .db
        .writer()
        .acquire()
        .await
        .map_err(|err| ServiceError::Store(err.into()))?;
    store::insert_in(&mut conn, tenant_id, &vehicle).await?;
    Ok(vehicle)
}

/// Changes a vehicle; the VIN does not change, an empty `customer_id` unlinks the owner.
pub async fn update(
    core: &Core,
    tenant_id: &str,
    id: &str,
    change: VehicleChange,
) -> Result<Vehicle, ServiceError> {
    let mut vehicle = get(core, tenant_id, id).await?;
    let customer_id = change.customer_id.map(|c| c.trim().to_owned());
    let mut errors = Vec::new();
    check_details(
        core,
        tenant_id,
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
        merge_fields(&mut vehicle.fields, fields);
        errors.extend(
            field_checks::check_record(core, tenant_id, FieldEntity::Vehicle, &vehicle.fields)
                .await?,
        );
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
    Ok(store::update(&core.db, tenant_id, vehicle).await?)
}

/// One vehicle of the tenant.
pub async fn get(core: &Core, tenant_id: &str, id: &str) -> Result<Vehicle, ServiceError> {
    store::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("vehicle"))
}

/// Vehicles matching `search`, newest first.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    search: Search,
    page: &Page,
) -> Result<Paged<Vehicle>, ServiceError> {
    let vin = search
        .vin
        .map(|raw| Vin::parse(&raw).map(|vin| vin.as_str().to_owned()))
        .transpose()
        .map_err(|err| ServiceError::Invalid(format!("vin: {err}")))?;
    let filter = VehicleFilter {
        external_id: search.external_id,
        vin,
        plate: plate_search(search.plate.as_deref())?,
        customer_id: search.customer_id,
    };
    Ok(store::list(&core.db, tenant_id, &filter, page).await?)
}

/// A plate search in any spelling, normalised as plates are stored.
pub fn plate_search(raw: Option<&str>) -> Result<Option<String>, ServiceError> {
    raw.map(crate::domain::plate::normalise_plate)
        .transpose()
        .map_err(|message| ServiceError::Invalid(format!("plate: {message}")))
}

/// The model years accepted: older cars are not serviced under a maker's after-sales
/// programme, later ones are typing mistakes.
const MODEL_YEARS: std::ops::RangeInclusive<i64> = 1950..=2100;

/// Checks a vehicle's model year and odometer reading; problems go to `errors`.
pub fn check_figures(
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(year) = model_year
        && !MODEL_YEARS.contains(&year)
    {
        errors.push(FieldError {
            field: "model_year".into(),
            message: format!("{year} is not a plausible model year"),
        });
    }
    if mileage_km.is_some_and(|km| km < 0) {
        errors.push(FieldError {
            field: "mileage_km".into(),
            message: "must not be negative".into(),
        });
    }
}

/// The normalised plate of `raw`, `None` when it is blank; a text that is not a plate
/// goes to `errors`.
pub fn checked_plate(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|p| !p.is_empty())?;
    crate::domain::plate::normalise_plate(raw)
        .map_err(|message| {
            errors.push(FieldError {
                field: "plate".into(),
                message,
            })
        })
        .ok()
}
