//! `permdex init`: writes a commented starter `permdex.toml` for one site.
//!
//! Every key is shown with its default and a one-line comment; optional keys that need a value of their
//! own (a token file, JWT keys, the admin key) are shown commented out. The file loads with
//! [`Config::load`] as written, once the variable named by `--token-env` is set. `init` never asks for a
//! token and never writes one, and it refuses to replace an existing file unless told to.
//!
//! This is not an interactive wizard and does not contact the site.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::types::{format_byte_size, format_duration, Email, EnvVarName, SourceName};
use super::{
    Config, ConnectionLimits, Error, JwtRules, Limits, Schedule, Url, DEFAULT_DATA_DIR, DEFAULT_LISTEN,
};

/// What `permdex init` was asked for, as given on the command line (checked by [`run`]).
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// Site URL: `https://<site>.atlassian.net`, or the simulator's `http://127.0.0.1:PORT`.
    pub url: String,
    /// Email of the Atlassian account whose API token permdex will use.
    pub email: String,
    /// Name of the environment variable that will hold the API token.
    pub token_env: String,
    /// Data directory; `None` means `./permdex-data` beside the config file.
    pub data: Option<PathBuf>,
    /// Where to write the config file.
    pub output: PathBuf,
    pub existing: Existing,
}

/// What to do when the output file exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    Refuse,
    Overwrite,
}

/// The checked values a starter file is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Starter {
    pub name: SourceName,
    pub url: Url,
    pub email: Email,
    pub token_env: EnvVarName,
    /// As written in the file: relative to the file's directory, or absolute.
    pub data_dir: String,
    /// What was changed in the URL given, and warnings about it.
    pub notes: Vec<String>,
}

/// What `run` wrote, for what the CLI prints: what was changed in the URL, warnings, and the next steps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub path: PathBuf,
    pub source: SourceName,
    pub token_env: EnvVarName,
    pub email: Email,
    /// What `--url` was turned into, and warnings about it (see [`site_url`]).
    pub notes: Vec<String>,
}

impl std::fmt::Display for Written {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        let config = self.path.display();
        writeln!(f, "wrote {config} with source {:?}\n", self.source.as_str())?;
        writeln!(f, "Next steps:")?;
        writeln!(
            f,
            "  1. Signed in to Atlassian as {}, create an API token at {TOKEN_PAGE}",
            self.email.as_str()
        )?;
        writeln!(
            f,
            "  2. Give that account the rights the crawler reads with: Confluence: view every space to index \
             (space admin to read its permissions); Jira: Browse projects, Administer Jira (permission \
             schemes, roles, security levels); both: Browse users and groups"
        )?;
        writeln!(f, "  3. export {}='<the token>'   (or name a 0600 file with token_file)", self.token_env)?;
        writeln!(f, "  4. permdex check --config {config}    (one line per call the crawler needs)")?;
        writeln!(f, "  5. permdex sync --config {config}     (the first run is a full sync)")?;
        write!(f, "  6. permdex serve --config {config}    (keeps the index fresh on its schedule)")
    }
}

/// Where Atlassian account holders create API tokens.
pub const TOKEN_PAGE: &str = "https://id.atlassian.com/manage-profile/security/api-tokens";

/// Whether `host` is an Atlassian Cloud site's host.
pub fn is_cloud_host(host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    [".atlassian.net", ".jira.com"].iter().any(|suffix| host.ends_with(suffix) && host.len() > suffix.len())
}

