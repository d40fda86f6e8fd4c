//! Signing people in from the browser: Sign in with Atlassian (OAuth 2.0 "3LO") and OpenID Connect, ending
//! in a session cookie; sign out; the session behind a page's API calls.
//!
//! Routes (browser routes, not part of the JSON API's description):
//! - `GET /auth/session`: who the session is (and its CSRF token), and which sign-in buttons to show;
//! - `GET /auth/atlassian/login` → Atlassian → `GET /auth/atlassian/callback`;
//! - `GET /auth/oidc/login` → the provider → `GET /auth/oidc/callback`;
//! - `POST /auth/logout` (with the CSRF token).
//!
//! Who may sign in: Atlassian's `/me` names the account id itself. OpenID Connect names an e-mail address,
//! which maps to an account only when exactly one account of the synced directories shows that address;
//! an address the directory does not have (unknown, or hidden by the user's profile) gets a page saying
//! so, never somebody else's access. Either way the account must be an active user of a configured source,
//! and what it may read is decided per search from the directory, exactly as for a bearer token.
//!
//! Every callback checks that its `state` is the one this browser started with (a cookie), so a sign-in
//! cannot be finished in another browser (login CSRF). Client secrets are used in requests to the provider
//! only; nothing here logs them.

pub mod atlassian;
pub mod oidc;
pub mod session;

use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use serde::Deserialize;
use serde_json::json;

use self::oidc::OidcClient;
use self::session::{Provider, Session, Sessions, Transport, LOGIN_COOKIE, SESSION_COOKIE, SESSION_TTL};
use super::auth::EmailMatch;
use super::{ApiError, AppState};
use crate::config::{AccountId, AtlassianLogin, ServerConfig};

/// Requests to identity providers give up after this long.
const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a sign-in did not work, as the page tells it. Never carries a secret.
#[derive(Debug, thiserror::Error)]
pub enum LoginError {
    #[error("sign-in is misconfigured: {0}")]
    Config(String),
    #[error("{0}")]
    Provider(String),
    #[error("the identity provider gave no e-mail address, so permdex cannot tell which account is yours")]
    NoEmail,
    #[error("the identity provider says the e-mail address {0} is not verified")]
    UnverifiedEmail(String),
}

impl LoginError {
    /// Maps a transport or decoding error of a request to the provider (`what`: which request).
    fn provider(what: &'static str) -> impl Fn(reqwest::Error) -> LoginError {
        move |e| {
            tracing::warn!(request = what, error = %e.without_url(), "identity provider request failed");
            LoginError::Provider(format!("the identity provider's {what} request failed"))
        }
    }
}

/// The configured sign-in providers and the sessions they open.
pub struct Login {
    http: reqwest::Client,
    atlassian: Option<AtlassianLogin>,
    oidc: Option<OidcClient>,
    pub(crate) sessions: Sessions,
    transport: Transport,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("atlassian", &self.atlassian.is_some())
            .field("oidc", &self.oidc.is_some())
            .finish()
    }
}

impl Login {
    /// The providers `[server]` configures (possibly none: then only bearer tokens and API keys work).
    pub fn from_config(server: &ServerConfig) -> Result<Login, super::Error> {
        let http = reqwest::Client::builder()
            .timeout(PROVIDER_TIMEOUT)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| super::Error::Serve(std::io::Error::other(e.to_string())))?;
        let atlassian = server.atlassian_login().cloned();
        let oidc = server.oidc_login().cloned();
        let tls = atlassian
            .iter()
            .map(|a| &a.callback_url)
            .chain(oidc.iter().map(|o| &o.callback_url))
            .any(|u| u.scheme() == "https");
        Ok(Login {
            http,
            atlassian,
            oidc: oidc.map(OidcClient::new),
            sessions: Sessions::default(),
            transport: if tls { Transport::Tls } else { Transport::Plain },
        })
    }

    /// No sign-in providers: bearer tokens and API keys only.
    pub fn none() -> Login {
        Login {
            http: reqwest::Client::new(),
            atlassian: None,
            oidc: None,
            sessions: Sessions::default(),
            transport: Transport::Plain,
        }
    }

    /// The live session the request's cookie names.
    pub(crate) fn session(&self, headers: &HeaderMap) -> Option<Session> {
        let id = session::cookie(headers, SESSION_COOKIE)?;
        self.sessions.get(id, Utc::now())
    }

    fn providers(&self) -> serde_json::Value {
        let mut providers = Vec::new();
        if self.atlassian.is_some() {
            providers.push(json!({"id": "atlassian", "label": "Sign in with Atlassian", "href": "/auth/atlassian/login"}));
        }
        if let Some(oidc) = &self.oidc {
            providers.push(json!({"id": "oidc", "label": oidc.label(), "href": "/auth/oidc/login"}));
        }
        json!(providers)
    }
}

