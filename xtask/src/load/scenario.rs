//! What each measured request does.

use serde_json::{Value, json};

/// A kind of request, repeated for the whole cell.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// A ticket on which no demo plugin decides anything (no safety word, no customer for
    /// the VIP or station rules, nothing the FAQ or knowledge base answers): what running
    /// the plugins costs when they all pass.
    Neutral,
    /// A brake complaint on a known car: the safety rule fires, escalates and notifies.
    Brake,
    /// An answered hotline call from a new caller: customer and ticket in one transaction.
    Intake,
}

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::Neutral, Scenario::Brake, Scenario::Intake];

    /// The name `--scenarios` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Neutral => "neutral",
            Scenario::Brake => "brake",
            Scenario::Intake => "intake",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
    }

    /// The name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Neutral => "POST /tickets neutral",
            Scenario::Brake => "POST /tickets brake",
            Scenario::Intake => "POST /intake/calls",
        }
    }

    pub fn is_ticket(self) -> bool {
        matches!(self, Scenario::Neutral | Scenario::Brake)
    }

    pub fn path(self) -> &'static str {
        match self {
            Scenario::Neutral | Scenario::Brake => "/api/v1/tickets",
            Scenario::Intake => "/api/v1/intake/calls",
        }
    }

    /// The body of request number `n` of the node's run. `n` never repeats on a node, so
    /// every call has its own call id and caller and creates work instead of being
    /// answered as a retry.
    pub fn body(self, vin: &str, n: u64) -> Value {
        match self {
            Scenario::Neutral => json!({
                "description": "Customer wants to change the email address on file",
                "channel": "phone",
            }),
            Scenario::Brake => json!({
                "description": "客户来电：刹车踏板发软 / soft brake pedal",
                "vin": vin,
                "channel": "phone",
            }),
            Scenario::Intake => json!({
                "call_id": format!("load-{n}"),
                "phone": format!("+86137{n:08}"),
                "name": format!("Load caller {n}"),
                "description": "客户来电：空调不制冷 / air conditioning does not cool",
                "channel": "phone",
            }),
        }
    }
}
