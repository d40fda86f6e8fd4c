//! Sign-in servers for the simulated organisation: Atlassian's OAuth 2.0 authorization-code ("3LO")
//! endpoints and a small OpenID Connect provider, so a client's real sign-in flows run over loopback.
//!
//! Atlassian, as documented for 3LO apps:
//! - `GET /authorize?audience=api.atlassian.com&client_id&scope&redirect_uri&state&response_type=code&prompt=consent`
//!   shows a consent screen (here: pick which of the site's active users signs in), then sends the browser
//!   to `redirect_uri?code=…&state=…`, or `?error=access_denied&state=…` when the user declines;
//! - `POST /oauth/token` with a JSON body (`grant_type=authorization_code`, `client_id`, `client_secret`,
//!   `code`, `redirect_uri`) answers `{access_token, expires_in, scope, token_type}`; codes are single use
//!   and expire;
//! - `GET /me` with `Authorization: Bearer <access token>` answers the user's profile, `account_id` first.
//!
//! The OpenID provider is in `oidc.rs`; it shares the client registry, the codes and the consent page.
//! Clients are registered in process ([`Authorizations::register`]), as an app is in Atlassian's developer
//! console. None of these routes take the site's Basic credential, are rate limited or faulted.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Form, Json, Router};
use rand::RngCore;
use serde::Deserialize;
use serde_json::json;

use super::{oidc, SimState};

/// Authorization codes live this long, like Atlassian's.
const CODE_TTL: Duration = Duration::from_secs(600);
/// Access tokens (for `/me`) live an hour, as `expires_in` says.
const ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);

/// An OAuth client the simulator accepts: an app from the developer console, or a client of the OpenID
/// provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthClient {
    pub client_id: String,
    /// `None`: a public client, which must use PKCE.
    pub client_secret: Option<String>,
    pub redirect_uris: Vec<String>,
}

/// Which server issued a code: its token endpoint accepts only its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Issuer {
    Atlassian,
    Oidc,
}

/// Who the consent page signed in: a site user, or (OpenID only) someone the site does not know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Person {
    Account(String),
    Outsider,
}

/// A code waiting to be exchanged.
#[derive(Debug, Clone)]
pub(super) struct Grant {
    pub issuer: Issuer,
    pub client_id: String,
    pub redirect_uri: String,
    pub person: Person,
    pub code_challenge: Option<String>,
    pub nonce: Option<String>,
    pub scope: String,
}

/// Registered clients, outstanding codes and access tokens, and the OpenID provider's keys.
pub struct Authorizations {
    clients: Mutex<Vec<OAuthClient>>,
    codes: Mutex<HashMap<String, (Grant, Instant)>>,
    access_tokens: Mutex<HashMap<String, (String, Instant)>>,
    pub(super) keys: oidc::Keys,
}

impl Default for Authorizations {
    fn default() -> Self {
        Authorizations {
            clients: Mutex::default(),
            codes: Mutex::default(),
            access_tokens: Mutex::default(),
            keys: oidc::Keys::new(),
        }
    }
}

impl Authorizations {
    /// Registers (or replaces, by client id) a client.
    pub fn register(&self, client: OAuthClient) {
        let mut clients = lock(&self.clients);
        clients.retain(|c| c.client_id != client.client_id);
        clients.push(client);
    }

    /// Starts signing ID tokens with a new key; the JWKS keeps the previous one, as providers do.
    pub fn rotate_oidc_key(&self) {
        self.keys.rotate();
    }

    pub(super) fn client(&self, client_id: &str) -> Option<OAuthClient> {
        lock(&self.clients).iter().find(|c| c.client_id == client_id).cloned()
    }

    pub(super) fn issue_code(&self, grant: Grant) -> String {
        let code = random_token();
        let mut codes = lock(&self.codes);
        codes.retain(|_, (_, expires)| *expires > Instant::now());
        codes.insert(code.clone(), (grant, Instant::now() + CODE_TTL));
        code
    }

    /// The grant behind `code`, once: a second exchange of the same code fails.
    pub(super) fn redeem(&self, code: &str, issuer: Issuer) -> Option<Grant> {
        let (grant, expires) = lock(&self.codes).remove(code)?;
        (grant.issuer == issuer && expires > Instant::now()).then_some(grant)
    }

