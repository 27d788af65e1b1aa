//! SLA policies, the holidays their clocks skip, and a clock as a ticket shows it.

use crate::domain::records::Priority;
use serde::Serialize;

/// Targets for one priority.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct Policy {
    pub priority: Priority,
    /// Business minutes until the first response is due.
    pub first_response_minutes: i64,
    /// Business minutes until resolution is due.
    pub resolution_minutes: i64,
    /// How far into a target (percent) `sla.warning` fires.
    pub warn_at_percent: i64,
}

/// A holiday.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Holiday {
    /// `YYYY-MM-DD`.
    pub day: String,
    pub name: String,
}

crate::domain::text_enum! {
    /// Which target a clock measures.
    #[derive(utoipa::ToSchema)]
    pub enum ClockKind spelled "snake_case" {
        FirstResponse,
        Resolution,
    }
}

/// A clock as the API shows it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ClockView {
    pub kind: ClockKind,
    pub target_minutes: i64,
    /// `running`, `paused`, `met` or `breached`.
    pub state: &'static str,
    pub started_at: String,
    pub due_at: Option<String>,
    pub met_at: Option<String>,
    pub warned_at: Option<String>,
    pub breached_at: Option<String>,
}
