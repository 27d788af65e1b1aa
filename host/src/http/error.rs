//! `ApiError`: the one place that maps errors to HTTP status codes. The body is always
//! `{"error": {"code", "message", "details"?}}`; 5xx details are logged, never returned.

use axum::Json;
use axum::extract::multipart::MultipartError;
use axum::extract::multipart::MultipartRejection;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::service::{FieldError, ServiceError};

/// Errors at the HTTP boundary.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("this route does not accept that method; /api/docs lists every route and its methods")]
    MethodNotAllowed,
    #[error("{message}")]
    TooManyRequests {
        message: String,
        /// When the next request can succeed; sent as `Retry-After`.
        retry_after: std::time::Duration,
    },
    #[error(transparent)]
    Service(#[from] ServiceError),
}

impl From<JsonRejection> for ApiError {
    fn from(rejection: JsonRejection) -> Self {
        ApiError::BadRequest(format!("request body: {}", rejection.body_text()))
    }
}

impl From<QueryRejection> for ApiError {
    fn from(rejection: QueryRejection) -> Self {
        ApiError::BadRequest(format!("query string: {}", rejection.body_text()))
    }
}

impl From<PathRejection> for ApiError {
    fn from(rejection: PathRejection) -> Self {
        ApiError::BadRequest(format!("path: {}", rejection.body_text()))
    }
}

impl From<MultipartError> for ApiError {
    fn from(err: MultipartError) -> Self {
        ApiError::BadRequest(format!("multipart body: {}", err.body_text()))
    }
}

impl From<MultipartRejection> for ApiError {
    fn from(rejection: MultipartRejection) -> Self {
        ApiError::BadRequest(format!("multipart body: {}", rejection.body_text()))
    }
}

impl ApiError {
    /// The status code and the stable error code.
    pub fn status_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApiError::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Service(err) => match err {
                ServiceError::Invalid(_) => (StatusCode::BAD_REQUEST, "bad_request"),
                ServiceError::Component(_) => (StatusCode::BAD_REQUEST, "invalid_component"),
                ServiceError::Unprocessable { .. } => {
                    (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
                }
                ServiceError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
                ServiceError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
                ServiceError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
                ServiceError::Gone(_) => (StatusCode::GONE, "gone"),
                ServiceError::IllegalTransition { .. } => {
                    (StatusCode::CONFLICT, "illegal_transition")
                }
                err if err.is_unavailable() => {
                    (StatusCode::SERVICE_UNAVAILABLE, "database_unavailable")
                }
                ServiceError::Store(_) | ServiceError::Internal(_) => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "internal")
                }
            },
        }
    }

    fn details(&self) -> Option<&[FieldError]> {
        match self {
            ApiError::Service(ServiceError::Unprocessable { errors, .. }) => Some(errors),
            _ => None,
        }
    }
}

/// The body of every error reply.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// What went wrong.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable, for programs: `bad_request`, `unauthorized`, `forbidden`, `not_found`,
    /// `method_not_allowed`, `invalid_component`, `validation_failed`, `conflict`, `gone`,
    /// `illegal_transition`, `rate_limited`, `database_unavailable` or `internal`.
    pub code: &'static str,
    /// For people: what was wrong and how to fix it.
    pub message: String,
    /// Every field that failed, on a 422 `validation_failed`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub details: Option<Vec<FieldError>>,
    /// The statuses the ticket may move to, on a 409 `illegal_transition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub allowed: Option<&'static [crate::domain::records::TicketStatus]>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_code();
        let message = if status == StatusCode::SERVICE_UNAVAILABLE {
            tracing::error!(error = %self, "database unavailable");
            "the database is unavailable right now; try again shortly".to_owned()
        } else if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "internal error; the server log has the details".to_owned()
        } else {
            self.to_string()
        };
        let allowed = match &self {
            ApiError::Service(ServiceError::IllegalTransition { from, .. }) => {
                crate::domain::records::TicketStatus::parse(from).map(|status| status.next())
            }
            _ => None,
        };
        let error = ErrorDetail {
            code,
            message,
            details: self.details().map(<[FieldError]>::to_vec),
            allowed,
        };
        let mut response = (status, Json(ErrorBody { error })).into_response();
        if let ApiError::TooManyRequests { retry_after, .. } = &self {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}
