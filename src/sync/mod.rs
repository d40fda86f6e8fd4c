//! Synchronisation: turning a site's content and permissions into index commits.
//!
//! - [`engine`]: full, incremental and permissions-only syncs of one source, with checkpoints: the steps
//!   of a run in order. Its private siblings: `ledger` (the bookkeeping every step writes to: writer,
//!   state, run record, watermarks, checkpoints), `permissions` (the snapshot and the refresh),
//!   `confluence` and `jira` (the crawls), `attachments` (download and extraction), `listing` (the one
//!   listing walker), `scope`.
//! - [`progress`]: what a run reports while it runs, and how it is asked to stop.
//! - [`resolve`]: Atlassian permission rules (space reads, page restrictions and their inheritance, Jira
//!   browse grants, security levels, comment visibility) → clauses and profiles in the ACL store; the
//!   principals of a caller.
//! - [`docs`]: crawled items → [`crate::index::IndexDoc`]s (ids, titles, text, metadata).
//! - [`state`]: what is remembered between runs (watermarks, checkpoints, per-document versions and ACL inputs).
//! - [`runs`]: run records and `permdex status`.
//! - [`view`]: a source's committed index with its directory: who a caller is at query time.
//!
//! `resolve` and `docs` are pure functions of the crawled model; only `engine` fetches and writes.

mod attachments;
mod confluence;
pub mod docs;
pub mod engine;
mod jira;
mod ledger;
mod listing;
mod permissions;
pub mod progress;
pub mod resolve;
pub mod runs;
mod scope;
pub mod state;
pub mod view;

use std::path::PathBuf;

pub use engine::{index_dir, sync, sync_with, SyncOptions};
pub use progress::{Progress, ProgressEvent, Silent, StderrProgress};
pub use runs::{Mode, RunOutcome, RunRecord};
pub use view::SourceIndex;

/// Errors of the sync engine that end a run (per-item problems are recorded in its run record instead).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stored per-document permission input that cannot be read back.
    #[error("bad acl input of {doc_id}: {reason}")]
    BadAclInput { doc_id: String, reason: String },
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error(transparent)]
    Atlassian(#[from] crate::atlassian::Error),
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: std::io::Error },
    #[error("no source named {0:?} in the configuration")]
    UnknownSource(String),
    #[error("background task failed: {0}")]
    Task(String),
    /// A document the engine wrote without a well-formed id (a bug: `docs.rs` names every document).
    #[error("{0}")]
    BadDocId(#[from] crate::index::UnknownValue),
}
