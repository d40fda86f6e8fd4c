//! `permdex check [--source NAME] [--list]`: tries the credential and every call the crawler depends on,
//! one line per capability with ✓ or ✗ and what to do, and exits non-zero on any ✗; `--list` prints the
//! spaces and projects the account can see, to pick scope keys from. Scope keys in the config that the
//! site does not know are reported either way.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use permdex::atlassian::probe::{self, Capability, Outcome, ScopeEntry};
use permdex::atlassian::{Client, ClientConfig};
use permdex::config::{Config, Secrets, Source};

use super::Usage;

/// How long `permdex check` waits out a site's 429s on one call before it reports the call as failed.
const CHECK_THROTTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

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
        let client = Client::new(ClientConfig {
            max_retries: 1,
            max_throttle_wait: CHECK_THROTTLE_WAIT,
            ..ClientConfig::for_source(source)?
        })?;
        writeln!(out, "{} ({})", source.name(), source.url())?;
        let products = source.products();
        if args.list {
            let mut entries = Vec::new();
            if products.confluence {
                entries.extend(probe::list_spaces(&client).await?);
            }
            if products.jira {
                entries.extend(probe::list_projects(&client).await?);
            }
            print_list(&entries, out)?;
            all_passed &= report_unknown_keys(source, &entries, out)?;
            continue;
        }
        let mut capabilities = Vec::new();
        if products.confluence {
            capabilities.extend(probe::check_confluence(&client).await);
        }
        if products.jira {
            capabilities.extend(probe::check_jira(&client).await);
        }
        for capability in &capabilities {
            writeln!(out, "  {}", line(capability))?;
        }
        let passed = capabilities.iter().all(|c| !matches!(c.outcome, Outcome::Failed(_)));
        all_passed &= passed;
        if passed {
            // The listings cost a few calls more; they only run when the calls they use work.
            let mut entries = Vec::new();
            if products.confluence {
                entries.extend(probe::list_spaces(&client).await?);
            }
            if products.jira {
                entries.extend(probe::list_projects(&client).await?);
            }
            all_passed &= report_unknown_keys(source, &entries, out)?;
        }
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

/// Prints a ✗ line per include/exclude key the site does not have; `true` when there is none.
fn report_unknown_keys(
    source: &Source,
    entries: &[ScopeEntry],
    out: &mut dyn Write,
) -> std::io::Result<bool> {
    let known = |kind: &str| -> BTreeSet<&str> {
        entries.iter().filter(|e| e.kind == kind).map(|e| e.key.as_str()).collect()
    };
    let (spaces, projects) = (known("space"), known("project"));
    let products = source.products();
    let mut unknown = Vec::new();
    if products.confluence {
        // Personal spaces (`~…`) are not all listed to every account; only global keys are checked.
        let keys = source.spaces().unknown_keys(|k| k.starts_with('~') || spaces.contains(k));
        unknown.extend(keys.into_iter().map(|k| ("space", k)));
    }
    if products.jira {
        unknown.extend(
            source.projects().unknown_keys(|k| projects.contains(k)).into_iter().map(|k| ("project", k)),
        );
    }
    for (kind, key) in &unknown {
        writeln!(
            out,
            "  ✗ scope: {kind} key {key:?} in the include/exclude lists is not on the site (or not visible to \
             this account): it matches nothing; see `permdex check --list`"
        )?;
    }
    Ok(unknown.is_empty())
}
