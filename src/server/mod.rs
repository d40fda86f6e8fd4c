//! The query server: an axum app answering searches for authenticated callers, with an admin API, health,
//! metrics and an OpenAPI description.
//!
//! - [`auth`]: who is calling (bearer JWT or API key → account → principals from the synced directory;
//!   the admin key for the admin API).
//! - [`search`]: `GET /api/v1/search` and the [`SearchIndex`] it runs on; [`document`]: one document's
//!   text as the caller may read it (`GET /api/v1/documents/{source}/{id}`), through the same index.
//! - [`admin`]: sources and runs, start a sync, purge a source's documents, replace a token; the [`SyncRunner`] doing
//!   the work. [`onboard`]: what a token can see on a site, and a source added to the configuration file;
//!   `live.rs`: that source served, listed, followed and synced at once, without a restart;
//!   `remove.rs`: a source removed from the configuration file and from the running server, its documents
//!   no longer served from the moment the removal is answered; `reschedule.rs`: a source's sync schedule
//!   changed in the file and taken by the running server.
//! - [`login`]: signing in from the browser (Atlassian, OpenID Connect) and the session cookie.
//! - [`health`], [`metrics`], [`openapi`]: `/healthz` and `/readyz`, `/metrics`, `/api/v1/openapi.json`.
//! - [`error`]: [`ApiError`], the one JSON error shape.
//! - [`backend`]: the real [`SearchIndex`], [`Callers`] and [`SyncRunner`] over `crate::search` and
//!   `crate::sync`, and `permdex serve`.
//!
//! [`app`] builds the router from an [`AppState`]; [`serve`] runs it on a bound listener until a shutdown
//! future resolves, so tests serve on `127.0.0.1:0`, through `listen.rs` (a connection cap and a deadline
//! for each request's headers). Every route goes through the same layers: tracing (paths only: query
//! strings hold search terms, logged only when `server.log_search_terms` is set), `nosniff` on every
//! response, JSON error bodies, metrics, limits on the request head (`head.rs`), a timeout, a body-size
//! limit and a global concurrency limit.
//!
//! Invariant: no handler answers with a document, count, facet or snippet that did not go through the
//! [`SearchIndex`]'s permission filter for the caller; the server never builds principals from the request.
//!
//! This module knows neither tantivy nor Atlassian JSON. Only [`backend`] knows the search library and the
//! sync engine; handlers see them through [`SearchIndex`] and [`SyncRunner`], so they are tested with fakes.

pub mod admin;
pub mod auth;
pub mod backend;
pub mod document;
pub mod error;
mod head;
pub mod health;
mod listen;
mod live;
pub mod login;
pub mod metrics;
pub mod onboard;
pub mod openapi;
pub mod remove;
pub mod reschedule;
pub mod schedule;
pub mod search;
mod trim;
pub mod watch;
pub mod web;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, Method};
use axum::response::IntoResponse;
use axum::routing::{get, MethodRouter};
use axum::Router;
use tower::limit::GlobalConcurrencyLimitLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::{DefaultOnFailure, TraceLayer};

pub use admin::{SourceStatus, Sources, SyncRunner};
pub use auth::{Authenticator, Caller, Callers, SourcePrincipals, StaticCallers};
pub use error::{ApiError, BackendError};
pub use metrics::Metrics;
pub use search::{SearchIndex, SearchQuery, SearchResults};
pub use web::DemoUser;

use crate::config::{ConnectionLimits, ServerConfig};

