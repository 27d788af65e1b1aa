//! Idempotency keys, as payment APIs have them: a POST sent with `Idempotency-Key` runs
//! once, and a retry with the same key and the same request gets the first reply back
//! (a client that timed out waiting for a ticket does not make a second one).
//!
//! The rules follow the IETF draft `draft-ietf-httpapi-idempotency-key-header`: a key is
//! the sending API key's own and lives for a day; a retry while the first request still
//! runs is a 409; the same key with another request (another route or body) is a 422.
//! Only a successful (2xx) reply is kept: after an error the key is free again, so the
//! client can fix the request or retry once the database is back.

use sha2::{Digest, Sha256};

use super::{Core, FieldError, ServiceError};
use crate::domain::ids::now_ms;
use crate::store::idempotency::{self, Kept, KeyRef};

/// How long a kept reply is replayed.
pub const KEEP_FOR_MS: i64 = 24 * 60 * 60 * 1000;
/// A first request still running after this long is from a node that died (or its
/// reply could not be kept because the database went away); a retry takes its key over.
/// Longer than any request runs: plugin calls end within seconds, and a request waits
/// at most 10 s for a database connection.
pub const STALE_AFTER_MS: i64 = 60 * 1000;
/// The longest key accepted; a UUID is 36 characters.
pub const MAX_KEY_CHARS: usize = 255;

/// What to do with a request that carries a key.
#[derive(Debug)]
pub enum Claim {
    /// The first request with this key: run it, then [`Reservation::keep`] or
    /// [`Reservation::let_go`].
    First(Reservation),
    /// An earlier request with this key and the same content finished with this reply.
    Replay(KeptReply),
}

/// A reply kept for retries.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptReply {
    pub status: u16,
    pub content_type: Option<String>,
    pub body: String,
}

/// The key, held by the request that runs first.
#[derive(Debug)]
pub struct Reservation {
    tenant_id: String,
    key_id: String,
    key: String,
    locked_at: i64,
}

impl Reservation {
    fn key(&self) -> KeyRef<'_> {
        KeyRef {
            tenant_id: &self.tenant_id,
            key_id: &self.key_id,
            key: &self.key,
        }
    }

    /// Keeps `reply` for retries. The request is done whatever happens here, so a failure
    /// is only logged: the key stays reserved until it is stale, and a retry meanwhile
    /// gets a 409.
    pub async fn keep(self, core: &Core, reply: &KeptReply) {
        let kept = idempotency::complete(
            &core.db,
            self.key(),
            self.locked_at,
            reply.status,
            reply.content_type.as_deref(),
            &reply.body,
        )
        .await;
        if let Err(err) = kept {
            tracing::warn!(error = %err, "cannot keep a reply for its idempotency key");
        }
    }

    /// Frees the key: the request failed, and a retry should run it again. A failure is
    /// only logged, as for [`keep`](Self::keep).
    pub async fn let_go(self, core: &Core) {
        if let Err(err) = idempotency::release(&core.db, self.key(), self.locked_at).await {
            tracing::warn!(error = %err, "cannot free an idempotency key");
        }
    }
}

/// What identifies a request's content: its method, path with query, and body.
pub fn fingerprint(method: &str, path_and_query: &str, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    for part in [method.as_bytes(), path_and_query.as_bytes(), body] {
        hash.update((part.len() as u64).to_be_bytes());
        hash.update(part);
    }
    hex::encode(hash.finalize())
}

/// Checks that `key` is 1 to 255 visible ASCII characters, as the header allows.
pub fn check_key(key: &str) -> Result<(), ServiceError> {
    if key.is_empty() || key.len() > MAX_KEY_CHARS || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ServiceError::Invalid(format!(
            "Idempotency-Key must be 1 to {MAX_KEY_CHARS} visible ASCII characters without \
             spaces (a UUID is a good key); got {} characters",
            key.chars().count()
        )));
    }
    Ok(())
}

