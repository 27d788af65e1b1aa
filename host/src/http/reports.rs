//! KPI reports: `GET /api/v1/reports/kpis` and its drill-down
//! `GET /api/v1/reports/kpis/tickets`. A key scoped to a site counts only its subtree.

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use super::extract::ApiQuery;
use super::openapi as doc;
use crate::domain::ids::{now_ms, rfc3339};
use crate::domain::records::{Priority, TicketChannel};
use crate::domain::reports::{Column, Population};
use crate::service::kpis::{self, DrillDown, DrillLink, GroupBy, KpiQuery, KpiReport, Metric};

/// The window when `from` is not given: the 30 days before `to`.
const DEFAULT_DAYS: i64 = 30;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The query string of both routes; `metric` and `group` only for the drill-down.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct KpiParams {
    /// Start of the window, inclusive: an RFC 3339 time or a date (midnight UTC); 30 days
    /// before `to` when omitted.
    from: Option<String>,
    /// End of the window, exclusive: an RFC 3339 time or a date; now when omitted.
    to: Option<String>,
    /// Rows by `region`, `dealer`, `site`, `team`, `agent`, `category` or `channel`.
    group_by: Option<String>,
    category: Option<String>,
    #[param(value_type = Option<TicketChannel>)]
    channel: Option<String>,
    #[param(value_type = Option<Priority>)]
    priority: Option<String>,
    /// Tickets at this site and every site below it.
    site_id: Option<String>,
    /// Drill-down only: `fcr`, `aht`, `csat`, `nps`, `backlog`, `backlog_rate` or `sla`.
    metric: Option<String>,
    /// Drill-down only, with `group_by`: the row's `group` key, empty for the row without one.
    group: Option<String>,
}

/// Unix ms of an RFC 3339 timestamp or a date (its midnight UTC).
fn instant(name: &str, text: &str) -> Result<i64, ApiError> {
    if let Ok(timestamp) = text.parse::<jiff::Timestamp>() {
        return Ok(timestamp.as_millisecond());
    }
    text.parse::<jiff::civil::Date>()
        .ok()
        .and_then(|date| date.to_zoned_datetime(jiff::tz::TimeZone::UTC).ok())
        .map(|zoned| zoned.timestamp().as_millisecond())
        .ok_or_else(|| {
            ApiError::BadRequest(format!(
                "{name} must be an RFC 3339 time such as 2026-01-31T00:00:00Z or a date such \
                 as 2026-01-31, not `{text}`"
            ))
        })
}

fn present(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// The validated report request, and the normalized filters for its drill-down links.
struct Parsed {
    query: KpiQuery,
    filters: Vec<(&'static str, String)>,
}

async fn parse(caller: &Caller, state: &AppState, params: &KpiParams) -> Result<Parsed, ApiError> {
    let to = match present(&params.to) {
        Some(text) => instant("to", text)?,
        None => now_ms(),
    };
    let from = match present(&params.from) {
        Some(text) => instant("from", text)?,
        None => to - DEFAULT_DAYS * DAY_MS,
    };
    if from >= to {
        return Err(ApiError::BadRequest(format!(
            "from ({}) must be before to ({}); the report counts tickets created in [from, to)",
            rfc3339(from),
            rfc3339(to)
        )));
    }
    let group_by = present(&params.group_by)
        .map(|text| {
            GroupBy::parse(text).ok_or_else(|| {
                ApiError::BadRequest(format!(
                    "group_by must be one of {}, not `{text}`",
                    GroupBy::expected()
                ))
            })
        })
        .transpose()?;
    let mut population = Population {
        from_ms: from,
        to_ms: to,
        site_within: caller.within().into_iter().collect(),
        ..Population::default()
    };
    let mut filters = vec![("from", rfc3339(from)), ("to", rfc3339(to))];
    if let Some(group_by) = group_by {
        filters.push(("group_by", group_by.as_str().to_owned()));
    }
    if let Some(category) = present(&params.category) {
        // Categories are stored lower-cased.
        let category = category.to_lowercase();
        population.equal.push((Column::Category, category.clone()));
        filters.push(("category", category));
    }
    if let Some(channel) = present(&params.channel) {
        let channel = TicketChannel::parse(channel).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "channel must be one of {}, not `{channel}`",
                TicketChannel::expected()
            ))
        })?;
        population
            .equal
            .push((Column::Channel, channel.as_str().to_owned()));
        filters.push(("channel", channel.as_str().to_owned()));
    }
    if let Some(priority) = present(&params.priority) {
        let priority = Priority::parse(priority).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "priority must be one of {}, not `{priority}`",
                Priority::expected()
            ))
        })?;
        population
            .equal
            .push((Column::Priority, priority.as_str().to_owned()));
        filters.push(("priority", priority.as_str().to_owned()));
    }
    if let Some(site_id) = present(&params.site_id) {
        let site = caller.site(state, site_id).await?;
        population.site_within.push(site.path);
        filters.push(("site_id", site.id));
    }
    Ok(Parsed {
        query: KpiQuery {
            population,
            group_by,
        },
        filters,
    })
}

