//! Fixture records for plugin unit tests. Each has only what its arguments name; set the
//! other public fields in the test that cares about them.

use crate::{Article, Customer, Priority, Ticket, TicketStatus, TicketSummary, Vehicle};

/// When fixtures are created and updated.
pub const CREATED_AT: &str = "2026-01-15T08:00:00Z";

/// A new, normal-priority `general` ticket `T-1` from the `web`, with no customer or vehicle.
pub fn ticket(subject: &str, description: &str) -> Ticket {
    Ticket {
        id: "T-1".into(),
        subject: subject.into(),
        description: description.into(),
        status: TicketStatus::New,
        priority: Priority::Normal,
        category: "general".into(),
        channel: "web".into(),
        customer: None,
        vehicle: None,
        queue: None,
        team: None,
        assignee: None,
        tags: Vec::new(),
        fields: Vec::new(),
        created_at: CREATED_AT.into(),
        updated_at: CREATED_AT.into(),
    }
}

/// A non-VIP customer with no contact details or region.
pub fn customer(id: &str, name: &str) -> Customer {
    Customer {
        id: id.into(),
        name: name.into(),
        phone: None,
        email: None,
        region: None,
        city: None,
        vip: false,
        fields: Vec::new(),
    }
}

/// A vehicle `V-1` with `vin` and nothing else known.
pub fn vehicle(vin: &str) -> Vehicle {
    Vehicle {
        id: "V-1".into(),
        vin: vin.into(),
        make: None,
        model: None,
        model_year: None,
        mileage_km: None,
        customer_id: None,
        fields: Vec::new(),
    }
}

/// A new, normal-priority `general` past ticket created at `created_at`.
pub fn ticket_summary(id: &str, created_at: &str) -> TicketSummary {
    TicketSummary {
        id: id.into(),
        subject: format!("ticket {id}"),
        status: TicketStatus::New,
        priority: Priority::Normal,
        category: "general".into(),
        created_at: created_at.into(),
    }
}

/// A published `general` article with no tags, as `records::search_articles` returns it,
/// its url under `https://service.example.com/kb/`.
pub fn article(id: &str, title: &str, excerpt: &str) -> Article {
    Article {
        id: id.into(),
        title: title.into(),
        excerpt: excerpt.into(),
        url: format!("https://service.example.com/kb/{id}"),
        category: "general".into(),
        tags: Vec::new(),
    }
}

/// Panics, listing every difference, unless `plugin.toml`'s `[config_schema]` is the one
/// derived from `T` (see [`config_schema`](crate::config_schema)). Pass the whole manifest:
/// `include_str!("../plugin.toml")`, from a test named `config_struct_matches_the_manifest`.
/// Native only.
///
/// With `AXLE_CONFIG_SCHEMA_OUT` set to a path, it writes `T`'s `[config_schema]` there
/// instead: that is how `axle plugin build` asks for it before writing it into the
/// manifest.
#[cfg(not(target_family = "wasm"))]
#[track_caller]
pub fn assert_config_matches_manifest<T: schemars::JsonSchema>(manifest_toml: &str) {
    use crate::config_schema::{OUT_VAR, as_manifest_toml, check_manifest, derived};
    if let Some(out) = std::env::var_os(OUT_VAR) {
        let schema = derived::<T>()
            .and_then(|schema| as_manifest_toml(&schema))
            .unwrap_or_else(|| panic!("the schema of `{}` nests too deep", T::schema_name()));
        if let Err(err) = std::fs::write(&out, schema) {
            panic!(
                "cannot write the config schema to {}: {err}",
                out.to_string_lossy()
            );
        }
        return;
    }
    if let Err(err) = check_manifest::<T>(manifest_toml) {
        panic!("{err}");
    }
}
