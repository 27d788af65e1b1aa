//! Routes tickets of VIP customers to the VIP team.
//!
//! A ticket whose customer is flagged VIP goes to the configured team at high priority or
//! above, tagged `vip`. When the customer opened two or more other tickets in the 30 days
//! before this one, the ticket is also tagged `repeat-contact`.

mod timestamp;

use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
use axle_sdk::{
    Customer, Error, JsonSchema, PluginConfig, Priority, Ticket, TicketSummary, log, records,
};
use serde::Deserialize;

/// How many past tickets to look at; enough to see two recent ones past a few stale ones.
const HISTORY_LIMIT: u32 = 10;

/// How far back other tickets count as recent contacts.
const REPEAT_WINDOW_SECONDS: i64 = 30 * 86_400;

/// How many other recent tickets make a repeat contact.
const REPEAT_THRESHOLD: usize = 2;

// Its doc comments are what admins read: `axle plugin build` writes this struct's schema into
// plugin.toml as `[config_schema]`, and a test checks that the two agree.
/// Where VIP customers' tickets go.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "axle_sdk::schemars")]
#[serde(deny_unknown_fields)]
struct Config {
    /// The team VIP tickets go to, e.g. vip-care.
    #[schemars(length(min = 1))]
    team: String,
}

impl PluginConfig for Config {
    fn check(&self) -> Result<(), String> {
        if self.team.trim().is_empty() {
            return Err("team is blank; set it to the VIP team's name, e.g. vip-care".into());
        }
        Ok(())
    }
}

struct VipRouting;

impl RoutingRule for VipRouting {
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
        let Some(customer) = vip_customer(&ticket) else {
            return Ok(None);
        };
        let config = Config::load()?;
        // Without the history the VIP still gets VIP routing, only the repeat tag is unknown.
        let history = records::ticket_history(&customer.id, HISTORY_LIMIT)
            .inspect_err(|e| {
                log::warn(&format!(
                    "VIP ticket {} routed without the customer's history: {e}",
                    ticket.id
                ))
            })
            .ok();
        Ok(Some(vip_decision(
            &ticket,
            customer,
            &config,
            history.as_deref(),
        )))
    }
}

axle_sdk::export!(VipRouting);

/// The ticket's customer, when that customer is a VIP.
fn vip_customer(ticket: &Ticket) -> Option<&Customer> {
    ticket.customer.as_ref().filter(|customer| customer.vip)
}

/// The decision for a VIP's ticket. `history` is `None` when it could not be read.
fn vip_decision(
    ticket: &Ticket,
    customer: &Customer,
    config: &Config,
    history: Option<&[TicketSummary]>,
) -> RoutingDecision {
    let team = config.team.trim();
    // Never lower a priority: the host takes the highest of all decisions, but a `high` here
    // could still read as a downgrade of a critical ticket on the timeline.
    let priority = (ticket.priority < Priority::High).then_some(Priority::High);
    let mut reason = format!(
        "VIP customer {} ({}): team {team}",
        customer.name, customer.id
    );
    match priority {
        Some(_) => reason.push_str(", priority raised to high"),
        None => reason.push_str(", priority kept"),
    }
    let mut decision = routing::decision(String::new());
    decision.priority = priority;
    decision.team = Some(team.into());
    decision.tags.push("vip".into());
    if let Some(history) = history {
        let recent = recent_contacts(ticket, history);
        if recent >= REPEAT_THRESHOLD {
            decision.tags.push("repeat-contact".into());
            reason.push_str(&format!("; {recent} other tickets in the last 30 days"));
        }
    }
    decision.reason = reason;
    decision
}

