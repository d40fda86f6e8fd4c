//! [`IndexWriter`]: creates or opens an index directory, upserts and deletes documents by id, and commits them
//! together with the ACL store and the sync engine's state (see [`crate::index::commit`] for the protocol).
//!
//! Commits fsync and may wait for merges: call them off the async runtime (`spawn_blocking`). The writer is
//! `Send`, so it can move there and back.
//!
//! This file does not search and does not read ACL stores back; [`crate::index::IndexReader`] does.

use std::fs;
use std::path::Path;

use chrono::{DateTime, Utc};
use tantivy::index::SegmentId;
use tantivy::indexer::UserOperation;
use tantivy::schema::{Field, Term};
use tantivy::TantivyDocument;

use super::commit::{self, open_index, Generation, Layout};
use super::schema::{ExtraField, IndexSchema};
use super::{Error, Fields, IndexDoc};
use crate::acl::AclStore;

/// Memory tantivy may use to buffer documents before it flushes a segment, across all its indexing threads.
/// Bounded so a large sync runs in steady memory.
pub const WRITER_MEMORY_BUDGET: usize = 100 * 1024 * 1024;

/// How a writer indexes. The default suits a sync: tantivy's indexing threads and its background merges. A
/// bulk load that must control its segments (the benchmark) asks for one thread and no background merges,
/// and merges with [`IndexWriter::merge`]: documents then keep the order they were added in, and each commit
/// adds segments holding only what was added since the last.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriterOptions {
    /// Indexing threads; `None` lets tantivy choose (one per core, at most 8).
    pub threads: Option<usize>,
    /// Memory for buffered documents across all threads.
    pub memory_bytes: usize,
    pub background_merges: bool,
}

impl Default for WriterOptions {
    fn default() -> Self {
        WriterOptions { threads: None, memory_bytes: WRITER_MEMORY_BUDGET, background_merges: true }
    }
}

/// A value of an extra field (see [`crate::index::schema::ExtraField`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExtraValue<'a> {
    Token(&'a str),
    U64(u64),
}

/// Writes one index directory. Only one writer may hold a directory at a time (tantivy keeps a lock file).
pub struct IndexWriter {
    layout: Layout,
    schema: IndexSchema,
    writer: tantivy::IndexWriter<TantivyDocument>,
    generation: Generation,
    /// Whether an upsert or delete waits for the next commit.
    pending: bool,
}

impl std::fmt::Debug for IndexWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexWriter")
            .field("dir", &self.layout.root())
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

impl IndexWriter {
    /// Creates a new, empty index in `dir` (which may exist if it is empty of index files).
    pub fn create(dir: &Path) -> Result<IndexWriter, Error> {
        IndexWriter::create_with(dir, &[], &WriterOptions::default())
    }

    /// Creates a new, empty index in `dir` with `extra` fields beyond the product's, written as `options`
    /// say.
    pub fn create_with(
        dir: &Path,
        extra: &[ExtraField],
        options: &WriterOptions,
    ) -> Result<IndexWriter, Error> {
        let layout = Layout::new(dir);
        if layout.schema_record().exists() || layout.tantivy_dir().join("meta.json").exists() {
            return Err(Error::AlreadyExists { path: dir.to_path_buf() });
        }
        let schema = IndexSchema::embedded()?.with_extra_fields(extra)?;
        commit::create_private_dir(&layout.tantivy_dir()).map_err(Error::io(layout.tantivy_dir()))?;
        commit::create_private_dir(&layout.meta_dir()).map_err(Error::io(layout.meta_dir()))?;
        let index = tantivy::Index::builder()
            .schema(schema.schema().clone())
            .create_in_dir(layout.tantivy_dir())
            .map_err(Error::tantivy(dir))?;
        // The schema record is written last: an interrupted create leaves no record, and opening it says so
        // instead of trusting half an index.
        commit::write_atomically(&layout.schema_record(), schema.record_json().as_bytes())?;
        IndexWriter::with_index(layout, schema, index, Generation::NONE, options)
    }

    /// Opens an existing index in `dir`. An index written with another schema version is refused.
    pub fn open(dir: &Path) -> Result<IndexWriter, Error> {
        let layout = Layout::new(dir);
        let (schema, index) = open_index(&layout)?;
        let metas = index.load_metas().map_err(Error::tantivy(dir))?;
        let generation = commit::committed_generation(metas.payload.as_deref())
            .map_err(|reason| Error::CommitRecord { path: dir.to_path_buf(), reason })?
            .map_or(Generation::NONE, |p| p.generation);
        IndexWriter::with_index(layout, schema, index, generation, &WriterOptions::default())
    }

