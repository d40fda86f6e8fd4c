//! The [`Ledger`] of one sync run: the bookkeeping every step writes to. It owns the index writer, the
//! ACL store, the sync state and the run record, and keeps them in step: a document is upserted, counted
//! and remembered in the state in one call ([`Ledger::put`]), deleted in one call, and committed with the
//! ACL store and the state of the same moment ([`Ledger::commit`]).
//!
//! It also holds what a run needs to decide deletions and watermarks at the end: the documents this run
//! wrote or decided (the permission refresh skips them), the ids the index held when the run began,
//! and the watermarks an incremental run has seen but not yet made durable.
//!
//! Opening it ([`Ledger::open`]) decides the run's real mode: a state or ACL store that cannot be trusted,
//! a first sync, a changed scope or an interrupted full sync all make a full sync, and the record's notes
//! say why.
//!
//! This file fetches nothing and knows no crawl order: the crawl steps (`confluence.rs`, `jira.rs`,
//! `permissions.rs`, `attachments.rs`) call it, and it calls none of them.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::docs::Location;
use super::progress::{Progress, ProgressEvent};
use super::resolve::{self, AclInput, PermissionSnapshot, Resolver};
use super::runs::{Mode, RunOutcome, RunRecord};
use super::scope;
use super::state::{Checkpoint, DocState, ExtractionStamp, Phase, SyncState};
use super::Error;
use crate::acl::{AclStore, ProfileId};
use crate::atlassian::model::{Project, Space, SpaceKind};
use crate::config::Source;
use crate::index::{DocId, IndexDoc, IndexReader, IndexWriter, Product};

/// Why a step stopped early.
pub(super) enum Halt {
    Cancelled,
    Fatal(Error),
}

impl From<Error> for Halt {
    fn from(e: Error) -> Self {
        Halt::Fatal(e)
    }
}

impl From<crate::index::Error> for Halt {
    fn from(e: crate::index::Error) -> Self {
        Halt::Fatal(Error::Index(e))
    }
}

/// What a crawl step returns: its value, or why the run must stop.
pub(super) type Step<T = ()> = Result<T, Halt>;

/// Where a document sits, for scope decisions and for finding a container's children.
pub(super) struct Placement {
    scope_key: String,
    space_owner: Option<String>,
    container: Option<String>,
}

impl Placement {
    pub(super) fn space(space: &Space, container: Option<String>) -> Placement {
        let space_owner = match &space.kind {
            SpaceKind::Personal { owner } => owner.clone(),
            SpaceKind::Global => None,
        };
        Placement { scope_key: space.key.clone(), space_owner, container }
    }

    pub(super) fn project(project: &Project, container: Option<String>) -> Placement {
        Placement { scope_key: project.key.clone(), space_owner: None, container }
    }
}

/// The bookkeeping of one run (see the module documentation).
pub(super) struct Ledger<'p> {
    pub(super) run_id: String,
    /// The mode the run really has (see [`Ledger::open`]).
    pub(super) mode: Mode,
    /// The state the next commit carries.
    pub(super) state: SyncState,
    pub(super) record: RunRecord,
    acl: AclStore,
    /// Out of its slot only while a commit runs, which the run awaits.
    writer: Option<IndexWriter>,
    /// The index as committed when the run began: stored documents to re-point, ids to reconcile.
    reader: IndexReader,
    /// Documents written or decided by this run (the permission refresh skips them: they are current).
    touched: HashSet<DocId>,
    /// Ids the index held when the run began (beyond those in the state, after a lost state).
    indexed_at_start: BTreeSet<DocId>,
    /// Watermarks an incremental run has seen but not yet made durable.
    pending_watermarks: HashMap<Product, Option<DateTime<Utc>>>,
    last_checkpoint: Instant,
    checkpoint_interval: Duration,
    progress: &'p mut dyn Progress,
    /// The record of an earlier run that was killed before it ended, found in the committed state; the
    /// caller appends it to the run records (see [`SyncState::unfinished`]).
    pub(super) interrupted: Option<RunRecord>,
    /// Set before the run's last commit: that commit carries no unfinished record.
    ending: bool,
    /// Per product, what the checkpoints of a full sync carry as [`Checkpoint::unlisted`].
    unlisted: HashMap<Product, BTreeSet<String>>,
}

