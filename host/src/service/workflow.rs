//! Workflow steps: ticket events go to every enabled workflow-step installation, and the
//! host validates and applies the actions they return, in their own transaction.

use super::invocations::Audit;
use super::{Core, ServiceError, hooks};
use crate::domain::plugin::World;
use crate::domain::records::{Customer, Notification, Ticket, Vehicle};
use crate::runtime::convert;
use crate::runtime::wit::workflow::{Action, Event};

/// The actions one step returned.
#[derive(Debug)]
pub struct StepActions {
    pub plugin: String,
    pub actions: Vec<Action>,
}

/// What the steps produced for one event.
#[derive(Debug, Default)]
pub struct WorkflowRun {
    pub steps: Vec<StepActions>,
    pub notifications: Vec<(String, Notification)>,
    pub audits: Vec<Audit>,
}

/// Runs the tenant's workflow steps on `kind` for `ticket`. A failing step is audited and
/// skipped.
pub async fn run(
    core: &Core,
    tenant_id: &str,
    kind: &str,
    payload: serde_json::Value,
    ticket: &Ticket,
    customer: Option<&Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<WorkflowRun, ServiceError> {
    let steps = super::registry::for_record(
        core,
        tenant_id,
        World::WorkflowStep,
        ticket.site_id.as_deref(),
    )
    .await?;
    let event = || Event {
        kind: kind.to_owned(),
        ticket: convert::ticket(ticket, customer, vehicle),
        payload: payload.to_string(),
        occurred_at: crate::domain::ids::rfc3339(crate::domain::ids::now_ms()),
    };
    hooks::run_each(
        core,
        steps,
        ticket.id.clone(),
        event,
        |turn, run: &mut WorkflowRun| {
            let mut outcome =
                turn.invoke("on-event", &mut run.audits, |runtime, step, host, event| {
                    runtime.on_event(&step.loaded, step.call.clone(), Some(host.clone()), event)
                });
            let queued = turn.queued(&mut outcome);
            let Ok(actions) = outcome.result else {
                return;
            };
            run.notifications.extend(queued);
            run.steps.push(StepActions {
                plugin: turn.plugin().to_owned(),
                actions,
            });
        },
    )
    .await
}

/// A change an action made, for the ticket's timeline.
#[derive(Debug, PartialEq)]
pub struct Applied {
    pub plugin: String,
    pub kind: &'static str,
    pub data: serde_json::Value,
}

/// Applies the steps' actions to `ticket` in order. Invalid actions (an illegal
/// transition, a bad recipient) are skipped and recorded as `workflow.rejected`.
/// Replies go to the customer through the outbox when the customer has an email or phone.
pub fn apply(
    ticket: &mut Ticket,
    customer: Option<&Customer>,
    run: &WorkflowRun,
) -> (Vec<Applied>, Vec<(String, Notification)>) {
    let mut applied = Vec::new();
    let mut notifications = run.notifications.clone();
    for step in &run.steps {
        let note = |kind: &'static str, data: serde_json::Value| Applied {
            plugin: step.plugin.clone(),
            kind,
            data,
        };
        for action in &step.actions {
            match action {
                Action::SetField(field) => {
                    ticket
                        .fields
                        .insert(field.name.clone(), convert::field_json(&field.value));
                    applied.push(note(
                        "field.set",
                        serde_json::json!({ "field": field.name }),
                    ));
                }
                Action::SetPriority(priority) => {
                    ticket.priority = convert::priority_from(*priority);
                    applied.push(note(
                        "priority.set",
                        serde_json::json!({ "priority": ticket.priority }),
                    ));
                }
                Action::Assign(assignment) => {
                    if let Some(queue) = &assignment.queue {
                        ticket.queue = Some(queue.clone());
                    }
                    if let Some(team) = &assignment.team {
                        ticket.team = Some(team.clone());
                    }
                    if let Some(assignee) = &assignment.assignee {
                        ticket.assignee = Some(assignee.clone());
                    }
                    applied.push(note(
                        "assigned",
                        serde_json::json!({ "queue": ticket.queue, "team": ticket.team, "assignee": ticket.assignee }),
                    ));
                }
                Action::Reply(reply) => {
                    let body = match &reply.link {
                        Some(link) => format!("{}\n{link}", reply.body),
                        None => reply.body.clone(),
                    };
                    if let Some(notification) = customer.and_then(|c| reply_to(c, ticket, &body)) {
                        notifications.push((step.plugin.clone(), notification));
                    }
                    applied.push(note(
                        "reply",
                        serde_json::json!({ "body": reply.body, "link": reply.link }),
                    ));
                }
                Action::Notify(wit) => match crate::runtime::notification_from_wit(wit.clone()) {
                    Ok(notification) => notifications.push((step.plugin.clone(), notification)),
                    Err(reason) => applied.push(note(
                        "workflow.rejected",
                        serde_json::json!({ "reason": reason }),
                    )),
                },
                Action::Transition(status) => {
                    let to = convert::status_from(*status);
                    if ticket.status.can_move_to(to) {
                        let from = ticket.status;
                        ticket.status = to;
                        applied.push(note(
                            "status.changed",
                            serde_json::json!({ "from": from, "to": to }),
                        ));
                    } else {
                        applied.push(note(
                            "workflow.rejected",
                            serde_json::json!({ "reason": format!("illegal transition {} -> {to}", ticket.status) }),
                        ));
                    }
                }
                Action::Comment(text) => {
                    applied.push(note("comment", serde_json::json!({ "body": text })))
                }
                Action::AddTags(tags) => {
                    for tag in tags {
                        if !ticket.tags.contains(tag) {
                            ticket.tags.push(tag.clone());
                        }
                    }
                    applied.push(note("tags.added", serde_json::json!({ "tags": tags })));
                }
            }
        }
    }
    (applied, notifications)
}

/// A reply to the customer: email when known, else SMS.
fn reply_to(customer: &Customer, ticket: &Ticket, body: &str) -> Option<Notification> {
    let (channel, to) = customer.contact()?;
    let notification = Notification {
        channel,
        to,
        subject: Some(format!("Re: {}", ticket.subject)),
        body: body.to_owned(),
    };
    notification.validate().ok().map(|()| notification)
}
