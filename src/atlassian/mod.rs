//! Everything that knows Atlassian's REST APIs: the wire types (shared with the simulator, which serialises
//! them, while the crawler deserialises them), the one HTTP [`client::Client`] every call to a site goes
//! through, the [`paginate`] walkers over its listings, and the crawlers ([`confluence`], [`jira`]) that
//! turn what they read into [`model`] types.
//!
//! Invariant: Atlassian JSON shapes live in `wire/` and nowhere else outside `sim/`.
//! Invariant: every request to a site goes through [`client::Client`], so retries, pacing, redirect rules
//! and the call counters hold for all of them.

pub mod client;
pub mod confluence;
pub mod diagnosis;
pub mod jira;
pub mod model;
pub mod pacer;
pub mod paginate;
pub mod path;
pub mod probe;
pub mod wire;
#[cfg(test)]
mod wire_variance;

pub use client::{Client, ClientConfig, ClientStats, Download};

/// One page of a listing and the cursor of the next (`None` = done). The cursor is opaque: it can be
/// stored as a checkpoint and passed back later to resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<String>,
}

/// What can go wrong talking to an Atlassian site.
///
/// Paths in messages are the request path without its query string: queries carry cursors, JQL and,
/// after a redirect to a media host, signed tokens. No variant ever holds the API token.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid client configuration: {0}")]
    InvalidConfig(String),
    #[error("invalid request {path:?}: {reason}")]
    InvalidRequest { path: String, reason: String },
    /// The site answered with a status that retrying cannot fix (4xx), or kept answering 429/5xx until
    /// the retry budget was spent.
    #[error("{method} {path}: http {status} after {attempts} attempt(s){}", detail_suffix(detail))]
    Status { method: String, path: String, status: u16, attempts: u32, detail: String },
    /// The connection failed or timed out on every attempt.
    #[error("{method} {path}: {reason} after {attempts} attempt(s)")]
    Transport { method: String, path: String, reason: String, attempts: u32 },
    /// The site could not be reached at all before it had ever answered (a name that does not resolve,
    /// a refused connection), or the TLS handshake failed: not retried.
    #[error("{method} {path}: {reason}")]
    Unreachable { method: String, path: String, host: String, kind: diagnosis::Unreachable, reason: String },
    /// The body was cut short or was not the JSON expected, on every attempt.
    #[error("malformed response from {path}: {reason} (after {attempts} attempt(s))")]
    Malformed { path: String, reason: String, attempts: u32 },
    /// The body is larger than the caller allows; the rest of it was not read.
    #[error("{path}: response larger than the limit of {limit} bytes{}", length_suffix(*length))]
    TooLarge { path: String, limit: u64, length: Option<u64> },
    #[error("{path}: more than {limit} redirects")]
    TooManyRedirects { path: String, limit: u32 },
    #[error("{path}: unusable redirect: {reason}")]
    BadRedirect { path: String, reason: String },
    /// A Jira `nextPageToken` came back that an earlier page already gave: following it would loop.
    #[error("listing {path}: the next page token repeats an earlier one after {pages} page(s)")]
    RepeatedPageToken { path: String, pages: u64 },
    /// The site refused a call (403) that needs a right the token's account does not hold.
    #[error("{path}: forbidden (http 403): the account needs {right}")]
    MissingRight { path: String, right: &'static str },
    /// The client was cancelled (the run is stopping) before the call could finish.
    #[error("{method} {path}: cancelled")]
    Cancelled { method: String, path: String },
    /// A token listing kept sending empty pages that still promise more.
    #[error("listing {path}: {pages} empty page(s) in a row that still promise more")]
    EmptyPages { path: String, pages: u64 },
}

impl Error {
    /// The HTTP status the site answered with, when that is what failed (404 for a deleted item, 403 for a
    /// missing permission, 410 for a retired endpoint).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Status { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// Whether the call was cut short because the run is stopping (Ctrl-C, SIGTERM): not the item's fault.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, Error::Cancelled { .. })
    }
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

fn length_suffix(length: Option<u64>) -> String {
    match length {
        Some(length) => format!(" (content-length {length})"),
        None => String::new(),
    }
}
