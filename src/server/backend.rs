//! The server's real backends: [`Indexes`] (one [`SearchService`] per configured source, with the directory
//! of the same commit, as [`SearchIndex`] and [`Callers`]) and [`Engine`] (the sync engine as
//! [`SyncRunner`]), and [`run`], which is `permdex serve`.
//!
//! Each source has its own index (`sync::index_dir`), opened once. A caller is searched in every source
//! whose directory knows them as an active, in-scope account, with that source's principals
//! ([`sync::principals_in`](crate::sync::principals_in)); the search across sources and the
//! merge are the search library's ([`search::search_sources`]).
//!
//! Reloads: after each checkpoint commit of a sync run by the server, and after the run, the source's
//! [`SearchService`] moves to the new commit (searches in flight finish on the old one) and the directory
//! is read from that commit. A source without an index yet is opened at its first reload.
//!
//! This file converts between the search library's and the API's types ([`request_of`], [`results_of`]);
//! it holds no HTTP code.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use super::admin::{RunCounts, RunFailure, RunFuture, RunSummary, Sources, SyncRunner};
use super::auth::{Authenticator, Caller, Callers, SourcePrincipals};
use super::search::{
    AclCacheStats, FacetCount, FacetsBody, HitBody, Page, Readiness, SearchFailure, SearchIndex, SearchQuery,
    SearchResults, SortOrder,
};
use super::{AppState, BackendError, Error};
use crate::acl::AclStore;
use crate::atlassian::model::Directory;
use crate::config::{Config, Source};
use crate::index::IndexWriter;
use crate::search::{self, SearchService};
use crate::sync::runs::{self, Mode, RunOutcome, RunRecord};
use crate::sync::{directory_of, index_dir, principals_in, SourceIndex, SyncOptions};
use crate::sync::{Progress, ProgressEvent};

/// Every configured source's index, as the server searches it.
pub struct Indexes {
    config: Config,
    sites: BTreeMap<String, Site>,
}

struct Site {
    source: Source,
    open: RwLock<Option<OpenSite>>,
}

#[derive(Clone)]
struct OpenSite {
    service: SearchService,
    directory: Arc<Directory>,
    /// Why the commit's ACL store is not trusted (every document invisible), if it is not.
    acl_problem: Option<String>,
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Indexes {
    /// Opens the index of every source that has one (blocking). A source not synced yet is logged and
    /// opened when its first sync commits.
    pub fn open(config: &Config) -> Indexes {
        let sites = config
            .sources()
            .iter()
            .map(|source| {
                let open = match open_site(config, source) {
                    Ok(site) => Some(site),
                    Err(e) => {
                        tracing::warn!(source = %source.name(), error = %e, "index not open");
                        None
                    }
                };
                (source.name().as_str().to_owned(), Site { source: source.clone(), open: RwLock::new(open) })
            })
            .collect();
        Indexes { config: config.clone(), sites }
    }

    fn open_sites(&self) -> Vec<(&str, OpenSite)> {
        self.sites
            .iter()
            .filter_map(|(name, site)| read_lock(&site.open).clone().map(|s| (name.as_str(), s)))
            .collect()
    }
}

fn open_site(config: &Config, source: &Source) -> Result<OpenSite, BackendError> {
    let view = SourceIndex::open(config, source)?;
    let acl_problem = view.reader().acl_problem().map(str::to_owned);
    let (reader, directory) = view.into_parts();
    Ok(OpenSite { service: SearchService::new(reader), directory: Arc::new(directory), acl_problem })
}

impl Callers for Indexes {
    fn principals(&self, account_id: &str) -> Option<SourcePrincipals> {
        let mut by_source = BTreeMap::new();
        for (name, site) in &self.sites {
            let Some(open) = read_lock(&site.open).clone() else { continue };
            if let Some(principals) = principals_in(&site.source, &open.directory, account_id) {
                by_source.insert(name.clone(), principals);
            }
        }
        (!by_source.is_empty()).then_some(SourcePrincipals(by_source))
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
        url: hit.url,
        updated: hit.updated,
        score: hit.score,
    };
    SearchResults {
        total: response.total,
        hits: response.hits.into_iter().map(hit).collect(),
        facets: response.facets.map(|f| FacetsBody {
            product: facet_counts(f.product),
            kind: facet_counts(f.kind),
            space: facet_counts(f.space),
            project: facet_counts(f.project),
        }),
        next_cursor: response.next_cursor,
    }
}

impl SearchIndex for Indexes {
    fn search(&self, caller: &Caller, query: &SearchQuery) -> Result<SearchResults, SearchFailure> {
        let open: Vec<(&str, Option<OpenSite>)> =
            self.sites.iter().map(|(name, site)| (name.as_str(), read_lock(&site.open).clone())).collect();
        let parts: Vec<search::SourcePart<'_>> = open
            .iter()
            .map(|(name, site)| search::SourcePart {
                name,
                service: site.as_ref().map(|s| &s.service),
                principals: caller.principals.0.get(*name).map(Vec::as_slice),
            })
            .collect();
        let response = search::search_sources(&parts, &query.sources, &request_of(query))?;
        Ok(results_of(response))
    }

