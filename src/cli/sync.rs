//! `permdex sync` and `permdex status`: sync the configured sources one after the other with progress on
//! stderr, and show the last runs of each.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use permdex::config::{Config, Secrets};
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
    let config = super::load_config(&args.config, Secrets::SOURCE_TOKENS)?;
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
            RunOutcome::Aborted(reason) => format!("failed: {reason}"),
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
    if t.interrupted > 0 {
        out.push_str(&format!(
            "{}: {} item(s) not read because the run stopped on their calls: the next sync reads them\n",
            record.source, t.interrupted
        ));
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

/// What a source's index holds now, read from its last commit (whoever made it), apart from any run.
#[derive(Debug, serde::Serialize)]
struct Held {
    source: String,
    /// The commit read; 0 when the source has no index yet.
    generation: u64,
    total: u64,
    by_kind: std::collections::BTreeMap<String, u64>,
    /// Documents nobody may read because their permissions could not be read.
    unreadable: u64,
    /// When the commit's permissions were last read in full.
    permissions_refreshed: Option<chrono::DateTime<chrono::Utc>>,
    /// Why `serve` withholds the source's documents now, if it does.
    withheld: Option<String>,
    /// Why the index could not be read, if it could not.
    error: Option<String>,
    /// A run whose end is not recorded: running now, or killed (then the next run records it).
    unfinished: Option<String>,
    /// Why the index cannot be trusted (a segment failing its checksum…): it serves nothing until the next
    /// sync rebuilds it.
    problems: Vec<String>,
}

fn held(config: &Config, source: &permdex::config::Source, now: chrono::DateTime<chrono::Utc>) -> Held {
    let name = source.name().as_str().to_owned();
    let mut held = Held {
        source: name.clone(),
        generation: 0,
        total: 0,
        by_kind: Default::default(),
        unreadable: 0,
        permissions_refreshed: None,
        withheld: None,
        error: None,
        unfinished: None,
        problems: engine::doctor::check_source(config.data_dir(), &name).problems,
    };
    let dir = engine::index_dir(config.data_dir(), &name);
    if !dir.exists() {
        held.withheld = Some("no index yet: run a sync".into());
        return held;
    }
    let view = match engine::SourceIndex::open(config, source) {
        Ok(view) => view,
        Err(e) => {
            held.error = Some(e.to_string());
            return held;
        }
    };
    let reader = view.reader();
    held.generation = reader.generation().0;
    match reader.holdings() {
        Ok(h) => {
            held.total = h.total;
            held.unreadable = h.unreadable;
            held.by_kind = h.by_kind.iter().map(|((p, k), n)| (format!("{p}:{k}"), *n)).collect();
        }
        Err(e) => held.error = Some(e.to_string()),
    }
    held.permissions_refreshed = view.state().and_then(|s| s.permissions_refreshed);
    if let Some(run) = view.state().and_then(|s| s.unfinished.as_ref()) {
        // The lock tells a run going on now from one that was killed.
        let running = engine::lock::SourceLock::acquire(config.data_dir(), &name).is_err();
        let t = run.total();
        held.unfinished = Some(format!(
            "{} {} sync started {} {}; at its last checkpoint: {} seen, {} failure(s)",
            if running { "a" } else { "the" },
            run.mode.as_str(),
            run.started.format("%Y-%m-%d %H:%M:%S UTC"),
            if running { "is running" } else { "was killed before it ended (the next sync resumes it)" },
            t.seen,
            run.failed()
        ));
    }
    held.withheld = match (source.max_permission_age(), held.permissions_refreshed) {
        (None, _) => None,
        (Some(_), None) => Some("permissions were never read in full".into()),
        (Some(max), Some(at)) => {
            let age = (now - at).to_std().unwrap_or_default();
            (age > max).then(|| {
                format!(
                    "permissions are {} old, more than max_permission_age {}",
                    permdex::config::format_duration(Some(Duration::from_secs(age.as_secs() / 60 * 60))),
                    permdex::config::format_duration(Some(max))
                )
            })
        }
    };
    held
}

fn render_held(held: &[Held]) -> String {
    let mut out = String::new();
    for h in held {
        out.push_str(&format!("{}: the index holds {} document(s) now", h.source, h.total));
        if !h.by_kind.is_empty() {
            let kinds: Vec<String> = h.by_kind.iter().map(|(k, n)| format!("{k} {n}")).collect();
            out.push_str(&format!(" ({})", kinds.join(", ")));
        }
        if h.unreadable > 0 {
            out.push_str(&format!("; {} readable by nobody (permissions unreadable)", h.unreadable));
        }
        out.push('\n');
        match h.permissions_refreshed {
            Some(at) => out.push_str(&format!(
                "{}: permissions last read in full {}\n",
                h.source,
                at.format("%Y-%m-%d %H:%M:%S UTC")
            )),
            None if h.generation > 0 => {
                out.push_str(&format!("{}: permissions never read in full\n", h.source));
            }
            None => {}
        }
        if let Some(why) = &h.withheld {
            out.push_str(&format!("{}: documents withheld by `permdex serve`: {why}\n", h.source));
        }
        if let Some(run) = &h.unfinished {
            out.push_str(&format!("{}: {run}\n", h.source));
        }
        if let Some(e) = &h.error {
            out.push_str(&format!("{}: the index cannot be read: {e}\n", h.source));
        }
        if !h.problems.is_empty() {
            out.push_str(&format!(
                "{}: index cannot be trusted, searches find nothing of it until the next sync rebuilds it: {}\n",
                h.source,
                h.problems.join("; ")
            ));
        }
    }
    out
}

/// `permdex status`: what each configured source's index holds now and how fresh its permissions are,
/// then its last runs, as text or as JSON.
pub fn status(args: &StatusArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let config = super::load_config(&args.config, Secrets::NONE)?;
    let now = chrono::Utc::now();
    let mut all = Vec::new();
    let mut holdings = Vec::new();
    for source in config.sources() {
        holdings.push(held(&config, source, now));
        all.extend(engine::runs::read_last(config.data_dir(), source.name().as_str(), args.last)?);
    }
    let text = if args.json {
        let value = serde_json::json!({ "sources": holdings, "runs": all });
        format!("{value:#}\n")
    } else if all.is_empty() {
        format!("{}\nno sync has run yet\n", render_held(&holdings))
    } else {
        format!("{}\nlast runs:\n{}", render_held(&holdings), engine::runs::render_table(&all))
    };
    out.write_all(text.as_bytes()).context("cannot write to stdout")
}
