//! The strategies the benchmark compares, each answering (caller, query) with a page of hits, and an exact
//! total and facet counts where it can.
//!
//! | name             | how it filters |
//! |------------------|----------------|
//! | `unfiltered`     | no filter: tantivy's top-k by score with an exact count (the baseline; never offered by the server or the CLI's search) |
//! | `permdex`        | permdex's search service as shipped: cached per-segment allowed sets, dense or sparse per segment |
//! | `permdex-dense`  | the same with the dense path forced (the query leads, each match tested) |
//! | `permdex-sparse` | the same with the sparse path forced (the allowed documents lead) |
//! | `termset`        | a `TermSetQuery` per clause slot on indexed principals, as must clauses (Elasticsearch-style DLS) |
//! | `clause-set`     | the document's clause ids and their count, matched like OpenSearch `terms_set` |
//! | `post-filter`    | unfiltered top-k, fetched `overfetch` times over and doubled until k readable hits are found; no total, no facets |
//! | `doc-check`      | every match scored and checked through its profile column, no per-caller document sets cached |
//!
//! Every strategy builds the page the same way (stored documents, highlighted titles), as the search
//! service does, so their times compare like for like. The rivals keep what a real implementation would
//! keep per caller (the allowed profiles, the satisfied clause ids), computed on the caller's first query.
//!
//! This file times nothing and checks nothing; `measure.rs` and `oracle.rs` do.

use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::sync::{Arc, Mutex};

use tantivy::collector::{Collector, Count, SegmentCollector, TopDocs};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{BooleanQuery, ConstScoreQuery, EnableScoring, Occur, Query, TermSetQuery};
use tantivy::schema::Field;
use tantivy::{DocAddress, DocId, Order, Score, Searcher, SegmentOrdinal, SegmentReader, Term};

use super::build::{self, CLAUSES, CLAUSE_COUNT, PRINCIPALS};
use super::covering::CoveringQuery;
use super::queries::{BenchQuery, Shape};
use super::Error;
use crate::acl::{AclStore, Principal};
use crate::index::schema::field;
use crate::index::{Fields, IndexReader};
use crate::search::acl_filter::ProfileMask;
use crate::search::collect::FACET_FIELDS;
use crate::search::query::{self, QueryBuilder};
use crate::search::snippet::Highlighter;
use crate::search::{
    hit_from_stored, PageRequest, SearchOptions, SearchRequest, SearchService, StrategyChoice,
};

/// The strategies, by name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub enum StrategyName {
    #[serde(rename = "unfiltered")]
    Unfiltered,
    #[serde(rename = "permdex")]
    Permdex,
    #[serde(rename = "permdex-dense")]
    PermdexDense,
    #[serde(rename = "permdex-sparse")]
    PermdexSparse,
    #[serde(rename = "termset")]
    TermSet,
    #[serde(rename = "clause-set")]
    ClauseSet,
    #[serde(rename = "post-filter")]
    PostFilter,
    #[serde(rename = "doc-check")]
    DocCheck,
}

impl StrategyName {
    pub const ALL: [StrategyName; 8] = [
        StrategyName::Unfiltered,
        StrategyName::Permdex,
        StrategyName::PermdexDense,
        StrategyName::PermdexSparse,
        StrategyName::TermSet,
        StrategyName::ClauseSet,
        StrategyName::PostFilter,
        StrategyName::DocCheck,
    ];

