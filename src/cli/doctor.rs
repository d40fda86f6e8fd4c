//! `permdex doctor`: its flags and its report. The checks are `permdex::sync::doctor`'s.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use permdex::config::Config;
use permdex::sync::doctor::{self, Checkup};

/// Flags of `permdex doctor`.
#[derive(Debug, Clone, Args)]
pub struct DoctorArgs {
    /// The configuration file: its data directory and sources are checked (it needs the same environment
    /// as `permdex sync`).
    #[arg(long, default_value = "permdex.toml", conflicts_with = "data")]
    pub config: PathBuf,
    /// A data directory to check without a configuration: every source found under `DIR/sources`.
    #[arg(long, value_name = "DIR")]
    pub data: Option<PathBuf>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// Runs the check and prints it; `Ok(false)` when a source is damaged.
pub fn run(args: &DoctorArgs, out: &mut impl Write) -> anyhow::Result<bool> {
    let checkup = match &args.data {
        Some(dir) => {
            let sources = doctor::sources_on_disk(dir)
                .with_context(|| format!("{} is not a permdex data directory", dir.display()))?;
            doctor::check(dir, &sources)
        }
        None => {
            let config = Config::load(&args.config)?;
            let names: Vec<String> = config.sources().iter().map(|s| s.name().as_str().to_owned()).collect();
            doctor::check(config.data_dir(), &names)
        }
    };
    let text = if args.json { format!("{:#}\n", serde_json::json!(checkup)) } else { render(&checkup) };
    out.write_all(text.as_bytes()).context("cannot write to stdout")?;
    Ok(!checkup.damaged())
}

fn render(checkup: &Checkup) -> String {
    let mut out = format!("data directory {}\n", checkup.data_dir.display());
    if checkup.sources.is_empty() {
        out.push_str("no source has an index here\n");
    }
    for source in &checkup.sources {
        match source.status {
            "not_synced" => out.push_str(&format!("{}: not synced yet\n", source.name)),
            _ if source.problems.is_empty() => out.push_str(&format!(
                "{}: ok (generation {}, {} documents)\n",
                source.name, source.generation, source.documents
            )),
            _ => {
                out.push_str(&format!(
                    "{}: DAMAGED: searches find nothing of it until `permdex sync --source {}` rebuilds it\n",
                    source.name, source.name
                ));
                for problem in &source.problems {
                    out.push_str(&format!("  {problem}\n"));
                }
            }
        }
    }
    if !checkup.exposed.is_empty() {
        out.push_str(&format!(
            "warning: {} path(s) other local accounts can read (directories should be 0700, files 0600; \
             `chmod -R go-rwx {}`):\n",
            checkup.exposed.len(),
            checkup.data_dir.display()
        ));
        for exposed in checkup.exposed.iter().take(20) {
            out.push_str(&format!("  {} {}\n", exposed.mode, exposed.path.display()));
        }
        if checkup.exposed.len() > 20 {
            out.push_str(&format!("  … {} more\n", checkup.exposed.len() - 20));
        }
    }
    out
}
