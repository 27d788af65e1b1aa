//! The work log of a ticket.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::page::Paged;
use crate::domain::records::Interaction;
use crate::service::interactions::{self, NewInteractionRequest};

/// Logs a call, email, chat, visit or note on a ticket.
///
/// The caller's key is the actor.
#[utoipa::path(
    post,
    path = "/tickets/{id}/interactions",
    operation_id = "interactions_create",
    tag = "interactions",
    params(("id" = String, Path, description = "The ticket's id")),
    request_body = NewInteractionRequest,
    responses(
        (status = 201, description = "Created", body = Interaction),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
    ApiJson(body): ApiJson<NewInteractionRequest>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
    super::tickets::visible(&caller, &state, &ticket_id).await?;
    let interaction = interactions::log(
        &state.core,
        &caller.tenant_id,
        &caller.actor(),
        &ticket_id,
        body,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(interaction)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
}

/// A ticket's interactions, most recently logged first.
#[utoipa::path(
    get,
    path = "/tickets/{id}/interactions",
    operation_id = "interactions_list",
    tag = "interactions",
    params(("id" = String, Path, description = "The ticket's id"), ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Interaction>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Interaction>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    super::tickets::visible(&caller, &state, &ticket_id).await?;
    Ok(Json(
        interactions::list(&state.core, &caller.tenant_id, &ticket_id, &page).await?,
    ))
}
