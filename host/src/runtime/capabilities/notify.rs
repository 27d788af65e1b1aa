//! `notify`: queues notifications in the sandbox; the caller writes them to the outbox
//! in the transaction of the change they belong to.

use super::super::sandbox::Sandbox;
use super::super::wit::{notify::Host, types};
use crate::domain::plugin::Capability;
use crate::domain::records::{Notification, NotifyChannel};

/// Notifications one invocation may queue.
const MAX_PER_INVOCATION: usize = 10;

/// Converts the WIT notification into Axle's, checking the recipient.
pub fn notification_from_wit(message: types::Notification) -> Result<Notification, String> {
    let notification = Notification {
        channel: match message.channel {
            types::Channel::Sms => NotifyChannel::Sms,
            types::Channel::Email => NotifyChannel::Email,
            types::Channel::Webhook => NotifyChannel::Webhook,
        },
        to: message.to,
        subject: message.subject,
        body: message.body,
    };
    notification.validate().map_err(|err| err.to_string())?;
    Ok(notification)
}

impl Host for Sandbox {
    fn send(&mut self, message: types::Notification) -> wasmtime::Result<Result<(), types::Error>> {
        if let Some(denied) = self.call.check_grant(Capability::Notify) {
            return Ok(Err(denied));
        }
        if self.notifications.len() >= MAX_PER_INVOCATION {
            return Ok(Err(types::Error::LimitExceeded(format!(
                "at most {MAX_PER_INVOCATION} notifications per invocation"
            ))));
        }
        match notification_from_wit(message) {
            Ok(notification) => {
                self.notifications.push(notification);
                Ok(Ok(()))
            }
            Err(reason) => Ok(Err(types::Error::InvalidInput(reason))),
        }
    }
}
