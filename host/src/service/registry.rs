//! This node's snapshot of each tenant's enabled plugins, ready to invoke.
//!
//! A request takes the tenant's snapshot once per hook and keeps it to the end, so a
//! reload never changes a plugin under a request in flight: the request finishes on the
//! version it started with, and the next one sees the new snapshot. A snapshot is current
//! while its generation is at least the newest generation this node has heard of for the
//! tenant (from its own writes, Redis or polling; see `reload`); otherwise the next
//! request builds a new one from the database and the compiled-component cache.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use super::plugins::{self, Ready};
use super::{Core, ServiceError};
use crate::domain::phone::PhoneCountry;
use crate::domain::plugin::World;
use crate::store::{installations, plugin_clock, plugin_policies, settings};

/// One tenant's enabled installations at one generation, in run order: tenant-wide ones
/// first, then each level of the org tree down (region, dealer, station), and by run order
/// within a level.
pub struct Snapshot {
    pub generation: i64,
    ready: Vec<Ready>,
    /// Whether any installation is scoped to a subtree or opted out of somewhere: only
    /// then does a hook need the site path of the record it runs for.
    scoped: bool,
    /// The site paths each tenant-wide installation was opted out of, by installation id.
    opt_outs: HashMap<String, Vec<String>>,
    /// Whether the tenant keeps routing inputs for replay (`input_retention_days` > 0),
    /// so a ticket's transaction need not read its settings. A settings change moves the
    /// generation like a plugin change.
    pub keeps_inputs: bool,
    /// The tenant's default phone country, read with the same settings.
    pub phone_country: PhoneCountry,
}

impl Snapshot {
    /// Every installation in it, in world and run order.
    pub fn all(&self) -> &[Ready] {
        &self.ready
    }

    /// The installations of `world` that run for a record at the site with path `at`
    /// (`None`: a record at no site, which only tenant-wide installations see), in run
    /// order.
    pub fn of(&self, world: World, at: Option<&str>) -> Vec<Ready> {
        self.ready
            .iter()
            .filter(|ready| ready.installation.world == world && self.runs_at(ready, at))
            .cloned()
            .collect()
    }

    /// Whether `ready` runs for a record at `at`: inside its scope, and not in a subtree
    /// that opted out of it (which a mandatory installation ignores).
    fn runs_at(&self, ready: &Ready, at: Option<&str>) -> bool {
        let installation = &ready.installation;
        if !installation.scope.covers(at) {
            return false;
        }
        if installation.mandatory {
            return true;
        }
        match (self.opt_outs.get(&installation.id), at) {
            (Some(paths), Some(at)) => !paths.iter().any(|path| at.starts_with(path.as_str())),
            _ => true,
        }
    }

    /// Whether anything in it depends on where a record is.
    pub fn scoped(&self) -> bool {
        self.scoped
    }
}

/// The node's snapshots and the newest generation heard of per tenant.
#[derive(Default)]
pub struct Registry {
    snapshots: RwLock<HashMap<String, Arc<Snapshot>>>,
    heard: RwLock<HashMap<String, i64>>,
}

impl Registry {
    /// Notes that the tenant's plugins changed at `generation`; its snapshot, if older,
    /// is rebuilt on next use. Generations only move forward.
    pub fn heard(&self, tenant_id: &str, generation: i64) {
        let mut heard = self.heard.write().expect("registry lock");
        let known = heard.entry(tenant_id.to_owned()).or_insert(generation);
        *known = (*known).max(generation);
    }

    /// The newest generation heard of for the tenant; 0 when none.
    pub fn heard_of(&self, tenant_id: &str) -> i64 {
        self.heard
            .read()
            .expect("registry lock")
            .get(tenant_id)
            .copied()
            .unwrap_or(0)
    }

    /// The tenant's snapshot when it is current.
    pub fn current(&self, tenant_id: &str) -> Option<Arc<Snapshot>> {
        let snapshot = self
            .snapshots
            .read()
            .expect("registry lock")
            .get(tenant_id)
            .cloned()?;
        (snapshot.generation >= self.heard_of(tenant_id)).then_some(snapshot)
    }

    /// How many tenants this node has heard a generation of.
    pub fn tenants_heard(&self) -> usize {
        self.heard.read().expect("registry lock").len()
    }

