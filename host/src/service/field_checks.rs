//! The one place where a record's custom fields are checked against the fields its tenant
//! declared: each value's type by kind, choices against the options, and required fields
//! present. Customer, vehicle and ticket create and update, the CSV import and the hotline
//! intake all come here. Fields that are not declared pass unchecked: records hold data
//! from before a field was declared, and field providers' computed values.

use super::{Core, FieldError, ServiceError};
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::records::{FieldEntity, FieldKind, Fields};
use crate::store::field_definitions;

/// The longest text value, in characters: a field is not a document store.
pub const MAX_TEXT_CHARS: usize = 2000;

/// The name a field's problem is reported under, so that it cannot be mistaken for one of
/// the record's own columns (`fields.warranty_type`).
pub fn error_field(name: &str) -> String {
    format!("fields.{name}")
}

/// What the tenant declared on `entity`.
pub async fn declared(
    core: &Core,
    tenant_id: &str,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, ServiceError> {
    let mut conn = core.db.reader().acquire().await?;
    Ok(field_definitions::for_entity(&mut conn, tenant_id, entity).await?)
}

/// Checks `fields` against the tenant's definitions on `entity`; one error per field.
pub async fn check_record(
    core: &Core,
    tenant_id: &str,
    entity: FieldEntity,
    fields: &Fields,
) -> Result<Vec<FieldError>, ServiceError> {
    Ok(check(&declared(core, tenant_id, entity).await?, fields))
}

/// Checks `fields` against `definitions`; one error per field in definition order.
pub fn check(definitions: &[FieldDefinition], fields: &Fields) -> Vec<FieldError> {
    definitions
        .iter()
        .filter_map(|definition| {
            let value = fields.get(&definition.name).filter(|v| !is_blank(v));
            let message = match value {
                None if definition.required => Some(format!(
                    "is required: {} ({})",
                    definition.label,
                    expected(definition)
                )),
                None => None,
                Some(value) => value_problem(definition, value),
            }?;
            Some(FieldError {
                field: error_field(&definition.name),
                message,
            })
        })
        .collect()
}

/// The value of a declared field written as text (a CSV cell), checked against its kind.
/// Numbers are read as numbers and yes/no as booleans; the rest stays text.
pub fn value_from_text(
    definition: &FieldDefinition,
    text: &str,
) -> Result<serde_json::Value, String> {
    use serde_json::Value;
    let text = text.trim();
    let value = match definition.kind {
        FieldKind::Number => text
            .parse::<f64>()
            .ok()
            .filter(|n| n.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        FieldKind::Integer => text.parse::<i64>().ok().map(Value::from),
        FieldKind::Boolean => match text.to_lowercase().as_str() {
            "true" | "yes" | "y" | "1" | "是" => Some(Value::Bool(true)),
            "false" | "no" | "n" | "0" | "否" => Some(Value::Bool(false)),
            _ => None,
        },
        FieldKind::Text | FieldKind::Date | FieldKind::Choice => {
            Some(Value::String(text.to_owned()))
        }
    };
    let value = value.ok_or_else(|| format!("`{text}` is not {}", expected(definition)))?;
    match value_problem(definition, &value) {
        Some(problem) => Err(problem),
        None => Ok(value),
    }
}

/// Null and empty text count as not given.
fn is_blank(value: &serde_json::Value) -> bool {
    match value {
        serde_json::Value::Null => true,
        serde_json::Value::String(text) => text.trim().is_empty(),
        _ => false,
    }
}

/// What a value of the definition's kind looks like, for messages.
fn expected(definition: &FieldDefinition) -> String {
    match definition.kind {
        FieldKind::Text => format!("text of up to {MAX_TEXT_CHARS} characters"),
        FieldKind::Number => "a number".to_owned(),
        FieldKind::Integer => "a whole number".to_owned(),
        FieldKind::Boolean => "true or false".to_owned(),
        FieldKind::Date => "a date as YYYY-MM-DD".to_owned(),
        FieldKind::Choice => format!("one of {}", definition.options.join(", ")),
    }
}

/// Why `value` does not fit `definition`, if it does not.
fn value_problem(definition: &FieldDefinition, value: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    let fits = match (definition.kind, value) {
        (FieldKind::Text, Value::String(text)) => {
            let chars = text.chars().count();
            if chars > MAX_TEXT_CHARS {
                return Some(format!(
                    "is {chars} characters long; {} takes at most {MAX_TEXT_CHARS}",
                    definition.label
                ));
            }
            true
        }
        (FieldKind::Number, Value::Number(_)) => true,
        (FieldKind::Integer, Value::Number(n)) => {
            n.is_i64() || n.is_u64() || n.as_f64().is_some_and(|f| f.fract() == 0.0)
        }
        (FieldKind::Boolean, Value::Bool(_)) => true,
        (FieldKind::Date, Value::String(text)) => {
            let text = text.trim();
            // jiff also reads longer forms; a field holds exactly a calendar day.
            text.len() == 10 && text.parse::<jiff::civil::Date>().is_ok()
        }
        (FieldKind::Choice, Value::String(text)) => definition.options.iter().any(|o| o == text),
        _ => false,
    };
    (!fits).then(|| format!("{value} is not {}", expected(definition)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn definition(kind: FieldKind, required: bool, options: &[&str]) -> FieldDefinition {
        FieldDefinition {
            id: "d".into(),
            entity: FieldEntity::Vehicle,
            name: "f".into(),
            label: "字段".into(),
            kind,
            required,
            options: options.iter().map(|o| o.to_string()).collect(),
            description: None,
            created_at: String::new(),
            updated_at: String::new(),
        }
    }

    fn problems(definition: &FieldDefinition, value: serde_json::Value) -> usize {
        check(
            std::slice::from_ref(definition),
            &Fields::from([("f".into(), value)]),
        )
        .len()
    }

    #[test]
    fn integers_must_be_whole_and_dates_real() {
        let integer = definition(FieldKind::Integer, false, &[]);
        assert_eq!(problems(&integer, json!(3)), 0);
        assert_eq!(problems(&integer, json!(3.5)), 1);
        let date = definition(FieldKind::Date, false, &[]);
        assert_eq!(problems(&date, json!("2026-02-28")), 0);
        assert_eq!(problems(&date, json!("2026-02-30")), 1);
        assert_eq!(problems(&date, json!("2026-2-3")), 1);
    }

    #[test]
    fn choices_match_exactly_and_required_fields_must_not_be_blank() {
        let choice = definition(FieldKind::Choice, true, &["延保", "标准"]);
        assert_eq!(problems(&choice, json!("延保")), 0);
        assert_eq!(problems(&choice, json!("其他")), 1);
        assert_eq!(problems(&choice, json!("  ")), 1);
        assert_eq!(check(&[choice], &Fields::new()).len(), 1);
    }
}
