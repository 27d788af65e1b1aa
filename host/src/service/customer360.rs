//! The 360° customer view: one call returns everything an agent needs on the phone —
//! the profile, the vehicles with the campaigns that cover them, open and past tickets
//! with their interactions, and the customer's survey answers.

use std::collections::HashSet;

use serde::Serialize;

use super::access::Access;
use super::{Core, ServiceError};
use crate::domain::campaigns::Campaign;
use crate::domain::page::Page;
use crate::domain::records::{
    Customer, Interaction, ServiceRecord, Survey, Ticket, TicketFilter, Vehicle,
};
use crate::store::org::{self, SiteFilter};
use crate::store::vehicles::{self, VehicleFilter};
use crate::store::{campaigns, customers, interactions, service_records, surveys, tickets};

/// How much history the view carries: the newest tickets, and interactions per ticket.
const MAX_TICKETS: i64 = 100;
const MAX_INTERACTIONS: i64 = 50;

/// A vehicle with its maintenance history and the campaigns that cover it.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct VehicleView {
    #[serde(flatten)]
    pub vehicle: Vehicle,
    /// Latest first.
    pub service_records: Vec<ServiceRecord>,
    pub campaigns: Vec<Campaign>,
}

/// A ticket with its work log.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct TicketHistory {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub interactions: Vec<Interaction>,
}

/// The whole customer.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Customer360 {
    pub customer: Customer,
    pub vehicles: Vec<VehicleView>,
    pub open_tickets: Vec<TicketHistory>,
    pub past_tickets: Vec<TicketHistory>,
    /// Answered surveys, oldest first.
    pub surveys: Vec<Survey>,
    /// Active campaigns covering any of the customer's vehicles.
    pub campaigns: Vec<Campaign>,
}

/// Builds the view; `sees` decides which tickets a site-scoped caller may include.
pub async fn view(
    core: &Core,
    access: Access<'_>,
    customer_id: &str,
) -> Result<Customer360, ServiceError> {
    let tenant_id = access.tenant_id;
    // A dealer's caller sees the tickets filed at the sites of its subtree.
    let visible_sites = match access.subtree {
        Some(_) => {
            let filter = SiteFilter {
                within: access.within(),
                ..Default::default()
            };
            let everything = Page {
                limit: 10_000,
                cursor: None,
            };
            let sites = org::list_sites(&core.db, tenant_id, &filter, &everything).await?;
            Some(
                sites
                    .items
                    .into_iter()
                    .map(|site| site.id)
                    .collect::<HashSet<_>>(),
            )
        }
        None => None,
    };
    let sees = |ticket: &Ticket| match &visible_sites {
        None => true,
        Some(visible) => ticket
            .site_id
            .as_ref()
            .is_some_and(|site| visible.contains(site)),
    };
    let customer = customers::get(&core.db, tenant_id, customer_id)
        .await?
        .ok_or(ServiceError::NotFound("customer"))?;
    let owned = vehicles::list(
        &core.db,
        tenant_id,
        &VehicleFilter {
            customer_id: Some(customer.id.clone()),
            ..Default::default()
        },
        &Page {
            limit: 200,
            cursor: None,
        },
    )
    .await?
    .items;
    let active = campaigns::active(&core.db, tenant_id).await?;
    let mut covering: Vec<Campaign> = Vec::new();
    let mut vehicles = Vec::new();
    for vehicle in owned {
        let campaigns: Vec<Campaign> = active
            .iter()
            .filter(|c| c.covers(&vehicle))
            .cloned()
            .collect();
        for campaign in &campaigns {
            if !covering.iter().any(|c| c.id == campaign.id) {
                covering.push(campaign.clone());
            }
        }
        let service_records =
            service_records::list_for_vehicle(&core.db, tenant_id, &vehicle.id).await?;
        vehicles.push(VehicleView {
            vehicle,
            service_records,
            campaigns,
        });
    }

    let filter = TicketFilter {
        customer_id: Some(customer.id.clone()),
        ..Default::default()
    };
    let history = tickets::list(
        &core.db,
        tenant_id,
        &filter,
        &Page {
            limit: MAX_TICKETS,
            cursor: None,
        },
    )
    .await?
    .items;
    let (mut open_tickets, mut past_tickets, mut answered) = (Vec::new(), Vec::new(), Vec::new());
    for ticket in history.into_iter().filter(|t| sees(t)) {
        let log = interactions::list(
            &core.db,
            tenant_id,
            &ticket.id,
            &Page {
                limit: MAX_INTERACTIONS,
                cursor: None,
            },
        )
        .await?
        .items;
        answered.extend(
            surveys::for_ticket(&core.db, tenant_id, &ticket.id)
                .await?
                .into_iter()
                .filter(|s| s.answered_at.is_some()),
        );
        let entry = TicketHistory {
            interactions: log,
            ticket,
        };
        if entry.ticket.status.is_open() {
            open_tickets.push(entry);
        } else {
            past_tickets.push(entry);
        }
    }
    answered.sort_by(|a, b| a.answered_at.cmp(&b.answered_at));
    Ok(Customer360 {
        customer,
        vehicles,
        open_tickets,
        past_tickets,
        surveys: answered,
        campaigns: covering,
    })
}
