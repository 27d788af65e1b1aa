//! Logging interactions on a ticket: calls, emails, chats, visits and internal notes,
//! each with its timeline event.
//!
//! A closed ticket takes no new interactions (409): closing is final until someone
//! reopens it, and a contact worth logging is a reason to reopen. A resolved ticket still
//! takes them, since the customer calling back about a resolved ticket is exactly what
//! the work log (and first-contact resolution) must show.

use serde::Deserialize;

use super::tickets::Actor;
use super::{Core, FieldError, ServiceError};
use crate::domain::ids::{new_id, now_ms};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Direction, Interaction, InteractionKind, TicketStatus};
use crate::store::interactions::{self, NewInteraction};
use crate::store::{audit, tickets};

/// The longest handle time accepted: a day.
const MAX_HANDLE_TIME_SECONDS: i64 = 24 * 60 * 60;
/// The longest summary, in characters.
const MAX_SUMMARY_CHARS: usize = 500;
/// The longest body, in characters.
const MAX_BODY_CHARS: usize = 20_000;
/// How far in the future `occurred_at` may be, for clocks that run a little fast.
const CLOCK_SKEW_MS: i64 = 5 * 60 * 1000;

/// An interaction to log. Kind and direction are text so that a wrong value is reported
/// per field (422) with the others, not as malformed JSON.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInteractionRequest {
    #[serde(default)]
    pub kind: Option<String>,
    /// `inbound`, `outbound` or `internal`; notes are always internal and may omit it.
    #[serde(default)]
    pub direction: Option<String>,
    /// Required for calls, chats and visits.
    #[serde(default)]
    pub handle_time_seconds: Option<i64>,
    #[serde(default)]
    pub summary: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    /// RFC 3339; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<String>,
}

/// An interaction request that passed validation.
struct Checked {
    kind: InteractionKind,
    direction: Direction,
    handle_time_seconds: Option<i64>,
    summary: String,
    body: Option<String>,
    occurred_ms: i64,
}

fn field_error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Checks every field, reporting each problem.
fn check(input: NewInteractionRequest, now: i64) -> Result<Checked, Vec<FieldError>> {
    let mut errors = Vec::new();
    let kind = match input.kind.as_deref().map(str::trim) {
        None | Some("") => {
            errors.push(field_error(
                "kind",
                format!("required: one of {}", InteractionKind::expected()),
            ));
            None
        }
        Some(text) => InteractionKind::parse(text).or_else(|| {
            errors.push(field_error(
                "kind",
                format!(
                    "`{text}` is not an interaction kind: use one of {}",
                    InteractionKind::expected()
                ),
            ));
            None
        }),
    };
    let direction = match input.direction.as_deref().map(str::trim) {
        None | Some("") if kind == Some(InteractionKind::Note) => Some(Direction::Internal),
        None | Some("") => {
            errors.push(field_error(
                "direction",
                format!("required: one of {}", Direction::expected()),
            ));
            None
        }
        Some(text) => match Direction::parse(text) {
            Some(direction)
                if kind == Some(InteractionKind::Note) && direction != Direction::Internal =>
            {
                errors.push(field_error(
                    "direction",
                    format!("a note is internal, not {direction}; log a contact with the customer as call, email, chat or visit"),
                ));
                None
            }
            Some(direction) => Some(direction),
            None => {
                errors.push(field_error(
                    "direction",
                    format!(
                        "`{text}` is not a direction: use one of {}",
                        Direction::expected()
                    ),
                ));
                None
            }
        },
    };
    let handle_time_seconds = match input.handle_time_seconds {
        Some(seconds) if !(0..=MAX_HANDLE_TIME_SECONDS).contains(&seconds) => {
            errors.push(field_error(
                "handle_time_seconds",
                format!(
                    "{seconds} is out of range: give whole seconds from 0 to {MAX_HANDLE_TIME_SECONDS}"
                ),
            ));
            None
        }
        None if kind.is_some_and(InteractionKind::needs_handle_time) => {
            errors.push(field_error(
                "handle_time_seconds",
                format!(
                    "required for a {}: the agent's time on it in seconds",
                    kind.map(InteractionKind::as_str).unwrap_or_default()
                ),
            ));
            None
        }
        seconds => seconds,
    };
    let summary = input.summary.as_deref().map(str::trim).unwrap_or_default();
    if summary.is_empty() {
        errors.push(field_error(
            "summary",
            "required: say in a line what the contact was about",
        ));
    } else if summary.chars().count() > MAX_SUMMARY_CHARS {
        errors.push(field_error(
            "summary",
            format!("too long: at most {MAX_SUMMARY_CHARS} characters; put the rest in body"),
        ));
    }
    let body = input
        .body
        .map(|b| b.trim().to_owned())
        .filter(|b| !b.is_empty());
    if body
        .as_ref()
        .is_some_and(|b| b.chars().count() > MAX_BODY_CHARS)
    {
        errors.push(field_error(
            "body",
            format!("too long: at most {MAX_BODY_CHARS} characters"),
        ));
    }
    let occurred_ms = match input.occurred_at.as_deref().map(str::trim) {
        None | Some("") => now,
        Some(text) => match text.parse::<jiff::Timestamp>() {
            Ok(at) if at.as_millisecond() > now + CLOCK_SKEW_MS => {
                errors.push(field_error(
                    "occurred_at",
                    format!("`{text}` is in the future; log interactions once they happened"),
                ));
                now
            }
            Ok(at) => at.as_millisecond(),
            Err(_) => {
                errors.push(field_error(
                    "occurred_at",
                    format!(
                        "`{text}` is not an RFC 3339 timestamp such as 2026-03-01T09:30:00Z or 2026-03-01T17:30:00+08:00"
                    ),
                ));
                now
            }
        },
    };
    match (kind, direction) {
        (Some(kind), Some(direction)) if errors.is_empty() => Ok(Checked {
            kind,
            direction,
            handle_time_seconds,
            summary: summary.to_owned(),
            body,
            occurred_ms,
        }),
        _ => Err(errors),
    }
}

