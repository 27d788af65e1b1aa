//! Checking the custom field definitions a tenant admin declares, before they are stored.

use serde::Deserialize;

use super::{Core, FieldError, ServiceError};
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::page::{Page, Paged};
use crate::domain::records::{FieldEntity, FieldKind};
use crate::store::field_definitions::{self as store, NewDefinition};

/// The longest field name; names are keys in the records' JSON and in CSV headers.
const MAX_NAME: usize = 64;
/// The longest label, option and description, in characters.
const MAX_LABEL: usize = 200;
const MAX_OPTION: usize = 200;
const MAX_DESCRIPTION: usize = 2000;
/// The most options a choice offers; a longer list belongs in its own table.
const MAX_OPTIONS: usize = 200;

/// A definition as the API receives it; strings so that every mistake is reported per
/// field rather than as unreadable JSON.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionBody {
    #[serde(default)]
    pub entity: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub label: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub required: bool,
    #[serde(default)]
    pub options: Vec<String>,
    #[serde(default)]
    pub description: Option<String>,
}

/// Changes to a definition. Its entity, name and kind stay: stored values depend on them.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DefinitionChange {
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default)]
    pub required: Option<bool>,
    #[serde(default)]
    pub options: Option<Vec<String>>,
    /// An empty description removes it.
    #[serde(default)]
    pub description: Option<String>,
}

fn error(field: &str, message: impl Into<String>) -> FieldError {
    FieldError {
        field: field.to_owned(),
        message: message.into(),
    }
}

/// Checks a new definition; every problem is reported, one per field.
fn checked_new(body: DefinitionBody) -> Result<NewDefinition, Vec<FieldError>> {
    let mut errors = Vec::new();
    let entity = FieldEntity::parse(body.entity.trim());
    if entity.is_none() {
        errors.push(error(
            "entity",
            format!(
                "`{}` is not a record with custom fields; use {}",
                body.entity,
                FieldEntity::expected()
            ),
        ));
    }
    let name = body.name.trim().to_owned();
    if let Some(message) = name_problem(&name) {
        errors.push(error("name", message));
    }
    let label = checked_label(&body.label, &mut errors);
    let kind = FieldKind::parse(body.kind.trim());
    if kind.is_none() {
        errors.push(error(
            "kind",
            format!(
                "`{}` is not a field kind; use {}",
                body.kind,
                FieldKind::expected()
            ),
        ));
    }
    let options = kind.map_or_else(Vec::new, |kind| {
        checked_options(kind, body.options, &mut errors)
    });
    let description = checked_description(body.description, &mut errors);
    match (entity, kind) {
        (Some(entity), Some(kind)) if errors.is_empty() => Ok(NewDefinition {
            entity,
            name,
            label,
            kind,
            required: body.required,
            options,
            description,
        }),
        _ => Err(errors),
    }
}

