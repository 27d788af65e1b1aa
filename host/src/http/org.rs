//! The org tree: sites (OEM → region → dealer → station), teams and agents. A key scoped
//! to a site reads and changes only that site's subtree.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Admin, Caller};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::hours::OpeningHours;
use crate::domain::org::{Agent, AgentRole, Site, SiteKind, Team};
use crate::domain::page::Paged;
use crate::service::{FieldError, ServiceError};
use crate::store::org::{self, AgentFilter, NewAgent, NewSite, SiteFilter, TeamFilter};

/// The time zone of sites that name none: Axle's first market is China.
const DEFAULT_TIMEZONE: &str = "Asia/Shanghai";

fn invalid(what: &str, errors: Vec<FieldError>) -> ApiError {
    ServiceError::Unprocessable {
        message: format!("the {what} is not valid"),
        errors,
    }
    .into()
}

fn field(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

fn check_timezone(timezone: &str, errors: &mut Vec<FieldError>) {
    if jiff::tz::TimeZone::get(timezone).is_err() {
        errors.push(field(
            "timezone",
            format!("`{timezone}` is not an IANA time zone such as Asia/Shanghai"),
        ));
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

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBody {
    kind: SiteKind,
    #[serde(default)]
    parent_id: Option<String>,
    #[serde(default)]
    code: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    service_area: Vec<String>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Vec<String>>)]
    opening_hours: OpeningHours,
    #[serde(default)]
    timezone: Option<String>,
}

/// Creates a site under its parent tier.
///
/// The OEM is the root, one per tenant, without a parent; a region hangs under the OEM, a
/// dealer under a region, a station under a dealer.
#[utoipa::path(
    post,
    path = "/api/v1/sites",
    operation_id = "org_create_site",
    tag = "org",
    request_body = SiteBody,
    responses(
        (status = 201, description = "Created", body = Site),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create_site(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SiteBody>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let mut errors = Vec::new();
    let parent = match &body.parent_id {
        Some(parent_id) => Some(caller.site(&state, parent_id).await?),
        None => None,
    };
    match (body.kind.parent(), &parent) {
        (None, Some(_)) => errors.push(field(
            "parent_id",
            "the OEM is the root of the tree and has no parent",
        )),
        (None, None) if caller.scope.is_some() => {
            return Err(ApiError::Forbidden(
                "a key scoped to a site cannot create the OEM root".to_owned(),
            ));
        }
        (None, None) if org::has_root(&state.core.db, &caller.tenant_id).await? => {
            errors.push(field("kind", "this tenant already has its OEM root site"));
        }
        (Some(expected), Some(parent)) if parent.kind != expected => errors.push(field(
            "parent_id",
            format!(
                "a {} hangs under a {}, not a {}",
                body.kind.as_str(),
                expected.as_str(),
                parent.kind.as_str()
            ),
        )),
        (Some(expected), None) => errors.push(field(
            "parent_id",
            format!(
                "a {} needs its parent {}",
                body.kind.as_str(),
                expected.as_str()
            ),
        )),
        _ => {}
    }
    let code = body.code.trim().to_owned();
    if code.is_empty() || code.len() > 32 {
        errors.push(field(
            "code",
            "a site needs a code of 1-32 characters, e.g. its dealer number",
        ));
    }
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.push(field("name", "must not be empty"));
    }
    let timezone = body.timezone.unwrap_or_else(|| DEFAULT_TIMEZONE.to_owned());
    check_timezone(&timezone, &mut errors);
    if !errors.is_empty() {
        return Err(invalid("site", errors));
    }
    let service_area = clean_list(body.service_area);
    if !service_area.is_empty() {
        // As for a change: a dealer's new station must not claim other dealers' areas.
        caller.whole_tenant("giving a station a service area")?;
    }
    let site = org::insert_site(
        &state.core.db,
        &caller.tenant_id,
        NewSite {
            parent,
            kind: body.kind,
            code,
            name,
            service_area,
            opening_hours: body.opening_hours,
            timezone,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(site)))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteChange {
    name: Option<String>,
    service_area: Option<Vec<String>>,
    #[schema(value_type = Option<BTreeMap<String, Vec<String>>>)]
    opening_hours: Option<OpeningHours>,
    timezone: Option<String>,
}

/// Changes a site's name, service area, opening hours or time zone.
#[utoipa::path(
    patch,
    path = "/api/v1/sites/{id}",
    operation_id = "org_update_site",
    tag = "org",
    params(("id" = String, Path, description = "The site's id")),
    request_body = SiteChange,
    responses(
        (status = 200, description = "OK", body = Site),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn update_site(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<SiteChange>,
) -> Result<Json<Site>, ApiError> {
    let mut site = caller.site(&state, &id).await?;
    let mut errors = Vec::new();
    if let Some(name) = change.name {
        match name.trim() {
            "" => errors.push(field("name", "must not be empty")),
            name => site.name = name.to_owned(),
        }
    }
    if let Some(timezone) = change.timezone {
        check_timezone(&timezone, &mut errors);
        site.timezone = timezone;
    }
    if !errors.is_empty() {
        return Err(invalid("site", errors));
    }
    if let Some(area) = change.service_area {
        // The dispatcher sends tickets by service area: a dealer widening its own would
        // pull in other dealers' customers.
        caller.whole_tenant("changing a station's service area")?;
        site.service_area = clean_list(area);
    }
    if let Some(hours) = change.opening_hours {
        site.opening_hours = hours;
    }
    Ok(Json(
        org::update_site(&state.core.db, &caller.tenant_id, site).await?,
    ))
}

/// One site.
#[utoipa::path(
    get,
    path = "/api/v1/sites/{id}",
    operation_id = "org_get_site",
    tag = "org",
    params(("id" = String, Path, description = "The site's id")),
    responses(
        (status = 200, description = "OK", body = Site),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn get_site(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(caller.site(&state, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct SiteQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    kind: Option<SiteKind>,
    parent_id: Option<String>,
}

/// Lists the sites the caller's key can see.
#[utoipa::path(
    get,
    path = "/api/v1/sites",
    operation_id = "org_list_sites",
    tag = "org",
    params(SiteQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Site>),
    ),
    security(("api_key" = [])),
)]
pub async fn list_sites(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SiteQuery>,
) -> Result<Json<Paged<Site>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = SiteFilter {
        kind: query.kind,
        parent_id: query.parent_id,
        within: caller.within(),
        may_serve: None,
    };
    Ok(Json(
        org::list_sites(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TeamBody {
    site_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    skills: Vec<String>,
}

/// Creates a team at a site.
#[utoipa::path(
    post,
    path = "/api/v1/teams",
    operation_id = "org_create_team",
    tag = "org",
    request_body = TeamBody,
    responses(
        (status = 201, description = "Created", body = Team),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create_team(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    let site = caller.site(&state, &body.site_id).await?;
    let name = body.name.trim();
    if name.is_empty() {
        return Err(invalid("team", vec![field("name", "must not be empty")]));
    }
    let skills: Vec<String> = clean_list(body.skills)
        .into_iter()
        .map(|s| s.to_lowercase())
        .collect();
    let team = org::insert_team(&state.core.db, &caller.tenant_id, &site.id, name, &skills).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// A team the caller may see.
async fn visible_team(caller: &Caller, state: &AppState, id: &str) -> Result<Team, ApiError> {
    org::team(&state.core.db, &caller.tenant_id, id)
        .await?
        .filter(|(_, path)| caller.sees(Some(path)))
        .map(|(team, _)| team)
        .ok_or(ApiError::NotFound("team"))
}

/// One team.
#[utoipa::path(
    get,
    path = "/api/v1/teams/{id}",
    operation_id = "org_get_team",
    tag = "org",
    params(("id" = String, Path, description = "The team's id")),
    responses(
        (status = 200, description = "OK", body = Team),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn get_team(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Team>, ApiError> {
    Ok(Json(visible_team(&caller, &state, &id).await?))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TeamQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    site_id: Option<String>,
    skill: Option<String>,
}

/// Lists teams.
#[utoipa::path(
    get,
    path = "/api/v1/teams",
    operation_id = "org_list_teams",
    tag = "org",
    params(TeamQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Team>),
    ),
    security(("api_key" = [])),
)]
pub async fn list_teams(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TeamQuery>,
) -> Result<Json<Paged<Team>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = TeamFilter {
        site_id: query.site_id,
        skill: query.skill.map(|s| s.trim().to_lowercase()),
        within: caller.within(),
    };
    Ok(Json(
        org::list_teams(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentBody {
    team_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default = "default_role")]
    role: AgentRole,
}

fn default_role() -> AgentRole {
    AgentRole::Agent
}

/// Creates an agent in a team.
#[utoipa::path(
    post,
    path = "/api/v1/agents",
    operation_id = "org_create_agent",
    tag = "org",
    request_body = AgentBody,
    responses(
        (status = 201, description = "Created", body = Agent),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create_agent(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let team = visible_team(&caller, &state, &body.team_id).await?;
    let mut errors = Vec::new();
    let name = body.name.trim().to_owned();
    if name.is_empty() {
        errors.push(field("name", "must not be empty"));
    }
    let country = crate::service::settings::phone_country(&state.core, &caller.tenant_id).await?;
    let phone = match body
        .phone
        .as_deref()
        .map(|raw| country.normalise(raw))
        .transpose()
    {
        Ok(phone) => phone,
        Err(message) => {
            errors.push(field("phone", message));
            None
        }
    };
    if !errors.is_empty() {
        return Err(invalid("agent", errors));
    }
    let agent = org::insert_agent(
        &state.core.db,
        &caller.tenant_id,
        NewAgent {
            team_id: team.id,
            name,
            email: body.email,
            phone,
            role: body.role,
        },
    )
    .await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

/// One agent.
#[utoipa::path(
    get,
    path = "/api/v1/agents/{id}",
    operation_id = "org_get_agent",
    tag = "org",
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "OK", body = Agent),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn get_agent(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Agent>, ApiError> {
    org::agent(&state.core.db, &caller.tenant_id, &id)
        .await?
        .filter(|(_, path)| caller.sees(Some(path)))
        .map(|(agent, _)| Json(agent))
        .ok_or(ApiError::NotFound("agent"))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AgentQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    team_id: Option<String>,
    role: Option<AgentRole>,
}

/// Lists agents.
#[utoipa::path(
    get,
    path = "/api/v1/agents",
    operation_id = "org_list_agents",
    tag = "org",
    params(AgentQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Agent>),
    ),
    security(("api_key" = [])),
)]
pub async fn list_agents(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AgentQuery>,
) -> Result<Json<Paged<Agent>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = AgentFilter {
        team_id: query.team_id,
        role: query.role,
        within: caller.within(),
    };
    Ok(Json(
        org::list_agents(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}
