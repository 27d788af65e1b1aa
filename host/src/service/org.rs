//! The org tree: sites (OEM → region → dealer → station), teams and agents. A caller
//! limited to a site reads and changes only that site's subtree, and only a tenant-wide
//! caller changes service areas, which decide where tickets are dispatched.

use serde::Deserialize;

use super::access::Access;
use super::{Core, FieldErrors, ServiceError};
use crate::domain::hours::OpeningHours;
use crate::domain::org::{Agent, AgentRole, Site, SiteKind, Team};
use crate::domain::page::{Page, Paged};
use crate::store::org::{self as store, AgentFilter, NewAgent, NewSite, SiteFilter, TeamFilter};

const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

/// A site as created.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    pub kind: SiteKind,
    #[serde(default)]
    pub parent_id: Option<String>,
    /// The tenant's own short code, unique in the tenant (e.g. a dealer number).
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub name: String,
    /// Cities or postcodes the site serves; only a tenant-wide admin sets them.
    #[serde(default)]
    pub service_area: Vec<String>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    pub opening_hours: OpeningHours,
    /// IANA time zone of the opening hours; Asia/Shanghai when omitted.
    #[serde(default)]
    pub timezone: Option<String>,
}

/// Changes to a site; unset parts stay.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteChange {
    name: Option<String>,
    /// Only a tenant-wide admin changes it.
    service_area: Option<Vec<String>>,
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>)]
    opening_hours: Option<OpeningHours>,
    timezone: Option<String>,
}

/// A team as created.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    pub site_id: String,
    #[serde(default)]
    pub name: String,
    /// Lowercased; routing rules match tickets to them.
    #[serde(default)]
    pub skills: Vec<String>,
}

/// An agent as created.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    pub team_id: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: Option<String>,
    /// Read in the tenant's phone country when it has no country code.
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default = "default_role")]
    pub role: AgentRole,
}

fn default_role() -> AgentRole {
    AgentRole::Agent
}

fn check_timezone(timezone: &str, errors: &mut FieldErrors) {
    if jiff::tz::TimeZone::get(timezone).is_err() {
        errors.push(
            "timezone",
            format!("`{timezone}` is not an IANA time zone such as Asia/Shanghai"),
        );
    }
}

fn clean_list(items: Vec<String>) -> Vec<String> {
    let mut items: Vec<String> = items
        .into_iter()
        .map(|i| i.trim().to_owned())
        .filter(|i| !i.is_empty())
        .collect();
    items.dedup();
    items
}

/// Creates a site under a parent the caller sees, of the tier the kind hangs under.
pub async fn create_site(
    core: &Core,
    access: Access<'_>,
    body: SiteBody,
) -> Result<Site, ServiceError> {
    let mut errors = FieldErrors::default();
    let parent = match &body.parent_id {
        Some(parent_id) => Some(access.site(core, parent_id).await?),
        None => None,
    };
    match (body.kind.parent(), &parent) {
        (None, Some(_)) => errors.push(
            "parent_id",
            "the OEM is the root of the tree and has no parent",
        ),
        (None, None) if access.subtree.is_some() => {
            return Err(ServiceError::Forbidden(
                "a key scoped to a site cannot create the OEM root".to_owned(),
            ));
        }
        (None, None) if store::has_root(&core.db, access.tenant_id).await? => {
            errors.push("kind", "this tenant already has its OEM root site");
        }
        (Some(expected), Some(parent)) if parent.kind != expected => errors.push(
            "parent_id",
            format!(
                "a {} hangs under a {}, not a {}",
                body.kind.as_str(),
                expected.as_str(),
                parent.kind.as_str()
            ),
        ),
        (Some(expected), None) => errors.push(
            "parent_id",
            format!(
                "a {} needs its parent {}",
                body.kind.as_str(),
                expected.as_str()
            ),
        ),
        _ => {}
    }
    let code = body.code.trim().to_owned();
    if code.is_empty() || code.len() > 32 {
        errors.push(
            "code",
            "a site needs a code of 1-32 characters, e.g. its dealer number",
        );
    }
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.push("name", "must not be empty");
    }
    let timezone = body.timezone.unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
    check_timezone(&timezone, &mut errors);
    errors.check("site")?;
    let service_area = clean_list(body.service_area);
    if !service_area.is_empty() {
        // As for a change: a dealer's new station must not claim other dealers' areas.
        access.whole_tenant("giving a station a service area")?;
    }
    let new = NewSite {
        parent,
        kind: body.kind,
        code,
        name,
        service_area,
        opening_hours: body.opening_hours,
        timezone,
    };
    Ok(store::insert_site(&core.db, access.tenant_id, new).await?)
}

