//! A field provider that validates tickets, for the host's tests of field-provider issues:
//! a 422 on `POST /tickets`, the timeline on an answered call.
//!
//! Its config names the ticket fields every ticket must carry; a ticket without one, or with
//! an empty text in it, gets one issue per missing field. Customers and vehicles pass.

use axle_sdk::fields::{FieldDef, FieldIssue, FieldProvider, Subject};
use axle_sdk::{Error, FieldValue, Ticket, config};
use serde::Deserialize;

/// Installation config.
#[derive(Debug, Deserialize)]
struct Config {
    required: Vec<String>,
}

struct TicketRules;

impl FieldProvider for TicketRules {
    fn describe() -> Vec<FieldDef> {
        Vec::new()
    }

    fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
        match subject {
            Subject::Ticket(ticket) => {
                let config: Config = config::parse()?;
                Ok(missing(&ticket, &config))
            }
            Subject::Customer(_) | Subject::Vehicle(_) => Ok(Vec::new()),
        }
    }
}

axle_sdk::export!(TicketRules);

/// An issue for every required field the ticket lacks or leaves blank, in config order.
fn missing(ticket: &Ticket, config: &Config) -> Vec<FieldIssue> {
    config
        .required
        .iter()
        .filter(|name| {
            !ticket.fields.iter().any(|field| {
                &field.name == *name
                    && !matches!(&field.value, FieldValue::Text(text) if text.trim().is_empty())
            })
        })
        .map(|name| FieldIssue {
            field: name.clone(),
            message: format!("the workshop needs `{name}` on every ticket"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::{CustomField, testing};

    fn config() -> Config {
        Config {
            required: vec!["repair_order".into(), "dealer_code".into()],
        }
    }

    #[test]
    fn each_missing_or_blank_required_field_is_an_issue() {
        let mut ticket = testing::ticket("发动机抖动", "");
        ticket.fields.push(CustomField {
            name: "repair_order".into(),
            value: FieldValue::Text("  ".into()),
        });
        let issues = missing(&ticket, &config());
        let fields: Vec<&str> = issues.iter().map(|i| i.field.as_str()).collect();
        assert_eq!(fields, ["repair_order", "dealer_code"]);
    }

    #[test]
    fn a_ticket_with_every_required_field_passes() {
        let mut ticket = testing::ticket("发动机抖动", "");
        for name in ["repair_order", "dealer_code"] {
            ticket.fields.push(CustomField {
                name: name.into(),
                value: FieldValue::Text("x".into()),
            });
        }
        assert!(missing(&ticket, &config()).is_empty());
    }
}