    fn readiness(&self) -> Readiness {
        let mut open = 0;
        for (name, site) in &self.sites {
            match read_lock(&site.open).as_ref() {
                Some(OpenSite { acl_problem: Some(problem), .. }) => {
                    return Readiness::NotReady(format!("source {name}: {problem}"))
                }
                Some(_) => open += 1,
                None => {}
            }
        }
        if open == 0 {
            return Readiness::NotReady("no source has an index yet: run a sync".into());
        }
        Readiness::Ready
    }

    fn reload(&self, source: &str) -> Result<(), BackendError> {
        let site = self.sites.get(source).ok_or_else(|| BackendError::UnknownSource(source.to_owned()))?;
        let current = read_lock(&site.open).clone();
        let reloaded = match current {
            Some(open) => {
                open.service.reload()?;
                let (directory, acl_problem) = open.service.with_reader(|reader| {
                    (directory_of(reader, &site.source), reader.acl_problem().map(str::to_owned))
                });
                OpenSite { service: open.service, directory: Arc::new(directory), acl_problem }
            }
            None => open_site(&self.config, &site.source)?,
        };
        *write_lock(&site.open) = Some(reloaded);
        Ok(())
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
}

impl Engine {
    pub fn new(config: Config, indexes: Arc<Indexes>) -> Engine {
        Engine::with_options(config, indexes, SyncOptions::default())
    }

    /// With other sync knobs (tests point the attachment extractor at the permdex binary).
    pub fn with_options(config: Config, indexes: Arc<Indexes>, options: SyncOptions) -> Engine {
        Engine { config, indexes, options }
    }
}

/// Tells a listener about each checkpoint commit, without blocking the sync.
struct CommitSignal(tokio::sync::mpsc::UnboundedSender<()>);

impl Progress for CommitSignal {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        if let ProgressEvent::Checkpoint { .. } = event {
            // The listener is gone only when the run is over; nothing left to reload then.
            let _ = self.0.send(());
        }
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
    fn sync(&self, source: Source) -> RunFuture {
        let config = self.config.clone();
        let indexes = self.indexes.clone();
        let options = self.options.clone();
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
                        Ok(Ok(())) => {}
                        Ok(Err(e)) => {
                            tracing::warn!(source = %reload_name, error = %e, "reload after checkpoint failed")
                        }
                        Err(e) => tracing::warn!(source = %reload_name, error = %e, "reload task failed"),
                    }
                }
            });
            let mut progress = CommitSignal(tx);
            let result =
                crate::sync::sync_with(&config, &source, Mode::Incremental, &options, &mut progress).await;
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
        let mut writer = IndexWriter::open_or_create(&dir)?;
        writer.delete_all();
        // An empty ACL store and no sync state: the next sync starts over from nothing.
        writer.commit(&AclStore::default(), b"")?;
        Ok(writer.close()?)
    }

    fn last_runs(&self, source: &str, limit: usize) -> Result<Vec<RunSummary>, BackendError> {
        let records = runs::read_last(self.config.data_dir(), source, limit)?;
        Ok(records.into_iter().map(summary).collect())
    }
}

/// Opens every source's index, listens on `server.listen`, and serves until `shutdown` resolves; requests
/// in flight finish. A sync started through the admin API stops with the process and resumes from its last
/// checkpoint at the next sync.
pub async fn run(config: Config, shutdown: impl Future<Output = ()> + Send + 'static) -> Result<(), Error> {
    let auth = Authenticator::from_config(config.server())?;
    let opening = config.clone();
    let indexes = Arc::new(
        tokio::task::spawn_blocking(move || Indexes::open(&opening))
            .await
            .map_err(|e| Error::Serve(std::io::Error::other(e.to_string())))?,
    );
    let runner = Arc::new(Engine::new(config.clone(), indexes.clone()));
    let state = AppState::new(auth, indexes.clone(), indexes, Sources::new(config.sources(), runner));
    let addr = config.server().listen();
    let listener =
        tokio::net::TcpListener::bind(addr).await.map_err(|source| Error::Bind { addr, source })?;
    let local = listener.local_addr().map_err(Error::Serve)?;
    tracing::info!(addr = %local, sources = config.sources().len(), "serving");
    super::serve(listener, state, shutdown).await
}
