//! KPI reports: FCR, AHT, CSAT, NPS, backlog, backlog rate and SLA attainment per group,
//! each with its numerator and denominator and a drill-down to the tickets behind it.
//! SQL sums per-ticket facts per ticket attribute; this module turns those sums into
//! groups (a region or dealer is derived from the site's path) and values. The exact
//! definitions are in `docs/kpis.md`.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

use super::ServiceError;
use crate::db::Db;
use crate::domain::ids::rfc3339;
use crate::domain::reports::{Column, Population};
use crate::store::kpis::{self, Dimension, Facts, SiteLabel};

crate::domain::text_enum! {
    /// What a report's rows are grouped by.
    pub enum GroupBy spelled "snake_case" {
        Region,
        Dealer,
        Site,
        Team,
        Agent,
        Category,
        Channel,
    }
}

impl GroupBy {
    fn dimension(self) -> Dimension {
        match self {
            GroupBy::Region | GroupBy::Dealer | GroupBy::Site => Dimension::SitePath,
            GroupBy::Team => Dimension::SitePathTeam,
            GroupBy::Agent => Dimension::Assignee,
            GroupBy::Category => Dimension::Category,
            GroupBy::Channel => Dimension::Channel,
        }
    }

    /// The site kind a site-based grouping rolls up to.
    fn tier(self) -> Option<&'static str> {
        match self {
            GroupBy::Region => Some("region"),
            GroupBy::Dealer => Some("dealer"),
            _ => None,
        }
    }
}

crate::domain::text_enum! {
    /// One KPI.
    pub enum Metric spelled "snake_case" {
        Fcr,
        Aht,
        Csat,
        Nps,
        Backlog,
        BacklogRate,
        Sla,
    }
}

impl Metric {
    /// The metric's numerator and denominator over `facts`.
    pub fn parts(self, facts: &Facts) -> (i64, i64) {
        match self {
            Metric::Fcr => (facts.fcr, facts.resolved),
            Metric::Aht => (facts.handle_s, facts.handled),
            Metric::Csat => (facts.csat_good, facts.csat_answers),
            Metric::Nps => (facts.promoters - facts.detractors, facts.nps_answers),
            Metric::Backlog => (facts.open, facts.tickets),
            Metric::BacklogRate => (facts.overdue, facts.open),
            Metric::Sla => (facts.sla_met, facts.sla_decided),
        }
    }

    /// The value from its parts: seconds for AHT, a count for backlog, a percentage
    /// otherwise (NPS from -100 to 100); `None` when the denominator is 0.
    pub fn value(self, numerator: i64, denominator: i64) -> Option<f64> {
        if denominator == 0 {
            return None;
        }
        let value = match self {
            Metric::Backlog => numerator as f64,
            Metric::Aht => numerator as f64 / denominator as f64,
            _ => 100.0 * numerator as f64 / denominator as f64,
        };
        Some((value * 100.0).round() / 100.0)
    }

    /// Whether a ticket with `facts` is behind this metric's cell: it counts in the
    /// denominator, except for backlog, whose tickets are the open ones it counts.
    pub fn behind(self, facts: &Facts) -> bool {
        match self {
            Metric::Backlog => facts.open > 0,
            _ => self.parts(facts).1 > 0,
        }
    }
}

/// A report request, already validated: the population and how to group it.
#[derive(Clone, Debug)]
pub struct KpiQuery {
    pub population: Population,
    pub group_by: Option<GroupBy>,
}

/// One KPI value with the counts it comes from and the link to its tickets.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Cell {
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    /// `GET` this for the tickets behind the value.
    pub tickets: String,
}

/// One group's KPIs.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct KpiRow {
    /// The group key (`group=` of the drill-down links); `null` for tickets without a
    /// value for the grouping, and for the total.
    pub group: Option<String>,
    pub label: String,
    /// The site for region, dealer, site and team groups.
    pub site_id: Option<String>,
    /// Tickets in the group.
    pub tickets: i64,
    pub kpis: BTreeMap<&'static str, Cell>,
}

/// A KPI report.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct KpiReport {
    pub from: String,
    pub to: String,
    pub group_by: Option<&'static str>,
    pub rows: Vec<KpiRow>,
    pub total: KpiRow,
}

/// Builds the drill-down link for a metric and a group key (`None`: the null group,
/// or the total when the report is not grouped).
pub trait DrillLink: Sync {
    fn link(&self, metric: Metric, group: Option<&str>, total: bool) -> String;
}

/// The tenant's org tree and agents, to derive and label groups.
struct Labels {
    sites: HashMap<String, SiteLabel>,
    agents: HashMap<String, String>,
}

impl Labels {
    async fn load(
        db: &Db,
        tenant_id: &str,
        group_by: Option<GroupBy>,
    ) -> Result<Self, ServiceError> {
        let sites = match group_by {
            Some(GroupBy::Region | GroupBy::Dealer | GroupBy::Site | GroupBy::Team) => {
                kpis::sites(db, tenant_id).await?
            }
            _ => Vec::new(),
        };
        let agents = match group_by {
            Some(GroupBy::Agent) => kpis::agent_names(db, tenant_id).await?,
            _ => Vec::new(),
        };
        Ok(Labels {
            sites: sites.into_iter().map(|s| (s.id.clone(), s)).collect(),
            agents: agents.into_iter().collect(),
        })
    }

