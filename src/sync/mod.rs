//! Synchronisation: turning a site's content and permissions into index commits. The hub of the crate:
//! the only module that uses the crawlers (`atlassian`), the extractor, the ACL store and the index writer
//! together. Its public face is small: [`sync_with`] (one run of one source), [`SourceIndex`] (a source's
//! committed index and who a caller is in it), [`Progress`], and the [`runs`], [`state`] and [`resolve`]
//! modules whose types tools and tests read.
//!
//! Private files, one job each:
//! - `engine`: the steps of a run in order (full, incremental, permissions-only), with checkpoints;
//! - `ledger`: the bookkeeping every step writes to (writer, ACL store, state, run record, touched set,
//!   watermarks, checkpoints, commits);
//! - the steps, siblings that use the ledger and not each other: `permissions` (snapshot and refresh),
//!   `confluence` and `jira` (the crawls), `attachments` (download and extraction), `scope`;
//! - `lock`: one run of a source at a time, across processes;
//! - `listing`: the one listing walker; `progress`: what a run reports; `docs`: crawled items →
//!   [`crate::index::IndexDoc`]s; `view`: a source's committed index with its directory.
//!
//! Public: [`resolve`] (the rules of `docs/permissions.md` → clauses and profiles; a caller's principals),
//! [`state`] (what is remembered between runs), [`runs`] (run records and `permdex status`), [`datadir`]
//! (the data directory created private, and the check that it stays so), [`doctor`] (a data directory
//! checked offline).
//!
//! `resolve` and `docs` are pure functions of the crawled model; only the run's steps fetch and write.

mod attachments;
mod confluence;
pub mod datadir;
mod docs;
pub mod doctor;
mod engine;
mod jira;
mod ledger;
mod listing;
pub mod lock;
mod permissions;
mod progress;
pub mod resolve;
pub mod runs;
mod scope;
pub mod state;
mod view;

use std::path::PathBuf;

pub use engine::{index_dir, sync, sync_with, SyncOptions};
pub use progress::{plain_line, Estimate, Progress, ProgressEvent, Silent, StderrProgress};
pub use runs::{Mode, RunOutcome, RunRecord};
pub use view::{facts_of, principals_in, CommitFacts, SourceIndex};

/// Errors of the sync engine that end a run (per-item problems are recorded in its run record instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Atlassian(#[from] crate::atlassian::Error),
    /// The site cannot be synced at all: credentials refused, a right missing, the host unreachable or
    /// not Atlassian Cloud. The run fails at once with this diagnosis.
    #[error("{0}")]
    Site(#[from] crate::atlassian::diagnosis::ProbeError),
    /// Another run of the source (in this process or another) holds its lock.
    #[error("another sync or purge of source {name} is running; try again when it ends")]
    Busy { name: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("background task failed: {0}")]
    Task(String),
    /// A document the engine wrote without a well-formed id (a bug: `docs.rs` names every document).
    #[error("{0}")]
    BadDocId(#[from] crate::index::UnknownValue),
}
