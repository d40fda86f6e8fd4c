//! `RawConfig` → [`Config`]: every value rule of `permdex.toml`, secrets read from the environment and
//! from files, defaults filled in. This file holds the report, the top level and the sources; `secrets.rs`
//! reads tokens and keys, `server.rs` checks the `[server]` table.
//!
//! Each rule adds a message naming its key (`sources[1].url: …`) and validation carries on, so one run
//! reports every problem in the file. Messages never repeat a secret, nor a value that might be one.
//!
//! Rules that are not obvious from the key names:
//! - exactly one of `token_env` / `token_file`; both read now, trimmed, must not be empty;
//! - a token file readable or writable by other users is refused (`chmod 600`); group access is a warning;
//! - a key in both the include and the exclude list of the same kind is an error;
//! - each account in `exclude_users` also excludes its personal space `~accountId`, and listing that
//!   space in `include_spaces` is an error;
//! - plain `http://` to a host other than loopback is a warning (the token would travel in clear);
//! - HS256 secrets are at least 32 bytes, API and admin keys at least 16, and all keys are distinct.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::raw::{RawConfig, RawSize, RawSource};
use super::types::{parse_byte_size, AccountId, Email, InvalidValue, ProjectKey, SourceName, SpaceKey};
use super::{Config, Env, KeyFilter, Limits, Products, Schedule, Secrets, Source, Url, DEFAULT_DATA_DIR};

mod secrets;
mod server;

use secrets::{read_secrets, read_token, token_origin};
use server::validate_server;

/// Largest token or key file accepted; anything bigger is not a token.
const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;
const MIN_HS256_SECRET_BYTES: usize = 32;
const MIN_API_KEY_BYTES: usize = 16;

/// Messages collected while validating; the key is prefixed to each.
#[derive(Default)]
struct Report {
    problems: Vec<String>,
    warnings: Vec<String>,
}

impl Report {
    fn problem(&mut self, key: &str, message: impl std::fmt::Display) {
        self.problems.push(format!("{key}: {message}"));
    }

    fn warning(&mut self, key: &str, message: impl std::fmt::Display) {
        self.warnings.push(format!("{key}: {message}"));
    }

    /// The parsed value, or `None` after recording why it was rejected.
    fn check<T>(&mut self, key: &str, parsed: Result<T, InvalidValue>) -> Option<T> {
        parsed.map_err(|err| self.problem(key, err)).ok()
    }
}

/// Validates `raw`, read from `file`. Relative paths resolve against `file`'s directory.
pub(super) fn validate(
    raw: RawConfig,
    file: &Path,
    env: &dyn Env,
    secrets: Secrets,
) -> Result<Config, Vec<String>> {
    let base_dir = file.parent().unwrap_or(Path::new("")).to_owned();
    let mut report = Report::default();

    let data_dir = match raw.data_dir.as_deref() {
        Some("") => {
            report.problem("data_dir", "must not be empty");
            PathBuf::new()
        }
        Some(dir) => base_dir.join(dir),
        None => base_dir.join(DEFAULT_DATA_DIR),
    };

    if raw.sources.is_empty() {
        report.problem("sources", "at least one [[sources]] table is required");
    }
    let mut sources = Vec::new();
    for (i, raw_source) in raw.sources.into_iter().enumerate() {
        if let Some(source) =
            validate_source(&format!("sources[{i}]"), raw_source, &base_dir, env, secrets, &mut report)
        {
            sources.push(source);
        }
    }
    let mut seen_names = BTreeSet::new();
    for (i, source) in sources.iter().enumerate() {
        if !seen_names.insert(source.name.clone()) {
            report.problem(
                &format!("sources[{i}].name"),
                format!("duplicate source name {:?}", source.name.as_str()),
            );
        }
    }

    let server = validate_server(raw.server.unwrap_or_default(), &base_dir, env, secrets, &mut report);

    match (server, report.problems.is_empty()) {
        (Some(server), true) => {
            Ok(Config { file: file.to_owned(), data_dir, sources, server, warnings: report.warnings })
        }
        _ => Err(report.problems),
    }
}

