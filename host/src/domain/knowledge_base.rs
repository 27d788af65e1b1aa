//! Knowledge-base articles: what an agent or a plugin finds for a complaint.

use serde::Serialize;

crate::domain::text_enum! {
    /// Whether customers and plugins can see an article.
    #[derive(utoipa::ToSchema)]
    pub enum ArticleStatus spelled "snake_case" {
        Draft,
        Published,
    }
}

/// A knowledge-base article.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Article {
    pub id: String,
    pub title: String,
    /// Plain text or markdown.
    pub body: String,
    pub category: String,
    pub tags: Vec<String>,
    pub status: ArticleStatus,
    pub created_at: String,
    pub updated_at: String,
}

/// An article with its customer-facing link.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct ArticleView {
    #[serde(flatten)]
    pub article: Article,
    pub url: String,
}

/// A search result: the article, how well it matched, and a piece of its body.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Hit {
    #[serde(flatten)]
    pub article: ArticleView,
    pub score: u32,
    /// How many of the query's terms the article contains.
    #[serde(skip)]
    pub matched_terms: usize,
    pub excerpt: String,
}

/// Which articles a list or search covers.
#[derive(Clone, Debug, Default)]
pub struct ArticleFilter {
    pub category: Option<String>,
    pub status: Option<ArticleStatus>,
}