/// The site URL people paste, made into the one permdex needs, with notes on what was changed or looks
/// wrong: a bare host gets `https://`; an Atlassian Cloud URL with a path (`…/wiki/spaces/ENG/…`) becomes
/// its site root; `http://` is refused for Cloud (it only serves https); a host that is not Cloud is kept
/// as given, with a warning (the bundled simulator, a proxy; Data Center and Server are not supported).
pub fn site_url(input: &str) -> Result<(Url, Vec<String>), String> {
    let input = input.trim();
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        format!("https://{}", input.trim_start_matches('/'))
    };
    let url = Url::parse(&with_scheme)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| "must be a site URL like https://example.atlassian.net".to_owned())?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(
            "must not carry credentials (give --email; the token goes in an environment variable)".into()
        );
    }
    let host = url.host_str().unwrap_or_default().to_owned();
    let mut notes = Vec::new();
    if with_scheme != input {
        notes.push(format!("read {input:?} as {}", url.origin().ascii_serialization()));
    }
    if is_cloud_host(&host) {
        if url.scheme() == "http" {
            return Err(format!("Atlassian Cloud is served over https only: use https://{host}"));
        }
        let root = Url::parse(&format!("https://{host}/")).map_err(|e| e.to_string())?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            notes.push(format!(
                "using the site root {} (the URL pasted points inside the site)",
                root.as_str().trim_end_matches('/')
            ));
        }
        return Ok((root, notes));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("must not have a query or fragment".into());
    }
    notes.push(format!(
        "{host} is not an Atlassian Cloud host (*.atlassian.net): permdex reads Atlassian Cloud's REST APIs; \
         this is fine for the bundled simulator or a proxy in front of Cloud, but Data Center and Server are \
         not supported"
    ));
    Ok((url, notes))
}

/// `permdex init`: checks the flags, renders the starter file and writes it to `args.output`.
pub fn run(args: &InitOptions) -> Result<Written, Error> {
    let cwd = std::env::current_dir().map_err(|source| Error::Write { path: args.output.clone(), source })?;
    let starter = Starter::from_args(args, &cwd)?;
    let text = starter.render();
    // The file must load as written; a failure here is a bug in `render`, caught before anything is written.
    let placeholder_env =
        std::collections::BTreeMap::from([(starter.token_env.as_str().to_owned(), "placeholder".to_owned())]);
    Config::from_toml(&text, &args.output, &placeholder_env)?;
    write_file(&args.output, &text, args.existing)?;
    Ok(Written {
        path: args.output.clone(),
        source: starter.name,
        token_env: starter.token_env,
        email: starter.email,
        notes: starter.notes,
    })
}

/// Writes `text` to `path`. With [`Existing::Refuse`] the file is created only if absent, atomically, so
/// a file appearing meanwhile is not clobbered either.
pub fn write_file(path: &Path, text: &str, existing: Existing) -> Result<(), Error> {
    let mut options = OpenOptions::new();
    options.write(true);
    match existing {
        Existing::Refuse => options.create_new(true),
        Existing::Overwrite => options.create(true).truncate(true),
    };
    let mut file = options.open(path).map_err(|source| match source.kind() {
        std::io::ErrorKind::AlreadyExists => Error::AlreadyExists { path: path.to_owned() },
        _ => Error::Write { path: path.to_owned(), source },
    })?;
    file.write_all(text.as_bytes()).map_err(|source| Error::Write { path: path.to_owned(), source })
}

