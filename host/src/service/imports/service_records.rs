//! Importing service records, matched by external id; each names its vehicle by VIN.

use std::collections::HashMap;

use super::reading::{Cells, Header};
use super::{ImportKind, Importer, Outcome, Parsed, RowError, distinct};
use crate::service::FieldError;
use crate::service::service_records::{ServiceRecordInput, checked};
use crate::store::service_records::{self, ServiceVisit};
use crate::store::{StoreError, vehicles};
use axle_vin::Vin;

/// The service records importer.
pub(super) struct ServiceRecords;

/// A valid service record row; its vehicle is still named by VIN.
pub(super) struct RecordRow {
    vin: String,
    visit: ServiceVisit,
}

impl RecordRow {
    fn external_id(&self) -> &str {
        self.visit.external_id.as_deref().unwrap_or_default()
    }
}

impl Importer for ServiceRecords {
    type Row = RecordRow;

    const KIND: ImportKind = ImportKind::ServiceRecords;
    const COLUMNS: &'static [&'static str] = &[
        "external_id",
        "vin",
        "service_date",
        "mileage_km",
        "work_done",
        "dealer_code",
        "cost",
    ];
    const REQUIRED: &'static [&'static str] = &[
        "external_id",
        "vin",
        "service_date",
        "mileage_km",
        "work_done",
        "dealer_code",
    ];

    fn parse(cells: &Cells<'_>, errors: &mut Vec<FieldError>) -> Option<RecordRow> {
        let before = errors.len();
        let external_id = cells.text("external_id");
        if external_id.is_empty() {
            errors.push(FieldError {
                field: "external_id".into(),
                message: "is required: the record's id in your DMS".into(),
            });
        }
        let vin = match cells.text("vin") {
            "" => {
                errors.push(FieldError {
                    field: "vin".into(),
                    message: "is required: the VIN of the serviced vehicle".into(),
                });
                None
            }
            raw => Vin::parse(raw)
                .map_err(|err| {
                    errors.push(FieldError {
                        field: "vin".into(),
                        message: err.to_string(),
                    })
                })
                .ok(),
        };
        let input = ServiceRecordInput {
            external_id: Some(external_id),
            service_date: cells.text("service_date"),
            mileage_km: cells.whole_number("mileage_km", errors),
            work_done: cells.text("work_done"),
            dealer_code: cells.text("dealer_code"),
            cost: Some(cells.text("cost")),
        };
        let visit = checked(&input, errors);
        if errors.len() > before {
            return None;
        }
        Some(RecordRow {
            vin: vin?.as_str().to_owned(),
            visit: visit?,
        })
    }

    fn unique_keys(row: &RecordRow) -> impl Iterator<Item = (&'static str, &str)> {
        std::iter::once(("external_id", row.external_id()))
    }

    async fn apply(
        conn: &mut sqlx::AnyConnection,
        tenant_id: &str,
        header: &Header,
        rows: &[Parsed<RecordRow>],
    ) -> Result<Outcome, StoreError> {
        let vins = distinct(rows.iter().map(|r| r.data.vin.as_str()));
        let vehicle_ids: HashMap<String, String> =
            vehicles::ids_by_vins(&mut *conn, tenant_id, &vins)
                .await?
                .into_iter()
                .collect();
        let external_ids: Vec<&str> = rows.iter().map(|r| r.data.external_id()).collect();
        let on_file: HashMap<String, (String, String, ServiceVisit)> =
            service_records::by_external_ids(&mut *conn, tenant_id, &external_ids)
                .await?
                .into_iter()
                .filter_map(|stored| Some((stored.2.external_id.clone()?, stored)))
                .collect();
        let mut outcome = Outcome::default();
        let mut new = Vec::new();
        for Parsed { row, data } in rows {
            let Some(vehicle_id) = vehicle_ids.get(&data.vin) else {
                outcome.fail(RowError::new(
                    *row,
                    "vin",
                    format!(
                        "no vehicle with VIN {} in this tenant; import the vehicles first",
                        data.vin
                    ),
                ));
                continue;
            };
            let Some((id, old_vehicle_id, old)) = on_file.get(data.external_id()) else {
                new.push((vehicle_id.as_str(), &data.visit));
                continue;
            };
            let merged = ServiceVisit {
                cost: header.pick("cost", data.visit.cost, old.cost),
                ..data.visit.clone()
            };
            let changed = merged != *old || vehicle_id != old_vehicle_id;
            if changed {
                service_records::update(&mut *conn, tenant_id, id, vehicle_id, &merged).await?;
            }
            outcome.matched(changed);
        }
        service_records::insert_many(&mut *conn, tenant_id, &new).await?;
        outcome.created = new.len() as u64;
        Ok(outcome)
    }
}
