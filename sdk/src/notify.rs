//! Sends SMS, email or webhooks through the host's outbox. Needs the `notify` grant.

use crate::wit::plugin::notify as host;
use crate::{Error, Notification};

/// Queues `message`. It is delivered only if the change this invocation decided commits.
///
/// Fails with `Error::Denied` without the grant, `Error::InvalidInput` when the recipient does
/// not fit the channel, and `Error::LimitExceeded` past 10 notifications per invocation.
pub fn send(message: &Notification) -> Result<(), Error> {
    host::send(message)
}
