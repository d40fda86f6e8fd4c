//! The search library end to end on real on-disk indexes: the query language, filters, sorting, paging,
//! snippets, and above all the ACL property — for random indexes and callers, every hit, total and facet
//! count equals a brute-force "allowed ∧ matches" computation, under both filter strategies — and the
//! caches staying correct across commits, deletes, merges and permission changes.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use permdex::acl::{AclStore, CallerPrincipals, ClauseKey, Principal, ProfileId};
use permdex::index::{id_hash, IndexDoc, IndexReader, IndexWriter, Kind, Product};
use permdex::search::query::{self, parse, QueryBuilder};
use permdex::search::{
    Error, Facets, Filters, PageRequest, SearchOptions, SearchRequest, SearchResponse, SearchService, Sort,
    StrategyChoice,
};
use proptest::prelude::*;
use tantivy::collector::DocSetCollector;
use tantivy::schema::Value;
use tantivy::TantivyDocument;

fn at(day: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + day * 86_400, 0).single().expect("valid time")
}

fn user(s: &str) -> Principal {
    Principal::User(s.into())
}
fn group(s: &str) -> Principal {
    Principal::Group(s.into())
}

fn service_with(dir: &Path, strategy: StrategyChoice) -> SearchService {
    let reader = IndexReader::open(dir).expect("open reader");
    SearchService::with_options(reader, SearchOptions { strategy, ..SearchOptions::default() })
}

fn request(query: &str) -> SearchRequest {
    let mut r = SearchRequest::new(query);
    r.page = PageRequest::Offset { offset: 0, limit: 100 };
    r
}

fn ids(response: &SearchResponse) -> Vec<String> {
    response.hits.iter().map(|h| h.id.clone()).collect()
}

fn id_set(response: &SearchResponse) -> BTreeSet<String> {
    response.hits.iter().map(|h| h.id.clone()).collect()
}

// ---------------------------------------------------------------------------------------------------------
// A small hand-made corpus for the language, filters, sorting and snippets.

struct Corpus {
    _dir: tempfile::TempDir,
    service: SearchService,
    public: CallerPrincipals,
}

fn doc(
    id: &str,
    source: Product,
    kind: Kind,
    profile: ProfileId,
    day: i64,
    title: &str,
    body: &str,
) -> IndexDoc {
    let mut d = IndexDoc::new(id, source, kind, profile);
    d.title = title.into();
    d.body = body.into();
    d.updated = at(day);
    d.url = format!("https://example.atlassian.net/{id}");
    d
}

fn corpus() -> Corpus {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acl = AclStore::default();
    let open = acl.set_clause(ClauseKey("open".into()), &[Principal::Anyone]);
    let secret = acl.set_clause(ClauseKey("secret".into()), &[group("admins")]);
    let public = acl.profile(&[open]);
    let hidden = acl.profile(&[open, secret]);
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let mut docs = vec![
        doc(
            "c:1",
            Product::Confluence,
            Kind::Page,
            public,
            1,
            "Kafka broker setup",
            "How to run a kafka broker on disk",
        ),
        doc(
            "c:2",
            Product::Confluence,
            Kind::Page,
            public,
            2,
            "Disk full alerts",
            "When the disk is full the broker stops",
        ),
        doc(
            "c:3",
            Product::Confluence,
            Kind::Blogpost,
            public,
            3,
            "Release notes",
            "Kafka upgrade and zookeeper removal",
        ),
        doc(
            "c:4",
            Product::Confluence,
            Kind::Comment,
            public,
            4,
            "Re: Release notes",
            "Thanks, see HADOOP-1234 for the fix",
        ),
        doc(
            "j:1",
            Product::Jira,
            Kind::Issue,
            public,
            5,
            "HADOOP-1234 broker crash",
            "Broker crashes when disk full",
        ),
        doc(
            "j:2",
            Product::Jira,
            Kind::Issue,
            public,
            6,
            "HADOOP-12345 unrelated",
            "Nothing about brokers here",
        ),
        doc("j:3", Product::Jira, Kind::Issue, hidden, 7, "Secret kafka plan", "kafka kafka kafka broker"),
        doc(
            "c:5",
            Product::Confluence,
            Kind::Page,
            public,
            8,
            "Escaping <script> & \"quotes\"",
            "a kafka claim in <b>bold</b> & more",
        ),
    ];
    for d in &mut docs {
        match d.id.as_str() {
            "c:1" | "c:2" | "c:5" => d.space = Some("ENG".into()),
            "c:3" | "c:4" => d.space = Some("OPS".into()),
            _ => d.project = Some("HADOOP".into()),
        }
    }
    docs[0].labels = vec!["howto".into(), "kafka".into()];
    docs[1].labels = vec!["alerts".into()];
    docs[4].labels = vec!["alerts".into(), "crash".into()];
    docs[0].author = Some("acc-alice".into());
    docs[0].author_name = Some("Alice Ångström".into());
    docs[4].author_name = Some("Bob Builder".into());
    for d in &docs {
        writer.upsert(d).expect("upsert");
    }
    writer.commit(&acl, b"").expect("commit");
    let service = service_with(dir.path(), StrategyChoice::Auto);
    let public = service.acl().caller(&[Principal::Anyone, user("carol")]);
    Corpus { _dir: dir, service, public }
}