fn validate_source(
    key: &str,
    raw: RawSource,
    base_dir: &Path,
    env: &dyn Env,
    secrets: Secrets,
    report: &mut Report,
) -> Option<Source> {
    let k = |field: &str| format!("{key}.{field}");
    let problems_before = report.problems.len();
    // Limits and the schedule first: they only borrow `raw`; the checks below move its strings out.
    let limits = validate_limits(key, &raw, report);
    let (schedule, max_permission_age) = validate_schedule(key, &raw, report);

    let name =
        required(&k("name"), raw.name, report).and_then(|n| report.check(&k("name"), SourceName::parse(&n)));
    let url = required(&k("url"), raw.url, report).and_then(|u| parse_site_url(&k("url"), &u, report));
    let email =
        required(&k("email"), raw.email, report).and_then(|e| report.check(&k("email"), Email::parse(&e)));
    let token_origin = token_origin(key, raw.token_env, raw.token_file, base_dir, report);
    let token = token_origin
        .as_ref()
        .and_then(|origin| read_secrets(secrets.source_tokens, report, |r| read_token(key, origin, env, r)));

    let products = Products { confluence: raw.confluence.unwrap_or(true), jira: raw.jira.unwrap_or(true) };
    if !products.confluence && !products.jira {
        report.problem(key, "confluence and jira are both false; enable at least one");
    }

    let users = key_filter(key, "users", &raw.include_users, &raw.exclude_users, AccountId::parse, report);
    // An excluded account's personal space goes with it.
    let mut exclude_spaces = raw.exclude_spaces;
    for account in users.exclude() {
        let personal = account.personal_space_key();
        if raw.include_spaces.iter().any(|s| s == personal.as_str()) {
            report.problem(
                &k("include_spaces"),
                format!("{personal} is the personal space of {account}, which is in exclude_users"),
            );
        } else if !exclude_spaces.iter().any(|s| s == personal.as_str()) {
            exclude_spaces.push(personal.as_str().to_owned());
        }
    }
    let spaces = key_filter(key, "spaces", &raw.include_spaces, &exclude_spaces, SpaceKey::parse, report);
    let projects =
        key_filter(key, "projects", &raw.include_projects, &raw.exclude_projects, ProjectKey::parse, report);

    let mut group_list = |name: &str, groups: Option<Vec<String>>| {
        groups.map(|groups| {
            let groups: BTreeSet<String> = groups.into_iter().map(|g| g.trim().to_owned()).collect();
            if groups.contains("") {
                report.problem(&k(name), "a group name or id is empty");
            }
            groups
        })
    };
    let confluence_access_groups = group_list("confluence_access_groups", raw.confluence_access_groups);
    let confluence_licensed_groups = group_list("confluence_licensed_groups", raw.confluence_licensed_groups);

    if report.problems.len() > problems_before {
        return None;
    }
    Some(Source {
        name: name?,
        url: url?,
        email: email?,
        token,
        token_origin: token_origin?,
        products,
        spaces,
        projects,
        users,
        include_archived: raw.archived.unwrap_or(false),
        confluence_access_groups,
        confluence_licensed_groups,
        limits: limits?,
        schedule,
        max_permission_age,
    })
}

fn required(key: &str, value: Option<String>, report: &mut Report) -> Option<String> {
    if value.is_none() {
        report.problem(key, "is required");
    }
    value
}

