//! Answers new tickets from a configured FAQ.
//!
//! On `ticket.created`, the first FAQ entry with a keyword in the ticket's subject or
//! description answers the customer with its text and link, and tags the ticket
//! `faq-answered`. Other events and tickets that match nothing get no actions.

use axle_sdk::workflow::{Action, Event, Reply, WorkflowStep};
use axle_sdk::{Error, Ticket, config, text};
use serde::Deserialize;

/// The only event this step answers; updates must not trigger a second reply.
const TICKET_CREATED: &str = "ticket.created";

/// Installation config.
#[derive(Debug, Deserialize)]
struct Config {
    /// FAQ entries, tried in order.
    #[serde(default)]
    entries: Vec<Entry>,
}

/// One FAQ answer and the words that select it.
#[derive(Debug, Deserialize)]
struct Entry {
    keywords: Vec<String>,
    answer: String,
    #[serde(default)]
    link: Option<String>,
}

struct FaqAutoreply;

impl WorkflowStep for FaqAutoreply {
    fn on_event(event: Event) -> Result<Vec<Action>, Error> {
        if !answers(&event) {
            return Ok(Vec::new());
        }
        let config: Config = config::parse()?;
        Ok(answer(&event.ticket, &config))
    }
}

axle_sdk::export!(FaqAutoreply);

/// Whether this step answers `event`.
fn answers(event: &Event) -> bool {
    event.kind == TICKET_CREATED
}

/// The reply and tag for `ticket` from the first matching entry; none when nothing matches.
fn answer(ticket: &Ticket, config: &Config) -> Vec<Action> {
    let text = format!("{}\n{}", ticket.subject, ticket.description);
    let Some(entry) = config
        .entries
        .iter()
        .find(|entry| text::find_keyword(&text, &entry.keywords).is_some())
    else {
        return Vec::new();
    };
    vec![
        Action::Reply(Reply {
            body: entry.answer.clone(),
            link: entry.link.clone(),
        }),
        Action::AddTags(vec!["faq-answered".into()]),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::testing;

    fn config() -> Config {
        config::from_json(
            r#"{"entries": [
                {"keywords": ["charging", "充电"],
                 "answer": "Charging tips: ...",
                 "link": "https://kb.example.com/ev/charging"},
                {"keywords": ["保养", "maintenance"],
                 "answer": "Book maintenance in the app."},
                {"keywords": ["charge"], "answer": "never reached for charging questions"}
            ]}"#,
        )
        .unwrap()
    }

    fn event(kind: &str) -> Event {
        Event {
            kind: kind.into(),
            ticket: testing::ticket("充电桩无法充电", ""),
            payload: "{}".into(),
            occurred_at: testing::CREATED_AT.into(),
        }
    }

    #[test]
    fn only_new_tickets_are_answered() {
        assert!(answers(&event("ticket.created")));
        assert!(!answers(&event("ticket.updated")));
        assert!(!answers(&event("sla.warning")));
    }

    #[test]
    fn chinese_question_gets_the_matching_answer_and_tag() {
        let ticket = testing::ticket("充电桩无法充电", "家里的充电桩一直报错");
        let actions = answer(&ticket, &config());
        assert_eq!(
            actions,
            vec![
                Action::Reply(Reply {
                    body: "Charging tips: ...".into(),
                    link: Some("https://kb.example.com/ev/charging".into()),
                }),
                Action::AddTags(vec!["faq-answered".into()]),
            ]
        );
    }

    #[test]
    fn english_keywords_match_ignoring_case_in_the_description() {
        let ticket = testing::ticket("Question", "When is my next MAINTENANCE due?");
        let actions = answer(&ticket, &config());
        assert_eq!(
            actions[0],
            Action::Reply(Reply {
                body: "Book maintenance in the app.".into(),
                link: None,
            })
        );
    }

    #[test]
    fn the_first_matching_entry_answers() {
        let ticket = testing::ticket("Slow charging, how do I charge faster?", "");
        let Action::Reply(reply) = &answer(&ticket, &config())[0] else {
            panic!("expected a reply first");
        };
        assert_eq!(reply.body, "Charging tips: ...");
    }

    #[test]
    fn unmatched_ticket_gets_no_actions() {
        let ticket = testing::ticket("车门异响", "左后门有异响");
        assert!(answer(&ticket, &config()).is_empty());
    }

    #[test]
    fn empty_config_answers_nothing() {
        let config: Config = config::from_json("{}").unwrap();
        assert!(answer(&testing::ticket("充电", ""), &config).is_empty());
    }

    #[test]
    fn entry_without_answer_is_rejected() {
        let err = config::from_json::<Config>(r#"{"entries": [{"keywords": ["x"]}]}"#);
        assert!(matches!(err, Err(Error::InvalidInput(m)) if m.contains("answer")));
    }
}
