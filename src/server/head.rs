//! Request heads held to the API's limits, and the headers every response carries.
//!
//! [`check_head`] answers a URI longer than [`MAX_URI_BYTES`] with 414 `uri_too_long` and more than
//! [`MAX_HEADERS`] header lines or [`MAX_HEADER_BYTES`] of them with 431 `headers_too_large`, in the API's
//! JSON shape, before any handler runs. (hyper refuses a head beyond `listen::MAX_HEAD_BYTES` itself.)
//!
//! [`response_headers`] adds `X-Content-Type-Options: nosniff` to every response, so no JSON body or
//! error text is ever sniffed into something a browser would run.
//!
//! This file does not limit bodies or time (`mod.rs` layers do).

use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::ApiError;

/// The longest request target (path and query) accepted: room for the longest query the search accepts
/// (`MAX_QUERY_CHARS`) in ASCII, below hyper's own limit (64 KiB, answered with a bare 414).
pub const MAX_URI_BYTES: usize = 60 * 1024;
/// The most header lines accepted.
pub const MAX_HEADERS: usize = 100;
/// The most bytes of header names and values accepted.
pub const MAX_HEADER_BYTES: usize = 32 * 1024;

/// Middleware: refuses a request whose head exceeds the limits.
pub async fn check_head(request: Request, next: Next) -> Response {
    let uri_len = request.uri().path_and_query().map_or(0, |p| p.as_str().len());
    if uri_len > MAX_URI_BYTES {
        return ApiError::UriTooLong(format!(
            "the request target is {uri_len} bytes; at most {MAX_URI_BYTES}"
        ))
        .into_response();
    }
    let headers = request.headers();
    let bytes: usize = headers.iter().map(|(name, value)| name.as_str().len() + value.len()).sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::HeadersTooLarge(format!(
            "at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them"
        ))
        .into_response();
    }
    next.run(request).await
}

/// Adds the headers every response carries.
pub async fn response_headers(mut response: Response) -> Response {
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    response
}
