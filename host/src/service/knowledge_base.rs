//! The knowledge base: validated FAQ articles, text search over them, and the public link
//! each article has. HTTP and the plugins' `records.search-articles` both search here.

use serde::Deserialize;

use super::{Core, FieldError, ServiceError};
use crate::db::Db;
use crate::domain::knowledge_base::{Article, ArticleFilter, ArticleStatus, ArticleView, Hit};
use crate::domain::page::{Page, Paged};
use crate::domain::text_search::{self, Document};
use crate::store::knowledge_base::{self as store, ArticleContent};

/// Longest title, in characters.
pub const MAX_TITLE_CHARS: usize = 200;
/// Longest body, in characters.
pub const MAX_BODY_CHARS: usize = 20_000;
/// Longest category or tag, in characters.
const MAX_LABEL_CHARS: usize = 50;
/// Most tags an article can have.
const MAX_TAGS: usize = 20;
/// The category of an article created without one.
const DEFAULT_CATEGORY: &str = "general";
/// The newest this many matching articles are ranked; older ones are not found.
const MAX_CANDIDATES: i64 = 500;
/// How long an excerpt is, in characters.
const EXCERPT_CHARS: usize = 160;

/// An article as created (`POST`) or changed (`PATCH`): every field optional, so missing
/// ones are reported with the others.
#[derive(Clone, Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArticleInput {
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub body: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub tags: Option<Vec<String>>,
    /// `draft` or `published`; checked with the other fields.
    #[serde(default)]
    pub status: Option<String>,
}

/// Who reads the results: an agent sees every article that matches at all; a customer
/// answered without an agent (a plugin's auto-reply) only articles that match with some
/// confidence (see `text_search::confident`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reader {
    Agent,
    Customer,
}

/// The customer-facing page of article `id`.
pub fn url(public_url: &str, id: &str) -> String {
    format!("{public_url}/kb/{id}")
}

/// `article` with its link.
pub fn view(public_url: &str, article: Article) -> ArticleView {
    ArticleView {
        url: url(public_url, &article.id),
        article,
    }
}

fn invalid(errors: Vec<FieldError>) -> ServiceError {
    ServiceError::Unprocessable {
        message: "the article is not valid".to_owned(),
        errors,
    }
}

/// Checks `input` applied over `current` (none when creating) and returns the content to
/// store, or every field error at once.
fn checked(input: ArticleInput, current: Option<&Article>) -> Result<ArticleContent, ServiceError> {
    let mut errors = Vec::new();
    let mut error = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.to_owned(),
            message,
        })
    };
    let title = match input.title {
        Some(title) => title.trim().to_owned(),
        None => current.map(|a| a.title.clone()).unwrap_or_default(),
    };
    if title.is_empty() {
        error("title", "an article needs a title".to_owned());
    } else if title.chars().count() > MAX_TITLE_CHARS {
        error(
            "title",
            format!(
                "must be at most {MAX_TITLE_CHARS} characters, not {}",
                title.chars().count()
            ),
        );
    }
    let body = match input.body {
        Some(body) => body.trim().to_owned(),
        None => current.map(|a| a.body.clone()).unwrap_or_default(),
    };
    if body.is_empty() {
        error(
            "body",
            "an article needs a body (plain text or markdown)".to_owned(),
        );
    } else if body.chars().count() > MAX_BODY_CHARS {
        error(
            "body",
            format!("must be at most {MAX_BODY_CHARS} characters"),
        );
    }
    let category = match input.category {
        Some(category) => category.trim().to_owned(),
        None => current
            .map(|a| a.category.clone())
            .unwrap_or_else(|| DEFAULT_CATEGORY.to_owned()),
    };
    if category.is_empty() {
        error(
            "category",
            format!("must not be empty; leave it out for `{DEFAULT_CATEGORY}`"),
        );
    } else if category.chars().count() > MAX_LABEL_CHARS {
        error(
            "category",
            format!("must be at most {MAX_LABEL_CHARS} characters"),
        );
    }
    let tags = match input.tags {
        Some(tags) => {
            let mut clean: Vec<String> = Vec::new();
            for tag in tags.iter().map(|tag| tag.trim()) {
                if tag.is_empty() {
                    error("tags", "tags must not be blank".to_owned());
                } else if tag.chars().count() > MAX_LABEL_CHARS {
                    error(
                        "tags",
                        format!("tag `{tag}` is longer than {MAX_LABEL_CHARS} characters"),
                    );
                } else if !clean.iter().any(|seen| seen == tag) {
                    clean.push(tag.to_owned());
                }
            }
            if clean.len() > MAX_TAGS {
                error(
                    "tags",
                    format!("at most {MAX_TAGS} tags, not {}", clean.len()),
                );
            }
            clean
        }
        None => current.map(|a| a.tags.clone()).unwrap_or_default(),
    };
    let status = match input.status.as_deref().map(str::trim) {
        Some("draft") => ArticleStatus::Draft,
        Some("published") => ArticleStatus::Published,
        Some(other) => {
            error(
                "status",
                format!("must be `draft` or `published`, not `{other}`"),
            );
            ArticleStatus::Draft
        }
        None => current.map_or(ArticleStatus::Draft, |a| a.status),
    };
    if !errors.is_empty() {
        return Err(invalid(errors));
    }
    Ok(ArticleContent {
        title,
        body,
        category,
        tags,
        status,
    })
}

