//! The facts KPI reports are computed from: one row of additive counts per ticket of the
//! report's population, summed per group in SQL, or read ticket by ticket for drill-down.
//! Both readings share one SQL text, so a report cell and its drill-down cannot disagree.
//! The definitions themselves are documented in `docs/kpis.md`.

use futures_util::TryStreamExt;

use super::StoreError;
use crate::db::{Arg, Backend, Db, SqlBuilder};
use crate::domain::reports::{Column, Population};

impl Column {
    fn sql(self) -> &'static str {
        match self {
            Column::Category => "t.category",
            Column::Channel => "t.channel",
            Column::Priority => "t.priority",
            Column::Team => "t.team",
            Column::Assignee => "t.assignee",
            Column::SiteId => "t.site_id",
        }
    }
}

/// The ticket attributes a report groups by, read as two text columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dimension {
    /// One group: both columns NULL.
    Total,
    /// The site's path (region, dealer and site are derived from it).
    SitePath,
    /// The site's path and the team name.
    SitePathTeam,
    Assignee,
    Category,
    Channel,
}

impl Dimension {
    fn columns(self) -> (&'static str, &'static str) {
        const NONE: &str = "CAST(NULL AS TEXT)";
        match self {
            Dimension::Total => (NONE, NONE),
            Dimension::SitePath => ("s.path", NONE),
            Dimension::SitePathTeam => ("s.path", "t.team"),
            Dimension::Assignee => ("t.assignee", NONE),
            Dimension::Category => ("t.category", NONE),
            Dimension::Channel => ("t.channel", NONE),
        }
    }
}

/// Additive counts behind every KPI, for one ticket or summed over a group.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Facts {
    /// Tickets in the population.
    pub tickets: i64,
    /// Tickets resolved or closed.
    pub resolved: i64,
    /// Resolved tickets with at most one customer contact, never reopened.
    pub fcr: i64,
    /// Tickets still open.
    pub open: i64,
    /// Open tickets whose resolution clock breached and is not met.
    pub overdue: i64,
    /// Seconds of handle time logged on interactions.
    pub handle_s: i64,
    /// Interactions with a handle time.
    pub handled: i64,
    pub csat_answers: i64,
    /// CSAT answers scored 4 or 5.
    pub csat_good: i64,
    pub nps_answers: i64,
    /// NPS answers scored 9 or 10.
    pub promoters: i64,
    /// NPS answers scored 0 to 6.
    pub detractors: i64,
    /// SLA clocks met without breaching.
    pub sla_met: i64,
    /// SLA clocks met or breached.
    pub sla_decided: i64,
}

crate::store::from_row!(Facts {
    tickets,
    resolved,
    fcr,
    open,
    overdue,
    handle_s,
    handled,
    csat_answers,
    csat_good,
    nps_answers,
    promoters,
    detractors,
    sla_met,
    sla_decided
});

impl std::ops::AddAssign for Facts {
    fn add_assign(&mut self, other: Facts) {
        self.tickets += other.tickets;
        self.resolved += other.resolved;
        self.fcr += other.fcr;
        self.open += other.open;
        self.overdue += other.overdue;
        self.handle_s += other.handle_s;
        self.handled += other.handled;
        self.csat_answers += other.csat_answers;
        self.csat_good += other.csat_good;
        self.nps_answers += other.nps_answers;
        self.promoters += other.promoters;
        self.detractors += other.detractors;
        self.sla_met += other.sla_met;
        self.sla_decided += other.sla_decided;
    }
}

const FACT_NAMES: [&str; 14] = [
    "tickets",
    "resolved",
    "fcr",
    "open",
    "overdue",
    "handle_s",
    "handled",
    "csat_answers",
    "csat_good",
    "nps_answers",
    "promoters",
    "detractors",
    "sla_met",
    "sla_decided",
];

/// Facts summed over the tickets sharing one pair of dimension values.
#[derive(Clone, Debug)]
pub struct GroupFacts {
    pub dim_a: Option<String>,
    pub dim_b: Option<String>,
    pub facts: Facts,
}

