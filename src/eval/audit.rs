//! Permission audits of rankings: does a caller's filtered ranking equal the unfiltered ranking restricted
//! to what that caller may read, and did anything the caller may not read appear?
//!
//! The unfiltered ranking is computed here, on tantivy directly, with the search library's query builder
//! and its exact order (quantised score descending, then id hash, then id). It never leaves this module:
//! [`compare_with_unfiltered`] returns only how the caller's ranking differs from it. The search library,
//! the server and the CLI's search keep having no unfiltered entry point.

use std::collections::{BTreeMap, HashSet};

use tantivy::query::EnableScoring;
use tantivy::schema::Value;
use tantivy::{DocAddress, DocId, TantivyDocument};

use crate::index::{id_hash, IndexReader};
use crate::search::collect::quantise;
use crate::search::query::{self, QueryBuilder, QueryOptions};

/// How one caller's rankings compare with the unfiltered rankings restricted to the caller's documents.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RankAudit {
    pub topics: usize,
    /// Topics whose ranking differs anywhere in the compared depth.
    pub topics_differing: usize,
    /// Positions (over all topics) holding a different document.
    pub positions_differing: usize,
    /// Up to five examples: topic, first differing rank (1-based), and the two ids there.
    pub examples: Vec<(String, usize, String, String)>,
}

/// Returned documents the oracle says the caller may not read.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct LeakAudit {
    /// Returned ids checked (over all topics).
    pub checked: usize,
    pub leaks: usize,
    /// Up to five examples: topic and id.
    pub examples: Vec<(String, String)>,
}

/// Checks every returned id against `readable`.
pub fn leaks(returned: &BTreeMap<String, Vec<String>>, readable: &HashSet<String>) -> LeakAudit {
    let mut audit = LeakAudit::default();
    for (topic, ids) in returned {
        for id in ids {
            audit.checked += 1;
            if !readable.contains(id) {
                audit.leaks += 1;
                if audit.examples.len() < 5 {
                    audit.examples.push((topic.clone(), id.clone()));
                }
            }
        }
    }
    audit
}

/// Every topic's unfiltered ranking on `reader`'s index: all matches of its query, ranked as search ranks
/// them (quantised score descending, then id hash, then id), scored by the same scorer the filtered path
/// drives, so that equal documents get bit-equal scores.
pub fn unfiltered_rankings(
    reader: &IndexReader,
    options: QueryOptions,
    topics: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, Vec<String>>, crate::search::Error> {
    let builder = QueryBuilder::with_options(reader.index(), *reader.fields(), options)?;
    let searcher = reader.searcher();
    let mut out = BTreeMap::new();
    for (topic, text) in topics {
        let query = builder.build(&query::read(text)?);
        let weight = query.weight(EnableScoring::enabled_from_searcher(searcher))?;
        let mut ranked = Vec::new();
        for (ord, segment) in searcher.segment_readers().iter().enumerate() {
            let mut scored: Vec<(DocId, f32)> = Vec::new();
            weight.for_each(segment, &mut |doc, score| {
                if segment.alive_bitset().is_none_or(|alive| alive.is_alive(doc)) {
                    scored.push((doc, score));
                }
            })?;
            for (doc, score) in scored {
                let stored: TantivyDocument = searcher.doc(DocAddress::new(ord as u32, doc))?;
                let id = stored
                    .get_first(reader.fields().id)
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                ranked.push((std::cmp::Reverse(quantise(score).to_bits()), id_hash(&id), id));
            }
        }
        ranked.sort();
        out.insert(topic.clone(), ranked.into_iter().map(|(_, _, id)| id).collect());
    }
    Ok(out)
}

/// Compares each topic's filtered ranking (`returned`, the ids the search gave) with its unfiltered
/// ranking (from [`unfiltered_rankings`]) restricted to `readable`, over the length of the filtered one.
pub fn compare_with_unfiltered(
    unfiltered: &BTreeMap<String, Vec<String>>,
    returned: &BTreeMap<String, Vec<String>>,
    readable: &HashSet<String>,
) -> RankAudit {
    let mut audit = RankAudit::default();
    for (topic, ids) in returned {
        let Some(unfiltered) = unfiltered.get(topic) else { continue };
        audit.topics += 1;
        let expected: Vec<&String> =
            unfiltered.iter().filter(|id| readable.contains(*id)).take(ids.len()).collect();
        let mut differing = 0;
        for (rank, id) in ids.iter().enumerate() {
            let want: &str = expected.get(rank).map_or("", |s| s);
            if id != want {
                if differing == 0 && audit.examples.len() < 5 {
                    audit.examples.push((topic.clone(), rank + 1, id.clone(), want.to_string()));
                }
                differing += 1;
            }
        }
        audit.positions_differing += differing;
        audit.topics_differing += usize::from(differing > 0);
    }
    audit
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_are_counted_with_examples() {
        let returned = BTreeMap::from([("1".to_string(), vec!["a".to_string(), "x".to_string()])]);
        let readable: HashSet<String> = ["a".to_string()].into();
        let audit = leaks(&returned, &readable);
        assert_eq!((audit.checked, audit.leaks), (2, 1));
        assert_eq!(audit.examples, vec![("1".to_string(), "x".to_string())]);
    }
}