    pub fn name(self) -> &'static str {
        match self {
            StrategyName::Unfiltered => "unfiltered",
            StrategyName::Permdex => "permdex",
            StrategyName::PermdexDense => "permdex-dense",
            StrategyName::PermdexSparse => "permdex-sparse",
            StrategyName::TermSet => "termset",
            StrategyName::ClauseSet => "clause-set",
            StrategyName::PostFilter => "post-filter",
            StrategyName::DocCheck => "doc-check",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            StrategyName::Unfiltered => "no ACL: tantivy top-k by score with an exact count (the baseline)",
            StrategyName::Permdex => {
                "permdex's search service: cached allowed sets, dense or sparse per segment"
            }
            StrategyName::PermdexDense => {
                "permdex with the dense path forced: the query leads, each match is tested"
            }
            StrategyName::PermdexSparse => "permdex with the sparse path forced: the caller's documents lead",
            StrategyName::TermSet => {
                "TermSetQuery per clause slot on indexed principals, as must clauses (ES-style DLS)"
            }
            StrategyName::ClauseSet => {
                "clause ids and their count per document, matched like OpenSearch terms_set"
            }
            StrategyName::PostFilter => {
                "unfiltered top-k with over-fetch, filtered after (no exact total, no facets)"
            }
            StrategyName::DocCheck => {
                "every match scored and checked through its profile column, nothing cached per caller"
            }
        }
    }

    pub fn parse(name: &str) -> Result<StrategyName, Error> {
        StrategyName::ALL.into_iter().find(|s| s.name() == name).ok_or_else(|| {
            let known: Vec<&str> = StrategyName::ALL.iter().map(|s| s.name()).collect();
            Error::Parameter(format!("unknown strategy {name:?} (known: {})", known.join(", ")))
        })
    }

    /// Whether the answer carries an exact total and facet counts.
    pub fn exact_counts(self) -> bool {
        self != StrategyName::PostFilter
    }

    /// Whether the strategy is permdex's own search service.
    pub fn is_permdex(self) -> bool {
        matches!(self, StrategyName::Permdex | StrategyName::PermdexDense | StrategyName::PermdexSparse)
    }
}

/// A caller as the strategies take it.
#[derive(Debug, Clone)]
pub struct BenchCaller {
    pub label: String,
    pub principals: Vec<Principal>,
    /// Principal tokens as indexed in [`PRINCIPALS`] (without the slot).
    pub tokens: Vec<String>,
}

impl BenchCaller {
    /// A key for per-caller caches.
    fn key(&self) -> String {
        self.tokens.join(",")
    }
}

/// One hit of an answer: the document id and its ranking key (the score, or `updated` in milliseconds).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Answered {
    pub id: String,
    pub key: f64,
}

/// What a strategy answered.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Answer {
    pub hits: Vec<Answered>,
    /// Exact number of readable matches, when the strategy knows it.
    pub total: Option<u64>,
    /// `dimension:value` → count, when asked for and known.
    pub facets: Option<BTreeMap<String, u64>>,
}

/// A way to answer a search as a caller.
pub trait Strategy: Send + Sync {
    fn name(&self) -> StrategyName;
    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error>;
}

/// Opens `name` over the index in `dir`. Each strategy gets its own reader (and the search service its own
/// caches).
pub fn open(name: StrategyName, dir: &std::path::Path, overfetch: usize) -> Result<Box<dyn Strategy>, Error> {
    let reader = IndexReader::open(dir)?;
    let permdex = |reader, strategy| -> Box<dyn Strategy> {
        let options = SearchOptions { strategy, ..SearchOptions::default() };
        Box::new(Permdex { name, service: SearchService::with_options(reader, options) })
    };
    Ok(match name {
        StrategyName::Permdex => permdex(reader, StrategyChoice::Auto),
        StrategyName::PermdexDense => permdex(reader, StrategyChoice::Dense),
        StrategyName::PermdexSparse => permdex(reader, StrategyChoice::Sparse),
        StrategyName::Unfiltered => Box::new(Unfiltered { target: Target::of(&reader)? }),
        StrategyName::TermSet => {
            let principals = extra_field(&reader, PRINCIPALS)?;
            let target = Target::of(&reader)?;
            let slots = target.slots()?;
            Box::new(TermSet { target, principals, slots })
        }
        StrategyName::ClauseSet => Box::new(ClauseSet {
            clauses: extra_field(&reader, CLAUSES)?,
            target: Target::of(&reader)?,
            terms: Mutex::default(),
        }),
        StrategyName::PostFilter => Box::new(PostFilter {
            target: Target::of(&reader)?,
            masks: Masks::default(),
            overfetch: overfetch.max(1),
        }),
        StrategyName::DocCheck => {
            Box::new(DocCheck { target: Target::of(&reader)?, masks: Masks::default() })
        }
    })
}

/// permdex's [`SearchService`], as the server calls it.
pub struct Permdex {
    name: StrategyName,
    service: SearchService,
}

impl Permdex {
    /// `name` says which of permdex's strategies `service` was opened with.
    pub fn new(name: StrategyName, service: SearchService) -> Permdex {
        Permdex { name, service }
    }
}

