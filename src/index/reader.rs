//! [`IndexReader`]: a consistent view of the last commit — tantivy searcher, ACL store and sync state of the
//! same generation — plus the lookups the sync engine needs (by id, all ids with versions) and a per-caller
//! visibility listing for tests.
//!
//! Fail closed: if the commit's ACL or state file is missing, unreadable or does not match the hash in the
//! commit payload, the reader opens anyway with an empty ACL store (every document invisible to everyone) and
//! says why in [`IndexReader::integrity_problem`]. If a file of the commit's segments is missing or fails
//! its checksum (`verify.rs`, checked before tantivy opens a segment, at open and at every reload), the
//! reader serves no segment at all: an empty searcher, no documents, no state. It never guesses, and never
//! falls back to an older commit.
//!
//! This file does not rank or filter queries; `search/` builds on [`IndexReader::searcher`] and
//! [`IndexReader::acl`].

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use tantivy::collector::Count;
use tantivy::index::SegmentMeta;
use tantivy::query::{BooleanQuery, Query, TermQuery};
use tantivy::schema::{IndexRecordOption, Term, Value};
use tantivy::{DocAddress, DocSet, ReloadPolicy, Searcher, SegmentReader, TantivyDocument, TERMINATED};

use super::commit::{self, open_index, Generation, Layout};
use super::schema::{field, IndexSchema};
use super::verify::{self, Damage};
use super::{Error, Fields, IndexDoc, Kind, Product};
use crate::acl::{AclStore, CallerPrincipals, ProfileId};

/// How often opening retries when a writer commits in the middle of it, before failing closed.
const LOAD_ATTEMPTS: usize = 5;

/// Reads one index directory. Cheap to query; [`IndexReader::reload`] picks up new commits.
pub struct IndexReader {
    layout: Layout,
    schema: IndexSchema,
    index: tantivy::Index,
    /// tantivy's reader, opened by the first load whose segment files check out (opening it reads them).
    reader: Option<tantivy::IndexReader>,
    snapshot: Snapshot,
}

/// Everything that must come from one commit.
struct Snapshot {
    searcher: Searcher,
    generation: Generation,
    acl: Arc<AclStore>,
    state: Arc<[u8]>,
    problem: Option<String>,
}

impl std::fmt::Debug for IndexReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IndexReader")
            .field("dir", &self.layout.root())
            .field("generation", &self.snapshot.generation)
            .field("problem", &self.snapshot.problem)
            .finish_non_exhaustive()
    }
}

impl IndexReader {
    /// Opens the index in `dir` at its last commit. An index written with another schema version is refused;
    /// a commit whose ACL store cannot be trusted opens with everything invisible (see the module docs).
    pub fn open(dir: &Path) -> Result<IndexReader, Error> {
        let layout = Layout::new(dir);
        let (schema, index) = open_index(&layout)?;
        let mut reader = None;
        let snapshot = load_snapshot(&layout, &schema, &index, &mut reader)?;
        Ok(IndexReader { layout, schema, index, reader, snapshot })
    }

    /// Moves to the latest commit, checking its segment files again.
    pub fn reload(&mut self) -> Result<(), Error> {
        self.snapshot = load_snapshot(&self.layout, &self.schema, &self.index, &mut self.reader)?;
        Ok(())
    }

    pub fn dir(&self) -> &Path {
        self.layout.root()
    }

    /// The tantivy searcher of the current commit. Cloning it is cheap and keeps its segments alive.
    pub fn searcher(&self) -> &Searcher {
        &self.snapshot.searcher
    }

    /// The tantivy index, with this schema's tokenizers registered (query parsers need them).
    pub fn index(&self) -> &tantivy::Index {
        &self.index
    }

    pub fn schema(&self) -> &IndexSchema {
        &self.schema
    }

    pub fn fields(&self) -> &Fields {
        self.schema.fields()
    }

    /// The ACL store committed with the current searcher; empty when [`IndexReader::integrity_problem`] is set.
    pub fn acl(&self) -> &Arc<AclStore> {
        &self.snapshot.acl
    }

