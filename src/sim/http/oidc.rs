//! A small OpenID Connect provider for the simulated organisation, under `/oidc`: the kind of identity
//! provider (Okta, Entra ID, Keycloak) a company signs its people in with.
//!
//! - `GET /oidc/.well-known/openid-configuration`: the discovery document;
//! - `GET /oidc/authorize`: authorization code flow with PKCE (`S256` only) and a nonce; the consent page
//!   offers the site's active users, plus one person the site does not know ([`OUTSIDER`]);
//! - `POST /oidc/token`: form-encoded; client secret by `client_secret_post` or `client_secret_basic`, or
//!   none for a public client; the PKCE verifier is checked; answers an ES256-signed ID token with `iss`,
//!   `sub`, `aud`, `exp`, `iat`, `nonce`, `email` and `email_verified`;
//! - `GET /oidc/jwks`: the current signing key and the one before it ([`Authorizations::rotate_oidc_key`]).
//!
//! The ID token's `email` is the person's real address even when their Atlassian profile hides it: the
//! company's provider knows it, the Atlassian site does not tell. Not here: refresh tokens, userinfo,
//! implicit or hybrid flows, RS256 (ring cannot make RSA keys; ES256 is what we sign with).
//!
//! [`Authorizations::rotate_oidc_key`]: super::oauth::Authorizations::rotate_oidc_key

use std::sync::Mutex;

use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::Digest;

use super::oauth::{self, AuthorizeRequest, ConsentForm, Grant, Issuer, Person};
use super::SimState;

/// The consent page's value for someone the site does not know.
pub const OUTSIDER: &str = "outsider";
/// That person's address: no account of the site has it.
pub const OUTSIDER_EMAIL: &str = "visitor@elsewhere.example";
const ID_TOKEN_TTL_SECS: i64 = 300;

/// One signing key: its id, private key (PKCS#8) and public JWK.
struct SigningKey {
    kid: String,
    pkcs8: Vec<u8>,
    jwk: Value,
}

impl SigningKey {
    fn generate(serial: u32) -> SigningKey {
        let rng = ring::rand::SystemRandom::new();
        // Key generation from the system's randomness only fails when the OS has none to give.
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .expect("system randomness for a P-256 key")
            .as_ref()
            .to_vec();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng)
            .expect("a key ring just made parses");
        // An uncompressed P-256 point: 0x04, then x and y of 32 bytes each.
        let point = pair.public_key().as_ref();
        let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let kid = format!("sim-key-{serial}");
        let jwk = json!({
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": b64(&point[1..33]), "y": b64(&point[33..65]),
        });
        SigningKey { kid, pkcs8, jwk }
    }
}

/// The provider's keys: the one signing now, and the previous one still published.
pub struct Keys {
    inner: Mutex<(Vec<SigningKey>, u32)>,
}

impl Keys {
    pub(super) fn new() -> Keys {
        Keys { inner: Mutex::new((vec![SigningKey::generate(1)], 1)) }
    }

    pub(super) fn rotate(&self) {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        inner.1 += 1;
        let key = SigningKey::generate(inner.1);
        inner.0.insert(0, key);
        inner.0.truncate(2);
    }

    fn jwks(&self) -> Value {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        json!({"keys": inner.0.iter().map(|k| k.jwk.clone()).collect::<Vec<_>>()})
    }

    fn sign(&self, claims: &Value) -> Result<String, jsonwebtoken::errors::Error> {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let key = &inner.0[0];
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&key.pkcs8))
    }
}

pub(super) fn routes() -> Router<SimState> {
    Router::new()
        .route("/oidc/.well-known/openid-configuration", get(discovery))
        .route("/oidc/authorize", get(authorize).post(consent))
        .route("/oidc/token", post(token))
        .route("/oidc/jwks", get(jwks))
}

/// `{sim url}/oidc`, from the request's own Host (the provider has no other idea of its address).
fn issuer(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1");
    format!("http://{host}/oidc")
}

async fn discovery(headers: HeaderMap) -> Json<Value> {
    let issuer = issuer(&headers);
    Json(json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}/authorize"),
        "token_endpoint": format!("{issuer}/token"),
        "jwks_uri": format!("{issuer}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "scopes_supported": ["openid", "email", "profile"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic", "none"],
        "code_challenge_methods_supported": ["S256"],
        "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email", "email_verified", "name"],
    }))
}

async fn jwks(State(state): State<SimState>) -> Json<Value> {
    Json(state.oauth.keys.jwks())
}

