//! A tenant's API keys and settings.

use crate::domain::records::Role;
use serde::{Deserialize, Serialize};

/// How long routing inputs are kept for replay when the tenant has not said.
pub const DEFAULT_INPUT_RETENTION_DAYS: i64 = 30;

/// An API key's metadata; the secret is shown once, at creation.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub role: Role,
    /// The site whose subtree the key is limited to; `None` for the whole tenant.
    pub site_id: Option<String>,
    pub created_at: String,
}

/// A tenant's settings.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Settings {
    /// Days a routing input is kept for replay; 0 records none.
    pub input_retention_days: i64,
    /// The country (ISO 3166 alpha-2) of a phone number written without `+<country code>`.
    #[schema(example = "CN")]
    pub phone_country: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            input_retention_days: DEFAULT_INPUT_RETENTION_DAYS,
            phone_country: crate::domain::phone::PhoneCountry::default()
                .code()
                .to_owned(),
        }
    }
}

/// A tenant: an OEM or a dealer group.
#[derive(Clone, Debug, Serialize)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub created_at: String,
}

/// The caller an API key identifies.
#[derive(Clone, Debug)]
pub struct KeyOwner {
    pub tenant_id: String,
    pub key_id: String,
    pub role: Role,
    /// The site whose subtree the key is limited to; `None` for the whole tenant.
    pub site_id: Option<String>,
}
