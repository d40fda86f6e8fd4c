//! The permdex binary: parses the command line, calls the library, maps errors to exit codes. The flags,
//! the commands' printing and the exit statuses are in [`cli`]; everything else is the library.
//!
//! Logs go to stderr (`RUST_LOG` filters them); stdout carries only a command's output.

mod cli;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    init_tracing();
    cli::restrict_file_modes();
    match cli::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("permdex: {}", cli::error_line(&err));
            cli::exit_code(&err)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}
