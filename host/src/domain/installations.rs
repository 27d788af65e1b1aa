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
    /// Where it applies: the whole tenant or one site's subtree.
    pub scope: Scope,
    /// Set by the OEM on a tenant-wide installation: no dealer may opt out of it, and it
    /// runs before every dealer's installation, so its decisions win.
    pub mandatory: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// Where an installation applies: the whole tenant, or the subtree of one site (a region,
/// a dealer or a station), so that it runs only for records at sites inside it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// The site whose subtree it applies to; `null` (or omitted) for the whole tenant.
    #[serde(default)]
    pub site_id: Option<String>,
    /// The site's path, `""` for the whole tenant: every site path inside the scope
    /// starts with it.
    #[serde(skip)]
    pub path: String,
}

impl Scope {
    /// The whole tenant.
    pub fn tenant() -> Scope {
        Scope::default()
    }

    /// The subtree of the site at `path`.
    pub fn site(site_id: &str, path: &str) -> Scope {
        Scope {
            site_id: Some(site_id.to_owned()),
            path: path.to_owned(),
        }
    }

    pub fn is_tenant(&self) -> bool {
        self.site_id.is_none()
    }

    /// Whether a record at the site with `path` (or at no site) lies inside: a record at
    /// no site lies only in the whole tenant.
    pub fn covers(&self, path: Option<&str>) -> bool {
        self.path.is_empty() || path.is_some_and(|path| path.starts_with(&self.path))
    }

    /// How deep in the org tree it sits: 0 for the whole tenant, then one more per level
    /// (region, dealer, station). Installations run shallowest first.
    pub fn depth(&self) -> usize {
        self.path.matches('/').count()
    }

    /// As the ticket's timeline shows it: `{"site_id": null}` for the whole tenant.
    pub fn label(&self, mandatory: bool) -> serde_json::Value {
        serde_json::json!({ "site_id": self.site_id, "mandatory": mandatory })
    }
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
    /// Only installations of exactly this scope.
    pub scope: Option<ScopeFilter>,
    /// For a dealer's caller, the path of its subtree: only installations that apply
    /// inside it (tenant-wide ones, those of sites above it, and its own).
    pub applying_within: Option<String>,
}

/// The scope a list asks for.
#[derive(Clone, Debug)]
pub enum ScopeFilter {
    Tenant,
    Site(String),
}

/// What the OEM lets its dealers install in their own subtrees: one plugin, the versions
/// allowed, and the most a dealer may grant and ask for.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct CatalogueEntry {
    pub plugin: String,
    /// The versions dealers may run; every uploaded version when empty.
    pub versions: Vec<String>,
    /// The capabilities a dealer may grant, at most.
    pub capabilities: Vec<Capability>,
    /// The limits a dealer's installation may run with, at most; the tenant's budget
    /// where a part is unset.
    pub limits: RequestedLimits,
    pub updated_at: String,
}

impl CatalogueEntry {
    /// Whether dealers may run `version`.
    pub fn allows_version(&self, version: &str) -> bool {
        self.versions.is_empty() || self.versions.iter().any(|allowed| allowed == version)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEALER: &str = "/oem/ec/sh-001/";

    #[test]
    fn a_tenant_wide_scope_covers_every_record_even_at_no_site() {
        let tenant = Scope::tenant();
        assert!(tenant.covers(Some("/oem/ec/sh-001/s1/")));
        assert!(tenant.covers(None));
        assert_eq!(tenant.depth(), 0);
    }

    #[test]
    fn a_site_scope_covers_its_subtree_only() {
        let dealer = Scope::site("sh-001", DEALER);
        assert!(dealer.covers(Some(DEALER)));
        assert!(dealer.covers(Some("/oem/ec/sh-001/s1/")));
        assert!(!dealer.covers(Some("/oem/ec/hz-002/s1/")), "another dealer");
        assert!(!dealer.covers(Some("/oem/ec/")), "the region above it");
        assert!(!dealer.covers(None), "a record at no site");
    }

    #[test]
    fn deeper_scopes_run_later() {
        let depths: Vec<usize> = [
            Scope::tenant(),
            Scope::site("ec", "/oem/ec/"),
            Scope::site("sh-001", DEALER),
            Scope::site("s1", "/oem/ec/sh-001/s1/"),
        ]
        .iter()
        .map(Scope::depth)
        .collect();
        assert!(depths.is_sorted_by(|a, b| a < b), "{depths:?}");
    }

    #[test]
    fn an_empty_version_list_allows_every_version() {
        let mut entry = CatalogueEntry {
            plugin: "vip-routing".into(),
            versions: vec![],
            capabilities: vec![],
            limits: RequestedLimits::default(),
            updated_at: String::new(),
        };
        assert!(entry.allows_version("9.9.9"));
        entry.versions = vec!["0.1.0".into()];
        assert!(entry.allows_version("0.1.0"));
        assert!(!entry.allows_version("0.2.0"));
    }
}
