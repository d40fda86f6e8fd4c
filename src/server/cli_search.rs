//! `permdex search "query" --as ACCOUNT_ID`: the search API's path, from the command line.
//!
//! It opens the same per-source indexes the server opens ([`Indexes`]), takes the account's principals from
//! the directory synced with each index (never from the command line), and runs the same permission-filtered
//! search. There is no way to search unfiltered from here.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;

use super::auth::{Caller, Callers};
use super::backend::Indexes;
use super::search::{Page, SearchFailure, SearchIndex, SearchQuery, SearchResults};
use crate::config::{AccountId, Config};

/// Raw flags of `permdex search`.
#[derive(Debug, Clone, Args)]
pub struct SearchArgs {
    /// The query, as people type it: bare words ranked by BM25 (any may match); +term, "phrases", AND/OR/NOT,
    /// -term, field prefixes (title:, space:, project:, kind:, label:, author:) filter; Jira keys match
    /// whole. An empty query browses everything the account may read.
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

/// What can stop a search from the command line.
#[derive(Debug, thiserror::Error)]
pub enum SearchCliError {
    #[error(transparent)]
    Config(#[from] crate::config::Error),
    #[error("{0:?} is not an account id")]
    BadAccount(String),
    #[error("account {0} is not an active, in-scope user of any synced source")]
    UnknownAccount(String),
    #[error("bad query: {0}")]
    BadQuery(String),
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error("search failed: {0}")]
    Internal(String),
    #[error("cannot write to stdout: {0}")]
    Stdout(#[from] std::io::Error),
}

impl SearchCliError {
    /// Whether the user asked for something invalid (exit status 2) rather than the search failing (1).
    pub fn is_usage(&self) -> bool {
        matches!(
            self,
            SearchCliError::BadAccount(_)
                | SearchCliError::UnknownAccount(_)
                | SearchCliError::BadQuery(_)
                | SearchCliError::BadRequest(_)
        )
    }
}

/// Runs `permdex search` and writes the results to `out`.
pub fn run(args: &SearchArgs, out: &mut impl Write) -> Result<(), SearchCliError> {
    let config = Config::load(&args.config)?;
    let results = search(&config, args)?;
    if args.json {
        let json =
            serde_json::to_string_pretty(&results).map_err(|e| SearchCliError::Internal(e.to_string()))?;
        writeln!(out, "{json}")?;
    } else {
        write_table(&results, args, out)?;
    }
    Ok(())
}

/// Searches `config`'s indexes as `args.account`.
pub fn search(config: &Config, args: &SearchArgs) -> Result<SearchResults, SearchCliError> {
    let account_id =
        AccountId::parse(&args.account).map_err(|_| SearchCliError::BadAccount(args.account.clone()))?;
    let indexes = Indexes::open(config);
    let principals = indexes
        .principals(account_id.as_str())
        .ok_or_else(|| SearchCliError::UnknownAccount(args.account.clone()))?;
    let caller = Caller { account_id, principals };
    let query = SearchQuery {
        q: args.query.clone(),
        kinds: args.kind.clone(),
        spaces: args.space.clone(),
        projects: args.project.clone(),
        sort: if args.recent {
            super::search::SortOrder::Updated
        } else {
            super::search::SortOrder::Relevance
        },
        page: Page::Offset { offset: args.offset, limit: args.limit },
        ..SearchQuery::default()
    };
    indexes.search(&caller, &query).map_err(|failure| match failure {
        SearchFailure::BadQuery(m) => SearchCliError::BadQuery(m),
        SearchFailure::BadRequest(m) => SearchCliError::BadRequest(m),
        SearchFailure::Internal(m) => SearchCliError::Internal(m),
    })
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
