//! [`ApiError`]: every way a request to the query server can fail, as a JSON body with a stable code.
//!
//! The body is always `{"error": {"code": "...", "message": "..."}}`. Codes are part of the API and never
//! change meaning: `bad_request`, `bad_query`, `unauthorized`, `forbidden`, `not_found`,
//! `method_not_allowed`, `conflict`, `payload_too_large`, `uri_too_long`, `headers_too_large`,
//! `too_many_requests`, `timeout`, `internal`.
//! Client errors (4xx) say what was wrong; server errors (5xx) say only that something failed, and the
//! details go to tracing, so no path, index name or library message ever reaches a caller.
//!
//! [`BackendError`] is what the backends behind the handlers (the indexes, the sync runner) fail with,
//! typed so that a log keeps the cause and a handler can tell a source it does not know (404) from a
//! failure (500).
//!
//! [`json_error_bodies`] gives the same shape to errors produced outside our handlers (the body-limit,
//! timeout and method-not-allowed answers of tower-http and axum).
//!
//! This file does not decide who may do what (`auth.rs` does); it only says how a refusal looks.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

/// A request that failed, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// A parameter or body the API does not accept.
    #[error("{0}")]
    BadRequest(String),
    /// The search query does not parse.
    #[error("{0}")]
    BadQuery(String),
    /// No credential, or one that does not check out, or a user permdex does not know.
    #[error("{0}")]
    Unauthorized(String),
    /// A valid caller asking for something it may not do.
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    /// The request conflicts with work in progress (a sync already running).
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UriTooLong(String),
    #[error("{0}")]
    HeadersTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    /// The request did not finish within the server's time limit.
    #[error("{0}")]
    Timeout(String),
    /// Something failed on our side. The message goes to tracing only; the caller sees a generic one.
    #[error("{0}")]
    Internal(String),
}

/// Why a backend behind the API failed.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    #[error("no source named {0:?}")]
    UnknownSource(String),
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
    /// A source written to the configuration file could not be served without a restart, and why.
    #[error("{0}")]
    NotAdded(String),
}

impl BackendError {
    /// The API's answer for this failure while doing `what` (`purge of source acme`): 404 for an unknown
    /// source, else a 500 whose detail goes only to the log.
    pub fn into_api(self, what: &str) -> ApiError {
        match self {
            BackendError::UnknownSource(_) => ApiError::NotFound(self.to_string()),
            BackendError::Sync(crate::sync::Error::Busy { .. }) => ApiError::Conflict(self.to_string()),
            // Our error messages carry their causes' text already.
            other => ApiError::Internal(format!("{what}: {other}")),
        }
    }
}

