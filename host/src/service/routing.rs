//! Routing rules: every enabled routing-rule installation whose scope holds the ticket
//! looks at it, and the host merges their decisions — the highest priority wins, the first
//! rule (in run order) to name a queue, team or assignee wins, tags and notifications are
//! unioned. Tenant-wide rules run first, then a region's, a dealer's and a station's, so
//! the OEM's decisions win over a dealer's and a dealer's rule can never lower a priority
//! the OEM's rule raised.

use std::sync::Arc;

use super::invocations::Audit;
use super::plugins::Ready;
use super::{Core, ServiceError, hooks};
use crate::domain::plugin::World;
use crate::domain::records::{Customer, Notification, Ticket, TicketStatus, Vehicle};
use crate::runtime::wit::routing::RoutingDecision;
use crate::runtime::{Outcome, convert};

/// One rule's decision, as returned.
#[derive(Clone, Debug)]
pub struct RuleDecision {
    pub installation_id: String,
    pub plugin: String,
    pub decision: RoutingDecision,
    /// The rule's scope as the timeline shows it (see `Scope::label`).
    pub scope: serde_json::Value,
}

/// One rule's call as it happened: which installation answered, and what.
#[derive(Clone)]
pub struct RuleCall {
    pub ready: Ready,
    /// The decision as stored (`null` for none), or the failure.
    pub output: Result<serde_json::Value, String>,
    pub outcome: &'static str,
    pub duration_us: i64,
}

impl RuleCall {
    fn of(rule: &Ready, outcome: &Outcome<Option<RoutingDecision>>) -> RuleCall {
        let (output, outcome_name) = output_of(outcome);
        RuleCall {
            ready: rule.clone(),
            output,
            outcome: outcome_name,
            duration_us: micros(outcome.duration),
        }
    }
}

impl std::fmt::Debug for RuleCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RuleCall")
            .field("installation", &self.ready.installation.id)
            .field("outcome", &self.outcome)
            .finish()
    }
}

/// A rule's answer as it is stored: the decision's JSON (`null` for none) and `ok`, or the
/// failure and its outcome name.
pub fn output_of(
    outcome: &Outcome<Option<RoutingDecision>>,
) -> (Result<serde_json::Value, String>, &'static str) {
    match &outcome.result {
        Ok(decision) => (
            Ok(decision
                .as_ref()
                .map_or(serde_json::Value::Null, decision_json)),
            "ok",
        ),
        Err(failure) => (Err(failure.to_string()), failure.outcome()),
    }
}

/// A duration in whole microseconds, saturating.
pub fn micros(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_micros()).unwrap_or(i64::MAX)
}

/// What the routing rules produced for one ticket.
#[derive(Debug, Default)]
pub struct RoutingRun {
    pub decisions: Vec<RuleDecision>,
    /// Notifications with the plugin that queued them.
    pub notifications: Vec<(String, Notification)>,
    pub audits: Vec<Audit>,
    /// Each rule's call as it happened, for whoever records or compares them.
    pub calls: Vec<RuleCall>,
    /// The input the rules saw.
    pub input: Option<Arc<crate::runtime::wit::types::Ticket>>,
    /// Whether the tenant keeps the recorded inputs (from its plugin snapshot).
    pub keeps_inputs: bool,
}

