//! What the platform records about plugins at work: each invocation, each decision a
//! plugin's answer led to, and a ticket's timeline of events.

use serde::Serialize;

/// One plugin invocation, as audited.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Invocation {
    pub id: String,
    pub installation_id: String,
    /// `name@version`.
    pub plugin: String,
    /// `route`, `on-event`, `compute`, `validate`, `describe`, `render`.
    pub hook: String,
    /// The ticket (or other record) the call was about.
    pub subject_id: Option<String>,
    pub input_digest: String,
    /// `ok`, or the failure kind: `timeout`, `trap`, `memory_limit`, …
    pub outcome: String,
    pub detail: Option<String>,
    pub duration_us: i64,
    pub created_at: String,
}

/// What one plugin decided about a ticket.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Decision {
    pub installation_id: String,
    pub plugin: String,
    pub hook: String,
    pub decision: serde_json::Value,
    pub created_at: String,
}

/// One entry on a ticket's timeline.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TicketEvent {
    pub id: String,
    pub kind: String,
    /// A user (`key:<id>`), `system`, `plugin@version`, or the customer answering a
    /// survey (`customer:<id>`).
    pub actor: String,
    pub data: serde_json::Value,
    pub created_at: String,
}

/// Invocation filters.
#[derive(Clone, Debug, Default)]
pub struct InvocationFilter {
    pub installation_id: Option<String>,
    pub subject_id: Option<String>,
    pub outcome: Option<String>,
    /// For a caller scoped to a site subtree (this path prefix): only calls about tickets
    /// at sites in it. Calls about customers, vehicles or nothing are tenant-wide.
    pub tickets_within: Option<String>,
    /// For a dealer's caller (this path prefix): only calls of installations scoped inside
    /// its subtree, not the OEM's.
    pub installations_within: Option<String>,
}
