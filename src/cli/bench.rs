//! `permdex bench acl | plot | site | soak`: the benchmark's flags, checked into the library's [`AclBench`],
//! [`SiteBench`] and [`SoakBench`], and a progress bar on stderr while they run. The measuring is all in `permdex::bench`.
//!
//! This is the only part of the binary that reaches the benchmark (and with it unfiltered search); the
//! `search` command cannot.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use permdex::bench::acl::AclBench;
use permdex::bench::clock::Clock;
use permdex::bench::corpus::DocOrder;
use permdex::bench::load::Until;
use permdex::bench::queries::Shape;
use permdex::bench::report::BenchResult;
use permdex::bench::site::SiteBench;
use permdex::bench::soak::SoakBench;
use permdex::bench::strategy::StrategyName;
use permdex::bench::{self, Progress};
use permdex::sim::Scale;

use super::Usage;

#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum BenchCommand {
    /// ACL-filter strategies against unfiltered search on a generated corpus, every answer checked against
    /// brute force; writes result.json, result.md, result.csv, expected.jsonl and SVG charts.
    Acl(AclArgs),
    /// Draw the SVG charts of a result.json again.
    Plot(PlotArgs),
    /// The real pipeline: a simulated site, synced, served, and loaded over HTTP.
    Site(SiteArgs),
    /// A running server searched at many connections for minutes while it syncs a changing site: errors,
    /// latency over time, and whether its memory stays flat.
    Soak(SoakArgs),
}

/// Raw flags of `permdex bench acl`.
#[derive(Debug, Clone, Args)]
pub struct AclArgs {
    /// Documents in the corpus.
    #[arg(long, default_value_t = 1_000_000)]
    pub docs: u32,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Users (principals that are accounts); scaled from --docs when not given.
    #[arg(long, alias = "principals")]
    pub users: Option<u32>,
    /// Groups; scaled from --docs when not given.
    #[arg(long)]
    pub groups: Option<u32>,
    /// Confluence spaces; scaled from --docs when not given.
    #[arg(long)]
    pub spaces: Option<u32>,
    /// Jira projects; scaled from --docs when not given.
    #[arg(long)]
    pub projects: Option<u32>,
    /// Distinct words.
    #[arg(long)]
    pub vocabulary: Option<u32>,
    /// Share of documents anyone may read (whole public spaces).
    #[arg(long, default_value_t = 0.0)]
    pub public: f64,
    /// Share of Confluence documents under a page restriction.
    #[arg(long, default_value_t = 0.15)]
    pub restricted: f64,
    /// Document order: random or clustered (by space and project).
    #[arg(long, default_value = "random")]
    pub order: String,
    /// Segments of the index.
    #[arg(long, default_value_t = 1)]
    pub segments: u32,
    /// Share of documents deleted after indexing.
    #[arg(long, default_value_t = 0.0)]
    pub deletes: f64,
    /// Shares of the corpus the callers read, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "0.0001,0.001,0.01,0.1,0.5,1")]
    pub selectivity: Vec<f64>,
    /// Strategies, comma-separated (unfiltered, permdex, permdex-dense, permdex-sparse, termset, clause-set,
    /// post-filter, doc-check), or all.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub strategies: Vec<String>,
    /// Query shapes, comma-separated (word, or, and, phrase, or10, browse, facets), or all.
    #[arg(long, value_delimiter = ',', default_value = "all")]
    pub queries: Vec<String>,
    /// Queries of each shape.
    #[arg(long, default_value_t = 50)]
    pub per_shape: usize,
    /// Timed rounds over each caller's queries.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Hits per page.
    #[arg(long, default_value_t = 20)]
    pub k: usize,
    /// Threads of the throughput runs, comma-separated (default: 1 and the number of cores).
    #[arg(long, value_delimiter = ',')]
    pub threads: Vec<usize>,
    /// Post-filtering first fetches this many times k.
    #[arg(long, default_value_t = 2)]
    pub overfetch: usize,
    /// Skip first queries, reloads and permission changes.
    #[arg(long)]
    pub no_changes: bool,
    /// What one-thread latencies and first queries are timed in: wall (what a user waits) or cpu (the
    /// searching thread's CPU time, steady on a machine busy with other work)
    #[arg(long, default_value = "wall")]
    pub clock: String,
    /// Keep the index in the output directory.
    #[arg(long)]
    pub keep_index: bool,
    /// Output directory.
    #[arg(long, default_value = "bench-results/acl")]
    pub out: PathBuf,
}

