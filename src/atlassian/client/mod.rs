//! The one HTTP client that talks to an Atlassian Cloud site (or the bundled simulator).
//!
//! A [`Client`] is built from a [`ClientConfig`]: a base URL, an email and an API token (HTTP Basic), and
//! limits. Every request goes through the same steps:
//!
//! 1. a permit from a semaphore, so at most `concurrency` requests are in flight;
//! 2. a slot from a pacer shared by all requests, so they go out at most `requests_per_second` on
//!    average. How a 429 affects the other requests depends on what it said (see [`super::pacer`]): a
//!    burst limit with `Retry-After` delays only the refused request, a tenant-wide limit holds every
//!    request back, a 429 without `Retry-After` slows everyone down for a few seconds;
//! 3. the request itself, following redirects by hand: the `Authorization` header goes only to the base
//!    URL's origin, never to another host (Jira attachment downloads redirect to a media service);
//! 4. the body, read fully (with a size cap) before it is deserialised, so a body cut short and a body that
//!    is not JSON are both [`Error::Malformed`], not a panic half-way through a page.
//!
//! 5xx, connection failures, timeouts and malformed bodies are retried up to `max_retries` times; 429s
//! are waited out apart from that budget, up to `max_throttle_wait` per request, so a rate-limit storm
//! slows a run without costing items. `Retry-After` (seconds or an HTTP date) is the minimum wait,
//! otherwise exponential backoff with jitter.
//! A TLS failure, and a name that does not resolve or a refused connection before the site ever answered,
//! fail at once with [`Error::Unreachable`] (after the site answered once, they are retried: a restart or
//! a network blip). Other statuses (401, 403, 404, 410, …) fail at once with [`Error::Status`]. The first
//! failure that no retry fixes is kept for [`Client::permanent_failure`]. [`Client::stats`] counts
//! calls, 429s, retries and failures for the sync run records.
//!
//! Every wait (a permit, a pacer slot, a backoff, a `Retry-After`) and every request in flight gives way
//! to the client's [`CancellationToken`] ([`ClientConfig::cancel`], [`Client::cancellation`]): once it is
//! cancelled, calls end at once with [`Error::Cancelled`], so a run can stop within moments of Ctrl-C.
//!
//! Paths are given relative to the base URL (`/wiki/api/v2/spaces?limit=250`); a base URL with a path
//! prefix (`https://proxy.example/atlassian`) is kept in front of them.
//!
//! This file holds the client, its configuration and counters, the request loop and redirects;
//! `retry.rs` the backoff, `Retry-After` and the two budgets of a request; `failure.rs` why an attempt
//! failed and the error (and diagnosis) a request ends with; `body.rs` capped body reading, JSON decoding
//! and the start of an error body.
//!
//! The client deliberately knows no endpoint and no JSON shape: the walkers in [`super::paginate`] and
//! the crawlers do. It never logs or prints the token: `Debug` of the client and its config redact it, and
//! error messages name the path without its query string.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine as _;
use rand::Rng as _;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use url::Url;

use super::diagnosis::Diagnosis;
use super::pacer::{Pacer, Throttle};
use super::Error;
use crate::config::{Email, Limits, Secret, Source};

mod body;
mod failure;
mod retry;

pub(crate) use body::JsonPage;
use body::{decode_json, read_capped, BodyCap};
use failure::{describe, Failure};
pub use retry::MAX_RETRY_AFTER;
use retry::{retry_after, Backoff, RetryPolicy};

