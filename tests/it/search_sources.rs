//! Search across several sources (`search_sources`) on real on-disk indexes. For random indexes (sometimes
//! two built alike, so that equal documents tie across sources), callers, queries, sorts and page sizes:
//! following cursors returns exactly the union of every source's brute-force answer, once each, in merged
//! order (sort key, then id hash, source name and id), the same sequence as offset paging and as one large
//! request, and each source's hits in that source's own order. Cursors that are garbled, forged or from
//! another search are refused or stay within what their sender may read; the work of offset paging is
//! bounded.

use std::collections::{BTreeMap, BTreeSet};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use permdex::acl::Principal;
use permdex::index::{id_hash, IndexReader};
use permdex::search::sources::MAX_MERGED_WINDOW;
use permdex::search::{
    search_sources, Error, PageRequest, SearchRequest, SearchService, Sort, SourcePart, SourcesResponse,
    MAX_WINDOW,
};
use proptest::prelude::*;

use crate::search::{all_principals, brute_force, build_random, steps, Expected, QUERIES};

/// One source under test: its name, index directory and service.
struct Site {
    name: &'static str,
    _dir: tempfile::TempDir,
    reader: IndexReader,
    service: SearchService,
}

fn site(name: &'static str, steps: &[crate::search::Step]) -> Site {
    let dir = build_random(steps);
    let reader = IndexReader::open(dir.path()).expect("reader");
    let service = SearchService::new(IndexReader::open(dir.path()).expect("reader"));
    Site { name, _dir: dir, reader, service }
}

fn parts<'a>(sites: &'a [Site], principals: &'a [Principal]) -> Vec<SourcePart<'a>> {
    sites
        .iter()
        .map(|s| SourcePart { name: s.name, service: Some(&s.service), principals: Some(principals) })
        .collect()
}

fn request(query: &str, sort: Sort, page: PageRequest) -> SearchRequest {
    SearchRequest { sort, page, ..SearchRequest::new(query) }
}

/// (source, id) of every hit.
fn keys(response: &SourcesResponse) -> Vec<(String, String)> {
    response.hits.iter().map(|h| (h.source.clone(), h.hit.id.clone())).collect()
}

