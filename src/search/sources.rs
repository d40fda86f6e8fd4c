//! Search across several sources (configured sites), each with its own index and ACL store:
//! [`search_sources`] runs the permission-filtered search in every source the caller is known in, with
//! that source's principals, and merges the answers.
//!
//! With one source, paging is that index's (offset or cursor). With several, each source's first
//! `offset + limit` hits are merged by score (or by date, newest first, for `updated` order and for an empty
//! query), ties broken by id, and paged by offset; totals and facet counts are summed. A cursor cannot
//! span indexes, so it is refused there. The work one request causes is bounded: across several sources
//! `offset + limit` may be at most [`MAX_MERGED_WINDOW`] (at most that many hits, in pages of
//! [`MAX_LIMIT`], from each source), and a larger or overflowing window is a bad request.
//!
//! Which sources a caller is known in, and with which principals, is decided by the caller of this
//! function (from each source's synced directory); nothing here reads a directory. Every hit, total and
//! facet still comes from [`SearchService::search`], so nothing bypasses the ACL filter.

use std::collections::BTreeMap;

use super::{Error, Facets, Hit, PageRequest, SearchRequest, SearchService, Sort, MAX_LIMIT};
use crate::acl::Principal;

/// Deepest `offset + limit` served when several sources are merged: each source is searched for that many
/// hits, so this bounds a request's work to `MAX_MERGED_WINDOW / MAX_LIMIT` searches per source.
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
    /// Only when one source was searched.
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
    let searched: Vec<(&str, &SearchService, &[Principal])> = parts
        .iter()
        .filter(|p| only.is_empty() || only.iter().any(|name| name == p.name))
        .filter_map(|p| Some((p.name, p.service?, p.principals?)))
        .collect();
    match searched.as_slice() {
        [] => Ok(SourcesResponse {
            total: 0,
            hits: Vec::new(),
            facets: request.facets.then(Facets::default),
            next_cursor: None,
        }),
        [(name, service, principals)] => {
            let response = search_one(service, principals, request, request.page.clone())?;
            Ok(SourcesResponse {
                total: response.total,
                hits: tag(name, response.hits),
                facets: response.facets,
                next_cursor: response.next_cursor,
            })
        }
        several => merged(several, request),
    }
}

fn search_one(
    service: &SearchService,
    principals: &[Principal],
    request: &SearchRequest,
    page: PageRequest,
) -> Result<super::SearchResponse, Error> {
    // Interned against the ACL store of the commit being searched (it changes with each sync).
    let caller = service.acl().caller(principals.iter());
    service.search(&caller, &SearchRequest { page, ..request.clone() })
}

fn tag(source: &str, hits: Vec<Hit>) -> Vec<SourceHit> {
    hits.into_iter().map(|hit| SourceHit { source: source.to_owned(), hit }).collect()
}

fn merged(
    several: &[(&str, &SearchService, &[Principal])],
    request: &SearchRequest,
) -> Result<SourcesResponse, Error> {
    let PageRequest::Offset { offset, limit } = request.page else {
        return Err(Error::BadRequest(
            "cursor paging works within one source; use offset when searching several".into(),
        ));
    };
    let wanted = offset.checked_add(limit).filter(|w| *w <= MAX_MERGED_WINDOW).ok_or_else(|| {
        Error::BadRequest(format!(
            "across several sources offset + limit may be at most {MAX_MERGED_WINDOW}; \
             narrow the search to one source (source=…) to page deeper with its cursor"
        ))
    })?;
    let mut total = 0;
    let mut hits = Vec::new();
    let mut facets = request.facets.then(Facets::default);
    for (name, service, principals) in several {
        // The first offset + limit hits of each source, in pages the library accepts.
        let first = PageRequest::Offset { offset: 0, limit: wanted.min(MAX_LIMIT) };
        let mut part = search_one(service, principals, request, first)?;
        while part.hits.len() < wanted && (part.hits.len() as u64) < part.total {
            let page = PageRequest::Offset {
                offset: part.hits.len(),
                limit: (wanted - part.hits.len()).min(MAX_LIMIT),
            };
            let more = search_one(service, principals, request, page)?;
            if more.hits.is_empty() {
                break;
            }
            part.hits.extend(more.hits);
        }
        total += part.total;
        hits.extend(tag(name, part.hits));
        if let (Some(into), Some(more)) = (facets.as_mut(), part.facets) {
            add_counts(&mut into.product, more.product);
            add_counts(&mut into.kind, more.kind);
            add_counts(&mut into.space, more.space);
            add_counts(&mut into.project, more.project);
        }
    }
    let by_id = |a: &SourceHit, b: &SourceHit| a.hit.id.cmp(&b.hit.id);
    match request.sort {
        Sort::Relevance if !request.query.trim().is_empty() => {
            hits.sort_by(|a, b| b.hit.score.total_cmp(&a.hit.score).then_with(|| by_id(a, b)))
        }
        _ => hits.sort_by(|a, b| b.hit.updated.cmp(&a.hit.updated).then_with(|| by_id(a, b))),
    }
    let hits = hits.into_iter().skip(offset).take(limit).collect();
    Ok(SourcesResponse { total, hits, facets, next_cursor: None })
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
    }
}