impl Starter {
    /// Checks the flags. A relative `--data` is taken relative to `cwd`, like any path on a command line,
    /// and rewritten relative to the output file's directory, which is how the config file reads it.
    pub fn from_args(args: &InitOptions, cwd: &Path) -> Result<Starter, Error> {
        let flag =
            |flag: &'static str| move |err: super::InvalidValue| Error::InitArgument { flag, reason: err.0 };
        let (url, notes) =
            site_url(&args.url).map_err(|reason| Error::InitArgument { flag: "--url", reason })?;
        let email = Email::parse(&args.email).map_err(flag("--email"))?;
        let token_env = EnvVarName::parse(&args.token_env).map_err(flag("--token-env"))?;
        let data_dir = match &args.data {
            None => DEFAULT_DATA_DIR.to_owned(),
            Some(data) => data_dir_as_written(data, &args.output, cwd)?,
        };
        Ok(Starter { name: source_name_for(&url), url, email, token_env, data_dir, notes })
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let defaults = Limits::default();
        let schedule = Schedule::default();
        let quote = |s: &str| toml::Value::String(s.to_owned()).to_string();
        format!(
            r#"# permdex configuration, written by `permdex init`. Every key is shown with its default.
# Relative paths are relative to this file's directory. Secrets are never written here: tokens and keys
# are read from environment variables (or a token file) when the file is loaded.

# Where the index, the ACL store and sync state are kept.
data_dir = {data_dir}

# One [[sources]] table per Atlassian site; copy the table to add another.
[[sources]]
# Unique name of this source (a-z, 0-9, '-'); shown in results and on the status page.
name = {name}
# Site base URL: https://<site>.atlassian.net, or the simulator's http://127.0.0.1:PORT.
url = {url}
# The Atlassian account whose API token is used; permdex indexes what this account can read.
email = {email}
# Environment variable holding that account's API token (the token is never written in this file).
token_env = {token_env}
# Or read the token from a file only its owner can read (chmod 600); use instead of token_env, not both.
# token_file = "atlassian-token"
# Crawl Confluence: spaces, pages, blog posts, comments, attachments.
confluence = true
# Crawl Jira: projects, issues, comments, attachments.
jira = true
# Confluence space keys to index; empty means every space the account can read.
include_spaces = []
# Space keys never indexed; wins over include_spaces. Excluded users' personal spaces are added automatically.
exclude_spaces = []
# Jira project keys to index; empty means every project the account can browse.
include_projects = []
# Jira project keys never indexed; wins over include_projects.
exclude_projects = []
# Account ids allowed to search this source; empty means every account.
include_users = []
# Account ids that get no access through permdex; their personal spaces (~accountId) are not indexed.
exclude_users = []
# Also index archived spaces, pages and projects.
archived = false
# Groups (names or ids) whose members have Confluence access, guests' groups included. Atlassian offers no API
# for it: unset, every member of a group granted a space is taken to have Confluence access.
# confluence_access_groups = ["confluence-users-acme", "confluence-guests-acme"]
# Groups (names or ids) of licensed Confluence users, guests not included: whom a space role given to "all
# licensed users" admits on a site with role-based space access. Unset, such a role admits nobody.
# confluence_licensed_groups = ["confluence-users-acme"]
# Larger attachments are skipped and recorded; a byte count or a size with B, KB, MB, GB, KiB, MiB or GiB; 0 skips all.
max_attachment_bytes = {max_attachment_bytes}
# Requests in flight at once, 1 to {max_concurrency}.
concurrency = {concurrency}
# Average requests per second the crawler paces itself to; Atlassian rate-limits bursts.
requests_per_second = {requests_per_second:?}
# Per-request timeout in seconds, 1 to {max_timeout}.
timeout_secs = {timeout_secs}
# How often `permdex serve` syncs what changed since the last run: a duration like "15m", "6h" or "7d", or "off".
interval = {interval}
# How often `permdex serve` re-reads permissions and group membership alone (no page or issue bodies).
permissions_interval = {permissions_interval}
# How often `permdex serve` re-reads everything and removes what is gone.
full_interval = {full_interval}
# Past this age of the last complete permission read, this source's documents are withheld from every
# search until a sync refreshes them (fail closed), whoever runs the syncs; "off" never withholds.
max_permission_age = {max_permission_age}

# The query server.
[server]
# Address to listen on; keep it on loopback behind a TLS reverse proxy.
listen = {listen}
# Accept HS256 JWTs signed with a secret (at least 32 bytes) from this variable; the token's sub is the accountId.
# jwt_hs256_secret_env = "PERMDEX_JWT_SECRET"
# Or accept RS256/ES256 JWTs verified with this PEM public key file (one of the two, not both).
# jwt_public_key_file = "jwt-public.pem"
# Static API keys, each read from a variable (at least 16 characters) and acting as one account, e.g.
# api_keys = [{{ key_env = "PERMDEX_KEY_ALICE", account_id = "5b10ac8d82e05b22cc7d4ef5" }}]
api_keys = []
# Variable holding the admin API key (at least 16 characters); without it the admin API is off.
# admin_key_env = "PERMDEX_ADMIN_KEY"
# When set, a JWT's aud must name this audience and its iss must equal this issuer.
# jwt_audience = "permdex"
# jwt_issuer = "https://idp.example.com"
# The longest a JWT may live (exp - iat), in seconds.
jwt_max_lifetime_secs = {jwt_max_lifetime_secs}
# Clock skew tolerated on a JWT's exp, nbf and iat, in seconds.
jwt_leeway_secs = {jwt_leeway_secs}
# Variable holding a bearer key for /metrics (at least 16 characters); without it /metrics is open.
# metrics_key_env = "PERMDEX_METRICS_KEY"
# Seconds a client has to send a request's headers (also how long a connection may sit idle).
header_read_timeout_secs = {header_read_timeout_secs}
# The most connections served at once; more wait.
max_connections = {max_connections}
# Whether search terms may appear in debug logs.
log_search_terms = false
# Sign in with Atlassian: an OAuth 2.0 (3LO) app from developer.atlassian.com with scope read:me; the
# secret comes from a variable or a 0600 client_secret_file; the callback is the app's registered one.
# atlassian_login = {{ client_id = "your-app-client-id", client_secret_env = "PERMDEX_ATLASSIAN_SECRET", callback_url = "https://permdex.example/auth/atlassian/callback" }}
# Sign in with OpenID Connect (code + PKCE); the email claim names the account through the synced directory.
# oidc_login = {{ issuer = "https://idp.example", client_id = "permdex", client_secret_env = "PERMDEX_OIDC_SECRET", callback_url = "https://permdex.example/auth/oidc/callback", label = "Sign in with Okta" }}
"#,
            data_dir = quote(&self.data_dir),
            name = quote(self.name.as_str()),
            url = quote(self.url.as_str().trim_end_matches('/')),
            email = quote(self.email.as_str()),
            token_env = quote(self.token_env.as_str()),
            max_attachment_bytes = quote(&format_byte_size(defaults.max_attachment_bytes)),
            max_concurrency = Limits::MAX_CONCURRENCY,
            concurrency = defaults.concurrency,
            requests_per_second = defaults.requests_per_second,
            max_timeout = Limits::MAX_TIMEOUT_SECS,
            timeout_secs = defaults.timeout.as_secs(),
            interval = quote(&format_duration(schedule.incremental)),
            permissions_interval = quote(&format_duration(schedule.permissions)),
            full_interval = quote(&format_duration(schedule.full)),
            max_permission_age = quote(&format_duration(Some(Schedule::DEFAULT_MAX_PERMISSION_AGE))),
            listen = quote(DEFAULT_LISTEN),
            jwt_max_lifetime_secs = JwtRules::DEFAULT_MAX_LIFETIME.as_secs(),
            jwt_leeway_secs = JwtRules::DEFAULT_LEEWAY.as_secs(),
            header_read_timeout_secs = ConnectionLimits::default().header_read_timeout.as_secs(),
            max_connections = ConnectionLimits::default().max_connections,
        )
    }
}

