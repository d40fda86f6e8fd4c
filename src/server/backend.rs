//! The server's real backends: [`Indexes`] (one [`SearchService`] per configured source, with the directory
//! of the same commit, as [`SearchIndex`] and [`Callers`]) and [`Engine`] (the sync engine as
//! [`SyncRunner`]), and [`run`], which is `permdex serve`.
//!
//! Each source has its own index (`sync::index_dir`), opened once; a source added to the configuration
//! file while the server runs joins them ([`Indexes::add`]), a source removed from it leaves them
//! ([`Indexes::remove`]). A caller is searched in every source
//! whose directory knows them as an active, in-scope account, with that source's principals
//! ([`sync::principals_in`](crate::sync::principals_in)); the search across sources and the
//! merge are the search library's ([`search::search_sources`]).
//!
//! Reloads: after each checkpoint commit of a sync run by the server, and after the run, the source's
//! [`SearchService`] moves to the new commit (searches in flight finish on the old one) and the directory
//! is read from that commit. A source without an index yet is opened at its first reload.
//!
//! This file converts between the search library's and the API's types ([`request_of`], [`results_of`],
//! [`document_body`]);
//! it holds no HTTP code.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio_util::sync::CancellationToken;

use super::admin::{LiveProgress, RunCounts, RunFailure, RunFuture, RunSummary, Sources, SyncRunner};
use super::auth::{Authenticator, Caller, Callers, EmailMatch, SourcePrincipals};
use super::document::{DocumentBody, PREVIEW_CHARS};
use super::search::{
    AclCacheStats, CrumbBody, FacetCount, FacetsBody, GlanceBody, HitBody, IndexedCounts, Page, Readiness,
    SearchFailure, SearchIndex, SearchQuery, SearchResults, ServedSource, SortOrder, Withheld,
};
use super::{AppState, BackendError, Error};
use crate::acl::AclStore;
use crate::atlassian::model::Directory;
use crate::config::{AccountId, Config, Source};
use crate::index::{Generation, Holdings, IndexReader, IndexWriter};
use crate::search::{self, SearchService};
use crate::sync::runs::{self, Mode, RunOutcome, RunRecord};
use crate::sync::{facts_of, index_dir, principals_in, CommitFacts, SyncOptions};
use crate::sync::{Estimate, Progress, ProgressEvent};

/// Every configured source's index, as the server searches it.
pub struct Indexes {
    config: Config,
    /// The sources served, by name. A source added or removed while the server runs replaces the whole
    /// map, built with the new site complete (or without the removed one): a search or a poll works on the
    /// one map it read, so it sees a source with everything it needs, or not at all.
    sites: RwLock<Arc<SiteMap>>,
}

type SiteMap = BTreeMap<String, Arc<Site>>;

struct Site {
    source: Source,
    open: RwLock<Option<OpenSite>>,
    /// Held while the site reloads, so that reloads never interleave: the directory installed is always
    /// the one of the commit the service moved to.
    reloading: Mutex<()>,
}

