//! Permission-filtered search over one index: [`SearchService::search`] takes a caller's principals and a
//! [`SearchRequest`] and answers with hits, an exact total, facets and snippets — all computed over the
//! documents that caller may read, and nothing else.
//!
//! - [`query`]: the query language (a bag of words ranked by BM25; `+term`, phrases, AND/OR/NOT, `-term`,
//!   parentheses, field prefixes, Jira keys; sentences read as text) → tantivy query.
//! - [`acl_filter`]: allowed profiles per caller and allowed documents per segment, cached.
//! - [`collect`]: the collector that ranks, counts and facets allowed matches (dense and sparse strategies).
//! - [`snippet`]: HTML-escaped highlights with `<mark>`.
//! - [`cursor`]: stable page cursors.
//! - [`sources`]: one search across several sources (sites), each with its own index, merged.
//!
//! Invariant: every result, total, facet count and snippet goes through the per-segment allowed set; this
//! module has no unfiltered entry point. A document whose profile the ACL store does not know is never
//! allowed. It knows nothing of HTTP or of Atlassian.
//!
//! ```no_run
//! use permdex::acl::Principal;
//! use permdex::index::IndexReader;
//! use permdex::search::{SearchRequest, SearchService};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let service = SearchService::new(IndexReader::open(std::path::Path::new("/var/lib/permdex/index"))?);
//! let caller = service.acl().caller(&[Principal::User("557058:f0e1".into()), Principal::Anyone]);
//! let response = service.search(&caller, &SearchRequest::new("kafka OR \"consumer lag\""))?;
//! println!("{} visible matches", response.total);
//! # Ok(())
//! # }
//! ```

pub mod acl_filter;
pub mod collect;
pub mod cursor;
pub mod parse;
pub mod query;
pub mod shown;
pub mod snippet;
pub mod sources;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use chrono::{DateTime, Utc};
use tantivy::query::EnableScoring;
use tantivy::{Searcher, TantivyDocument};

use self::acl_filter::{AclCache, AllowedDocs, CacheStats, ProfileMask, SegmentVersion};
use self::collect::{
    AclCollector, After, FilterSpec, Harvest, RankBy, Ranked, SegmentAccess, SegmentColumns, Strategy,
};
use self::query::{Ast, QueryBuilder, QueryOptions};
use crate::acl::{AclStore, CallerPrincipals, Reach};
use crate::index::{Fields, Generation, IndexReader};

pub use self::shown::{hit_from_stored, Assignee, Crumb, Document, Hit, IssueFacts};
pub use self::sources::{search_sources, SourceHit, SourcePart, SourcesResponse};

/// Most hits one page may hold.
pub const MAX_LIMIT: usize = 100;
/// Page size when none is asked for.
pub const DEFAULT_LIMIT: usize = 20;
/// Deepest offset + limit served by offset paging; cursors go further.
pub const MAX_WINDOW: usize = 10_000;

/// Errors of the search layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad query{}: {message}", position.map(|p| format!(" at character {p}")).unwrap_or_default())]
    BadQuery { message: String, position: Option<usize> },
    #[error("bad cursor: it is malformed or belongs to another search")]
    BadCursor,
    #[error("bad request: {0}")]
    BadRequest(String),
    #[error(transparent)]
    Index(#[from] crate::index::Error),
    #[error("search failed: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
}

/// What to search for and how to present it.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchRequest {
    /// The query language (see [`query`]); empty browses everything the caller may see.
    pub query: String,
    pub filters: Filters,
    pub sort: Sort,
    pub page: PageRequest,
    /// Compute facet counts.
    pub facets: bool,
    /// Compute highlighted snippets of the body.
    pub snippets: bool,
}

impl SearchRequest {
    /// A relevance-ranked first page of [`DEFAULT_LIMIT`] hits, without facets or snippets.
    pub fn new(query: impl Into<String>) -> SearchRequest {
        SearchRequest {
            query: query.into(),
            filters: Filters::default(),
            sort: Sort::Relevance,
            page: PageRequest::default(),
            facets: false,
            snippets: false,
        }
    }
}

/// Exact-value filters; values within one list are alternatives, lists combine with AND.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filters {
    /// Products (`confluence`, `jira`): the index's `source` field.
    pub products: Vec<String>,
    pub kinds: Vec<String>,
    pub spaces: Vec<String>,
    pub projects: Vec<String>,
    pub labels: Vec<String>,
    /// Inclusive.
    pub updated_from: Option<DateTime<Utc>>,
    /// Inclusive.
    pub updated_to: Option<DateTime<Utc>>,
}

