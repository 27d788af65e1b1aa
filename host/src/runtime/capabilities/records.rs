//! `records`: read-only lookups in the calling tenant's customers, vehicles, tickets and
//! published knowledge-base articles.
//!
//! An installation scoped to a site's subtree sees only tickets at sites inside it, and
//! only customers and vehicles with such a ticket: a dealer's plugin knows the people and
//! cars its own stations served, never another dealer's.

use super::super::convert;
use super::super::sandbox::{BackendError, HostAccess, Sandbox};
use super::super::wit::{records::Host, types};
use super::unavailable;
use crate::domain::plugin::Capability;
use crate::store;
use crate::store::tickets::Party;
use axle_vin::Vin;

/// The most articles one search returns to a plugin.
const MAX_ARTICLES: u32 = 20;

impl Sandbox {
    fn records_access(&self) -> Result<(&HostAccess, &str), types::Error> {
        if let Some(denied) = self.call.check_grant(Capability::Records) {
            return Err(denied);
        }
        let host = self.host.as_ref().ok_or_else(|| {
            types::Error::Unavailable("records are not available in this run".to_owned())
        })?;
        Ok((host, &self.call.tenant_id))
    }

    /// Whether a scoped installation may see the customer or vehicle `id`: it has a
    /// ticket inside the scope. A tenant-wide installation sees every one.
    fn served(&self, party: Party, id: &str) -> Result<bool, types::Error> {
        let Some(within) = self.call.within.as_deref() else {
            return Ok(true);
        };
        let (host, tenant) = self.records_access()?;
        host.block_on(store::tickets::served_within(
            &host.db, tenant, party, id, within,
        ))
        .map_err(|err| unavailable("records", err))
    }
}

impl Host for Sandbox {
    fn get_customer(
        &mut self,
        id: String,
    ) -> wasmtime::Result<Result<Option<types::Customer>, types::Error>> {
        Ok((|| {
            let (host, tenant) = self.records_access()?;
            let customer = host
                .block_on(store::customers::get(&host.db, tenant, &id))
                .map_err(|err| unavailable("records", err))?;
            let Some(customer) = customer else {
                return Ok(None);
            };
            if !self.served(Party::Customer, &customer.id)? {
                return Ok(None);
            }
            Ok(Some(convert::customer(&customer)))
        })())
    }

    fn get_vehicle_by_vin(
        &mut self,
        vin: String,
    ) -> wasmtime::Result<Result<Option<types::Vehicle>, types::Error>> {
        Ok((|| {
            let (host, tenant) = self.records_access()?;
            let vin =
                Vin::parse(&vin).map_err(|err| types::Error::InvalidInput(err.to_string()))?;
            let vehicle = host
                .block_on(store::vehicles::get_by_vin(&host.db, tenant, vin.as_str()))
                .map_err(|err| unavailable("records", err))?;
            let Some(vehicle) = vehicle else {
                return Ok(None);
            };
            if !self.served(Party::Vehicle, &vehicle.id)? {
                return Ok(None);
            }
            Ok(Some(convert::vehicle(&vehicle)))
        })())
    }

    fn ticket_history(
        &mut self,
        customer_id: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<types::TicketSummary>, types::Error>> {
        Ok((|| {
            let (host, tenant) = self.records_access()?;
            let tickets = host
                .block_on(store::tickets::history(
                    &host.db,
                    tenant,
                    &customer_id,
                    limit.min(100),
                    self.call.within.as_deref(),
                ))
                .map_err(|err| unavailable("records", err))?;
            Ok(tickets.iter().map(convert::ticket_summary).collect())
        })())
    }

    fn search_articles(
        &mut self,
        query: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<types::Article>, types::Error>> {
        Ok((|| {
            let (host, tenant) = self.records_access()?;
            let hits = host
                .block_on(host.backend.search_articles(
                    tenant,
                    &query,
                    limit.min(MAX_ARTICLES) as usize,
                ))
                .map_err(|err| match err {
                    BackendError::Invalid(message) => types::Error::InvalidInput(message),
                    BackendError::Unavailable(message) => unavailable("records", message),
                })?;
            Ok(hits.iter().map(convert::article).collect())
        })())
    }
}
