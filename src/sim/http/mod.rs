//! The simulator's HTTP face: Atlassian's REST API over a [`Site`], plus the `/_sim/` admin routes.
//!
//! [`app`] builds the router from a [`SimState`]; [`serve`] runs it on a bound listener until shutdown,
//! so tests use port 0. Each product's routes live beside their handlers (`confluence_v2.rs`,
//! `confluence_v1.rs`, `jira.rs`, `service_desk.rs`); cross-cutting behaviour (auth, rate limits, faults, 404s) is in
//! middleware (`guard.rs`). Wire JSON is built here and nowhere else. Sign-in (Atlassian's OAuth 2.0
//! endpoints and an OpenID provider) is in `oauth.rs` and `oidc.rs`, outside the guard.

pub mod admin;
pub mod common;
pub mod confluence_v1;
pub mod confluence_v2;
pub mod guard;
pub mod inline_comments;
pub mod jira;
pub mod jql;
pub mod oauth;
pub mod oidc;
pub mod service_desk;
pub mod space_roles;
pub mod variance;

use std::sync::{Arc, RwLock};

use axum::Router;

use super::{SimConfig, Site};

/// The admin credential the simulated site accepts for HTTP Basic auth.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    pub email: String,
    pub token: String,
}

/// A token issued for one account by `POST /_sim/tokens`: it signs in as that account, without admin
/// rights.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssuedToken {
    pub email: String,
    pub account_id: String,
}

impl Credentials {
    /// A second credential the site accepts, whose account lacks Jira's Administer right: permission
    /// schemes, issue security schemes and application roles answer it 403, as Jira Cloud answers an
    /// account without "Administer Jira". Derived from the admin credential, so it needs no configuration.
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
    /// Tokens issued to accounts other than the admin, by token.
    pub tokens: Arc<RwLock<std::collections::BTreeMap<String, IssuedToken>>>,
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
            tokens: Arc::default(),
            oauth: Arc::default(),
        }
    }

    /// Issues (or gives again) the API token of `account_id`, which signs in without admin rights; `None`
    /// for an account the site does not have. The token is derived from the site's seed and the account,
    /// so a restarted simulator issues the same one.
    pub fn issue_token(&self, account_id: &str) -> Option<Credentials> {
        let (email, seed) = {
            let site = self.read();
            (site.user(account_id)?.email.clone(), site.seed)
        };
        use sha2::Digest;
        let digest = sha2::Sha256::digest(format!("permdex-sim-user-token:{seed}:{account_id}").as_bytes());
        let hex: String = digest.iter().take(24).map(|b| format!("{b:02x}")).collect();
        let token = format!("ATATT3xSimUser{}", hex.to_uppercase());
        let issued = IssuedToken { email: email.clone(), account_id: account_id.to_string() };
        self.tokens.write().unwrap_or_else(|e| e.into_inner()).insert(token.clone(), issued);
        Some(Credentials { email, token })
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
    let atlassian = Router::new()
        .merge(confluence_v2::routes())
        .merge(inline_comments::routes())
        .merge(space_roles::routes())
        .merge(confluence_v1::routes())
        .merge(jira::routes())
        .merge(service_desk::routes());
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