/// Hit order. An empty query has no relevance to rank by, so it is always ordered by `updated`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Relevance,
    /// Newest first.
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PageRequest {
    Offset { offset: usize, limit: usize },
    Cursor { cursor: String, limit: usize },
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest::Offset { offset: 0, limit: DEFAULT_LIMIT }
    }
}

impl PageRequest {
    /// The page size, refused unless 1..=[`MAX_LIMIT`].
    pub fn checked_limit(&self) -> Result<usize, Error> {
        let (PageRequest::Offset { limit, .. } | PageRequest::Cursor { limit, .. }) = self;
        if *limit == 0 || *limit > MAX_LIMIT {
            return Err(Error::BadRequest(format!("limit must be between 1 and {MAX_LIMIT}, not {limit}")));
        }
        Ok(*limit)
    }
}

/// `offset`, refused unless `offset + limit` is at most `window` (an overflowing sum is refused too).
fn check_window(offset: usize, limit: usize, window: usize, hint: &str) -> Result<usize, Error> {
    match offset.checked_add(limit) {
        Some(end) if end <= window => Ok(offset),
        _ => Err(Error::BadRequest(format!("offset + limit may be at most {window}; {hint}"))),
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SearchResponse {
    /// Matching documents the caller may see (exact).
    pub total: u64,
    pub hits: Vec<Hit>,
    /// Counts over the caller-visible matches only.
    pub facets: Option<Facets>,
    /// Cursor to the page after this one, when there is one.
    pub next_cursor: Option<String>,
}

/// Value counts, most frequent first (ties by value).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facets {
    pub product: Vec<(String, u64)>,
    pub kind: Vec<(String, u64)>,
    pub space: Vec<(String, u64)>,
    pub project: Vec<(String, u64)>,
}

/// How segments are iterated. `Auto` picks per segment by the caller's share of it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum StrategyChoice {
    #[default]
    Auto,
    Dense,
    Sparse,
}

/// Tuning of a [`SearchService`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SearchOptions {
    pub strategy: StrategyChoice,
    /// With `Auto`: segments where the caller may read at most this fraction of documents are driven by the
    /// allowed set (sparse); others by the query (dense).
    pub sparse_fraction: f64,
    /// Memory bound of the per-segment allowed-document cache.
    pub acl_cache_bytes: usize,
    /// How many recently used caller masks get their allowed sets pre-built for new segments on reload.
    pub prewarm_masks: usize,
    /// How bare words rank.
    pub query: QueryOptions,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions {
            strategy: StrategyChoice::Auto,
            sparse_fraction: 0.02,
            acl_cache_bytes: 256 * 1024 * 1024,
            prewarm_masks: 16,
            query: QueryOptions::default(),
        }
    }
}

/// Counters for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SearchStats {
    pub searches: u64,
    pub dense_segments: u64,
    pub sparse_segments: u64,
    pub acl_cache: CacheStats,
}

/// Search over one index reader. Cheap to clone and share; [`SearchService::reload`] moves it to the latest
/// commit while searches in flight finish on the searcher they started with.
#[derive(Clone)]
pub struct SearchService {
    inner: Arc<Inner>,
}

struct Inner {
    reader: Mutex<IndexReader>,
    view: RwLock<Arc<View>>,
    cache: Mutex<AclCache>,
    options: SearchOptions,
    searches: AtomicU64,
    dense_segments: AtomicU64,
    sparse_segments: AtomicU64,
}

/// One commit as searches see it.
struct View {
    searcher: Searcher,
    acl: Arc<AclStore>,
    /// The ACL store's inverted lists, to find a new caller's profiles quickly.
    reach: Reach,
    generation: Generation,
    fields: Fields,
    index: tantivy::Index,
    /// Each segment's ranking columns, by segment ordinal, opened by the first search that needs them.
    columns: Vec<std::sync::OnceLock<Arc<SegmentColumns>>>,
    /// Titles of the documents breadcrumbs name, in this commit.
    titles: shown::Titles,
}