/// Creates an article; a draft unless `status` says otherwise.
pub async fn create(
    db: &Db,
    tenant_id: &str,
    input: ArticleInput,
) -> Result<Article, ServiceError> {
    let content = checked(input, None)?;
    Ok(store::insert(db, tenant_id, content).await?)
}

/// Changes the fields `input` names.
pub async fn update(
    db: &Db,
    tenant_id: &str,
    id: &str,
    input: ArticleInput,
) -> Result<Article, ServiceError> {
    let current = store::get(db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("article"))?;
    let content = checked(input, Some(&current))?;
    store::update(db, tenant_id, id, content)
        .await?
        .ok_or(ServiceError::NotFound("article"))
}

/// The tenant's articles matching `query` under `filter`, best first, at most `limit`.
/// A query without a usable term (only punctuation, stopwords or one-letter words) is
/// `Invalid`.
pub async fn search(
    db: &Db,
    public_url: &str,
    tenant_id: &str,
    query: &str,
    filter: &ArticleFilter,
    limit: usize,
    reader: Reader,
) -> Result<Vec<Hit>, ServiceError> {
    let terms = text_search::terms(query);
    if terms.is_empty() {
        return Err(ServiceError::Invalid(format!(
            "the search query `{}` has no words to search for; use at least one word of two or \
             more letters or one Chinese character",
            query.trim()
        )));
    }
    let candidates = store::candidates(db, tenant_id, filter, &terms, MAX_CANDIDATES).await?;
    let mut hits: Vec<Hit> = candidates
        .into_iter()
        .filter_map(|article| {
            let found = text_search::rank(
                Document {
                    title: &article.title,
                    tags: &article.tags,
                    body: &article.body,
                },
                &terms,
                EXCERPT_CHARS,
            );
            let strong_enough = match reader {
                Reader::Agent => found.score > 0,
                Reader::Customer => {
                    found.score > 0 && text_search::confident(found.matched_terms, terms.len())
                }
            };
            strong_enough.then(|| Hit {
                article: view(public_url, article),
                score: found.score,
                matched_terms: found.matched_terms,
                excerpt: found.excerpt,
            })
        })
        .collect();
    // Candidates come newest first and the sort is stable, so equal scores keep that order.
    hits.sort_by_key(|hit| std::cmp::Reverse(hit.score));
    hits.truncate(limit);
    Ok(hits)
}

/// The tenant's articles in `filter`, newest first, each with its public link.
pub async fn list(
    core: &Core,
    tenant_id: &str,
    filter: &ArticleFilter,
    page: &Page,
) -> Result<Paged<ArticleView>, ServiceError> {
    let articles = store::list(&core.db, tenant_id, filter, page).await?;
    Ok(Paged {
        items: articles
            .items
            .into_iter()
            .map(|article| view(&core.public_url, article))
            .collect(),
        next_cursor: articles.next_cursor,
    })
}

/// One article of the tenant, with its public link.
pub async fn get(core: &Core, tenant_id: &str, id: &str) -> Result<ArticleView, ServiceError> {
    let article = store::get(&core.db, tenant_id, id)
        .await?
        .ok_or(ServiceError::NotFound("article"))?;
    Ok(view(&core.public_url, article))
}

/// Deletes an article of the tenant.
pub async fn delete(core: &Core, tenant_id: &str, id: &str) -> Result<(), ServiceError> {
    if store::delete(&core.db, tenant_id, id).await? {
        Ok(())
    } else {
        Err(ServiceError::NotFound("article"))
    }
}

/// A published article by its id alone: the opaque id is the public link, so no tenant
/// is named. Drafts are not found.
pub async fn published(core: &Core, id: &str) -> Result<Article, ServiceError> {
    store::get_published(&core.db, id)
        .await?
        .ok_or(ServiceError::NotFound("article"))
}