#[test]
fn query_language_matches_what_it_says() {
    let c = corpus();
    let cases: &[(&str, &[&str])] = &[
        ("kafka", &["c:1", "c:3", "c:5"]),
        ("KAFKA", &["c:1", "c:3", "c:5"]),
        ("brokers", &["c:1", "c:2", "j:1", "j:2"]),
        // Bare words are a bag: any of them matches.
        ("kafka broker", &["c:1", "c:2", "c:3", "c:5", "j:1", "j:2"]),
        ("broker broker kafka", &["c:1", "c:2", "c:3", "c:5", "j:1", "j:2"]),
        ("+kafka broker", &["c:1", "c:3", "c:5"]),
        ("+kafka +broker", &["c:1"]),
        ("kafka AND broker", &["c:1"]),
        ("kafka OR zookeeper", &["c:1", "c:3", "c:5"]),
        ("disk OR zookeeper", &["c:1", "c:2", "c:3", "j:1"]),
        ("broker -disk", &["j:2"]),
        ("broker NOT disk", &["j:2"]),
        ("-kafka", &["c:2", "c:4", "j:1", "j:2"]),
        // Syntax filters: an OR group must match.
        ("(kafka OR disk) broker", &["c:1", "c:2", "c:3", "c:5", "j:1"]),
        ("kafka (broker OR upgrade)", &["c:1", "c:2", "c:3", "j:1", "j:2"]),
        ("\"disk full\"", &["c:2", "j:1"]),
        ("\"disk full\" kafka", &["c:2", "j:1"]),
        // Sentences: stop words go, and a dash is never a NOT.
        ("how do I fix a full disk?", &["c:1", "c:2", "c:4", "j:1"]),
        ("what is the broker -disk", &["c:1", "c:2", "j:1", "j:2"]),
        ("the", &["c:2", "c:4"]),
        // Syntax that does not parse is searched as words.
        ("\"disk", &["c:1", "c:2", "j:1"]),
        ("(release notes", &["c:3", "c:4"]),
        ("title:", &[]),
        ("\"full disk\"", &[]),
        ("title:kafka", &["c:1"]),
        ("title:(release OR crash)", &["c:3", "c:4", "j:1"]),
        ("space:ENG", &["c:1", "c:2", "c:5"]),
        ("space:eng", &[]),
        ("project:HADOOP", &["j:1", "j:2"]),
        ("kind:blogpost", &["c:3"]),
        ("kind:issue -crash", &["j:2"]),
        ("label:alerts", &["c:2", "j:1"]),
        ("label:\"kafka\"", &["c:1"]),
        ("author:acc-alice", &["c:1"]),
        ("author:angstrom", &["c:1"]),
        ("author:\"bob builder\"", &["j:1"]),
        ("product:jira", &["j:1", "j:2"]),
        ("product:jira OR space:OPS", &["c:3", "c:4", "j:1", "j:2"]),
        ("HADOOP-1234", &["c:4", "j:1"]),
        ("HADOOP-12345", &["j:2"]),
        ("hadoop-1234", &["c:4", "j:1"]),
        ("!!!", &[]),
        ("", &["c:1", "c:2", "c:3", "c:4", "c:5", "j:1", "j:2"]),
    ];
    for (query, want) in cases {
        let got = c.service.search(&c.public, &request(query)).unwrap_or_else(|e| panic!("{query:?}: {e}"));
        let want: BTreeSet<String> = want.iter().map(|s| s.to_string()).collect();
        assert_eq!(id_set(&got), want, "query {query:?}");
        assert_eq!(got.total as usize, want.len(), "total of {query:?}");
    }
    // Documents holding more of the words rank first.
    for query in ["kafka broker", "how do I fix a full disk?"] {
        let got = c.service.search(&c.public, &request(query)).unwrap();
        let first = &got.hits[0].id;
        assert!(["c:1", "c:2", "j:1"].contains(&first.as_str()), "{query:?} ranks {first} first");
    }
    assert_eq!(ids(&c.service.search(&c.public, &request("kafka broker")).unwrap())[0], "c:1");
}

