//! Custom field definitions: tenant admins declare them, every key of the tenant reads them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::field_definitions::FieldDefinition;
use crate::domain::page::Paged;
use crate::service::field_definitions::{self, DefinitionBody, DefinitionChange};

/// Declares a custom field.
///
/// Tenant-wide admin keys only.
#[utoipa::path(
    post,
    path = "/field-definitions",
    operation_id = "field_definitions_create",
    tag = "field-definitions",
    request_body = DefinitionBody,
    responses(
        (status = 201, description = "Created", body = FieldDefinition),
        (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<DefinitionBody>,
) -> Result<(StatusCode, Json<FieldDefinition>), ApiError> {
    let definition = field_definitions::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(definition)))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    entity: Option<String>,
}

/// Lists the declared custom fields.
#[utoipa::path(
    get,
    path = "/field-definitions",
    operation_id = "field_definitions_list",
    tag = "field-definitions",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<FieldDefinition>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<FieldDefinition>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let entity = query.entity.as_deref();
    Ok(Json(
        field_definitions::list(&state.core, &caller.tenant_id, entity, &page).await?,
    ))
}

/// One custom field definition.
#[utoipa::path(
    get,
    path = "/field-definitions/{id}",
    operation_id = "field_definitions_get",
    tag = "field-definitions",
    params(("id" = String, Path, description = "The field definition's id")),
    responses(
        (status = 200, description = "OK", body = FieldDefinition),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(
        field_definitions::get(&state.core, &caller.tenant_id, &id).await?,
    ))
}

/// Changes a field's label, required flag, options or description.
///
/// Its entity, name and kind stay: stored values depend on them.
#[utoipa::path(
    patch,
    path = "/field-definitions/{id}",
    operation_id = "field_definitions_update",
    tag = "field-definitions",
    params(("id" = String, Path, description = "The field definition's id")),
    request_body = DefinitionChange,
    responses(
        (status = 200, description = "OK", body = FieldDefinition),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(change): ApiJson<DefinitionChange>,
) -> Result<Json<FieldDefinition>, ApiError> {
    Ok(Json(
        field_definitions::update(&state.core, &caller.tenant_id, &id, change).await?,
    ))
}

/// Deletes a custom field definition.
///
/// Values already stored stay in the records.
#[utoipa::path(
    delete,
    path = "/field-definitions/{id}",
    operation_id = "field_definitions_delete",
    tag = "field-definitions",
    params(("id" = String, Path, description = "The field definition's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    field_definitions::delete(&state.core, &caller.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
