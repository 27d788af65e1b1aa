//! Each tenant's plugin policy: the installation quota and per-call budget the platform
//! admin sets, and the alert address the tenant admin sets. Changing it is a plugin
//! change, since the budget caps every running installation's limits.

use super::{Core, FieldError, ServiceError};
use crate::db::Tx;
use crate::domain::plugin::{PluginPolicy, RequestedLimits};
use crate::runtime::limits::Limits;
use crate::store::{plugin_clock, plugin_policies};

/// The tenant's policy with how much of the quota is used.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PolicyView {
    #[serde(flatten)]
    pub policy: PluginPolicy,
    pub installations: i64,
}

/// The tenant's policy.
pub async fn view(core: &Core, tenant_id: &str) -> Result<PolicyView, ServiceError> {
    let policy = plugin_policies::get(&core.db, tenant_id).await?;
    let mut conn = core.db.reader().acquire().await?;
    let installations = plugin_policies::installations(&mut conn, tenant_id).await?;
    Ok(PolicyView {
        policy,
        installations,
    })
}

fn invalid(field: &str, message: String) -> ServiceError {
    ServiceError::Unprocessable {
        message: format!("{field}: {message}"),
        errors: vec![FieldError {
            field: field.to_owned(),
            message,
        }],
    }
}

fn check_email(email: Option<&str>) -> Result<(), ServiceError> {
    match email {
        Some(email) if !email.contains('@') || email.trim() != email || email.len() > 254 => Err(
            invalid("alert_email", format!("`{email}` is not an email address")),
        ),
        _ => Ok(()),
    }
}

async fn save(core: &Core, tenant_id: &str, policy: &PluginPolicy) -> Result<(), ServiceError> {
    let mut tx = core.db.begin_write().await?;
    plugin_policies::put(&mut tx, tenant_id, policy).await?;
    let generation = plugin_clock::bump(&mut tx, tenant_id).await?;
    tx.commit().await?;
    core.reloads.announce(tenant_id, generation);
    Ok(())
}

/// Replaces the whole policy (platform admin). The budget must stay within the platform
/// maxima.
pub async fn replace(
    core: &Core,
    tenant_id: &str,
    policy: PluginPolicy,
) -> Result<PolicyView, ServiceError> {
    if let Some(max) = policy.max_installations
        && max < 0
    {
        return Err(invalid(
            "max_installations",
            format!("{max} must be 0 or more"),
        ));
    }
    core.runtime
        .platform
        .check(&policy.budget)
        .map_err(|message| invalid("budget", message))?;
    check_email(policy.alert_email.as_deref())?;
    save(core, tenant_id, &policy).await?;
    view(core, tenant_id).await
}

/// Sets where plugin alerts go (tenant admin); `None` clears it.
pub async fn set_alert_email(
    core: &Core,
    tenant_id: &str,
    email: Option<String>,
) -> Result<PolicyView, ServiceError> {
    check_email(email.as_deref())?;
    let mut policy = plugin_policies::get(&core.db, tenant_id).await?;
    policy.alert_email = email;
    save(core, tenant_id, &policy).await?;
    view(core, tenant_id).await
}

/// Refuses limits over the tenant's per-call budget, naming each part that is over.
pub fn check_budget(
    label: &str,
    limits: &Limits,
    budget: &RequestedLimits,
) -> Result<(), ServiceError> {
    let over = limits.over_budget(budget);
    if over.is_empty() {
        return Ok(());
    }
    Err(invalid(
        "limits",
        format!(
            "{label} would run with {}; lower the installation's limits or ask the platform admin to raise the budget",
            over.join(", ")
        ),
    ))
}

/// Refuses a new installation past the tenant's quota. Call it inside the installing
/// transaction after taking the plugin clock, which serializes installs.
pub async fn check_quota(
    tx: &mut Tx,
    tenant_id: &str,
    policy: &PluginPolicy,
) -> Result<(), ServiceError> {
    let Some(max) = policy.max_installations else {
        return Ok(());
    };
    let count = plugin_policies::installations(tx, tenant_id).await?;
    if count >= max {
        return Err(ServiceError::Conflict(format!(
            "the tenant has {count} installations and its quota is {max}; uninstall one or ask the platform admin to raise the quota"
        )));
    }
    Ok(())
}
