//! Ticket intake and updates: validate, route with plugins, save everything in one
//! transaction (ticket, timeline, decisions, audits, outbox), then run workflow steps
//! and apply their actions in a second transaction.

use serde::{Deserialize, Serialize};

use super::access::Access;
use super::routing::{self, RoutingRun};
use super::surveys;
use super::workflow::{self, WorkflowRun};
use super::workflow_queue;
use super::{Core, FieldError, ServiceError};
use crate::db::Tx;
use crate::domain::audit::{Decision, TicketEvent};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::notifications::OutboxEntry;
use crate::domain::page::{Page, Paged};
use crate::domain::records::{
    Customer, FieldEntity, Fields, Notification, Priority, Ticket, TicketChannel, TicketFilter,
    TicketStatus, Vehicle,
};
use crate::store::workflow_events::{self, Held};
use crate::store::{StoreError, audit, customers, outbox, tickets, vehicles};
use axle_vin::Vin;

/// How many times a write starts again from a fresh read when the ticket changed between
/// the read and the write, before the caller is told to retry.
const WRITE_ATTEMPTS: usize = 16;

fn kept_changing() -> ServiceError {
    ServiceError::Conflict(
        "the ticket kept changing while this change was being saved; reload it and try again"
            .to_owned(),
    )
}

/// Who made a change, as the timeline names them.
#[derive(Clone, Debug)]
pub struct Actor(pub String);

/// A ticket to create.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTicket {
    #[serde(default)]
    pub subject: Option<String>,
    /// Defaulted so a missing description is reported with the other fields, not as bad JSON.
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub channel: Option<TicketChannel>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub customer_id: Option<String>,
    #[serde(default)]
    pub vehicle_id: Option<String>,
    /// Links the vehicle by VIN instead of id.
    #[serde(default)]
    pub vin: Option<String>,
    /// The service site handling the ticket.
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    #[serde(default)]
    pub tags: Vec<String>,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
}

/// Changes to a ticket; unset parts stay.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TicketChange {
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub priority: Option<Priority>,
    #[serde(default)]
    pub status: Option<TicketStatus>,
    #[serde(default)]
    pub queue: Option<String>,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(default)]
    pub assignee: Option<String>,
    /// Moves the ticket to another service site.
    #[serde(default)]
    pub site_id: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// Merged over the existing fields; `null` removes a field.
    #[serde(default)]
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    pub fields: Option<Fields>,
}

/// A ticket with what plugins decided about it and the notifications it caused.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TicketView {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub decisions: Vec<Decision>,
    pub notifications: Vec<OutboxEntry>,
}

fn clean(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

fn category_of(raw: Option<String>) -> Result<String, FieldError> {
    let category = clean(raw)
        .unwrap_or_else(|| "general".to_owned())
        .to_lowercase();
    if category.len() > 64
        || !category
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
    {
        return Err(FieldError {
            field: "category".to_owned(),
            message: format!(
                "`{category}` is not a category: use letters, digits, `-` or `_` (up to 64)"
            ),
        });
    }
    Ok(category)
}

/// Creates a ticket for the tenant.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    input: NewTicket,
) -> Result<TicketView, ServiceError> {
    let mut errors = Vec::new();
    let (customer, vehicle) = linked_records(
        core,
        tenant_id,
        &input.customer_id,
        &input.vehicle_id,
        &input.vin,
        &mut errors,
    )
    .await?;
    let links = Links {
        customer,
        vehicle,
        ..Default::default()
    };
    let prepared = prepare(core, tenant_id, input, links, errors).await?;
    let mut tx = core.db.begin_write().await?;
    prepared.write(core, &mut tx, tenant_id, actor).await?;
    tx.commit().await?;
    prepared.finish(core, tenant_id).await
}

