//! Vehicles, unique by VIN within a tenant.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Placeholders, StoreError, fields_json, json_column};
use crate::db::{Arg, Db};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Fields, Vehicle};
use axle_vin::Vin;

/// A vehicle to create.
#[derive(Clone, Debug)]
pub struct NewVehicle {
    pub vin: Vin,
    /// Already normalised (`crate::domain::plate::normalise_plate`).
    pub plate: Option<String>,
    pub external_id: Option<String>,
    pub customer_id: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub model_year: Option<i64>,
    pub mileage_km: Option<i64>,
    pub fields: Fields,
}

/// List filters.
#[derive(Clone, Debug, Default)]
pub struct VehicleFilter {
    pub external_id: Option<String>,
    pub vin: Option<String>,
    /// A normalised plate.
    pub plate: Option<String>,
    pub customer_id: Option<String>,
}

struct VehicleRow {
    id: String,
    external_id: Option<String>,
    vin: String,
    plate: Option<String>,
    customer_id: Option<String>,
    make: Option<String>,
    model: Option<String>,
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    fields: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(VehicleRow => Vehicle, from "vehicles" {
    id,
    external_id,
    vin,
    plate,
    customer_id,
    make,
    model,
    model_year,
    mileage_km,
    fields,
    created_at,
    updated_at
});

impl VehicleRow {
    fn into_domain(self) -> Result<Vehicle, StoreError> {
        Ok(Vehicle {
            fields: json_column("vehicles.fields", &self.fields)?,
            id: self.id,
            external_id: self.external_id,
            vin: self.vin,
            plate: self.plate,
            customer_id: self.customer_id,
            make: self.make,
            model: self.model,
            model_year: self.model_year,
            mileage_km: self.mileage_km,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

/// Creates a vehicle; a VIN or external id already on file in the tenant is a conflict.
pub async fn insert(db: &Db, tenant_id: &str, new: NewVehicle) -> Result<Vehicle, StoreError> {
    let vehicle = new.into_vehicle();
    let mut conn = db.writer().acquire().await?;
    insert_in(&mut conn, tenant_id, &vehicle).await?;
    Ok(vehicle)
}

impl NewVehicle {
    /// The vehicle this will be, with a fresh id, before it is stored.
    pub fn into_vehicle(self) -> Vehicle {
        let now = rfc3339(now_ms());
        Vehicle {
            id: new_id(),
            external_id: self.external_id,
            vin: self.vin.as_str().to_owned(),
            plate: self.plate,
            customer_id: self.customer_id,
            make: self.make,
            model: self.model,
            model_year: self.model_year,
            mileage_km: self.mileage_km,
            fields: self.fields,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// Stores `vehicle` on `conn` (a pooled connection or a transaction); a VIN already on
/// file in the tenant is a conflict.
pub async fn insert_in(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    vehicle: &Vehicle,
) -> Result<(), StoreError> {
    // The record carries its creation time already; store exactly that, so what the
    // caller returns and what a later read returns agree to the millisecond.
    let now = vehicle
        .created_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or_else(|_| now_ms());
    sqlx::query(
        "INSERT INTO vehicles (id, tenant_id, vin, customer_id, make, model, model_year, mileage_km, fields, created_at, updated_at, external_id, plate) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11, $12)",
    )
    .bind(&vehicle.id)
    .bind(tenant_id)
    .bind(&vehicle.vin)
    .bind(&vehicle.customer_id)
    .bind(&vehicle.make)
    .bind(&vehicle.model)
    .bind(vehicle.model_year)
    .bind(vehicle.mileage_km)
    .bind(serde_json::to_string(&vehicle.fields).unwrap_or_else(|_| "{}".to_owned()))
    .bind(now)
    .bind(&vehicle.external_id)
    .bind(&vehicle.plate)
    .execute(conn)
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || match &vehicle.external_id {
            Some(external_id) => format!(
                "a vehicle with VIN {} or external id {external_id} already exists",
                vehicle.vin
            ),
            None => format!("a vehicle with VIN {} already exists", vehicle.vin),
        })
    })?;
    Ok(())
}

/// Makes `customer_id` the owner of a vehicle that has none.
pub async fn claim_in(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    vehicle_id: &str,
    customer_id: Option<&str>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE vehicles SET customer_id = $1, updated_at = $2 WHERE tenant_id = $3 AND id = $4 AND customer_id IS NULL",
    )
    .bind(customer_id)
    .bind(now_ms())
    .bind(tenant_id)
    .bind(vehicle_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A vehicle of the tenant by id.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Vehicle>, StoreError> {
    super::by_id::<VehicleRow>(db, tenant_id, id).await
}

/// A vehicle of the tenant by (validated, upper-case) VIN.
pub async fn get_by_vin(
    db: &Db,
    tenant_id: &str,
    vin: &str,
) -> Result<Option<Vehicle>, StoreError> {
    super::select_optional::<VehicleRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND vin = $2",
        &[tenant_id, vin],
    )
    .await
}

/// Writes every mutable column of `vehicle`; another tenant's id is not found.
pub async fn update(db: &Db, tenant_id: &str, mut vehicle: Vehicle) -> Result<Vehicle, StoreError> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE vehicles SET customer_id = $1, make = $2, model = $3, model_year = $4, mileage_km = $5, \
         fields = $6, updated_at = $7, plate = $8 WHERE tenant_id = $9 AND id = $10",
    )
    .bind(&vehicle.customer_id)
    .bind(&vehicle.make)
    .bind(&vehicle.model)
    .bind(vehicle.model_year)
    .bind(vehicle.mileage_km)
    .bind(serde_json::to_string(&vehicle.fields).unwrap_or_else(|_| "{}".to_owned()))
    .bind(now)
    .bind(&vehicle.plate)
    .bind(tenant_id)
    .bind(&vehicle.id)
    .execute(db.writer())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound("vehicle"));
    }
    vehicle.updated_at = rfc3339(now);
    Ok(vehicle)
}

/// The tenant's vehicles, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &VehicleFilter,
    page: &Page,
) -> Result<Paged<Vehicle>, StoreError> {
    let mut sql = super::tenant_rows::<VehicleRow>(tenant_id);
    sql.and_eq("external_id", filter.external_id.clone().map(Arg::Text))
        .and_eq("vin", filter.vin.clone().map(Arg::Text))
        .and_eq("plate", filter.plate.clone().map(Arg::Text))
        .and_eq("customer_id", filter.customer_id.clone().map(Arg::Text));
    super::select_page::<VehicleRow>(db, sql, page).await
}