/// A source's index as searches see it: the service and everything else read from the same commit.
#[derive(Clone)]
struct OpenSite {
    service: SearchService,
    directory: Arc<Directory>,
    generation: Generation,
    /// Why the commit is not trusted (its ACL store, state or segment files; every document invisible), if it is not.
    integrity_problem: Option<String>,
    /// When the commit's permissions were last read in full.
    permissions_refreshed: Option<DateTime<Utc>>,
    holdings: Arc<Holdings>,
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Indexes {
    /// Opens the index of every source that has one (blocking). A source not synced yet is logged and
    /// opened when its first commit appears.
    pub fn open(config: &Config) -> Indexes {
        let sites = config
            .sources()
            .iter()
            .map(|source| (source.name().as_str().to_owned(), Arc::new(Site::open(config, source))))
            .collect();
        Indexes { config: config.clone(), sites: RwLock::new(Arc::new(sites)) }
    }

    /// The sources served now.
    fn sites(&self) -> Arc<SiteMap> {
        read_lock(&self.sites).clone()
    }

    /// Serves `source`, written to `config` (the configuration file read again) while the server runs
    /// (blocking: opens its index if it has one). Searches that started before go on without it.
    pub fn add(&self, config: &Config, source: &Source) -> Result<(), BackendError> {
        let name = source.name().as_str();
        if config.data_dir() != self.config.data_dir() {
            return Err(BackendError::NotAdded(format!(
                "data_dir in the configuration file is now {}, but this server serves {}",
                config.data_dir().display(),
                self.config.data_dir().display()
            )));
        }
        let site = Arc::new(Site::open(&self.config, source));
        let mut sites = write_lock(&self.sites);
        if sites.contains_key(name) {
            return Err(BackendError::NotAdded(format!("a source named {name} is served already")));
        }
        let mut next = SiteMap::clone(&sites);
        next.insert(name.to_owned(), site);
        *sites = Arc::new(next);
        Ok(())
    }

    /// Stops serving `name`: searches that start from now on do not see it (those in flight finish on the
    /// map they read; the server waits for them before it says the source is removed). Its index stays
    /// open until the last of them lets it go. Nothing to do for a name not served.
    pub fn remove(&self, name: &str) {
        let mut sites = write_lock(&self.sites);
        if sites.contains_key(name) {
            let mut next = SiteMap::clone(&sites);
            next.remove(name);
            *sites = Arc::new(next);
        }
    }

    fn open_sites(&self) -> Vec<(String, OpenSite)> {
        self.sites()
            .iter()
            .filter_map(|(name, site)| read_lock(&site.open).clone().map(|s| (name.clone(), s)))
            .collect()
    }

    /// Moves `source` to its index's last commit if that is newer than the one served (blocking). Cheap
    /// when nothing changed: one small file read. Returns the generation now served when it moved.
    /// Searches in flight finish on the commit they started with.
    pub fn refresh(&self, source: &str) -> Result<Option<Generation>, BackendError> {
        let sites = self.sites();
        let site = sites.get(source).ok_or_else(|| BackendError::UnknownSource(source.to_owned()))?;
        let _reloading = site.reloading.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let current = read_lock(&site.open).clone();
        let reloaded = match current {
            Some(open) => {
                let committed = open.service.with_reader(IndexReader::committed_generation)?;
                if committed == open.generation {
                    return Ok(None);
                }
                open.service.reload()?;
                let parts = open.service.with_reader(|reader| CommitParts::of(reader, &site.source))?;
                parts.into_site(open.service)
            }
            None => {
                if !index_dir(self.config.data_dir(), source).exists() {
                    return Ok(None);
                }
                open_site(&self.config, &site.source)?
            }
        };
        let generation = reloaded.generation;
        *write_lock(&site.open) = Some(reloaded);
        tracing::debug!(source, generation = generation.0, "serving a new commit");
        Ok(Some(generation))
    }

    /// Why `site`'s documents are not served at `now`, if they are not.
    fn withheld(site: &Site, open: Option<&OpenSite>, now: DateTime<Utc>) -> Option<String> {
        let Some(open) = open else { return Some("no index yet: run a sync".into()) };
        if open.integrity_problem.is_some() {
            return Some(
                "the index's permission store failed its integrity check; the next sync rebuilds it".into(),
            );
        }
        let max_age = site.source.max_permission_age()?;
        let limit = humantime::format_duration(max_age);
        match open.permissions_refreshed {
            None => Some(format!(
                "permissions were never read in full; documents are withheld until a sync reads them \
                 (max_permission_age {limit})"
            )),
            Some(at) => {
                let age = (now - at).to_std().unwrap_or_default();
                (age > max_age).then(|| {
                    let age = humantime::format_duration(Duration::from_secs(age.as_secs()));
                    format!(
                        "permissions were last read in full {age} ago, more than max_permission_age {limit}; \
                         documents are withheld until a sync refreshes them"
                    )
                })
            }
        }
    }

    /// What is served of each source at `now`.
    pub fn served_at(&self, now: DateTime<Utc>) -> Vec<ServedSource> {
        self.sites()
            .iter()
            .map(|(name, site)| {
                let open = read_lock(&site.open).clone();
                let withheld = Self::withheld(site, open.as_ref(), now);
                ServedSource {
                    name: name.clone(),
                    generation: open.as_ref().map_or(0, |o| o.generation.0),
                    permissions_refreshed: open.as_ref().and_then(|o| o.permissions_refreshed),
                    max_permission_age_secs: site.source.max_permission_age().map(|d| d.as_secs()),
                    withheld,
                    indexed: open.as_ref().map(|o| indexed_counts(&o.holdings)).unwrap_or_default(),
                }
            })
            .collect()
    }
}

/// Everything but the service that must come from the commit a site's service shows.
struct CommitParts {
    generation: Generation,
    integrity_problem: Option<String>,
    facts: CommitFacts,
    holdings: Holdings,
}

impl CommitParts {
    fn of(reader: &IndexReader, source: &Source) -> Result<CommitParts, crate::index::Error> {
        Ok(CommitParts {
            generation: reader.generation(),
            integrity_problem: reader.integrity_problem().map(str::to_owned),
            facts: facts_of(reader, source),
            holdings: reader.holdings()?,
        })
    }

