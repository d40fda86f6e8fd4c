//! Helpers shared by integration tests: loopback servers on port 0, and one way to stand up the simulator
//! and point permdex at it: a simulator started on a generated or given site (faults and rate limits come
//! in its `SimConfig`), a crawler client with quick retries, a permdex `Config` whose one source `sim` reads
//! its token from an environment variable as a deployment would, quick sync options, a sync of that
//! source, and the simulator's oracle over HTTP and in-process.
//!
//! What a test checks stays in the test: nothing here asserts anything about the product except
//! [`assert_acls_match_oracle`], the comparison the crawl tests share.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use permdex::atlassian::ClientConfig;
use permdex::config::{Config, Email, Secret, Url};
use permdex::extract::ExtractConfig;
use permdex::sim::http::Credentials;
use permdex::sim::mutate::{self, Mutation};
use permdex::sim::oracle::{all_docs, can_view, Scope};
use permdex::sim::run::{start, start_with_site, RunningSim};
use permdex::sim::{DocId, RateLimitConfig, SimConfig, Site};
use permdex::sync::resolve::{caller_principals, refresh_all, AclInput, PermissionSnapshot};
use permdex::sync::{sync_with, Mode, Progress, RunRecord, SyncOptions};

/// The admin API's source listing of the server at `base` (`GET /api/v1/admin/sources` with `admin_key`).
pub async fn admin_sources(base: &str, admin_key: &str) -> serde_json::Value {
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/admin/sources", base.trim_end_matches('/')))
        .bearer_auth(admin_key)
        .send()
        .await
        .expect("the admin listing answers");
    response.json().await.expect("the admin listing is JSON")
}

/// Serves `router` on `127.0.0.1:0` for the rest of the test and returns its base URL.
pub async fn serve(router: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
    let addr = listener.local_addr().expect("local address");
    tokio::spawn(async move { axum::serve(listener, router).await.expect("serve") });
    format!("http://{addr}")
}

// ---------------------------------------------------------------------------------------------------------
// The simulator.

/// The admin credential a given site is served with (a generated site brings its own).
pub fn site_credentials() -> Credentials {
    Credentials { email: "admin@example.com".into(), token: "sim-token".into() }
}

/// Generates the site `config` describes and serves it on loopback, port 0.
pub async fn start_generated(config: SimConfig) -> RunningSim {
    start(config, loopback()).await.expect("simulator starts")
}

/// Serves `site` (a fixture or an edited one) on loopback, port 0, with [`site_credentials`].
pub async fn start_site(site: Site, config: SimConfig) -> RunningSim {
    start_with_site(site, config, site_credentials(), loopback()).await.expect("simulator starts")
}

fn loopback() -> std::net::SocketAddr {
    ([127, 0, 0, 1], 0).into()
}

/// A rate limit of `capacity` requests per `window` whose 429s never say when to come back.
pub fn rate_limit(capacity: u32, window: Duration) -> RateLimitConfig {
    RateLimitConfig { capacity, window, retry_after_probability: 0.0 }
}

/// Applies `count` random mutations drawn from `seed` to the running site. Some are refused by the site
/// (as Atlassian would refuse them); those change nothing.
pub fn apply_random_mutations(sim: &RunningSim, seed: u64, count: usize) {
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::seed_from_u64(seed);
    for _ in 0..count {
        let mut site = sim.state.write();
        let mutation = mutate::random_mutation(&site, &mut rng);
        let _ = mutate::apply(&mut site, &mutation);
    }
}

/// The ids the simulator's `/_sim/oracle` lists for `account`, in the order it serves them.
pub async fn oracle_visible(http: &reqwest::Client, sim: &RunningSim, account: &str) -> Vec<String> {
    let response = http
        .get(format!("{}/_sim/oracle", sim.url))
        .query(&[("accountId", account)])
        .basic_auth(&sim.credentials.email, Some(&sim.credentials.token))
        .send()
        .await
        .expect("oracle answers");
    let body: serde_json::Value = response.json().await.expect("oracle json");
    body["visible"]
        .as_array()
        .expect("visible list")
        .iter()
        .map(|v| v.as_str().expect("id").to_string())
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Crawling it.

/// A client config for `sim`'s admin with no pacing to speak of and a 20 ms backoff cap; the caller sets
/// the first backoff and the retries its test needs.
pub fn client_config(sim: &RunningSim) -> ClientConfig {
    let mut config = ClientConfig::new(
        Url::parse(&sim.url).expect("sim url"),
        Email::parse(&sim.credentials.email).expect("email"),
        Secret::new(sim.credentials.token.clone()),
    );
    config.requests_per_second = 100_000.0;
    config.backoff_cap = Duration::from_millis(20);
    config
}

/// The ids of every document in `scope` on `site` whose id starts with `prefix` (`"jira:"`, say), as the
/// oracle counts them.
pub fn oracle_docs(site: &Site, scope: Scope, prefix: &str) -> BTreeSet<String> {
    all_docs(site, scope).into_iter().map(|d| d.0).filter(|d| d.starts_with(prefix)).collect()
}

/// Resolves every `(document, input)` against `snapshot` as the engine would, then asserts that each of
/// `accounts` is granted exactly the documents the oracle lets it view on `site`: no leak, no miss.
pub fn assert_acls_match_oracle(
    site: &Site,
    snapshot: &PermissionSnapshot,
    inputs: &[(String, AclInput)],
    accounts: &BTreeSet<String>,
) {
    let mut store = permdex::acl::AclStore::default();
    let profiles = refresh_all(&mut store, snapshot, inputs.iter().map(|(d, i)| (d.as_str(), i)));
    let mut wrong = Vec::new();
    for account in accounts {
        let allowed = match caller_principals(&snapshot.directory, account) {
            Some(principals) => store.allowed_profiles(&store.caller(principals.iter())),
            None => Default::default(),
        };
        for (doc, profile) in &profiles {
            let granted = allowed.contains(profile.0);
            if granted != can_view(site, account, &DocId(doc.clone())) {
                wrong.push(format!("{}: {account} {doc}", if granted { "leak" } else { "miss" }));
            }
        }
    }
    assert!(wrong.is_empty(), "{} mismatches, first: {:#?}", wrong.len(), &wrong[..wrong.len().min(10)]);
}

// ---------------------------------------------------------------------------------------------------------
// Syncing it.

/// The text of a permdex config with one source, `sim`, reading `sim` with its token in the environment
/// variable `token_env`; `source_extra` is more TOML for the source's table.
pub fn sim_config_text(sim: &RunningSim, data_dir: &Path, token_env: &str, source_extra: &str) -> String {
    format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\ntoken_env = \"{token_env}\"\n\
         requests_per_second = 2000.0\nconcurrency = 8\n{source_extra}\n",
        data = data_dir.display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
    )
}