#[test]
fn bad_queries_and_requests_are_errors_not_panics() {
    let c = corpus();
    let too_long = "kafka ".repeat(query::MAX_QUERY_CHARS / 6 + 1);
    let too_many: Vec<String> = (0..=query::MAX_TERMS).map(|i| format!("w{i}")).collect();
    for query in [too_long, too_many.join(" ")] {
        match c.service.search(&c.public, &request(&query)) {
            Err(Error::BadQuery { message, .. }) => {
                assert!(message.contains("too long") || message.contains("too many"), "{message}")
            }
            other => panic!("{} gave {other:?}", &query[..30]),
        }
    }
    // Bad syntax is never an error: its words are searched.
    for query in ["\"open", "a (b", "a)", "OR", "title:", "a AND", "((((", "+", "-"] {
        assert!(c.service.search(&c.public, &request(query)).is_ok(), "{query:?}");
    }
    let bad_pages = [
        PageRequest::Offset { offset: 0, limit: 0 },
        PageRequest::Offset { offset: 0, limit: 101 },
        PageRequest::Offset { offset: 9_990, limit: 20 },
    ];
    for page in bad_pages {
        let mut r = request("kafka");
        r.page = page.clone();
        assert!(matches!(c.service.search(&c.public, &r), Err(Error::BadRequest(_))), "{page:?}");
    }
    let mut r = request("kafka");
    r.page = PageRequest::Cursor { cursor: "garbage".into(), limit: 5 };
    assert!(matches!(c.service.search(&c.public, &r), Err(Error::BadCursor)));
}

#[test]
fn hidden_documents_never_show_and_admins_see_them() {
    let c = corpus();
    let admin = c.service.acl().caller(&[Principal::Anyone, group("admins")]);
    let mut r = request("kafka");
    r.facets = true;
    let public = c.service.search(&c.public, &r).expect("search");
    let full = c.service.search(&admin, &r).expect("search");
    assert!(!id_set(&public).contains("j:3"));
    assert!(id_set(&full).contains("j:3"));
    assert_eq!(full.total, public.total + 1);
    let facets = public.facets.expect("facets");
    assert!(!facets.product.iter().any(|(s, _)| s == "jira"), "{facets:?}");
    let nobody = c.service.acl().caller(&[user("stranger")]);
    let none = c.service.search(&nobody, &r).expect("search");
    assert_eq!((none.total, none.hits.len()), (0, 0));
    assert_eq!(none.facets, Some(Facets::default()));
}

#[test]
fn filters_narrow_and_combine() {
    let c = corpus();
    let run = |filters: Filters| {
        let mut r = request("");
        r.filters = filters;
        id_set(&c.service.search(&c.public, &r).expect("search"))
    };
    let set = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();
    let s = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let cases: Vec<(Filters, BTreeSet<String>)> = vec![
        (Filters { products: s(&["jira"]), ..Filters::default() }, set(&["j:1", "j:2"])),
        (
            Filters { kinds: s(&["page", "blogpost"]), ..Filters::default() },
            set(&["c:1", "c:2", "c:3", "c:5"]),
        ),
        (Filters { spaces: s(&["OPS"]), ..Filters::default() }, set(&["c:3", "c:4"])),
        (Filters { projects: s(&["HADOOP"]), ..Filters::default() }, set(&["j:1", "j:2"])),
        (Filters { labels: s(&["alerts", "howto"]), ..Filters::default() }, set(&["c:1", "c:2", "j:1"])),
        (Filters { labels: s(&["alerts"]), products: s(&["jira"]), ..Filters::default() }, set(&["j:1"])),
        (Filters { spaces: s(&["NOPE"]), ..Filters::default() }, set(&[])),
        (
            Filters { updated_from: Some(at(3)), updated_to: Some(at(5)), ..Filters::default() },
            set(&["c:3", "c:4", "j:1"]),
        ),
        (Filters { updated_from: Some(at(8)), ..Filters::default() }, set(&["c:5"])),
        (Filters { updated_to: Some(at(1)), ..Filters::default() }, set(&["c:1"])),
        (Filters { updated_from: Some(at(5)), updated_to: Some(at(4)), ..Filters::default() }, set(&[])),
    ];
    for (filters, want) in cases {
        assert_eq!(run(filters.clone()), want, "{filters:?}");
    }
}

#[test]
fn sort_by_updated_is_newest_first_and_relevance_ranks_by_score() {
    let c = corpus();
    let mut r = request("kafka OR broker OR disk");
    r.sort = Sort::Updated;
    let by_date = c.service.search(&c.public, &r).expect("search");
    let times: Vec<_> = by_date.hits.iter().map(|h| h.updated.expect("updated")).collect();
    assert!(times.windows(2).all(|w| w[0] > w[1]), "{times:?}");
    assert_eq!(ids(&by_date)[0], "c:5");
    r.sort = Sort::Relevance;
    let by_score = c.service.search(&c.public, &r).expect("search");
    let scores: Vec<f32> = by_score.hits.iter().map(|h| h.score).collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]) && scores[0] > 0.0, "{scores:?}");
    assert_eq!(id_set(&by_date), id_set(&by_score));
    // Browsing has no relevance: newest first.
    let browse = c.service.search(&c.public, &request("")).expect("search");
    assert_eq!(ids(&browse), ["c:5", "j:2", "j:1", "c:4", "c:3", "c:2", "c:1"]);
}