/// Raw flags of `permdex bench plot`.
#[derive(Debug, Clone, Args)]
pub struct PlotArgs {
    /// A result.json written by `permdex bench acl`.
    pub result: PathBuf,
    /// Where the charts go (default: beside the result).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Raw flags of `permdex bench site`.
#[derive(Debug, Clone, Args)]
pub struct SiteArgs {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// tiny, small, medium or large.
    #[arg(long, default_value = "large")]
    pub scale: Scale,
    /// Queries of each shape (drawn from the site's titles).
    #[arg(long, default_value_t = 50)]
    pub per_shape: usize,
    /// Timed rounds of library searches.
    #[arg(long, default_value_t = 5)]
    pub rounds: usize,
    /// Share of documents the "some" reader should read.
    #[arg(long, default_value_t = 0.10)]
    pub some_share: f64,
    /// Seconds of HTTP load per reader and connection count.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Connection counts of the HTTP load, comma-separated.
    #[arg(long, value_delimiter = ',', default_value = "1,16")]
    pub connections: Vec<usize>,
    /// Output directory.
    #[arg(long, default_value = "bench-results/site")]
    pub out: PathBuf,
}

/// Raw flags of `permdex bench soak`. Durations read like `90s`, `10m`, `1h`.
#[derive(Debug, Clone, Args)]
pub struct SoakArgs {
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// tiny, small, medium or large.
    #[arg(long, default_value = "medium")]
    pub scale: Scale,
    /// How long the searches run (longer if no incremental sync and permission refresh ended by then).
    #[arg(long, default_value = "10m", value_parser = humantime::parse_duration)]
    pub duration: std::time::Duration,
    /// Connections searching at once, each sending its next search when the last one answered.
    #[arg(long, default_value_t = 32)]
    pub connections: usize,
    /// Accounts searched as, from the one reading the most to the one reading the least.
    #[arg(long, default_value_t = 8)]
    pub readers: usize,
    /// The server's incremental sync interval.
    #[arg(long, default_value = "20s", value_parser = humantime::parse_duration)]
    pub sync_interval: std::time::Duration,
    /// The server's permission refresh interval.
    #[arg(long, default_value = "7s", value_parser = humantime::parse_duration)]
    pub permissions_interval: std::time::Duration,
    /// How often the simulated site changes.
    #[arg(long, default_value = "2s", value_parser = humantime::parse_duration)]
    pub mutate_every: std::time::Duration,
    /// Random changes each time (edits, moves, deletions, restrictions, grants, group members, …).
    #[arg(long, default_value_t = 5)]
    pub mutations: usize,
    /// How often the server's memory is read from /proc.
    #[arg(long, default_value = "5s", value_parser = humantime::parse_duration)]
    pub sample_every: std::time::Duration,
    /// The start of the run the memory verdict leaves out.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub warm_up: std::time::Duration,
    /// Width of the latency windows of the report.
    #[arg(long, default_value = "1m", value_parser = humantime::parse_duration)]
    pub window: std::time::Duration,
    /// Output directory.
    #[arg(long, default_value = "bench-results/soak")]
    pub out: PathBuf,
}

pub fn run(args: &BenchArgs) -> anyhow::Result<()> {
    match &args.command {
        BenchCommand::Acl(acl) => {
            let bench = acl.bench()?;
            let result = bench::acl::run(&bench, &mut Bar::default())?;
            print_summary(&result, &bench.out);
        }
        BenchCommand::Plot(plot) => {
            let result = BenchResult::read_json(&plot.result)?;
            let dir = match &plot.out {
                Some(dir) => dir.clone(),
                None => plot.result.parent().map(PathBuf::from).unwrap_or_default(),
            };
            std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
            for path in bench::plot::write_all(&result, &dir)? {
                println!("{}", path.display());
            }
        }
        BenchCommand::Site(site) => {
            let bench = SiteBench {
                seed: site.seed,
                scale: site.scale,
                per_shape: site.per_shape,
                rounds: site.rounds,
                some_share: site.some_share,
                load: Until::Elapsed(std::time::Duration::from_secs(site.seconds)),
                connections: site.connections.clone(),
                out: site.out.clone(),
                sync: permdex::sync::SyncOptions::default(),
            };
            let runtime = tokio::runtime::Runtime::new()?;
            let result = runtime.block_on(bench::site::run(&bench, &mut Bar::default()))?;
            println!("{}", result.markdown());
            println!("written: {}", bench.out.join("site.json").display());
        }
        BenchCommand::Soak(soak) => {
            let bench = SoakBench {
                seed: soak.seed,
                scale: soak.scale,
                duration: soak.duration,
                connections: soak.connections,
                readers: soak.readers,
                sync_interval: soak.sync_interval,
                permissions_interval: soak.permissions_interval,
                mutate_every: soak.mutate_every,
                mutations: soak.mutations,
                sample_every: soak.sample_every,
                warm_up: soak.warm_up,
                window: soak.window,
                binary: std::env::current_exe().context("cannot find the permdex binary")?,
                out: soak.out.clone(),
            };
            let runtime = tokio::runtime::Runtime::new()?;
            let result = runtime.block_on(bench::soak::run(&bench, &mut Bar::default()))?;
            println!("{}", result.markdown());
            println!("written: {}", bench.out.join("soak.json").display());
        }
    }
    Ok(())
}

impl AclArgs {
    /// The library's run description; values clap cannot check alone are checked here.
    fn bench(&self) -> Result<AclBench, Usage> {
        let mut bench = AclBench::new(self.docs, self.out.clone());
        let corpus = &mut bench.corpus;
        corpus.seed = self.seed;
        corpus.users = self.users.unwrap_or(corpus.users);
        corpus.groups = self.groups.unwrap_or(corpus.groups);
        corpus.group_exponent =
            permdex::bench::corpus::CorpusParams::falling_to_one(corpus.users, corpus.groups);
        corpus.spaces = self.spaces.unwrap_or(corpus.spaces);
        corpus.projects = self.projects.unwrap_or(corpus.projects);
        corpus.vocabulary = self.vocabulary.unwrap_or(corpus.vocabulary);
        corpus.public_share = self.public;
        corpus.restricted_share = self.restricted;
        corpus.order = match self.order.as_str() {
            "random" => DocOrder::Random,
            "clustered" => DocOrder::Clustered,
            other => return Err(Usage::flag("order", format!("{other:?} is neither random nor clustered"))),
        };
        corpus.segments = self.segments;
        corpus.deletes = self.deletes;
        corpus.validate().map_err(|e| Usage(e.to_string()))?;
        bench.selectivities = self.selectivity.clone();
        if self.strategies.iter().all(|s| s != "all") {
            bench.strategies = self
                .strategies
                .iter()
                .map(|s| StrategyName::parse(s).map_err(|e| Usage::flag("strategies", e)))
                .collect::<Result<_, _>>()?;
            // Ratios are over unfiltered: it always runs.
            if !bench.strategies.contains(&StrategyName::Unfiltered) {
                bench.strategies.insert(0, StrategyName::Unfiltered);
            }
        }
        if self.queries.iter().all(|s| s != "all") {
            bench.shapes = self
                .queries
                .iter()
                .map(|s| Shape::parse(s).map_err(|e| Usage::flag("queries", e)))
                .collect::<Result<_, _>>()?;
        }
        bench.per_shape = self.per_shape;
        bench.rounds = self.rounds;
        bench.k = self.k;
        if !self.threads.is_empty() {
            bench.threads = self.threads.clone();
        }
        bench.overfetch = self.overfetch;
        bench.changes = !self.no_changes;
        bench.keep_index = self.keep_index;
        bench.clock = Clock::parse(&self.clock).ok_or_else(|| {
            Usage::flag("clock", format!("unknown clock {:?} (known: wall, cpu)", self.clock))
        })?;
        Ok(bench)
    }
}

fn print_summary(result: &BenchResult, out: &std::path::Path) {
    println!("{}", result.markdown());
    println!("written: {}", out.join("result.json").display());
}

/// A progress bar per stage on stderr (drawn only on a terminal).
#[derive(Default)]
struct Bar {
    bar: Option<ProgressBar>,
}

impl Progress for Bar {
    fn stage(&mut self, name: &str, total: u64) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style =
            ProgressStyle::with_template("{msg:32} [{bar:40}] {pos}/{len} {elapsed_precise} (eta {eta})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
        bar.set_style(style);
        bar.set_message(name.to_string());
        self.bar = Some(bar);
    }

    fn advance(&mut self, steps: u64) {
        if let Some(bar) = &self.bar {
            bar.inc(steps);
        }
    }

    fn note(&mut self, message: &str) {
        match &self.bar {
            Some(bar) => bar.println(message),
            None => eprintln!("{message}"),
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish();
        }
    }
}
