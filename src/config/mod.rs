//! permdex's configuration: `permdex.toml` parsed into a validated [`Config`].
//!
//! Parse, don't validate: `raw.rs` deserializes the file as written (`RawConfig`, unknown keys rejected),
//! `validate.rs` turns it into a [`Config`] whose parts are newtypes ([`SourceName`], [`SpaceKey`],
//! [`AccountId`], [`Secret`], …), so code holding a [`Config`] never re-checks anything. Problems are
//! collected, not stopped at: a bad file is reported with every key that is wrong, each message naming
//! its key (`sources[0].token_env: environment variable PERMDEX_TOKEN is not set`).
//!
//! Secrets never live in the file. A source's API token comes from `token_env = "VAR"` or
//! `token_file = "path"`, server keys from `*_env` variables; all are read when the file is loaded, into
//! [`Secret`]s that print as `[redacted]`. A token file readable by other users is refused.
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::path::Path;
//! use permdex::config::Config;
//!
//! let text = r#"
//! [[sources]]
//! name = "acme"
//! url = "https://acme.atlassian.net"
//! email = "search-bot@acme.example"
//! token_env = "ACME_TOKEN"
//! exclude_spaces = ["HR"]
//! "#;
//! let env = BTreeMap::from([("ACME_TOKEN".to_owned(), "t0ken".to_owned())]);
//! let config = Config::from_toml(text, Path::new("/etc/permdex/permdex.toml"), &env).unwrap();
//! let acme = &config.sources()[0];
//! assert!(acme.space_in_scope("ENG") && !acme.space_in_scope("HR"));
//! assert_eq!(acme.token().expose(), "t0ken");
//! assert_eq!(config.data_dir(), Path::new("/etc/permdex/permdex-data"));
//! ```
//!
//! - [`init`]: `permdex init`, a commented starter file for one site.
//!
//! This module reads files and environment variables and nothing else: it does not create the data
//! directory, contact a site, or check that a token works.

pub mod init;
mod raw;
mod types;
mod validate;

use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::net::SocketAddr;
use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::time::Duration;

pub use types::{
    format_byte_size, parse_byte_size, AccountId, Email, EnvVarName, InvalidValue, ProjectKey, Secret,
    SourceName, SpaceKey,
};
pub use url::Url;

/// Default `data_dir`, relative to the config file's directory.
pub const DEFAULT_DATA_DIR: &str = "./permdex-data";
/// Default `server.listen`.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7700";

/// Errors of loading or writing a config file.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot read config file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("invalid config file {}: {problems}", path.display())]
    Invalid { path: PathBuf, problems: Problems },
    #[error("{} already exists; pass --force to overwrite it", path.display())]
    AlreadyExists { path: PathBuf },
    #[error("cannot write {}: {source}", path.display())]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{flag}: {reason}")]
    InitArgument { flag: &'static str, reason: String },
}

/// Every problem found in one config file, each naming its key (or table and line).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problems(pub Vec<String>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [one] => f.write_str(one),
            many => write!(f, "{} problems: {}", many.len(), many.join("; ")),
        }
    }
}

/// Where environment variables come from: the process ([`ProcessEnv`]) or, in tests and tools, a map.
pub trait Env {
    /// The variable's value; `None` when it is unset or not valid UTF-8.
    fn var(&self, name: &str) -> Option<String>;
}

/// The process environment.
#[derive(Debug, Clone, Copy, Default)]
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl Env for BTreeMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

impl Env for HashMap<String, String> {
    fn var(&self, name: &str) -> Option<String> {
        self.get(name).cloned()
    }
}

/// A loaded, validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    file: PathBuf,
    data_dir: PathBuf,
    sources: Vec<Source>,
    server: ServerConfig,
    warnings: Vec<String>,
}

