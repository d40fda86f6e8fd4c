//! Synchronisation: turning what the crawlers read into index documents with exact permissions.
//!
//! - [`resolve`]: Atlassian permission rules (space reads, page restrictions and their inheritance, Jira
//!   browse grants, security levels, comment visibility) → clauses and profiles in the ACL store; the
//!   principals of a caller.
//! - [`docs`]: crawled items → [`crate::index::IndexDoc`]s (ids, titles, text, metadata).
//!
//! Neither part fetches anything: both are pure functions of the crawled model.

pub mod docs;
pub mod resolve;

/// Errors of the sync engine.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A stored per-document permission input that cannot be read back.
    #[error("bad acl input of {doc_id}: {reason}")]
    BadAclInput { doc_id: String, reason: String },
}