    /// The group key of a ticket (or a group of tickets) with dimension values `a`, `b`.
    fn key(&self, group_by: GroupBy, a: Option<&str>, b: Option<&str>) -> Option<String> {
        let site_of = |path: &str| {
            path.trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|id| !id.is_empty())
                .map(str::to_owned)
        };
        match group_by {
            GroupBy::Site => a.and_then(site_of),
            GroupBy::Region | GroupBy::Dealer => {
                let tier = group_by.tier()?;
                a?.split('/')
                    .filter(|id| !id.is_empty())
                    .find(|id| self.sites.get(*id).is_some_and(|s| s.kind == tier))
                    .map(str::to_owned)
            }
            GroupBy::Team => {
                let site = a.and_then(site_of).unwrap_or_default();
                b.map(|team| format!("{site}/{team}"))
            }
            GroupBy::Agent | GroupBy::Category | GroupBy::Channel => a.map(str::to_owned),
        }
    }

    /// The row's label and site.
    fn label(&self, group_by: GroupBy, key: Option<&str>) -> (String, Option<String>) {
        let site_name = |id: &str| self.sites.get(id).map(|s| s.name.clone());
        match (group_by, key) {
            (GroupBy::Region | GroupBy::Dealer | GroupBy::Site, Some(id)) => (
                site_name(id).unwrap_or_else(|| id.to_owned()),
                Some(id.to_owned()),
            ),
            (GroupBy::Region, None) => ("(no region)".to_owned(), None),
            (GroupBy::Dealer, None) => ("(no dealer)".to_owned(), None),
            (GroupBy::Site, None) => ("(no site)".to_owned(), None),
            (GroupBy::Team, Some(key)) => {
                let (site, team) = key.split_once('/').unwrap_or(("", key));
                match site_name(site) {
                    Some(name) => (format!("{team} @ {name}"), Some(site.to_owned())),
                    None => (team.to_owned(), None),
                }
            }
            (GroupBy::Team, None) => ("(no team)".to_owned(), None),
            (GroupBy::Agent, Some(id)) => (
                self.agents
                    .get(id)
                    .cloned()
                    .unwrap_or_else(|| id.to_owned()),
                None,
            ),
            (GroupBy::Agent, None) => ("(unassigned)".to_owned(), None),
            (GroupBy::Category | GroupBy::Channel, key) => {
                (key.unwrap_or("(none)").to_owned(), None)
            }
        }
    }
}

fn cells(
    facts: &Facts,
    links: &dyn DrillLink,
    group: Option<&str>,
    total: bool,
) -> BTreeMap<&'static str, Cell> {
    Metric::ALL
        .iter()
        .copied()
        .map(|metric| {
            let (numerator, denominator) = metric.parts(facts);
            let cell = Cell {
                value: metric.value(numerator, denominator),
                numerator,
                denominator,
                tickets: links.link(metric, group, total),
            };
            (metric.as_str(), cell)
        })
        .collect()
}

/// The KPI report for `query`.
pub async fn report(
    db: &Db,
    tenant_id: &str,
    query: &KpiQuery,
    links: &dyn DrillLink,
) -> Result<KpiReport, ServiceError> {
    let dimension = query.group_by.map_or(Dimension::Total, GroupBy::dimension);
    let sums = kpis::by_group(db, tenant_id, &query.population, dimension).await?;
    let mut total = Facts::default();
    for group in &sums {
        total += group.facts;
    }
    let total_row = KpiRow {
        group: None,
        label: "All tickets".to_owned(),
        site_id: None,
        tickets: total.tickets,
        kpis: cells(&total, links, None, true),
    };
    let rows = match query.group_by {
        None => vec![total_row.clone()],
        Some(group_by) => {
            let labels = Labels::load(db, tenant_id, Some(group_by)).await?;
            let mut groups: BTreeMap<Option<String>, Facts> = BTreeMap::new();
            for group in sums {
                let key = labels.key(group_by, group.dim_a.as_deref(), group.dim_b.as_deref());
                *groups.entry(key).or_default() += group.facts;
            }
            let mut rows: Vec<KpiRow> = groups
                .into_iter()
                .map(|(key, facts)| {
                    let (label, site_id) = labels.label(group_by, key.as_deref());
                    KpiRow {
                        kpis: cells(&facts, links, key.as_deref(), false),
                        group: key,
                        label,
                        site_id,
                        tickets: facts.tickets,
                    }
                })
                .collect();
            // Named groups by label, the group without a value last.
            rows.sort_by(|a, b| {
                (a.group.is_none(), &a.label, &a.group).cmp(&(
                    b.group.is_none(),
                    &b.label,
                    &b.group,
                ))
            });
            rows
        }
    };
    Ok(KpiReport {
        from: rfc3339(query.population.from_ms),
        to: rfc3339(query.population.to_ms),
        group_by: query.group_by.map(GroupBy::as_str),
        rows,
        total: total_row,
    })
}