/// The customer and vehicle a new ticket links to, as its caller resolved them. Records
/// the caller still has to write (a hotline caller seen for the first time) are written by
/// the caller in the ticket's transaction, before [`Prepared::write`].
#[derive(Clone, Debug, Default)]
pub struct Links {
    pub customer: Option<Customer>,
    pub vehicle: Option<Vehicle>,
    /// An answered call is never refused: field-provider issues and declared fields that
    /// do not check out go on the timeline instead of failing the request.
    pub answered_call: bool,
    /// Problems with the custom fields of the customer or vehicle the call creates, for
    /// the timeline with the ticket's own.
    pub record_issues: Vec<FieldError>,
}

/// A new ticket checked and decided on (fields computed, routed, placed, the
/// `ticket.created` steps run), but not yet written.
pub struct Prepared {
    /// The ticket as it will be stored, after the steps' actions.
    ticket: Ticket,
    /// The ticket as routing left it, before the steps' actions.
    routed_ticket: Ticket,
    customer: Option<Customer>,
    now: i64,
    clocks: super::sla::Start,
    provided: super::fields::FieldsRun,
    routed: RoutingRun,
    dispatched: Option<super::dispatch::Dispatch>,
    steps: WorkflowRun,
    applied: Vec<workflow::Applied>,
    step_notifications: Vec<(String, Notification)>,
    issues: Vec<FieldError>,
}

/// Checks a new ticket whose links are resolved and runs the flow that decides it: field
/// providers, declared fields, routing rules, dispatch, the `ticket.created` steps and the
/// SLA plan. `errors` holds problems the caller found so far. Nothing is written.
pub async fn prepare(
    core: &Core,
    tenant_id: &str,
    input: NewTicket,
    links: Links,
    mut errors: Vec<FieldError>,
) -> Result<Prepared, ServiceError> {
    let Links {
        customer,
        vehicle,
        answered_call,
        record_issues,
    } = links;
    let description = input.description.trim().to_owned();
    if description.is_empty() {
        errors.push(FieldError {
            field: "description".to_owned(),
            message: "describe the customer's problem".to_owned(),
        });
    }
    let category = category_of(input.category)
        .map_err(|e| errors.push(e))
        .unwrap_or_default();
    let site_id = match clean(input.site_id) {
        Some(id) => checked_site(core, tenant_id, id, &mut errors).await?,
        None => None,
    };
    if !errors.is_empty() {
        return Err(ServiceError::Unprocessable {
            message: format!("the ticket is not valid: {}", summary(&errors)),
            errors,
        });
    }
    let subject = clean(input.subject).unwrap_or_else(|| description.chars().take(80).collect());
    let now = now_ms();
    let explicit_assignment =
        input.queue.is_some() || input.team.is_some() || input.assignee.is_some();
    let mut ticket = Ticket {
        id: new_id(),
        subject,
        description,
        status: if input.assignee.is_some() {
            TicketStatus::Assigned
        } else {
            TicketStatus::New
        },
        priority: input.priority.unwrap_or(Priority::Normal),
        category,
        channel: input.channel.unwrap_or(TicketChannel::Phone),
        customer_id: customer.as_ref().map(|c| c.id.clone()),
        vehicle_id: vehicle.as_ref().map(|v| v.id.clone()),
        site_id,
        queue: clean(input.queue),
        team: clean(input.team),
        assignee: clean(input.assignee),
        tags: input.tags,
        fields: input.fields,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    };
    let placed_site =
        super::dispatch::place_site(core, tenant_id, &mut ticket, customer.as_ref()).await?;
    // Field providers first, so routing rules see the computed fields.
    let provided = super::fields::for_ticket(
        core,
        tenant_id,
        &ticket,
        customer.as_ref(),
        vehicle.as_ref(),
    )
    .await?;
    ticket.fields.extend(provided.values.clone());
    // Declared fields are checked once the providers filled theirs in, so a computed
    // field can satisfy a required one.
    let mut issues = provided.issues.clone();
    issues.extend(
        super::field_checks::check_record(core, tenant_id, FieldEntity::Ticket, &ticket.fields)
            .await?,
    );
    if !issues.is_empty() && !answered_call {
        super::invocations::record_all(core, tenant_id, &provided.audits).await?;
        return Err(ServiceError::Unprocessable {
            message: format!("the ticket is not valid: {}", summary(&issues)),
            errors: issues,
        });
    }
    issues.extend(record_issues);
    let routed = routing::run(
        core,
        tenant_id,
        &ticket,
        customer.as_ref(),
        vehicle.as_ref(),
    )
    .await?;
    routing::apply(&mut ticket, &routed.decisions, explicit_assignment);
    let dispatched = super::dispatch::place(core, tenant_id, &mut ticket, placed_site).await?;
    // Workflow steps see the new ticket before it commits and their actions commit with
    // it, as Salesforce's after-save flows do: one transaction per ticket, and a step's
    // reply or SMS is queued only if the ticket is.
    let steps = workflow::run(
        core,
        tenant_id,
        "ticket.created",
        serde_json::json!({}),
        &ticket,
        customer.as_ref(),
        vehicle.as_ref(),
    )
    .await?;
    let routed_ticket = ticket.clone();
    let (applied, step_notifications) = workflow::apply(&mut ticket, customer.as_ref(), &steps);
    // What the transaction needs to read is read first, on a reader: the writer is held
    // for the writes only.
    let clocks = {
        let mut conn = core.db.reader().acquire().await.map_err(StoreError::from)?;
        super::sla::plan_start(&mut conn, tenant_id, &ticket, now).await?
    };

    Ok(Prepared {
        ticket,
        routed_ticket,
        customer,
        now,
        clocks,
        provided,
        routed,
        dispatched,
        steps,
        applied,
        step_notifications,
        issues,
    })
}

