//! A routing rule exactly as a plugin author wrote one against `axle:plugin@0.1.0`, before
//! 0.2.0 existed: raw wit-bindgen on the frozen WIT, no SDK. The host test
//! `tests/tests/wit_versions.rs` uploads it to a host that serves 0.2.0 and checks every
//! capability it calls still answers. Do not port it to a newer contract; that is the point.

wit_bindgen::generate!({
    path: "../../../wit/deps/plugin-0.1.0",
    world: "routing-rule",
});

use axle::plugin::types::Channel;
use axle::plugin::{config, kv, log, notify, records};

struct Router;

impl Guest for Router {
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error> {
        log::log(
            log::Level::Info,
            &format!("routing {} with the 0.1.0 contract", ticket.id),
        );
        // No serde here: config values are JSON strings without quotes inside.
        let team = config::get("team")
            .map(|json| json.trim_matches('"').to_owned())
            .ok_or_else(|| Error::InvalidInput("config has no team".into()))?;

        // kv: a running count of tickets this installation routed.
        let seen = kv::get("routed")?
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.parse::<u32>().ok())
            .unwrap_or(0)
            + 1;
        kv::set("routed", seen.to_string().as_bytes())?;
        let mut tags = vec!["wit-0.1.0".to_string(), format!("routed-{seen}")];

        // records: the customer as the host stores it, and the knowledge base.
        let mut priority = None;
        if let Some(customer) = &ticket.customer
            && let Some(stored) = records::get_customer(&customer.id)?
            && stored.vip
        {
            priority = Some(Priority::High);
            tags.push("vip".into());
        }
        let query = format!("{} {}", ticket.subject, ticket.description);
        if let Ok(articles) = records::search_articles(&query, 3)
            && let Some(best) = articles.first()
        {
            tags.push(format!("kb-{}", best.id));
        }

        // notify: safety tickets text the on-call number.
        if ticket.category == "safety" {
            let on_call: String = config::get("on_call")
                .map(|json| json.trim_matches('"').to_owned())
                .unwrap_or_default();
            notify::send(&Notification {
                channel: Channel::Sms,
                to: on_call,
                subject: None,
                body: format!("Safety ticket {}: {}", ticket.id, ticket.subject),
            })?;
            priority = Some(Priority::Critical);
        }

        Ok(Some(RoutingDecision {
            priority,
            queue: None,
            team: Some(team),
            assignee: None,
            tags,
            notifications: Vec::new(),
            reason: format!("0.1.0 rule: ticket number {seen} of this installation"),
        }))
    }
}

export!(Router);
