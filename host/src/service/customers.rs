//! Customer validation shared by the API and the CSV import: names, phone numbers and
//! email addresses are checked and normalised the same way wherever a customer comes from.

use super::FieldError;
use crate::phone::PhoneCountry;

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
