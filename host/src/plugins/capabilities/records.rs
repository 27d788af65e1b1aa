//! `records`: read-only lookups in the calling tenant's customers, vehicles, tickets and
//! published knowledge-base articles.

use super::super::bindings::{records::Host, types};
use super::super::convert;
use super::super::manifest::Capability;
use super::super::sandbox::{HostAccess, Sandbox};
use super::unavailable;
use crate::service::ServiceError;
use crate::service::knowledge_base;
use crate::store;
use crate::store::knowledge_base::{ArticleFilter, ArticleStatus};
use crate::vin::Vin;

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
            Ok(customer.as_ref().map(convert::customer))
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
            Ok(vehicle.as_ref().map(convert::vehicle))
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
            let published = ArticleFilter {
                status: Some(ArticleStatus::Published),
                ..Default::default()
            };
            let hits = host
                .block_on(knowledge_base::search(
                    &host.db,
                    &host.public_url,
                    tenant,
                    &query,
                    &published,
                    limit.min(MAX_ARTICLES) as usize,
                    // Plugins answer customers with no agent in between.
                    knowledge_base::Reader::Customer,
                ))
                .map_err(|err| match err {
                    ServiceError::Invalid(message) => types::Error::InvalidInput(message),
                    other => unavailable("records", other),
                })?;
            Ok(hits.iter().map(convert::article).collect())
        })())
    }
}
