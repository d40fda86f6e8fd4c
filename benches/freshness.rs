//! `cargo bench --bench freshness`: how long a revocation committed by a sync takes to reach the answers of a
//! running server that was not told about it (as when `permdex sync` runs from cron beside `permdex serve`).
//!
//! 1. Starts the demo stack in-process: simulator at `--scale`, full sync, and the server, which follows
//!    every index commit by polling each index's committed generation (`--poll-ms`, the server's default
//!    unless given).
//! 2. Finds (account, group) pairs where the account reads less without that membership (oracle).
//! 3. Each round removes one such membership on the site, runs a permissions-only sync in this process, and
//!    times from the moment the sync's commit returned to the moment the server's search API, polled as
//!    that account every millisecond, first answers with the smaller total. The membership is then given
//!    back and the grant timed the same way.
//!
//! The sync commits once per run (a long checkpoint interval), so the commit timed is the one that carries
//! the change. Prints p50 / p90 / p99 / max. Nothing here asserts a time.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use clap::Parser;

use permdex::config::AccountId;
use permdex::demo::{self, DemoOptions, RunningDemo};
use permdex::extract::ExtractConfig;
use permdex::server::auth::mint_token;
use permdex::server::backend::ServeOptions;
use permdex::sim::mutate::{self, Mutation};
use permdex::sim::oracle::{self, Scope};
use permdex::sim::{Scale, SimConfig};
use permdex::sync::{sync_with, Mode, Progress, ProgressEvent, Silent, SyncOptions};

#[derive(Debug, Parser)]
#[command(about = "Time from a committed revocation to the answer of a running server")]
struct Args {
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// tiny, small, medium or large.
    #[arg(long, default_value = "small")]
    scale: Scale,
    /// Revocations timed (each followed by a timed grant).
    #[arg(long, default_value_t = 30)]
    rounds: usize,
    /// The server's poll interval in milliseconds (default: what `permdex serve` uses).
    #[arg(long)]
    poll_ms: Option<u64>,
    // `cargo bench` passes `--bench` to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let sync = SyncOptions {
        // One commit per run: the commit timed is the one that carries the change.
        checkpoint_interval: Duration::from_secs(3600),
        extract: ExtractConfig {
            worker_program: env!("CARGO_BIN_EXE_permdex").into(),
            ..ExtractConfig::default()
        },
        ..SyncOptions::default()
    };
    let poll = args.poll_ms.map(Duration::from_millis).unwrap_or(ServeOptions::default().poll_interval);
    let options = DemoOptions {
        sim: SimConfig::new(args.seed, args.scale),
        features: permdex::sim::DEFAULT_FEATURES,
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        data_dir: PathBuf::from(data.path()),
        serve: ServeOptions { sync: sync.clone(), poll_interval: poll, ..ServeOptions::default() },
    };
    eprintln!("simulating and syncing (seed {}, scale {:?})", args.seed, args.scale);
    let demo = demo::start(options, &mut Silent).await.context("demo stack")?;
    let outcome = measure(&args, &demo, &sync, poll).await;
    demo.shutdown().await;
    outcome
}

/// Remembers when the run's last commit returned.
#[derive(Default, Clone)]
struct CommitClock(Arc<Mutex<Option<Instant>>>);

impl Progress for CommitClock {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        if let ProgressEvent::Checkpoint { .. } = event {
            *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some(Instant::now());
        }
    }
}

async fn measure(args: &Args, demo: &RunningDemo, sync: &SyncOptions, poll: Duration) -> anyhow::Result<()> {
    let pairs = shrinking_memberships(demo);
    if pairs.is_empty() {
        bail!("no membership on this site changes what its member reads");
    }
    eprintln!("{} (account, group) pairs whose removal narrows what the account reads", pairs.len());
    let key = demo.config.server().jwt().context("the demo configures a JWT key")?.clone();
    let source = demo.config.sources()[0].clone();
    let http = reqwest::Client::new();
    let (mut revocations, mut grants) = (Vec::new(), Vec::new());
    for round in 0..args.rounds {
        let (account, group, before, after) = &pairs[round % pairs.len()];
        let token =
            mint_token(&key, &AccountId::parse(account)?, Duration::from_secs(3600), chrono::Utc::now())?;
        for (mutation, expected, times) in [
            (
                Mutation::RemoveGroupMember { group_id: group.clone(), account_id: account.clone() },
                *after,
                &mut revocations,
            ),
            (
                Mutation::AddGroupMember { group_id: group.clone(), account_id: account.clone() },
                *before,
                &mut grants,
            ),
        ] {
            mutate::apply(&mut demo.sim.state.write(), &mutation).map_err(|e| anyhow::anyhow!("{e:?}"))?;
            let watcher = tokio::spawn(first_answer(
                http.clone(),
                format!("{}/api/v1/search?q=&limit=1", demo.url),
                token.clone(),
                expected,
            ));
            let mut clock = CommitClock::default();
            sync_with(&demo.config, &source, Mode::PermissionsOnly, sync, &mut clock).await?;
            let committed =
                clock.0.lock().unwrap_or_else(|e| e.into_inner()).context("the sync committed")?;
            let answered = watcher.await??;
            times.push(answered.saturating_duration_since(committed));
        }
        eprint!(".");
    }
    eprintln!();
    println!(
        "Committed permission change → served answer, {} rounds, {} site (seed {}), server poll {} ms:\n",
        args.rounds,
        format!("{:?}", args.scale).to_lowercase(),
        args.seed,
        poll.as_millis()
    );
    println!("| change     | p50       | p90       | p99       | max       |");
    println!("|------------|-----------|-----------|-----------|-----------|");
    for (name, times) in [("revocation", &mut revocations), ("grant", &mut grants)] {
        times.sort_unstable();
        let at = |q: f64| ms(times[((times.len() - 1) as f64 * q).round() as usize]);
        println!("| {name:<10} | {:>9} | {:>9} | {:>9} | {:>9} |", at(0.5), at(0.9), at(0.99), at(1.0));
    }
    Ok(())
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

/// Polls the search API as `token` every millisecond until its total is `expected`; when that first happened.
async fn first_answer(
    http: reqwest::Client,
    url: String,
    token: String,
    expected: u64,
) -> anyhow::Result<Instant> {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        let response = http.get(&url).bearer_auth(&token).send().await?;
        let body: serde_json::Value = response.json().await?;
        if body["total"].as_u64() == Some(expected) {
            return Ok(Instant::now());
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bail!("the server never answered {expected} within 60 s")
}

/// (account, group, documents read with the membership, without it) for every active member whose
/// membership alone grants something, by the oracle.
fn shrinking_memberships(demo: &RunningDemo) -> Vec<(String, String, u64, u64)> {
    let site = demo.sim.state.read();
    let mut pairs = Vec::new();
    for group in &site.groups {
        for account in group.members.iter().take(3) {
            if !site.users.iter().any(|u| &u.account_id == account && u.active) {
                continue;
            }
            let before = oracle::visible(&site, account, Scope::default()).len() as u64;
            let mut without = site.clone();
            let removal =
                Mutation::RemoveGroupMember { group_id: group.id.clone(), account_id: account.clone() };
            if mutate::apply(&mut without, &removal).is_err() {
                continue;
            }
            let after = oracle::visible(&without, account, Scope::default()).len() as u64;
            if after < before && after > 0 {
                pairs.push((account.clone(), group.id.clone(), before, after));
            }
        }
    }
    pairs
}