crate::store::from_row!(GroupFacts { dim_a, dim_b; flatten facts });

/// One ticket of the population with its facts.
#[derive(Clone, Debug)]
pub struct TicketFacts {
    pub id: String,
    pub subject: String,
    pub status: String,
    pub priority: String,
    pub category: String,
    pub channel: String,
    pub site_id: Option<String>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub created_at: i64,
    pub dim_a: Option<String>,
    pub dim_b: Option<String>,
    pub facts: Facts,
}

crate::store::from_row!(TicketFacts { id, subject, status, priority, category, channel, site_id, team, assignee, created_at, dim_a, dim_b; flatten facts });

const CLOSED: &str = "('resolved', 'closed')";

/// A table of rows that belong to a ticket, and the per-ticket aggregates read from it.
/// Each aggregate is zero for a ticket without rows once wrapped in COALESCE.
struct Child {
    table: &'static str,
    /// The alias of its per-ticket subquery when joined.
    alias: &'static str,
    aggregates: &'static [(&'static str, &'static str)],
}

/// Every per-ticket aggregate the facts need. Conditions sit inside the aggregates rather
/// than in a WHERE, so a correlated lookup uses the `(tenant_id, ticket_id)` index and
/// nothing else (a filter on `answered_at` made SQLite pick that column's index instead).
const CHILDREN: [Child; 3] = [
    Child {
        table: "interactions",
        alias: "i",
        aggregates: &[
            // Interaction kinds that are a contact with the customer (a note is not).
            (
                "contacts",
                "SUM(CASE WHEN kind IN ('call', 'email', 'chat', 'visit') THEN 1 ELSE 0 END)",
            ),
            ("handle_s", "SUM(handle_time_s)"),
            ("handled", "COUNT(handle_time_s)"),
        ],
    },
    Child {
        table: "surveys",
        alias: "v",
        aggregates: &[
            (
                "csat_answers",
                "COUNT(CASE WHEN answered_at IS NOT NULL THEN csat END)",
            ),
            (
                "csat_good",
                "SUM(CASE WHEN answered_at IS NOT NULL AND csat >= 4 THEN 1 ELSE 0 END)",
            ),
            (
                "nps_answers",
                "COUNT(CASE WHEN answered_at IS NOT NULL THEN nps END)",
            ),
            (
                "promoters",
                "SUM(CASE WHEN answered_at IS NOT NULL AND nps >= 9 THEN 1 ELSE 0 END)",
            ),
            (
                "detractors",
                "SUM(CASE WHEN answered_at IS NOT NULL AND nps <= 6 THEN 1 ELSE 0 END)",
            ),
        ],
    },
    Child {
        table: "sla_clocks",
        alias: "k",
        aggregates: &[
            (
                "sla_met",
                "SUM(CASE WHEN met_at IS NOT NULL AND breached_at IS NULL THEN 1 ELSE 0 END)",
            ),
            (
                "sla_decided",
                "SUM(CASE WHEN met_at IS NOT NULL OR breached_at IS NOT NULL THEN 1 ELSE 0 END)",
            ),
            (
                "overdue",
                "SUM(CASE WHEN kind = 'resolution' AND breached_at IS NOT NULL AND met_at IS NULL \
                 THEN 1 ELSE 0 END)",
            ),
        ],
    },
];

/// How the per-ticket aggregates are read. Both give the same numbers; they differ in
/// where the work's memory lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    /// Each child table grouped by ticket once and hash-joined: PostgreSQL's planner does
    /// this well, and its work memory is the database server's, not Axle's.
    Joined,
    /// Each aggregate a correlated lookup on the child's ticket index. SQLite would
    /// otherwise materialise every grouped child table in Axle's own heap (16 MiB per
    /// report at 65k tickets, per concurrent request), where this keeps a report to its
    /// page cache and a sorter whatever the data's size.
    Correlated,
}

impl Shape {
    fn of(backend: Backend) -> Shape {
        match backend {
            Backend::Sqlite => Shape::Correlated,
            Backend::Postgres => Shape::Joined,
        }
    }

