//! Hotline intake: one answered call becomes a ticket linked to the caller (found by phone
//! or created) and the car they name (found by VIN or created), routed by the tenant's rules
//! and placed by the default dispatcher. Customer, vehicle and ticket commit in one
//! transaction, and a call id makes a retried intake return the ticket it already made, so
//! an answered call is never lost and never doubled.

use serde::{Deserialize, Serialize};

use super::field_checks;
use super::tickets::{self, Actor, Links, NewTicket, TicketView};
use super::{Core, FieldError, ServiceError};
use crate::db::Tx;
use crate::domain::page::Page;
use crate::domain::records::{Customer, FieldEntity, Fields, TicketChannel, Vehicle};
use crate::store::customers::{self, CustomerFilter, NewCustomer};
use crate::store::tickets as ticket_store;
use crate::store::vehicles::{self, NewVehicle};
use axle_vin::Vin;

/// An answered call.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Call {
    /// The caller's number, as the switchboard shows it.
    #[serde(default)]
    pub phone: String,
    #[serde(default)]
    pub vin: Option<String>,
    /// The plate of the car the caller names, kept when the call creates the vehicle.
    #[serde(default)]
    pub plate: Option<String>,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub channel: Option<TicketChannel>,
    /// The caller's name, for a first-time caller.
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    /// The telephony system's id for the call; a retry with the same id is answered with
    /// the ticket the first attempt made.
    #[serde(default)]
    pub call_id: Option<String>,
    /// The ticket's custom fields.
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
}

/// What the intake did.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Intake {
    pub ticket: TicketView,
    pub customer_created: bool,
    pub vehicle_created: bool,
    /// The call id was seen before; this is the ticket that call made.
    pub replayed: bool,
}

async fn replay(
    core: &Core,
    tenant_id: &str,
    call_id: &str,
) -> Result<Option<Intake>, ServiceError> {
    let Some(ticket_id) = ticket_store::by_call_id(&core.db, tenant_id, call_id).await? else {
        return Ok(None);
    };
    let ticket = tickets::view(core, tenant_id, &ticket_id).await?;
    Ok(Some(Intake {
        ticket,
        customer_created: false,
        vehicle_created: false,
        replayed: true,
    }))
}

/// Takes a call: checks it, finds or builds the caller and their car, and writes them with
/// the prepared ticket in one transaction.
pub async fn take(
    core: &Core,
    tenant_id: &str,
    actor: &Actor,
    call: Call,
) -> Result<Intake, ServiceError> {
    let call_id = call
        .call_id
        .as_deref()
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    if let Some(call_id) = &call_id
        && let Some(done) = replay(core, tenant_id, call_id).await?
    {
        return Ok(done);
    }
    let (phone, vin, errors) = checked(core, tenant_id, &call).await?;
    let mut links = Links {
        answered_call: true,
        ..Default::default()
    };
    let parties = Parties::find_or_build(core, tenant_id, &call, phone, vin, &mut links).await?;
    links
        .record_issues
        .extend(parties.new_records_issues(core, tenant_id).await?);
    links.customer = Some(parties.customer.clone());
    links.vehicle = parties.vehicle.clone();
    let input = NewTicket {
        subject: call.subject,
        description: call.description,
        category: call.category,
        channel: Some(call.channel.unwrap_or(TicketChannel::Phone)),
        customer_id: Some(parties.customer.id.clone()),
        vehicle_id: parties.vehicle.as_ref().map(|v| v.id.clone()),
        fields: call.fields,
        ..Default::default()
    };
    let prepared = tickets::prepare(core, tenant_id, input, links, errors).await?;
    let written = async {
        let mut tx = core.db.begin_write().await?;
        parties.write_in(&mut tx, tenant_id).await?;
        prepared.write(core, &mut tx, tenant_id, actor).await?;
        if let Some(call_id) = &call_id {
            let ticket_id = &prepared.ticket().id;
            ticket_store::set_call_id(&mut tx, tenant_id, ticket_id, call_id).await?;
        }
        tx.commit().await?;
        Ok::<_, ServiceError>(())
    }
    .await;
    match written {
        Ok(()) => Ok(Intake {
            ticket: prepared.finish(core, tenant_id).await?,
            customer_created: parties.new_customer,
            vehicle_created: parties.vehicle_write == VehicleWrite::Insert,
            replayed: false,
        }),
        // The same call raced in twice; the other attempt's ticket is the answer.
        Err(ServiceError::Conflict(_)) if call_id.is_some() => {
            replay(core, tenant_id, call_id.as_deref().unwrap_or_default())
                .await?
                .ok_or_else(|| {
                    ServiceError::Internal("a conflicting intake left no ticket".to_owned())
                })
        }
        Err(err) => Err(err),
    }
}

