//! Signed webhooks: an HTTP POST of a JSON body to the row's recipient URL, signed with
//! the tenant's webhook secret (`GET /api/v1/webhook-secret`).
//!
//! The `Axle-Signature` header reads `t=<unix seconds>,v1=<hex HMAC-SHA256>`, the MAC
//! taken with the secret (its UTF-8 bytes, `whsec_` prefix included) over
//! `"<t>.<raw request body>"`. A receiver recomputes it over the body exactly as
//! received, compares in constant time, and rejects a `t` more than a few minutes from
//! its own clock so a captured request cannot be replayed later. `Axle-Notification-Id`
//! stays the same across attempts: a receiver that has seen it can answer 2xx and skip.
//! Webhooks go over `https://` (rustls; the system's roots plus `AXLE_WEBHOOK_CA`) or plain
//! `http://`. Any 2xx answer counts as delivered; anything else, a timeout or a refused
//! connection is retried. Redirects are not followed, and only addresses the outbound
//! policy permits are reached (see `outbound`). What a failure records says "refused by
//! policy", "timed out", "could not connect", why the TLS handshake failed or the HTTP
//! status, never why a connection failed: the outbox must not tell a tenant which ports
//! are open on the node's networks.

use std::time::Duration;

use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;

use super::DeliveryError;
use super::outbound::{GuardedResolver, OutboundPolicy, Refused};
use crate::db::Db;
use crate::domain::ids::rfc3339;
use crate::store::outbox::Claimed;
use crate::store::webhook_secrets;
use crate::tls::ExtraRoots;

/// The header carrying `t=<unix seconds>,v1=<hex HMAC-SHA256>`.
pub const SIGNATURE_HEADER: &str = "Axle-Signature";
/// The header carrying the outbox row's id, the same on every attempt.
pub const ID_HEADER: &str = "Axle-Notification-Id";
/// The header carrying the attempt number, from 1.
pub const ATTEMPT_HEADER: &str = "Axle-Delivery-Attempt";

type HmacSha256 = Hmac<Sha256>;

/// The `v1` signature: hex HMAC-SHA256 with `secret` over `"<timestamp>.<body>"`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        HmacSha256::new_from_slice(secret.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

/// The value of the signature header.
pub fn signature_header(secret: &str, timestamp: i64, body: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, body))
}

/// What a webhook receives.
#[derive(Serialize)]
struct Payload<'a> {
    /// The outbox row: the same on every attempt.
    id: &'a str,
    event: &'static str,
    ticket_id: Option<&'a str>,
    subject: Option<&'a str>,
    body: &'a str,
    /// Who queued it: `key:<id>`, `system` or `plugin@version`.
    source: &'a str,
    created_at: String,
}

/// Delivers webhooks over HTTP.
pub struct WebhookAdapter {
    client: reqwest::Client,
    timeout: Duration,
    policy: OutboundPolicy,
}

impl WebhookAdapter {
    /// An adapter whose requests give up after `timeout`, reach only what `policy`
    /// permits, and trust `roots` for `https://` besides the system's.
    pub fn new(
        timeout: Duration,
        policy: OutboundPolicy,
        roots: &ExtraRoots,
    ) -> Result<WebhookAdapter, reqwest::Error> {
        let client = roots
            .trusted_by(crate::tls::client_builder())
            .timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            // A proxy from the environment would connect on our behalf, unchecked.
            .no_proxy()
            .dns_resolver(GuardedResolver {
                policy: policy.clone(),
            })
            .user_agent(concat!("axle/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(WebhookAdapter {
            client,
            timeout,
            policy,
        })
    }

    /// POSTs `row` to its recipient, signed with its tenant's secret.
    pub async fn deliver(&self, db: &Db, row: &Claimed) -> Result<(), DeliveryError> {
        let url = reqwest::Url::parse(&row.recipient).map_err(|err| {
            DeliveryError::Permanent(format!("`{}` is not a URL: {err}", row.recipient))
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(DeliveryError::Permanent(format!(
                "webhook URLs must be https://… or http://…, not {}://…",
                url.scheme()
            )));
        }
        // The resolver checks names; an address written in the URL never reaches it.
        let literal = url
            .host_str()
            .map(|host| host.trim_start_matches('[').trim_end_matches(']'))
            .and_then(|host| host.parse::<std::net::IpAddr>().ok());
        if let Some(ip) = literal.filter(|ip| !self.policy.permits(*ip)) {
            return Err(DeliveryError::Permanent(
                Refused {
                    host: ip.to_string(),
                }
                .to_string(),
            ));
        }
        let secret = webhook_secrets::get_or_create(db, &row.tenant_id)
            .await
            .map_err(|err| {
                DeliveryError::Retryable(format!("cannot read the tenant's webhook secret: {err}"))
            })?;
        let body = serde_json::to_vec(&Payload {
            id: &row.id,
            event: "notification",
            ticket_id: row.ticket_id.as_deref(),
            subject: row.subject.as_deref(),
            body: &row.body,
            source: &row.source,
            created_at: rfc3339(row.created_at),
        })
        .map_err(|err| DeliveryError::Permanent(format!("cannot encode the payload: {err}")))?;
        let timestamp = jiff::Timestamp::now().as_second();
        let response = self
            .client
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(
                SIGNATURE_HEADER,
                signature_header(&secret.secret, timestamp, &body),
            )
            .header(ID_HEADER, &row.id)
            .header(ATTEMPT_HEADER, row.attempts.to_string())
            .body(body)
            .send()
            .await
            .map_err(|err| self.failure(&err))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Retryable(format!(
                "the webhook answered HTTP {status}; any 2xx counts as delivered"
            )))
        }
    }

    /// What a send error records: a refusal by policy (permanent), a timeout, or that no
    /// connection was made, without the reason (refused, reset, unreachable), which would
    /// tell a tenant which ports are open behind the node.
    fn failure(&self, err: &reqwest::Error) -> DeliveryError {
        if let Some(refused) = crate::tls::cause::<Refused>(err) {
            return DeliveryError::Permanent(refused.to_string());
        }
        // A certificate the receiver's owner must fix; saying so tells nothing about
        // the node's networks, which the policy already kept the request out of.
        if let Some(tls) = crate::tls::handshake_error(err) {
            return DeliveryError::Retryable(format!(
                "the TLS handshake with the webhook failed: {tls}"
            ));
        }
        if err.is_timeout() {
            return DeliveryError::Retryable(format!(
                "timed out: the webhook did not answer within {:?}",
                self.timeout
            ));
        }
        DeliveryError::Retryable(
            "could not connect to the webhook's host, or the connection broke before an answer"
                .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_carries_the_timestamp_and_the_hmac_of_timestamp_dot_body() {
        // Computed independently: Python's hmac.new(b"whsec_x", b'1700000000.{"a":1}',
        // hashlib.sha256).hexdigest().
        assert_eq!(
            signature_header("whsec_x", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=b3438763ab46d9634b9844c8722818eaf523f803db1327484c6067462a5fd6d1"
        );
    }

    #[test]
    fn a_different_body_or_timestamp_changes_the_signature() {
        let base = signature("whsec_x", 1, b"body");
        assert_ne!(base, signature("whsec_x", 2, b"body"));
        assert_ne!(base, signature("whsec_x", 1, b"bodY"));
        assert_ne!(base, signature("whsec_y", 1, b"body"));
    }
}
