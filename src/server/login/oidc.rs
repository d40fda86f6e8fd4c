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
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;

    use jsonwebtoken::{EncodingKey, Header};
    use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
    use serde_json::{json, Value};

    use super::*;
    use crate::config::Secret;

    /// RFC 7636, appendix B.
    #[test]
    fn pkce_challenge_matches_the_rfc_example() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    const CLIENT: &str = "permdex";
    const SECRET: &str = "client-secret-of-permdex";
    const NONCE: &str = "nonce-of-this-sign-in";

    /// A P-256 key: its private half (PKCS#8) and its public JWK under `kid`.
    struct TestKey {
        pkcs8: Vec<u8>,
        jwk: Value,
    }

    impl TestKey {
        fn new(kid: &str) -> TestKey {
            let rng = ring::rand::SystemRandom::new();
            let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
                .expect("key")
                .as_ref()
                .to_vec();
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &pkcs8, &rng).expect("parses");
            let point = pair.public_key().as_ref();
            let b64 = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            let jwk = json!({"kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                             "x": b64(&point[1..33]), "y": b64(&point[33..65])});
            TestKey { pkcs8, jwk }
        }

        /// `claims` signed with this key, the header naming `kid`.
        fn sign(&self, kid: &str, claims: &Value) -> String {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(kid.to_owned());
            jsonwebtoken::encode(&header, claims, &EncodingKey::from_ec_der(&self.pkcs8)).expect("signs")
        }
    }

    /// A provider on loopback that publishes `keys` at `/jwks` and counts the fetches.
    async fn provider(keys: Vec<Value>) -> (String, Arc<AtomicUsize>) {
        let fetches = Arc::new(AtomicUsize::new(0));
        let counted = fetches.clone();
        let router = axum::Router::new().route(
            "/jwks",
            axum::routing::get(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                let keys = keys.clone();
                async move { axum::Json(json!({ "keys": keys })) }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        tokio::spawn(async move { axum::serve(listener, router).await });
        (base, fetches)
    }

    fn client(issuer: &str) -> OidcClient {
        OidcClient::new(OidcLogin {
            issuer: Url::parse(issuer).expect("url"),
            client_id: CLIENT.into(),
            client_secret: Some(Secret::new(SECRET.into())),
            callback_url: Url::parse("http://127.0.0.1:7700/auth/oidc/callback").expect("url"),
            label: "Sign in".into(),
        })
    }

    fn discovery(base: &str) -> Discovery {
        Discovery {
            issuer: format!("{base}/oidc"),
            authorization_endpoint: format!("{base}/authorize"),
            token_endpoint: format!("{base}/token"),
            jwks_uri: format!("{base}/jwks"),
        }
    }

    /// Claims a provider would send for this sign-in, valid for five minutes.
    fn claims(base: &str) -> Value {
        let now = chrono::Utc::now().timestamp();
        json!({"iss": format!("{base}/oidc"), "sub": "person-1", "aud": CLIENT, "exp": now + 300, "iat": now,
               "nonce": NONCE, "email": "ana@tyrell.example", "email_verified": true, "name": "Ana"})
    }

    fn with(mut claims: Value, edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
        edit(claims.as_object_mut().expect("an object"));
        claims
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    }

    /// Every way an ID token can be forged or misdirected is refused, and the control case passes, so
    /// each refusal is for its own reason.
    #[tokio::test]
    async fn forged_and_misdirected_id_tokens_are_refused() {
        let key = TestKey::new("k1");
        let impostor = TestKey::new("k1");
        let (base, _) = provider(vec![key.jwk.clone()]).await;
        let oidc = client(&format!("{base}/oidc"));
        let found = discovery(&base);
        let http = reqwest::Client::new();
        let good = claims(&base);
        let now = chrono::Utc::now().timestamp();

        let identity = oidc.verify(&http, &found, &key.sign("k1", &good), NONCE).await.expect("a good token");
        assert_eq!(identity, Identity { email: "ana@tyrell.example".into(), name: Some("Ana".into()) });

        let signed = key.sign("k1", &good);
        let (head, rest) = signed.split_once('.').expect("three parts");
        let (_, signature) = rest.split_once('.').expect("three parts");
        let other_payload = b64(with(good.clone(), |c| {
            c.insert("email".into(), json!("boss@tyrell.example"));
        })
        .to_string()
        .as_bytes());
        let hs256 = jsonwebtoken::encode(
            &Header { kid: Some("k1".into()), ..Header::new(Algorithm::HS256) },
            &good,
            &EncodingKey::from_secret(SECRET.as_bytes()),
        )
        .expect("signs");
        let unsigned = format!(
            "{}.{}.",
            b64(br#"{"alg":"none","typ":"JWT","kid":"k1"}"#),
            b64(good.to_string().as_bytes())
        );
        let es384_header = format!("{}.{}", b64(br#"{"alg":"ES384","typ":"JWT","kid":"k1"}"#), rest);
        let cases: Vec<(&str, String)> = vec![
            ("signed by another key under the published key id", impostor.sign("k1", &good)),
            ("payload changed after signing", format!("{head}.{other_payload}.{signature}")),
            ("signature cut off", format!("{head}.{}.", rest.split_once('.').expect("parts").0)),
            (
                "another client's audience",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.insert("aud".into(), json!("someone-else"));
                    }),
                ),
            ),
            (
                "an audience list without us",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.insert("aud".into(), json!(["someone-else", "another"]));
                    }),
                ),
            ),
            (
                "no audience",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.remove("aud");
                    }),
                ),
            ),
            (
                "another issuer",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.insert("iss".into(), json!("https://evil.example/oidc"));
                    }),
                ),
            ),
            (
                "no issuer",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.remove("iss");
                    }),
                ),
            ),
            (
                "expired beyond the leeway",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.insert("exp".into(), json!(now - 2 * LEEWAY_SECS as i64));
                    }),
                ),
            ),
            (
                "no expiry",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.remove("exp");
                    }),
                ),
            ),
            (
                "no subject",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.remove("sub");
                    }),
                ),
            ),
            ("alg none, no signature", unsigned),
            ("HS256 with the client secret as key", hs256),
            ("a header naming another algorithm than the key's", es384_header),
            ("an unknown key id", key.sign("k9", &good)),
            ("no key id", {
                let header = Header::new(Algorithm::ES256);
                jsonwebtoken::encode(&header, &good, &EncodingKey::from_ec_der(&key.pkcs8)).expect("signs")
            }),
            (
                "another sign-in's nonce",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.insert("nonce".into(), json!("nonce-of-another-sign-in"));
                    }),
                ),
            ),
            (
                "no nonce",
                key.sign(
                    "k1",
                    &with(good.clone(), |c| {
                        c.remove("nonce");
                    }),
                ),
            ),
            ("not a JWT", "not.a.jwt".into()),
        ];
        for (case, token) in cases {
            match oidc.verify(&http, &found, &token, NONCE).await {
                Err(LoginError::Provider(message)) => {
                    assert!(message.starts_with("the ID token "), "{case}: {message}");
                }
                other => panic!("{case}: accepted or refused for another reason: {other:?}"),
            }
        }

        // Within the leeway a token that just expired still passes (clocks differ).
        let late = with(good.clone(), |c| {
            c.insert("exp".into(), json!(now - 5));
        });
        assert!(oidc.verify(&http, &found, &key.sign("k1", &late), NONCE).await.is_ok());
        // A verified token without a usable e-mail, or with one the provider has not verified, signs nobody in.
        let no_email = with(good.clone(), |c| {
            c.remove("email");
        });
        assert!(matches!(
            oidc.verify(&http, &found, &key.sign("k1", &no_email), NONCE).await,
            Err(LoginError::NoEmail)
        ));
        for unverified in [json!(false), json!("false"), json!(0)] {
            let claims = with(good.clone(), |c| {
                c.insert("email_verified".into(), unverified.clone());
            });
            let refused = oidc.verify(&http, &found, &key.sign("k1", &claims), NONCE).await;
            assert!(matches!(refused, Err(LoginError::UnverifiedEmail(_))), "{unverified}: {refused:?}");
        }
    }

    /// A key id the kept set lacks fetches the set again once (a rotation is picked up at once); key ids no
    /// fetch finds cost at most one fetch per gap.
    #[tokio::test]
    async fn rotated_keys_are_fetched_and_forged_key_ids_do_not_hammer_the_provider() {
        let (old, new) = (TestKey::new("old"), TestKey::new("new"));
        let (base, fetches) = provider(vec![new.jwk.clone(), old.jwk.clone()]).await;
        let oidc = client(&format!("{base}/oidc"));
        let found = discovery(&base);
        let http = reqwest::Client::new();
        oidc.keys.lock().await.keys = vec![serde_json::from_value(old.jwk.clone()).expect("a jwk")];
        let good = claims(&base);

        assert!(oidc.verify(&http, &found, &old.sign("old", &good), NONCE).await.is_ok());
        assert_eq!(fetches.load(Ordering::SeqCst), 0, "a kept key needs no fetch");
        assert!(oidc.verify(&http, &found, &new.sign("new", &good), NONCE).await.is_ok(), "the rotated key");
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        for forged in ["forged-1", "forged-2", "forged-3"] {
            let refused = oidc.verify(&http, &found, &new.sign(forged, &good), NONCE).await;
            assert!(matches!(refused, Err(LoginError::Provider(_))), "{forged}: {refused:?}");
        }
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "one fetch for the first unknown key id, none after");
    }
}
