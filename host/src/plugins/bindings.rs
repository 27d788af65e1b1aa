//! Host-side bindings for the `axle:plugin@0.1.0` worlds.
//!
//! The four worlds import the same capability interfaces. `routing` generates them once;
//! the other worlds reuse those modules through `with`, so one `Host` impl per interface
//! serves every world.

/// The routing-rule world, and the shared interfaces.
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
                    "axle:plugin/types": super::routing::axle::plugin::types,
                    "axle:plugin/log": super::routing::axle::plugin::log,
                    "axle:plugin/config": super::routing::axle::plugin::config,
                    "axle:plugin/kv": super::routing::axle::plugin::kv,
                    "axle:plugin/records": super::routing::axle::plugin::records,
                    "axle:plugin/notify": super::routing::axle::plugin::notify,
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

pub use routing::axle::plugin::{config, kv, log, notify, records, types};
