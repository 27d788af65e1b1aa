//! SLA clocks: started when a ticket is created, counted in business minutes on the
//! handling site's calendar (the OEM's when the ticket has no site, around the clock when
//! neither has hours), paused while the ticket waits on the customer, met by the first
//! response and by resolution. The scheduler fires `sla.warning` and `sla.breached` exactly
//! once per clock, also with several nodes on one database.

use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;

use super::workflow_queue;
use super::{Core, ServiceError};
use crate::db::Tx;
use crate::domain::calendar::Calendar;
use crate::domain::ids::now_ms;
use crate::domain::records::{Notification, NotifyChannel, Priority, Ticket, TicketStatus};
use crate::domain::sla::{ClockKind, ClockView, Holiday, Policy};
use crate::store::sla::{self, Clock, Stage};
use crate::store::workflow_events::Held;
use crate::store::{StoreError, audit, org, outbox, tickets};
use sqlx::AnyConnection;

fn timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The business calendar a ticket's clocks run on.
async fn calendar_for(
    conn: &mut AnyConnection,
    tenant_id: &str,
    ticket: &Ticket,
) -> Result<Calendar, ServiceError> {
    let site = match &ticket.site_id {
        Some(site_id) => org::site(&mut *conn, tenant_id, site_id).await?,
        None => None,
    };
    let site = match site {
        Some(site) if !site.opening_hours.is_closed_all_week() => Some(site),
        _ => org::root(&mut *conn, tenant_id)
            .await?
            .filter(|root| !root.opening_hours.is_closed_all_week()),
    };
    let Some(site) = site else {
        return Ok(Calendar::always_open());
    };
    let holidays: Vec<Date> = sla::holidays(conn, tenant_id)
        .await?
        .iter()
        .filter_map(|holiday| holiday.day.parse().ok())
        .collect();
    Calendar::new(site.opening_hours, &site.timezone, holidays).map_err(ServiceError::Internal)
}

fn add(calendar: &Calendar, from: i64, minutes: i64) -> Option<i64> {
    calendar
        .add_business_minutes(timestamp(from), minutes)
        .map(|t| t.as_millisecond())
}

/// The clocks a new ticket starts with, worked out before its transaction opens: reading
/// the policy and the calendar inside it would hold SQLite's one writer for three more
/// round trips per ticket.
#[derive(Debug, Default)]
pub struct Start {
    clocks: Vec<Planned>,
}

#[derive(Debug)]
struct Planned {
    kind: ClockKind,
    target_minutes: i64,
    warn_at: Option<i64>,
    due_at: Option<i64>,
}

/// Plans the ticket's clocks, started at `now`, under the policy for its priority and the
/// calendar of its site (no clocks without a policy). `conn` is a reader.
pub async fn plan_start(
    conn: &mut AnyConnection,
    tenant_id: &str,
    ticket: &Ticket,
    now: i64,
) -> Result<Start, ServiceError> {
    let Some(policy) = sla::policy(conn, tenant_id, ticket.priority).await? else {
        return Ok(Start::default());
    };
    let calendar = calendar_for(conn, tenant_id, ticket).await?;
    let clocks = [
        (ClockKind::FirstResponse, policy.first_response_minutes),
        (ClockKind::Resolution, policy.resolution_minutes),
    ]
    .into_iter()
    .map(|(kind, target)| {
        let warn = target * policy.warn_at_percent / 100;
        Planned {
            kind,
            target_minutes: target,
            warn_at: add(&calendar, now, warn),
            due_at: add(&calendar, now, target),
        }
    })
    .collect();
    Ok(Start { clocks })
}

/// Starts the planned clocks of ticket `ticket_id` at `now`, in one statement.
pub async fn start(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    now: i64,
    plan: &Start,
) -> Result<(), ServiceError> {
    let clocks: Vec<sla::NewClock<'_>> = plan
        .clocks
        .iter()
        .map(|clock| sla::NewClock {
            ticket_id,
            kind: clock.kind,
            target_minutes: clock.target_minutes,
            started_at: now,
            warn_at: clock.warn_at,
            due_at: clock.due_at,
        })
        .collect();
    sla::insert_clocks(tx, tenant_id, &clocks).await?;
    Ok(())
}

fn pause(calendar: &Calendar, clock: &mut Clock, now: i64) {
    let left = |at: Option<i64>| {
        at.map(|at| calendar.business_minutes_between(timestamp(now), timestamp(at)))
    };
    clock.warn_left_minutes = if clock.warned_at.is_some() {
        None
    } else {
        left(clock.warn_at)
    };
    clock.due_left_minutes = left(clock.due_at);
    clock.paused_at = Some(now);
    clock.warn_at = None;
    clock.due_at = None;
}