/// The account a session-authenticated request acts for: `None` without a session; 403 when the request
/// changes state without repeating the session's CSRF token.
pub(crate) fn session_account(
    login: &Login,
    method: &axum::http::Method,
    headers: &HeaderMap,
) -> Option<Result<AccountId, ApiError>> {
    let session = login.session(headers)?;
    if session::changes_state(method) && !session::csrf_matches(headers, &session) {
        return Some(Err(ApiError::Forbidden("missing or wrong csrf token".into())));
    }
    Some(Ok(session.account_id))
}

/// The sign-in routes, added to the page router.
pub(super) fn routes(router: Router<AppState>) -> Router<AppState> {
    router
        .route("/auth/session", get(session_info))
        .route("/auth/atlassian/login", get(atlassian_login))
        .route("/auth/atlassian/callback", get(atlassian_callback))
        .route("/auth/oidc/login", get(oidc_login))
        .route("/auth/oidc/callback", get(oidc_callback))
        .route("/auth/logout", post(logout))
}

async fn session_info(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let login = &state.login;
    let body = match login.session(&headers) {
        Some(s) => json!({
            "signed_in": true,
            "account_id": s.account_id.as_str(),
            "display_name": s.display_name,
            "csrf_token": s.csrf_token,
            "expires_at": s.expires_at.to_rfc3339(),
            "provider": match s.provider { Provider::Atlassian => "atlassian", Provider::Oidc => "oidc" },
            "providers": login.providers(),
        }),
        None => json!({"signed_in": false, "providers": login.providers()}),
    };
    let mut response = Json(body).into_response();
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A page saying why sign-in did not work, with a way back.
fn error_page(status: StatusCode, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Sign-in did not work · permdex</title>\n<link rel=\"stylesheet\" href=\"/assets/app.css\">\n</head>\n\
         <body>\n<header class=\"bar\"><a class=\"brand\" href=\"/\">permdex</a></header>\n\
         <main>\n<h1>Sign-in did not work</h1>\n<p id=\"login-error\" class=\"error\">{}</p>\n\
         <p><a href=\"/\">Back to search</a></p>\n</main>\n</body>\n</html>\n",
        quick_xml::escape::escape(message)
    );
    let mut response = (status, body).into_response();
    super::web::secure_headers(response.headers_mut(), "text/html; charset=utf-8");
    response
}

/// A redirect to `location` setting `cookies`.
fn redirect(location: &str, cookies: &[HeaderValue]) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    for cookie in cookies {
        headers.append(header::SET_COOKIE, cookie.clone());
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn login_cookie(login: &Login, state: &str, max_age: Duration) -> HeaderValue {
    session::set_cookie(LOGIN_COOKIE, state, "/auth", max_age, login.transport)
}

async fn atlassian_login(State(state): State<AppState>) -> Response {
    let login = &state.login;
    let Some(config) = &login.atlassian else {
        return error_page(StatusCode::NOT_FOUND, "Sign in with Atlassian is not configured on this server.");
    };
    let Some(st) = login.sessions.begin(Provider::Atlassian, None, None, Utc::now()) else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many sign-ins are in progress; try again shortly.",
        );
    };
    match atlassian::authorize_url(config, &st) {
        Ok(url) => redirect(url.as_str(), &[login_cookie(login, &st, session::LOGIN_TTL)]),
        Err(e) => error_page(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    }
}

async fn oidc_login(State(state): State<AppState>) -> Response {
    let login = &state.login;
    let Some(oidc) = &login.oidc else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Sign-in with OpenID Connect is not configured on this server.",
        );
    };
    let (verifier, nonce) = (session::random_token(), session::random_token());
    let Some(st) =
        login.sessions.begin(Provider::Oidc, Some(verifier.clone()), Some(nonce.clone()), Utc::now())
    else {
        return error_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Too many sign-ins are in progress; try again shortly.",
        );
    };
    match oidc.authorize_url(&login.http, &st, &nonce, &verifier).await {
        Ok(url) => redirect(url.as_str(), &[login_cookie(login, &st, session::LOGIN_TTL)]),
        Err(e) => error_page(StatusCode::BAD_GATEWAY, &e.to_string()),
    }
}

/// What a provider sends the browser back with.
#[derive(Debug, Deserialize)]
struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

fn refusal(status: StatusCode, message: impl Into<String>) -> Refusal {
    (status, message.into())
}

/// What the page says when a callback is refused.
type Refusal = (StatusCode, String);

