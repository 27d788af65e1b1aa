//! The datasets report widgets ask for: checking a widget's query against the measures
//! and dimensions the host knows, and computing it over the caller's tickets.

use std::collections::HashMap;

use crate::db::Db;
use crate::domain::reports::Population;
use crate::runtime::wit::widget::{Cell, Dataset, DatasetQuery};
use crate::store::kpis::{self, Attribute, AttributeGroup};

use super::ServiceError;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;
const HOUR_MS: f64 = 60.0 * 60.0 * 1000.0;

/// The longest period a widget may ask for, in days.
pub const MAX_PERIOD_DAYS: u32 = 366;

/// A figure per group of tickets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    Tickets,
    OpenTickets,
    ResolvedTickets,
    CriticalTickets,
    /// The mean age in hours of the group's open tickets; empty when none is open.
    AvgAgeHours,
}

const MEASURES: [(&str, Measure); 5] = [
    ("tickets", Measure::Tickets),
    ("open-tickets", Measure::OpenTickets),
    ("resolved-tickets", Measure::ResolvedTickets),
    ("critical-tickets", Measure::CriticalTickets),
    ("avg-age-hours", Measure::AvgAgeHours),
];

const DIMENSIONS: [(&str, Attribute); 7] = [
    ("status", Attribute::Status),
    ("priority", Attribute::Priority),
    ("category", Attribute::Category),
    ("channel", Attribute::Channel),
    ("queue", Attribute::Queue),
    ("team", Attribute::Team),
    ("site", Attribute::Site),
];

