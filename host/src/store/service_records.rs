//! Service records: the maintenance history of a vehicle, unique by external id within a
//! tenant when one is given.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Placeholders, StoreError};
use crate::db::Db;
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::money::Amount;
use crate::domain::records::ServiceRecord;

/// What a service record says about one visit, already validated; the vehicle is given
/// alongside.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServiceVisit {
    pub external_id: Option<String>,
    /// `YYYY-MM-DD`.
    pub service_date: String,
    pub mileage_km: i64,
    pub work_done: String,
    pub dealer_code: String,
    pub cost: Option<Amount>,
}

const COLUMNS: &str = "id, vehicle_id, external_id, service_date, mileage_km, work_done, \
                       dealer_code, cost_cents, created_at, updated_at";

fn from_row(row: &sqlx::any::AnyRow) -> Result<ServiceRecord, StoreError> {
    Ok(ServiceRecord {
        id: row.try_get("id")?,
        vehicle_id: row.try_get("vehicle_id")?,
        external_id: row.try_get("external_id")?,
        service_date: row.try_get("service_date")?,
        mileage_km: row.try_get("mileage_km")?,
        work_done: row.try_get("work_done")?,
        dealer_code: row.try_get("dealer_code")?,
        cost: row
            .try_get::<Option<i64>, _>("cost_cents")?
            .map(Amount::from_cents),
        created_at: rfc3339(row.try_get("created_at")?),
        updated_at: rfc3339(row.try_get("updated_at")?),
    })
}

/// Creates one service record; an external id already on file in the tenant is a conflict.
/// The caller has checked that the vehicle belongs to the tenant.
pub async fn insert(
    db: &Db,
    tenant_id: &str,
    vehicle_id: &str,
    new: ServiceVisit,
) -> Result<ServiceRecord, StoreError> {
    let mut conn = db.writer().acquire().await?;
    let mut ids = insert_many(&mut conn, tenant_id, &[(vehicle_id, &new)])
        .await
        .map_err(|err| match err {
            StoreError::Db(err) => StoreError::conflict_on_unique(err, || {
                format!(
                    "a service record with external id {} already exists",
                    new.external_id.as_deref().unwrap_or_default()
                )
            }),
            other => other,
        })?;
    let (id, now) = ids.pop().ok_or(StoreError::NotFound("service record"))?;
    Ok(ServiceRecord {
        id,
        vehicle_id: vehicle_id.to_owned(),
        external_id: new.external_id,
        service_date: new.service_date,
        mileage_km: new.mileage_km,
        work_done: new.work_done,
        dealer_code: new.dealer_code,
        cost: new.cost,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    })
}

/// The service history of a vehicle of the tenant, latest visit first.
pub async fn list_for_vehicle(
    db: &Db,
    tenant_id: &str,
    vehicle_id: &str,
) -> Result<Vec<ServiceRecord>, StoreError> {
    let rows = sqlx::query(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM service_records WHERE tenant_id = $1 AND vehicle_id = $2 \
         ORDER BY service_date DESC, id DESC"
    )))
    .bind(tenant_id)
    .bind(vehicle_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(from_row).collect()
}

/// A stored service record: its id, its vehicle's id and the visit.
pub type StoredVisit = (String, String, ServiceVisit);

/// The tenant's service records with these external ids.
pub async fn by_external_ids(
    conn: &mut AnyConnection,
    tenant_id: &str,
    external_ids: &[&str],
) -> Result<Vec<StoredVisit>, StoreError> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Placeholders::for_conn(conn);
    let sql = format!(
        "SELECT {COLUMNS} FROM service_records WHERE tenant_id = {} AND external_id IN ({})",
        params.one(),
        params.list(external_ids.len())
    );
    let mut query = sqlx::query(AssertSqlSafe(sql)).bind(tenant_id);
    for external_id in external_ids {
        query = query.bind(*external_id);
    }
    let rows = query.fetch_all(conn).await?;
    rows.iter()
        .map(|row| {
            let record = from_row(row)?;
            Ok((
                record.id,
                record.vehicle_id,
                ServiceVisit {
                    external_id: record.external_id,
                    service_date: record.service_date,
                    mileage_km: record.mileage_km,
                    work_done: record.work_done,
                    dealer_code: record.dealer_code,
                    cost: record.cost,
                },
            ))
        })
        .collect()
}

/// Creates service records, given as `(vehicle id, visit)`, in one statement; returns each
/// one's id and creation time.
pub async fn insert_many(
    conn: &mut AnyConnection,
    tenant_id: &str,
    records: &[(&str, &ServiceVisit)],
) -> Result<Vec<(String, i64)>, StoreError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    const PER_ROW: usize = 11;
    let sql = format!(
        "INSERT INTO service_records (id, tenant_id, vehicle_id, external_id, service_date, \
         mileage_km, work_done, dealer_code, cost_cents, created_at, updated_at) VALUES {}",
        Placeholders::for_conn(conn).rows(records.len(), PER_ROW)
    );
    let now = now_ms();
    let ids: Vec<String> = records.iter().map(|_| new_id()).collect();
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for ((vehicle_id, record), id) in records.iter().zip(&ids) {
        query = query
            .bind(id.as_str())
            .bind(tenant_id)
            .bind(*vehicle_id)
            .bind(record.external_id.as_deref())
            .bind(record.service_date.as_str())
            .bind(record.mileage_km)
            .bind(record.work_done.as_str())
            .bind(record.dealer_code.as_str())
            .bind(record.cost.map(Amount::cents))
            .bind(now)
            .bind(now);
    }
    query.execute(conn).await?;
    Ok(ids.into_iter().map(|id| (id, now)).collect())
}

/// Rewrites the service record `id`.
pub async fn update(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    vehicle_id: &str,
    record: &ServiceVisit,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE service_records SET vehicle_id = $1, external_id = $2, service_date = $3, \
         mileage_km = $4, work_done = $5, dealer_code = $6, cost_cents = $7, updated_at = $8 \
         WHERE tenant_id = $9 AND id = $10",
    )
    .bind(vehicle_id)
    .bind(record.external_id.as_deref())
    .bind(record.service_date.as_str())
    .bind(record.mileage_km)
    .bind(record.work_done.as_str())
    .bind(record.dealer_code.as_str())
    .bind(record.cost.map(Amount::cents))
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}
