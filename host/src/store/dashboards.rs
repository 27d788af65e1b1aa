//! Dashboards and their ordered widgets. A dashboard and its widgets are written in one
//! transaction, so a reader never sees half a change.

use super::{StoreError, finish_page};
use crate::db::{Arg, Db, SqlBuilder, Tx};
use crate::domain::dashboards::{Dashboard, Widget};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};

crate::store::from_row!(Widget {
    id,
    installation_id,
    title
});

/// A widget to store: the installation and an optional title override.
#[derive(Clone, Debug)]
pub struct NewWidget {
    pub installation_id: String,
    pub title: Option<String>,
}

/// A dashboard to create.
#[derive(Clone, Debug)]
pub struct NewDashboard {
    pub name: String,
    pub description: String,
    pub widgets: Vec<NewWidget>,
}

/// Changes to a dashboard; unset parts stay, `widgets` replaces every widget in order.
#[derive(Clone, Debug, Default)]
pub struct DashboardPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub widgets: Option<Vec<NewWidget>>,
}

struct DashboardRow {
    id: String,
    name: String,
    description: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(DashboardRow {
    id,
    name,
    description,
    created_at,
    updated_at
});

impl DashboardRow {
    fn with(self, widgets: Vec<Widget>) -> Dashboard {
        Dashboard {
            id: self.id,
            name: self.name,
            description: self.description,
            widgets,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        }
    }
}

struct WidgetRow {
    dashboard_id: String,
    widget: Widget,
}

crate::store::from_row!(WidgetRow { dashboard_id; flatten widget });

const COLUMNS: &str = "id, name, description, created_at, updated_at";

async fn insert_widgets(
    tx: &mut Tx,
    tenant_id: &str,
    dashboard_id: &str,
    widgets: &[NewWidget],
) -> Result<(), StoreError> {
    for (position, widget) in widgets.iter().enumerate() {
        sqlx::query(
            "INSERT INTO dashboard_widgets (id, tenant_id, dashboard_id, position, installation_id, title) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(new_id())
        .bind(tenant_id)
        .bind(dashboard_id)
        .bind(i64::try_from(position).unwrap_or(i64::MAX))
        .bind(&widget.installation_id)
        .bind(widget.title.as_deref())
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Creates a dashboard with its widgets.
pub async fn insert(db: &Db, tenant_id: &str, new: NewDashboard) -> Result<Dashboard, StoreError> {
    let id = new_id();
    let now = now_ms();
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO dashboards (id, tenant_id, name, description, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&new.name)
    .bind(&new.description)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    insert_widgets(&mut tx, tenant_id, &id, &new.widgets).await?;
    tx.commit().await?;
    get(db, tenant_id, &id)
        .await?
        .ok_or(StoreError::NotFound("dashboard"))
}

/// The widgets of the listed dashboards, in order, by dashboard id.
async fn widgets_of(
    db: &Db,
    tenant_id: &str,
    dashboard_ids: &[&str],
) -> Result<Vec<WidgetRow>, StoreError> {
    if dashboard_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = SqlBuilder::new(
        "SELECT dashboard_id, id, installation_id, title FROM dashboard_widgets WHERE tenant_id = ",
    );
    sql.bind(Arg::Text(tenant_id.to_owned()))
        .push(" AND dashboard_id IN (");
    for (index, id) in dashboard_ids.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.bind(Arg::Text((*id).to_owned()));
    }
    sql.push(") ORDER BY dashboard_id, position");
    Ok(sql.build_as().fetch_all(db.reader()).await?)
}

/// A dashboard of the tenant with its widgets.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Dashboard>, StoreError> {
    let row: Option<DashboardRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM dashboards WHERE tenant_id = $1 AND id = $2"
    )))
    .bind(tenant_id)
    .bind(id)
    .fetch_optional(db.reader())
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let widgets = widgets_of(db, tenant_id, &[id]).await?;
    Ok(Some(
        row.with(widgets.into_iter().map(|w| w.widget).collect()),
    ))
}

/// The tenant's dashboards with their widgets, newest first.
pub async fn list(db: &Db, tenant_id: &str, page: &Page) -> Result<Paged<Dashboard>, StoreError> {
    let mut sql = SqlBuilder::new(&format!(
        "SELECT {COLUMNS} FROM dashboards WHERE tenant_id = "
    ));
    sql.bind(Arg::Text(tenant_id.to_owned()));
    finish_page(&mut sql, page);
    let rows: Vec<DashboardRow> = sql.build_as().fetch_all(db.reader()).await?;
    let paged = Paged::from_rows(rows, page.limit, |row| &row.id);
    let ids: Vec<&str> = paged.items.iter().map(|row| row.id.as_str()).collect();
    let mut widgets = widgets_of(db, tenant_id, &ids).await?;
    paged.try_map(|row| {
        let mine = widgets
            .extract_if(.., |w| w.dashboard_id == row.id)
            .map(|w| w.widget)
            .collect();
        Ok(row.with(mine))
    })
}

/// Applies `patch`; `Ok(None)` when the dashboard does not exist in the tenant.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    id: &str,
    patch: DashboardPatch,
) -> Result<Option<Dashboard>, StoreError> {
    let mut tx = db.begin_write().await?;
    let updated = sqlx::query(
        "UPDATE dashboards SET name = COALESCE($1, name), description = COALESCE($2, description), \
         updated_at = $3 WHERE tenant_id = $4 AND id = $5",
    )
    .bind(patch.name)
    .bind(patch.description)
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if updated == 0 {
        return Ok(None);
    }
    if let Some(widgets) = &patch.widgets {
        let old = "DELETE FROM dashboard_widgets WHERE tenant_id = $1 AND dashboard_id = $2";
        super::execute(&mut *tx, old, &[tenant_id, id]).await?;
        insert_widgets(&mut tx, tenant_id, id, widgets).await?;
    }
    tx.commit().await?;
    get(db, tenant_id, id).await
}

/// Deletes a dashboard and its widgets; whether it existed.
pub async fn delete(db: &Db, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let mut tx = db.begin_write().await?;
    let widgets = "DELETE FROM dashboard_widgets WHERE tenant_id = $1 AND dashboard_id = $2";
    super::execute(&mut *tx, widgets, &[tenant_id, id]).await?;
    let dashboard = "DELETE FROM dashboards WHERE tenant_id = $1 AND id = $2";
    let deleted = super::execute(&mut *tx, dashboard, &[tenant_id, id]).await?;
    tx.commit().await?;
    Ok(deleted > 0)
}
