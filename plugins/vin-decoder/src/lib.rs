//! Decodes and checks vehicle identification numbers.
//!
//! Computes two read-only vehicle fields, `vin_maker` (from the WMI, or the region when the
//! maker is not known) and `vin_model_year` (from position 10), and rejects a vehicle whose
//! VIN is malformed or fails the check digit that both 49 CFR 565 and GB 16735 require.

mod wmi;

use axle_sdk::fields::{Entity, FieldDef, FieldIssue, FieldKind, FieldProvider, Subject};
use axle_sdk::{CustomField, Error, FieldValue, Vehicle};

use axle_sdk::vin::{Vin, VinError};

/// The computed maker field.
const MAKER_FIELD: &str = "vin_maker";

/// The computed model year field.
const MODEL_YEAR_FIELD: &str = "vin_model_year";

/// The vehicle field that issues are reported on.
const VIN_FIELD: &str = "vin";

struct VinDecoder;

impl FieldProvider for VinDecoder {
    fn describe() -> Vec<FieldDef> {
        vec![
            computed_vehicle_field(MAKER_FIELD, "Maker (from VIN)", FieldKind::Text),
            computed_vehicle_field(
                MODEL_YEAR_FIELD,
                "Model year (from VIN)",
                FieldKind::Integer,
            ),
        ]
    }

    fn compute(subject: Subject) -> Result<Vec<CustomField>, Error> {
        match subject {
            Subject::Vehicle(vehicle) => decode(&vehicle),
            Subject::Customer(_) | Subject::Ticket(_) => Ok(Vec::new()),
        }
    }

    fn validate(subject: Subject) -> Result<Vec<FieldIssue>, Error> {
        match subject {
            Subject::Vehicle(vehicle) => Ok(vin_issues(&vehicle)),
            Subject::Customer(_) | Subject::Ticket(_) => Ok(Vec::new()),
        }
    }
}

axle_sdk::export!(VinDecoder);

fn computed_vehicle_field(name: &str, label: &str, kind: FieldKind) -> FieldDef {
    FieldDef {
        name: name.into(),
        label: label.into(),
        entity: Entity::Vehicle,
        kind,
        required: false,
        options: Vec::new(),
        computed: true,
    }
}

/// The maker and, when position 10 holds a year code, the model year of `vehicle`'s VIN.
/// A VIN too malformed to read is `Error::InvalidInput`; a wrong check digit is not, that is
/// for [`vin_issues`] to report.
fn decode(vehicle: &Vehicle) -> Result<Vec<CustomField>, Error> {
    let vin = Vin::read(&vehicle.vin).map_err(|e| Error::InvalidInput(format!("vin: {e}")))?;
    let mut fields = vec![CustomField {
        name: MAKER_FIELD.into(),
        value: FieldValue::Text(wmi::maker_or_region(vin.wmi()).into()),
    }];
    if let Some(year) = vin.model_year() {
        fields.push(CustomField {
            name: MODEL_YEAR_FIELD.into(),
            value: FieldValue::Integer(year.into()),
        });
    }
    Ok(fields)
}

/// What is wrong with `vehicle`'s VIN: at most one issue, on the `vin` field.
fn vin_issues(vehicle: &Vehicle) -> Vec<FieldIssue> {
    let problem = match Vin::parse(&vehicle.vin) {
        Ok(_) => None,
        Err(VinError::CheckDigit { found, expected }) => Some(format!(
            "the check digit (position 9) is '{found}' but the other characters give \
             '{expected}'; compare the VIN with the vehicle's nameplate or registration"
        )),
        Err(problem) => Some(problem.to_string()),
    };
    problem
        .map(|message| FieldIssue {
            field: VIN_FIELD.into(),
            message,
        })
        .into_iter()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use axle_sdk::testing;

    fn field<'f>(fields: &'f [CustomField], name: &str) -> Option<&'f FieldValue> {
        fields.iter().find(|f| f.name == name).map(|f| &f.value)
    }

    #[test]
    fn describes_two_computed_vehicle_fields() {
        let defs = VinDecoder::describe();
        let names: Vec<&str> = defs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, [MAKER_FIELD, MODEL_YEAR_FIELD]);
        assert_eq!(defs[0].kind, FieldKind::Text);
        assert_eq!(defs[1].kind, FieldKind::Integer);
        assert!(
            defs.iter()
                .all(|d| d.computed && d.entity == Entity::Vehicle)
        );
    }

    #[test]
    fn computes_maker_and_model_year() {
        let fields = decode(&testing::vehicle("LSVAU2180N2183294")).unwrap();
        assert_eq!(
            field(&fields, MAKER_FIELD),
            Some(&FieldValue::Text("SAIC Volkswagen".into()))
        );
        assert_eq!(
            field(&fields, MODEL_YEAR_FIELD),
            Some(&FieldValue::Integer(2022))
        );
    }

    #[test]
    fn unknown_maker_falls_back_to_the_region() {
        let fields = decode(&testing::vehicle("LZZ1CLVB0KD000001")).unwrap();
        assert_eq!(
            field(&fields, MAKER_FIELD),
            Some(&FieldValue::Text("China".into()))
        );
    }

    #[test]
    fn no_year_code_leaves_the_model_year_out() {
        let fields = decode(&testing::vehicle("WVWZZZ1KZ0W000001")).unwrap();
        assert_eq!(field(&fields, MODEL_YEAR_FIELD), None);
        assert!(field(&fields, MAKER_FIELD).is_some());
    }

    #[test]
    fn unreadable_vin_is_invalid_input() {
        let err = decode(&testing::vehicle("not a vin")).unwrap_err();
        assert!(matches!(err, Error::InvalidInput(m) if m.starts_with("vin: ")));
    }

    #[test]
    fn valid_vin_has_no_issues() {
        for vin in [
            "1M8GDM9AXKP042788",
            "5YJ3E1EA2KF317000",
            " lrw3e7fs5pc695355 ",
        ] {
            assert_eq!(vin_issues(&testing::vehicle(vin)), [], "{vin}");
        }
    }

    #[test]
    fn wrong_check_digit_is_an_issue_on_vin() {
        let issues = vin_issues(&testing::vehicle("1M8GDM9A1KP042788"));
        assert_eq!(issues.len(), 1);
        assert_eq!(issues[0].field, "vin");
        assert!(issues[0].message.contains("'1'"), "{}", issues[0].message);
        assert!(issues[0].message.contains("'X'"), "{}", issues[0].message);
    }

    #[test]
    fn malformed_vins_are_issues_on_vin() {
        for vin in [
            "",
            "1M8GDM9AXKP04278",
            "1M8GDM9AXKP0427888",
            "1M8GDM9AXKPO42788",
        ] {
            let issues = vin_issues(&testing::vehicle(vin));
            assert_eq!(issues.len(), 1, "{vin}");
            assert_eq!(issues[0].field, "vin");
        }
    }
}
