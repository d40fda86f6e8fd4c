//! The query server over real HTTP on `127.0.0.1:0`: authentication (every bad-token case, API keys, the
//! admin key), the JSON error shape, health and readiness, metrics, the OpenAPI description against the
//! router, the admin API (sync, purge, token replacement, no token ever returned) and the body limit.
//!
//! The index and the sync engine are fakes behind `SearchIndex` and `SyncRunner`: these tests are about
//! the server, not about ranking or crawling.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::Utc;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use permdex::acl::Principal;
use permdex::config::{AccountId, Config, Source};
use permdex::server::admin::{RunCounts, RunFuture, RunSummary};
use permdex::server::auth::mint_token;
use permdex::server::search::{
    AclCacheStats, FacetCount, FacetsBody, GlanceBody, HitBody, Readiness, SearchFailure, SearchQuery,
    SearchResults,
};
use permdex::server::{
    AppState, Authenticator, Caller, Limits, SearchIndex, SourcePrincipals, Sources, StaticCallers,
    SyncRunner,
};
use serde_json::{json, Value};
use tokio::sync::Notify;

const SOURCE_TOKEN: &str = "source-token-7f3e9a1b2c4d";
const JWT_SECRET: &str = "jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b";
const API_KEY: &str = "api-key-8d1e2f3a4b5c6d7e";
const ADMIN_KEY: &str = "admin-key-1a2b3c4d5e6f7a8b";

/// Test-only key pairs, generated for these tests (never used anywhere else).
const RSA_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIIEvAIBADANBgkqhkiG9w0BAQEFAASCBKYwggSiAgEAAoIBAQDDklcCx0WT8YZ7\n\
1/1VQEibfDAhZpJg1dhJVdd0A0jEipjmjw1QXSb/br9d2eu0vdhRx5i6jBNU9za8\n\
EF0FZLIEQZT/NwZVU+BJ+9JG7vTdKJFzz3hpV62KPJHuWS4XDgCxcxo7seb6dXK6\n\
Wi4hT20/JkUixYLW53VC7n6QLyuFNcXjTp0ij+MxkxkeqMh7VNt9pgxULteEwk8F\n\
GMota4Rx3Nq+gGoevA8p64dvCVTQH1YSXNCsj14gzZ/qNKRqKOpK0h+mCEVndDIB\n\
jTrffXtjKFUJDIGd3qSzQuKU+Eu8x9hA5GUYYkwFVoEJpIvNwWlOylkihtopqUS4\n\
IzBOUf7BAgMBAAECgf8x91Lm786mwliZq/XDSODjmap+Z2ENcszl2WVxkBdVQQFC\n\
mLVtoppuDIRwFYOwAuc2gzeQ90PqT/D9pMFPmAZLLcQtsyQFEMliHZP/76GcLVlV\n\
H6juJxu8ZfiYkAPOqHOTudhaa8Bf63VZSI+iAeRTEX8lX2dCMs3zAZBQscPq3HXq\n\
nuIhip1x+3rVDiK8hDB8+E7AvgB3jvnylEW9lT9n4H3OM3TNU+ZHyb2ourPgEr/p\n\
J4OIgS8l+NsnSyJ6w9dugcoDTg67LLTAJ42auixENogwNhciJB1Kbki/IdSOmlsY\n\
rdElDY2EhSByE+dDcU5AnDFtxbHkLyt7hJeMVvECgYEA7d/QWAVitmRZFTtfI+SA\n\
hGHZDdaREuF8ulPDoNs4NtyhBZqvgWTFCmDvHu1+pOGx0LAvgcl5OsaxMCL7daC+\n\
0Y2Rqwjihqg8U4fZe8CrG0V2kGnFFsrDOhDeSFjj+B5sQQyEaCeC/THcDkP9t0Rb\n\
Bt8/IwS8DNvg4V8HKUVLzd0CgYEA0nlVXFJ6+YR+JtGYGw1xIpBB6NQnYPJ6pEvy\n\
OQfGm3QhEEydLCkVdO69XDR78OXGdYGjVhDnpuTt9i3DmS8BJYbZiwcGf1t+mHxY\n\
wxIJ/JaYsLqpMrxrOSAA9JV+W00/Oo7in91NAbc6UqFI45hE5scdzcKZwuDj1JIm\n\
Hd0L4DUCgYEAhdLynXJ6NG6EB4PdZI37F38M49Igz+R3jUPuvSJXn9XD6Sk7L6qH\n\
h+082cN3Cj/HD8bvEy9Luptpt9EWcvi6IZ5pozVea69eMQgufIbKPI95wokezlHI\n\
P3SZ+U25Ay/qazYlj4sbEGLqkEQECwSzyUvzczoIqZtSCrixiLBpkykCgYAWA9j4\n\
4iu4w7IKT2wQkFRgICS0vNQtoM9RNhxs+LI+emQm90yNXPLAm2Q1K8w3A2HB0sCJ\n\
9RS18UYutNS7xh3hlfxVPXPhiGlye7cxGEbxI7Nu8OdXxjuU6xMOgkCIPkk5z85G\n\
mHhAkLDKCdK886VpWjR03EEHEEzkZDEWeJOQbQKBgQCJEkmxYvO9pY0QUta2VG3m\n\
rq/cO3JFv+gKSvaI6a/QyeZImRCcRWgYJI/OxjOR1h3e3H7IcFVVEPZej5TVsuHh\n\
5J3oaFr32G74WiuN3QKIyWqwelBPskJ3/31dNrdj2IUjYUkSNrhGGmij4Af+xjqV\n\
/ETSQqxJl59KqtCmiQi8qg==\n\
-----END PRIVATE KEY-----\n\
";
const RSA_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAw5JXAsdFk/GGe9f9VUBI\n\
m3wwIWaSYNXYSVXXdANIxIqY5o8NUF0m/26/XdnrtL3YUceYuowTVPc2vBBdBWSy\n\
BEGU/zcGVVPgSfvSRu703SiRc894aVetijyR7lkuFw4AsXMaO7Hm+nVyulouIU9t\n\
PyZFIsWC1ud1Qu5+kC8rhTXF406dIo/jMZMZHqjIe1TbfaYMVC7XhMJPBRjKLWuE\n\
cdzavoBqHrwPKeuHbwlU0B9WElzQrI9eIM2f6jSkaijqStIfpghFZ3QyAY063317\n\
YyhVCQyBnd6ks0LilPhLvMfYQORlGGJMBVaBCaSLzcFpTspZIobaKalEuCMwTlH+\n\
wQIDAQAB\n\
-----END PUBLIC KEY-----\n\
";
const EC_PRIVATE: &str = "\
-----BEGIN PRIVATE KEY-----\n\
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeybFVQcZZuNJkQqn\n\
CiffAb+vNat0pg2+0/CZu5fIdXGhRANCAAQxdBWN/6Iww24nqMN/wRcRn+Nn+X9P\n\
DD4Jra7XdvFGPOBB/5r0h9DItzMzHhwpm4UWHwjzAwPMG16Yk2TLW6nk\n\
-----END PRIVATE KEY-----\n\
";
const EC_PUBLIC: &str = "\
-----BEGIN PUBLIC KEY-----\n\
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEMXQVjf+iMMNuJ6jDf8EXEZ/jZ/l/\n\
Tww+Ca2u13bxRjzgQf+a9IfQyLczMx4cKZuFFh8I8wMDzBtemJNky1up5A==\n\
-----END PUBLIC KEY-----\n\
";