/// Errors of starting or running the server.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("server.jwt_public_key_file {}: not an RSA or EC public key in PEM: {reason}", path.display())]
    JwtKey { path: PathBuf, reason: String },
    #[error("tokens can only be minted with an HS256 secret (server.jwt_hs256_secret_env); a public key cannot sign")]
    CannotMint,
    #[error("no jwt key configured: set server.jwt_hs256_secret_env in the config file")]
    NoJwtKey,
    #[error("cannot sign token: {0}")]
    Sign(String),
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: std::net::SocketAddr, source: std::io::Error },
    #[error("server failed: {0}")]
    Serve(#[source] std::io::Error),
    #[error(transparent)]
    KeysNotRead(#[from] crate::config::SecretNotRead),
}

/// Limits every request is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A request not answered in this time gets 503 `timeout` (its work is dropped).
    pub request_timeout: Duration,
    /// Larger request bodies get 413 `payload_too_large`.
    pub max_body_bytes: usize,
    /// Requests handled at once across all routes; more wait (within their timeout).
    pub max_concurrent_requests: usize,
    /// Open connections and how long a request's headers (or the next request on an idle connection)
    /// may take.
    pub connections: ConnectionLimits,
    /// Whether request spans (at debug level) carry the query string, which holds search terms.
    pub log_search_terms: bool,
}

impl Limits {
    /// The defaults with the connection limits and logging choice of `[server]`.
    pub fn from_config(server: &ServerConfig) -> Limits {
        Limits {
            connections: server.connections(),
            log_search_terms: server.log_search_terms(),
            ..Limits::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
            max_concurrent_requests: 64,
            connections: ConnectionLimits::default(),
            log_search_terms: false,
        }
    }
}

/// Everything handlers share. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub(crate) auth: Arc<Authenticator>,
    pub(crate) callers: Arc<dyn Callers>,
    pub(crate) index: Arc<dyn SearchIndex>,
    pub(crate) sources: Arc<Sources>,
    pub(crate) metrics: Arc<Metrics>,
    /// The users `GET /api/v1/demo/users` lists: `Some` only in demo mode.
    pub(crate) demo_users: Option<Arc<Vec<DemoUser>>>,
    /// Sign-in providers and browser sessions (none configured: bearer tokens and API keys only).
    pub(crate) login: Arc<login::Login>,
    /// The configuration file the server was started with: sources are added to it.
    pub(crate) config_file: Option<Arc<std::path::Path>>,
    /// Held while the configuration file is being changed.
    pub(crate) config_edit: Arc<tokio::sync::Mutex<()>>,
    /// Each source's sync schedule, when the server syncs on schedules (`permdex serve` does).
    pub(crate) schedules: Option<Arc<schedule::Schedules>>,
    /// Read-held by every search and document request until its answer is made; a source's removal
    /// takes it for writing once the source is no longer served, so that it is answered only after every
    /// answer that may hold the source's documents (`remove.rs`).
    pub(crate) answering: Arc<tokio::sync::RwLock<()>>,
    limits: Limits,
}

impl AppState {
    pub fn new(
        auth: Authenticator,
        callers: Arc<dyn Callers>,
        index: Arc<dyn SearchIndex>,
        sources: Sources,
    ) -> AppState {
        AppState {
            login: Arc::new(login::Login::none()),
            auth: Arc::new(auth),
            callers,
            index,
            sources: Arc::new(sources),
            metrics: Arc::new(Metrics::default()),
            demo_users: None,
            config_file: None,
            config_edit: Arc::default(),
            schedules: None,
            answering: Arc::default(),
            limits: Limits::default(),
        }
    }

    /// Sources added through the admin API are written to `file`.
    pub fn with_config_file(self, file: &std::path::Path) -> AppState {
        AppState { config_file: Some(Arc::from(file)), ..self }
    }

    /// Sources are synced on their schedules: those configured once [`backend::Service::serve`] starts
    /// them, a source added while the server runs from when it is added.
    pub fn with_schedules(self) -> AppState {
        AppState { schedules: Some(Arc::default()), ..self }
    }

    pub fn with_limits(self, limits: Limits) -> AppState {
        AppState { limits, ..self }
    }

    /// Demo mode: `GET /api/v1/demo/users` lists `users` with their tokens, for anyone to sign in as.
    pub fn with_demo_users(self, users: Vec<DemoUser>) -> AppState {
        AppState { demo_users: Some(Arc::new(users)), ..self }
    }

