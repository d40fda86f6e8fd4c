//! `permdex demo`: the whole product on one machine with nothing else installed. It starts the Atlassian
//! simulator in-process, writes a configuration for it into a data directory, runs a full sync with progress
//! on stderr, then serves the query server and its web pages in demo mode, with a few demo users chosen by
//! the simulator's permission oracle so that switching user visibly changes what search returns.
//!
//! Secrets never go through argv: the simulator's token is written to a token file (mode 0600) the
//! configuration names, and the admin key and JWT secret are generated here and handed to the
//! configuration through an in-memory environment.
//!
//! Sign-in works as in a deployment: the demo server is registered as an OAuth app of the simulated
//! Atlassian and as a client of the simulator's OpenID provider (client secrets in 0600 files), so the
//! search page's "Sign in" buttons run the real flows; the demo users are a shortcut beside them.
//!
//! This is a demonstration over simulated data; it is not how a real deployment is configured (that is
//! `permdex init`, `permdex sync` and `permdex serve`). What the command prints, and its temporary data
//! directory, are the binary's (`src/cli/demo.rs`).

use std::collections::BTreeMap;
use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rand::RngCore;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::config::{AccountId, Config};
use crate::server::backend::{ServeOptions, Service};
use crate::server::DemoUser;
use crate::sim::http::oauth::OAuthClient;
use crate::sim::model::{AccessRule, RoleMode, Site};
use crate::sim::oracle::{self, Scope};
use crate::sim::run::RunningSim;
use crate::sim::{DocId, SimConfig, SiteFeatures};
use crate::sync::{Mode, Progress};

/// The name of the one source the demo configures.
pub const SOURCE: &str = "demo";
const SIM_TOKEN_FILE: &str = "simulator-token";
const ATLASSIAN_SECRET_FILE: &str = "atlassian-client-secret";
const OIDC_SECRET_FILE: &str = "oidc-client-secret";
const ADMIN_KEY_ENV: &str = "PERMDEX_DEMO_ADMIN_KEY";
const JWT_SECRET_ENV: &str = "PERMDEX_DEMO_JWT_SECRET";
/// Demo tokens outlive any demo session.
const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Errors of starting the demo.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Sim(#[from] crate::sim::Error),
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
    #[error(transparent)]
    Server(#[from] crate::server::Error),
    #[error("demo data directory {}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("the demo configuration has no source {SOURCE}")]
    NoSource,
    #[error("simulated account {account}: {reason}")]
    Account { account: String, reason: String },
    #[error("the simulated site has no active user who can read anything")]
    NoReaders,
}

/// What [`start`] needs.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub sim: SimConfig,
    /// What the simulated organisation holds beyond pages and issues (`permdex demo` turns every one on:
    /// product access, inline comments, role-based spaces, a service desk with its customers).
    pub features: SiteFeatures,
    pub listen: SocketAddr,
    /// Where the configuration, token file, index and run records go (created if missing).
    pub data_dir: PathBuf,
    /// The server's options; their sync options are also those of the first sync.
    pub serve: ServeOptions,
}

/// A demo serving in the background.
pub struct RunningDemo {
    /// The server's base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// The admin key the integrations page asks for.
    pub admin_key: String,
    /// The users `GET /api/v1/demo/users` lists, with their tokens.
    pub users: Vec<DemoUser>,
    pub sim: RunningSim,
    pub config: Config,
    stop: oneshot::Sender<()>,
    server: JoinHandle<Result<(), crate::server::Error>>,
}

impl RunningDemo {
    /// Stops the server (requests in flight finish), then the simulator.
    pub async fn shutdown(self) {
        let _ = self.stop.send(());
        match self.server.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(error = %e, "demo server did not shut down cleanly"),
            Err(e) => tracing::warn!(error = %e, "demo server task failed"),
        }
        self.sim.shutdown().await;
    }
}

