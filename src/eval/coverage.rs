//! "Did everything arrive?" as a number: for a synced site, every item the simulator's oracle lists, by
//! kind: how many are indexed, how many with text, and which failed (with the sync's reason).
//!
//! It compares two lists it is given (the oracle's ids and the index's stored documents) and the sync's
//! recorded failures; it neither crawls nor asks the oracle itself.

use std::collections::{BTreeMap, HashMap};

use crate::index::IndexReader;
use crate::sync::RunRecord;

/// Coverage of one kind (`confluence:page`, `jira:issue`, …).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct KindCoverage {
    /// Items the oracle lists.
    pub listed: usize,
    /// Of those, indexed.
    pub indexed: usize,
    /// Of those, indexed with a non-empty body.
    pub with_text: usize,
    /// Items the sync recorded as failed, with the reason.
    pub failed: Vec<(String, String)>,
}

/// Coverage per kind, plus indexed documents the oracle does not list (which would be a bug).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Coverage {
    pub kinds: BTreeMap<String, KindCoverage>,
    pub unexpected: Vec<String>,
}

impl Coverage {
    pub fn missing(&self) -> usize {
        self.kinds.values().map(|k| k.listed - k.indexed).sum()
    }
}

/// The kind part of an id (`confluence:page:12` → `confluence:page`).
fn kind_of(id: &str) -> String {
    id.rsplit_once(':').map_or(id, |(kind, _)| kind).to_string()
}

/// Compares the oracle's `listed` ids with `reader`'s documents and the failures `runs` recorded.
pub fn coverage(
    listed: &[String],
    reader: &IndexReader,
    runs: &[RunRecord],
) -> Result<Coverage, crate::index::Error> {
    let indexed: HashMap<String, u64> = reader.all_ids()?.into_iter().collect();
    let failures: HashMap<&str, &str> =
        runs.iter().flat_map(|r| &r.failures).map(|f| (f.item.as_str(), f.reason.as_str())).collect();
    let mut out = Coverage::default();
    let mut seen = std::collections::HashSet::new();
    for id in listed {
        seen.insert(id.as_str());
        let kind = out.kinds.entry(kind_of(id)).or_default();
        kind.listed += 1;
        if indexed.contains_key(id) {
            kind.indexed += 1;
            if reader.get(id)?.is_some_and(|d| !d.body.trim().is_empty()) {
                kind.with_text += 1;
            }
        }
        if let Some(reason) = failures.get(id.as_str()) {
            kind.failed.push((id.clone(), reason.to_string()));
        }
    }
    out.unexpected = indexed.keys().filter(|id| !seen.contains(id.as_str())).cloned().collect();
    out.unexpected.sort();
    Ok(out)
}
