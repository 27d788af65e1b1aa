//! Answers new tickets from a configured FAQ, then from the tenant's knowledge base.
//!
//! On `ticket.created`, the first FAQ entry with a keyword in the ticket's subject or
//! description answers the customer with its text and link. When no entry matches, the
//! tenant's published knowledge-base articles are searched with the subject and description
//! (needs the `records` grant), and the best one answers with its title, an excerpt and its
//! public link. Either way the ticket is tagged `faq-answered`. Other events and tickets that
//! match nothing get no actions; a knowledge base that cannot be searched (no grant, host
//! busy) only means the ticket gets no answer from it.

use axle_sdk::workflow::{Action, Event, Reply, WorkflowStep};
use axle_sdk::{Article, Error, JsonSchema, PluginConfig, Ticket, log, records, text};
use serde::Deserialize;

/// The only event this step answers; updates must not trigger a second reply.
const TICKET_CREATED: &str = "ticket.created";

/// The tag on every answered ticket.
const ANSWERED_TAG: &str = "faq-answered";

// Its doc comments are what admins read: `axle plugin build` writes this struct's schema into
// plugin.toml as `[config_schema]`, and a test checks that the two agree.
/// First replies to new tickets, from FAQ entries and the knowledge base.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "axle_sdk::schemars")]
#[serde(deny_unknown_fields)]
struct Config {
    /// FAQ entries, tried in order before the knowledge base; the first with a keyword in
    /// the ticket's subject or description answers it.
    #[serde(default)]
    entries: Vec<Entry>,
    /// When no entry matches, answer with the best published knowledge-base article for the
    /// ticket's subject and description (needs the records grant).
    #[serde(default = "search_by_default")]
    search_knowledge_base: bool,
}

fn search_by_default() -> bool {
    true
}

impl PluginConfig for Config {}

/// One FAQ answer and the words that select it.
#[derive(Debug, Deserialize, JsonSchema)]
#[schemars(crate = "axle_sdk::schemars")]
#[serde(deny_unknown_fields)]
struct Entry {
    /// Words that select this entry, matched ignoring case; English words must start a
    /// word, Chinese ones match anywhere.
    #[schemars(length(min = 1), inner(length(min = 1)))]
    keywords: Vec<String>,
    /// The reply sent to the customer.
    #[schemars(length(min = 1))]
    answer: String,
    /// A knowledge-base article the reply points to.
    #[serde(default)]
    #[schemars(regex(pattern = "^https://"))]
    link: Option<String>,
}

struct FaqAutoreply;

impl WorkflowStep for FaqAutoreply {
    fn on_event(event: Event) -> Result<Vec<Action>, Error> {
        if !answers(&event) {
            return Ok(Vec::new());
        }
        let config = Config::load()?;
        let actions = answer(&event.ticket, &config, |query| {
            records::search_articles(query, 1)
        });
        Ok(actions.unwrap_or_else(|err| {
            log::warn(&format!(
                "knowledge base not searched, so the ticket gets no article: {err:?}"
            ));
            Vec::new()
        }))
    }
}

axle_sdk::export!(FaqAutoreply);

/// Whether this step answers `event`.
fn answers(event: &Event) -> bool {
    event.kind == TICKET_CREATED
}

/// The reply and tag for `ticket`: from the first matching entry, else from the best
/// article `search` finds for the ticket's text (when the config allows searching); none
/// when nothing matches. An error means the knowledge base could not be searched (no
/// `records` grant, host busy); the caller logs it and answers nothing.
fn answer(
    ticket: &Ticket,
    config: &Config,
    search: impl FnOnce(&str) -> Result<Vec<Article>, Error>,
) -> Result<Vec<Action>, Error> {
    let text = format!("{}\n{}", ticket.subject, ticket.description);
    if let Some(entry) = config
        .entries
        .iter()
        .find(|entry| text::find_keyword(&text, &entry.keywords).is_some())
    {
        return Ok(replied(entry.answer.clone(), entry.link.clone()));
    }
    if !config.search_knowledge_base {
        return Ok(Vec::new());
    }
    match search(&text) {
        Ok(articles) => Ok(articles
            .into_iter()
            .next()
            .map(|article| {
                replied(
                    format!("{}\n{}", article.title, article.excerpt),
                    Some(article.url),
                )
            })
            .unwrap_or_default()),
        // A ticket with no searchable words (only punctuation, say) simply has no answer.
        Err(Error::InvalidInput(_)) => Ok(Vec::new()),
        Err(err) => Err(err),
    }
}