/// The sign-in this callback finishes, with its code; or why not.
fn finish(
    login: &Login,
    headers: &HeaderMap,
    callback: &Callback,
    provider: Provider,
) -> Result<(session::Pending, String), Refusal> {
    let started = session::cookie(headers, LOGIN_COOKIE);
    let st = callback.state.as_deref().unwrap_or_default();
    if st.is_empty() || started != Some(st) {
        return Err(refusal(StatusCode::BAD_REQUEST, "This sign-in was not started in this browser, or took too long. Start again from the search page.",
        ));
    }
    let pending = login.sessions.finish(st, provider, Utc::now()).ok_or_else(|| {
        refusal(StatusCode::BAD_REQUEST, "This sign-in has expired or was already used. Start again.")
    })?;
    if let Some(error) = &callback.error {
        let detail = callback.error_description.as_deref().map(|d| format!(": {d}")).unwrap_or_default();
        let message = if error == "access_denied" {
            "You declined the sign-in, so you are not signed in.".to_owned()
        } else {
            format!("The identity provider did not sign you in ({error}{detail}).")
        };
        return Err(refusal(StatusCode::FORBIDDEN, &message));
    }
    let code = callback
        .code
        .clone()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| refusal(StatusCode::BAD_REQUEST, "The identity provider sent no sign-in code."))?;
    Ok((pending, code))
}

/// Opens a session for `account` if it is an active user of a configured source; the page otherwise.
fn open_session(state: &AppState, account: AccountId, name: Option<String>, provider: Provider) -> Response {
    let known = state.callers.principals(account.as_str()).is_some_and(|p| !p.0.is_empty());
    if !known {
        return error_page(
            StatusCode::FORBIDDEN,
            &format!(
                "Your account ({account}) is not an active user of any site this permdex indexes, so there is \
                 nothing it may show you. If you were added recently, try again after the next sync."
            ),
        );
    }
    let display_name =
        state.callers.display_name(account.as_str()).or(name).unwrap_or_else(|| account.as_str().to_owned());
    let login = &state.login;
    let (id, _) = login.sessions.create(account, display_name, provider, Utc::now());
    let cookies = [
        session::set_cookie(SESSION_COOKIE, &id, "/", SESSION_TTL, login.transport),
        login_cookie(login, "", Duration::ZERO),
    ];
    redirect("/", &cookies)
}

async fn atlassian_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let login = &state.login;
    let Some(config) = &login.atlassian else {
        return error_page(StatusCode::NOT_FOUND, "Sign in with Atlassian is not configured on this server.");
    };
    let (_, code) = match finish(login, &headers, &callback, Provider::Atlassian) {
        Ok(found) => found,
        Err((status, message)) => return error_page(status, &message),
    };
    let me = match atlassian::account_of(&login.http, config, &code).await {
        Ok(me) => me,
        Err(e) => return error_page(StatusCode::BAD_GATEWAY, &e.to_string()),
    };
    match AccountId::parse(&me.account_id) {
        Ok(account) => open_session(&state, account, me.name, Provider::Atlassian),
        Err(_) => error_page(StatusCode::BAD_GATEWAY, "Atlassian named an account id permdex cannot read."),
    }
}

async fn oidc_callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(callback): Query<Callback>,
) -> Response {
    let login = &state.login;
    let Some(oidc) = &login.oidc else {
        return error_page(
            StatusCode::NOT_FOUND,
            "Sign-in with OpenID Connect is not configured on this server.",
        );
    };
    let (pending, code) = match finish(login, &headers, &callback, Provider::Oidc) {
        Ok(found) => found,
        Err((status, message)) => return error_page(status, &message),
    };
    let (Some(verifier), Some(nonce)) = (pending.verifier, pending.nonce) else {
        return error_page(
            StatusCode::BAD_REQUEST,
            "This sign-in has expired or was already used. Start again.",
        );
    };
    let identity = match oidc.identity(&login.http, &code, &verifier, &nonce).await {
        Ok(identity) => identity,
        Err(e @ (LoginError::NoEmail | LoginError::UnverifiedEmail(_))) => {
            return error_page(StatusCode::FORBIDDEN, &e.to_string())
        }
        Err(e) => return error_page(StatusCode::BAD_GATEWAY, &e.to_string()),
    };
    match state.callers.account_by_email(&identity.email) {
        EmailMatch::One(account) => open_session(&state, account, identity.name, Provider::Oidc),
        EmailMatch::None => error_page(
            StatusCode::FORBIDDEN,
            &format!(
                "You signed in as {}, but no account of the sites this permdex indexes shows that e-mail \
                 address. Either the address is not a user of those sites, or the user's Atlassian profile hides \
                 it (profile visibility), so the site never told permdex. Sign in with Atlassian instead, or ask \
                 for the address to be made visible.",
                identity.email
            ),
        ),
        EmailMatch::Several => error_page(
            StatusCode::FORBIDDEN,
            &format!(
                "The e-mail address {} belongs to more than one account of the indexed sites, so permdex cannot \
                 tell which is yours. Sign in with Atlassian instead.",
                identity.email
            ),
        ),
    }
}

async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let login = &state.login;
    if let Some(id) = session::cookie(&headers, SESSION_COOKIE) {
        if let Some(session) = login.sessions.get(id, Utc::now()) {
            if !session::csrf_matches(&headers, &session) {
                return ApiError::Forbidden("missing or wrong csrf token".into()).into_response();
            }
            login.sessions.remove(id);
        }
    }
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        session::set_cookie(SESSION_COOKIE, "", "/", Duration::ZERO, login.transport),
    );
    response
}