/// How to reach a site and how hard to push it. `new` fills in the documented defaults.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// `https://acme.atlassian.net`, or the simulator's `http://127.0.0.1:port`; may carry a path prefix.
    pub base_url: Url,
    /// The account the token belongs to (HTTP Basic user).
    pub email: Email,
    pub token: Secret,
    /// Requests in flight at once.
    pub concurrency: NonZeroUsize,
    /// Average request rate; finite and > 0. A 429 lowers it for a while.
    pub requests_per_second: f64,
    /// Timeout of one attempt, body included.
    pub timeout: Duration,
    /// Retries after the first attempt of a request that failed in a way a retry can fix. A 429 is not
    /// such a failure: the site asks to wait, and waiting is bounded by `max_throttle_wait` instead.
    pub max_retries: u32,
    /// Longest total wait one request spends on 429 answers before it fails: a rate-limit storm slows a
    /// sync down but does not cost items, unless it outlasts this.
    pub max_throttle_wait: Duration,
    /// Upper bound on any download, whatever the caller asks for.
    pub max_download_bytes: u64,
    /// Upper bound on a JSON body: a listing page larger than this is an error, not an allocation.
    pub max_json_bytes: u64,
    /// Redirect hops followed per attempt.
    pub max_redirects: u32,
    /// Wait before the first retry when the site gives no `Retry-After`; doubles per retry.
    pub backoff_base: Duration,
    /// Longest computed backoff (a `Retry-After` may ask for more and gets it, up to [`MAX_RETRY_AFTER`]).
    pub backoff_cap: Duration,
    /// Cancelling it ends every call of the client (and of its clones) at once with [`Error::Cancelled`].
    pub cancel: CancellationToken,
}

impl ClientConfig {
    pub const DEFAULT_MAX_RETRIES: u32 = 5;
    pub const DEFAULT_MAX_THROTTLE_WAIT: Duration = Duration::from_secs(15 * 60);
    pub const DEFAULT_MAX_JSON_BYTES: u64 = 64 << 20;
    pub const DEFAULT_MAX_REDIRECTS: u32 = 5;
    pub const DEFAULT_BACKOFF_BASE: Duration = Duration::from_millis(500);
    pub const DEFAULT_BACKOFF_CAP: Duration = Duration::from_secs(60);

    /// A config with the default limits of [`Limits::default`] and the defaults above.
    pub fn new(base_url: Url, email: Email, token: Secret) -> Self {
        let limits = Limits::default();
        Self {
            base_url,
            email,
            token,
            concurrency: limits.concurrency,
            requests_per_second: limits.requests_per_second,
            timeout: limits.timeout,
            max_retries: Self::DEFAULT_MAX_RETRIES,
            max_throttle_wait: Self::DEFAULT_MAX_THROTTLE_WAIT,
            max_download_bytes: limits.max_attachment_bytes,
            max_json_bytes: Self::DEFAULT_MAX_JSON_BYTES,
            max_redirects: Self::DEFAULT_MAX_REDIRECTS,
            backoff_base: Self::DEFAULT_BACKOFF_BASE,
            backoff_cap: Self::DEFAULT_BACKOFF_CAP,
            cancel: CancellationToken::new(),
        }
    }

    /// The config for one configured source: its URL, credentials and limits. Fails when the source's
    /// token was not read with its configuration.
    pub fn for_source(source: &Source) -> Result<Self, Error> {
        let token = source.token().map_err(|e| Error::InvalidConfig(e.to_string()))?.clone();
        let limits = source.limits();
        Ok(Self {
            concurrency: limits.concurrency,
            requests_per_second: limits.requests_per_second,
            timeout: limits.timeout,
            max_download_bytes: limits.max_attachment_bytes,
            ..Self::new(source.url().clone(), source.email().clone(), token)
        })
    }
}

/// Counters of everything the client did since it was built. All requests of all clones count together.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests sent, each redirect hop and each retry included.
    pub api_calls: u64,
    /// 429 answers.
    pub throttled: u64,
    /// 5xx answers.
    pub server_errors: u64,
    /// Bodies cut short or not the JSON expected.
    pub malformed: u64,
    /// Attempts made again after a failure.
    pub retries: u64,
    /// Requests that ended in an error (after their retries, if any were allowed).
    pub failures: u64,
}

#[derive(Default)]
struct Counters {
    api_calls: AtomicU64,
    throttled: AtomicU64,
    server_errors: AtomicU64,
    malformed: AtomicU64,
    retries: AtomicU64,
    failures: AtomicU64,
}

impl Counters {
    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> ClientStats {
        ClientStats {
            api_calls: self.api_calls.load(Ordering::Relaxed),
            throttled: self.throttled.load(Ordering::Relaxed),
            server_errors: self.server_errors.load(Ordering::Relaxed),
            malformed: self.malformed.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            failures: self.failures.load(Ordering::Relaxed),
        }
    }
}

