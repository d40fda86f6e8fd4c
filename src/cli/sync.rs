//! `permdex sync` and `permdex status`: sync the configured sources one after the other with progress on
//! stderr, and show the last runs of each.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use permdex::config::Config;
use permdex::sync::{self as engine, Mode, RunOutcome, RunRecord, StderrProgress};

use super::Usage;

/// Raw flags of `permdex sync`.
#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Sync only this source (default: every source, one after the other).
    #[arg(long)]
    pub source: Option<String>,
    /// Re-read everything and delete what is gone, instead of only what changed.
    #[arg(long, conflicts_with = "permissions_only")]
    pub full: bool,
    /// Re-read only permissions and group membership; no page or issue bodies.
    #[arg(long)]
    pub permissions_only: bool,
    /// Least seconds between two checkpoint commits (a killed sync resumes from its last checkpoint).
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub checkpoint_interval: f64,
}

impl SyncArgs {
    pub fn mode(&self) -> Mode {
        match (self.full, self.permissions_only) {
            (true, _) => Mode::Full,
            (_, true) => Mode::PermissionsOnly,
            _ => Mode::Incremental,
        }
    }
}

/// Raw flags of `permdex status`.
#[derive(Debug, Clone, Args)]
pub struct StatusArgs {
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Print JSON (one object with the runs of every source) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Runs shown per source.
    #[arg(long, default_value_t = 5)]
    pub last: usize,
}

/// `permdex sync`: syncs the chosen sources one after the other, printing progress and a summary per
/// source on stderr. Returns every run's record; the caller decides the exit status from their failures.
/// A stop request (`stop` set, `cancel` cancelled) ends the current run at a checkpoint and skips the
/// remaining sources.
pub async fn run(
    args: &SyncArgs,
    stop: Arc<AtomicBool>,
    cancel: tokio_util::sync::CancellationToken,
) -> anyhow::Result<Vec<RunRecord>> {
    let config = Config::load(&args.config)?;
    let sources: Vec<_> = match &args.source {
        Some(name) => vec![config
            .source(name)
            .ok_or_else(|| Usage(format!("no source named {name:?} in {}", args.config.display())))?
            .clone()],
        None => config.sources().to_vec(),
    };
    let checkpoint_interval = Duration::try_from_secs_f64(args.checkpoint_interval).map_err(|_| {
        Usage::flag("checkpoint-interval", format!("{} is not a number of seconds", args.checkpoint_interval))
    })?;
    let options = engine::SyncOptions { checkpoint_interval, cancel, ..engine::SyncOptions::default() };
    let mut records = Vec::new();
    for source in &sources {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        let mut progress = StderrProgress::new(source.name().as_str(), stop.clone());
        let record = engine::sync_with(&config, source, args.mode(), &options, &mut progress).await?;
        eprint!("{}", summary(&record));
        records.push(record);
    }
    Ok(records)
}

/// A few lines on how a run went.
fn summary(record: &RunRecord) -> String {
    let t = record.total();
    let secs = (record.ended - record.started).num_milliseconds() as f64 / 1000.0;
    let mut out = format!(
        "{}: {} sync {} in {secs:.1}s: {} seen, {} added, {} updated, {} deleted, {} unchanged, {} re-pointed, \
         {} without readable permissions; {} api calls, {} throttled, {} retries\n",
        record.source,
        record.mode.as_str(),
        match &record.outcome {
            RunOutcome::Completed => "completed".to_string(),
            RunOutcome::Cancelled => "cancelled (the next sync resumes it)".to_string(),
            RunOutcome::Aborted(reason) => format!("aborted ({reason})"),
        },
        t.seen,
        t.added,
        t.updated,
        t.deleted,
        t.unchanged,
        t.repointed,
        t.acl_unknown,
        record.api.calls,
        record.api.throttled,
        record.api.retries,
    );
    for note in record.notes.iter().filter(|n| !n.starts_with("skipped ")) {
        out.push_str(&format!("{}: note: {note}\n", record.source));
    }
    if record.failed() > 0 {
        out.push_str(&format!("{}: {} failure(s):\n", record.source, record.failed()));
        for f in record.failures.iter().take(20) {
            out.push_str(&format!("  {}: {}\n", f.item, f.reason));
        }
        if record.failures.len() > 20 {
            out.push_str(&format!("  … {} more: see `permdex status --json`\n", record.failures.len() - 20));
        }
    }
    out
}

/// `permdex status`: the last runs of every configured source, as a table or as JSON.
pub fn status(args: &StatusArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let config = Config::load(&args.config)?;
    let mut all = Vec::new();
    for source in config.sources() {
        all.extend(engine::runs::read_last(config.data_dir(), source.name().as_str(), args.last)?);
    }
    let text = if args.json {
        let value = serde_json::json!({ "runs": all });
        format!("{value:#}\n")
    } else if all.is_empty() {
        "no sync has run yet\n".to_string()
    } else {
        engine::runs::render_table(&all)
    };
    out.write_all(text.as_bytes()).context("cannot write to stdout")
}
