//! The search index: tantivy documents plus the ACL store, committed together.
//!
//! - [`schema`]: the index schema as data (`index-schema/schema.json`, embedded in the binary), the tantivy
//!   [`Schema`](tantivy::schema::Schema) and tokenizers built from it, and the check that code and schema agree.
//! - [`doc`]: [`IndexDoc`], the typed document the sync engine hands over, [`Product`], [`Kind`], the
//!   [`DocId`] of a synced document, and the issue-key scanner.
//! - [`writer`]: [`IndexWriter`]: upsert and delete by id, and the commit protocol.
//! - [`reader`]: [`IndexReader`]: the last commit's searcher, ACL store and sync state, failing closed when the
//!   ACL store, the state or the segment files of that commit cannot be trusted.
//! - [`commit`]: the on-disk layout of a data dir and the generation files (`meta/gen-{n}.acl`, `.state`).
//! - [`verify`]: whether a commit's segment files are what tantivy wrote (each file's CRC32 against its
//!   footer); the reader checks them before it opens them.
//!
//! ```no_run
//! use permdex::acl::{AclStore, ClauseKey, Principal};
//! use permdex::index::{DocId, IndexDoc, IndexReader, IndexWriter, Kind};
//!
//! # fn main() -> Result<(), permdex::index::Error> {
//! let dir = std::path::Path::new("/var/lib/permdex/index");
//! let mut acl = AclStore::default();
//! let space = acl.set_clause(ClauseKey("confluence:space:1:read".into()), &[Principal::Anyone]);
//! let profile = acl.profile(&[space]);
//!
//! let mut writer = IndexWriter::open_or_create(dir)?;
//! writer.upsert(&IndexDoc::named(&DocId::confluence(Kind::Page, "1"), profile))?;
//! writer.commit(&acl, b"sync checkpoint")?;
//!
//! let reader = IndexReader::open(dir)?;
//! assert!(reader.integrity_problem().is_none());
//! let anyone = reader.acl().caller(&[Principal::Anyone]);
//! assert_eq!(reader.visible_ids(&anyone)?, vec!["confluence:page:1".to_string()]);
//! # Ok(())
//! # }
//! ```
//!
//! This module knows neither Atlassian JSON nor the simulator: the sync engine converts what it crawled into
//! [`IndexDoc`]s and resolved [`crate::acl`] profiles. Query building, ranking and the ACL filter on search
//! paths live in `search/`.

pub mod commit;
pub mod doc;
pub mod reader;
pub mod schema;
pub mod verify;
pub mod writer;

use std::path::PathBuf;

pub use commit::Generation;
pub use doc::{id_hash, issue_keys, DocId, IndexDoc, Kind, Product, UnknownValue};
pub use reader::{Holdings, IndexReader};
pub use schema::{ExtraField, ExtraKind, Fields, IndexSchema};
pub use writer::{ExtraValue, IndexWriter, WriterOptions};

/// Errors of the index layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The schema JSON is malformed or disagrees with what the code reads and writes.
    #[error("index schema definition is invalid: {0}")]
    SchemaDefinition(String),
    /// An older version is rebuilt by the next sync ([`IndexWriter::open_or_rebuild`]); a newer one, written
    /// by a newer permdex, is left alone.
    #[error("{}", schema_version_message(path, *found, *expected))]
    SchemaVersion { path: PathBuf, found: u64, expected: u64 },
    #[error(
        "index at {path} does not match schema version {version} although it claims it: \
         the next sync of its source rebuilds it from the site"
    )]
    SchemaMismatch { path: PathBuf, version: u64 },
    #[error("no permdex index at {path}")]
    NotAnIndex { path: PathBuf },
    #[error("an index already exists at {path}")]
    AlreadyExists { path: PathBuf },
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("index at {path}: {source}")]
    Tantivy { path: PathBuf, source: tantivy::TantivyError },
    #[error("index at {path} has an unreadable commit record: {reason}")]
    CommitRecord { path: PathBuf, reason: String },
    #[error("document {id}: {reason}")]
    InvalidDoc { id: String, reason: String },
    #[error("stored document {id} is unreadable: {reason}")]
    StoredDoc { id: String, reason: String },
}

fn schema_version_message(path: &std::path::Path, found: u64, expected: u64) -> String {
    let path = path.display();
    if found < expected {
        format!(
            "index at {path} was written with schema version {found}, older than this permdex's {expected}: \
             the next sync of its source rebuilds it from the site"
        )
    } else {
        format!(
            "index at {path} was written by a newer permdex (schema version {found}; this one uses \
             {expected}): run that permdex, or delete {path} and sync to rebuild it with this one"
        )
    }
}

impl Error {
    /// Whether the index was written with an older schema, or with other fields under this version: a new
    /// index replaces it ([`IndexWriter::open_or_rebuild`]).
    pub fn is_outdated_schema(&self) -> bool {
        match self {
            Error::SchemaVersion { found, expected, .. } => found < expected,
            Error::SchemaMismatch { .. } => true,
            _ => false,
        }
    }

    fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::Io { path, source }
    }

    fn tantivy(path: impl Into<PathBuf>) -> impl FnOnce(tantivy::TantivyError) -> Error {
        let path = path.into();
        move |source| Error::Tantivy { path, source }
    }
}
