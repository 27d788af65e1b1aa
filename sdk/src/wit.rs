//! The generated bindings. Exactly one world is generated: the one selected by the crate's
//! world feature, or the import-only `capabilities` world when none is enabled (so the SDK
//! still builds natively for `cargo clippy --workspace` and for plugin unit tests).
//!
//! Every world shares the `axle:plugin/types` interface, so the record types live at the same
//! path whichever world is generated. `generate_unused_types` keeps records such as `ticket`
//! available in worlds whose functions never mention them.

#[cfg(feature = "routing-rule")]
wit_bindgen::generate!({
    path: "../wit",
    world: "routing-rule",
    generate_unused_types: true,
    additional_derives: [PartialEq],
    pub_export_macro: true,
    export_macro_name: "__export_world",
});

#[cfg(all(feature = "workflow-step", not(feature = "routing-rule")))]
wit_bindgen::generate!({
    path: "../wit",
    world: "workflow-step",
    generate_unused_types: true,
    additional_derives: [PartialEq],
    pub_export_macro: true,
    export_macro_name: "__export_world",
});

#[cfg(all(
    feature = "field-provider",
    not(any(feature = "routing-rule", feature = "workflow-step"))
))]
wit_bindgen::generate!({
    path: "../wit",
    world: "field-provider",
    generate_unused_types: true,
    additional_derives: [PartialEq],
    pub_export_macro: true,
    export_macro_name: "__export_world",
});

#[cfg(all(
    feature = "report-widget",
    not(any(
        feature = "routing-rule",
        feature = "workflow-step",
        feature = "field-provider"
    ))
))]
wit_bindgen::generate!({
    path: "../wit",
    world: "report-widget",
    generate_unused_types: true,
    additional_derives: [PartialEq],
    pub_export_macro: true,
    export_macro_name: "__export_world",
});

#[cfg(not(any(
    feature = "routing-rule",
    feature = "workflow-step",
    feature = "field-provider",
    feature = "report-widget"
)))]
wit_bindgen::generate!({
    path: "../wit",
    world: "capabilities",
    generate_unused_types: true,
    additional_derives: [PartialEq],
});

/// The current contract's interfaces. `wit/deps/` also holds the frozen 0.1.0 package, and
/// with two versions of `axle:plugin` in view the generator puts the version in the module
/// name; the rest of the SDK names the interfaces through this alias instead.
pub use self::axle::plugin0_2_0 as plugin;