/// A reply with `body` and `link`, and the answered tag.
fn replied(body: String, link: Option<String>) -> Vec<Action> {
    vec![
        Action::Reply(Reply { body, link }),
        Action::AddTags(vec![ANSWERED_TAG.into()]),
    ]
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

    /// A search that must not happen: entries answered, or searching is off.
    fn no_search(query: &str) -> Result<Vec<Article>, Error> {
        panic!("searched the knowledge base for {query:?}")
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
        let actions = answer(&ticket, &config(), no_search).unwrap();
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
        let actions = answer(&ticket, &config(), no_search).unwrap();
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
        let Action::Reply(reply) = &answer(&ticket, &config(), no_search).unwrap()[0] else {
            panic!("expected a reply first");
        };
        assert_eq!(reply.body, "Charging tips: ...");
    }

    #[test]
    fn unmatched_ticket_gets_no_actions_without_a_knowledge_base_hit() {
        let ticket = testing::ticket("车门异响", "左后门有异响");
        assert!(
            answer(&ticket, &config(), |_| Ok(Vec::new()))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn empty_config_answers_nothing_when_searching_is_off() {
        let config = Config::from_json(r#"{"search_knowledge_base": false}"#).unwrap();
        assert!(
            answer(&testing::ticket("充电", ""), &config, no_search)
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn unmatched_ticket_is_answered_with_the_best_article() {
        let ticket = testing::ticket("刹车异响", "踩刹车时有尖锐的声音");
        let mut asked = None;
        let actions = answer(&ticket, &config(), |query| {
            asked = Some(query.to_owned());
            Ok(vec![
                testing::article(
                    "A-1",
                    "刹车异响怎么办",
                    "刹车片磨损到极限时会发出尖锐声音……",
                ),
                testing::article("A-2", "other", "never used"),
            ])
        })
        .unwrap();
        assert_eq!(asked.as_deref(), Some("刹车异响\n踩刹车时有尖锐的声音"));
        assert_eq!(
            actions,
            vec![
                Action::Reply(Reply {
                    body: "刹车异响怎么办\n刹车片磨损到极限时会发出尖锐声音……".into(),
                    link: Some("https://service.example.com/kb/A-1".into()),
                }),
                Action::AddTags(vec!["faq-answered".into()]),
            ]
        );
    }

    #[test]
    fn entries_are_tried_before_the_knowledge_base() {
        let ticket = testing::ticket("充电桩无法充电", "");
        let Action::Reply(reply) = &answer(&ticket, &config(), no_search).unwrap()[0] else {
            panic!("expected a reply first");
        };
        assert_eq!(reply.body, "Charging tips: ...");
    }

    #[test]
    fn config_without_entries_searches_by_default() {
        let config = Config::from_json("{}").unwrap();
        assert!(config.search_knowledge_base);
        let actions = answer(&testing::ticket("CarPlay drops", ""), &config, |_| {
            Ok(vec![testing::article(
                "A-9",
                "CarPlay",
                "Update the head unit.",
            )])
        })
        .unwrap();
        assert_eq!(actions.len(), 2);
    }

    #[test]
    fn a_query_without_searchable_words_answers_nothing() {
        let ticket = testing::ticket("???", "!!!");
        let actions = answer(&ticket, &config(), |_| {
            Err(Error::InvalidInput("no words".into()))
        });
        assert_eq!(actions, Ok(Vec::new()));
    }

    #[test]
    fn an_unreachable_knowledge_base_is_reported_for_the_step_to_log() {
        let ticket = testing::ticket("车门异响", "");
        for err in [
            Error::Denied("records not granted".into()),
            Error::Unavailable("busy".into()),
        ] {
            assert_eq!(answer(&ticket, &config(), |_| Err(err.clone())), Err(err));
        }
    }

    #[test]
    fn entry_without_answer_is_rejected() {
        let err = Config::from_json(r#"{"entries": [{"keywords": ["x"]}]}"#);
        assert!(matches!(err, Err(Error::InvalidInput(m)) if m.contains("answer")));
    }
}
