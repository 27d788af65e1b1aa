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
use crate::domain::campaigns::{Campaign, CampaignKind};
use crate::domain::page::Paged;
use crate::service::customer360::{self, Customer360};
use crate::service::{FieldError, ServiceError};
use crate::store::campaigns::{self, NewCampaign};
use crate::store::org;

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    #[serde(default)]
    code: String,
    kind: CampaignKind,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    vin_prefixes: Vec<String>,
    #[serde(default)]
    model_year_from: Option<i64>,
    #[serde(default)]
    model_year_to: Option<i64>,
}

/// Creates a recall or service campaign.
#[utoipa::path(
    post,
    path = "/api/v1/campaigns",
    operation_id = "campaigns_create",
    tag = "campaigns",
    request_body = CampaignBody,
    responses(
        (status = 201, description = "Created", body = Campaign),
        (status = 403, response = doc::Forbidden),
        (status = 409, response = doc::Conflict),
        (status = 422, response = doc::Unprocessable),
    ),
    security(("api_key" = [])),
)]
pub async fn create(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<CampaignBody>,
) -> Result<(StatusCode, Json<Campaign>), ApiError> {
    let mut errors = Vec::new();
    let field = |field: &str, message: String| FieldError {
        field: field.to_owned(),
        message,
    };
    let code = body.code.trim().to_owned();
    if code.is_empty() {
        errors.push(field(
            "code",
            "a campaign needs the OEM's campaign number".to_owned(),
        ));
    }
    if body.title.trim().is_empty() {
        errors.push(field("title", "must not be empty".to_owned()));
    }
    let prefixes: Vec<String> = body
        .vin_prefixes
        .iter()
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    if prefixes.is_empty() {
        errors.push(field(
            "vin_prefixes",
            "name at least one VIN prefix (e.g. the WMI and VDS, `LSVAX41`)".to_owned(),
        ));
    }
    if let Some(bad) = prefixes.iter().find(|p| {
        p.len() > 17
            || p.chars()
                .any(|c| !c.is_ascii_alphanumeric() || "IOQ".contains(c))
    }) {
        errors.push(field("vin_prefixes", format!("`{bad}` cannot start a VIN")));
    }
    if let (Some(from), Some(to)) = (body.model_year_from, body.model_year_to)
        && from > to
    {
        errors.push(field(
            "model_year_to",
            format!("{to} is before model_year_from {from}"),
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Unprocessable {
            message: "the campaign is not valid".to_owned(),
            errors,
        }
        .into());
    }
    let campaign = campaigns::insert(
        &state.core.db,
        &caller.tenant_id,
        NewCampaign {
            code,
            kind: body.kind,
            title: body.title.trim().to_owned(),
            description: body.description.trim().to_owned(),
            vin_prefixes: prefixes,
            model_year_from: body.model_year_from,
            model_year_to: body.model_year_to,
        },
    )
    .await?;
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
    path = "/api/v1/campaigns",
    operation_id = "campaigns_list",
    tag = "campaigns",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Paged<Campaign>),
    ),
    security(("api_key" = [])),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Paged<Campaign>>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    Ok(Json(
        campaigns::list(&state.core.db, &caller.tenant_id, &page).await?,
    ))
}

/// The whole customer in one call: vehicles, tickets, surveys and campaigns.
///
/// A site-scoped key gets only the tickets of its subtree.
#[utoipa::path(
    get,
    path = "/api/v1/customers/{id}/360",
    operation_id = "campaigns_customer_360",
    tag = "campaigns",
    params(("id" = String, Path, description = "The customer's id")),
    responses(
        (status = 200, description = "OK", body = Customer360),
        (status = 404, response = doc::NotFound),
    ),
    security(("api_key" = [])),
)]
pub async fn customer_360(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Customer360>, ApiError> {
    let paths = match &caller.scope {
        Some(_) => {
            let sites = org::list_sites(
                &state.core.db,
                &caller.tenant_id,
                &org::SiteFilter {
                    within: caller.within(),
                    ..Default::default()
                },
                &crate::domain::page::Page {
                    limit: 10_000,
                    cursor: None,
                },
            )
            .await?;
            Some(
                sites
                    .items
                    .into_iter()
                    .map(|site| site.id)
                    .collect::<std::collections::HashSet<_>>(),
            )
        }
        None => None,
    };
    let sees = |ticket: &crate::domain::records::Ticket| match &paths {
        None => true,
        Some(visible) => ticket
            .site_id
            .as_ref()
            .is_some_and(|site| visible.contains(site)),
    };
    Ok(Json(
        customer360::view(&state.core, &caller.tenant_id, &id, sees).await?,
    ))
}
