//! Search across several sources (configured sites), each with its own index and ACL store:
//! [`search_sources`] runs the permission-filtered search in every source the caller is known in, with
//! that source's principals, and merges the answers.
//!
//! Merged order: by sort key (the score; `updated`, newest first, for `updated` order and for an empty
//! query), then by the id's hash, then by source name, then by id. A source's own order (key, id hash, id)
//! is the merged order restricted to it, so merging each source's best hits gives the best hits of all, and
//! the merge never reads an id: hits of two sources that tie on key and hash (the same document id in both,
//! in practice) are told apart by their sources. Totals and facet counts are summed; stored documents are
//! read for the returned hits only.
//!
//! Paging is the same with one source or many. A page's `next_cursor` ([`super::cursor`]) holds the
//! position of its last hit (key, id, source). The next page asks each source for its `limit + 1` best hits
//! after that position (at the very same key and id hash, a source named before the last hit's has none left
//! and one named after it has all), merges them and keeps `limit`: one search per source, however deep the
//! page. Following cursors over
//! unchanged indexes gives every hit once, in merged order, with no gap, and a source that starts or stops
//! being served between two pages joins or leaves at the same position. Offsets work too, bounded by the
//! work they cause: each source ranks `offset + limit + 1` hits, so `offset + limit` may be at most
//! [`MAX_WINDOW`] when one source is searched (as one index serves it) and [`MAX_MERGED_WINDOW`] across
//! several; a larger or overflowing window is a bad request that points at the cursor.
//!
//! Which sources a caller is known in, and with which principals, is decided by the caller of this
//! function (from each source's synced directory); nothing here reads a directory. Every hit, total and
//! facet still comes from the same ranking as `SearchService::search`, so nothing bypasses the ACL filter.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use super::collect::{After, SameTie};
use super::cursor::{self, Position};
use super::{
    check_window, Error, Facets, Hit, PageRequest, Plan, Ranking, SearchRequest, SearchService, MAX_WINDOW,
};
use crate::acl::Principal;
use crate::index::id_hash;

/// Deepest `offset + limit` served when several sources are merged: each source ranks that many hits (plus
/// one), which bounds a request's work; cursors page deeper at the cost of one page.
pub const MAX_MERGED_WINDOW: usize = 1_000;

/// One configured source as a search across sources sees it.
#[derive(Debug, Clone, Copy)]
pub struct SourcePart<'a> {
    pub name: &'a str,
    /// The source's index; `None` while it has none (not synced yet).
    pub service: Option<&'a SearchService>,
    /// The caller's principals in this source; `None` when the source does not know the caller.
    pub principals: Option<&'a [Principal]>,
}

/// A hit and the source it comes from (ids are unique within one source only).
#[derive(Debug, Clone, PartialEq)]
pub struct SourceHit {
    pub source: String,
    pub hit: Hit,
}

/// The merged answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SourcesResponse {
    /// Matching documents the caller may read, over every source searched (exact).
    pub total: u64,
    pub hits: Vec<SourceHit>,
    pub facets: Option<Facets>,
    /// Matches the caller may read per source searched, most first (ties by name): the facet of sources.
    pub per_source: Vec<(String, u64)>,
    /// The cursor of the next page, when there is one.
    pub next_cursor: Option<String>,
}

