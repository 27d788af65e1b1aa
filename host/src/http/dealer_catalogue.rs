//! The OEM's catalogue for dealers: which plugins, versions, capabilities and limits a
//! dealer's admin may install in its own subtree. Tenant-wide admins publish it; every
//! admin reads it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

use super::AppState;
use super::auth::{Admin, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath};
use super::items::Items;
use super::openapi as doc;
use crate::domain::installations::CatalogueEntry;
use crate::service::dealer_policy::{self, CatalogueRequest};

/// The plugins dealers may install in their own subtrees, by name.
#[utoipa::path(
    get,
    path = "/dealer-catalogue",
    operation_id = "dealer_catalogue_list",
    tag = "dealer-catalogue",
    responses(
        (status = 200, description = "OK", body = Items<CatalogueEntry>),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn list(
    caller: Admin,
    State(state): State<AppState>,
) -> Result<Json<Items<CatalogueEntry>>, ApiError> {
    let entries = dealer_policy::catalogue(&state.core, &caller.tenant_id).await?;
    Ok(Json(entries.into()))
}

/// Offers a plugin to dealers, or changes the offer.
///
/// Lists the versions dealers may run (all when empty), the capabilities they may grant
/// and the limits their installations may run with, at most. Installations already made
/// keep running as they are. Tenant-wide admin keys only.
#[utoipa::path(
    put,
    path = "/dealer-catalogue/{plugin}",
    operation_id = "dealer_catalogue_put",
    tag = "dealer-catalogue",
    params(("plugin" = String, Path, description = "The plugin's name")),
    request_body = CatalogueRequest,
    responses(
        (status = 200, description = "OK", body = CatalogueEntry),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn put(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(plugin): ApiPath<String>,
    ApiJson(body): ApiJson<CatalogueRequest>,
) -> Result<Json<CatalogueEntry>, ApiError> {
    Ok(Json(
        dealer_policy::publish(&state.core, &caller.tenant_id, &plugin, body).await?,
    ))
}

/// Withdraws a plugin from the dealers' catalogue.
///
/// Dealers' installations of it keep running; no new ones can be made. Tenant-wide admin
/// keys only.
#[utoipa::path(
    delete,
    path = "/dealer-catalogue/{plugin}",
    operation_id = "dealer_catalogue_delete",
    tag = "dealer-catalogue",
    params(("plugin" = String, Path, description = "The plugin's name")),
    responses(
        (status = 204, description = "Withdrawn"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(plugin): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    dealer_policy::withdraw(&state.core, &caller.tenant_id, &plugin).await?;
    Ok(StatusCode::NO_CONTENT)
}
