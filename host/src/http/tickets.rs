//! Tickets.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantWide};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::items::Items;
use super::openapi as doc;
use crate::domain::audit::TicketEvent;
use crate::domain::page::Paged;
use crate::domain::records::{Priority, Ticket, TicketChannel, TicketFilter, TicketStatus};
use crate::service::tickets::{self, NewTicket, TicketChange, TicketView};

/// Turns a hotline call into a routed ticket.
///
/// 201 when new, 200 when the call id was already taken: then the reply is the ticket the
/// first attempt made. Tenant-wide keys only.
#[utoipa::path(
    post,
    path = "/intake/calls",
    operation_id = "tickets_intake",
    tag = "tickets",
    request_body = crate::service::intake::Call,
    responses(
        (status = 200, description = "Seen before: the ticket of the first attempt", body = crate::service::intake::Intake),
        (status = 201, description = "Created", body = crate::service::intake::Intake),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn intake(
    // The hotline takes calls for every dealer.
    caller: TenantWide,
    State(state): State<AppState>,
    ApiJson(call): ApiJson<crate::service::intake::Call>,
) -> Result<(StatusCode, Json<crate::service::intake::Intake>), ApiError> {
    let intake =
        crate::service::intake::take(&state.core, &caller.tenant_id, &caller.actor(), call).await?;
    let status = if intake.replayed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(intake)))
}

/// Creates a ticket and routes it.
///
/// A site-scoped key files the ticket at its own site unless it names one of its subtree.
#[utoipa::path(
    post,
    path = "/tickets",
    operation_id = "tickets_create",
    tag = "tickets",
    request_body = NewTicket,
    responses(
        (status = 201, description = "Created", body = TicketView),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(mut body): ApiJson<NewTicket>,
) -> Result<(StatusCode, Json<TicketView>), ApiError> {
    // A dealer's key files tickets at its own site unless it names one of its subtree.
    match (&body.site_id, &caller.scope) {
        (Some(site_id), Some(_)) => {
            caller.site(&state, site_id).await?;
        }
        (None, Some(scope)) => body.site_id = Some(scope.site_id.clone()),
        _ => {}
    }
    let view = tickets::create(&state.core, &caller.tenant_id, &caller.actor(), body).await?;
    Ok((StatusCode::CREATED, Json(view)))
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
    status: Option<TicketStatus>,
    priority: Option<Priority>,
    category: Option<String>,
    channel: Option<TicketChannel>,
    queue: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    customer_id: Option<String>,
    vehicle_id: Option<String>,
    /// Tickets at this site and every site below it.
    site_id: Option<String>,
}

/// Lists tickets, newest first.
///
/// A site-scoped key sees only its subtree's tickets.
#[utoipa::path(
    get,
    path = "/tickets",
    operation_id = "tickets_list",
    tag = "tickets",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Ticket>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Ticket>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = TicketFilter {
        status: query.status,
        priority: query.priority,
        category: query.category,
        channel: query.channel,
        queue: query.queue,
        team: query.team,
        assignee: query.assignee,
        customer_id: query.customer_id,
        vehicle_id: query.vehicle_id,
        site_id: None,
        site_within: None,
    };
    let under_site = query.site_id.as_deref();
    Ok(Json(
        tickets::list(&state.core, caller.access(), filter, under_site, &page).await?,
    ))
}

/// A ticket with its plugin decisions and notifications.
#[utoipa::path(
    get,
    path = "/tickets/{id}",
    operation_id = "tickets_get",
    tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = TicketView),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<TicketView>, ApiError> {
    let ticket = visible(&caller, &state, &id).await?;
    Ok(Json(
        tickets::view_of(&state.core, &caller.tenant_id, ticket).await?,
    ))
}

/// Changes a ticket.
///
/// Unset parts stay. A status change must be allowed from the current status; the 409 lists
/// the allowed ones.
#[utoipa::path(
    patch,
    path = "/tickets/{id}",
    operation_id = "tickets_update",
    tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    request_body = TicketChange,
    responses(
        (status = 200, description = "OK", body = TicketView),
        (status = 404, response = doc::NotFound),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TicketChange>,
) -> Result<Json<TicketView>, ApiError> {
    visible(&caller, &state, &id).await?;
    if let Some(site_id) = body.site_id.as_deref().filter(|_| caller.scope.is_some()) {
        caller.site(&state, site_id).await?;
    }
    Ok(Json(
        tickets::update(&state.core, &caller.tenant_id, &caller.actor(), &id, body).await?,
    ))
}

/// A ticket's timeline: every change, oldest first, with its actor.
#[utoipa::path(
    get,
    path = "/tickets/{id}/timeline",
    operation_id = "tickets_timeline",
    tag = "tickets",
    params(("id" = String, Path, description = "The ticket's id")),
    responses(
        (status = 200, description = "OK", body = Items<TicketEvent>),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn timeline(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Items<TicketEvent>>, ApiError> {
    let events = tickets::timeline(&state.core, caller.access(), &id).await?;
    Ok(Json(events.into()))
}

/// The ticket, or 404 unless it exists in the caller's tenant and, for a key scoped to a
/// site, sits in that site's subtree.
pub(super) async fn visible(
    caller: &Caller,
    state: &AppState,
    id: &str,
) -> Result<Ticket, ApiError> {
    Ok(tickets::visible(&state.core, caller.access(), id).await?)
}
