//! Escalates tickets that describe a safety risk.
//!
//! A ticket in the `safety` category, or whose subject or description mentions brakes,
//! airbags, steering, fire or smoke (in English or Chinese), goes to the `safety` queue at
//! critical priority, tagged `safety`. The regional service manager gets an SMS right away.

use std::collections::BTreeMap;

use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
use axle_sdk::{
    Channel, Error, JsonSchema, Notification, PluginConfig, Priority, Ticket, log, notify, text,
};
use serde::Deserialize;

/// Words that signal a safety risk. The first one found names the risk, so longer and more
/// specific words come before the words they contain (安全气囊 before 气囊).
const KEYWORDS: &[&str] = &[
    // Fire and smoke.
    "起火",
    "着火",
    "冒烟",
    "fire",
    "smoke",
    "burning",
    // Brakes.
    "刹车",
    "制动",
    "brake",
    "braking",
    // Airbags.
    "安全气囊",
    "气囊",
    "airbag",
    // Steering.
    "方向盘",
    "转向",
    "steering",
];

/// The category tenants file safety risks under.
const SAFETY_CATEGORY: &str = "safety";

// Its doc comments are what admins read: `axle plugin build` writes this struct's schema into
// plugin.toml as `[config_schema]`, and a test checks that the two agree.
/// Who is texted about a safety ticket.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "axle_sdk::schemars")]
#[serde(deny_unknown_fields)]
struct Config {
    /// Service manager phone numbers (E.164) by customer region, as the tenant names
    /// regions.
    #[serde(default)]
    #[schemars(extend("additionalProperties" = { "type": "string", "minLength": 1 }))]
    managers: BTreeMap<String, String>,
    /// E.164 phone number texted when the customer's region has no manager of its own,
    /// e.g. +8613800000000.
    #[schemars(length(min = 1))]
    default_manager: String,
}

// A blank number is not a config error: the escalation still routes, and the log says why
// no SMS went (see `route`).
impl PluginConfig for Config {}

/// Why a ticket counts as a safety risk.
#[derive(Debug, Clone, PartialEq)]
enum Risk {
    /// The subject or description mentions this keyword.
    Keyword(&'static str),
    /// No keyword, but the ticket is filed under the safety category.
    Category,
}

impl Risk {
    /// How the risk reads in a reason or an SMS.
    fn describe(&self) -> String {
        match self {
            Risk::Keyword(keyword) => format!("keyword \"{keyword}\""),
            Risk::Category => format!("category \"{SAFETY_CATEGORY}\""),
        }
    }
}

struct SafetyEscalation;

impl RoutingRule for SafetyEscalation {
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
        let Some(risk) = safety_risk(&ticket) else {
            return Ok(None);
        };
        let mut decision = escalation(&risk);
        // A config problem must not cost the escalation itself: route, and say why no SMS went.
        match Config::load() {
            Ok(config) => match manager_sms(&ticket, &risk, &config) {
                Some(sms) => {
                    if let Some(warning) = deliver(&mut decision, sms, notify::send) {
                        log::warn(&warning);
                    }
                }
                None => log::warn(&format!(
                    "no service manager number for safety ticket {}: set default_manager",
                    ticket.id
                )),
            },
            Err(e) => log::error(&format!(
                "no SMS sent for safety ticket {}: {e}; fix the installation config",
                ticket.id
            )),
        }
        Ok(Some(decision))
    }
}

axle_sdk::export!(SafetyEscalation);

/// What makes `ticket` a safety risk, if anything. A keyword wins over the category so that
/// the reason and the SMS say what the customer reported.
fn safety_risk(ticket: &Ticket) -> Option<Risk> {
    let text = format!("{}\n{}", ticket.subject, ticket.description);
    if let Some(keyword) = text::find_keyword(&text, KEYWORDS) {
        return Some(Risk::Keyword(keyword));
    }
    let category = ticket.category.trim();
    category
        .eq_ignore_ascii_case(SAFETY_CATEGORY)
        .then_some(Risk::Category)
}

