//! Recall and service campaigns and the vehicles they cover.

use super::{StoreError, json_column};
use crate::db::Db;
use crate::domain::campaigns::{Campaign, CampaignKind};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::page::{Page, Paged};

struct CampaignRow {
    id: String,
    code: String,
    kind: String,
    title: String,
    description: String,
    vin_prefixes: String,
    model_year_from: Option<i64>,
    model_year_to: Option<i64>,
    active: i64,
    created_at: i64,
}

crate::store::from_row!(CampaignRow => Campaign, from "campaigns" {
    id,
    code,
    kind,
    title,
    description,
    vin_prefixes,
    model_year_from,
    model_year_to,
    active,
    created_at
});

impl CampaignRow {
    fn into_domain(self) -> Result<Campaign, StoreError> {
        Ok(Campaign {
            kind: match self.kind.as_str() {
                "recall" => CampaignKind::Recall,
                "service" => CampaignKind::Service,
                other => return Err(StoreError::Corrupt(format!("campaign kind `{other}`"))),
            },
            vin_prefixes: json_column("campaigns.vin_prefixes", &self.vin_prefixes)?,
            id: self.id,
            code: self.code,
            title: self.title,
            description: self.description,
            model_year_from: self.model_year_from,
            model_year_to: self.model_year_to,
            active: self.active != 0,
            created_at: rfc3339(self.created_at),
        })
    }
}

/// A campaign to create.
#[derive(Clone, Debug)]
pub struct NewCampaign {
    pub code: String,
    pub kind: CampaignKind,
    pub title: String,
    pub description: String,
    pub vin_prefixes: Vec<String>,
    pub model_year_from: Option<i64>,
    pub model_year_to: Option<i64>,
}

/// Creates a campaign.
pub async fn insert(db: &Db, tenant_id: &str, new: NewCampaign) -> Result<Campaign, StoreError> {
    let id = new_id();
    let now = now_ms();
    let code = new.code.clone();
    sqlx::query(
        "INSERT INTO campaigns (id, tenant_id, code, kind, title, description, vin_prefixes, model_year_from, \
         model_year_to, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 1, $10)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&new.code)
    .bind(new.kind.as_str())
    .bind(&new.title)
    .bind(&new.description)
    .bind(serde_json::to_string(&new.vin_prefixes).unwrap_or_else(|_| "[]".to_owned()))
    .bind(new.model_year_from)
    .bind(new.model_year_to)
    .bind(now)
    .execute(db.writer())
    .await
    .map_err(|err| StoreError::conflict_on_unique(err, || format!("campaign `{code}` already exists")))?;
    Ok(Campaign {
        id,
        code: new.code,
        kind: new.kind,
        title: new.title,
        description: new.description,
        vin_prefixes: new.vin_prefixes,
        model_year_from: new.model_year_from,
        model_year_to: new.model_year_to,
        active: true,
        created_at: rfc3339(now),
    })
}

/// The tenant's campaigns, newest first.
pub async fn list(db: &Db, tenant_id: &str, page: &Page) -> Result<Paged<Campaign>, StoreError> {
    super::select_page::<CampaignRow>(db, super::tenant_rows::<CampaignRow>(tenant_id), page).await
}

/// The tenant's active campaigns.
pub async fn active(db: &Db, tenant_id: &str) -> Result<Vec<Campaign>, StoreError> {
    super::select_all::<CampaignRow>(
        db.reader(),
        "WHERE tenant_id = $1 AND active = 1 ORDER BY code",
        &[tenant_id],
    )
    .await
}
