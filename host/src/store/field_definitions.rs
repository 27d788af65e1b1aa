//! Custom field definitions: the fields a tenant declares on its customers, vehicles and
//! tickets, unique by name per tenant and entity.

use super::{StoreError, json_column};
use crate::db::{Arg, Db};
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};
use crate::domain::records::{FieldEntity, FieldKind};

/// A definition to create, already checked.
#[derive(Clone, Debug)]
pub struct NewDefinition {
    pub entity: FieldEntity,
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    pub required: bool,
    pub options: Vec<String>,
    pub description: Option<String>,
}

struct DefinitionRow {
    id: String,
    entity: String,
    name: String,
    label: String,
    kind: String,
    required: i64,
    options: String,
    description: Option<String>,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(DefinitionRow => FieldDefinition, from "field_definitions" {
    id,
    entity,
    name,
    label,
    kind,
    required,
    options,
    description,
    created_at,
    updated_at
});

impl DefinitionRow {
    fn into_domain(self) -> Result<FieldDefinition, StoreError> {
        Ok(FieldDefinition {
            entity: FieldEntity::parse(&self.entity).ok_or_else(|| {
                StoreError::Corrupt(format!("field definition entity `{}`", self.entity))
            })?,
            kind: FieldKind::parse(&self.kind).ok_or_else(|| {
                StoreError::Corrupt(format!("field definition kind `{}`", self.kind))
            })?,
            options: json_column("field_definitions.options", &self.options)?,
            id: self.id,
            name: self.name,
            label: self.label,
            required: self.required != 0,
            description: self.description,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

fn options_json(options: &[String]) -> String {
    serde_json::to_string(options).unwrap_or_else(|_| "[]".to_owned())
}

/// Declares a field; a name already declared on the entity is a conflict.
pub async fn insert(
    db: &Db,
    tenant_id: &str,
    new: NewDefinition,
) -> Result<FieldDefinition, StoreError> {
    let now = now_ms();
    let definition = FieldDefinition {
        id: new_id(),
        entity: new.entity,
        name: new.name,
        label: new.label,
        kind: new.kind,
        required: new.required,
        options: new.options,
        description: new.description,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    };
    sqlx::query(
        "INSERT INTO field_definitions (id, tenant_id, entity, name, label, kind, required, options, \
         description, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&definition.id)
    .bind(tenant_id)
    .bind(definition.entity.as_str())
    .bind(&definition.name)
    .bind(&definition.label)
    .bind(definition.kind.as_str())
    .bind(i64::from(definition.required))
    .bind(options_json(&definition.options))
    .bind(&definition.description)
    .bind(now)
    .execute(db.writer())
    .await
    .map_err(|err| {
        StoreError::conflict_on_unique(err, || {
            format!(
                "a {} field named `{}` is already declared",
                definition.entity, definition.name
            )
        })
    })?;
    Ok(definition)
}

/// A definition of the tenant by id.
pub async fn get(
    db: &Db,
    tenant_id: &str,
    id: &str,
) -> Result<Option<FieldDefinition>, StoreError> {
    super::by_id::<DefinitionRow>(db, tenant_id, id).await
}

/// Writes the mutable parts of `definition`: label, required, options, description.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    mut definition: FieldDefinition,
) -> Result<FieldDefinition, StoreError> {
    let now = now_ms();
    let updated = sqlx::query(
        "UPDATE field_definitions SET label = $1, required = $2, options = $3, description = $4, \
         updated_at = $5 WHERE tenant_id = $6 AND id = $7",
    )
    .bind(&definition.label)
    .bind(i64::from(definition.required))
    .bind(options_json(&definition.options))
    .bind(&definition.description)
    .bind(now)
    .bind(tenant_id)
    .bind(&definition.id)
    .execute(db.writer())
    .await?
    .rows_affected();
    if updated == 0 {
        return Err(StoreError::NotFound("field definition"));
    }
    definition.updated_at = rfc3339(now);
    Ok(definition)
}

/// Removes a definition; the values already stored in records stay.
pub async fn delete(db: &Db, tenant_id: &str, id: &str) -> Result<(), StoreError> {
    let sql = "DELETE FROM field_definitions WHERE tenant_id = $1 AND id = $2";
    let deleted = super::execute(db.writer(), sql, &[tenant_id, id]).await?;
    if deleted == 0 {
        return Err(StoreError::NotFound("field definition"));
    }
    Ok(())
}

/// The tenant's definitions, newest first, of one entity when given.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    entity: Option<FieldEntity>,
    page: &Page,
) -> Result<Paged<FieldDefinition>, StoreError> {
    let mut sql = super::tenant_rows::<DefinitionRow>(tenant_id);
    sql.and_eq("entity", entity.map(|e| Arg::Text(e.as_str().to_owned())));
    super::select_page::<DefinitionRow>(db, sql, page).await
}

/// Every definition the tenant declared on `entity`, by name: what records are checked
/// against.
pub async fn for_entity(
    conn: &mut sqlx::AnyConnection,
    tenant_id: &str,
    entity: FieldEntity,
) -> Result<Vec<FieldDefinition>, StoreError> {
    super::select_all::<DefinitionRow>(
        conn,
        "WHERE tenant_id = $1 AND entity = $2 ORDER BY name",
        &[tenant_id, entity.as_str()],
    )
    .await
}
