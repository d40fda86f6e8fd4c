//! The `[server]` table of `permdex.toml`: listen address, connection limits, JWT rules and keys, API and
//! admin keys, and the sign-in providers (Atlassian 3LO, OpenID Connect).

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use super::super::raw::{RawApiKey, RawAtlassianLogin, RawOidcLogin, RawServer};
use super::super::types::{AccountId, EnvVarName};
use super::super::{
    ApiKey, AtlassianLogin, ConnectionLimits, Env, JwtKey, JwtRules, OidcLogin, Secret, Secrets,
    ServerConfig, Url, DEFAULT_LISTEN,
};
use super::secrets::{read_secrets, secret_from_env, secret_from_file};
use super::{is_loopback, required, Report, MIN_API_KEY_BYTES, MIN_HS256_SECRET_BYTES};

pub(super) fn validate_server(
    raw: RawServer,
    base_dir: &Path,
    env: &dyn Env,
    secrets: Secrets,
    report: &mut Report,
) -> Option<ServerConfig> {
    let problems_before = report.problems.len();

    let listen_text = raw.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
    let listen = listen_text.parse::<SocketAddr>().ok();
    if listen.is_none() {
        report.problem(
            "server.listen",
            format!("{listen_text:?} is not an address like {DEFAULT_LISTEN} or [::1]:7700"),
        );
    }

    let mut unread = Vec::new();
    let jwt_configured = raw.jwt_hs256_secret_env.is_some() || raw.jwt_public_key_file.is_some();
    let jwt = read_secrets(secrets.jwt_key, report, |report| {
        match (raw.jwt_hs256_secret_env, raw.jwt_public_key_file) {
            (None, None) => None,
            (Some(_), Some(_)) => {
                report.problem("server", "set at most one of jwt_hs256_secret_env and jwt_public_key_file");
                None
            }
            (Some(var), None) => {
                let key = "server.jwt_hs256_secret_env";
                report
                    .check(key, EnvVarName::parse(&var))
                    .and_then(|name| secret_from_env(key, &name, env, report))
                    .filter(|secret| {
                        let long_enough = secret.expose().len() >= MIN_HS256_SECRET_BYTES;
                        if !long_enough {
                            report.problem(
                                key,
                                format!("HS256 secret must be at least {MIN_HS256_SECRET_BYTES} bytes"),
                            );
                        }
                        long_enough
                    })
                    .map(JwtKey::Hs256)
            }
            (None, Some(file)) => {
                let path = base_dir.join(file);
                read_public_key_pem("server.jwt_public_key_file", &path, report)
                    .map(|pem| JwtKey::PublicKeyPem { path, pem })
            }
        }
    });
    if jwt_configured && jwt.is_none() && !secrets.jwt_key {
        unread.push("the JWT key");
    }

    let keys_configured = !raw.api_keys.is_empty() || raw.admin_key_env.is_some();
    let keys = read_secrets(secrets.api_keys, report, |report| {
        Some(api_and_admin_keys(raw.api_keys, raw.admin_key_env, env, report))
    });
    if keys_configured && keys.is_none() {
        unread.push("the API keys and the admin key");
    }
    let (api_keys, admin_key) = keys.unwrap_or_default();

    // Sign-in client secrets serve browsers only: read like the API keys.
    let logins_configured = raw.atlassian_login.is_some() || raw.oidc_login.is_some();
    let (raw_atlassian, raw_oidc) = (raw.atlassian_login, raw.oidc_login);
    let logins = read_secrets(secrets.api_keys, report, |report| {
        let atlassian = raw_atlassian.and_then(|raw| validate_atlassian_login(raw, base_dir, env, report));
        let oidc = raw_oidc.and_then(|raw| validate_oidc_login(raw, base_dir, env, report));
        Some((atlassian, oidc))
    });
    if logins_configured && logins.is_none() {
        unread.push("the sign-in client secrets");
    }
    let (atlassian_login, oidc_login) = logins.unwrap_or_default();

    let metrics_configured = raw.metrics_key_env.is_some();
    let raw_metrics_key = raw.metrics_key_env;
    let metrics_key = read_secrets(secrets.api_keys, report, |report| {
        raw_metrics_key.map(|var| {
            let key = "server.metrics_key_env";
            let secret = report
                .check(key, EnvVarName::parse(&var))
                .and_then(|name| secret_from_env(key, &name, env, report))?;
            if secret.expose().len() < MIN_API_KEY_BYTES {
                report.problem(key, format!("metrics key must be at least {MIN_API_KEY_BYTES} characters"));
            }
            Some(secret)
        })
    })
    .flatten();
    if metrics_configured && metrics_key.is_none() && !secrets.api_keys {
        unread.push("the metrics key");
    }

    let non_empty = |key: &str, value: Option<String>, report: &mut Report| {
        value.filter(|v| {
            let ok = !v.trim().is_empty();
            if !ok {
                report.problem(key, "must not be empty (leave the key out to accept any)");
            }
            ok
        })
    };
    let defaults = JwtRules::default();
    let jwt_rules = JwtRules {
        audience: non_empty("server.jwt_audience", raw.jwt_audience, report),
        issuer: non_empty("server.jwt_issuer", raw.jwt_issuer, report),
        max_lifetime: seconds_in(
            "server.jwt_max_lifetime_secs",
            raw.jwt_max_lifetime_secs,
            1..=JwtRules::MAX_MAX_LIFETIME_SECS,
            report,
        )
        .unwrap_or(defaults.max_lifetime),
        leeway: seconds_in(
            "server.jwt_leeway_secs",
            raw.jwt_leeway_secs,
            0..=JwtRules::MAX_LEEWAY_SECS,
            report,
        )
        .unwrap_or(defaults.leeway),
    };
    let connection_defaults = ConnectionLimits::default();
    let connections = ConnectionLimits {
        header_read_timeout: seconds_in(
            "server.header_read_timeout_secs",
            raw.header_read_timeout_secs,
            1..=ConnectionLimits::MAX_HEADER_READ_TIMEOUT_SECS,
            report,
        )
        .unwrap_or(connection_defaults.header_read_timeout),
        max_connections: match raw.max_connections {
            None => connection_defaults.max_connections,
            Some(n) => usize::try_from(n)
                .ok()
                .filter(|n| (1..=ConnectionLimits::MAX_CONNECTIONS).contains(n))
                .unwrap_or_else(|| {
                    report.problem(
                        "server.max_connections",
                        format!("must be between 1 and {}", ConnectionLimits::MAX_CONNECTIONS),
                    );
                    connection_defaults.max_connections
                }),
        },
    };

    if report.problems.len() > problems_before {
        return None;
    }
    Some(ServerConfig {
        listen: listen?,
        jwt,
        jwt_rules,
        api_keys,
        admin_key,
        metrics_key,
        connections,
        log_search_terms: raw.log_search_terms.unwrap_or(false),
        atlassian_login,
        oidc_login,
        unread,
    })
}

