//! A workflow step scripted by its config, for the host's tests of events that reach
//! workflow steps and of actions the host applies.
//!
//! For every rule whose `on` is the event's kind it returns a comment naming the kind and
//! carrying the event's payload verbatim (so a test can see exactly what the step got),
//! then, if the rule says so, a transition.

use axle_sdk::workflow::{Action, Event, WorkflowStep};
use axle_sdk::{Error, TicketStatus, config};
use serde::Deserialize;

/// Installation config.
#[derive(Debug, Deserialize)]
struct Config {
    rules: Vec<Rule>,
}

/// What to do on one event kind.
#[derive(Debug, Deserialize)]
struct Rule {
    on: String,
    #[serde(default)]
    transition: Option<Status>,
}

/// A ticket status as the host spells it.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Status {
    New,
    Assigned,
    InProgress,
    PendingCustomer,
    Resolved,
    Closed,
}

impl From<Status> for TicketStatus {
    fn from(status: Status) -> TicketStatus {
        match status {
            Status::New => TicketStatus::New,
            Status::Assigned => TicketStatus::Assigned,
            Status::InProgress => TicketStatus::InProgress,
            Status::PendingCustomer => TicketStatus::PendingCustomer,
            Status::Resolved => TicketStatus::Resolved,
            Status::Closed => TicketStatus::Closed,
        }
    }
}

struct ScriptedStep;

impl WorkflowStep for ScriptedStep {
    fn on_event(event: Event) -> Result<Vec<Action>, Error> {
        let config: Config = config::parse()?;
        Ok(actions(&event, &config))
    }
}

axle_sdk::export!(ScriptedStep);

/// The actions of every rule for `event`'s kind, in config order.
fn actions(event: &Event, config: &Config) -> Vec<Action> {
    config
        .rules
        .iter()
        .filter(|rule| rule.on == event.kind)
        .flat_map(|rule| {
            let comment = Action::Comment(format!("{} {}", event.kind, event.payload));
            std::iter::once(comment).chain(rule.transition.map(|s| Action::Transition(s.into())))
        })
        .collect()
}