impl Prepared {
    /// The ticket as it will be stored.
    pub fn ticket(&self) -> &Ticket {
        &self.ticket
    }

    /// Writes the ticket and what the flow decided in the caller's transaction: the row,
    /// its SLA clocks, the timeline, the routing record and its notifications, the steps'
    /// actions, a survey when the steps resolved it, and one audit row per plugin call.
    pub async fn write(
        &self,
        core: &Core,
        tx: &mut Tx,
        tenant_id: &str,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let Prepared {
            ticket,
            routed_ticket,
            now,
            ..
        } = self;
        tickets::insert(tx, tenant_id, ticket, *now).await?;
        super::sla::start(tx, tenant_id, &ticket.id, *now, &self.clocks).await?;
        // A step that moved the ticket on (answered and resolved it, say) moves its clocks too.
        super::sla::on_change(tx, tenant_id, routed_ticket, ticket, *now).await?;
        audit::record_event(
            tx,
            tenant_id,
            &ticket.id,
            "ticket.created",
            &actor.0,
            &serde_json::json!({ "priority": routed_ticket.priority, "category": routed_ticket.category, "channel": routed_ticket.channel }),
        )
        .await?;
        save_routing(tx, tenant_id, &ticket.id, &self.routed).await?;
        if !self.issues.is_empty() {
            let data = serde_json::json!({ "issues": self.issues });
            audit::record_event(tx, tenant_id, &ticket.id, "fields.issues", "system", &data)
                .await?;
        }
        if let Some(dispatch) = &self.dispatched {
            let data = serde_json::to_value(dispatch).unwrap_or_default();
            audit::record_event(
                tx,
                tenant_id,
                &ticket.id,
                "ticket.dispatched",
                "system",
                &data,
            )
            .await?;
        }
        record_workflow(
            tx,
            tenant_id,
            &ticket.id,
            &self.steps,
            &self.applied,
            &self.step_notifications,
        )
        .await?;
        surveys::issue_on_resolve(
            core,
            tx,
            tenant_id,
            routed_ticket.status,
            ticket,
            self.customer.as_ref(),
        )
        .await?;
        // Every call of the flow is audited in one statement: field providers, routing
        // rules and workflow steps.
        let audits = self
            .provided
            .audits
            .iter()
            .chain(&self.routed.audits)
            .chain(&self.steps.audits);
        super::invocations::record_in(tx, core, tenant_id, audits).await?;
        Ok(())
    }