/// The call's phone number in E.164 and its VIN, with what was wrong with them: a wrong VIN
/// goes on to the ticket's own checks, so that one 422 lists every problem. Without a
/// phone number there is no caller to find, so that is a 422 at once.
async fn checked(
    core: &Core,
    tenant_id: &str,
    call: &Call,
) -> Result<(String, Option<Vin>, Vec<FieldError>), ServiceError> {
    let mut errors = Vec::new();
    let phone = super::settings::phone_country(core, tenant_id)
        .await?
        .normalise(&call.phone)
        .map_err(|message| {
            errors.push(FieldError {
                field: "phone".into(),
                message,
            })
        })
        .ok();
    let vin = match call.vin.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
        Some(raw) => Vin::parse(raw)
            .map_err(|err| {
                errors.push(FieldError {
                    field: "vin".into(),
                    message: err.to_string(),
                })
            })
            .ok(),
        None => None,
    };
    match phone {
        Some(phone) => Ok((phone, vin, errors)),
        None => Err(ServiceError::Unprocessable {
            message: format!("the call is not valid: {}", tickets::summary(&errors)),
            errors,
        }),
    }
}

/// What the call does to the car it names, in the ticket's transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum VehicleWrite {
    /// No car named, or one already on file with an owner.
    Nothing,
    /// A car not on file.
    Insert,
    /// A car on file without an owner: the caller becomes its owner.
    Claim,
}

/// The caller and the car they name, as the call finds them: on file, or records built
/// here and written with the ticket.
struct Parties {
    customer: Customer,
    new_customer: bool,
    vehicle: Option<Vehicle>,
    vehicle_write: VehicleWrite,
}

impl Parties {
    /// The caller by phone number, else a new customer named as the call says (or for the
    /// number); the car by VIN, else a new vehicle owned by the caller. A plate that cannot
    /// be read is noted in `links`' record issues.
    async fn find_or_build(
        core: &Core,
        tenant_id: &str,
        call: &Call,
        phone: String,
        vin: Option<Vin>,
        links: &mut Links,
    ) -> Result<Parties, ServiceError> {
        let filter = CustomerFilter {
            phone: Some(phone.clone()),
            ..Default::default()
        };
        let first = Page {
            limit: 1,
            cursor: None,
        };
        let known = customers::list(&core.db, tenant_id, &filter, &first).await?;
        let (customer, new_customer) = match known.items.into_iter().next() {
            Some(customer) => (customer, false),
            None => {
                let name = call.name.clone().filter(|n| !n.trim().is_empty());
                let customer = NewCustomer {
                    name: name.unwrap_or_else(|| format!("来电客户 Caller {phone}")),
                    phone: Some(phone),
                    city: call.city.clone(),
                    region: call.region.clone(),
                    ..Default::default()
                };
                (customer.into_customer(), true)
            }
        };
        let Some(vin) = vin else {
            return Ok(Parties {
                customer,
                new_customer,
                vehicle: None,
                vehicle_write: VehicleWrite::Nothing,
            });
        };
        let (vehicle, vehicle_write) = match vehicles::get_by_vin(&core.db, tenant_id, vin.as_str())
            .await?
        {
            Some(mut vehicle) if vehicle.customer_id.is_none() => {
                vehicle.customer_id = Some(customer.id.clone());
                (vehicle, VehicleWrite::Claim)
            }
            Some(vehicle) => (vehicle, VehicleWrite::Nothing),
            None => {
                let plate =
                    super::vehicles::checked_plate(call.plate.as_deref(), &mut links.record_issues);
                let vehicle = NewVehicle {
                    external_id: None,
                    vin,
                    plate,
                    customer_id: Some(customer.id.clone()),
                    make: None,
                    model: None,
                    model_year: None,
                    mileage_km: None,
                    fields: Default::default(),
                };
                (vehicle.into_vehicle(), VehicleWrite::Insert)
            }
        };
        Ok(Parties {
            customer,
            new_customer,
            vehicle: Some(vehicle),
            vehicle_write,
        })
    }

    /// What the tenant requires of the records the call creates, which carry no custom
    /// fields yet: noted on the ticket's timeline, to fill in after the call.
    async fn new_records_issues(
        &self,
        core: &Core,
        tenant_id: &str,
    ) -> Result<Vec<FieldError>, ServiceError> {
        let created = [
            (
                self.new_customer,
                FieldEntity::Customer,
                Some(&self.customer.fields),
            ),
            (
                self.vehicle_write == VehicleWrite::Insert,
                FieldEntity::Vehicle,
                self.vehicle.as_ref().map(|v| &v.fields),
            ),
        ];
        let mut issues = Vec::new();
        for (created, entity, fields) in created {
            if let (true, Some(fields)) = (created, fields) {
                let found = field_checks::check_record(core, tenant_id, entity, fields).await?;
                issues.extend(found.into_iter().map(|issue| FieldError {
                    field: format!("{entity}.{}", issue.field),
                    message: issue.message,
                }));
            }
        }
        Ok(issues)
    }

    /// Writes the new customer and the new or claimed vehicle in `tx`.
    async fn write_in(&self, tx: &mut Tx, tenant_id: &str) -> Result<(), ServiceError> {
        if self.new_customer {
            customers::insert_in(tx, tenant_id, &self.customer).await?;
        }
        if let Some(vehicle) = &self.vehicle {
            match self.vehicle_write {
                VehicleWrite::Insert => vehicles::insert_in(tx, tenant_id, vehicle).await?,
                VehicleWrite::Claim => {
                    let owner = vehicle.customer_id.as_deref();
                    vehicles::claim_in(tx, tenant_id, &vehicle.id, owner).await?;
                }
                VehicleWrite::Nothing => {}
            }
        }
        Ok(())
    }
}