    /// The sync state committed with the current searcher; empty before the first commit and when
    /// [`IndexReader::integrity_problem`] is set (a sync must then start over).
    pub fn state(&self) -> &[u8] {
        &self.snapshot.state
    }

    pub fn generation(&self) -> Generation {
        self.snapshot.generation
    }

    /// Why the current commit cannot be trusted, if it cannot: its ACL store or state fails its check, or
    /// its segment files do. While this is set every document is invisible. The text names files relative
    /// to the index directory, never the directory itself.
    pub fn integrity_problem(&self) -> Option<&str> {
        self.snapshot.problem.as_deref()
    }

    /// Documents in the index (deleted ones excluded), regardless of who may see them.
    pub fn doc_count(&self) -> u64 {
        self.snapshot.searcher.num_docs()
    }

    /// The generation the index's last commit names on disk now, which may be newer than the one this
    /// reader shows (another process committed since): one small file read, no segment is opened.
    pub fn committed_generation(&self) -> Result<Generation, Error> {
        let metas = self.index.load_metas().map_err(self.tantivy_err())?;
        match commit::committed_generation(metas.payload.as_deref()) {
            Ok(payload) => Ok(payload.map_or(Generation::NONE, |p| p.generation)),
            Err(reason) => Err(Error::CommitRecord { path: self.layout.tantivy_dir(), reason }),
        }
    }

    /// What the current commit holds: documents per product and kind, and how many of them point at the
    /// empty profile (visible to nobody, their permissions could not be read). Deleted documents excluded.
    pub fn holdings(&self) -> Result<Holdings, Error> {
        let searcher = &self.snapshot.searcher;
        let fields = self.fields();
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(Term::from_field_text(field, text), IndexRecordOption::Basic))
        };
        let mut by_kind = std::collections::BTreeMap::new();
        for product in Product::ALL {
            for kind in Kind::ALL {
                let query = BooleanQuery::intersection(vec![
                    term(fields.source, product.as_str()),
                    term(fields.kind, kind.as_str()),
                ]);
                let count = searcher.search(&query, &Count).map_err(self.tantivy_err())? as u64;
                if count > 0 {
                    by_kind.insert((product, kind), count);
                }
            }
        }
        let nobody = TermQuery::new(
            Term::from_field_u64(fields.acl_profile, u64::from(AclStore::NOBODY.0)),
            IndexRecordOption::Basic,
        );
        let unreadable = searcher.search(&nobody, &Count).map_err(self.tantivy_err())? as u64;
        Ok(Holdings { total: self.doc_count(), by_kind, unreadable })
    }

    /// The stored document with this id, if the index holds it.
    pub fn get(&self, id: &str) -> Result<Option<IndexDoc>, Error> {
        let searcher = &self.snapshot.searcher;
        let term = Term::from_field_text(self.fields().id, id);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let inverted = segment.inverted_index(self.fields().id).map_err(self.tantivy_err())?;
            let postings = inverted
                .read_postings(&term, IndexRecordOption::Basic)
                .map_err(|e| Error::Io { path: self.layout.tantivy_dir(), source: e })?;
            let Some(mut postings) = postings else { continue };
            let mut doc = postings.doc();
            while doc != TERMINATED {
                if is_alive(segment, doc) {
                    let address = DocAddress::new(ord as u32, doc);
                    let stored: TantivyDocument = searcher.doc(address).map_err(self.tantivy_err())?;
                    return from_tantivy(self.fields(), id, &stored).map(Some);
                }
                doc = postings.advance();
            }
        }
        Ok(None)
    }

    /// Every document's id and version, sorted by id: what a sync needs to skip unchanged items and to find
    /// deleted ones. Read from the fast columns, without touching stored documents.
    pub fn all_ids(&self) -> Result<Vec<(String, u64)>, Error> {
        let mut out = Vec::with_capacity(self.doc_count() as usize);
        for segment in self.snapshot.searcher.segment_readers() {
            let ids = SegmentIds::open(segment).map_err(self.tantivy_err())?;
            let versions = segment.fast_fields().u64(field::VERSION).map_err(self.tantivy_err())?;
            for doc in segment.doc_ids_alive() {
                if let Some(id) = ids.id(doc) {
                    out.push((id.to_string(), versions.first(doc).unwrap_or(0)));
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// The ids of every document `caller` may see under the current ACL store, sorted. For tests and audits:
    /// search paths filter per segment instead of listing.
    pub fn visible_ids(&self, caller: &CallerPrincipals) -> Result<Vec<String>, Error> {
        let allowed = self.snapshot.acl.allowed_profiles(caller);
        let mut out = Vec::new();
        if allowed.is_empty() {
            return Ok(out);
        }
        for segment in self.snapshot.searcher.segment_readers() {
            let ids = SegmentIds::open(segment).map_err(self.tantivy_err())?;
            let profiles = segment.fast_fields().u64(field::ACL_PROFILE).map_err(self.tantivy_err())?;
            for doc in segment.doc_ids_alive() {
                // A document without a profile, or with one beyond u32, matches no known profile: invisible.
                let profile = profiles.first(doc).and_then(|p| u32::try_from(p).ok());
                if profile.is_some_and(|p| allowed.contains(p)) {
                    if let Some(id) = ids.id(doc) {
                        out.push(id.to_string());
                    }
                }
            }
        }
        out.sort_unstable();
        Ok(out)
    }

    /// How many documents point at a profile the committed ACL store does not have (or at none). They are
    /// invisible to everyone; a sync never writes one, so any is a sign of damage or of a bug.
    pub fn unknown_profile_count(&self) -> Result<u64, Error> {
        let known = self.snapshot.acl.profile_count() as u64;
        let mut unknown = 0;
        for segment in self.snapshot.searcher.segment_readers() {
            let profiles = segment.fast_fields().u64(field::ACL_PROFILE).map_err(self.tantivy_err())?;
            unknown +=
                segment.doc_ids_alive().filter(|&doc| profiles.first(doc).is_none_or(|p| p >= known)).count()
                    as u64;
        }
        Ok(unknown)
    }

    fn tantivy_err(&self) -> impl FnOnce(tantivy::TantivyError) -> Error + '_ {
        Error::tantivy(self.layout.root())
    }
}

/// What one commit of an index holds (see [`IndexReader::holdings`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Every live document.
    pub total: u64,
    /// Live documents per product and kind; kinds with none are absent.
    pub by_kind: std::collections::BTreeMap<(Product, Kind), u64>,
    /// Live documents nobody may read (their permissions could not be read).
    pub unreadable: u64,
}

fn is_alive(segment: &SegmentReader, doc: u32) -> bool {
    segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc))
}

