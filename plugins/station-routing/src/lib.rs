//! Routes a ticket to the service station that serves the customer's city, and there to the
//! team with the skill the ticket's category needs.
//!
//! The stations and teams come from the tenant's directory (WIT 0.2.0), so the rule needs no
//! site or team ids in its config; the config only maps ticket categories to team skills.
//! A ticket without a customer city, or in a city no station serves, is left to the next
//! rule and to Axle's default dispatcher.

use std::collections::BTreeMap;

use axle_sdk::directory::{self, Site, Team};
use axle_sdk::routing::{self, RoutingDecision, RoutingRule};
use axle_sdk::{Error, JsonSchema, PluginConfig, Ticket};
use serde::Deserialize;

// Its doc comments are what admins read: `axle plugin build` writes this struct's schema into
// plugin.toml as `[config_schema]`, and a test checks that the two agree.
/// Which team skill each ticket category needs.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[schemars(crate = "axle_sdk::schemars")]
#[serde(deny_unknown_fields)]
struct Config {
    /// Ticket category → team skill, e.g. {"safety": "brakes"}; a category not listed needs
    /// the skill of the same name.
    #[serde(default)]
    #[schemars(extend("additionalProperties" = { "type": "string", "minLength": 1 }))]
    skills: BTreeMap<String, String>,
}

impl PluginConfig for Config {
    fn check(&self) -> Result<(), String> {
        match self
            .skills
            .iter()
            .find(|(_, skill)| skill.trim().is_empty())
        {
            Some((category, _)) => Err(format!(
                "skills.{category} is blank; name the team skill this category needs, e.g. brakes"
            )),
            None => Ok(()),
        }
    }
}

impl Config {
    fn skill_for<'a>(&'a self, category: &'a str) -> &'a str {
        self.skills.get(category).map_or(category, String::as_str)
    }
}

struct StationRouting;

impl RoutingRule for StationRouting {
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
        let Some(city) = customer_city(&ticket) else {
            return Ok(None);
        };
        let Some(station) = directory::stations_serving(city)?.into_iter().next() else {
            return Ok(None);
        };
        let config = Config::load()?;
        let skill = config.skill_for(&ticket.category);
        let teams = directory::teams(Some(&station.id), Some(skill))?;
        Ok(Some(decide(city, &station, skill, &teams)))
    }
}

axle_sdk::export!(StationRouting);

/// The customer's city, when the ticket has a customer with one.
fn customer_city(ticket: &Ticket) -> Option<&str> {
    ticket
        .customer
        .as_ref()
        .and_then(|customer| customer.city.as_deref())
        .map(str::trim)
        .filter(|city| !city.is_empty())
}

/// The decision for a ticket from `city`, served by `station`, whose teams with `skill` are
/// `teams` (ordered by name). Without such a team the ticket still gets the station's tag,
/// so agents see where it belongs, and the team is left to the dispatcher.
fn decide(city: &str, station: &Site, skill: &str, teams: &[Team]) -> RoutingDecision {
    let mut decision = routing::decision(String::new());
    decision.tags.push(format!("station:{}", station.code));
    decision.reason = match teams.first() {
        Some(team) => {
            decision.team = Some(team.name.clone());
            format!(
                "{city} is served by {} ({}); team {} has the `{skill}` skill",
                station.name, station.code, team.name
            )
        }
        None => format!(
            "{city} is served by {} ({}), but no team there has the `{skill}` skill",
            station.name, station.code
        ),
    };
    decision
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::directory::SiteKind;
    use axle_sdk::testing;

    fn station() -> Site {
        Site {
            id: "S-1".into(),
            parent_id: Some("D-1".into()),
            kind: SiteKind::Station,
            code: "SH-PD-01".into(),
            name: "浦东服务站".into(),
            service_area: vec!["上海".into(), "Shanghai".into()],
            timezone: "Asia/Shanghai".into(),
        }
    }

    fn team(name: &str) -> Team {
        Team {
            id: format!("T-{name}"),
            site_id: "S-1".into(),
            name: name.into(),
            skills: vec!["brakes".into()],
        }
    }

    #[test]
    fn ticket_goes_to_the_first_skilled_team_at_the_station() {
        let decision = decide("上海", &station(), "brakes", &[team("刹车组"), team("zz")]);
        assert_eq!(decision.team.as_deref(), Some("刹车组"));
        assert_eq!(decision.tags, vec!["station:SH-PD-01".to_string()]);
        assert!(
            decision.reason.contains("浦东服务站"),
            "{}",
            decision.reason
        );
        assert_eq!(decision.priority, None);
    }

    #[test]
    fn without_a_skilled_team_only_the_station_is_tagged() {
        let decision = decide("上海", &station(), "ev", &[]);
        assert_eq!(decision.team, None);
        assert_eq!(decision.tags, vec!["station:SH-PD-01".to_string()]);
        assert!(decision.reason.contains("`ev`"), "{}", decision.reason);
    }

    #[test]
    fn config_struct_matches_the_manifest() {
        testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
    }

    #[test]
    fn categories_map_to_skills_through_config() {
        let config = Config::from_json(r#"{"skills": {"safety": "brakes"}}"#).unwrap();
        assert_eq!(config.skill_for("safety"), "brakes");
        assert_eq!(config.skill_for("ev"), "ev");
        assert!(Config::from_json(r#"{"skill": {}}"#).is_err());
        let blank = Config::from_json(r#"{"skills": {"safety": " "}}"#).unwrap_err();
        assert!(matches!(blank, Error::InvalidInput(m) if m.contains("skills.safety")));
    }

    #[test]
    fn tickets_without_a_customer_city_are_left_alone() {
        let mut ticket = testing::ticket("刹车发软", "踩刹车感觉很软");
        assert_eq!(customer_city(&ticket), None);
        let mut customer = testing::customer("C-1", "王先生");
        customer.city = Some("  ".into());
        ticket.customer = Some(customer);
        assert_eq!(customer_city(&ticket), None);
        ticket.customer.as_mut().unwrap().city = Some(" 上海 ".into());
        assert_eq!(customer_city(&ticket), Some("上海"));
    }
}
