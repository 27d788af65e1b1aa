//! The work log of a ticket.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use crate::domain::Interaction;
use crate::service::interactions::{self, NewInteractionRequest};
use crate::store::Paged;
use crate::store::interactions as store;
use crate::store::tickets;

/// `POST /api/v1/tickets/{id}/interactions`: logs a call, email, chat, visit or note,
/// acted by the caller's key.
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
    ApiJson(body): ApiJson<NewInteractionRequest>,
) -> Result<(StatusCode, Json<Interaction>), ApiError> {
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
}

/// `GET /api/v1/tickets/{id}/interactions`: most recently logged first.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Interaction>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    if tickets::get(&state.core.db, &caller.tenant_id, &ticket_id)
        .await?
        .is_none()
    {
        return Err(ApiError::NotFound("ticket"));
    }
    Ok(Json(
        store::list(&state.core.db, &caller.tenant_id, &ticket_id, &page).await?,
    ))
}
