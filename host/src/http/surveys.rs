//! Surveys: the customer's unauthenticated form (the token in the path is the only
//! credential), and the agents' view of a ticket's surveys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::domain::records::Survey;
use crate::service::surveys::{self, AnswerRequest, Answered, SurveyForm};

/// A survey's questions and the ticket's subject.
///
/// No API key: the token in the link is the only credential.
#[utoipa::path(
    get,
    path = "/surveys/{token}",
    operation_id = "surveys_form",
    tag = "surveys",
    params(("token" = String, Path, description = "The token from the customer's survey link")),
    responses(
        (status = 200, description = "OK", body = SurveyForm),
        (status = 404, response = doc::NotFound),
        (status = 410, response = doc::Gone),
    ),
)]
pub async fn form(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SurveyForm>, ApiError> {
    Ok(Json(surveys::form(&state.core, &token).await?))
}

/// Answers a survey; a token allows one answer.
///
/// No API key: the token in the link is the only credential.
#[utoipa::path(
    post,
    path = "/surveys/{token}",
    operation_id = "surveys_answer",
    tag = "surveys",
    params(("token" = String, Path, description = "The token from the customer's survey link")),
    request_body = AnswerRequest,
    responses(
        (status = 201, description = "Created", body = Answered),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 410, response = doc::Gone),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn answer(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerRequest>,
) -> Result<(StatusCode, Json<Answered>), ApiError> {
    let answered = surveys::answer(&state.core, &token, body).await?;
    Ok((StatusCode::CREATED, Json(answered)))
}

/// The surveys issued for a ticket, oldest first, with their answers.
#[utoipa::path(
    get,
    path = "/tickets/{id}/surveys",
    operation_id = "surveys_for_ticket",
    tag = "surveys",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = Items<Survey>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn for_ticket(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
) -> Result<Json<Items<Survey>>, ApiError> {
    super::tickets::visible(&caller, &state, &ticket_id).await?;
    let items = surveys::for_ticket(&state.core, &caller.tenant_id, &ticket_id).await?;
    Ok(Json(items.into()))
}
