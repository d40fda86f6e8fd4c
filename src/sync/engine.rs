//! The sync engine: one run of one source — full, incremental or permissions-only — from the site's REST
//! APIs into that source's index, checkpointed so a run that is stopped (cancelled, killed, crashed) is
//! resumed by the next one and ends in the same state as if it had never stopped.
//!
//! Every run:
//! 1. opens the source's index and its committed [`SyncState`]; a state it cannot read, or an ACL store the
//!    index does not trust, starts over (every document dropped, then a full sync) and says so;
//! 2. drops documents the configured scope no longer covers; a changed scope turns an incremental run into
//!    a full one;
//! 3. reads the permission snapshot: the directory, spaces in scope with their readers, the access listing
//!    (ancestors and read restrictions of every page and blog post), projects in scope with their browse
//!    holders, security levels and the actors of the roles those or stored comments name (a role a newly
//!    fetched comment names is read when it is met);
//! 4. crawls content ([`Mode::Full`]: every listing; [`Mode::Incremental`]: version diffs against the
//!    listings the snapshot reads anyway, Jira issues updated since the watermark minus an overlap);
//!
//!    Confluence incremental runs do not ask CQL `lastmodified` what changed: the access listing, read for
//!    permissions anyway, carries every page's and blog post's version and space, so comparing versions
//!    finds every edit, move and new page without a time-zone-dependent query, and the site-wide comment and
//!    attachment listings (metadata plus versions) find new, edited and deleted comments and attachments.
//!    Jira has no such listing of versions: changed issues come from `updated >= watermark − overlap` (epoch
//!    millis), deletions from the ids-only listing, deleted comments from the comment-existence check, and a
//!    changed issue's sub-tasks are fetched again because they show their parent's security level;
//! 5. refreshes permissions: every stored document's [`AclInput`] is resolved again against the snapshot;
//!    clauses are rewritten in place and documents whose profile changed are re-pointed;
//! 6. deletes what a complete listing no longer shows, and commits.
//!
//! Failures: one bad item is recorded (id and reason) and the run goes on. A listing that fails part-way is
//! recorded too, and then nothing of that product is deleted and its watermark does not move: a short
//! listing must not look like deletions. A permission source that cannot be read leaves that product's
//! clauses and profiles as last committed (never widened, never dropped). Attachments whose download or
//! extraction fails are indexed with their title and no text, so they can still be found by name.
//!
//! Checkpoints: after each listing page, at most every [`SyncOptions::checkpoint_interval`], the engine
//! commits the index with the state (phase, cursor, items of the page already done). Upserts are
//! idempotent, so replaying part of a page after a crash is harmless.
//!
//! Attachments already indexed are not downloaded again while their version is unchanged, unless their
//! last extraction failed, found no text or was skipped by an older extractor than this one (the stamp in
//! their state): then the next sync tries again.
//!
//! Cancellation: [`Progress::should_stop`] is polled between items; on `true` the engine commits a
//! checkpoint and returns a record with [`RunOutcome::Cancelled`]. A killed process loses at most what
//! followed its last checkpoint.
//!
//! This file does not parse Atlassian JSON (the crawlers do), decide permission rules (`resolve.rs`) or
//! shape documents (`docs.rs`).

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::task::JoinSet;

use super::docs;
use super::resolve::{self, AclInput, PermissionSnapshot, Visibility};
use super::runs::{self, Mode, RunOutcome, RunRecord};
use super::state::{
    Checkpoint, DocState, ExtractionStamp, ExtractionStatus, Phase, Product, StoredDirectory, SyncState,
};
use super::Error;
use crate::acl::{AclStore, ProfileId};
use crate::atlassian::confluence::Confluence;
use crate::atlassian::jira::{Jira, RoleUses};
use crate::atlassian::model::{
    Attachment, Comment, CommentVisibility, Content, ContentKind, Directory, Issue, IssueAttachment,
    IssueComment, Project, Space, SpaceKind,
};
use crate::atlassian::{Client, ClientConfig};
use crate::config::{Config, Source};
use crate::extract::{ExtractConfig, Extractor, Hint, Outcome, EXTRACTOR_VERSION};
use crate::index::{IndexDoc, IndexReader, IndexWriter};

/// Where the index of `source` lives inside the data dir. Each source has its own index, ACL store and
/// state: two sites' ids and permission objects never mix.
pub fn index_dir(data_dir: &Path, source: &str) -> PathBuf {
    data_dir.join("sources").join(source).join("index")
}

/// What a run tells whoever watches it, and how it is asked to stop.
pub trait Progress: Send {
    /// A phase started or a batch of items was processed.
    fn report(&mut self, event: &ProgressEvent<'_>);
    /// Polled between items; `true` makes the run checkpoint and return [`RunOutcome::Cancelled`].
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// What [`Progress::report`] is told.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent<'a> {
    Phase {
        product: Product,
        phase: &'a str,
    },
    /// Documents processed so far in the current phase.
    Items {
        kind: &'a str,
        done: u64,
    },
    Checkpoint {
        generation: u64,
    },
}

/// Reports nothing and never stops.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn report(&mut self, _: &ProgressEvent<'_>) {}
}

/// Knobs of a run that are not configuration: tests and tools set them, `permdex sync` uses the defaults.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// Least time between two checkpoint commits (a listing page always ends before one is taken).
    pub checkpoint_interval: Duration,
    /// How far before the watermark an incremental run looks again, for clock skew and slow indexing.
    pub overlap: Duration,
    /// How attachment text is extracted.
    pub extract: ExtractConfig,
    /// Attachment extractions at once (each is a child process).
    pub extract_concurrency: usize,
    /// First wait before retrying a failed request when the site gives no `Retry-After`.
    pub retry_backoff: Duration,
    /// Retries per request after its first attempt.
    pub max_retries: u32,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            checkpoint_interval: Duration::from_secs(5),
            overlap: Duration::from_secs(10 * 60),
            extract: ExtractConfig::default(),
            extract_concurrency: std::thread::available_parallelism().map_or(2, |n| n.get()).min(4),
            retry_backoff: ClientConfig::DEFAULT_BACKOFF_BASE,
            max_retries: ClientConfig::DEFAULT_MAX_RETRIES,
        }
    }
}

/// Syncs `source` with the default [`SyncOptions`] and appends the run record.
pub async fn sync(
    config: &Config,
    source: &Source,
    mode: Mode,
    progress: &mut dyn Progress,
) -> Result<RunRecord, Error> {
    sync_with(config, source, mode, &SyncOptions::default(), progress).await
}

/// Syncs `source` and appends the run record to `{data_dir}/runs/{source}.jsonl`.
///
/// `Ok` for every run that reached a consistent commit, failures or not (see [`RunRecord::failed`]); `Err`
/// only when the index itself cannot be opened or committed.
pub async fn sync_with(
    config: &Config,
    source: &Source,
    mode: Mode,
    options: &SyncOptions,
    progress: &mut dyn Progress,
) -> Result<RunRecord, Error> {
    let started = Utc::now();
    let dir = index_dir(config.data_dir(), source.name().as_str());
    std::fs::create_dir_all(&dir).map_err(|e| Error::Io { path: dir.clone(), source: e })?;
    let mut run = Run::open(&dir, source, mode, options, progress, started).await?;
    let result = run.execute().await;
    let mut record = run.finish(result).await?;
    record.ended = Utc::now();
    runs::append(config.data_dir(), &record)?;
    Ok(record)
}

/// Why a step stopped early.
enum Halt {
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

type Step<T = ()> = Result<T, Halt>;

/// What one listing phase achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Listing {
    Complete,
    /// Stopped by an error (recorded): nothing may be deleted on the strength of it.
    Incomplete,
}