/// How a run that never recorded its end is recorded by the next run.
pub const KILLED: &str =
    "the process stopped before the run ended (killed, crashed or the machine went down); \
                          the next run resumed from its last checkpoint";

impl<'p> Ledger<'p> {
    /// Opens the index in `dir` with its committed state and decides the run's mode and id.
    pub(super) async fn open(
        dir: &Path,
        source: &Source,
        mode: Mode,
        checkpoint_interval: Duration,
        progress: &'p mut dyn Progress,
        started: DateTime<Utc>,
    ) -> Result<Ledger<'p>, Error> {
        let dir_owned = dir.to_path_buf();
        let (writer, replaced, reader) = tokio::task::spawn_blocking(move || {
            let (writer, replaced) = IndexWriter::open_or_rebuild(&dir_owned)?;
            let reader = IndexReader::open(&dir_owned)?;
            Ok::<_, crate::index::Error>((writer, replaced, reader))
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        let name = source.name().as_str();
        let scope = scope::summary(source);
        let mut notes = Vec::new();
        if let Some(outdated) = &replaced {
            let why = match outdated {
                crate::index::Error::SchemaVersion { found, expected, .. } => {
                    format!("the index was written with schema version {found}, older than this permdex's {expected}")
                }
                _ => "the index's fields do not match its schema version".to_owned(),
            };
            // What it held can be read again only from the site.
            notes.push(format!("starting over with a full sync into a new index: {why}"));
        }
        let mut acl = reader.acl().as_ref().clone();
        let mut drop_everything = replaced.is_some();
        let loaded = match (reader.integrity_problem(), SyncState::decode(reader.state(), name)) {
            (Some(problem), _) => {
                notes.push(format!(
                    "starting over with a full sync: the last commit cannot be trusted ({problem})"
                ));
                drop_everything = true;
                None
            }
            (None, Err(reason)) => {
                notes.push(format!("starting over with a full sync: {reason}"));
                drop_everything = true;
                None
            }
            (None, Ok(state)) => state,
        };
        let mut mode = mode;
        if loaded.is_none() {
            acl = AclStore::default();
            if mode != Mode::Full && !drop_everything {
                notes.push("no earlier sync of this source: running a full sync".to_string());
            }
            mode = Mode::Full;
        }
        let mut state = loaded.unwrap_or_else(|| SyncState::new(name, scope.clone()));
        let interrupted = state.unfinished.take();
        if state.scope != scope {
            if mode == Mode::Incremental {
                notes.push("the configured scope changed: running a full sync".to_string());
                mode = Mode::Full;
            }
            state.scope = scope;
        }
        let pending_full = [Product::Confluence, Product::Jira]
            .into_iter()
            .find_map(|p| state.product(p).checkpoint.as_ref().map(|c| c.run_id.clone()));
        let mut resumed = false;
        let run_id = match (&pending_full, mode) {
            (Some(id), Mode::Full | Mode::Incremental) => {
                if mode == Mode::Incremental {
                    notes.push("an interrupted full sync is pending: continuing it".to_string());
                }
                mode = Mode::Full;
                resumed = true;
                id.clone()
            }
            _ => format!("{}-{}", started.format("%Y%m%dT%H%M%S%.3fZ"), std::process::id()),
        };
        let mut record = RunRecord::new(run_id.clone(), name, mode, started);
        record.resumed = resumed;
        if let Some(earlier) = interrupted.as_ref().filter(|r| resumed && r.run_id == run_id) {
            // The part before the kill is replayed from its checkpoint, but items that failed before it are
            // not retried: their failures stay part of this run.
            for (counted, counts) in &earlier.counts {
                record.counts_mut(*counted).failed += counts.failed;
            }
            record.failures.extend(earlier.failures.iter().cloned());
            notes.push(format!(
                "resumed a run that was killed; {} failure(s) of its earlier part are carried",
                earlier.failures.len()
            ));
        }
        record.notes = notes;
        let indexed: Vec<String> = reader.all_ids()?.into_iter().map(|(id, _)| id).collect();
        let mut ledger = Ledger {
            run_id,
            mode,
            state,
            record,
            acl,
            writer: Some(writer),
            reader,
            touched: HashSet::new(),
            // An id that is no document id of ours is never reconciled (nor written by a sync).
            indexed_at_start: indexed.iter().filter_map(|id| id.parse().ok()).collect(),
            pending_watermarks: HashMap::new(),
            last_checkpoint: Instant::now(),
            checkpoint_interval,
            progress,
            interrupted,
            ending: false,
            unlisted: HashMap::new(),
        };
        if drop_everything {
            // Without reading them: the segments themselves may be what cannot be trusted.
            ledger.writer_mut()?.discard_committed()?;
            ledger.indexed_at_start.clear();
        }
        Ok(ledger)
    }

    fn writer_mut(&mut self) -> Result<&mut IndexWriter, Error> {
        // The writer is only ever out of its slot during a commit, which this run awaits.
        self.writer.as_mut().ok_or_else(|| Error::Task("index writer is busy committing".into()))
    }

    /// Tells whoever watches the run.
    /// Passes `event` on; an [`ProgressEvent::Items`] is given the run's count of that kind so far (the
    /// steps report where they are in a page; watchers want the run's total).
    pub(super) fn report(&mut self, event: &ProgressEvent<'_>) {
        match event {
            ProgressEvent::Items { product, kind, .. } => {
                let counted = super::runs::Counted::Docs(*product, *kind);
                let done = self.record.counts.get(&counted).map_or(0, |c| c.seen);
                self.progress.report(&ProgressEvent::Items { product: *product, kind: *kind, done });
            }
            other => self.progress.report(other),
        }
    }

    // ---- commits and cancellation ----

    /// The next commit is the run's last: it carries no unfinished record.
    pub(super) fn ending(&mut self) {
        self.ending = true;
    }

    /// Commits the index with the ACL store and the state. Before the run's last commit, the state
    /// carries the run's record so far, so a kill leaves a record behind.
    pub(super) async fn commit(&mut self) -> Result<(), Error> {
        self.state.unfinished = (!self.ending).then(|| {
            let mut so_far = self.record.clone();
            so_far.ended = Utc::now();
            so_far.outcome = RunOutcome::Aborted(KILLED.to_owned());
            so_far
        });
        let mut writer = self.writer.take().ok_or_else(|| Error::Task("index writer missing".into()))?;
        let acl = std::mem::take(&mut self.acl);
        let state = self.state.encode();
        let (writer, acl, result) = tokio::task::spawn_blocking(move || {
            let result = writer.commit(&acl, &state);
            (writer, acl, result)
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))?;
        self.writer = Some(writer);
        self.acl = acl;
        let generation = result?;
        self.last_checkpoint = Instant::now();
        self.progress.report(&ProgressEvent::Checkpoint { generation: generation.0 });
        Ok(())
    }

    /// Commits a checkpoint if the interval has passed.
    pub(super) async fn checkpoint_due(&mut self) -> Result<(), Error> {
        if self.last_checkpoint.elapsed() >= self.checkpoint_interval {
            self.commit().await?;
        }
        Ok(())
    }

    /// Returns `Halt::Cancelled` when the watcher asks to stop.
    pub(super) fn stop_point(&mut self) -> Step {
        if self.progress.should_stop() {
            return Err(Halt::Cancelled);
        }
        Ok(())
    }

    /// Where a full sync of `product` starts: at its checkpoint, unless a space or project that the part
    /// of the run before it could not read is `readable` now (that part never listed its content), then
    /// from the start. The checkpoints that follow remember what is `unreadable` now, with what was before.
    pub(super) fn resume_point(
        &mut self,
        product: Product,
        readable: impl Fn(&str) -> bool,
        unreadable: &BTreeSet<String>,
    ) -> Option<Checkpoint> {
        let mut resume = self.state.product(product).checkpoint.clone();
        if resume.as_ref().is_some_and(|c| c.unlisted.iter().any(|id| readable(id))) {
            self.record.notes.push(format!(
                "{product:?}: a space or project the interrupted part of this run could not read is readable \
                 now: listing again from the start"
            ));
            resume = None;
        }
        let mut unlisted = unreadable.clone();
        unlisted.extend(resume.iter().flat_map(|c| c.unlisted.iter().cloned()));
        self.unlisted.insert(product, unlisted);
        resume
    }

    /// Remembers where a full sync of `product` is, for the next commit.
    pub(super) fn set_checkpoint(
        &mut self,
        product: Product,
        phase: Phase,
        cursor: Option<String>,
        offset: usize,
    ) {
        let unlisted = self.unlisted.get(&product).cloned().unwrap_or_default();
        self.state.product_mut(product).checkpoint =
            Some(Checkpoint { run_id: self.run_id.clone(), phase, cursor, offset, unlisted });
    }

    /// Ends the run: a final checkpoint after a cancellation, a rollback after a fatal error, the outcome.
    /// The caller adds the client counters.
    pub(super) async fn finish(mut self, result: Step) -> Result<RunRecord, Error> {
        match result {
            Ok(()) => {}
            Err(Halt::Cancelled) => {
                self.ending();
                self.commit().await?;
                self.record.outcome = RunOutcome::Cancelled;
            }
            Err(Halt::Fatal(e)) => {
                // What was written since the last checkpoint is dropped: the committed state is consistent.
                if let Some(writer) = self.writer.as_mut() {
                    let _ = writer.rollback();
                }
                self.record.outcome = RunOutcome::Aborted(e.to_string());
            }
        }
        if let Some(writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.close())
                .await
                .map_err(|e| Error::Task(e.to_string()))??;
        }
        Ok(self.record)
    }

