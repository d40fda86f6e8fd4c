//! Who is calling: bearer JWTs and static API keys for users, an admin key for the admin API.
//!
//! A user credential only names an account ([`AccountId`]). What that account may read comes from the
//! directory the sync engine stored with each source's index, through [`Callers`]; nothing in the request
//! (no claim, no header) can add a group. An account that no source knows, or knows as inactive or out of
//! scope, is refused with 401 like a bad token: permdex has no anonymous searches.
//!
//! JWTs: HS256 with the configured secret, or RS256/ES256 with the configured public key. Exactly the one
//! configured algorithm is accepted, so `alg: none` and algorithm confusion (an HS256 token "signed" with a
//! public key) fail like any bad signature. `exp` and `sub` are required; `nbf` is honoured; `aud` and
//! `iss` must match when `server.jwt_audience` / `server.jwt_issuer` are set; a token may not live longer
//! than `server.jwt_max_lifetime_secs` (`exp - iat`, or `exp - now` without `iat`); clock skew up to
//! `server.jwt_leeway_secs` is tolerated.
//!
//! Browsers signed in through `login/` carry a session cookie instead; the [`Caller`] extractor accepts it
//! when no `Authorization` header is sent (bearer first), under the same directory rule.
//!
//! The extractors [`Caller`] and [`Admin`] are what handlers ask for; a handler that takes neither is
//! public (health, metrics, the API description).
//!
//! This file does not search or filter anything; it only says who the caller is.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use axum::extract::FromRequestParts;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use axum::http::HeaderValue;
use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::error::ApiError;
use super::{AppState, Error};
use crate::acl::Principal;
use crate::config::{AccountId, ApiKey, JwtKey, JwtRules, Secret, ServerConfig};

/// The principals an account holds in each source that knows it as an active, in-scope user, by source
/// name. These are principals, not interned ids: each source's search interns them against its own ACL
/// store at query time, so a reload never leaves a caller with stale ids.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourcePrincipals(pub BTreeMap<String, Vec<Principal>>);

/// Where callers' principals come from: the directories the sync engine stored (see `backend.rs`), or a
/// fixed table in tests.
pub trait Callers: Send + Sync {
    /// `None` (or an empty map) when no source knows `account_id` as an active, in-scope user.
    fn principals(&self, account_id: &str) -> Option<SourcePrincipals>;

    /// The account whose profile shows `email` (compared without case), for sign-in by e-mail. Hidden
    /// addresses are not in any directory, so they match nothing.
    fn account_by_email(&self, _email: &str) -> EmailMatch {
        EmailMatch::None
    }

    /// The account's display name, as a directory lists it.
    fn display_name(&self, _account_id: &str) -> Option<String> {
        None
    }
}

/// Which account an e-mail address names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmailMatch {
    One(AccountId),
    /// No directory shows the address.
    None,
    /// Different accounts show it (in different sources): the address cannot say who is signing in.
    Several,
}

/// A fixed table of callers, for tests and tools.
#[derive(Debug, Clone, Default)]
pub struct StaticCallers(pub BTreeMap<String, SourcePrincipals>);

impl Callers for StaticCallers {
    fn principals(&self, account_id: &str) -> Option<SourcePrincipals> {
        self.0.get(account_id).cloned()
    }
}

/// An authenticated user: the account and the principals it holds in each source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub account_id: AccountId,
    pub principals: SourcePrincipals,
}

/// Proof that the request carried the admin key. Handlers of the admin API take it as an argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Admin;

/// Leave to read `/metrics`: given to anyone when no metrics key is configured, else to a request bearing
/// that key (and only that key: neither a user credential nor the admin key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MetricsAccess;

/// Checks credentials against the `[server]` configuration.
pub struct Authenticator {
    jwt: Option<JwtVerifier>,
    api_keys: Vec<ApiKey>,
    admin_key: Option<Secret>,
    metrics_key: Option<Secret>,
}