/// A downloaded body: all its bytes (at most the cap asked for) and its declared type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Download {
    pub bytes: Vec<u8>,
    /// The `Content-Type` header, when there was one.
    pub content_type: Option<String>,
}

/// The client. Cheap to clone: clones share the connection pool, the concurrency limit, the pacer and the
/// counters.
#[derive(Clone)]
pub struct Client {
    inner: std::sync::Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    /// The base URL as a string without its trailing `/`, so `prefix + "/wiki/…"` is the full URL.
    prefix: String,
    /// `Basic base64(email:token)`, marked sensitive so `Debug` of a header map hides it.
    authorization: HeaderValue,
    /// What must never appear in an error detail: the token and its Basic encoding.
    secrets: [String; 2],
    permits: Semaphore,
    pacer: Pacer,
    counters: Counters,
    retry: RetryPolicy,
    max_download_bytes: u64,
    max_json_bytes: u64,
    max_redirects: u32,
    cancel: CancellationToken,
    /// Whether the site has answered at least once (any status).
    reached: std::sync::atomic::AtomicBool,
    /// The first failure no retry fixes (see [`super::diagnosis::diagnose`]).
    permanent: Mutex<Option<Diagnosis>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.inner.prefix).finish_non_exhaustive()
    }
}

/// One logical request, before retries and redirects.
struct Call<'a> {
    method: Method,
    url: Url,
    /// The path without its query, for errors and logs.
    path: &'a str,
    json_body: Option<Vec<u8>>,
    cap: BodyCap,
    /// A 403 is an answer the caller handles (a right the account may lack), not the client's permanent
    /// failure.
    forbidden_handled: bool,
}

