//! Service records (a vehicle's maintenance history): validation shared by the API and the
//! CSV import, and the API's create and list.

use super::{FieldError, ServiceError};
use crate::db::Db;
use crate::domain::money::Amount;
use crate::domain::records::ServiceRecord;
use crate::store::service_records::{self, ServiceVisit};
use crate::store::vehicles;

/// A service record as a client or a CSV row gives it, before validation. The field
/// names in errors are the JSON fields and CSV columns.
#[derive(Clone, Copy, Debug, Default)]
pub struct ServiceRecordInput<'a> {
    pub external_id: Option<&'a str>,
    pub service_date: &'a str,
    pub mileage_km: Option<i64>,
    pub work_done: &'a str,
    pub dealer_code: &'a str,
    pub cost: Option<&'a str>,
}

/// The earliest service date accepted; anything before is a typing mistake.
const FIRST_YEAR: i16 = 1950;

/// Checks a service date: `YYYY-MM-DD`, a real day, not in the future.
pub fn parse_service_date(raw: &str) -> Result<String, String> {
    let text = raw.trim();
    let well_formed = text.len() == 10
        && text.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    let date = well_formed
        .then(|| text.parse::<jiff::civil::Date>().ok())
        .flatten()
        .ok_or_else(|| {
            format!("`{raw}` is not a date: write YYYY-MM-DD with a real day, e.g. 2024-03-05")
        })?;
    if date.year() < FIRST_YEAR {
        return Err(format!("{text} is before {FIRST_YEAR}; check the year"));
    }
    // A day of slack: the workshop may be a time zone ahead of UTC.
    let today = jiff::Timestamp::now()
        .to_zoned_datetime(jiff::tz::TimeZone::UTC)
        .date();
    if today.tomorrow().is_ok_and(|tomorrow| date > tomorrow) {
        return Err(format!("{text} is in the future"));
    }
    Ok(text.to_owned())
}

fn required<'a>(field: &str, text: &'a str, what: &str, errors: &mut Vec<FieldError>) -> &'a str {
    let text = text.trim();
    if text.is_empty() {
        errors.push(FieldError {
            field: field.into(),
            message: format!("is required: {what}"),
        });
    }
    text
}

/// Checks `input`; problems go to `errors`, one per field. Returns the visit when every
/// field is valid.
pub fn checked(
    input: &ServiceRecordInput<'_>,
    errors: &mut Vec<FieldError>,
) -> Option<ServiceVisit> {
    let before = errors.len();
    let service_date = match input.service_date.trim() {
        "" => {
            errors.push(FieldError {
                field: "service_date".into(),
                message: "is required: the day of the visit as YYYY-MM-DD".into(),
            });
            None
        }
        raw => parse_service_date(raw)
            .map_err(|message| {
                errors.push(FieldError {
                    field: "service_date".into(),
                    message,
                })
            })
            .ok(),
    };
    match input.mileage_km {
        Some(km) if km < 0 => errors.push(FieldError {
            field: "mileage_km".into(),
            message: format!("{km} is negative; give the odometer reading in km"),
        }),
        Some(_) => {}
        // A CSV cell that is not a number has already been reported.
        None if errors.iter().any(|e| e.field == "mileage_km") => {}
        None => errors.push(FieldError {
            field: "mileage_km".into(),
            message: "is required: the odometer reading in km".into(),
        }),
    }
    let work_done = required(
        "work_done",
        input.work_done,
        "what the workshop did",
        errors,
    );
    let dealer_code = required(
        "dealer_code",
        input.dealer_code,
        "the code of the dealer or station that did the work",
        errors,
    );
    let cost = input
        .cost
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .and_then(|raw| {
            Amount::parse(raw)
                .map_err(|message| {
                    errors.push(FieldError {
                        field: "cost".into(),
                        message,
                    })
                })
                .ok()
        });
    if errors.len() > before {
        return None;
    }
    Some(ServiceVisit {
        external_id: input
            .external_id
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .map(str::to_owned),
        service_date: service_date?,
        mileage_km: input.mileage_km?,
        work_done: work_done.to_owned(),
        dealer_code: dealer_code.to_owned(),
        cost,
    })
}

async fn require_vehicle(db: &Db, tenant_id: &str, vehicle_id: &str) -> Result<(), ServiceError> {
    vehicles::get(db, tenant_id, vehicle_id)
        .await?
        .map(|_| ())
        .ok_or(ServiceError::NotFound("vehicle"))
}

/// Records one visit of the tenant's vehicle `vehicle_id`.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    vehicle_id: &str,
    input: &ServiceRecordInput<'_>,
) -> Result<ServiceRecord, ServiceError> {
    require_vehicle(db, tenant_id, vehicle_id).await?;
    let mut errors = Vec::new();
    match checked(input, &mut errors) {
        Some(visit) => Ok(service_records::insert(db, tenant_id, vehicle_id, visit).await?),
        None => Err(ServiceError::Unprocessable {
            message: "the service record is not valid".into(),
            errors,
        }),
    }
}

/// The service history of the tenant's vehicle `vehicle_id`, latest visit first.
pub async fn history(
    db: &Db,
    tenant_id: &str,
    vehicle_id: &str,
) -> Result<Vec<ServiceRecord>, ServiceError> {
    require_vehicle(db, tenant_id, vehicle_id).await?;
    Ok(service_records::list_for_vehicle(db, tenant_id, vehicle_id).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_iso_dates_only() {
        assert_eq!(parse_service_date(" 2024-03-05 ").unwrap(), "2024-03-05");
        for bad in [
            "2024/03/05",
            "2024-3-5",
            "05.03.2024",
            "2024-02-30",
            "20240305",
        ] {
            assert!(parse_service_date(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn rejects_dates_in_the_future_and_the_distant_past() {
        assert!(
            parse_service_date("2999-01-01")
                .unwrap_err()
                .contains("future")
        );
        assert!(
            parse_service_date("1900-01-01")
                .unwrap_err()
                .contains("before")
        );
    }

    #[test]
    fn reports_every_bad_field_at_once() {
        let mut errors = Vec::new();
        let input = ServiceRecordInput {
            service_date: "yesterday",
            mileage_km: Some(-5),
            cost: Some("¥80"),
            ..Default::default()
        };
        assert!(checked(&input, &mut errors).is_none());
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "service_date",
                "mileage_km",
                "work_done",
                "dealer_code",
                "cost"
            ]
        );
    }
}