/// Changes a site the caller sees.
pub async fn update_site(
    core: &Core,
    access: Access<'_>,
    id: &str,
    change: SiteChange,
) -> Result<Site, ServiceError> {
    let mut site = access.site(core, id).await?;
    let mut errors = FieldErrors::default();
    if let Some(name) = change.name {
        match name.trim() {
            "" => errors.push("name", "must not be empty"),
            name => site.name = name.to_owned(),
        }
    }
    if let Some(timezone) = change.timezone {
        check_timezone(&timezone, &mut errors);
        site.timezone = timezone;
    }
    errors.check("site")?;
    if let Some(area) = change.service_area {
        // The dispatcher sends tickets by service area: a dealer widening its own would
        // pull in other dealers' customers.
        access.whole_tenant("changing a station's service area")?;
        site.service_area = clean_list(area);
    }
    if let Some(hours) = change.opening_hours {
        site.opening_hours = hours;
    }
    Ok(store::update_site(&core.db, access.tenant_id, site).await?)
}

/// Sites the caller sees, of `kind` and under `parent_id` when given, newest first.
pub async fn list_sites(
    core: &Core,
    access: Access<'_>,
    kind: Option<SiteKind>,
    parent_id: Option<String>,
    page: &Page,
) -> Result<Paged<Site>, ServiceError> {
    let filter = SiteFilter {
        kind,
        parent_id,
        within: access.within(),
        may_serve: None,
    };
    Ok(store::list_sites(&core.db, access.tenant_id, &filter, page).await?)
}

/// Creates a team at a site the caller sees.
pub async fn create_team(
    core: &Core,
    access: Access<'_>,
    body: TeamBody,
) -> Result<Team, ServiceError> {
    let site = access.site(core, &body.site_id).await?;
    let name = body.name.trim();
    let mut errors = FieldErrors::default();
    if name.is_empty() {
        errors.push("name", "must not be empty");
    }
    errors.check("team")?;
    let skills: Vec<String> = clean_list(body.skills)
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect();
    Ok(store::insert_team(&core.db, access.tenant_id, &site.id, name, &skills).await?)
}

/// A team the caller sees.
pub async fn team(core: &Core, access: Access<'_>, id: &str) -> Result<Team, ServiceError> {
    store::team(&core.db, access.tenant_id, id)
        .await?
        .filter(|(_, path)| access.sees(Some(path)))
        .map(|(team, _)| team)
        .ok_or(ServiceError::NotFound("team"))
}

/// Teams the caller sees, at `site_id` and with `skill` when given, newest first.
pub async fn list_teams(
    core: &Core,
    access: Access<'_>,
    site_id: Option<String>,
    skill: Option<String>,
    page: &Page,
) -> Result<Paged<Team>, ServiceError> {
    let filter = TeamFilter {
        site_id,
        skill: skill.map(|s| s.trim().to_lowercase()),
        within: access.within(),
    };
    Ok(store::list_teams(&core.db, access.tenant_id, &filter, page).await?)
}

/// Creates an agent in a team the caller sees.
pub async fn create_agent(
    core: &Core,
    access: Access<'_>,
    body: AgentBody,
) -> Result<Agent, ServiceError> {
    let team = team(core, access, &body.team_id).await?;
    let mut errors = FieldErrors::default();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.push("name", "must not be empty");
    }
    let country = super::settings::phone_country(core, access.tenant_id).await?;
    let phone = match body
        .phone
        .as_deref()
        .map(|raw| country.normalise(raw))
        .transpose()
    {
        Ok(phone) => phone,
        Err(message) => {
            errors.push("phone", message);
            None
        }
    };
    errors.check("agent")?;
    let new = NewAgent {
        team_id: team.id,
        name,
        email: body.email,
        phone,
        role: body.role,
    };
    Ok(store::insert_agent(&core.db, access.tenant_id, new).await?)
}

/// An agent the caller sees.
pub async fn agent(core: &Core, access: Access<'_>, id: &str) -> Result<Agent, ServiceError> {
    store::agent(&core.db, access.tenant_id, id)
        .await?
        .filter(|(_, path)| access.sees(Some(path)))
        .map(|(agent, _)| agent)
        .ok_or(ServiceError::NotFound("agent"))
}

/// Agents the caller sees, in `team_id` and of `role` when given, newest first.
pub async fn list_agents(
    core: &Core,
    access: Access<'_>,
    team_id: Option<String>,
    role: Option<AgentRole>,
    page: &Page,
) -> Result<Paged<Agent>, ServiceError> {
    let filter = AgentFilter {
        team_id,
        role,
        within: access.within(),
    };
    Ok(store::list_agents(&core.db, access.tenant_id, &filter, page).await?)
}