#[test]
fn snippets_mark_matches_and_escape_html() {
    let c = corpus();
    let mut r = request("kafka");
    r.snippets = true;
    let response = c.service.search(&c.public, &r).expect("search");
    let hit = response.hits.iter().find(|h| h.id == "c:5").expect("c:5 found");
    assert_eq!(hit.title_html, "Escaping &lt;script&gt; &amp; &quot;quotes&quot;");
    let snippet = hit.snippet_html.as_deref().expect("snippet");
    assert!(snippet.contains("<mark>kafka</mark>"), "{snippet}");
    assert!(snippet.contains("&lt;b&gt;bold&lt;/b&gt;") && !snippet.contains("<b>"), "{snippet}");
    let broker = response.hits.iter().find(|h| h.id == "c:1").expect("c:1 found");
    assert_eq!(broker.title_html, "<mark>Kafka</mark> broker setup");
    // Without the flag there is no snippet.
    let plain = c.service.search(&c.public, &request("kafka")).expect("search");
    assert!(plain.hits.iter().all(|h| h.snippet_html.is_none()));
}

#[test]
fn facets_count_visible_matches() {
    let c = corpus();
    let mut r = request("broker OR kafka");
    r.facets = true;
    let facets = c.service.search(&c.public, &r).expect("search").facets.expect("facets");
    let pairs = |v: &[(&str, u64)]| v.iter().map(|(s, n)| (s.to_string(), *n)).collect::<Vec<_>>();
    assert_eq!(facets.product, pairs(&[("confluence", 4), ("jira", 2)]));
    assert_eq!(facets.kind, pairs(&[("page", 3), ("issue", 2), ("blogpost", 1)]));
    assert_eq!(facets.space, pairs(&[("ENG", 3), ("OPS", 1)]));
    assert_eq!(facets.project, pairs(&[("HADOOP", 2)]));
}

// ---------------------------------------------------------------------------------------------------------
// Random indexes: the ACL property and paging.

pub(crate) const WORDS: &[&str] = &["alpha", "beta", "gamma", "delta", "omega"];
const SPACES: &[&str] = &["A", "B", "C"];

#[derive(Debug, Clone)]
pub(crate) struct RandomDoc {
    pub(crate) profile: usize,
    pub(crate) words: Vec<usize>,
    pub(crate) space: usize,
    pub(crate) day: i64,
    pub(crate) jira: bool,
}

#[derive(Debug, Clone)]
pub(crate) enum Step {
    Add(Vec<RandomDoc>),
    Delete(Vec<usize>),
}

fn random_doc() -> impl Strategy<Value = RandomDoc> {
    (0usize..7, prop::collection::vec(0usize..WORDS.len(), 1..6), 0usize..3, 0i64..20, any::<bool>())
        .prop_map(|(profile, words, space, day, jira)| RandomDoc { profile, words, space, day, jira })
}

pub(crate) fn steps() -> impl Strategy<Value = Vec<Step>> {
    let step = prop_oneof![
        3 => prop::collection::vec(random_doc(), 1..30).prop_map(Step::Add),
        1 => prop::collection::vec(0usize..200, 1..8).prop_map(Step::Delete),
    ];
    prop::collection::vec(step, 1..6)
}

/// Principals: u0..u3, g0..g2, anyone. Clauses and profiles (index = profile choice in RandomDoc):
/// 0 public, 1 g0, 2 g1 ∧ u-restriction(u0|u1), 3 g2, 4 NOBODY, 5 unknown to the store, 6 g0 ∧ g1.
fn random_acl() -> (AclStore, Vec<ProfileId>) {
    let mut acl = AclStore::default();
    let public = acl.set_clause(ClauseKey("public".into()), &[Principal::Anyone]);
    let g0 = acl.set_clause(ClauseKey("g0".into()), &[group("g0")]);
    let g1 = acl.set_clause(ClauseKey("g1".into()), &[group("g1")]);
    let g2 = acl.set_clause(ClauseKey("g2".into()), &[group("g2"), user("u3")]);
    let restricted = acl.set_clause(ClauseKey("restr".into()), &[user("u0"), user("u1")]);
    let profiles = vec![
        acl.profile(&[public]),
        acl.profile(&[g0]),
        acl.profile(&[g1, restricted]),
        acl.profile(&[g2]),
        AclStore::NOBODY,
        ProfileId(10_000),
        acl.profile(&[g0, g1]),
    ];
    (acl, profiles)
}

pub(crate) fn all_principals() -> Vec<Principal> {
    vec![
        user("u0"),
        user("u1"),
        user("u2"),
        user("u3"),
        group("g0"),
        group("g1"),
        group("g2"),
        Principal::Anyone,
    ]
}

