//! Middleware around the simulated Atlassian API: Basic auth, rate limits, fault injection,
//! Atlassian-shaped 404s and the 410 of Jira's removed search endpoint.
//!
//! [`wrap`] puts the product routes behind three layers, outermost first:
//!
//! 1. **auth**: HTTP Basic `email:token` against [`SimState::credentials`], compared in constant time.
//!    Anything else is a 401 in the product's error shape with `WWW-Authenticate`. The
//!    [`Credentials::limited`] pair and tokens issued by `POST /_sim/tokens` are accepted too, as callers
//!    without admin rights (see [`Caller`]): admin-only handlers answer them 403.
//! 2. **rate limit** (when configured): one token bucket for the whole API. Refusals are 429s with
//!    Atlassian's headers; admitted responses carry `X-RateLimit-Limit`/`-Remaining`.
//! 3. **faults**: per GET/POST request on a known route, seeded dice decide whether to answer 500/503,
//!    delay, null out fields, invent an empty next page, corrupt the JSON or cut the body short; and
//!    requests a [`BrokenTarget`] picks are answered 500 every time ([`Guard::set_broken`]). Variance
//!    and garbled permission fields (`variance.rs`) rewrite a JSON answer with dice of their own.
//!
//! Media URLs (`/_media/…`, where attachment downloads redirect) stand for Atlassian's separate media
//! service: they carry their own token, checked by their handlers, so they skip Basic auth and the
//! site's rate limit; faults still apply, a download cut short being one a crawler must survive.
//!
//! The fault and rate limit settings start from [`SimConfig`] and can be replaced at run time
//! ([`Guard::set_faults`], [`Guard::set_rate_limit`]); [`SimState::config`] keeps the start values.
//! The `/_sim/` admin routes are not behind this guard: they only share its credential check
//! ([`is_authorized`]).
//!
//! This module does not know any product's routes; it recognises listings only by the shape of
//! their JSON (see `add_empty_next`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use base64::Engine;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use tokio::time::Instant;

use super::common::{self, Product};
use super::{Credentials, SimState};
use crate::sim::{BrokenTarget, FaultConfig, FirstCallRefusal, RateLimitConfig, SimConfig};

/// Paths of the simulated media service (see the module documentation).
const MEDIA_PREFIX: &str = "/_media/";

/// Largest response body the fault layer buffers to rewrite; bigger bodies pass through untouched.
const MAX_FAULT_BODY: u64 = 64 * 1024 * 1024;

/// Largest POST body the fault layer reads to look for an invented page token.
const MAX_POST_BODY: usize = 4 * 1024 * 1024;

/// What a proxy in front of a real site splices into a broken answer. It contains no `"` and starts
/// with `<`, so any JSON prefix followed by it is invalid JSON: an open string never closes, and `<`
/// is not a JSON token.
const GARBAGE: &[u8] = b"<html><head><title>502 Bad Gateway</title></head><body>upstream reset</body></html>";

/// Prefix of the cursors and page tokens the fault layer invents (see [`add_empty_next`]).
const EMPTY_PAGE_TAG: &str = "sim-empty:";

/// Fields the specs call non-nullable that a crawler can nonetheless do without, as key paths matched
/// on every object of a response. None of them carries identity, permissions, text or paging.
const CONFLUENCE_NULLABLE: &[&[&str]] =
    &[&["version", "message"], &["version", "authorId"], &["_links", "tinyui"], &["position"]];
const JIRA_NULLABLE: &[&[&str]] =
    &[&["fields", "priority"], &["fields", "status", "description"], &["author", "emailAddress"], &["self"]];

/// Counters of what the guard did, since start.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GuardStats {
    /// Every request that reached the API, authenticated or not.
    pub requests: u64,
    pub unauthorized: u64,
    pub rate_limited: u64,
    pub server_errors: u64,
    pub slow: u64,
    pub truncated: u64,
    pub malformed_json: u64,
    pub empty_next: u64,
    pub null_fields: u64,
    /// First calls refused by [`FirstCallRefusal`].
    pub first_call_refusals: u64,
    /// Answers varied as real sites vary them ([`FaultConfig::variance`]).
    pub varied: u64,
    /// Fields a permission depends on garbled ([`FaultConfig::garbled_permissions`]).
    pub garbled_fields: u64,
    /// Requests whose path percent-encodes an unreserved character (`%2D` for `-`): RFC 3986 lets a
    /// server take them for the same path, but not every server in front of a site does.
    pub over_encoded_paths: u64,
}

#[derive(Default)]
struct Counters {
    requests: AtomicU64,
    unauthorized: AtomicU64,
    rate_limited: AtomicU64,
    server_errors: AtomicU64,
    slow: AtomicU64,
    truncated: AtomicU64,
    malformed_json: AtomicU64,
    empty_next: AtomicU64,
    null_fields: AtomicU64,
    first_call_refusals: AtomicU64,
    over_encoded_paths: AtomicU64,
    varied: AtomicU64,
    garbled_fields: AtomicU64,
}

/// The variance generator of a fault seed: a stream of its own, apart from the fault dice.
fn variance_dice(seed: u64) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(seed ^ 0x7661_7269_616e_6365)
}

