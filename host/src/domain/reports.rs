//! What a KPI report counts: a population of tickets, narrowed by column equalities and site subtrees.

/// Which tickets a report counts: those of a tenant created in `[from_ms, to_ms)`.
#[derive(Clone, Debug, Default)]
pub struct Population {
    pub from_ms: i64,
    pub to_ms: i64,
    /// Column equalities every ticket must meet (filters and a drill-down's group).
    pub equal: Vec<(Column, String)>,
    /// Path prefixes the ticket's site must have (a scoped key, a site filter, a group).
    /// A ticket without a site fails any of them.
    pub site_within: Vec<String>,
    /// Only tickets without a site (the null group of a site-based grouping).
    pub no_site: bool,
}

/// A ticket column a population may be narrowed by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Category,
    Channel,
    Priority,
    Team,
    Assignee,
    SiteId,
}
