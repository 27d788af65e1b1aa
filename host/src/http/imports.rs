//! CSV import: `POST /api/v1/imports/{customers|vehicles|service-records}`.

use std::io;

use axum::extract::{FromRequest, Multipart, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::{Json, RequestExt};
use futures_util::TryStreamExt;

use super::AppState;
use super::auth::TenantAdmin;
use super::error::ApiError;
use super::extract::ApiPath;
use super::openapi as doc;
use crate::service::imports::{self, ImportKind, ImportReport};

/// The largest upload: about ten million rows. The body streams, so this bounds the time
/// an import holds a connection, not memory.
pub const IMPORT_BODY_LIMIT: usize = 1 << 30;

/// Content types a browser or script may give a CSV file (Windows browsers say
/// `application/vnd.ms-excel` for `.csv`).
const CSV_TYPES: &[&str] = &[
    "text/csv",
    "application/csv",
    "text/plain",
    "application/vnd.ms-excel",
];

/// A CSV file sent as a form.
// Only documents the form: the handler streams the part instead of building this type.
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the form; the body is streamed, never built"
)]
pub struct CsvForm {
    /// The CSV file. Other parts are skipped.
    #[schema(content_media_type = "text/csv")]
    file: String,
}

/// Imports customers, vehicles or service records from CSV.
///
/// The file as a `text/csv` body, or as the `file` part of `multipart/form-data`. Rows that
/// fail are listed in the reply; the others are imported.
#[utoipa::path(
    post,
    path = "/imports/{kind}",
    operation_id = "imports_import",
    tag = "imports",
    params(("kind" = ImportKind, Path, description = "What the file holds")),
    request_body(
        description = "The CSV file (UTF-8, a header row naming the columns)",
        content((String = "text/csv"), (inline(CsvForm) = "multipart/form-data")),
    ),
    responses(
        (status = 200, description = "OK", body = ImportReport),
        (status = 403, response = doc::Forbidden),
    ),
)]
pub async fn import(
    // Imported rows match tenant-wide records by external id and overwrite them.
    caller: TenantAdmin,
    State(state): State<AppState>,
    ApiPath(kind): ApiPath<String>,
    request: Request,
) -> Result<Json<ImportReport>, ApiError> {
    let kind = ImportKind::parse(&kind).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "`{kind}` cannot be imported; use /imports/customers, /imports/vehicles or \
             /imports/service-records"
        ))
    })?;
    let content_type = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let db = &state.core.db;
    let tenant_id = caller.tenant_id.as_str();
    let country = crate::service::settings::phone_country(&state.core, tenant_id).await?;
    let report = if media_type == "multipart/form-data" {
        let mut multipart = Multipart::from_request(request, &state).await?;
        loop {
            let Some(field) = multipart.next_field().await? else {
                return Err(ApiError::BadRequest(
                    "the form has no `file` part; send the CSV file as the part named `file`"
                        .to_owned(),
                ));
            };
            // Other form fields (a browser may send some) are skipped.
            if field.name() == Some("file") {
                let body = field.map_err(io::Error::other);
                break imports::import(db, tenant_id, kind, country, body).await?;
            }
        }
    } else if CSV_TYPES.contains(&media_type) {
        let body = request
            .with_limited_body()
            .into_body()
            .into_data_stream()
            .map_err(io::Error::other);
        imports::import(db, tenant_id, kind, country, body).await?
    } else {
        return Err(ApiError::BadRequest(format!(
            "send the file as `content-type: text/csv` (UTF-8) or as the `file` part of \
             multipart/form-data, not `{}`",
            if media_type.is_empty() {
                "no content type"
            } else {
                media_type
            }
        )));
    };
    Ok(Json(report))
}
