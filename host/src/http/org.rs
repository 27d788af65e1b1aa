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
use crate::domain::org::{Agent, AgentRole, Site, SiteKind, Team};
use crate::domain::page::Paged;
use crate::service::org::{self, AgentBody, SiteBody, SiteChange, TeamBody};

/// Creates a site under its parent tier.
///
/// The OEM is the root, one per tenant, without a parent; a region hangs under the OEM, a
/// dealer under a region, a station under a dealer.
#[utoipa::path(
    post,
    path = "/sites",
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
)]
pub async fn create_site(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SiteBody>,
) -> Result<(StatusCode, Json<Site>), ApiError> {
    let site = org::create_site(&state.core, caller.access(), body).await?;
    Ok((StatusCode::CREATED, Json(site)))
}

/// Changes a site's name, service area, opening hours or time zone.
#[utoipa::path(
    patch,
    path = "/sites/{id}",
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
)]
pub async fn update_site(
    caller: Admin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<SiteChange>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(
        org::update_site(&state.core, caller.access(), &id, change).await?,
    ))
}

/// One site.
#[utoipa::path(
    get,
    path = "/sites/{id}",
    operation_id = "org_get_site",
    tag = "org",
    params(("id" = String, Path, description = "The site's id")),
    responses(
        (status = 200, description = "OK", body = Site),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get_site(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Site>, ApiError> {
    Ok(Json(caller.access().site(&state.core, &id).await?))
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
    path = "/sites",
    operation_id = "org_list_sites",
    tag = "org",
    params(SiteQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Site>),
    ),
)]
pub async fn list_sites(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<SiteQuery>,
) -> Result<Json<Paged<Site>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        org::list_sites(
            &state.core,
            caller.access(),
            query.kind,
            query.parent_id,
            &page,
        )
        .await?,
    ))
}

/// Creates a team at a site.
#[utoipa::path(
    post,
    path = "/teams",
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
)]
pub async fn create_team(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<TeamBody>,
) -> Result<(StatusCode, Json<Team>), ApiError> {
    let team = org::create_team(&state.core, caller.access(), body).await?;
    Ok((StatusCode::CREATED, Json(team)))
}

/// One team.
#[utoipa::path(
    get,
    path = "/teams/{id}",
    operation_id = "org_get_team",
    tag = "org",
    params(("id" = String, Path, description = "The team's id")),
    responses(
        (status = 200, description = "OK", body = Team),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get_team(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Team>, ApiError> {
    Ok(Json(org::team(&state.core, caller.access(), &id).await?))
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
    path = "/teams",
    operation_id = "org_list_teams",
    tag = "org",
    params(TeamQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Team>),
    ),
)]
pub async fn list_teams(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<TeamQuery>,
) -> Result<Json<Paged<Team>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        org::list_teams(
            &state.core,
            caller.access(),
            query.site_id,
            query.skill,
            &page,
        )
        .await?,
    ))
}

/// Creates an agent in a team.
#[utoipa::path(
    post,
    path = "/agents",
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
)]
pub async fn create_agent(
    caller: Admin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<AgentBody>,
) -> Result<(StatusCode, Json<Agent>), ApiError> {
    let agent = org::create_agent(&state.core, caller.access(), body).await?;
    Ok((StatusCode::CREATED, Json(agent)))
}

/// One agent.
#[utoipa::path(
    get,
    path = "/agents/{id}",
    operation_id = "org_get_agent",
    tag = "org",
    params(("id" = String, Path, description = "The agent's id")),
    responses(
        (status = 200, description = "OK", body = Agent),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get_agent(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Agent>, ApiError> {
    Ok(Json(org::agent(&state.core, caller.access(), &id).await?))
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
    path = "/agents",
    operation_id = "org_list_agents",
    tag = "org",
    params(AgentQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Agent>),
    ),
)]
pub async fn list_agents(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<AgentQuery>,
) -> Result<Json<Paged<Agent>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        org::list_agents(
            &state.core,
            caller.access(),
            query.team_id,
            query.role,
            &page,
        )
        .await?,
    ))
}