struct JwtVerifier {
    key: DecodingKey,
    validation: Validation,
    max_lifetime_secs: i64,
}

impl std::fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Authenticator")
            .field("jwt", &self.jwt.as_ref().map(|j| j.validation.algorithms.clone()))
            .field("api_keys", &self.api_keys.len())
            .field("admin_key", &self.admin_key.is_some())
            .finish()
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: String,
    exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    iat: Option<i64>,
}

/// What a bearer token turned out to be.
enum Identity {
    /// A user credential that checks out, naming this account.
    User(AccountId),
    Admin,
}

impl Authenticator {
    /// Builds the verifier from `[server]`. A public key that is neither RSA nor EC is an error here, at
    /// start-up, not a 401 on every request.
    pub fn from_config(server: &ServerConfig) -> Result<Authenticator, Error> {
        server.require_keys()?;
        let jwt = server.jwt().map(|key| jwt_verifier(key, server.jwt_rules())).transpose()?;
        Ok(Authenticator {
            jwt,
            api_keys: server.api_keys().to_vec(),
            admin_key: server.admin_key().cloned(),
            metrics_key: server.metrics_key().cloned(),
        })
    }

    /// Whether `/metrics` may be read with this `Authorization` header.
    pub fn metrics(&self, authorization: Option<&HeaderValue>) -> Result<MetricsAccess, ApiError> {
        let Some(key) = &self.metrics_key else {
            return Ok(MetricsAccess);
        };
        if key.matches(bearer(authorization)?) {
            Ok(MetricsAccess)
        } else {
            Err(ApiError::Unauthorized("/metrics needs the metrics key".into()))
        }
    }

    /// The user behind the `Authorization` header, with the principals `callers` gives it.
    pub fn caller(
        &self,
        authorization: Option<&HeaderValue>,
        callers: &dyn Callers,
    ) -> Result<Caller, ApiError> {
        let account_id = match self.identify(bearer(authorization)?)? {
            Identity::User(account) => account,
            Identity::Admin => {
                return Err(ApiError::Forbidden("the admin key cannot be used to search".into()));
            }
        };
        account_caller(account_id, callers)
    }

    /// Whether the `Authorization` header carries the admin key: 401 for no or a bad credential, 403 for a
    /// valid user credential (or when the admin API is disabled).
    pub fn admin(&self, authorization: Option<&HeaderValue>) -> Result<Admin, ApiError> {
        // Said first: no credential can help while the admin API is off.
        if self.admin_key.is_none() {
            return Err(ApiError::Forbidden("the admin api is disabled (no server.admin_key_env)".into()));
        }
        let token = bearer(authorization)?;
        match self.identify(token)? {
            Identity::Admin => Ok(Admin),
            Identity::User(_) => Err(ApiError::Forbidden("this needs the admin key".into())),
        }
    }

    /// What a bearer token is: the admin key, an API key, or a JWT that verifies.
    fn identify(&self, token: &str) -> Result<Identity, ApiError> {
        if self.admin_key.as_ref().is_some_and(|key| key.matches(token)) {
            return Ok(Identity::Admin);
        }
        // Every key is compared, so the time taken does not say which one (if any) matched.
        let mut matched = None;
        for api_key in &self.api_keys {
            if api_key.key.matches(token) {
                matched = Some(api_key.account_id.clone());
            }
        }
        if let Some(account) = matched {
            return Ok(Identity::User(account));
        }
        let Some(jwt) = &self.jwt else {
            return Err(ApiError::Unauthorized("unknown api key".into()));
        };
        let data = jsonwebtoken::decode::<Claims>(token, &jwt.key, &jwt.validation).map_err(|e| {
            tracing::debug!(error = %e, "bearer token refused");
            ApiError::Unauthorized(jwt_refusal(e.kind()).into())
        })?;
        let now = Utc::now().timestamp();
        let lifetime = data.claims.exp.saturating_sub(data.claims.iat.unwrap_or(now));
        if lifetime > jwt.max_lifetime_secs.saturating_add(jwt.validation.leeway as i64) {
            return Err(ApiError::Unauthorized(format!(
                "token lifetime exceeds the server's maximum of {} seconds",
                jwt.max_lifetime_secs
            )));
        }
        if data.claims.iat.is_some_and(|iat| iat > now.saturating_add(jwt.validation.leeway as i64)) {
            return Err(ApiError::Unauthorized("token was issued in the future".into()));
        }
        let account = AccountId::parse(&data.claims.sub)
            .map_err(|_| ApiError::Unauthorized("token subject is not an account id".into()))?;
        Ok(Identity::User(account))
    }
}