    /// Browser sign-in with the providers `login` configures.
    pub fn with_login(self, login: login::Login) -> AppState {
        AppState { login: Arc::new(login), ..self }
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

/// One route: its method and path template (as the OpenAPI description names them) and its handler.
pub(crate) struct Route {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Route {
    pub(crate) fn new(method: Method, path: &'static str, handler: MethodRouter<AppState>) -> Route {
        Route { method, path, handler }
    }
}

/// Every route of the app. The OpenAPI test compares this list with the description.
pub(crate) fn routes() -> Vec<Route> {
    let mut routes = health::routes();
    routes.push(Route::new(Method::GET, "/metrics", get(metrics_text)));
    routes.extend(openapi::routes());
    routes.push(Route::new(Method::GET, "/api/v1/search", get(search::search)));
    routes.push(Route::new(Method::GET, "/api/v1/documents/{source}/{id}", get(document::document)));
    routes.extend(admin::routes());
    routes.extend(onboard::routes());
    routes.extend(remove::routes());
    routes.extend(reschedule::routes());
    routes.extend(web::api_routes());
    routes
}

/// The `(method, path template)` of every route, for tests and tools.
pub fn route_list() -> Vec<(Method, &'static str)> {
    routes().into_iter().map(|r| (r.method, r.path)).collect()
}

/// The router with every route and layer, over `state`.
pub fn app(state: AppState) -> Router {
    let mut router = Router::new();
    for route in routes() {
        router = router.route(route.path, route.handler);
    }
    layered(login::routes(web::page_routes(router)).fallback(no_route), state)
}

/// Applies the server's layers to `router`: outermost first, tracing, response headers, JSON error
/// bodies, metrics, the request-head check, the timeout, the body limit, then the concurrency limit right
/// around the handler, so a request waiting for a slot counts against its timeout.
pub(crate) fn layered(router: Router<AppState>, state: AppState) -> Router {
    let limits = state.limits;
    router
        .layer(GlobalConcurrencyLimitLayer::new(limits.max_concurrent_requests))
        .layer(RequestBodyLimitLayer::new(limits.max_body_bytes))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            limits.request_timeout,
        ))
        .layer(axum::middleware::from_fn(head::check_head))
        .layer(axum::middleware::from_fn_with_state(state.clone(), metrics::track))
        .layer(axum::middleware::map_response(error::json_error_bodies))
        .layer(axum::middleware::map_response(head::response_headers))
        // A 5xx that is a bug is logged at ERROR with its details where it is raised (`ApiError`); the trace
        // layer's own note of any 5xx, which includes an expected `/readyz` 503, is only a warning.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(move |request: &Request| request_span(request, limits.log_search_terms))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .with_state(state)
}

/// The debug span of a request: method and path, and the query string only when asked for.
fn request_span(request: &Request, with_query: bool) -> tracing::Span {
    let method = request.method();
    if with_query {
        tracing::debug_span!("request", %method, uri = %request.uri())
    } else {
        tracing::debug_span!("request", %method, path = %request.uri().path())
    }
}

async fn no_route(request: Request) -> ApiError {
    ApiError::NotFound(format!("no route for {}", request.uri().path()))
}

async fn metrics_text(_: auth::MetricsAccess, State(state): State<AppState>) -> impl IntoResponse {
    let acl = state.index.acl_cache();
    let external = metrics::ExternalGauges {
        acl_cache_hits: acl.hits,
        acl_cache_misses: acl.misses,
        syncs_running: state.sources.running(),
        sources: state.index.served(),
        now: chrono::Utc::now(),
    };
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render(external))
}