/// Builds the index with one commit per step; returns the dir.
pub(crate) fn build_random(steps: &[Step]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let (acl, profiles) = random_acl();
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let mut next = 0usize;
    for step in steps {
        match step {
            Step::Add(docs) => {
                for d in docs {
                    let source = if d.jira { Product::Jira } else { Product::Confluence };
                    let kind = if d.jira { Kind::Issue } else { Kind::Page };
                    let mut doc = IndexDoc::new(format!("d:{next:04}"), source, kind, profiles[d.profile]);
                    doc.body = d.words.iter().map(|&w| WORDS[w]).collect::<Vec<_>>().join(" ");
                    doc.title = WORDS[d.words[0]].to_string();
                    doc.updated = at(d.day);
                    if d.jira {
                        doc.project = Some(SPACES[d.space].into());
                    } else {
                        doc.space = Some(SPACES[d.space].into());
                    }
                    writer.upsert(&doc).expect("upsert");
                    next += 1;
                }
            }
            Step::Delete(which) => {
                for &w in which {
                    writer.delete(&format!("d:{:04}", w % next.max(1)));
                }
            }
        }
        writer.commit(&acl, b"").expect("commit");
    }
    writer.close().expect("close");
    dir
}

/// What the brute force knows of one visible match.
pub(crate) struct Expected {
    pub(crate) score: f32,
    pub(crate) updated: i64,
    source: String,
    space: Option<String>,
    project: Option<String>,
}

/// The brute-force answer, computed without the search module's ACL code: every match of the query (tantivy,
/// unfiltered, test-only), kept when the store says the caller may read its profile. Returns
/// id → (score, updated millis, source, space-or-project).
pub(crate) fn brute_force(
    reader: &IndexReader,
    caller: &CallerPrincipals,
    query: &str,
) -> BTreeMap<String, Expected> {
    let ast = parse(query).expect("valid query");
    let tantivy_query = QueryBuilder::new(reader.index(), *reader.fields()).expect("builder").build(&ast);
    let allowed = reader.acl().allowed_profiles(caller);
    let searcher = reader.searcher();
    let f = reader.fields();
    let matches = searcher.search(tantivy_query.as_ref(), &DocSetCollector).expect("search");
    let mut scores = BTreeMap::new();
    if !matches.is_empty() {
        let top = tantivy::collector::TopDocs::with_limit(matches.len()).order_by_score();
        for (score, address) in searcher.search(tantivy_query.as_ref(), &top).expect("search") {
            scores.insert(address, score);
        }
    }
    let mut out = BTreeMap::new();
    for address in matches {
        let stored: TantivyDocument = searcher.doc(address).expect("stored doc");
        let profile = stored.get_first(f.acl_profile).and_then(|v| v.as_u64()).expect("profile");
        if !u32::try_from(profile).is_ok_and(|p| allowed.contains(p)) {
            continue;
        }
        let text = |field| stored.get_first(field).and_then(|v| v.as_str().map(str::to_string));
        let updated = stored.get_first(f.updated).and_then(|v| v.as_datetime()).expect("updated");
        out.insert(
            text(f.id).expect("id"),
            Expected {
                score: scores.get(&address).copied().unwrap_or(0.0),
                updated: updated.into_timestamp_millis(),
                source: text(f.source).expect("source"),
                space: text(f.space),
                project: text(f.project),
            },
        );
    }
    out
}

fn facet_map(list: &[(String, u64)]) -> BTreeMap<String, u64> {
    list.iter().cloned().collect()
}

