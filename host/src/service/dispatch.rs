//! The default dispatcher, for tickets no routing rule placed: the service station (else
//! dealer) whose service area covers the customer's city, then that site's team with the
//! skill the category needs and the fewest open tickets.

use serde::Serialize;
use sqlx::Row;

use super::{Core, ServiceError};
use crate::domain::org::{Site, SiteKind, Team};
use crate::domain::page::Page;
use crate::domain::records::{Customer, Ticket};
use crate::store::org::{self, SiteFilter, TeamFilter};

/// Where the dispatcher put a ticket, and why, for the timeline.
#[derive(Clone, Debug, Serialize)]
pub struct Dispatch {
    pub site_id: Option<String>,
    pub team: Option<String>,
    pub reason: String,
}

/// The skill a ticket category calls for.
pub fn skill_for(category: &str) -> &str {
    match category {
        "ev-charging" | "ev" | "battery" => "ev",
        "maintenance" | "maintenance-booking" => "maintenance",
        other => other,
    }
}

/// The largest tree the dispatcher scans for a covering site.
const MAX_SITES: i64 = 200;

async fn covering_site(
    core: &Core,
    tenant_id: &str,
    city: &str,
) -> Result<Option<Site>, ServiceError> {
    let mut best: Option<Site> = None;
    for kind in [SiteKind::Station, SiteKind::Dealer] {
        let filter = SiteFilter {
            kind: Some(kind),
            may_serve: Some(city.to_owned()),
            ..Default::default()
        };
        let page = Page {
            limit: MAX_SITES,
            cursor: None,
        };
        let sites = org::list_sites(&core.db, tenant_id, &filter, &page)
            .await?
            .items;
        let mut covering: Vec<Site> = sites.into_iter().filter(|site| site.serves(city)).collect();
        covering.sort_by(|a, b| a.code.cmp(&b.code));
        if let Some(site) = covering.into_iter().next() {
            best = Some(site);
            break;
        }
    }
    Ok(best)
}

async fn open_tickets(
    core: &Core,
    tenant_id: &str,
    site_id: &str,
    team: &str,
) -> Result<i64, ServiceError> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS n FROM tickets WHERE tenant_id = $1 AND site_id = $2 AND team = $3 \
         AND status NOT IN ('resolved', 'closed')",
    )
    .bind(tenant_id)
    .bind(site_id)
    .bind(team)
    .fetch_one(core.db.reader())
    .await?;
    Ok(row.try_get("n")?)
}

async fn least_busy_team(
    core: &Core,
    tenant_id: &str,
    site: &Site,
    skill: &str,
) -> Result<Option<Team>, ServiceError> {
    let filter = TeamFilter {
        site_id: Some(site.id.clone()),
        skill: Some(skill.to_owned()),
        within: None,
    };
    let teams = org::list_teams(
        &core.db,
        tenant_id,
        &filter,
        &Page {
            limit: MAX_SITES,
            cursor: None,
        },
    )
    .await?
    .items;
    let mut best: Option<(i64, Team)> = None;
    for team in teams {
        let load = open_tickets(core, tenant_id, &site.id, &team.name).await?;
        if best.as_ref().is_none_or(|(fewest, current)| {
            load < *fewest || (load == *fewest && team.name < current.name)
        }) {
            best = Some((load, team));
        }
    }
    Ok(best.map(|(_, team)| team))
}

/// Places `ticket` at the site covering its customer's city when it has no site, and
/// returns why. Runs before the plugins do: rules never choose a site, and a rule scoped
/// to a dealer's subtree must see the tickets placed at that dealer's stations.
pub async fn place_site(
    core: &Core,
    tenant_id: &str,
    ticket: &mut Ticket,
    customer: Option<&Customer>,
) -> Result<Option<String>, ServiceError> {
    if ticket.site_id.is_some() {
        return Ok(None);
    }
    let Some(city) = customer.and_then(|c| c.city.as_deref()) else {
        return Ok(None);
    };
    let Some(site) = covering_site(core, tenant_id, city).await? else {
        return Ok(None);
    };
    ticket.site_id = Some(site.id);
    Ok(Some(format!(
        "{} {} serves {city}",
        site.kind.as_str(),
        site.code
    )))
}

/// Places `ticket` where the rules did not: at its site's least busy skilled team when no
/// queue, team or assignee was decided. `placed_site` is why [`place_site`] placed it, if
/// it did. `None` when there was nothing to do.
pub async fn place(
    core: &Core,
    tenant_id: &str,
    ticket: &mut Ticket,
    placed_site: Option<String>,
) -> Result<Option<Dispatch>, ServiceError> {
    let mut reasons: Vec<String> = placed_site.into_iter().collect();
    let decided = ticket.queue.is_some() || ticket.team.is_some() || ticket.assignee.is_some();
    if !decided && let Some(site_id) = ticket.site_id.clone() {
        let site = org::site(core.db.reader(), tenant_id, &site_id)
            .await?
            .ok_or(ServiceError::NotFound("site"))?;
        let skill = skill_for(&ticket.category);
        if let Some(team) = least_busy_team(core, tenant_id, &site, skill).await? {
            reasons.push(format!(
                "team {} has the `{skill}` skill and the fewest open tickets",
                team.name
            ));
            ticket.team = Some(team.name);
        }
    }
    if reasons.is_empty() {
        return Ok(None);
    }
    Ok(Some(Dispatch {
        site_id: ticket.site_id.clone(),
        team: ticket.team.clone(),
        reason: reasons.join("; "),
    }))
}
