//! The knowledge base: articles for agents under `/api/v1/kb/articles`, and the public
//! page of a published article at `/kb/{id}` (no API key; the opaque id is the link).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Html;
use serde::Deserialize;

use super::AppState;
use super::auth::{Caller, TenantAdmin};
use super::error::ApiError;
use super::extract::{ApiJson, ApiPath, ApiQuery, page};
use super::openapi as doc;
use crate::domain::knowledge_base::{ArticleFilter, ArticleStatus, ArticleView, Hit};
use crate::domain::page::Paged;
use crate::service::knowledge_base::{self as kb, ArticleInput};

/// Writes a knowledge-base article.
///
/// Tenant-wide admin keys only.
#[utoipa::path(
    post,
    path = "/kb/articles",
    operation_id = "knowledge_base_create",
    tag = "knowledge-base",
    request_body = ArticleInput,
    responses(
        (status = 201, description = "Created", body = ArticleView),
        (status = 403, response = doc::Forbidden),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn create(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiJson(body): ApiJson<ArticleInput>,
) -> Result<(StatusCode, Json<ArticleView>), ApiError> {
    let article = kb::create(&state.core.db, &caller.tenant_id, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(kb::view(&state.core.public_url, article)),
    ))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items per page, 1 to 200; 50 when omitted.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<i64>,
    /// The `next_cursor` of the previous page; the first page when omitted.
    cursor: Option<String>,
    /// Text search; results come best first, in one page.
    q: Option<String>,
    category: Option<String>,
    status: Option<ArticleStatus>,
}

/// A page of articles, or of search hits.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Listed {
    Articles(Paged<ArticleView>),
    Hits(Paged<Hit>),
}

/// Lists articles newest first, or searches them.
///
/// With `q`, the best matches first, in one page, each with its score and an excerpt.
#[utoipa::path(
    get,
    path = "/kb/articles",
    operation_id = "knowledge_base_list",
    tag = "knowledge-base",
    params(ListQuery),
    responses(
        (status = 200, description = "OK", body = Listed),
    ),
)]
pub async fn list(
    caller: Caller,
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<Listed>, ApiError> {
    let page = page(query.limit, query.cursor)?;
    let filter = ArticleFilter {
        category: query.category.filter(|c| !c.trim().is_empty()),
        status: query.status,
    };
    let public_url = &state.core.public_url;
    if let Some(q) = query.q {
        if page.cursor.is_some() {
            return Err(ApiError::BadRequest(
                "search results come in one page, best first; drop `cursor` or raise `limit`"
                    .to_owned(),
            ));
        }
        let limit = usize::try_from(page.limit).unwrap_or(0);
        let hits = kb::search(
            &state.core.db,
            public_url,
            &caller.tenant_id,
            &q,
            &filter,
            limit,
            kb::Reader::Agent,
        )
        .await?;
        return Ok(Json(Listed::Hits(Paged {
            items: hits,
            next_cursor: None,
        })));
    }
    Ok(Json(Listed::Articles(
        kb::list(&state.core, &caller.tenant_id, &filter, &page).await?,
    )))
}

/// One article.
#[utoipa::path(
    get,
    path = "/kb/articles/{id}",
    operation_id = "knowledge_base_get",
    tag = "knowledge-base",
    params(("id" = String, Path, description = "The article's id")),
    responses(
        (status = 200, description = "OK", body = ArticleView),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn get(
    caller: Caller,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ArticleView>, ApiError> {
    Ok(Json(kb::get(&state.core, &caller.tenant_id, &id).await?))
}

/// Changes the fields of an article that the body names.
#[utoipa::path(
    patch,
    path = "/kb/articles/{id}",
    operation_id = "knowledge_base_update",
    tag = "knowledge-base",
    params(("id" = String, Path, description = "The article's id")),
    request_body = ArticleInput,
    responses(
        (status = 200, description = "OK", body = ArticleView),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
        (status = 422, response = doc::Unprocessable),
    ),
)]
pub async fn update(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<ArticleInput>,
) -> Result<Json<ArticleView>, ApiError> {
    let article = kb::update(&state.core.db, &caller.tenant_id, &id, body).await?;
    Ok(Json(kb::view(&state.core.public_url, article)))
}

/// Deletes an article.
#[utoipa::path(
    delete,
    path = "/kb/articles/{id}",
    operation_id = "knowledge_base_delete",
    tag = "knowledge-base",
    params(("id" = String, Path, description = "The article's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, response = doc::Forbidden),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn delete(
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    kb::delete(&state.core, &caller.tenant_id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A published article as an HTML page.
///
/// No API key: the opaque id is the link. Drafts and unknown ids are 404.
#[utoipa::path(
    get,
    path = "/kb/{id}",
    operation_id = "knowledge_base_page_html",
    tag = "knowledge-base",
    params(("id" = String, Path, description = "The published article's id")),
    responses(
        (status = 200, description = "OK", body = String, content_type = "text/html"),
        (status = 404, response = doc::NotFound),
    ),
)]
pub async fn page_html(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Html<String>, ApiError> {
    let article = kb::published(&state.core, &id).await?;
    let paragraphs: String = article
        .body
        .split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>\n", escape(p).replace('\n', "<br>\n")))
        .collect();
    let tags: String = article
        .tags
        .iter()
        .map(|tag| format!("<li>{}</li>", escape(tag)))
        .collect();
    Ok(Html(format!(
        "<!doctype html>\n<html lang=\"zh-CN\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n</head>\n<body>\n<article>\n<h1>{title}</h1>\n\
         <p class=\"category\">{category}</p>\n{paragraphs}<ul class=\"tags\">{tags}</ul>\n\
         <p class=\"updated\">Updated {updated}</p>\n</article>\n</body>\n</html>\n",
        title = escape(&article.title),
        category = escape(&article.category),
        updated = escape(&article.updated_at),
    )))
}

/// `text` safe inside HTML elements and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            escape("<script>alert('x') & \"y\"</script>"),
            "&lt;script&gt;alert(&#39;x&#39;) &amp; &quot;y&quot;&lt;/script&gt;"
        );
    }
}
