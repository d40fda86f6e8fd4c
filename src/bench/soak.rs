//! `permdex bench soak`: a running server searched at many connections for a long time while it syncs, with
//! its memory watched.
//!
//! The simulator runs in this process; the server is a real `permdex serve` in its own process (so that its
//! memory is its own), configured for the simulated site with short sync intervals: it runs incremental
//! syncs and permission refreshes on its own schedule, as in production, only more often. A full sync by
//! `permdex sync` comes first. While the load runs, this process changes the site between syncs (random
//! mutations of every kind, never one that signs a searching account out), and samples the server's memory
//! from `/proc` ([`super::memory`]).
//!
//! The load is closed-loop, like [`super::load`], but an error does not stop it: every answer other than
//! 2xx, and every failed request, is counted (a soak's point is that there are none). The run goes on past
//! its duration until the server has finished at least one incremental sync and one permission refresh
//! during the load, so that a short run still exercises both. Then the site stops changing, and once an
//! incremental sync that started after the last change has ended, each account's total through the search
//! API is compared with what the simulator's oracle lets it read: the churn must have left no answer wrong.
//!
//! Writes `soak.json` and `soak.md` to the output directory, and the server's log as `server.log`. Nothing
//! here asserts a time; the memory verdict is reported, not enforced.

use std::fmt::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use super::memory::{self, MemorySample, MemoryVerdict};
use super::queries::BenchQuery;
use super::report::{load_average, run_line, Commit, Machine, Summary};
use super::site::{api_total, draw_queries, QUERY};
use super::{Error, Progress};
use crate::config::{AccountId, Config};
use crate::index::IndexReader;
use crate::server::auth::mint_token;
use crate::sim::mutate::{self, Mutation};
use crate::sim::oracle::{visible, Scope};
use crate::sim::run::RunningSim;
use crate::sim::{Scale, SimConfig};
use crate::sync::index_dir;
use crate::sync::runs::{self, Mode};

/// The one source the soak configures.
const SOURCE: &str = "soak";
const JWT_ENV: &str = "PERMDEX_SOAK_JWT_SECRET";
const ADMIN_ENV: &str = "PERMDEX_SOAK_ADMIN_KEY";
/// Hits per page.
const PAGE: usize = 20;
/// Distinct error messages kept in the result (all are counted).
const KEPT_ERRORS: usize = 10;
/// Run records read back (a ten-minute soak at the default intervals makes about a hundred).
const MAX_RUNS: usize = 5000;
/// How long the run may go past its duration waiting for a sync of each kind.
const SYNC_GRACE: Duration = Duration::from_secs(300);

/// What to run.
#[derive(Debug, Clone)]
pub struct SoakBench {
    pub seed: u64,
    pub scale: Scale,
    /// How long the load runs (at least; see the module's header).
    pub duration: Duration,
    pub connections: usize,
    /// Accounts searched as (the connections take them in turn).
    pub readers: usize,
    /// The server's `interval` (incremental syncs).
    pub sync_interval: Duration,
    /// The server's `permissions_interval` (permission refreshes).
    pub permissions_interval: Duration,
    /// How often the site changes, and by how many mutations each time.
    pub mutate_every: Duration,
    pub mutations: usize,
    /// How often the server's memory is read.
    pub sample_every: Duration,
    /// The part of the run not judged by the memory verdict.
    pub warm_up: Duration,
    /// Latency windows of the report.
    pub window: Duration,
    /// The `permdex` binary that syncs and serves (the CLI passes itself).
    pub binary: PathBuf,
    pub out: PathBuf,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SoakResult {
    pub tool: String,
    pub version: String,
    pub started: String,
    pub machine: Machine,
    pub commit: Option<Commit>,
    pub seed: u64,
    pub scale: String,
    pub documents_at_start: u64,
    pub connections: usize,
    pub readers: Vec<String>,
    pub sync_interval_seconds: f64,
    pub permissions_interval_seconds: f64,
    /// Seconds the load ran.
    pub load_seconds: f64,
    /// Requests answered 2xx, and everything else.
    pub requests: u64,
    pub errors: u64,
    /// A few of the errors' messages.
    pub error_examples: Vec<String>,
    /// Every 2xx answer's latency, over the whole run.
    pub latency: Summary,
    /// The same per window of time, to see drift.
    pub windows: Vec<Window>,
    pub mutations_applied: u64,
    /// Runs the server finished during the load, by mode, and those that did not complete.
    pub incremental_syncs: u64,
    pub permission_refreshes: u64,
    pub full_syncs: u64,
    pub failed_syncs: u64,
    /// The server's memory over time.
    pub memory: Vec<MemorySample>,
    pub memory_verdict: Option<MemoryVerdict>,
    /// After the load and a sync of the last changes: each reader's total through the API and the oracle's.
    pub final_totals: Vec<FinalTotal>,
    pub final_totals_match: bool,
}

/// What one account may read after the soak, through the search API and by the simulator's oracle.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FinalTotal {
    pub account: String,
    pub api: u64,
    pub oracle: u64,
}

