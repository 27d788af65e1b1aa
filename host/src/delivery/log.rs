//! The log adapter: the default for SMS and email while no gateway is configured. It
//! writes one tracing line per notification and always succeeds.

use super::DeliveryError;
use crate::store::outbox::Claimed;

/// Delivers by logging.
#[derive(Clone, Copy, Debug, Default)]
pub struct LogAdapter;

impl LogAdapter {
    /// Logs `row` as sent.
    pub fn deliver(&self, row: &Claimed) -> Result<(), DeliveryError> {
        tracing::info!(
            target: "axle::delivery",
            notification = %row.id,
            tenant = %row.tenant_id,
            ticket = row.ticket_id.as_deref().unwrap_or("-"),
            channel = %row.channel,
            to = %row.recipient,
            subject = row.subject.as_deref().unwrap_or("-"),
            body_bytes = row.body.len(),
            source = %row.source,
            "notification delivered to the log (no gateway configured for this channel)"
        );
        Ok(())
    }
}