    fn into_site(self, service: SearchService) -> OpenSite {
        OpenSite {
            service,
            directory: Arc::new(self.facts.directory),
            generation: self.generation,
            integrity_problem: self.integrity_problem,
            permissions_refreshed: self.facts.permissions_refreshed,
            holdings: Arc::new(self.holdings),
        }
    }
}

fn indexed_counts(holdings: &Holdings) -> IndexedCounts {
    IndexedCounts {
        total: holdings.total,
        by_kind: holdings.by_kind.iter().map(|((p, k), n)| (format!("{p}:{k}"), *n)).collect(),
        unreadable: holdings.unreadable,
    }
}

impl Site {
    /// `source`'s index as its last commit has it, or not open yet (logged) when it has no index or it
    /// cannot be opened: the next reload tries again.
    fn open(config: &Config, source: &Source) -> Site {
        let open = match open_site(config, source) {
            Ok(site) => Some(site),
            Err(e) => {
                tracing::warn!(source = %source.name(), error = %e, "index not open");
                None
            }
        };
        Site { source: source.clone(), open: RwLock::new(open), reloading: Mutex::new(()) }
    }
}

fn open_site(config: &Config, source: &Source) -> Result<OpenSite, BackendError> {
    let reader = IndexReader::open(&index_dir(config.data_dir(), source.name().as_str()))?;
    let parts = CommitParts::of(&reader, source)?;
    Ok(parts.into_site(SearchService::new(reader)))
}

impl Callers for Indexes {
    fn principals(&self, account_id: &str) -> Option<SourcePrincipals> {
        let mut by_source = BTreeMap::new();
        for (name, site) in self.sites().iter() {
            let Some(open) = read_lock(&site.open).clone() else { continue };
            if let Some(principals) = principals_in(&site.source, &open.directory, account_id) {
                by_source.insert(name.clone(), principals);
            }
        }
        (!by_source.is_empty()).then_some(SourcePrincipals(by_source))
    }

    fn account_by_email(&self, email: &str) -> EmailMatch {
        let wanted = email.trim();
        let mut found: Option<String> = None;
        for site in self.sites().values() {
            let Some(open) = read_lock(&site.open).clone() else { continue };
            for (account, user) in &open.directory.users {
                if !user.email.as_deref().is_some_and(|e| e.trim().eq_ignore_ascii_case(wanted)) {
                    continue;
                }
                match &found {
                    Some(other) if other != account => return EmailMatch::Several,
                    _ => found = Some(account.clone()),
                }
            }
        }
        match found.map(|id| AccountId::parse(&id)) {
            Some(Ok(account)) => EmailMatch::One(account),
            // An id the directory holds but we cannot read matches nobody.
            Some(Err(_)) | None => EmailMatch::None,
        }
    }

