//! Routing rules: every enabled routing-rule installation looks at the ticket, and the
//! host merges their decisions — the highest priority wins, the first rule (in run order)
//! to name a queue, team or assignee wins, tags and notifications are unioned.

use super::invocations::{self, Audit};
use super::plugins::Ready;
use super::{Core, ServiceError};
use crate::domain::plugin::World;
use crate::domain::records::{Customer, Notification, Ticket, TicketStatus, Vehicle};
use crate::plugins::bindings::routing::RoutingDecision;
use crate::plugins::convert;

/// One rule's decision, as returned.
#[derive(Clone, Debug)]
pub struct RuleDecision {
    pub installation_id: String,
    pub plugin: String,
    pub decision: RoutingDecision,
}

/// What the routing rules produced for one ticket.
#[derive(Debug, Default)]
pub struct RoutingRun {
    pub decisions: Vec<RuleDecision>,
    /// Notifications with the plugin that queued them.
    pub notifications: Vec<(String, Notification)>,
    pub audits: Vec<Audit>,
    /// Each invocation as recorded for replay and shadow comparison.
    pub recorded: Vec<super::shadow::Recorded>,
    /// The input the rules saw.
    pub input: Option<std::sync::Arc<crate::plugins::bindings::types::Ticket>>,
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
    let rules = snapshot.of(World::RoutingRule);
    if rules.is_empty() {
        return Ok(RoutingRun::default());
    }
    let keeps_inputs = snapshot.keeps_inputs;
    let input = std::sync::Arc::new(convert::ticket(ticket, customer, vehicle));
    let runtime = core.runtime.clone();
    let host = invocations::host_access(core);
    let ticket_id = ticket.id.clone();
    invocations::run_blocking(move || {
        let mut run = route_all(&runtime, &rules, host, &input, &ticket_id);
        run.input = Some(input);
        run.keeps_inputs = keeps_inputs;
        run
    })
    .await
}

fn route_all(
    runtime: &crate::plugins::runtime::Runtime,
    rules: &[Ready],
    host: crate::plugins::sandbox::HostAccess,
    input: &crate::plugins::bindings::types::Ticket,
    ticket_id: &str,
) -> RoutingRun {
    let mut run = RoutingRun::default();
    for rule in rules {
        let _span = invocations::invocation_span(rule, "route").entered();
        let outcome = runtime.route(&rule.loaded, rule.call.clone(), Some(host.clone()), input);
        run.audits
            .push(Audit::of(rule, "route", Some(ticket_id), &outcome));
        run.recorded
            .push(super::shadow::Recorded::of(rule, &outcome));
        let Ok(decision) = outcome.result else {
            continue;
        };
        let plugin = rule.call.plugin.clone();
        run.notifications.extend(
            outcome
                .notifications
                .into_iter()
                .map(|n| (plugin.clone(), n)),
        );
        if let Some(decision) = decision {
            for wit in &decision.notifications {
                match crate::plugins::notification_from_wit(wit.clone()) {
                    Ok(notification) => run.notifications.push((plugin.clone(), notification)),
                    Err(reason) => {
                        tracing::warn!(%plugin, "dropping a decision notification: {reason}")
                    }
                }
            }
            run.decisions.push(RuleDecision {
                installation_id: rule.call.installation_id.clone(),
                plugin,
                decision,
            });
        }
    }
    run
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
    use crate::plugins::bindings::types;

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
