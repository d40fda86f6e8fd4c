//! Browser sessions: a random id in an `HttpOnly`, `SameSite=Lax` cookie naming a server-side record (the
//! account, a CSRF token, an expiry), and the short-lived records of sign-ins in progress (OAuth `state`,
//! PKCE verifier, nonce).
//!
//! Sessions live in memory: signing out ends one at once, and a restart signs everyone out (they sign in
//! again with one click). The cookie carries nothing but the id. State-changing requests made with a
//! session must repeat its CSRF token in the `X-CSRF-Token` header, which another site's page cannot read
//! or set; bearer-token requests need none (a browser never adds them by itself).
//!
//! This file knows no identity provider; `mod.rs` decides who signs in.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use axum::http::{header, HeaderMap, HeaderValue};
use chrono::{DateTime, Utc};
use rand::RngCore;

use crate::config::AccountId;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "permdex_session";
/// The cookie tying a sign-in in progress to the browser that started it.
pub const LOGIN_COOKIE: &str = "permdex_login";
/// The header that must repeat the session's CSRF token on state-changing requests.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a session lasts from sign-in.
pub const SESSION_TTL: Duration = Duration::from_secs(8 * 3600);
/// How long a sign-in may take at the provider.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);
/// Sign-ins in progress at once; beyond this, new ones are refused (stale ones are dropped first).
const MAX_PENDING: usize = 10_000;

/// Which provider a session or sign-in is with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    Atlassian,
    Oidc,
}

/// One signed-in browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    pub account_id: AccountId,
    pub display_name: String,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
    pub provider: Provider,
}

/// A sign-in in progress, keyed by its OAuth `state`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub provider: Provider,
    /// The PKCE verifier (OpenID Connect).
    pub verifier: Option<String>,
    /// The nonce the ID token must carry (OpenID Connect).
    pub nonce: Option<String>,
    expires_at: DateTime<Utc>,
}

/// Sessions and sign-ins in progress.
#[derive(Debug, Default)]
pub struct Sessions {
    sessions: Mutex<HashMap<String, Session>>,
    pending: Mutex<HashMap<String, Pending>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// 32 random bytes, URL-safe: session ids, CSRF tokens, OAuth states, PKCE verifiers, nonces.
pub fn random_token() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn ttl(duration: Duration) -> chrono::Duration {
    chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::zero())
}

