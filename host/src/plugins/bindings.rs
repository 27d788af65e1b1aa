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

/// The workflow-step world.
pub mod workflow {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "workflow-step",
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

/// The field-provider world.
pub mod fields {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "field-provider",
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

/// The report-widget world.
pub mod widget {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "report-widget",
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

pub use routing::axle::plugin::{config, kv, log, notify, records, types};
