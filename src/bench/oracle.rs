//! Brute-force answers, and the check every measured answer must pass.
//!
//! Who may read a document comes from the corpus model ([`Corpus::visible_profiles`]): neither the ACL
//! store, nor the allowed sets, nor any strategy's encoding. Which documents match a query and their
//! scores come from tantivy scoring every match of the unfiltered query, segment by segment (the one part
//! shared with the strategies: the benchmark compares filters, not BM25). Browsing ranks by `updated`,
//! straight from the model. Totals and facet counts are counted over the model's readable matches.
//!
//! [`check`] accepts an answer when it is *a* correct top-k: as many hits as there should be, each a
//! readable match with the right key, in order, holding every match that ranks strictly above the k-th
//! (documents tied with the k-th may be either way), plus the exact total and facets where the strategy
//! offers them. Keys may differ by [`SCORE_TOLERANCE`] (relative): permdex ranks on scores with their last
//! mantissa bits dropped, and sums a union's parts in a different order when the caller's documents lead.
//!
//! This file times nothing.

use std::collections::{BTreeMap, HashMap, HashSet};

use tantivy::query::{EnableScoring, Query};
use tantivy::SegmentReader;

use super::corpus::Corpus;
use super::queries::BenchQuery;
use super::strategy::{Answer, Answered};
use super::Error;
use crate::index::schema::field;
use crate::index::{IndexReader, Product};

/// Relative difference allowed between a strategy's score and the brute-force one.
pub const SCORE_TOLERANCE: f64 = 1e-4;

/// The brute-force answer to one (caller, query).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Expected {
    /// Every readable match whose key reaches the k-th best (within the tolerance), best first, ties by id.
    pub ranked: Vec<Answered>,
    pub total: u64,
    /// `dimension:value` → count over readable matches.
    pub facets: BTreeMap<String, u64>,
}

/// A query's matches over the whole index: (corpus document number, score).
pub struct Matches(Vec<(u32, f64)>);

pub struct Oracle<'a> {
    corpus: &'a Corpus,
    reader: &'a IndexReader,
    /// Per segment, per document: its corpus number.
    numbers: Vec<Vec<u32>>,
}

impl<'a> Oracle<'a> {
    pub fn new(corpus: &'a Corpus, reader: &'a IndexReader) -> Result<Oracle<'a>, Error> {
        let numbers =
            reader.searcher().segment_readers().iter().map(corpus_numbers).collect::<Result<_, _>>()?;
        Ok(Oracle { corpus, reader, numbers })
    }

    /// Every match of `query` in the index, with its score (or, browsing, every document with its
    /// `updated`). Copies the index deleted are left out; documents the model deleted are left to
    /// [`Oracle::expected`], so an index that kept one would show as a wrong answer.
    pub fn matches(&self, query: &BenchQuery) -> Result<Matches, Error> {
        if query.shape.by_updated() {
            let all = (0..self.corpus.docs.len() as u32)
                .map(|n| (n, self.corpus.docs[n as usize].updated_ms as f64));
            return Ok(Matches(all.collect()));
        }
        let tantivy_query: Box<dyn Query> = super::strategy::text_query(self.reader, &query.text)?;
        let searcher = self.reader.searcher();
        let weight = tantivy_query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let mut out = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let numbers = &self.numbers[ord];
            // A rewritten document leaves a deleted copy behind: only the live one counts.
            let alive = segment.alive_bitset();
            weight.for_each(segment, &mut |doc, score| {
                if alive.is_some_and(|a| a.is_deleted(doc)) {
                    return;
                }
                if let Some(&n) = numbers.get(doc as usize) {
                    if n != u32::MAX {
                        out.push((n, f64::from(score)));
                    }
                }
            })?;
        }
        Ok(Matches(out))
    }

    /// The answer for a caller who may read the profiles marked in `visible` (all, for `None`), under the
    /// corpus `model` (the oracle's own, or one after a permission change).
    pub fn expected(
        &self,
        model: &Corpus,
        visible: Option<&[bool]>,
        matches: &Matches,
        k: usize,
        by_updated: bool,
    ) -> Expected {
        let readable = matches.0.iter().filter(|(n, _)| {
            let n = *n as usize;
            !model.deleted[n] && visible.is_none_or(|v| v[model.docs[n].profile as usize])
        });
        let mut total = 0u64;
        let mut facets: BTreeMap<String, u64> = BTreeMap::new();
        let mut keys: Vec<(f64, u32)> = Vec::new();
        for &(n, key) in readable {
            total += 1;
            let meta = &model.docs[n as usize];
            let container = &model.containers[meta.container as usize];
            *facets.entry(format!("product:{}", container.product.as_str())).or_default() += 1;
            *facets.entry(format!("kind:{}", meta.kind.as_str())).or_default() += 1;
            let dimension = match container.product {
                Product::Confluence => "space",
                Product::Jira => "project",
            };
            *facets.entry(format!("{dimension}:{}", container.key)).or_default() += 1;
            keys.push((key, n));
        }
        keys.sort_by(|a, b| b.0.total_cmp(&a.0));
        let tolerance = |key: f64| if by_updated { 0.0 } else { key.abs() * SCORE_TOLERANCE };
        let boundary = keys.get(k.saturating_sub(1)).map(|(key, _)| key - tolerance(*key));
        let mut ranked: Vec<Answered> = keys
            .iter()
            .take_while(|(key, _)| k > 0 && boundary.is_none_or(|b| *key >= b))
            .map(|&(key, n)| Answered { id: model.doc_id(n), key })
            .collect();
        ranked.sort_by(|a, b| b.key.total_cmp(&a.key).then_with(|| a.id.cmp(&b.id)));
        Expected { ranked, total, facets }
    }
}

