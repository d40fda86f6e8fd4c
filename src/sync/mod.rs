//! Synchronisation: turning a site's content and permissions into index commits.
//!
//! - [`engine`]: full, incremental and permissions-only syncs of one source, with checkpoints.
//! - [`resolve`]: Atlassian permission rules (space reads, page restrictions and their inheritance, Jira
//!   browse grants, security levels, comment visibility) → clauses and profiles in the ACL store; the
//!   principals of a caller.
//! - [`docs`]: crawled items → [`crate::index::IndexDoc`]s (ids, titles, text, metadata).
//! - [`state`]: what is remembered between runs (watermarks, checkpoints, per-document versions and ACL inputs).
//! - [`runs`]: run records and `permdex status`.
//! - [`view`]: a source's committed index with its directory: who a caller is at query time.
//!
//! `resolve` and `docs` are pure functions of the crawled model; only `engine` fetches and writes.

pub mod docs;
pub mod engine;
pub mod resolve;
pub mod runs;
pub mod state;
pub mod view;

use std::path::PathBuf;

pub use engine::{index_dir, sync, sync_with, Progress, ProgressEvent, Silent, SyncOptions};
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
}