    fn display_name(&self, account_id: &str) -> Option<String> {
        self.sites().values().find_map(|site| {
            let open = read_lock(&site.open).clone()?;
            open.directory.users.get(account_id).map(|u| u.display_name.clone()).filter(|n| !n.is_empty())
        })
    }
}

/// The search library's request for an API query.
pub fn request_of(query: &SearchQuery) -> search::SearchRequest {
    search::SearchRequest {
        query: query.q.clone(),
        filters: search::Filters {
            products: query.products.clone(),
            kinds: query.kinds.clone(),
            spaces: query.spaces.clone(),
            projects: query.projects.clone(),
            labels: query.labels.clone(),
            updated_from: query.updated_from,
            updated_to: query.updated_to,
        },
        sort: match query.sort {
            SortOrder::Relevance => search::Sort::Relevance,
            SortOrder::Updated => search::Sort::Updated,
        },
        page: match &query.page {
            Page::Offset { offset, limit } => search::PageRequest::Offset { offset: *offset, limit: *limit },
            Page::Cursor { cursor, limit } => {
                search::PageRequest::Cursor { cursor: cursor.clone(), limit: *limit }
            }
        },
        facets: query.facets,
        snippets: query.snippets,
    }
}

impl From<search::Error> for SearchFailure {
    fn from(error: search::Error) -> Self {
        match error {
            e @ search::Error::BadQuery { .. } => SearchFailure::BadQuery(e.to_string()),
            e @ (search::Error::BadCursor | search::Error::BadRequest(_)) => {
                SearchFailure::BadRequest(e.to_string())
            }
            other => SearchFailure::Internal(other.to_string()),
        }
    }
}

fn facet_counts(counts: Vec<(String, u64)>) -> Vec<FacetCount> {
    counts.into_iter().map(|(value, count)| FacetCount { value, count }).collect()
}

/// A hit's or a document's space name, breadcrumb and issue facts, as the API gives them.
fn glance_of(
    space_name: Option<String>,
    breadcrumb: Vec<search::Crumb>,
    issue: Option<search::IssueFacts>,
) -> GlanceBody {
    let issue = issue.unwrap_or_default();
    let (assignee_name, unassigned) = match issue.assignee {
        search::Assignee::Named(name) => (Some(name), false),
        search::Assignee::Unassigned => (None, true),
        search::Assignee::Unnamed | search::Assignee::NotApplicable => (None, false),
    };
    GlanceBody {
        space_name,
        breadcrumb: breadcrumb.into_iter().map(|c| CrumbBody { id: c.id, title: c.title }).collect(),
        issue_key: issue.key,
        issue_type: issue.issue_type,
        status: issue.status,
        status_category: issue.status_category,
        assignee_name,
        unassigned,
    }
}

/// The API's answer for a search across sources.
pub fn results_of(response: search::SourcesResponse) -> SearchResults {
    let hit = |search::SourceHit { source, hit }: search::SourceHit| HitBody {
        source,
        id: hit.id,
        product: hit.product,
        kind: hit.kind,
        title: hit.title,
        title_html: hit.title_html,
        snippet_html: hit.snippet_html,
        space: hit.space,
        project: hit.project,
        container: hit.container,
        labels: hit.labels,
        author_name: hit.author_name,
        glance: glance_of(hit.space_name, hit.breadcrumb, hit.issue),
        url: hit.url,
        updated: hit.updated,
        score: hit.score,
    };
    SearchResults {
        total: response.total,
        hits: response.hits.into_iter().map(hit).collect(),
        facets: response.facets.map(|f| FacetsBody {
            source: facet_counts(response.per_source),
            product: facet_counts(f.product),
            kind: facet_counts(f.kind),
            space: facet_counts(f.space),
            project: facet_counts(f.project),
        }),
        next_cursor: response.next_cursor,
        withheld: Vec::new(),
    }
}

/// The API's answer for a document, its text cut at a word boundary after [`PREVIEW_CHARS`] characters.
pub fn document_body(
    source: &str,
    document: search::Document,
    container_title: Option<String>,
) -> DocumentBody {
    let end = search::snippet::word_end(&document.body, PREVIEW_CHARS);
    let text_truncated = end < document.body.len();
    let mut text = document.body;
    text.truncate(end);
    DocumentBody {
        source: source.to_owned(),
        id: document.id,
        product: document.product,
        kind: document.kind,
        title: document.title,
        text,
        text_truncated,
        space: document.space,
        project: document.project,
        container: document.container,
        container_title,
        labels: document.labels,
        author_name: document.author_name,
        glance: glance_of(document.space_name, document.breadcrumb, document.issue),
        url: document.url,
        created: document.created,
        updated: document.updated,
    }
}

impl SearchIndex for Indexes {
    fn search(&self, caller: &Caller, query: &SearchQuery) -> Result<SearchResults, SearchFailure> {
        let now = Utc::now();
        let mut withheld = Vec::new();
        let sites = self.sites();
        let mut open: Vec<(&str, Option<OpenSite>)> = Vec::with_capacity(sites.len());
        for (name, site) in sites.iter() {
            let current = read_lock(&site.open).clone();
            let known = caller.principals.0.contains_key(name);
            let searched = query.sources.is_empty() || query.sources.iter().any(|s| s == name);
            match Self::withheld(site, current.as_ref(), now) {
                // A source with no index yet has nothing to withhold: it simply has no results.
                Some(reason) if current.is_some() => {
                    if known && searched {
                        withheld.push(Withheld { source: name.clone(), reason });
                    }
                    open.push((name.as_str(), None));
                }
                _ => open.push((name.as_str(), current)),
            }
        }
        let parts: Vec<search::SourcePart<'_>> = open
            .iter()
            .map(|(name, site)| search::SourcePart {
                name,
                service: site.as_ref().map(|s| &s.service),
                principals: caller.principals.0.get(*name).map(Vec::as_slice),
            })
            .collect();
        let response = search::search_sources(&parts, &query.sources, &request_of(query))?;
        Ok(SearchResults { withheld, ..results_of(response) })
    }

