//! Permissions as data: interned principals, clauses of principals as roaring bitmaps, and profiles
//! (conjunctions of clauses) that documents point at.
//!
//! - [`principal`]: who a permission can name, interned to dense ids.
//! - [`store`]: clauses keyed by the permission object they come from, shared profiles, the caller's allowed
//!   profiles, and the store's on-disk form.
//! - [`reach`]: the same "allowed profiles" answer from inverted lists, in time proportional to what the
//!   caller reaches rather than to the store.
//!
//! This module does not know Atlassian's rules (the crawler resolves them into clauses) nor tantivy (the
//! index stores a profile id per document).

pub mod principal;
pub mod reach;
pub mod store;

pub use principal::{Principal, PrincipalId, PrincipalTable};
pub use reach::Reach;
pub use store::{AclStore, CallerPrincipals, ClauseId, ClauseKey, ProfileId};

/// Errors of the ACL store.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("acl store is corrupt: {0}")]
    Corrupt(String),
}