/// Runs the tenant's routing rules on `ticket`. A failing rule is audited and skipped.
pub async fn run(
    core: &Core,
    tenant_id: &str,
    ticket: &Ticket,
    customer: Option<&Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<RoutingRun, ServiceError> {
    let snapshot = super::registry::snapshot(core, tenant_id).await?;
    let at =
        super::registry::site_path(core, tenant_id, &snapshot, ticket.site_id.as_deref()).await?;
    let rules = snapshot.of(World::RoutingRule, at.as_deref());
    let keeps_inputs = snapshot.keeps_inputs;
    let input = || Arc::new(convert::ticket(ticket, customer, vehicle));
    let mut run = hooks::run_each(
        core,
        rules,
        ticket.id.clone(),
        input,
        move |turn, run: &mut RoutingRun| {
            run.input.get_or_insert_with(|| turn.input.clone());
            let mut outcome =
                turn.invoke("route", &mut run.audits, |runtime, rule, host, input| {
                    runtime.route(&rule.loaded, rule.call.clone(), Some(host.clone()), input)
                });
            run.calls.push(RuleCall::of(turn.ready, &outcome));
            let queued = turn.queued(&mut outcome);
            let Ok(decision) = outcome.result else {
                return;
            };
            run.notifications.extend(queued);
            let Some(decision) = decision else {
                return;
            };
            let plugin = turn.plugin().to_owned();
            for wit in &decision.notifications {
                match crate::runtime::notification_from_wit(wit.clone()) {
                    Ok(notification) => run.notifications.push((plugin.clone(), notification)),
                    Err(reason) => {
                        tracing::warn!(%plugin, "dropping a decision notification: {reason}")
                    }
                }
            }
            let installation = &turn.ready.installation;
            run.decisions.push(RuleDecision {
                installation_id: turn.ready.call.installation_id.clone(),
                plugin,
                decision,
                scope: installation.scope.label(installation.mandatory),
            });
        },
    )
    .await?;
    run.keeps_inputs = keeps_inputs;
    Ok(run)
}

/// Applies merged decisions to `ticket`. Priority only ever rises; queue, team and
/// assignee are taken from the first rule that names them unless `keep_assignment`.
pub fn apply(ticket: &mut Ticket, decisions: &[RuleDecision], keep_assignment: bool) {
    for rule in decisions {
        let decision = &rule.decision;
        if let Some(priority) = decision.priority.map(convert::priority_from) {
            ticket.priority = ticket.priority.max(priority);
        }
        for tag in &decision.tags {
            if !ticket.tags.contains(tag) {
                ticket.tags.push(tag.clone());
            }
        }
    }
    if keep_assignment {
        return;
    }
    let first = |pick: fn(&RoutingDecision) -> &Option<String>| {
        decisions
            .iter()
            .find_map(|rule| pick(&rule.decision).clone())
    };
    if let Some(queue) = first(|d| &d.queue) {
        ticket.queue = Some(queue);
    }
    if let Some(team) = first(|d| &d.team) {
        ticket.team = Some(team);
    }
    if let Some(assignee) = first(|d| &d.assignee) {
        ticket.assignee = Some(assignee);
        if ticket.status == TicketStatus::New {
            ticket.status = TicketStatus::Assigned;
        }
    }
}

/// The decision as stored on the ticket's record.
pub fn decision_json(decision: &RoutingDecision) -> serde_json::Value {
    serde_json::json!({
        "priority": decision.priority.map(|p| convert::priority_from(p).as_str()),
        "queue": decision.queue,
        "team": decision.team,
        "assignee": decision.assignee,
        "tags": decision.tags,
        "notifications": decision.notifications.len(),
        "reason": decision.reason,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::records::{Priority, TicketChannel};
    use crate::runtime::wit::types;

    fn ticket() -> Ticket {
        Ticket {
            id: "t1".into(),
            subject: "Soft brake pedal".into(),
            description: "刹车踏板发软".into(),
            status: TicketStatus::New,
            priority: Priority::Normal,
            category: "powertrain".into(),
            channel: TicketChannel::Phone,
            customer_id: None,
            vehicle_id: None,
            site_id: None,
            queue: None,
            team: None,
            assignee: None,
            tags: vec!["hotline".into()],
            fields: Default::default(),
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn rule(
        priority: Option<types::Priority>,
        queue: Option<&str>,
        team: Option<&str>,
        tags: &[&str],
    ) -> RuleDecision {
        RuleDecision {
            installation_id: "i".into(),
            plugin: "p@1.0.0".into(),
            scope: serde_json::Value::Null,
            decision: RoutingDecision {
                priority,
                queue: queue.map(Into::into),
                team: team.map(Into::into),
                assignee: None,
                tags: tags.iter().map(|t| t.to_string()).collect(),
                notifications: vec![],
                reason: "because".into(),
            },
        }
    }

    #[test]
    fn highest_priority_wins_and_first_queue_wins() {
        let mut t = ticket();
        let decisions = [
            rule(
                Some(types::Priority::High),
                None,
                Some("vip-care"),
                &["vip"],
            ),
            rule(
                Some(types::Priority::Critical),
                Some("safety"),
                Some("brakes"),
                &["safety", "vip"],
            ),
        ];
        apply(&mut t, &decisions, false);
        assert_eq!(t.priority, Priority::Critical);
        assert_eq!(t.queue.as_deref(), Some("safety"));
        assert_eq!(t.team.as_deref(), Some("vip-care"));
        assert_eq!(t.tags, vec!["hotline", "vip", "safety"]);
    }

    #[test]
    fn rules_never_lower_priority() {
        let mut t = ticket();
        t.priority = Priority::High;
        apply(
            &mut t,
            &[rule(Some(types::Priority::Low), None, None, &[])],
            false,
        );
        assert_eq!(t.priority, Priority::High);
    }

    #[test]
    fn explicit_assignment_is_kept() {
        let mut t = ticket();
        t.queue = Some("front-desk".into());
        apply(&mut t, &[rule(None, Some("safety"), None, &[])], true);
        assert_eq!(t.queue.as_deref(), Some("front-desk"));
    }
}