fn bump(counter: &AtomicU64) {
    counter.fetch_add(1, Ordering::Relaxed);
}

/// The token bucket. `updated` is `None` until the first request, so creating a guard needs no clock.
struct Bucket {
    tokens: f64,
    updated: Option<Instant>,
}

struct Settings {
    faults: FaultConfig,
    rate_limit: Option<RateLimitConfig>,
    bucket: Bucket,
    first_call_refusal: Option<FirstCallRefusal>,
    broken: Option<BrokenTarget>,
    /// Request targets called since the refusal was set.
    called: std::collections::HashSet<String>,
    /// One generator for every random decision, so a run with the same seed and the same request
    /// order makes the same decisions.
    dice: ChaCha8Rng,
    /// The variance's own generator (which answers, which fields), so that turning variance on leaves
    /// every other fault decision of a seed as it was.
    variance_dice: ChaCha8Rng,
}

/// State of the cross-cutting behaviour: current settings, the rate limiter's bucket, the fault dice
/// and the counters.
pub struct Guard {
    settings: Mutex<Settings>,
    counters: Counters,
    /// Requests per route (`GET /wiki/api/v2/spaces/{id}/permissions`): where a crawler's calls go.
    routes: Mutex<std::collections::BTreeMap<String, u64>>,
}

/// The rate limiter's answer to one request.
enum Admission {
    Unlimited,
    Admitted { limit: u32, remaining: u32 },
    Refused { limit: u32, wait: Duration, retry_after: bool },
}

/// A 500 or 503 decided for one request.
#[derive(Debug, Clone, Copy)]
struct ServerError {
    status: StatusCode,
    retry_after_secs: Option<u64>,
}

/// Every fault decision for one request, drawn at once so that each request consumes the same
/// number of dice whatever the outcome.
#[derive(Debug, Clone, Copy, Default)]
struct FaultPlan {
    server_error: Option<ServerError>,
    slow: Option<Duration>,
    null_fields: bool,
    empty_next: bool,
    malformed_json: bool,
    truncated: bool,
    /// Where a malformed or truncated body is cut, as a fraction of its length.
    cut: f64,
    /// Variance or garbling is on: the body is read and may be rewritten (decided per answer then).
    varies: bool,
}

impl FaultPlan {
    fn touches_body(&self) -> bool {
        self.null_fields || self.empty_next || self.malformed_json || self.truncated || self.varies
    }
}

impl Guard {
    pub fn new(config: &SimConfig) -> Self {
        let capacity = config.rate_limit.as_ref().map_or(0, |r| r.capacity);
        Guard {
            settings: Mutex::new(Settings {
                faults: config.faults.clone(),
                rate_limit: config.rate_limit.clone(),
                bucket: Bucket { tokens: f64::from(capacity), updated: None },
                first_call_refusal: None,
                broken: None,
                called: std::collections::HashSet::new(),
                dice: ChaCha8Rng::seed_from_u64(config.faults.seed),
                variance_dice: variance_dice(config.faults.seed),
            }),
            counters: Counters::default(),
            routes: Mutex::default(),
        }
    }