/// Claims `key` of the API key `key_id` for a request with `fingerprint`.
pub async fn claim(
    core: &Core,
    tenant_id: &str,
    key_id: &str,
    key: &str,
    fingerprint: &str,
) -> Result<Claim, ServiceError> {
    check_key(key)?;
    let now = now_ms();
    let key_ref = KeyRef {
        tenant_id,
        key_id,
        key,
    };
    let kept = idempotency::reserve(
        &core.db,
        key_ref,
        fingerprint,
        now,
        now - KEEP_FOR_MS,
        now - STALE_AFTER_MS,
    )
    .await?;
    let kept = match kept {
        Ok(()) => {
            return Ok(Claim::First(Reservation {
                tenant_id: tenant_id.to_owned(),
                key_id: key_id.to_owned(),
                key: key.to_owned(),
                locked_at: now,
            }));
        }
        Err(kept) => kept,
    };
    replay_of(kept, fingerprint)
}

fn replay_of(kept: Kept, fingerprint: &str) -> Result<Claim, ServiceError> {
    if kept.fingerprint != fingerprint {
        return Err(ServiceError::Unprocessable {
            message: "this Idempotency-Key was already used for another request (another \
                      route or body); use a new key for a new request"
                .to_owned(),
            errors: vec![FieldError {
                field: "Idempotency-Key".to_owned(),
                message: "already used for another request".to_owned(),
            }],
        });
    }
    match (kept.status, kept.body) {
        (Some(status), Some(body)) => Ok(Claim::Replay(KeptReply {
            status: u16::try_from(status)
                .map_err(|_| ServiceError::Internal(format!("kept reply has status {status}")))?,
            content_type: kept.content_type,
            body,
        })),
        _ => Err(ServiceError::Conflict(
            "a request with this Idempotency-Key is still running; retry when it has \
             answered to get its reply"
                .to_owned(),
        )),
    }
}

/// Deletes every key older than a day, every `interval`, for as long as the node runs.
pub async fn run_purge(core: Core, interval: std::time::Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        match idempotency::purge(&core.db, now_ms() - KEEP_FOR_MS).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "purged idempotency keys older than a day"),
            Err(err) => {
                tracing::warn!(error = %err, "cannot purge idempotency keys; trying again later")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kept(fingerprint: &str, status: Option<i64>) -> Kept {
        Kept {
            fingerprint: fingerprint.to_owned(),
            status,
            content_type: Some("application/json".to_owned()),
            body: status.map(|_| "{}".to_owned()),
            locked_at: 1,
            created_at: 1,
        }
    }

    #[test]
    fn a_finished_request_with_the_same_content_is_replayed() {
        let claim = replay_of(kept("a", Some(201)), "a").unwrap();
        assert!(matches!(
            claim,
            Claim::Replay(KeptReply { status: 201, .. })
        ));
    }

    #[test]
    fn a_key_reused_for_another_request_is_unprocessable() {
        let err = replay_of(kept("a", Some(201)), "b").unwrap_err();
        assert!(matches!(err, ServiceError::Unprocessable { .. }), "{err:?}");
    }

    #[test]
    fn a_retry_while_the_first_runs_is_a_conflict() {
        let err = replay_of(kept("a", None), "a").unwrap_err();
        assert!(matches!(err, ServiceError::Conflict(_)), "{err:?}");
    }

    #[test]
    fn keys_are_visible_ascii_of_bounded_length() {
        assert!(check_key("0190f5a2-7c1e-7b3a-9f1e-2a6c1d9e8b7f").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("has space").is_err());
        assert!(check_key("重试").is_err());
        assert!(check_key(&"k".repeat(256)).is_err());
    }

    #[test]
    fn the_fingerprint_tells_route_and_body_apart() {
        let a = fingerprint("POST", "/api/v1/tickets", b"{}");
        assert_eq!(a, fingerprint("POST", "/api/v1/tickets", b"{}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/customers", b"{}"));
        assert_ne!(a, fingerprint("POST", "/api/v1/tickets", b"{ }"));
        // Lengths are hashed too, so moving bytes between parts changes it.
        assert_ne!(
            fingerprint("POST", "/a", b"b"),
            fingerprint("POST", "/ab", b"")
        );
    }
}
