//! Notifications on their way out: the outbox entries an admin can inspect.

use serde::Serialize;

/// An outbox row.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct OutboxEntry {
    pub id: String,
    pub ticket_id: Option<String>,
    pub channel: String,
    pub to: String,
    pub subject: Option<String>,
    pub body: String,
    /// Who queued it: `system` or `plugin@version`.
    pub source: String,
    /// `pending`, `sending`, `delivered` or `failed`.
    pub status: String,
    /// Delivery attempts started so far.
    pub attempts: i64,
    /// What went wrong in the latest failed attempt (kept after a later success).
    pub last_error: Option<String>,
    /// When a pending row is due for its next attempt.
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub delivered_at: Option<String>,
}
