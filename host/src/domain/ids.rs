//! Identifiers, timestamps and digests as Axle stores them.

use sha2::{Digest, Sha256};

/// A new time-ordered id (UUIDv7), so ids sort by creation and serve as list cursors.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Now, in unix milliseconds.
pub fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Unix milliseconds as RFC 3339 in UTC.
pub fn rfc3339(ms: i64) -> String {
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// sha256 as lower-case hex: a component's identity, and the stored form of API keys and
/// survey link tokens.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}