/// Pages through every hit with cursors; checks each page against the brute force as it goes.
fn check_search(
    service: &SearchService,
    reader: &IndexReader,
    caller: &CallerPrincipals,
    query: &str,
    sort: Sort,
    limit: usize,
) -> Result<(), TestCaseError> {
    let expected = brute_force(reader, caller, query);
    let mut r = request(query);
    r.sort = sort;
    r.facets = true;
    r.page = PageRequest::Offset { offset: 0, limit };
    let first = service.search(caller, &r).expect("search");
    prop_assert_eq!(
        first.total as usize,
        expected.len(),
        "total for {:?} ({:?}): {:?} vs {:?}",
        query,
        service,
        ids(&first),
        expected.keys().collect::<Vec<_>>()
    );

    // Facets: exactly the brute-force counts.
    let facets = first.facets.clone().expect("facets");
    let mut want_source = BTreeMap::new();
    let mut want_space = BTreeMap::new();
    let mut want_project = BTreeMap::new();
    for e in expected.values() {
        *want_source.entry(e.source.clone()).or_insert(0u64) += 1;
        if let Some(s) = &e.space {
            *want_space.entry(s.clone()).or_insert(0u64) += 1;
        }
        if let Some(p) = &e.project {
            *want_project.entry(p.clone()).or_insert(0u64) += 1;
        }
    }
    prop_assert_eq!(facet_map(&facets.product), want_source);
    prop_assert_eq!(facet_map(&facets.space), want_space);
    prop_assert_eq!(facet_map(&facets.project), want_project);

    // The first page is the best `limit` of the brute force, by the same order: ties go to the lower id
    // hash, then the lower id.
    let rank_by_score = sort == Sort::Relevance && !query.trim().is_empty();
    let mut order: Vec<(&String, f32, i64)> =
        expected.iter().map(|(id, e)| (id, e.score, e.updated)).collect();
    let tie = |a: &(&String, f32, i64), b: &(&String, f32, i64)| {
        id_hash(a.0).cmp(&id_hash(b.0)).then_with(|| a.0.cmp(b.0))
    };
    if rank_by_score {
        order.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| tie(a, b)));
        for (hit, want) in first.hits.iter().zip(&order) {
            prop_assert!(
                (hit.score - want.1).abs() <= 1e-3 * want.1.max(1.0),
                "score {} vs {}",
                hit.score,
                want.1
            );
        }
    } else {
        order.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| tie(a, b)));
        let got: Vec<&String> = first.hits.iter().map(|h| &h.id).collect();
        let want: Vec<&String> = order.iter().take(limit).map(|o| o.0).collect();
        prop_assert_eq!(got, want);
    }
    prop_assert_eq!(first.hits.len(), limit.min(expected.len()));

    // Cursor paging: every visible match once, nothing else, ordered.
    let mut seen: Vec<String> = ids(&first);
    let mut cursor = first.next_cursor.clone();
    let mut pages = 0;
    while let Some(c) = cursor {
        pages += 1;
        prop_assert!(pages <= expected.len() + 1, "cursor paging does not end");
        r.page = PageRequest::Cursor { cursor: c, limit };
        let page = service.search(caller, &r).expect("next page");
        prop_assert_eq!(page.total as usize, expected.len());
        prop_assert!(!page.hits.is_empty(), "a cursor led to an empty page");
        seen.extend(ids(&page));
        cursor = page.next_cursor;
    }
    // Offset paging gives the same sequence.
    let mut by_offset = Vec::new();
    for offset in (0..expected.len()).step_by(limit) {
        r.page = PageRequest::Offset { offset, limit };
        by_offset.extend(ids(&service.search(caller, &r).expect("offset page")));
    }
    prop_assert_eq!(&by_offset, &seen, "offset and cursor paging differ for {:?}", query);
    let unique: BTreeSet<String> = seen.iter().cloned().collect();
    prop_assert_eq!(unique.len(), seen.len(), "duplicates across pages for {:?}", query);
    let want: BTreeSet<String> = expected.keys().cloned().collect();
    prop_assert_eq!(unique, want, "paged hits for {:?}", query);
    Ok(())
}

