//! Plugin versions: multipart upload and listing.

use axum::Json;
use axum::extract::{Multipart, State};
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::{ApiPath, ApiQuery, page};
use crate::plugins::manifest::World;
use crate::service::plugins;
use crate::store::Paged;
use crate::store::plugins::{self as store, PluginFilter, PluginVersion};

/// `POST /api/v1/plugins`: `multipart/form-data` with parts `manifest` (plugin.toml) and
/// `component` (the .wasm). 201 when new, 200 when the identical version was already there.
pub async fn upload(
    caller: Caller,
    State(state): State<AppState>,
    mut multipart: Multipart,
) -> Result<(StatusCode, Json<PluginVersion>), ApiError> {
    caller.require_tenant_admin()?;
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    limit: Option<i64>,
    cursor: Option<String>,
    name: Option<String>,
    world: Option<World>,
}

/// `GET /api/v1/plugins`.
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
        store::list(&state.core.db, &caller.tenant_id, &filter, &page).await?,
    ))
}

/// `GET /api/v1/plugins/{id}`.
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PluginVersion>, ApiError> {
    store::get(&state.core.db, &caller.tenant_id, &id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound("plugin version"))
}