/// How many tickets in `history`, other than `ticket`, were created in the 30 days up to it.
/// Entries whose time cannot be read do not count; neither does anything when the ticket's
/// own time cannot be read.
fn recent_contacts(ticket: &Ticket, history: &[TicketSummary]) -> usize {
    let Some(now) = timestamp::unix_seconds(&ticket.created_at) else {
        return 0;
    };
    history
        .iter()
        .filter(|past| past.id != ticket.id)
        .filter_map(|past| timestamp::unix_seconds(&past.created_at))
        .filter(|&created| created <= now && now - created <= REPEAT_WINDOW_SECONDS)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::testing::{self, ticket_summary};

    fn config() -> Config {
        Config::from_json(r#"{"team": "vip-care"}"#).unwrap()
    }

    #[test]
    fn config_struct_matches_the_manifest() {
        testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
    }

    fn vip_ticket() -> Ticket {
        let mut ticket = testing::ticket("保养预约", "想预约下周保养");
        let mut customer = testing::customer("C-9", "李女士");
        customer.vip = true;
        ticket.customer = Some(customer);
        ticket
    }

    fn decide(ticket: &Ticket, history: Option<&[TicketSummary]>) -> RoutingDecision {
        vip_decision(ticket, vip_customer(ticket).unwrap(), &config(), history)
    }

    #[test]
    fn non_vip_customers_are_not_routed() {
        let mut ticket = vip_ticket();
        ticket.customer.as_mut().unwrap().vip = false;
        assert!(vip_customer(&ticket).is_none());
        assert!(vip_customer(&testing::ticket("no customer", "")).is_none());
    }

    #[test]
    fn vip_goes_to_the_configured_team_at_high_priority() {
        let decision = decide(&vip_ticket(), Some(&[]));
        assert_eq!(decision.team.as_deref(), Some("vip-care"));
        assert_eq!(decision.priority, Some(Priority::High));
        assert_eq!(decision.tags, vec!["vip".to_string()]);
        assert!(decision.reason.contains("李女士"), "{}", decision.reason);
    }

    #[test]
    fn critical_priority_is_never_lowered() {
        let mut ticket = vip_ticket();
        ticket.priority = Priority::Critical;
        assert_eq!(decide(&ticket, Some(&[])).priority, None);
    }

    #[test]
    fn low_priority_is_raised_to_high() {
        let mut ticket = vip_ticket();
        ticket.priority = Priority::Low;
        assert_eq!(decide(&ticket, Some(&[])).priority, Some(Priority::High));
    }

    #[test]
    fn two_other_tickets_in_30_days_make_a_repeat_contact() {
        let history = [
            ticket_summary("T-1", testing::CREATED_AT),
            ticket_summary("T-0", "2026-01-10T08:00:00Z"),
            ticket_summary("T-00", "2025-12-17T09:00:00+08:00"),
        ];
        let decision = decide(&vip_ticket(), Some(&history));
        assert_eq!(
            decision.tags,
            vec!["vip".to_string(), "repeat-contact".into()]
        );
        assert!(
            decision.reason.contains("2 other tickets"),
            "{}",
            decision.reason
        );
    }

    #[test]
    fn the_ticket_itself_and_old_tickets_do_not_count() {
        let history = [
            ticket_summary("T-1", testing::CREATED_AT),
            ticket_summary("T-0", "2026-01-10T08:00:00Z"),
            ticket_summary("T-00", "2025-12-16T07:59:59Z"),
            ticket_summary("T-000", "not a time"),
        ];
        assert_eq!(recent_contacts(&vip_ticket(), &history), 1);
        assert_eq!(
            decide(&vip_ticket(), Some(&history)).tags,
            vec!["vip".to_string()]
        );
    }

    #[test]
    fn later_tickets_do_not_count() {
        let history = [
            ticket_summary("T-2", "2026-01-16T08:00:00Z"),
            ticket_summary("T-3", "2026-01-17T08:00:00Z"),
        ];
        assert_eq!(recent_contacts(&vip_ticket(), &history), 0);
    }

    #[test]
    fn unreadable_history_still_routes_the_vip() {
        let decision = decide(&vip_ticket(), None);
        assert_eq!(decision.team.as_deref(), Some("vip-care"));
        assert_eq!(decision.tags, vec!["vip".to_string()]);
    }

    #[test]
    fn config_without_team_is_rejected() {
        let err = Config::from_json("{}").unwrap_err();
        assert!(matches!(err, Error::InvalidInput(m) if m.contains("team")));
    }

    #[test]
    fn blank_team_is_rejected_with_a_fix() {
        let err = Config::from_json(r#"{"team": "  "}"#).unwrap_err();
        assert!(
            matches!(&err, Error::InvalidInput(m) if m.contains("team is blank") && m.contains("vip-care")),
            "{err:?}"
        );
    }
}