/// A segment's `id` column with its dictionary decoded once, so listing every id costs one pass over the
/// dictionary rather than one dictionary lookup per document.
struct SegmentIds {
    ords: tantivy::columnar::Column<u64>,
    terms: Vec<String>,
}

impl SegmentIds {
    fn open(segment: &SegmentReader) -> tantivy::Result<SegmentIds> {
        let Some(column) = segment.fast_fields().str(field::ID)? else {
            // A segment in which no document has an id (cannot happen through the writer).
            return Ok(SegmentIds {
                ords: tantivy::columnar::Column::build_empty_column(0),
                terms: Vec::new(),
            });
        };
        let mut terms = Vec::with_capacity(column.num_terms());
        let mut stream = column.dictionary().stream()?;
        while stream.advance() {
            terms.push(String::from_utf8_lossy(stream.key()).into_owned());
        }
        Ok(SegmentIds { ords: column.ords().clone(), terms })
    }

    fn id(&self, doc: u32) -> Option<&str> {
        let ord = self.ords.first(doc)?;
        self.terms.get(usize::try_from(ord).ok()?).map(String::as_str)
    }
}

/// Reads the commit's payload, its generation files and the matching searcher, retrying while a writer
/// commits or merges underneath. The commit's segment files are checked before tantivy opens them; the
/// searcher is kept only if it reads exactly the segments that were checked and the payload did not change
/// meanwhile (generations only grow, so a changed commit cannot look unchanged).
fn load_snapshot(
    layout: &Layout,
    schema: &IndexSchema,
    index: &tantivy::Index,
    reader: &mut Option<tantivy::IndexReader>,
) -> Result<Snapshot, Error> {
    let metas = || index.load_metas().map_err(Error::tantivy(layout.root()));
    for _ in 0..LOAD_ATTEMPTS {
        let before = metas()?;
        let loaded = load_generation(layout, before.payload.as_deref());
        let damage = verify::damaged_files(&layout.tantivy_dir(), &before.segments);
        if !damage.is_empty() {
            // A merge that finished after `before` was read removes files that are not damaged, only gone.
            if !same_segments(&metas()?.segments, &before.segments) {
                continue;
            }
            let generation = loaded.as_ref().map_or_else(|(g, _)| *g, |l| l.generation);
            return Ok(fail_closed(
                empty_searcher(layout, schema)?,
                generation,
                damage_report(&damage),
                layout,
            ));
        }
        let searcher = match reader {
            Some(reader) => {
                reader.reload().map_err(Error::tantivy(layout.root()))?;
                reader.searcher()
            }
            None => {
                let opened: tantivy::IndexReader = index
                    .reader_builder()
                    .reload_policy(ReloadPolicy::Manual)
                    .try_into()
                    .map_err(Error::tantivy(layout.root()))?;
                reader.insert(opened).searcher()
            }
        };
        let after = metas()?;
        if after.payload != before.payload || !searcher_reads(&searcher, &before.segments) {
            continue;
        }
        let loaded = match loaded {
            Ok(l) if l.generation == Generation::NONE && searcher.num_docs() > 0 => Err((
                Generation::NONE,
                "the index holds documents but no commit names an acl store".to_string(),
            )),
            other => other,
        };
        return Ok(match loaded {
            Ok(l) => Snapshot {
                searcher,
                generation: l.generation,
                acl: Arc::new(l.acl),
                state: l.state.into(),
                problem: None,
            },
            Err((generation, problem)) => fail_closed(searcher, generation, problem, layout),
        });
    }
    let problem = "the index kept changing while it was being opened".to_string();
    Ok(fail_closed(empty_searcher(layout, schema)?, Generation::NONE, problem, layout))
}