impl std::fmt::Debug for SearchService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let generation = self.view().generation;
        f.debug_struct("SearchService")
            .field("generation", &generation)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl SearchService {
    pub fn new(reader: IndexReader) -> SearchService {
        SearchService::with_options(reader, SearchOptions::default())
    }

    pub fn with_options(reader: IndexReader, options: SearchOptions) -> SearchService {
        let view = View::of(&reader);
        let service = SearchService {
            inner: Arc::new(Inner {
                reader: Mutex::new(reader),
                view: RwLock::new(Arc::new(view)),
                cache: Mutex::new(AclCache::new(options.acl_cache_bytes)),
                options,
                searches: AtomicU64::new(0),
                dense_segments: AtomicU64::new(0),
                sparse_segments: AtomicU64::new(0),
            }),
        };
        service.prepare_profile_indexes(service.view().searcher.segment_readers());
        service
    }

    /// Moves to the latest commit: drops cached sets of segments that are gone, builds the profile index of
    /// each new segment and pre-builds the sets of recent callers for new segments.
    pub fn reload(&self) -> Result<(), Error> {
        // The reader stays locked until the new view is in place, so concurrent reloads cannot install an
        // older commit after a newer one.
        let mut reader = self.inner.reader.lock().unwrap_or_else(|e| e.into_inner());
        reader.reload()?;
        let view = View::of(&reader);
        let old = self.view();
        let live: Vec<SegmentVersion> =
            view.searcher.segment_readers().iter().map(SegmentVersion::of).collect();
        let recent = self.cache().retain_segments(&live, view.generation.0, self.inner.options.prewarm_masks);
        self.prepare_profile_indexes(view.searcher.segment_readers());
        // Recent masks describe recent callers only while the ACL store is the same.
        if *old.acl == *view.acl {
            for mask in &recent {
                for segment in view.searcher.segment_readers() {
                    self.allowed_docs(segment, mask)?;
                }
            }
        }
        *self.inner.view.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(view);
        drop(reader);
        Ok(())
    }

    /// Reads the commit this service moved to last (its sync state, whether its ACL store is trusted).
    pub fn with_reader<T>(&self, read: impl FnOnce(&IndexReader) -> T) -> T {
        read(&self.inner.reader.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The ACL store of the current commit, to build [`CallerPrincipals`] with.
    pub fn acl(&self) -> Arc<AclStore> {
        self.view().acl.clone()
    }

    pub fn stats(&self) -> SearchStats {
        SearchStats {
            searches: self.inner.searches.load(Ordering::Relaxed),
            dense_segments: self.inner.dense_segments.load(Ordering::Relaxed),
            sparse_segments: self.inner.sparse_segments.load(Ordering::Relaxed),
            acl_cache: self.cache().stats(),
        }
    }

    /// Searches as `caller`: only documents the caller may read are ranked, counted, faceted or shown.
    pub fn search(
        &self,
        caller: &CallerPrincipals,
        request: &SearchRequest,
    ) -> Result<SearchResponse, Error> {
        let limit = request.page.checked_limit()?;
        let plan = Plan::of(request)?;
        let (skip, after) = match &request.page {
            PageRequest::Offset { offset, .. } => {
                (check_window(*offset, limit, MAX_WINDOW, "use the cursor for deeper pages")?, None)
            }
            PageRequest::Cursor { cursor, .. } => {
                let position = cursor::decode(cursor, &plan.fingerprint)?;
                if position.source.is_some() {
                    // A cursor of a search across sources.
                    return Err(Error::BadCursor);
                }
                (0, Some(After::hit(position.key, position.id)))
            }
        };
        let ranking = self.rank(caller, &plan, after, skip + limit + 1)?;
        let page: Vec<&Ranked> = ranking.top().iter().skip(skip).take(limit).collect();
        let more = ranking.top().len() > skip + limit;
        let hits = ranking.hits(&page, request.snippets)?;
        let next_cursor = match (page.last(), hits.last()) {
            (Some(last), Some(hit)) if more => {
                let position = cursor::Position { key: last.key, id: hit.id.clone(), source: None };
                Some(cursor::encode(&plan.fingerprint, &position))
            }
            _ => None,
        };
        let (total, facets) = ranking.counts();
        Ok(SearchResponse { total, hits, facets, next_cursor })
    }

    /// Ranks `plan` as `caller`: the exact total, the facets and the `depth` best hits at or after
    /// `after`, over the documents the caller may read. No stored document is read yet.
    pub(crate) fn rank(
        &self,
        caller: &CallerPrincipals,
        plan: &Plan,
        after: Option<After>,
        depth: usize,
    ) -> Result<Ranking, Error> {
        self.inner.searches.fetch_add(1, Ordering::Relaxed);
        let view = self.view();
        let mask = self.mask_for(&view, caller);
        let mut access = HashMap::new();
        let mut allowed_sets = Vec::with_capacity(view.searcher.segment_readers().len());
        for (ord, segment) in view.searcher.segment_readers().iter().enumerate() {
            let allowed = self.allowed_docs(segment, &mask)?;
            allowed_sets.push(allowed.clone());
            let strategy = self.strategy_for(&allowed, &plan.ast);
            match strategy {
                Strategy::Dense => self.inner.dense_segments.fetch_add(1, Ordering::Relaxed),
                Strategy::Sparse => self.inner.sparse_segments.fetch_add(1, Ordering::Relaxed),
            };
            let columns = view.columns(ord, segment)?;
            access.insert(ord as u32, SegmentAccess { allowed, strategy, columns });
        }
        let builder = QueryBuilder::with_options(&view.index, view.fields, self.inner.options.query)?;
        let query = builder.build(&plan.ast);
        // Weights of the union's alternatives, for segments where the caller's documents lead.
        let mut union = Vec::new();
        if access.values().any(|a| a.strategy == Strategy::Sparse) {
            let scoring = match plan.rank_by {
                RankBy::Score => EnableScoring::enabled_from_searcher(&view.searcher),
                RankBy::Updated => EnableScoring::disabled_from_searcher(&view.searcher),
            };
            for alternative in builder.union_alternatives(&plan.ast) {
                union.push(alternative.weight(scoring)?);
            }
        }
        let collector = AclCollector {
            access,
            rank_by: plan.rank_by,
            union,
            depth,
            after,
            filters: plan.filters.clone(),
            facets: plan.facets,
            matches_all: plan.ast == Ast::All,
        };
        let harvest = view.searcher.search(query.as_ref(), &collector)?;
        Ok(Ranking { view, query, rank_by: plan.rank_by, harvest, allowed: allowed_sets })
    }

    /// The document `id` as `caller` may read it, with the breadcrumb of the pages above it that the
    /// caller may read: `None` when it does not exist or when the caller may not read it (the same allowed
    /// set every search goes through), which callers must not tell apart.
    pub fn document(&self, caller: &CallerPrincipals, id: &str) -> Result<Option<Document>, Error> {
        let view = self.view();
        let mut allowed = ForCaller { service: self, mask: self.mask_for(&view, caller) };
        let Some(address) = shown::find_allowed(&view.searcher, &view.fields, id, &mut allowed)? else {
            return Ok(None);
        };
        let stored: TantivyDocument = view.searcher.doc(address)?;
        let mut document = shown::document_from_stored(&view.fields, &stored);
        let mut breadcrumbs = shown::Breadcrumbs::new(&view.searcher, &view.fields, &view.titles, allowed);
        document.breadcrumb = breadcrumbs.of(&shown::ancestors_of(&view.fields, &stored))?;
        Ok(Some(document))
    }

    fn view(&self) -> Arc<View> {
        self.inner.view.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, AclCache> {
        // The cache holds no invariant a panicking holder could break half-way that matters for safety:
        // entries are immutable sets, so a poisoned lock is still usable.
        self.inner.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn mask_for(&self, view: &View, caller: &CallerPrincipals) -> Arc<ProfileMask> {
        let key = match self.cache().mask(view.generation.0, caller.0.iter().collect()) {
            Ok(mask) => return mask,
            Err(key) => key,
        };
        let mask = Arc::new(ProfileMask::of(view.acl.profile_count(), &view.reach.allowed_profiles(caller)));
        self.cache().insert_mask(key, mask)
    }

    fn allowed_docs(
        &self,
        segment: &tantivy::SegmentReader,
        mask: &Arc<ProfileMask>,
    ) -> Result<Arc<AllowedDocs>, Error> {
        let version = SegmentVersion::of(segment);
        if let Some(docs) = self.cache().allowed(version, mask) {
            return Ok(docs);
        }
        // Built outside the lock: other callers keep searching meanwhile.
        let docs = Arc::new(self.build_allowed(segment, mask)?);
        self.cache().insert_allowed(version, mask, docs.clone());
        Ok(docs)
    }

    /// Browsing matches every document, so there the allowed set (the match set) always leads.
    fn strategy_for(&self, allowed: &AllowedDocs, ast: &Ast) -> Strategy {
        match self.inner.options.strategy {
            StrategyChoice::Dense => Strategy::Dense,
            StrategyChoice::Sparse => Strategy::Sparse,
            StrategyChoice::Auto => {
                let share = self.inner.options.sparse_fraction * f64::from(allowed.max_doc());
                if *ast == Ast::All || f64::from(allowed.count()) <= share {
                    Strategy::Sparse
                } else {
                    Strategy::Dense
                }
            }
        }
    }
}

/// A caller's allowed sets, built (or taken from the cache) for the segments a lookup reaches.
struct ForCaller<'s> {
    service: &'s SearchService,
    mask: Arc<ProfileMask>,
}

impl shown::Allowed for ForCaller<'_> {
    fn in_segment(
        &mut self,
        _: usize,
        segment: &tantivy::SegmentReader,
    ) -> Result<Option<Arc<AllowedDocs>>, Error> {
        self.service.allowed_docs(segment, &self.mask).map(Some)
    }
}

/// A request made ready to rank: its query read, its order and filters resolved, and the fingerprint its
/// cursors carry.
pub(crate) struct Plan {
    ast: Ast,
    rank_by: RankBy,
    filters: FilterSpec,
    facets: bool,
    pub(crate) fingerprint: String,
}

impl Plan {
    pub(crate) fn of(request: &SearchRequest) -> Result<Plan, Error> {
        let ast = query::read(&request.query)?;
        let rank_by = match (&ast, request.sort) {
            (Ast::All, _) | (_, Sort::Updated) => RankBy::Updated,
            (_, Sort::Relevance) => RankBy::Score,
        };
        let filters = filter_spec(&request.filters);
        let fingerprint =
            cursor::fingerprint(&[&request.query, &format!("{filters:?}"), &format!("{rank_by:?}")]);
        Ok(Plan { ast, rank_by, filters, facets: request.facets, fingerprint })
    }
}

/// One index's answer before any stored document is read: the exact total, the facets and the best hits'
/// places, all over the caller's documents, on the commit they were ranked on.
pub(crate) struct Ranking {
    view: Arc<View>,
    query: Box<dyn tantivy::query::Query>,
    rank_by: RankBy,
    harvest: Harvest,
    /// The caller's allowed set of each segment, by ordinal: breadcrumbs are read through them.
    allowed: Vec<Arc<AllowedDocs>>,
}

impl Ranking {
    /// The best hits, best first.
    pub(crate) fn top(&self) -> &[Ranked] {
        &self.harvest.top
    }

    /// The total and (when asked for) the facet counts.
    pub(crate) fn counts(&self) -> (u64, Option<Facets>) {
        (self.harvest.total, self.harvest.facets.clone().map(to_facets))
    }

    /// `page` (hits of this ranking) read from the store, with snippets when asked for.
    pub(crate) fn hits(&self, page: &[&Ranked], snippets: bool) -> Result<Vec<Hit>, Error> {
        let fields = &self.view.fields;
        let mut highlighter =
            snippet::Highlighter::new(&self.view.searcher, self.query.as_ref(), fields.title, fields.body)?;
        let mut breadcrumbs =
            shown::Breadcrumbs::new(&self.view.searcher, fields, &self.view.titles, self.allowed.as_slice());
        let mut hits = Vec::with_capacity(page.len());
        for ranked in page {
            let stored: TantivyDocument = self.view.searcher.doc(ranked.address)?;
            let score = match self.rank_by {
                RankBy::Score => collect::key_score(ranked.key),
                RankBy::Updated => 0.0,
            };
            let mut hit = hit_from_stored(fields, &stored, &mut highlighter, snippets, score);
            hit.breadcrumb = breadcrumbs.of(&shown::ancestors_of(fields, &stored))?;
            hits.push(hit);
        }
        Ok(hits)
    }
}

impl View {
    fn of(reader: &IndexReader) -> View {
        let searcher = reader.searcher().clone();
        let columns = searcher.segment_readers().iter().map(|_| std::sync::OnceLock::new()).collect();
        View {
            searcher,
            acl: reader.acl().clone(),
            reach: Reach::of(reader.acl()),
            generation: reader.generation(),
            fields: *reader.fields(),
            index: reader.index().clone(),
            columns,
            titles: shown::Titles::default(),
        }
    }

    fn columns(&self, ord: usize, segment: &tantivy::SegmentReader) -> Result<Arc<SegmentColumns>, Error> {
        let Some(slot) = self.columns.get(ord) else {
            return Ok(Arc::new(SegmentColumns::open(segment)?));
        };
        if let Some(columns) = slot.get() {
            return Ok(columns.clone());
        }
        // Two searches may both open them; the second's copy is dropped.
        let opened = Arc::new(SegmentColumns::open(segment)?);
        Ok(slot.get_or_init(|| opened).clone())
    }
}

fn filter_spec(filters: &Filters) -> FilterSpec {
    FilterSpec {
        products: filters.products.clone(),
        kinds: filters.kinds.clone(),
        spaces: filters.spaces.clone(),
        projects: filters.projects.clone(),
        labels: filters.labels.clone(),
        updated_from: filters.updated_from.map(|t| t.timestamp_millis()),
        updated_to: filters.updated_to.map(|t| t.timestamp_millis()),
    }
}

fn to_facets(counts: collect::FacetCounts) -> Facets {
    let [product, kind, space, project] = counts.map(|c| {
        let mut list: Vec<(String, u64)> = c.into_iter().collect();
        list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        list
    });
    Facets { product, kind, space, project }
}
