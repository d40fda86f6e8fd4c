//! `permdex token`: mints a short-lived HS256 bearer token for an account from the configured secret.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use permdex::config::{AccountId, Config, Secrets};

use super::Usage;

/// Raw flags of `permdex token`.
#[derive(Debug, Clone, Args)]
pub struct TokenArgs {
    /// Account id the token authenticates as (the JWT `sub`).
    #[arg(long = "user", value_name = "ACCOUNT_ID")]
    pub user: String,
    /// How long the token is valid: seconds, or a number with s, m, h or d (at most 365d).
    #[arg(long, default_value = "1h")]
    pub ttl: String,
    /// The config file whose `server.jwt_hs256_secret_env` holds the secret.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
}

/// Longest TTL `permdex token` mints: a year.
const MAX_TOKEN_TTL: Duration = Duration::from_secs(365 * 24 * 3600);

/// Parses a TTL: `3600`, `90s`, `15m`, `1h`, `7d`; positive and at most [`MAX_TOKEN_TTL`].
fn parse_ttl(text: &str) -> Result<Duration, Usage> {
    let bad = |reason: &str| Usage::flag("ttl", format!("{text:?}: {reason}"));
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((i, c)) if c.is_ascii_alphabetic() => (&text[..i], c),
        _ => (text, 's'),
    };
    let multiplier = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 24 * 3600,
        _ => return Err(bad("unit must be s, m, h or d")),
    };
    let n: u64 = number.parse().map_err(|_| bad("expected a whole number, like 30m or 1h"))?;
    let ttl = Duration::from_secs(n.saturating_mul(multiplier));
    if ttl.is_zero() || ttl > MAX_TOKEN_TTL {
        return Err(bad("must be more than 0 and at most 365d"));
    }
    Ok(ttl)
}

/// `permdex token`: writes a freshly minted token (one line) to `out`.
pub fn run(args: &TokenArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let config = Config::load_for(&args.config, Secrets::JWT_KEY)?;
    let token = token_for(&config, args)?;
    writeln!(out, "{token}").and_then(|()| out.flush()).context("cannot write to stdout")
}

/// The token `permdex token` prints, for `config`.
fn token_for(config: &Config, args: &TokenArgs) -> anyhow::Result<String> {
    let account = AccountId::parse(&args.user).map_err(|e| Usage::flag("user", e.to_string()))?;
    let ttl = parse_ttl(&args.ttl)?;
    let key = config.server().jwt().ok_or(permdex::server::Error::NoJwtKey)?;
    let max = config.server().jwt_rules().max_lifetime;
    if ttl > max {
        return Err(Usage::flag(
            "ttl",
            format!(
                "{:?}: the server refuses tokens living longer than server.jwt_max_lifetime_secs = {}",
                args.ttl,
                max.as_secs()
            ),
        )
        .into());
    }
    Ok(permdex::server::auth::mint_token(key, &account, ttl, chrono::Utc::now())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ttl_flag() {
        let cases: &[(&str, Option<u64>)] = &[
            ("3600", Some(3600)),
            ("90s", Some(90)),
            ("15m", Some(900)),
            ("1h", Some(3600)),
            ("7d", Some(7 * 86400)),
            ("365d", Some(365 * 86400)),
            ("366d", None),
            ("0", None),
            ("1w", None),
            ("h", None),
            ("-1h", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_ttl(text).ok().map(|d| d.as_secs()), *want, "{text:?}");
        }
    }

    #[test]
    fn token_command_mints_a_token_the_server_accepts() {
        let env = std::collections::BTreeMap::from([
            ("JWT".to_owned(), "a-secret-of-at-least-thirty-two-bytes!".to_owned()),
            ("TOK".to_owned(), "t0ken".to_owned()),
        ]);
        let source = "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n";
        let path = std::path::Path::new("permdex.toml");
        let with_secret = permdex::config::Config::from_toml(
            &format!("{source}[server]\njwt_hs256_secret_env = \"JWT\"\n"),
            path,
            &env,
        )
        .unwrap();
        let args = TokenArgs { user: "557058:abc".into(), ttl: "2h".into(), config: path.into() };
        let token = token_for(&with_secret, &args).unwrap();
        let auth = permdex::server::Authenticator::from_config(with_secret.server()).unwrap();
        let callers = permdex::server::StaticCallers(std::collections::BTreeMap::from([(
            "557058:abc".to_owned(),
            permdex::server::SourcePrincipals(std::collections::BTreeMap::from([("s".to_owned(), vec![])])),
        )]));
        let header = axum::http::HeaderValue::from_str(&format!("Bearer {token}")).unwrap();
        assert_eq!(auth.caller(Some(&header), &callers).unwrap().account_id.as_str(), "557058:abc");

        let bad_user = TokenArgs { user: "someone@example.com".into(), ..args.clone() };
        assert!(super::super::is_usage(&token_for(&with_secret, &bad_user).unwrap_err()));
        let without_secret = permdex::config::Config::from_toml(source, path, &env).unwrap();
        assert!(super::super::is_usage(&token_for(&without_secret, &args).unwrap_err()));
    }
}
