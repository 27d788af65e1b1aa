//! Notifications on a ticket: the ones queued so far with their delivery state, and
//! notifications an agent sends by hand. Those are checked like the ones plugins send and
//! queued in the outbox in the same transaction as their timeline event.

use serde::Deserialize;

use super::tickets::Actor;
use super::{Core, FieldError, ServiceError};
use crate::domain::notifications::OutboxEntry;
use crate::domain::records::{Notification, NotifyChannel};
use crate::store::webhook_secrets::{self, WebhookSecret};
use crate::store::{audit, outbox, tickets};

/// A notification to send on a ticket.
#[derive(Clone, Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNotification {
    pub channel: NotifyChannel,
    /// A phone number, an email address or an http(s) URL, as the channel needs.
    pub to: String,
    #[serde(default)]
    pub subject: Option<String>,
    /// Defaulted so a missing body is reported as a field error, not as bad JSON.
    #[serde(default)]
    pub body: String,
}

async fn ensure_ticket(core: &Core, tenant_id: &str, ticket_id: &str) -> Result<(), ServiceError> {
    tickets::get(&core.db, tenant_id, ticket_id)
        .await?
        .map(|_| ())
        .ok_or(ServiceError::NotFound("ticket"))
}

/// The ticket's notifications, oldest first, with their delivery state.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<OutboxEntry>, ServiceError> {
    ensure_ticket(core, tenant_id, ticket_id).await?;
    Ok(outbox::for_ticket(&core.db, tenant_id, ticket_id).await?)
}

/// Queues `input` on the ticket; the delivery worker sends it.
pub async fn send(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    ticket_id: &str,
    input: NewNotification,
) -> Result<OutboxEntry, ServiceError> {
    ensure_ticket(core, tenant_id, ticket_id).await?;
    let notification = Notification {
        channel: input.channel,
        to: input.to.trim().to_owned(),
        subject: input
            .subject
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty()),
        body: input.body.trim().to_owned(),
    };
    if let Err(invalid) = notification.validate() {
        return Err(ServiceError::Unprocessable {
            message: format!("the notification is not valid: {invalid}"),
            errors: vec![FieldError {
                field: invalid.field.to_owned(),
                message: invalid.message,
            }],
        });
    }
    let mut tx = core.db.begin_write().await?;
    let id = outbox::enqueue(&mut tx, tenant_id, Some(ticket_id), &actor.0, &notification).await?;
    audit::record_event(
        &mut tx,
        tenant_id,
        ticket_id,
        "notification.queued",
        &actor.0,
        &serde_json::json!({ "notification_id": id, "channel": notification.channel, "to": notification.to }),
    )
    .await?;
    tx.commit().await?;
    outbox::get(&core.db, tenant_id, &id)
        .await?
        .ok_or(ServiceError::NotFound("notification"))
}

/// The secret that signs the tenant's webhooks, made on first asking.
pub async fn webhook_secret(core: &Core, tenant_id: &str) -> Result<WebhookSecret, ServiceError> {
    Ok(webhook_secrets::get_or_create(&core.db, tenant_id).await?)
}
