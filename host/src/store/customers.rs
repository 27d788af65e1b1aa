//! Customers.

use sqlx::{AnyConnection, AssertSqlSafe, Row};

use super::{Placeholders, StoreError, fields_json, json_column};
use crate::db::{Arg, Db};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Customer, Fields};

/// A customer to create.
#[derive(Clone, Debug, Default)]
pub struct NewCustomer {
    pub external_id: Option<String>,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub vip: bool,
    pub fields: Fields,
}

/// List filters.
#[derive(Clone, Debug, Default)]
pub struct CustomerFilter {
    pub external_id: Option<String>,
    pub phone: Option<String>,
    pub vip: Option<bool>,
    pub region: Option<String>,
    /// Substring of the name.
    pub name: Option<String>,
    /// Owns a vehicle with this normalised plate.
    pub plate: Option<String>,
}

struct CustomerRow {
    id: String,
    external_id: Option<String>,
    name: String,
    phone: Option<String>,
    email: Option<String>,
    region: Option<String>,
    city: Option<String>,
    vip: i64,
    fields: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(CustomerRow => Customer, from "customers" {
    id,
    external_id,
    name,
    phone,
    email,
    region,
    city,
    vip,
    fields,
    created_at,
    updated_at
});

impl CustomerRow {
    fn into_domain(self) -> Result<Customer, StoreError> {
        Ok(Customer {
            fields: json_column("customers.fields", &self.fields)?,
            id: self.id,
            external_id: self.external_id,
            name: self.name,
            phone: self.phone,
            email: self.email,
            region: self.region,
            city: self.city,
            vip: self.vip != 0,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

/// Creates a customer; an external id already on file in the tenant is a conflict.
pub async fn insert(db: &Db, tenant_id: &str, new: NewCustomer) -> Result<Customer, StoreError> {
    let customer = new.into_customer();
    let mut conn = db.writer().acquire().await?;
    insert_in(&mut conn, tenant_id, &customer).await?;
    Ok(customer)
}

impl NewCustomer {
    /// The customer this will be, with a fresh id, before it is stored.
    pub fn into_customer(self) -> Customer {
        let now = rfc3339(now_ms());
        Customer {
            id: new_id(),
            external_id: self.external_id,
            name: self.name,
            phone: self.phone,
            email: self.email,
            region: self.region,
            city: self.city,
            vip: self.vip,
            fields: self.fields,
            created_at: now.clone(),
            updated_at: now,
        }
    }
}

/// Stores `customer` on `conn` (a pooled connection or a transaction).
pub async fn insert_in(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    customer: &Customer,
) -> Result<(), StoreError> {
    // The record carries its creation time already; store exactly that, so what the
    // caller returns and what a later read returns agree to the millisecond.
    let now = customer
        .created_at
        .parse::<jiff::Timestamp>()
        .map(|t| t.as_millisecond())
        .unwrap_or_else(|_| now_ms());
    sqlx::query(
        "INSERT INTO customers (id, tenant_id, name, phone, email, region, city, vip, fields, created_at, updated_at, external_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10, $11)",
    )
    .bind(&customer.id)
    .bind(tenant_id)
    .bind(&customer.name)
    .bind(&customer.phone)
    .bind(&customer.email)
    .bind(&customer.region)
    .bind(&customer.city)
    .bind(i64::from(customer.vip))
    .bind(serde_json::to_string(&customer.fields).unwrap_or_else(|_| "{}".to_owned()))
    .bind(now)
    .bind(&customer.external_id)
    .execute(conn)
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || {
            format!(
                "a customer with external id {} already exists",
                customer.external_id.as_deref().unwrap_or_default()
            )
        })
    })?;
    Ok(())
}

/// Writes every mutable column of `customer`; another tenant's id is not found.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    mut customer: Customer,
) -> Result<Customer, StoreError> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE customers SET name = $1, phone = $2, email = $3, region = $4, city = $5, vip = $6, \
         fields = $7, updated_at = $8 WHERE tenant_id = $9 AND id = $10",
    )
    .bind(&customer.name)
    .bind(&customer.phone)
    .bind(&customer.email)
    .bind(&customer.region)
    .bind(&customer.city)
    .bind(i64::from(customer.vip))
    .bind(serde_json::to_string(&customer.fields).unwrap_or_else(|_| "{}".to_owned()))
    .bind(now)
    .bind(tenant_id)
    .bind(&customer.id)
    .execute(db.writer())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound("customer"));
    }
    customer.updated_at = rfc3339(now);
    Ok(customer)
}

/// A customer of the tenant.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Customer>, StoreError> {
    super::by_id::<CustomerRow>(db, tenant_id, id).await
}

/// The tenant's customers, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &CustomerFilter,
    page: &Page,
) -> Result<Paged<Customer>, StoreError> {
    let mut sql = super::tenant_rows::<CustomerRow>(tenant_id);
    sql.and_eq("external_id", filter.external_id.clone().map(Arg::Text))
        .and_eq("phone", filter.phone.clone().map(Arg::Text))
        .and_eq("vip", filter.vip.map(|vip| Arg::Int(i64::from(vip))))
        .and_eq("region", filter.region.clone().map(Arg::Text));
    if let Some(name) = &filter.name {
        // LOWER on both sides: SQLite's LIKE ignores ASCII case, PostgreSQL's does not.
        sql.push(" AND LOWER(name) LIKE LOWER(")
            .bind(Arg::Text(format!("%{}%", name.replace(['%', '_'], ""))))
            .push(")");
    }
    if let Some(plate) = &filter.plate {
        sql.push(" AND id IN (SELECT customer_id FROM vehicles WHERE tenant_id = ")
            .bind(Arg::Text(tenant_id.to_owned()))
            .push(" AND plate = ")
            .bind(Arg::Text(plate.clone()))
            .push(")");
    }
    super::select_page::<CustomerRow>(db, sql, page).await
}

