//! The `routing-rule` world: decide priority, queue, team and assignee for a ticket.

pub use crate::wit::RoutingDecision;
use crate::{Error, Ticket};

/// A routing rule. The host calls [`RoutingRule::route`] for every new or updated ticket and
/// merges the decisions of all rules: highest priority wins, the first rule to name a queue,
/// team or assignee wins, tags and notifications are unioned.
pub trait RoutingRule {
    /// Looks at `ticket` and returns a decision, or `None` when the rule does not apply.
    /// An error is recorded by the host, which routes the ticket without this rule.
    fn route(ticket: Ticket) -> Result<Option<RoutingDecision>, Error>;
}

/// A decision that changes nothing yet: no priority, queue, team, assignee, tags or
/// notifications, only the `reason` an agent reads on the ticket's timeline.
pub fn decision(reason: impl Into<String>) -> RoutingDecision {
    RoutingDecision {
        priority: None,
        queue: None,
        team: None,
        assignee: None,
        tags: Vec::new(),
        notifications: Vec::new(),
        reason: reason.into(),
    }
}

/// Exports `$ty`, which implements [`RoutingRule`], as this component's routing rule.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyRule);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn route(
                    ticket: $crate::Ticket,
                ) -> ::core::result::Result<
                    ::core::option::Option<$crate::routing::RoutingDecision>,
                    $crate::Error,
                > {
                    <$ty as $crate::routing::RoutingRule>::route(ticket)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decision_carries_only_the_reason() {
        let d = decision("why");
        assert_eq!(d.reason, "why");
        assert!(d.priority.is_none() && d.queue.is_none() && d.team.is_none());
        assert!(d.assignee.is_none() && d.tags.is_empty() && d.notifications.is_empty());
    }
}