    fn issue_access_token(&self, account_id: &str) -> String {
        let token = random_token();
        lock(&self.access_tokens)
            .insert(token.clone(), (account_id.to_owned(), Instant::now() + ACCESS_TOKEN_TTL));
        token
    }

    fn account_of(&self, access_token: &str) -> Option<String> {
        let tokens = lock(&self.access_tokens);
        let (account, expires) = tokens.get(access_token)?;
        (*expires > Instant::now()).then(|| account.clone())
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

pub(super) fn random_token() -> String {
    let mut bytes = [0u8; 24];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/authorize", get(authorize).post(consent))
        .route("/oauth/token", axum::routing::post(token))
        .route("/me", get(me))
        .merge(oidc::routes())
}

/// The query of an authorization request, Atlassian's or the OpenID provider's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(super) struct AuthorizeRequest {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub scope: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub audience: Option<String>,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub code_challenge_method: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
}

/// The consent form as posted back: the request's fields, the chosen person and the decision.
#[derive(Debug, Deserialize)]
pub(super) struct ConsentForm {
    #[serde(flatten)]
    pub request: AuthorizeRequest,
    #[serde(default)]
    pub account: String,
    #[serde(default)]
    pub decision: String,
}

/// Why an authorization request is refused outright (no redirect: the redirect URI is not trusted).
fn bad_request(message: &str) -> Response {
    (StatusCode::BAD_REQUEST, Html(format!("<!doctype html><title>Error</title><p>{}</p>", escape(message))))
        .into_response()
}

pub(super) fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

/// Checks the client and its redirect URI, the one thing that must hold before redirecting anywhere:
/// the error page when it does not.
pub(super) fn check_client(auth: &Authorizations, request: &AuthorizeRequest) -> Option<Response> {
    let Some(client) = auth.client(&request.client_id) else {
        return Some(bad_request("unknown client_id"));
    };
    if !client.redirect_uris.contains(&request.redirect_uri) {
        return Some(bad_request("redirect_uri is not registered for this client"));
    }
    None
}

/// `redirect_uri` with `params` added to its query.
pub(super) fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> Response {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            url.query_pairs_mut().extend_pairs(params);
            Redirect::to(url.as_str()).into_response()
        }
        Err(_) => bad_request("redirect_uri is not a URL"),
    }
}

async fn authorize(State(state): State<SimState>, Query(request): Query<AuthorizeRequest>) -> Response {
    if let Some(response) = check_client(&state.oauth, &request) {
        return response;
    }
    if request.response_type != "code" || request.audience.as_deref() != Some("api.atlassian.com") {
        return redirect_with(
            &request.redirect_uri,
            &[
                ("error", "invalid_request"),
                ("error_description", "response_type=code and audience=api.atlassian.com are required"),
                ("state", &request.state),
            ],
        );
    }
    consent_page(&state, &request, "Atlassian", "/authorize", &[])
}

/// The consent screen: which active user signs in, and Accept or Decline. `extra` adds people the site
/// does not know (value, label).
pub(super) fn consent_page(
    state: &SimState,
    request: &AuthorizeRequest,
    server: &str,
    action: &str,
    extra: &[(&str, &str)],
) -> Response {
    let site = state.read();
    let mut options = String::new();
    for user in site.users.iter().filter(|u| u.active) {
        options.push_str(&format!(
            "<option value=\"{}\">{} ({})</option>",
            escape(&user.account_id),
            escape(&user.display_name),
            escape(&user.email)
        ));
    }
    for (value, label) in extra {
        options.push_str(&format!("<option value=\"{}\">{}</option>", escape(value), escape(label)));
    }
    let mut hidden = String::new();
    let fields = [
        ("client_id", Some(&request.client_id)),
        ("redirect_uri", Some(&request.redirect_uri)),
        ("response_type", Some(&request.response_type)),
        ("scope", Some(&request.scope)),
        ("state", Some(&request.state)),
        ("audience", request.audience.as_ref()),
        ("code_challenge", request.code_challenge.as_ref()),
        ("code_challenge_method", request.code_challenge_method.as_ref()),
        ("nonce", request.nonce.as_ref()),
    ];
    for (name, value) in fields {
        if let Some(value) = value {
            hidden.push_str(&format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape(value)));
        }
    }
    Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sign in to {server} (simulated)</title></head>\
         <body><main><h1>Sign in to {server} (simulated)</h1>\
         <form method=\"post\" action=\"{action}\">{hidden}\
         <label for=\"account\">Sign in as</label> <select id=\"account\" name=\"account\">{options}</select>\
         <p>The app asks for: {scope}</p>\
         <button id=\"accept\" type=\"submit\" name=\"decision\" value=\"accept\">Accept</button> \
         <button id=\"decline\" type=\"submit\" name=\"decision\" value=\"decline\">Decline</button>\
         </form></main></body></html>",
        scope = escape(&request.scope),
    ))
    .into_response()
}

