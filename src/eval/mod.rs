//! Offline evaluation of search quality: TREC qrels, runs and topics ([`trec`]), trec_eval's metrics
//! ([`metrics`]), significance tests between runs ([`stats`]) and their reports ([`report`]).
//!
//! Everything here takes plain structs and returns results; reading files, talking to a simulator and
//! printing belong to the command line. Nothing here searches without permissions except the audit that
//! compares a caller's ranking with the unfiltered one, which talks to tantivy directly and returns only
//! the comparison.

pub mod metrics;
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
}
