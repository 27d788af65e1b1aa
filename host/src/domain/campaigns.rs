//! Recall and service campaigns, and which vehicles they cover.

use serde::Serialize;

use super::records::Vehicle;

crate::domain::text_enum! {
    /// A recall (safety, mandatory) or a service campaign (goodwill, software update).
    #[derive(utoipa::ToSchema)]
    pub enum CampaignKind spelled "snake_case" {
        Recall,
        Service,
    }
}

/// A campaign.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Campaign {
    pub id: String,
    /// The OEM's campaign number, e.g. `R-2026-014`.
    pub code: String,
    pub kind: CampaignKind,
    pub title: String,
    pub description: String,
    /// A vehicle is covered when its VIN starts with one of these.
    pub vin_prefixes: Vec<String>,
    pub model_year_from: Option<i64>,
    pub model_year_to: Option<i64>,
    pub active: bool,
    pub created_at: String,
}

impl Campaign {
    /// Whether the campaign covers `vehicle`.
    pub fn covers(&self, vehicle: &Vehicle) -> bool {
        let year_ok = |year: i64| {
            self.model_year_from.is_none_or(|from| year >= from)
                && self.model_year_to.is_none_or(|to| year <= to)
        };
        self.active
            && self
                .vin_prefixes
                .iter()
                .any(|prefix| vehicle.vin.starts_with(prefix.as_str()))
            && (self.model_year_from.is_none() && self.model_year_to.is_none()
                || vehicle.model_year.is_some_and(year_ok))
    }
}
