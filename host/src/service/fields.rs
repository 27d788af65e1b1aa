//! Field providers on records as they are created: every enabled field-provider
//! installation validates the record (issues become a 422, one per field) and computes
//! the fields it owns, which the host stores with the record.

use super::hooks;
use super::invocations::Audit;
use super::{Core, FieldError, ServiceError};
use crate::domain::plugin::World;
use crate::domain::records::{Customer, Fields, Ticket, Vehicle};
use crate::runtime::convert;
use crate::runtime::wit::fields::Subject;

/// What the providers said about one record.
#[derive(Debug, Default)]
pub struct FieldsRun {
    /// Computed values, by field name.
    pub values: Fields,
    pub issues: Vec<FieldError>,
    pub audits: Vec<Audit>,
}

/// Runs the tenant's field providers on the record `subject` builds. A provider that
/// fails is audited and skipped, like any plugin.
async fn run(
    core: &Core,
    tenant_id: &str,
    subject_id: &str,
    site_id: Option<&str>,
    subject: impl FnOnce() -> Subject,
) -> Result<FieldsRun, ServiceError> {
    let providers =
        super::registry::for_record(core, tenant_id, World::FieldProvider, site_id).await?;
    let subject_id = subject_id.to_owned();
    hooks::run_each(
        core,
        providers,
        subject_id,
        subject,
        |turn, run: &mut FieldsRun| {
            // One call answers both hooks; each is audited under its own name.
            let mut computed = None;
            let checked = turn.invoke(
                "validate",
                &mut run.audits,
                |runtime, ready, host, subject| {
                    let (checked, outcome) = runtime.validate_and_compute(
                        &ready.loaded,
                        ready.call.clone(),
                        Some(host.clone()),
                        subject,
                    );
                    computed = Some(outcome);
                    checked
                },
            );
            if let Ok(issues) = checked.result {
                run.issues
                    .extend(issues.into_iter().map(|issue| FieldError {
                        field: issue.field,
                        message: format!("{} ({})", issue.message, turn.plugin()),
                    }));
            }
            let Some(computed) = computed else {
                return;
            };
            let computed = turn.invoke("compute", &mut run.audits, |_, _, _, _| computed);
            if let Ok(fields) = computed.result {
                for field in fields {
                    run.values
                        .insert(field.name, convert::field_json(&field.value));
                }
            }
        },
    )
    .await
}

/// Runs the tenant's field providers on a ticket about to be stored, with its links.
pub async fn for_ticket(
    core: &Core,
    tenant_id: &str,
    ticket: &Ticket,
    customer: Option<&Customer>,
    vehicle: Option<&Vehicle>,
) -> Result<FieldsRun, ServiceError> {
    run(
        core,
        tenant_id,
        &ticket.id,
        ticket.site_id.as_deref(),
        || Subject::Ticket(convert::ticket(ticket, customer, vehicle)),
    )
    .await
}

/// Runs the tenant's field providers on a vehicle about to be stored. A vehicle is at no
/// site, so only tenant-wide providers see it.
pub async fn for_vehicle(
    core: &Core,
    tenant_id: &str,
    vehicle: &Vehicle,
) -> Result<FieldsRun, ServiceError> {
    run(core, tenant_id, &vehicle.id, None, || {
        Subject::Vehicle(convert::vehicle(vehicle))
    })
    .await
}
