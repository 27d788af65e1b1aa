//! Per-tenant rate limits on what a tenant's keys can make the node send out: an agent
//! (or a script with an agent's key) queuing notifications in a loop would otherwise fill
//! the outbox and the SMS gateway's quota for every tenant on it.
//!
//! Limits are per node, kept in memory: behind a load balancer a tenant gets each node's
//! allowance, which bounds a flood without a shared store on the request path.

use std::num::NonZeroU32;
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::error::ApiError;

/// Notifications a tenant's keys may queue per minute on one node, after a burst.
pub const NOTIFICATIONS_PER_MINUTE: u32 = 120;
/// How many may be queued at once before the per-minute rate applies.
pub const NOTIFICATION_BURST: u32 = 60;

/// The node's per-tenant limits.
pub struct TenantLimits {
    notifications: DefaultKeyedRateLimiter<String>,
    clock: DefaultClock,
}

impl Default for TenantLimits {
    fn default() -> Self {
        let per_minute = NonZeroU32::new(NOTIFICATIONS_PER_MINUTE).expect("a non-zero rate");
        let burst = NonZeroU32::new(NOTIFICATION_BURST).expect("a non-zero burst");
        TenantLimits {
            notifications: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            clock: DefaultClock::default(),
        }
    }
}

impl TenantLimits {
    /// Counts one notification of `tenant_id`; a 429 saying when to retry once the
    /// tenant is over its rate.
    pub fn notification(&self, tenant_id: &str) -> Result<(), ApiError> {
        self.notifications
            .check_key(&tenant_id.to_owned())
            .map_err(|not_until| ApiError::TooManyRequests {
                message: format!(
                    "this tenant queued more than {NOTIFICATION_BURST} notifications at once or \
                     {NOTIFICATIONS_PER_MINUTE} a minute on this node; wait and send the rest"
                ),
                retry_after: not_until
                    .wait_time_from(self.clock.now())
                    .max(Duration::from_secs(1)),
            })
    }
}