/// The JSON body of every error answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// What a caller is told when something failed on our side.
const INTERNAL_MESSAGE: &str = "internal server error";

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::BadQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UriTooLong(_) => StatusCode::URI_TOO_LONG,
            ApiError::HeadersTooLarge(_) => StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ApiError::TooManyRequests(_) => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The stable code in the body.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad_request",
            ApiError::BadQuery(_) => "bad_query",
            ApiError::Unauthorized(_) => "unauthorized",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::MethodNotAllowed(_) => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::PayloadTooLarge(_) => "payload_too_large",
            ApiError::UriTooLong(_) => "uri_too_long",
            ApiError::HeadersTooLarge(_) => "headers_too_large",
            ApiError::TooManyRequests(_) => "too_many_requests",
            ApiError::Timeout(_) => "timeout",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The body a caller sees: the message for client errors, a generic one for server errors.
    pub fn body(&self) -> ErrorBody {
        let message = match self {
            ApiError::Internal(_) => INTERNAL_MESSAGE.to_owned(),
            other => other.to_string(),
        };
        ErrorBody { error: ErrorDetail { code: self.code().to_owned(), message } }
    }

    /// The error a bare status from a layer stands for, with a message of our own (the layers' plain-text
    /// bodies are dropped).
    fn for_status(status: StatusCode) -> ApiError {
        match status {
            StatusCode::BAD_REQUEST => ApiError::BadRequest("the request is malformed".into()),
            StatusCode::UNAUTHORIZED => ApiError::Unauthorized("authentication required".into()),
            StatusCode::FORBIDDEN => ApiError::Forbidden("not allowed".into()),
            StatusCode::NOT_FOUND => ApiError::NotFound("no such resource".into()),
            StatusCode::METHOD_NOT_ALLOWED => {
                ApiError::MethodNotAllowed("this method is not allowed on this path".into())
            }
            StatusCode::CONFLICT => ApiError::Conflict("the request conflicts with work in progress".into()),
            StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge("the request body is too large".into())
            }
            StatusCode::URI_TOO_LONG => ApiError::UriTooLong("the request target is too long".into()),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE => {
                ApiError::HeadersTooLarge("the request headers are too large".into())
            }
            StatusCode::TOO_MANY_REQUESTS => ApiError::TooManyRequests("too many requests".into()),
            StatusCode::REQUEST_TIMEOUT | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => {
                ApiError::Timeout("the request took too long".into())
            }
            s if s.is_client_error() => ApiError::BadRequest(format!(
                "the request was refused ({})",
                s.canonical_reason().unwrap_or("client error").to_ascii_lowercase()
            )),
            _ => ApiError::Internal(format!("a layer answered {status}")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let ApiError::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, ApiError::Unauthorized(_)) {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}

/// Gives every error answer our JSON shape: a 4xx/5xx that is not JSON already (produced by a layer or by
/// axum's own rejections) is replaced by the [`ApiError`] its status stands for. HTML pages written for
/// a browser (a sign-in that did not work) are kept.
pub async fn json_error_bodies(response: Response) -> Response {
    let status = response.status();
    let is_error = status.is_client_error() || status.is_server_error();
    let content_type = response.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let is_json = content_type.is_some_and(|v| v.starts_with("application/json"));
    let is_page = content_type.is_some_and(|v| v.starts_with("text/html"));
    if !is_error || is_json || is_page {
        return response;
    }
    let mut replaced = ApiError::for_status(status).into_response();
    // Keep the status the layer chose (a 408 stays a 408) even where our code maps to another.
    *replaced.status_mut() = status;
    replaced
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let cases = [
            (ApiError::BadRequest("x".into()), 400, "bad_request"),
            (ApiError::BadQuery("x".into()), 400, "bad_query"),
            (ApiError::Unauthorized("x".into()), 401, "unauthorized"),
            (ApiError::Forbidden("x".into()), 403, "forbidden"),
            (ApiError::NotFound("x".into()), 404, "not_found"),
            (ApiError::Conflict("x".into()), 409, "conflict"),
            (ApiError::PayloadTooLarge("x".into()), 413, "payload_too_large"),
            (ApiError::UriTooLong("x".into()), 414, "uri_too_long"),
            (ApiError::HeadersTooLarge("x".into()), 431, "headers_too_large"),
            (ApiError::TooManyRequests("x".into()), 429, "too_many_requests"),
            (ApiError::Timeout("x".into()), 503, "timeout"),
            (ApiError::Internal("x".into()), 500, "internal"),
        ];
        for (error, status, code) in cases {
            assert_eq!((error.status().as_u16(), error.code()), (status, code), "{error:?}");
        }
    }

    #[test]
    fn backend_errors_tell_a_missing_source_from_a_failure() {
        let missing = BackendError::UnknownSource("nope".into()).into_api("reload");
        assert_eq!(
            (missing.status(), missing.to_string()),
            (StatusCode::NOT_FOUND, "no source named \"nope\"".into())
        );
        let io = std::io::Error::other("disk on fire");
        let failed =
            BackendError::Sync(crate::sync::Error::Io { path: "/data/runs/a.jsonl".into(), source: io })
                .into_api("run records of source a");
        assert_eq!(failed.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let detail = failed.to_string();
        assert!(
            detail.starts_with("run records of source a: ") && detail.contains("disk on fire"),
            "{detail}"
        );
    }

    #[test]
    fn internal_details_stay_out_of_the_body() {
        let body = ApiError::Internal("index at /var/lib/permdex/secret-place: corrupt".into()).body();
        assert_eq!(body.error.code, "internal");
        assert!(!body.error.message.contains("/var/lib"), "{body:?}");
        let body = ApiError::BadQuery("unbalanced parenthesis at 4".into()).body();
        assert_eq!(body.error.message, "unbalanced parenthesis at 4");
    }

    #[tokio::test]
    async fn layer_answers_become_json() {
        let plain = (StatusCode::PAYLOAD_TOO_LARGE, "length limit exceeded").into_response();
        let response = json_error_bodies(plain).await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let body: ErrorBody = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(body.error.code, "payload_too_large");

        let ok = (StatusCode::OK, "fine").into_response();
        let response = json_error_bodies(ok).await;
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        assert_eq!(&bytes[..], b"fine");
    }
}