/// Applies a change to `definition`, checked like a new one.
fn apply_change(
    definition: &mut FieldDefinition,
    change: DefinitionChange,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    if let Some(label) = change.label {
        definition.label = checked_label(&label, &mut errors);
    }
    if let Some(options) = change.options {
        definition.options = checked_options(definition.kind, options, &mut errors);
    }
    if let Some(description) = change.description {
        definition.description = checked_description(Some(description), &mut errors);
    }
    if let Some(required) = change.required {
        definition.required = required;
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

fn name_problem(name: &str) -> Option<String> {
    let shaped = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if name.is_empty() {
        Some("is required: the key the value is stored under, e.g. `warranty_type`".to_owned())
    } else if !shaped || name.len() > MAX_NAME {
        Some(format!(
            "`{name}` is not a field name: start with a lower-case letter, then use lower-case \
             letters, digits and `_`, up to {MAX_NAME} (put other text in the label)"
        ))
    } else {
        None
    }
}

fn checked_label(label: &str, errors: &mut Vec<FieldError>) -> String {
    let label = label.trim().to_owned();
    if label.is_empty() {
        errors.push(error(
            "label",
            "is required: the name agents see, e.g. 保修类型",
        ));
    } else if label.chars().count() > MAX_LABEL {
        errors.push(error(
            "label",
            format!("is too long: at most {MAX_LABEL} characters"),
        ));
    }
    label
}

fn checked_options(
    kind: FieldKind,
    options: Vec<String>,
    errors: &mut Vec<FieldError>,
) -> Vec<String> {
    let options: Vec<String> = options.into_iter().map(|o| o.trim().to_owned()).collect();
    if kind != FieldKind::Choice {
        if !options.is_empty() {
            errors.push(error(
                "options",
                format!("only a choice field has options, not a {kind} field"),
            ));
        }
        return Vec::new();
    }
    let mut seen = std::collections::HashSet::new();
    let problem = if options.is_empty() {
        Some("a choice field needs at least one option".to_owned())
    } else if options.len() > MAX_OPTIONS {
        Some(format!("at most {MAX_OPTIONS} options"))
    } else if options.iter().any(String::is_empty) {
        Some("options must not be empty".to_owned())
    } else if let Some(long) = options.iter().find(|o| o.chars().count() > MAX_OPTION) {
        Some(format!(
            "option `{long}` is too long: at most {MAX_OPTION} characters"
        ))
    } else {
        options
            .iter()
            .find(|o| !seen.insert(o.as_str()))
            .map(|twice| format!("option `{twice}` is listed twice"))
    };
    if let Some(message) = problem {
        errors.push(error("options", message));
    }
    options
}

fn checked_description(
    description: Option<String>,
    errors: &mut Vec<FieldError>,
) -> Option<String> {
    let description = description
        .map(|d| d.trim().to_owned())
        .filter(|d| !d.is_empty());
    if description
        .as_ref()
        .is_some_and(|d| d.chars().count() > MAX_DESCRIPTION)
    {
        errors.push(error(
            "description",
            format!("is too long: at most {MAX_DESCRIPTION} characters"),
        ));
    }
    description
}

fn invalid(errors: Vec<FieldError>) -> ServiceError {
    ServiceError::Unprocessable {
        message: "the field definition is not valid".into(),
        errors,
    }
}

/// Declares a custom field.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    body: DefinitionBody,
) -> Result<FieldDefinition, ServiceError> {
    let new = checked_new(body).map_err(invalid)?;
    Ok(store::insert(&core.db, tenant_id, new).await?)
}

/// The tenant's declared fields, of `entity` when given (as the caller spelled it).
pub async fn list(
    core: &Core,
    tenant_id: &str,
    entity: Option<&str>,
    page: &Page,
) -> Result<Paged<FieldDefinition>, ServiceError> {
    let entity = entity
        .map(|raw| {
            FieldEntity::parse(raw.trim()).ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "entity: `{raw}` is not a record with custom fields; use {}",
                    FieldEntity::expected()
                ))
            })
        })
        .transpose()?;
    Ok(store::list(&core.db, tenant_id, entity, page).await?)
}

/// One declared field.
pub async fn get(core: &Core, tenant_id: &str, id: &str) -> Result<FieldDefinition, ServiceError> {
    store::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("field definition"))
}

/// Changes a field's label, required flag, options or description; its entity, name and
/// kind stay, because stored values depend on them.
pub async fn update(
    core: &Core,
    tenant_id: &str,
    id: &str,
    change: DefinitionChange,
) -> Result<FieldDefinition, ServiceError> {
    let mut definition = get(core, tenant_id, id).await?;
    apply_change(&mut definition, change).map_err(invalid)?;
    Ok(store::update(&core.db, tenant_id, definition).await?)
}

/// Deletes a declared field; values already stored stay in the records.
pub async fn delete(core: &Core, tenant_id: &str, id: &str) -> Result<(), ServiceError> {
    Ok(store::delete(&core.db, tenant_id, id).await?)
}
