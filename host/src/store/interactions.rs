//! Interactions: the work log of a ticket.

use super::StoreError;
use crate::db::{Arg, Db, Tx};
use crate::domain::ids::rfc3339;
use crate::domain::page::{Page, Paged};
use crate::domain::records::{Direction, Interaction, InteractionKind};

/// An interaction to store; times in unix ms.
#[derive(Clone, Debug)]
pub struct NewInteraction<'a> {
    pub id: &'a str,
    pub ticket_id: &'a str,
    pub kind: InteractionKind,
    pub direction: Direction,
    pub handle_time_seconds: Option<i64>,
    pub summary: &'a str,
    pub body: Option<&'a str>,
    pub actor: &'a str,
    pub occurred_ms: i64,
    pub created_ms: i64,
}

struct InteractionRow {
    id: String,
    ticket_id: String,
    kind: String,
    direction: String,
    handle_time_s: Option<i64>,
    summary: String,
    body: Option<String>,
    actor: String,
    occurred_at: i64,
    created_at: i64,
}

crate::store::from_row!(InteractionRow => Interaction, from "interactions" {
    id,
    ticket_id,
    kind,
    direction,
    handle_time_s,
    summary,
    body,
    actor,
    occurred_at,
    created_at
});

impl InteractionRow {
    fn into_domain(self) -> Result<Interaction, StoreError> {
        let corrupt = |column: &str, text: &str| {
            StoreError::Corrupt(format!("interactions.{column} = `{text}`"))
        };
        Ok(Interaction {
            kind: InteractionKind::parse(&self.kind).ok_or_else(|| corrupt("kind", &self.kind))?,
            direction: Direction::parse(&self.direction)
                .ok_or_else(|| corrupt("direction", &self.direction))?,
            id: self.id,
            ticket_id: self.ticket_id,
            handle_time_seconds: self.handle_time_s,
            summary: self.summary,
            body: self.body,
            actor: self.actor,
            occurred_at: rfc3339(self.occurred_at),
            created_at: rfc3339(self.created_at),
        })
    }
}

/// Stores an interaction inside `tx` and returns it as read back.
pub async fn insert(
    tx: &mut Tx,
    tenant_id: &str,
    new: &NewInteraction<'_>,
) -> Result<Interaction, StoreError> {
    sqlx::query(
        "INSERT INTO interactions (id, tenant_id, ticket_id, kind, direction, handle_time_s, summary, body, \
         actor, occurred_at, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(new.id)
    .bind(tenant_id)
    .bind(new.ticket_id)
    .bind(new.kind.as_str())
    .bind(new.direction.as_str())
    .bind(new.handle_time_seconds)
    .bind(new.summary)
    .bind(new.body)
    .bind(new.actor)
    .bind(new.occurred_ms)
    .bind(new.created_ms)
    .execute(&mut **tx)
    .await?;
    Ok(Interaction {
        id: new.id.to_owned(),
        ticket_id: new.ticket_id.to_owned(),
        kind: new.kind,
        direction: new.direction,
        handle_time_seconds: new.handle_time_seconds,
        summary: new.summary.to_owned(),
        body: new.body.map(str::to_owned),
        actor: new.actor.to_owned(),
        occurred_at: rfc3339(new.occurred_ms),
        created_at: rfc3339(new.created_ms),
    })
}

/// A ticket's interactions, most recently logged first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
    page: &Page,
) -> Result<Paged<Interaction>, StoreError> {
    let mut sql = super::tenant_rows::<InteractionRow>(tenant_id);
    sql.and_eq("ticket_id", Some(Arg::Text(ticket_id.to_owned())));
    super::select_page::<InteractionRow>(db, sql, page).await
}