/// Search index fake: answers with one hit per source the caller is known in, naming the principals it was
/// given, so tests see exactly what the server passed on.
#[derive(Default)]
struct FakeIndex {
    not_ready: AtomicBool,
    reloads: AtomicU64,
    reloaded: Notify,
    last_query: Mutex<Option<SearchQuery>>,
}

impl SearchIndex for FakeIndex {
    fn search(&self, caller: &Caller, query: &SearchQuery) -> Result<SearchResults, SearchFailure> {
        *self.last_query.lock().unwrap() = Some(query.clone());
        match query.q.as_str() {
            "(unbalanced" => return Err(SearchFailure::BadQuery("unbalanced parenthesis at 0".into())),
            "explode" => {
                return Err(SearchFailure::Internal(
                    "segment /var/lib/permdex/private/seg1 is corrupt".into(),
                ))
            }
            _ => {}
        }
        let hits: Vec<HitBody> = caller
            .principals
            .0
            .iter()
            .map(|(source, principals)| HitBody {
                source: source.clone(),
                id: format!(
                    "{source}:{}",
                    principals.iter().map(|p| format!("{p:?}")).collect::<Vec<_>>().join("|")
                ),
                product: "confluence".into(),
                kind: "page".into(),
                title: "T".into(),
                title_html: "<mark>T</mark>".into(),
                snippet_html: None,
                space: Some("ENG".into()),
                project: None,
                container: None,
                labels: vec![],
                author_name: None,
                glance: GlanceBody::default(),
                url: "https://example.invalid/x".into(),
                updated: None,
                score: 1.0,
            })
            .collect();
        let facets = query.facets.then(|| FacetsBody {
            product: vec![FacetCount { value: "confluence".into(), count: hits.len() as u64 }],
            ..FacetsBody::default()
        });
        Ok(SearchResults { total: hits.len() as u64, hits, facets, next_cursor: None, withheld: vec![] })
    }