/// Whether two commits list the same segments with the same deletes.
fn same_segments(a: &[SegmentMeta], b: &[SegmentMeta]) -> bool {
    let key = |m: &SegmentMeta| (m.id(), m.delete_opstamp());
    a.len() == b.len() && a.iter().map(key).eq(b.iter().map(key))
}

/// Whether `searcher` reads exactly the segments `metas` lists, with the same deletes.
fn searcher_reads(searcher: &Searcher, metas: &[SegmentMeta]) -> bool {
    let mut read: Vec<_> =
        searcher.segment_readers().iter().map(|r| (r.segment_id(), r.delete_opstamp())).collect();
    let mut listed: Vec<_> = metas.iter().map(|m| (m.id(), m.delete_opstamp())).collect();
    read.sort_unstable();
    listed.sort_unstable();
    read == listed
}

/// A searcher over no segment, with the index's schema and tokenizers: what a reader whose segment files
/// cannot be trusted serves.
fn empty_searcher(layout: &Layout, schema: &IndexSchema) -> Result<Searcher, Error> {
    let empty = tantivy::Index::create_in_ram(schema.schema().clone());
    schema.register_tokenizers(&empty);
    let reader: tantivy::IndexReader = empty
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()
        .map_err(Error::tantivy(layout.root()))?;
    Ok(reader.searcher())
}

/// Most damaged files named in a problem; the count is always complete.
const DAMAGE_NAMED: usize = 5;

fn damage_report(damage: &[Damage]) -> String {
    let named: Vec<String> = damage.iter().take(DAMAGE_NAMED).map(Damage::to_string).collect();
    let more = damage.len().saturating_sub(DAMAGE_NAMED);
    let more = if more > 0 { format!("; and {more} more") } else { String::new() };
    format!(
        "{} segment file(s) damaged: {}{more}; nothing is served until a sync rebuilds the index",
        damage.len(),
        named.join("; ")
    )
}