/// Follows cursors from the first page to the last.
fn walk(
    parts: &[SourcePart<'_>],
    only: &[String],
    query: &str,
    sort: Sort,
    limit: usize,
) -> Vec<SourcesResponse> {
    let mut pages =
        vec![search_sources(parts, only, &request(query, sort, PageRequest::Offset { offset: 0, limit }))
            .expect("first page")];
    while let Some(cursor) = pages.last().unwrap().next_cursor.clone() {
        assert!(pages.len() < 10_000, "cursor paging does not end");
        let page = search_sources(parts, only, &request(query, sort, PageRequest::Cursor { cursor, limit }))
            .expect("next page");
        pages.push(page);
    }
    pages
}

/// The merged order's sort key of a hit: the score (ranked by it) or the time, larger first.
fn sort_key(hit: &permdex::search::SourceHit, by_score: bool) -> i64 {
    if by_score {
        // Scores are positive: their bits order as they do.
        i64::from(hit.hit.score.to_bits())
    } else {
        hit.hit.updated.map_or(i64::MIN, |t| t.timestamp_millis())
    }
}

fn check_merged(
    sites: &[Site],
    principals: &[Principal],
    query: &str,
    sort: Sort,
    limit: usize,
) -> Result<(), TestCaseError> {
    let parts = parts(sites, principals);
    let mut expected: BTreeMap<(String, String), &Expected> = BTreeMap::new();
    let answers: Vec<_> = sites
        .iter()
        .map(|s| brute_force(&s.reader, &s.reader.acl().caller(principals.iter()), query))
        .collect();
    for (site, answer) in sites.iter().zip(&answers) {
        for (id, e) in answer {
            expected.insert((site.name.to_owned(), id.clone()), e);
        }
    }

    let pages = walk(&parts, &[], query, sort, limit);
    let mut per_source: Vec<(String, u64)> = sites
        .iter()
        .zip(&answers)
        .filter(|(_, answer)| !answer.is_empty())
        .map(|(site, answer)| (site.name.to_owned(), answer.len() as u64))
        .collect();
    per_source.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    prop_assert_eq!(&pages[0].per_source, &per_source, "matches per source");
    let mut seen = Vec::new();
    for page in &pages {
        prop_assert_eq!(page.total as usize, expected.len(), "every page counts every source");
        prop_assert!(page.hits.len() <= limit);
        prop_assert!(!page.hits.is_empty() || pages.len() == 1, "a cursor led to an empty page");
        seen.extend(page.hits.iter().cloned());
    }
    let found: Vec<(String, String)> = seen.iter().map(|h| (h.source.clone(), h.hit.id.clone())).collect();
    let unique: BTreeSet<_> = found.iter().cloned().collect();
    prop_assert_eq!(unique.len(), found.len(), "no hit twice across pages");
    prop_assert_eq!(
        &unique,
        &expected.keys().cloned().collect::<BTreeSet<_>>(),
        "every visible hit, nothing else"
    );

    // Merged order: key, then id hash, then source name, then id, strictly.
    let by_score = sort == Sort::Relevance && !query.trim().is_empty();
    for pair in seen.windows(2) {
        let rank = |h: &permdex::search::SourceHit| {
            (std::cmp::Reverse(sort_key(h, by_score)), id_hash(&h.hit.id), h.source.clone(), h.hit.id.clone())
        };
        prop_assert!(
            rank(&pair[0]) < rank(&pair[1]),
            "out of order: {:?} then {:?}",
            rank(&pair[0]),
            rank(&pair[1])
        );
    }
    // Each source's hits come in that source's own order (its own search, checked against brute force
    // in `search::acl_filter_equals_brute_force`).
    for site in sites {
        let caller = site.service.acl().caller(principals.iter());
        let mut own = Vec::new();
        let mut offset = 0;
        loop {
            let page = site
                .service
                .search(&caller, &request(query, sort, PageRequest::Offset { offset, limit: 100 }))
                .expect("own search");
            own.extend(page.hits.iter().map(|h| h.id.clone()));
            offset += 100;
            if page.next_cursor.is_none() {
                break;
            }
        }
        let merged: Vec<String> =
            found.iter().filter(|(source, _)| source == site.name).map(|(_, id)| id.clone()).collect();
        prop_assert_eq!(merged, own, "{}'s hits in its own order", site.name);
    }

    // Offset paging and one large request give the same sequence.
    let mut by_offset = Vec::new();
    for offset in (0..expected.len().min(MAX_MERGED_WINDOW - limit)).step_by(limit) {
        let page = search_sources(&parts, &[], &request(query, sort, PageRequest::Offset { offset, limit }))
            .expect("offset page");
        by_offset.extend(keys(&page));
    }
    prop_assert_eq!(&by_offset[..], &found[..by_offset.len()], "offset and cursor paging differ");
    let large =
        search_sources(&parts, &[], &request(query, sort, PageRequest::Offset { offset: 0, limit: 100 }))
            .expect("one large page");
    prop_assert_eq!(&keys(&large)[..], &found[..large.hits.len()], "one large page differs");
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn merged_paging_equals_brute_force(
        acme in steps(),
        beta in steps(),
        alike in any::<bool>(),
        holds in prop::collection::vec(any::<bool>(), 8),
        query in 0..QUERIES.len(),
        limit in 1usize..9,
        by_date in any::<bool>(),
    ) {
        // Listed out of name order: the merge orders sources by name whatever order they come in.
        let sites = [site("beta", if alike { &acme } else { &beta }), site("acme", &acme)];
        let principals: Vec<Principal> =
            all_principals().into_iter().zip(&holds).filter(|(_, &h)| h).map(|(p, _)| p).collect();
        let sort = if by_date { Sort::Updated } else { Sort::Relevance };
        check_merged(&sites, &principals, QUERIES[query], sort, limit)?;
    }
}

/// Two alike sources (every document ties with its twin), everyone's principals.
fn twins() -> ([Site; 2], Vec<Principal>) {
    use crate::search::{RandomDoc, Step};
    let docs = (0..40)
        .map(|n| RandomDoc {
            profile: n % 4,
            words: vec![n % 5, (n / 5) % 5],
            space: n % 3,
            day: (n % 7) as i64,
            jira: n % 2 == 0,
        })
        .collect();
    let steps = vec![Step::Add(docs)];
    ([site("acme", &steps), site("beta", &steps)], all_principals())
}

fn cursor_of(response: &SourcesResponse) -> String {
    response.next_cursor.clone().expect("a next page")
}

#[test]
fn cursors_from_elsewhere_or_garbled_are_refused() {
    let (sites, everyone) = twins();
    let parts = parts(&sites, &everyone);
    let first = |query: &str, only: &[String]| {
        search_sources(
            &parts,
            only,
            &request(query, Sort::Relevance, PageRequest::Offset { offset: 0, limit: 3 }),
        )
        .expect("first page")
    };
    let next = |query: &str, only: &[String], cursor: String| {
        search_sources(
            &parts,
            only,
            &request(query, Sort::Relevance, PageRequest::Cursor { cursor, limit: 3 }),
        )
    };
    let cursor = cursor_of(&first("alpha", &[]));
    assert!(next("alpha", &[], cursor.clone()).is_ok());
    let acme = vec!["acme".to_owned()];
    let own = sites[0].service.acl().caller(everyone.iter());
    let one_index = sites[0]
        .service
        .search(&own, &request("alpha", Sort::Relevance, PageRequest::Offset { offset: 0, limit: 3 }))
        .expect("one index")
        .next_cursor
        .expect("a next page");
    let mut flipped = cursor.clone().into_bytes();
    flipped[10] = if flipped[10] == b'A' { b'B' } else { b'A' };
    let refused = [
        next("beta", &[], cursor.clone()),
        next("alpha", &acme, cursor.clone()),
        next("alpha", &[], cursor_of(&first("alpha", &acme))),
        next("alpha", &[], one_index),
        next("alpha", &[], String::from_utf8(flipped).unwrap()),
        next("alpha", &[], "garbage!".into()),
        next("alpha", &[], format!("{cursor}x")),
    ];
    for result in refused {
        assert!(matches!(result, Err(Error::BadCursor)), "{result:?}");
    }
    // And a cursor across sources is not one index's.
    let result = sites[0]
        .service
        .search(&own, &request("alpha", Sort::Relevance, PageRequest::Cursor { cursor, limit: 3 }));
    assert!(matches!(result, Err(Error::BadCursor)), "{result:?}");
}

#[test]
fn a_cursor_never_widens_what_its_sender_reads() {
    let (sites, everyone) = twins();
    let narrow = vec![Principal::User("u3".into())];
    let readable: BTreeSet<(String, String)> = sites
        .iter()
        .flat_map(|s| {
            let caller = s.reader.acl().caller(narrow.iter());
            brute_force(&s.reader, &caller, "alpha OR beta OR gamma")
                .into_keys()
                .map(|id| (s.name.to_owned(), id))
        })
        .collect();
    assert!(!readable.is_empty(), "the narrow caller reads something");
    let wide_parts = parts(&sites, &everyone);
    let narrow_parts = parts(&sites, &narrow);
    let query = "alpha OR beta OR gamma";
    let wide = search_sources(
        &wide_parts,
        &[],
        &request(query, Sort::Relevance, PageRequest::Offset { offset: 0, limit: 2 }),
    )
    .expect("wide first page");
    // The wide caller's cursor, and forged ones: with the search's fingerprint, any key, id and source.
    let wire: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(cursor_of(&wide)).expect("base64")).expect("json");
    let forge = |key: u64, id: &str, source: &str| {
        let mut forged = wire.clone();
        forged["key"] = key.into();
        forged["id"] = id.into();
        forged["source"] = source.into();
        URL_SAFE_NO_PAD.encode(forged.to_string())
    };
    let cursors = [
        cursor_of(&wide),
        forge(u64::MAX, "d:0000", "acme"),
        forge(u64::MAX, "\u{0}", "nope"),
        forge(0, "zzz", ""),
        forge(1 << 63, "d:0003", "beta"),
    ];
    for cursor in cursors {
        let mut shown = Vec::new();
        let mut page = search_sources(
            &narrow_parts,
            &[],
            &request(query, Sort::Relevance, PageRequest::Cursor { cursor, limit: 5 }),
        )
        .expect("a forged position is only a position");
        loop {
            shown.extend(keys(&page));
            let Some(cursor) = page.next_cursor.clone() else { break };
            page = search_sources(
                &narrow_parts,
                &[],
                &request(query, Sort::Relevance, PageRequest::Cursor { cursor, limit: 5 }),
            )
            .expect("next page");
        }
        for hit in &shown {
            assert!(readable.contains(hit), "{hit:?} is not the narrow caller's to read");
        }
    }
}