impl Strategy for Permdex {
    fn name(&self) -> StrategyName {
        self.name
    }

    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let principals = self.service.acl().caller(caller.principals.iter());
        let request = SearchRequest {
            page: PageRequest::Offset { offset: 0, limit: k },
            facets: query.shape.facets(),
            ..SearchRequest::new(query.text.clone())
        };
        let response = self.service.search(&principals, &request)?;
        let hits = response
            .hits
            .into_iter()
            .map(|h| {
                let key = if query.shape.by_updated() {
                    h.updated.map_or(f64::MIN, |t| t.timestamp_millis() as f64)
                } else {
                    f64::from(h.score)
                };
                Answered { id: h.id, key }
            })
            .collect();
        let facets = response.facets.map(|f| {
            let dimensions =
                [("product", f.product), ("kind", f.kind), ("space", f.space), ("project", f.project)];
            let mut out = BTreeMap::new();
            for (dimension, counts) in dimensions {
                for (value, n) in counts {
                    out.insert(format!("{dimension}:{value}"), n);
                }
            }
            out
        });
        Ok(Answer { hits, total: Some(response.total), facets })
    }
}

/// What the rivals search: one commit's searcher, its ACL store and the fields they read.
struct Target {
    searcher: Searcher,
    fields: Fields,
    index: tantivy::Index,
    acl: Arc<AclStore>,
    /// Each segment's `acl_profile` column, by ordinal.
    profiles: Vec<Column<u64>>,
}

/// An extra field the rival designs read (see `build.rs`); a site synced by permdex has none.
fn extra_field(reader: &IndexReader, name: &str) -> Result<Field, Error> {
    reader.schema().extra_field(name).ok_or_else(|| {
        Error::Parameter(format!(
            "the index lacks the {name} field the rival strategies read (only `bench acl` writes it)"
        ))
    })
}

/// Facet dimension names, in [`FACET_FIELDS`] order, as answers spell them.
const FACET_NAMES: [&str; 4] = ["product", "kind", "space", "project"];

impl Target {
    fn of(reader: &IndexReader) -> Result<Target, Error> {
        let searcher = reader.searcher().clone();
        let mut profiles = Vec::new();
        for segment in searcher.segment_readers() {
            profiles.push(segment.fast_fields().u64(field::ACL_PROFILE)?);
        }
        Ok(Target {
            fields: *reader.fields(),
            index: reader.index().clone(),
            acl: reader.acl().clone(),
            profiles,
            searcher,
        })
    }

    /// Clause slots: the most clauses a document has.
    fn slots(&self) -> Result<usize, Error> {
        let mut slots = 1;
        for segment in self.searcher.segment_readers() {
            slots = slots.max(segment.fast_fields().u64(CLAUSE_COUNT)?.max_value() as usize);
        }
        Ok(slots)
    }

    /// The query as the search service builds it.
    fn query(&self, text: &str) -> Result<Box<dyn Query>, Error> {
        let ast = query::parse(text)?;
        Ok(QueryBuilder::new(&self.index, self.fields)?.build(&ast))
    }

    /// Top-k, exact count and (for facet queries) facets of `query`, which filters by itself.
    fn collect(
        &self,
        query: &dyn Query,
        text_query: &dyn Query,
        shape: Shape,
        k: usize,
    ) -> Result<Answer, Error> {
        let facets = shape.facets().then_some(FacetCollector);
        let (ranked, total, facets) = if shape.by_updated() {
            let top =
                TopDocs::with_limit(k).order_by_fast_field::<tantivy::DateTime>(field::UPDATED, Order::Desc);
            let (top, total, facets) = self.searcher.search(query, &(top, Count, facets))?;
            let ranked =
                top.into_iter().map(|(t, a)| (t.map_or(f64::MIN, |t| t.into_timestamp_millis() as f64), a));
            (ranked.collect(), total, facets)
        } else {
            let top = TopDocs::with_limit(k).order_by_score();
            let (top, total, facets) = self.searcher.search(query, &(top, Count, facets))?;
            (top.into_iter().map(|(s, a)| (f64::from(s), a)).collect(), total, facets)
        };
        Ok(Answer { hits: self.page(ranked, text_query)?, total: Some(total as u64), facets })
    }