/// A source name from the site's host: `acme.atlassian.net` → `acme`; `localhost` and loopback addresses
/// → `local`; anything unusable → `site`. The file says the name can be changed.
fn source_name_for(url: &Url) -> SourceName {
    let candidate = match url.host() {
        Some(url::Host::Domain(domain)) if domain.eq_ignore_ascii_case("localhost") => "local".to_owned(),
        Some(url::Host::Domain(domain)) => domain
            .split('.')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
        Some(url::Host::Ipv4(ip)) if ip.is_loopback() => "local".to_owned(),
        Some(url::Host::Ipv6(ip)) if ip.is_loopback() => "local".to_owned(),
        _ => String::new(),
    };
    SourceName::parse(candidate.trim_matches('-'))
        .or_else(|_| SourceName::parse("site"))
        .unwrap_or_else(|_| unreachable!("\"site\" is a valid source name"))
}

/// `data` (relative to `cwd` when relative) as the config file at `output` should say it.
fn data_dir_as_written(data: &Path, output: &Path, cwd: &Path) -> Result<String, Error> {
    let data = cwd.join(data);
    let output_dir = cwd.join(output).parent().map(Path::to_owned).unwrap_or_else(|| cwd.to_owned());
    let written = match data.strip_prefix(&output_dir) {
        Ok(inside) if inside.as_os_str().is_empty() => PathBuf::from("."),
        Ok(inside) => Path::new(".").join(inside),
        Err(_) => data.clone(),
    };
    written.to_str().map(str::to_owned).ok_or_else(|| Error::InitArgument {
        flag: "--data",
        reason: format!("{} is not valid UTF-8, which TOML requires", data.display()),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn args(url: &str, output: &Path) -> InitOptions {
        InitOptions {
            url: url.to_owned(),
            email: "bot@acme.example".to_owned(),
            token_env: "ACME_TOKEN".to_owned(),
            data: None,
            output: output.to_owned(),
            existing: Existing::Refuse,
        }
    }

    fn load_rendered(starter: &Starter, path: &Path) -> Config {
        let env = BTreeMap::from([(starter.token_env.as_str().to_owned(), "t".to_owned())]);
        Config::from_toml(&starter.render(), path, &env).unwrap()
    }

    #[test]
    fn starter_loads_with_the_given_values_and_every_default() {
        let path = Path::new("/etc/permdex/permdex.toml");
        let starter =
            Starter::from_args(&args("https://acme.atlassian.net", path), Path::new("/home/u")).unwrap();
        let config = load_rendered(&starter, path);
        assert_eq!(config.data_dir(), Path::new("/etc/permdex/permdex-data"));
        let [source] = config.sources() else { panic!("one source") };
        assert_eq!(source.name().as_str(), "acme");
        assert_eq!(source.url().as_str(), "https://acme.atlassian.net/");
        assert_eq!(source.email().as_str(), "bot@acme.example");
        assert_eq!(source.token_origin(), &super::super::TokenOrigin::Env(starter.token_env.clone()));
        assert_eq!(*source.limits(), Limits::default());
        assert_eq!(source.products(), super::super::Products { confluence: true, jira: true });
        assert!(!source.include_archived());
        assert!(source.spaces().include().is_empty() && source.spaces().exclude().is_empty());
        assert_eq!(config.server().listen().to_string(), DEFAULT_LISTEN);
        assert!(config.server().jwt().is_none() && config.server().admin_key().is_none());
    }

    #[test]
    fn starter_shows_every_key() {
        // Serde lists every key it knows when it meets an unknown one: the starter must show each of them,
        // so a key added to the file format cannot be forgotten here.
        let known = |text: &str| -> Vec<String> {
            let message = match toml::from_str::<super::super::raw::RawConfig>(text) {
                Err(err) => err.message().to_owned(),
                Ok(_) => panic!("{text} should not parse"),
            };
            message.split('`').skip(3).step_by(2).map(str::to_owned).collect()
        };
        let mut keys = known("zzz = 1");
        keys.extend(known("[[sources]]\nzzz = 1"));
        keys.extend(known("[server]\nzzz = 1"));
        keys.extend(known("[server]\napi_keys = [{ zzz = 1 }]"));
        assert!(keys.len() > 25, "{keys:?}");
        let starter =
            Starter::from_args(&args("https://acme.atlassian.net", Path::new("p.toml")), Path::new("/"))
                .unwrap()
                .render();
        for key in keys {
            let shown = [
                format!("\n{key} = "),
                format!("\n# {key} = "),
                format!("{{ {key} = "),
                format!(", {key} = "),
                format!("\n[{key}]"),
                format!("\n[[{key}]]"),
            ];
            assert!(shown.iter().any(|s| starter.contains(s)), "{key} missing from the starter:\n{starter}");
        }
        // One comment line above every assignment.
        let lines: Vec<&str> = starter.lines().collect();
        for pair in lines.windows(2) {
            if pair[1].contains(" = ") && !pair[1].starts_with('#') {
                assert!(pair[0].starts_with("# "), "no comment above {:?}", pair[1]);
            }
        }
    }

    #[test]
    fn pasted_urls_become_the_site_root() {
        // (pasted, the URL kept, a note containing)
        let cases = [
            (
                "acme.atlassian.net",
                "https://acme.atlassian.net/",
                Some("read \"acme.atlassian.net\" as https://acme.atlassian.net"),
            ),
            (
                "https://acme.atlassian.net/wiki/spaces/ENG/pages/123/Title?x=1",
                "https://acme.atlassian.net/",
                Some("using the site root"),
            ),
            (
                "https://acme.atlassian.net/jira/software/projects/ENG/boards/1",
                "https://acme.atlassian.net/",
                Some("site root"),
            ),
            (" https://ACME.atlassian.net ", "https://acme.atlassian.net/", None),
            ("http://127.0.0.1:8090", "http://127.0.0.1:8090/", Some("not an Atlassian Cloud host")),
            (
                "https://jira.example.com/wiki",
                "https://jira.example.com/wiki",
                Some("Data Center and Server are not supported"),
            ),
        ];
        for (pasted, kept, note) in cases {
            let (url, notes) = site_url(pasted).unwrap();
            assert_eq!(url.as_str(), kept, "{pasted}");
            match note {
                Some(note) => assert!(notes.iter().any(|n| n.contains(note)), "{pasted}: {notes:?}"),
                None => assert!(notes.is_empty(), "{pasted}: {notes:?}"),
            }
        }
        let refused = site_url("http://acme.atlassian.net").unwrap_err();
        assert!(refused.contains("https only: use https://acme.atlassian.net"), "{refused}");
        assert!(is_cloud_host("acme.atlassian.net") && !is_cloud_host("atlassian.net.evil.example"));
    }

    #[test]
    fn source_names_from_hosts() {
        let cases = [
            ("https://acme.atlassian.net", "acme"),
            ("https://Big_Co.atlassian.net", "big-co"),
            ("http://127.0.0.1:8080", "local"),
            ("http://localhost:8080", "local"),
            ("http://[::1]:8080", "local"),
            ("http://10.1.2.3", "site"),
        ];
        for (url, name) in cases {
            assert_eq!(source_name_for(&Url::parse(url).unwrap()).as_str(), name, "{url}");
        }
    }

    #[test]
    fn data_dir_is_written_relative_to_the_config_file() {
        let cwd = Path::new("/home/u");
        let cases = [
            ("data", "permdex.toml", "./data"),
            ("conf/data", "conf/permdex.toml", "./data"),
            ("conf", "conf/permdex.toml", "."),
            ("/srv/permdex", "permdex.toml", "/srv/permdex"),
            ("data", "/etc/permdex.toml", "/home/u/data"),
        ];
        for (data, output, expected) in cases {
            assert_eq!(data_dir_as_written(Path::new(data), Path::new(output), cwd).unwrap(), expected);
        }
    }

    #[test]
    fn bad_flags_name_the_flag() {
        let path = Path::new("p.toml");
        let cases: [(InitOptions, &str); 4] = [
            (args("ftp://acme", path), "--url: must be a site URL"),
            (args("https://u:p@acme.atlassian.net", path), "--url: must not carry credentials"),
            (
                InitOptions { email: "bot".into(), ..args("https://a.atlassian.net", path) },
                "--email: \"bot\" is not an email",
            ),
            (
                InitOptions { token_env: "ATATT-token".into(), ..args("https://a.atlassian.net", path) },
                "--token-env: must name",
            ),
        ];
        for (args, expected) in cases {
            let err = Starter::from_args(&args, Path::new("/")).unwrap_err().to_string();
            assert!(err.starts_with(expected), "{err}");
            assert!(!err.contains("ATATT"), "{err}");
        }
    }

    #[test]
    fn strings_are_escaped() {
        let starter = Starter {
            data_dir: "./we\"ird \\ dir".to_owned(),
            ..Starter::from_args(&args("https://acme.atlassian.net", Path::new("p.toml")), Path::new("/"))
                .unwrap()
        };
        let config = load_rendered(&starter, Path::new("/x/p.toml"));
        assert_eq!(config.data_dir(), Path::new("/x/./we\"ird \\ dir"));
    }
}
