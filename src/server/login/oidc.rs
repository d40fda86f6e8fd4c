//! Sign-in with an OpenID Connect provider: authorization code with PKCE (`S256`) and a nonce, the
//! provider's discovery document, and ID tokens verified against its JWKS.
//!
//! The discovery document and the key set are fetched when first needed and kept; an ID token signed by a
//! key id the kept set lacks makes us fetch the set again (the provider rotated its keys). When such a
//! fetch still lacks the key, the next one waits [`JWKS_REFRESH_GAP`], so forged key ids cannot make us
//! hammer the provider, while a real rotation is picked up at once. An ID token is
//! accepted only with an asymmetric signature by a published key, our client id in `aud`, the configured
//! issuer in `iss`, a future `exp`, our nonce, and an `email` that is not marked unverified.
//!
//! This file returns the verified e-mail address; which account it belongs to is `mod.rs`'s question.

use std::time::{Duration, Instant};

use base64::Engine;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use sha2::Digest;
use tokio::sync::Mutex;

use super::LoginError;
use crate::config::{OidcLogin, Url};

/// Shortest time between a key-set fetch that did not find a key id and the next fetch.
pub const JWKS_REFRESH_GAP: Duration = Duration::from_secs(10);
/// The discovery document is fetched again after this long.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// Clock skew tolerated on `exp` and `iat`.
const LEEWAY_SECS: u64 = 60;
/// Signature algorithms an ID token may use: asymmetric only, so the client secret can never verify one.
const ALGORITHMS: [Algorithm; 8] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::ES256,
    Algorithm::ES384,
];

/// The parts of the discovery document we use.
#[derive(Debug, Clone, Deserialize)]
struct Discovery {
    issuer: String,
    authorization_endpoint: String,
    token_endpoint: String,
    jwks_uri: String,
}

/// An endpoint the discovery document names, as a web URL.
fn endpoint(text: &str) -> Result<Url, LoginError> {
    Url::parse(text)
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http"))
        .ok_or_else(|| LoginError::Provider(format!("the discovery document names a bad endpoint {text:?}")))
}

/// A PKCE pair (RFC 7636): the verifier we keep, the challenge we send.
pub fn pkce_challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(verifier.as_bytes()))
}

/// The provider's configuration, discovery document and keys.
pub struct OidcClient {
    config: OidcLogin,
    discovery: Mutex<Option<(Discovery, Instant)>>,
    keys: Mutex<KeyCache>,
}

/// The provider's published keys as last fetched, and when a fetch last failed to find a key id.
#[derive(Default)]
struct KeyCache {
    keys: Vec<Jwk>,
    last_miss: Option<Instant>,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    id_token: String,
}

#[derive(Debug, Deserialize)]
struct IdClaims {
    #[serde(default)]
    nonce: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    email_verified: Option<serde_json::Value>,
    #[serde(default)]
    name: Option<String>,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub email: String,
    pub name: Option<String>,
}

/// The issuer as written, without a trailing slash, as issuers are compared.
fn issuer_text(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_owned()
}

impl OidcClient {
    pub fn new(config: OidcLogin) -> OidcClient {
        OidcClient { config, discovery: Mutex::default(), keys: Mutex::default() }
    }

    pub fn label(&self) -> &str {
        &self.config.label
    }

    pub fn callback_url(&self) -> &Url {
        &self.config.callback_url
    }

    async fn discovery(&self, http: &reqwest::Client) -> Result<Discovery, LoginError> {
        let mut cached = self.discovery.lock().await;
        if let Some((discovery, at)) = cached.as_ref() {
            if at.elapsed() < DISCOVERY_TTL {
                return Ok(discovery.clone());
            }
        }
        let url = format!("{}/.well-known/openid-configuration", issuer_text(&self.config.issuer));
        let response = http.get(&url).send().await.map_err(LoginError::provider("discovery"))?;
        if !response.status().is_success() {
            return Err(LoginError::Provider(format!(
                "the discovery document answered {}",
                response.status()
            )));
        }
        let discovery: Discovery = response.json().await.map_err(LoginError::provider("discovery"))?;
        // OpenID Connect Discovery §4.3: the document must name exactly the issuer it was fetched for.
        if discovery.issuer.trim_end_matches('/') != issuer_text(&self.config.issuer) {
            return Err(LoginError::Provider(format!(
                "the discovery document names issuer {:?}, not the configured one",
                discovery.issuer
            )));
        }
        *cached = Some((discovery.clone(), Instant::now()));
        Ok(discovery)
    }

