//! Field providers on records as they are created: every enabled field-provider
//! installation validates the record (issues become a 422, one per field) and computes
//! the fields it owns, which the host stores with the record.

use super::invocations::{self, Audit};
use super::plugins::{self, Ready};
use super::{Core, FieldError, ServiceError};
use crate::domain::plugin::World;
use crate::domain::records::{Fields, Vehicle};
use crate::plugins::bindings::fields::Subject;
use crate::plugins::convert;
use crate::plugins::runtime::Runtime;
use crate::plugins::sandbox::HostAccess;

/// What the providers said about one record.
#[derive(Debug, Default)]
pub struct FieldsRun {
    /// Computed values, by field name.
    pub values: Fields,
    pub issues: Vec<FieldError>,
    pub audits: Vec<Audit>,
}

fn run_all(
    runtime: &Runtime,
    providers: &[Ready],
    host: HostAccess,
    subject: &Subject,
    subject_id: &str,
) -> FieldsRun {
    let mut run = FieldsRun::default();
    for provider in providers {
        let span = invocations::invocation_span(provider, "validate").entered();
        let (checked, computed) = runtime.validate_and_compute(
            &provider.loaded,
            provider.call.clone(),
            Some(host.clone()),
            subject,
        );
        run.audits
            .push(Audit::of(provider, "validate", Some(subject_id), &checked));
        drop(span);
        if let Ok(issues) = checked.result {
            run.issues
                .extend(issues.into_iter().map(|issue| FieldError {
                    field: issue.field,
                    message: format!("{} ({})", issue.message, provider.call.plugin),
                }));
        }
        let _span = invocations::invocation_span(provider, "compute").entered();
        run.audits
            .push(Audit::of(provider, "compute", Some(subject_id), &computed));
        if let Ok(fields) = computed.result {
            for field in fields {
                run.values
                    .insert(field.name, convert::field_json(&field.value));
            }
        }
    }
    run
}

/// Runs the tenant's field providers on a ticket about to be stored, with its links.
pub async fn for_ticket(
    core: &Core,
    tenant_id: &str,
    ticket: &crate::domain::records::Ticket,
    customer: Option<&crate::domain::records::Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<FieldsRun, ServiceError> {
    let providers = plugins::ready_for(core, tenant_id, World::FieldProvider).await?;
    if providers.is_empty() {
        return Ok(FieldsRun::default());
    }
    let subject = Subject::Ticket(convert::ticket(ticket, customer, vehicle));
    let runtime = core.runtime.clone();
    let host = invocations::host_access(core);
    let id = ticket.id.clone();
    invocations::run_blocking(move || run_all(&runtime, &providers, host, &subject, &id)).await
}

/// Runs the tenant's field providers on a vehicle about to be stored. A provider that
/// fails is audited and skipped, like any plugin.
pub async fn for_vehicle(
    core: &Core,
    tenant_id: &str,
    vehicle: &Vehicle,
) -> Result<FieldsRun, ServiceError> {
    let providers = plugins::ready_for(core, tenant_id, World::FieldProvider).await?;
    if providers.is_empty() {
        return Ok(FieldsRun::default());
    }
    let subject = Subject::Vehicle(convert::vehicle(vehicle));
    let runtime = core.runtime.clone();
    let host = invocations::host_access(core);
    let id = vehicle.id.clone();
    invocations::run_blocking(move || run_all(&runtime, &providers, host, &subject, &id)).await
}
