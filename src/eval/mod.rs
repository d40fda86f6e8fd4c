//! Offline evaluation of search quality.
//!
//! - [`trec`]: TREC qrels, runs and topics.
//! - [`metrics`]: trec_eval's measures, per query and averaged.
//! - [`collection`]: test collections (Cranfield's SMART files, a Jira CSV with duplicate pairs) as
//!   documents, topics, judgements and a hit → document-number rule.
//! - [`run`]: topics through search (the production path, or one search service) into a run.
//! - [`audit`]: a caller's rankings against the unfiltered rankings restricted to its documents, and
//!   returned ids against the oracle.
//! - [`coverage`]: every item the oracle lists: indexed, with text, or failed with a reason.
//! - [`pipeline`]: `permdex eval collection`, the whole loop.
//! - [`report`]: the collection report as Markdown.
//! - [`stats`], [`compare`]: significance tests between runs, and their reports (Markdown, JSON, HTML).
//! - [`regression`]: expected metrics per collection, checked in CI.
//!
//! Everything here takes plain structs and returns results; the command line (`src/cli/eval.rs`) reads
//! files and prints.
//! Nothing here searches without permissions except [`audit`], which compares a caller's ranking with the
//! unfiltered one on tantivy directly and returns only the comparison.

pub mod audit;
pub mod collection;
pub mod compare;
pub mod coverage;
pub mod metrics;
pub mod pipeline;
pub mod regression;
pub mod report;
pub mod run;
pub mod stats;
pub mod trec;

pub use metrics::{evaluate, Evaluation, Measure, ScoreOptions};
pub use trec::{Qrels, Run, Scored, Topic};

/// Errors of evaluation.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Format(String),
    #[error("unknown measure {0:?} (expected e.g. map, ndcg_cut.10, P.10, recall.100, recip_rank)")]
    BadMeasure(String),
    #[error(transparent)]
    Sim(#[from] crate::sim::Error),
    #[error(transparent)]
    Sync(#[from] crate::sync::Error),
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Search(#[from] crate::search::Error),
}
