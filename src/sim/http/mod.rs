//! The simulator's HTTP face: Atlassian's REST API over a [`Site`], plus the `/_sim/` admin routes.
//!
//! [`app`] builds the router from a [`SimState`]; [`serve`] runs it on a bound listener until shutdown,
//! so tests use port 0. Each product's routes live beside their handlers (`confluence_v2.rs`,
//! `confluence_v1.rs`, `jira.rs`); cross-cutting behaviour (auth, rate limits, faults, 404s) is in
//! middleware (`guard.rs`). Wire JSON is built here and nowhere else. Sign-in (Atlassian's OAuth 2.0
//! endpoints and an OpenID provider) is in `oauth.rs` and `oidc.rs`, outside the guard.

pub mod admin;
pub mod common;
pub mod confluence_v1;
pub mod confluence_v2;
pub mod guard;
pub mod jira;
pub mod jql;
pub mod oauth;
pub mod oidc;

use std::sync::{Arc, RwLock};

use axum::Router;

use super::{SimConfig, Site};

/// The admin credential the simulated site accepts for HTTP Basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub email: String,
    pub token: String,
}

impl Credentials {
    /// A second credential the site accepts, whose account lacks Jira's Administer right: permission
    /// schemes and issue security schemes answer it 403, as Jira Cloud answers an account without
    /// "Administer Jira". Derived from the admin credential, so it needs no configuration.
    pub fn limited(&self) -> Credentials {
        let domain = self.email.split_once('@').map_or("example.com", |(_, d)| d);
        Credentials { email: format!("member@{domain}"), token: format!("{}-member", self.token) }
    }
}

/// Shared state of one running simulator. Cheap to clone.
#[derive(Clone)]
pub struct SimState {
    pub site: Arc<RwLock<Site>>,
    pub config: Arc<SimConfig>,
    pub credentials: Arc<Credentials>,
    pub guard: Arc<guard::Guard>,
    /// Sign-in: registered OAuth clients, codes, tokens and the OpenID provider's keys (`oauth.rs`).
    pub oauth: Arc<oauth::Authorizations>,
}

impl SimState {
    pub fn new(site: Site, config: SimConfig, credentials: Credentials) -> Self {
        let guard = guard::Guard::new(&config);
        SimState {
            site: Arc::new(RwLock::new(site)),
            config: Arc::new(config),
            credentials: Arc::new(credentials),
            guard: Arc::new(guard),
            oauth: Arc::default(),
        }
    }

    /// Read access to the site. A poisoned lock only means a handler panicked mid-read; the data is intact.
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Site> {
        self.site.read().unwrap_or_else(|e| e.into_inner())
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Site> {
        self.site.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The whole simulator router: the Atlassian API behind auth, rate limits and faults; the admin routes beside it.
pub fn app(state: SimState) -> Router {
    let atlassian =
        Router::new().merge(confluence_v2::routes()).merge(confluence_v1::routes()).merge(jira::routes());
    guard::wrap(atlassian, state.clone())
        .merge(admin::routes().with_state(state.clone()))
        .merge(oauth::routes().with_state(state))
}

/// Serves [`app`] on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: SimState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state)).with_graceful_shutdown(shutdown).await
}
