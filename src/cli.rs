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
pub enum Command {}
