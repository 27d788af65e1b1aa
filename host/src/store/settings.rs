//! Per-tenant settings. A tenant without a row has the defaults.

use super::StoreError;
use crate::db::Db;
use crate::domain::tenants::{DEFAULT_INPUT_RETENTION_DAYS, Settings};

/// The tenant's settings, defaults filled in.
pub async fn get(conn: &mut sqlx::AnyConnection, tenant_id: &str) -> Result<Settings, StoreError> {
    let row: Option<(i64, String)> = sqlx::query_as(
        "SELECT input_retention_days, phone_country FROM tenant_settings WHERE tenant_id = $1",
    )
    .bind(tenant_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.map_or_else(
        Settings::default,
        |(input_retention_days, phone_country)| Settings {
            input_retention_days,
            phone_country,
        },
    ))
}

/// The tenant's settings, read from the pool.
pub async fn of(db: &Db, tenant_id: &str) -> Result<Settings, StoreError> {
    let mut conn = db.reader().acquire().await?;
    get(&mut conn, tenant_id).await
}

/// Stores the tenant's settings whole.
pub async fn put(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    settings: &Settings,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tenant_settings (tenant_id, input_retention_days, phone_country) \
         VALUES ($1, $2, $3) ON CONFLICT (tenant_id) DO UPDATE SET \
         input_retention_days = excluded.input_retention_days, \
         phone_country = excluded.phone_country",
    )
    .bind(tenant_id)
    .bind(settings.input_retention_days)
    .bind(&settings.phone_country)
    .execute(conn)
    .await?;
    Ok(())
}

/// Every tenant's input retention in days, defaults filled in.
pub async fn retention_by_tenant(db: &Db) -> Result<Vec<(String, i64)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT t.id, COALESCE(s.input_retention_days, $1) FROM tenants t \
         LEFT JOIN tenant_settings s ON s.tenant_id = t.id ORDER BY t.id",
    )
    .bind(DEFAULT_INPUT_RETENTION_DAYS)
    .fetch_all(db.reader())
    .await?)
}