fn resume(calendar: &Calendar, clock: &mut Clock, now: i64) {
    clock.warn_at = clock
        .warn_left_minutes
        .and_then(|left| add(calendar, now, left));
    clock.due_at = clock
        .due_left_minutes
        .and_then(|left| add(calendar, now, left));
    if clock.warned_at.is_some() && clock.warn_at.is_none() {
        clock.warn_at = clock.due_at;
    }
    clock.paused_at = None;
    clock.warn_left_minutes = None;
    clock.due_left_minutes = None;
}

/// Moves the ticket's clocks along a status change: the first response is met when the
/// ticket leaves new/assigned, resolution when it is resolved or closed, and running clocks
/// pause while it waits on the customer.
pub async fn on_change(
    tx: &mut Tx,
    tenant_id: &str,
    before: &Ticket,
    after: &Ticket,
    now: i64,
) -> Result<(), ServiceError> {
    if before.status == after.status {
        return Ok(());
    }
    let mut clocks = sla::clocks(tx, tenant_id, &after.id).await?;
    if clocks.is_empty() {
        return Ok(());
    }
    let calendar = calendar_for(tx, tenant_id, after).await?;
    let waiting = |status: TicketStatus| status == TicketStatus::PendingCustomer;
    let answered = !matches!(after.status, TicketStatus::New | TicketStatus::Assigned);
    for clock in clocks.iter_mut().filter(|clock| clock.met_at.is_none()) {
        let met = match clock.kind {
            ClockKind::FirstResponse => answered,
            ClockKind::Resolution => !after.status.is_open(),
        };
        if met {
            clock.met_at = Some(now);
        } else if waiting(after.status) && clock.paused_at.is_none() {
            pause(&calendar, clock, now);
        } else if waiting(before.status) && clock.paused_at.is_some() {
            resume(&calendar, clock, now);
        } else {
            continue;
        }
        sla::save_clock(tx, clock).await?;
    }
    Ok(())
}

/// Meets the ticket's first-response clock, if it is still running or paused.
pub async fn meet_first_response(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    now: i64,
) -> Result<(), ServiceError> {
    for mut clock in sla::clocks(tx, tenant_id, ticket_id).await? {
        if clock.kind == ClockKind::FirstResponse && clock.met_at.is_none() {
            clock.met_at = Some(now);
            sla::save_clock(tx, &clock).await?;
        }
    }
    Ok(())
}

/// What one scheduler pass fired.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fired {
    pub warnings: usize,
    pub breaches: usize,
    /// Events that could not fire this pass (logged); the next pass tries them again.
    pub failed: usize,
}

/// Clocks looked at per pass.
const BATCH: i64 = 500;

/// One scheduler pass at `now` (unix ms): fires every warning and breach that has fallen
/// due. Safe to run on several nodes at once: each event fires on exactly one.
///
/// One event that fails (a tenant's data the database refuses, say) is logged and the
/// pass goes on to the others'. Workflow steps run beside the pass, not in its way: every
/// due event is claimed and recorded first, each tenant's steps then run concurrently,
/// and the pass ends when they have.
pub async fn tick(core: &Core, now: i64) -> Result<Fired, ServiceError> {
    let mut fired = Fired::default();
    let mut steps = tokio::task::JoinSet::new();
    for clock in sla::due(&core.db, now, BATCH).await? {
        let stage = if clock.breached_at.is_none() && clock.due_at.is_some_and(|due| due <= now) {
            Stage::Breach
        } else {
            Stage::Warning
        };
        match fire(core, &clock, stage, now).await {
            Ok(None) => {}
            Ok(Some(owed)) => {
                match stage {
                    Stage::Warning => fired.warnings += 1,
                    Stage::Breach => fired.breaches += 1,
                }
                if let Some(held) = owed {
                    let core = core.clone();
                    steps.spawn(async move { workflow_queue::deliver(&core, &held).await });
                }
            }
            Err(err) => {
                fired.failed += 1;
                tracing::warn!(
                    tenant = %clock.tenant_id,
                    ticket = %clock.ticket_id,
                    clock = %clock.id,
                    error = %err,
                    "an SLA event could not fire; the next pass tries it again"
                );
            }
        }
    }
    while let Some(done) = steps.join_next().await {
        if let Err(err) = done {
            tracing::error!(error = %err, "workflow steps on an SLA event panicked");
        }
    }
    Ok(fired)
}

