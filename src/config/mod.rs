//! permdex's configuration: `permdex.toml` parsed into a validated [`Config`].
//!
//! Parse, don't validate: `raw.rs` deserializes the file as written (`RawConfig`, unknown keys rejected),
//! `validate/` turns it into a [`Config`] whose parts are newtypes ([`SourceName`], [`SpaceKey`],
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
//! assert_eq!(acme.token().unwrap().expose(), "t0ken");
//! assert_eq!(config.data_dir(), Path::new("/etc/permdex/permdex-data"));
//! ```
//!
//! - [`init`]: `permdex init`, a commented starter file for one site.
//! - [`edit`]: a source added to an existing file, or removed from it, its comments and layout kept.
//!
//! This module reads files and environment variables, and writes only configuration and token files (a
//! replaced token, an added or removed source): it does not create the data directory, contact a site, or check
//! that a token works.

pub mod edit;
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
    format_byte_size, format_duration, parse_byte_size, AccountId, Email, EnvVarName, InvalidValue,
    ProjectKey, Secret, SourceName, SpaceKey,
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
    #[error(
        "no config file at {}: write one with `permdex init --url https://<site>.atlassian.net --email <email> \
         --token-env <VAR>`, or pass --config <file>",
        path.display()
    )]
    Missing { path: PathBuf },
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

/// Which secrets a command uses. Only those are read and required when a file is loaded; the others are
/// read if they can be and otherwise left out without a word (`permdex status` runs where the API token is
/// not set). A secret that was not read is never replaced by anything: [`Source::token`] says it is
/// missing, and a [`ServerConfig`] with unread keys cannot build the server's authenticator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Secrets {
    /// Each source's API token (crawling, checking a site).
    pub source_tokens: bool,
    /// The JWT secret or public key (serving, minting tokens).
    pub jwt_key: bool,
    /// The static API keys and the admin key (serving).
    pub api_keys: bool,
}

impl Secrets {
    pub const ALL: Secrets = Secrets { source_tokens: true, jwt_key: true, api_keys: true };
    pub const NONE: Secrets = Secrets { source_tokens: false, jwt_key: false, api_keys: false };
    /// What talking to a site needs (`sync`, `check`).
    pub const SOURCE_TOKENS: Secrets = Secrets { source_tokens: true, jwt_key: false, api_keys: false };
    /// What minting a bearer token needs (`token`).
    pub const JWT_KEY: Secrets = Secrets { source_tokens: false, jwt_key: true, api_keys: false };
}

/// A secret a command asked for that the configuration was loaded without.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} was not read ({origin}): the configuration was loaded without it")]
pub struct SecretNotRead {
    pub what: String,
    pub origin: String,
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
        Self::load_for(path, Secrets::ALL)
    }

    /// Like [`Config::load`], but reads and requires only the `secrets` a command uses: a command that
    /// needs no token runs where the token is not set (see [`Secrets`]).
    pub fn load_for(path: &Path, secrets: Secrets) -> Result<Config, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => Error::Missing { path: path.to_owned() },
            _ => Error::Read { path: path.to_owned(), source },
        })?;
        let config = Self::from_toml_for(&text, path, &ProcessEnv, secrets)?;
        for warning in &config.warnings {
            tracing::warn!(config = %path.display(), "{warning}");
        }
        Ok(config)
    }

    /// Validates `text` as if it had been read from `path`: relative paths in it (`data_dir`,
    /// `token_file`, `jwt_public_key_file`) resolve against `path`'s directory, and `env` supplies the
    /// variables named by `*_env` keys. Nothing is logged.
    pub fn from_toml(text: &str, path: &Path, env: &dyn Env) -> Result<Config, Error> {
        Self::from_toml_for(text, path, env, Secrets::ALL)
    }

    /// Like [`Config::from_toml`], requiring only `secrets`.
    pub fn from_toml_for(text: &str, path: &Path, env: &dyn Env, secrets: Secrets) -> Result<Config, Error> {
        let invalid = |problems| Error::Invalid { path: path.to_owned(), problems: Problems(problems) };
        let raw = raw::parse(text).map_err(invalid)?;
        validate::validate(raw, path, env, secrets).map_err(invalid)
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

impl fmt::Display for TokenOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TokenOrigin::Env(name) => write!(f, "environment variable {name}"),
            TokenOrigin::File(path) => write!(f, "token file {}", path.display()),
        }
    }
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

    /// Keys named in the include or exclude list that `exists` does not know (a typo, a key renamed
    /// on the site): such a key silently matches nothing.
    pub fn unknown_keys(&self, exists: impl Fn(&str) -> bool) -> Vec<&str> {
        self.include.iter().chain(&self.exclude).map(Borrow::borrow).filter(|key| !exists(key)).collect()
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

/// When `permdex serve` syncs a source by itself. `None` turns that kind of run off. An incremental run
/// ends with a permission refresh and a full run includes one, so either also counts as a refresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// Incremental syncs (`interval`).
    pub incremental: Option<Duration>,
    /// Permissions-only refreshes (`permissions_interval`).
    pub permissions: Option<Duration>,
    /// Full syncs (`full_interval`).
    pub full: Option<Duration>,
}

