//! Tickets.

use sqlx::AssertSqlSafe;

use super::{StoreError, Table, json_column, to_json};
use crate::db::{Arg, Db, Tx};
use crate::domain::ids::rfc3339;
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Priority, Ticket, TicketChannel, TicketFilter, TicketStatus};

/// A past ticket, for history lookups.
#[derive(Clone, Debug)]
pub struct TicketSummary {
    pub id: String,
    pub subject: String,
    pub status: TicketStatus,
    pub priority: Priority,
    pub category: String,
    pub created_at: String,
}

struct TicketRow {
    id: String,
    subject: String,
    description: String,
    status: String,
    priority: String,
    category: String,
    channel: String,
    customer_id: Option<String>,
    vehicle_id: Option<String>,
    site_id: Option<String>,
    queue: Option<String>,
    team: Option<String>,
    assignee: Option<String>,
    tags: String,
    fields: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(TicketRow => Ticket, from "tickets" {
    id,
    subject,
    description,
    status,
    priority,
    category,
    channel,
    customer_id,
    vehicle_id,
    site_id,
    queue,
    team,
    assignee,
    tags,
    fields,
    created_at,
    updated_at
});

fn parse<T>(column: &str, text: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("tickets.{column} = `{text}`")))
}

impl TicketRow {
    fn into_domain(self) -> Result<Ticket, StoreError> {
        Ok(Ticket {
            status: parse("status", &self.status, TicketStatus::parse)?,
            priority: parse("priority", &self.priority, Priority::parse)?,
            channel: parse("channel", &self.channel, TicketChannel::parse)?,
            tags: json_column("tickets.tags", &self.tags)?,
            fields: json_column("tickets.fields", &self.fields)?,
            id: self.id,
            subject: self.subject,
            description: self.description,
            category: self.category,
            customer_id: self.customer_id,
            vehicle_id: self.vehicle_id,
            site_id: self.site_id,
            queue: self.queue,
            team: self.team,
            assignee: self.assignee,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

/// Inserts `ticket` (id and times already set; `created_ms` is its creation time).
pub async fn insert(
    tx: &mut Tx,
    tenant_id: &str,
    ticket: &Ticket,
    created_ms: i64,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO tickets (id, tenant_id, subject, description, status, priority, category, channel, \
         customer_id, vehicle_id, queue, team, assignee, tags, fields, created_at, updated_at, site_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17)",
    )
    .bind(&ticket.id)
    .bind(tenant_id)
    .bind(&ticket.subject)
    .bind(&ticket.description)
    .bind(ticket.status.as_str())
    .bind(ticket.priority.as_str())
    .bind(&ticket.category)
    .bind(ticket.channel.as_str())
    .bind(&ticket.customer_id)
    .bind(&ticket.vehicle_id)
    .bind(&ticket.queue)
    .bind(&ticket.team)
    .bind(&ticket.assignee)
    .bind(to_json(&ticket.tags))
    .bind(to_json(&ticket.fields))
    .bind(created_ms)
    .bind(&ticket.site_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Writes every mutable column of `ticket` (and counts a reopen when the status leaves
/// resolved or closed for an open one: SET expressions read the row as it was), provided the stored row is still the one
/// stamped `expected_ms` (see [`get_stamped`]). Returns false, writing nothing, when it is
/// not: someone changed the ticket meanwhile, and the caller starts again from a fresh read
/// rather than overwrite their change. `updated_ms` must be later than `expected_ms`.
pub async fn update(
    tx: &mut Tx,
    tenant_id: &str,
    ticket: &Ticket,
    expected_ms: i64,
    updated_ms: i64,
) -> Result<bool, StoreError> {
    let result = sqlx::query(
        "UPDATE tickets SET subject = $1, description = $2, status = $3, priority = $4, category = $5, \
         channel = $6, queue = $7, team = $8, assignee = $9, tags = $10, fields = $11, updated_at = $12, \
         site_id = $16, reopened = reopened + CASE WHEN status IN ('resolved', 'closed') \
         AND $3 NOT IN ('resolved', 'closed') THEN 1 ELSE 0 END \
         WHERE tenant_id = $13 AND id = $14 AND updated_at = $15",
    )
    .bind(&ticket.subject)
    .bind(&ticket.description)
    .bind(ticket.status.as_str())
    .bind(ticket.priority.as_str())
    .bind(&ticket.category)
    .bind(ticket.channel.as_str())
    .bind(&ticket.queue)
    .bind(&ticket.team)
    .bind(&ticket.assignee)
    .bind(to_json(&ticket.tags))
    .bind(to_json(&ticket.fields))
    .bind(updated_ms)
    .bind(tenant_id)
    .bind(&ticket.id)
    .bind(expected_ms)
    .bind(&ticket.site_id)
    .execute(&mut **tx)
    .await?;
    Ok(result.rows_affected() == 1)
}

/// A ticket of the tenant.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Ticket>, StoreError> {
    Ok(get_stamped(db, tenant_id, id)
        .await?
        .map(|(ticket, _)| ticket))
}

/// A ticket of the tenant with the stamp [`update`] checks: its `updated_at` in unix ms.
pub async fn get_stamped(
    db: &Db,
    tenant_id: &str,
    id: &str,
) -> Result<Option<(Ticket, i64)>, StoreError> {
    let row: Option<TicketRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE tenant_id = $1 AND id = $2",
        TicketRow::SELECT
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    row.map(|row| {
        let stamp = row.updated_at;
        Ok((row.into_domain()?, stamp))
    })
    .transpose()
}

/// A ticket of the tenant, read inside `tx`.
pub async fn get_in(tx: &mut Tx, tenant_id: &str, id: &str) -> Result<Option<Ticket>, StoreError> {
    super::select_optional::<TicketRow>(
        &mut **tx,
        "WHERE tenant_id = $1 AND id = $2",
        &[tenant_id, id],
    )
    .await
}

/// The tenant's tickets, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &TicketFilter,
    page: &Page,
) -> Result<Paged<Ticket>, StoreError> {
    let text = |value: &Option<String>| value.clone().map(Arg::Text);
    let mut sql = super::tenant_rows::<TicketRow>(tenant_id);
    sql.and_eq(
        "status",
        filter.status.map(|s| Arg::Text(s.as_str().to_owned())),
    )
    .and_eq(
        "priority",
        filter.priority.map(|p| Arg::Text(p.as_str().to_owned())),
    )
    .and_eq(
        "channel",
        filter.channel.map(|c| Arg::Text(c.as_str().to_owned())),
    )
    .and_eq("category", text(&filter.category))
    .and_eq("queue", text(&filter.queue))
    .and_eq("team", text(&filter.team))
    .and_eq("assignee", text(&filter.assignee))
    .and_eq("customer_id", text(&filter.customer_id))
    .and_eq("vehicle_id", text(&filter.vehicle_id))
    .and_eq("site_id", text(&filter.site_id));
    if let Some(prefix) = &filter.site_within {
        sql.push(" AND site_id IN (SELECT id FROM sites WHERE tenant_id = ")
            .bind(Arg::Text(tenant_id.to_owned()))
            .and_within("path", Some(prefix))
            .push(")");
    }
    super::select_page::<TicketRow>(db, sql, page).await
}

/// Tickets at a site inside the subtree with path `prefix`, as a condition on `site_id`
/// whose prefix is bound as `$n`.
fn site_in_subtree(n: usize) -> String {
    format!(" AND site_id IN (SELECT id FROM sites WHERE tenant_id = $1 AND path LIKE ${n})")
}

/// The customer's most recent tickets, newest first; only those at sites inside the
/// subtree with path `within`, when given.
pub async fn history(
    db: &Db,
    tenant_id: &str,
    customer_id: &str,
    limit: u32,
    within: Option<&str>,
) -> Result<Vec<TicketSummary>, StoreError> {
    let subtree = within.map_or_else(String::new, |_| site_in_subtree(4));
    let rows: Vec<TicketRow> = sqlx::query_as(AssertSqlSafe(format!(
        "{} WHERE tenant_id = $1 AND customer_id = $2{subtree} ORDER BY created_at DESC, id DESC LIMIT $3",
        TicketRow::SELECT
    )))
    .bind(tenant_id)
    .bind(customer_id)
    .bind(i64::from(limit))
    .bind(within.map(|prefix| format!("{prefix}%")))
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(|row| {
            let ticket = row.into_domain()?;
            Ok(TicketSummary {
                id: ticket.id,
                subject: ticket.subject,
                status: ticket.status,
                priority: ticket.priority,
                category: ticket.category,
                created_at: ticket.created_at,
            })
        })
        .collect()
}

/// Remembers the telephony call a ticket was opened for.
pub async fn set_call_id(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    call_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET intake_call_id = $1 WHERE tenant_id = $2 AND id = $3")
        .bind(call_id)
        .bind(tenant_id)
        .bind(ticket_id)
        .execute(&mut **tx)
        .await
        .map_err(|err| {
            StoreError::conflict_on_unique(err, || format!("call {call_id} already has a ticket"))
        })?;
    Ok(())
}

/// The ticket opened for a telephony call, if any.
pub async fn by_call_id(
    db: &Db,
    tenant_id: &str,
    call_id: &str,
) -> Result<Option<String>, StoreError> {
    let row = sqlx::query("SELECT id FROM tickets WHERE tenant_id = $1 AND intake_call_id = $2")
        .bind(tenant_id)
        .bind(call_id)
        .fetch_optional(db.reader())
        .await?;
    Ok(row.map(|row| sqlx::Row::try_get(&row, "id")).transpose()?)
}

/// Who a ticket is about: its customer or its vehicle.
#[derive(Clone, Copy, Debug)]
pub enum Party {
    Customer,
    Vehicle,
}

/// Whether the customer or vehicle `id` has a ticket at a site inside the subtree with
/// path `within`: what a plugin scoped to that subtree may know of it.
pub async fn served_within(
    db: &Db,
    tenant_id: &str,
    party: Party,
    id: &str,
    within: &str,
) -> Result<bool, StoreError> {
    let column = match party {
        Party::Customer => "customer_id",
        Party::Vehicle => "vehicle_id",
    };
    let found: Option<(String,)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id FROM tickets WHERE tenant_id = $1 AND {column} = $2{} LIMIT 1",
        site_in_subtree(3)
    )))
    .bind(tenant_id)
    .bind(id)
    .bind(format!("{within}%"))
    .fetch_optional(db.reader())
    .await?;
    Ok(found.is_some())
}