    /// Where to send the browser: the authorization endpoint with our state, nonce and PKCE challenge.
    pub async fn authorize_url(
        &self,
        http: &reqwest::Client,
        state: &str,
        nonce: &str,
        verifier: &str,
    ) -> Result<Url, LoginError> {
        let mut url = endpoint(&self.discovery(http).await?.authorization_endpoint)?;
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.config.client_id)
            .append_pair("redirect_uri", self.config.callback_url.as_str())
            .append_pair("scope", "openid email profile")
            .append_pair("state", state)
            .append_pair("nonce", nonce)
            .append_pair("code_challenge", &pkce_challenge(verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(url)
    }

    /// Exchanges `code` (with the PKCE `verifier`) and verifies the ID token against `nonce`.
    pub async fn identity(
        &self,
        http: &reqwest::Client,
        code: &str,
        verifier: &str,
        nonce: &str,
    ) -> Result<Identity, LoginError> {
        let discovery = self.discovery(http).await?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", self.config.callback_url.as_str()),
            ("client_id", self.config.client_id.as_str()),
            ("code_verifier", verifier),
        ];
        if let Some(secret) = &self.config.client_secret {
            form.push(("client_secret", secret.expose()));
        }
        let response = http
            .post(endpoint(&discovery.token_endpoint)?)
            .form(&form)
            .send()
            .await
            .map_err(LoginError::provider("token"))?;
        if !response.status().is_success() {
            return Err(LoginError::Provider(format!(
                "the identity provider refused the sign-in code ({})",
                response.status()
            )));
        }
        let token: TokenResponse = response.json().await.map_err(LoginError::provider("token"))?;
        self.verify(http, &discovery, &token.id_token, nonce).await
    }

    async fn verify(
        &self,
        http: &reqwest::Client,
        discovery: &Discovery,
        id_token: &str,
        nonce: &str,
    ) -> Result<Identity, LoginError> {
        let invalid = |what: &str| LoginError::Provider(format!("the ID token {what}"));
        let header = jsonwebtoken::decode_header(id_token).map_err(|_| invalid("is not a JWT"))?;
        if !ALGORITHMS.contains(&header.alg) {
            return Err(invalid("is not signed with an accepted algorithm"));
        }
        let kid = header.kid.ok_or_else(|| invalid("names no key id"))?;
        let jwk =
            self.key(http, discovery, &kid).await?.ok_or_else(|| invalid("is signed by an unknown key"))?;
        let key = DecodingKey::from_jwk(&jwk).map_err(|_| invalid("is signed by a key we cannot use"))?;
        let mut validation = Validation::new(header.alg);
        validation.algorithms = vec![header.alg];
        validation.leeway = LEEWAY_SECS;
        validation.set_audience(&[&self.config.client_id]);
        validation.set_issuer(&[&discovery.issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        let data = jsonwebtoken::decode::<IdClaims>(id_token, &key, &validation).map_err(|e| {
            tracing::info!(error = %e, "ID token refused");
            invalid("does not verify (signature, audience, issuer or expiry)")
        })?;
        let claims = data.claims;
        if claims.nonce.as_deref() != Some(nonce) {
            return Err(invalid("does not carry this sign-in's nonce"));
        }
        let verified = match claims.email_verified {
            None => true,
            Some(serde_json::Value::Bool(b)) => b,
            Some(serde_json::Value::String(s)) => s == "true",
            Some(_) => false,
        };
        let email = claims.email.filter(|e| !e.trim().is_empty()).ok_or(LoginError::NoEmail)?;
        if !verified {
            return Err(LoginError::UnverifiedEmail(email));
        }
        Ok(Identity { email, name: claims.name })
    }

    /// The published key `kid`, fetching the key set again when it is not among the kept ones.
    async fn key(
        &self,
        http: &reqwest::Client,
        discovery: &Discovery,
        kid: &str,
    ) -> Result<Option<Jwk>, LoginError> {
        let mut cache = self.keys.lock().await;
        let find = |keys: &[Jwk]| keys.iter().find(|k| k.common.key_id.as_deref() == Some(kid)).cloned();
        if let Some(key) = find(&cache.keys) {
            return Ok(Some(key));
        }
        if cache.last_miss.is_some_and(|at| at.elapsed() < JWKS_REFRESH_GAP) {
            return Ok(None);
        }
        let response =
            http.get(endpoint(&discovery.jwks_uri)?).send().await.map_err(LoginError::provider("jwks"))?;
        if !response.status().is_success() {
            return Err(LoginError::Provider(format!("the key set answered {}", response.status())));
        }
        #[derive(Deserialize)]
        struct KeySet {
            keys: Vec<serde_json::Value>,
        }
        let set: KeySet = response.json().await.map_err(LoginError::provider("jwks"))?;
        // A key of a type we do not know (an encryption key, a new curve) is skipped, not fatal.
        let keys: Vec<Jwk> = set.keys.into_iter().filter_map(|k| serde_json::from_value(k).ok()).collect();
        let key = find(&keys);
        cache.keys = keys;
        cache.last_miss = key.is_none().then(Instant::now);
        Ok(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636, appendix B.
    #[test]
    fn pkce_challenge_matches_the_rfc_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }
}