/// The routing decision for a safety risk, before any SMS is added.
fn escalation(risk: &Risk) -> RoutingDecision {
    let mut decision = routing::decision(format!(
        "Safety risk ({}): critical priority, safety queue",
        risk.describe()
    ));
    decision.priority = Some(Priority::Critical);
    decision.queue = Some("safety".into());
    decision.tags = vec!["safety".into()];
    decision
}

/// The phone number of the service manager for the ticket's customer region, falling back
/// to the default manager. `None` when the config names no usable number.
fn manager_number<'c>(ticket: &Ticket, config: &'c Config) -> Option<&'c str> {
    let region = ticket
        .customer
        .as_ref()
        .and_then(|customer| customer.region.as_deref())
        .map(str::trim)
        .filter(|region| !region.is_empty());
    let regional = region.and_then(|region| {
        config.managers.get(region).or_else(|| {
            config
                .managers
                .iter()
                .find(|(name, _)| name.trim().eq_ignore_ascii_case(region))
                .map(|(_, number)| number)
        })
    });
    regional
        .or(Some(&config.default_manager))
        .map(|number| number.trim())
        .filter(|number| !number.is_empty())
}

/// The SMS that tells the service manager about the escalation.
fn manager_sms(ticket: &Ticket, risk: &Risk, config: &Config) -> Option<Notification> {
    let to = manager_number(ticket, config)?;
    let vin = ticket
        .vehicle
        .as_ref()
        .map(|vehicle| vehicle.vin.trim())
        .filter(|vin| !vin.is_empty())
        .map(|vin| format!(", VIN {vin}"))
        .unwrap_or_default();
    Some(Notification {
        channel: Channel::Sms,
        to: to.into(),
        subject: None,
        body: format!(
            "Axle safety escalation: ticket {}{vin}, {}. Please call the customer back now.",
            ticket.id,
            risk.describe()
        ),
    })
}

