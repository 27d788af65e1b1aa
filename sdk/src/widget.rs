//! The `report-widget` world: declare a dataset and render it for a dashboard.
//!
//! # A complete report widget
//!
//! A dashboard row of stats: open tickets per channel over a configured number of days, with
//! channel names the tenant can translate. [`ReportWidget::describe`] must not fail, so it
//! falls back to the default period when the config cannot be read.
//!
//! `plugin.toml`:
//!
//! ```toml
//! name = "open-by-channel"
//! version = "0.1.0"
//! world = "report-widget"
//! description = "Dashboard stats: open tickets per channel over the last days."
//! capabilities = []
//!
//! [config_schema]
//! additionalProperties = false
//! description = "What the widget counts and how channels are named."
//! type = "object"
//!
//! [config_schema.properties.labels]
//! description = 'Display names of channels, e.g. hotline = "热线"; others show as they are.'
//! type = "object"
//!
//! [config_schema.properties.labels.additionalProperties]
//! minLength = 1
//! type = "string"
//!
//! [config_schema.properties.labels.default]
//!
//! [config_schema.properties.period_days]
//! default = 7
//! description = "How many days back the widget counts."
//! maximum = 365
//! minimum = 1
//! type = "integer"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```rust,standalone_crate
//! use std::collections::BTreeMap;
//!
//! use axle_sdk::widget::{
//!     Cell, Dataset, DatasetQuery, Rendering, ReportWidget, Stat, WidgetDescription,
//! };
//! use axle_sdk::{Error, JsonSchema, PluginConfig};
//! use serde::Deserialize;
//!
//! /// What the widget counts and how channels are named.
//! #[derive(Debug, Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// How many days back the widget counts.
//!     #[serde(default = "default_days")]
//!     #[schemars(range(min = 1, max = 365))]
//!     period_days: u32,
//!     /// Display names of channels, e.g. hotline = "热线"; others show as they are.
//!     #[serde(default)]
//!     #[schemars(extend("additionalProperties" = { "type": "string", "minLength": 1 }))]
//!     labels: BTreeMap<String, String>,
//! }
//!
//! fn default_days() -> u32 {
//!     7
//! }
//!
//! impl PluginConfig for Config {}
//!
//! struct OpenByChannel;
//!
//! impl ReportWidget for OpenByChannel {
//!     fn describe() -> WidgetDescription {
//!         // `describe` must not fail: a config it cannot read falls back to the default period.
//!         let days = Config::load().map_or(default_days(), |config| config.period_days);
//!         WidgetDescription {
//!             title: format!("Open tickets by channel ({days} days)"),
//!             query: DatasetQuery {
//!                 measures: vec!["open-tickets".into()],
//!                 group_by: vec!["channel".into()],
//!                 period_days: days,
//!             },
//!         }
//!     }
//!
//!     fn render(data: Dataset) -> Result<Rendering, Error> {
//!         stats(&data, &Config::load()?).map(Rendering::Stats)
//!     }
//! }
//!
//! axle_sdk::export!(OpenByChannel);
//!
//! /// One stat per channel, labelled as the config says.
//! fn stats(data: &Dataset, config: &Config) -> Result<Vec<Stat>, Error> {
//!     let at = |name: &str| {
//!         data.columns.iter().position(|c| c == name).ok_or_else(|| {
//!             Error::InvalidInput(format!("dataset has no `{name}` column"))
//!         })
//!     };
//!     let (channel, open) = (at("channel")?, at("open-tickets")?);
//!     let mut stats = Vec::new();
//!     for row in &data.rows {
//!         let (Some(Cell::Text(name)), Some(Cell::Number(value))) = (row.get(channel), row.get(open))
//!         else {
//!             continue;
//!         };
//!         let label = config.labels.get(name).unwrap_or(name).clone();
//!         stats.push(Stat { label, value: *value, unit: None });
//!     }
//!     Ok(stats)
//! }
//!
//! # /*
//! #[cfg(test)]
//! # */
//! mod tests {
//!     use super::*;
//!
//!     fn dataset() -> Dataset {
//!         Dataset {
//!             columns: vec!["channel".into(), "open-tickets".into()],
//!             rows: vec![
//!                 vec![Cell::Text("hotline".into()), Cell::Number(12.0)],
//!                 vec![Cell::Text("web".into()), Cell::Number(3.0)],
//!             ],
//!         }
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn channels_are_labelled_from_the_config() {
//!         let config = Config::from_json(r#"{"labels": {"hotline": "热线"}}"#).unwrap();
//!         let stats = stats(&dataset(), &config).unwrap();
//!         let labels: Vec<&str> = stats.iter().map(|s| s.label.as_str()).collect();
//!         assert_eq!(labels, ["热线", "web"]);
//!         assert_eq!(stats[0].value, 12.0);
//!         assert_eq!(config.period_days, 7);
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn a_dataset_without_the_measure_is_invalid_input() {
//!         let mut data = dataset();
//!         data.columns[1] = "tickets".into();
//!         let err = stats(&data, &Config::from_json("{}").unwrap()).unwrap_err();
//!         assert!(matches!(err, Error::InvalidInput(m) if m.contains("open-tickets")));
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn config_struct_matches_the_manifest() {
//!         # /*
//!         axle_sdk::testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
//!         # */
//!         # axle_sdk::testing::assert_config_matches_manifest::<Config>(crate::PLUGIN_TOML);
//!     }
//!     # pub fn run() {
//!     #     channels_are_labelled_from_the_config();
//!     #     a_dataset_without_the_measure_is_invalid_input();
//!     #     config_struct_matches_the_manifest();
//!     # }
//! }
//! # // A doctest is not built with --test: the tests above run from main, and
//! # // PLUGIN_TOML is the manifest shown above.
//! # const PLUGIN_TOML: &str = r##"
//! # name = "open-by-channel"
//! # version = "0.1.0"
//! # world = "report-widget"
//! # description = "Dashboard stats: open tickets per channel over the last days."
//! # capabilities = []
//! #
//! # [config_schema]
//! # additionalProperties = false
//! # description = "What the widget counts and how channels are named."
//! # type = "object"
//! #
//! # [config_schema.properties.labels]
//! # description = 'Display names of channels, e.g. hotline = "热线"; others show as they are.'
//! # type = "object"
//! #
//! # [config_schema.properties.labels.additionalProperties]
//! # minLength = 1
//! # type = "string"
//! #
//! # [config_schema.properties.labels.default]
//! #
//! # [config_schema.properties.period_days]
//! # default = 7
//! # description = "How many days back the widget counts."
//! # maximum = 365
//! # minimum = 1
//! # type = "integer"
//! # "##;
//! # fn main() {
//! #     tests::run();
//! # }
//! ```
//!
//! Run the tests natively with `cargo test --target x86_64-unknown-linux-gnu` (your host's
//! triple), build the component with `cargo build --release --target wasm32-wasip2`, and
//! see the [plugin guide](https://github.com/axle/axle/blob/main/docs/plugin-guide.md) for
//! testing it in the real sandbox and publishing it.

use crate::Error;
pub use crate::wit::{
    Cell, Chart, ChartKind, Dataset, DatasetQuery, Rendering, Series, Stat, Table,
    WidgetDescription,
};

/// A report widget. The host calls [`ReportWidget::describe`] once per load, computes the
/// dataset it asks for, and calls [`ReportWidget::render`] with it.
///
/// The [module documentation](self) has a complete report widget: manifest, config, this trait,
/// `export!` and native tests.
pub trait ReportWidget {
    /// The widget's title and the dataset it wants. Must not fail.
    fn describe() -> WidgetDescription;

    /// Renders `data`, the host's answer to the described query. `Error::InvalidInput` when
    /// the dataset lacks a column the widget needs.
    fn render(data: Dataset) -> Result<Rendering, Error>;
}

/// Exports `$ty`, which implements [`ReportWidget`], as this component's report widget.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyWidget);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn describe() -> $crate::widget::WidgetDescription {
                    <$ty as $crate::widget::ReportWidget>::describe()
                }

                fn render(
                    data: $crate::widget::Dataset,
                ) -> ::core::result::Result<$crate::widget::Rendering, $crate::Error> {
                    <$ty as $crate::widget::ReportWidget>::render(data)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
