//! Customers: created, changed, found and read. Names, phone numbers and email addresses
//! are checked and normalised the same way wherever a customer comes from (the API, the
//! CSV import, the seed).

use serde::Deserialize;

use super::settings::phone_country;
use super::{Core, FieldError, ServiceError, field_checks};
use crate::domain::page::{Page, Paged};
use crate::domain::phone::PhoneCountry;
use crate::domain::records::{Customer, FieldEntity, Fields, merge_fields};
use crate::store::customers::{self as store, CustomerFilter, NewCustomer};
use crate::store::vehicles;
use axle_vin::Vin;

/// A customer as created.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerBody {
    /// The customer's id in the dealer's sheet or DMS.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Defaulted so a missing name is reported with the other fields, not as bad JSON.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub region: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub vip: bool,
    #[serde(default)]
    #[schema(value_type = BTreeMap<String, Value>)]
    pub fields: Fields,
}

/// Changes to a customer; unset parts stay, an empty string clears an optional field.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerChange {
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    region: Option<String>,
    city: Option<String>,
    vip: Option<bool>,
    /// Merged over the existing fields; `null` removes a field.
    #[schema(value_type = Option<BTreeMap<String, Value>>)]
    fields: Option<Fields>,
}

/// What a customer search asks for, as the caller typed it.
#[derive(Clone, Debug, Default)]
pub struct Search {
    pub external_id: Option<String>,
    /// In any spelling; read in the tenant's phone country.
    pub phone: Option<String>,
    pub vip: Option<bool>,
    pub region: Option<String>,
    /// Part of the name.
    pub name: Option<String>,
    /// The owner of the car with this VIN.
    pub vin: Option<String>,
    /// Owners of a car with this plate, in any spelling.
    pub plate: Option<String>,
}

fn invalid(errors: Vec<FieldError>) -> ServiceError {
    ServiceError::Unprocessable {
        message: "the customer is not valid".into(),
        errors,
    }
}

fn non_empty(text: Option<String>) -> Option<String> {
    text.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty())
}

/// Creates a customer. Declared custom fields are checked with the other fields, and
/// every problem is reported at once.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    body: CustomerBody,
) -> Result<Customer, ServiceError> {
    let mut errors = Vec::new();
    let (name, phone, email) = checked_contact(
        phone_country(core, tenant_id).await?,
        &body.name,
        body.phone.as_deref(),
        body.email.as_deref(),
        &mut errors,
    );
    errors.extend(
        field_checks::check_record(core, tenant_id, FieldEntity::Customer, &body.fields).await?,
    );
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    let new = NewCustomer {
        external_id: non_empty(body.external_id),
        name,
        phone,
        email,
        region: non_empty(body.region),
        city: non_empty(body.city),
        vip: body.vip,
        fields: body.fields,
    };
    Ok(store::insert(&core.db, tenant_id, new).await?)
}

/// Changes a customer. The result must be valid, not only the change: removing a
/// required field fails.
pub async fn update(
    core: &Core,
    tenant_id: &str,
    id: &str,
    change: CustomerChange,
) -> Result<Customer, ServiceError> {
    let mut customer = get(core, tenant_id, id).await?;
    let mut errors = Vec::new();
    let (name, phone, email) = checked_contact(
        phone_country(core, tenant_id).await?,
        change.name.as_deref().unwrap_or(&customer.name),
        change.phone.as_deref().or(customer.phone.as_deref()),
        change.email.as_deref().or(customer.email.as_deref()),
        &mut errors,
    );
    if let Some(fields) = change.fields {
        merge_fields(&mut customer.fields, fields);
        errors.extend(
            field_checks::check_record(core, tenant_id, FieldEntity::Customer, &customer.fields)
                .await?,
        );
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    customer.name = name;
    customer.phone = phone;
    customer.email = email;
    if let Some(region) = change.region {
        customer.region = non_empty(Some(region));
    }
    if let Some(city) = change.city {
        customer.city = non_empty(Some(city));
    }
    if let Some(vip) = change.vip {
        customer.vip = vip;
    }
    Ok(store::update(&core.db, tenant_id, customer).await?)
}

/// One customer of the tenant.
pub async fn get(core: &Core, tenant_id: &str, id: &str) -> Result<Customer, ServiceError> {
    store::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("customer"))
}