/// Starts the simulator, configures a source for it in `options.data_dir`, syncs it fully (reporting to
/// `progress`), and serves the query server in demo mode.
pub async fn start(options: DemoOptions, progress: &mut dyn Progress) -> Result<RunningDemo, Error> {
    // The port is taken first: a port in use is said at once, not after a sync.
    let addr = options.listen;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| crate::server::Error::Bind { addr, source })?;
    let local = listener.local_addr().map_err(crate::server::Error::Serve)?;
    let sim = crate::sim::run::start_with_features(
        options.sim.clone(),
        options.features,
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await?;
    let admin_key = random_secret();
    // The sign-in callbacks registered with the simulator name the port, so it is bound before this too.
    let sign_in = register_sign_in(&options.data_dir, &sim, local)?;
    let config = write_config_with(&options.data_dir, &sim, options.listen, &admin_key, &sign_in)?;
    let source = config.source(SOURCE).cloned().ok_or(Error::NoSource)?;
    crate::sync::sync_with(&config, &source, Mode::Full, &options.serve.sync, progress).await?;

    let users = {
        let site = sim.state.read();
        let chosen = choose_users(&site)?;
        let key = config.server().jwt().ok_or(crate::server::Error::NoJwtKey)?;
        let now = chrono::Utc::now();
        let mut users = Vec::with_capacity(chosen.len());
        for (account, description) in chosen {
            let id = AccountId::parse(&account.account_id)
                .map_err(|e| Error::Account { account: account.account_id.clone(), reason: e.to_string() })?;
            let token = crate::server::auth::mint_token(key, &id, TOKEN_TTL, now)?;
            users.push(DemoUser {
                account_id: account.account_id.clone(),
                display_name: account.display_name.clone(),
                description,
                token,
                example: example_word(&site, &account.account_id).unwrap_or_default(),
            });
        }
        users
    };

    let service = Service::open(config.clone(), options.serve.clone()).await?.with_demo_users(users.clone());
    if let Some(warning) = exposure_warning(local) {
        tracing::warn!("{warning}");
    }
    let (stop, stopped) = oneshot::channel::<()>();
    let server = tokio::spawn(service.serve(listener, async {
        // A dropped sender also means stop.
        let _ = stopped.await;
    }));
    Ok(RunningDemo { url: base_url(local), admin_key, users, sim, config, stop, server })
}

/// 32 random bytes as hex.
pub(crate) fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The URL a browser on this machine reaches `local` at (an unspecified address means this machine).
fn base_url(local: SocketAddr) -> String {
    let host =
        if local.ip().is_unspecified() { SocketAddr::from(([127, 0, 0, 1], local.port())) } else { local };
    format!("http://{host}")
}

/// Registers the demo server as an OAuth app of the simulated Atlassian and as a client of its OpenID
/// provider, writes both client secrets to 0600 files in `data_dir`, and returns the `[server]` lines
/// that configure sign-in with them.
fn register_sign_in(data_dir: &Path, sim: &RunningSim, local: SocketAddr) -> Result<String, Error> {
    let at = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(data_dir).map_err(at(data_dir))?;
    let base = base_url(local);
    let mut lines = String::new();
    for (table, client_id, file, callback) in [
        ("atlassian_login", "permdex-demo", ATLASSIAN_SECRET_FILE, format!("{base}/auth/atlassian/callback")),
        ("oidc_login", "permdex-demo-oidc", OIDC_SECRET_FILE, format!("{base}/auth/oidc/callback")),
    ] {
        let secret = random_secret();
        let path = data_dir.join(file);
        write_private(&path, &secret).map_err(at(&path))?;
        sim.state.oauth.register(OAuthClient {
            client_id: client_id.to_owned(),
            client_secret: Some(secret),
            redirect_uris: vec![callback.clone()],
        });
        lines.push_str(&format!(
            "\n[server.{table}]\nclient_id = {client_id:?}\nclient_secret_file = {file:?}\ncallback_url = {callback:?}\n"
        ));
        if table == "atlassian_login" {
            lines.push_str(&format!("auth_url = {url:?}\napi_url = {url:?}\n", url = sim.url));
        } else {
            lines.push_str(&format!(
                "issuer = \"{url}/oidc\"\nlabel = \"Sign in with the company account\"\n",
                url = sim.url
            ));
        }
    }
    Ok(lines)
}

/// Writes `permdex.toml` (one source, [`SOURCE`], reading `sim`) and the simulator's token file into
/// `data_dir` and loads the configuration. Evaluation uses it too.
pub(crate) fn write_config(
    data_dir: &Path,
    sim: &RunningSim,
    listen: SocketAddr,
    admin_key: &str,
) -> Result<Config, Error> {
    write_config_with(data_dir, sim, listen, admin_key, "")
}

