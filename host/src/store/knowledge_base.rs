//! Knowledge-base articles: the tenant's FAQ answers, with a normalised `search_text`
//! column that text search pre-filters on.

use super::{StoreError, json_column};
use crate::db::{Arg, Db, SqlBuilder};
use crate::domain::ids::{new_id, now_ms, rfc3339};
use crate::domain::knowledge_base::{Article, ArticleFilter, ArticleStatus};
use crate::domain::page::{Page, Paged};
use crate::domain::text_search;

/// An article's content, as created or as it stands after an update.
#[derive(Clone, Debug)]
pub struct ArticleContent {
    pub title: String,
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub status: ArticleStatus,
}

impl ArticleContent {
    /// What search pre-filters on: title, tags and body, normalised, one per line so that
    /// no term spans two of them.
    fn search_text(&self) -> String {
        text_search::normalize(&format!(
            "{}\n{}\n{}",
            self.title,
            self.tags.join("\n"),
            self.body
        ))
    }
}

struct ArticleRow {
    id: String,
    title: String,
    body: String,
    category: String,
    tags: String,
    status: String,
    created_at: i64,
    updated_at: i64,
}

crate::store::from_row!(ArticleRow => Article, from "kb_articles" {
    id,
    title,
    body,
    category,
    tags,
    status,
    created_at,
    updated_at
});

impl ArticleRow {
    fn into_domain(self) -> Result<Article, StoreError> {
        Ok(Article {
            status: match self.status.as_str() {
                "draft" => ArticleStatus::Draft,
                "published" => ArticleStatus::Published,
                other => return Err(StoreError::Corrupt(format!("article status `{other}`"))),
            },
            tags: json_column("kb_articles.tags", &self.tags)?,
            id: self.id,
            title: self.title,
            body: self.body,
            category: self.category,
            created_at: rfc3339(self.created_at),
            updated_at: rfc3339(self.updated_at),
        })
    }
}

fn tags_json(tags: &[String]) -> String {
    serde_json::to_string(tags).unwrap_or_else(|_| "[]".to_owned())
}

/// Creates an article.
pub async fn insert(db: &Db, tenant_id: &str, new: ArticleContent) -> Result<Article, StoreError> {
    let id = new_id();
    let now = now_ms();
    sqlx::query(
        "INSERT INTO kb_articles (id, tenant_id, title, body, category, tags, status, search_text, \
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
    )
    .bind(&id)
    .bind(tenant_id)
    .bind(&new.title)
    .bind(&new.body)
    .bind(&new.category)
    .bind(tags_json(&new.tags))
    .bind(new.status.as_str())
    .bind(new.search_text())
    .bind(now)
    .execute(db.writer())
    .await?;
    Ok(Article {
        id,
        title: new.title,
        body: new.body,
        category: new.category,
        tags: new.tags,
        status: new.status,
        created_at: rfc3339(now),
        updated_at: rfc3339(now),
    })
}

/// An article of the tenant by id.
pub async fn get(db: &Db, tenant_id: &str, id: &str) -> Result<Option<Article>, StoreError> {
    super::by_id::<ArticleRow>(db, tenant_id, id).await
}

/// A published article by id, from any tenant: the public page, where the opaque id is
/// the only thing the customer has.
pub async fn get_published(db: &Db, id: &str) -> Result<Option<Article>, StoreError> {
    super::select_optional::<ArticleRow>(
        db.reader(),
        "WHERE id = $1 AND status = 'published'",
        &[id],
    )
    .await
}

/// Replaces an article's content; `None` when the tenant has no such article.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    id: &str,
    content: ArticleContent,
) -> Result<Option<Article>, StoreError> {
    let result = sqlx::query(
        "UPDATE kb_articles SET title = $1, body = $2, category = $3, tags = $4, status = $5, \
         search_text = $6, updated_at = $7 WHERE tenant_id = $8 AND id = $9",
    )
    .bind(&content.title)
    .bind(&content.body)
    .bind(&content.category)
    .bind(tags_json(&content.tags))
    .bind(content.status.as_str())
    .bind(content.search_text())
    .bind(now_ms())
    .bind(tenant_id)
    .bind(id)
    .execute(db.writer())
    .await?;
    if result.rows_affected() == 0 {
        return Ok(None);
    }
    get(db, tenant_id, id).await
}

/// Deletes an article; whether it existed.
pub async fn delete(db: &Db, tenant_id: &str, id: &str) -> Result<bool, StoreError> {
    let sql = "DELETE FROM kb_articles WHERE tenant_id = $1 AND id = $2";
    Ok(super::execute(db.writer(), sql, &[tenant_id, id]).await? > 0)
}

fn filtered(tenant_id: &str, filter: &ArticleFilter) -> SqlBuilder {
    let mut sql = super::tenant_rows::<ArticleRow>(tenant_id);
    sql.and_eq("category", filter.category.clone().map(Arg::Text))
        .and_eq(
            "status",
            filter.status.map(|s| Arg::Text(s.as_str().to_owned())),
        );
    sql
}

/// The tenant's articles, newest first.
pub async fn list(
    db: &Db,
    tenant_id: &str,
    filter: &ArticleFilter,
    page: &Page,
) -> Result<Paged<Article>, StoreError> {
    let sql = filtered(tenant_id, filter);
    super::select_page::<ArticleRow>(db, sql, page).await
}

/// Up to `max` of the tenant's articles, newest first, whose search text contains at least
/// one of `terms` (as made by [`text_search::terms`]): the candidates a search ranks.
pub async fn candidates(
    db: &Db,
    tenant_id: &str,
    filter: &ArticleFilter,
    terms: &[String],
    max: i64,
) -> Result<Vec<Article>, StoreError> {
    if terms.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = filtered(tenant_id, filter);
    sql.push(" AND (");
    for (index, term) in terms.iter().enumerate() {
        if index > 0 {
            sql.push(" OR ");
        }
        sql.push("search_text LIKE ")
            .bind(Arg::Text(text_search::like_pattern(term)))
            .push(" ESCAPE '\\'");
    }
    sql.push(") ORDER BY id DESC LIMIT ").bind(Arg::Int(max));
    let rows: Vec<ArticleRow> = sql.build_as().fetch_all(db.reader()).await?;
    rows.into_iter().map(ArticleRow::into_domain).collect()
}