#[test]
fn a_source_that_leaves_between_pages_is_left_at_the_same_place() {
    let (sites, everyone) = twins();
    let both = parts(&sites, &everyone);
    let query = "alpha OR beta";
    let all: Vec<(String, String)> =
        walk(&both, &[], query, Sort::Relevance, 7).iter().flat_map(keys).collect();
    let first = search_sources(
        &both,
        &[],
        &request(query, Sort::Relevance, PageRequest::Offset { offset: 0, limit: 7 }),
    )
    .expect("first page");
    // beta stops being served (withheld, say): the next pages are acme's hits after the same position.
    let mut acme_only = both.clone();
    acme_only[1].service = None;
    let mut rest = Vec::new();
    let mut cursor = first.next_cursor.clone();
    while let Some(c) = cursor {
        let page = search_sources(
            &acme_only,
            &[],
            &request(query, Sort::Relevance, PageRequest::Cursor { cursor: c, limit: 7 }),
        )
        .expect("next page");
        rest.extend(keys(&page));
        cursor = page.next_cursor;
    }
    let want: Vec<(String, String)> =
        all[7..].iter().filter(|(source, _)| source == "acme").cloned().collect();
    assert_eq!(rest, want);
}

#[test]
fn offset_paging_is_bounded_and_never_overflows() {
    let (sites, everyone) = twins();
    let both = parts(&sites, &everyone);
    let one = &both[..1];
    let at = |parts: &[SourcePart<'_>], offset: usize, limit: usize| {
        search_sources(parts, &[], &request("alpha", Sort::Relevance, PageRequest::Offset { offset, limit }))
    };
    assert!(at(&both, MAX_MERGED_WINDOW - 10, 10).is_ok());
    assert!(at(one, MAX_WINDOW - 10, 10).is_ok(), "one source pages as deep as one index");
    for (parts, offset, limit) in [
        (&both[..], MAX_MERGED_WINDOW - 9, 10),
        (&both[..], usize::MAX, 10),
        (&both[..], usize::MAX - 50, 100),
        (one, MAX_WINDOW - 9, 10),
        (one, usize::MAX, 1),
    ] {
        let result = at(parts, offset, limit);
        assert!(
            matches!(&result, Err(Error::BadRequest(m)) if m.contains("next_cursor")),
            "{offset} + {limit}: {result:?}"
        );
    }
    for limit in [0, 101] {
        assert!(matches!(at(&both, 0, limit), Err(Error::BadRequest(_))), "limit {limit}");
    }
}
