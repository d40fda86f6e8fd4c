//! The permdex binary: parses the command line, calls the library, maps errors to exit codes.

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = permdex::cli::Cli::parse();
    match cli.command {}
}