    /// The page's hits, built from stored documents as the search service builds them.
    fn page(&self, ranked: Vec<(f64, DocAddress)>, text_query: &dyn Query) -> Result<Vec<Answered>, Error> {
        let mut highlighter =
            Highlighter::new(&self.searcher, text_query, self.fields.title, self.fields.body)?;
        let mut hits = Vec::with_capacity(ranked.len());
        for (key, address) in ranked {
            let stored: tantivy::TantivyDocument = self.searcher.doc(address)?;
            let hit = hit_from_stored(&self.fields, &stored, &mut highlighter, false, key as f32);
            hits.push(Answered { id: hit.id, key });
        }
        Ok(hits)
    }

    fn profile(&self, address: DocAddress) -> Option<u64> {
        self.profiles.get(address.segment_ord as usize)?.first(address.doc_id)
    }
}

/// No filter at all.
struct Unfiltered {
    target: Target,
}

impl Strategy for Unfiltered {
    fn name(&self) -> StrategyName {
        StrategyName::Unfiltered
    }

    fn search(&self, _caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let text_query = self.target.query(&query.text)?;
        self.target.collect(text_query.as_ref(), text_query.as_ref(), query.shape, k)
    }
}

/// One `TermSetQuery` per clause slot, all must clauses with a zero score.
struct TermSet {
    target: Target,
    principals: Field,
    slots: usize,
}

impl Strategy for TermSet {
    fn name(&self) -> StrategyName {
        StrategyName::TermSet
    }

    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let text_query = self.target.query(&query.text)?;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query.box_clone())];
        for slot in 0..self.slots {
            let terms = caller
                .tokens
                .iter()
                .map(|t| build::slot_token(slot, t))
                .chain(std::iter::once(build::unused_slot(slot)))
                .map(|t| Term::from_field_text(self.principals, &t));
            let set: Box<dyn Query> = Box::new(TermSetQuery::new(terms));
            clauses.push((Occur::Must, Box::new(ConstScoreQuery::new(set, 0.0))));
        }
        let filtered = BooleanQuery::new(clauses);
        self.target.collect(&filtered, text_query.as_ref(), query.shape, k)
    }
}

/// The caller's satisfied clause ids, matched against each document's clause ids and count.
struct ClauseSet {
    target: Target,
    clauses: Field,
    /// Per caller: the terms of the clauses it satisfies.
    terms: Mutex<HashMap<String, Arc<Vec<Term>>>>,
}

impl ClauseSet {
    fn terms_for(&self, caller: &BenchCaller) -> Arc<Vec<Term>> {
        let key = caller.key();
        if let Some(terms) = self.terms.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return terms.clone();
        }
        let principals = self.target.acl.caller(caller.principals.iter());
        let acl = &self.target.acl;
        let terms: Vec<Term> = (0..acl.clause_count() as u32)
            .filter(|&c| {
                acl.clause(crate::acl::ClauseId(c)).is_some_and(|members| !members.is_disjoint(&principals.0))
            })
            .map(|c| Term::from_field_text(self.clauses, &c.to_string()))
            .collect();
        let terms = Arc::new(terms);
        self.terms.lock().unwrap_or_else(|e| e.into_inner()).insert(key, terms.clone());
        terms
    }
}

impl Strategy for ClauseSet {
    fn name(&self) -> StrategyName {
        StrategyName::ClauseSet
    }

    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let text_query = self.target.query(&query.text)?;
        let covering: Box<dyn Query> =
            Box::new(CoveringQuery::new(self.clauses, self.terms_for(caller), CLAUSE_COUNT));
        let filtered = BooleanQuery::new(vec![
            (Occur::Must, text_query.box_clone()),
            (Occur::Must, Box::new(ConstScoreQuery::new(covering, 0.0))),
        ]);
        self.target.collect(&filtered, text_query.as_ref(), query.shape, k)
    }
}

/// Per caller: the profiles it may read under the target's ACL store.
#[derive(Default)]
struct Masks(Mutex<HashMap<String, Arc<ProfileMask>>>);

impl Masks {
    fn get(&self, acl: &AclStore, caller: &BenchCaller) -> Arc<ProfileMask> {
        let key = caller.key();
        if let Some(mask) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
            return mask.clone();
        }
        let mask = Arc::new(ProfileMask::for_caller(acl, &acl.caller(caller.principals.iter())));
        self.0.lock().unwrap_or_else(|e| e.into_inner()).insert(key, mask.clone());
        mask
    }
}

