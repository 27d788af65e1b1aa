//! The audit trail: every plugin invocation, every plugin decision, and every ticket
//! event with its actor.

use sqlx::{AssertSqlSafe, Row};

use super::{StoreError, finish_page, json_column};
use crate::db::{Arg, Db, SqlBuilder, Tx, values_placeholders};
use crate::domain::audit::{Decision, Invocation, InvocationFilter, TicketEvent};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};

/// An invocation to record.
#[derive(Clone, Debug)]
pub struct NewInvocation<'a> {
    pub installation_id: &'a str,
    pub plugin: &'a str,
    pub hook: &'a str,
    pub subject_id: Option<&'a str>,
    pub input_digest: &'a str,
    pub outcome: &'a str,
    pub detail: Option<String>,
    pub duration_us: i64,
}

/// Invocation rows per INSERT: 11 binds each stays far below either engine's bind limit.
const INVOCATIONS_PER_INSERT: usize = 64;

/// Records invocations inside `tx`, in as few statements as the bind limit allows: a
/// ticket's flow runs several plugins, and one round trip for all of their rows costs a
/// fraction of one each.
pub async fn record_invocations(
    tx: &mut Tx,
    tenant_id: &str,
    invocations: &[NewInvocation<'_>],
) -> Result<(), StoreError> {
    let now = now_ms();
    for chunk in invocations.chunks(INVOCATIONS_PER_INSERT) {
        let sql = format!(
            "INSERT INTO plugin_invocations (id, tenant_id, installation_id, plugin, hook, subject_id, \
             input_digest, outcome, detail, duration_us, created_at) VALUES {}",
            values_placeholders(chunk.len(), 11)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for inv in chunk {
            query = query
                .bind(new_id())
                .bind(tenant_id)
                .bind(inv.installation_id)
                .bind(inv.plugin)
                .bind(inv.hook)
                .bind(inv.subject_id)
                .bind(inv.input_digest)
                .bind(inv.outcome)
                .bind(inv.detail.as_deref())
                .bind(inv.duration_us)
                .bind(now);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// The tenant's invocations, newest first.
pub async fn list_invocations(
    db: &Db,
    tenant_id: &str,
    filter: &InvocationFilter,
    page: &Page,
) -> Result<Paged<Invocation>, StoreError> {
    let mut sql = SqlBuilder::new(
        "SELECT id, installation_id, plugin, hook, subject_id, input_digest, outcome, detail, duration_us, created_at \
         FROM plugin_invocations WHERE tenant_id = ",
    );
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .and_eq(
            "installation_id",
            filter.installation_id.clone().map(Arg::Text),
        )
        .and_eq("subject_id", filter.subject_id.clone().map(Arg::Text))
        .and_eq("outcome", filter.outcome.clone().map(Arg::Text));
    if let Some(prefix) = &filter.tickets_within {
        sql.push(" AND subject_id IN (SELECT id FROM tickets WHERE tenant_id = ")
            .bind(Arg::Text(tenant_id.to_owned()))
            .push(" AND site_id IN (SELECT id FROM sites WHERE tenant_id = ")
            .bind(Arg::Text(tenant_id.to_owned()))
            .and_within("path", Some(prefix))
            .push("))");
    }
    if let Some(prefix) = &filter.installations_within {
        // Scoped installations only: a tenant-wide one's scope_path '' is in no subtree.
        sql.push(" AND installation_id IN (SELECT id FROM installations WHERE tenant_id = ")
            .bind(Arg::Text(tenant_id.to_owned()))
            .push(" AND scope_path <> ''")
            .and_within("scope_path", Some(prefix))
            .push(")");
    }
    finish_page(&mut sql, page);
    let rows = sql.build().fetch_all(db.reader()).await?;
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(Invocation {
                id: row.try_get("id")?,
                installation_id: row.try_get("installation_id")?,
                plugin: row.try_get("plugin")?,
                hook: row.try_get("hook")?,
                subject_id: row.try_get("subject_id")?,
                input_digest: row.try_get("input_digest")?,
                outcome: row.try_get("outcome")?,
                detail: row.try_get("detail")?,
                duration_us: row.try_get("duration_us")?,
                created_at: rfc3339(row.try_get("created_at")?),
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(Paged::from_rows(items, page.limit, |inv| &inv.id))
}

/// Records a plugin's decision inside `tx`.
pub async fn record_decision(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    installation_id: &str,
    plugin: &str,
    hook: &str,
    decision: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO plugin_decisions (id, tenant_id, ticket_id, installation_id, plugin, hook, decision, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(ticket_id)
    .bind(installation_id)
    .bind(plugin)
    .bind(hook)
    .bind(decision.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The decisions recorded for a ticket, oldest first.
pub async fn decisions(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<Decision>, StoreError> {
    let rows = sqlx::query(
        "SELECT installation_id, plugin, hook, decision, created_at FROM plugin_decisions \
         WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY id",
    )
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(|row| {
            let decision: String = row.try_get("decision")?;
            Ok(Decision {
                installation_id: row.try_get("installation_id")?,
                plugin: row.try_get("plugin")?,
                hook: row.try_get("hook")?,
                decision: json_column("plugin_decisions.decision", &decision)?,
                created_at: rfc3339(row.try_get("created_at")?),
            })
        })
        .collect()
}

/// Records a ticket event inside `tx`.
pub async fn record_event(
    tx: &mut Tx,
    tenant_id: &str,
    ticket_id: &str,
    kind: &str,
    actor: &str,
    data: &serde_json::Value,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_events (id, tenant_id, ticket_id, kind, actor, data, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(new_id())
    .bind(tenant_id)
    .bind(ticket_id)
    .bind(kind)
    .bind(actor)
    .bind(data.to_string())
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// A ticket's events, oldest first.
pub async fn events(
    db: &Db,
    tenant_id: &str,
    ticket_id: &str,
) -> Result<Vec<TicketEvent>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, kind, actor, data, created_at FROM ticket_events WHERE tenant_id = $1 AND ticket_id = $2 ORDER BY id",
    )
    .bind(tenant_id)
    .bind(ticket_id)
    .fetch_all(db.reader())
    .await?;
    rows.into_iter()
        .map(|row| {
            let data: String = row.try_get("data")?;
            Ok(TicketEvent {
                id: row.try_get("id")?,
                kind: row.try_get("kind")?,
                actor: row.try_get("actor")?,
                data: json_column("ticket_events.data", &data)?,
                created_at: rfc3339(row.try_get("created_at")?),
            })
        })
        .collect()
}
