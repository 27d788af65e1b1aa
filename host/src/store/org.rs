//! The org tree of a tenant (OEM → region → dealer → station), its teams and agents.
//! List queries take an optional subtree (`within`, a site path prefix) so a key scoped to
//! a dealer sees only that dealer's part of the tree.

use sqlx::AssertSqlSafe;

use super::{StoreError, finish_page_by, json_column, to_json};
use crate::db::{Arg, Db, SqlBuilder};
use crate::domain::hours::OpeningHours;
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::org::{Agent, AgentRole, Site, SiteKind, Team};
use crate::domain::page::{Page, Paged};

struct SiteRow {
    id: String,
    parent_id: Option<String>,
    kind: String,
    code: String,
    name: String,
    path: String,
    service_area: String,
    opening_hours: String,
    timezone: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(SiteRow => Site, from "sites" {
    id,
    parent_id,
    kind,
    code,
    name,
    path,
    service_area,
    opening_hours,
    timezone,
    created_at,
    updated_at
});

impl SiteRow {
    fn into_domain(self) -> Result<Site, StoreError> {
        Ok(Site {
            kind: SiteKind::parse(&self.kind)
                .ok_or_else(|| StoreError::Corrupt(format!("site kind `{}`", self.kind)))?,
            service_area: json_column("sites.service_area", &self.service_area)?,
            opening_hours: json_column("sites.opening_hours", &self.opening_hours)?,
            id: self.id,
            parent_id: self.parent_id,
            code: self.code,
            name: self.name,
            path: self.path,
            timezone: self.timezone,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

/// A site to create; the caller has checked the parent and the tier.
#[derive(Clone, Debug)]
pub struct NewSite {
    pub parent: Option<Site>,
    pub kind: SiteKind,
    pub code: String,
    pub name: String,
    pub service_area: Vec<String>,
    pub opening_hours: OpeningHours,
    pub timezone: String,
}

/// Creates a site under its parent.
pub async fn insert_site(db: &Db, tenant_id: &str, new: NewSite) -> Result<Site, StoreError> {
    let id = new_id();
    let now = now_ms();
    let path = match &new.parent {
        Some(parent) => format!("{}{id}/", parent.path),
        None => format!("/{id}/"),
    };
    let code = new.code.clone();
    sqlx::query(
        "INSERT INTO sites (id, tenant_id, parent_id, kind, code, name, path, service_area, opening_hours, \
         timezone, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(new.parent.as_ref().map(|p| p.id.clone()))
    .bind(new.kind.as_str())
    .bind(&new.code)
    .bind(&new.name)
    .bind(&path)
    .bind(to_json(&new.service_area))
    .bind(to_json(&new.opening_hours))
    .bind(&new.timezone)
    .bind(now)
    .execute(db.writer())
    .await
    .map_err(|err| StoreError::conflict_on_unique(err, || format!("site code `{code}` is already used in this tenant")))?;
    Ok(Site {
        id,
        parent_id: new.parent.map(|p| p.id),
        kind: new.kind,
        code: new.code,
        name: new.name,
        service_area: new.service_area,
        opening_hours: new.opening_hours,
        timezone: new.timezone,
        path,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    })
}

/// Writes a site's name, service area, opening hours and time zone.
pub async fn update_site(db: &Db, tenant_id: &str, mut site: Site) -> Result<Site, StoreError> {
    let now = now_ms();
    sqlx::query(
        "UPDATE sites SET name = $1, service_area = $2, opening_hours = $3, timezone = $4, updated_at = $5 \
         WHERE tenant_id = $6 AND id = $7",
    )
    .bind(&site.name)
    .bind(to_json(&site.service_area))
    .bind(to_json(&site.opening_hours))
    .bind(&site.timezone)
    .bind(now)
    .bind(tenant_id)
    .bind(&site.id)
    .execute(db.writer())
    .await?;
    site.updated_at = rfc3339(now);
    Ok(site)
}

/// A site of the tenant, read from the pool (`db.reader()`) or inside a transaction.
pub async fn site<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant_id: &str,
    id: &str,
) -> Result<Option<Site>, StoreError> {
    super::select_optional::<SiteRow>(db, "WHERE tenant_id = $1 AND id = $2", &[tenant_id, id])
        .await
}

/// Whether the tenant already has a root (OEM) site.
pub async fn has_root(db: &Db, tenant_id: &str) -> Result<bool, StoreError> {
    Ok(
        sqlx::query("SELECT id FROM sites WHERE tenant_id = $1 AND parent_id IS NULL")
            .bind(tenant_id)
            .fetch_optional(db.reader())
            .await?
            .is_some(),
    )
}

/// Site list filters.
#[derive(Clone, Debug, Default)]
pub struct SiteFilter {
    pub kind: Option<SiteKind>,
    pub parent_id: Option<String>,
    /// Only sites in the subtree with this path prefix.
    pub within: Option<String>,
    /// Narrows to sites whose service area may name this city or postcode, so a lookup
    /// reads the few candidates instead of every site. A prefilter: callers still check
    /// [`Site::serves`]. Ignored for an area SQL cannot compare as `serves` does.
    pub may_serve: Option<String>,
}

/// The `LIKE` pattern for [`SiteFilter::may_serve`], lower-cased; `None` when SQL's
/// case folding (ASCII only on SQLite) or the column's JSON quoting could miss a site
/// `serves` would find.
fn service_area_pattern(area: &str) -> Option<String> {
    let area = area.trim();
    let comparable = area.chars().all(|c| {
        (c.is_ascii() || !(c.is_lowercase() || c.is_uppercase()))
            && !c.is_control()
            && !matches!(c, '"' | '\\')
    });
    (comparable && !area.is_empty())
        .then(|| crate::domain::text_search::like_pattern(&area.to_lowercase()))
}

/// The tenant's sites, newest first.
pub async fn list_sites(
    db: &Db,
    tenant_id: &str,
    filter: &SiteFilter,
    page: &Page,
) -> Result<Paged<Site>, StoreError> {
    let mut sql = super::tenant_rows::<SiteRow>(tenant_id);
    sql.and_eq(
        "kind",
        filter.kind.map(|k| Arg::Text(k.as_str().to_owned())),
    )
    .and_eq("parent_id", filter.parent_id.clone().map(Arg::Text));
    sql.and_within("path", filter.within.as_deref());
    if let Some(pattern) = filter.may_serve.as_deref().and_then(service_area_pattern) {
        sql.push(" AND LOWER(service_area) LIKE ")
            .bind(Arg::Text(pattern))
            .push(" ESCAPE '\\'");
    }
    super::select_page::<SiteRow>(db, sql, page).await
}

struct TeamRow {
    id: String,
    site_id: String,
    name: String,
    skills: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(TeamRow {
    id,
    site_id,
    name,
    skills,
    created_at,
    updated_at
});

impl TeamRow {
    fn into_domain(self) -> Result<Team, StoreError> {
        Ok(Team {
            skills: json_column("teams.skills", &self.skills)?,
            id: self.id,
            site_id: self.site_id,
            name: self.name,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

const TEAM_COLUMNS: &str =
    "teams.id, teams.site_id, teams.name, teams.skills, teams.created_at, teams.updated_at";

/// Creates a team at `site_id`.
pub async fn insert_team(
    db: &Db,
    tenant_id: &str,
    site_id: &str,
    name: &str,
    skills: &[String],
) -> Result<Team, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO teams (id, tenant_id, site_id, name, skills, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(site_id)
    .bind(name)
    .bind(to_json(&skills))
    .bind(now)
    .execute(db.writer())
    .await
    .map_err(|err| StoreError::conflict_on_unique(err, || format!("this site already has a team named `{name}`")))?;
    Ok(Team {
        id,
        site_id: site_id.to_owned(),
        name: name.to_owned(),
        skills: skills.to_vec(),
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    })
}

/// A team of the tenant, with its site's path.
pub async fn team(
    db: &Db,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Team, String)>, StoreError> {
    let row = sqlx::query_as::<_, TeamRow>(AssertSqlSafe(format!(
        "SELECT {TEAM_COLUMNS} FROM teams WHERE teams.tenant_id = $1 AND teams.id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let team = row.into_domain()?;
    let site = site(db.reader(), tenant_id, &team.site_id)
        .await?
        .ok_or(StoreError::NotFound("site"))?;
    Ok(Some((team, site.path)))
}

/// Team list filters.
#[derive(Clone, Debug, Default)]
pub struct TeamFilter {
    pub site_id: Option<String>,
    pub skill: Option<String>,
    pub within: Option<String>,
}

/// The tenant's teams, newest first.
pub async fn list_teams(
    db: &Db,
    tenant_id: &str,
    filter: &TeamFilter,
    page: &Page,
) -> Result<Paged<Team>, StoreError> {
    let mut sql = SqlBuilder::new(&format!(
        "SELECT {TEAM_COLUMNS} FROM teams JOIN sites ON sites.id = teams.site_id WHERE teams.tenant_id = "
    ));
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .and_eq("teams.site_id", filter.site_id.clone().map(Arg::Text));
    sql.and_within("sites.path", filter.within.as_deref());
    if let Some(skill) = &filter.skill {
        // Skills are a JSON array of strings; match the quoted element.
        sql.push(" AND teams.skills LIKE ")
            .bind(Arg::Text(format!("%{}%", serde_json::json!(skill))));
    }
    finish_page_by(&mut sql, page, "teams.id");
    let rows: Vec<TeamRow> = sql.build_as().fetch_all(db.reader()).await?;
    Paged::from_rows(rows, page.limit, |row| &row.id).try_map(TeamRow::into_domain)
}

struct AgentRow {
    id: String,
    team_id: String,
    name: String,
    email: Option<String>,
    phone: Option<String>,
    role: String,
    active: i64,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(AgentRow {
    id,
    team_id,
    name,
    email,
    phone,
    role,
    active,
    created_at,
    updated_at
});

impl AgentRow {
    fn into_domain(self) -> Result<Agent, StoreError> {
        Ok(Agent {
            role: AgentRole::parse(&self.role)
                .ok_or_else(|| StoreError::Corrupt(format!("agent role `{}`", self.role)))?,
            id: self.id,
            team_id: self.team_id,
            name: self.name,
            email: self.email,
            phone: self.phone,
            active: self.active != 0,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

const AGENT_COLUMNS: &str = "agents.id, agents.team_id, agents.name, agents.email, agents.phone, agents.role, \
                             agents.active, agents.created_at, agents.updated_at";

/// An agent to create.
#[derive(Clone, Debug)]
pub struct NewAgent {
    pub team_id: String,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub role: AgentRole,
}

/// Creates an agent in a team.
pub async fn insert_agent(db: &Db, tenant_id: &str, new: NewAgent) -> Result<Agent, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO agents (id, tenant_id, team_id, name, email, phone, role, active, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 1, $8, $8)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&new.team_id)
    .bind(&new.name)
    .bind(&new.email)
    .bind(&new.phone)
    .bind(new.role.as_str())
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(Agent {
        id,
        team_id: new.team_id,
        name: new.name,
        email: new.email,
        phone: new.phone,
        role: new.role,
        active: true,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    })
}

/// Agent list filters.
#[derive(Clone, Debug, Default)]
pub struct AgentFilter {
    pub team_id: Option<String>,
    pub role: Option<AgentRole>,
    pub within: Option<String>,
}

/// The tenant's agents, newest first.
pub async fn list_agents(
    db: &Db,
    tenant_id: &str,
    filter: &AgentFilter,
    page: &Page,
) -> Result<Paged<Agent>, StoreError> {
    let mut sql = SqlBuilder::new(&format!(
        "SELECT {AGENT_COLUMNS} FROM agents JOIN teams ON teams.id = agents.team_id \
         JOIN sites ON sites.id = teams.site_id WHERE agents.tenant_id = "
    ));
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .and_eq("agents.team_id", filter.team_id.clone().map(Arg::Text))
        .and_eq(
            "agents.role",
            filter.role.map(|r| Arg::Text(r.as_str().to_owned())),
        );
    sql.and_within("sites.path", filter.within.as_deref());
    finish_page_by(&mut sql, page, "agents.id");
    let rows: Vec<AgentRow> = sql.build_as().fetch_all(db.reader()).await?;
    Paged::from_rows(rows, page.limit, |row| &row.id).try_map(AgentRow::into_domain)
}

/// An agent of the tenant, with its site's path.
pub async fn agent(
    db: &Db,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Agent, String)>, StoreError> {
    let row = sqlx::query_as::<_, AgentRow>(AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents WHERE agents.tenant_id = $1 AND agents.id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let agent = row.into_domain()?;
    let (_, path) = team(db, tenant_id, &agent.team_id)
        .await?
        .ok_or(StoreError::NotFound("team"))?;
    Ok(Some((agent, path)))
}

/// The managers of the team named `team` at `site_id`, for escalations.
pub async fn managers(
    db: &Db,
    tenant_id: &str,
    site_id: &str,
    team: &str,
) -> Result<Vec<Agent>, StoreError> {
    let rows: Vec<AgentRow> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {AGENT_COLUMNS} FROM agents JOIN teams ON teams.id = agents.team_id \
         WHERE agents.tenant_id = $1 AND teams.site_id = $2 AND teams.name = $3 AND agents.role = 'manager' \
         AND agents.active = 1 ORDER BY agents.id"
    )))
    .bind(tenant_id)
    .bind(site_id)
    .bind(team)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter().map(AgentRow::into_domain).collect()
}

/// The tenant's root (OEM) site.
pub async fn root<'e>(
    db: impl sqlx::Executor<'e, Database = sqlx::Any>,
    tenant_id: &str,
) -> Result<Option<Site>, StoreError> {
    super::select_optional::<SiteRow>(
        db,
        "WHERE tenant_id = $1 AND parent_id IS NULL",
        &[tenant_id],
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::service_area_pattern;

    #[test]
    fn a_service_area_prefilter_is_lowercased_and_escaped_or_skipped_when_sql_could_miss() {
        assert_eq!(service_area_pattern(" 上海 ").as_deref(), Some("%上海%"));
        assert_eq!(
            service_area_pattern("ShangHai").as_deref(),
            Some("%shanghai%")
        );
        assert_eq!(
            service_area_pattern("200_000").as_deref(),
            Some("%200\\_000%")
        );
        // SQLite folds ASCII case only, and the column is JSON text: no prefilter.
        assert_eq!(service_area_pattern("München"), None);
        assert_eq!(service_area_pattern("a\"b"), None);
        assert_eq!(service_area_pattern("  "), None);
    }
}