/// Unfiltered top-k, over-fetched, filtered after.
struct PostFilter {
    target: Target,
    masks: Masks,
    overfetch: usize,
}

impl Strategy for PostFilter {
    fn name(&self) -> StrategyName {
        StrategyName::PostFilter
    }

    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let text_query = self.target.query(&query.text)?;
        let mask = self.masks.get(&self.target.acl, caller);
        let mut fetch = k * self.overfetch;
        loop {
            let top: Vec<(f64, DocAddress)> = if query.shape.by_updated() {
                let top = TopDocs::with_limit(fetch)
                    .order_by_fast_field::<tantivy::DateTime>(field::UPDATED, Order::Desc);
                let found = self.target.searcher.search(text_query.as_ref(), &top)?;
                found
                    .into_iter()
                    .map(|(t, a)| (t.map_or(f64::MIN, |t| t.into_timestamp_millis() as f64), a))
                    .collect()
            } else {
                let found = self
                    .target
                    .searcher
                    .search(text_query.as_ref(), &TopDocs::with_limit(fetch).order_by_score())?;
                found.into_iter().map(|(s, a)| (f64::from(s), a)).collect()
            };
            let exhausted = top.len() < fetch;
            let readable: Vec<(f64, DocAddress)> = top
                .into_iter()
                .filter(|(_, a)| self.target.profile(*a).is_some_and(|p| mask.contains(p)))
                .take(k)
                .collect();
            if readable.len() >= k || exhausted {
                return Ok(Answer {
                    hits: self.target.page(readable, text_query.as_ref())?,
                    total: None,
                    facets: None,
                });
            }
            fetch *= 2;
        }
    }
}

/// Every match scored and checked against the caller's profiles through the document's profile column.
struct DocCheck {
    target: Target,
    masks: Masks,
}

impl Strategy for DocCheck {
    fn name(&self) -> StrategyName {
        StrategyName::DocCheck
    }

    fn search(&self, caller: &BenchCaller, query: &BenchQuery, k: usize) -> Result<Answer, Error> {
        let text_query = self.target.query(&query.text)?;
        let mask = self.masks.get(&self.target.acl, caller);
        let searcher = &self.target.searcher;
        let by_updated = query.shape.by_updated();
        let scoring = if by_updated {
            EnableScoring::disabled_from_searcher(searcher)
        } else {
            EnableScoring::enabled_from_searcher(searcher)
        };
        let weight = text_query.weight(scoring)?;
        let mut top = TopK::new(k);
        let mut total = 0u64;
        let mut facets = query.shape.facets().then(FacetTally::default);
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let profiles = &self.target.profiles[ord];
            let alive = segment.alive_bitset();
            let mut segment_facets = match &mut facets {
                Some(_) => Some(SegmentFacets::open(segment)?),
                None => None,
            };
            let ord = ord as SegmentOrdinal;
            let mut take = |doc: DocId, key: f64| {
                if alive.is_some_and(|a| a.is_deleted(doc))
                    || !profiles.first(doc).is_some_and(|p| mask.contains(p))
                {
                    return;
                }
                total += 1;
                if let Some(f) = segment_facets.as_mut() {
                    f.count(doc);
                }
                top.push(key, DocAddress::new(ord, doc));
            };
            if by_updated {
                let updated = segment.fast_fields().date(field::UPDATED)?;
                weight.for_each_no_score(segment, &mut |docs| {
                    for &doc in docs {
                        take(doc, updated.first(doc).map_or(f64::MIN, |t| t.into_timestamp_millis() as f64));
                    }
                })?;
            } else {
                weight.for_each(segment, &mut |doc, score| take(doc, f64::from(score)))?;
            }
            if let (Some(tally), Some(f)) = (facets.as_mut(), segment_facets) {
                tally.add(f)?;
            }
        }
        Ok(Answer {
            hits: self.target.page(top.into_sorted(), text_query.as_ref())?,
            total: Some(total),
            facets: facets.map(|f| f.0),
        })
    }
}

/// The k largest keys, ties to the lower address.
struct TopK {
    k: usize,
    heap: BinaryHeap<std::cmp::Reverse<(Key, std::cmp::Reverse<DocAddress>)>>,
}