/// The most tickets a drill-down lists.
pub const DRILL_LIMIT: usize = 500;

/// A ticket behind a KPI cell, with what it adds to the cell's numerator and denominator.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DrillTicket {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub category: String,
    pub channel: String,
    pub site_id: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub created_at: String,
    pub numerator: i64,
    pub denominator: i64,
}

/// The tickets behind one KPI cell.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct DrillDown {
    pub metric: &'static str,
    pub group_by: Option<&'static str>,
    pub group: Option<String>,
    pub from: String,
    pub to: String,
    /// The cell's figures, recomputed from the group's tickets.
    pub value: Option<f64>,
    pub numerator: i64,
    pub denominator: i64,
    /// How many tickets are behind the cell; `items` holds at most `limit` of them,
    /// oldest first, and `truncated` says when some were left out.
    pub total: usize,
    pub limit: usize,
    pub truncated: bool,
    pub items: Vec<DrillTicket>,
}

/// The tickets behind `metric` for the group keyed `group` (`None`: the null group; a
/// report without grouping has only the total).
pub async fn drill_down(
    db: &Db,
    tenant_id: &str,
    query: &KpiQuery,
    metric: Metric,
    group: Option<&str>,
) -> Result<DrillDown, ServiceError> {
    let mut population = query.population.clone();
    let labels = Labels::load(db, tenant_id, query.group_by).await?;
    let mut matches_nothing = false;
    // Narrow the SQL to the group where a column says it; the group key is then checked
    // ticket by ticket with the same derivation the report used.
    match (query.group_by, group) {
        (Some(GroupBy::Site), Some(id)) => population.equal.push((Column::SiteId, id.to_owned())),
        (Some(GroupBy::Site), None) => population.no_site = true,
        (Some(GroupBy::Region | GroupBy::Dealer), Some(id)) => match labels.sites.get(id) {
            Some(site) => population.site_within.push(site.path.clone()),
            None => matches_nothing = true,
        },
        (Some(GroupBy::Team), Some(key)) => {
            let (site, team) = key.split_once('/').unwrap_or(("", key));
            population.equal.push((Column::Team, team.to_owned()));
            if site.is_empty() {
                population.no_site = true;
            } else {
                population.equal.push((Column::SiteId, site.to_owned()));
            }
        }
        (Some(GroupBy::Agent), Some(id)) => {
            population.equal.push((Column::Assignee, id.to_owned()))
        }
        (Some(GroupBy::Category), Some(c)) => {
            population.equal.push((Column::Category, c.to_owned()))
        }
        (Some(GroupBy::Channel), Some(c)) => population.equal.push((Column::Channel, c.to_owned())),
        _ => {}
    }
    let dimension = query.group_by.map_or(Dimension::Total, GroupBy::dimension);
    let mut sum = Facts::default();
    let mut items = Vec::new();
    let mut total = 0;
    let mut visit = |row: kpis::TicketFacts| {
        if let Some(group_by) = query.group_by
            && labels
                .key(group_by, row.dim_a.as_deref(), row.dim_b.as_deref())
                .as_deref()
                != group
        {
            return;
        }
        // Every ticket of the group adds to the sums (those not behind the cell add 0,
        // except open tickets to backlog's denominator), so they equal the cell's.
        sum += row.facts;
        if !metric.behind(&row.facts) {
            return;
        }
        total += 1;
        if items.len() == DRILL_LIMIT {
            return;
        }
        let (numerator, denominator) = metric.parts(&row.facts);
        items.push(DrillTicket {
            id: row.id,
            subject: row.subject,
            status: row.status,
            priority: row.priority,
            category: row.category,
            channel: row.channel,
            site_id: row.site_id,
            team: row.team,
            assignee: row.assignee,
            created_at: rfc3339(row.created_at),
            numerator,
            denominator,
        });
    };
    if !matches_nothing {
        kpis::each_ticket(db, tenant_id, &population, dimension, &mut visit).await?;
    }
    let (numerator, denominator) = metric.parts(&sum);
    Ok(DrillDown {
        metric: metric.as_str(),
        group_by: query.group_by.map(GroupBy::as_str),
        group: group.map(str::to_owned),
        from: rfc3339(query.population.from_ms),
        to: rfc3339(query.population.to_ms),
        value: metric.value(numerator, denominator),
        numerator,
        denominator,
        total,
        limit: DRILL_LIMIT,
        truncated: total > DRILL_LIMIT,
        items,
    })
}

#[cfg(test)]
mod tests {
    use super::{GroupBy, Metric};

    #[test]
    fn groupings_and_metrics_are_spelled_in_snake_case_as_query_strings_write_them() {
        assert_eq!(GroupBy::parse("dealer"), Some(GroupBy::Dealer));
        assert_eq!(Metric::parse("backlog_rate"), Some(Metric::BacklogRate));
        assert_eq!(Metric::BacklogRate.as_str(), "backlog_rate");
        assert_eq!(
            GroupBy::expected(),
            "region, dealer, site, team, agent, category, channel"
        );
        assert_eq!(Metric::parse("Fcr"), None);
    }
}