/// The environment a config's `token_env` is read from: that one variable, set to `token`.
pub fn token_environment(token_env: &str, token: &str) -> BTreeMap<String, String> {
    BTreeMap::from([(token_env.to_string(), token.to_string())])
}

/// Where [`write_sim_config`] writes, and where [`load_sim_config`] says the config lives.
pub fn config_path(data_dir: &Path) -> PathBuf {
    data_dir.join("permdex.toml")
}

/// The config of [`sim_config_text`], loaded with `sim`'s token in `token_env`.
pub fn load_sim_config(sim: &RunningSim, data_dir: &Path, token_env: &str, source_extra: &str) -> Config {
    let text = sim_config_text(sim, data_dir, token_env, source_extra);
    let env = token_environment(token_env, &sim.credentials.token);
    Config::from_toml(&text, &config_path(data_dir), &env).expect("config")
}

/// Writes the config of [`sim_config_text`] for the `permdex` binary; returns its path. The binary
/// reads the token from `token_env`, which the caller sets on the command.
pub fn write_sim_config(sim: &RunningSim, data_dir: &Path, token_env: &str, source_extra: &str) -> PathBuf {
    let path = config_path(data_dir);
    std::fs::write(&path, sim_config_text(sim, data_dir, token_env, source_extra)).expect("config file");
    path
}

/// Extraction by the built `permdex` binary as the worker, as in production.
pub fn extract_config() -> ExtractConfig {
    ExtractConfig { worker_program: env!("CARGO_BIN_EXE_permdex").into(), ..ExtractConfig::default() }
}

/// Sync options for quick tests: a checkpoint whenever one may be taken, two extraction workers, 5 ms
/// before the first retry.
pub fn quick_sync_options() -> SyncOptions {
    SyncOptions {
        checkpoint_interval: Duration::ZERO,
        extract: extract_config(),
        extract_concurrency: 2,
        retry_backoff: Duration::from_millis(5),
        ..SyncOptions::default()
    }
}

/// Runs one sync of `config`'s first source.
pub async fn sync_first_source(
    config: &Config,
    mode: Mode,
    options: &SyncOptions,
    progress: &mut dyn Progress,
) -> RunRecord {
    sync_with(config, &config.sources()[0], mode, options, progress).await.expect("sync runs")
}

/// Whether a mutation changes only who may read what (no version, no time stamp).
pub fn permission_only(m: &Mutation) -> bool {
    matches!(
        m,
        Mutation::SetReadRestriction { .. }
            | Mutation::SetSpacePermission { .. }
            | Mutation::SetSpaceRoleAssignment { .. }
            | Mutation::AddGrant { .. }
            | Mutation::RemoveGrant { .. }
            | Mutation::AddLevelMember { .. }
            | Mutation::RemoveLevelMember { .. }
            | Mutation::SetRoleActors { .. }
            | Mutation::AddGroupMember { .. }
            | Mutation::RemoveGroupMember { .. }
            | Mutation::RenameGroup { .. }
            | Mutation::DeactivateUser { .. }
            | Mutation::SetIssueSecurityLevel { .. }
            | Mutation::SetCommentVisibility { .. }
            | Mutation::SetAssignee { .. }
            | Mutation::SetRequestParticipant { .. }
            | Mutation::ShareRequest { .. }
            | Mutation::SetOrganisationMember { .. }
    )
}

/// Applies `mutations` through the simulator's `/_sim/mutate`, as a test outside the process would; all of
/// them must be accepted.
pub async fn post_mutations(http: &reqwest::Client, sim: &RunningSim, mutations: &[Mutation]) {
    let response = http
        .post(format!("{}/_sim/mutate", sim.url))
        .basic_auth(&sim.credentials.email, Some(&sim.credentials.token))
        .json(mutations)
        .send()
        .await
        .expect("mutate answers");
    assert!(
        response.status().is_success(),
        "mutations refused: {}",
        response.text().await.unwrap_or_default()
    );
}

/// The active account two sites both know that reads the most of them together, reading something in each.
pub fn reader_of_both(sims: &[RunningSim; 2]) -> String {
    let [a, b] = [sims[0].state.read(), sims[1].state.read()];
    a.users
        .iter()
        .filter(|u| u.active && b.users.iter().any(|v| v.account_id == u.account_id && v.active))
        .map(|u| {
            let counts = [&a, &b]
                .map(|site| permdex::sim::oracle::visible(site, &u.account_id, Scope::default()).len());
            (counts, u.account_id.clone())
        })
        .filter(|(counts, _)| counts.iter().all(|&n| n > 0))
        .max_by_key(|(counts, _)| counts[0] + counts[1])
        .expect("an account both sites know")
        .1
}
