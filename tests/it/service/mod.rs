//! `permdex serve` as a long-running service against the simulator over loopback: it follows commits
//! made by other processes (`freshness`), syncs on its schedule (`schedule`), withholds stale
//! permissions, and the command line around it (`cli`).
//!
//! The helpers here stand up what a deployment has: a simulated site, a config file on disk whose token
//! and keys come from environment variables, the built `permdex` binary for cron-style syncs, and the
//! server in this process through `Service`, the same assembly `permdex serve` runs.

mod cli;
mod freshness;
mod schedule;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use permdex::config::{AccountId, Config, JwtKey};
use permdex::server::auth::mint_token;
use permdex::server::backend::{ServeOptions, Service};
use permdex::sim::run::RunningSim;
use serde_json::Value;

use crate::support;

pub const TOKEN_ENV: &str = "PERMDEX_SERVICE_TEST_TOKEN";
pub const JWT_ENV: &str = "PERMDEX_SERVICE_TEST_JWT";
pub const ADMIN_ENV: &str = "PERMDEX_SERVICE_TEST_ADMIN";
pub const JWT_SECRET: &str = "service-test-jwt-secret-0123456789abcdef";
pub const ADMIN_KEY: &str = "service-test-admin-key-0123456789";

/// A simulated site, a data directory with a config file for it, and the config loaded as `serve` would.
pub struct Deployment {
    pub sim: RunningSim,
    /// The data directory (removed when the deployment is dropped).
    pub _data: tempfile::TempDir,
    pub config_path: PathBuf,
    pub config: Config,
}

impl Deployment {
    /// `source_extra` is more TOML for the source's table (a schedule, a scope).
    pub async fn new(sim: RunningSim, source_extra: &str) -> Deployment {
        let data = tempfile::tempdir().expect("tempdir");
        let text = format!(
            "{}\n[server]\nlisten = \"127.0.0.1:0\"\njwt_hs256_secret_env = \"{JWT_ENV}\"\nadmin_key_env = \"{ADMIN_ENV}\"\n",
            support::sim_config_text(&sim, data.path(), TOKEN_ENV, source_extra)
        );
        let config_path = support::config_path(data.path());
        std::fs::write(&config_path, &text).expect("config file");
        let env = BTreeMap::from([
            (TOKEN_ENV.to_owned(), sim.credentials.token.clone()),
            (JWT_ENV.to_owned(), JWT_SECRET.to_owned()),
            (ADMIN_ENV.to_owned(), ADMIN_KEY.to_owned()),
        ]);
        let config = Config::from_toml(&text, &config_path, &env).expect("config");
        Deployment { sim, _data: data, config_path, config }
    }

    /// Runs the built binary with this deployment's config and only the source token in its environment
    /// (as cron would run `permdex sync`); returns its exit code, stdout and stderr.
    pub async fn permdex(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_permdex"))
            .args(args)
            .arg("--config")
            .arg(&self.config_path)
            .env(TOKEN_ENV, &self.sim.credentials.token)
            .env_remove(JWT_ENV)
            .env_remove(ADMIN_ENV)
            .env("NO_COLOR", "1")
            .output()
            .await
            .expect("permdex runs");
        let text = |bytes: &[u8]| String::from_utf8_lossy(bytes).into_owned();
        (output.status.code(), text(&output.stdout), text(&output.stderr))
    }

    /// Serves this deployment in-process, as `permdex serve` does, on `127.0.0.1:0`; returns its base URL.
    pub async fn serve(&self, options: ServeOptions) -> String {
        let service = Service::open(self.config.clone(), options).await.expect("service opens");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(service.serve(listener, std::future::pending()));
        base
    }

    /// A bearer token for `account`, signed with the deployment's secret.
    pub fn token_for(&self, account: &str) -> String {
        let key = JwtKey::Hs256(permdex::config::Secret::new(JWT_SECRET.to_owned()));
        let account = AccountId::parse(account).expect("account id");
        mint_token(&key, &account, Duration::from_secs(3600), chrono::Utc::now()).expect("token")
    }

    /// Every active and inactive account of the site.
    pub fn accounts(&self) -> Vec<String> {
        self.sim.state.read().users.iter().map(|u| u.account_id.clone()).collect()
    }

    /// What the simulator's oracle lets `account` read now.
    pub fn oracle(&self, account: &str) -> BTreeSet<String> {
        let site = self.sim.state.read();
        permdex::sim::oracle::visible(&site, account, permdex::sim::oracle::Scope::default())
            .into_iter()
            .map(|d| d.0)
            .collect()
    }
}

/// Everything `account` finds by browsing the server's search API page by page; an account the server
/// refuses (401: unknown or inactive) finds nothing.
pub async fn browse(http: &reqwest::Client, base: &str, token: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    loop {
        let response = http
            .get(format!("{base}/api/v1/search?limit=100&offset={}", ids.len()))
            .bearer_auth(token)
            .send()
            .await
            .expect("search answers");
        if response.status().as_u16() == 401 {
            return ids;
        }
        assert_eq!(response.status().as_u16(), 200);
        let body: Value = response.json().await.expect("json");
        let hits = body["hits"].as_array().expect("hits");
        let before = ids.len();
        ids.extend(hits.iter().map(|h| h["id"].as_str().expect("id").to_owned()));
        if hits.is_empty()
            || ids.len() as u64 >= body["total"].as_u64().expect("total")
            || ids.len() == before
        {
            return ids;
        }
    }
}

/// Polls `probe` every 20 ms until it returns `Some`, at most `tries` times; `None` when it never did.
/// For waiting on background work without asserting how long it takes.
pub async fn eventually<T, F, Fut>(tries: usize, mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..tries {
        if let Some(value) = probe().await {
            return Some(value);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    None
}