fn fail_closed(searcher: Searcher, generation: Generation, problem: String, layout: &Layout) -> Snapshot {
    tracing::warn!(dir = %layout.root().display(), generation = generation.0, %problem,
        "index commit untrusted: every document is invisible until the next good commit");
    Snapshot {
        searcher,
        generation,
        acl: Arc::new(AclStore::default()),
        state: Arc::from(Vec::new()),
        problem: Some(problem),
    }
}

struct LoadedGeneration {
    generation: Generation,
    acl: AclStore,
    state: Vec<u8>,
}

/// The ACL store and state a payload names, or the generation (if known) and what is wrong.
fn load_generation(layout: &Layout, payload: Option<&str>) -> Result<LoadedGeneration, (Generation, String)> {
    let payload = match commit::committed_generation(payload) {
        Ok(Some(p)) => p,
        Ok(None) => {
            return Ok(LoadedGeneration {
                generation: Generation::NONE,
                acl: AclStore::default(),
                state: Vec::new(),
            })
        }
        Err(problem) => return Err((Generation::NONE, problem)),
    };
    let generation = payload.generation;
    let files = commit::read_generation(layout, &payload).map_err(|p| (generation, p))?;
    let acl = AclStore::from_bytes(&files.acl)
        .map_err(|e| (generation, format!("{}: {e}", layout.relative(&layout.acl_file(generation)))))?;
    Ok(LoadedGeneration { generation, acl, state: files.state })
}

fn from_tantivy(fields: &Fields, id: &str, doc: &TantivyDocument) -> Result<IndexDoc, Error> {
    let bad = |reason: String| Error::StoredDoc { id: id.to_string(), reason };
    let text = |f| doc.get_first(f).and_then(|v| v.as_str().map(str::to_string));
    let required_text = |f, name: &str| text(f).ok_or_else(|| bad(format!("no {name}")));
    let date = |f, name: &str| -> Result<DateTime<Utc>, Error> {
        let t = doc.get_first(f).and_then(|v| v.as_datetime()).ok_or_else(|| bad(format!("no {name}")))?;
        DateTime::<Utc>::from_timestamp_millis(t.into_timestamp_millis())
            .ok_or_else(|| bad(format!("{name} out of range")))
    };
    let number =
        |f, name: &str| doc.get_first(f).and_then(|v| v.as_u64()).ok_or_else(|| bad(format!("no {name}")));
    let profile = number(fields.acl_profile, field::ACL_PROFILE)?;
    Ok(IndexDoc {
        id: required_text(fields.id, field::ID)?,
        product: required_text(fields.source, field::SOURCE)?.parse().map_err(|e| bad(format!("{e}")))?,
        kind: required_text(fields.kind, field::KIND)?.parse().map_err(|e| bad(format!("{e}")))?,
        title: required_text(fields.title, field::TITLE)?,
        display_title: text(fields.display_title),
        body: required_text(fields.body, field::BODY)?,
        space: text(fields.space),
        space_name: text(fields.space_name),
        ancestors: doc.get_all(fields.ancestors).filter_map(|v| v.as_str().map(str::to_string)).collect(),
        project: text(fields.project),
        container: text(fields.container),
        labels: doc.get_all(fields.labels).filter_map(|v| v.as_str().map(str::to_string)).collect(),
        author: text(fields.author),
        author_name: text(fields.author_name),
        issue_key: text(fields.issue_key),
        issue_type: text(fields.issue_type),
        status: text(fields.status),
        status_category: text(fields.status_category),
        assignee: text(fields.assignee),
        assignee_name: text(fields.assignee_name),
        created: date(fields.created, field::CREATED)?,
        updated: date(fields.updated, field::UPDATED)?,
        url: required_text(fields.url, field::URL)?,
        acl_profile: ProfileId(
            u32::try_from(profile).map_err(|_| bad(format!("acl profile {profile} out of range")))?,
        ),
        version: number(fields.version, field::VERSION)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn reader_is_send_and_sync() {
        assert_send_sync::<IndexReader>();
    }
}
