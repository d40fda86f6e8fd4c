//! The config file as written: serde types that mirror `permdex.toml` key for key, and the translation of
//! TOML and serde errors into messages that name the section, key and line.
//!
//! Nothing here is checked beyond TOML types and key names (`deny_unknown_fields`); every value rule lives in
//! `validate/`. Required keys are `Option`s here so that a missing one is reported by key, together with
//! every other problem, rather than as the first serde error.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// The whole file.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawConfig {
    pub data_dir: Option<String>,
    #[serde(default)]
    pub sources: Vec<RawSource>,
    pub server: Option<RawServer>,
}

/// One `[[sources]]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawSource {
    pub name: Option<String>,
    pub url: Option<String>,
    pub email: Option<String>,
    pub token_env: Option<String>,
    pub token_file: Option<String>,
    pub confluence: Option<bool>,
    pub jira: Option<bool>,
    #[serde(default)]
    pub include_spaces: Vec<String>,
    #[serde(default)]
    pub exclude_spaces: Vec<String>,
    #[serde(default)]
    pub include_projects: Vec<String>,
    #[serde(default)]
    pub exclude_projects: Vec<String>,
    #[serde(default)]
    pub include_users: Vec<String>,
    #[serde(default)]
    pub exclude_users: Vec<String>,
    pub archived: Option<bool>,
    pub confluence_access_groups: Option<Vec<String>>,
    pub confluence_licensed_groups: Option<Vec<String>>,
    pub max_attachment_bytes: Option<RawSize>,
    // Signed and wide so that a negative or huge value is reported by `validate/` with its allowed range.
    pub concurrency: Option<i64>,
    pub requests_per_second: Option<f64>,
    pub timeout_secs: Option<i64>,
    pub interval: Option<String>,
    pub permissions_interval: Option<String>,
    pub full_interval: Option<String>,
    pub max_permission_age: Option<String>,
}

/// The `[server]` table.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    pub listen: Option<String>,
    pub jwt_hs256_secret_env: Option<String>,
    pub jwt_public_key_file: Option<String>,
    #[serde(default)]
    pub api_keys: Vec<RawApiKey>,
    pub admin_key_env: Option<String>,
    pub jwt_audience: Option<String>,
    pub jwt_issuer: Option<String>,
    // Signed and wide, like the source limits, so that a bad value is reported with its range.
    pub jwt_max_lifetime_secs: Option<i64>,
    pub jwt_leeway_secs: Option<i64>,
    pub metrics_key_env: Option<String>,
    pub header_read_timeout_secs: Option<i64>,
    pub max_connections: Option<i64>,
    pub log_search_terms: Option<bool>,
    pub atlassian_login: Option<RawAtlassianLogin>,
    pub oidc_login: Option<RawOidcLogin>,
}

/// `[server.atlassian_login]`: Sign in with Atlassian (OAuth 2.0 authorization code, "3LO").
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAtlassianLogin {
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<String>,
    pub callback_url: Option<String>,
    pub auth_url: Option<String>,
    pub api_url: Option<String>,
}

/// `[server.oidc_login]`: sign in with an OpenID Connect provider (authorization code with PKCE).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawOidcLogin {
    pub issuer: Option<String>,
    pub client_id: Option<String>,
    pub client_secret_env: Option<String>,
    pub client_secret_file: Option<String>,
    pub callback_url: Option<String>,
    pub label: Option<String>,
}

/// One entry of `server.api_keys`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawApiKey {
    pub key_env: Option<String>,
    pub account_id: Option<String>,
}