/// A response that made it through: status 2xx, body fully read.
struct Fetched {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Client {
    /// Builds the client: checks the config, builds the Basic header and the connection pool.
    pub fn new(config: ClientConfig) -> Result<Self, Error> {
        let base = config.base_url;
        if !matches!(base.scheme(), "http" | "https") || base.host_str().is_none() {
            return Err(Error::InvalidConfig(format!("base url {base} must be an http(s) url with a host")));
        }
        if base.query().is_some() || base.fragment().is_some() {
            return Err(Error::InvalidConfig(format!(
                "base url {} must not have a query or fragment",
                without_query(base.as_str())
            )));
        }
        if !base.username().is_empty() || base.password().is_some() {
            return Err(Error::InvalidConfig(
                "base url must not carry credentials; give the email and token instead".into(),
            ));
        }
        let rps = config.requests_per_second;
        if !(rps.is_finite() && rps > 0.0) {
            return Err(Error::InvalidConfig(format!(
                "requests per second must be finite and > 0, not {rps}"
            )));
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!(
            "{}:{}",
            config.email.as_str(),
            config.token.expose()
        ));
        let mut authorization = HeaderValue::from_str(&format!("Basic {encoded}")).map_err(|_| {
            Error::InvalidConfig("the email or token contains characters a header cannot carry".into())
        })?;
        authorization.set_sensitive(true);
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(config.concurrency.get())
            .user_agent(concat!("permdex/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| Error::InvalidConfig(format!("cannot build the http client: {}", describe(&e))))?;
        let prefix = base.as_str().trim_end_matches('/').to_owned();
        Ok(Client {
            inner: std::sync::Arc::new(Inner {
                http,
                prefix,
                base,
                authorization,
                secrets: [config.token.expose().to_owned(), encoded],
                permits: Semaphore::new(config.concurrency.get()),
                pacer: Pacer::new(Duration::from_secs_f64(1.0 / rps)),
                counters: Counters::default(),
                retry: RetryPolicy {
                    backoff: Backoff { base: config.backoff_base, cap: config.backoff_cap },
                    max_retries: config.max_retries,
                    max_throttle_wait: config.max_throttle_wait,
                },
                max_download_bytes: config.max_download_bytes,
                max_json_bytes: config.max_json_bytes,
                max_redirects: config.max_redirects,
                cancel: config.cancel,
                reached: std::sync::atomic::AtomicBool::new(false),
                permanent: Mutex::new(None),
            }),
        })
    }

    /// The site's base URL.
    pub fn base_url(&self) -> &Url {
        &self.inner.base
    }

    /// The token that stops this client: cancelling it ends every call in flight or waiting with
    /// [`Error::Cancelled`], and every later call at once.
    pub fn cancellation(&self) -> CancellationToken {
        self.inner.cancel.clone()
    }

    /// What the client did so far.
    pub fn stats(&self) -> ClientStats {
        self.inner.counters.snapshot()
    }

    /// The first failure this client met that no retry can fix (credentials refused, a right missing, the
    /// host unreachable), if any.
    pub fn permanent_failure(&self) -> Option<Diagnosis> {
        self.inner.permanent.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// `GET path` and deserialise the JSON answer.
    pub async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        Ok(self.get_json_page(path).await?.value)
    }

    /// `GET path` of a call that needs a right the account may lack, and whose 403 the caller handles
    /// (Jira's `/applicationrole` without Administer Jira): the 403 is returned as usual but not kept as
    /// [`Client::permanent_failure`].
    pub async fn get_json_right_optional<T: DeserializeOwned>(&self, path: &str) -> Result<T, Error> {
        let call = Call { forbidden_handled: true, ..self.call(Method::GET, path, self.json_cap())? };
        Ok(self.run(&call, decode_json::<T>).await?.value)
    }

    /// `POST path` with a JSON body (Jira's search and bulk fetch, which only read) and deserialise the
    /// JSON answer. Retried like a GET: these endpoints change nothing.
    pub async fn post_json<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, Error> {
        let call = self.call(Method::POST, path, self.json_cap())?;
        let json = serde_json::to_vec(body).map_err(|e| Error::InvalidRequest {
            path: call.path.to_owned(),
            reason: format!("cannot serialise the request body: {e}"),
        })?;
        let call = Call { json_body: Some(json), ..call };
        let page = self.run(&call, decode_json::<T>).await?;
        Ok(page.value)
    }

    /// `GET path` and deserialise the JSON answer; also hands back the `Link: <…>; rel="next"` target.
    pub(crate) async fn get_json_page<T: DeserializeOwned>(&self, path: &str) -> Result<JsonPage<T>, Error> {
        let call = self.call(Method::GET, path, self.json_cap())?;
        self.run(&call, decode_json::<T>).await
    }

    /// `GET path` and read the body, at most `max_bytes` of it (and never more than the configured
    /// `max_download_bytes`). A larger body, by `Content-Length` or while streaming, is
    /// [`Error::TooLarge`] and the rest of it is not read.
    pub async fn download(&self, path: &str, max_bytes: u64) -> Result<Download, Error> {
        let cap = BodyCap::Download(max_bytes.min(self.inner.max_download_bytes));
        let call = self.call(Method::GET, path, cap)?;
        self.run(&call, |fetched| {
            let content_type =
                fetched.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).map(str::to_owned);
            Ok(Download { bytes: fetched.body, content_type })
        })
        .await
    }

    /// A call of `method` to `path` without a body, its body read within `cap`, whose errors are all the
    /// client's to keep.
    fn call<'a>(&self, method: Method, path: &'a str, cap: BodyCap) -> Result<Call<'a>, Error> {
        let url = self.resolve(path)?;
        Ok(Call { method, url, path: without_query(path), json_body: None, cap, forbidden_handled: false })
    }

    /// The cap of a JSON body.
    fn json_cap(&self) -> BodyCap {
        BodyCap::Json(self.inner.max_json_bytes)
    }

