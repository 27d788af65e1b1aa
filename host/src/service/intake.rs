//! Hotline intake: one answered call becomes a ticket linked to the caller (found by phone
//! or created) and the car they name (found by VIN or created), routed by the tenant's rules
//! and placed by the default dispatcher. Customer, vehicle and ticket commit in one
//! transaction, and a call id makes a retried intake return the ticket it already made, so
//! an answered call is never lost and never doubled.

use serde::{Deserialize, Serialize};

use super::field_checks;
use super::tickets::{self, Actor, Links, NewTicket, TicketView};
use super::{Core, FieldError, ServiceError};
use crate::domain::page::Page;
use crate::domain::records::{FieldEntity, Fields, TicketChannel};
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

/// Takes a call.
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
    let Some(phone) = phone else {
        return Err(ServiceError::Unprocessable {
            message: format!("the call is not valid: {}", tickets::summary(&errors)),
            errors,
        });
    };

    // What the call itself writes before the ticket, in the ticket's transaction.
    let (mut insert_customer, mut insert_vehicle, mut claim_vehicle) = (false, false, false);
    let mut links = Links {
        answered_call: true,
        ..Default::default()
    };
    let filter = CustomerFilter {
        phone: Some(phone.clone()),
        ..Default::default()
    };
    let known = customers::list(
        &core.db,
        tenant_id,
        &filter,
        &Page {
            limit: 1,
            cursor: None,
        },
    )
    .await?
    .items;
    let customer = match known.into_iter().next() {
        Some(customer) => customer,
        None => {
            insert_customer = true;
            NewCustomer {
                name: call
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .unwrap_or_else(|| format!("来电客户 Caller {phone}")),
                phone: Some(phone.clone()),
                city: call.city.clone(),
                region: call.region.clone(),
                ..Default::default()
            }
            .into_customer()
        }
    };
    if let Some(vin) = vin {
        links.vehicle = Some(
            match vehicles::get_by_vin(&core.db, tenant_id, vin.as_str()).await? {
                Some(mut vehicle) if vehicle.customer_id.is_none() => {
                    claim_vehicle = true;
                    vehicle.customer_id = Some(customer.id.clone());
                    vehicle
                }
                Some(vehicle) => vehicle,
                None => {
                    insert_vehicle = true;
                    NewVehicle {
                        external_id: None,
                        vin,
                        plate: super::vehicles::checked_plate(
                            call.plate.as_deref(),
                            &mut links.record_issues,
                        ),
                        customer_id: Some(customer.id.clone()),
                        make: None,
                        model: None,
                        model_year: None,
                        mileage_km: None,
                        fields: Default::default(),
                    }
                    .into_vehicle()
                }
            },
        );
    }
    links.customer = Some(customer);
    // Records the call creates carry no custom fields yet; what the tenant requires of
    // them is noted on the ticket's timeline, to fill in after the call.
    let created = [
        (
            insert_customer,
            FieldEntity::Customer,
            links.customer.as_ref().map(|c| &c.fields),
        ),
        (
            insert_vehicle,
            FieldEntity::Vehicle,
            links.vehicle.as_ref().map(|v| &v.fields),
        ),
    ];
    let mut record_issues = Vec::new();
    for (inserted, entity, fields) in created {
        if let (true, Some(fields)) = (inserted, fields) {
            record_issues.extend(
                field_checks::check_record(core, tenant_id, entity, fields)
                    .await?
                    .into_iter()
                    .map(|issue| FieldError {
                        field: format!("{entity}.{}", issue.field),
                        message: issue.message,
                    }),
            );
        }
    }
    links.record_issues.extend(record_issues);
    let input = NewTicket {
        subject: call.subject,
        description: call.description,
        category: call.category,
        channel: Some(call.channel.unwrap_or(TicketChannel::Phone)),
        customer_id: links.customer.as_ref().map(|c| c.id.clone()),
        vehicle_id: links.vehicle.as_ref().map(|v| v.id.clone()),
        fields: call.fields,
        ..Default::default()
    };
    let (customer, vehicle) = (links.customer.clone(), links.vehicle.clone());
    let prepared = tickets::prepare(core, tenant_id, input, links, errors).await?;
    let written = async {
        let mut tx = core.db.begin_write().await?;
        if let (true, Some(customer)) = (insert_customer, &customer) {
            customers::insert_in(&mut tx, tenant_id, customer).await?;
        }
        if let Some(vehicle) = &vehicle {
            if insert_vehicle {
                vehicles::insert_in(&mut tx, tenant_id, vehicle).await?;
            } else if claim_vehicle {
                let owner = vehicle.customer_id.as_deref();
                vehicles::claim_in(&mut tx, tenant_id, &vehicle.id, owner).await?;
            }
        }
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
            customer_created: insert_customer,
            vehicle_created: insert_vehicle,
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
