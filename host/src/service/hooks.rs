//! The skeleton every plugin hook shares. Field providers, routing rules and workflow
//! steps all take the tenant's ready installations of their world, build the input once,
//! and call each installation in run order on the blocking pool with the same host access,
//! each call in its own span and audited. What differs is the call and what its answer
//! adds to the run, which the caller says in a closure.

use super::invocations::{self, Audit};
use super::plugins::Ready;
use super::{Core, ServiceError};
use crate::domain::records::Notification;
use crate::runtime::sandbox::HostAccess;
use crate::runtime::{Outcome, Runtime};

/// One installation's turn in a run.
pub struct Turn<'a, I> {
    pub runtime: &'a Runtime,
    pub ready: &'a Ready,
    pub host: &'a HostAccess,
    pub input: &'a I,
    /// The record the hook is about, for the audit.
    pub subject_id: &'a str,
}

impl<I> Turn<'_, I> {
    /// Calls one hook of the installation inside its invocation span, and audits the
    /// outcome into `audits`.
    pub fn invoke<T>(
        &self,
        hook: &'static str,
        audits: &mut Vec<Audit>,
        call: impl FnOnce(&Runtime, &Ready, &HostAccess, &I) -> Outcome<T>,
    ) -> Outcome<T> {
        let _span = invocations::invocation_span(self.ready, hook).entered();
        let outcome = call(self.runtime, self.ready, self.host, self.input);
        audits.push(Audit::of(self.ready, hook, Some(self.subject_id), &outcome));
        outcome
    }

    /// The plugin's name, which labels what it leaves behind.
    pub fn plugin(&self) -> &str {
        &self.ready.call.plugin
    }

    /// What the plugin queued through `notify.send`, labelled with the plugin.
    pub fn queued<T>(&self, outcome: &mut Outcome<T>) -> Vec<(String, Notification)> {
        std::mem::take(&mut outcome.notifications)
            .into_iter()
            .map(|notification| (self.plugin().to_owned(), notification))
            .collect()
    }
}

/// Gives each of `installations` its turn on `input`, folding each into a run that starts
/// as `R::default()`. With no installations, the input is not even built.
pub async fn run_each<I, R>(
    core: &Core,
    installations: Vec<Ready>,
    subject_id: String,
    input: impl FnOnce() -> I,
    mut each: impl FnMut(Turn<'_, I>, &mut R) + Send + 'static,
) -> Result<R, ServiceError>
where
    I: Send + 'static,
    R: Default + Send + 'static,
{
    if installations.is_empty() {
        return Ok(R::default());
    }
    let input = input();
    let runtime = core.runtime.clone();
    let host = invocations::host_access(core);
    invocations::run_blocking(move || {
        let mut run = R::default();
        for ready in &installations {
            let turn = Turn {
                runtime: &runtime,
                ready,
                host: &host,
                input: &input,
                subject_id: &subject_id,
            };
            each(turn, &mut run);
        }
        run
    })
    .await
}
