//! Tenants and their API keys. Keys are random 256-bit secrets stored only as sha256.

use rand::RngCore;
use sqlx::Row;

use super::StoreError;
use crate::db::Db;
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::records::Role;
use crate::domain::tenants::{ApiKey, KeyOwner, Tenant};

/// sha256 of an API key secret, as stored.
pub fn hash_key(secret: &str) -> String {
    crate::domain::ids::sha256_hex(secret.as_bytes())
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("axle_{}", hex::encode(bytes))
}

/// Creates a tenant.
pub async fn create(db: &Db, name: &str, slug: &str) -> Result<Tenant, StoreError> {
    let tenant = Tenant {
        id: new_id(),
        name: name.to_owned(),
        slug: slug.to_owned(),
        created_at: rfc3339(now_ms()),
    };
    sqlx::query("INSERT INTO tenants (id, name, slug, created_at) VALUES ($1, $2, $3, $4)")
        .bind(&tenant.id)
        .bind(&tenant.name)
        .bind(&tenant.slug)
        .bind(now_ms())
        .execute(db.writer())
        .await
        .map_err(|err| {
            StoreError::conflict_on_unique(err, || {
                format!("a tenant with slug `{slug}` already exists")
            })
        })?;
    Ok(tenant)
}

/// Finds a tenant by slug.
pub async fn by_slug(db: &Db, slug: &str) -> Result<Option<Tenant>, StoreError> {
    let row = sqlx::query("SELECT id, name, slug, created_at FROM tenants WHERE slug = $1")
        .bind(slug)
        .fetch_optional(db.reader())
        .await?;
    row.map(|row| {
        Ok(Tenant {
            id: row.try_get("id")?,
            name: row.try_get("name")?,
            slug: row.try_get("slug")?,
            created_at: rfc3339(row.try_get("created_at")?),
        })
    })
    .transpose()
}

/// Creates an API key for the tenant and returns it with its secret.
pub async fn create_key(
    db: &Db,
    tenant_id: &str,
    name: &str,
    role: Role,
    site_id: Option<&str>,
) -> Result<(ApiKey, String), StoreError> {
    let secret = new_secret();
    let now = now_ms();
    let key = ApiKey {
        id: new_id(),
        name: name.to_owned(),
        role,
        site_id: site_id.map(str::to_owned),
        created_at: rfc3339(now),
    };
    sqlx::query(
        "INSERT INTO api_keys (id, tenant_id, name, role, key_hash, created_at, site_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&key.id)
    .bind(tenant_id)
    .bind(name)
    .bind(role.as_str())
    .bind(hash_key(&secret))
    .bind(now)
    .bind(site_id)
    .execute(db.writer())
    .await?;
    Ok((key, secret))
}

/// The owner of a live key with this secret.
pub async fn find_key(db: &Db, secret: &str) -> Result<Option<KeyOwner>, StoreError> {
    let row = sqlx::query(
        "SELECT id, tenant_id, role, site_id FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(hash_key(secret))
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let role: String = row.try_get("role")?;
    Ok(Some(KeyOwner {
        tenant_id: row.try_get("tenant_id")?,
        key_id: row.try_get("id")?,
        site_id: row.try_get("site_id")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("api key role `{role}`")))?,
    }))
}

fn key_from_row(row: &sqlx::any::AnyRow) -> Result<ApiKey, StoreError> {
    let role: String = row.try_get("role")?;
    Ok(ApiKey {
        id: row.try_get("id")?,
        name: row.try_get("name")?,
        site_id: row.try_get("site_id")?,
        role: Role::parse(&role)
            .ok_or_else(|| StoreError::Corrupt(format!("api key role `{role}`")))?,
        created_at: rfc3339(row.try_get("created_at")?),
    })
}

/// The tenant's keys, newest first.
pub async fn list_keys(db: &Db, tenant_id: &str) -> Result<Vec<ApiKey>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, role, site_id, created_at FROM api_keys WHERE tenant_id = $1 AND revoked_at IS NULL ORDER BY id DESC",
    )
    .bind(tenant_id)
    .fetch_all(db.reader())
    .await?;
    rows.iter().map(key_from_row).collect()
}

/// The tenant's live key `id`.
pub async fn key(db: &Db, tenant_id: &str, id: &str) -> Result<Option<ApiKey>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, role, site_id, created_at FROM api_keys WHERE tenant_id = $1 AND id = $2 AND revoked_at IS NULL",
    )
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.as_ref().map(key_from_row).transpose()
}

/// Revokes the tenant's live key `id`: its secret is refused from the next request on.
/// False when the tenant has no such live key.
pub async fn revoke_key(db: &Db, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 WHERE tenant_id = $2 AND id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .execute(db.writer())
    .await?
    .rows_affected();
    Ok(revoked > 0)
}
