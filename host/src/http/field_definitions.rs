//! Custom field definitions: tenant admins declare them, every key of the tenant reads them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use crate::domain::FieldEntity;
use crate::service::ServiceError;
use crate::service::field_definitions::{
    DefinitionBody, DefinitionChange, apply_change, checked_new,
};
use crate::store::Paged;
use crate::store::field_definitions::{self, FieldDefinition};

fn invalid(errors: Vec<crate::service::FieldError>) -> ApiError {
    ServiceError::Unprocessable {
        message: "the field definition is not valid".into(),
        errors,
    }
    .into()
}

/// `POST /api/v1/field-definitions`.
pub async fn create(
    caller: Caller,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<(StatusCode, Json<FieldDefinition>), ApiError> {
    caller.require_tenant_admin()?;
    let new = checked_new(body).map_err(invalid)?;
    let definition = field_definitions::insert(&state.core.db, &caller.tenant_id, new).await?;
    Ok((StatusCode::CREATED, Json(definition)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    entity: Option<String>,
}

/// `GET /api/v1/field-definitions`.
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<FieldDefinition>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let entity = query
        .entity
        .map(|raw| {
            FieldEntity::parse(raw.trim()).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "entity: `{raw}` is not a record with custom fields; use {}",
                    FieldEntity::expected()
                ))
            })
        })
        .transpose()?;
    Ok(Json(
        field_definitions::list(&state.core.db, &caller.tenant_id, entity, &page).await?,
    ))
}

/// `GET /api/v1/field-definitions/{id}`.
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FieldDefinition>, ApiError> {
    field_definitions::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("field definition"))
}

/// `PATCH /api/v1/field-definitions/{id}`: label, required, options, description.
pub async fn update(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<DefinitionChange>,
) -> Result<Json<FieldDefinition>, ApiError> {
    caller.require_tenant_admin()?;
    let mut definition = field_definitions::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .ok_or(ApiError::NotFound("field definition"))?;
    apply_change(&mut definition, change).map_err(invalid)?;
    Ok(Json(
        field_definitions::update(&state.core.db, &caller.tenant_id, definition).await?,
    ))
}

/// `DELETE /api/v1/field-definitions/{id}`: values already stored stay in the records.
pub async fn delete(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    caller.require_tenant_admin()?;
    field_definitions::delete(&state.core.db, &caller.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