/// The columns of a customer that a CSV import writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImportedCustomer {
    pub external_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub region: Option<String>,
    pub city: Option<String>,
    pub vip: bool,
    /// All of the record's custom fields.
    pub fields: Fields,
}

/// The tenant's customers with these external ids, as `(id, imported columns)`.
pub async fn by_external_ids(
    conn: &mut AnyConnection,
    tenant_id: &str,
    external_ids: &[&str],
) -> Result<Vec<(String, ImportedCustomer)>, StoreError> {
    if external_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut params = Placeholders::for_conn(conn);
    let sql = format!(
        "SELECT id, external_id, name, phone, email, region, city, vip, fields FROM customers \
         WHERE tenant_id = {} AND external_id IN ({})",
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
            Ok((
                row.try_get("id")?,
                ImportedCustomer {
                    external_id: row.try_get("external_id")?,
                    name: row.try_get("name")?,
                    phone: row.try_get("phone")?,
                    email: row.try_get("email")?,
                    region: row.try_get("region")?,
                    city: row.try_get("city")?,
                    vip: row.try_get::<i64, _>("vip")? != 0,
                    fields: json_column("customers.fields", &row.try_get::<String, _>("fields")?)?,
                },
            ))
        })
        .collect()
}

/// The tenant's customer ids for these external ids, as `(external_id, id)`.
pub async fn ids_by_external_ids(
    conn: &mut AnyConnection,
    tenant_id: &str,
    external_ids: &[&str],
) -> Result<Vec<(String, String)>, StoreError> {
    super::ids_by(conn, "customers", "external_id", tenant_id, external_ids).await
}

/// Creates imported customers in one statement.
pub async fn insert_imported(
    conn: &mut AnyConnection,
    tenant_id: &str,
    customers: &[&ImportedCustomer],
) -> Result<(), StoreError> {
    if customers.is_empty() {
        return Ok(());
    }
    const PER_ROW: usize = 12;
    let sql = format!(
        "INSERT INTO customers (id, tenant_id, external_id, name, phone, email, region, city, vip, \
         fields, created_at, updated_at) VALUES {}",
        Placeholders::for_conn(conn).rows(customers.len(), PER_ROW)
    );
    let now = now_ms();
    let mut query = sqlx::query(AssertSqlSafe(sql));
    for customer in customers {
        query = query
            .bind(new_id())
            .bind(tenant_id)
            .bind(customer.external_id.as_str())
            .bind(customer.name.as_str())
            .bind(customer.phone.as_deref())
            .bind(customer.email.as_deref())
            .bind(customer.region.as_deref())
            .bind(customer.city.as_deref())
            .bind(i64::from(customer.vip))
            .bind(fields_json(&customer.fields))
            .bind(now)
            .bind(now);
    }
    query.execute(conn).await?;
    Ok(())
}

/// Writes the imported columns of the customer `id`.
pub async fn update_imported(
    conn: &mut AnyConnection,
    tenant_id: &str,
    id: &str,
    customer: &ImportedCustomer,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE customers SET external_id = $1, name = $2, phone = $3, email = $4, region = $5, \
         city = $6, vip = $7, updated_at = $8, fields = $9 WHERE tenant_id = $10 AND id = $11",
    )
    .bind(customer.external_id.as_str())
    .bind(customer.name.as_str())
    .bind(customer.phone.as_deref())
    .bind(customer.email.as_deref())
    .bind(customer.region.as_deref())
    .bind(customer.city.as_deref())
    .bind(i64::from(customer.vip))
    .bind(now_ms())
    .bind(fields_json(&customer.fields))
    .bind(tenant_id)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Where people's phone numbers are kept: customers and agents.
pub const PHONE_TABLES: [&str; 2] = ["customers", "agents"];

/// `(tenant_id, id, phone)` of up to `limit` rows of `table` (one of [`PHONE_TABLES`])
/// whose phone has no country code (stored before numbers were kept in E.164), after `id`.
/// The condition is the one of the tables' partial indexes (migration 0021), so this reads
/// only such rows.
pub async fn national_phones(
    db: &Db,
    table: &'static str,
    after: &str,
    limit: i64,
) -> Result<Vec<(String, String, String)>, StoreError> {
    debug_assert!(PHONE_TABLES.contains(&table));
    let sql = format!(
        "SELECT tenant_id, id, phone FROM {table} \
         WHERE phone IS NOT NULL AND phone NOT LIKE '+%' AND id > $1 ORDER BY id LIMIT $2"
    );
    Ok(sqlx::query_as(AssertSqlSafe(sql))
        .bind(after)
        .bind(limit)
        .fetch_all(db.reader())
        .await?)
}

/// Sets the phone of row `id` of `table` (one of [`PHONE_TABLES`]).
pub async fn set_phone(
    db: &Db,
    table: &'static str,
    tenant_id: &str,
    id: &str,
    phone: &str,
) -> Result<(), StoreError> {
    debug_assert!(PHONE_TABLES.contains(&table));
    let sql = format!("UPDATE {table} SET phone = $1 WHERE tenant_id = $2 AND id = $3");
    sqlx::query(AssertSqlSafe(sql))
        .bind(phone)
        .bind(tenant_id)
        .bind(id)
        .execute(db.writer())
        .await?;
    Ok(())
}
