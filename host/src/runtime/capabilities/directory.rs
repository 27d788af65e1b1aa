//! `directory`: read-only lookups in the calling tenant's sites and teams (WIT 0.2.0), so
//! a routing rule can pick a station or team by what it serves. An installation scoped to
//! a site's subtree sees only the sites and teams inside it.

use super::super::sandbox::{HostAccess, Sandbox};
use super::super::wit::{directory, types};
use super::unavailable;
use crate::domain::org::{Site, SiteKind, Team};
use crate::domain::page::Page;
use crate::domain::plugin::Capability;
use crate::store::StoreError;
use crate::store::org::{self, SiteFilter, TeamFilter};

/// The most sites or teams one call returns.
const MAX_ENTRIES: i64 = 500;

impl Sandbox {
    fn directory_access(&self) -> Result<(&HostAccess, &str), types::Error> {
        if let Some(denied) = self.call.check_grant(Capability::Directory) {
            return Err(denied);
        }
        let host = self.host.as_ref().ok_or_else(|| {
            types::Error::Unavailable("the directory is not available in this run".to_owned())
        })?;
        Ok((host, &self.call.tenant_id))
    }

    /// The tenant's sites of `kind` (that may serve `area`, when given), ordered by code.
    fn sites(
        &self,
        kind: Option<SiteKind>,
        may_serve: Option<&str>,
    ) -> Result<Vec<Site>, types::Error> {
        let (host, tenant) = self.directory_access()?;
        let filter = SiteFilter {
            kind,
            may_serve: may_serve.map(str::to_owned),
            within: self.call.within.clone(),
            ..SiteFilter::default()
        };
        let mut sites = host
            .block_on(org::list_sites(&host.db, tenant, &filter, &first_page()))
            .map_err(|err| unavailable("directory", err))?
            .items;
        sites.sort_by(|a, b| a.code.cmp(&b.code));
        Ok(sites)
    }
}

fn first_page() -> Page {
    Page {
        limit: MAX_ENTRIES,
        cursor: None,
    }
}

impl directory::Host for Sandbox {
    fn list_sites(
        &mut self,
        kind: Option<directory::SiteKind>,
    ) -> wasmtime::Result<Result<Vec<directory::Site>, types::Error>> {
        Ok(self
            .sites(kind.map(site_kind), None)
            .map(|sites| sites.iter().map(site).collect()))
    }

    fn stations_serving(
        &mut self,
        area: String,
    ) -> wasmtime::Result<Result<Vec<directory::Site>, types::Error>> {
        if area.trim().is_empty() {
            return Ok(Err(types::Error::InvalidInput(
                "stations-serving needs a city or postcode; the area was empty".to_owned(),
            )));
        }
        Ok(self
            .sites(Some(SiteKind::Station), Some(&area))
            .map(|stations| {
                stations
                    .iter()
                    .filter(|station| station.serves(&area))
                    .map(site)
                    .collect()
            }))
    }

    fn list_teams(
        &mut self,
        site_id: Option<String>,
        skill: Option<String>,
    ) -> wasmtime::Result<Result<Vec<directory::Team>, types::Error>> {
        Ok((|| {
            let (host, tenant) = self.directory_access()?;
            let filter = TeamFilter {
                site_id,
                skill,
                within: self.call.within.clone(),
            };
            let mut teams = host
                .block_on(org::list_teams(&host.db, tenant, &filter, &first_page()))
                .map_err(|err: StoreError| unavailable("directory", err))?
                .items;
            teams.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
            Ok(teams.into_iter().map(team).collect())
        })())
    }
}

fn site_kind(kind: directory::SiteKind) -> SiteKind {
    match kind {
        directory::SiteKind::Oem => SiteKind::Oem,
        directory::SiteKind::Region => SiteKind::Region,
        directory::SiteKind::Dealer => SiteKind::Dealer,
        directory::SiteKind::Station => SiteKind::Station,
    }
}

fn site(site: &Site) -> directory::Site {
    directory::Site {
        id: site.id.clone(),
        parent_id: site.parent_id.clone(),
        kind: match site.kind {
            SiteKind::Oem => directory::SiteKind::Oem,
            SiteKind::Region => directory::SiteKind::Region,
            SiteKind::Dealer => directory::SiteKind::Dealer,
            SiteKind::Station => directory::SiteKind::Station,
        },
        code: site.code.clone(),
        name: site.name.clone(),
        service_area: site.service_area.clone(),
        timezone: site.timezone.clone(),
    }
}

fn team(team: Team) -> directory::Team {
    directory::Team {
        id: team.id,
        site_id: team.site_id,
        name: team.name,
        skills: team.skills,
    }
}