struct Run<'a> {
    source: &'a Source,
    options: &'a SyncOptions,
    progress: &'a mut dyn Progress,
    mode: Mode,
    run_id: String,
    writer: Option<IndexWriter>,
    /// The index as committed when the run began: stored documents to re-point, ids to reconcile.
    reader: IndexReader,
    acl: AclStore,
    state: SyncState,
    record: RunRecord,
    last_checkpoint: Instant,
    /// Documents written or decided by this run (the permission refresh skips them: they are current).
    touched: HashSet<String>,
    /// Ids the index held when the run began (beyond those in the state, after a lost state).
    indexed_at_start: BTreeSet<String>,
    snapshot: PermissionSnapshot,
    /// Pages and blog posts the access listing showed in scope (the snapshot also holds ancestors that are
    /// not indexed themselves, e.g. archived ones).
    listed_content: BTreeSet<String>,
    confluence_permissions: bool,
    jira_permissions: bool,
    confluence: Option<Arc<Confluence>>,
    jira: Option<Arc<Jira>>,
    extractor: Extractor,
    /// Titles of pages and blog posts, which their comments are titled after.
    container_titles: HashMap<String, String>,
    /// Stored Jira comments and attachments by issue id, built when first needed.
    jira_children: Option<HashMap<String, Vec<String>>>,
    /// Watermarks an incremental run has seen but not yet made durable.
    pending_watermarks: HashMap<Product, Option<DateTime<Utc>>>,
}

