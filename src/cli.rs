//! Command-line interface: raw flags parsed by clap, turned into calls on the library.

use clap::{Parser, Subcommand};

/// permdex: permission-aware search for Confluence and Jira.
#[derive(Debug, Parser)]
#[command(name = "permdex", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Extract text from local files as the crawler would from attachments (isolated, bounded).
    Extract(crate::extract::cli::ExtractArgs),
    /// Internal: extract one file read from stdin (started by `extract` and the crawler, not by people).
    #[command(name = "extract-worker", hide = true)]
    ExtractWorker,
}
