//! Keyset pagination: a page request and one page of results.

use serde::Serialize;

/// A page request: newest first, after `cursor` (the last id of the previous page).
#[derive(Clone, Debug)]
pub struct Page {
    pub limit: i64,
    pub cursor: Option<String>,
}

/// One page of results.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct Paged<T> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

impl<T> Paged<T> {
    /// Builds a page from up to `limit + 1` rows fetched newest first.
    pub fn from_rows(mut rows: Vec<T>, limit: i64, id: impl Fn(&T) -> &str) -> Paged<T> {
        let limit = usize::try_from(limit).unwrap_or(0);
        let next_cursor = if rows.len() > limit {
            rows.truncate(limit);
            rows.last().map(|row| id(row).to_owned())
        } else {
            None
        };
        Paged {
            items: rows,
            next_cursor,
        }
    }

    /// Converts every item.
    pub fn try_map<U, E>(self, f: impl FnMut(T) -> Result<U, E>) -> Result<Paged<U>, E> {
        Ok(Paged {
            items: self.items.into_iter().map(f).collect::<Result<_, _>>()?,
            next_cursor: self.next_cursor,
        })
    }
}
