//! The compiled components a node keeps in memory, by sha256 and world.
//!
//! Entries are held weakly: a component stays while an installation's snapshot holds it,
//! and is dropped with the last one, so memory follows what is installed rather than
//! everything ever uploaded. The `warm` most recently kept are also held strongly, so a
//! reinstall or a replay of a recent upload does not deserialize or compile again.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Weak};

use super::Loaded;
use crate::domain::plugin::World;

pub(super) struct MemoryCache {
    by_sha256: HashMap<String, Vec<Weak<Loaded>>>,
    warm: VecDeque<Arc<Loaded>>,
    capacity: usize,
}

impl MemoryCache {
    /// A cache that holds `warm` components strongly beyond those in use.
    pub(super) fn new(warm: usize) -> MemoryCache {
        MemoryCache {
            by_sha256: HashMap::new(),
            warm: VecDeque::new(),
            capacity: warm,
        }
    }

    /// The component `sha256` loaded as `world` (any world when `None`), if alive.
    pub(super) fn get(&mut self, sha256: &str, world: Option<World>) -> Option<Arc<Loaded>> {
        let found = self
            .by_sha256
            .get(sha256)?
            .iter()
            .filter_map(Weak::upgrade)
            .find(|loaded| world.is_none_or(|world| loaded.world == world))?;
        self.touch(&found);
        Some(found)
    }

    /// Keeps `loaded`, or returns the equal one a concurrent load kept first.
    pub(super) fn put(&mut self, loaded: Arc<Loaded>) -> Arc<Loaded> {
        if let Some(kept) = self.get(&loaded.sha256, Some(loaded.world)) {
            return kept;
        }
        self.by_sha256.retain(|_, entries| {
            entries.retain(|entry| entry.strong_count() > 0);
            !entries.is_empty()
        });
        self.by_sha256
            .entry(loaded.sha256.clone())
            .or_default()
            .push(Arc::downgrade(&loaded));
        self.touch(&loaded);
        loaded
    }

    /// How many (component, world) pairs are alive.
    pub(super) fn live(&self) -> usize {
        self.by_sha256
            .values()
            .flatten()
            .filter(|entry| entry.strong_count() > 0)
            .count()
    }

    /// Makes `loaded` the most recently used of the warm set.
    fn touch(&mut self, loaded: &Arc<Loaded>) {
        if self.capacity == 0 {
            return;
        }
        if let Some(at) = self.warm.iter().position(|warm| Arc::ptr_eq(warm, loaded)) {
            self.warm.remove(at);
        }
        self.warm.push_back(loaded.clone());
        while self.warm.len() > self.capacity {
            self.warm.pop_front();
        }
    }
}
