//! Permission audits of rankings: does a caller's filtered ranking equal the unfiltered ranking restricted
//! to what that caller may read, and did anything the caller may not read appear?
//!
//! The unfiltered ranking is computed here, on tantivy directly, with the search library's query builder
//! and its exact order (quantised score descending, then id hash, then id). It never leaves this module:
//! [`compare_with_unfiltered`] returns only how the caller's ranking differs from it. The search library,
//! the server and the CLI's search keep having no unfiltered entry point.

use std::collections::{BTreeMap, HashSet};

use tantivy::collector::TopDocs;
use tantivy::schema::Value;
use tantivy::TantivyDocument;

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

/// Compares each topic's filtered ranking (`returned`, the ids the search gave) with the unfiltered ranking
/// of the same query on `reader`'s index, restricted to `readable`, over the length of the filtered one.
pub fn compare_with_unfiltered(
    reader: &IndexReader,
    options: QueryOptions,
    topics: &BTreeMap<String, String>,
    returned: &BTreeMap<String, Vec<String>>,
    readable: &HashSet<String>,
) -> Result<RankAudit, crate::search::Error> {
    let mut audit = RankAudit::default();
    let builder = QueryBuilder::with_options(reader.index(), *reader.fields(), options)?;
    for (topic, ids) in returned {
        let Some(text) = topics.get(topic) else { continue };
        audit.topics += 1;
        let unfiltered = unfiltered_ranking(reader, &builder, text)?;
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
        // A filtered ranking shorter than what the caller may see is a difference too.
        if ids.len() < expected.len() {
            differing += expected.len() - ids.len();
        }
        audit.positions_differing += differing;
        audit.topics_differing += usize::from(differing > 0);
    }
    Ok(audit)
}

/// Every match of `text`, ranked as search ranks: quantised score descending, then id hash, then id.
fn unfiltered_ranking(
    reader: &IndexReader,
    builder: &QueryBuilder,
    text: &str,
) -> Result<Vec<String>, crate::search::Error> {
    let ast = query::read(text)?;
    let query = builder.build(&ast);
    let searcher = reader.searcher();
    let every = (searcher.num_docs() as usize).max(1);
    let top = searcher.search(query.as_ref(), &TopDocs::with_limit(every).order_by_score())?;
    let fields = reader.fields();
    let mut ranked = Vec::with_capacity(top.len());
    for (score, address) in top {
        let doc: TantivyDocument = searcher.doc(address)?;
        let id = doc.get_first(fields.id).and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default();
        ranked.push((std::cmp::Reverse(quantise(score).to_bits()), id_hash(&id), id));
    }
    ranked.sort();
    Ok(ranked.into_iter().map(|(_, _, id)| id).collect())
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