/// A site base URL: http(s), a host, no credentials, query or fragment.
fn parse_site_url(key: &str, text: &str, report: &mut Report) -> Option<Url> {
    let url = match Url::parse(text) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => url,
        // The text is not repeated: a URL can carry credentials.
        _ => {
            report.problem(key, "must be http(s) URL, like https://example.atlassian.net");
            return None;
        }
    };
    if !url.username().is_empty() || url.password().is_some() {
        report.problem(key, "must not contain credentials; use email and token_env or token_file");
        return None;
    }
    if url.query().is_some() || url.fragment().is_some() {
        report.problem(key, "must be a base URL without query or fragment");
        return None;
    }
    if url.scheme() == "http" && !is_loopback(&url) {
        report.warning(key, "plain http to a host that is not loopback sends the API token in clear");
    }
    Some(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Parses `include_<kind>` and `exclude_<kind>` into a filter; a key in both is a problem.
fn key_filter<K: Ord + Clone + AsRef<str>>(
    key: &str,
    kind: &str,
    include: &[String],
    exclude: &[String],
    parse: fn(&str) -> Result<K, InvalidValue>,
    report: &mut Report,
) -> KeyFilter<K> {
    let mut parse_list = |list_name: String, list: &[String]| -> BTreeSet<K> {
        let mut parsed = BTreeSet::new();
        for (i, item) in list.iter().enumerate() {
            if let Some(value) = report.check(&format!("{key}.{list_name}[{i}]"), parse(item)) {
                parsed.insert(value);
            }
        }
        parsed
    };
    let include = parse_list(format!("include_{kind}"), include);
    let exclude = parse_list(format!("exclude_{kind}"), exclude);
    for both in include.intersection(&exclude) {
        report.problem(
            &format!("{key}.exclude_{kind}"),
            format!("{} is also in include_{kind}; a key may be in only one of them", both.as_ref()),
        );
    }
    KeyFilter { include, exclude }
}

fn validate_limits(key: &str, raw: &RawSource, report: &mut Report) -> Option<Limits> {
    let defaults = Limits::default();
    let k = |field: &str| format!("{key}.{field}");
    let problems_before = report.problems.len();

    let max_attachment_bytes = match &raw.max_attachment_bytes {
        None => Some(defaults.max_attachment_bytes),
        Some(RawSize::Bytes(n)) => u64::try_from(*n).ok().or_else(|| {
            report.problem(&k("max_attachment_bytes"), "must not be negative");
            None
        }),
        Some(RawSize::Text(text)) => report.check(&k("max_attachment_bytes"), parse_byte_size(text)),
    };
    if max_attachment_bytes.is_some_and(|n| n > Limits::MAX_ATTACHMENT_BYTES_LIMIT) {
        report.problem(&k("max_attachment_bytes"), "must be at most 1GiB");
    }

    let concurrency = raw.concurrency.map_or(Some(defaults.concurrency), |n| {
        let valid =
            usize::try_from(n).ok().filter(|n| *n <= Limits::MAX_CONCURRENCY).and_then(NonZeroUsize::new);
        if valid.is_none() {
            report.problem(&k("concurrency"), format!("must be between 1 and {}", Limits::MAX_CONCURRENCY));
        }
        valid
    });

    let requests_per_second = raw.requests_per_second.unwrap_or(defaults.requests_per_second);
    if !(requests_per_second.is_finite() && requests_per_second > 0.0) {
        report.problem(&k("requests_per_second"), "must be a number greater than 0");
    }

    let timeout = raw.timeout_secs.map_or(Some(defaults.timeout), |secs| {
        let valid = u64::try_from(secs).ok().filter(|s| (1..=Limits::MAX_TIMEOUT_SECS).contains(s));
        if valid.is_none() {
            report.problem(&k("timeout_secs"), format!("must be between 1 and {}", Limits::MAX_TIMEOUT_SECS));
        }
        valid.map(Duration::from_secs)
    });

    if report.problems.len() > problems_before {
        return None;
    }
    Some(Limits {
        max_attachment_bytes: max_attachment_bytes?,
        concurrency: concurrency?,
        requests_per_second,
        timeout: timeout?,
    })
}

/// The sync intervals and the permission age limit: durations like `"15m"`, `"6h"` or `"7d"`, or `"off"`.
fn validate_schedule(key: &str, raw: &RawSource, report: &mut Report) -> (Schedule, Option<Duration>) {
    let mut duration = |field: &str, value: &Option<String>, default: Duration| -> Option<Duration> {
        let Some(text) = value else { return Some(default) };
        let text = text.trim();
        if text.eq_ignore_ascii_case("off") {
            return None;
        }
        match humantime::parse_duration(text) {
            Ok(d) if d >= Duration::from_secs(1) => Some(d),
            Ok(_) => {
                report.problem(&format!("{key}.{field}"), "must be at least 1s, or \"off\"");
                Some(default)
            }
            Err(_) => {
                report.problem(
                    &format!("{key}.{field}"),
                    format!("{text:?} is not a duration like \"15m\", \"6h\" or \"7d\", nor \"off\""),
                );
                Some(default)
            }
        }
    };
    let schedule = Schedule {
        incremental: duration("interval", &raw.interval, Schedule::DEFAULT_INTERVAL),
        permissions: duration(
            "permissions_interval",
            &raw.permissions_interval,
            Schedule::DEFAULT_PERMISSIONS_INTERVAL,
        ),
        full: duration("full_interval", &raw.full_interval, Schedule::DEFAULT_FULL_INTERVAL),
    };
    let max_age =
        duration("max_permission_age", &raw.max_permission_age, Schedule::DEFAULT_MAX_PERMISSION_AGE);
    let refresh_every =
        [schedule.permissions, schedule.incremental, schedule.full].into_iter().flatten().min();
    if let (Some(max_age), Some(every)) = (max_age, refresh_every) {
        if every >= max_age {
            report.warning(
                &format!("{key}.max_permission_age"),
                format!(
                    "{} is not longer than the shortest refresh interval ({}): the source's documents will be \
                     withheld between refreshes",
                    humantime::format_duration(max_age),
                    humantime::format_duration(every)
                ),
            );
        }
    }
    (schedule, max_age)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::{Error, JwtKey};
    use super::*;

    /// A valid one-source file; tests append keys to its `[[sources]]` table or add tables after it.
    const SOURCE: &str = "[[sources]]
name = \"acme\"
url = \"https://acme.atlassian.net\"
email = \"bot@acme.example\"
token_env = \"T_ACME\"
";
    const CONFIG_PATH: &str = "/cfg/permdex.toml";

    fn env() -> BTreeMap<String, String> {
        [
            ("T_ACME", "tok-acme-0123456789"),
            ("T_OTHER", "tok-other-0123456789"),
            ("T_BLANK", "  \n"),
            ("KEY_A", "key-a-0123456789abcdef"),
            ("KEY_B", "key-b-0123456789abcdef"),
            ("KEY_SHORT", "short"),
            ("JWT_LONG", "j-0123456789abcdef0123456789abcdef"),
            ("JWT_SHORT", "j-0123456789"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn load(text: &str) -> Result<Config, Error> {
        Config::from_toml(text, Path::new(CONFIG_PATH), &env())
    }

    fn with_source(extra: &str) -> String {
        format!("{SOURCE}{extra}\n")
    }

    fn check(text: &str, expected: &str) {
        match load(text) {
            Ok(_) => panic!("loaded, expected an error containing {expected:?}:\n{text}"),
            Err(err) => {
                let message = err.to_string();
                assert!(message.contains(expected), "expected {expected:?} in:\n{message}\nfile:\n{text}");
                assert!(message.starts_with("invalid config file /cfg/permdex.toml: "), "{message}");
                assert!(!message.ends_with('.'), "{message}");
            }
        }
    }

    #[test]
    fn the_base_source_is_valid() {
        let config = load(SOURCE).unwrap();
        assert_eq!(config.sources().len(), 1);
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());
    }

    #[test]
    fn every_rule_names_its_key() {
        let second_source = |extra: &str| {
            format!(
                "{SOURCE}[[sources]]\nname = \"other\"\nurl = \"https://other.atlassian.net\"\n\
                 email = \"bot@other.example\"\ntoken_env = \"T_OTHER\"\n{extra}\n"
            )
        };
        let server = |body: &str| format!("{SOURCE}[server]\n{body}\n");
        let without =
            |key: &str| SOURCE.lines().filter(|l| !l.starts_with(key)).collect::<Vec<_>>().join("\n");
        let cases: Vec<(String, &str)> = vec![
            // The file as a whole.
            ("data_dir = \"data\"".into(), "sources: at least one [[sources]] table is required"),
            (format!("data_dir = \"\"\n{SOURCE}"), "data_dir: must not be empty"),
            (format!("sorces = []\n{SOURCE}"), "unknown field \"sorces\" in the top level at line 1 (did you mean \"sources\"?)"),
            (with_source("name = \"again\""), "line 6: duplicate key"),
            (with_source("concurrency = \"four\""), "sources[0].concurrency: invalid type: string \"four\", expected an integer (line 6)"),
            // Source identity.
            (without("name"), "sources[0].name: is required"),
            (SOURCE.replace("\"acme\"", "\"Acme\""), "sources[0].name: \"Acme\" must use only a-z, 0-9 and '-'"),
            (second_source("").replace("\"other\"", "\"acme\""), "sources[1].name: duplicate source name \"acme\""),
            (without("url"), "sources[0].url: is required"),
            (SOURCE.replace("https://acme", "ftp://acme"), "sources[0].url: must be http(s) URL"),
            (SOURCE.replace("https://acme.atlassian.net", "acme.atlassian.net"), "sources[0].url: must be http(s) URL"),
            (second_source("").replace("https://other", "other"), "sources[1].url: must be http(s) URL"),
            (SOURCE.replace("https://acme", "https://bot:pw@acme"), "sources[0].url: must not contain credentials"),
            (SOURCE.replace(".net\"", ".net/?x=1\""), "sources[0].url: must be a base URL without query or fragment"),
            (without("email"), "sources[0].email: is required"),
            (SOURCE.replace("bot@acme.example", "bot"), "sources[0].email: \"bot\" is not an email address"),
            // The token.
            (without("token_env"), "sources[0]: set token_env = \"VAR\" or token_file = \"path\""),
            (with_source("token_file = \"tok\""), "sources[0]: set exactly one of token_env and token_file, not both"),
            (with_source("token = \"abc\""), "sources[0].token: secrets are never written in the config file; use token_env = \"VAR\" or token_file = \"path\" instead"),
            (with_source("api_token = \"abc\""), "sources[0].api_token: secrets are never written in the config file"),
            (second_source("password = \"abc\""), "sources[1].password: secrets are never written in the config file"),
            (SOURCE.replace("T_ACME", "PERMDEX_TOKEN"), "sources[0].token_env: environment variable PERMDEX_TOKEN is not set"),
            (SOURCE.replace("T_ACME", "T_BLANK"), "sources[0].token_env: environment variable T_BLANK is empty"),
            (SOURCE.replace("T_ACME", "t_acme"), "sources[0].token_env: must name an environment variable in upper case"),
            (without("token_env") + "\ntoken_file = \"missing-token\"", "sources[0].token_file: cannot read /cfg/missing-token"),
            // Products and scope.
            (with_source("confluence = false\njira = false"), "sources[0]: confluence and jira are both false; enable at least one"),
            (with_source("include_spaces = [\"ENG\"]\nexclude_spaces = [\"ENG\"]"), "sources[0].exclude_spaces: ENG is also in include_spaces"),
            (with_source("include_projects = [\"OPS\"]\nexclude_projects = [\"OPS\"]"), "sources[0].exclude_projects: OPS is also in include_projects"),
            (with_source("include_users = [\"u1\"]\nexclude_users = [\"u1\"]"), "sources[0].exclude_users: u1 is also in include_users"),
            (with_source("include_spaces = [\"~u1\"]\nexclude_users = [\"u1\"]"), "sources[0].include_spaces: ~u1 is the personal space of u1, which is in exclude_users"),
            (with_source("include_spaces = [\"ENG\", \"E N\"]"), "sources[0].include_spaces[1]: \"E N\" is not a space key"),
            (with_source("exclude_projects = [\"eng\"]"), "sources[0].exclude_projects[0]: \"eng\" is not a project key"),
            (with_source("exclude_users = [\"ann@acme.example\"]"), "sources[0].exclude_users[0]: \"ann@acme.example\" is not an account id"),
            (with_source("exlude_spaces = [\"HR\"]"), "unknown field \"exlude_spaces\" in [[sources]] at line 6 (did you mean \"exclude_spaces\"?)"),
            (second_source("include_space = []"), "unknown field \"include_space\" in [[sources]] at line 11"),
            // Limits.
            (with_source("max_attachment_bytes = \"20 furlongs\""), "sources[0].max_attachment_bytes: \"20 furlongs\" is not a size"),
            (with_source("max_attachment_bytes = -1"), "sources[0].max_attachment_bytes: must not be negative"),
            (with_source("max_attachment_bytes = \"2GiB\""), "sources[0].max_attachment_bytes: must be at most 1GiB"),
            (with_source("max_attachment_bytes = true"), "sources[0].max_attachment_bytes: invalid type: boolean `true`, expected a byte count"),
            (with_source("concurrency = 0"), "sources[0].concurrency: must be between 1 and 64"),
            (with_source("concurrency = 65"), "sources[0].concurrency: must be between 1 and 64"),
            (with_source("requests_per_second = 0"), "sources[0].requests_per_second: must be a number greater than 0"),
            (with_source("requests_per_second = -2.5"), "sources[0].requests_per_second: must be a number greater than 0"),
            (with_source("requests_per_second = nan"), "sources[0].requests_per_second: must be a number greater than 0"),
            (with_source("timeout_secs = 0"), "sources[0].timeout_secs: must be between 1 and 3600"),
            (with_source("timeout_secs = 3601"), "sources[0].timeout_secs: must be between 1 and 3600"),
            // Schedules.
            (with_source("interval = \"often\""), "sources[0].interval: \"often\" is not a duration like \"15m\""),
            (with_source("permissions_interval = \"0s\""), "sources[0].permissions_interval: must be at least 1s, or \"off\""),
            (with_source("full_interval = \"7 weekdays\""), "sources[0].full_interval: \"7 weekdays\" is not a duration"),
            (with_source("max_permission_age = 3600"), "sources[0].max_permission_age: invalid type: integer `3600`, expected a string"),
            // Server.
            (server("listen = \"localhost:7700\""), "server.listen: \"localhost:7700\" is not an address like 127.0.0.1:7700"),
            (server("listn = \"127.0.0.1:1\""), "unknown field \"listn\" in [server] at line 7 (did you mean \"listen\"?)"),
            (server("jwt_hs256_secret_env = \"JWT_LONG\"\njwt_public_key_file = \"k.pem\""), "server: set at most one of jwt_hs256_secret_env and jwt_public_key_file"),
            (server("jwt_hs256_secret_env = \"JWT_SHORT\""), "server.jwt_hs256_secret_env: HS256 secret must be at least 32 bytes"),
            (server("jwt_hs256_secret_env = \"JWT_UNSET\""), "server.jwt_hs256_secret_env: environment variable JWT_UNSET is not set"),
            (server("jwt_hs256_secret = \"s\""), "server.jwt_hs256_secret: secrets are never written in the config file; use jwt_hs256_secret_env = \"VAR\" instead"),
            (server("jwt_public_key_file = \"missing.pem\""), "server.jwt_public_key_file: cannot read /cfg/missing.pem"),
            (server("api_keys = [{ key = \"k\", account_id = \"u1\" }]"), "server.api_keys[0].key: secrets are never written in the config file; use key_env = \"VAR\" instead"),
            (server("api_keys = [{ key_env = \"KEY_SHORT\", account_id = \"u1\" }]"), "server.api_keys[0].key_env: API key must be at least 16 characters"),
            (server("api_keys = [{ key_env = \"KEY_A\" }]"), "server.api_keys[0].account_id: is required"),
            (server("api_keys = [{ account_id = \"u1\" }]"), "server.api_keys[0].key_env: is required"),
            (server("api_keys = [{ key_env = \"KEY_A\", account_id = \"a b\" }]"), "server.api_keys[0].account_id: \"a b\" is not an account id"),
            (server("api_keys = [{ key_env = \"KEY_A\", account_id = \"u1\" }, { key_env = \"KEY_A\", account_id = \"u2\" }]"), "server.api_keys[1].key_env: same key as server.api_keys[0]; keys must be distinct"),
            (server("[[server.api_keys]]\nkey_env = \"KEY_A\"\nacount_id = \"u1\""), "unknown field \"acount_id\" in [[server.api_keys]] at line 9 (did you mean \"account_id\"?)"),
            (server("admin_key_env = \"KEY_A\"\napi_keys = [{ key_env = \"KEY_A\", account_id = \"u1\" }]"), "server.admin_key_env: same key as server.api_keys[0]; the admin key must be distinct"),
            (server("admin_key_env = \"KEY_SHORT\""), "server.admin_key_env: admin key must be at least 16 characters"),
            (server("admin_key_env = \"ADMIN_UNSET\""), "server.admin_key_env: environment variable ADMIN_UNSET is not set"),
            (server("admin_key = \"k\""), "server.admin_key: secrets are never written in the config file; use admin_key_env = \"VAR\" instead"),
        ];
        for (text, expected) in &cases {
            check(text, expected);
        }
    }

    #[test]
    fn all_problems_are_reported_together() {
        let text = format!(
            "{}\nconcurrency = 0\n[[sources]]\nname = \"B\"\n",
            SOURCE.replace("bot@acme.example", "bot")
        );
        let Err(Error::Invalid { problems, .. }) = load(&text) else { panic!("expected invalid") };
        let expected = [
            "sources[0].concurrency: must be between 1 and 64",
            "sources[0].email: \"bot\" is not an email address",
            "sources[1].name: \"B\" must use only",
            "sources[1].url: is required",
            "sources[1].email: is required",
            "sources[1]: set token_env",
        ];
        assert_eq!(problems.0.len(), expected.len(), "{problems}");
        for (problem, expected) in problems.0.iter().zip(expected) {
            assert!(problem.starts_with(expected), "{problem:?} should start with {expected:?}");
        }
        assert!(problems.to_string().starts_with("6 problems: "), "{problems}");
    }

    #[test]
    fn errors_never_repeat_a_pasted_secret() {
        let secret = "ATATT3xFfGF0-pasted-token=ABC";
        let texts = [
            with_source(&format!("token = \"{secret}\"")),
            SOURCE.replace("\"T_ACME\"", &format!("\"{secret}\"")),
            SOURCE.replace("https://acme.atlassian.net", &format!("https://bot:{secret}@acme.atlassian.net")),
            SOURCE.replace("https://acme.atlassian.net", secret),
            format!("{SOURCE}[server]\nadmin_key = \"{secret}\"\n"),
        ];
        for text in texts {
            let message = load(&text).unwrap_err().to_string();
            assert!(!message.contains(secret), "{message}");
        }
    }

    #[test]
    fn defaults_fill_every_optional_key() {
        let config = load(SOURCE).unwrap();
        assert_eq!(config.data_dir(), Path::new("/cfg/permdex-data"));
        let source = &config.sources()[0];
        assert_eq!(source.products(), Products { confluence: true, jira: true });
        assert!(!source.include_archived());
        assert_eq!(*source.limits(), Limits::default());
        assert_eq!(source.limits().max_attachment_bytes, 20 * 1024 * 1024);
        assert_eq!(source.limits().concurrency.get(), 4);
        assert_eq!(source.limits().requests_per_second, 10.0);
        assert_eq!(source.limits().timeout, Duration::from_secs(30));
        assert_eq!(config.server().listen(), "127.0.0.1:7700".parse().unwrap());
        assert!(config.server().jwt().is_none() && config.server().admin_key().is_none());
        assert!(config.server().api_keys().is_empty());
        assert_eq!(*source.schedule(), Schedule::default());
        assert_eq!(
            (source.schedule().incremental, source.schedule().permissions, source.schedule().full),
            (
                Some(Duration::from_secs(900)),
                Some(Duration::from_secs(300)),
                Some(Duration::from_secs(7 * 86400))
            )
        );
        assert_eq!(source.max_permission_age(), Some(Duration::from_secs(86400)));
    }

    #[test]
    fn schedules_read_durations_and_off() {
        let config = load(&with_source(
            "interval = \"1h\"\npermissions_interval = \"off\"\nfull_interval = \"2d\"\nmax_permission_age = \"OFF\"",
        ))
        .unwrap();
        let source = &config.sources()[0];
        let schedule = source.schedule();
        assert_eq!(
            (schedule.incremental, schedule.permissions, schedule.full),
            (Some(Duration::from_secs(3600)), None, Some(Duration::from_secs(2 * 86400)))
        );
        assert_eq!(source.max_permission_age(), None);
        assert!(config.warnings().is_empty(), "{:?}", config.warnings());

        // A limit no refresh can keep up with is allowed, and said.
        let config = load(&with_source(
            "interval = \"3h\"\npermissions_interval = \"2h\"\nmax_permission_age = \"1h\"",
        ))
        .unwrap();
        assert!(
            config
                .warnings()
                .iter()
                .any(|w| w.starts_with("sources[0].max_permission_age: 1h is not longer")),
            "{:?}",
            config.warnings()
        );
    }

    #[test]
    fn secrets_a_command_does_not_use_are_not_required() {
        let text = format!(
            "{}[server]\njwt_hs256_secret_env = \"JWT_UNSET\"\nadmin_key_env = \"ADMIN_UNSET\"\n",
            SOURCE.replace("T_ACME", "T_UNSET")
        );
        let path = Path::new(CONFIG_PATH);
        // Everything is required by default: each missing secret is reported.
        let message = Config::from_toml(&text, path, &env()).unwrap_err().to_string();
        for key in ["sources[0].token_env", "server.jwt_hs256_secret_env", "server.admin_key_env"] {
            assert!(message.contains(&format!("{key}: environment variable")), "{key}: {message}");
        }
        // Without them, the file loads, and whoever asks for one hears it was not read.
        let config = Config::from_toml_for(&text, path, &env(), Secrets::NONE).unwrap();
        let err = config.sources()[0].token().unwrap_err().to_string();
        assert_eq!(
            err,
            "the API token of source acme was not read (environment variable T_UNSET): the configuration \
             was loaded without it"
        );
        let err = config.server().require_keys().unwrap_err().to_string();
        assert!(err.starts_with("the JWT key and the API keys and the admin key was not read"), "{err}");
        // Only what a command uses is required.
        let message =
            Config::from_toml_for(&text, path, &env(), Secrets::SOURCE_TOKENS).unwrap_err().to_string();
        assert!(message.contains("sources[0].token_env") && !message.contains("server."), "{message}");
        let message = Config::from_toml_for(&text, path, &env(), Secrets::JWT_KEY).unwrap_err().to_string();
        assert!(message.contains("server.jwt_hs256_secret_env") && !message.contains("admin"), "{message}");
        // Secrets that can be read are read, needed or not.
        let config = Config::from_toml_for(SOURCE, path, &env(), Secrets::NONE).unwrap();
        assert_eq!(config.sources()[0].token().unwrap().expose(), env()["T_ACME"]);
        assert!(config.server().require_keys().is_ok(), "no key configured, none missing");
    }

    #[test]
    fn sizes_numbers_and_paths_are_converted() {
        let text = format!(
            "data_dir = \"/var/lib/permdex\"\n{SOURCE}max_attachment_bytes = \"1.5 MiB\"\n\
             requests_per_second = 3\ntimeout_secs = 5\nconcurrency = 64\n"
        );
        let config = load(&text).unwrap();
        assert_eq!(config.data_dir(), Path::new("/var/lib/permdex"));
        let limits = config.sources()[0].limits();
        assert_eq!(limits.max_attachment_bytes, 1536 * 1024);
        assert_eq!(limits.requests_per_second, 3.0);
        assert_eq!(limits.timeout, Duration::from_secs(5));
        assert_eq!(limits.concurrency.get(), 64);
        let bytes = load(&with_source("max_attachment_bytes = 1000")).unwrap();
        assert_eq!(bytes.sources()[0].limits().max_attachment_bytes, 1000);
    }

    #[test]
    fn excluded_users_take_their_personal_spaces_with_them() {
        let config = load(&with_source("exclude_users = [\"u1\"]\nexclude_spaces = [\"HR\"]")).unwrap();
        let source = &config.sources()[0];
        let excluded: Vec<&str> = source.spaces().exclude().iter().map(SpaceKey::as_str).collect();
        assert_eq!(excluded, ["HR", "~u1"]);
    }

    #[test]
    fn plain_http_warns_unless_loopback() {
        let cases = [
            ("http://127.0.0.1:8080", false),
            ("http://localhost:8080", false),
            ("http://[::1]:8080", false),
            ("https://acme.atlassian.net", false),
            ("http://acme.atlassian.net", true),
            ("http://10.0.0.5:8080", true),
        ];
        for (url, warns) in cases {
            let config = load(&SOURCE.replace("https://acme.atlassian.net", url)).unwrap();
            let warned = config.warnings().iter().any(|w| w.starts_with("sources[0].url: plain http"));
            assert_eq!(warned, warns, "{url}: {:?}", config.warnings());
        }
    }

    #[test]
    fn server_keys_are_read_from_the_environment() {
        let text = format!(
            "{SOURCE}[server]\nlisten = \"0.0.0.0:8080\"\njwt_hs256_secret_env = \"JWT_LONG\"\n\
             admin_key_env = \"KEY_B\"\napi_keys = [{{ key_env = \"KEY_A\", account_id = \"557058:abc\" }}]\n"
        );
        let config = load(&text).unwrap();
        let server = config.server();
        assert_eq!(server.listen(), "0.0.0.0:8080".parse().unwrap());
        let Some(JwtKey::Hs256(secret)) = server.jwt() else { panic!("expected HS256") };
        assert_eq!(secret.expose(), env()["JWT_LONG"]);
        assert_eq!(server.admin_key().unwrap().expose(), env()["KEY_B"]);
        let [api_key] = server.api_keys() else { panic!("one api key") };
        assert_eq!(api_key.key.expose(), env()["KEY_A"]);
        assert_eq!(api_key.account_id.as_str(), "557058:abc");
        assert_eq!(api_key.key_env.as_str(), "KEY_A");
    }
}
