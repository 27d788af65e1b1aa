//! Notifications on a ticket, and the tenant's webhook signing secret.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::delivery::webhook::SIGNATURE_HEADER;
use crate::domain::notifications::OutboxEntry;
use crate::service::notifications::{self, NewNotification};

/// A ticket's notifications with their delivery state, oldest first.
#[utoipa::path(
    get,
    path = "/tickets/{id}/notifications",
    operation_id = "notifications_list",
    tag = "notifications",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = Items<OutboxEntry>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Items<OutboxEntry>>, ApiError> {
    super::tickets::visible(&caller, &state, &id).await?;
    let items = notifications::list(&state.core, &caller.tenant_id, &id).await?;
    Ok(Json(items.into()))
}

/// Queues an SMS, email or webhook on a ticket.
///
/// A tenant may queue 60 at once and 120 a minute on each node; past that, 429 with
/// `Retry-After`.
#[utoipa::path(
    post,
    path = "/tickets/{id}/notifications",
    operation_id = "notifications_send",
    tag = "notifications",
    params(("id" = String, Path, description = "The ticket's id")),
    request_body = NewNotification,
    responses(
        (status = 201, description = "Created", body = OutboxEntry),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
        (status = 429, response = doc::TooManyRequests),
    ),
)]
pub async fn send(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<NewNotification>,
) -> Result<(StatusCode, Json<OutboxEntry>), ApiError> {
    super::tickets::visible(&caller, &state, &id).await?;
    state.limits.notification(&caller.tenant_id)?;
    let entry =
        notifications::send(&state.core, &caller.tenant_id, &caller.actor(), &id, body).await?;
    Ok((StatusCode::CREATED, Json(entry)))
}

/// The secret webhooks are signed with, and how to check a signature.
///
/// Created on first use. Admin keys only.
#[utoipa::path(
    get,
    path = "/webhook-secret",
    operation_id = "notifications_webhook_secret",
    tag = "notifications",
    responses(
        (status = 200, description = "OK", body = Object),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn webhook_secret(
    // One secret signs every webhook of the tenant: a dealer's admin must not forge them.
    caller: TenantAdmin,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let secret = notifications::webhook_secret(&state.core, &caller.tenant_id).await?;
    Ok(Json(serde_json::json!({
        "secret": secret.secret,
        "created_at": secret.created_at,
        "header": SIGNATURE_HEADER,
        "scheme": "t=<unix seconds>,v1=<hex HMAC-SHA256(secret, \"<t>.<raw body>\")>",
    })))
}
