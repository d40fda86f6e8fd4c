//! The permdex binary: parses the command line, calls the library, maps errors to exit codes.

use std::process::ExitCode;

use clap::Parser;
use permdex::cli::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("permdex: {err:#}");
            ExitCode::from(2)
        }
    }
}

/// Runs one subcommand; `Ok` carries the exit status the command itself chose (e.g. failure when a file failed).
fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Extract(args) => {
            Ok(permdex::extract::cli::run(&args, &mut std::io::stdout().lock())?.exit_code())
        }
        Command::ExtractWorker => {
            permdex::extract::worker::serve_worker()?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