impl Sessions {
    /// Starts a session for `account_id`; returns its id (the cookie's value).
    pub fn create(
        &self,
        account_id: AccountId,
        display_name: String,
        provider: Provider,
        now: DateTime<Utc>,
    ) -> (String, Session) {
        let id = random_token();
        let session = Session {
            account_id,
            display_name,
            csrf_token: random_token(),
            expires_at: now + ttl(SESSION_TTL),
            provider,
        };
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires_at > now);
        sessions.insert(id.clone(), session.clone());
        (id, session)
    }

    /// The live session `id` names; an expired one is dropped.
    pub fn get(&self, id: &str, now: DateTime<Utc>) -> Option<Session> {
        let mut sessions = lock(&self.sessions);
        match sessions.get(id) {
            Some(session) if session.expires_at > now => Some(session.clone()),
            Some(_) => {
                sessions.remove(id);
                None
            }
            None => None,
        }
    }

    pub fn remove(&self, id: &str) {
        lock(&self.sessions).remove(id);
    }

    /// Records a sign-in in progress under a new `state`; `None` when too many are in progress.
    pub fn begin(
        &self,
        provider: Provider,
        verifier: Option<String>,
        nonce: Option<String>,
        now: DateTime<Utc>,
    ) -> Option<String> {
        let mut pending = lock(&self.pending);
        pending.retain(|_, p| p.expires_at > now);
        if pending.len() >= MAX_PENDING {
            return None;
        }
        let state = random_token();
        pending
            .insert(state.clone(), Pending { provider, verifier, nonce, expires_at: now + ttl(LOGIN_TTL) });
        Some(state)
    }

    /// The sign-in `state` names, once, if it is live and for `provider`.
    pub fn finish(&self, state: &str, provider: Provider, now: DateTime<Utc>) -> Option<Pending> {
        let pending = lock(&self.pending).remove(state)?;
        (pending.provider == provider && pending.expires_at > now).then_some(pending)
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Whether cookies are marked `Secure`: when the server is reached over TLS, which its callback URL says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tls,
    Plain,
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Lax`, `Secure` over TLS. `max_age` zero deletes the cookie.
pub fn set_cookie(
    name: &str,
    value: &str,
    path: &str,
    max_age: Duration,
    transport: Transport,
) -> HeaderValue {
    let secure = match transport {
        Transport::Tls => "; Secure",
        Transport::Plain => "",
    };
    let text =
        format!("{name}={value}; Path={path}; Max-Age={}; HttpOnly; SameSite=Lax{secure}", max_age.as_secs());
    // Names and values are ours (base64url tokens), so they always make a valid header.
    HeaderValue::from_str(&text).unwrap_or_else(|_| HeaderValue::from_static("permdex_invalid=; Max-Age=0"))
}

/// Whether a request with this method changes state (and so needs the CSRF token with a session).
pub fn changes_state(method: &axum::http::Method) -> bool {
    !matches!(*method, axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS)
}

/// Whether the request repeats `session`'s CSRF token (compared in constant time).
pub fn csrf_matches(headers: &HeaderMap, session: &Session) -> bool {
    let Some(sent) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let (a, b) = (sent.as_bytes(), session.csrf_token.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account() -> AccountId {
        AccountId::parse("u1").unwrap()
    }

    #[test]
    fn sessions_expire_and_sign_out() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let (id, session) = sessions.create(account(), "Ada".into(), Provider::Atlassian, now);
        assert_eq!(sessions.get(&id, now).as_ref(), Some(&session));
        assert_eq!(sessions.get("other", now), None);
        let later = now + ttl(SESSION_TTL) + chrono::Duration::seconds(1);
        assert_eq!(sessions.get(&id, later), None, "expired");
        let (id, _) = sessions.create(account(), "Ada".into(), Provider::Oidc, now);
        sessions.remove(&id);
        assert_eq!(sessions.get(&id, now), None, "signed out");
    }

    #[test]
    fn a_sign_in_finishes_once_with_its_provider_in_time() {
        let sessions = Sessions::default();
        let now = Utc::now();
        let state = sessions.begin(Provider::Oidc, Some("v".into()), Some("n".into()), now).unwrap();
        assert_eq!(sessions.finish(&state, Provider::Atlassian, now), None, "other provider");
        let state = sessions.begin(Provider::Oidc, Some("v".into()), Some("n".into()), now).unwrap();
        assert_eq!(sessions.finish(&state, Provider::Oidc, now).unwrap().verifier.as_deref(), Some("v"));
        assert_eq!(sessions.finish(&state, Provider::Oidc, now), None, "used");
        let state = sessions.begin(Provider::Oidc, None, None, now).unwrap();
        let late = now + ttl(LOGIN_TTL) + chrono::Duration::seconds(1);
        assert_eq!(sessions.finish(&state, Provider::Oidc, late), None, "expired");
    }

    #[test]
    fn cookies_are_read_and_written_with_their_attributes() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, HeaderValue::from_static("a=1; permdex_session=abc; b=2"));
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&headers, "missing"), None);
        let plain = set_cookie(SESSION_COOKIE, "abc", "/", Duration::from_secs(60), Transport::Plain);
        assert_eq!(plain, "permdex_session=abc; Path=/; Max-Age=60; HttpOnly; SameSite=Lax");
        let tls = set_cookie(SESSION_COOKIE, "abc", "/", Duration::from_secs(60), Transport::Tls);
        assert!(tls.to_str().unwrap().ends_with("; Secure"));
    }

    #[test]
    fn csrf_token_must_be_repeated_exactly() {
        let sessions = Sessions::default();
        let (_, session) = sessions.create(account(), "Ada".into(), Provider::Atlassian, Utc::now());
        let mut headers = HeaderMap::new();
        assert!(!csrf_matches(&headers, &session));
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&format!("{}x", session.csrf_token)).unwrap());
        assert!(!csrf_matches(&headers, &session));
        headers.insert(CSRF_HEADER, HeaderValue::from_str(&session.csrf_token).unwrap());
        assert!(csrf_matches(&headers, &session));
        assert!(changes_state(&axum::http::Method::POST) && !changes_state(&axum::http::Method::GET));
    }
}
