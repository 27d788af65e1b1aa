//! The org tree of a tenant (OEM → region → dealer → station), its teams and agents.

use serde::Serialize;

use super::hours::OpeningHours;

crate::domain::text_enum! {
    /// A tier of the org tree.
    #[derive(utoipa::ToSchema)]
    pub enum SiteKind spelled "snake_case" {
        Oem,
        Region,
        Dealer,
        Station,
    }
}

impl SiteKind {
    /// The tier a site of this kind hangs under; `None` for the root.
    pub fn parent(self) -> Option<SiteKind> {
        match self {
            SiteKind::Oem => None,
            SiteKind::Region => Some(SiteKind::Oem),
            SiteKind::Dealer => Some(SiteKind::Region),
            SiteKind::Station => Some(SiteKind::Dealer),
        }
    }
}

/// A site in the org tree.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Site {
    pub id: String,
    pub parent_id: Option<String>,
    pub kind: SiteKind,
    /// The tenant's own short code, unique in the tenant (e.g. a dealer number).
    pub code: String,
    pub name: String,
    /// Cities or postcodes the site serves.
    pub service_area: Vec<String>,
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    pub opening_hours: OpeningHours,
    /// IANA time zone of the opening hours.
    pub timezone: String,
    #[serde(skip)]
    pub path: String,
    pub created_at: String,
    pub updated_at: String,
}

impl Site {
    /// Whether the service area names `area` (a city or postcode), ignoring case and
    /// surrounding spaces.
    pub fn serves(&self, area: &str) -> bool {
        let wanted = area.trim().to_lowercase();
        self.service_area
            .iter()
            .any(|served| served.trim().to_lowercase() == wanted)
    }
}

/// A team at a site.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Team {
    pub id: String,
    pub site_id: String,
    pub name: String,
    /// What the team repairs or answers, e.g. `brakes`, `electrical`, `infotainment`, `ev`.
    pub skills: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
}

crate::domain::text_enum! {
    /// An agent's role in the service organisation.
    #[derive(utoipa::ToSchema)]
    pub enum AgentRole spelled "snake_case" {
        Agent,
        Supervisor,
        /// The team manager: SLA escalations go here.
        Manager,
    }
}

/// A person who works tickets.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Agent {
    pub id: String,
    pub team_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: AgentRole,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
}
