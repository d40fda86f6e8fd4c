//! `cargo bench --bench storm`: what a storm of 429s costs a full sync.
//!
//! Starts a simulated site, then runs full syncs of it into fresh indexes, alternately on a calm site and
//! on one whose burst limiter refuses the first call of a share of all request targets once, with
//! `Retry-After: 1` (the simulator's `FirstCallRefusal`). Prints, per condition, the median wall time, the
//! API calls and the 429s, and the ratio of the medians. The target is a storm costing at most twice the
//! calm time.
//!
//! `--requests-per-second` and `--concurrency` default to permdex's own defaults for a source (what a user
//! who configures nothing gets). Timings are wall-clock on whatever machine runs it; nothing here asserts
//! them. `STORM_LOG=permdex::atlassian::client=debug` prints each retry with its delay and the seconds since
//! the start, to see where a storm's time goes.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;

use permdex::config::{Config, Limits};
use permdex::extract::ExtractConfig;
use permdex::sim::run::{start, RunningSim};
use permdex::sim::{FirstCallRefusal, Scale, SimConfig};
use permdex::sync::{sync_with, Mode, RunRecord, Silent, SyncOptions};

#[derive(Debug, Parser)]
#[command(about = "Full syncs of a simulated site, calm and under a storm of first-call 429s")]
struct Args {
    #[arg(long, default_value_t = 1)]
    seed: u64,
    #[arg(long, default_value = "tiny")]
    scale: Scale,
    /// Syncs per condition; the median is reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Share of request targets whose first call is refused.
    #[arg(long, default_value_t = 0.5)]
    share: f64,
    /// `Retry-After` of each refusal, in seconds.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    #[arg(long, default_value_t = Limits::DEFAULT_REQUESTS_PER_SECOND)]
    requests_per_second: f64,
    #[arg(long, default_value_t = Limits::DEFAULT_CONCURRENCY)]
    concurrency: usize,
    // `cargo bench` passes `--bench` to every bench target.
    #[arg(long, hide = true)]
    bench: bool,
}

/// One measured sync.
struct Sample {
    seconds: f64,
    calls: u64,
    throttled: u64,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("STORM_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .with_writer(std::io::stderr)
            .with_ansi(false)
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(run(args))
}

async fn run(args: Args) -> anyhow::Result<()> {
    let sim = start(SimConfig::new(args.seed, args.scale), SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .context("starting the simulator")?;
    let storm = FirstCallRefusal {
        seed: args.seed,
        share: args.share,
        retry_after: Duration::from_secs(args.retry_after),
    };
    eprintln!(
        "seed {}, scale {:?}, {} requests/s, concurrency {}, {} runs per condition",
        args.seed, args.scale, args.requests_per_second, args.concurrency, args.runs
    );
    let mut calm = Vec::new();
    let mut stormy = Vec::new();
    for n in 0..args.runs {
        sim.state.guard.set_first_call_refusal(None);
        calm.push(measure(&sim, &args, n, "calm").await?);
        sim.state.guard.set_first_call_refusal(Some(storm.clone()));
        stormy.push(measure(&sim, &args, n, "storm").await?);
    }
    sim.state.guard.set_first_call_refusal(None);
    let (calm_median, storm_median) = (median(&calm), median(&stormy));
    println!(
        "| condition | median full sync | API calls | 429s |\n|---|---|---|---|\n\
         | calm | {calm_median:.2} s | {} | {} |\n\
         | {:.0}% of first calls refused once, Retry-After {} s | {storm_median:.2} s | {} | {} |",
        calm[0].calls,
        calm[0].throttled,
        args.share * 100.0,
        args.retry_after,
        stormy[0].calls,
        stormy[0].throttled,
    );
    println!("\nstorm / calm = {:.2}", storm_median / calm_median);
    sim.shutdown().await;
    Ok(())
}

async fn measure(sim: &RunningSim, args: &Args, n: usize, label: &str) -> anyhow::Result<Sample> {
    let data_dir = std::env::temp_dir().join(format!(
        "permdex-storm-{}-{label}-{n}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&data_dir)?;
    let text = format!(
        "data_dir = {data:?}\n[[sources]]\nname = \"sim\"\nurl = {url:?}\nemail = {email:?}\n\
         token_env = \"STORM_TOKEN\"\nrequests_per_second = {rps}\nconcurrency = {concurrency}\n",
        data = data_dir.display().to_string(),
        url = sim.url,
        email = sim.credentials.email,
        rps = args.requests_per_second,
        concurrency = args.concurrency,
    );
    let env = std::collections::BTreeMap::from([("STORM_TOKEN".to_string(), sim.credentials.token.clone())]);
    let config = Config::from_toml(&text, &data_dir.join("permdex.toml"), &env).context("config")?;
    let options = SyncOptions {
        extract: ExtractConfig {
            worker_program: env!("CARGO_BIN_EXE_permdex").into(),
            ..ExtractConfig::default()
        },
        ..SyncOptions::default()
    };
    let started = Instant::now();
    let record: RunRecord =
        sync_with(&config, &config.sources()[0], Mode::Full, &options, &mut Silent).await.context("sync")?;
    let seconds = started.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&data_dir);
    eprintln!(
        "{label} run {n}: {seconds:.2} s, {} calls, {} 429s, {} failures",
        record.api.calls,
        record.api.throttled,
        record.failures.len()
    );
    Ok(Sample { seconds, calls: record.api.calls, throttled: record.api.throttled })
}

fn median(samples: &[Sample]) -> f64 {
    let mut seconds: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    seconds.sort_by(|a, b| a.total_cmp(b));
    seconds.get(seconds.len() / 2).copied().unwrap_or(f64::NAN)
}