async fn authorize(State(state): State<SimState>, Query(request): Query<AuthorizeRequest>) -> Response {
    if let Some(response) = oauth::check_client(&state.oauth, &request) {
        return response;
    }
    let refuse = |description: &str| {
        oauth::redirect_with(
            &request.redirect_uri,
            &[("error", "invalid_request"), ("error_description", description), ("state", &request.state)],
        )
    };
    if request.response_type != "code" {
        return refuse("response_type must be code");
    }
    if !request.scope.split(' ').any(|s| s == "openid") {
        return refuse("scope must include openid");
    }
    if request.code_challenge.is_none() || request.code_challenge_method.as_deref() != Some("S256") {
        return refuse("PKCE with code_challenge_method=S256 is required");
    }
    let outsider = format!("Someone the site does not know ({OUTSIDER_EMAIL})");
    oauth::consent_page(
        &state,
        &request,
        "the company's identity provider",
        "/oidc/authorize",
        &[(OUTSIDER, &outsider)],
    )
}

async fn consent(State(state): State<SimState>, Form(form): Form<ConsentForm>) -> Response {
    let request = &form.request;
    if let Some(response) = oauth::check_client(&state.oauth, request) {
        return response;
    }
    if form.decision != "accept" {
        return oauth::redirect_with(
            &request.redirect_uri,
            &[("error", "access_denied"), ("state", &request.state)],
        );
    }
    let Some(person) = oauth::chosen_person(&state, &form) else {
        return oauth::redirect_with(
            &request.redirect_uri,
            &[("error", "access_denied"), ("state", &request.state)],
        );
    };
    let code = state.oauth.issue_code(Grant {
        issuer: Issuer::Oidc,
        client_id: request.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        person,
        code_challenge: request.code_challenge.clone(),
        nonce: request.nonce.clone(),
        scope: request.scope.clone(),
    });
    oauth::redirect_with(&request.redirect_uri, &[("code", &code), ("state", &request.state)])
}

#[derive(Debug, Deserialize)]
struct TokenForm {
    #[serde(default)]
    grant_type: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    redirect_uri: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default)]
    client_secret: Option<String>,
    #[serde(default)]
    code_verifier: String,
}

/// The client id and secret of `client_secret_basic`, if the request carries it.
fn basic_client(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (id, secret) = text.split_once(':')?;
    let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
    Some((decode(id), decode(secret)))
}

async fn token(State(state): State<SimState>, headers: HeaderMap, Form(form): Form<TokenForm>) -> Response {
    let invalid_grant = || oauth::oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "invalid code");
    if form.grant_type != "authorization_code" {
        return oauth::oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only authorization_code",
        );
    }
    let (client_id, secret) = match basic_client(&headers) {
        Some((id, secret)) => (id, Some(secret)),
        None => (form.client_id.clone().unwrap_or_default(), form.client_secret.clone()),
    };
    let Some(client) = state.oauth.client(&client_id) else {
        return oauth::oauth_error(StatusCode::UNAUTHORIZED, "invalid_client", "unknown client");
    };
    if client.client_secret.is_some() && client.client_secret != secret {
        return oauth::oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "client authentication failed",
        );
    }
    let Some(grant) = state.oauth.redeem(&form.code, Issuer::Oidc) else {
        return invalid_grant();
    };
    if grant.client_id != client.client_id || grant.redirect_uri != form.redirect_uri {
        return invalid_grant();
    }
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(sha2::Sha256::digest(form.code_verifier.as_bytes()));
    if grant.code_challenge.as_deref() != Some(challenge.as_str()) {
        return oauth::oauth_error(StatusCode::BAD_REQUEST, "invalid_grant", "PKCE verification failed");
    }
    let (subject, email, name) = match &grant.person {
        Person::Outsider => ("idp-outsider".to_owned(), OUTSIDER_EMAIL.to_owned(), "Visitor".to_owned()),
        Person::Account(account) => {
            let site = state.read();
            let Some(user) = site.users.iter().find(|u| u.account_id == *account) else {
                return invalid_grant();
            };
            // The provider's own subject, unrelated to the Atlassian account id.
            (format!("idp-{}", user.email), user.email.clone(), user.display_name.clone())
        }
    };
    let now = chrono::Utc::now().timestamp();
    let mut claims = json!({
        "iss": issuer(&headers), "sub": subject, "aud": client.client_id, "iat": now,
        "exp": now + ID_TOKEN_TTL_SECS, "email": email, "email_verified": true, "name": name,
    });
    if let Some(nonce) = grant.nonce {
        claims["nonce"] = json!(nonce);
    }
    let Ok(id_token) = state.oauth.keys.sign(&claims) else {
        return oauth::oauth_error(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "cannot sign");
    };
    Json(json!({
        "access_token": oauth::random_token(),
        "token_type": "Bearer",
        "expires_in": ID_TOKEN_TTL_SECS,
        "id_token": id_token,
    }))
    .into_response()
}