impl<'a> Run<'a> {
    async fn open(
        dir: &Path,
        source: &'a Source,
        mode: Mode,
        options: &'a SyncOptions,
        progress: &'a mut dyn Progress,
        started: DateTime<Utc>,
    ) -> Result<Run<'a>, Error> {
        let dir_owned = dir.to_path_buf();
        let (writer, reader) = tokio::task::spawn_blocking(move || {
            let writer = IndexWriter::open_or_create(&dir_owned)?;
            let reader = IndexReader::open(&dir_owned)?;
            Ok::<_, crate::index::Error>((writer, reader))
        })
        .await
        .map_err(|e| Error::Task(e.to_string()))??;
        let name = source.name().as_str();
        let scope = scope_summary(source);
        let mut notes = Vec::new();
        let mut acl = reader.acl().as_ref().clone();
        let mut drop_everything = false;
        let loaded = match (reader.acl_problem(), SyncState::decode(reader.state(), name)) {
            (Some(problem), _) => {
                notes.push(format!(
                    "starting over with a full sync: the committed acl store is unusable ({problem})"
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
        record.notes = notes;
        let indexed_at_start: BTreeSet<String> = reader.all_ids()?.into_iter().map(|(id, _)| id).collect();
        let client_config = ClientConfig {
            backoff_base: options.retry_backoff,
            max_retries: options.max_retries,
            ..ClientConfig::for_source(source)
        };
        let products = source.products();
        let confluence = if products.confluence {
            Some(Arc::new(Confluence::new(Client::new(client_config.clone())?)))
        } else {
            None
        };
        let jira = if products.jira { Some(Arc::new(Jira::new(Client::new(client_config)?))) } else { None };
        let mut run = Run {
            source,
            options,
            progress,
            mode,
            run_id,
            writer: Some(writer),
            reader,
            acl,
            state,
            record,
            last_checkpoint: Instant::now(),
            touched: HashSet::new(),
            indexed_at_start,
            snapshot: PermissionSnapshot::default(),
            listed_content: BTreeSet::new(),
            confluence_permissions: false,
            jira_permissions: false,
            confluence,
            jira,
            extractor: Extractor::new(options.extract.clone()),
            container_titles: HashMap::new(),
            pending_watermarks: HashMap::new(),
            jira_children: None,
        };
        if drop_everything {
            let ids: Vec<String> = run.indexed_at_start.iter().cloned().collect();
            for id in ids {
                run.writer_mut()?.delete(&id);
            }
            run.indexed_at_start.clear();
        }
        Ok(run)
    }

    fn writer_mut(&mut self) -> Result<&mut IndexWriter, Error> {
        // The writer is only ever out of its slot during a commit, which this run awaits.
        self.writer.as_mut().ok_or_else(|| Error::Task("index writer is busy committing".into()))
    }

    async fn execute(&mut self) -> Step {
        self.drop_out_of_scope()?;
        self.read_permissions().await;
        self.stop_point().await?;
        let products = self.source.products();
        let confluence_listing = match (products.confluence, self.mode) {
            (false, _) | (_, Mode::PermissionsOnly) => None,
            (true, Mode::Full) => Some(self.confluence_full().await?),
            (true, Mode::Incremental) => Some(self.confluence_incremental().await?),
        };
        let jira_listing = match (products.jira, self.mode) {
            (false, _) | (_, Mode::PermissionsOnly) => None,
            (true, Mode::Full) => Some(self.jira_full().await?),
            (true, Mode::Incremental) => Some(self.jira_incremental().await?),
        };
        self.refresh_permissions()?;
        if confluence_listing == Some(Listing::Complete) {
            self.reconcile(Product::Confluence);
            self.settle_watermark(Product::Confluence);
            self.state.confluence.checkpoint = None;
            self.state.confluence.last_complete_run = Some(self.run_id.clone());
        }
        if jira_listing == Some(Listing::Complete) {
            self.reconcile(Product::Jira);
            self.settle_watermark(Product::Jira);
            self.state.jira.checkpoint = None;
            self.state.jira.last_complete_run = Some(self.run_id.clone());
        }
        self.commit().await?;
        Ok(())
    }

    /// Ends the run: a final checkpoint after a cancellation, the client counters, the outcome.
    async fn finish(mut self, result: Step) -> Result<RunRecord, Error> {
        match result {
            Ok(()) => {}
            Err(Halt::Cancelled) => {
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
        for client in [self.confluence.as_ref().map(|c| c.client()), self.jira.as_ref().map(|j| j.client())]
            .into_iter()
            .flatten()
        {
            self.record.api.add(client.stats());
        }
        if let Some(writer) = self.writer.take() {
            tokio::task::spawn_blocking(move || writer.close())
                .await
                .map_err(|e| Error::Task(e.to_string()))??;
        }
        Ok(self.record)
    }

    // ---- commits and cancellation ----

    /// Commits the index with the ACL store and the state.
    async fn commit(&mut self) -> Result<(), Error> {
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
    async fn checkpoint_due(&mut self) -> Result<(), Error> {
        if self.last_checkpoint.elapsed() >= self.options.checkpoint_interval {
            self.commit().await?;
        }
        Ok(())
    }

    /// Returns `Halt::Cancelled` when the watcher asks to stop.
    async fn stop_point(&mut self) -> Step {
        if self.progress.should_stop() {
            return Err(Halt::Cancelled);
        }
        Ok(())
    }

    fn set_checkpoint(&mut self, product: Product, phase: Phase, cursor: Option<String>, offset: usize) {
        self.state.product_mut(product).checkpoint =
            Some(Checkpoint { run_id: self.run_id.clone(), phase, cursor, offset });
    }

    // ---- scope ----

    /// Deletes documents that the configuration no longer covers (product off, space or project out).
    fn drop_out_of_scope(&mut self) -> Result<(), Error> {
        let products = self.source.products();
        let out: Vec<String> = self
            .state
            .docs
            .iter()
            .filter(|(id, doc)| {
                let confluence = id.starts_with("confluence:");
                let product_on = if confluence { products.confluence } else { products.jira };
                let key_in = if confluence {
                    match &doc.space_owner {
                        Some(owner) => self.source.personal_space_in_scope(&doc.scope_key, owner),
                        None => self.source.space_in_scope(&doc.scope_key),
                    }
                } else {
                    self.source.project_in_scope(&doc.scope_key)
                };
                !(product_on && key_in)
            })
            .map(|(id, _)| id.clone())
            .collect();
        for id in out {
            self.delete_doc(&id)?;
        }
        Ok(())
    }

    // ---- permissions ----

    /// Reads the directory and each product's permission sources into the snapshot. What cannot be read
    /// is recorded; that product's permissions then stay as last committed.
    async fn read_permissions(&mut self) {
        let product = if self.confluence.is_some() { Product::Confluence } else { Product::Jira };
        self.progress.report(&ProgressEvent::Phase { product, phase: "permissions" });
        let directory = match (&self.jira, &self.confluence) {
            (Some(jira), Some(confluence)) => both_directory(jira, confluence).await,
            (Some(jira), None) => jira.directory().await,
            (None, Some(confluence)) => confluence.directory(&[]).await,
            (None, None) => Ok(Directory::default()),
        };
        match directory {
            Ok(directory) => {
                self.state.directory = StoredDirectory::from(&directory);
                self.snapshot.directory = directory;
            }
            Err(e) => {
                self.record.fail(
                    "directory",
                    "directory",
                    format!("users and groups: {e} (kept the last read)"),
                );
                self.snapshot.directory = Directory::from(&self.state.directory);
            }
        }
        if let Some(confluence) = self.confluence.clone() {
            self.confluence_permissions = self.read_confluence_permissions(&confluence).await;
        }
        if let Some(jira) = self.jira.clone() {
            match jira.projects_with_roles_in_use(&self.roles_of_stored_comments()).await {
                Ok(projects) => {
                    self.snapshot.projects = projects
                        .into_iter()
                        .filter(|p| self.source.project_in_scope(&p.key))
                        .map(|p| (p.id.clone(), p))
                        .collect();
                    self.jira_permissions = true;
                }
                Err(e) => {
                    self.record.fail("jira:project", "projects", format!("projects and permissions: {e}"))
                }
            }
        }
    }

    /// The roles stored comments are restricted to, by project: their actors are read with the projects
    /// (besides the roles grants and levels name) so that a change to them re-points those comments.
    fn roles_of_stored_comments(&self) -> RoleUses {
        let mut uses = RoleUses::new();
        for doc in self.state.docs.values() {
            if let AclInput::JiraComment { issue, visibility: Some(Visibility::Role(role)), .. } = &doc.acl {
                if let AclInput::JiraIssue { project_id, .. } = issue.as_ref() {
                    uses.entry(project_id.clone()).or_default().insert(role.clone());
                }
            }
        }
        uses
    }

    /// Reads the actors of roles that fetched comments are restricted to and the snapshot does not hold
    /// yet (the projects were read with only the roles in use then). One that cannot be read is recorded
    /// and stays absent, so its comments are readable by nobody until a later run reads it.
    async fn read_comment_roles(&mut self, jira: &Jira, comments: &[(String, &[IssueComment])]) {
        let mut missing: BTreeSet<(String, String)> = BTreeSet::new();
        for (project_id, comments) in comments {
            let Some(project) = self.snapshot.projects.get(project_id) else { continue };
            for comment in comments.iter() {
                if let Some(CommentVisibility::Role(role)) = &comment.visibility {
                    if !project.roles.contains_key(role) {
                        missing.insert((project_id.clone(), role.clone()));
                    }
                }
            }
        }
        for (project_id, role) in missing {
            match jira.role_actors(&project_id, &role).await {
                Ok(actors) => {
                    if let Some(project) = self.snapshot.projects.get_mut(&project_id) {
                        project.roles.insert(role, actors);
                    }
                }
                Err(e) => self.record.fail(
                    "jira:comment",
                    format!("role {role} of project {project_id}"),
                    format!("role actors: {e}"),
                ),
            }
        }
    }

    async fn read_confluence_permissions(&mut self, confluence: &Confluence) -> bool {
        // Permissions are read only for spaces in scope: the others are never indexed.
        let source = self.source;
        let spaces = match confluence.spaces_where(|s| space_in_scope(source, s)).await {
            Ok(spaces) => spaces,
            Err(e) => {
                self.record.fail("confluence:space", "spaces", format!("spaces and space permissions: {e}"));
                return false;
            }
        };
        self.snapshot.spaces = spaces.into_iter().map(|s| (s.id.clone(), s)).collect();
        let keys: Vec<String> = self.snapshot.spaces.values().map(|s| s.key.clone()).collect();
        let mut cursor: Option<String> = None;
        loop {
            match confluence.access(&keys, self.source.include_archived(), cursor.as_deref()).await {
                Ok(page) => {
                    for access in page.items {
                        if self.snapshot.spaces.contains_key(&access.space_id) {
                            self.listed_content.insert(access.id.clone());
                            self.snapshot.access.insert(access.id.clone(), access);
                        }
                    }
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    self.record.fail("confluence:page", "access listing", format!("page restrictions: {e}"));
                    self.snapshot.access.clear();
                    self.listed_content.clear();
                    return false;
                }
            }
        }
        // Ancestors the listing did not show (archived ones, when archived content is out of scope) still
        // restrict their children: read them one by one. One that cannot be read leaves its descendants
        // readable by nobody (resolution fails closed on a missing ancestor).
        let missing: BTreeSet<String> = self
            .snapshot
            .access
            .values()
            .flat_map(|a| a.ancestors.iter())
            .filter(|id| !self.snapshot.access.contains_key(*id))
            .cloned()
            .collect();
        for id in missing {
            match confluence.access_of(ContentKind::Page, &id).await {
                Ok(Some(access)) => {
                    self.snapshot.access.insert(id, access);
                }
                Ok(None) => {}
                Err(e) => self.record.fail("confluence:page", format!("ancestor {id}"), e.to_string()),
            }
        }
        true
    }

    /// Resolves `input` into the store, counting documents nobody can read for lack of permissions.
    fn resolve(&mut self, kind: &str, input: &AclInput) -> ProfileId {
        let profile = resolve::resolve(&mut self.acl, &self.snapshot, input);
        if profile == AclStore::NOBODY {
            self.record.counts_mut(kind).acl_unknown += 1;
        }
        profile
    }

    /// Re-resolves every stored document this run did not write, and re-points those whose profile changed.
    fn refresh_permissions(&mut self) -> Step {
        let product = if self.confluence.is_some() { Product::Confluence } else { Product::Jira };
        self.progress.report(&ProgressEvent::Phase { product, phase: "permission refresh" });
        let ids: Vec<String> =
            self.state.docs.keys().filter(|id| !self.touched.contains(*id)).cloned().collect();
        // Each document's current input (and new space, for content that moved), then one resolution pass
        // that sets every clause once.
        let mut plans: Vec<(String, AclInput, Option<String>)> = Vec::new();
        for id in ids {
            let confluence = id.starts_with("confluence:");
            if (confluence && !self.confluence_permissions) || (!confluence && !self.jira_permissions) {
                continue;
            }
            let Some(doc) = self.state.docs.get(&id) else { continue };
            let mut input = doc.acl.clone();
            let mut new_space = None;
            if let AclInput::Confluence { space_id, content_id } = &mut input {
                // A page moved to another space takes its comments and attachments along; the access listing
                // says where it is now. Content gone from a complete listing is deleted or out of scope.
                let listed = self.listed_content.contains(content_id.as_str());
                match self.snapshot.access.get(content_id.as_str()).filter(|_| listed) {
                    Some(access) if access.space_id != *space_id => {
                        *space_id = access.space_id.clone();
                        new_space = self.snapshot.spaces.get(&access.space_id).map(|s| s.key.clone());
                    }
                    Some(_) => {}
                    None => {
                        self.delete_doc(&id)?;
                        continue;
                    }
                }
            }
            plans.push((id, input, new_space));
        }
        let profiles = resolve::refresh_all(
            &mut self.acl,
            &self.snapshot,
            plans.iter().map(|(id, i, _)| (id.as_str(), i)),
        );
        for ((id, input, new_space), (_, profile)) in plans.into_iter().zip(profiles) {
            let kind = kind_of(&id);
            if profile == AclStore::NOBODY {
                self.record.counts_mut(&kind).acl_unknown += 1;
            }
            let Some(doc) = self.state.docs.get(&id) else { continue };
            if profile.0 == doc.profile && new_space.is_none() && input == doc.acl {
                continue;
            }
            match self.reader.get(&id)? {
                Some(mut stored) => {
                    stored.acl_profile = profile;
                    if let Some(key) = &new_space {
                        stored.space = Some(key.clone());
                    }
                    self.writer_mut()?.upsert(&stored)?;
                    self.record.counts_mut(&kind).repointed += 1;
                    if let Some(doc) = self.state.docs.get_mut(&id) {
                        doc.profile = profile.0;
                        doc.acl = input;
                        if let Some(key) = new_space {
                            doc.scope_key = key;
                        }
                    }
                }
                None => {
                    // The state names a document the index lacks: forget it so the next listing adds it again.
                    self.state.docs.remove(&id);
                    self.record.fail(&kind, id.clone(), "in the sync state but not in the index");
                }
            }
        }
        Ok(())
    }

    // ---- writing documents ----

    /// Upserts `doc` and records it in the state and the counts.
    fn put(&mut self, doc: IndexDoc, input: AclInput, place: Placement) -> Result<(), Error> {
        let kind = kind_of(&doc.id);
        let counts = self.record.counts_mut(&kind);
        match self.state.docs.get(&doc.id) {
            Some(old) if old.version == doc.version => counts.unchanged += 1,
            Some(_) => counts.updated += 1,
            None => counts.added += 1,
        }
        // A document rewritten without being extracted again (a re-pointed attachment) keeps its stamp.
        let extraction = self.state.docs.get(&doc.id).and_then(|old| old.extraction);
        self.writer_mut()?.upsert(&doc)?;
        self.touched.insert(doc.id.clone());
        self.state.docs.insert(
            doc.id.clone(),
            DocState {
                version: doc.version,
                acl: input,
                profile: doc.acl_profile.0,
                scope_key: place.scope_key,
                space_owner: place.space_owner,
                container: place.container,
                seen_in: self.run_id.clone(),
                extraction,
            },
        );
        Ok(())
    }

    /// Marks a stored document as seen by this run without rewriting it.
    fn keep(&mut self, id: &str) {
        let kind = kind_of(id);
        if let Some(doc) = self.state.docs.get_mut(id) {
            doc.seen_in = self.run_id.clone();
            self.record.counts_mut(&kind).unchanged += 1;
        }
    }

    fn delete_doc(&mut self, id: &str) -> Result<(), Error> {
        self.writer_mut()?.delete(id);
        let known = self.state.docs.remove(id).is_some() | self.indexed_at_start.remove(id);
        if known {
            self.record.counts_mut(&kind_of(id)).deleted += 1;
        }
        self.touched.insert(id.to_string());
        Ok(())
    }

    /// Deletes the product's documents this run's complete listings did not show.
    fn reconcile(&mut self, product: Product) {
        let prefix = format!("{}:", product.as_str());
        let stale: Vec<String> = self
            .state
            .docs
            .iter()
            .filter(|(id, doc)| id.starts_with(&prefix) && doc.seen_in != self.run_id)
            .map(|(id, _)| id.clone())
            .chain(
                self.indexed_at_start
                    .iter()
                    .filter(|id| id.starts_with(&prefix) && !self.state.docs.contains_key(*id))
                    .cloned(),
            )
            .collect();
        for id in stale {
            // Deleting only fails when the writer is busy, which cannot happen between awaits.
            let _ = self.delete_doc(&id);
        }
    }

    /// Raises the product's watermark to `updated`. A full sync writes it straight into the state (an
    /// interrupted full sync is resumed, never followed by an incremental one, so its partial watermark is
    /// never used); an incremental sync holds it back until its listings are complete, so that a run stopped
    /// half-way cannot move the watermark past changes it has not indexed yet.
    fn bump_watermark(&mut self, product: Product, updated: Option<DateTime<Utc>>) {
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

    fn space_of(&self, space_id: &str) -> Option<Space> {
        self.snapshot.spaces.get(space_id).cloned()
    }

    // ---- Confluence ----

    fn put_content(&mut self, content: &Content) -> Result<(), Error> {
        let Some(space) = self.space_of(&content.space_id) else { return Ok(()) };
        if !self.listed_content.contains(&content.id) {
            // Not in the access listing: out of scope (archived) or created after it was read. Its
            // permissions are unknown to this run, so it waits for the next one.
            return Ok(());
        }
        let input = AclInput::Confluence { space_id: space.id.clone(), content_id: content.id.clone() };
        let kind = content_kind_name(content.kind);
        self.record.counts_mut(kind).seen += 1;
        let profile = self.resolve(kind, &input);
        let doc = docs::page_doc(content, &space, &self.snapshot.directory, profile);
        self.container_titles.insert(content.id.clone(), content.title.clone());
        self.bump_watermark(Product::Confluence, content.updated);
        self.put(doc, input, Placement::space(&space, None))
    }

    /// The title of a page or blog post, from this run or the index.
    fn container_title(&mut self, kind: ContentKind, id: &str) -> Result<String, Error> {
        if let Some(title) = self.container_titles.get(id) {
            return Ok(title.clone());
        }
        let doc_id = content_doc_id(kind, id);
        let title = self.reader.get(&doc_id)?.map(|d| d.title).unwrap_or_default();
        self.container_titles.insert(id.to_string(), title.clone());
        Ok(title)
    }

    /// The space of a comment's or attachment's container, when the container is in scope.
    fn container_space(&self, container_id: &str) -> Option<Space> {
        if !self.listed_content.contains(container_id) {
            return None;
        }
        let access = self.snapshot.access.get(container_id)?;
        self.space_of(&access.space_id)
    }

    fn put_comment(&mut self, comment: &Comment) -> Result<(), Error> {
        let Some(space) = self.container_space(&comment.container_id) else { return Ok(()) };
        let id = format!("confluence:comment:{}", comment.id);
        self.record.counts_mut("confluence:comment").seen += 1;
        if self.state.docs.get(&id).is_some_and(|d| d.version == comment.version) && self.mode != Mode::Full {
            self.keep(&id);
            return Ok(());
        }
        let input =
            AclInput::Confluence { space_id: space.id.clone(), content_id: comment.container_id.clone() };
        let profile = self.resolve("confluence:comment", &input);
        let title = self.container_title(comment.container_kind, &comment.container_id)?;
        let doc = docs::comment_doc(comment, &title, &space, &self.snapshot.directory, profile);
        self.bump_watermark(Product::Confluence, comment.updated);
        self.put(doc, input, Placement::space(&space, Some(comment.container_id.clone())))
    }

    /// Downloads and extracts attachments with bounded concurrency, then indexes each (with its text, or
    /// with its title alone when the bytes could not be had).
    async fn put_attachments(&mut self, attachments: Vec<Attachment>) -> Step {
        let Some(confluence) = self.confluence.clone() else { return Ok(()) };
        let mut pending = Vec::new();
        for attachment in attachments {
            let Some(space) = self.container_space(&attachment.container_id) else { continue };
            let id = format!("confluence:attachment:{}", attachment.id);
            self.record.counts_mut("confluence:attachment").seen += 1;
            let stored = self.state.docs.get(&id);
            if stored.is_some_and(|d| d.version == attachment.version && !d.extraction_outdated()) {
                self.keep(&id);
                continue;
            }
            pending.push((attachment, space));
        }
        let cap = self.source.limits().max_attachment_bytes;
        let fetch = |attachment: &Attachment| {
            let confluence = confluence.clone();
            let attachment = attachment.clone();
            async move { confluence.download(&attachment, cap).await.map_err(|e| e.to_string()) }
        };
        let texts = self
            .fetch_and_extract(
                pending
                    .iter()
                    .map(|(a, _)| (a.id.clone(), a.size, hint(&a.title, &a.media_type), fetch(a)))
                    .collect(),
            )
            .await?;
        for ((attachment, space), text) in pending.into_iter().zip(texts) {
            let id = format!("confluence:attachment:{}", attachment.id);
            let (text, stamp) = self.attachment_text("confluence:attachment", &id, text);
            let input = AclInput::Confluence {
                space_id: space.id.clone(),
                content_id: attachment.container_id.clone(),
            };
            let profile = self.resolve("confluence:attachment", &input);
            let doc = docs::attachment_doc(&attachment, text, &space, &self.snapshot.directory, profile);
            self.bump_watermark(Product::Confluence, attachment.updated);
            self.put(doc, input, Placement::space(&space, Some(attachment.container_id.clone())))?;
            self.stamp(&id, stamp);
        }
        Ok(())
    }

    async fn confluence_full(&mut self) -> Step<Listing> {
        if !self.confluence_permissions {
            return Ok(Listing::Incomplete);
        }
        let Some(confluence) = self.confluence.clone() else { return Ok(Listing::Incomplete) };
        let space_ids: Vec<String> = self.snapshot.spaces.keys().cloned().collect();
        let archived = self.source.include_archived();
        let resume = self.state.confluence.checkpoint.clone();
        let start_phase = resume.as_ref().map_or(Phase::Pages, |c| c.phase);
        let mut complete = true;
        for phase in [Phase::Pages, Phase::BlogPosts, Phase::Comments, Phase::Attachments] {
            if phase < start_phase {
                continue;
            }
            let (mut cursor, mut offset) = match &resume {
                Some(c) if c.phase == phase => (c.cursor.clone(), c.offset),
                _ => (None, 0),
            };
            self.progress
                .report(&ProgressEvent::Phase { product: Product::Confluence, phase: phase_name(phase) });
            loop {
                self.set_checkpoint(Product::Confluence, phase, cursor.clone(), offset);
                let listed = match phase {
                    Phase::Pages | Phase::BlogPosts => {
                        let kind =
                            if phase == Phase::Pages { ContentKind::Page } else { ContentKind::BlogPost };
                        confluence
                            .contents(kind, &space_ids, archived, cursor.as_deref())
                            .await
                            .map(|p| (Batch::Contents(p.items), p.next))
                    }
                    Phase::Comments => confluence
                        .comments(cursor.as_deref())
                        .await
                        .map(|p| (Batch::Comments(p.items), p.next)),
                    _ => confluence
                        .attachments(cursor.as_deref())
                        .await
                        .map(|p| (Batch::Attachments(p.items), p.next)),
                };
                let (batch, next) = match listed {
                    Ok(listed) => listed,
                    Err(e) => {
                        self.record.fail(
                            phase_kind(phase),
                            format!("listing {}", phase_name(phase)),
                            e.to_string(),
                        );
                        complete = false;
                        break;
                    }
                };
                self.process_batch(phase, batch, &mut offset, cursor.clone()).await?;
                match next {
                    Some(next) => {
                        cursor = Some(next);
                        offset = 0;
                        self.set_checkpoint(Product::Confluence, phase, cursor.clone(), 0);
                        self.checkpoint_due().await?;
                    }
                    None => break,
                }
            }
            if !complete {
                break;
            }
        }
        Ok(if complete { Listing::Complete } else { Listing::Incomplete })
    }

    /// Indexes one listing page's items from `offset` on, checkpointing (with the offset) and stopping on
    /// request between items.
    async fn process_batch(
        &mut self,
        phase: Phase,
        batch: Batch,
        offset: &mut usize,
        cursor: Option<String>,
    ) -> Step {
        const CHUNK: usize = 20;
        let len = batch.len();
        let mut batch = batch.skip(*offset);
        while *offset < len {
            self.stop_point().await?;
            let take = CHUNK.min(len - *offset);
            match &mut batch {
                Batch::Contents(items) => {
                    for c in items.drain(..take) {
                        self.put_content(&c)?;
                    }
                }
                Batch::Comments(items) => {
                    for c in items.drain(..take) {
                        self.put_comment(&c)?;
                    }
                }
                Batch::Attachments(items) => {
                    let chunk: Vec<Attachment> = items.drain(..take).collect();
                    self.put_attachments(chunk).await?;
                }
            }
            *offset += take;
            self.progress.report(&ProgressEvent::Items { kind: phase_kind(phase), done: *offset as u64 });
            self.set_checkpoint(Product::Confluence, phase, cursor.clone(), *offset);
            self.checkpoint_due().await?;
        }
        Ok(())
    }

    async fn confluence_incremental(&mut self) -> Step<Listing> {
        if !self.confluence_permissions {
            return Ok(Listing::Incomplete);
        }
        let Some(confluence) = self.confluence.clone() else { return Ok(Listing::Incomplete) };
        self.progress
            .report(&ProgressEvent::Phase { product: Product::Confluence, phase: "changed content" });
        // The access listing holds every page's and blog post's version: fetch what is new or changed.
        let mut changed: Vec<(ContentKind, String)> = Vec::new();
        let mut unchanged: Vec<String> = Vec::new();
        for access in self.snapshot.access.values().filter(|a| self.listed_content.contains(&a.id)) {
            let id = content_doc_id(access.kind, &access.id);
            let same = self.state.docs.get(&id).is_some_and(|doc| {
                doc.version == access.version
                    && matches!(&doc.acl, AclInput::Confluence { space_id, .. } if *space_id == access.space_id)
            });
            if same {
                unchanged.push(id);
            } else {
                changed.push((access.kind, access.id.clone()));
            }
        }
        for id in unchanged {
            self.keep(&id);
        }
        let mut complete = true;
        let concurrency = self.source.limits().concurrency.get();
        for chunk in changed.chunks(concurrency.max(1)) {
            self.stop_point().await?;
            let mut tasks = JoinSet::new();
            for (kind, id) in chunk.iter().cloned() {
                let confluence = confluence.clone();
                tasks.spawn(async move { (id.clone(), kind, confluence.content(kind, &id).await) });
            }
            while let Some(joined) = tasks.join_next().await {
                let (id, kind, fetched) = joined.map_err(|e| Error::Task(e.to_string()))?;
                let doc_id = content_doc_id(kind, &id);
                match fetched {
                    Ok(Some(content)) => self.put_content(&content)?,
                    // Gone since the access listing was read: reconciliation deletes it.
                    Ok(None) => {}
                    Err(e) => {
                        self.record.fail(content_kind_name(kind), doc_id.clone(), e.to_string());
                        // Keep the old copy rather than delete something that merely failed to load.
                        self.keep(&doc_id);
                    }
                }
            }
        }
        self.progress.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "comments" });
        let mut cursor: Option<String> = None;
        loop {
            self.stop_point().await?;
            match confluence.comments(cursor.as_deref()).await {
                Ok(page) => {
                    for c in &page.items {
                        self.put_comment(c)?;
                    }
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    self.record.fail("confluence:comment", "listing comments", e.to_string());
                    complete = false;
                    break;
                }
            }
        }
        self.progress.report(&ProgressEvent::Phase { product: Product::Confluence, phase: "attachments" });
        let mut cursor: Option<String> = None;
        loop {
            self.stop_point().await?;
            match confluence.attachments(cursor.as_deref()).await {
                Ok(page) => {
                    self.put_attachments(page.items).await?;
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    self.record.fail("confluence:attachment", "listing attachments", e.to_string());
                    complete = false;
                    break;
                }
            }
        }
        Ok(if complete { Listing::Complete } else { Listing::Incomplete })
    }

    // ---- attachments (both products) ----

    /// Downloads (async, bounded by the client) and extracts (blocking pool, bounded here) a batch of
    /// attachments. One result per input, in order: the text, or why there is none.
    async fn fetch_and_extract<F>(
        &mut self,
        items: Vec<(String, Option<u64>, Hint, F)>,
    ) -> Step<Vec<AttachmentText>>
    where
        F: std::future::Future<Output = Result<Vec<u8>, String>> + Send + 'static,
    {
        let cap = self.source.limits().max_attachment_bytes;
        let limit = Arc::new(tokio::sync::Semaphore::new(self.options.extract_concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let count = items.len();
        for (index, (_id, size, hint, fetch)) in items.into_iter().enumerate() {
            if size.is_some_and(|s| s > cap) {
                let reason = format!("larger than max_attachment_bytes ({} > {cap})", size.unwrap_or(0));
                tasks.spawn(async move { (index, AttachmentText::Skipped(reason)) });
                continue;
            }
            let extractor = self.extractor.clone();
            let limit = limit.clone();
            tasks.spawn(async move {
                let bytes = match fetch.await {
                    Ok(bytes) => bytes,
                    Err(reason) => return (index, AttachmentText::Failed(format!("download: {reason}"))),
                };
                let Ok(_permit) = limit.acquire_owned().await else {
                    return (index, AttachmentText::Failed("extraction pool closed".into()));
                };
                let extracted = tokio::task::spawn_blocking(move || extractor.extract(&bytes, &hint)).await;
                let text = match extracted {
                    Ok(extraction) => match extraction.outcome {
                        Outcome::Ok { text, .. } => AttachmentText::Text(text),
                        Outcome::Failed { reason } => AttachmentText::Failed(format!("extraction: {reason}")),
                        Outcome::Skipped { reason } => AttachmentText::Skipped(reason),
                    },
                    Err(e) => AttachmentText::Failed(format!("extraction task: {e}")),
                };
                (index, text)
            });
        }
        let mut out: Vec<Option<AttachmentText>> = (0..count).map(|_| None).collect();
        while let Some(joined) = tasks.join_next().await {
            let (index, text) = joined.map_err(|e| Error::Task(e.to_string()))?;
            out[index] = Some(text);
        }
        Ok(out.into_iter().map(|t| t.unwrap_or(AttachmentText::Failed("no result".into()))).collect())
    }

    /// The text to index for an attachment and its stamp, recording why there is none.
    fn attachment_text(&mut self, kind: &str, id: &str, text: AttachmentText) -> (String, ExtractionStamp) {
        let stamp = |status| ExtractionStamp { status, extractor: EXTRACTOR_VERSION };
        match text {
            AttachmentText::Text(text) if text.trim().is_empty() => {
                self.record.empty(kind, id);
                (text, stamp(ExtractionStatus::Empty))
            }
            AttachmentText::Text(text) => {
                self.record.counts_mut(kind).extracted += 1;
                (text, stamp(ExtractionStatus::Ok))
            }
            AttachmentText::Skipped(reason) => {
                self.record.skip(kind, id, reason);
                (String::new(), stamp(ExtractionStatus::Skipped))
            }
            AttachmentText::Failed(reason) => {
                self.record.fail(kind, id, reason);
                (String::new(), stamp(ExtractionStatus::Failed))
            }
        }
    }

    /// Records how the attachment just written was extracted.
    fn stamp(&mut self, id: &str, stamp: ExtractionStamp) {
        if let Some(doc) = self.state.docs.get_mut(id) {
            doc.extraction = Some(stamp);
        }
    }

    // ---- Jira ----

    fn project_keys(&self) -> Vec<String> {
        self.snapshot.projects.values().map(|p| p.key.clone()).collect()
    }

    /// Indexes a batch of fetched issues: the issue, its comments (re-read when the issue changed) and its
    /// attachments (downloaded when new).
    async fn put_issues(&mut self, issues: Vec<Issue>) -> Step {
        let Some(jira) = self.jira.clone() else { return Ok(()) };
        let mut changed = Vec::new();
        for issue in issues {
            let Some(project) = self.snapshot.projects.get(&issue.project_id).cloned() else { continue };
            let id = format!("jira:issue:{}", issue.id);
            self.record.counts_mut("jira:issue").seen += 1;
            let version = issue.updated.map_or(0, |t| t.timestamp_millis().max(0) as u64);
            let input = AclInput::of_issue(&issue);
            let same = self.state.docs.get(&id).is_some_and(|d| d.version == version && d.acl == input);
            if same && self.mode != Mode::Full {
                self.keep(&id);
                self.keep_children(&id);
                continue;
            }
            let profile = self.resolve("jira:issue", &input);
            let doc = docs::issue_doc(&issue, &project, &self.snapshot.directory, profile);
            self.bump_watermark(Product::Jira, issue.updated);
            self.put(doc, input, Placement::project(&project, None))?;
            changed.push((issue, project));
        }
        // Comments of changed issues, a few issues at a time.
        let concurrency = self.source.limits().concurrency.get().max(1);
        for chunk in changed.chunks(concurrency) {
            self.stop_point().await?;
            let mut tasks = JoinSet::new();
            for (index, (issue, _)) in chunk.iter().enumerate() {
                let jira = jira.clone();
                let issue_id = issue.id.clone();
                let project_id = issue.project_id.clone();
                tasks.spawn(async move { (index, jira.comments(&issue_id, &project_id).await) });
            }
            let mut results: Vec<Option<Result<Vec<IssueComment>, crate::atlassian::Error>>> =
                (0..chunk.len()).map(|_| None).collect();
            while let Some(joined) = tasks.join_next().await {
                let (index, comments) = joined.map_err(|e| Error::Task(e.to_string()))?;
                results[index] = Some(comments);
            }
            let fetched: Vec<(String, &[IssueComment])> = chunk
                .iter()
                .zip(&results)
                .filter_map(|((issue, _), r)| match r {
                    Some(Ok(comments)) => Some((issue.project_id.clone(), comments.as_slice())),
                    _ => None,
                })
                .collect();
            self.read_comment_roles(&jira, &fetched).await;
            for ((issue, project), comments) in chunk.iter().zip(results) {
                let issue_doc = format!("jira:issue:{}", issue.id);
                match comments {
                    Some(Ok(comments)) => {
                        for comment in comments {
                            self.put_issue_comment(&comment, issue, project)?;
                        }
                    }
                    Some(Err(e)) => {
                        self.record.fail("jira:comment", format!("comments of {issue_doc}"), e.to_string());
                        self.keep_children_of_kind(&issue_doc, "jira:comment:");
                    }
                    None => {}
                }
            }
            let attachments: Vec<(IssueAttachment, Issue, Project)> = chunk
                .iter()
                .flat_map(|(issue, project)| {
                    issue.attachments.iter().map(move |a| (a.clone(), issue.clone(), project.clone()))
                })
                .collect();
            self.put_issue_attachments(attachments).await?;
        }
        Ok(())
    }

    fn put_issue_comment(
        &mut self,
        comment: &IssueComment,
        issue: &Issue,
        project: &Project,
    ) -> Result<(), Error> {
        self.record.counts_mut("jira:comment").seen += 1;
        let input = AclInput::of_issue_comment(issue, comment);
        let profile = self.resolve("jira:comment", &input);
        let doc = docs::issue_comment_doc(comment, issue, project, &self.snapshot.directory, profile);
        self.put(doc, input, Placement::project(project, Some(issue.id.clone())))
    }

    async fn put_issue_attachments(&mut self, attachments: Vec<(IssueAttachment, Issue, Project)>) -> Step {
        let Some(jira) = self.jira.clone() else { return Ok(()) };
        let mut pending = Vec::new();
        for (attachment, issue, project) in attachments {
            let id = format!("jira:attachment:{}", attachment.id);
            self.record.counts_mut("jira:attachment").seen += 1;
            let input = AclInput::of_issue(&issue);
            // Jira attachments never change: one already indexed is re-pointed if need be, and downloaded again
            // only when a newer extractor may read what an older one could not.
            if self.state.docs.get(&id).is_some_and(|d| !d.extraction_outdated()) {
                if let Some(mut stored) = self.reader.get(&id)? {
                    stored.acl_profile = self.resolve("jira:attachment", &input);
                    self.put(stored, input, Placement::project(&project, Some(issue.id.clone())))?;
                    continue;
                }
            }
            pending.push((attachment, issue, project));
        }
        let cap = self.source.limits().max_attachment_bytes;
        let fetch = |attachment: &IssueAttachment| {
            let jira = jira.clone();
            let attachment = attachment.clone();
            async move { jira.download(&attachment, cap).await.map_err(|e| e.to_string()) }
        };
        let texts = self
            .fetch_and_extract(
                pending
                    .iter()
                    .map(|(a, _, _)| (a.id.clone(), a.size, hint(&a.filename, &a.media_type), fetch(a)))
                    .collect(),
            )
            .await?;
        for ((attachment, issue, project), text) in pending.into_iter().zip(texts) {
            let id = format!("jira:attachment:{}", attachment.id);
            let (text, stamp) = self.attachment_text("jira:attachment", &id, text);
            let input = AclInput::of_issue(&issue);
            let profile = self.resolve("jira:attachment", &input);
            let doc = docs::issue_attachment_doc(
                &attachment,
                text,
                &issue,
                &project,
                &self.snapshot.directory,
                profile,
            );
            self.put(doc, input, Placement::project(&project, Some(issue.id.clone())))?;
            self.stamp(&id, stamp);
        }
        Ok(())
    }

    /// Marks the stored comments and attachments of an unchanged issue as seen.
    fn keep_children(&mut self, issue_doc: &str) {
        self.keep_children_of_kind(issue_doc, "jira:");
    }

    fn keep_children_of_kind(&mut self, issue_doc: &str, prefix: &str) {
        let issue_id = issue_doc.trim_start_matches("jira:issue:");
        if self.jira_children.is_none() {
            // Built once per run: looking children up by scanning every document per issue is quadratic.
            let mut children: HashMap<String, Vec<String>> = HashMap::new();
            for (id, doc) in self.state.docs.iter().filter(|(id, _)| id.starts_with("jira:")) {
                if let Some(container) = &doc.container {
                    children.entry(container.clone()).or_default().push(id.clone());
                }
            }
            self.jira_children = Some(children);
        }
        let children: Vec<String> = self
            .jira_children
            .as_ref()
            .and_then(|c| c.get(issue_id))
            .map(|ids| ids.iter().filter(|id| id.starts_with(prefix)).cloned().collect())
            .unwrap_or_default();
        for id in children {
            self.keep(&id);
        }
    }

    /// Fetches issues (≤100 per call) and indexes them, recording ids Jira could not return.
    async fn fetch_issues(&mut self, ids: &[String]) -> Step {
        let Some(jira) = self.jira.clone() else { return Ok(()) };
        for chunk in ids.chunks(100) {
            self.stop_point().await?;
            match jira.issues(chunk).await {
                Ok((issues, errors)) => {
                    for (id, message) in errors {
                        self.record.fail("jira:issue", format!("jira:issue:{id}"), message);
                    }
                    // A changed parent's sub-tasks show its security level: fetch them again too.
                    let known: HashSet<&str> = chunk.iter().map(String::as_str).collect();
                    let subtasks: Vec<String> = issues
                        .iter()
                        .flat_map(|i| i.subtask_ids.iter())
                        .filter(|id| !known.contains(id.as_str()))
                        .cloned()
                        .collect();
                    self.put_issues(issues).await?;
                    if !subtasks.is_empty() && self.mode != Mode::Full {
                        Box::pin(self.fetch_issues(&subtasks)).await?;
                    }
                }
                Err(e) => {
                    for id in chunk {
                        let doc = format!("jira:issue:{id}");
                        self.record.fail("jira:issue", doc.clone(), format!("bulk fetch: {e}"));
                        self.keep(&doc);
                        self.keep_children(&doc);
                    }
                }
            }
        }
        Ok(())
    }

    async fn jira_full(&mut self) -> Step<Listing> {
        if !self.jira_permissions {
            return Ok(Listing::Incomplete);
        }
        let Some(jira) = self.jira.clone() else { return Ok(Listing::Incomplete) };
        let keys = self.project_keys();
        let resume = self.state.jira.checkpoint.clone();
        let (mut token, mut offset) = resume.map_or((None, 0), |c| (c.cursor, c.offset));
        self.progress.report(&ProgressEvent::Phase { product: Product::Jira, phase: "issues" });
        if keys.is_empty() {
            return Ok(Listing::Complete);
        }
        loop {
            self.set_checkpoint(Product::Jira, Phase::Issues, token.clone(), offset);
            let page = match jira.issue_ids(&keys, None, token.as_deref()).await {
                Ok(page) => page,
                Err(e) => {
                    self.record.fail("jira:issue", "listing issues", e.to_string());
                    return Ok(Listing::Incomplete);
                }
            };
            const CHUNK: usize = 100;
            while offset < page.items.len() {
                let end = (offset + CHUNK).min(page.items.len());
                let ids = page.items[offset..end].to_vec();
                self.fetch_issues(&ids).await?;
                offset = end;
                self.progress.report(&ProgressEvent::Items { kind: "jira:issue", done: offset as u64 });
                self.set_checkpoint(Product::Jira, Phase::Issues, token.clone(), offset);
                self.checkpoint_due().await?;
            }
            match page.next {
                Some(next) => {
                    token = Some(next);
                    offset = 0;
                }
                None => return Ok(Listing::Complete),
            }
        }
    }

    async fn jira_incremental(&mut self) -> Step<Listing> {
        if !self.jira_permissions {
            return Ok(Listing::Incomplete);
        }
        let Some(jira) = self.jira.clone() else { return Ok(Listing::Incomplete) };
        let keys = self.project_keys();
        self.progress.report(&ProgressEvent::Phase { product: Product::Jira, phase: "changed issues" });
        // Every live issue id (ids only, cheap): what is not listed was deleted or archived.
        let mut live = BTreeSet::new();
        let mut token: Option<String> = None;
        while !keys.is_empty() {
            match jira.issue_ids(&keys, None, token.as_deref()).await {
                Ok(page) => {
                    live.extend(page.items);
                    match page.next {
                        Some(next) => token = Some(next),
                        None => break,
                    }
                }
                Err(e) => {
                    self.record.fail("jira:issue", "listing issues", e.to_string());
                    return Ok(Listing::Incomplete);
                }
            }
        }
        let overlap = chrono::Duration::from_std(self.options.overlap).unwrap_or(chrono::Duration::zero());
        let since = self.state.jira.watermark.map(|w| w - overlap);
        let mut changed: BTreeSet<String> = BTreeSet::new();
        if let Some(since) = since {
            let mut token: Option<String> = None;
            while !keys.is_empty() {
                match jira.issue_ids(&keys, Some(since), token.as_deref()).await {
                    Ok(page) => {
                        changed.extend(page.items);
                        match page.next {
                            Some(next) => token = Some(next),
                            None => break,
                        }
                    }
                    Err(e) => {
                        self.record.fail("jira:issue", "listing changed issues", e.to_string());
                        return Ok(Listing::Incomplete);
                    }
                }
            }
        }
        // Issues listed but never indexed (a failure last time, a project newly in scope) count as changed;
        // without a watermark (a full sync that saw no issue) every issue does.
        for id in &live {
            if since.is_none() || !self.state.docs.contains_key(&format!("jira:issue:{id}")) {
                changed.insert(id.clone());
            }
        }
        for id in live.iter().filter(|id| !changed.contains(*id)) {
            let doc = format!("jira:issue:{id}");
            self.keep(&doc);
            self.keep_children(&doc);
        }
        let changed: Vec<String> = changed.into_iter().filter(|id| live.contains(id)).collect();
        self.fetch_issues(&changed).await?;
        // Comments deleted from issues whose comments were not read again (unchanged issues, and issues in
        // the overlap window whose version had not moved): ask which of the stored ones still exist.
        let stored_comments: Vec<String> = self
            .state
            .docs
            .keys()
            .filter(|id| id.starts_with("jira:comment:") && !self.touched.contains(*id))
            .map(|id| id.trim_start_matches("jira:comment:").to_string())
            .collect();
        for chunk in stored_comments.chunks(1000) {
            match jira.existing_comments(chunk).await {
                Ok(existing) => {
                    for id in chunk.iter().filter(|id| !existing.contains(*id)) {
                        if let Some(doc) = self.state.docs.get_mut(&format!("jira:comment:{id}")) {
                            // Not seen: reconciliation deletes it.
                            doc.seen_in.clear();
                        }
                    }
                }
                Err(e) => {
                    self.record.fail("jira:comment", "checking comments", e.to_string());
                    return Ok(Listing::Incomplete);
                }
            }
        }
        Ok(Listing::Complete)
    }
}

/// Where a document sits, for scope decisions and for finding a container's children.
struct Placement {
    scope_key: String,
    space_owner: Option<String>,
    container: Option<String>,
}

impl Placement {
    fn space(space: &Space, container: Option<String>) -> Placement {
        let space_owner = match &space.kind {
            SpaceKind::Personal { owner } => owner.clone(),
            SpaceKind::Global => None,
        };
        Placement { scope_key: space.key.clone(), space_owner, container }
    }

    fn project(project: &Project, container: Option<String>) -> Placement {
        Placement { scope_key: project.key.clone(), space_owner: None, container }
    }
}

/// A listing page's items.
enum Batch {
    Contents(Vec<Content>),
    Comments(Vec<Comment>),
    Attachments(Vec<Attachment>),
}

impl Batch {
    fn len(&self) -> usize {
        match self {
            Batch::Contents(v) => v.len(),
            Batch::Comments(v) => v.len(),
            Batch::Attachments(v) => v.len(),
        }
    }

    /// The batch without its first `n` items (done before a checkpoint).
    fn skip(self, n: usize) -> Batch {
        fn tail<T>(mut v: Vec<T>, n: usize) -> Vec<T> {
            v.drain(..n.min(v.len()));
            v
        }
        match self {
            Batch::Contents(v) => Batch::Contents(tail(v, n)),
            Batch::Comments(v) => Batch::Comments(tail(v, n)),
            Batch::Attachments(v) => Batch::Attachments(tail(v, n)),
        }
    }
}

/// An attachment's text or why it has none.
enum AttachmentText {
    Text(String),
    Skipped(String),
    Failed(String),
}

fn hint(filename: &str, media_type: &Option<String>) -> Hint {
    Hint { filename: Some(filename.to_string()), media_type: media_type.clone() }
}

/// The kind of a document id: `confluence:page:1` → `confluence:page`.
/// The site's one directory when both products are synced: Jira lists every user (1000 a page), and
/// Confluence lists group members 200 a page where Jira lists 50, so group memberships are read once,
/// from Confluence. A member the user listing missed is looked up by account id.
async fn both_directory(jira: &Jira, confluence: &Confluence) -> Result<Directory, crate::atlassian::Error> {
    let mut users = jira.users().await?;
    let groups = confluence.groups().await?;
    let missing: BTreeSet<String> =
        groups.values().flat_map(|g| g.members.iter()).filter(|a| !users.contains_key(*a)).cloned().collect();
    if !missing.is_empty() {
        let missing: Vec<String> = missing.into_iter().collect();
        users.extend(confluence.users(&missing).await?);
    }
    Ok(Directory { users, groups })
}

/// Whether `space` is one `source` indexes.
fn space_in_scope(source: &Source, space: &Space) -> bool {
    if space.archived && !source.include_archived() {
        return false;
    }
    match &space.kind {
        SpaceKind::Personal { owner: Some(owner) } => source.personal_space_in_scope(&space.key, owner),
        _ => source.space_in_scope(&space.key),
    }
}

fn kind_of(id: &str) -> String {
    match id.rsplit_once(':') {
        Some((kind, _)) => kind.to_string(),
        None => id.to_string(),
    }
}

fn content_kind_name(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Page => "confluence:page",
        ContentKind::BlogPost => "confluence:blogpost",
    }
}

/// The index id of a page or blog post.
fn content_doc_id(kind: ContentKind, id: &str) -> String {
    format!("{}:{id}", content_kind_name(kind))
}

fn phase_name(phase: Phase) -> &'static str {
    match phase {
        Phase::Pages => "pages",
        Phase::BlogPosts => "blog posts",
        Phase::Comments => "comments",
        Phase::Attachments => "attachments",
        Phase::Issues => "issues",
    }
}

fn phase_kind(phase: Phase) -> &'static str {
    match phase {
        Phase::Pages => "confluence:page",
        Phase::BlogPosts => "confluence:blogpost",
        Phase::Comments => "confluence:comment",
        Phase::Attachments => "confluence:attachment",
        Phase::Issues => "jira:issue",
    }
}

/// What decides which documents a source holds, as one comparable string.
fn scope_summary(source: &Source) -> String {
    let products = source.products();
    let list = |set: &BTreeSet<String>| set.iter().cloned().collect::<Vec<_>>().join(",");
    let spaces = source.spaces();
    let projects = source.projects();
    let users = source.users();
    let strings = |it: &mut dyn Iterator<Item = &str>| it.map(str::to_string).collect::<BTreeSet<_>>();
    format!(
        "confluence={} jira={} archived={} spaces=+[{}]-[{}] projects=+[{}]-[{}] users=+[{}]-[{}]",
        products.confluence,
        products.jira,
        source.include_archived(),
        list(&strings(&mut spaces.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut spaces.exclude().iter().map(|k| k.as_str()))),
        list(&strings(&mut projects.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut projects.exclude().iter().map(|k| k.as_str()))),
        list(&strings(&mut users.include().iter().map(|k| k.as_str()))),
        list(&strings(&mut users.exclude().iter().map(|k| k.as_str()))),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_of_ids() {
        let cases = [
            ("confluence:page:1", "confluence:page"),
            ("confluence:attachment:att9", "confluence:attachment"),
            ("jira:comment:10020", "jira:comment"),
        ];
        for (id, kind) in cases {
            assert_eq!(kind_of(id), kind, "{id}");
        }
    }

    #[test]
    fn batches_resume_after_their_offset() {
        let batch = Batch::Comments(Vec::new());
        assert_eq!(batch.skip(3).len(), 0);
    }
}
