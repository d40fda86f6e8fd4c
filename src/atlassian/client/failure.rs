//! Why one attempt failed, and the error a request ends with: a failure is either one a retry may fix
//! (429, 5xx, a connection failure or timeout, a malformed body) or final (any other status, a refused
//! redirect, a body over its cap, TLS, and a host that cannot be reached before the site ever answered).
//! When a request gives up, its error is diagnosed ([`super::super::diagnosis::diagnose`]) and the first
//! permanent failure is kept for [`Client::permanent_failure`].
//!
//! Not here: how long to wait between attempts and when to stop (`retry.rs`). Nothing here holds the
//! token, and no message names a URL's query (it may carry a signed media token).

use std::sync::atomic::Ordering;
use std::time::Duration;

use reqwest::StatusCode;
use url::Url;

use super::{Call, Client, Counters};
use crate::atlassian::diagnosis::{diagnose, unreachable_kind, Unreachable};
use crate::atlassian::Error;

/// Why one attempt failed, and whether another may help.
pub(super) enum Failure {
    /// 429 or 5xx; `retry_after` is what the site asked for, `reason` its `RateLimit-Reason`.
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        reason: Option<String>,
        detail: String,
    },
    Transport(String),
    Malformed(String),
    /// Retrying cannot help: give this error back.
    Final(Error),
}

impl Failure {
    /// The wait the site asked for with `Retry-After`, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Failure::Status { retry_after, .. } => *retry_after,
            Failure::Final(_) | Failure::Transport(_) | Failure::Malformed(_) => None,
        }
    }

    /// A few words for the retry log line.
    pub fn summary(&self) -> String {
        match self {
            Failure::Status { status, .. } => format!("http {}", status.as_u16()),
            Failure::Transport(reason) | Failure::Malformed(reason) => reason.clone(),
            Failure::Final(error) => error.to_string(),
        }
    }

    /// The error a request ends with after `attempts` attempts.
    fn into_error(self, call: &Call<'_>, attempts: u32) -> Error {
        let method = call.method.to_string();
        let path = call.path.to_owned();
        match self {
            Failure::Final(error) => error,
            Failure::Status { status, detail, .. } => {
                Error::Status { method, path, status: status.as_u16(), attempts, detail }
            }
            Failure::Transport(reason) => Error::Transport { method, path, reason, attempts },
            Failure::Malformed(reason) => Error::Malformed { path, reason, attempts },
        }
    }
}

impl Client {
    /// Ends `call` with `failure` after `attempts` attempts: counts it, and keeps the first failure no
    /// retry fixes as the client's permanent one (a 403 the caller handles is not one).
    pub(super) fn give_up(&self, call: &Call<'_>, failure: Failure, attempts: u32) -> Error {
        let inner = &*self.inner;
        Counters::bump(&inner.counters.failures);
        let error = failure.into_error(call, attempts);
        let handled = call.forbidden_handled && error.status() == Some(403);
        if let Some(diagnosis) = diagnose(&error).filter(|_| !handled) {
            inner
                .permanent
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .get_or_insert(diagnosis);
        }
        error
    }

    /// Why sending failed: final when retrying cannot help (TLS always; a name that does not resolve or a
    /// refused connection while the site has never answered), else a transport failure to retry.
    pub(super) fn send_failure(&self, call: &Call<'_>, url: &Url, error: &reqwest::Error) -> Failure {
        let reason = describe(error);
        let kind = unreachable_kind(error)
            .filter(|kind| *kind == Unreachable::Tls || !self.inner.reached.load(Ordering::Relaxed));
        match kind {
            Some(kind) => Failure::Final(Error::Unreachable {
                method: call.method.to_string(),
                path: call.path.to_owned(),
                host: url.host_str().unwrap_or_default().to_owned(),
                kind,
                reason,
            }),
            None => Failure::Transport(reason),
        }
    }
}

/// A reqwest error and its causes, without the URL (which may carry a signed media token in its query).
pub(super) fn describe(error: &reqwest::Error) -> String {
    use std::error::Error as _;
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "connection failed"
    } else if error.is_body() || error.is_decode() {
        "body error"
    } else if error.is_builder() {
        "invalid request"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}