impl Schedule {
    pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(15 * 60);
    pub const DEFAULT_PERMISSIONS_INTERVAL: Duration = Duration::from_secs(5 * 60);
    pub const DEFAULT_FULL_INTERVAL: Duration = Duration::from_secs(7 * 24 * 3600);
    /// Default `max_permission_age`.
    pub const DEFAULT_MAX_PERMISSION_AGE: Duration = Duration::from_secs(24 * 3600);
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule {
            incremental: Some(Self::DEFAULT_INTERVAL),
            permissions: Some(Self::DEFAULT_PERMISSIONS_INTERVAL),
            full: Some(Self::DEFAULT_FULL_INTERVAL),
        }
    }
}

/// One Atlassian site to crawl, with its credentials, products, scope and limits.
#[derive(Debug, Clone)]
pub struct Source {
    name: SourceName,
    url: Url,
    email: Email,
    /// `None` when the configuration was loaded without source tokens and this one could not be read.
    token: Option<Secret>,
    token_origin: TokenOrigin,
    products: Products,
    spaces: KeyFilter<SpaceKey>,
    projects: KeyFilter<ProjectKey>,
    users: KeyFilter<AccountId>,
    include_archived: bool,
    confluence_access_groups: Option<BTreeSet<String>>,
    confluence_licensed_groups: Option<BTreeSet<String>>,
    limits: Limits,
    schedule: Schedule,
    max_permission_age: Option<Duration>,
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

    /// The API token, unless the configuration was loaded without it (see [`Secrets`]).
    pub fn token(&self) -> Result<&Secret, SecretNotRead> {
        self.token.as_ref().ok_or_else(|| SecretNotRead {
            what: format!("the API token of source {}", self.name),
            origin: self.token_origin.to_string(),
        })
    }

    pub fn token_origin(&self) -> &TokenOrigin {
        &self.token_origin
    }

    /// Writes `token` where this source's token is read from, so a replacement survives a restart: the
    /// token file (mode 0600, replaced atomically). A token read from an environment variable cannot be
    /// written back: `Err` says so and what to do.
    pub fn persist_token(&self, token: &Secret) -> Result<PathBuf, String> {
        match &self.token_origin {
            TokenOrigin::Env(var) => Err(format!(
                "the token of source {} is read from the environment variable {var}, which permdex cannot \
                 change: it is used until the server restarts; set {var} to the new token before then, or \
                 configure token_file so replacements are kept",
                self.name
            )),
            TokenOrigin::File(path) => {
                write_private(path, token.expose()).map(|()| path.clone()).map_err(|e| {
                    format!(
                        "the token is used until the server restarts, but cannot be written to {}: {e}",
                        path.display()
                    )
                })
            }
        }
    }

    /// The same source with another API token (credential rotation without a restart). The origin is
    /// kept: it still names where the token was first read from.
    pub fn with_token(self, token: Secret) -> Source {
        Source { token: Some(token), ..self }
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

    /// The groups (names or ids) whose members are licensed Confluence users, guests not included
    /// (`confluence_licensed_groups`): whom a space role assigned to all licensed users admits. `None`
    /// when not configured: such an assignment then admits nobody.
    pub fn confluence_licensed_groups(&self) -> Option<&BTreeSet<String>> {
        self.confluence_licensed_groups.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// When `permdex serve` syncs this source.
    pub fn schedule(&self) -> &Schedule {
        &self.schedule
    }

    /// The same source on another schedule (changed while the server runs).
    pub fn with_schedule(self, schedule: Schedule) -> Source {
        Source { schedule, ..self }
    }

    /// How old the permissions of this source's index may be before its documents are withheld from
    /// every search (fail closed); `None` never withholds.
    pub fn max_permission_age(&self) -> Option<Duration> {
        self.max_permission_age
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

/// What a JWT must say besides a good signature, `exp` and `sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwtRules {
    /// When set, the token's `aud` must name it.
    pub audience: Option<String>,
    /// When set, the token's `iss` must equal it.
    pub issuer: Option<String>,
    /// The longest a token may live: `exp - iat`, or `exp - now` for a token without `iat`.
    pub max_lifetime: Duration,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    pub leeway: Duration,
}

impl JwtRules {
    pub const DEFAULT_MAX_LIFETIME: Duration = Duration::from_secs(30 * 24 * 3600);
    pub const MAX_MAX_LIFETIME_SECS: u64 = 366 * 24 * 3600;
    pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);
    pub const MAX_LEEWAY_SECS: u64 = 600;
}

impl Default for JwtRules {
    fn default() -> Self {
        JwtRules {
            audience: None,
            issuer: None,
            max_lifetime: JwtRules::DEFAULT_MAX_LIFETIME,
            leeway: JwtRules::DEFAULT_LEEWAY,
        }
    }
}

/// How long a connection may take to send a request's headers (and may sit idle between requests), and
/// how many connections are served at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
}

impl ConnectionLimits {
    pub const MAX_HEADER_READ_TIMEOUT_SECS: u64 = 300;
    pub const MAX_CONNECTIONS: usize = 100_000;
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits { header_read_timeout: Duration::from_secs(10), max_connections: 1024 }
    }
}

