//! The permdex binary: parses the command line, calls the library, maps errors to exit codes.
//!
//! Exit codes: 0 success; 1 the command failed; 2 bad usage or configuration (clap uses 2 for bad flags too).

use std::process::ExitCode;

use clap::Parser;
use permdex::cli::Command;

fn main() -> ExitCode {
    let cli = permdex::cli::Cli::parse();
    let outcome: anyhow::Result<()> = match cli.command {
        Command::Init(args) => {
            permdex::config::init::run(&args).map(|written| eprintln!("{written}")).map_err(Into::into)
        }
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("permdex: {err:#}");
            exit_code(&err)
        }
    }
}

/// 2 when the user must fix what they asked for (flags, config file), 1 for any other failure.
fn exit_code(err: &anyhow::Error) -> ExitCode {
    let usage = |err: &permdex::config::Error| {
        !matches!(err, permdex::config::Error::Read { .. } | permdex::config::Error::Write { .. })
    };
    let is_usage = err.chain().any(|cause| {
        cause.downcast_ref::<permdex::config::Error>().is_some_and(usage)
            || matches!(cause.downcast_ref::<permdex::Error>(), Some(permdex::Error::Config(e)) if usage(e))
    });
    if is_usage {
        ExitCode::from(2)
    } else {
        ExitCode::FAILURE
    }
}