/// A totally ordered f64.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Key(f64);
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl TopK {
    fn new(k: usize) -> TopK {
        TopK { k, heap: BinaryHeap::with_capacity(k + 1) }
    }

    #[inline]
    fn push(&mut self, key: f64, address: DocAddress) {
        let entry = std::cmp::Reverse((Key(key), std::cmp::Reverse(address)));
        if self.heap.len() < self.k {
            self.heap.push(entry);
        } else if self.heap.peek().is_some_and(|worst| entry < *worst) {
            self.heap.pop();
            self.heap.push(entry);
        }
    }

    fn into_sorted(self) -> Vec<(f64, DocAddress)> {
        let mut all: Vec<_> = self.heap.into_iter().map(|e| ((e.0).0, ((e.0).1).0)).collect();
        all.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        all.into_iter().map(|(k, a)| (k.0, a)).collect()
    }
}

/// Facet counts of one segment, by term ordinal.
struct SegmentFacets {
    columns: Vec<Option<StrColumn>>,
    counts: Vec<Vec<u64>>,
}

impl SegmentFacets {
    fn open(segment: &SegmentReader) -> tantivy::Result<SegmentFacets> {
        let mut columns = Vec::new();
        let mut counts = Vec::new();
        for name in FACET_FIELDS {
            let column = segment.fast_fields().str(name)?;
            counts.push(vec![0u64; column.as_ref().map_or(0, |c| c.num_terms())]);
            columns.push(column);
        }
        Ok(SegmentFacets { columns, counts })
    }

    #[inline]
    fn count(&mut self, doc: DocId) {
        for (i, column) in self.columns.iter().enumerate() {
            if let Some(ord) = column.as_ref().and_then(|c| c.ords().first(doc)) {
                if let Some(slot) = self.counts[i].get_mut(ord as usize) {
                    *slot += 1;
                }
            }
        }
    }
}

/// Facet counts by `dimension:value`.
#[derive(Default)]
struct FacetTally(BTreeMap<String, u64>);

impl FacetTally {
    fn add(&mut self, segment: SegmentFacets) -> tantivy::Result<()> {
        for (i, column) in segment.columns.iter().enumerate() {
            let Some(column) = column else { continue };
            for (ord, &n) in segment.counts[i].iter().enumerate() {
                if n == 0 {
                    continue;
                }
                let mut value = String::new();
                if column.ord_to_str(ord as u64, &mut value)? {
                    *self.0.entry(format!("{}:{value}", FACET_NAMES[i])).or_default() += n;
                }
            }
        }
        Ok(())
    }
}

/// Facet counts of the matching documents, as a tantivy collector (for strategies whose query filters).
struct FacetCollector;

struct FacetSegmentCollector(SegmentFacets);

impl Collector for FacetCollector {
    type Fruit = BTreeMap<String, u64>;
    type Child = FacetSegmentCollector;

    fn for_segment(
        &self,
        _ord: SegmentOrdinal,
        segment: &SegmentReader,
    ) -> tantivy::Result<FacetSegmentCollector> {
        Ok(FacetSegmentCollector(SegmentFacets::open(segment)?))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, fruits: Vec<BTreeMap<String, u64>>) -> tantivy::Result<BTreeMap<String, u64>> {
        let mut out = BTreeMap::new();
        for fruit in fruits {
            for (value, n) in fruit {
                *out.entry(value).or_default() += n;
            }
        }
        Ok(out)
    }
}

impl SegmentCollector for FacetSegmentCollector {
    type Fruit = BTreeMap<String, u64>;

    fn collect(&mut self, doc: DocId, _score: Score) {
        self.0.count(doc);
    }

    fn harvest(self) -> BTreeMap<String, u64> {
        let mut tally = FacetTally::default();
        // An ordinal from the column's own dictionary always resolves; an I/O error drops the dimension,
        // which the oracle then reports as a wrong answer.
        let _ = tally.add(self.0);
        tally.0
    }
}

/// The unfiltered query of `text`, for the oracle: the same tantivy query every strategy runs.
pub fn text_query(reader: &IndexReader, text: &str) -> Result<Box<dyn Query>, Error> {
    let ast = query::parse(text)?;
    Ok(QueryBuilder::new(reader.index(), *reader.fields())?.build(&ast))
}