    /// The absolute URL of `target`: a path relative to the base URL (`/wiki/api/v2/spaces?limit=5`), or
    /// an absolute URL of the base URL's origin (some listings give their next link that way).
    pub(crate) fn resolve(&self, target: &str) -> Result<Url, Error> {
        let invalid = |reason: &str| Error::InvalidRequest {
            path: without_query(target).to_owned(),
            reason: reason.to_owned(),
        };
        if target.starts_with("http://") || target.starts_with("https://") {
            let url = Url::parse(target).map_err(|_| invalid("not a valid url"))?;
            if url.origin() != self.inner.base.origin() {
                return Err(invalid("points to another host than the site's base url"));
            }
            return Ok(url);
        }
        if !target.starts_with('/') || target.starts_with("//") {
            return Err(invalid("must start with a single '/' (relative to the base url)"));
        }
        if has_dot_segment(without_query(target)) {
            // The URL parser would resolve it away, and the request would go to another path.
            return Err(invalid("has a '.' or '..' path segment"));
        }
        let url =
            Url::parse(&format!("{}{target}", self.inner.prefix)).map_err(|_| invalid("not a valid path"))?;
        // The prefix is a valid origin and the path starts with '/', so the origin cannot change; checked
        // anyway because sending the token elsewhere is the one mistake this client must never make.
        if url.origin() != self.inner.base.origin() {
            return Err(invalid("resolves to another host than the site's base url"));
        }
        Ok(url)
    }