    fn document(
        &self,
        _caller: &Caller,
        _source: &str,
        _id: &str,
    ) -> Result<Option<permdex::server::document::DocumentBody>, SearchFailure> {
        // Documents are read from real indexes in `real_index.rs`.
        Ok(None)
    }

    fn readiness(&self) -> Readiness {
        match self.source_problems().into_iter().next() {
            Some((source, problem)) => Readiness::NotReady(format!("source {source}: {problem}")),
            None => Readiness::Ready,
        }
    }

    fn source_problems(&self) -> BTreeMap<String, String> {
        let mut problems = BTreeMap::new();
        if self.not_ready.load(Ordering::SeqCst) {
            problems.insert(
                "beta".to_owned(),
                "meta/gen-4.acl: sha256 0a1b does not match the commit's 2c3d".to_owned(),
            );
        }
        problems
    }

    fn reload(&self, _source: &str) -> Result<(), permdex::server::BackendError> {
        self.reloads.fetch_add(1, Ordering::SeqCst);
        self.reloaded.notify_one();
        Ok(())
    }

    fn acl_cache(&self) -> AclCacheStats {
        AclCacheStats { hits: 41, misses: 3 }
    }

    fn remove_source(&self, _name: &str) {
        unreachable!("this server has no configuration file to remove a source from")
    }
}

/// Sync engine fake: a sync waits until the test releases it, and records the token it was given.
#[derive(Default)]
struct FakeRunner {
    release: Arc<Notify>,
    tokens_seen: Mutex<Vec<String>>,
    purged: Mutex<Vec<String>>,
}

fn run_summary() -> RunSummary {
    let now = Utc::now();
    RunSummary {
        run_id: "run-1".into(),
        mode: "incremental".into(),
        started: now,
        ended: now,
        outcome: "completed".into(),
        outcome_reason: None,
        counts: BTreeMap::from([(
            "page".to_owned(),
            RunCounts { seen: 3, added: 2, failed: 1, ..RunCounts::default() },
        )]),
        api_calls: 12,
        throttled: 1,
        failure_count: 1,
        failures: vec![permdex::server::admin::RunFailure {
            item: "confluence:page:9".into(),
            reason: "timeout".into(),
        }],
    }
}

impl SyncRunner for FakeRunner {
    fn sync(
        &self,
        source: Source,
        _mode: permdex::sync::Mode,
        _stop: tokio_util::sync::CancellationToken,
    ) -> RunFuture {
        self.tokens_seen.lock().unwrap().push(source.token().unwrap().expose().to_owned());
        let release = self.release.clone();
        Box::pin(async move {
            release.notified().await;
            Ok(run_summary())
        })
    }

    fn purge(&self, source: &Source) -> Result<(), permdex::server::BackendError> {
        self.purged.lock().unwrap().push(source.name().to_string());
        Ok(())
    }

    fn forget(&self, _source: &Source) -> Result<Vec<std::path::PathBuf>, permdex::server::BackendError> {
        unreachable!("this server has no configuration file to remove a source from")
    }

    fn last_runs(
        &self,
        _source: &str,
        _limit: usize,
    ) -> Result<Vec<RunSummary>, permdex::server::BackendError> {
        Ok(vec![run_summary()])
    }
}

struct Server {
    base: String,
    http: reqwest::Client,
    index: Arc<FakeIndex>,
    runner: Arc<FakeRunner>,
    _dir: tempfile::TempDir,
}

