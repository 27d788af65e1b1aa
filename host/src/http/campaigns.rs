//! Recall and service campaigns, and the 360° customer view that shows them.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::campaigns::Campaign;
use crate::domain::page::Paged;
use crate::service::campaigns::{self, CampaignBody};
use crate::service::customer360::{self, Customer360};

/// Creates a recall or service campaign.
#[utoipa::path(
    post,
    path = "/campaigns",
    operation_id = "campaigns_create",
    tag = "campaigns",
    request_body = CampaignBody,
    responses(
        (status = 201, description = "Created", body = Campaign),
        (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let campaign = campaigns::create(&state.core, &caller.tenant_id, body).await?;
    Ok((StatusCode::CREATED, Json(campaign)))
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
}

/// Lists campaigns.
#[utoipa::path(
    get,
    path = "/campaigns",
    operation_id = "campaigns_list",
    tag = "campaigns",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Campaign>),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Campaign>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        campaigns::list(&state.core, &caller.tenant_id, &page).await?,
    ))
}

/// The whole customer in one call: vehicles, tickets, surveys and campaigns.
///
/// A site-scoped key gets only the tickets of its subtree.
#[utoipa::path(
    get,
    path = "/customers/{id}/360",
    operation_id = "campaigns_customer_360",
    tag = "campaigns",
    params(("id" = String, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "OK", body = Customer360),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn customer_360(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Customer360>, ApiError> {
    Ok(Json(
        customer360::view(&state.core, caller.access(), &id).await?,
    ))
}