fn names<T>(table: &[(&str, T)]) -> String {
    table
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Measure {
    fn value(self, group: &AttributeGroup, now_ms: i64) -> Cell {
        let count = |n: i64| Cell::Number(n as f64);
        match self {
            Measure::Tickets => count(group.tickets),
            Measure::OpenTickets => count(group.open),
            Measure::ResolvedTickets => count(group.resolved),
            Measure::CriticalTickets => count(group.critical),
            Measure::AvgAgeHours if group.open == 0 => Cell::Empty,
            Measure::AvgAgeHours => {
                let mean_created = group.open_created_ms as f64 / group.open as f64;
                let hours = (now_ms as f64 - mean_created) / HOUR_MS;
                Cell::Number((hours * 100.0).round() / 100.0)
            }
        }
    }
}

/// A widget's query the host can answer.
#[derive(Clone, Debug)]
pub struct CheckedQuery {
    pub measures: Vec<Measure>,
    pub group_by: Vec<Attribute>,
    pub period_days: u32,
    /// The names as the widget spelled them, for the dataset's columns.
    columns: Vec<String>,
}

/// Checks `query` against what the host knows; the error says every problem found.
pub fn check(query: &DatasetQuery) -> Result<CheckedQuery, String> {
    let mut problems = Vec::new();
    let mut measures = Vec::new();
    for name in &query.measures {
        match MEASURES.iter().find(|(known, _)| known == name) {
            Some((_, measure)) => measures.push(*measure),
            None => problems.push(format!(
                "unknown measure `{name}` (known: {})",
                names(&MEASURES)
            )),
        }
    }
    if query.measures.is_empty() {
        problems.push(format!(
            "the query names no measure (known: {})",
            names(&MEASURES)
        ));
    }
    let mut group_by = Vec::new();
    for name in &query.group_by {
        match DIMENSIONS.iter().find(|(known, _)| known == name) {
            Some((_, attribute)) if group_by.contains(attribute) => {
                problems.push(format!("dimension `{name}` is named twice"))
            }
            Some((_, attribute)) => group_by.push(*attribute),
            None => problems.push(format!(
                "unknown dimension `{name}` (known: {})",
                names(&DIMENSIONS)
            )),
        }
    }
    if query.group_by.len() > kpis::MAX_ATTRIBUTES {
        problems.push(format!(
            "the query groups by {} dimensions; at most {} are allowed",
            query.group_by.len(),
            kpis::MAX_ATTRIBUTES
        ));
    }
    if !(1..=MAX_PERIOD_DAYS).contains(&query.period_days) {
        problems.push(format!(
            "period-days must be between 1 and {MAX_PERIOD_DAYS}, not {}",
            query.period_days
        ));
    }
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(CheckedQuery {
        measures,
        group_by,
        period_days: query.period_days,
        columns: query
            .group_by
            .iter()
            .chain(&query.measures)
            .cloned()
            .collect(),
    })
}

/// Where the dataset's tickets come from: the caller's tenant and, for a site-scoped
/// key, its subtree.
#[derive(Clone, Debug)]
pub struct Scope {
    pub tenant_id: String,
    pub within: Option<String>,
}

/// Computes `query` over the tickets in `scope` created in the last `period_days` before
/// `now_ms`: the group-by columns, then the measures, rows ordered by group values. A
/// widget installed for a subtree passes its path as `installed_within`: the tickets are
/// then those inside both.
pub async fn compute(
    db: &Db,
    scope: &Scope,
    installed_within: Option<&str>,
    query: &CheckedQuery,
    now_ms: i64,
) -> Result<Dataset, ServiceError> {
    let population = Population {
        from_ms: now_ms - i64::from(query.period_days) * DAY_MS,
        // Inclusive of a ticket created in this very millisecond.
        to_ms: now_ms + 1,
        site_within: scope
            .within
            .iter()
            .cloned()
            .chain(installed_within.map(str::to_owned))
            .collect(),
        ..Population::default()
    };
    let mut groups =
        kpis::by_attributes(db, &scope.tenant_id, &population, &query.group_by).await?;
    groups.sort_by(|a, b| (&a.g1, &a.g2, &a.g3).cmp(&(&b.g1, &b.g2, &b.g3)));
    // Sites are grouped by id and shown by name.
    let site_names: HashMap<String, String> = if query.group_by.contains(&Attribute::Site) {
        kpis::sites(db, &scope.tenant_id)
            .await?
            .into_iter()
            .map(|site| (site.id, site.name))
            .collect()
    } else {
        HashMap::new()
    };
    let cell = |attribute: &Attribute, value: &Option<String>| match value {
        None => Cell::Empty,
        Some(id) if *attribute == Attribute::Site => {
            Cell::Text(site_names.get(id).unwrap_or(id).clone())
        }
        Some(value) => Cell::Text(value.clone()),
    };
    let rows = groups
        .iter()
        .map(|group| {
            let values = [&group.g1, &group.g2, &group.g3];
            query
                .group_by
                .iter()
                .zip(values)
                .map(|(attribute, value)| cell(attribute, value))
                .chain(query.measures.iter().map(|m| m.value(group, now_ms)))
                .collect()
        })
        .collect();
    Ok(Dataset {
        columns: query.columns.clone(),
        rows,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(measures: &[&str], group_by: &[&str], period_days: u32) -> DatasetQuery {
        DatasetQuery {
            measures: measures.iter().map(|s| s.to_string()).collect(),
            group_by: group_by.iter().map(|s| s.to_string()).collect(),
            period_days,
        }
    }

    #[test]
    fn known_measures_and_dimensions_pass() {
        let checked = check(&query(
            &["tickets", "avg-age-hours"],
            &["category", "priority"],
            30,
        ))
        .unwrap();
        assert_eq!(checked.measures, [Measure::Tickets, Measure::AvgAgeHours]);
        assert_eq!(checked.group_by, [Attribute::Category, Attribute::Priority]);
        assert_eq!(
            checked.columns,
            ["category", "priority", "tickets", "avg-age-hours"]
        );
    }

    #[test]
    fn every_problem_is_named() {
        let err = check(&query(&["revenue"], &["colour", "site", "site"], 0)).unwrap_err();
        assert!(err.contains("unknown measure `revenue`"), "{err}");
        assert!(err.contains("unknown dimension `colour`"), "{err}");
        assert!(err.contains("`site` is named twice"), "{err}");
        assert!(
            err.contains("period-days must be between 1 and 366"),
            "{err}"
        );
        assert!(check(&query(&["tickets"], &[], 367)).is_err());
        assert!(
            check(&query(&[], &[], 30))
                .unwrap_err()
                .contains("no measure")
        );
    }

    #[test]
    fn average_age_is_empty_without_open_tickets() {
        let group = AttributeGroup {
            g1: None,
            g2: None,
            g3: None,
            tickets: 2,
            open: 2,
            resolved: 0,
            critical: 0,
            // Created one and three hours before `now`: two hours old on average.
            open_created_ms: 2 * 1_000_000 - 4 * 3_600_000,
        };
        assert_eq!(
            Measure::AvgAgeHours.value(&group, 1_000_000),
            Cell::Number(2.0)
        );
        let closed = AttributeGroup { open: 0, ..group };
        assert_eq!(Measure::AvgAgeHours.value(&closed, 1_000_000), Cell::Empty);
    }
}
