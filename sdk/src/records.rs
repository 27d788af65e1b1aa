//! Read-only lookups in the calling tenant's records and knowledge base. Needs the `records`
//! grant; without it every call fails with `Error::Denied`.

use crate::wit::plugin::records as host;
use crate::{Article, Customer, Error, TicketSummary, Vehicle};

/// A customer by id; `None` when the tenant has no such customer.
pub fn customer(id: &str) -> Result<Option<Customer>, Error> {
    host::get_customer(id)
}

/// A vehicle by VIN; `None` when the tenant has no such vehicle.
pub fn vehicle_by_vin(vin: &str) -> Result<Option<Vehicle>, Error> {
    host::get_vehicle_by_vin(vin)
}

/// The customer's most recent tickets, newest first, at most `limit` (the host caps it at 100).
pub fn ticket_history(customer_id: &str, limit: u32) -> Result<Vec<TicketSummary>, Error> {
    host::ticket_history(customer_id, limit)
}

/// The tenant's published knowledge-base articles matching `query` (Chinese or English), best
/// first, at most `limit` (the host caps it at 20). No match is an empty list;
/// `Error::InvalidInput` when the query has no searchable word.
pub fn search_articles(query: &str, limit: u32) -> Result<Vec<Article>, Error> {
    host::search_articles(query, limit)
}