/// Claims and fires one event: `None` when another node fired it first, else the event
/// it owes the workflow steps, if the tenant has any. The claim, the timeline event, the
/// steps' queued event and the default escalation commit together, so the event happens
/// once and the steps get it once.
async fn fire(
    core: &Core,
    clock: &Clock,
    stage: Stage,
    now: i64,
) -> Result<Option<Option<Held>>, ServiceError> {
    let tenant_id = clock.tenant_id.as_str();
    let Some(ticket) = tickets::get(&core.db, tenant_id, &clock.ticket_id).await? else {
        return Ok(None);
    };
    let kind = match stage {
        Stage::Warning => "sla.warning",
        Stage::Breach => "sla.breached",
    };
    let payload = serde_json::json!({
        "clock": clock.kind.as_str(),
        "target_minutes": clock.target_minutes,
        "due_at": clock.due_at.map(crate::domain::ids::rfc3339),
    });
    let has_steps = workflow_queue::owes_steps(core, tenant_id).await?;
    let escalation = if has_steps {
        None
    } else {
        escalation(core, tenant_id, &ticket, kind, clock).await?
    };

    let mut tx = core.db.begin_write().await?;
    if !sla::claim(&mut tx, &clock.id, stage, now).await? {
        tx.rollback().await?;
        return Ok(None);
    }
    audit::record_event(&mut tx, tenant_id, &ticket.id, kind, "system", &payload).await?;
    if let Some((notifications, data)) = &escalation {
        for notification in notifications {
            outbox::enqueue(&mut tx, tenant_id, Some(&ticket.id), "system", notification).await?;
        }
        audit::record_event(
            &mut tx,
            tenant_id,
            &ticket.id,
            "sla.escalated",
            "system",
            data,
        )
        .await?;
    }
    let held = match has_steps {
        true => {
            Some(workflow_queue::enqueue(&mut tx, tenant_id, &ticket.id, kind, &payload).await?)
        }
        false => None,
    };
    tx.commit().await?;
    Ok(Some(held))
}

/// The default escalation, when the tenant has no workflow step: the ticket's team
/// managers are told (SMS, else email).
async fn escalation(
    core: &Core,
    tenant_id: &str,
    ticket: &Ticket,
    kind: &str,
    clock: &Clock,
) -> Result<Option<(Vec<Notification>, serde_json::Value)>, ServiceError> {
    let managers = match (&ticket.site_id, &ticket.team) {
        (Some(site_id), Some(team)) => org::managers(&core.db, tenant_id, site_id, team).await?,
        _ => Vec::new(),
    };
    let what = match kind {
        "sla.warning" => "is about to miss",
        _ => "missed",
    };
    let body = format!(
        "Axle SLA: ticket {} ({}, priority {}) {what} its {} target of {} business minutes.",
        ticket.id,
        ticket.subject,
        ticket.priority,
        clock.kind.as_str().replace('_', " "),
        clock.target_minutes
    );
    let notifications: Vec<Notification> = managers
        .iter()
        .filter_map(|manager| {
            let (channel, to) = match (&manager.phone, &manager.email) {
                (Some(phone), _) => (NotifyChannel::Sms, phone.clone()),
                (None, Some(email)) => (NotifyChannel::Email, email.clone()),
                (None, None) => return None,
            };
            Some(Notification {
                channel,
                to,
                subject: Some(format!("SLA: {}", ticket.subject)),
                body: body.clone(),
            })
        })
        .filter(|notification| notification.validate().is_ok())
        .collect();
    let data = serde_json::json!({
        "stage": kind,
        "managers": managers.iter().map(|m| m.name.clone()).collect::<Vec<_>>(),
        "reason": if managers.is_empty() { "the ticket's team has no manager on file" } else { "team manager notified" },
    });
    Ok(Some((notifications, data)))
}

/// Runs `tick` every `interval` until the process ends. A failed pass is logged and the
/// next one tries again.
pub async fn run_scheduler(core: Core, interval: Duration) {
    let mut timer = tokio::time::interval(interval);
    timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        timer.tick().await;
        match tick(&core, now_ms()).await {
            Ok(fired) if fired != Fired::default() => {
                tracing::info!(
                    warnings = fired.warnings,
                    breaches = fired.breaches,
                    failed = fired.failed,
                    "SLA events fired"
                )
            }
            Ok(_) => {}
            Err(err) => tracing::warn!(error = %err, "SLA scheduler pass failed"),
        }
    }
}