    // ---- documents ----

    /// Resolves the `input` of document `id` into the store, counting documents nobody can read for lack
    /// of permissions.
    pub(super) fn resolve(
        &mut self,
        snapshot: &PermissionSnapshot,
        id: &DocId,
        input: &AclInput,
    ) -> ProfileId {
        let profile = resolve::resolve(&mut self.acl, snapshot, input);
        if profile == AclStore::NOBODY {
            self.record.counts_mut(id).acl_unknown += 1;
        }
        profile
    }

    /// Re-resolves many stored documents against `snapshot` at once, setting each clause once; one profile
    /// per input, in order.
    pub(super) fn resolve_all<'i>(
        &mut self,
        snapshot: &PermissionSnapshot,
        inputs: impl IntoIterator<Item = &'i AclInput>,
    ) -> Vec<ProfileId> {
        let mut resolver = Resolver::new(&mut self.acl, snapshot);
        inputs.into_iter().map(|input| resolver.resolve(input)).collect()
    }

    /// Upserts `doc` and records it in the state and the counts.
    pub(super) fn put(&mut self, doc: IndexDoc, input: AclInput, place: Placement) -> Result<(), Error> {
        // Every document the sync writes was named by a DocId (`docs.rs`).
        let id: DocId = doc.id.parse()?;
        let counts = self.record.counts_mut(&id);
        match self.state.docs.get(&id) {
            Some(old) if old.version == doc.version => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
            None => counts.added += 1,
        }
        // A document rewritten without being extracted again (a re-pointed attachment) keeps its stamp.
        let extraction = self.state.docs.get(&id).and_then(|old| old.extraction);
        self.writer_mut()?.upsert(&doc)?;
        self.touched.insert(id.clone());
        self.state.docs.insert(
            id,
            DocState {
                version: doc.version,
                acl: input,
                profile: doc.acl_profile.0,
                scope_key: place.scope_key,
                space_owner: place.space_owner,
                container: place.container,
                location: Location::of_doc(&doc).map(|l| l.fingerprint()),
                seen_in: self.run_id.clone(),
                extraction,
            },
        );
        Ok(())
    }

    /// Records how the attachment just written was extracted.
    pub(super) fn stamp(&mut self, id: &DocId, stamp: ExtractionStamp) {
        if let Some(doc) = self.state.docs.get_mut(id) {
            doc.extraction = Some(stamp);
        }
    }

    /// Marks a stored document as seen by this run without rewriting it.
    pub(super) fn keep(&mut self, id: &DocId) {
        if let Some(doc) = self.state.docs.get_mut(id) {
            doc.seen_in = self.run_id.clone();
            self.record.counts_mut(id).unchanged += 1;
        }
    }

    /// Deletes a document from the index and the state, counting it if it was known.
    pub(super) fn delete(&mut self, id: &DocId) -> Result<(), Error> {
        self.writer_mut()?.delete(&id.to_string());
        let known = self.state.docs.remove(id).is_some() | self.indexed_at_start.remove(id);
        if known {
            self.record.counts_mut(id).deleted += 1;
        }
        self.touched.insert(id.clone());
        Ok(())
    }

    /// The document as the index held it when the run began.
    pub(super) fn stored(&self, id: &DocId) -> Result<Option<IndexDoc>, Error> {
        Ok(self.reader.get(&id.to_string())?)
    }

    /// Whether this run has written or decided `id` already.
    pub(super) fn touched(&self, id: &DocId) -> bool {
        self.touched.contains(id)
    }

    /// Points a stored document at `profile` with its new `input` (and new space key, for content that
    /// moved), and writes its new `location` when it has one, rewriting only those fields. A document the
    /// state names but the index lacks is forgotten, so the next listing adds it again.
    pub(super) fn repoint(
        &mut self,
        id: &DocId,
        profile: ProfileId,
        input: AclInput,
        new_space: Option<String>,
        location: Option<Location>,
    ) -> Result<(), Error> {
        let Some(mut stored) = self.stored(id)? else {
            self.state.docs.remove(id);
            self.record.fail(id, id.to_string(), "in the sync state but not in the index");
            return Ok(());
        };
        let acl_changed = new_space.is_some()
            || self.state.docs.get(id).is_none_or(|d| d.profile != profile.0 || d.acl != input);
        stored.acl_profile = profile;
        if let Some(key) = &new_space {
            stored.space = Some(key.clone());
        }
        let fingerprint = location.map(|l| {
            let fingerprint = l.fingerprint();
            l.apply(&mut stored);
            fingerprint
        });
        self.writer_mut()?.upsert(&stored)?;
        if acl_changed {
            self.record.counts_mut(id).repointed += 1;
        }
        if let Some(doc) = self.state.docs.get_mut(id) {
            doc.profile = profile.0;
            doc.acl = input;
            if let Some(key) = new_space {
                doc.scope_key = key;
            }
            if fingerprint.is_some() {
                doc.location = fingerprint;
            }
        }
        Ok(())
    }

    // ---- the end of a complete listing ----

    /// After a complete listing of `product`: deletes what it did not show, makes its watermark durable
    /// and clears its checkpoint.
    pub(super) fn complete(&mut self, product: Product) {
        self.reconcile(product);
        self.settle_watermark(product);
        let run_id = self.run_id.clone();
        let state = self.state.product_mut(product);
        state.checkpoint = None;
        state.last_complete_run = Some(run_id);
    }

    /// Deletes the product's documents this run's complete listings did not show.
    fn reconcile(&mut self, product: Product) {
        let stale: Vec<DocId> = self
            .state
            .docs
            .iter()
            .filter(|(id, doc)| id.product == product && doc.seen_in != self.run_id)
            .map(|(id, _)| id.clone())
            .chain(
                self.indexed_at_start
                    .iter()
                    .filter(|id| id.product == product && !self.state.docs.contains_key(*id))
                    .cloned(),
            )
            .collect();
        for id in stale {
            // Deleting only fails when the writer is busy, which cannot happen between awaits.
            let _ = self.delete(&id);
        }
    }

    /// Raises the product's watermark to `updated`. A full sync writes it straight into the state (an
    /// interrupted full sync is resumed, never followed by an incremental one, so its partial watermark is
    /// never used); an incremental sync holds it back until its listings are complete, so that a run stopped
    /// half-way cannot move the watermark past changes it has not indexed yet.
    pub(super) fn bump_watermark(&mut self, product: Product, updated: Option<DateTime<Utc>>) {
        let Some(t) = updated else { return };
        let w = match self.mode {
            Mode::Full => &mut self.state.product_mut(product).watermark,
            Mode::Incremental | Mode::PermissionsOnly => {
                self.pending_watermarks.entry(product).or_insert(None)
            }
        };
        if w.is_none_or(|w| t > w) {
            *w = Some(t);
        }
    }

    /// Moves the watermark held back by an incremental run into the state.
    fn settle_watermark(&mut self, product: Product) {
        if let Some(Some(t)) = self.pending_watermarks.remove(&product) {
            let w = &mut self.state.product_mut(product).watermark;
            if w.is_none_or(|w| t > w) {
                *w = Some(t);
            }
        }
    }
}
