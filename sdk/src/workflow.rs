//! The `workflow-step` world: react to ticket events with actions the host applies.

use crate::Error;
pub use crate::wit::{Action, Assignment, Event, Reply};

/// A workflow step. The host calls [`WorkflowStep::on_event`] for each ticket event
/// (`ticket.created`, `ticket.updated`, …) and applies the returned actions in order, in one
/// transaction.
pub trait WorkflowStep {
    /// Handles `event` and returns the actions to apply, possibly none. An error is recorded
    /// by the host, which then applies nothing from this step.
    fn on_event(event: Event) -> Result<Vec<Action>, Error>;
}

/// Exports `$ty`, which implements [`WorkflowStep`], as this component's workflow step.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyStep);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn on_event(
                    event: $crate::workflow::Event,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::workflow::Action>,
                    $crate::Error,
                > {
                    <$ty as $crate::workflow::WorkflowStep>::on_event(event)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