    /// The per-ticket value of the aggregate `name`, zero when the ticket has no rows.
    fn aggregate(self, name: &str) -> String {
        let (child, aggregate) = CHILDREN
            .iter()
            .find_map(|child| {
                child
                    .aggregates
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, aggregate)| (child, *aggregate))
            })
            .expect("every aggregate named in the facts is defined in CHILDREN");
        match self {
            Shape::Joined => format!("COALESCE({}.{name}, 0)", child.alias),
            Shape::Correlated => format!(
                "COALESCE((SELECT {aggregate} FROM {} c WHERE c.tenant_id = t.tenant_id \
                 AND c.ticket_id = t.id), 0)",
                child.table
            ),
        }
    }

    /// The joins the aggregates read from (none when they are correlated lookups).
    fn joins(self) -> String {
        if self == Shape::Correlated {
            return String::new();
        }
        // The per-ticket subqueries read only the population's tickets, so a 30-day report
        // does not aggregate the tenant's whole history.
        let in_population = "ticket_id IN (SELECT id FROM tickets WHERE tenant_id = $1 \
                             AND created_at >= $2 AND created_at < $3)";
        CHILDREN
            .iter()
            .map(|child| {
                let aggregates: Vec<String> = child
                    .aggregates
                    .iter()
                    .map(|(name, aggregate)| format!("{aggregate} AS {name}"))
                    .collect();
                format!(
                    " LEFT JOIN (SELECT ticket_id, {} FROM {} WHERE tenant_id = $1 AND \
                     {in_population} GROUP BY ticket_id) {alias} ON {alias}.ticket_id = t.id",
                    aggregates.join(", "),
                    child.table,
                    alias = child.alias,
                )
            })
            .collect()
    }
}

/// The per-ticket facts of the population, as a SELECT over `t` (tickets) and `s` (sites).
fn ticket_facts_sql(
    db: &Db,
    tenant_id: &str,
    population: &Population,
    dimension: Dimension,
) -> SqlBuilder {
    let (dim_a, dim_b) = dimension.columns();
    let shape = Shape::of(db.backend());
    let a = |name: &str| shape.aggregate(name);
    // Inside CASE, a correlated lookup runs only for the tickets the condition lets through.
    let select = format!(
        "SELECT t.id AS id, t.subject AS subject, t.status AS status, t.priority AS priority, \
         t.category AS category, t.channel AS channel, t.site_id AS site_id, t.team AS team, \
         t.assignee AS assignee, t.queue AS queue, t.created_at AS created_at, \
         {dim_a} AS dim_a, {dim_b} AS dim_b, \
         CAST(1 AS BIGINT) AS tickets, \
         CAST(CASE WHEN t.status IN {CLOSED} THEN 1 ELSE 0 END AS BIGINT) AS resolved, \
         CAST(CASE WHEN t.status IN {CLOSED} AND t.reopened = 0 AND {contacts} <= 1 \
         THEN 1 ELSE 0 END AS BIGINT) AS fcr, \
         CAST(CASE WHEN t.status NOT IN {CLOSED} THEN 1 ELSE 0 END AS BIGINT) AS open, \
         CAST(CASE WHEN t.status NOT IN {CLOSED} AND {overdue} > 0 THEN 1 ELSE 0 END \
         AS BIGINT) AS overdue, \
         CAST({handle_s} AS BIGINT) AS handle_s, \
         CAST({handled} AS BIGINT) AS handled, \
         CAST({csat_answers} AS BIGINT) AS csat_answers, \
         CAST({csat_good} AS BIGINT) AS csat_good, \
         CAST({nps_answers} AS BIGINT) AS nps_answers, \
         CAST({promoters} AS BIGINT) AS promoters, \
         CAST({detractors} AS BIGINT) AS detractors, \
         CAST({sla_met} AS BIGINT) AS sla_met, \
         CAST({sla_decided} AS BIGINT) AS sla_decided \
         FROM tickets t LEFT JOIN sites s ON s.tenant_id = t.tenant_id AND s.id = t.site_id\
         {joins} \
         WHERE t.tenant_id = $1 AND t.created_at >= $2 AND t.created_at < $3",
        contacts = a("contacts"),
        overdue = a("overdue"),
        handle_s = a("handle_s"),
        handled = a("handled"),
        csat_answers = a("csat_answers"),
        csat_good = a("csat_good"),
        nps_answers = a("nps_answers"),
        promoters = a("promoters"),
        detractors = a("detractors"),
        sla_met = a("sla_met"),
        sla_decided = a("sla_decided"),
        joins = shape.joins(),
    );
    let mut sql = SqlBuilder::numbered(
        &select,
        vec![
            Arg::Text(tenant_id.to_owned()),
            Arg::Int(population.from_ms),
            Arg::Int(population.to_ms),
        ],
    );
    for (column, value) in &population.equal {
        sql.push(" AND ")
            .push(column.sql())
            .push(" = ")
            .bind(Arg::Text(value.clone()));
    }
    for prefix in &population.site_within {
        sql.and_within("s.path", Some(prefix));
    }
    if population.no_site {
        sql.push(" AND t.site_id IS NULL");
    }
    sql
}