/// `account_id` as a caller, with the principals `callers` gives it; 401 when no source knows it as an
/// active user.
pub(crate) fn account_caller(account_id: AccountId, callers: &dyn Callers) -> Result<Caller, ApiError> {
    match callers.principals(account_id.as_str()) {
        Some(principals) if !principals.0.is_empty() => Ok(Caller { account_id, principals }),
        _ => Err(ApiError::Unauthorized(format!(
            "account {account_id} is not an active user of any configured source"
        ))),
    }
}

/// The token of an `Authorization: Bearer <token>` header.
fn bearer(authorization: Option<&HeaderValue>) -> Result<&str, ApiError> {
    let value = authorization.ok_or_else(|| ApiError::Unauthorized("missing bearer token".into()))?;
    let text = value.to_str().map_err(|_| ApiError::Unauthorized("malformed authorization header".into()))?;
    let (scheme, token) =
        text.split_once(' ').ok_or_else(|| ApiError::Unauthorized("expected 'Bearer <token>'".into()))?;
    let token = token.trim();
    if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() {
        return Err(ApiError::Unauthorized("expected 'Bearer <token>'".into()));
    }
    Ok(token)
}

/// A caller-facing reason that names the kind of problem, never the key or the library's message.
fn jwt_refusal(kind: &jsonwebtoken::errors::ErrorKind) -> &'static str {
    use jsonwebtoken::errors::ErrorKind as K;
    match kind {
        K::ExpiredSignature => "token expired",
        K::InvalidSignature => "token signature does not verify",
        K::InvalidAlgorithm | K::InvalidAlgorithmName => "token algorithm is not accepted",
        K::MissingRequiredClaim(_) => {
            "token lacks a required claim (exp, sub, or the configured aud and iss)"
        }
        K::ImmatureSignature => "token is not valid yet (nbf)",
        K::InvalidAudience => "token audience (aud) is not this server's",
        K::InvalidIssuer => "token issuer (iss) is not the one this server accepts",
        _ => "token is not a valid jwt or api key",
    }
}

fn jwt_verifier(key: &JwtKey, rules: &JwtRules) -> Result<JwtVerifier, Error> {
    let (key, algorithm) = match key {
        JwtKey::Hs256(secret) => (DecodingKey::from_secret(secret.expose().as_bytes()), Algorithm::HS256),
        JwtKey::PublicKeyPem { path, pem } => match DecodingKey::from_rsa_pem(pem.as_bytes()) {
            Ok(key) => (key, Algorithm::RS256),
            Err(_) => match DecodingKey::from_ec_pem(pem.as_bytes()) {
                Ok(key) => (key, Algorithm::ES256),
                Err(e) => return Err(Error::JwtKey { path: path.clone(), reason: e.to_string() }),
            },
        },
    };
    let mut validation = Validation::new(algorithm);
    validation.algorithms = vec![algorithm];
    validation.leeway = rules.leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = HashSet::from(["exp".to_owned(), "sub".to_owned()]);
    // Without a configured audience a token's `aud` is not checked (jsonwebtoken would refuse every token
    // that has one).
    validation.validate_aud = rules.audience.is_some();
    if let Some(audience) = &rules.audience {
        validation.set_audience(&[audience]);
        required.insert("aud".to_owned());
    }
    if let Some(issuer) = &rules.issuer {
        validation.set_issuer(&[issuer]);
        required.insert("iss".to_owned());
    }
    validation.required_spec_claims = required;
    let max_lifetime_secs = i64::try_from(rules.max_lifetime.as_secs()).unwrap_or(i64::MAX);
    Ok(JwtVerifier { key, validation, max_lifetime_secs })
}

