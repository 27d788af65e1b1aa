//! A plugin installed in a tenant: its status, grants, pending upgrade and history.

use serde::Serialize;

use super::plugin::{Capability, RequestedLimits, World};

crate::domain::text_enum! {
    /// Whether an installation runs.
    #[derive(utoipa::ToSchema)]
    pub enum InstallationStatus spelled "snake_case" {
        Enabled,
        Disabled,
        /// Stopped by the circuit breaker; an admin re-enables it.
        Suspended,
    }
}

/// An installation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Installation {
    pub id: String,
    pub plugin_version_id: String,
    pub plugin: String,
    pub version: String,
    pub world: World,
    pub config: serde_json::Value,
    /// Capabilities granted by the tenant admin.
    pub capabilities: Vec<Capability>,
    /// Per-installation limit overrides.
    pub limits: RequestedLimits,
    pub status: InstallationStatus,
    pub status_reason: Option<String>,
    pub consecutive_failures: i64,
    /// Installations of one world run in ascending order.
    pub run_order: i64,
    /// An upgrade waiting for the tenant admin to approve the capabilities it adds.
    pub pending_upgrade: Option<PendingUpgrade>,
    /// The candidate version running in shadow beside this one, if any.
    pub shadow: Option<ShadowCandidate>,
    pub created_at: String,
    pub updated_at: String,
}

/// An upgrade that asks for capabilities the running version did not.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct PendingUpgrade {
    pub plugin_version_id: String,
    pub version: String,
    /// What the new version requests and the running one did not: the difference the
    /// admin approves.
    pub added_capabilities: Vec<Capability>,
    /// What the running version requested and the new one no longer does.
    pub removed_capabilities: Vec<Capability>,
    /// The config the upgrade runs with once approved.
    pub config: serde_json::Value,
}

/// A candidate version that sees the installation's live inputs; its outputs are
/// recorded for comparison and never applied.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ShadowCandidate {
    pub plugin_version_id: String,
    pub version: String,
    /// The config the candidate runs with.
    pub config: serde_json::Value,
    pub started_at: String,
}

impl Installation {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.plugin, self.version)
    }
}

/// One version an installation ran.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    /// `install`, `upgrade` or `rollback`.
    pub action: String,
    pub from_version: Option<String>,
    pub to_version: String,
    pub plugin_version_id: String,
    #[serde(skip)]
    pub capabilities: String,
    #[serde(skip)]
    pub created_ms: i64,
}

/// Which installations a list covers.
#[derive(Clone, Debug, Default)]
pub struct InstallationFilter {
    pub plugin: Option<String>,
    pub world: Option<World>,
    pub status: Option<InstallationStatus>,
}