/// The population's facts summed per pair of `dimension` values.
pub async fn by_group(
    db: &Db,
    tenant_id: &str,
    population: &Population,
    dimension: Dimension,
) -> Result<Vec<GroupFacts>, StoreError> {
    let inner = ticket_facts_sql(db, tenant_id, population, dimension);
    let sums: Vec<String> = FACT_NAMES
        .iter()
        .map(|name| format!("CAST(SUM(f.{name}) AS BIGINT) AS {name}"))
        .collect();
    let sql = inner.wrap(
        &format!(
            "SELECT f.dim_a AS dim_a, f.dim_b AS dim_b, {} FROM (",
            sums.join(", ")
        ),
        ") f GROUP BY f.dim_a, f.dim_b",
    );
    Ok(sql.build_as().fetch_all(db.reader()).await?)
}

/// Hands the population's tickets with their facts to `visit`, oldest first, one row at a
/// time: a drill-down keeps a page of them, not the month's tickets.
pub async fn each_ticket(
    db: &Db,
    tenant_id: &str,
    population: &Population,
    dimension: Dimension,
    mut visit: impl FnMut(TicketFacts),
) -> Result<(), StoreError> {
    let mut sql = ticket_facts_sql(db, tenant_id, population, dimension);
    sql.push(" ORDER BY t.created_at, t.id");
    let mut rows = sql.build_as().fetch(db.reader());
    while let Some(row) = rows.try_next().await? {
        visit(row);
    }
    Ok(())
}

/// A ticket attribute a dashboard dataset groups by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attribute {
    Status,
    Priority,
    Category,
    Channel,
    Queue,
    Team,
    /// The ticket's site id.
    Site,
}

impl Attribute {
    fn sql(self) -> &'static str {
        match self {
            Attribute::Status => "f.status",
            Attribute::Priority => "f.priority",
            Attribute::Category => "f.category",
            Attribute::Channel => "f.channel",
            Attribute::Queue => "f.queue",
            Attribute::Team => "f.team",
            Attribute::Site => "f.site_id",
        }
    }
}

/// The most attributes a dataset groups by.
pub const MAX_ATTRIBUTES: usize = 3;

/// The counts behind a dataset's measures for one group of tickets; `values` holds the
/// group's attribute values in the order asked for (unused ones are `None`).
#[derive(Clone, Debug)]
pub struct AttributeGroup {
    pub g1: Option<String>,
    pub g2: Option<String>,
    pub g3: Option<String>,
    pub tickets: i64,
    pub open: i64,
    pub resolved: i64,
    pub critical: i64,
    /// The sum of the open tickets' creation times (Unix ms), for their mean age.
    pub open_created_ms: i64,
}

crate::store::from_row!(AttributeGroup {
    g1,
    g2,
    g3,
    tickets,
    open,
    resolved,
    critical,
    open_created_ms
});

