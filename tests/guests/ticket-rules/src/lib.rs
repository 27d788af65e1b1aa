//! A field provider that validates tickets, for the host's tests of field-provider issues:
//! a 422 on `POST /tickets`, the timeline on an answered call.
//!
//! Its config names the ticket fields every ticket must carry; a ticket without one, or with
//! an empty text in it, gets one issue per missing field. Customers and vehicles pass.
//! With `report_visit`, compute says whether validate ran before it in the same instance.

use std::sync::atomic::{AtomicBool, Ordering};

use axle_sdk::fields::{FieldDef, FieldIssue, FieldProvider, Subject};
use axle_sdk::{CustomField, Error, FieldValue, Ticket, config};
use serde::Deserialize;

/// Installation config.
#[derive(Debug, Deserialize)]
struct Config {
    required: Vec<String>,
    /// Compute returns `validated_first`: whether this instance ran validate already.
    #[serde(default)]
    report_visit: bool,
    /// Validate panics (traps) after noting that it ran.
    #[serde(default)]
    trap_in_validate: bool,
}

/// Set by validate, in this instance's memory.
static VALIDATED: AtomicBool = AtomicBool::new(false);

struct TicketRules;

impl FieldProvider for TicketRules {
    fn describe() -> Vec<FieldDef> {
        Vec::new()
    }

    fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
        VALIDATED.store(true, Ordering::Relaxed);
        let config: Config = config::parse()?;
        assert!(!config.trap_in_validate, "validate traps, as configured");
        match subject {
            Subject::Ticket(ticket) => Ok(missing(&ticket, &config)),
            Subject::Customer(_) | Subject::Vehicle(_) => Ok(Vec::new()),
        }
    }

    fn compute(_subject: Subject) -> Result<Vec<CustomField>, Error> {
        let config: Config = config::parse()?;
        if !config.report_visit {
            return Ok(Vec::new());
        }
        Ok(vec![CustomField {
            name: "validated_first".into(),
            value: FieldValue::Boolean(VALIDATED.load(Ordering::Relaxed)),
        }])
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
    use axle_sdk::testing;

    fn config() -> Config {
        Config {
            required: vec!["repair_order".into(), "dealer_code".into()],
            report_visit: false,
            trap_in_validate: false,
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