    fn document(
        &self,
        caller: &Caller,
        source: &str,
        id: &str,
    ) -> Result<Option<DocumentBody>, SearchFailure> {
        let sites = self.sites();
        let (Some(site), Some(principals)) = (sites.get(source), caller.principals.0.get(source)) else {
            return Ok(None);
        };
        let open = read_lock(&site.open).clone();
        if Self::withheld(site, open.as_ref(), Utc::now()).is_some() {
            return Ok(None);
        }
        let Some(open) = open else { return Ok(None) };
        let reader = open.service.acl().caller(principals.iter());
        let Some(document) = open.service.document(&reader, id)? else { return Ok(None) };
        // The container's title only when the caller may read the container too.
        let container_title = match &document.container {
            Some(container) => open.service.document(&reader, container)?.map(|c| c.title),
            None => None,
        };
        Ok(Some(document_body(source, document, container_title)))
    }

    fn readiness(&self) -> Readiness {
        if let Some((name, problem)) = self.source_problems().into_iter().next() {
            return Readiness::NotReady(format!("source {name}: {problem}"));
        }
        let served = self.served_at(Utc::now());
        if served.iter().any(|s| s.withheld.is_none()) {
            return Readiness::Ready;
        }
        let reasons: Vec<String> = served
            .iter()
            .map(|s| format!("source {}: {}", s.name, s.withheld.as_deref().unwrap_or_default()))
            .collect();
        Readiness::NotReady(reasons.join("; "))
    }

    fn source_problems(&self) -> BTreeMap<String, String> {
        self.open_sites()
            .into_iter()
            .filter_map(|(name, site)| Some((name, site.integrity_problem?)))
            .collect()
    }

    fn reload(&self, source: &str) -> Result<(), BackendError> {
        self.refresh(source).map(|_| ())
    }

    fn served(&self) -> Vec<ServedSource> {
        self.served_at(Utc::now())
    }

    fn add_source(&self, config: &Config, source: &Source) -> Result<(), BackendError> {
        self.add(config, source)
    }

    fn remove_source(&self, name: &str) {
        self.remove(name)
    }

    fn acl_cache(&self) -> AclCacheStats {
        self.open_sites().iter().fold(AclCacheStats::default(), |sum, (_, site)| {
            let cache = site.service.stats().acl_cache;
            AclCacheStats {
                hits: sum.hits + cache.mask_hits + cache.segment_hits,
                misses: sum.misses + cache.mask_misses + cache.segment_misses,
            }
        })
    }
}

/// The sync engine behind the admin API.
pub struct Engine {
    config: Config,
    indexes: Arc<Indexes>,
    options: SyncOptions,
    /// The progress of each run going on now, by source.
    live: Arc<Mutex<BTreeMap<String, LiveProgress>>>,
}

impl Engine {
    pub fn new(config: Config, indexes: Arc<Indexes>) -> Engine {
        Engine::with_options(config, indexes, SyncOptions::default())
    }