    /// After the commit: the candidates in shadow run on the same input, and the ticket is
    /// returned as the API shows it.
    pub async fn finish(self, core: &Core, tenant_id: &str) -> Result<TicketView, ServiceError> {
        super::shadow::after_commit(core, tenant_id, &self.ticket.id, &self.routed);
        view_of(core, tenant_id, self.ticket).await
    }
}

/// Changes a ticket. Routing rules run again when the subject, description or category
/// changed; explicit assignments in the change win over their decisions. A change that
/// races another one on the same ticket is applied again on top of it, never over it.
pub async fn update(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    id: &str,
    change: TicketChange,
) -> Result<TicketView, ServiceError> {
    for _ in 0..WRITE_ATTEMPTS {
        if let Some(view) = try_update(core, tenant_id, actor, id, change.clone()).await? {
            return Ok(view);
        }
    }
    Err(kept_changing())
}

/// One attempt at [`update`]; `None` when the ticket changed after it was read.
async fn try_update(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    id: &str,
    change: TicketChange,
) -> Result<Option<TicketView>, ServiceError> {
    let (mut ticket, stamp) = tickets::get_stamped(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("ticket"))?;
    let before = ticket.clone();
    let mut changed = serde_json::Map::new();
    let explicit_assignment =
        apply_change(core, tenant_id, &mut ticket, change, &mut changed).await?;
    let (customer, vehicle) = load_links(core, tenant_id, &ticket).await?;
    let content_changed = ticket.subject != before.subject
        || ticket.description != before.description
        || ticket.category != before.category;
    let routed = if content_changed {
        routing::run(
            core,
            tenant_id,
            &ticket,
            customer.as_ref(),
            vehicle.as_ref(),
        )
        .await?
    } else {
        RoutingRun::default()
    };
    routing::apply(&mut ticket, &routed.decisions, explicit_assignment);
    for (name, old, new) in diff(&before, &ticket) {
        changed
            .entry(name)
            .or_insert(serde_json::json!({ "from": old, "to": new }));
    }
    if changed.is_empty() {
        // Nothing to record: no timeline entry, and no `ticket.updated` for workflow steps.
        return view_of(core, tenant_id, before).await.map(Some);
    }
    let now = now_ms().max(stamp + 1);
    ticket.updated_at = rfc3339(now);
    let owes_steps = workflow_queue::owes_steps(core, tenant_id).await?;

    let mut tx = core.db.begin_write().await?;
    if !tickets::update(&mut tx, tenant_id, &ticket, stamp, now).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    super::sla::on_change(&mut tx, tenant_id, &before, &ticket, now).await?;
    let payload = serde_json::Value::Object(changed);
    audit::record_event(
        &mut tx,
        tenant_id,
        &ticket.id,
        "ticket.updated",
        &actor.0,
        &payload,
    )
    .await?;
    save_routing(&mut tx, tenant_id, &ticket.id, &routed).await?;
    super::invocations::record_in(&mut tx, core, tenant_id, &routed.audits).await?;
    surveys::issue_on_resolve(
        core,
        &mut tx,
        tenant_id,
        before.status,
        &ticket,
        customer.as_ref(),
    )
    .await?;
    // The steps' event commits with the change, so a node dying after the commit still
    // owes it to them (and any node's redelivery pass pays it).
    let held = match owes_steps {
        true => Some(
            workflow_queue::enqueue(&mut tx, tenant_id, &ticket.id, "ticket.updated", &payload)
                .await?,
        ),
        false => None,
    };
    tx.commit().await?;
    super::shadow::after_commit(core, tenant_id, &ticket.id, &routed);

    after_change(
        core,
        tenant_id,
        held,
        (ticket, now),
        customer.as_ref(),
        vehicle.as_ref(),
    )
    .await
    .map(Some)
}

