//! The server's real backends: [`Indexes`] (one [`SearchService`] per configured source, with the directory
//! of the same index, as [`SearchIndex`] and [`Callers`]) and [`Engine`] (the sync engine as
//! [`SyncRunner`]), and [`run`], which is `permdex serve`.
//!
//! Each source has its own index (`sync::engine::index_dir`); a caller is searched in every source whose
//! directory knows them as an active, in-scope account, with that source's principals. With one source,
//! paging is the library's (offset or cursor). With several, hits are merged by score or by date and paged
//! by offset; a cursor cannot span indexes, so it is refused there.
//!
//! Reloads: after each checkpoint commit of a sync run by the server, and after the run, the source's
//! [`SearchService`] moves to the new commit (searches in flight finish on the old one) and the directory
//! is read again. A source without an index yet is opened at its first reload.
//!
//! This file converts between the search library's and the API's types; it holds no HTTP code.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, RwLock};

use super::admin::{RunCounts, RunFailure, RunFuture, RunSummary, Sources, SyncRunner};
use super::auth::{Authenticator, Caller, Callers, SourcePrincipals};
use super::search::{
    AclCacheStats, FacetCount, FacetsBody, HitBody, Page, Readiness, SearchFailure, SearchIndex, SearchQuery,
    SearchResults, SortOrder,
};
use super::{AppState, Error};
use crate::acl::{AclStore, Principal};
use crate::atlassian::model::Directory;
use crate::config::{Config, Source};
use crate::index::{IndexReader, IndexWriter};
use crate::search::{self, SearchService};
use crate::sync::engine::{index_dir, SyncOptions};
use crate::sync::resolve::caller_principals;
use crate::sync::runs::{self, Mode, RunOutcome, RunRecord};
use crate::sync::view::SourceIndex;
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

fn open_site(config: &Config, source: &Source) -> Result<OpenSite, String> {
    let view = SourceIndex::open(config, source).map_err(|e| e.to_string())?;
    let directory = Arc::new(view.directory().clone());
    let acl_problem = view.reader().acl_problem().map(str::to_owned);
    drop(view);
    let reader = IndexReader::open(&index_dir(config.data_dir(), source.name().as_str()))
        .map_err(|e| e.to_string())?;
    Ok(OpenSite { service: SearchService::new(reader), directory, acl_problem })
}

impl Callers for Indexes {
    fn principals(&self, account_id: &str) -> Option<SourcePrincipals> {
        let mut by_source = BTreeMap::new();
        for (name, site) in &self.sites {
            if !site.source.user_in_scope(account_id) {
                continue;
            }
            let Some(open) = read_lock(&site.open).clone() else { continue };
            if let Some(principals) = caller_principals(&open.directory, account_id) {
                by_source.insert(name.clone(), principals);
            }
        }
        (!by_source.is_empty()).then_some(SourcePrincipals(by_source))
    }
}

fn to_request(query: &SearchQuery, page: search::PageRequest) -> search::SearchRequest {
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
        page,
        facets: query.facets,
        snippets: query.snippets,
    }
}

fn to_failure(error: search::Error) -> SearchFailure {
    match error {
        e @ search::Error::BadQuery { .. } => SearchFailure::BadQuery(e.to_string()),
        e @ (search::Error::BadCursor | search::Error::BadRequest(_)) => {
            SearchFailure::BadRequest(e.to_string())
        }
        other => SearchFailure::Internal(other.to_string()),
    }
}

fn to_hit(site: &str, hit: search::Hit) -> HitBody {
    HitBody {
        source: site.to_owned(),
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
    }
}

fn facet_counts(counts: Vec<(String, u64)>) -> Vec<FacetCount> {
    counts.into_iter().map(|(value, count)| FacetCount { value, count }).collect()
}

fn to_results(site: &str, response: search::SearchResponse) -> SearchResults {
    SearchResults {
        total: response.total,
        hits: response.hits.into_iter().map(|hit| to_hit(site, hit)).collect(),
        facets: response.facets.map(|f| FacetsBody {
            product: facet_counts(f.product),
            kind: facet_counts(f.kind),
            space: facet_counts(f.space),
            project: facet_counts(f.project),
        }),
        next_cursor: response.next_cursor,
    }
}

/// Adds `more` into `into`, keeping most frequent first (ties by value), as the library orders them.
fn add_counts(into: &mut Vec<FacetCount>, more: Vec<FacetCount>) {
    let mut counts: BTreeMap<String, u64> = into.drain(..).map(|c| (c.value, c.count)).collect();
    for c in more {
        *counts.entry(c.value).or_default() += c.count;
    }
    into.extend(counts.into_iter().map(|(value, count)| FacetCount { value, count }));
    into.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
}