impl Config {
    /// Reads and validates `path`, taking secrets from the process environment and from token files.
    /// Warnings (see [`Config::warnings`]) are also logged.
    pub fn load(path: &Path) -> Result<Config, Error> {
        let text =
            std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_owned(), source })?;
        let config = Self::from_toml(&text, path, &ProcessEnv)?;
        for warning in &config.warnings {
            tracing::warn!(config = %path.display(), "{warning}");
        }
        Ok(config)
    }

    /// Validates `text` as if it had been read from `path`: relative paths in it (`data_dir`,
    /// `token_file`, `jwt_public_key_file`) resolve against `path`'s directory, and `env` supplies the
    /// variables named by `*_env` keys. Nothing is logged.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Env) -> Result<Config, Error> {
        let invalid = |problems| Error::Invalid { path: path.to_owned(), problems: Problems(problems) };
        let raw = raw::parse(text).map_err(invalid)?;
        validate::validate(raw, path, env).map_err(invalid)
    }

    /// The file this configuration was read from, as given.
    pub fn file(&self) -> &Path {
        &self.file
    }

    /// Where the index, the ACL store and sync state live.
    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// At least one source, names unique.
    pub fn sources(&self) -> &[Source] {
        &self.sources
    }

    pub fn source(&self, name: &str) -> Option<&Source> {
        self.sources.iter().find(|s| s.name.as_str() == name)
    }

    pub fn server(&self) -> &ServerConfig {
        &self.server
    }

    /// Things that are allowed but probably not meant (plain http to a remote host, a group-readable
    /// token file), one message each, naming the key.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }
}

/// Which products a source crawls. At least one is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Products {
    pub confluence: bool,
    pub jira: bool,
}

/// Where a source's token was read from, so it can be read again (credential rotation) and named in
/// messages without showing it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenOrigin {
    Env(EnvVarName),
    /// Absolute, or relative to the working directory when the config file's path was.
    File(PathBuf),
}

/// An include list and an exclude list of keys. An empty include list means everything; an exclude
/// always wins. Validation guarantees no key is in both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyFilter<K: Ord> {
    include: BTreeSet<K>,
    exclude: BTreeSet<K>,
}

impl<K: Ord + Borrow<str>> KeyFilter<K> {
    pub fn allows(&self, key: &str) -> bool {
        !self.exclude.contains(key) && (self.include.is_empty() || self.include.contains(key))
    }

    pub fn include(&self) -> &BTreeSet<K> {
        &self.include
    }

    pub fn exclude(&self) -> &BTreeSet<K> {
        &self.exclude
    }
}

impl<K: Ord> Default for KeyFilter<K> {
    fn default() -> Self {
        Self { include: BTreeSet::new(), exclude: BTreeSet::new() }
    }
}

/// Crawl limits of one source. `Default` gives the documented defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Attachments larger than this are recorded as skipped, not downloaded; 0 downloads none.
    pub max_attachment_bytes: u64,
    /// Requests in flight at once, 1..=64.
    pub concurrency: NonZeroUsize,
    /// Average request rate the crawler paces itself to; finite and > 0.
    pub requests_per_second: f64,
    /// Per-request timeout.
    pub timeout: Duration,
}

impl Limits {
    pub const DEFAULT_MAX_ATTACHMENT_BYTES: u64 = 20 << 20;
    pub const MAX_ATTACHMENT_BYTES_LIMIT: u64 = 1 << 30;
    pub const DEFAULT_CONCURRENCY: usize = 4;
    pub const MAX_CONCURRENCY: usize = 64;
    pub const DEFAULT_REQUESTS_PER_SECOND: f64 = 10.0;
    pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
    pub const MAX_TIMEOUT_SECS: u64 = 3600;
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_attachment_bytes: Self::DEFAULT_MAX_ATTACHMENT_BYTES,
            concurrency: NonZeroUsize::new(Self::DEFAULT_CONCURRENCY).unwrap_or(NonZeroUsize::MIN),
            requests_per_second: Self::DEFAULT_REQUESTS_PER_SECOND,
            timeout: Duration::from_secs(Self::DEFAULT_TIMEOUT_SECS),
        }
    }
}

/// One Atlassian site to crawl, with its credentials, products, scope and limits.
#[derive(Debug, Clone)]
pub struct Source {
    name: SourceName,
    url: Url,
    email: Email,
    token: Secret,
    token_origin: TokenOrigin,
    products: Products,
    spaces: KeyFilter<SpaceKey>,
    projects: KeyFilter<ProjectKey>,
    users: KeyFilter<AccountId>,
    include_archived: bool,
    confluence_access_groups: Option<BTreeSet<String>>,
    limits: Limits,
}