    /// Requests per route since start, keyed by method and the route's pattern (`GET
    /// /rest/api/3/project/{projectIdOrKey}/role/{id}`; a path no route matches counts under its product's
    /// `… (no route)`), so a test can see which calls a crawl makes.
    pub fn requests_by_route(&self) -> std::collections::BTreeMap<String, u64> {
        self.routes.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn count_route(&self, route: String) {
        *self.routes.lock().unwrap_or_else(|e| e.into_inner()).entry(route).or_default() += 1;
    }

    /// A snapshot of the counters.
    pub fn stats(&self) -> GuardStats {
        let c = &self.counters;
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        GuardStats {
            requests: get(&c.requests),
            unauthorized: get(&c.unauthorized),
            rate_limited: get(&c.rate_limited),
            server_errors: get(&c.server_errors),
            slow: get(&c.slow),
            truncated: get(&c.truncated),
            malformed_json: get(&c.malformed_json),
            empty_next: get(&c.empty_next),
            null_fields: get(&c.null_fields),
            first_call_refusals: get(&c.first_call_refusals),
            over_encoded_paths: get(&c.over_encoded_paths),
            varied: get(&c.varied),
            garbled_fields: get(&c.garbled_fields),
        }
    }

    /// The fault settings in force.
    pub fn faults(&self) -> FaultConfig {
        self.lock().faults.clone()
    }

    /// The rate limit in force.
    pub fn rate_limit(&self) -> Option<RateLimitConfig> {
        self.lock().rate_limit.clone()
    }

    /// Replaces the fault settings and reseeds the dice with their seed.
    pub fn set_faults(&self, faults: FaultConfig) {
        let mut settings = self.lock();
        settings.dice = ChaCha8Rng::seed_from_u64(faults.seed);
        settings.variance_dice = variance_dice(faults.seed);
        settings.faults = faults;
    }

    /// Replaces the rate limit (`None` lifts it) and starts from a full bucket.
    pub fn set_rate_limit(&self, rate_limit: Option<RateLimitConfig>) {
        let mut settings = self.lock();
        let capacity = rate_limit.as_ref().map_or(0, |r| r.capacity);
        settings.bucket = Bucket { tokens: f64::from(capacity), updated: None };
        settings.rate_limit = rate_limit;
    }

    /// The first-call refusal in force.
    pub fn first_call_refusal(&self) -> Option<FirstCallRefusal> {
        self.lock().first_call_refusal.clone()
    }

    /// Replaces the first-call refusal (`None` ends it); every target counts as not yet called.
    pub fn set_first_call_refusal(&self, refusal: Option<FirstCallRefusal>) {
        let mut settings = self.lock();
        settings.first_call_refusal = refusal;
        settings.called.clear();
    }

    /// Replaces which requests are answered with a 500 every time (`None` mends them all).
    pub fn set_broken(&self, broken: Option<BrokenTarget>) {
        self.lock().broken = broken;
    }

    /// Whether a request to `path` with `query` is a broken one.
    fn is_broken(&self, path: &str, query: Option<&str>) -> bool {
        let Some(broken) = self.lock().broken.clone() else { return false };
        let pairs: Vec<(String, String)> = query
            .map(|q| url::form_urlencoded::parse(q.as_bytes()).into_owned().collect())
            .unwrap_or_default();
        broken(path, &pairs)
    }

    /// The `Retry-After` to refuse this request with, when it is the first call of a chosen target.
    fn refuse_first_call(&self, target: &str) -> Option<Duration> {
        let mut settings = self.lock();
        let refusal = settings.first_call_refusal.clone()?;
        if !settings.called.insert(target.to_owned()) {
            return None;
        }
        let digest = Sha256::digest(format!("{}:{target}", refusal.seed).as_bytes());
        let mut head = [0u8; 8];
        head.copy_from_slice(&digest[..8]);
        let draw = u64::from_be_bytes(head) as f64 / (u64::MAX as f64 + 1.0);
        (draw < refusal.share).then(|| {
            bump(&self.counters.first_call_refusals);
            refusal.retry_after
        })
    }

    /// Rewrites a JSON answer with the variance and garbling in force, each drawn for this answer;
    /// whether anything changed.
    fn vary_answer(&self, value: &mut Value) -> bool {
        let mut settings = self.lock();
        let settings = &mut *settings;
        let (variance, garbled) = (settings.faults.variance, settings.faults.garbled_permissions);
        if variance <= 0.0 && garbled <= 0.0 {
            return false;
        }
        let dice = &mut settings.variance_dice;
        let mut changed = false;
        if variance > 0.0 && dice.gen::<f64>() < variance && super::variance::vary(value, dice).total() > 0 {
            bump(&self.counters.varied);
            changed = true;
        }
        if garbled > 0.0 {
            let fields = super::variance::garble(value, garbled, dice);
            self.counters.garbled_fields.fetch_add(fields, Ordering::Relaxed);
            changed |= fields > 0;
        }
        changed
    }

    /// A poisoned lock only means a request panicked while holding it; the settings stay usable.
    fn lock(&self) -> std::sync::MutexGuard<'_, Settings> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn admit(&self, now: Instant) -> Admission {
        let mut guard = self.lock();
        let settings = &mut *guard;
        let Some(limit) = settings.rate_limit.as_ref() else {
            return Admission::Unlimited;
        };
        let capacity = f64::from(limit.capacity);
        let window = limit.window.as_secs_f64();
        let bucket = &mut settings.bucket;
        if let Some(updated) = bucket.updated {
            let refill = if window > 0.0 {
                now.saturating_duration_since(updated).as_secs_f64() * capacity / window
            } else {
                capacity
            };
            bucket.tokens = (bucket.tokens + refill).min(capacity);
        }
        bucket.updated = Some(now);
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            return Admission::Admitted { limit: limit.capacity, remaining: bucket.tokens.floor() as u32 };
        }
        let wait = if limit.capacity == 0 {
            limit.window
        } else {
            Duration::from_secs_f64((1.0 - bucket.tokens) * window / capacity)
        };
        let retry_after = settings.dice.gen::<f64>() < limit.retry_after_probability;
        bump(&self.counters.rate_limited);
        Admission::Refused { limit: limit.capacity, wait, retry_after }
    }

    fn plan_faults(&self) -> FaultPlan {
        let mut guard = self.lock();
        let settings = &mut *guard;
        let f = &settings.faults;
        let dice = &mut settings.dice;
        let mut roll = || dice.gen::<f64>();
        let (server, unavailable, with_retry, retry_secs) = (roll(), roll(), roll(), roll());
        let (slow, null_fields, empty_next, malformed, truncated, cut) =
            (roll(), roll(), roll(), roll(), roll(), roll());
        let server_error = (server < f.server_error).then(|| {
            if unavailable < 0.5 {
                ServerError {
                    status: StatusCode::SERVICE_UNAVAILABLE,
                    retry_after_secs: (with_retry < 0.5).then_some(1 + (retry_secs * 5.0) as u64),
                }
            } else {
                ServerError { status: StatusCode::INTERNAL_SERVER_ERROR, retry_after_secs: None }
            }
        });
        FaultPlan {
            server_error,
            slow: (slow < f.slow).then_some(f.slow_delay),
            null_fields: null_fields < f.null_fields,
            empty_next: empty_next < f.empty_next,
            malformed_json: malformed < f.malformed_json,
            // A body is either malformed or truncated; both at once would test nothing more.
            truncated: malformed >= f.malformed_json && truncated < f.truncated,
            cut: 0.25 + cut * 0.5,
            varies: f.variance > 0.0 || f.garbled_permissions > 0.0,
        }
    }
}

