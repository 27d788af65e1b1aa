//! Surveys: the customer's unauthenticated form (the token in the path is the only
//! credential), and the agents' view of a ticket's surveys.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use crate::domain::Survey;
use crate::service::surveys::{self, AnswerRequest, Answered, SurveyForm};

/// `GET /api/v1/surveys/{token}`: the questions and the ticket's subject. No API key.
pub async fn form(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> Result<Json<SurveyForm>, ApiError> {
    Ok(Json(surveys::form(&state.core, &token).await?))
}

/// `POST /api/v1/surveys/{token}`: the one answer the token allows. No API key.
pub async fn answer(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
    ApiJson(body): ApiJson<AnswerRequest>,
) -> Result<(StatusCode, Json<Answered>), ApiError> {
    let answered = surveys::answer(&state.core, &token, body).await?;
    Ok((StatusCode::CREATED, Json(answered)))
}

/// `GET /api/v1/tickets/{id}/surveys`: the surveys issued for a ticket, oldest first,
/// with their answers.
pub async fn for_ticket(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(ticket_id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items: Vec<Survey> =
        surveys::for_ticket(&state.core, &caller.tenant_id, &ticket_id).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}
