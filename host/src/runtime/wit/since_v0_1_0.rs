//! `axle:plugin@0.1.0`, the first released contract, frozen under
//! `wit/deps/plugin-0.1.0/`. Components built against it import its interfaces at
//! `@0.1.0`; this module links those imports, and every host function delegates to the
//! current version's implementation, so a capability has one implementation whichever
//! version a plugin was built for.
//!
//! What 0.2.0 changed is additive (the `directory` interface), so the records and the
//! world exports have the same shape in both versions: the record types are shared with
//! the current bindings through `with`, and a 0.1.0 component is driven through the
//! current world's exports (the component model checks exports structurally). When a later
//! version changes a record or an export, it gets conversions here instead.

use wasmtime::component::{HasSelf, Linker};

use crate::runtime::sandbox::Sandbox;
use crate::runtime::wit as bindings;

mod generated {
    wasmtime::component::bindgen!({
        path: "../wit/deps/plugin-0.1.0",
        world: "capabilities",
        imports: { default: trappable },
        with: {
            "axle:plugin/types": crate::runtime::wit::types,
        },
    });
}

use bindings::types;
use generated::axle::plugin::{config, kv, log, notify, records};

/// Links the 0.1.0 capability interfaces next to the current ones.
pub fn add_to_linker(linker: &mut Linker<Sandbox>) -> wasmtime::Result<()> {
    // `types` only carries record types, which the current bindings already define; the
    // component still imports the instance by its versioned name.
    linker.instance("axle:plugin/types@0.1.0")?;
    log::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)?;
    config::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)?;
    kv::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)?;
    records::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)?;
    notify::add_to_linker::<Sandbox, HasSelf<Sandbox>>(linker, |s| s)?;
    Ok(())
}

impl log::Host for Sandbox {
    fn log(&mut self, level: log::Level, message: String) -> wasmtime::Result<()> {
        use bindings::log::Level as Latest;
        let level = match level {
            log::Level::Trace => Latest::Trace,
            log::Level::Debug => Latest::Debug,
            log::Level::Info => Latest::Info,
            log::Level::Warn => Latest::Warn,
            log::Level::Error => Latest::Error,
        };
        bindings::log::Host::log(self, level, message)
    }
}

impl config::Host for Sandbox {
    fn get_json(&mut self) -> wasmtime::Result<String> {
        bindings::config::Host::get_json(self)
    }

    fn get(&mut self, key: String) -> wasmtime::Result<Option<String>> {
        bindings::config::Host::get(self, key)
    }
}

impl kv::Host for Sandbox {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, types::Error>> {
        bindings::kv::Host::get(self, key)
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), types::Error>> {
        bindings::kv::Host::set(self, key, value)
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), types::Error>> {
        bindings::kv::Host::delete(self, key)
    }

    fn list_keys(&mut self, prefix: String) -> wasmtime::Result<Result<Vec<String>, types::Error>> {
        bindings::kv::Host::list_keys(self, prefix)
    }
}

impl records::Host for Sandbox {
    fn get_customer(
        &mut self,
        id: String,
    ) -> wasmtime::Result<Result<Option<types::Customer>, types::Error>> {
        bindings::records::Host::get_customer(self, id)
    }

    fn get_vehicle_by_vin(
        &mut self,
        vin: String,
    ) -> wasmtime::Result<Result<Option<types::Vehicle>, types::Error>> {
        bindings::records::Host::get_vehicle_by_vin(self, vin)
    }

    fn ticket_history(
        &mut self,
        customer_id: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<types::TicketSummary>, types::Error>> {
        bindings::records::Host::ticket_history(self, customer_id, limit)
    }

    fn search_articles(
        &mut self,
        query: String,
        limit: u32,
    ) -> wasmtime::Result<Result<Vec<types::Article>, types::Error>> {
        bindings::records::Host::search_articles(self, query, limit)
    }
}

impl notify::Host for Sandbox {
    fn send(&mut self, message: types::Notification) -> wasmtime::Result<Result<(), types::Error>> {
        bindings::notify::Host::send(self, message)
    }
}
