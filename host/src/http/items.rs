//! `{"items": [...]}`: the reply of a list that comes whole, never paged.

use serde::Serialize;

/// Every item of a short list, in one reply.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Items<T> {
    pub items: Vec<T>,
}

impl<T> From<Vec<T>> for Items<T> {
    fn from(items: Vec<T>) -> Self {
        Items { items }
    }
}
