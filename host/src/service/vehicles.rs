//! Vehicle validation shared by the API and the CSV import.

use super::FieldError;

/// The model years accepted: older cars are not serviced under a maker's after-sales
/// programme, later ones are typing mistakes.
const MODEL_YEARS: std::ops::RangeInclusive<i64> = 1950..=2100;

/// Checks a vehicle's model year and odometer reading; problems go to `errors`.
pub fn check_figures(
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    errors: &mut Vec<FieldError>,
) {
    if let Some(year) = model_year
        && !MODEL_YEARS.contains(&year)
    {
        errors.push(FieldError {
            field: "model_year".into(),
            message: format!("{year} is not a plausible model year"),
        });
    }
    if mileage_km.is_some_and(|km| km < 0) {
        errors.push(FieldError {
            field: "mileage_km".into(),
            message: "must not be negative".into(),
        });
    }
}

/// The normalised plate of `raw`, `None` when it is blank; a text that is not a plate
/// goes to `errors`.
pub fn checked_plate(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let raw = raw.map(str::trim).filter(|p| !p.is_empty())?;
    crate::plate::normalise_plate(raw)
        .map_err(|message| {
            errors.push(FieldError {
                field: "plate".into(),
                message,
            })
        })
        .ok()
}