/// `change` applied to `ticket`: a status move it allows, text and site checked (every
/// problem in one 422), assignment and tags as given, and custom fields merged and checked
/// whole. The status move is recorded in `changed` as asked; everything else is found by
/// diffing afterwards. True when the change assigns the ticket itself, which then wins over
/// routing's assignment.
async fn apply_change(
    core: &Core,
    tenant_id: &str,
    ticket: &mut Ticket,
    change: TicketChange,
    changed: &mut serde_json::Map<String, serde_json::Value>,
) -> Result<bool, ServiceError> {
    let mut errors = Vec::new();

    if let Some(status) = change.status.filter(|s| *s != ticket.status) {
        if !ticket.status.can_move_to(status) {
            return Err(ServiceError::IllegalTransition {
                from: ticket.status.to_string(),
                to: status.to_string(),
                allowed: ticket
                    .status
                    .next()
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        changed.insert(
            "status".into(),
            serde_json::json!({ "from": ticket.status, "to": status }),
        );
        ticket.status = status;
    }
    if let Some(subject) = change.subject {
        match clean(Some(subject)) {
            Some(subject) => ticket.subject = subject,
            None => errors.push(FieldError {
                field: "subject".into(),
                message: "must not be empty".into(),
            }),
        }
    }
    if let Some(description) = change.description {
        match clean(Some(description)) {
            Some(description) => ticket.description = description,
            None => errors.push(FieldError {
                field: "description".into(),
                message: "must not be empty".into(),
            }),
        }
    }
    if change.category.is_some() {
        match category_of(change.category) {
            Ok(category) => ticket.category = category,
            Err(err) => errors.push(err),
        }
    }
    if let Some(site_id) = change.site_id.clone().and_then(|id| clean(Some(id))) {
        ticket.site_id = checked_site(core, tenant_id, site_id, &mut errors).await?;
    }
    if !errors.is_empty() {
        return Err(ServiceError::Unprocessable {
            message: format!("the change is not valid: {}", summary(&errors)),
            errors,
        });
    }
    if let Some(priority) = change.priority {
        ticket.priority = priority;
    }
    let explicit_assignment =
        change.queue.is_some() || change.team.is_some() || change.assignee.is_some();
    if let Some(queue) = change.queue {
        ticket.queue = clean(Some(queue));
    }
    if let Some(team) = change.team {
        ticket.team = clean(Some(team));
    }
    if let Some(assignee) = change.assignee {
        ticket.assignee = clean(Some(assignee));
        if ticket.assignee.is_some() && ticket.status == TicketStatus::New {
            ticket.status = TicketStatus::Assigned;
        }
    }
    if let Some(tags) = change.tags {
        ticket.tags = tags;
    }
    if let Some(fields) = change.fields {
        crate::domain::records::merge_fields(&mut ticket.fields, fields);
        // The result must be valid, not only the change: removing a required field fails.
        let errors =
            super::field_checks::check_record(core, tenant_id, FieldEntity::Ticket, &ticket.fields)
                .await?;
        if !errors.is_empty() {
            return Err(ServiceError::Unprocessable {
                message: format!("the change is not valid: {}", summary(&errors)),
                errors,
            });
        }
    }
    Ok(explicit_assignment)
}

/// A ticket with its decisions and notifications.
pub async fn view(core: &Core, tenant_id: &str, id: &str) -> Result<TicketView, ServiceError> {
    let ticket = tickets::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("ticket"))?;
    view_of(core, tenant_id, ticket).await
}

/// `ticket`, already read, with its decisions and notifications.
pub async fn view_of(
    core: &Core,
    tenant_id: &str,
    ticket: Ticket,
) -> Result<TicketView, ServiceError> {
    Ok(TicketView {
        decisions: audit::decisions(&core.db, tenant_id, &ticket.id).await?,
        notifications: outbox::for_ticket(&core.db, tenant_id, &ticket.id).await?,
        ticket,
    })
}

/// Delivers a held workflow event: runs the steps against the ticket as it is now and
/// applies their actions together with settling the event. A ticket that no longer
/// exists owes its steps nothing, and its event is settled.
pub(super) async fn apply_event(core: &Core, held: &Held) -> Result<(), ServiceError> {
    let tenant_id = held.tenant_id.as_str();
    let Some(committed) = tickets::get_stamped(&core.db, tenant_id, &held.ticket_id).await? else {
        let mut tx = core.db.begin_write().await?;
        workflow_events::settle(&mut tx, held).await?;
        tx.commit().await?;
        return Ok(());
    };
    let (customer, vehicle) = load_links(core, tenant_id, &committed.0).await?;
    deliver_to_steps(core, held, committed, customer.as_ref(), vehicle.as_ref()).await?;
    Ok(())
}

/// Runs the steps on `held` against `committed` (the ticket and its stamp, `updated_at`
/// in unix ms) and applies their actions; returns the ticket as it stands afterwards.
async fn deliver_to_steps(
    core: &Core,
    held: &Held,
    committed: (Ticket, i64),
    customer: Option<&Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<Ticket, ServiceError> {
    let tenant_id = held.tenant_id.as_str();
    let (mut ticket, stamp) = committed;
    let run = workflow::run(
        core,
        tenant_id,
        &held.kind,
        held.payload.clone(),
        &ticket,
        customer,
        vehicle,
    )
    .await?;
    if !apply_workflow(core, tenant_id, &mut ticket, stamp, customer, &run, held).await? {
        // Another node took the event over after the lease ran out and applied it.
        ticket = tickets::get(&core.db, tenant_id, &held.ticket_id)
            .await?
            .ok_or(ServiceError::NotFound("ticket"))?;
    }
    Ok(ticket)
}

/// Delivers the event a committed change owes the workflow steps, if it owes one, and
/// replies with the ticket as the steps left it. The change is committed whatever
/// happens here: a failure leaves the event queued for the redelivery pass.
async fn after_change(
    core: &Core,
    tenant_id: &str,
    held: Option<Held>,
    committed: (Ticket, i64),
    customer: Option<&Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<TicketView, ServiceError> {
    let Some(held) = held else {
        return view_of(core, tenant_id, committed.0).await;
    };
    let ticket = match deliver_to_steps(core, &held, committed, customer, vehicle).await {
        Ok(ticket) => ticket,
        Err(err) => {
            workflow_queue::retry_later(core, &held, &err).await;
            tickets::get(&core.db, tenant_id, &held.ticket_id)
                .await?
                .ok_or(ServiceError::NotFound("ticket"))?
        }
    };
    view_of(core, tenant_id, ticket).await
}

/// Applies the steps' actions to `ticket` (stamped `stamp`) in the transaction that
/// settles `held`; when someone changed the ticket in between, the actions are applied
/// again to the fresh copy. False, with nothing written, when `held` is no longer this
/// caller's to settle.
async fn apply_workflow(
    core: &Core,
    tenant_id: &str,
    ticket: &mut Ticket,
    mut stamp: i64,
    customer: Option<&Customer>,
    run: &WorkflowRun,
    held: &Held,
) -> Result<bool, ServiceError> {
    for _ in 0..WRITE_ATTEMPTS {
        let before = ticket.clone();
        let (applied, notifications) = workflow::apply(ticket, customer, run);
        let mut tx = core.db.begin_write().await?;
        if !workflow_events::settle(&mut tx, held).await? {
            tx.rollback().await?;
            return Ok(false);
        }
        if diff(&before, ticket).next().is_some() {
            let now = now_ms().max(stamp + 1);
            ticket.updated_at = rfc3339(now);
            if !tickets::update(&mut tx, tenant_id, ticket, stamp, now).await? {
                tx.rollback().await?;
                (*ticket, stamp) = tickets::get_stamped(&core.db, tenant_id, &ticket.id)
                    .await?
                    .ok_or(ServiceError::NotFound("ticket"))?;
                continue;
            }
            super::sla::on_change(&mut tx, tenant_id, &before, ticket, now).await?;
        }
        record_workflow(
            &mut tx,
            tenant_id,
            &ticket.id,
            run,
            &applied,
            &notifications,
        )
        .await?;
        super::invocations::record_in(&mut tx, core, tenant_id, &run.audits).await?;
        surveys::issue_on_resolve(core, &mut tx, tenant_id, before.status, ticket, customer)
            .await?;
        tx.commit().await?;
        return Ok(true);
    }
    Err(kept_changing())
}

/// Records what the steps did: timeline events, decisions and outbox rows. The caller
/// records the audits, with those of the rest of its flow.
async fn record_workflow(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    run: &WorkflowRun,
    applied: &[workflow::Applied],
    notifications: &[(String, Notification)],
) -> Result<(), ServiceError> {
    for change in applied {
        audit::record_event(
            tx,
            tenant_id,
            ticket_id,
            change.kind,
            &change.plugin,
            &change.data,
        )
        .await?;
    }
    for step in run.steps.iter().filter(|step| !step.actions.is_empty()) {
        let actions = serde_json::to_value(&step.actions).unwrap_or_default();
        let installation = run
            .audits
            .iter()
            .find(|a| a.plugin == step.plugin)
            .map(|a| a.installation_id.clone())
            .unwrap_or_default();
        audit::record_decision(
            tx,
            tenant_id,
            ticket_id,
            &installation,
            &step.plugin,
            "on-event",
            &actions,
        )
        .await?;
    }
    enqueue_all(tx, tenant_id, ticket_id, notifications).await?;
    Ok(())
}

/// Saves the routing rules' decisions, notifications and recorded inputs. The caller
/// records the audits, with those of the rest of its flow.
async fn save_routing(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    routed: &RoutingRun,
) -> Result<(), ServiceError> {
    for rule in &routed.decisions {
        let mut decision = routing::decision_json(&rule.decision);
        decision["scope"] = rule.scope.clone();
        audit::record_decision(
            tx,
            tenant_id,
            ticket_id,
            &rule.installation_id,
            &rule.plugin,
            "route",
            &decision,
        )
        .await?;
        audit::record_event(
            tx,
            tenant_id,
            ticket_id,
            "routing.decided",
            &rule.plugin,
            &decision,
        )
        .await?;
    }
    enqueue_all(tx, tenant_id, ticket_id, &routed.notifications).await?;
    super::shadow::record(tx, tenant_id, ticket_id, routed).await?;
    Ok(())
}

async fn enqueue_all(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    notifications: &[(String, Notification)],
) -> Result<(), ServiceError> {
    for (source, notification) in notifications {
        outbox::enqueue(tx, tenant_id, Some(ticket_id), source, notification).await?;
    }
    Ok(())
}

/// `Some(id)` when the site exists in the tenant, else an error on `site_id`.
async fn checked_site(
    core: &Core,
    tenant_id: &str,
    id: String,
    errors: &mut Vec<FieldError>,
) -> Result<Option<String>, ServiceError> {
    if crate::store::org::site(core.db.reader(), tenant_id, &id)
        .await?
        .is_some()
    {
        return Ok(Some(id));
    }
    errors.push(FieldError {
        field: "site_id".into(),
        message: format!("no site `{id}` in this tenant"),
    });
    Ok(None)
}

/// The customer and vehicle a new ticket links to, checked to exist in the tenant.
async fn linked_records(
    core: &Core,
    tenant_id: &str,
    customer_id: &Option<String>,
    vehicle_id: &Option<String>,
    vin: &Option<String>,
    errors: &mut Vec<FieldError>,
) -> Result<(Option<Customer>, Option<Vehicle>), ServiceError> {
    let mut vehicle = None;
    if let Some(id) = vehicle_id {
        vehicle = vehicles::get(&core.db, tenant_id, id).await?;
        if vehicle.is_none() {
            errors.push(FieldError {
                field: "vehicle_id".into(),
                message: format!("no vehicle `{id}` in this tenant"),
            });
        }
    } else if let Some(raw) = vin {
        match Vin::parse(raw) {
            Ok(vin) => {
                vehicle = vehicles::get_by_vin(&core.db, tenant_id, vin.as_str()).await?;
                if vehicle.is_none() {
                    errors.push(FieldError {
                        field: "vin".into(),
                        message: format!("no vehicle with VIN {vin} in this tenant; create it with POST /api/v1/vehicles"),
                    });
                }
            }
            Err(err) => errors.push(FieldError {
                field: "vin".into(),
                message: err.to_string(),
            }),
        }
    }
    let customer_id = customer_id
        .clone()
        .or_else(|| vehicle.as_ref().and_then(|v| v.customer_id.clone()));
    let mut customer = None;
    if let Some(id) = &customer_id {
        customer = customers::get(&core.db, tenant_id, id).await?;
        if customer.is_none() {
            errors.push(FieldError {
                field: "customer_id".into(),
                message: format!("no customer `{id}` in this tenant"),
            });
        }
    }
    Ok((customer, vehicle))
}

async fn load_links(
    core: &Core,
    tenant_id: &str,
    ticket: &Ticket,
) -> Result<(Option<Customer>, Option<Vehicle>), ServiceError> {
    let customer = match &ticket.customer_id {
        Some(id) => customers::get(&core.db, tenant_id, id).await?,
        None => None,
    };
    let vehicle = match &ticket.vehicle_id {
        Some(id) => vehicles::get(&core.db, tenant_id, id).await?,
        None => None,
    };
    Ok((customer, vehicle))
}

/// The fields that differ between two versions of a ticket.
fn diff<'a>(
    before: &'a Ticket,
    after: &'a Ticket,
) -> impl Iterator<Item = (String, serde_json::Value, serde_json::Value)> + 'a {
    let json = |t: &Ticket| serde_json::to_value(t).unwrap_or_default();
    let (old, new) = (json(before), json(after));
    let names = [
        "subject",
        "description",
        "status",
        "priority",
        "category",
        "site_id",
        "queue",
        "team",
        "assignee",
        "tags",
        "fields",
    ];
    names.into_iter().filter_map(move |name| {
        let (a, b) = (
            old.get(name).cloned().unwrap_or_default(),
            new.get(name).cloned().unwrap_or_default(),
        );
        (a != b).then(|| (name.to_owned(), a, b))
    })
}

/// The field errors in one line, for the message of a 422.
pub fn summary(errors: &[FieldError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {}", e.field, e.message))
        .collect::<Vec<_>>()
        .join("; ")
}

/// The ticket, if it exists in the caller's tenant and, for a caller limited to a site,
/// sits in that site's subtree; otherwise `NotFound`, so another dealer's tickets do not
/// even show that they exist.
pub async fn visible(core: &Core, access: Access<'_>, id: &str) -> Result<Ticket, ServiceError> {
    let ticket = tickets::get(&core.db, access.tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("ticket"))?;
    if access.sees_site(core, ticket.site_id.as_deref()).await? {
        Ok(ticket)
    } else {
        Err(ServiceError::NotFound("ticket"))
    }
}

/// Tickets the caller sees that match `filter`, newest first; `under_site` narrows them
/// to that site's subtree, which the caller must see.
pub async fn list(
    core: &Core,
    access: Access<'_>,
    mut filter: TicketFilter,
    under_site: Option<&str>,
    page: &Page,
) -> Result<Paged<Ticket>, ServiceError> {
    filter.site_within = match under_site {
        Some(site_id) => Some(access.site(core, site_id).await?.path),
        None => access.within(),
    };
    // Categories are stored lower-cased.
    filter.category = filter.category.map(|c| c.trim().to_lowercase());
    Ok(tickets::list(&core.db, access.tenant_id, &filter, page).await?)
}

/// A visible ticket's timeline, oldest first.
pub async fn timeline(
    core: &Core,
    access: Access<'_>,
    id: &str,
) -> Result<Vec<TicketEvent>, ServiceError> {
    visible(core, access, id).await?;
    Ok(audit::events(&core.db, access.tenant_id, id).await?)
}
