//! Each tenant's webhook signing secret, created on first use. It is kept in the clear
//! because signing needs it; only the tenant's admins can read it back.

use rand::RngCore;
use serde::Serialize;
use sqlx::Row;

use super::StoreError;
use crate::db::Db;
use crate::domain::ids::{now_ms, rfc3339};

/// A tenant's webhook signing secret.
#[derive(Clone, Debug, Serialize)]
pub struct WebhookSecret {
    pub secret: String,
    pub created_at: String,
}

fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("whsec_{}", hex::encode(bytes))
}

/// The tenant's secret, created now if the tenant has none. Concurrent first uses agree
/// on one secret: the losing insert does nothing and both read the winner's.
pub async fn get_or_create(db: &Db, tenant_id: &str) -> Result<WebhookSecret, StoreError> {
    if let Some(secret) = get(db, tenant_id).await? {
        return Ok(secret);
    }
    sqlx::query(
        "INSERT INTO webhook_secrets (tenant_id, secret, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (tenant_id) DO NOTHING",
    )
    .bind(tenant_id)
    .bind(new_secret())
    .bind(now_ms())
    .execute(db.writer())
    .await?;
    get(db, tenant_id)
        .await?
        .ok_or(StoreError::NotFound("webhook secret"))
}

async fn get(db: &Db, tenant_id: &str) -> Result<Option<WebhookSecret>, StoreError> {
    let row = sqlx::query("SELECT secret, created_at FROM webhook_secrets WHERE tenant_id = $1")
        .bind(tenant_id)
        .fetch_optional(db.reader())
        .await?;
    row.map(|row| {
        Ok(WebhookSecret {
            secret: row.try_get("secret")?,
            created_at: rfc3339(row.try_get("created_at")?),
        })
    })
    .transpose()
}
