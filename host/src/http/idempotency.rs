//! `Idempotency-Key` on POST: the middleware that replays a kept reply or runs the request
//! once and keeps its reply (the rules are `service::idempotency`'s).

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, OriginalUri, Request, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::service::idempotency::{self, Claim, KeptReply};

/// The request header that names a request for retries.
pub const IDEMPOTENCY_KEY: HeaderName = HeaderName::from_static("idempotency-key");
/// Set on a reply that was kept from the first request with the key.
pub const IDEMPOTENT_REPLAYED: HeaderName = HeaderName::from_static("idempotent-replayed");
/// Bodies are read whole to compare retries; axum's JSON limit is the same.
const BODY_LIMIT: usize = 2 << 20;

/// Runs a POST that carries `Idempotency-Key` at most once per key; every other request
/// passes through untouched.
pub async fn at_most_once(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match run(&state, request, next).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn run(state: &AppState, request: Request, next: Next) -> Result<Response, ApiError> {
    let Some(key) = request.headers().get(&IDEMPOTENCY_KEY) else {
        return Ok(next.run(request).await);
    };
    // A customer answering a survey sends no API key, so there is no key space to keep
    // a reply in; the survey's own token makes the second answer a 409 anyway.
    if request.method() != Method::POST || !request.headers().contains_key(AUTHORIZATION) {
        return Ok(next.run(request).await);
    }
    let key = key
        .to_str()
        .map_err(|_| {
            ApiError::BadRequest(
                "Idempotency-Key must be visible ASCII characters (a UUID is a good key)"
                    .to_owned(),
            )
        })?
        .to_owned();
    let streamed = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|kind| kind.starts_with("multipart/") || kind.starts_with("text/csv"));
    if streamed {
        return Err(ApiError::BadRequest(
            "Idempotency-Key is for JSON requests; a plugin upload is refused when its version \
             exists, and an import matches rows by external_id, so both are safe to retry as they are"
                .to_owned(),
        ));
    }
    let (mut parts, body) = request.into_parts();
    let caller = Caller::from_request_parts(&mut parts, state).await?;
    let body = axum::body::to_bytes(body, BODY_LIMIT).await.map_err(|_| {
        ApiError::BadRequest(format!(
            "request body: larger than {} MiB",
            BODY_LIMIT >> 20
        ))
    })?;
    // The whole path: inside `/api/v1` axum hands the middleware the path without it.
    let uri = parts
        .extensions
        .get::<OriginalUri>()
        .map_or(&parts.uri, |original| &original.0);
    let path = uri
        .path_and_query()
        .map_or(uri.path(), |path| path.as_str());
    let fingerprint = idempotency::fingerprint(parts.method.as_str(), path, &body);
    let claim = idempotency::claim(
        &state.core,
        &caller.tenant_id,
        &caller.key_id,
        &key,
        &fingerprint,
    )
    .await?;
    let reservation = match claim {
        Claim::Replay(reply) => return Ok(replayed(reply)),
        Claim::First(reservation) => reservation,
    };
    // The handler's own role extractor finds the caller here instead of looking it up again.
    parts.extensions.insert(caller);
    let response = next.run(Request::from_parts(parts, Body::from(body))).await;
    if !response.status().is_success() {
        reservation.let_go(&state.core).await;
        return Ok(response);
    }
    let (parts, body) = response.into_parts();
    // Replies to creates are small JSON documents the handler built in memory.
    let body = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(body) => body,
        Err(err) => {
            reservation.let_go(&state.core).await;
            tracing::error!(error = %err, "cannot read a reply to keep it for retries");
            return Ok(StatusCode::INTERNAL_SERVER_ERROR.into_response());
        }
    };
    match std::str::from_utf8(&body) {
        Ok(text) => {
            let reply = KeptReply {
                status: parts.status.as_u16(),
                content_type: parts
                    .headers
                    .get(CONTENT_TYPE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
                body: text.to_owned(),
            };
            reservation.keep(&state.core, &reply).await;
        }
        // Not text, so not a reply that can be kept: a retry runs again.
        Err(_) => reservation.let_go(&state.core).await,
    }
    Ok(Response::from_parts(parts, Body::from(body)))
}

fn replayed(reply: KeptReply) -> Response {
    let status = StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK);
    let mut response = (status, Bytes::from(reply.body)).into_response();
    let headers = response.headers_mut();
    if let Some(kind) = reply
        .content_type
        .and_then(|kind| HeaderValue::from_str(&kind).ok())
    {
        headers.insert(CONTENT_TYPE, kind);
    }
    headers.insert(IDEMPOTENT_REPLAYED, HeaderValue::from_static("true"));
    response
}