    /// How many tenants have a snapshot on this node.
    pub fn tenants(&self) -> usize {
        self.snapshots.read().expect("registry lock").len()
    }

    fn keep(&self, tenant_id: &str, snapshot: Arc<Snapshot>) -> Arc<Snapshot> {
        let mut snapshots = self.snapshots.write().expect("registry lock");
        match snapshots.get(tenant_id) {
            // A slower concurrent rebuild must not replace a newer snapshot.
            Some(kept) if kept.generation > snapshot.generation => kept.clone(),
            _ => {
                snapshots.insert(tenant_id.to_owned(), snapshot.clone());
                snapshot
            }
        }
    }
}

/// The tenant's current snapshot, rebuilt from the database when this node has heard of
/// a newer generation than it holds.
pub async fn snapshot(core: &Core, tenant_id: &str) -> Result<Arc<Snapshot>, ServiceError> {
    if let Some(snapshot) = core.registry.current(tenant_id) {
        return Ok(snapshot);
    }
    // The generation is read before the installations: a change that commits in between
    // leaves this snapshot stamped older than what it holds, which only costs a rebuild.
    let generation = plugin_clock::generation(&core.db, tenant_id).await?;
    core.registry.heard(tenant_id, generation);
    let budget = plugin_policies::get(&core.db, tenant_id).await?.budget;
    let settings = settings::of(&core.db, tenant_id).await?;
    let keeps_inputs = settings.input_retention_days > 0;
    let phone_country = PhoneCountry::parse(&settings.phone_country).unwrap_or_else(|err| {
        tracing::warn!(tenant = tenant_id, error = %err, "stored phone country is not usable; using the default");
        PhoneCountry::default()
    });
    let mut opt_outs: HashMap<String, Vec<String>> = HashMap::new();
    for opt_out in installations::opt_outs(&core.db, tenant_id).await? {
        opt_outs
            .entry(opt_out.installation_id)
            .or_default()
            .push(opt_out.site_path);
    }
    let mut enabled = installations::all_enabled(&core.db, tenant_id).await?;
    // Shallowest scope first; the sort is stable, so run order holds within a level.
    enabled.sort_by_key(|installation| installation.scope.depth());
    let scoped = !opt_outs.is_empty() || enabled.iter().any(|i| !i.scope.is_tenant());
    let mut ready = Vec::new();
    for installation in enabled {
        let label = installation.label();
        match plugins::ready_within(core, tenant_id, installation, &budget).await {
            Ok(loaded) => ready.push(loaded),
            Err(err) => {
                tracing::warn!(plugin = %label, error = %err, "skipping installation that cannot be loaded")
            }
        }
    }
    crate::telemetry::metrics::snapshot_rebuilt();
    tracing::debug!(
        tenant = tenant_id,
        generation,
        installations = ready.len(),
        "plugin snapshot built"
    );
    Ok(core.registry.keep(
        tenant_id,
        Arc::new(Snapshot {
            generation,
            ready,
            scoped,
            opt_outs,
            keeps_inputs,
            phone_country,
        }),
    ))
}

/// The installations of `world` that run for a record at site `site_id` (or at no site),
/// from the tenant's current snapshot, in run order.
pub async fn for_record(
    core: &Core,
    tenant_id: &str,
    world: World,
    site_id: Option<&str>,
) -> Result<Vec<Ready>, ServiceError> {
    let snapshot = snapshot(core, tenant_id).await?;
    let at = site_path(core, tenant_id, &snapshot, site_id).await?;
    Ok(snapshot.of(world, at.as_deref()))
}

/// The path of site `site_id`, read only when the snapshot has anything scoped: a tenant
/// whose installations all apply tenant-wide pays nothing for scopes.
pub async fn site_path(
    core: &Core,
    tenant_id: &str,
    snapshot: &Snapshot,
    site_id: Option<&str>,
) -> Result<Option<String>, ServiceError> {
    let Some(site_id) = site_id.filter(|_| snapshot.scoped()) else {
        return Ok(None);
    };
    Ok(
        crate::store::org::site(core.db.reader(), tenant_id, site_id)
            .await?
            .map(|site| site.path),
    )
}
