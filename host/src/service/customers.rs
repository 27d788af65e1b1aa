//! Customer validation shared by the API and the CSV import: names, phone numbers and
//! email addresses are checked and normalised the same way wherever a customer comes from.

use super::FieldError;

pub use crate::domain::normalise_phone;

/// Checks and normalises the fields a customer is created or changed with; problems go
/// to `errors`, one per field.
pub fn checked_contact(
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
        .map(normalise_phone)
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