/// Puts the Atlassian API routes behind the guard, adds the 410 of Jira's removed search endpoints
/// and answers unknown paths with a 404 in the product's shape.
pub fn wrap(api: Router<SimState>, state: SimState) -> Router {
    Router::new()
        .merge(removed_search_routes())
        .merge(api)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), inject_faults))
        .layer(middleware::from_fn_with_state(state.clone(), rate_limit))
        .layer(middleware::from_fn_with_state(state.clone(), authenticate))
        .with_state(state)
}

/// `/rest/api/{2,3}/search` were removed from Jira Cloud in 2025 (CHANGE-2046) and answer 410 Gone.
fn removed_search_routes() -> Router<SimState> {
    Router::new()
        .route("/rest/api/3/search", get(search_gone).post(search_gone))
        .route("/rest/api/2/search", get(search_gone).post(search_gone))
}

async fn search_gone() -> Response {
    common::error_response(
        Product::Jira,
        StatusCode::GONE,
        "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. \
         See https://developer.atlassian.com/changelog/#CHANGE-2046",
    )
}

async fn not_found(uri: Uri) -> Response {
    let path = uri.path();
    common::error_response(common::product_of(path), StatusCode::NOT_FOUND, &format!("no resource at {path}"))
}

/// Whether the request carries HTTP Basic credentials equal to `credentials`.
///
/// Both sides are hashed before comparing, so the comparison takes the same time whatever the
/// lengths and contents.
pub fn is_authorized(headers: &HeaderMap, credentials: &Credentials) -> bool {
    let Some(given) = basic_credentials(headers) else {
        return false;
    };
    let expected = format!("{}:{}", credentials.email, credentials.token);
    let (a, b) = (Sha256::digest(&given), Sha256::digest(expected.as_bytes()));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The decoded `user:password` bytes of a Basic `Authorization` header.
fn basic_credentials(headers: &HeaderMap) -> Option<Vec<u8>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()
}

/// Whether a raw (undecoded) path spells an unreserved character (`A-Z a-z 0-9 - . _ ~`) as `%XX`. A
/// segment that is only an encoded `.` or `..` is not counted: left as it is, it would be a dot-segment.
fn encodes_unreserved(raw_path: &str) -> bool {
    raw_path
        .split('/')
        .filter(|s| !s.eq_ignore_ascii_case("%2e") && !s.eq_ignore_ascii_case("%2e%2e"))
        .any(segment_encodes_unreserved)
}

fn segment_encodes_unreserved(segment: &str) -> bool {
    segment.as_bytes().windows(3).any(|w| {
        w[0] == b'%'
            && std::str::from_utf8(&w[1..])
                .ok()
                .and_then(|hex| u8::from_str_radix(hex, 16).ok())
                .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
    })
}

/// The 401 Atlassian answers to a missing or wrong credential. It never repeats what was sent.
pub fn unauthorized(product: Product) -> Response {
    let mut response = common::error_response(
        product,
        StatusCode::UNAUTHORIZED,
        "Client must be authenticated to access this resource.",
    );
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"Atlassian Cloud\""));
    response
}

/// Who a request to the API comes from: the site admin, an account holding a token issued by
/// `POST /_sim/tokens`, or the [`Credentials::limited`] pair (neither has admin rights). Handlers of admin-only endpoints take it and answer
/// 403 to anyone but the admin. A request that did not pass through the guard counts as the admin's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    Admin,
    User(String),
    /// The [`Credentials::limited`] pair: a member of the site without admin rights and outside its
    /// directory.
    Member,
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts.extensions.get::<Caller>().cloned().unwrap_or(Caller::Admin))
    }
}

/// The account whose issued token (not the admin's) the request carries.
fn token_holder(headers: &HeaderMap, state: &SimState) -> Option<String> {
    let given = basic_credentials(headers)?;
    let (email, token) = std::str::from_utf8(&given).ok()?.split_once(':')?;
    let tokens = state.tokens.read().unwrap_or_else(|e| e.into_inner());
    let issued = tokens.get(token)?;
    let (a, b) = (Sha256::digest(email.as_bytes()), Sha256::digest(issued.email.as_bytes()));
    let same = a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0;
    same.then(|| issued.account_id.clone())
}

async fn authenticate(State(state): State<SimState>, mut req: Request, next: Next) -> Response {
    bump(&state.guard.counters.requests);
    let route = match req.extensions().get::<MatchedPath>() {
        Some(matched) => format!("{} {}", req.method(), matched.as_str()),
        None => format!("{} {:?} (no route)", req.method(), common::product_of(req.uri().path())),
    };
    state.guard.count_route(route);
    if encodes_unreserved(req.uri().path()) {
        bump(&state.guard.counters.over_encoded_paths);
        tracing::debug!(path = req.uri().path(), "path percent-encodes an unreserved character");
    }
    if req.uri().path().starts_with(MEDIA_PREFIX) {
        return next.run(req).await;
    }
    let caller = if is_authorized(req.headers(), &state.credentials) {
        Caller::Admin
    } else if is_authorized(req.headers(), &state.credentials.limited()) {
        Caller::Member
    } else if let Some(account) = token_holder(req.headers(), &state) {
        Caller::User(account)
    } else {
        bump(&state.guard.counters.unauthorized);
        tracing::debug!(path = req.uri().path(), "rejected request without valid credentials");
        return unauthorized(common::product_of(req.uri().path()));
    };
    req.extensions_mut().insert(caller);
    next.run(req).await
}