/// Latency of the 2xx answers sent in one window of the run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Window {
    pub from_seconds: f64,
    pub requests: u64,
    pub errors: u64,
    pub p50_us: f64,
    pub p99_us: f64,
}

pub async fn run(bench: &SoakBench, progress: &mut dyn Progress) -> Result<SoakResult, Error> {
    if bench.connections == 0 || bench.readers == 0 || bench.sample_every.is_zero() || bench.window.is_zero()
    {
        return Err(Error::Parameter("connections, readers, sampling and windows must be above zero".into()));
    }
    std::fs::create_dir_all(&bench.out).map_err(Error::io(&bench.out))?;
    let data_dir = bench.out.join("soak-data");
    if data_dir.exists() {
        return Err(Error::Parameter(format!(
            "{} exists (from an earlier run?): remove it or choose another --out",
            data_dir.display()
        )));
    }
    let started = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let load_start = load_average();
    progress.stage("simulating and syncing the site", 1);
    let sim = crate::sim::run::start(
        SimConfig::new(bench.seed, bench.scale),
        SocketAddr::from(([127, 0, 0, 1], 0)),
    )
    .await
    .map_err(|e| Error::Site(e.to_string()))?;
    let outcome = soak(bench, &sim, &data_dir, progress).await;
    sim.shutdown().await;
    // Best effort: a leftover data directory wastes disk but spoils nothing.
    let _ = std::fs::remove_dir_all(&data_dir);
    let mut result = outcome?;
    result.started = started;
    result.machine.load_start = load_start;
    result.machine.load_end = load_average();
    let json_path = bench.out.join("soak.json");
    let json = serde_json::to_string_pretty(&result)
        .map_err(|source| Error::Json { path: json_path.clone(), source })?;
    std::fs::write(&json_path, json).map_err(Error::io(&json_path))?;
    let md_path = bench.out.join("soak.md");
    std::fs::write(&md_path, result.markdown()).map_err(Error::io(&md_path))?;
    Ok(result)
}

/// The configuration, the first sync, the server, the load; the server is stopped however it ends.
async fn soak(
    bench: &SoakBench,
    sim: &RunningSim,
    data_dir: &Path,
    progress: &mut dyn Progress,
) -> Result<SoakResult, Error> {
    let (config, env) = write_config(bench, sim, data_dir)?;
    let synced = tokio::process::Command::new(&bench.binary)
        .args(["sync", "--config"])
        .arg(config.file())
        .envs(&env)
        .stdout(std::process::Stdio::null())
        .stderr(log_file(&bench.out)?)
        .status()
        .await
        .map_err(|e| Error::Site(format!("{}: {e}", bench.binary.display())))?;
    // 1 is a sync with failed items: the simulated site has a corrupt and an oversized attachment.
    if !matches!(synced.code(), Some(0 | 1)) {
        return Err(Error::Site(format!(
            "the first sync failed ({synced}); see {}",
            bench.out.join("server.log").display()
        )));
    }
    progress.advance(1);
    let mut server = tokio::process::Command::new(&bench.binary)
        .args(["serve", "--config"])
        .arg(config.file())
        .envs(&env)
        .stdout(std::process::Stdio::null())
        .stderr(log_file(&bench.out)?)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| Error::Site(format!("{}: {e}", bench.binary.display())))?;
    let outcome = serve_and_load(bench, sim, &config, &mut server, progress).await;
    let _ = server.kill().await;
    outcome
}