/// Searches `request` in each of `parts` whose name is in `only` (every part when `only` is empty) and
/// that knows the caller. A name in `only` that no part has is a bad request.
pub fn search_sources(
    parts: &[SourcePart<'_>],
    only: &[String],
    request: &SearchRequest,
) -> Result<SourcesResponse, Error> {
    if let Some(unknown) = only.iter().find(|name| !parts.iter().any(|p| p.name == name.as_str())) {
        return Err(Error::BadRequest(format!("no source named {unknown:?}")));
    }
    let mut searched: Vec<(&str, &SearchService, &[Principal])> = parts
        .iter()
        .filter(|p| only.is_empty() || only.iter().any(|name| name == p.name))
        .filter_map(|p| Some((p.name, p.service?, p.principals?)))
        .collect();
    // Source names break ties in the merged order, and resuming at a position compares them.
    searched.sort_by(|a, b| a.0.cmp(b.0));

    let limit = request.page.checked_limit()?;
    let plan = Plan::of(request)?;
    let fingerprint = fingerprint(&plan, only);
    let (skip, position) = match &request.page {
        PageRequest::Offset { offset, .. } => {
            let window = if searched.len() > 1 { MAX_MERGED_WINDOW } else { MAX_WINDOW };
            (check_window(*offset, limit, window, "follow next_cursor to page deeper")?, None)
        }
        PageRequest::Cursor { cursor, .. } => {
            let position = cursor::decode(cursor, &fingerprint)?;
            // A cursor of one index's own search (`SearchService::search`) names no source.
            let last = position.source.clone().ok_or(Error::BadCursor)?;
            (0, Some((position, last)))
        }
    };

    let mut total = 0;
    let mut per_source = Vec::new();
    let mut facets = request.facets.then(Facets::default);
    let mut lists = Vec::with_capacity(searched.len());
    for (name, service, principals) in searched {
        // Interned against the ACL store of the commit being searched (it changes with each sync).
        let caller = service.acl().caller(principals.iter());
        let after = position.as_ref().map(|(position, last)| match name.cmp(last.as_str()) {
            Ordering::Equal => After::hit(position.key, position.id.clone()),
            Ordering::Less => {
                After { key: position.key, tie: id_hash(&position.id), same_tie: SameTie::None }
            }
            Ordering::Greater => {
                After { key: position.key, tie: id_hash(&position.id), same_tie: SameTie::All }
            }
        });
        let ranking = service.rank(&caller, &plan, after, skip + limit + 1)?;
        let (count, more) = ranking.counts();
        total += count;
        if count > 0 {
            add_counts(&mut per_source, vec![(name.to_owned(), count)]);
        }
        if let (Some(into), Some(more)) = (facets.as_mut(), more) {
            add_counts(&mut into.product, more.product);
            add_counts(&mut into.kind, more.kind);
            add_counts(&mut into.space, more.space);
            add_counts(&mut into.project, more.project);
        }
        lists.push(List { name, ranking, next: 0 });
    }

    // The first skip + limit hits in merged order, as (list, place in its ranking).
    let mut taken = Vec::with_capacity(skip + limit);
    while taken.len() < skip + limit {
        let Some(best) = best_head(&lists) else { break };
        taken.push((best, lists[best].next));
        lists[best].next += 1;
    }
    let more = lists.iter().any(|list| list.next < list.ranking.top().len());
    let page = taken.get(skip..).unwrap_or_default();
    let hits = read_hits(&lists, page, request.snippets)?;
    let next_cursor = match (page.last(), hits.last()) {
        (Some(&(list, at)), Some(last)) if more => {
            let position = Position {
                key: lists[list].ranking.top()[at].key,
                id: last.hit.id.clone(),
                source: Some(last.source.clone()),
            };
            Some(cursor::encode(&fingerprint, &position))
        }
        _ => None,
    };
    Ok(SourcesResponse { total, hits, facets, per_source, next_cursor })
}

/// The fingerprint of a search across sources: the search's own, the sources asked for, and a mark
/// that keeps one index's cursors out.
fn fingerprint(plan: &Plan, only: &[String]) -> String {
    let mut names: Vec<&str> = only.iter().map(String::as_str).collect();
    names.sort_unstable();
    names.dedup();
    let mut parts = vec!["sources", plan.fingerprint.as_str()];
    parts.extend(names);
    cursor::fingerprint(&parts)
}

/// One source's ranking being merged, and how many of its hits are taken.
struct List<'a> {
    name: &'a str,
    ranking: Ranking,
    next: usize,
}

/// The list whose next hit comes first in merged order: the higher key, then the lower id hash, then the
/// earlier source (lists are in source-name order).
fn best_head(lists: &[List<'_>]) -> Option<usize> {
    let mut best: Option<(usize, u64, u64)> = None;
    for (i, list) in lists.iter().enumerate() {
        let Some(head) = list.ranking.top().get(list.next) else { continue };
        if best.is_none_or(|(_, key, tie)| {
            (head.key, std::cmp::Reverse(head.tie)) > (key, std::cmp::Reverse(tie))
        }) {
            best = Some((i, head.key, head.tie));
        }
    }
    best.map(|(i, _, _)| i)
}

/// The hits of `page` (list, place) read from their sources, in page order: one store read per hit and
/// one highlighter per source.
fn read_hits(lists: &[List<'_>], page: &[(usize, usize)], snippets: bool) -> Result<Vec<SourceHit>, Error> {
    let mut read: Vec<Option<SourceHit>> = vec![None; page.len()];
    for (index, list) in lists.iter().enumerate() {
        let places: Vec<usize> = (0..page.len()).filter(|&p| page[p].0 == index).collect();
        if places.is_empty() {
            continue;
        }
        let ranked: Vec<_> = places.iter().map(|&p| &list.ranking.top()[page[p].1]).collect();
        for (place, hit) in places.into_iter().zip(list.ranking.hits(&ranked, snippets)?) {
            read[place] = Some(SourceHit { source: list.name.to_owned(), hit });
        }
    }
    Ok(read.into_iter().flatten().collect())
}

/// Adds `more` into `into`, keeping most frequent first (ties by value), as one index orders them.
fn add_counts(into: &mut Vec<(String, u64)>, more: Vec<(String, u64)>) {
    let mut counts: BTreeMap<String, u64> = into.drain(..).collect();
    for (value, count) in more {
        *counts.entry(value).or_default() += count;
    }
    into.extend(counts);
    into.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facet_counts_add_up_most_frequent_first() {
        let mut into = vec![("ENG".to_owned(), 2), ("OPS".to_owned(), 1)];
        add_counts(&mut into, vec![("OPS".to_owned(), 2), ("HR".to_owned(), 3)]);
        assert_eq!(into, [("HR".to_owned(), 3), ("OPS".to_owned(), 3), ("ENG".to_owned(), 2)]);
    }

    #[test]
    fn unknown_sources_are_refused_and_no_source_answers_nothing() {
        let parts = [SourcePart { name: "acme", service: None, principals: None }];
        let request = SearchRequest { facets: true, ..SearchRequest::new("x") };
        let err = search_sources(&parts, &["nope".to_owned()], &request).unwrap_err();
        assert!(matches!(&err, Error::BadRequest(m) if m.contains("\"nope\"")), "{err}");
        let none = search_sources(&parts, &["acme".to_owned()], &request).unwrap();
        assert_eq!((none.total, none.hits.len(), none.facets), (0, 0, Some(Facets::default())));
        assert!(none.per_source.is_empty());
    }
}
