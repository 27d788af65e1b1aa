//! Importing vehicles, matched by external id. A vehicle already on file by VIN but without
//! an external id (created through the API or a hotline call) takes the row's external id.

use std::collections::HashMap;

use super::reading::{Cells, Header};
use super::{ImportKind, Importer, Outcome, Parsed, RowError, distinct, merged_fields};
use crate::domain::records::{FieldEntity, Fields};
use crate::service::FieldError;
use crate::service::vehicles::{check_figures, checked_plate};
use crate::store::vehicles::{self, ImportedVehicle};
use crate::store::{StoreError, customers};
use axle_vin::Vin;

/// The vehicles importer.
pub(super) struct Vehicles;

/// A valid vehicle row; its owner is still named by external id.
pub(super) struct VehicleRow {
    external_id: String,
    vin: String,
    plate: Option<String>,
    customer_external_id: Option<String>,
    make: Option<String>,
    model: Option<String>,
    model_year: Option<i64>,
    mileage_km: Option<i64>,
    /// The row's `fields.<name>` cells; merged over the fields on file when written.
    fields: Fields,
}

impl Importer for Vehicles {
    type Row = VehicleRow;

    const KIND: ImportKind = ImportKind::Vehicles;
    const COLUMNS: &'static [&'static str] = &[
        "external_id",
        "vin",
        "plate",
        "customer_external_id",
        "make",
        "model",
        "model_year",
        "mileage_km",
    ];
    const REQUIRED: &'static [&'static str] = &["external_id", "vin"];
    const FIELDS: Option<FieldEntity> = Some(FieldEntity::Vehicle);

    fn parse(cells: &Cells<'_>, errors: &mut Vec<FieldError>) -> Option<VehicleRow> {
        let before = errors.len();
        let external_id = cells.text("external_id");
        if external_id.is_empty() {
            errors.push(FieldError {
                field: "external_id".into(),
                message: "is required: the vehicle's id in your sheet or DMS".into(),
            });
        }
        let vin = match cells.text("vin") {
            "" => {
                errors.push(FieldError {
                    field: "vin".into(),
                    message: "is required: the vehicle's 17-character VIN".into(),
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
        let plate = checked_plate(cells.optional("plate").as_deref(), errors);
        let model_year = cells.whole_number("model_year", errors);
        let mileage_km = cells.whole_number("mileage_km", errors);
        check_figures(model_year, mileage_km, errors);
        let fields = cells.custom_fields(errors);
        if errors.len() > before {
            return None;
        }
        Some(VehicleRow {
            external_id: external_id.to_owned(),
            vin: vin?.as_str().to_owned(),
            plate,
            customer_external_id: cells.optional("customer_external_id"),
            make: cells.optional("make"),
            model: cells.optional("model"),
            model_year,
            mileage_km,
            fields,
        })
    }

    fn unique_keys(row: &VehicleRow) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("external_id", row.external_id.as_str()),
            ("vin", row.vin.as_str()),
        ]
        .into_iter()
    }

    async fn apply(
        conn: &mut sqlx::AnyConnection,
        tenant_id: &str,
        header: &Header,
        rows: &[Parsed<VehicleRow>],
    ) -> Result<Outcome, StoreError> {
        let owners = distinct(
            rows.iter()
                .filter_map(|r| r.data.customer_external_id.as_deref()),
        );
        let owners: HashMap<String, String> =
            customers::ids_by_external_ids(&mut *conn, tenant_id, &owners)
                .await?
                .into_iter()
                .collect();
        let external_ids: Vec<&str> = rows.iter().map(|r| r.data.external_id.as_str()).collect();
        let vins: Vec<&str> = rows.iter().map(|r| r.data.vin.as_str()).collect();
        let on_file =
            vehicles::by_external_ids_or_vins(&mut *conn, tenant_id, &external_ids, &vins).await?;
        let by_external_id: HashMap<&str, &(String, ImportedVehicle)> = on_file
            .iter()
            .filter_map(|entry| Some((entry.1.external_id.as_deref()?, entry)))
            .collect();
        let by_vin: HashMap<&str, &(String, ImportedVehicle)> = on_file
            .iter()
            .map(|entry| (entry.1.vin.as_str(), entry))
            .collect();

        let mut outcome = Outcome::default();
        let mut new = Vec::new();
        for Parsed { row, data } in rows {
            let customer_id = match &data.customer_external_id {
                None => None,
                Some(owner) => match owners.get(owner) {
                    Some(id) => Some(id.clone()),
                    None => {
                        outcome.fail(RowError::new(
                            *row,
                            "customer_external_id",
                            format!(
                                "no customer with external id `{owner}` in this tenant; import \
                                 the customers first"
                            ),
                        ));
                        continue;
                    }
                },
            };
            let imported = ImportedVehicle {
                external_id: Some(data.external_id.clone()),
                vin: data.vin.clone(),
                plate: data.plate.clone(),
                customer_id,
                make: data.make.clone(),
                model: data.model.clone(),
                model_year: data.model_year,
                mileage_km: data.mileage_km,
                fields: Fields::new(),
            };
            let matched = match by_external_id.get(data.external_id.as_str()) {
                Some((_, old)) if old.vin != data.vin => {
                    outcome.fail(RowError::new(
                        *row,
                        "vin",
                        format!(
                            "vehicle `{}` is on file with VIN {}; a VIN cannot change: correct \
                             the VIN, or give this vehicle another external id",
                            data.external_id, old.vin
                        ),
                    ));
                    continue;
                }
                Some(entry) => Some(*entry),
                None => match by_vin.get(data.vin.as_str()) {
                    Some((_, old)) if old.external_id.is_some() => {
                        outcome.fail(RowError::new(
                            *row,
                            "vin",
                            format!(
                                "VIN {} is on file as vehicle `{}`; use that external id",
                                data.vin,
                                old.external_id.as_deref().unwrap_or_default()
                            ),
                        ));
                        continue;
                    }
                    other => other.copied(),
                },
            };
            let fields = match merged_fields(
                header,
                *row,
                matched.map_or(&Fields::new(), |(_, old)| &old.fields),
                &data.fields,
            ) {
                Ok(fields) => fields,
                Err(errors) => {
                    outcome.fail_all(errors);
                    continue;
                }
            };
            let Some((id, old)) = matched else {
                new.push(ImportedVehicle { fields, ..imported });
                continue;
            };
            let merged = ImportedVehicle {
                customer_id: header.pick(
                    "customer_external_id",
                    imported.customer_id,
                    old.customer_id.clone(),
                ),
                plate: header.pick("plate", imported.plate, old.plate.clone()),
                make: header.pick("make", imported.make, old.make.clone()),
                model: header.pick("model", imported.model, old.model.clone()),
                model_year: header.pick("model_year", imported.model_year, old.model_year),
                mileage_km: header.pick("mileage_km", imported.mileage_km, old.mileage_km),
                fields,
                ..imported
            };
            let changed = merged != *old;
            if changed {
                vehicles::update_imported(&mut *conn, tenant_id, id, &merged).await?;
            }
            outcome.matched(changed);
        }
        let new_refs: Vec<&ImportedVehicle> = new.iter().collect();
        vehicles::insert_imported(&mut *conn, tenant_id, &new_refs).await?;
        outcome.created = new.len() as u64;
        Ok(outcome)
    }
}
