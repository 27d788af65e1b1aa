//! Request extractors whose rejections are `ApiError`s, so malformed JSON, query strings
//! and paths get the same error body as everything else.

use axum::extract::{FromRequest, FromRequestParts};

use super::error::ApiError;

/// A JSON body.
#[derive(FromRequest)]
#[from_request(via(axum::Json), rejection(ApiError))]
pub struct ApiJson<T>(pub T);

/// A query string.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

/// Path parameters.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The page size when none is asked for, and the largest allowed.
const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

/// Turns `?limit=&cursor=` into a page request.
pub fn page(
    limit: Option<i64>,
    cursor: Option<String>,
) -> Result<crate::domain::page::Page, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(ApiError::BadRequest(format!(
            "limit must be between 1 and {MAX_LIMIT}, not {limit}"
        )));
    }
    Ok(crate::domain::page::Page {
        limit,
        cursor: cursor.filter(|c| !c.is_empty()),
    })
}
