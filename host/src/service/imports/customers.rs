//! Importing customers, matched by external id.

use std::collections::HashMap;

use super::reading::{Cells, Header};
use super::{ImportKind, Importer, Outcome, Parsed, merged_fields};
use crate::domain::records::{FieldEntity, Fields};
use crate::service::FieldError;
use crate::service::customers::checked_contact;
use crate::store::StoreError;
use crate::store::customers::{self, ImportedCustomer};

/// The customers importer.
pub(super) struct Customers;

impl Importer for Customers {
    type Row = ImportedCustomer;

    const KIND: ImportKind = ImportKind::Customers;
    const COLUMNS: &'static [&'static str] = &[
        "external_id",
        "name",
        "phone",
        "email",
        "region",
        "city",
        "vip",
    ];
    const REQUIRED: &'static [&'static str] = &["external_id", "name"];
    const FIELDS: Option<FieldEntity> = Some(FieldEntity::Customer);

    fn parse(cells: &Cells<'_>, errors: &mut Vec<FieldError>) -> Option<ImportedCustomer> {
        let external_id = cells.text("external_id");
        if external_id.is_empty() {
            errors.push(FieldError {
                field: "external_id".into(),
                message: "is required: the customer's id in your sheet or DMS".into(),
            });
        }
        let before = errors.len();
        let (name, phone, email) = checked_contact(
            cells.phone_country,
            cells.text("name"),
            Some(cells.text("phone")),
            Some(cells.text("email")),
            errors,
        );
        let vip = cells.flag("vip", errors);
        // The row's `fields.<name>` cells; merged over the fields on file when written.
        let fields = cells.custom_fields(errors);
        if external_id.is_empty() || errors.len() > before {
            return None;
        }
        Some(ImportedCustomer {
            external_id: external_id.to_owned(),
            name,
            phone,
            email,
            region: cells.optional("region"),
            city: cells.optional("city"),
            vip,
            fields,
        })
    }

    fn unique_keys(row: &ImportedCustomer) -> impl Iterator<Item = (&'static str, &str)> {
        std::iter::once(("external_id", row.external_id.as_str()))
    }

    async fn apply(
        conn: &mut sqlx::AnyConnection,
        tenant_id: &str,
        header: &Header,
        rows: &[Parsed<ImportedCustomer>],
    ) -> Result<Outcome, StoreError> {
        let external_ids: Vec<&str> = rows.iter().map(|r| r.data.external_id.as_str()).collect();
        let on_file: HashMap<String, (String, ImportedCustomer)> =
            customers::by_external_ids(&mut *conn, tenant_id, &external_ids)
                .await?
                .into_iter()
                .map(|(id, customer)| (customer.external_id.clone(), (id, customer)))
                .collect();
        let mut outcome = Outcome::default();
        let mut new = Vec::new();
        for Parsed {
            row: line,
            data: row,
        } in rows
        {
            let old = on_file.get(&row.external_id);
            let fields = match merged_fields(
                header,
                *line,
                old.map_or(&Fields::new(), |(_, old)| &old.fields),
                &row.fields,
            ) {
                Ok(fields) => fields,
                Err(errors) => {
                    outcome.fail_all(errors);
                    continue;
                }
            };
            let Some((id, old)) = old else {
                new.push(ImportedCustomer {
                    fields,
                    ..row.clone()
                });
                continue;
            };
            let merged = ImportedCustomer {
                external_id: row.external_id.clone(),
                name: row.name.clone(),
                phone: header.pick("phone", &row.phone, &old.phone).clone(),
                email: header.pick("email", &row.email, &old.email).clone(),
                region: header.pick("region", &row.region, &old.region).clone(),
                city: header.pick("city", &row.city, &old.city).clone(),
                vip: header.pick("vip", row.vip, old.vip),
                fields,
            };
            let changed = merged != *old;
            if changed {
                customers::update_imported(&mut *conn, tenant_id, id, &merged).await?;
            }
            outcome.matched(changed);
        }
        let new: Vec<&ImportedCustomer> = new.iter().collect();
        customers::insert_imported(&mut *conn, tenant_id, &new).await?;
        outcome.created = new.len() as u64;
        Ok(outcome)
    }
}