/// The population's ticket counts per combination of `attributes` (at most
/// [`MAX_ATTRIBUTES`]), with the same open and resolved definitions as the KPI reports.
/// Without attributes, one row for the whole population.
pub async fn by_attributes(
    db: &Db,
    tenant_id: &str,
    population: &Population,
    attributes: &[Attribute],
) -> Result<Vec<AttributeGroup>, StoreError> {
    let mut groups = attributes.iter().map(|a| a.sql());
    let selected: Vec<String> = ["g1", "g2", "g3"]
        .iter()
        .map(|alias| {
            let column = groups.next().unwrap_or("CAST(NULL AS TEXT)");
            format!("{column} AS {alias}")
        })
        .collect();
    let group_by = if attributes.is_empty() {
        String::new()
    } else {
        let columns: Vec<&str> = attributes.iter().map(|a| a.sql()).collect();
        format!(" GROUP BY {}", columns.join(", "))
    };
    let sql = ticket_facts_sql(db, tenant_id, population, Dimension::Total).wrap(
        &format!(
            "SELECT {}, CAST(COALESCE(SUM(f.tickets), 0) AS BIGINT) AS tickets, \
             CAST(COALESCE(SUM(f.open), 0) AS BIGINT) AS open, \
             CAST(COALESCE(SUM(f.resolved), 0) AS BIGINT) AS resolved, \
             CAST(COALESCE(SUM(CASE WHEN f.priority = 'critical' THEN 1 ELSE 0 END), 0) AS BIGINT) \
             AS critical, \
             CAST(COALESCE(SUM(CASE WHEN f.open > 0 THEN f.created_at ELSE 0 END), 0) AS BIGINT) \
             AS open_created_ms FROM (",
            selected.join(", ")
        ),
        &format!(") f{group_by}"),
    );
    Ok(sql.build_as().fetch_all(db.reader()).await?)
}

/// A site's kind, name and path, for deriving and labelling groups.
#[derive(Clone, Debug)]
pub struct SiteLabel {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub path: String,
}

crate::store::from_row!(SiteLabel {
    id,
    kind,
    name,
    path
});

/// Every site of the tenant (a tree of dozens to hundreds of rows).
pub async fn sites(db: &Db, tenant_id: &str) -> Result<Vec<SiteLabel>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, kind, name, path FROM sites WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(db.reader())
            .await?,
    )
}

/// Agents' names by id, for labelling assignee groups.
pub async fn agent_names(db: &Db, tenant_id: &str) -> Result<Vec<(String, String)>, StoreError> {
    Ok(
        sqlx::query_as("SELECT id, name FROM agents WHERE tenant_id = $1")
            .bind(tenant_id)
            .fetch_all(db.reader())
            .await?,
    )
}

#[cfg(test)]
mod tests {
    use sqlx::Row;

    use super::*;

    /// SQLite's plan for the per-ticket facts, one line per step.
    async fn sqlite_plan(dimension: Dimension) -> Vec<String> {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = Db::open_embedded(dir.path()).await.expect("open SQLite");
        let population = Population {
            from_ms: 0,
            to_ms: i64::MAX,
            site_within: vec!["/r1/".to_owned()],
            ..Population::default()
        };
        let explain =
            ticket_facts_sql(&db, "tenant", &population, dimension).wrap("EXPLAIN QUERY PLAN ", "");
        explain
            .build()
            .fetch_all(db.reader())
            .await
            .expect("explain the facts")
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect()
    }

    #[tokio::test]
    async fn on_sqlite_every_per_ticket_aggregate_is_an_index_lookup_and_nothing_is_materialised() {
        for dimension in [Dimension::Total, Dimension::SitePathTeam] {
            let plan = sqlite_plan(dimension).await;
            for step in &plan {
                assert!(
                    !step.contains("MATERIALIZE")
                        && !step.contains("AUTOMATIC")
                        && !step.starts_with("SCAN"),
                    "{step} in {plan:#?}"
                );
            }
            let aggregates: usize = CHILDREN.iter().map(|c| c.aggregates.len()).sum();
            let lookups = plan
                .iter()
                .filter(|step| step.contains("(tenant_id=? AND ticket_id=?"))
                .count();
            assert_eq!(lookups, aggregates, "{plan:#?}");
        }
    }
}