/// [`write_config`], with `server_tables` (TOML tables under `[server]`) appended.
fn write_config_with(
    data_dir: &Path,
    sim: &RunningSim,
    listen: SocketAddr,
    admin_key: &str,
    server_tables: &str,
) -> Result<Config, Error> {
    let at = |path: &Path| {
        let path = path.to_owned();
        move |source| Error::Io { path, source }
    };
    crate::sync::datadir::create_private_dir(data_dir).map_err(at(data_dir))?;
    let token_path = data_dir.join(SIM_TOKEN_FILE);
    write_private(&token_path, &sim.credentials.token).map_err(at(&token_path))?;
    let access = confluence_access_lines(&sim.state.read());
    let text = format!(
        "# Written by permdex for its in-process simulator.\n\
         data_dir = \".\"\n\n\
         [[sources]]\nname = \"{SOURCE}\"\nurl = {url:?}\nemail = {email:?}\ntoken_file = \"{SIM_TOKEN_FILE}\"\n\
         requests_per_second = 2000.0\nconcurrency = 8\n{access}\n\
         [server]\nlisten = \"{listen}\"\njwt_hs256_secret_env = \"{JWT_SECRET_ENV}\"\nadmin_key_env = \"{ADMIN_KEY_ENV}\"\n{server_tables}",
        url = sim.url,
        email = sim.credentials.email,
    );
    let config_path = data_dir.join("permdex.toml");
    write_private(&config_path, &text).map_err(at(&config_path))?;
    let env = BTreeMap::from([
        (ADMIN_KEY_ENV.to_owned(), admin_key.to_owned()),
        (JWT_SECRET_ENV.to_owned(), random_secret()),
    ]);
    Ok(Config::from_toml(&text, &config_path, &env)?)
}

/// What an administrator of the simulated site would write about Confluence's product access, which no
/// REST API tells a site token: the groups whose members use Confluence (licensed users and guests), and
/// those of licensed users alone, whom a space role given to all licensed users admits. Nothing when the
/// site does not model product access or space roles. Group ids, not names: names change.
pub fn confluence_access_lines(site: &Site) -> String {
    let access = &site.product_access;
    let mut lines = String::new();
    if access.rule == AccessRule::Groups {
        let groups: Vec<&String> = access.confluence_users.union(&access.confluence_guests).collect();
        lines.push_str(&format!("confluence_access_groups = {groups:?}\n"));
    }
    if site.space_roles.mode != RoleMode::PreRoles {
        let licensed: Vec<&String> = access.confluence_users.iter().collect();
        lines.push_str(&format!("confluence_licensed_groups = {licensed:?}\n"));
    }
    lines
}

/// A warning when the demo listens beyond loopback: its page hands out working tokens and the admin key
/// to whoever reaches it.
pub fn exposure_warning(listen: SocketAddr) -> Option<String> {
    (!listen.ip().is_loopback()).then(|| {
        format!(
            "the demo listens on {listen}, beyond loopback: anyone who can reach it gets working tokens for \
             every demo user; listen on 127.0.0.1 unless that is what you want"
        )
    })
}

/// Writes `text` to a new file only its owner can read.
pub fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    crate::sync::datadir::private_file_options().open(path)?.write_all(text.as_bytes())
}

/// The demo users, by the oracle: who reads the most, who reads the least (but something), and someone who
/// reads a restricted page the least-reading user cannot, so that switching between them changes results.
fn choose_users(site: &Site) -> Result<Vec<(&crate::sim::model::User, String)>, Error> {
    let scope = Scope::default();
    let counted: Vec<(&crate::sim::model::User, usize)> = site
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| (u, oracle::visible(site, &u.account_id, scope).len()))
        .filter(|(_, n)| *n > 0)
        .collect();
    let total = oracle::all_docs(site, scope).len();
    // Ties go to the first user in the site's order, so a seed always gives the same users.
    let most = counted.iter().fold(None, |best: Option<&(_, usize)>, c| match best {
        Some(b) if b.1 >= c.1 => Some(b),
        _ => Some(c),
    });
    let least = counted.iter().fold(None, |best: Option<&(_, usize)>, c| match best {
        Some(b) if b.1 <= c.1 => Some(b),
        _ => Some(c),
    });
    let (Some(&(most, most_n)), Some(&(least, least_n))) = (most, least) else {
        return Err(Error::NoReaders);
    };
    let mut chosen = vec![(most, format!("reads the most: {most_n} of {total} items"))];
    // A restricted page (or blog post) the least-reading user cannot read, and someone else who can.
    let restricted = site.contents.values().filter(|c| !c.read_restriction.is_empty()).find_map(|content| {
        let doc = DocId::confluence_content(content.kind, content.id);
        if oracle::can_view(site, &least.account_id, &doc) {
            return None;
        }
        counted
            .iter()
            .map(|(user, n)| (*user, *n))
            .filter(|(user, _)| user.account_id != most.account_id && user.account_id != least.account_id)
            .find(|(user, _)| oracle::can_view(site, &user.account_id, &doc))
            .map(|(user, n)| (user, n, content.title.clone()))
    });
    if let Some((user, n, title)) = restricted {
        chosen.push((user, format!("can read the restricted page \u{201c}{title}\u{201d}: {n} items")));
    }
    if least.account_id != most.account_id {
        chosen.push((least, format!("reads the least: {least_n} items")));
    }
    Ok(chosen)
}