/// Percent-encodes a query-string value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Drill-down links that repeat the report's window and filters.
struct Links<'a>(&'a [(&'static str, String)]);

impl DrillLink for Links<'_> {
    fn link(&self, metric: Metric, group: Option<&str>, total: bool) -> String {
        let mut link = format!("/api/v1/reports/kpis/tickets?metric={}", metric.as_str());
        for (name, value) in self.0 {
            // The total row of a grouped report drills into every group at once.
            if total && *name == "group_by" {
                continue;
            }
            link.push_str(&format!("&{name}={}", encode(value)));
        }
        if !total {
            link.push_str(&format!("&group={}", encode(group.unwrap_or_default())));
        }
        link
    }
}

/// A KPI report: FCR, AHT, CSAT, NPS and backlog over a window.
///
/// Counts the tickets created in [from, to), the 30 days before `to` by default. Every cell
/// links to the tickets behind it. `metric` and `group` belong to the drill-down.
#[utoipa::path(
    get,
    path = "/reports/kpis",
    operation_id = "reports_kpis",
    tag = "reports",
    params(KpiParams),
    responses(
        (status = 200, description = "OK", body = KpiReport),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn kpis(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<KpiParams>,
) -> Result<Json<KpiReport>, ApiError> {
    if params.metric.is_some() || params.group.is_some() {
        return Err(ApiError::BadRequest(
            "metric and group select the tickets behind a cell: use /api/v1/reports/kpis/tickets"
                .to_owned(),
        ));
    }
    let parsed = parse(&caller, &state, &params).await?;
    let report = kpis::report(
        &state.core.db,
        &caller.tenant_id,
        &parsed.query,
        &Links(&parsed.filters),
    )
    .await?;
    Ok(Json(report))
}

/// The tickets behind one cell of a KPI report.
///
/// `metric` is required; with `group_by`, `group` names the row (empty for the row without
/// a value).
#[utoipa::path(
    get,
    path = "/reports/kpis/tickets",
    operation_id = "reports_tickets",
    tag = "reports",
    params(KpiParams),
    responses(
        (status = 200, description = "OK", body = DrillDown),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn tickets(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(params): ApiQuery<KpiParams>,
) -> Result<Json<DrillDown>, ApiError> {
    let metric = match present(&params.metric) {
        Some(text) => Metric::parse(text).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "metric must be one of {}, not `{text}`",
                Metric::expected()
            ))
        })?,
        None => {
            return Err(ApiError::BadRequest(format!(
                "metric is required: one of {}",
                Metric::expected()
            )));
        }
    };
    let parsed = parse(&caller, &state, &params).await?;
    // An empty `group=` is the group of tickets without a value (no site, no team…).
    let group = match (parsed.query.group_by, &params.group) {
        (Some(_), Some(group)) => Some(group.trim()).filter(|g| !g.is_empty()),
        (Some(group_by), None) => {
            return Err(ApiError::BadRequest(format!(
                "group is required with group_by={}: the row's `group` key, or empty for the \
                 row without one",
                group_by.as_str()
            )));
        }
        (None, Some(_)) => {
            return Err(ApiError::BadRequest(
                "group needs group_by to say what it is a key of".to_owned(),
            ));
        }
        (None, None) => None,
    };
    let drill = kpis::drill_down(
        &state.core.db,
        &caller.tenant_id,
        &parsed.query,
        metric,
        group,
    )
    .await?;
    Ok(Json(drill))
}