    /// With other sync knobs (tests point the attachment extractor at the permdex binary).
    pub fn with_options(config: Config, indexes: Arc<Indexes>, options: SyncOptions) -> Engine {
        Engine { config, indexes, options, live: Arc::default() }
    }
}

/// Tells a listener about each checkpoint commit, without blocking the sync, and keeps the run's live
/// progress where the admin API reads it.
struct CommitSignal {
    commits: tokio::sync::mpsc::UnboundedSender<()>,
    live: Arc<Mutex<BTreeMap<String, LiveProgress>>>,
    source: String,
    started: std::time::Instant,
    /// Documents seen so far, per kind (the events carry each kind's running count).
    seen: BTreeMap<String, u64>,
    /// Done, total and time left of the kind being read.
    estimate: Estimate,
}

impl Progress for CommitSignal {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        let now = std::time::Instant::now();
        self.estimate.update(event, now);
        let mut live = self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let entry = live.entry(self.source.clone()).or_default();
        match event {
            ProgressEvent::Checkpoint { .. } => {
                // The listener is gone only when the run is over; nothing left to reload then.
                let _ = self.commits.send(());
            }
            ProgressEvent::Phase { product, phase } => entry.phase = format!("{} {phase}", product.as_str()),
            ProgressEvent::Items { product, kind, done } => {
                self.seen.insert(format!("{product}:{kind}"), *done);
                entry.done = self.seen.values().sum();
                let secs = self.started.elapsed().as_secs_f64();
                entry.per_second =
                    if secs > 0.0 { (entry.done as f64 / secs * 10.0).round() / 10.0 } else { 0.0 };
            }
            ProgressEvent::Total { .. } => {}
        }
        if matches!(event, ProgressEvent::Items { .. } | ProgressEvent::Total { .. }) {
            entry.kind = self.estimate.label();
            entry.kind_done = self.estimate.done();
            entry.kind_total = self.estimate.total();
            entry.eta_seconds = self.estimate.eta(now).map(|eta| eta.as_secs());
        }
        entry.seconds = self.started.elapsed().as_secs();
    }
}

impl Drop for CommitSignal {
    fn drop(&mut self) {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.source);
    }
}

fn summary(record: RunRecord) -> RunSummary {
    let failure_count = record.failed();
    let (outcome, outcome_reason) = match &record.outcome {
        RunOutcome::Completed => ("completed", None),
        RunOutcome::Cancelled => ("cancelled", None),
        RunOutcome::Aborted(reason) => ("aborted", Some(reason.clone())),
    };
    RunSummary {
        run_id: record.run_id,
        mode: record.mode.as_str().to_owned(),
        started: record.started,
        ended: record.ended,
        outcome: outcome.to_owned(),
        outcome_reason,
        counts: record
            .counts
            .into_iter()
            .map(|(counted, c)| {
                let counts = RunCounts {
                    seen: c.seen,
                    added: c.added,
                    updated: c.updated,
                    deleted: c.deleted,
                    unchanged: c.unchanged,
                    failed: c.failed,
                    skipped: c.skipped,
                    acl_unknown: c.acl_unknown,
                };
                (counted.to_string(), counts)
            })
            .collect(),
        api_calls: record.api.calls,
        throttled: record.api.throttled,
        failure_count,
        failures: record
            .failures
            .into_iter()
            .map(|f| RunFailure { item: f.item, reason: f.reason })
            .collect(),
    }
}

