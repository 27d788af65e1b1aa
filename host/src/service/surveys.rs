//! Satisfaction surveys. Resolving a ticket issues a one-time token (random 256 bits,
//! stored only as its sha256) and queues the survey link to the customer in the same
//! transaction. The customer answers with the token alone, once, before it expires; the
//! answer lands on the ticket's timeline and goes to workflow steps as `survey.received`.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use super::{Core, FieldError, ServiceError};
use crate::db::Tx;
use crate::domain::ids::{new_id, now_ms, rfc3339, sha256_hex};
use crate::domain::records::{Customer, Notification, Survey, Ticket, TicketStatus};
use crate::store::surveys::{self, Answer, NewSurvey};
use crate::store::{audit, outbox, tickets};

/// How long a survey link stays answerable.
pub const SURVEY_TTL_MS: i64 = 30 * 24 * 60 * 60 * 1000;
/// The event workflow steps get when a survey is answered.
pub const SURVEY_RECEIVED: &str = "survey.received";
/// The longest comment, in characters.
const MAX_COMMENT_CHARS: usize = 2_000;
/// How much of the ticket's subject the message quotes.
const SUBJECT_CHARS: usize = 60;

/// One question of the survey.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Question {
    /// The answer field that carries it.
    pub field: &'static str,
    pub text: &'static str,
    pub required: bool,
    /// The score range, for scored questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<i64>,
    /// The longest answer, for text questions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_length: Option<usize>,
}

const CSAT: Question = Question {
    field: "csat",
    text: "How satisfied are you with how we handled your request? (1 = very dissatisfied, 5 = very satisfied)",
    required: true,
    min: Some(1),
    max: Some(5),
    max_length: None,
};
const NPS: Question = Question {
    field: "nps",
    text: "How likely are you to recommend us to a friend or colleague? (0 = not at all, 10 = extremely likely)",
    required: true,
    min: Some(0),
    max: Some(10),
    max_length: None,
};
const COMMENT: Question = Question {
    field: "comment",
    text: "Anything else you would like to tell us?",
    required: false,
    min: None,
    max: None,
    max_length: Some(MAX_COMMENT_CHARS),
};

/// What the customer sees before answering. Deliberately nothing but the questions, the
/// ticket's subject and the deadline: the token is the only credential.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct SurveyForm {
    pub subject: String,
    pub questions: [Question; 3],
    pub expires_at: String,
    /// Whether the one answer has been given (then answering again is a 409).
    pub answered: bool,
}

/// An answer as posted. Scores are JSON values so that a string or a fraction is reported
/// per field (422) like an out-of-range number.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerRequest {
    #[serde(default)]
    pub csat: Option<serde_json::Value>,
    #[serde(default)]
    pub nps: Option<serde_json::Value>,
    #[serde(default)]
    pub comment: Option<String>,
}

/// The answer as recorded, echoed to the customer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Answered {
    pub csat: i64,
    pub nps: i64,
    pub comment: Option<String>,
    pub answered_at: String,
    pub message: &'static str,
}

/// Issues a survey when `ticket` has just moved to `resolved` from `before`: stores the
/// token's hash, queues the link to the customer (email when known, else SMS) and records
/// `survey.issued` on the timeline, all inside `tx`. Without a reachable customer the
/// survey is still issued, and nothing is sent.
pub async fn issue_on_resolve(
    core: &Core,
    tx: &mut Tx,
    tenant_id: &str,
    before: TicketStatus,
    ticket: &Ticket,
    customer: Option<&Customer>,
) -> Result<(), ServiceError> {
    if before == TicketStatus::Resolved || ticket.status != TicketStatus::Resolved {
        return Ok(());
    }
    let token = new_token();
    let now = now_ms();
    let expires_ms = now + SURVEY_TTL_MS;
    let notification =
        customer.and_then(|customer| invitation(customer, ticket, &core.public_url, expires_ms));
    let id = new_id();
    surveys::issue(
        tx,
        tenant_id,
        &NewSurvey {
            id: &id,
            ticket_id: &ticket.id,
            customer_id: customer.map(|c| c.id.as_str()),
            token_hash: &sha256_hex(token.as_bytes()),
            sent_via: notification.as_ref().map(|n| n.channel),
            issued_ms: now,
            expires_ms,
        },
    )
    .await?;
    if let Some(notification) = &notification {
        // The token is put into the link as the message leaves: an agent reading the
        // ticket's notifications cannot answer the customer's survey.
        outbox::enqueue_with_link_token(
            tx,
            tenant_id,
            Some(&ticket.id),
            "system",
            notification,
            Some(&token),
        )
        .await?;
    }
    audit::record_event(
        tx,
        tenant_id,
        &ticket.id,
        "survey.issued",
        "system",
        &serde_json::json!({
            "survey_id": id,
            "sent_via": notification.as_ref().map(|n| n.channel),
            "expires_at": rfc3339(expires_ms),
        }),
    )
    .await?;
    Ok(())
}

fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// The message that carries the survey link, or `None` when the customer cannot be
/// reached (no email or phone, or one that is not a valid recipient).
fn invitation(
    customer: &Customer,
    ticket: &Ticket,
    public_url: &str,
    expires_ms: i64,
) -> Option<Notification> {
    let (channel, to) = customer.contact()?;
    let mut subject: String = ticket.subject.chars().take(SUBJECT_CHARS).collect();
    if subject.len() < ticket.subject.len() {
        subject.push('…');
    }
    let until = jiff::Timestamp::from_millisecond(expires_ms)
        .map(|t| t.strftime("%Y-%m-%d").to_string())
        .unwrap_or_default();
    let notification = Notification {
        channel,
        to,
        subject: Some(format!("How did we do? {subject}")),
        body: format!(
            "Your service request \"{subject}\" is resolved. How did we do? Two questions, \
             one minute: {public_url}/api/v1/surveys/{token} (one answer, until {until})",
            token = outbox::LINK_TOKEN
        ),
    };
    match notification.validate() {
        Ok(()) => Some(notification),
        Err(reason) => {
            tracing::warn!(customer = %customer.id, %reason, "survey link not sent: the customer's contact is not a valid recipient");
            None
        }
    }
}

/// The survey behind `token`, if it can still be shown.
async fn find(core: &Core, token: &str) -> Result<surveys::TokenSurvey, ServiceError> {
    surveys::by_token_hash(&core.db, &sha256_hex(token.as_bytes()))
        .await?
        .ok_or(ServiceError::NotFound("survey"))
}

fn expired(survey: &surveys::TokenSurvey) -> ServiceError {
    ServiceError::Gone(format!(
        "this survey link expired at {}; a ticket that is resolved again gets a new one",
        survey.survey.expires_at
    ))
}

fn already_answered(answered_at: &str) -> ServiceError {
    ServiceError::Conflict(format!(
        "this survey was already answered at {answered_at}; each link takes one answer"
    ))
}

/// The questions behind `token` and the subject of the ticket they are about.
pub async fn form(core: &Core, token: &str) -> Result<SurveyForm, ServiceError> {
    let found = find(core, token).await?;
    let answered = found.survey.answered_at.is_some();
    if !answered && found.expires_ms <= now_ms() {
        return Err(expired(&found));
    }
    let ticket = tickets::get(&core.db, &found.tenant_id, &found.survey.ticket_id)
        .await?
        .ok_or(ServiceError::NotFound("survey"))?;
    Ok(SurveyForm {
        subject: ticket.subject,
        questions: [CSAT, NPS, COMMENT],
        expires_at: found.survey.expires_at,
        answered,
    })
}

/// A score for `question`: a whole number in its range.
fn score(
    question: &Question,
    value: Option<&serde_json::Value>,
    errors: &mut Vec<FieldError>,
) -> i64 {
    let (min, max) = (question.min.unwrap_or(0), question.max.unwrap_or(0));
    let problem = match value {
        None | Some(serde_json::Value::Null) => {
            format!("required: a whole number from {min} to {max}")
        }
        Some(value) => match value.as_i64() {
            Some(score) if (min..=max).contains(&score) => return score,
            Some(score) => {
                format!("{score} is out of range: give a whole number from {min} to {max}")
            }
            None => format!("{value} is not a score: give a whole number from {min} to {max}"),
        },
    };
    errors.push(FieldError {
        field: question.field.to_owned(),
        message: problem,
    });
    0
}

