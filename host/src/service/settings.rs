//! Per-tenant settings. They travel in each node's plugin snapshot (whether routing inputs
//! are recorded), so a change moves the tenant's plugin generation like a plugin change
//! does, and every node rebuilds its snapshot on its next ticket.

use super::{Core, ServiceError};
use crate::domain::phone::PhoneCountry;
use crate::domain::tenants::Settings;
use crate::store::{plugin_clock, settings};

/// The tenant's settings, defaults filled in.
pub async fn get(core: &Core, tenant_id: &str) -> Result<Settings, ServiceError> {
    Ok(settings::of(&core.db, tenant_id).await?)
}

/// The country of the tenant's phone numbers written without a country code, from this
/// node's snapshot of the tenant (a settings change moves it like a plugin change).
pub async fn phone_country(core: &Core, tenant_id: &str) -> Result<PhoneCountry, ServiceError> {
    Ok(super::registry::snapshot(core, tenant_id)
        .await?
        .phone_country)
}

/// Stores the tenant's settings whole and announces them to every node.
pub async fn put(core: &Core, tenant_id: &str, changed: &Settings) -> Result<(), ServiceError> {
    let mut tx = core.db.begin_write().await?;
    settings::put(&mut tx, tenant_id, changed).await?;
    let generation = plugin_clock::bump(&mut tx, tenant_id).await?;
    tx.commit().await?;
    core.reloads.announce(tenant_id, generation);
    Ok(())
}