/// The word of five letters or more found most often in the titles of the pages, blog posts and issues
/// `account_id` may read (ties to the first in alphabetical order), so that an example query finds something
/// for that user; `None` when they read no such title.
fn example_word(site: &Site, account_id: &str) -> Option<String> {
    let titles: BTreeMap<DocId, &str> = site
        .contents
        .values()
        .map(|c| (DocId::confluence_content(c.kind, c.id), c.title.as_str()))
        .chain(site.issues.values().map(|i| (DocId::jira_issue(i.id), i.summary.as_str())))
        .collect();
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for doc in oracle::visible(site, account_id, Scope::default()) {
        let Some(title) = titles.get(&doc) else { continue };
        for word in title.split(|c: char| !c.is_ascii_alphabetic()).filter(|w| w.len() >= 5) {
            *counts.entry(word.to_ascii_lowercase()).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .fold(None, |best: Option<(String, usize)>, (word, n)| match best {
            Some(b) if b.1 >= n => Some(b),
            _ => Some((word, n)),
        })
        .map(|(word, _)| word)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::Scale;

    #[test]
    fn listening_beyond_loopback_is_warned_about() {
        for quiet in ["127.0.0.1:7700", "[::1]:7700", "127.0.0.2:1"] {
            assert_eq!(exposure_warning(quiet.parse().unwrap()), None, "{quiet}");
        }
        for open in ["0.0.0.0:7700", "[::]:7700", "192.168.1.5:80"] {
            let warning = exposure_warning(open.parse().unwrap()).unwrap_or_default();
            assert!(warning.contains("beyond loopback") && warning.contains(open), "{open}: {warning}");
        }
    }

    #[test]
    fn demo_users_differ_in_what_they_read() {
        let site = crate::sim::generate::generate(&SimConfig::new(1, Scale::Tiny)).unwrap();
        let chosen = choose_users(&site).unwrap();
        assert!(chosen.len() >= 2, "at least the most and the least reading users");
        let counts: Vec<usize> = chosen
            .iter()
            .map(|(u, _)| oracle::visible(&site, &u.account_id, Scope::default()).len())
            .collect();
        let best = site
            .users
            .iter()
            .filter(|u| u.active)
            .map(|u| oracle::visible(&site, &u.account_id, Scope::default()).len())
            .max()
            .unwrap();
        assert_eq!(counts[0], best);
        assert!(counts.last().unwrap() < &counts[0]);
        let ids: std::collections::BTreeSet<_> = chosen.iter().map(|(u, _)| &u.account_id).collect();
        assert_eq!(ids.len(), chosen.len(), "no user twice");
    }

    #[test]
    fn each_demo_users_example_word_is_in_a_title_they_may_read() {
        let site =
            crate::sim::generate::generate_with(&SimConfig::new(1, Scale::Tiny), SiteFeatures::ALL).unwrap();
        for (user, _) in choose_users(&site).unwrap() {
            let word = example_word(&site, &user.account_id).expect("a word");
            assert!(word.len() >= 5 && word.chars().all(|c| c.is_ascii_lowercase()), "{word}");
            let readable = oracle::visible(&site, &user.account_id, Scope::default());
            let found = site
                .contents
                .values()
                .filter(|c| readable.contains(&DocId::confluence_content(c.kind, c.id)))
                .map(|c| c.title.to_ascii_lowercase())
                .chain(
                    site.issues
                        .values()
                        .filter(|i| readable.contains(&DocId::jira_issue(i.id)))
                        .map(|i| i.summary.to_ascii_lowercase()),
                )
                .any(|title| title.contains(&word));
            assert!(found, "{}: {word} is in no title they may read", user.display_name);
        }
        assert_eq!(
            example_word(&site, "557058:nobody-at-all"),
            None,
            "someone who reads nothing gets no word"
        );
    }

    #[test]
    fn secrets_are_long_and_fresh() {
        let (a, b) = (random_secret(), random_secret());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
    }
}
