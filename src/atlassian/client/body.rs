//! Response bodies, read within bounds: a 2xx body read whole but never past its cap (by
//! `Content-Length`, or while streaming), a JSON body decoded with the `rel="next"` target of its `Link`
//! header, and the start of an error body for the error message, with the credentials blanked out.
//!
//! Not here: which statuses are errors or retried (`mod.rs`, `failure.rs`). A body cut short is a
//! [`Failure::Malformed`] to retry; a body over its cap is final ([`Error::TooLarge`]).

use reqwest::header::{self, HeaderMap};
use serde::de::DeserializeOwned;

use super::failure::{describe, Failure};
use super::{Client, Fetched};
use crate::atlassian::Error;

/// How one call reads its body.
#[derive(Clone, Copy)]
pub(super) enum BodyCap {
    Json(u64),
    Download(u64),
}

impl BodyCap {
    fn limit(self) -> u64 {
        match self {
            BodyCap::Json(n) | BodyCap::Download(n) => n,
        }
    }
}

/// A JSON body and the `rel="next"` target of its `Link` header, if any.
#[derive(Debug)]
pub(crate) struct JsonPage<T> {
    pub value: T,
    pub link_next: Option<String>,
}

pub(super) fn decode_json<T: DeserializeOwned>(fetched: Fetched) -> Result<JsonPage<T>, String> {
    let value = serde_json::from_slice(&fetched.body).map_err(|e| format!("invalid json: {e}"))?;
    Ok(JsonPage { value, link_next: link_next(&fetched.headers) })
}

/// Reads the whole body, failing as soon as it exceeds the cap (by `Content-Length`, or while streaming).
pub(super) async fn read_capped(
    mut response: reqwest::Response,
    cap: BodyCap,
    path: &str,
) -> Result<Vec<u8>, Failure> {
    let limit = cap.limit();
    let too_large = |length| Failure::Final(Error::TooLarge { path: path.to_owned(), limit, length });
    let declared = response.content_length();
    if let Some(length) = declared.filter(|&length| length > limit) {
        return Err(too_large(Some(length)));
    }
    // Preallocate what was declared (already checked against the cap), but not more than a few MiB.
    let mut body = Vec::with_capacity(declared.unwrap_or(0).min(4 << 20) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(too_large(None));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => return Err(Failure::Transport(describe(&e))),
            Err(e) => {
                return Err(Failure::Malformed(format!(
                    "body cut short after {} bytes: {}",
                    body.len(),
                    describe(&e)
                )))
            }
        }
    }
}

impl Client {
    /// The start of an error body, for the error message: Atlassian puts the reason there
    /// (`errorMessages`, `message`). Anything that looks like the credentials is blanked out.
    pub(super) async fn error_detail(&self, mut response: reqwest::Response) -> String {
        const MAX_DETAIL: usize = 300;
        let mut bytes = Vec::new();
        while bytes.len() < MAX_DETAIL {
            match response.chunk().await {
                Ok(Some(chunk)) => bytes.extend_from_slice(&chunk),
                Ok(None) | Err(_) => break,
            }
        }
        let text = String::from_utf8_lossy(&bytes);
        let mut detail: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if let Some((cut, _)) = detail.char_indices().nth(MAX_DETAIL) {
            detail.truncate(cut);
        }
        for secret in &self.inner.secrets {
            if !secret.is_empty() {
                detail = detail.replace(secret.as_str(), "[redacted]");
            }
        }
        detail
    }
}

/// The target of `Link: <…>; rel="next"`, if the header has one.
fn link_next(headers: &HeaderMap) -> Option<String> {
    headers.get_all(header::LINK).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(',')).find_map(
        |link| {
            let (target, params) = link.trim().split_once(';')?;
            let target = target.trim().strip_prefix('<')?.strip_suffix('>')?;
            let is_next = params.split(';').any(|param| {
                param.trim().split_once('=').is_some_and(|(name, value)| {
                    name.trim().eq_ignore_ascii_case("rel")
                        && value.trim().trim_matches('"').split_whitespace().any(|rel| rel == "next")
                })
            });
            is_next.then(|| target.to_owned())
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn link_header_next_targets() {
        let cases = [
            (
                r#"</wiki/api/v2/pages?cursor=abc>; rel="next", <https://x.atlassian.net/wiki>; rel="base""#,
                Some("/wiki/api/v2/pages?cursor=abc"),
            ),
            (r#"<https://x.atlassian.net/wiki>; rel="base""#, None),
            (r#"</a?cursor=1>;rel=next"#, Some("/a?cursor=1")),
            ("garbage", None),
        ];
        for (value, expected) in cases {
            let mut headers = HeaderMap::new();
            headers.insert(header::LINK, HeaderValue::from_str(value).unwrap());
            assert_eq!(link_next(&headers).as_deref(), expected, "{value}");
        }
    }
}
