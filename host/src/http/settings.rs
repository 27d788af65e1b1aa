//! The tenant's settings.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::AppState;
use super::auth::TenantAdmin;
use super::error::ApiError;
use super::extract::ApiJson;
use super::openapi as doc;
use crate::domain::phone::PhoneCountry;
use crate::domain::tenants::Settings;
use crate::service::{FieldError, ServiceError, settings};

/// The longest input retention a tenant can set, in days.
const MAX_RETENTION_DAYS: i64 = 3_650;

/// The tenant's settings.
#[utoipa::path(
    get,
    path = "/settings",
    operation_id = "settings_get",
    tag = "settings",
    responses(
        (status = 200, description = "OK", body = Settings),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn get(
    caller: TenantAdmin,
    State(state): State<AppState>,
) -> Result<Json<Settings>, ApiError> {
    Ok(Json(settings::get(&state.core, &caller.tenant_id).await?))
}

#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsChange {
    /// Days a routing input is kept for replay; 0 records none.
    input_retention_days: Option<i64>,
    /// The country (ISO 3166 alpha-2, such as `CN` or `DE`) of a phone number written
    /// without `+<country code>`. Numbers already stored keep their E.164 form.
    #[schema(example = "CN")]
    phone_country: Option<String>,
}

/// Changes the tenant's settings.
#[utoipa::path(
    patch,
    path = "/settings",
    operation_id = "settings_update",
    tag = "settings",
    request_body = SettingsChange,
    responses(
        (status = 200, description = "OK", body = Settings),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<SettingsChange>,
) -> Result<Json<Settings>, ApiError> {
    let mut current = settings::get(&state.core, &caller.tenant_id).await?;
    if let Some(days) = body.input_retention_days {
        if !(0..=MAX_RETENTION_DAYS).contains(&days) {
            return Err(ServiceError::Unprocessable {
                message: format!(
                    "input_retention_days is {days}; keep inputs 0 (record none) to {MAX_RETENTION_DAYS} days"
                ),
                errors: vec![FieldError {
                    field: "input_retention_days".to_owned(),
                    message: format!("must be 0 to {MAX_RETENTION_DAYS}"),
                }],
            }
            .into());
        }
        current.input_retention_days = days;
    }
    if let Some(code) = body.phone_country {
        let country =
            PhoneCountry::parse(&code).map_err(|message| ServiceError::Unprocessable {
                message: format!("phone_country: {message}"),
                errors: vec![FieldError {
                    field: "phone_country".to_owned(),
                    message,
                }],
            })?;
        current.phone_country = country.code().to_owned();
    }
    settings::put(&state.core, &caller.tenant_id, &current).await?;
    Ok(Json(current))
}