async fn rate_limit(State(state): State<SimState>, req: Request, next: Next) -> Response {
    if req.uri().path().starts_with(MEDIA_PREFIX) {
        return next.run(req).await;
    }
    let product = common::product_of(req.uri().path());
    let target = format!("{} {}", req.method(), req.uri());
    if let Some(wait) = state.guard.refuse_first_call(&target) {
        return too_many_requests(product, None, wait, true);
    }
    match state.guard.admit(Instant::now()) {
        Admission::Unlimited => next.run(req).await,
        Admission::Admitted { limit, remaining } => {
            let mut response = next.run(req).await;
            let headers = response.headers_mut();
            headers.insert("X-RateLimit-Limit", HeaderValue::from(limit));
            headers.insert("X-RateLimit-Remaining", HeaderValue::from(remaining));
            if f64::from(remaining) < 0.2 * f64::from(limit) {
                headers.insert("X-RateLimit-NearLimit", HeaderValue::from_static("true"));
            }
            response
        }
        Admission::Refused { limit, wait, retry_after } => {
            too_many_requests(product, Some(limit), wait, retry_after)
        }
    }
}

fn too_many_requests(product: Product, limit: Option<u32>, wait: Duration, retry_after: bool) -> Response {
    let mut response = common::error_response(product, StatusCode::TOO_MANY_REQUESTS, "Rate limit exceeded.");
    let reason = match product {
        Product::Jira => "jira-burst-based",
        Product::ConfluenceV1 | Product::ConfluenceV2 => "confluence-burst-based",
    };
    let wait_secs = wait.as_secs_f64().ceil().max(1.0) as u64;
    // Atlassian's reset time has minute resolution; round up so it never lies in the past.
    let reset = chrono::Utc::now() + chrono::Duration::seconds(wait_secs as i64 + 59);
    let headers = response.headers_mut();
    headers.insert("RateLimit-Reason", HeaderValue::from_static(reason));
    if let Some(limit) = limit {
        headers.insert("X-RateLimit-Limit", HeaderValue::from(limit));
    }
    headers.insert("X-RateLimit-Remaining", HeaderValue::from(0u32));
    if let Ok(v) = HeaderValue::from_str(&reset.format("%Y-%m-%dT%H:%MZ").to_string()) {
        headers.insert("X-RateLimit-Reset", v);
    }
    if retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(wait_secs));
    }
    response
}

/// The parts of a request the fault layer needs after the handler has consumed it.
struct RequestInfo {
    product: Product,
    path: String,
    query: Option<String>,
}

async fn inject_faults(State(state): State<SimState>, req: Request, next: Next) -> Response {
    // Only known API routes are faulty; 404s, 405s and other methods stay as they are.
    let faultable = matches!(*req.method(), Method::GET | Method::POST)
        && req.extensions().get::<MatchedPath>().is_some();
    if !faultable {
        return next.run(req).await;
    }
    let guard = &state.guard;
    let info = RequestInfo {
        product: common::product_of(req.uri().path()),
        path: req.uri().path().to_string(),
        query: req.uri().query().map(str::to_string),
    };
    let plan = guard.plan_faults();
    if let Some(delay) = plan.slow {
        bump(&guard.counters.slow);
        tokio::time::sleep(delay).await;
    }
    if let Some(error) = plan.server_error {
        bump(&guard.counters.server_errors);
        return server_error(info.product, error);
    }
    if guard.is_broken(&info.path, info.query.as_deref()) {
        bump(&guard.counters.server_errors);
        let error = ServerError { status: StatusCode::INTERNAL_SERVER_ERROR, retry_after_secs: None };
        return server_error(info.product, error);
    }
    let req = match take_empty_page(req).await {
        Ok(req) => req,
        Err(response) => return response,
    };
    let response = next.run(req).await;
    apply_body_faults(guard, &info, plan, response).await
}

fn server_error(product: Product, error: ServerError) -> Response {
    let message = match error.status {
        StatusCode::SERVICE_UNAVAILABLE => "Service temporarily unavailable.",
        _ => "Internal server error.",
    };
    let mut response = common::error_response(product, error.status, message);
    if let Some(secs) = error.retry_after_secs {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    response
}

/// Answers a request for a page the fault layer invented (its cursor or token is one made by
/// [`empty_page_token`]); passes every other request on, unchanged.
async fn take_empty_page(req: Request) -> Result<Request, Response> {
    let from_query = req.uri().query().and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes())
            .filter(|(k, _)| k == "cursor" || k == "nextPageToken")
            .find_map(|(_, v)| empty_page_of(&v))
    });
    if let Some(page) = from_query {
        return Err(common::json_response(StatusCode::OK, page));
    }
    if req.method() != Method::POST {
        return Ok(req);
    }
    let (parts, body) = req.into_parts();
    let product = common::product_of(parts.uri.path());
    let bytes = match axum::body::to_bytes(body, MAX_POST_BODY).await {
        Ok(bytes) => bytes,
        Err(_) => {
            return Err(common::error_response(
                product,
                StatusCode::PAYLOAD_TOO_LARGE,
                "request body too large",
            ))
        }
    };
    let from_body = serde_json::from_slice::<Value>(&bytes)
        .ok()
        .and_then(|v| v.get("nextPageToken").and_then(Value::as_str).and_then(empty_page_of));
    match from_body {
        Some(page) => Err(common::json_response(StatusCode::OK, page)),
        None => Ok(Request::from_parts(parts, Body::from(bytes))),
    }
}