/// Mints an HS256 token for `account`, valid for `ttl` from `now`, with the configured secret (for
/// `permdex token`: local use and tests). A server configured with a public key cannot mint: the private
/// key is not permdex's.
pub fn mint_token(
    key: &JwtKey,
    account: &AccountId,
    ttl: Duration,
    now: DateTime<Utc>,
) -> Result<String, Error> {
    let JwtKey::Hs256(secret) = key else {
        return Err(Error::CannotMint);
    };
    let ttl = chrono::Duration::from_std(ttl).map_err(|_| Error::Sign("ttl is too long".into()))?;
    let claims =
        Claims { sub: account.as_str().to_owned(), exp: (now + ttl).timestamp(), iat: Some(now.timestamp()) };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.expose().as_bytes()),
    )
    .map_err(|e| Error::Sign(e.to_string()))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    /// A bearer token when the request has one; otherwise the browser's session cookie (with its CSRF
    /// token on state-changing requests).
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let authorization = parts.headers.get(AUTHORIZATION);
        if authorization.is_none() {
            if let Some(account) = super::login::session_account(&state.login, &parts.method, &parts.headers)
            {
                return account_caller(account?, state.callers.as_ref());
            }
        }
        state.auth.caller(authorization, state.callers.as_ref())
    }
}

impl FromRequestParts<AppState> for MetricsAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.auth.metrics(parts.headers.get(AUTHORIZATION))
    }
}

impl FromRequestParts<AppState> for Admin {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        state.auth.admin(parts.headers.get(AUTHORIZATION))
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::Path;

    use base64::Engine;

    use super::*;
    use crate::config::Config;

    const SECRET: &str = "jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b";
    const API_KEY: &str = "api-key-8d1e2f3a4b5c6d7e";
    const ADMIN_KEY: &str = "admin-key-1a2b3c4d5e6f7a8b";

    fn server_config() -> ServerConfig {
        let env: BTreeMap<String, String> =
            [("TOK", "t0ken"), ("JWT", SECRET), ("API", API_KEY), ("ADMIN", ADMIN_KEY)]
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
        let text = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n\
                    [server]\njwt_hs256_secret_env = \"JWT\"\nadmin_key_env = \"ADMIN\"\n\
                    api_keys = [{ key_env = \"API\", account_id = \"u-key\" }]\n";
        Config::from_toml(text, Path::new("permdex.toml"), &env).unwrap().server().clone()
    }

    fn callers() -> StaticCallers {
        let known = |id: &str| {
            SourcePrincipals(BTreeMap::from([(
                "s".to_owned(),
                vec![Principal::User(id.into()), Principal::Anyone],
            )]))
        };
        StaticCallers(BTreeMap::from([
            ("u1".to_owned(), known("u1")),
            ("u-key".to_owned(), known("u-key")),
            ("u-empty".to_owned(), SourcePrincipals::default()),
        ]))
    }