    /// Opens the index in `dir`, or creates it when `dir` holds none.
    pub fn open_or_create(dir: &Path) -> Result<IndexWriter, Error> {
        match IndexWriter::open(dir) {
            Err(Error::NotAnIndex { .. }) if !Layout::new(dir).tantivy_dir().join("meta.json").exists() => {
                IndexWriter::create(dir)
            }
            other => other,
        }
    }

    /// Opens the index in `dir`, creates it when `dir` holds none, or replaces it with a new, empty index
    /// when it was written with an older schema (or other fields under this version): such an index cannot
    /// be read, and only a full sync can fill it again. The error it replaced is returned beside the writer,
    /// so the caller can say why everything is synced again. An index written by a newer permdex is refused.
    pub fn open_or_rebuild(dir: &Path) -> Result<(IndexWriter, Option<Error>), Error> {
        match IndexWriter::open_or_create(dir) {
            Err(outdated) if outdated.is_outdated_schema() => {
                let layout = Layout::new(dir);
                // The schema record goes last: until then a crash leaves an index that still says it is
                // outdated, and the next attempt removes the rest.
                remove_dir_if_present(&layout.tantivy_dir())?;
                for entry in fs::read_dir(layout.meta_dir()).map_err(Error::io(layout.meta_dir()))? {
                    let path = entry.map_err(Error::io(layout.meta_dir()))?.path();
                    if path != layout.schema_record() {
                        fs::remove_file(&path).map_err(Error::io(&path))?;
                    }
                }
                fs::remove_file(layout.schema_record()).map_err(Error::io(layout.schema_record()))?;
                Ok((IndexWriter::create(dir)?, Some(outdated)))
            }
            other => other.map(|writer| (writer, None)),
        }
    }

    fn with_index(
        layout: Layout,
        schema: IndexSchema,
        index: tantivy::Index,
        generation: Generation,
        options: &WriterOptions,
    ) -> Result<IndexWriter, Error> {
        schema.register_tokenizers(&index);
        let writer = acquire_writer(&index, options).map_err(Error::tantivy(layout.root()))?;
        if !options.background_merges {
            writer.set_merge_policy(Box::new(tantivy::indexer::NoMergePolicy));
        }
        Ok(IndexWriter { layout, schema, writer, generation, pending: false })
    }

    /// The schema this writer writes, extra fields included.
    pub fn schema(&self) -> &IndexSchema {
        &self.schema
    }

    /// The generation of the last commit (0 before the first).
    pub fn generation(&self) -> Generation {
        self.generation
    }

    pub fn dir(&self) -> &Path {
        self.layout.root()
    }

    /// Adds `doc`, replacing any document with the same id (committed or not).
    ///
    /// Takes `&mut self` although tantivy would accept `&self`: two concurrent upserts of one id could
    /// interleave as delete, delete, add, add and leave two documents.
    pub fn upsert(&mut self, doc: &IndexDoc) -> Result<(), Error> {
        self.upsert_with_extra(doc, &[])
    }

    /// [`IndexWriter::upsert`], with values of the index's extra fields.
    pub fn upsert_with_extra(&mut self, doc: &IndexDoc, extra: &[(Field, ExtraValue)]) -> Result<(), Error> {
        let tantivy_doc = self.document(doc, extra)?;
        let id_term = Term::from_field_text(self.schema.fields().id, &doc.id);
        // A delete applies to documents added before it (by opstamp), so this removes every earlier copy of
        // the id, committed or not, and leaves the new one.
        self.writer
            .run([UserOperation::Delete(id_term), UserOperation::Add(tantivy_doc)])
            .map_err(Error::tantivy(self.layout.root()))?;
        self.pending = true;
        Ok(())
    }

    /// Adds `doc` without looking for an earlier copy: for a bulk load whose ids are all new (an id added
    /// twice is then held twice).
    pub fn add_new(&mut self, doc: &IndexDoc, extra: &[(Field, ExtraValue)]) -> Result<(), Error> {
        let tantivy_doc = self.document(doc, extra)?;
        self.writer.add_document(tantivy_doc).map_err(Error::tantivy(self.layout.root()))?;
        Ok(())
    }

    fn document(&self, doc: &IndexDoc, extra: &[(Field, ExtraValue)]) -> Result<TantivyDocument, Error> {
        if doc.id.is_empty() {
            return Err(Error::InvalidDoc { id: String::new(), reason: "empty id".into() });
        }
        let mut out = to_tantivy(self.schema.fields(), doc);
        for &(field, value) in extra {
            let name = self.schema.schema().get_field_name(field);
            if self.schema.extra_field(name) != Some(field) {
                return Err(Error::InvalidDoc {
                    id: doc.id.clone(),
                    reason: format!("{name} is not an extra field of this index"),
                });
            }
            match value {
                ExtraValue::Token(token) => out.add_text(field, token),
                ExtraValue::U64(n) => out.add_u64(field, n),
            }
        }
        Ok(out)
    }