/// Logs an interaction on a ticket of the tenant and records `interaction.logged` on its
/// timeline, both in one transaction.
pub async fn log(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    ticket_id: &str,
    input: NewInteractionRequest,
) -> Result<Interaction, ServiceError> {
    let now = now_ms();
    let mut tx = core.db.begin_write().await?;
    // Read inside the write transaction: the ticket cannot close between this check and
    // the insert on SQLite, and on PostgreSQL a close that commits meanwhile is ordered
    // after this interaction, as if it had been logged just before.
    let ticket = tickets::get_in(&mut tx, tenant_id, ticket_id)
        .await?
        .ok_or(ServiceError::NotFound("ticket"))?;
    if ticket.status == TicketStatus::Closed {
        return Err(ServiceError::Conflict(format!(
            "ticket {ticket_id} is closed and takes no new interactions; reopen it first \
             (PATCH /api/v1/tickets/{ticket_id} with {{\"status\": \"in_progress\"}})"
        )));
    }
    let checked = check(input, now).map_err(|errors| ServiceError::Unprocessable {
        message: format!(
            "the interaction is not valid: {}",
            super::tickets::summary(&errors)
        ),
        errors,
    })?;
    let id = new_id();
    let interaction = interactions::insert(
        &mut tx,
        tenant_id,
        &NewInteraction {
            id: &id,
            ticket_id,
            kind: checked.kind,
            direction: checked.direction,
            handle_time_seconds: checked.handle_time_seconds,
            summary: &checked.summary,
            body: checked.body.as_deref(),
            actor: &actor.0,
            occurred_ms: checked.occurred_ms,
            created_ms: now,
        },
    )
    .await?;
    audit::record_event(
        &mut tx,
        tenant_id,
        ticket_id,
        "interaction.logged",
        &actor.0,
        &serde_json::json!({
            "interaction_id": interaction.id,
            "kind": interaction.kind,
            "direction": interaction.direction,
            "handle_time_seconds": interaction.handle_time_seconds,
            "summary": interaction.summary,
            "occurred_at": interaction.occurred_at,
        }),
    )
    .await?;
    // Talking to the customer is the first response the SLA waits for.
    if checked.direction == Direction::Outbound {
        super::sla::meet_first_response(&mut tx, tenant_id, ticket_id, now).await?;
    }
    tx.commit().await?;
    Ok(interaction)
}

/// A ticket's interactions, newest first. The caller has already been shown the ticket.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    ticket_id: &str,
    page: &Page,
) -> Result<Paged<Interaction>, ServiceError> {
    Ok(interactions::list(&core.db, tenant_id, ticket_id, page).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(kind: &str) -> NewInteractionRequest {
        NewInteractionRequest {
            kind: Some(kind.to_owned()),
            summary: Some("customer asked about the recall".to_owned()),
            ..NewInteractionRequest::default()
        }
    }

    fn fields(errors: &[FieldError]) -> Vec<&str> {
        errors.iter().map(|e| e.field.as_str()).collect()
    }

    #[test]
    fn a_note_is_internal_without_saying_so() {
        let checked = check(request("note"), 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(checked.direction, Direction::Internal);
        assert_eq!(checked.handle_time_seconds, None);
    }

    #[test]
    fn a_call_needs_a_direction_and_a_handle_time() {
        let errors = check(request("call"), 0).err().unwrap();
        assert_eq!(fields(&errors), ["direction", "handle_time_seconds"]);
    }

    #[test]
    fn an_email_may_leave_out_the_handle_time() {
        let mut input = request("email");
        input.direction = Some("outbound".to_owned());
        let checked = check(input, 0).unwrap_or_else(|e| panic!("{e:?}"));
        assert_eq!(checked.kind, InteractionKind::Email);
    }

    #[test]
    fn an_outbound_note_is_rejected() {
        let mut input = request("note");
        input.direction = Some("outbound".to_owned());
        assert_eq!(fields(&check(input, 0).err().unwrap()), ["direction"]);
    }

    #[test]
    fn a_future_occurred_at_is_rejected_but_a_little_skew_is_not() {
        let now = jiff::Timestamp::from_second(1_800_000_000)
            .unwrap()
            .as_millisecond();
        let at = |ms: i64| {
            let mut input = request("note");
            input.occurred_at = Some(crate::domain::ids::rfc3339(ms));
            check(input, now)
        };
        assert!(at(now + 60_000).is_ok());
        assert_eq!(fields(&at(now + 3_600_000).err().unwrap()), ["occurred_at"]);
    }
}