/// The columns of a vehicle that a CSV import writes. `external_id` is `None` only for a
/// vehicle on file that was created without one (through the API or a hotline call).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedVehicle {
    pub external_id: Option<String>,
    pub vin: String,
    pub plate: Option<String>,
    pub customer_id: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub model_year: Option<i64>,
    pub mileage_km: Option<i64>,
    /// All of the record's custom fields.
    pub fields: Fields,
}

/// The tenant's vehicles with any of these external ids or VINs, as `(id, imported columns)`.
pub async fn by_external_ids_or_vins(
    conn: &mut AnyConnection,
    tenant_id: &str,
    external_ids: &[&str],
    vins: &[&str],
) -> Result<Vec<(String, ImportedVehicle)>, StoreError> {
    if external_ids.is_empty() && vins.is_empty() {
        return Ok(Vec::new());
    }
    // Two indexed lookups: an OR of the two lists could scan the tenant's vehicles.
    const SELECT: &str = "SELECT id, external_id, vin, plate, customer_id, make, model, \
                          model_year, mileage_km, fields FROM vehicles";
    let mut params = Placeholders::for_conn(conn);
    let sql = format!(
        "{SELECT} WHERE tenant_id = {} AND external_id IN ({}) \
         UNION {SELECT} WHERE tenant_id = {} AND vin IN ({})",
        params.one(),
        params.list(external_ids.len()),
        params.one(),
        params.list(vins.len()),
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(tenant_id);
    for external_id in external_ids {
        query = query.bind(*external_id);
    }
    query = query.bind(tenant_id);
    for vin in vins {
        query = query.bind(*vin);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            Ok((
                row.try_get("id")?,
                ImportedVehicle {
                    external_id: row.try_get("external_id")?,
                    vin: row.try_get("vin")?,
                    plate: row.try_get("plate")?,
                    customer_id: row.try_get("customer_id")?,
                    make: row.try_get("make")?,
                    model: row.try_get("model")?,
                    model_year: row.try_get("model_year")?,
                    mileage_km: row.try_get("mileage_km")?,
                    fields: json_column("vehicles.fields", &row.try_get::<String, _>("fields")?)?,
                },
            ))
        })
        .collect()
}

/// The tenant's vehicle ids for these VINs, as `(vin, id)`.
pub async fn ids_by_vins(
    conn: &mut AnyConnection,
    tenant_id: &str,
    vins: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    super::ids_by(conn, "vehicles", "vin", tenant_id, vins).await
}

/// Creates imported vehicles in one statement.
pub async fn insert_imported(
    conn: &mut AnyConnection,
    tenant_id: &str,
    vehicles: &[&ImportedVehicle],
) -> Result<(), StoreError> {
    if vehicles.is_empty() {
        return Ok(());
    }
    const PER_ROW: usize = 13;
    let sql = format!(
        "INSERT INTO vehicles (id, tenant_id, external_id, vin, plate, customer_id, make, model, \
         model_year, mileage_km, fields, created_at, updated_at) VALUES {}",
        Placeholders::for_conn(conn).rows(vehicles.len(), PER_ROW)
    );
    let now = now_ms();
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for vehicle in vehicles {
        query = query
            .bind(new_id())
            .bind(tenant_id)
            .bind(vehicle.external_id.as_deref())
            .bind(vehicle.vin.as_str())
            .bind(vehicle.plate.as_deref())
            .bind(vehicle.customer_id.as_deref())
            .bind(vehicle.make.as_deref())
            .bind(vehicle.model.as_deref())
            .bind(vehicle.model_year)
            .bind(vehicle.mileage_km)
            .bind(fields_json(&vehicle.fields))
            .bind(now)
            .bind(now);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Writes the imported columns of the vehicle `id`; its VIN does not change.
pub async fn update_imported(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    vehicle: &ImportedVehicle,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE vehicles SET external_id = $1, customer_id = $2, make = $3, model = $4, \
         model_year = $5, mileage_km = $6, updated_at = $7, plate = $8, fields = $9 \
         WHERE tenant_id = $10 AND id = $11",
    )
    .bind(vehicle.external_id.as_deref())
    .bind(vehicle.customer_id.as_deref())
    .bind(vehicle.make.as_deref())
    .bind(vehicle.model.as_deref())
    .bind(vehicle.model_year)
    .bind(vehicle.mileage_km)
    .bind(now_ms())
    .bind(vehicle.plate.as_deref())
    .bind(fields_json(&vehicle.fields))
    .bind(tenant_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
