//! The plugin platform's vocabulary: the WIT contract versions, the four worlds, the host
//! capabilities a plugin can ask for, and the limits it may request. Rows, handlers and the
//! wasm runtime all speak it, so it lives here rather than in the runtime.

use serde::{Deserialize, Serialize};

/// A released version of the `axle:plugin` WIT contract. The host serves every one of
/// them: a component built against an older version keeps running unchanged.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    strum::IntoStaticStr,
    strum::EnumString,
    strum::VariantArray,
)]
pub enum WitVersion {
    /// Frozen: `wit/deps/plugin-0.1.0/`.
    #[serde(rename = "0.1.0")]
    #[strum(serialize = "0.1.0")]
    V0_1_0,
    /// The current contract: `wit/`. Adds the `directory` capability.
    #[serde(rename = "0.2.0")]
    #[strum(serialize = "0.2.0")]
    V0_2_0,
}

impl WitVersion {
    /// The newest version, the one the SDK and `axle plugin new` target.
    pub const LATEST: WitVersion = WitVersion::V0_2_0;

    /// Every version this host serves, oldest first.
    pub const SERVED: [WitVersion; 2] = [WitVersion::V0_1_0, WitVersion::V0_2_0];

    /// The version a capability first appeared in.
    pub fn introducing(capability: Capability) -> WitVersion {
        match capability {
            Capability::Directory => WitVersion::V0_2_0,
            _ => WitVersion::V0_1_0,
        }
    }
}

crate::domain::text_enum!(WitVersion);

crate::domain::text_enum! {
    /// The four plugin worlds.
    #[derive(Hash, utoipa::ToSchema)]
    pub enum World spelled "kebab-case" {
        RoutingRule,
        WorkflowStep,
        FieldProvider,
        ReportWidget,
    }
}

crate::domain::text_enum! {
    /// A host capability a plugin can import.
    #[derive(PartialOrd, Ord, Hash, utoipa::ToSchema)]
    pub enum Capability spelled "snake_case" {
        Log,
        Config,
        Kv,
        Records,
        Notify,
        Directory,
    }
}

impl Capability {
    /// Whether every installation has it without a grant.
    pub fn always_granted(self) -> bool {
        matches!(self, Capability::Log | Capability::Config)
    }
}

/// Limits a manifest or an installation asks for; unset parts fall back.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestedLimits {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory_mib: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_kib: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_kib: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_kib: Option<u64>,
}

/// An uploaded plugin version.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct PluginVersion {
    pub id: String,
    pub name: String,
    pub version: String,
    pub world: World,
    /// The `axle:plugin` contract version the component targets.
    pub wit_version: String,
    pub description: String,
    /// Capabilities the manifest requests.
    pub capabilities: Vec<Capability>,
    pub config_schema: Option<serde_json::Value>,
    pub limits: RequestedLimits,
    pub sha256: String,
    pub size_bytes: i64,
    pub created_at: String,
}

impl PluginVersion {
    /// `name@version`.
    pub fn label(&self) -> String {
        format!("{}@{}", self.name, self.version)
    }
}

/// Installations a tenant may have until the platform admin sets its quota.
pub const DEFAULT_MAX_INSTALLATIONS: i64 = 50;

/// What one call of a tenant's plugin may use until the platform admin sets its budget:
/// a plugin that runs for seconds on every ticket would slow the hotline, and one that
/// holds the platform's maximum memory on every call would crowd out other tenants.
pub const DEFAULT_BUDGET: RequestedLimits = RequestedLimits {
    deadline_ms: Some(1_000),
    memory_mib: Some(128),
    input_kib: None,
    output_kib: None,
    log_kib: None,
};

/// A tenant's plugin policy; the defaults ([`DEFAULT_MAX_INSTALLATIONS`],
/// [`DEFAULT_BUDGET`], no alert address) until the platform admin sets one, and for the
/// parts a set policy leaves out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PluginPolicy {
    /// How many installations the tenant may have: 50 unless set; `null` for no quota.
    pub max_installations: Option<i64>,
    /// Caps on each call's limits, within the platform maxima: a 1,000 ms deadline and
    /// 128 MiB of memory unless set.
    pub budget: RequestedLimits,
    /// Where suspensions and other plugin alerts are emailed.
    pub alert_email: Option<String>,
}

impl Default for PluginPolicy {
    fn default() -> Self {
        PluginPolicy {
            max_installations: Some(DEFAULT_MAX_INSTALLATIONS),
            budget: DEFAULT_BUDGET,
            alert_email: None,
        }
    }
}

crate::domain::text_enum! {
    /// Where a comparison came from.
    #[derive(utoipa::ToSchema)]
    pub enum Source spelled "snake_case" {
        /// Live traffic, the candidate in shadow.
        Live,
        /// A replay of recorded inputs.
        Replay,
    }
}

/// Which plugin versions a list covers.
#[derive(Clone, Debug, Default)]
pub struct PluginFilter {
    pub name: Option<String>,
    pub world: Option<World>,
}
