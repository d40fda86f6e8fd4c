//! `permdex init`: its flags. The starter file itself is written by `permdex::config::init`.

use std::path::PathBuf;

use clap::Args;
use permdex::config::init::{Existing, InitOptions};

/// Flags of `permdex init`.
#[derive(Debug, Clone, Args)]
pub struct InitArgs {
    /// Site URL: https://<site>.atlassian.net, or the simulator's http://127.0.0.1:PORT
    #[arg(long, value_name = "URL")]
    pub url: String,
    /// Email of the Atlassian account whose API token permdex will use
    #[arg(long, value_name = "EMAIL")]
    pub email: String,
    /// Name of the environment variable that will hold the API token (the token itself is never asked for)
    #[arg(long, value_name = "VAR")]
    pub token_env: String,
    /// Data directory (index, ACL store, sync state); default ./permdex-data beside the config file
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Where to write the config file
    #[arg(long, short, value_name = "FILE", default_value = "permdex.toml")]
    pub output: PathBuf,
    /// Overwrite the output file if it exists
    #[arg(long)]
    pub force: bool,
}

impl InitArgs {
    /// What the library is asked to write.
    pub fn options(&self) -> InitOptions {
        InitOptions {
            url: self.url.clone(),
            email: self.email.clone(),
            token_env: self.token_env.clone(),
            data: self.data.clone(),
            output: self.output.clone(),
            existing: if self.force { Existing::Overwrite } else { Existing::Refuse },
        }
    }
}
