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
    /// Write a commented starter permdex.toml for one site (never asks for or writes a token)
    Init(crate::config::init::InitArgs),
}