/// The `[server]` table.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    listen: SocketAddr,
    jwt: Option<JwtKey>,
    jwt_rules: JwtRules,
    api_keys: Vec<ApiKey>,
    admin_key: Option<Secret>,
    metrics_key: Option<Secret>,
    connections: ConnectionLimits,
    log_search_terms: bool,
    atlassian_login: Option<AtlassianLogin>,
    oidc_login: Option<OidcLogin>,
    /// Keys the file configures that were not read (the configuration was loaded without them).
    unread: Vec<&'static str>,
}

/// `[server.atlassian_login]`: an OAuth 2.0 (3LO) app registered in Atlassian's developer console.
#[derive(Debug, Clone)]
pub struct AtlassianLogin {
    pub client_id: String,
    pub client_secret: Secret,
    /// Where Atlassian sends the browser back: `https://permdex.example/auth/atlassian/callback`. It must
    /// be the app's registered callback URL; an `https` URL also makes the session cookie `Secure`.
    pub callback_url: Url,
    /// Atlassian's authorization server, `https://auth.atlassian.com` (`/authorize`, `/oauth/token`).
    pub auth_url: Url,
    /// Atlassian's API gateway, `https://api.atlassian.com` (`/me`).
    pub api_url: Url,
}

/// `[server.oidc_login]`: an OpenID Connect provider (Okta, Entra ID, Google Workspace, Keycloak…).
#[derive(Debug, Clone)]
pub struct OidcLogin {
    /// The issuer; its discovery document is at `{issuer}/.well-known/openid-configuration`.
    pub issuer: Url,
    pub client_id: String,
    /// `None` for a public client (PKCE alone).
    pub client_secret: Option<Secret>,
    /// `https://permdex.example/auth/oidc/callback`.
    pub callback_url: Url,
    /// The sign-in button's text, e.g. "Sign in with Okta".
    pub label: String,
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

    pub fn jwt_rules(&self) -> &JwtRules {
        &self.jwt_rules
    }

    /// `None` when `/metrics` is open to anyone (it names routes and counts, never a document).
    pub fn metrics_key(&self) -> Option<&Secret> {
        self.metrics_key.as_ref()
    }

    pub fn connections(&self) -> ConnectionLimits {
        self.connections
    }

    /// Whether search terms may appear in debug logs (off by default: they can be sensitive).
    pub fn log_search_terms(&self) -> bool {
        self.log_search_terms
    }

    /// `None` when Sign in with Atlassian is not configured.
    pub fn atlassian_login(&self) -> Option<&AtlassianLogin> {
        self.atlassian_login.as_ref()
    }

    /// `None` when sign-in with OpenID Connect is not configured.
    pub fn oidc_login(&self) -> Option<&OidcLogin> {
        self.oidc_login.as_ref()
    }
    /// Fails when keys the file configures were not read (see [`Secrets`]): a server must never start
    /// with fewer keys than configured, as if JWTs or the admin API were off.
    pub fn require_keys(&self) -> Result<(), SecretNotRead> {
        match self.unread.as_slice() {
            [] => Ok(()),
            unread => Err(SecretNotRead { what: unread.join(" and "), origin: "[server]".into() }),
        }
    }
}

/// Replaces `path` with `text` and a newline, readable and writable by the owner only (0600 on Unix).
fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    replace_private(path, format!("{text}\n").as_bytes())
}

/// Replaces `path` with `contents`, readable and writable by the owner only (0600 on Unix): written to a
/// temporary file beside it, then renamed over it, so a reader never sees half of it.
fn replace_private(path: &Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let temporary = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let written = options.open(&temporary).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(e) = written.and_then(|()| std::fs::rename(&temporary, path)) {
        let _ = std::fs::remove_file(&temporary);
        return Err(e);
    }
    Ok(())
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
        assert_eq!(config.sources()[0].token().unwrap().expose(), TOKEN);
        assert_eq!(config.sources()[0].token_origin(), &TokenOrigin::Env(EnvVarName::parse("TOK").unwrap()));
    }

    #[test]
    fn problems_display() {
        assert_eq!(Problems(vec!["a: x".into()]).to_string(), "a: x");
        assert_eq!(Problems(vec!["a: x".into(), "b: y".into()]).to_string(), "2 problems: a: x; b: y");
    }
}