    /// The committed segments, oldest first.
    pub fn segment_ids(&self) -> Result<Vec<SegmentId>, Error> {
        self.writer.index().searchable_segment_ids().map_err(Error::tantivy(self.layout.root()))
    }

    /// Merges committed `segments` into one, their documents in the given order, and waits for it. The
    /// merge keeps the last commit's generation (its documents and ACL store do not change).
    pub fn merge(&mut self, segments: &[SegmentId]) -> Result<(), Error> {
        if segments.len() < 2 {
            return Ok(());
        }
        self.writer.merge(segments).wait().map_err(Error::tantivy(self.layout.root()))?;
        Ok(())
    }

    /// Removes the document with this id, if any.
    pub fn delete(&mut self, id: &str) {
        self.writer.delete_term(Term::from_field_text(self.schema.fields().id, id));
        self.pending = true;
    }

    /// Removes every document of `product` (all Confluence or all Jira documents), committed or not.
    pub fn delete_product(&mut self, product: super::Product) {
        self.writer.delete_term(Term::from_field_text(self.schema.fields().source, product.as_str()));
        self.pending = true;
    }

    /// Drops every committed segment without reading it, for an index whose commit cannot be trusted
    /// (deleting by term would read damaged term dictionaries). The next commit makes it final. Only
    /// before any upsert or delete of this writer: tantivy's way of dropping segments also forgets
    /// operations not yet committed.
    pub fn discard_committed(&mut self) -> Result<(), Error> {
        if self.pending {
            return Err(Error::CommitRecord {
                path: self.layout.root().to_path_buf(),
                reason: "committed segments can only be discarded before any other change".into(),
            });
        }
        self.writer.delete_all_documents().map_err(Error::tantivy(self.layout.root()))?;
        Ok(())
    }

    /// Commits every upsert and delete since the last commit, with `acl` and `state` as the next generation.
    ///
    /// `state` is opaque here: the sync engine's checkpoints and watermarks, handed back by
    /// [`crate::index::IndexReader::state`]. Blocks on disk I/O.
    pub fn commit(&mut self, acl: &AclStore, state: &[u8]) -> Result<Generation, Error> {
        let next = self.generation.next();
        let payload = commit::write_generation(&self.layout, next, &acl.to_bytes(), state)?;
        let mut prepared = self.writer.prepare_commit().map_err(Error::tantivy(self.layout.root()))?;
        prepared.set_payload(&payload.to_json());
        prepared.commit().map_err(Error::tantivy(self.layout.root()))?;
        self.generation = next;
        self.pending = false;
        for path in commit::remove_stale_generations(&self.layout, next) {
            tracing::warn!(path = %path.display(), "could not remove a stale generation file");
        }
        Ok(next)
    }

    /// Discards every upsert and delete since the last commit.
    pub fn rollback(&mut self) -> Result<(), Error> {
        self.writer.rollback().map_err(Error::tantivy(self.layout.root()))?;
        self.pending = false;
        Ok(())
    }

    /// Waits for background merges to finish and releases the directory lock.
    pub fn close(self) -> Result<(), Error> {
        let root = self.layout.root().to_path_buf();
        self.writer.wait_merging_threads().map_err(Error::tantivy(root))
    }
}

fn remove_dir_if_present(dir: &Path) -> Result<(), Error> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(Error::io(dir)(e)),
        _ => Ok(()),
    }
}