    fn header(value: &str) -> HeaderValue {
        HeaderValue::from_str(value).unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    fn hs256(claims: serde_json::Value, secret: &str, alg: Algorithm) -> String {
        jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret.as_bytes()))
            .unwrap()
    }

    #[test]
    fn credentials_table() {
        let auth = Authenticator::from_config(&server_config()).unwrap();
        let now = Utc::now().timestamp();
        let good = hs256(serde_json::json!({"sub": "u1", "exp": now + 600}), SECRET, Algorithm::HS256);
        let unsigned = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT"}"#),
            b64(format!(r#"{{"sub":"u1","exp":{}}}"#, now + 600).as_bytes())
        );
        // (authorization header, expected outcome: Ok(account) or Err(status))
        let cases: Vec<(Option<String>, Result<&str, u16>)> = vec![
            (Some(format!("Bearer {good}")), Ok("u1")),
            (Some(format!("bearer {good}")), Ok("u1")),
            (Some(format!("Bearer {API_KEY}")), Ok("u-key")),
            (None, Err(401)),
            (Some("Bearer".into()), Err(401)),
            (Some("Basic dTE6cHc=".into()), Err(401)),
            (Some("Bearer garbage".into()), Err(401)),
            (Some(format!("Bearer {API_KEY}x")), Err(401)),
            (Some(format!("Bearer {unsigned}")), Err(401)),
            (
                Some(format!(
                    "Bearer {}",
                    hs256(serde_json::json!({"sub": "u1", "exp": now - 3600}), SECRET, Algorithm::HS256)
                )),
                Err(401),
            ),
            (
                Some(format!(
                    "Bearer {}",
                    hs256(
                        serde_json::json!({"sub": "u1", "exp": now + 600}),
                        "another-secret-of-32-bytes-or-more!",
                        Algorithm::HS256
                    )
                )),
                Err(401),
            ),
            (
                Some(format!(
                    "Bearer {}",
                    hs256(serde_json::json!({"sub": "u1", "exp": now + 600}), SECRET, Algorithm::HS384)
                )),
                Err(401),
            ),
            (
                Some(format!("Bearer {}", hs256(serde_json::json!({"sub": "u1"}), SECRET, Algorithm::HS256))),
                Err(401),
            ),
            (
                Some(format!(
                    "Bearer {}",
                    hs256(serde_json::json!({"exp": now + 600}), SECRET, Algorithm::HS256)
                )),
                Err(401),
            ),
            // Valid token, account unknown to every source, or known to none as active.
            (
                Some(format!(
                    "Bearer {}",
                    hs256(serde_json::json!({"sub": "stranger", "exp": now + 600}), SECRET, Algorithm::HS256)
                )),
                Err(401),
            ),
            (
                Some(format!(
                    "Bearer {}",
                    hs256(serde_json::json!({"sub": "u-empty", "exp": now + 600}), SECRET, Algorithm::HS256)
                )),
                Err(401),
            ),
            (Some(format!("Bearer {ADMIN_KEY}")), Err(403)),
        ];
        for (authorization, expected) in cases {
            let value = authorization.as_deref().map(header);
            let got = auth
                .caller(value.as_ref(), &callers())
                .map(|c| c.account_id.as_str().to_owned())
                .map_err(|e| e.status().as_u16());
            assert_eq!(got.as_deref().map_err(|s| *s), expected, "{authorization:?}");
        }
    }

    /// `nbf`, `aud`, `iss`, the maximum lifetime and the leeway, as configured; each refusal says which.
    #[test]
    fn claims_rules_table() {
        let env: BTreeMap<String, String> = [("TOK", "t0ken"), ("JWT", SECRET)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
        let text = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n\
                    [server]\njwt_hs256_secret_env = \"JWT\"\njwt_audience = \"permdex\"\n\
                    jwt_issuer = \"https://idp.example\"\njwt_max_lifetime_secs = 3600\njwt_leeway_secs = 5\n";
        let config = Config::from_toml(text, Path::new("permdex.toml"), &env).unwrap();
        let auth = Authenticator::from_config(config.server()).unwrap();
        let now = Utc::now().timestamp();
        let token = |extra: serde_json::Value| {
            let mut claims = serde_json::json!({"sub": "u1", "exp": now + 600, "iat": now,
                "aud": "permdex", "iss": "https://idp.example"});
            for (k, v) in extra.as_object().unwrap() {
                if v.is_null() {
                    claims.as_object_mut().unwrap().remove(k);
                } else {
                    claims[k] = v.clone();
                }
            }
            hs256(claims, SECRET, Algorithm::HS256)
        };
        let cases: Vec<(serde_json::Value, Result<(), &str>)> = vec![
            (serde_json::json!({}), Ok(())),
            (serde_json::json!({"aud": ["other", "permdex"]}), Ok(())),
            (serde_json::json!({"nbf": now - 60}), Ok(())),
            (serde_json::json!({"nbf": now + 600}), Err("token is not valid yet (nbf)")),
            (serde_json::json!({"aud": "someone-else"}), Err("token audience (aud) is not this server's")),
            (
                serde_json::json!({"aud": null}),
                Err("token lacks a required claim (exp, sub, or the configured aud and iss)"),
            ),
            (
                serde_json::json!({"iss": "https://evil.example"}),
                Err("token issuer (iss) is not the one this server accepts"),
            ),
            (
                serde_json::json!({"iss": null}),
                Err("token lacks a required claim (exp, sub, or the configured aud and iss)"),
            ),
            (
                serde_json::json!({"exp": now + 7200}),
                Err("token lifetime exceeds the server's maximum of 3600 seconds"),
            ),
            (
                serde_json::json!({"exp": now + 7200, "iat": null}),
                Err("token lifetime exceeds the server's maximum of 3600 seconds"),
            ),
            (serde_json::json!({"exp": now + 3000, "iat": null}), Ok(())),
            (serde_json::json!({"iat": now + 600, "exp": now + 900}), Err("token was issued in the future")),
            // Within the 5 s leeway, and beyond it.
            (serde_json::json!({"exp": now - 2, "iat": now - 100}), Ok(())),
            (serde_json::json!({"exp": now - 60, "iat": now - 100}), Err("token expired")),
        ];
        for (extra, expected) in cases {
            let value = header(&format!("Bearer {}", token(extra.clone())));
            let got = auth.caller(Some(&value), &callers()).map(|_| ()).map_err(|e| e.to_string());
            assert_eq!(got.as_ref().map(|_| ()).map_err(String::as_str), expected, "{extra}");
        }
    }

    #[test]
    fn admin_key_table() {
        let auth = Authenticator::from_config(&server_config()).unwrap();
        let cases = [
            (None, Err(401)),
            (Some(format!("Bearer {ADMIN_KEY}")), Ok(Admin)),
            (Some(format!("Bearer {API_KEY}")), Err(403)),
            (Some("Bearer not-a-key".into()), Err(401)),
        ];
        for (authorization, expected) in cases {
            let value = authorization.as_deref().map(header);
            assert_eq!(
                auth.admin(value.as_ref()).map_err(|e| e.status().as_u16()),
                expected,
                "{authorization:?}"
            );
        }
    }

    /// Without an admin key, every admin request hears that the admin API is off, not that a token is missing.
    #[test]
    fn admin_api_disabled_says_so() {
        let env = BTreeMap::from([("TOK".to_owned(), "t0ken".to_owned())]);
        let text = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n";
        let config = Config::from_toml(text, Path::new("permdex.toml"), &env).unwrap();
        let auth = Authenticator::from_config(config.server()).unwrap();
        for authorization in [None, Some(header("Bearer anything-at-all"))] {
            let refused = auth.admin(authorization.as_ref()).unwrap_err();
            assert_eq!(refused.status().as_u16(), 403);
            assert!(refused.to_string().contains("admin api is disabled"), "{refused}");
        }
    }

    #[test]
    fn minted_tokens_verify_and_expire() {
        let config = server_config();
        let auth = Authenticator::from_config(&config).unwrap();
        let key = config.jwt().unwrap();
        let account = AccountId::parse("u1").unwrap();
        let token = mint_token(key, &account, Duration::from_secs(3600), Utc::now()).unwrap();
        let caller = auth.caller(Some(&header(&format!("Bearer {token}"))), &callers()).unwrap();
        assert_eq!(caller.account_id, account);
        let old = mint_token(key, &account, Duration::from_secs(60), Utc::now() - chrono::Duration::hours(2))
            .unwrap();
        let refused = auth.caller(Some(&header(&format!("Bearer {old}"))), &callers()).unwrap_err();
        assert_eq!(refused, ApiError::Unauthorized("token expired".into()));
    }
}
