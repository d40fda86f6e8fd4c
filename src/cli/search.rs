//! `permdex search "query" --as ACCOUNT_ID`: the search API's path, from the command line.
//!
//! It opens each configured source's index once, takes the account's principals from the directory synced
//! with each index (never from the command line), and runs the same permission-filtered search across
//! sources as the server (`permdex::search::search_sources`), answering in the API's JSON. There is no way
//! to search unfiltered from here.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use permdex::config::{AccountId, Config, Secrets};
use permdex::search::{search_sources, SearchService, SourcePart};
use permdex::server::backend::{request_of, results_of};
use permdex::server::search::{Page, SearchQuery, SearchResults, SortOrder};
use permdex::sync::SourceIndex;

use super::Usage;

/// Raw flags of `permdex search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// The query, as people type it: bare words ranked by BM25 (any may match); +term, "phrases", AND/OR/NOT,
    /// -term, field prefixes (title:, space:, project:, kind:, label:, author:, product:) filter; Jira keys
    /// match whole. An empty query browses everything the account may read.
    pub query: String,
    /// Search as this account: what it may read on the Atlassian site, nothing more.
    #[arg(long = "as", value_name = "ACCOUNT_ID")]
    pub account: String,
    /// The configuration file.
    #[arg(long, default_value = "permdex.toml")]
    pub config: PathBuf,
    /// Print the results as JSON (ids as the index and the simulator's oracle spell them).
    #[arg(long)]
    pub json: bool,
    /// Results per page (1 to 100).
    #[arg(long, default_value_t = 10)]
    pub limit: usize,
    /// Results to skip.
    #[arg(long, default_value_t = 0)]
    pub offset: usize,
    /// Only these configured sources (by name).
    #[arg(long)]
    pub source: Vec<String>,
    /// Only these products (confluence, jira).
    #[arg(long)]
    pub product: Vec<String>,
    /// Only these kinds (page, blogpost, comment, attachment, issue).
    #[arg(long)]
    pub kind: Vec<String>,
    /// Only these Confluence space keys.
    #[arg(long)]
    pub space: Vec<String>,
    /// Only these Jira project keys.
    #[arg(long)]
    pub project: Vec<String>,
    /// Sort newest first instead of by relevance.
    #[arg(long)]
    pub recent: bool,
}

/// Runs `permdex search` and writes the results to `out`.
pub fn run(args: &SearchArgs, out: &mut impl Write) -> anyhow::Result<()> {
    let config = super::load_config(&args.config, Secrets::NONE)?;
    let results = search(&config, args)?;
    if args.json {
        let json = serde_json::to_string_pretty(&results).context("cannot render the results")?;
        writeln!(out, "{json}").context("cannot write to stdout")?;
    } else {
        write_table(&results, args, out).context("cannot write to stdout")?;
    }
    Ok(())
}

/// Searches `config`'s indexes as `args.account`.
fn search(config: &Config, args: &SearchArgs) -> anyhow::Result<SearchResults> {
    let account_id = AccountId::parse(&args.account)
        .map_err(|_| Usage(format!("{:?} is not an account id", args.account)))?;
    let mut opened = Vec::new();
    for source in config.sources() {
        let name = source.name().as_str();
        match SourceIndex::open(config, source) {
            Ok(view) => {
                let principals = view.principals(account_id.as_str());
                let (reader, _) = view.into_parts();
                opened.push((name, Some(SearchService::new(reader)), principals));
            }
            Err(e) => {
                tracing::warn!(source = name, error = %e, "index not open");
                opened.push((name, None, None));
            }
        }
    }
    if opened.iter().all(|(_, _, principals)| principals.is_none()) {
        let unknown =
            format!("account {} is not an active, in-scope user of any synced source", args.account);
        return Err(Usage(unknown).into());
    }
    let parts: Vec<SourcePart<'_>> = opened
        .iter()
        .map(|(name, service, principals)| SourcePart {
            name,
            service: service.as_ref(),
            principals: principals.as_deref(),
        })
        .collect();
    let query = SearchQuery {
        q: args.query.clone(),
        sources: args.source.clone(),
        products: args.product.clone(),
        kinds: args.kind.clone(),
        spaces: args.space.clone(),
        projects: args.project.clone(),
        sort: if args.recent { SortOrder::Updated } else { SortOrder::Relevance },
        page: Page::Offset { offset: args.offset, limit: args.limit },
        ..SearchQuery::default()
    };
    match search_sources(&parts, &query.sources, &request_of(&query)) {
        Ok(response) => Ok(results_of(response)),
        Err(e @ permdex::search::Error::BadQuery { .. }) => Err(Usage(e.to_string()).into()),
        Err(e @ (permdex::search::Error::BadCursor | permdex::search::Error::BadRequest(_))) => {
            Err(Usage(e.to_string()).into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("search failed")),
    }
}

fn write_table(results: &SearchResults, args: &SearchArgs, out: &mut impl Write) -> std::io::Result<()> {
    let shown = results.hits.len();
    let first = if shown == 0 { 0 } else { args.offset + 1 };
    writeln!(
        out,
        "{} result(s) readable by {}; showing {first}-{}",
        results.total,
        args.account,
        args.offset + shown
    )?;
    for hit in &results.hits {
        let place = hit.space.as_deref().or(hit.project.as_deref()).unwrap_or("-");
        let updated = hit.updated.map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
        writeln!(out, "\n{}  [{} in {place}, {updated}]", hit.title, hit.kind)?;
        writeln!(out, "  {}  ({})", hit.url, hit.id)?;
    }
    Ok(())
}