/// Opens tantivy's writer, waiting a bounded time for the writer lock: a writer that was just dropped may
/// still be releasing it while its threads wind down, and that is not a reason to fail a sync.
fn acquire_writer(index: &tantivy::Index, options: &WriterOptions) -> tantivy::Result<tantivy::IndexWriter> {
    const ATTEMPTS: u32 = 100;
    let mut attempt = 0;
    loop {
        let writer = match options.threads {
            Some(threads) => index.writer_with_num_threads(threads, options.memory_bytes),
            None => index.writer(options.memory_bytes),
        };
        match writer {
            Err(tantivy::TantivyError::LockFailure(tantivy::directory::error::LockError::LockBusy, _))
                if attempt < ATTEMPTS =>
            {
                attempt += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// Times are kept to the millisecond (the precision the schema gives dates).
pub(crate) fn to_tantivy_date(t: DateTime<Utc>) -> tantivy::DateTime {
    tantivy::DateTime::from_timestamp_millis(t.timestamp_millis())
}

fn to_tantivy(fields: &Fields, doc: &IndexDoc) -> TantivyDocument {
    let mut out = TantivyDocument::new();
    out.add_text(fields.id, &doc.id);
    out.add_u64(fields.id_hash, super::id_hash(&doc.id));
    out.add_text(fields.source, doc.product.as_str());
    out.add_text(fields.kind, doc.kind.as_str());
    out.add_text(fields.title, &doc.title);
    if let Some(shown) = &doc.display_title {
        out.add_text(fields.display_title, shown);
    }
    out.add_text(fields.body, &doc.body);
    for key in doc.issue_keys() {
        out.add_text(fields.keys, key);
    }
    let optional = [
        (fields.space, &doc.space),
        (fields.space_name, &doc.space_name),
        (fields.project, &doc.project),
        (fields.container, &doc.container),
        (fields.author, &doc.author),
        (fields.author_name, &doc.author_name),
        (fields.issue_key, &doc.issue_key),
        (fields.issue_type, &doc.issue_type),
        (fields.status, &doc.status),
        (fields.status_category, &doc.status_category),
        (fields.assignee, &doc.assignee),
        (fields.assignee_name, &doc.assignee_name),
    ];
    for (field, value) in optional {
        if let Some(v) = value {
            out.add_text(field, v);
        }
    }
    for ancestor in &doc.ancestors {
        out.add_text(fields.ancestors, ancestor);
    }
    for label in &doc.labels {
        out.add_text(fields.labels, label);
    }
    out.add_date(fields.created, to_tantivy_date(doc.created));
    out.add_date(fields.updated, to_tantivy_date(doc.updated));
    out.add_text(fields.url, &doc.url);
    out.add_u64(fields.acl_profile, u64::from(doc.acl_profile.0));
    out.add_u64(fields.version, doc.version);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send<T: Send>() {}

    #[test]
    fn writer_is_send() {
        assert_send::<IndexWriter>();
    }

    #[test]
    fn create_refuses_an_existing_index_and_open_refuses_an_empty_dir() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(matches!(IndexWriter::open(dir.path()), Err(Error::NotAnIndex { .. })));
        let writer = IndexWriter::create(dir.path()).expect("create");
        assert_eq!(writer.generation(), Generation::NONE);
        writer.close().expect("close");
        assert!(matches!(IndexWriter::create(dir.path()), Err(Error::AlreadyExists { .. })));
        let writer = IndexWriter::open_or_create(dir.path()).expect("reopen");
        assert_eq!(writer.generation(), Generation::NONE);
    }

    #[test]
    fn delete_product_and_discard_committed() {
        use super::super::{IndexReader, Kind, Product};
        let dir = tempfile::tempdir().expect("tempdir");
        let mut acl = AclStore::default();
        let anyone = acl.set_clause(crate::acl::ClauseKey("c".into()), &[crate::acl::Principal::Anyone]);
        let profile = acl.profile(&[anyone]);
        let docs = [
            ("confluence:page:1", Product::Confluence, Kind::Page),
            ("confluence:comment:2", Product::Confluence, Kind::Comment),
            ("jira:issue:3", Product::Jira, Kind::Issue),
        ];
        let mut writer = IndexWriter::create(dir.path()).expect("create");
        for (id, product, kind) in docs {
            writer.upsert(&IndexDoc::new(id, product, kind, profile)).expect("upsert");
        }
        writer.commit(&acl, b"").expect("commit");
        let ids = |dir: &Path| {
            let mut ids: Vec<String> = IndexReader::open(dir)
                .expect("open")
                .all_ids()
                .expect("ids")
                .into_iter()
                .map(|(id, _)| id)
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(dir.path()).len(), 3);

        writer.delete_product(Product::Confluence);
        writer.commit(&acl, b"").expect("commit");
        assert_eq!(ids(dir.path()), vec!["jira:issue:3".to_owned()]);

        writer
            .upsert(&IndexDoc::new("confluence:page:4", Product::Confluence, Kind::Page, profile))
            .expect("upsert");
        assert!(writer.discard_committed().is_err(), "would forget the pending upsert");
        writer.commit(&acl, b"").expect("commit");
        assert_eq!(ids(dir.path()).len(), 2);
        writer.discard_committed().expect("nothing pending");
        writer.commit(&acl, b"").expect("commit");
        assert!(ids(dir.path()).is_empty());
    }

    #[test]
    fn empty_ids_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut writer = IndexWriter::create(dir.path()).expect("create");
        let doc = IndexDoc::new("", super::super::Product::Jira, super::super::Kind::Issue, AclStore::NOBODY);
        assert!(matches!(writer.upsert(&doc), Err(Error::InvalidDoc { .. })));
    }
}