/// An invented cursor carries the empty page it leads to, so answering it needs no memory.
fn empty_page_token(page: &Value) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("{EMPTY_PAGE_TAG}{page}"))
}

fn empty_page_of(token: &str) -> Option<Value> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    serde_json::from_str(text.strip_prefix(EMPTY_PAGE_TAG)?).ok()
}

async fn apply_body_faults(
    guard: &Guard,
    info: &RequestInfo,
    plan: FaultPlan,
    response: Response,
) -> Response {
    if !response.status().is_success() || !plan.touches_body() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    if body.size_hint().upper().is_none_or(|n| n > MAX_FAULT_BODY) {
        return Response::from_parts(parts, body);
    }
    let mut bytes = match axum::body::to_bytes(body, MAX_FAULT_BODY as usize).await {
        Ok(bytes) => bytes,
        Err(e) => {
            tracing::warn!(path = info.path, error = %e, "response body failed while injecting faults");
            return common::error_response(
                info.product,
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error.",
            );
        }
    };
    let is_json = common::header_str(&parts.headers, header::CONTENT_TYPE.as_str())
        .is_some_and(|t| t.starts_with("application/json"));

    if is_json && (plan.null_fields || plan.empty_next || plan.varies) {
        if let Ok(mut value) = serde_json::from_slice::<Value>(&bytes) {
            let mut changed = plan.varies && guard.vary_answer(&mut value);
            if plan.null_fields && null_fields(&mut value, info.product) > 0 {
                bump(&guard.counters.null_fields);
                changed = true;
            }
            if plan.empty_next {
                if let Some(next_link) = add_empty_next(&mut value, info) {
                    bump(&guard.counters.empty_next);
                    changed = true;
                    if info.product == Product::ConfluenceV2 {
                        if let Ok(v) = HeaderValue::from_str(&format!("<{next_link}>; rel=\"next\"")) {
                            parts.headers.insert(header::LINK, v);
                        }
                    }
                }
            }
            if changed {
                // Serialising a Value parsed from JSON cannot fail; keep the old body if it somehow does.
                bytes = serde_json::to_vec(&value).map(Bytes::from).unwrap_or(bytes);
            }
        }
    }

    // The body changed length: let the server compute it again (or set it below, on purpose, wrong).
    parts.headers.remove(header::CONTENT_LENGTH);
    if is_json && plan.malformed_json {
        bump(&guard.counters.malformed_json);
        let cut = cut_point(bytes.len(), plan.cut);
        let mut broken = bytes[..cut].to_vec();
        broken.extend_from_slice(GARBAGE);
        return Response::from_parts(parts, Body::from(broken));
    }
    if plan.truncated && !bytes.is_empty() {
        bump(&guard.counters.truncated);
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
        let sent = bytes.slice(..cut_point(bytes.len(), plan.cut));
        return Response::from_parts(parts, Body::from_stream(CutShort::new(sent)));
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A body stream that yields its bytes, lets the server flush them, then fails.
///
/// A stream has no known length, so the server trusts the `Content-Length` set beside it; when the
/// stream fails the server aborts the connection and the client sees an incomplete body. The one
/// `Pending` in between makes the server write the headers and the first bytes before it aborts,
/// as a connection dropped mid-transfer would.
struct CutShort {
    step: CutStep,
}

enum CutStep {
    Send(Bytes),
    Flush,
    Fail,
}

impl CutShort {
    fn new(sent: Bytes) -> Self {
        CutShort { step: CutStep::Send(sent) }
    }
}

impl futures_core::Stream for CutShort {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        match std::mem::replace(&mut self.step, CutStep::Fail) {
            CutStep::Send(bytes) => {
                self.step = CutStep::Flush;
                Poll::Ready(Some(Ok(bytes)))
            }
            CutStep::Flush => {
                cx.waker().wake_by_ref();
                Poll::Pending
            }
            CutStep::Fail => Poll::Ready(Some(Err(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated connection drop",
            )))),
        }
    }
}

/// Where to cut a body of `len` bytes: at least one byte kept and at least one dropped when possible.
fn cut_point(len: usize, fraction: f64) -> usize {
    if len < 2 {
        return 0;
    }
    ((len as f64 * fraction) as usize).clamp(1, len - 1)
}

/// Sets to `null` every field of the product's nullable list found in `value`; returns how many.
fn null_fields(value: &mut Value, product: Product) -> usize {
    let rules = match product {
        Product::Jira => JIRA_NULLABLE,
        Product::ConfluenceV1 | Product::ConfluenceV2 => CONFLUENCE_NULLABLE,
    };
    null_paths(value, rules)
}

