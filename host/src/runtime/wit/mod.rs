//! Host-side bindings for the current `axle:plugin` worlds (`wit/`, 0.2.0).
//!
//! The four worlds import the same capability interfaces. `routing` generates them once;
//! the other worlds reuse those modules through `with`, so one `Host` impl per interface
//! serves every world. Older contract versions have their own module
//! ([`since_v0_1_0`]) whose host impls delegate to these.

/// The routing-rule world, and the shared interfaces. `wit/deps/` also holds the frozen
/// 0.1.0 package, and with two versions of `axle:plugin` in view the generator puts the
/// version in the module name: `axle::plugin0_2_0`.
pub mod routing {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "routing-rule",
        imports: { default: trappable },
        additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
    });
}

/// Generates a world's bindings on top of the interfaces `routing` generated.
macro_rules! world_on_shared_interfaces {
    ($(#[$doc:meta])* $module:ident, $world:literal) => {
        $(#[$doc])*
        pub mod $module {
            wasmtime::component::bindgen!({
                path: "../wit",
                world: $world,
                imports: { default: trappable },
                additional_derives: [serde::Serialize, serde::Deserialize, PartialEq],
                with: {
                    "axle:plugin/types": super::routing::axle::plugin0_2_0::types,
                    "axle:plugin/log": super::routing::axle::plugin0_2_0::log,
                    "axle:plugin/config": super::routing::axle::plugin0_2_0::config,
                    "axle:plugin/kv": super::routing::axle::plugin0_2_0::kv,
                    "axle:plugin/records": super::routing::axle::plugin0_2_0::records,
                    "axle:plugin/notify": super::routing::axle::plugin0_2_0::notify,
                    "axle:plugin/directory": super::routing::axle::plugin0_2_0::directory,
                },
            });
        }
    };
}

world_on_shared_interfaces!(
    /// The workflow-step world.
    workflow,
    "workflow-step"
);
world_on_shared_interfaces!(
    /// The field-provider world.
    fields,
    "field-provider"
);
world_on_shared_interfaces!(
    /// The report-widget world.
    widget,
    "report-widget"
);

pub use routing::axle::plugin0_2_0::{config, directory, kv, log, notify, records, types};

pub(super) mod since_v0_1_0;