impl SyncRunner for Engine {
    fn sync(&self, source: Source, mode: Mode, stop: CancellationToken) -> RunFuture {
        let config = self.config.clone();
        let indexes = self.indexes.clone();
        // The run stops when either the server's sync options or this run's own token say so.
        let cancel = self.options.cancel.child_token();
        let options = SyncOptions { cancel: cancel.clone(), ..self.options.clone() };
        let live = self.live.clone();
        Box::pin(async move {
            let name = source.name().as_str().to_owned();
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            let reload_indexes = indexes.clone();
            let reload_name = name.clone();
            let reloader = tokio::spawn(async move {
                while rx.recv().await.is_some() {
                    // Coalesce checkpoints that arrived while the last reload ran.
                    while rx.try_recv().is_ok() {}
                    let indexes = reload_indexes.clone();
                    let name = reload_name.clone();
                    match tokio::task::spawn_blocking(move || indexes.reload(&name)).await {
                        // A source removed while it syncs has nothing to reload.
                        Ok(Ok(())) | Ok(Err(BackendError::UnknownSource(_))) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(source = %reload_name, error = %e, "reload after checkpoint failed")
                        }
                        Err(e) => tracing::warn!(source = %reload_name, error = %e, "reload task failed"),
                    }
                }
            });
            let mut progress = CommitSignal {
                commits: tx,
                live: live.clone(),
                source: name.clone(),
                started: std::time::Instant::now(),
                seen: BTreeMap::new(),
                estimate: Estimate::default(),
            };
            let stopping = tokio::spawn(async move {
                stop.cancelled().await;
                cancel.cancel();
            });
            let result = crate::sync::sync_with(&config, &source, mode, &options, &mut progress).await;
            stopping.abort();
            drop(progress);
            let _ = reloader.await;
            Ok(summary(result?))
        })
    }

    fn purge(&self, source: &Source) -> Result<(), BackendError> {
        let dir = index_dir(self.config.data_dir(), source.name().as_str());
        if !dir.exists() {
            return Ok(());
        }
        let _lock = crate::sync::lock::SourceLock::acquire(self.config.data_dir(), source.name().as_str())?;
        // An index of an older schema is replaced by an empty one: purged too.
        let (mut writer, _) = IndexWriter::open_or_rebuild(&dir)?;
        // Unread, so that a damaged index can be purged too.
        writer.discard_committed()?;
        // An empty ACL store and no sync state: the next sync starts over from nothing.
        writer.commit(&AclStore::default(), b"")?;
        Ok(writer.close()?)
    }

    fn forget(&self, source: &Source) -> Result<Vec<std::path::PathBuf>, BackendError> {
        let name = source.name().as_str();
        let data_dir = self.config.data_dir();
        // Held while deleting: a `permdex sync` of the source in another process keeps it (and its files).
        let lock = crate::sync::lock::SourceLock::acquire(data_dir, name)?;
        let dir = crate::sync::lock::lock_path(data_dir, name)
            .parent()
            .map(std::path::Path::to_path_buf)
            .ok_or_else(|| BackendError::UnknownSource(name.to_owned()))?;
        let records = runs::runs_file(data_dir, name);
        let mut deleted = Vec::new();
        let io = |path: &std::path::Path| {
            let path = path.to_owned();
            move |source| BackendError::Sync(crate::sync::Error::Io { path, source })
        };
        if records.exists() {
            std::fs::remove_file(&records).map_err(io(&records))?;
            deleted.push(records);
        }
        std::fs::remove_dir_all(&dir).map_err(io(&dir))?;
        drop(lock);
        deleted.push(dir);
        Ok(deleted)
    }

    fn last_runs(&self, source: &str, limit: usize) -> Result<Vec<RunSummary>, BackendError> {
        let records = runs::read_last(self.config.data_dir(), source, limit)?;
        Ok(records.into_iter().map(summary).collect())
    }

    fn progress(&self, source: &str) -> Option<LiveProgress> {
        self.live.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(source).cloned()
    }
}

/// Knobs of `permdex serve` that are not configuration: the demo and tests set them.
#[derive(Debug, Clone)]
pub struct ServeOptions {
    /// Options of every sync the server runs.
    pub sync: SyncOptions,
    /// How often each index's committed generation is polled for commits made by anyone.
    pub poll_interval: Duration,
    /// Whether the server syncs each source on its configured schedule (`permdex serve` does; the
    /// library's default, which tests and tools start from, does not: they sync when they choose).
    pub scheduled: bool,
}

impl Default for ServeOptions {
    fn default() -> Self {
        ServeOptions {
            sync: SyncOptions::default(),
            poll_interval: super::watch::DEFAULT_POLL_INTERVAL,
            scheduled: false,
        }
    }
}