/// Records the one answer `token` allows, writes `survey.received` on the ticket's
/// timeline, and then sends `survey.received` with the scores to the tenant's workflow
/// steps. The ticket itself is unchanged (unless a step acts on it).
pub async fn answer(
    core: &Core,
    token: &str,
    input: AnswerRequest,
) -> Result<Answered, ServiceError> {
    let found = find(core, token).await?;
    if let Some(answered_at) = &found.survey.answered_at {
        return Err(already_answered(answered_at));
    }
    if found.expires_ms <= now_ms() {
        return Err(expired(&found));
    }
    let mut errors = Vec::new();
    let csat = score(&CSAT, input.csat.as_ref(), &mut errors);
    let nps = score(&NPS, input.nps.as_ref(), &mut errors);
    let comment = input
        .comment
        .map(|c| c.trim().to_owned())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        errors.push(FieldError {
            field: "comment".into(),
            message: format!("too long: at most {MAX_COMMENT_CHARS} characters"),
        });
    }
    if !errors.is_empty() {
        return Err(ServiceError::Unprocessable {
            message: format!(
                "the answer is not valid: {}",
                super::tickets::summary(&errors)
            ),
            errors,
        });
    }

    let (tenant_id, survey) = (&found.tenant_id, &found.survey);
    let now = now_ms();
    let owes_steps = super::workflow_queue::owes_steps(core, tenant_id).await?;
    let mut tx = core.db.begin_write().await?;
    let answer = Answer {
        csat,
        nps,
        comment: comment.as_deref(),
    };
    if !surveys::answer(&mut tx, tenant_id, &survey.id, &answer, now).await? {
        // Someone answered (or the link expired) since the read above.
        tx.rollback().await?;
        let again = find(core, token).await?;
        return Err(match &again.survey.answered_at {
            Some(answered_at) => already_answered(answered_at),
            None => expired(&again),
        });
    }
    let payload = serde_json::json!({
        "survey_id": survey.id,
        "csat": csat,
        "nps": nps,
        "comment": comment,
    });
    let actor = match &survey.customer_id {
        Some(id) => format!("customer:{id}"),
        None => "customer".to_owned(),
    };
    audit::record_event(
        &mut tx,
        tenant_id,
        &survey.ticket_id,
        SURVEY_RECEIVED,
        &actor,
        &payload,
    )
    .await?;
    let held = match owes_steps {
        true => Some(
            super::workflow_queue::enqueue(
                &mut tx,
                tenant_id,
                &survey.ticket_id,
                SURVEY_RECEIVED,
                &payload,
            )
            .await?,
        ),
        false => None,
    };
    tx.commit().await?;

    // The answer and the steps' event are committed; a failure from here on leaves the
    // event to the redelivery pass and must not tell the customer to answer again.
    if let Some(held) = held {
        super::workflow_queue::deliver(core, &held).await;
    }
    Ok(Answered {
        csat,
        nps,
        comment,
        answered_at: rfc3339(now),
        message: "Thank you for your feedback.",
    })
}

/// The surveys issued for a ticket of the tenant, with their answers.
pub async fn for_ticket(
    core: &Core,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<Survey>, ServiceError> {
    tickets::get(&core.db, tenant_id, ticket_id)
        .await?
        .ok_or(ServiceError::NotFound("ticket"))?;
    Ok(surveys::for_ticket(&core.db, tenant_id, ticket_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored(question: &Question, value: serde_json::Value) -> Result<i64, String> {
        let mut errors = Vec::new();
        let score = score(question, Some(&value), &mut errors);
        match errors.pop() {
            None => Ok(score),
            Some(error) => Err(error.message),
        }
    }

    #[test]
    fn csat_takes_1_to_5_and_nps_0_to_10() {
        assert_eq!(scored(&CSAT, 1.into()), Ok(1));
        assert_eq!(scored(&CSAT, 5.into()), Ok(5));
        assert!(scored(&CSAT, 0.into()).is_err());
        assert!(scored(&CSAT, 6.into()).is_err());
        assert_eq!(scored(&NPS, 0.into()), Ok(0));
        assert_eq!(scored(&NPS, 10.into()), Ok(10));
        assert!(scored(&NPS, 11.into()).is_err());
        assert!(scored(&NPS, (-1).into()).is_err());
    }

    #[test]
    fn a_fraction_or_a_string_is_not_a_score() {
        let err = scored(&CSAT, serde_json::json!(4.5)).unwrap_err();
        assert!(err.contains("not a score"), "{err}");
        assert!(scored(&NPS, serde_json::json!("9")).is_err());
    }

    #[test]
    fn tokens_are_256_random_bits_in_hex() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 64);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