/// The static API keys and the admin key, all distinct.
fn api_and_admin_keys(
    raw_keys: Vec<RawApiKey>,
    admin_key_env: Option<String>,
    env: &dyn Env,
    report: &mut Report,
) -> (Vec<ApiKey>, Option<Secret>) {
    let mut api_keys: Vec<ApiKey> = Vec::new();
    for (i, raw_key) in raw_keys.into_iter().enumerate() {
        let key = format!("server.api_keys[{i}]");
        if let Some(api_key) = validate_api_key(&key, raw_key, env, report) {
            if let Some(j) = api_keys.iter().position(|other| other.key.matches(api_key.key.expose())) {
                report.problem(
                    &format!("{key}.key_env"),
                    format!("same key as server.api_keys[{j}]; keys must be distinct"),
                );
            }
            api_keys.push(api_key);
        }
    }

    let admin_key = admin_key_env.and_then(|var| {
        let key = "server.admin_key_env";
        let secret = report
            .check(key, EnvVarName::parse(&var))
            .and_then(|name| secret_from_env(key, &name, env, report))?;
        if secret.expose().len() < MIN_API_KEY_BYTES {
            report.problem(key, format!("admin key must be at least {MIN_API_KEY_BYTES} characters"));
        }
        if let Some(j) = api_keys.iter().position(|api_key| api_key.key.matches(secret.expose())) {
            report.problem(key, format!("same key as server.api_keys[{j}]; the admin key must be distinct"));
        }
        Some(secret)
    });

    (api_keys, admin_key)
}

/// A whole number of seconds in `range`, or `None` (with a problem reported when it was given but is out
/// of range).
fn seconds_in(
    key: &str,
    value: Option<i64>,
    range: std::ops::RangeInclusive<u64>,
    report: &mut Report,
) -> Option<Duration> {
    let secs = value?;
    let valid = u64::try_from(secs).ok().filter(|s| range.contains(s));
    if valid.is_none() {
        report.problem(key, format!("must be between {} and {}", range.start(), range.end()));
    }
    valid.map(Duration::from_secs)
}

const ATLASSIAN_AUTH_URL: &str = "https://auth.atlassian.com";
const ATLASSIAN_API_URL: &str = "https://api.atlassian.com";

fn validate_atlassian_login(
    raw: RawAtlassianLogin,
    base_dir: &Path,
    env: &dyn Env,
    report: &mut Report,
) -> Option<AtlassianLogin> {
    let key = "server.atlassian_login";
    let client_id = required_text(&format!("{key}.client_id"), raw.client_id, report);
    let client_secret =
        match client_secret(key, raw.client_secret_env, raw.client_secret_file, base_dir, env, report) {
            Some(Some(secret)) => Some(secret),
            Some(None) => {
                report.problem(
                key,
                "set client_secret_env = \"VAR\" or client_secret_file = \"path\" (never the secret itself)",
            );
                None
            }
            None => None,
        };
    let callback_url = login_url(&format!("{key}.callback_url"), raw.callback_url.as_deref(), report);
    let auth_url = login_url(
        &format!("{key}.auth_url"),
        Some(raw.auth_url.as_deref().unwrap_or(ATLASSIAN_AUTH_URL)),
        report,
    );
    let api_url = login_url(
        &format!("{key}.api_url"),
        Some(raw.api_url.as_deref().unwrap_or(ATLASSIAN_API_URL)),
        report,
    );
    Some(AtlassianLogin {
        client_id: client_id?,
        client_secret: client_secret?,
        callback_url: callback_url?,
        auth_url: auth_url?,
        api_url: api_url?,
    })
}