impl SearchIndex for Indexes {
    fn search(&self, caller: &Caller, query: &SearchQuery) -> Result<SearchResults, SearchFailure> {
        if let Some(unknown) = query.sources.iter().find(|name| !self.sites.contains_key(name.as_str())) {
            return Err(SearchFailure::BadRequest(format!("no source named {unknown:?}")));
        }
        let wanted = |name: &str| query.sources.is_empty() || query.sources.iter().any(|s| s == name);
        let sites: Vec<(&str, OpenSite, &Vec<Principal>)> = self
            .open_sites()
            .into_iter()
            .filter(|(name, _)| wanted(name))
            .filter_map(|(name, site)| caller.principals.0.get(name).map(|p| (name, site, p)))
            .collect();
        let search_one =
            |name: &str, site: &OpenSite, principals: &Vec<Principal>, page: search::PageRequest| {
                let interned = site.service.acl().caller(principals.iter());
                let response =
                    site.service.search(&interned, &to_request(query, page)).map_err(to_failure)?;
                Ok(to_results(name, response))
            };
        let page = match &query.page {
            Page::Offset { offset, limit } => search::PageRequest::Offset { offset: *offset, limit: *limit },
            Page::Cursor { cursor, limit } => {
                search::PageRequest::Cursor { cursor: cursor.clone(), limit: *limit }
            }
        };
        match sites.as_slice() {
            [] => Ok(SearchResults {
                total: 0,
                hits: vec![],
                facets: query.facets.then(FacetsBody::default),
                next_cursor: None,
            }),
            [(name, site, principals)] => search_one(name, site, principals, page),
            several => {
                let Page::Offset { offset, limit } = query.page else {
                    return Err(SearchFailure::BadRequest(
                        "cursor paging works within one source; use offset when searching several".into(),
                    ));
                };
                let mut merged = SearchResults {
                    total: 0,
                    hits: vec![],
                    facets: query.facets.then(FacetsBody::default),
                    next_cursor: None,
                };
                for (name, site, principals) in several {
                    // The first offset + limit hits of each site, in pages the library accepts.
                    let wanted = offset + limit;
                    let first = search_one(
                        name,
                        site,
                        principals,
                        search::PageRequest::Offset { offset: 0, limit: wanted.min(search::MAX_LIMIT) },
                    )?;
                    let mut part = first;
                    while part.hits.len() < wanted && (part.hits.len() as u64) < part.total {
                        let page = search::PageRequest::Offset {
                            offset: part.hits.len(),
                            limit: (wanted - part.hits.len()).min(search::MAX_LIMIT),
                        };
                        let more = search_one(name, site, principals, page)?;
                        if more.hits.is_empty() {
                            break;
                        }
                        part.hits.extend(more.hits);
                    }
                    merged.total += part.total;
                    merged.hits.extend(part.hits);
                    if let (Some(into), Some(more)) = (merged.facets.as_mut(), part.facets) {
                        add_counts(&mut into.product, more.product);
                        add_counts(&mut into.kind, more.kind);
                        add_counts(&mut into.space, more.space);
                        add_counts(&mut into.project, more.project);
                    }
                }
                match query.sort {
                    SortOrder::Relevance if !query.q.trim().is_empty() => {
                        merged.hits.sort_by(|a, b| b.score.total_cmp(&a.score).then_with(|| a.id.cmp(&b.id)))
                    }
                    _ => merged.hits.sort_by(|a, b| b.updated.cmp(&a.updated).then_with(|| a.id.cmp(&b.id))),
                }
                merged.hits = merged.hits.into_iter().skip(offset).take(limit).collect();
                Ok(merged)
            }
        }
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

    fn reload(&self, source: &str) -> Result<(), String> {
        let site = self.sites.get(source).ok_or_else(|| format!("no source named {source:?}"))?;
        let current = read_lock(&site.open).clone();
        let reloaded = match current {
            Some(open) => {
                open.service.reload().map_err(|e| e.to_string())?;
                let view = SourceIndex::open(&self.config, &site.source).map_err(|e| e.to_string())?;
                OpenSite {
                    service: open.service,
                    directory: Arc::new(view.directory().clone()),
                    acl_problem: view.reader().acl_problem().map(str::to_owned),
                }
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
                crate::sync::engine::sync_with(&config, &source, Mode::Incremental, &options, &mut progress)
                    .await;
            drop(progress);
            let _ = reloader.await;
            result.map(summary).map_err(|e| e.to_string())
        })
    }

    fn purge(&self, source: &Source) -> Result<(), String> {
        let dir = index_dir(self.config.data_dir(), source.name().as_str());
        if !dir.exists() {
            return Ok(());
        }
        let mut writer = IndexWriter::open_or_create(&dir).map_err(|e| e.to_string())?;
        writer.delete_all();
        // An empty ACL store and no sync state: the next sync starts over from nothing.
        writer.commit(&AclStore::default(), b"").map_err(|e| e.to_string())?;
        writer.close().map_err(|e| e.to_string())
    }

    fn last_runs(&self, source: &str, limit: usize) -> Result<Vec<RunSummary>, String> {
        runs::read_last(self.config.data_dir(), source, limit)
            .map(|records| records.into_iter().map(summary).collect())
            .map_err(|e| e.to_string())
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