/// `permdex serve` assembled: every source's index opened, the engine behind the admin API, the app's
/// state, and the background work that keeps it current (following commits made by anyone).
pub struct Service {
    config: Config,
    indexes: Arc<Indexes>,
    state: AppState,
    options: ServeOptions,
}

impl Service {
    /// Opens every source's index (on the blocking pool) and builds the app's state.
    pub async fn open(config: Config, options: ServeOptions) -> Result<Service, Error> {
        let auth = Authenticator::from_config(config.server())?;
        let opening = config.clone();
        let indexes = Arc::new(
            tokio::task::spawn_blocking(move || Indexes::open(&opening))
                .await
                .map_err(|e| Error::Serve(std::io::Error::other(e.to_string())))?,
        );
        let runner = Arc::new(Engine::with_options(config.clone(), indexes.clone(), options.sync.clone()));
        let login = super::login::Login::from_config(config.server())?;
        let mut state =
            AppState::new(auth, indexes.clone(), indexes.clone(), Sources::new(config.sources(), runner))
                .with_limits(super::Limits::from_config(config.server()))
                .with_login(login)
                .with_config_file(config.file());
        if options.scheduled {
            state = state.with_schedules();
        }
        Ok(Service { config, indexes, state, options })
    }

    /// Demo mode: `GET /api/v1/demo/users` lists `users`.
    pub fn with_demo_users(self, users: Vec<super::DemoUser>) -> Service {
        Service { state: self.state.with_demo_users(users), ..self }
    }

    /// The indexes searches run on.
    pub fn indexes(&self) -> &Arc<Indexes> {
        &self.indexes
    }

    /// Serves on `listener` until `shutdown` resolves, following every index's commits meanwhile;
    /// requests in flight finish.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), Error> {
        let sources = self.state.sources.clone();
        let follower = tokio::spawn(super::watch::follow_commits(
            self.indexes.clone(),
            move || sources.names(),
            self.options.poll_interval,
        ));
        let schedules = self.state.schedules.clone();
        if let Some(schedules) = &schedules {
            for source in self.config.sources() {
                let name = source.name().as_str().to_owned();
                schedules.start(std::future::ready(()), self.state.clone(), name, *source.schedule());
            }
        }
        let served = super::serve(listener, self.state, shutdown).await;
        follower.abort();
        if let Some(schedules) = schedules {
            schedules.stop();
        }
        served
    }
}

/// `permdex serve`: opens every source's index, listens on `server.listen`, and serves until `shutdown`
/// resolves; requests in flight finish. A sync the server runs stops with the process and resumes from its
/// last checkpoint at the next sync.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), Error> {
    let addr = config.server().listen();
    let service =
        Service::open(config.clone(), ServeOptions { scheduled: true, ..ServeOptions::default() }).await?;
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })?;
    let local = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(addr = %local, sources = config.sources().len(), "serving");
    service.serve(listener, shutdown).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(body: String) -> search::Document {
        search::Document {
            id: "confluence:attachment:att1".into(),
            product: "confluence".into(),
            kind: "attachment".into(),
            title: "big.pdf".into(),
            body,
            space: None,
            space_name: None,
            breadcrumb: Vec::new(),
            project: None,
            container: None,
            labels: Vec::new(),
            author_name: None,
            issue: None,
            url: String::new(),
            created: None,
            updated: None,
        }
    }

    #[test]
    fn a_long_text_is_cut_at_a_word_boundary_and_says_so() {
        let words = "ünïcode word ".repeat(PREVIEW_CHARS / 6);
        let body = document_body("acme", document(words.clone()), None);
        assert!(body.text_truncated);
        assert!(body.text.chars().count() <= PREVIEW_CHARS);
        assert!(body.text.chars().count() > PREVIEW_CHARS - 20, "cut near the limit");
        assert!(
            words.starts_with(&body.text) && words[body.text.len()..].starts_with(' '),
            "at a word's end"
        );

        let short = document_body("acme", document("all of it".into()), None);
        assert_eq!((short.text.as_str(), short.text_truncated), ("all of it", false));
    }
}
