//! Notifications on a ticket, and the tenant's webhook signing secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use crate::delivery::webhook::SIGNATURE_HEADER;
use crate::service::notifications::{self, NewNotification};
use crate::store::outbox::OutboxEntry;
use crate::store::webhook_secrets;

/// `GET /api/v1/tickets/{id}/notifications`: every notification of the ticket with its
/// delivery state (status, attempts, last_error, delivered_at), oldest first.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let items = notifications::list(&state.core, &caller.tenant_id, &id).await?;
    Ok(Json(serde_json::json!({ "items": items })))
}

/// `POST /api/v1/tickets/{id}/notifications`: queues an SMS, email or webhook on the ticket.
pub async fn send(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewNotification>,
) -> Result<(StatusCode, Json<OutboxEntry>), ApiError> {
    let entry =
        notifications::send(&state.core, &caller.tenant_id, &caller.actor(), &id, body).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// `GET /api/v1/webhook-secret`: the secret webhooks are signed with (created on first
/// use), and how to check a signature. Admins only.
pub async fn webhook_secret(
    caller: Caller,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    caller.require_admin()?;
    let secret = webhook_secrets::get_or_create(&state.core.db, &caller.tenant_id).await?;
    Ok(Json(serde_json::json!({
        "secret": secret.secret,
        "created_at": secret.created_at,
        "header": SIGNATURE_HEADER,
        "scheme": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>",
    })))
}
