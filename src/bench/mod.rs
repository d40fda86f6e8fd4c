//! `permdex bench`: what permission filtering costs, measured so that others can check it.
//!
//! **`bench acl`** ([`acl::run`]) generates a seeded corpus ([`corpus`]: Zipf words and lengths, users in
//! heavy-tailed groups, Atlassian-shaped permissions), writes it as a real permdex index ([`build`]), picks
//! callers who read a given share of it ([`callers`]) and draws queries of several shapes ([`queries`]).
//! Then every strategy ([`strategy`]) answers every (caller, query): tantivy unfiltered (the baseline),
//! permdex's own filter (its automatic choice, and its dense and sparse paths forced), and the designs
//! others use — a `TermSetQuery` on indexed principals, a terms_set-style clause-id match, post-filtering
//! with over-fetch, and an exhaustive per-document check. Every answer is compared with a brute-force one
//! ([`oracle`]) before any time counts; one difference fails the run. The measures ([`measure`]) are
//! latency percentiles at one and several threads (one-thread latencies and first queries in wall-clock or
//! the searching thread's CPU time, [`clock`]), cold and warm queries, cache memory, and the cost of
//! permission changes while queries run. [`report`] writes one JSON result (machine, commit, parameters,
//! every figure), Markdown and CSV; [`plot`] draws SVG charts from that JSON alone.
//!
//! **`bench site`** ([`site::run`]) runs the real pipeline: a simulated site, crawled into an index,
//! served, and loaded over HTTP by a built-in load generator ([`load`]).
//!
//! **`bench soak`** ([`soak::run`]) searches a running `permdex serve` at many connections for minutes while
//! it syncs a simulated site that keeps changing, counting errors and sampling the server's memory
//! ([`memory`]) to tell whether it stays flat.
//!
//! Unfiltered search and the rival designs exist only here, talking to tantivy directly: the search module
//! has no unfiltered entry point, and neither the server nor the CLI's search can reach this module. Nothing
//! here asserts a time; the numbers are reported.

pub mod acl;
pub mod build;
pub mod callers;
pub mod changes;
pub mod clock;
pub mod corpus;
mod covering;
pub mod load;
pub mod measure;
pub mod memory;
pub mod oracle;
pub mod plot;
pub mod queries;
pub mod report;
pub mod site;
pub mod soak;
pub mod strategy;

use std::path::PathBuf;

/// Errors of the benchmark.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A parameter out of range or inconsistent with another.
    #[error("bad benchmark parameter: {0}")]
    Parameter(String),
    /// A strategy answered differently from the brute-force answer: the run is void.
    #[error("wrong answer: {0}")]
    WrongAnswer(String),
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Search(#[from] crate::search::Error),
    #[error("tantivy: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}: {source}")]
    Json { path: PathBuf, source: serde_json::Error },
    /// The simulated site, its sync or its server failed.
    #[error("site: {0}")]
    Site(String),
}

impl Error {
    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }
}

/// What a run reports while it works: stages with a known amount of work, and notes. The binary draws a
/// progress bar; tests stay quiet.
pub trait Progress: Send {
    /// A new stage of `total` steps begins.
    fn stage(&mut self, name: &str, total: u64);
    /// `steps` more steps of the current stage are done.
    fn advance(&mut self, steps: u64);
    /// A line worth showing (a choice made, a target missed).
    fn note(&mut self, message: &str);
}

/// Reports nothing.
#[derive(Debug, Default)]
pub struct Quiet;

impl Progress for Quiet {
    fn stage(&mut self, _name: &str, _total: u64) {}
    fn advance(&mut self, _steps: u64) {}
    fn note(&mut self, _message: &str) {}
}