fn null_paths(value: &mut Value, rules: &[&[&str]]) -> usize {
    let mut count = 0;
    match value {
        Value::Object(map) => {
            for rule in rules {
                if let Some(leaf) = field_at(map, rule) {
                    if !leaf.is_null() {
                        *leaf = Value::Null;
                        count += 1;
                    }
                }
            }
            for child in map.values_mut() {
                count += null_paths(child, rules);
            }
        }
        Value::Array(items) => {
            for item in items {
                count += null_paths(item, rules);
            }
        }
        _ => {}
    }
    count
}

fn field_at<'a>(map: &'a mut Map<String, Value>, path: &[&str]) -> Option<&'a mut Value> {
    let (first, rest) = path.split_first()?;
    let field = map.get_mut(*first)?;
    if rest.is_empty() {
        return Some(field);
    }
    match field {
        Value::Object(inner) => field_at(inner, rest),
        _ => None,
    }
}

/// If `value` is the last page of a listing, makes it claim one more page and returns the next link
/// (Confluence) or token (Jira). That page is empty and last; [`take_empty_page`] serves it.
///
/// Listings are recognised by shape: Confluence `{"results": [...], "_links": {...}}` without
/// `_links.next`; Jira enhanced search `{"issues": [...], "isLast": true}`.
fn add_empty_next(value: &mut Value, info: &RequestInfo) -> Option<String> {
    let map = value.as_object_mut()?;
    match info.product {
        Product::Jira => {
            if !map.get("issues").is_some_and(Value::is_array)
                || map.get("isLast") != Some(&Value::Bool(true))
            {
                return None;
            }
            let mut empty = map.clone();
            empty.insert("issues".into(), json!([]));
            empty.remove("nextPageToken");
            let token = empty_page_token(&Value::Object(empty));
            map.insert("isLast".into(), Value::Bool(false));
            map.insert("nextPageToken".into(), Value::String(token.clone()));
            Some(token)
        }
        Product::ConfluenceV1 | Product::ConfluenceV2 => {
            if !map.get("results").is_some_and(Value::is_array) {
                return None;
            }
            let links = map.get("_links")?.as_object()?;
            if links.contains_key("next") {
                return None;
            }
            let mut empty = map.clone();
            empty.insert("results".into(), json!([]));
            if let (Some(start), Some(size)) =
                (map.get("start").and_then(Value::as_u64), map.get("size").and_then(Value::as_u64))
            {
                empty.insert("start".into(), json!(start + size));
                empty.insert("size".into(), json!(0));
            }
            let next = next_link(info, &empty_page_token(&Value::Object(empty)));
            if let Some(Value::Object(links)) = map.get_mut("_links") {
                links.insert("next".into(), Value::String(next.clone()));
            }
            Some(next)
        }
    }
}

/// The request's own URL with `cursor` replaced. Confluence v2 next links start with `/wiki`;
/// v1 links are relative to the `/wiki` context, as Atlassian serves them.
fn next_link(info: &RequestInfo, cursor: &str) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if let Some(q) = &info.query {
        for (k, v) in url::form_urlencoded::parse(q.as_bytes()) {
            if k != "cursor" {
                query.append_pair(&k, &v);
            }
        }
    }
    query.append_pair("cursor", cursor);
    let path = match info.product {
        Product::ConfluenceV1 => info.path.strip_prefix("/wiki").unwrap_or(&info.path),
        _ => info.path.as_str(),
    };
    format!("{path}?{}", query.finish())
}

impl IntoResponse for GuardStats {
    fn into_response(self) -> Response {
        axum::Json(json!({
            "requests": self.requests,
            "unauthorized": self.unauthorized,
            "rateLimited": self.rate_limited,
            "serverErrors": self.server_errors,
            "slow": self.slow,
            "truncated": self.truncated,
            "malformedJson": self.malformed_json,
            "emptyNext": self.empty_next,
            "nullFields": self.null_fields,
            "firstCallRefusals": self.first_call_refusals,
            "overEncodedPaths": self.over_encoded_paths,
            "varied": self.varied,
            "garbledFields": self.garbled_fields,
        }))
        .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn creds() -> Credentials {
        Credentials { email: "admin@example.com".into(), token: "t0k3n".into() }
    }

    fn basic(user_pass: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        let v = format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(user_pass));
        h.insert(header::AUTHORIZATION, HeaderValue::from_str(&v).unwrap());
        h
    }

    #[test]
    fn basic_auth_table() {
        let cases: &[(&str, Option<HeaderMap>, bool)] = &[
            ("right", Some(basic("admin@example.com:t0k3n")), true),
            ("wrong token", Some(basic("admin@example.com:t0k3")), false),
            ("wrong email", Some(basic("root@example.com:t0k3n")), false),
            ("token only", Some(basic("t0k3n")), false),
            ("missing", None, false),
        ];
        for (name, headers, want) in cases {
            let headers = headers.clone().unwrap_or_default();
            assert_eq!(is_authorized(&headers, &creds()), *want, "{name}");
        }
        let mut bearer = HeaderMap::new();
        bearer.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer t0k3n"));
        assert!(!is_authorized(&bearer, &creds()));
    }

