//! The tenant's service network: sites (the OEM, regions, dealers, service stations) and the
//! teams at them. Needs the `directory` grant (WIT 0.2.0, so `wit = "0.2.0"` in plugin.toml);
//! without it every call fails with `Error::Denied`.
//!
//! A routing rule uses it to pick a station or team by what it serves instead of hard-coding
//! ids in its config:
//!
//! ```ignore
//! use axle_sdk::directory;
//!
//! let city = ticket.customer.as_ref().and_then(|c| c.city.clone()).unwrap_or_default();
//! if let Some(station) = directory::stations_serving(&city)?.first() {
//!     let brakes = directory::teams(Some(&station.id), Some("brakes"))?;
//!     decision.team = brakes.first().map(|team| team.name.clone());
//! }
//! ```

use crate::Error;
use crate::wit::plugin::directory as host;

pub use host::{Site, SiteKind, Team};

/// The tenant's sites of `kind` (every kind when `None`), ordered by code, at most 500.
pub fn sites(kind: Option<SiteKind>) -> Result<Vec<Site>, Error> {
    host::list_sites(kind)
}

/// The service stations whose service area names `area` (a city or postcode, compared
/// ignoring case and surrounding spaces), ordered by code. `Error::InvalidInput` for an
/// empty `area`.
pub fn stations_serving(area: &str) -> Result<Vec<Site>, Error> {
    host::stations_serving(area)
}

/// Teams at `site_id` (at every site when `None`), only those with `skill` when given,
/// ordered by name, at most 500.
pub fn teams(site_id: Option<&str>, skill: Option<&str>) -> Result<Vec<Team>, Error> {
    host::list_teams(site_id, skill)
}
