//! The command line: clap's raw flags, one module per command, and the one mapping of errors to exit
//! statuses. Everything here belongs to the binary; the library (`src/lib.rs`) never sees a clap type.
//!
//! Two stages, so that the library never sees a raw flag: clap turns argv into [`Cli`] (types it can parse
//! alone: numbers, addresses, scales); each command's module checks what needs several flags or a range
//! and builds the library's own types. A flag that fails that check is a [`Usage`] error.
//!
//! Exit statuses: 0 success; 1 the command failed (or, for `sync` and `extract`, some item failed; for
//! `doctor`, some source is damaged); 2 bad usage or configuration (clap uses 2 for bad flags too); 3 a sync
//! run failed as a whole (credentials refused, site unreachable, index unusable: nothing committed is lost);
//! 130 a sync stopped by Ctrl-C.
//!
//! Every command runs with umask 077 ([`restrict_file_modes`]), and those that read a configuration warn
//! when its data directory is open to other local accounts ([`load_config`]).

mod bench;
mod check;
mod demo;
mod doctor;
mod eval;
mod extract;
mod init;
mod search;
mod sim;
mod sync;
mod token;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::{Parser, Subcommand};
use permdex::config::{Config, Secrets};

/// permdex: permission-aware search for Confluence and Jira.
#[derive(Debug, Parser)]
#[command(name = "permdex", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// One variant per subcommand.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a commented starter permdex.toml for one site (never asks for or writes a token)
    Init(init::InitArgs),
    /// Extract text from local files as the crawler would from attachments (isolated, bounded).
    Extract(extract::ExtractArgs),
    /// Internal: extract one file read from stdin (started by `extract` and the crawler, not by people).
    #[command(name = "extract-worker", hide = true)]
    ExtractWorker,
    /// Run the Atlassian Cloud simulator. Prints one JSON line `{"url", "email", "token"}` to stdout
    /// once it listens, then serves until Ctrl-C.
    Sim(sim::SimArgs),
    /// Mint an HS256 bearer token for an account from the configured secret (for local use and tests).
    /// Prints the token to stdout; it is never logged.
    Token(token::TokenArgs),
    /// Run the query server (search and admin API, health, metrics) until Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// Crawl the configured sources into the index: incremental by default, resuming an interrupted run.
    /// Exits non-zero when any item failed.
    Sync(sync::SyncArgs),
    /// Try the credential and every call the crawler needs, one line per capability (✓/✗ and what to do);
    /// exits 1 on any ✗. `--list` prints the spaces and projects the account can see.
    Check(check::CheckArgs),
    /// Show the last sync runs of each source, and any source whose index cannot be trusted.
    Status(sync::StatusArgs),
    /// Check a data directory offline: every source's commit, ACL store, state and segment checksums,
    /// and files other local accounts could read. Exits 1 when a source is damaged.
    Doctor(doctor::DoctorArgs),
    /// Search as an account: only what that account may read, exactly as the search API answers it.
    Search(search::SearchArgs),
    /// Evaluate search quality: run topics, score runs as trec_eval does, compare runs, and measure a
    /// test collection end to end through the simulator.
    Eval(eval::EvalArgs),
    /// Try permdex with nothing to set up: simulate a site, sync it, and serve the search and
    /// integrations pages with demo users until Ctrl-C.
    Demo(demo::DemoArgs),
    /// Measure what permission filtering costs: ACL-filter strategies on generated corpora (`acl`), their
    /// charts (`plot`), and the real pipeline under HTTP load (`site`).
    Bench(bench::BenchArgs),
}

/// Raw flags of `permdex serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// The configuration file (its `[server]` table: listen address, JWT key, API keys, admin key).
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
}

/// A mistake in what the user asked for (a flag's value, an unknown name): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Usage(pub String);

impl Usage {
    /// A flag whose value the command cannot use.
    pub fn flag(flag: &str, reason: impl std::fmt::Display) -> Usage {
        Usage(format!("bad value for --{flag}: {reason}"))
    }
}

