//! The `field-provider` world: declare, compute and validate custom fields.
//!
//! # A complete field provider
//!
//! Vehicles get a computed `mileage_band` choice field (thresholds from the config), and a
//! save with an implausible odometer reading is refused with an issue on `mileage_km`. The
//! logic lives in plain functions that a native unit test covers.
//!
//! `plugin.toml`:
//!
//! ```toml
//! name = "mileage-band"
//! version = "0.1.0"
//! world = "field-provider"
//! description = "Computes a vehicle's mileage band and rejects implausible odometer readings."
//! capabilities = []
//!
//! [config_schema]
//! additionalProperties = false
//! description = "Where a vehicle's mileage bands start."
//! required = ["low_below_km", "high_from_km"]
//! type = "object"
//!
//! [config_schema.properties.high_from_km]
//! description = "Vehicles from this mileage (km) on are high; the rest medium."
//! maximum = 2000000
//! minimum = 0
//! type = "integer"
//!
//! [config_schema.properties.low_below_km]
//! description = "Vehicles below this mileage (km) are low."
//! maximum = 1000000
//! minimum = 0
//! type = "integer"
//! ```
//!
//! `src/lib.rs`:
//!
//! ```rust,standalone_crate
//! use axle_sdk::fields::{Entity, FieldDef, FieldIssue, FieldKind, FieldProvider, Subject};
//! use axle_sdk::{CustomField, Error, FieldValue, JsonSchema, PluginConfig, Vehicle};
//! use serde::Deserialize;
//!
//! /// Where a vehicle's mileage bands start.
//! #[derive(Debug, Deserialize, JsonSchema)]
//! #[schemars(crate = "axle_sdk::schemars")]
//! #[serde(deny_unknown_fields)]
//! struct Config {
//!     /// Vehicles below this mileage (km) are low.
//!     #[schemars(range(max = 1_000_000))]
//!     low_below_km: u32,
//!     /// Vehicles from this mileage (km) on are high; the rest medium.
//!     #[schemars(range(max = 2_000_000))]
//!     high_from_km: u32,
//! }
//!
//! impl PluginConfig for Config {
//!     fn check(&self) -> Result<(), String> {
//!         if self.low_below_km > self.high_from_km {
//!             return Err("low_below_km must not exceed high_from_km".into());
//!         }
//!         Ok(())
//!     }
//! }
//!
//! /// The field this provider computes.
//! const BAND: &str = "mileage_band";
//!
//! /// Readings above this are typing mistakes, not cars.
//! const MAX_PLAUSIBLE_KM: u32 = 2_000_000;
//!
//! struct MileageBand;
//!
//! impl FieldProvider for MileageBand {
//!     fn describe() -> Vec<FieldDef> {
//!         vec![FieldDef {
//!             name: BAND.into(),
//!             label: "Mileage band / 里程区间".into(),
//!             entity: Entity::Vehicle,
//!             kind: FieldKind::Choice,
//!             required: false,
//!             options: vec!["low".into(), "medium".into(), "high".into()],
//!             computed: true,
//!         }]
//!     }
//!
//!     fn compute(subject: Subject) -> Result<Vec<CustomField>, Error> {
//!         let Subject::Vehicle(vehicle) = subject else {
//!             return Ok(Vec::new());
//!         };
//!         Ok(band(&vehicle, &Config::load()?).into_iter().collect())
//!     }
//!
//!     fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
//!         let Subject::Vehicle(vehicle) = subject else {
//!             return Ok(Vec::new());
//!         };
//!         Ok(mileage_issues(&vehicle))
//!     }
//! }
//!
//! axle_sdk::export!(MileageBand);
//!
//! /// The band of `vehicle`'s mileage; `None` when the mileage is not known.
//! fn band(vehicle: &Vehicle, config: &Config) -> Option<CustomField> {
//!     let km = vehicle.mileage_km?;
//!     let band = match km {
//!         km if km < config.low_below_km => "low",
//!         km if km >= config.high_from_km => "high",
//!         _ => "medium",
//!     };
//!     Some(CustomField { name: BAND.into(), value: FieldValue::Choice(band.into()) })
//! }
//!
//! /// An issue on `mileage_km` when it cannot be a real reading.
//! fn mileage_issues(vehicle: &Vehicle) -> Vec<FieldIssue> {
//!     match vehicle.mileage_km {
//!         Some(km) if km > MAX_PLAUSIBLE_KM => vec![FieldIssue {
//!             field: "mileage_km".into(),
//!             message: format!("{km} km is not a plausible reading; check the odometer value"),
//!         }],
//!         _ => Vec::new(),
//!     }
//! }
//!
//! # /*
//! #[cfg(test)]
//! # */
//! mod tests {
//!     use super::*;
//!     use axle_sdk::testing;
//!
//!     fn vehicle(km: Option<u32>) -> Vehicle {
//!         let mut vehicle = testing::vehicle("LSVAU2180N2183294");
//!         vehicle.mileage_km = km;
//!         vehicle
//!     }
//!
//!     fn config() -> Config {
//!         Config::from_json(r#"{"low_below_km": 20000, "high_from_km": 100000}"#).unwrap()
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn mileage_falls_into_its_band() {
//!         let value = |km| band(&vehicle(Some(km)), &config()).unwrap().value;
//!         assert_eq!(value(19_999), FieldValue::Choice("low".into()));
//!         assert_eq!(value(20_000), FieldValue::Choice("medium".into()));
//!         assert_eq!(value(100_000), FieldValue::Choice("high".into()));
//!         assert_eq!(band(&vehicle(None), &config()), None);
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn implausible_mileage_is_an_issue_on_the_field() {
//!         let issues = mileage_issues(&vehicle(Some(9_999_999)));
//!         assert_eq!(issues.len(), 1);
//!         assert_eq!(issues[0].field, "mileage_km");
//!         assert!(mileage_issues(&vehicle(Some(120_000))).is_empty());
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn crossed_thresholds_are_a_config_error() {
//!         let err = Config::from_json(r#"{"low_below_km": 5, "high_from_km": 1}"#).unwrap_err();
//!         assert!(matches!(err, Error::InvalidInput(m) if m.contains("low_below_km")));
//!     }
//!
//!     # /*
//!     #[test]
//!     # */
//!     fn config_struct_matches_the_manifest() {
//!         # /*
//!         testing::assert_config_matches_manifest::<Config>(include_str!("../plugin.toml"));
//!         # */
//!         # testing::assert_config_matches_manifest::<Config>(crate::PLUGIN_TOML);
//!     }
//!     # pub fn run() {
//!     #     mileage_falls_into_its_band();
//!     #     implausible_mileage_is_an_issue_on_the_field();
//!     #     crossed_thresholds_are_a_config_error();
//!     #     config_struct_matches_the_manifest();
//!     # }
//! }
//! # // A doctest is not built with --test: the tests above run from main, and
//! # // PLUGIN_TOML is the manifest shown above.
//! # const PLUGIN_TOML: &str = r##"
//! # name = "mileage-band"
//! # version = "0.1.0"
//! # world = "field-provider"
//! # description = "Computes a vehicle's mileage band and rejects implausible odometer readings."
//! # capabilities = []
//! #
//! # [config_schema]
//! # additionalProperties = false
//! # description = "Where a vehicle's mileage bands start."
//! # required = ["low_below_km", "high_from_km"]
//! # type = "object"
//! #
//! # [config_schema.properties.high_from_km]
//! # description = "Vehicles from this mileage (km) on are high; the rest medium."
//! # maximum = 2000000
//! # minimum = 0
//! # type = "integer"
//! #
//! # [config_schema.properties.low_below_km]
//! # description = "Vehicles below this mileage (km) are low."
//! # maximum = 1000000
//! # minimum = 0
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

pub use crate::wit::{Entity, FieldDef, FieldIssue, FieldKind, Subject};
use crate::{CustomField, Error};

/// A field provider. The host calls [`FieldProvider::describe`] once per load, then
/// [`FieldProvider::validate`] and [`FieldProvider::compute`] for each record it saves,
/// in that order and on one instance (a fresh one for compute when validate trapped).
///
/// The [module documentation](self) has a complete field provider: manifest, config, this trait,
/// `export!` and native tests.
pub trait FieldProvider {
    /// The fields this provider owns. Must not fail.
    fn describe() -> Vec<FieldDef>;

    /// Computes field values for `subject`. `Error::InvalidInput` when the record lacks what
    /// the computation needs; the host then leaves the fields unset. Computes nothing unless
    /// overridden.
    fn compute(subject: Subject) -> Result<Vec<CustomField>, Error> {
        let _ = subject;
        Ok(Vec::new())
    }

    /// Checks `subject`; an empty list means valid. The host answers a save with issues with a
    /// 422, one error per field. Accepts everything unless overridden.
    fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
        let _ = subject;
        Ok(Vec::new())
    }
}

/// Exports `$ty`, which implements [`FieldProvider`], as this component's field provider.
/// Invoke it once, at the crate root: `axle_sdk::export!(MyFields);`
#[macro_export]
macro_rules! export {
    ($ty:ident) => {
        const _: () = {
            impl $crate::__private::Guest for $ty {
                fn describe() -> ::std::vec::Vec<$crate::fields::FieldDef> {
                    <$ty as $crate::fields::FieldProvider>::describe()
                }

                fn compute(
                    subject: $crate::fields::Subject,
                ) -> ::core::result::Result<::std::vec::Vec<$crate::CustomField>, $crate::Error>
                {
                    <$ty as $crate::fields::FieldProvider>::compute(subject)
                }

                fn validate(
                    subject: $crate::fields::Subject,
                ) -> ::core::result::Result<
                    ::std::vec::Vec<$crate::fields::FieldIssue>,
                    $crate::Error,
                > {
                    <$ty as $crate::fields::FieldProvider>::validate(subject)
                }
            }
        };
        $crate::__private::__export_world!($ty with_types_in $crate::__private);
    };
}