/// Each document's corpus number, read from the segment's `id` column (`u32::MAX` for an id that is no
/// corpus id).
fn corpus_numbers(segment: &SegmentReader) -> Result<Vec<u32>, Error> {
    let mut out = vec![u32::MAX; segment.max_doc() as usize];
    let Some(column) = segment.fast_fields().str(field::ID)? else { return Ok(out) };
    let mut by_ord = Vec::with_capacity(column.num_terms());
    let mut stream = column.dictionary().stream().map_err(|e| Error::Tantivy(e.into()))?;
    while stream.advance() {
        by_ord.push(Corpus::doc_number(&String::from_utf8_lossy(stream.key())).unwrap_or(u32::MAX));
    }
    for (doc, slot) in out.iter_mut().enumerate() {
        if let Some(ord) = column.ords().first(doc as u32) {
            *slot = by_ord.get(ord as usize).copied().unwrap_or(u32::MAX);
        }
    }
    Ok(out)
}

/// Whether `answer` is a correct answer of at most `k` hits (see the module docs). `counts`: the strategy
/// claims an exact total (and facets, when `facets`).
pub fn check(
    expected: &Expected,
    answer: &Answer,
    k: usize,
    counts: bool,
    facets: bool,
) -> Result<(), String> {
    let want = k.min(expected.total as usize);
    if answer.hits.len() != want {
        return Err(format!("{} hits instead of {want}", answer.hits.len()));
    }
    let keys: HashMap<&str, f64> = expected.ranked.iter().map(|h| (h.id.as_str(), h.key)).collect();
    let close = |a: f64, b: f64| (a - b).abs() <= b.abs() * SCORE_TOLERANCE;
    let mut seen = HashSet::new();
    for (rank, hit) in answer.hits.iter().enumerate() {
        let Some(&key) = keys.get(hit.id.as_str()) else {
            return Err(format!(
                "hit {rank} {} is not a readable match ranked in the top {k} (a hidden, unmatched or low document)",
                hit.id
            ));
        };
        if !close(hit.key, key) {
            return Err(format!("hit {rank} {} has key {} instead of {key}", hit.id, hit.key));
        }
        if !seen.insert(hit.id.as_str()) {
            return Err(format!("hit {rank} {} is returned twice", hit.id));
        }
        if rank > 0 && hit.key > answer.hits[rank - 1].key && !close(hit.key, answer.hits[rank - 1].key) {
            return Err(format!("hit {rank} {} is ranked below a worse hit", hit.id));
        }
    }
    if let Some(last) = expected.ranked.get(want.wrapping_sub(1)) {
        for must in expected.ranked.iter().take_while(|h| h.key > last.key && !close(h.key, last.key)) {
            if !seen.contains(must.id.as_str()) {
                return Err(format!("{} (key {}) is missing from the top {k}", must.id, must.key));
            }
        }
    }
    if counts {
        if answer.total != Some(expected.total) {
            return Err(format!("total {:?} instead of {}", answer.total, expected.total));
        }
        if facets && answer.facets.as_ref() != Some(&expected.facets) {
            return Err(format!("facets {:?} instead of {:?}", answer.facets, expected.facets));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(id: &str, key: f64) -> Answered {
        Answered { id: id.into(), key }
    }

    #[test]
    fn check_accepts_any_order_of_ties_and_nothing_wrong() {
        // Five readable matches; b and c tie at the boundary of a top 2... of a top 3.
        let expected = Expected {
            ranked: vec![hit("a", 9.0), hit("b", 5.0), hit("c", 5.0)],
            total: 5,
            facets: BTreeMap::from([("kind:page".to_string(), 5)]),
        };
        let answer = |hits: Vec<Answered>, total: Option<u64>| Answer {
            hits,
            total,
            facets: Some(BTreeMap::from([("kind:page".to_string(), 5)])),
        };
        let k = 2;
        let good = [
            answer(vec![hit("a", 9.0), hit("b", 5.0)], Some(5)),
            answer(vec![hit("a", 9.0), hit("c", 5.00001)], Some(5)),
        ];
        for a in &good {
            assert_eq!(check(&expected, a, k, true, true), Ok(()), "{a:?}");
        }
        let bad: Vec<(Answer, &str)> = vec![
            (answer(vec![hit("a", 9.0)], Some(5)), "1 hits instead of 2"),
            (answer(vec![hit("b", 5.0), hit("c", 5.0)], Some(5)), "a (key 9) is missing"),
            (answer(vec![hit("a", 9.0), hit("x", 5.0)], Some(5)), "x is not a readable match"),
            (answer(vec![hit("a", 9.0), hit("b", 4.0)], Some(5)), "has key 4"),
            (answer(vec![hit("a", 9.0), hit("a", 9.0)], Some(5)), "returned twice"),
            (answer(vec![hit("b", 5.0), hit("a", 9.0)], Some(5)), "below a worse hit"),
            (answer(vec![hit("a", 9.0), hit("b", 5.0)], Some(4)), "total Some(4)"),
            (answer(vec![hit("a", 9.0), hit("b", 5.0)], None), "total None"),
        ];
        for (a, why) in &bad {
            let err = check(&expected, a, k, true, true).expect_err(why);
            assert!(err.contains(why), "{err:?} lacks {why:?}");
        }
        let wrong_facets = Answer { facets: Some(BTreeMap::new()), ..good[0].clone() };
        assert!(check(&expected, &wrong_facets, k, true, true).is_err());
        assert_eq!(check(&expected, &wrong_facets, k, true, false), Ok(()), "facets not asked for");
        let no_counts = Answer { total: None, facets: None, ..good[0].clone() };
        assert_eq!(check(&expected, &no_counts, k, false, true), Ok(()), "a strategy without counts");
    }
}
