//! What each measured request does.

use serde_json::{Value, json};

use super::drive::Target;

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
    /// A manager opens a customer's 360° view: records, vehicles, tickets, campaigns.
    View360,
    /// A dashboard reads the KPIs (FCR, AHT, CSAT, NPS, backlog).
    Kpis,
}

impl Scenario {
    /// The writes `cargo xtask load` measures by default.
    pub const ALL: [Scenario; 3] = [Scenario::Neutral, Scenario::Brake, Scenario::Intake];
    /// Everything a soak mixes: writes and the reads managers make meanwhile.
    pub const MIXED: [Scenario; 5] = [
        Scenario::Neutral,
        Scenario::Brake,
        Scenario::Intake,
        Scenario::View360,
        Scenario::Kpis,
    ];

    /// The name `--scenarios` takes.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Neutral => "neutral",
            Scenario::Brake => "brake",
            Scenario::Intake => "intake",
            Scenario::View360 => "view360",
            Scenario::Kpis => "kpis",
        }
    }

    pub fn parse(name: &str) -> Option<Scenario> {
        Scenario::MIXED
            .into_iter()
            .find(|scenario| scenario.name() == name)
    }

    /// The name in the report.
    pub fn label(self) -> &'static str {
        match self {
            Scenario::Neutral => "POST /tickets neutral",
            Scenario::Brake => "POST /tickets brake",
            Scenario::Intake => "POST /intake/calls",
            Scenario::View360 => "GET /customers/{id}/360",
            Scenario::Kpis => "GET /reports/kpis",
        }
    }

    pub fn is_ticket(self) -> bool {
        matches!(self, Scenario::Neutral | Scenario::Brake)
    }

    /// The request number `n` of the node's run, against `target`.
    pub fn request(self, target: &Target, n: u64) -> reqwest::RequestBuilder {
        let client = &target.client;
        let url = &target.url;
        let request = match self {
            Scenario::Neutral | Scenario::Brake => client
                .post(format!("{url}/api/v1/tickets"))
                .json(&self.body(&target.vin, n)),
            Scenario::Intake => client
                .post(format!("{url}/api/v1/intake/calls"))
                .json(&self.body(&target.vin, n)),
            Scenario::View360 => {
                client.get(format!("{url}/api/v1/customers/{}/360", target.customer))
            }
            Scenario::Kpis => client.get(format!("{url}/api/v1/reports/kpis")),
        };
        request.bearer_auth(&target.key)
    }

    /// The body of request number `n` of the node's run. `n` never repeats on a node, so
    /// every call has its own call id and caller and creates work instead of being
    /// answered as a retry.
    fn body(self, vin: &str, n: u64) -> Value {
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
            Scenario::View360 | Scenario::Kpis => Value::Null,
        }
    }
}