fn env() -> BTreeMap<String, String> {
    [("TOK", SOURCE_TOKEN), ("JWT", JWT_SECRET), ("API", API_KEY), ("ADMIN", ADMIN_KEY)]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// A config with two sources and the given `[server]` JWT line.
fn config(dir: &Path, jwt_line: &str) -> Config {
    let text = format!(
        "[[sources]]\nname = \"acme\"\nurl = \"http://127.0.0.1:9\"\nemail = \"bot@acme.example\"\ntoken_env = \"TOK\"\n\
         [[sources]]\nname = \"beta\"\nurl = \"http://127.0.0.1:10\"\nemail = \"bot@beta.example\"\ntoken_env = \"TOK\"\n\
         [server]\n{jwt_line}\nadmin_key_env = \"ADMIN\"\napi_keys = [{{ key_env = \"API\", account_id = \"u-key\" }}]\n"
    );
    Config::from_toml(&text, &dir.join("permdex.toml"), &env()).expect("config")
}

fn callers() -> StaticCallers {
    let user = |id: &str, groups: &[&str]| {
        let mut principals = vec![Principal::User(id.into())];
        principals.extend(groups.iter().map(|g| Principal::Group((*g).into())));
        principals.push(Principal::Authenticated);
        SourcePrincipals(BTreeMap::from([("acme".to_owned(), principals)]))
    };
    StaticCallers(BTreeMap::from([
        ("u1".to_owned(), user("u1", &["g-eng"])),
        ("u-key".to_owned(), user("u-key", &[])),
        // Known but inactive (or out of scope) in every source: no principals anywhere.
        ("u-inactive".to_owned(), SourcePrincipals::default()),
    ]))
}

async fn start_with(jwt_line: &str, limits: Limits) -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rsa.pub"), RSA_PUBLIC).unwrap();
    std::fs::write(dir.path().join("ec.pub"), EC_PUBLIC).unwrap();
    let config = config(dir.path(), jwt_line);
    let index = Arc::new(FakeIndex::default());
    let runner = Arc::new(FakeRunner::default());
    let state = AppState::new(
        Authenticator::from_config(config.server()).expect("authenticator"),
        Arc::new(callers()),
        index.clone(),
        Sources::new(config.sources(), runner.clone()),
    )
    .with_limits(limits);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(permdex::server::serve(listener, state, std::future::pending()));
    Server { base, http: reqwest::Client::new(), index, runner, _dir: dir }
}

async fn start() -> Server {
    start_with("jwt_hs256_secret_env = \"JWT\"", Limits::default()).await
}

