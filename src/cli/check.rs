//! `permdex check [--source NAME] [--list]`: tries the credential and every call the crawler depends on,
//! one line per capability with ✓ or ✗ and what to do, and exits non-zero on any ✗; `--list` prints the
//! spaces and projects the account can see, to pick scope keys from. Scope keys in the config that the
//! site does not know are reported either way.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use permdex::atlassian::probe::{self, Capability, Outcome, ScopeEntry};
use permdex::config::{Config, Secrets, Source};

use super::Usage;

/// Raw flags of `permdex check`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Check only this source (default: every source).
    #[arg(long)]
    pub source: Option<String>,
    /// Print the spaces and projects the account can see (key, name, archived) instead of checking calls.
    #[arg(long)]
    pub list: bool,
}

/// What the checks found: whether every capability passed.
pub struct Checked {
    pub all_passed: bool,
}

/// Runs the checks (or the listing) of the chosen sources, printing to `out`.
pub async fn run(args: &CheckArgs, out: &mut dyn Write) -> anyhow::Result<Checked> {
    let config = Config::load_for(&args.config, Secrets::SOURCE_TOKENS)?;
    let sources: Vec<Source> = match &args.source {
        Some(name) => vec![config
            .source(name)
            .ok_or_else(|| Usage(format!("no source named {name:?} in {}", args.config.display())))?
            .clone()],
        None => config.sources().to_vec(),
    };
    let mut all_passed = true;
    for source in &sources {
        let client = probe::check_client(source)?;
        writeln!(out, "{} ({})", source.name(), source.url())?;
        if args.list {
            let products = source.products();
            let mut entries = Vec::new();
            if products.confluence {
                entries.extend(probe::list_spaces(&client).await?);
            }
            if products.jira {
                entries.extend(probe::list_projects(&client).await?);
            }
            print_list(&entries, out)?;
            let unknown = probe::unknown_scope_keys(source, &entries);
            print_unknown_keys(&unknown, out)?;
            all_passed &= unknown.is_empty();
            continue;
        }
        let checked = probe::check_source(&client, source).await?;
        for capability in &checked.capabilities {
            writeln!(out, "  {}", line(capability))?;
        }
        print_unknown_keys(&checked.unknown_keys, out)?;
        all_passed &= checked.passed();
    }
    Ok(Checked { all_passed })
}

/// One capability as a line: `✓ jira permission schemes (GET …)` or `✗ … — what to do`.
fn line(capability: &Capability) -> String {
    let what = format!("{} {} ({})", capability.product, capability.name, capability.call);
    match &capability.outcome {
        Outcome::Ok => format!("✓ {what}"),
        Outcome::Skipped(why) => format!("- {what}: not tried, {why}"),
        Outcome::Failed(advice) => format!("✗ {what}: {advice}"),
    }
}

fn print_list(entries: &[ScopeEntry], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "  {:<8} {:<16} {:<9} name", "kind", "key", "archived")?;
    for e in entries {
        let archived = if e.archived { "archived" } else { "" };
        writeln!(out, "  {:<8} {:<16} {:<9} {}", e.kind, e.key, archived, e.name)?;
    }
    Ok(())
}

/// Prints a ✗ line per include/exclude key the site does not have.
fn print_unknown_keys(unknown: &[(&str, String)], out: &mut dyn Write) -> std::io::Result<()> {
    for (kind, key) in unknown {
        writeln!(
            out,
            "  ✗ scope: {kind} key {key:?} in the include/exclude lists is not on the site (or not visible to \
             this account): it matches nothing; see `permdex check --list`"
        )?;
    }
    Ok(())
}