fn validate_oidc_login(
    raw: RawOidcLogin,
    base_dir: &Path,
    env: &dyn Env,
    report: &mut Report,
) -> Option<OidcLogin> {
    let key = "server.oidc_login";
    let issuer = login_url(&format!("{key}.issuer"), raw.issuer.as_deref(), report);
    let client_id = required_text(&format!("{key}.client_id"), raw.client_id, report);
    let client_secret =
        client_secret(key, raw.client_secret_env, raw.client_secret_file, base_dir, env, report);
    let callback_url = login_url(&format!("{key}.callback_url"), raw.callback_url.as_deref(), report);
    let label = raw.label.unwrap_or_else(|| "Sign in with SSO".to_owned());
    Some(OidcLogin {
        issuer: issuer?,
        client_id: client_id?,
        client_secret: client_secret?,
        callback_url: callback_url?,
        label,
    })
}

fn required_text(key: &str, value: Option<String>, report: &mut Report) -> Option<String> {
    match value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty()) {
        Some(value) => Some(value),
        None => {
            report.problem(key, "is required");
            None
        }
    }
}

/// An `https` URL (or `http` to a loopback host, for local testing), without a query or credentials.
fn login_url(key: &str, text: Option<&str>, report: &mut Report) -> Option<Url> {
    let Some(text) = text else {
        report.problem(key, "is required");
        return None;
    };
    let url = match Url::parse(text) {
        Ok(url) => url,
        Err(e) => {
            report.problem(key, format!("{text:?} is not a URL: {e}"));
            return None;
        }
    };
    let secure = url.scheme() == "https" || (url.scheme() == "http" && is_loopback(&url));
    if !secure {
        report.problem(key, format!("{text:?} must be https (plain http only to a loopback host)"));
        return None;
    }
    if !url.username().is_empty() || url.password().is_some() || url.query().is_some() {
        report.problem(key, format!("{text:?} must not carry credentials or a query"));
        return None;
    }
    Some(url)
}

/// A client secret from `client_secret_env` or `client_secret_file` (0600). `Some(None)` when neither is
/// set; `None` on a problem.
fn client_secret(
    key: &str,
    secret_env: Option<String>,
    secret_file: Option<String>,
    base_dir: &Path,
    env: &dyn Env,
    report: &mut Report,
) -> Option<Option<Secret>> {
    match (secret_env, secret_file) {
        (Some(var), None) => {
            let var_key = format!("{key}.client_secret_env");
            let name = report.check(&var_key, EnvVarName::parse(&var))?;
            secret_from_env(&var_key, &name, env, report).map(Some)
        }
        (None, Some(file)) => {
            let file_key = format!("{key}.client_secret_file");
            secret_from_file(&file_key, &base_dir.join(file), report).map(Some)
        }
        (Some(_), Some(_)) => {
            report.problem(key, "set at most one of client_secret_env and client_secret_file");
            None
        }
        (None, None) => Some(None),
    }
}

fn validate_api_key(key: &str, raw: RawApiKey, env: &dyn Env, report: &mut Report) -> Option<ApiKey> {
    let env_key = format!("{key}.key_env");
    let account_key = format!("{key}.account_id");
    let key_env =
        required(&env_key, raw.key_env, report).and_then(|v| report.check(&env_key, EnvVarName::parse(&v)));
    let secret = key_env.as_ref().and_then(|name| secret_from_env(&env_key, name, env, report));
    if secret.as_ref().is_some_and(|s| s.expose().len() < MIN_API_KEY_BYTES) {
        report.problem(&env_key, format!("API key must be at least {MIN_API_KEY_BYTES} characters"));
        return None;
    }
    let account_id = required(&account_key, raw.account_id, report)
        .and_then(|a| report.check(&account_key, AccountId::parse(&a)));
    Some(ApiKey { key: secret?, account_id: account_id?, key_env: key_env? })
}

/// A PEM public key (RS256 or ES256). A private key is refused: the server only verifies.
fn read_public_key_pem(key: &str, path: &Path, report: &mut Report) -> Option<String> {
    let shown = path.display();
    let pem = match std::fs::read_to_string(path) {
        Ok(pem) => pem,
        Err(err) => {
            report.problem(key, format!("cannot read {shown}: {err}"));
            return None;
        }
    };
    if pem.contains("PRIVATE KEY-----") {
        report.problem(key, format!("{shown} holds a private key; give the public key"));
        return None;
    }
    if !pem.contains("-----BEGIN PUBLIC KEY-----") && !pem.contains("-----BEGIN RSA PUBLIC KEY-----") {
        report.problem(key, format!("{shown} is not a PEM public key (-----BEGIN PUBLIC KEY-----)"));
        return None;
    }
    Some(pem)
}