/// The log the synced and serving children write to (appended, so the first sync and the server share it).
fn log_file(out: &Path) -> Result<std::fs::File, Error> {
    let path = out.join("server.log");
    std::fs::OpenOptions::new().create(true).append(true).open(&path).map_err(Error::io(&path))
}

/// Writes `permdex.toml` and the simulator's token file into `data_dir`; returns the configuration and the
/// environment the children get its secrets from.
fn write_config(
    bench: &SoakBench,
    sim: &RunningSim,
    data_dir: &Path,
) -> Result<(Config, std::collections::BTreeMap<String, String>), Error> {
    crate::sync::datadir::create_private_dir(data_dir).map_err(Error::io(data_dir))?;
    let token_path = data_dir.join("simulator-token");
    crate::demo::write_private(&token_path, &sim.credentials.token).map_err(Error::io(&token_path))?;
    // A free port for the server: bound here, released, and named in its configuration.
    let listen = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| Error::Site(format!("no free port: {e}")))?;
    let seconds = |d: Duration| format!("{}s", d.as_secs().max(1));
    let text = format!(
        "# Written by permdex bench soak for its in-process simulator.\n\
         data_dir = \".\"\n\n\
         [[sources]]\nname = \"{SOURCE}\"\nurl = {url:?}\nemail = {email:?}\ntoken_file = \"simulator-token\"\n\
         requests_per_second = 2000.0\nconcurrency = 8\n\
         interval = \"{interval}\"\npermissions_interval = \"{permissions}\"\nfull_interval = \"off\"\n\n\
         [server]\nlisten = \"{listen}\"\njwt_hs256_secret_env = \"{JWT_ENV}\"\nadmin_key_env = \"{ADMIN_ENV}\"\n",
        url = sim.url,
        email = sim.credentials.email,
        interval = seconds(bench.sync_interval),
        permissions = seconds(bench.permissions_interval),
    );
    let path = data_dir.join("permdex.toml");
    crate::demo::write_private(&path, &text).map_err(Error::io(&path))?;
    let env = std::collections::BTreeMap::from([
        (JWT_ENV.to_owned(), crate::demo::random_secret()),
        (ADMIN_ENV.to_owned(), crate::demo::random_secret()),
    ]);
    let config = Config::from_toml(&text, &path, &env).map_err(|e| Error::Site(e.to_string()))?;
    Ok((config, env))
}

