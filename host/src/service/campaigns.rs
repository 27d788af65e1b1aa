//! Recall and service campaigns: the OEM names which vehicles (by VIN prefix and model
//! year) a campaign covers, and the customer view shows it on every covered car.

use serde::Deserialize;

use super::{Core, FieldErrors, ServiceError};
use crate::domain::campaigns::{Campaign, CampaignKind};
use crate::domain::page::{Page, Paged};
use crate::store::campaigns::{self as store, NewCampaign};

/// A campaign as created.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CampaignBody {
    /// The OEM's campaign number, e.g. `R-2026-014`.
    #[serde(default)]
    code: String,
    kind: CampaignKind,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    /// A vehicle is covered when its VIN starts with one of these.
    #[serde(default)]
    vin_prefixes: Vec<String>,
    #[serde(default)]
    model_year_from: Option<i64>,
    #[serde(default)]
    model_year_to: Option<i64>,
}

/// Creates a campaign; every problem with it is reported at once.
pub async fn create(
    core: &Core,
    tenant_id: &str,
    body: CampaignBody,
) -> Result<Campaign, ServiceError> {
    let mut errors = FieldErrors::default();
    let code = body.code.trim().to_owned();
    if code.is_empty() {
        errors.push("code", "a campaign needs the OEM's campaign number");
    }
    if body.title.trim().is_empty() {
        errors.push("title", "must not be empty");
    }
    let prefixes: Vec<String> = body
        .vin_prefixes
        .iter()
        .map(|p| p.trim().to_ascii_uppercase())
        .filter(|p| !p.is_empty())
        .collect();
    if prefixes.is_empty() {
        errors.push(
            "vin_prefixes",
            "name at least one VIN prefix (e.g. the WMI and VDS, `LSVAX41`)",
        );
    }
    if let Some(bad) = prefixes.iter().find(|p| {
        p.len() > 17
            || p.chars()
                .any(|c| !c.is_ascii_alphanumeric() || "IOQ".contains(c))
    }) {
        errors.push("vin_prefixes", format!("`{bad}` cannot start a VIN"));
    }
    if let (Some(from), Some(to)) = (body.model_year_from, body.model_year_to)
        && from > to
    {
        errors.push(
            "model_year_to",
            format!("{to} is before model_year_from {from}"),
        );
    }
    errors.check("campaign")?;
    let new = NewCampaign {
        code,
        kind: body.kind,
        title: body.title.trim().to_owned(),
        description: body.description.trim().to_owned(),
        vin_prefixes: prefixes,
        model_year_from: body.model_year_from,
        model_year_to: body.model_year_to,
    };
    Ok(store::insert(&core.db, tenant_id, new).await?)
}

/// The tenant's campaigns, newest first.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    page: &Page,
) -> Result<Paged<Campaign>, ServiceError> {
    Ok(store::list(&core.db, tenant_id, page).await?)
}