/// The person a consent form names: an active site user, or the outsider when `outsider_allowed`.
pub(super) fn chosen_person(state: &SimState, form: &ConsentForm) -> Option<Person> {
    if form.account == oidc::OUTSIDER {
        return Some(Person::Outsider);
    }
    let site = state.read();
    site.users
        .iter()
        .any(|u| u.active && u.account_id == form.account)
        .then(|| Person::Account(form.account.clone()))
}

async fn consent(State(state): State<SimState>, Form(form): Form<ConsentForm>) -> Response {
    let request = &form.request;
    if let Some(response) = check_client(&state.oauth, request) {
        return response;
    }
    if form.decision != "accept" {
        return redirect_with(
            &request.redirect_uri,
            &[("error", "access_denied"), ("state", &request.state)],
        );
    }
    let Some(Person::Account(account)) = chosen_person(&state, &form) else {
        return bad_request("choose a user of the site");
    };
    let code = state.oauth.issue_code(Grant {
        issuer: Issuer::Atlassian,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        person: Person::Account(account),
        code_challenge: None,
        nonce: None,
        scope: request.scope.clone(),
    });
    redirect_with(&request.redirect_uri, &[("code", &code), ("state", &request.state)])
}

/// The token request of Atlassian's `/oauth/token` (JSON).
#[derive(Debug, Deserialize)]
struct TokenRequest {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    client_id: String,
    #[serde(default)]
    client_secret: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
}

/// An OAuth error body (RFC 6749 §5.2), as Atlassian's token endpoint sends them.
pub(super) fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (status, Json(json!({"error": error, "error_description": description}))).into_response()
}

async fn token(State(state): State<SimState>, Json(request): Json<TokenRequest>) -> Response {
    if request.grant_type != "authorization_code" {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type", "only authorization_code");
    }
    let Some(client) = state.oauth.client(&request.client_id) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    if client.client_secret.as_deref() != Some(request.client_secret.as_str()) {
        return oauth_error(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    let grant = state.oauth.redeem(&request.code, Issuer::Atlassian);
    let Some(grant) =
        grant.filter(|g| g.client_id == client.client_id && g.redirect_uri == request.redirect_uri)
    else {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
    };
    let Person::Account(account) = grant.person else {
        return oauth_error(StatusCode::FORBIDDEN, "invalid_grant", "Invalid authorization code");
    };
    let access_token = state.oauth.issue_access_token(&account);
    Json(json!({
        "access_token": access_token,
        "expires_in": ACCESS_TOKEN_TTL.as_secs(),
        "scope": grant.scope,
        "token_type": "Bearer",
    }))
    .into_response()
}

/// `GET /me`: the signed-in user's profile (scope `read:me`).
async fn me(State(state): State<SimState>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let Some(account) = token.and_then(|t| state.oauth.account_of(t)) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401, "message": "Unauthorized"})))
            .into_response();
    };
    let site = state.read();
    let Some(user) = site.users.iter().find(|u| u.account_id == account) else {
        return (StatusCode::UNAUTHORIZED, Json(json!({"code": 401, "message": "Unauthorized"})))
            .into_response();
    };
    Json(json!({
        "account_type": "atlassian",
        "account_id": user.account_id,
        "email": user.email,
        "name": user.display_name,
        "picture": format!("https://avatar-management.services.atlassian.com/default/{}", user.account_id),
        "account_status": if user.active { "active" } else { "inactive" },
        "nickname": user.display_name.split_whitespace().next().unwrap_or_default(),
        "zoneinfo": "Etc/UTC",
        "locale": "en-US",
        "extended_profile": {},
    }))
    .into_response()
}