impl Source {
    pub fn name(&self) -> &SourceName {
        &self.name
    }

    /// The site's base URL (`https://acme.atlassian.net`, or the simulator's loopback address).
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// The account the token belongs to (HTTP Basic user).
    pub fn email(&self) -> &Email {
        &self.email
    }

    pub fn token(&self) -> &Secret {
        &self.token
    }

    pub fn token_origin(&self) -> &TokenOrigin {
        &self.token_origin
    }

    /// The same source with another API token (credential rotation without a restart). The origin is
    /// kept: it still names where the token was first read from.
    pub fn with_token(self, token: Secret) -> Source {
        Source { token, ..self }
    }

    pub fn products(&self) -> Products {
        self.products
    }

    /// Whether archived pages, spaces and projects are indexed (`archived = true`).
    pub fn include_archived(&self) -> bool {
        self.include_archived
    }

    /// The groups (names or ids) whose members have Confluence access (`confluence_access_groups`);
    /// `None` when not configured: members of granted groups are then taken to have it.
    pub fn confluence_access_groups(&self) -> Option<&BTreeSet<String>> {
        self.confluence_access_groups.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    pub fn spaces(&self) -> &KeyFilter<SpaceKey> {
        &self.spaces
    }

    pub fn projects(&self) -> &KeyFilter<ProjectKey> {
        &self.projects
    }

    pub fn users(&self) -> &KeyFilter<AccountId> {
        &self.users
    }

    /// Whether the space with this key is indexed. A personal space `~accountId` whose owner is out of
    /// user scope (excluded, or not in a non-empty `include_users`) is out too.
    pub fn space_in_scope(&self, key: &str) -> bool {
        let owner_in_scope = key.strip_prefix('~').is_none_or(|owner| self.users.allows(owner));
        owner_in_scope && self.spaces.allows(key)
    }

    /// Like [`Source::space_in_scope`] for a personal space whose owner is known from the API. Use this
    /// where the owner is available: a personal space key is not always `~` followed by the account id.
    pub fn personal_space_in_scope(&self, key: &str, owner_account_id: &str) -> bool {
        self.space_in_scope(key) && self.users.allows(owner_account_id)
    }

    pub fn project_in_scope(&self, key: &str) -> bool {
        self.projects.allows(key)
    }

    /// Whether this account may get access through permdex. An account out of scope is given no
    /// principals at search time and its personal space is not indexed.
    pub fn user_in_scope(&self, account_id: &str) -> bool {
        self.users.allows(account_id)
    }
}

/// How the server verifies JWT bearer tokens.
#[derive(Debug, Clone)]
pub enum JwtKey {
    /// HS256 with a shared secret of at least 32 bytes, from `jwt_hs256_secret_env`.
    Hs256(Secret),
    /// RS256 or ES256 with a PEM public key, read from `jwt_public_key_file` at load time.
    PublicKeyPem { path: PathBuf, pem: String },
}

/// A static API key and the account it authenticates as.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub key: Secret,
    pub account_id: AccountId,
    /// The variable the key was read from, to name it in messages.
    pub key_env: EnvVarName,
}

/// The `[server]` table.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    listen: SocketAddr,
    jwt: Option<JwtKey>,
    api_keys: Vec<ApiKey>,
    admin_key: Option<Secret>,
}

impl ServerConfig {
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// `None` when JWTs are not accepted.
    pub fn jwt(&self) -> Option<&JwtKey> {
        self.jwt.as_ref()
    }

    /// Distinct keys.
    pub fn api_keys(&self) -> &[ApiKey] {
        &self.api_keys
    }