/// Customers matching `search`, newest first. A VIN finds its car's owner, or nobody.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    search: Search,
    page: &Page,
) -> Result<Paged<Customer>, ServiceError> {
    if let Some(raw) = &search.vin {
        let vin = Vin::parse(raw).map_err(|err| ServiceError::Invalid(format!("vin: {err}")))?;
        let vehicle = vehicles::get_by_vin(&core.db, tenant_id, vin.as_str()).await?;
        let owner = match vehicle.and_then(|v| v.customer_id) {
            Some(id) => store::get(&core.db, tenant_id, &id).await?,
            None => None,
        };
        return Ok(Paged {
            items: owner.into_iter().collect(),
            next_cursor: None,
        });
    }
    let phone = match search.phone.as_deref() {
        Some(raw) => Some(phone_country(core, tenant_id).await?.normalise(raw)),
        None => None,
    }
    .transpose()
    .map_err(ServiceError::Invalid)?;
    let filter = CustomerFilter {
        plate: super::vehicles::plate_search(search.plate.as_deref())?,
        external_id: search.external_id,
        phone,
        vip: search.vip,
        region: search.region,
        name: search.name,
    };
    Ok(store::list(&core.db, tenant_id, &filter, page).await?)
}

/// Checks and normalises the fields a customer is created or changed with (a phone number
/// to E.164, read in `country` when it has no country code); problems go to `errors`, one
/// per field.
pub fn checked_contact(
    country: PhoneCountry,
    name: &str,
    phone: Option<&str>,
    email: Option<&str>,
    errors: &mut Vec<FieldError>,
) -> (String, Option<String>, Option<String>) {
    let name = name.trim().to_owned();
    if name.is_empty() {
        errors.push(FieldError {
            field: "name".into(),
            message: "must not be empty".into(),
        });
    }
    let phone = match phone
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|raw| country.normalise(raw))
        .transpose()
    {
        Ok(phone) => phone,
        Err(message) => {
            errors.push(FieldError {
                field: "phone".into(),
                message,
            });
            None
        }
    };
    let email = email.map(|e| e.trim().to_owned()).filter(|e| !e.is_empty());
    if let Some(email) = &email
        && !email
            .split_once('@')
            .is_some_and(|(user, host)| !user.is_empty() && host.contains('.'))
    {
        errors.push(FieldError {
            field: "email".into(),
            message: format!("`{email}` is not an email address"),
        });
    }
    (name, phone, email)
}

/// Rewrites phone numbers stored before they were kept in E.164 (`13912345602`) with each
/// tenant's phone country, so intake finds those callers too; returns how many changed.
/// A number the tenant's country cannot read stays as it is, and is logged.
pub async fn phones_to_e164(db: &crate::db::Db) -> Result<u64, super::ServiceError> {
    use crate::store::{customers, settings};
    let mut countries = std::collections::HashMap::new();
    let mut changed = 0;
    for table in customers::PHONE_TABLES {
        let mut after = String::new();
        loop {
            let rows = customers::national_phones(db, table, &after, 500).await?;
            let Some((_, last, _)) = rows.last() else {
                break;
            };
            after = last.clone();
            for (tenant_id, id, phone) in rows {
                if !countries.contains_key(&tenant_id) {
                    let code = settings::of(db, &tenant_id).await?.phone_country;
                    countries.insert(
                        tenant_id.clone(),
                        PhoneCountry::parse(&code).unwrap_or_default(),
                    );
                }
                match countries[&tenant_id].normalise(&phone) {
                    Ok(e164) => {
                        customers::set_phone(db, table, &tenant_id, &id, &e164).await?;
                        changed += 1;
                    }
                    Err(err) => tracing::warn!(
                        table,
                        id,
                        error = %err,
                        "a stored phone number cannot be read as E.164; left as it is"
                    ),
                }
            }
        }
    }
    Ok(changed)
}