/// Checks a policy's numbers.
pub fn check_policy(policy: &Policy) -> Result<(), Vec<super::FieldError>> {
    let mut errors = Vec::new();
    let field = |field: &str, message: &str| super::FieldError {
        field: field.to_owned(),
        message: message.to_owned(),
    };
    if policy.first_response_minutes <= 0 {
        errors.push(field("first_response_minutes", "must be at least 1"));
    }
    if policy.resolution_minutes < policy.first_response_minutes {
        errors.push(field(
            "resolution_minutes",
            "must be at least first_response_minutes",
        ));
    }
    if !(1..=99).contains(&policy.warn_at_percent) {
        errors.push(field("warn_at_percent", "must be between 1 and 99"));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether `priority` has a policy is up to the tenant; this is the demo's set.
pub fn demo_policies() -> Vec<Policy> {
    [
        (Priority::Critical, 15, 240),
        (Priority::High, 60, 8 * 60),
        (Priority::Normal, 4 * 60, 3 * 8 * 60),
        (Priority::Low, 8 * 60, 5 * 8 * 60),
    ]
    .into_iter()
    .map(|(priority, first, resolution)| Policy {
        priority,
        first_response_minutes: first,
        resolution_minutes: resolution,
        warn_at_percent: 80,
    })
    .collect()
}

/// SLA targets of one priority, as a tenant admin sets them.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyBody {
    first_response_minutes: i64,
    resolution_minutes: i64,
    #[serde(default = "default_warn_at")]
    warn_at_percent: i64,
}

fn default_warn_at() -> i64 {
    80
}

/// A holiday as a tenant admin names it.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayBody {
    name: String,
}

/// Sets the targets of `priority` (as the caller spelled it) for new tickets.
pub async fn put_policy(
    core: &Core,
    tenant_id: &str,
    priority: &str,
    body: PolicyBody,
) -> Result<Policy, ServiceError> {
    let priority = Priority::parse(priority).ok_or_else(|| {
        ServiceError::Invalid(format!(
            "`{priority}` is not a priority; use {}",
            Priority::expected()
        ))
    })?;
    let policy = Policy {
        priority,
        first_response_minutes: body.first_response_minutes,
        resolution_minutes: body.resolution_minutes,
        warn_at_percent: body.warn_at_percent,
    };
    check_policy(&policy).map_err(|errors| ServiceError::Unprocessable {
        message: "the SLA policy is not valid".to_owned(),
        errors,
    })?;
    sla::put_policy(&core.db, tenant_id, &policy).await?;
    Ok(policy)
}

/// The tenant's policies, one per priority that has one.
pub async fn policies(core: &Core, tenant_id: &str) -> Result<Vec<Policy>, ServiceError> {
    Ok(sla::policies(&core.db, tenant_id).await?)
}

/// Marks `day` (`YYYY-MM-DD`) a holiday, which business-hour clocks skip.
pub async fn put_holiday(
    core: &Core,
    tenant_id: &str,
    day: &str,
    body: HolidayBody,
) -> Result<Holiday, ServiceError> {
    let date: Date = day
        .parse()
        .map_err(|_| ServiceError::Invalid(format!("`{day}` is not a date like 2026-10-01")))?;
    let holiday = Holiday {
        day: date.to_string(),
        name: body.name.trim().to_owned(),
    };
    sla::put_holiday(&core.db, tenant_id, &holiday).await?;
    Ok(holiday)
}

/// Makes `day` a working day again.
pub async fn delete_holiday(core: &Core, tenant_id: &str, day: &str) -> Result<(), ServiceError> {
    if sla::delete_holiday(&core.db, tenant_id, day).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("holiday"))
    }
}

/// The tenant's holidays.
pub async fn holidays(core: &Core, tenant_id: &str) -> Result<Vec<Holiday>, ServiceError> {
    let mut conn = core.db.reader().acquire().await.map_err(StoreError::from)?;
    Ok(sla::holidays(&mut conn, tenant_id).await?)
}

/// A ticket's clocks as the API shows them. The caller has already been shown the ticket.
pub async fn clocks(
    core: &Core,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<ClockView>, ServiceError> {
    let mut conn = core.db.reader().acquire().await.map_err(StoreError::from)?;
    Ok(sla::clocks(&mut conn, tenant_id, ticket_id)
        .await?
        .iter()
        .map(|clock| clock.view())
        .collect())
}