/// Serves [`app`] on `listener` until `shutdown` resolves, then lets requests in flight finish. HTTP/1.1
/// only (put a proxy in front for HTTP/2 and TLS).
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let connections = state.limits.connections;
    listen::serve_connections(
        listener,
        app(state),
        connections.header_read_timeout,
        connections.max_connections,
        shutdown,
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use axum::body::Body;
    use axum::http::StatusCode;
    use tower::ServiceExt;

    use super::search::{AclCacheStats, Readiness, SearchFailure};
    use super::*;
    use crate::config::{Config, Source};

    struct EmptyIndex;

    impl SearchIndex for EmptyIndex {
        fn search(&self, _: &Caller, _: &SearchQuery) -> Result<SearchResults, SearchFailure> {
            Ok(SearchResults { total: 0, hits: vec![], facets: None, next_cursor: None, withheld: vec![] })
        }
        fn document(
            &self,
            _: &Caller,
            _: &str,
            _: &str,
        ) -> Result<Option<document::DocumentBody>, SearchFailure> {
            Ok(None)
        }
        fn readiness(&self) -> Readiness {
            Readiness::Ready
        }
        fn source_problems(&self) -> BTreeMap<String, String> {
            BTreeMap::new()
        }
        fn reload(&self, _: &str) -> Result<(), BackendError> {
            Ok(())
        }
        fn acl_cache(&self) -> AclCacheStats {
            AclCacheStats::default()
        }
        fn remove_source(&self, _: &str) {}
    }

    struct IdleRunner;

    impl SyncRunner for IdleRunner {
        fn sync(
            &self,
            _: Source,
            _: crate::sync::Mode,
            _: tokio_util::sync::CancellationToken,
        ) -> admin::RunFuture {
            Box::pin(std::future::pending())
        }
        fn purge(&self, _: &Source) -> Result<(), BackendError> {
            Ok(())
        }
        fn forget(&self, _: &Source) -> Result<Vec<PathBuf>, BackendError> {
            Ok(vec![])
        }
        fn last_runs(&self, _: &str, _: usize) -> Result<Vec<admin::RunSummary>, BackendError> {
            Ok(vec![])
        }
    }

    fn state(limits: Limits) -> AppState {
        let env = BTreeMap::from([("TOK".to_owned(), "t0ken".to_owned())]);
        let text = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n";
        let config = Config::from_toml(text, Path::new("permdex.toml"), &env).unwrap();
        AppState::new(
            Authenticator::from_config(config.server()).unwrap(),
            Arc::new(StaticCallers::default()),
            Arc::new(EmptyIndex),
            Sources::new(config.sources(), Arc::new(IdleRunner)),
        )
        .with_limits(limits)
    }

    async fn call(app: &Router, path: &str) -> (StatusCode, serde_json::Value) {
        let request = Request::get(path).body(Body::empty()).unwrap();
        let response = app.clone().oneshot(request).await.unwrap();
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        (status, serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null))
    }

    /// On a paused clock: a request that never finishes is cut at the timeout with a JSON 503, and while it
    /// holds the only slot, a fast request waits for the slot until its own timeout.
    #[tokio::test(start_paused = true)]
    async fn timeout_and_concurrency_limit() {
        let limits = Limits {
            request_timeout: Duration::from_secs(10),
            max_body_bytes: 1024,
            max_concurrent_requests: 1,
            ..Limits::default()
        };
        let router = Router::new()
            .route("/slow", get(std::future::pending::<&'static str>))
            .route("/fast", get(|| async { axum::Json(serde_json::json!({"fast": true})) }));
        let app = layered(router, state(limits));

        assert_eq!(call(&app, "/fast").await, (StatusCode::OK, serde_json::json!({"fast": true})));

        let slow_app = app.clone();
        let slow = tokio::spawn(async move { call(&slow_app, "/slow").await });
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        let started = tokio::time::Instant::now();
        let (status, body) = call(&app, "/fast").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert_eq!(body["error"]["code"], "timeout");
        assert_eq!(started.elapsed(), Duration::from_secs(10), "waited for the slot until its timeout");
        let (status, body) = slow.await.unwrap();
        assert_eq!(
            (status, &body["error"]["code"]),
            (StatusCode::SERVICE_UNAVAILABLE, &serde_json::json!("timeout"))
        );

        // The slot is free again.
        assert_eq!(call(&app, "/fast").await.0, StatusCode::OK);
    }
}