    /// Runs `call` with retries. `decode` turns a 2xx body into the result; its `Err` is a malformed
    /// body, retried like a 5xx. Cancellation ends it at any await.
    async fn run<T>(
        &self,
        call: &Call<'_>,
        decode: impl Fn(Fetched) -> Result<T, String>,
    ) -> Result<T, Error> {
        let inner = &*self.inner;
        let cancelled = || Error::Cancelled { method: call.method.to_string(), path: call.path.to_owned() };
        let mut attempt: u32 = 0;
        let mut budget = inner.retry.budget();
        loop {
            attempt += 1;
            let outcome = tokio::select! {
                biased;
                () = inner.cancel.cancelled() => return Err(cancelled()),
                outcome = self.attempt(call, attempt) => outcome,
            };
            let failure = match outcome {
                Ok(fetched) => match decode(fetched) {
                    Ok(value) => return Ok(value),
                    Err(reason) => Failure::Malformed(reason),
                },
                Err(failure) => failure,
            };
            if let Failure::Malformed(_) = failure {
                Counters::bump(&inner.counters.malformed);
            }
            let retry_after = failure.retry_after();
            let jitter = rand::thread_rng().gen_range(0.7..=1.3);
            // Failures a retry may fix, and 429s with the time spent waiting on them: budgeted apart.
            let wait = match &failure {
                Failure::Status { status: StatusCode::TOO_MANY_REQUESTS, reason, .. } => {
                    let wait = budget.throttled(retry_after, jitter);
                    inner.pacer.throttled(Throttle::of(reason.as_deref(), retry_after, wait.delay));
                    wait
                }
                Failure::Final(_) => return Err(self.give_up(call, failure, attempt)),
                Failure::Status { .. } | Failure::Transport(_) | Failure::Malformed(_) => {
                    budget.failed(retry_after, jitter)
                }
            };
            if wait.exhausted {
                return Err(self.give_up(call, failure, attempt));
            }
            let delay = wait.delay;
            tracing::debug!(
                method = %call.method,
                path = call.path,
                attempt,
                delay_ms = delay.as_millis() as u64,
                reason = %failure.summary(),
                "retrying"
            );
            Counters::bump(&inner.counters.retries);
            tokio::select! {
                biased;
                () = inner.cancel.cancelled() => return Err(cancelled()),
                () = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One attempt: a permit, then each redirect hop paced and sent, then the body.
    async fn attempt(&self, call: &Call<'_>, attempt: u32) -> Result<Fetched, Failure> {
        let inner = &*self.inner;
        // The semaphore is never closed, so `acquire` cannot fail; mapped anyway rather than unwrapped.
        let _permit = inner
            .permits
            .acquire()
            .await
            .map_err(|_| Failure::Transport("the client's request limiter was shut down".into()))?;
        let mut url = call.url.clone();
        let mut method = call.method.clone();
        let mut body = call.json_body.clone();
        let mut hops = 0u32;
        loop {
            tokio::time::sleep_until(inner.pacer.reserve()).await;
            Counters::bump(&inner.counters.api_calls);
            let mut request = inner.http.request(method.clone(), url.clone());
            if url.origin() == inner.base.origin() {
                request = request.header(header::AUTHORIZATION, inner.authorization.clone());
            }
            if let BodyCap::Json(_) = call.cap {
                request = request.header(header::ACCEPT, "application/json");
            }
            if let Some(json) = &body {
                request = request.header(header::CONTENT_TYPE, "application/json").body(json.clone());
            }
            let response = request.send().await.map_err(|e| self.send_failure(call, &url, &e))?;
            inner.reached.store(true, Ordering::Relaxed);
            let status = response.status();
            if is_followed_redirect(status) {
                hops += 1;
                if hops > inner.max_redirects {
                    return Err(Failure::Final(Error::TooManyRedirects {
                        path: call.path.to_owned(),
                        limit: inner.max_redirects,
                    }));
                }
                url = redirect_target(&url, response.headers()).map_err(|reason| {
                    Failure::Final(Error::BadRedirect { path: call.path.to_owned(), reason })
                })?;
                // 303 always, and 301/302 after a POST in practice, turn the next hop into a plain GET.
                if status == StatusCode::SEE_OTHER || (method == Method::POST && status.as_u16() < 303) {
                    method = Method::GET;
                    body = None;
                }
                continue;
            }
            if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
                let retry_after = retry_after(response.headers(), chrono::Utc::now());
                let reason = response
                    .headers()
                    .get("RateLimit-Reason")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                if status == StatusCode::TOO_MANY_REQUESTS {
                    Counters::bump(&inner.counters.throttled);
                } else {
                    Counters::bump(&inner.counters.server_errors);
                }
                let detail = self.error_detail(response).await;
                return Err(Failure::Status { status, retry_after, reason, detail });
            }
            if !status.is_success() {
                let detail = self.error_detail(response).await;
                return Err(Failure::Final(Error::Status {
                    method: call.method.to_string(),
                    path: call.path.to_owned(),
                    status: status.as_u16(),
                    attempts: attempt,
                    detail,
                }));
            }
            let headers = response.headers().clone();
            let body = read_capped(response, call.cap, call.path).await?;
            return Ok(Fetched { headers, body });
        }
    }
}

fn is_followed_redirect(status: StatusCode) -> bool {
    matches!(status.as_u16(), 301 | 302 | 303 | 307 | 308)
}

/// Where a redirect points, resolved against the URL that answered it.
fn redirect_target(current: &Url, headers: &HeaderMap) -> Result<Url, String> {
    let location = headers
        .get(header::LOCATION)
        .ok_or("no location header")?
        .to_str()
        .map_err(|_| "location header is not ascii".to_owned())?;
    let target = current.join(location).map_err(|_| "location is not a valid url".to_owned())?;
    if !matches!(target.scheme(), "http" | "https") {
        return Err(format!("location has scheme {:?}", target.scheme()));
    }
    Ok(target)
}

/// Whether a path has a `.` or `..` segment, spelled plainly or percent-encoded.
fn has_dot_segment(path: &str) -> bool {
    path.split('/').any(|segment| {
        let lower = segment.to_ascii_lowercase().replace("%2e", ".");
        lower == "." || lower == ".."
    })
}

/// `path?query` → `path`.
fn without_query(target: &str) -> &str {
    target.split(['?', '#']).next().unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn client(base: &str) -> Client {
        let config = ClientConfig::new(
            Url::parse(base).unwrap(),
            Email::parse("me@example.com").unwrap(),
            Secret::new("tok3n-value".into()),
        );
        Client::new(config).unwrap()
    }

    #[test]
    fn a_sources_url_credentials_and_limits_become_the_client_config() {
        let text = r#"
            [[sources]]
            name = "acme"
            url = "https://acme.atlassian.net"
            email = "bot@acme.example"
            token_env = "ACME_TOKEN"
            concurrency = 7
            requests_per_second = 2.5
            timeout_secs = 9
            max_attachment_bytes = "3 MiB"
        "#;
        let env = std::collections::BTreeMap::from([("ACME_TOKEN".to_owned(), "t0ken".to_owned())]);
        let config =
            crate::config::Config::from_toml(text, std::path::Path::new("/x/permdex.toml"), &env).unwrap();

        let client_config = ClientConfig::for_source(&config.sources()[0]).unwrap();

        assert_eq!(client_config.base_url.as_str(), "https://acme.atlassian.net/");
        assert_eq!(client_config.email.as_str(), "bot@acme.example");
        assert_eq!(client_config.token.expose(), "t0ken");
        assert_eq!(client_config.concurrency.get(), 7);
        assert_eq!(client_config.requests_per_second, 2.5);
        assert_eq!(client_config.timeout, Duration::from_secs(9));
        assert_eq!(client_config.max_download_bytes, 3 << 20);
        assert_eq!(client_config.max_retries, ClientConfig::DEFAULT_MAX_RETRIES);
    }

    #[test]
    fn paths_join_onto_the_base_url_and_its_prefix() {
        let cases = [
            (
                "https://acme.atlassian.net",
                "/wiki/api/v2/spaces?limit=5",
                "https://acme.atlassian.net/wiki/api/v2/spaces?limit=5",
            ),
            (
                "https://acme.atlassian.net/",
                "/rest/api/3/myself",
                "https://acme.atlassian.net/rest/api/3/myself",
            ),
            ("http://127.0.0.1:8080/prefix", "/wiki/x", "http://127.0.0.1:8080/prefix/wiki/x"),
            (
                "http://127.0.0.1:8080/prefix/",
                "/wiki/x?a=1&b=2",
                "http://127.0.0.1:8080/prefix/wiki/x?a=1&b=2",
            ),
            ("http://127.0.0.1:8080/p", "http://127.0.0.1:8080/wiki/y", "http://127.0.0.1:8080/wiki/y"),
        ];
        for (base, path, expected) in cases {
            assert_eq!(client(base).resolve(path).unwrap().as_str(), expected, "{base} + {path}");
        }
    }

    #[test]
    fn targets_that_leave_the_site_are_refused() {
        let client = client("https://acme.atlassian.net/base");
        for target in [
            "wiki/x",
            "//evil.example/x",
            "https://evil.example/wiki",
            "http://acme.atlassian.net/x",
            "",
            "/wiki/rest/api/group/%2E%2E/membersByGroupId",
            "/wiki/rest/api/group/../x",
            "/rest/api/3/project/%2e/role",
        ] {
            let error = client.resolve(target).unwrap_err();
            assert!(matches!(error, Error::InvalidRequest { .. }), "{target}: {error}");
        }
    }

    #[test]
    fn bad_base_urls_and_rates_are_refused() {
        let email = Email::parse("me@example.com").unwrap();
        for base in ["ftp://acme.example", "https://acme.example/?q=1", "https://user:pw@acme.example/"] {
            let config = ClientConfig::new(Url::parse(base).unwrap(), email.clone(), Secret::new("t".into()));
            assert!(matches!(Client::new(config), Err(Error::InvalidConfig(_))), "{base}");
        }
        for rps in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            let mut config = ClientConfig::new(
                Url::parse("https://acme.example").unwrap(),
                email.clone(),
                Secret::new("t".into()),
            );
            config.requests_per_second = rps;
            assert!(matches!(Client::new(config), Err(Error::InvalidConfig(_))), "{rps}");
        }
    }

    #[test]
    fn debug_output_hides_the_token() {
        let client = client("https://acme.atlassian.net");
        let config = ClientConfig::new(
            Url::parse("https://acme.atlassian.net").unwrap(),
            Email::parse("me@example.com").unwrap(),
            Secret::new("tok3n-value".into()),
        );
        for text in
            [format!("{client:?}"), format!("{config:?}"), format!("{:?}", client.inner.authorization)]
        {
            assert!(!text.contains("tok3n-value"), "{text}");
            assert!(!text.contains(&client.inner.secrets[1]), "{text}");
        }
    }

    #[test]
    fn error_paths_drop_the_query() {
        assert_eq!(without_query("/media/file/1?token=secret&x=1"), "/media/file/1");
        assert_eq!(without_query("/wiki/api/v2/spaces"), "/wiki/api/v2/spaces");
    }
}