/// Sends `sms` through `send`. When that fails, the SMS goes into the decision instead, so
/// the host still queues it with the ticket; the returned warning says why.
fn deliver(
    decision: &mut RoutingDecision,
    sms: Notification,
    send: impl FnOnce(&Notification) -> Result<(), Error>,
) -> Option<String> {
    let error = send(&sms).err()?;
    let warning = format!(
        "notify.send failed ({error}); the SMS to {} goes out with the routing decision instead",
        sms.to
    );
    decision.notifications.push(sms);
    Some(warning)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::testing;

    #[test]
    fn config_struct_matches_the_manifest() {
        testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
    }

    fn config() -> Config {
        Config::from_json(
            r#"{"managers": {"Shanghai": "+8613800000001", "广东": "+8613800000002"},
                "default_manager": "+8613800000000"}"#,
        )
        .unwrap()
    }

    fn ticket_from(region: Option<&str>) -> Ticket {
        let mut ticket = testing::ticket("刹车失灵", "高速上刹车踩不下去");
        let mut customer = testing::customer("C-1", "王先生");
        customer.region = region.map(Into::into);
        ticket.customer = Some(customer);
        ticket
    }

    #[test]
    fn chinese_brake_complaint_is_a_safety_risk() {
        let ticket = testing::ticket("刹车失灵", "高速上刹车踩不下去");
        assert_eq!(safety_risk(&ticket), Some(Risk::Keyword("刹车")));
    }

    #[test]
    fn english_keywords_match_ignoring_case() {
        let ticket = testing::ticket("Smoke from the dashboard", "");
        assert_eq!(safety_risk(&ticket), Some(Risk::Keyword("smoke")));
        let ticket = testing::ticket("Question", "The AIRBAG light stays on");
        assert_eq!(safety_risk(&ticket), Some(Risk::Keyword("airbag")));
    }

    #[test]
    fn the_more_specific_airbag_keyword_is_named() {
        let ticket = testing::ticket("安全气囊故障灯亮", "");
        assert_eq!(safety_risk(&ticket), Some(Risk::Keyword("安全气囊")));
    }

    #[test]
    fn engine_misfire_is_not_a_fire() {
        let ticket = testing::ticket("Engine misfire", "rough idle when cold");
        assert_eq!(safety_risk(&ticket), None);
    }

    #[test]
    fn safety_category_without_keyword_is_a_safety_risk() {
        let mut ticket = testing::ticket("Recall question", "is my car affected?");
        ticket.category = "Safety".into();
        assert_eq!(safety_risk(&ticket), Some(Risk::Category));
    }

    #[test]
    fn ordinary_ticket_is_not_routed() {
        let ticket = testing::ticket("车机蓝牙连不上", "手机无法配对");
        assert_eq!(safety_risk(&ticket), None);
    }

    #[test]
    fn escalation_is_critical_in_the_safety_queue_and_names_the_keyword() {
        let decision = escalation(&Risk::Keyword("刹车"));
        assert_eq!(decision.priority, Some(Priority::Critical));
        assert_eq!(decision.queue.as_deref(), Some("safety"));
        assert_eq!(decision.tags, vec!["safety".to_string()]);
        assert!(decision.reason.contains("刹车"), "{}", decision.reason);
        assert!(decision.notifications.is_empty());
    }

    #[test]
    fn sms_goes_to_the_regional_manager() {
        let sms = manager_sms(
            &ticket_from(Some("广东")),
            &Risk::Keyword("刹车"),
            &config(),
        );
        assert_eq!(sms.unwrap().to, "+8613800000002");
    }

    #[test]
    fn region_lookup_ignores_case_and_spaces() {
        let sms = manager_sms(&ticket_from(Some(" shanghai ")), &Risk::Category, &config());
        assert_eq!(sms.unwrap().to, "+8613800000001");
    }

    #[test]
    fn sms_falls_back_to_the_default_manager() {
        let risk = Risk::Keyword("刹车");
        for ticket in [ticket_from(Some("北京")), ticket_from(None)] {
            let sms = manager_sms(&ticket, &risk, &config()).unwrap();
            assert_eq!(sms.to, "+8613800000000");
        }
    }

    #[test]
    fn sms_names_ticket_vin_and_keyword() {
        let mut ticket = ticket_from(None);
        ticket.vehicle = Some(testing::vehicle("LSVAU2180N2183294"));
        let sms = manager_sms(&ticket, &Risk::Keyword("刹车"), &config()).unwrap();
        assert_eq!(sms.channel, Channel::Sms);
        assert!(sms.body.contains("T-1"), "{}", sms.body);
        assert!(sms.body.contains("LSVAU2180N2183294"), "{}", sms.body);
        assert!(sms.body.contains("刹车"), "{}", sms.body);
    }

    #[test]
    fn sms_without_a_vehicle_leaves_the_vin_out() {
        let sms = manager_sms(&ticket_from(None), &Risk::Category, &config()).unwrap();
        assert!(!sms.body.contains("VIN"), "{}", sms.body);
    }

    #[test]
    fn blank_default_manager_sends_nothing() {
        let config = Config::from_json(r#"{"default_manager": " "}"#).unwrap();
        assert!(manager_sms(&ticket_from(None), &Risk::Category, &config).is_none());
    }

    #[test]
    fn config_without_default_manager_is_rejected() {
        let err = Config::from_json(r#"{"managers": {}}"#).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(m) if m.contains("default_manager")));
    }

    #[test]
    fn sent_sms_stays_out_of_the_decision() {
        let mut decision = escalation(&Risk::Category);
        let sms = manager_sms(&ticket_from(None), &Risk::Category, &config()).unwrap();
        assert_eq!(deliver(&mut decision, sms, |_| Ok(())), None);
        assert!(decision.notifications.is_empty());
    }

    #[test]
    fn denied_sms_goes_into_the_decision_with_a_warning() {
        let mut decision = escalation(&Risk::Category);
        let sms = manager_sms(&ticket_from(None), &Risk::Category, &config()).unwrap();
        let denied = |_: &Notification| Err(Error::Denied("notify not granted".into()));
        let warning = deliver(&mut decision, sms.clone(), denied).unwrap();
        assert!(warning.contains("notify not granted"), "{warning}");
        assert_eq!(decision.notifications, vec![sms]);
    }
}
