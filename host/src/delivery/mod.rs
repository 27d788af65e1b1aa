//! Delivering the notifications outbox: a worker claims due rows under a lease and hands
//! each to the adapter for its channel — the log adapter for SMS and email (until a
//! gateway is configured), signed HTTP webhooks for webhooks — then records the outcome,
//! retrying with capped, jittered exponential backoff up to a maximum number of attempts.

pub mod backoff;
pub mod log;
pub mod outbound;
pub mod webhook;
pub mod worker;

use std::time::Duration;

pub use worker::{DeliveryStats, DeliveryWorker};

use crate::db::Db;
use crate::domain::records::NotifyChannel;
use crate::store::outbox::Claimed;

/// How the delivery worker of a node behaves.
#[derive(Clone, Debug)]
pub struct DeliverySettings {
    /// How long an idle worker waits before looking for due rows again.
    pub poll_interval: Duration,
    /// Deliveries in flight at once on this node; a slot is claimed again as soon as its
    /// delivery ends.
    pub max_in_flight: u32,
    /// How long a claim lasts. A row whose node died is claimed again after this, so it
    /// must comfortably exceed `webhook_timeout`.
    pub lease: Duration,
    /// Attempts before a row is marked `failed`.
    pub max_attempts: u32,
    /// The wait after the first failed attempt; it doubles with every further one.
    pub backoff_base: Duration,
    /// The longest wait between attempts.
    pub backoff_cap: Duration,
    /// How long a webhook may take to answer, connection included.
    pub webhook_timeout: Duration,
    /// The networks webhooks may reach besides the public internet (`AXLE_WEBHOOK_ALLOW`).
    pub outbound: outbound::OutboundPolicy,
    /// Certificate authorities `https://` webhooks are trusted with besides the system's
    /// (`AXLE_WEBHOOK_CA`).
    pub trusted_roots: crate::tls::ExtraRoots,
}

impl Default for DeliverySettings {
    fn default() -> Self {
        DeliverySettings {
            poll_interval: Duration::from_secs(1),
            max_in_flight: 32,
            lease: Duration::from_secs(120),
            max_attempts: 10,
            backoff_base: Duration::from_secs(10),
            backoff_cap: Duration::from_secs(3600),
            webhook_timeout: Duration::from_secs(10),
            outbound: outbound::OutboundPolicy::default(),
            trusted_roots: crate::tls::ExtraRoots::default(),
        }
    }
}

/// Why a delivery worker cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("invalid delivery settings: {0}")]
    Settings(String),
    #[error("cannot build the webhook HTTP client: {0}")]
    Client(#[source] reqwest::Error),
}

impl DeliverySettings {
    /// Checks that the settings make sense together.
    pub fn validate(&self) -> Result<(), SetupError> {
        let invalid = |message: &str| Err(SetupError::Settings(message.to_owned()));
        if self.poll_interval.is_zero() {
            return invalid("poll_interval must be above zero");
        }
        if !(1..=1000).contains(&self.max_in_flight) {
            return invalid("max_in_flight must be between 1 and 1000");
        }
        if self.max_attempts == 0 {
            return invalid("max_attempts must be at least 1");
        }
        if self.backoff_base.is_zero() || self.backoff_cap < self.backoff_base {
            return invalid(
                "backoff_base must be above zero and backoff_cap at least backoff_base",
            );
        }
        if self.lease <= self.webhook_timeout {
            return invalid(
                "lease must be longer than webhook_timeout, or a slow webhook's row would be claimed \
                 again while its first delivery is still running",
            );
        }
        Ok(())
    }
}

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// Another attempt may succeed: a timeout, a refused connection, a non-2xx answer.
    #[error("{0}")]
    Retryable(String),
    /// No attempt can succeed: the row cannot be delivered by any node as configured.
    #[error("{0}")]
    Permanent(String),
}

/// The adapter of every channel.
pub struct Adapters {
    log: log::LogAdapter,
    webhook: webhook::WebhookAdapter,
}

impl Adapters {
    /// The adapters for `settings`.
    pub fn new(settings: &DeliverySettings) -> Result<Adapters, SetupError> {
        Ok(Adapters {
            log: log::LogAdapter,
            webhook: webhook::WebhookAdapter::new(
                settings.webhook_timeout,
                settings.outbound.clone(),
                &settings.trusted_roots,
            )
            .map_err(SetupError::Client)?,
        })
    }

    /// Makes one delivery attempt of `row`.
    pub async fn deliver(&self, db: &Db, row: &Claimed) -> Result<(), DeliveryError> {
        match NotifyChannel::parse(&row.channel) {
            Some(NotifyChannel::Sms | NotifyChannel::Email) => self.log.deliver(row),
            Some(NotifyChannel::Webhook) => self.webhook.deliver(db, row).await,
            None => Err(DeliveryError::Permanent(format!(
                "unknown channel `{}`; expected one of {}",
                row.channel,
                NotifyChannel::expected()
            ))),
        }
    }
}