    #[test]
    fn over_encoded_unreserved_characters_are_noticed() {
        let cases = [
            ("/wiki/rest/api/group/a-b.c_d~e/membersByGroupId", false),
            ("/wiki/rest/api/group/a%20b%C3%A4%2F%3F%23%25/membersByGroupId", false),
            ("/wiki/rest/api/group/a%2Db/membersByGroupId", true),
            ("/x/%2e%2E", false),
            ("/x/%2e%2Ex", true),
            ("/x/%5f", true),
            ("/x/%7E", true),
            ("/x/%41", true),
            ("/x/%zz%", false),
        ];
        for (path, expected) in cases {
            assert_eq!(encodes_unreserved(path), expected, "{path}");
        }
    }

    #[test]
    fn null_paths_touch_only_listed_fields() {
        let mut v = json!({
            "results": [{"id": "1", "position": 3, "version": {"number": 2, "message": "m", "authorId": "a"},
                          "_links": {"tinyui": "/x/1", "webui": "/w"}}],
            "_links": {"base": "http://h/wiki"}
        });
        assert_eq!(null_fields(&mut v, Product::ConfluenceV2), 4);
        let page = &v["results"][0];
        assert!(page["position"].is_null() && page["version"]["message"].is_null());
        assert!(page["version"]["authorId"].is_null() && page["_links"]["tinyui"].is_null());
        assert_eq!(page["version"]["number"], 2);
        assert_eq!(page["_links"]["webui"], "/w");
        assert_eq!(page["id"], "1");
        assert_eq!(v["_links"]["base"], "http://h/wiki");
    }

    #[test]
    fn empty_next_only_on_last_pages() {
        let info =
            |product, path: &str| RequestInfo { product, path: path.into(), query: Some("limit=2".into()) };
        let v2 = info(Product::ConfluenceV2, "/wiki/api/v2/pages");
        let jira = info(Product::Jira, "/rest/api/3/search/jql");
        let cases: Vec<(&RequestInfo, Value, bool)> = vec![
            (&v2, json!({"results": [], "_links": {"base": "b"}}), true),
            (&v2, json!({"results": [], "_links": {"next": "/wiki/api/v2/pages?cursor=x"}}), false),
            (&v2, json!({"id": "1", "_links": {"webui": "/w"}}), false),
            (&jira, json!({"issues": [{"id": "1"}], "isLast": true}), true),
            (&jira, json!({"issues": [], "isLast": false, "nextPageToken": "t"}), false),
            (&jira, json!({"values": [], "isLast": true}), false),
        ];
        for (info, mut page, want) in cases {
            let before = page.clone();
            let next = add_empty_next(&mut page, info);
            assert_eq!(next.is_some(), want, "{before}");
            if !want {
                assert_eq!(page, before);
            }
        }
    }

    #[test]
    fn invented_cursor_leads_to_empty_last_page() {
        let info = RequestInfo {
            product: Product::ConfluenceV1,
            path: "/wiki/rest/api/content/search".into(),
            query: Some("cql=type%3Dpage&cursor=abc".into()),
        };
        let mut page = json!({"results": [{"id": "1"}], "start": 0, "size": 1, "_links": {"base": "b"}});
        let next = add_empty_next(&mut page, &info).unwrap();
        assert!(next.starts_with("/rest/api/content/search?cql=type%3Dpage&cursor="), "{next}");
        assert_eq!(page["_links"]["next"], next.as_str());
        let cursor = next.rsplit_once("cursor=").unwrap().1;
        let empty = empty_page_of(cursor).unwrap();
        assert_eq!(empty["results"], json!([]));
        assert_eq!(empty["start"], 1);
        assert_eq!(empty["size"], 0);
        assert!(empty["_links"].get("next").is_none());
    }

    #[test]
    fn cut_points_keep_and_drop_something() {
        for (len, fraction, want) in [(0, 0.5, 0), (1, 0.5, 0), (2, 0.01, 1), (2, 0.99, 1), (100, 0.5, 50)] {
            assert_eq!(cut_point(len, fraction), want, "len {len} fraction {fraction}");
        }
    }

    #[test]
    fn garbage_after_any_prefix_is_not_json() {
        let body = serde_json::to_vec(&json!({"a": "text with \\\" quote", "b": [1, 2.5, null]})).unwrap();
        for cut in 0..body.len() {
            let mut broken = body[..cut].to_vec();
            broken.extend_from_slice(GARBAGE);
            assert!(serde_json::from_slice::<Value>(&broken).is_err(), "cut at {cut}");
        }
    }

    #[test]
    fn plans_replay_with_the_same_seed() {
        let mut config = SimConfig::new(1, crate::sim::Scale::Tiny);
        config.faults = FaultConfig { seed: 7, server_error: 0.3, truncated: 0.3, ..FaultConfig::default() };
        let draw = |g: &Guard| (0..50).map(|_| format!("{:?}", g.plan_faults())).collect::<Vec<_>>();
        let first = draw(&Guard::new(&config));
        assert_eq!(first, draw(&Guard::new(&config)));
        config.faults.seed = 8;
        assert_ne!(first, draw(&Guard::new(&config)));
    }
}