/// A size as written: a byte count or a string with a unit (`"20MiB"`).
#[derive(Debug, Clone, PartialEq)]
pub(super) enum RawSize {
    Bytes(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for RawSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SizeVisitor;
        impl Visitor<'_> for SizeVisitor {
            type Value = RawSize;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte count like 20971520 or a size like \"20MiB\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<RawSize, E> {
                Ok(RawSize::Bytes(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<RawSize, E> {
                i64::try_from(v).map(RawSize::Bytes).map_err(|_| E::custom("size is too large"))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawSize, E> {
                Ok(RawSize::Text(v.to_owned()))
            }
        }
        deserializer.deserialize_any(SizeVisitor)
    }
}

/// Keys that would put a secret in the file, by the table they appear in, with the key to use instead.
const LITERAL_SECRET_KEYS: [(Table, &str, &str); 7] = [
    (Table::Source, "token", "token_env = \"VAR\" or token_file = \"path\""),
    (Table::Source, "api_token", "token_env = \"VAR\" or token_file = \"path\""),
    (Table::Source, "password", "token_env = \"VAR\" or token_file = \"path\""),
    (Table::Server, "jwt_hs256_secret", "jwt_hs256_secret_env = \"VAR\""),
    (Table::Server, "admin_key", "admin_key_env = \"VAR\""),
    (Table::Server, "metrics_key", "metrics_key_env = \"VAR\""),
    (Table::ApiKey, "key", "key_env = \"VAR\""),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Source,
    Server,
    ApiKey,
}

/// Parses the text into [`RawConfig`], or says every literal secret it holds, or the one TOML or type error
/// that stopped serde (with section, key and line).
pub(super) fn parse(text: &str) -> Result<RawConfig, Vec<String>> {
    // A first, untyped pass finds literal secrets by key before serde would call them merely "unknown",
    // so the message can say what to write instead. The value is never repeated.
    let table: toml::Table = toml::from_str(text).map_err(|err| vec![describe(text, &err)])?;
    let problems = literal_secrets(&table);
    if !problems.is_empty() {
        return Err(problems);
    }
    toml::from_str(text).map_err(|err| vec![describe(text, &err)])
}

fn literal_secrets(table: &toml::Table) -> Vec<String> {
    let mut found = Vec::new();
    let mut check = |kind: Table, path: &str, table: &toml::Table| {
        for (_, key, instead) in LITERAL_SECRET_KEYS.iter().filter(|(k, _, _)| *k == kind) {
            if table.contains_key(*key) {
                found.push(format!(
                    "{path}.{key}: secrets are never written in the config file; use {instead} instead"
                ));
            }
        }
    };
    let tables = |value: Option<&toml::Value>| -> Vec<toml::Table> {
        match value {
            Some(toml::Value::Array(items)) => {
                items.iter().map(|item| item.as_table().cloned().unwrap_or_default()).collect()
            }
            _ => Vec::new(),
        }
    };
    for (i, source) in tables(table.get("sources")).iter().enumerate() {
        check(Table::Source, &format!("sources[{i}]"), source);
    }
    if let Some(server) = table.get("server").and_then(toml::Value::as_table) {
        check(Table::Server, "server", server);
        for (i, api_key) in tables(server.get("api_keys")).iter().enumerate() {
            check(Table::ApiKey, &format!("server.api_keys[{i}]"), api_key);
        }
    }
    found
}

/// Where in the file a span lies: the line, the table header above it, and the key on its line.
#[derive(Debug, PartialEq)]
struct Location {
    line: usize,
    /// `sources[1]`, `server`, or empty at the top level.
    table_path: String,
    /// `[[sources]]`, `[server]`, or `the top level`.
    table_label: String,
    /// The key assigned on the span's line before the span, if any.
    key: Option<String>,
}

fn locate(text: &str, offset: usize) -> Location {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let mut table_path = String::new();
    let mut table_label = "the top level".to_owned();
    let mut array_counts: std::collections::BTreeMap<String, usize> = Default::default();
    // Header lines above the span tell which table it is in. Multi-line strings that look like headers
    // could mislead this scan; it only shapes the message, never what is accepted.
    for raw_line in before.lines() {
        let trimmed = raw_line.trim();
        if let Some(name) = trimmed.strip_prefix("[[").and_then(|rest| rest.split("]]").next()) {
            let name = name.trim().to_owned();
            let count = array_counts.entry(name.clone()).or_default();
            table_path = format!("{name}[{count}]");
            *count += 1;
            table_label = format!("[[{name}]]");
        } else if let Some(name) = trimmed.strip_prefix('[').and_then(|rest| rest.split(']').next()) {
            table_path = name.trim().to_owned();
            table_label = format!("[{}]", name.trim());
        }
    }
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let line_prefix = &before[line_start..];
    let key = line_prefix.rfind('=').and_then(|eq| {
        let lhs = line_prefix[..eq].trim_end();
        // After the last character that cannot be part of a key (which may be several bytes long).
        let start = lhs
            .char_indices()
            .rev()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.'))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let key = &lhs[start..];
        (!key.is_empty()).then(|| key.to_owned())
    });
    Location { line, table_path, table_label, key }
}

/// Turns a TOML or serde error into one lowercase message naming the key or table and the line.
fn describe(text: &str, err: &toml::de::Error) -> String {
    // Serde names Rust types; the file has integers and numbers.
    let message = err
        .message()
        .trim()
        .replace('\n', ", ")
        .replace("expected i64", "expected an integer")
        .replace("expected f64", "expected a number");
    let Some(span) = err.span() else {
        return message;
    };
    let at = locate(text, span.start);
    if let Some(field) = unknown_field(&message) {
        let suggestion = closest(&field, &expected_fields(&message))
            .map(|s| format!(" (did you mean \"{s}\"?)"))
            .unwrap_or_default();
        return format!("unknown field \"{field}\" in {} at line {}{suggestion}", at.table_label, at.line);
    }
    match at.key {
        Some(key) if message.starts_with("invalid ") => {
            let path = if at.table_path.is_empty() { key } else { format!("{}.{key}", at.table_path) };
            format!("{path}: {message} (line {})", at.line)
        }
        _ => format!("line {}: {message}", at.line),
    }
}

/// The field name in serde's "unknown field `x`, expected …" message.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    rest.split('`').next().map(str::to_owned)
}

/// The names serde lists after "expected" in an unknown-field message.
fn expected_fields(message: &str) -> Vec<&str> {
    let Some((_, expected)) = message.split_once("expected") else {
        return Vec::new();
    };
    expected.split('`').skip(1).step_by(2).collect()
}

/// The candidate nearest to `word` by edit distance, if it is near enough to be a plausible typo.
fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(word, c), *c))
        .filter(|(d, c)| *d <= 2.max(c.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let substitution = diagonal + usize::from(ca != *cb);
            diagonal = row[j + 1];
            row[j + 1] = substitution.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_after_a_multibyte_character_is_located_without_panicking() {
        let problems = parse("[server]\nlisten é= 3\n").expect_err("not toml");
        assert!(problems[0].contains("line 2"), "{problems:?}");
    }

    #[test]
    fn locate_finds_table_key_and_line() {
        let text =
            "data_dir = \"x\"\n[[sources]]\nname = \"a\"\n[[sources]]\nname = \"b\"\n[server]\nlisten = 1\n";
        let cases = [
            ("data_dir", 1, "", "the top level", None),
            ("\"x\"", 1, "", "the top level", Some("data_dir")),
            ("\"a\"", 3, "sources[0]", "[[sources]]", Some("name")),
            ("\"b\"", 5, "sources[1]", "[[sources]]", Some("name")),
            ("1\n", 7, "server", "[server]", Some("listen")),
        ];
        for (needle, line, path, label, key) in cases {
            let at = locate(text, text.find(needle).unwrap());
            assert_eq!(
                at,
                Location {
                    line,
                    table_path: path.into(),
                    table_label: label.into(),
                    key: key.map(Into::into)
                },
                "{needle:?}"
            );
        }
    }

    #[test]
    fn edit_distance_and_suggestions() {
        assert_eq!(edit_distance("exlude_spaces", "exclude_spaces"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(closest("exlude_spaces", &["include_spaces", "exclude_spaces"]), Some("exclude_spaces"));
        assert_eq!(closest("colour", &["name", "url"]), None);
    }

    #[test]
    fn sizes_deserialize_from_numbers_and_strings() {
        #[derive(Deserialize)]
        struct Holder {
            size: RawSize,
        }
        let parse = |text: &str| toml::from_str::<Holder>(text).map(|h| h.size).map_err(|e| e.to_string());
        assert_eq!(parse("size = 42").unwrap(), RawSize::Bytes(42));
        assert_eq!(parse("size = \"2MiB\"").unwrap(), RawSize::Text("2MiB".into()));
        assert!(parse("size = true").unwrap_err().contains("a byte count like"));
    }
}