    /// `None` when the admin API is disabled. Never equal to an API key.
    pub fn admin_key(&self) -> Option<&Secret> {
        self.admin_key.as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "tok-3f9a1c77e2b04d5e";
    const API_KEY: &str = "api-key-8d1e2f3a4b5c6d7e";
    const ADMIN_KEY: &str = "admin-key-1a2b3c4d5e6f7a8b";
    const JWT_SECRET: &str = "jwt-secret-0a1b2c3d4e5f6a7b8c9d0e1f2a3b";

    fn env() -> BTreeMap<String, String> {
        [("TOK", TOKEN), ("API", API_KEY), ("ADMIN", ADMIN_KEY), ("JWT", JWT_SECRET)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect()
    }

    fn source_with(scope: &str) -> Source {
        let text = format!(
            "[[sources]]\nname = \"s\"\nurl = \"http://127.0.0.1:9\"\nemail = \"a@b.c\"\ntoken_env = \"TOK\"\n{scope}\n"
        );
        let config = Config::from_toml(&text, Path::new("permdex.toml"), &env()).unwrap();
        config.sources()[0].clone()
    }

    #[test]
    fn scope_filters() {
        // (scope keys, method, key, in scope)
        type Probe = fn(&Source, &str) -> bool;
        let space: Probe = Source::space_in_scope;
        let project: Probe = Source::project_in_scope;
        let user: Probe = Source::user_in_scope;
        let cases: [(&str, Probe, &str, bool); 17] = [
            ("", space, "ENG", true),
            ("", project, "OPS", true),
            ("", user, "u1", true),
            ("", space, "~u1", true),
            ("include_spaces = [\"ENG\"]", space, "ENG", true),
            ("include_spaces = [\"ENG\"]", space, "HR", false),
            ("exclude_spaces = [\"HR\"]", space, "HR", false),
            ("exclude_spaces = [\"HR\"]", space, "ENG", true),
            ("include_projects = [\"OPS\"]", project, "DEV", false),
            ("exclude_projects = [\"OPS\"]", project, "OPS", false),
            ("include_users = [\"u1\"]", user, "u2", false),
            ("exclude_users = [\"u1\"]", user, "u1", false),
            ("exclude_users = [\"u1\"]", user, "u2", true),
            // An excluded account's personal space is out, others' are in.
            ("exclude_users = [\"u1\"]", space, "~u1", false),
            ("exclude_users = [\"u1\"]", space, "~u2", true),
            // With an include list of users, personal spaces of everyone else are out.
            ("include_users = [\"u1\"]", space, "~u2", false),
            ("include_users = [\"u1\"]", space, "~u1", true),
        ];
        for (scope, probe, key, expected) in cases {
            assert_eq!(probe(&source_with(scope), key), expected, "{scope:?} {key:?}");
        }
    }

    #[test]
    fn personal_space_scope_uses_the_owner() {
        let source = source_with("exclude_users = [\"557058:abc\"]");
        // A personal space whose key is not `~accountId` is still out when its owner is.
        assert!(!source.personal_space_in_scope("~557058abc", "557058:abc"));
        assert!(source.personal_space_in_scope("~557058def", "557058:def"));
        assert!(!source.personal_space_in_scope("~557058:abc", "someone"));
    }

    #[test]
    fn debug_of_config_never_contains_a_secret() {
        let dir = tempfile::tempdir().unwrap();
        let text = "[[sources]]\nname = \"s\"\nurl = \"https://s.atlassian.net\"\nemail = \"a@b.c\"\n\
                    token_env = \"TOK\"\n[server]\njwt_hs256_secret_env = \"JWT\"\nadmin_key_env = \"ADMIN\"\n\
                    api_keys = [{ key_env = \"API\", account_id = \"u1\" }]\n";
        let config = Config::from_toml(text, &dir.path().join("permdex.toml"), &env()).unwrap();
        let debug = format!("{config:?} {config:#?}");
        for secret in [TOKEN, API_KEY, ADMIN_KEY, JWT_SECRET] {
            assert!(!debug.contains(secret), "{secret} in {debug}");
        }
        assert!(debug.contains("[redacted]"));
        // The secrets are there, behind `expose`.
        assert_eq!(config.sources()[0].token().expose(), TOKEN);
        assert_eq!(config.sources()[0].token_origin(), &TokenOrigin::Env(EnvVarName::parse("TOK").unwrap()));
    }

    #[test]
    fn problems_display() {
        assert_eq!(Problems(vec!["a: x".into()]).to_string(), "a: x");
        assert_eq!(Problems(vec!["a: x".into(), "b: y".into()]).to_string(), "2 problems: a: x; b: y");
    }
}