/// Runs one command. `Ok` carries the status the command chose itself (e.g. `extract` fails when any
/// file failed).
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    Ok(match cli.command {
        Command::Init(args) => {
            let written = permdex::config::init::run(&args.options())?;
            eprintln!("{written}");
            ExitCode::SUCCESS
        }
        Command::Extract(args) => extract::run(&args, &mut std::io::stdout().lock())?.exit_code(),
        Command::ExtractWorker => {
            permdex::extract::worker::serve_worker()?;
            ExitCode::SUCCESS
        }
        Command::Sim(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(sim::run(&args, &mut std::io::stdout(), shutdown_signal()))?;
            ExitCode::SUCCESS
        }
        Command::Token(args) => {
            token::run(&args, &mut std::io::stdout().lock())?;
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            let config = load_config(&args.config, Secrets::ALL)?;
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(permdex::server::backend::run(config, shutdown_signal()))?;
            ExitCode::SUCCESS
        }
        Command::Sync(args) => run_sync(&args)?,
        Command::Check(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let checked = runtime.block_on(check::run(&args, &mut std::io::stdout().lock()))?;
            if checked.all_passed {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Status(args) => {
            sync::status(&args, &mut std::io::stdout().lock())?;
            ExitCode::SUCCESS
        }
        Command::Doctor(args) => {
            if doctor::run(&args, &mut std::io::stdout().lock())? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Search(args) => {
            search::run(&args, &mut std::io::stdout().lock())?;
            ExitCode::SUCCESS
        }
        Command::Eval(args) => eval::dispatch(args)?,
        Command::Demo(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(demo::run(&args, &mut std::io::stdout(), shutdown_signal()))?;
            ExitCode::SUCCESS
        }
        Command::Bench(args) => {
            bench::run(&args)?;
            ExitCode::SUCCESS
        }
    })
}

/// Loads the configuration, warning when its data directory is open to other local accounts.
pub fn load_config(path: &Path, secrets: Secrets) -> anyhow::Result<Config> {
    let config = Config::load_for(path, secrets)?;
    warn_if_exposed(config.data_dir());
    Ok(config)
}

/// Warns (on stderr) when `data_dir` exists and other local accounts can read it.
pub fn warn_if_exposed(data_dir: &Path) {
    if let Some(warning) = permdex::sync::datadir::exposure_warning(data_dir) {
        tracing::warn!("{warning}");
    }
}

/// Makes everything this process creates readable by its owner only (directories 0700, files 0600),
/// including the files tantivy writes: a data directory holds the text of restricted pages.
pub fn restrict_file_modes() {
    #[cfg(unix)]
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail and touches no memory.
    unsafe {
        libc::umask(0o077);
    }
}

/// `permdex sync` with Ctrl-C or SIGTERM stopping the run at once (requests and waits are cancelled, and a
/// checkpoint is committed): 3 when a run failed as a whole, 1 when any item failed, 130 when stopped.
fn run_sync(args: &sync::SyncArgs) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Runtime::new()?;
    let stop = Arc::new(AtomicBool::new(false));
    let cancel = tokio_util::sync::CancellationToken::new();
    let records = runtime
        .block_on(async {
            let watcher = tokio::spawn({
                let (stop, cancel) = (stop.clone(), cancel.clone());
                async move {
                    shutdown_signal().await;
                    eprintln!("permdex: stopping now (the next sync resumes)");
                    stop.store(true, Ordering::Relaxed);
                    // Requests in flight and waits on the pacer or a backoff end at once.
                    cancel.cancel();
                }
            });
            let records = sync::run(args, stop.clone(), cancel).await;
            watcher.abort();
            records
        })
        .map_err(|e| if is_usage(&e) { e } else { e.context(RunFailed) })?;
    let failed: u64 = records.iter().map(|r| r.failed()).sum();
    let cancelled = records.iter().any(|r| r.outcome == permdex::sync::RunOutcome::Cancelled);
    let aborted =
        records.iter().filter(|r| matches!(r.outcome, permdex::sync::RunOutcome::Aborted(_))).count();
    Ok(if aborted > 0 {
        eprintln!("permdex: {aborted} sync run(s) failed; what was committed before is kept");
        ExitCode::from(RUN_FAILED)
    } else if cancelled {
        // Stopped: what failed so far (calls cut short by the stop among it) is in the run records.
        ExitCode::from(130)
    } else if failed > 0 {
        eprintln!("permdex: sync finished with {failed} failure(s)");
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The exit status of a sync run that failed as a whole.
const RUN_FAILED: u8 = 3;

/// Marks an error as a sync run failing as a whole (exit status 3) rather than bad usage.
#[derive(Debug, thiserror::Error)]
#[error("the sync run failed")]
struct RunFailed;

/// Whether `err` is the user's to fix (flags, names, the config file) rather than the command failing.
pub fn is_usage(err: &anyhow::Error) -> bool {
    use permdex::bench::Error as BenchError;
    use permdex::config::Error as ConfigError;
    use permdex::server::Error as ServerError;
    err.chain().any(|cause| {
        cause.is::<Usage>()
            || cause.downcast_ref::<BenchError>().is_some_and(|e| matches!(e, BenchError::Parameter(_)))
            || cause
                .downcast_ref::<ConfigError>()
                .is_some_and(|e| !matches!(e, ConfigError::Read { .. } | ConfigError::Write { .. }))
            || cause
                .downcast_ref::<ServerError>()
                .is_some_and(|e| matches!(e, ServerError::NoJwtKey | ServerError::CannotMint))
    })
}

/// 2 when the user must fix what they asked for, 1 for any other failure.
pub fn exit_code(err: &anyhow::Error) -> ExitCode {
    if is_usage(err) {
        ExitCode::from(2)
    } else if err.downcast_ref::<RunFailed>().is_some() {
        ExitCode::from(RUN_FAILED)
    } else {
        ExitCode::FAILURE
    }
}

/// `err` and its causes on one line, each cause once: a cause whose text its parent's message already
/// carries (`bind: address in use` over `address in use`) is not repeated.
pub fn error_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

/// Resolves on Ctrl-C or, on Unix, SIGTERM. If a handler cannot be installed, that signal is simply
/// never seen, rather than shutting down at once.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
    tracing::info!("shutting down");
}