impl Server {
    async fn send(&self, method: reqwest::Method, path: &str, bearer: Option<&str>) -> (u16, Value, String) {
        let mut request = self.http.request(method.clone(), format!("{}{path}", self.base));
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        if method == reqwest::Method::PUT {
            request = request.json(&json!({"token": "new-token-5e6f7a8b9c0d"}));
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.expect("body");
        let value = serde_json::from_str(&text).unwrap_or(Value::Null);
        (status, value, text)
    }

    async fn get(&self, path: &str, bearer: Option<&str>) -> (u16, Value, String) {
        self.send(reqwest::Method::GET, path, bearer).await
    }

    /// Waits (without sleeping) until no sync or purge of any source is running.
    async fn until_idle(&self) {
        for _ in 0..10_000 {
            let (_, sources, _) = self.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
            if sources.as_array().unwrap().iter().all(|s| s["sync_running"] == json!(false)) {
                return;
            }
            tokio::task::yield_now().await;
        }
        panic!("sync still running");
    }
}

fn hs256(claims: Value, secret: &[u8], alg: Algorithm) -> String {
    jsonwebtoken::encode(&Header::new(alg), &claims, &EncodingKey::from_secret(secret)).unwrap()
}

fn good_jwt(account: &str) -> String {
    let key = permdex::config::JwtKey::Hs256(permdex::config::Secret::new(JWT_SECRET.into()));
    mint_token(&key, &AccountId::parse(account).unwrap(), Duration::from_secs(600), Utc::now()).unwrap()
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn assert_error(status: u16, body: &Value, want_status: u16, want_code: &str, context: &str) {
    assert_eq!(status, want_status, "{context}: {body}");
    assert_eq!(body["error"]["code"], json!(want_code), "{context}: {body}");
    assert!(body["error"]["message"].as_str().is_some_and(|m| !m.is_empty()), "{context}: {body}");
}

#[tokio::test]
async fn every_bad_credential_is_a_401_with_a_json_error() {
    let server = start().await;
    let now = Utc::now().timestamp();
    let alg_none = format!(
        "{}.{}.",
        b64(br#"{"alg":"none","typ":"JWT"}"#),
        b64(json!({"sub": "u1", "exp": now + 600}).to_string().as_bytes())
    );
    let cases: Vec<(&str, Option<String>)> = vec![
        ("missing", None),
        ("empty", Some(String::new())),
        ("garbage", Some("not.a.jwt".into())),
        (
            "expired",
            Some(hs256(json!({"sub": "u1", "exp": now - 3600}), JWT_SECRET.as_bytes(), Algorithm::HS256)),
        ),
        (
            "wrong signature",
            Some(hs256(
                json!({"sub": "u1", "exp": now + 600}),
                b"another-secret-of-at-least-32-bytes!!",
                Algorithm::HS256,
            )),
        ),
        ("alg none", Some(alg_none)),
        (
            "wrong alg",
            Some(hs256(json!({"sub": "u1", "exp": now + 600}), JWT_SECRET.as_bytes(), Algorithm::HS512)),
        ),
        ("no exp", Some(hs256(json!({"sub": "u1"}), JWT_SECRET.as_bytes(), Algorithm::HS256))),
        ("unknown user", Some(good_jwt("stranger"))),
        ("inactive user", Some(good_jwt("u-inactive"))),
        ("bad api key", Some(format!("{API_KEY}0"))),
    ];
    for (case, token) in cases {
        let mut request = server.http.get(format!("{}/api/v1/search?q=x", server.base));
        match token.as_deref() {
            Some("") => request = request.header("authorization", "Bearer "),
            Some(token) => request = request.bearer_auth(token),
            None => {}
        }
        let response = request.send().await.unwrap();
        assert_eq!(
            response.headers().get("www-authenticate").map(|v| v.to_str().unwrap()),
            Some("Bearer"),
            "{case}"
        );
        let status = response.status().as_u16();
        let body: Value = response.json().await.unwrap();
        assert_error(status, &body, 401, "unauthorized", case);
    }
    assert!(server.index.last_query.lock().unwrap().is_none(), "no search ran for a refused caller");
}

#[tokio::test]
async fn good_credentials_search_with_the_directory_principals_only() {
    let server = start().await;
    let now = Utc::now().timestamp();
    // A token that claims groups: they must be ignored.
    let claims_groups = hs256(
        json!({"sub": "u1", "exp": now + 600, "groups": ["g-admins"]}),
        JWT_SECRET.as_bytes(),
        Algorithm::HS256,
    );
    for (case, token, expected_id) in [
        ("jwt", good_jwt("u1"), "acme:User(\"u1\")|Group(\"g-eng\")|Authenticated"),
        ("jwt with groups claim", claims_groups, "acme:User(\"u1\")|Group(\"g-eng\")|Authenticated"),
        ("api key", API_KEY.to_owned(), "acme:User(\"u-key\")|Authenticated"),
    ] {
        let (status, body, _) = server.get("/api/v1/search?q=release&facets=true", Some(&token)).await;
        assert_eq!(status, 200, "{case}: {body}");
        assert_eq!(body["total"], json!(1), "{case}");
        assert_eq!(body["hits"][0]["id"], json!(expected_id), "{case}");
        assert_eq!(body["hits"][0]["source"], json!("acme"), "{case}");
        assert_eq!(body["facets"]["product"][0], json!({"value": "confluence", "count": 1}), "{case}");
    }
    // The admin key is not a user.
    let (status, body, _) = server.get("/api/v1/search?q=x", Some(ADMIN_KEY)).await;
    assert_error(status, &body, 403, "forbidden", "admin key on search");
}

#[tokio::test]
async fn public_key_jwts_rs256_and_es256() {
    let now = Utc::now().timestamp();
    let claims = json!({"sub": "u1", "exp": now + 600});
    let rs = jsonwebtoken::encode(
        &Header::new(Algorithm::RS256),
        &claims,
        &EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    let es = jsonwebtoken::encode(
        &Header::new(Algorithm::ES256),
        &claims,
        &EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(),
    )
    .unwrap();
    // Algorithm confusion: an HS256 token whose "secret" is the public key.
    let confused_rs = hs256(claims.clone(), RSA_PUBLIC.as_bytes(), Algorithm::HS256);
    let confused_ec = hs256(claims.clone(), EC_PUBLIC.as_bytes(), Algorithm::HS256);
    let rsa = start_with("jwt_public_key_file = \"rsa.pub\"", Limits::default()).await;
    let ec = start_with("jwt_public_key_file = \"ec.pub\"", Limits::default()).await;
    let cases = [
        (&rsa, &rs, 200),
        (&rsa, &es, 401),
        (&rsa, &confused_rs, 401),
        (&ec, &es, 200),
        (&ec, &rs, 401),
        (&ec, &confused_ec, 401),
    ];
    for (i, (server, token, want)) in cases.into_iter().enumerate() {
        let (status, body, _) = server.get("/api/v1/search?q=x", Some(token)).await;
        assert_eq!(status, want, "case {i}: {body}");
    }
}

#[tokio::test]
async fn admin_routes_need_the_admin_key() {
    let server = start().await;
    let user = good_jwt("u1");
    let routes = [
        (reqwest::Method::GET, "/api/v1/admin/sources", 200),
        (reqwest::Method::PUT, "/api/v1/admin/sources/acme/token", 200),
        (reqwest::Method::DELETE, "/api/v1/admin/sources/beta/documents", 204),
        // Removing a source: this server has no configuration file to remove it from.
        (reqwest::Method::DELETE, "/api/v1/admin/sources/beta?data=delete", 409),
    ];
    for (method, path, ok) in routes {
        let (status, body, _) = server.send(method.clone(), path, None).await;
        assert_error(status, &body, 401, "unauthorized", &format!("{method} {path} without a key"));
        let (status, body, _) = server.send(method.clone(), path, Some(&user)).await;
        assert_error(status, &body, 403, "forbidden", &format!("{method} {path} as a user"));
        let (status, body, _) = server.send(method.clone(), path, Some(API_KEY)).await;
        assert_error(status, &body, 403, "forbidden", &format!("{method} {path} with an api key"));
        let (status, _, _) = server.send(method.clone(), path, Some(ADMIN_KEY)).await;
        assert_eq!(status, ok, "{method} {path} as admin");
    }
    let (status, body, _) =
        server.send(reqwest::Method::POST, "/api/v1/admin/sources/nope/sync", Some(ADMIN_KEY)).await;
    assert_error(status, &body, 404, "not_found", "unknown source");
    assert_eq!(*server.runner.purged.lock().unwrap(), vec!["beta".to_owned()]);
}

#[tokio::test]
async fn sources_listing_never_contains_a_token() {
    let server = start().await;
    let (status, body, text) = server.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
    assert_eq!(status, 200);
    let names: Vec<&str> = body.as_array().unwrap().iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["acme", "beta"]);
    assert_eq!(body[0]["url"], json!("http://127.0.0.1:9/"));
    assert_eq!(body[0]["products"], json!({"confluence": true, "jira": true}));
    assert_eq!(body[0]["last_runs"][0]["counts"]["page"]["added"], json!(2));
    assert_eq!(body[0]["last_runs"][0]["failures"][0]["item"], json!("confluence:page:9"));
    assert!(!text.contains(SOURCE_TOKEN), "{text}");
    assert!(!text.to_ascii_lowercase().contains("token"), "no token field at all: {text}");

    let new_token = "rotated-token-0c1d2e3f4a5b";
    let response = server
        .http
        .put(format!("{}/api/v1/admin/sources/acme/token", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "token": new_token }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let answer: Value = response.json().await.unwrap();
    assert_eq!(answer["persisted"], json!(false), "{answer}");
    let detail = answer["detail"].as_str().unwrap();
    assert!(detail.contains("environment variable") && detail.contains("token_file"), "{detail}");
    assert!(!answer.to_string().contains(new_token), "the token is not echoed: {answer}");
    let (_, _, text) = server.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
    assert!(!text.contains(new_token) && !text.contains(SOURCE_TOKEN), "{text}");

    // The next sync uses the new token, without a restart.
    let (status, _, _) =
        server.send(reqwest::Method::POST, "/api/v1/admin/sources/acme/sync", Some(ADMIN_KEY)).await;
    assert_eq!(status, 202);
    assert_eq!(*server.runner.tokens_seen.lock().unwrap(), vec![new_token.to_owned()]);
    server.runner.release.notify_one();
    server.until_idle().await;

    let response = server
        .http
        .put(format!("{}/api/v1/admin/sources/acme/token", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&json!({ "token": "" }))
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let body: Value = response.json().await.unwrap();
    assert_error(status, &body, 400, "bad_request", "empty token");
}

#[tokio::test]
async fn a_sync_runs_in_the_background_once_at_a_time_and_reloads_the_index() {
    let server = start().await;
    let post = || server.send(reqwest::Method::POST, "/api/v1/admin/sources/acme/sync", Some(ADMIN_KEY));
    let (status, body, _) = post().await;
    assert_eq!((status, &body), (202, &json!({"source": "acme", "status": "started"})));
    let (status, body, _) = post().await;
    assert_error(status, &body, 409, "conflict", "second sync while running");
    let (status, body, _) =
        server.send(reqwest::Method::DELETE, "/api/v1/admin/sources/acme/documents", Some(ADMIN_KEY)).await;
    assert_error(status, &body, 409, "conflict", "purge while syncing");
    // Another source is not blocked.
    let (status, _, _) =
        server.send(reqwest::Method::POST, "/api/v1/admin/sources/beta/sync", Some(ADMIN_KEY)).await;
    assert_eq!(status, 202);
    let (_, listing, _) = server.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
    assert_eq!(listing[0]["sync_running"], json!(true));
    let metrics_text =
        server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    assert!(metrics_text.lines().any(|l| l == "permdex_syncs_running 2"), "{metrics_text}");

    server.runner.release.notify_one();
    server.index.reloaded.notified().await;
    server.runner.release.notify_one();
    server.until_idle().await;
    assert_eq!(server.index.reloads.load(Ordering::SeqCst), 2);
    let metrics_text =
        server.http.get(format!("{}/metrics", server.base)).send().await.unwrap().text().await.unwrap();
    // The fake run has one failed item.
    for source in ["acme", "beta"] {
        let line =
            format!("permdex_syncs_total{{source=\"{source}\",outcome=\"completed_with_failures\"}} 1");
        assert!(metrics_text.lines().any(|l| l == line), "{line} in {metrics_text}");
    }
    // Done: a new sync may start.
    let (status, _, _) = post().await;
    assert_eq!(status, 202);
    server.runner.release.notify_one();
}

#[tokio::test]
async fn purge_deletes_through_the_runner_and_reloads() {
    let server = start().await;
    let (status, _, text) =
        server.send(reqwest::Method::DELETE, "/api/v1/admin/sources/acme/documents", Some(ADMIN_KEY)).await;
    assert_eq!((status, text.as_str()), (204, ""));
    assert_eq!(*server.runner.purged.lock().unwrap(), vec!["acme".to_owned()]);
    assert_eq!(server.index.reloads.load(Ordering::SeqCst), 1);
    let (status, body, _) =
        server.send(reqwest::Method::DELETE, "/api/v1/admin/sources/zzz/documents", Some(ADMIN_KEY)).await;
    assert_error(status, &body, 404, "not_found", "purge of an unknown source");
    // A client that still purges with a bare DELETE on the source (its meaning before it removed the
    // source) is told where the purge went, and nothing is removed or purged.
    let (status, body, _) =
        server.send(reqwest::Method::DELETE, "/api/v1/admin/sources/acme", Some(ADMIN_KEY)).await;
    assert_error(status, &body, 400, "bad_request", "a bare DELETE of a source");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("data=keep or data=delete") && message.contains("/acme/documents"), "{message}");
    assert_eq!(server.runner.purged.lock().unwrap().len(), 1);
    let (_, listing, _) = server.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
    assert_eq!(listing.as_array().unwrap().len(), 2, "{listing}");
}

#[tokio::test]
async fn search_errors_have_stable_codes_and_no_internals() {
    let server = start().await;
    let token = good_jwt("u1");
    let cases = [
        ("/api/v1/search?q=(unbalanced", 400, "bad_query", Some("unbalanced parenthesis at 0")),
        ("/api/v1/search?q=x&limit=1000", 400, "bad_request", None),
        ("/api/v1/search?q=x&colour=red", 400, "bad_request", None),
        ("/api/v1/search?q=explode", 500, "internal", Some("internal server error")),
        ("/api/v1/nothing-here", 404, "not_found", None),
    ];
    for (path, want_status, code, message) in cases {
        let (status, body, text) = server.get(path, Some(&token)).await;
        assert_error(status, &body, want_status, code, path);
        if let Some(message) = message {
            assert_eq!(body["error"]["message"], json!(message), "{path}");
        }
        assert!(!text.contains("/var/lib"), "{path}: {text}");
    }
    // A method the route does not have: axum's 405 gets our shape.
    let response =
        server.http.post(format!("{}/api/v1/search", server.base)).bearer_auth(&token).send().await.unwrap();
    let status = response.status().as_u16();
    assert_error(status, &response.json().await.unwrap(), 405, "method_not_allowed", "POST search");
    // The parameters reached the index as parsed.
    let (status, _, _) =
        server.get("/api/v1/search?q=a&label=x&label=y&sort=updated&cursor=c1&limit=7", Some(&token)).await;
    assert_eq!(status, 200);
    let query = server.index.last_query.lock().unwrap().clone().unwrap();
    assert_eq!(query.labels, ["x", "y"]);
    assert_eq!(query.sort, permdex::server::search::SortOrder::Updated);
    assert_eq!(query.page, permdex::server::search::Page::Cursor { cursor: "c1".into(), limit: 7 });
}

#[tokio::test]
async fn health_and_readiness() {
    let server = start().await;
    assert_eq!(server.get("/healthz", None).await.1, json!({"status": "ok"}));
    let (status, body, _) = server.get("/readyz", None).await;
    assert_eq!((status, body), (200, json!({"status": "ready"})));
    server.index.not_ready.store(true, Ordering::SeqCst);
    let (status, body, _) = server.get("/readyz", None).await;
    let reason = "source beta: meta/gen-4.acl: sha256 0a1b does not match the commit's 2c3d";
    assert_eq!((status, body), (503, json!({"status": "not_ready", "reason": reason})));
    let (_, sources, _) = server.get("/api/v1/admin/sources", Some(ADMIN_KEY)).await;
    assert_eq!(sources[0].get("integrity_problem"), None, "{sources}");
    assert_eq!(
        sources[1]["integrity_problem"],
        json!("meta/gen-4.acl: sha256 0a1b does not match the commit's 2c3d")
    );
    let (status, _, _) = server.get("/healthz", None).await;
    assert_eq!(status, 200, "alive even when not ready");
}

#[tokio::test]
async fn metrics_exposition_counts_requests_and_acl_cache() {
    let server = start().await;
    let token = good_jwt("u1");
    for _ in 0..3 {
        server.get("/api/v1/search?q=x", Some(&token)).await;
    }
    server.get("/api/v1/search?q=x", None).await;
    server.get("/no/such/path", None).await;
    let response = server.http.get(format!("{}/metrics", server.base)).send().await.unwrap();
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/plain"));
    let text = response.text().await.unwrap();
    let expected = [
        "permdex_http_requests_total{route=\"/api/v1/search\",method=\"GET\",status=\"200\"} 3",
        "permdex_http_requests_total{route=\"/api/v1/search\",method=\"GET\",status=\"401\"} 1",
        "permdex_http_requests_total{route=\"unmatched\",method=\"GET\",status=\"404\"} 1",
        "permdex_http_request_duration_seconds_count{route=\"/api/v1/search\"} 4",
        "permdex_acl_cache_hits_total 41",
        "permdex_acl_cache_misses_total 3",
        "permdex_syncs_running 0",
        "# TYPE permdex_syncs_total counter",
    ];
    for line in expected {
        assert!(text.lines().any(|l| l == line), "missing {line:?} in\n{text}");
    }
    assert!(!text.contains("/no/such/path"), "unmatched paths are not labels");
}

#[tokio::test]
async fn openapi_describes_exactly_the_routes_that_exist() {
    let server = start().await;
    let (status, document, _) = server.get("/api/v1/openapi.json", None).await;
    assert_eq!(status, 200);
    assert_eq!(document["openapi"], json!("3.0.3"));
    let described = permdex::server::openapi::described_operations(&document);
    let mut routes: Vec<(String, String)> = permdex::server::route_list()
        .into_iter()
        .map(|(m, p)| (m.as_str().to_owned(), p.to_owned()))
        .collect();
    routes.sort();
    assert_eq!(described, routes);
    // Every described operation is answered by its route, not by the fallback or a 405.
    for (method, path) in described {
        let concrete = path.replace("{name}", "beta");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let (status, body, _) = server.send(method.clone(), &concrete, Some(ADMIN_KEY)).await;
        assert_ne!(status, 405, "{method} {path}");
        let message = body["error"]["message"].as_str().unwrap_or("");
        assert!(!message.starts_with("no route"), "{method} {path}: {body}");
        server.runner.release.notify_one();
    }
}

#[tokio::test]
async fn request_bodies_over_the_limit_get_413() {
    let limits = Limits { max_body_bytes: 256, ..Limits::default() };
    let server = start_with("jwt_hs256_secret_env = \"JWT\"", limits).await;
    let big = json!({"token": "x".repeat(4096)});
    let response = server
        .http
        .put(format!("{}/api/v1/admin/sources/acme/token", server.base))
        .bearer_auth(ADMIN_KEY)
        .json(&big)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_error(status, &serde_json::from_str(&text).unwrap(), 413, "payload_too_large", "big body");
    assert!(!text.contains("xxxx"), "the body is not echoed");
    assert!(server.runner.tokens_seen.lock().unwrap().is_empty());
}

mod hardening;
mod onboard;
mod real_index;
mod remove;

#[tokio::test]
async fn demo_users_exist_only_in_demo_mode() {
    let server = start().await;
    let (status, body, text) = server.get("/api/v1/demo/users", None).await;
    assert_eq!(status, 404, "outside demo mode nobody may list sign-in identities: {text}");
    assert_eq!(body["error"]["code"], "not_found");
    assert!(!text.contains("token"), "no token is listed: {text}");
}