pub(crate) const QUERIES: &[&str] = &[
    "alpha",
    "alpha OR beta",
    "alpha beta",
    "gamma -delta",
    "\"beta gamma\"",
    "",
    "alpha OR beta OR gamma OR omega",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn acl_filter_equals_brute_force(
        steps in steps(),
        callers in prop::collection::vec(prop::collection::vec(any::<bool>(), 8), 1..4),
        query in 0..QUERIES.len(),
        limit in 1usize..12,
        by_date in any::<bool>(),
    ) {
        let dir = build_random(&steps);
        let reader = IndexReader::open(dir.path()).expect("reader");
        let sort = if by_date { Sort::Updated } else { Sort::Relevance };
        for strategy in [StrategyChoice::Dense, StrategyChoice::Sparse, StrategyChoice::Auto] {
            let service = service_with(dir.path(), strategy);
            for holds in &callers {
                let principals: Vec<Principal> =
                    all_principals().into_iter().zip(holds).filter(|(_, &h)| h).map(|(p, _)| p).collect();
                let caller = reader.acl().caller(principals.iter());
                check_search(&service, &reader, &caller, QUERIES[query], sort, limit)?;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// `SearchService::document` shows a document exactly when browsing would list it for the caller:
    /// never a deleted one, one of an unknown profile, or one the caller may not read.
    #[test]
    fn a_document_is_shown_exactly_to_its_readers(
        steps in steps(),
        holds in prop::collection::vec(any::<bool>(), 8),
    ) {
        let dir = build_random(&steps);
        let reader = IndexReader::open(dir.path()).expect("reader");
        let service = service_with(dir.path(), StrategyChoice::Auto);
        let principals: Vec<Principal> =
            all_principals().into_iter().zip(&holds).filter(|(_, &h)| h).map(|(p, _)| p).collect();
        let caller = service.acl().caller(principals.iter());
        let readable = brute_force(&reader, &reader.acl().caller(principals.iter()), "");
        let added: usize = steps.iter().map(|s| if let Step::Add(docs) = s { docs.len() } else { 0 }).sum();
        for n in 0..added + 2 {
            let id = format!("d:{n:04}");
            let shown = service.document(&caller, &id).expect("document");
            prop_assert_eq!(shown.is_some(), readable.contains_key(&id), "{}", id);
            if let Some(document) = shown {
                prop_assert_eq!(&document.id, &id);
                prop_assert!(!document.body.is_empty());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Caches across commits, deletes, merges and permission changes.

#[test]
fn reload_after_commits_merges_and_acl_changes_is_never_stale() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acl = AclStore::default();
    let team = acl.set_clause(ClauseKey("team".into()), &[group("team")]);
    let open = acl.set_clause(ClauseKey("open".into()), &[Principal::Anyone]);
    let team_profile = acl.profile(&[team]);
    let open_profile = acl.profile(&[open]);
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let add = |writer: &mut IndexWriter, n: usize, profile: ProfileId| {
        let mut d = IndexDoc::new(format!("d:{n:03}"), Product::Confluence, Kind::Page, profile);
        d.body = "common words".into();
        d.updated = at(n as i64);
        writer.upsert(&d).expect("upsert");
    };
    for n in 0..4 {
        add(&mut writer, n, if n % 2 == 0 { team_profile } else { open_profile });
    }
    writer.commit(&acl, b"").expect("commit");

    let service = service_with(dir.path(), StrategyChoice::Auto);
    let member = service.acl().caller(&[group("team"), Principal::Anyone]);
    let outsider = service.acl().caller(&[Principal::Anyone]);
    let check = |service: &SearchService, member: &CallerPrincipals, outsider: &CallerPrincipals| {
        let reader = IndexReader::open(dir.path()).expect("reader");
        for caller in [member, outsider] {
            for query in ["common", ""] {
                let got = service.search(caller, &request(query)).expect("search");
                let want: BTreeSet<String> = brute_force(&reader, caller, query).into_keys().collect();
                assert_eq!(id_set(&got), want, "query {query:?}");
                assert_eq!(got.total as usize, want.len());
            }
        }
    };
    check(&service, &member, &outsider);
    assert_eq!(service.search(&member, &request("common")).expect("search").total, 4);

    // Many small commits (tantivy merges them in the background), upserts that replace, and deletes.
    let segment_ids = |reader: &IndexReader| -> BTreeSet<String> {
        reader.searcher().segment_readers().iter().map(|s| s.segment_id().uuid_string()).collect()
    };
    let mut seen_segments = BTreeSet::new();
    for n in 4..40 {
        add(&mut writer, n, if n % 3 == 0 { team_profile } else { open_profile });
        if n % 5 == 0 {
            writer.delete(&format!("d:{:03}", n - 3));
        }
        if n % 7 == 0 {
            add(&mut writer, n - 6, open_profile);
        }
        writer.commit(&acl, b"").expect("commit");
        seen_segments.extend(segment_ids(&IndexReader::open(dir.path()).expect("reader")));
        if n % 4 == 0 {
            service.reload().expect("reload");
            check(&service, &member, &outsider);
        }
    }
    writer.close().expect("wait for merges");
    service.reload().expect("reload");
    let reader = IndexReader::open(dir.path()).expect("reader");
    let live = segment_ids(&reader);
    assert!(
        live.len() < seen_segments.len() / 2,
        "merges happened: {} segments seen, {} live",
        seen_segments.len(),
        live.len()
    );
    check(&service, &member, &outsider);
    let stats = service.stats().acl_cache;
    assert!(stats.entries as usize <= 2 * live.len(), "dead segments dropped: {stats:?}");
    assert_eq!(stats.indexes as usize, live.len(), "one profile index per live segment: {stats:?}");

    // A permission change without touching documents: the team clause now names another group.
    let mut writer = IndexWriter::open(dir.path()).expect("reopen");
    acl.set_clause(ClauseKey("team".into()), &[group("other")]);
    writer.commit(&acl, b"").expect("commit");
    writer.close().expect("close");
    let before = service.search(&member, &request("common")).expect("search").total;
    service.reload().expect("reload");
    let member = service.acl().caller(&[group("team"), Principal::Anyone]);
    let after = service.search(&member, &request("common")).expect("search");
    let outsider_view = service.search(&outsider, &request("common")).expect("search");
    assert!(after.total < before, "team documents disappeared: {before} → {}", after.total);
    assert_eq!(id_set(&after), id_set(&outsider_view));
    check(&service, &member, &outsider);
}

/// Every cache a search keeps — a caller's profiles (worked out from the commit's inverted lists), each
/// segment's profile index (its alive documents grouped by profile, per segment version) and each
/// segment's allowed set (read from the profile postings or the profile index) — follows each kind of
/// permission change: a caller's group membership (no commit at all), a document re-pointed to a profile
/// made of a new clause (a commit), a clause rewritten in place (a commit, no document touched), and the
/// merge of every segment into one. After each, every caller's answers equal the brute force over the
/// commit as it is; a cache kept one step too long shows the previous step's answer.
#[test]
fn caches_follow_membership_repoints_rewrites_and_merges() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut acl = AclStore::default();
    let space = acl.set_clause(ClauseKey("space".into()), &[group("a")]);
    let restriction = acl.set_clause(ClauseKey("restriction".into()), &[user("x")]);
    let shared = acl.set_clause(ClauseKey("shared".into()), &[user("x"), group("b")]);
    let in_space = acl.profile(&[space]);
    let restricted = acl.profile(&[space, restriction]);
    let shared_in_space = acl.profile(&[space, shared]);
    let mut writer = IndexWriter::create(dir.path()).expect("create");
    let add = |writer: &mut IndexWriter, n: usize, profile: ProfileId| {
        let mut d = IndexDoc::new(format!("d:{n:04}"), Product::Confluence, Kind::Page, profile);
        d.body = if n.is_multiple_of(3) { "common rare".into() } else { "common".into() };
        d.updated = at(n as i64 % 50);
        writer.upsert(&d).expect("upsert");
    };
    // Enough documents that a caller with one or two allowed profiles has its set read from the postings;
    // with three, from the segment's profile index, which later callers then use too.
    for n in 0..4500 {
        let profile = match n % 10 {
            0 => restricted,
            5 => shared_in_space,
            _ => in_space,
        };
        add(&mut writer, n, profile);
    }
    writer.commit(&acl, b"").expect("commit");

    let callers: Vec<Vec<Principal>> = vec![
        vec![user("y"), group("a")],
        vec![user("x"), group("a")],
        vec![user("y")],
        vec![user("y"), group("b")],
        vec![group("b")],
    ];
    let services: Vec<SearchService> = [StrategyChoice::Auto, StrategyChoice::Dense, StrategyChoice::Sparse]
        .into_iter()
        .map(|strategy| service_with(dir.path(), strategy))
        .collect();
    let check = |step: &str| {
        let reader = IndexReader::open(dir.path()).expect("reader");
        for service in &services {
            for held in &callers {
                let caller = service.acl().caller(held.iter());
                for query in ["", "rare"] {
                    let mut r = request(query);
                    r.page = PageRequest::Offset { offset: 0, limit: 5 };
                    let got = service.search(&caller, &r).expect("search");
                    let want = brute_force(&reader, &reader.acl().caller(held.iter()), query);
                    assert_eq!(got.total as usize, want.len(), "{step}: {held:?} {query:?} ({service:?})");
                    for hit in &got.hits {
                        assert!(want.contains_key(&hit.id), "{step}: {held:?} {query:?} shows {}", hit.id);
                    }
                }
            }
        }
    };
    check("first commit");
    // Every caller has been served: their masks and sets are cached now, read from the segments' profile
    // indexes (built when the services opened).
    for service in &services {
        assert!(service.stats().acl_cache.entries > 0);
        assert!(service.stats().acl_cache.indexes > 0, "{service:?}");
    }

    // Group membership: y leaves a and joins b. Only the caller's principals change, so nothing is
    // committed: y's new principal set must not be answered from y's old one.
    let y_in_a = services[0]
        .search(&services[0].acl().caller(&[user("y"), group("a")]), &request(""))
        .expect("search");
    let y_in_b = services[0]
        .search(&services[0].acl().caller(&[user("y"), group("b")]), &request(""))
        .expect("search");
    assert!(y_in_a.total > 0);
    assert_eq!(y_in_b.total, 0);

    // A document re-pointed to a profile of a new clause naming y alone (a commit).
    let own = acl.set_clause(ClauseKey("own".into()), &[user("y")]);
    let owned = acl.profile(&[own]);
    add(&mut writer, 7, owned);
    writer.commit(&acl, b"").expect("commit");
    for service in &services {
        service.reload().expect("reload");
    }
    check("re-pointed document");
    let y_alone = services[0].search(&services[0].acl().caller(&[user("y")]), &request("")).expect("search");
    assert_eq!(ids(&y_alone), vec!["d:0007".to_string()]);

    // The space clause rewritten in place: b instead of a (a commit that touches no document).
    acl.set_clause(ClauseKey("space".into()), &[group("b")]);
    writer.commit(&acl, b"").expect("commit");
    for service in &services {
        service.reload().expect("reload");
    }
    check("rewritten clause");
    let b_now = services[0].search(&services[0].acl().caller(&[group("b")]), &request("")).expect("search");
    assert!(b_now.total > 4000, "b reads the space now: {}", b_now.total);

    // Every segment merged into one: new doc ids, no deletes.
    let segments = writer.segment_ids().expect("segments");
    assert!(segments.len() > 1, "the re-pointed document went to a new segment");
    writer.merge(&segments).expect("merge");
    writer.close().expect("close");
    for service in &services {
        service.reload().expect("reload");
    }
    assert_eq!(IndexReader::open(dir.path()).expect("reader").searcher().segment_readers().len(), 1);
    check("merged");
}
