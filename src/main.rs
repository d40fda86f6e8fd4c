//! The permdex binary: parses the command line, calls the library, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 the command failed; 2 bad usage or configuration (clap uses 2 for bad flags too).
//! Logs go to stderr (`RUST_LOG` filters them); stdout carries only a command's output.

use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use clap::Parser;
use permdex::cli::{self, Cli, Command};
use permdex::server::cli_search;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("permdex: {err:#}");
            exit_code(&err)
        }
    }
}

/// Runs one command. `Ok` carries the status the command chose itself (e.g. `extract` fails when any
/// file failed).
fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    Ok(match cli.command {
        Command::Init(args) => {
            let written = permdex::config::init::run(&args)?;
            eprintln!("{written}");
            ExitCode::SUCCESS
        }
        Command::Extract(args) => {
            permdex::extract::cli::run(&args, &mut std::io::stdout().lock())?.exit_code()
        }
        Command::ExtractWorker => {
            permdex::extract::worker::serve_worker()?;
            ExitCode::SUCCESS
        }
        Command::Sim(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(cli::run_sim(&args, &mut std::io::stdout(), shutdown_signal()))?;
            ExitCode::SUCCESS
        }
        Command::Token(args) => {
            cli::run_token(&args, &mut std::io::stdout().lock())?;
            ExitCode::SUCCESS
        }
        Command::Serve(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(permdex::server::backend::serve_command(&args, shutdown_signal()))?;
            ExitCode::SUCCESS
        }
        Command::Sync(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let stop = Arc::new(AtomicBool::new(false));
            let records = runtime.block_on(async {
                let watcher = tokio::spawn({
                    let stop = stop.clone();
                    async move {
                        shutdown_signal().await;
                        eprintln!("permdex: stopping at the next checkpoint (the next sync resumes)");
                        stop.store(true, Ordering::Relaxed);
                    }
                });
                let records = cli::run_sync(&args, stop.clone()).await;
                watcher.abort();
                records
            })?;
            let failed: u64 = records.iter().map(|r| r.failed()).sum();
            let cancelled = records.iter().any(|r| r.outcome == permdex::sync::RunOutcome::Cancelled);
            if failed > 0 {
                eprintln!("permdex: sync finished with {failed} failure(s)");
                ExitCode::FAILURE
            } else if cancelled {
                ExitCode::from(130)
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Status(args) => {
            cli::run_status(&args, &mut std::io::stdout().lock())?;
            ExitCode::SUCCESS
        }
        Command::Search(args) => match cli_search::run(&args, &mut std::io::stdout().lock()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("permdex search: {e}");
                if e.is_usage() {
                    ExitCode::from(2)
                } else {
                    ExitCode::FAILURE
                }
            }
        },
        Command::Eval(args) => run_eval(args)?,
        Command::Demo(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            runtime.block_on(permdex::demo::run(&args, &mut std::io::stdout(), shutdown_signal()))?;
            ExitCode::SUCCESS
        }
    })
}

/// `permdex eval …`: progress and problems on stderr, results on stdout.
fn run_eval(args: permdex::eval::cli::EvalArgs) -> anyhow::Result<ExitCode> {
    use permdex::eval::cli::{self as eval, EvalCommand};
    let mut out = std::io::stdout().lock();
    match args.command {
        EvalCommand::Run(args) => eval::run(&args, &mut out)?,
        EvalCommand::Score(args) => eval::score(&args, &mut out)?,
        EvalCommand::Compare(args) => eval::compare(&args, &mut out)?,
        EvalCommand::Collection(args) => {
            let runtime = tokio::runtime::Runtime::new()?;
            let mut progress = cli::StderrProgress::new("eval", Arc::new(AtomicBool::new(false)));
            if !runtime.block_on(eval::collection(&args, &mut progress, &mut out))? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// 2 when the user must fix what they asked for (flags, config file), 1 for any other failure.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    let usage = |err: &permdex::config::Error| {
        !matches!(err, permdex::config::Error::Read { .. } | permdex::config::Error::Write { .. })
    };
    let is_usage = err.chain().any(|cause| {
        cause.downcast_ref::<permdex::config::Error>().is_some_and(usage)
            || matches!(cause.downcast_ref::<permdex::Error>(), Some(permdex::Error::Config(e)) if usage(e))
            || cause.downcast_ref::<cli::Error>().is_some_and(cli::Error::is_usage)
    });
    if is_usage {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
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