async fn serve_and_load(
    bench: &SoakBench,
    sim: &RunningSim,
    config: &Config,
    server: &mut tokio::process::Child,
    progress: &mut dyn Progress,
) -> Result<SoakResult, Error> {
    let pid = server.id().ok_or_else(|| Error::Site("the server exited at once".into()))?;
    let base = format!("http://{}", config.server().listen());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(bench.connections)
        .build()
        .map_err(|e| Error::Site(format!("http client: {e}")))?;
    wait_ready(&http, &base, server, &bench.out).await?;

    let dir = index_dir(config.data_dir(), SOURCE);
    let (documents_at_start, queries) = {
        let reader = IndexReader::open(&dir)?;
        (reader.doc_count(), draw_queries(&reader, bench.seed, 25)?)
    };
    let readers = pick_readers(sim, bench.readers);
    if readers.is_empty() {
        return Err(Error::Site("no active account of the site may read anything".into()));
    }
    let key = config.server().jwt().ok_or_else(|| Error::Site("the configuration has no JWT key".into()))?;
    let ttl = bench.duration + SYNC_GRACE + Duration::from_secs(3600);
    let tokens = readers
        .iter()
        .map(|account| {
            let id = AccountId::parse(account).map_err(|e| Error::Site(format!("account {account}: {e}")))?;
            mint_token(key, &id, ttl, chrono::Utc::now()).map_err(|e| Error::Site(format!("token: {e}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let paths: Arc<Vec<String>> = Arc::new(queries.iter().map(search_path).collect());

    progress.stage("soak", bench.duration.as_secs().max(1));
    let started = Instant::now();
    let load_began = chrono::Utc::now();
    let stop = Arc::new(AtomicBool::new(false));
    let log = Arc::new(Mutex::new(RequestLog::default()));
    let mut connections = Vec::with_capacity(bench.connections);
    for c in 0..bench.connections {
        let connection = Connection {
            http: http.clone(),
            base: base.clone(),
            token: tokens[c % tokens.len()].clone(),
            paths: paths.clone(),
            first: c * paths.len() / bench.connections,
        };
        connections.push(tokio::spawn(connection.run(started, stop.clone(), log.clone())));
    }
    let applied = Arc::new(AtomicU64::new(0));
    let mutator = tokio::spawn(mutate_site(
        sim.state.site.clone(),
        readers.clone(),
        bench.seed,
        bench.mutate_every,
        bench.mutations,
        applied.clone(),
        stop.clone(),
    ));

    let mut memory = Vec::new();
    let mut counted = RunCounts::default();
    let mut ticker = tokio::time::interval(bench.sample_every);
    let mut shown = 0;
    let ended = loop {
        ticker.tick().await;
        let at = started.elapsed();
        if let Some(sample) = MemorySample::read(pid, at.as_secs_f64()) {
            memory.push(sample);
        }
        if let Ok(Some(status)) = server.try_wait() {
            break Err(Error::Site(format!(
                "the server exited during the soak ({status}); see {}",
                bench.out.join("server.log").display()
            )));
        }
        counted = RunCounts::since(config.data_dir(), load_began)?;
        let secs = at.as_secs().min(bench.duration.as_secs());
        progress.advance(secs - shown);
        shown = secs;
        if at >= bench.duration && counted.incremental > 0 && counted.permissions > 0 {
            break Ok(at);
        }
        if at >= bench.duration + SYNC_GRACE {
            break Err(Error::Site(format!(
                "the server finished {} incremental syncs and {} permission refreshes in {:.0} s; see {}",
                counted.incremental,
                counted.permissions,
                at.as_secs_f64(),
                bench.out.join("server.log").display()
            )));
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = mutator.await;
    for connection in connections {
        let _ = connection.await;
    }
    let load_seconds = ended?.as_secs_f64();
    progress.note("the load is over; waiting for a sync of the last changes to check the answers");
    let final_totals = settle(bench, sim, config, &http, &base, &readers, &tokens).await?;
    let log = std::mem::take(&mut *log.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    let warm_up = bench.warm_up.as_secs_f64();
    Ok(SoakResult {
        tool: "permdex bench soak".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        started: String::new(),
        machine: Machine::detect(),
        commit: Commit::detect(),
        seed: bench.seed,
        scale: format!("{:?}", bench.scale).to_lowercase(),
        documents_at_start,
        connections: bench.connections,
        readers,
        sync_interval_seconds: bench.sync_interval.as_secs_f64(),
        permissions_interval_seconds: bench.permissions_interval.as_secs_f64(),
        load_seconds,
        requests: log.answered.len() as u64,
        errors: log.errors.len() as u64,
        error_examples: log.examples(),
        latency: Summary::of(log.answered.iter().map(|&(_, us)| us).collect(), load_seconds),
        windows: log.windows(bench.window.as_secs_f64(), load_seconds),
        mutations_applied: applied.load(Ordering::Relaxed),
        incremental_syncs: counted.incremental,
        permission_refreshes: counted.permissions,
        full_syncs: counted.full,
        failed_syncs: counted.failed,
        memory_verdict: memory::judge(&memory, warm_up),
        memory,
        final_totals_match: final_totals.iter().all(|t| t.api == t.oracle),
        final_totals,
    })
}

/// After the last change: waits for an incremental sync that started later to end, then compares each
/// reader's total through the API (the empty query) with the oracle's count, again for a while if they
/// differ (the server reloads just after the run is recorded).
async fn settle(
    bench: &SoakBench,
    sim: &RunningSim,
    config: &Config,
    http: &reqwest::Client,
    base: &str,
    readers: &[String],
    tokens: &[String],
) -> Result<Vec<FinalTotal>, Error> {
    let changed = chrono::Utc::now();
    let deadline = Instant::now() + 2 * bench.sync_interval + SYNC_GRACE;
    while RunCounts::since(config.data_dir(), changed)?.incremental == 0 {
        if Instant::now() > deadline {
            return Err(Error::Site("no incremental sync ended after the last change".into()));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let scope = Scope { include_archived: config.sources().first().is_some_and(|s| s.include_archived()) };
    let oracle: Vec<u64> = {
        let site = sim.state.read();
        readers.iter().map(|account| visible(&site, account, scope).len() as u64).collect()
    };
    let settling = Instant::now() + Duration::from_secs(30);
    loop {
        let mut totals = Vec::with_capacity(readers.len());
        for ((account, token), &oracle) in readers.iter().zip(tokens).zip(&oracle) {
            let api = api_total(http, base, token).await?;
            totals.push(FinalTotal { account: account.clone(), api, oracle });
        }
        if totals.iter().all(|t| t.api == t.oracle) || Instant::now() > settling {
            return Ok(totals);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Waits for `/readyz` to answer 200 (the server has opened the index and serves it).
async fn wait_ready(
    http: &reqwest::Client,
    base: &str,
    server: &mut tokio::process::Child,
    out: &Path,
) -> Result<(), Error> {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if let Ok(Some(status)) = server.try_wait() {
            return Err(Error::Site(format!(
                "the server exited ({status}); see {}",
                out.join("server.log").display()
            )));
        }
        if let Ok(response) = http.get(format!("{base}/readyz")).send().await {
            if response.status().is_success() {
                return Ok(());
            }
        }
        if Instant::now() > deadline {
            return Err(Error::Site(format!(
                "the server was not ready in 120 s; see {}",
                out.join("server.log").display()
            )));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Up to `n` active accounts that may read something, spread from those reading the most to those reading
/// the least.
fn pick_readers(sim: &RunningSim, n: usize) -> Vec<String> {
    let site = sim.state.read();
    let mut counted: Vec<(usize, String)> = site
        .users
        .iter()
        .filter(|u| u.active)
        .map(|u| (visible(&site, &u.account_id, Scope::default()).len(), u.account_id.clone()))
        .filter(|(count, _)| *count > 0)
        .collect();
    counted.sort_by(|a, b| b.cmp(a));
    if counted.len() <= n {
        return counted.into_iter().map(|(_, a)| a).collect();
    }
    (0..n).map(|i| counted[i * (counted.len() - 1) / (n - 1).max(1)].1.clone()).collect()
}

fn search_path(query: &BenchQuery) -> String {
    format!("/api/v1/search?limit={PAGE}&q={}", percent_encoding::utf8_percent_encode(&query.text, QUERY))
}

/// Changes the site every `every`, `mutations` at a time, until `stop`. No mutation deactivates a reader:
/// their searches would then be refused, which is right, but not what the soak measures.
async fn mutate_site(
    site: Arc<std::sync::RwLock<crate::sim::model::Site>>,
    readers: Vec<String>,
    seed: u64,
    every: Duration,
    mutations: usize,
    applied: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x50a4);
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticker.tick().await;
    loop {
        ticker.tick().await;
        if stop.load(Ordering::Relaxed) {
            return;
        }
        // Applying a mutation re-indexes the site: off the async workers the load generator runs on.
        let (site, readers, applied) = (site.clone(), readers.clone(), applied.clone());
        let round = tokio::task::spawn_blocking(move || {
            let mut site = site.write().unwrap_or_else(std::sync::PoisonError::into_inner);
            for _ in 0..mutations {
                let mutation = mutate::random_mutation(&site, &mut rng);
                if matches!(&mutation, Mutation::DeactivateUser { account_id } if readers.contains(account_id))
                {
                    continue;
                }
                if mutate::apply(&mut site, &mutation).is_ok() {
                    applied.fetch_add(1, Ordering::Relaxed);
                }
            }
            rng
        });
        match round.await {
            Ok(next) => rng = next,
            Err(_) => return,
        }
    }
}

/// Runs the server finished since the load began.
#[derive(Debug, Default, Clone, Copy)]
struct RunCounts {
    incremental: u64,
    permissions: u64,
    full: u64,
    failed: u64,
}

impl RunCounts {
    fn since(data_dir: &Path, began: chrono::DateTime<chrono::Utc>) -> Result<RunCounts, Error> {
        let records = runs::read_last(data_dir, SOURCE, MAX_RUNS)
            .map_err(|e| Error::Site(format!("run records: {e}")))?;
        let mut counts = RunCounts::default();
        for record in records.iter().filter(|r| r.started >= began) {
            if !matches!(record.outcome, runs::RunOutcome::Completed) {
                counts.failed += 1;
                continue;
            }
            match record.mode {
                Mode::Incremental => counts.incremental += 1,
                Mode::PermissionsOnly => counts.permissions += 1,
                Mode::Full => counts.full += 1,
            }
        }
        Ok(counts)
    }
}

/// One closed-loop connection.
struct Connection {
    http: reqwest::Client,
    base: String,
    token: String,
    paths: Arc<Vec<String>>,
    /// The path it starts at, so that connections do not ask the same thing in lockstep.
    first: usize,
}

impl Connection {
    async fn run(self, started: Instant, stop: Arc<AtomicBool>, log: Arc<Mutex<RequestLog>>) {
        // Kept locally and merged at the end: the shared log is not a point of contention.
        let mut mine = RequestLog::default();
        let mut i = self.first;
        while !stop.load(Ordering::Relaxed) {
            let path = &self.paths[i % self.paths.len()];
            i += 1;
            let sent = Instant::now();
            let at = started.elapsed().as_secs_f64();
            match self.get(path).await {
                Ok(()) => mine.answered.push((at, sent.elapsed().as_secs_f64() * 1e6)),
                Err(message) => {
                    mine.errors.push((at, message));
                    // A server that refuses everything is not hammered in a hot loop.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        let mut shared = log.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        shared.answered.extend(mine.answered);
        shared.errors.extend(mine.errors);
    }

    async fn get(&self, path: &str) -> Result<(), String> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| format!("GET {path}: {e}"))?;
        let status = response.status();
        response.bytes().await.map_err(|e| format!("GET {path}: {e}"))?;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("GET {path} answered {status}"))
        }
    }
}

/// Every request of the run: when it was sent (seconds) and its latency (µs), or its error.
#[derive(Debug, Default)]
struct RequestLog {
    answered: Vec<(f64, f64)>,
    errors: Vec<(f64, String)>,
}

impl RequestLog {
    fn examples(&self) -> Vec<String> {
        let mut kept: Vec<String> = Vec::new();
        for (_, message) in &self.errors {
            if kept.len() < KEPT_ERRORS && !kept.contains(message) {
                kept.push(message.clone());
            }
        }
        kept
    }

    fn windows(&self, width: f64, total: f64) -> Vec<Window> {
        let count = ((total / width).ceil() as usize).max(1);
        let slot = |at: f64| ((at / width) as usize).min(count - 1);
        let mut latencies: Vec<Vec<f64>> = vec![Vec::new(); count];
        let mut errors = vec![0u64; count];
        for &(at, us) in &self.answered {
            latencies[slot(at)].push(us);
        }
        for (at, _) in &self.errors {
            errors[slot(*at)] += 1;
        }
        let mut windows: Vec<Window> = latencies
            .into_iter()
            .zip(errors)
            .enumerate()
            .map(|(i, (us, errors))| {
                let summary = Summary::of(us, width);
                Window {
                    from_seconds: i as f64 * width,
                    requests: summary.samples as u64,
                    errors,
                    p50_us: summary.p50_us,
                    p99_us: summary.p99_us,
                }
            })
            .collect();
        // The load stops between samples: a last window it never reached is not a window of the run.
        if windows.len() > 1 && windows.last().is_some_and(|w| w.requests == 0 && w.errors == 0) {
            windows.pop();
        }
        windows
    }
}

impl SoakResult {
    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) -> std::fmt::Result {
        let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
        writeln!(out, "# permdex bench soak\n")?;
        writeln!(out, "{}\n", run_line(&self.tool, &self.machine, &self.version, self.commit.as_ref()))?;
        writeln!(
            out,
            "Site: seed {}, scale {}, {} documents at the start. {} connections searching as {} accounts for {:.0} s \
             while the server ran {} incremental syncs (every {:.0} s), {} permission refreshes (every {:.0} s) and \
             {} full syncs ({} runs did not complete); {} mutations applied to the site.\n",
            self.seed,
            self.scale,
            self.documents_at_start,
            self.connections,
            self.readers.len(),
            self.load_seconds,
            self.incremental_syncs,
            self.sync_interval_seconds,
            self.permission_refreshes,
            self.permissions_interval_seconds,
            self.full_syncs,
            self.failed_syncs,
            self.mutations_applied,
        )?;
        writeln!(out, "| requests | errors | requests/s | p50 µs | p99 µs | p99.9 µs |")?;
        writeln!(out, "|---|---|---|---|---|---|")?;
        writeln!(
            out,
            "| {} | {} | {:.0} | {:.0} | {:.0} | {:.0} |\n",
            self.requests,
            self.errors,
            self.latency.qps,
            self.latency.p50_us,
            self.latency.p99_us,
            self.latency.p999_us
        )?;
        for example in &self.error_examples {
            writeln!(out, "- error: {example}")?;
        }
        let matching = self.final_totals.iter().filter(|t| t.api == t.oracle).count();
        writeln!(
            out,
            "After the load and a sync of the last changes, {matching} of {} accounts' totals through the API equal \
             the oracle's{}.\n",
            self.final_totals.len(),
            if self.final_totals_match { "" } else { " (MISMATCH: see final_totals in soak.json)" }
        )?;
        match &self.memory_verdict {
            Some(verdict) => writeln!(out, "Memory: {}.\n", verdict.summary)?,
            None => writeln!(out, "Memory: too few samples after the warm-up to judge.\n")?,
        }
        writeln!(out, "| window from s | requests | errors | p50 µs | p99 µs |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for w in &self.windows {
            writeln!(
                out,
                "| {:.0} | {} | {} | {:.0} | {:.0} |",
                w.from_seconds, w.requests, w.errors, w.p50_us, w.p99_us
            )?;
        }
        writeln!(out, "\n| at s | resident MiB | anonymous MiB | file-backed MiB | peak MiB | threads | deleted files mapped |")?;
        writeln!(out, "|---|---|---|---|---|---|---|")?;
        // At most about 30 rows: every k-th sample, and the last.
        let step = self.memory.len().div_ceil(30).max(1);
        for (i, s) in self.memory.iter().enumerate() {
            if i % step == 0 || i + 1 == self.memory.len() {
                writeln!(
                    out,
                    "| {:.0} | {:.1} | {:.1} | {:.1} | {:.1} | {} | {} |",
                    s.at_seconds,
                    mib(s.rss_bytes),
                    mib(s.anon_bytes),
                    mib(s.file_bytes),
                    mib(s.peak_bytes),
                    s.threads,
                    s.deleted_mapped_files
                )?;
            }
        }
        Ok(())
    }
}
