//! Plugin versions: multipart upload and listing.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::page::Paged;
use crate::domain::plugin::{PluginFilter, PluginVersion, World};
use crate::service::plugins;

/// A plugin version: its manifest and its component.
// Only documents the form: the handler reads the parts one by one instead of building this.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form; the parts are read one by one, never built"
)]
pub struct UploadForm {
    /// The manifest, `plugin.toml`.
    #[schema(content_media_type = "text/plain")]
    manifest: String,
    /// The component, a `.wasm` file of at most 64 MiB.
    #[schema(value_type = String, content_media_type = "application/wasm")]
    component: Vec<u8>,
}

/// Uploads a plugin version: its manifest and component.
///
/// 201 when new, 200 when the identical version was already there. Tenant-wide admin keys
/// only.
#[utoipa::path(
    post,
    path = "/plugins",
    operation_id = "plugins_upload",
    tag = "plugins",
    request_body(content = inline(UploadForm), content_type = "multipart/form-data"),
    responses(
        (status = 200, description = "The identical version was already uploaded", body = PluginVersion),
        (status = 201, description = "Created", body = PluginVersion),
        (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn upload(
    caller: TenantAdmin,
    State(state): State<AppState>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<PluginVersion>), ApiError> {
    let (mut manifest, mut component) = (None, None);
    while let Some(field) = multipart.next_field().await? {
        match field.name() {
            Some("manifest") => {
                let text = field.text().await?;
                manifest = Some(text);
            }
            Some("component") => component = Some(field.bytes().await?.to_vec()),
            Some(other) => {
                return Err(ApiError::BadRequest(format!(
                    "unexpected part `{other}`; send `manifest` (plugin.toml) and `component` (.wasm)"
                )));
            }
            None => {
                return Err(ApiError::BadRequest(
                    "a multipart part has no name".to_owned(),
                ));
            }
        }
    }
    let manifest = manifest.ok_or_else(|| {
        ApiError::BadRequest("missing the `manifest` part (plugin.toml)".to_owned())
    })?;
    let component = component
        .ok_or_else(|| ApiError::BadRequest("missing the `component` part (.wasm)".to_owned()))?;
    let (version, created) =
        plugins::upload(&state.core, &caller.tenant_id, &manifest, component).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(version)))
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
    name: Option<String>,
    world: Option<World>,
}

/// Lists uploaded plugin versions.
#[utoipa::path(
    get,
    path = "/plugins",
    operation_id = "plugins_list",
    tag = "plugins",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<PluginVersion>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<PluginVersion>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = PluginFilter {
        name: query.name,
        world: query.world,
    };
    Ok(Json(
        plugins::versions(&state.core, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// One uploaded plugin version.
#[utoipa::path(
    get,
    path = "/plugins/{id}",
    operation_id = "plugins_get",
    tag = "plugins",
    params(("id" = String, Path, description = "The plugin version's id")),
    responses(
        (status = 200, description = "OK", body = PluginVersion),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PluginVersion>, ApiError> {
    Ok(Json(
        plugins::version(&state.core, &caller.tenant_id, &id).await?,
    ))
}
