//! The custom fields a tenant defines on its records.

use serde::Serialize;

use super::records::{FieldEntity, FieldKind};

/// A declared custom field.
#[derive(Clone, Debug, PartialEq, Serialize, utoipa::ToSchema)]
pub struct FieldDefinition {
    pub id: String,
    pub entity: FieldEntity,
    /// The key in the record's `fields`.
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    /// The allowed values of a `choice`; empty for other kinds.
    pub options: Vec<String>,
    pub description: Option<String>,
    pub created_at: String,
    pub updated_at: String,
}
