//! The Confluence crawler against the simulator over loopback: what it reads (spaces, contents, access,
//! comments, attachments, changes, bytes, the directory) equals what the simulator's model holds, on the
//! hand-written fixture and on a generated site, with listings walked to their end exactly once under
//! invented empty next pages and under a rate limit, and with unreadable restrictions failing closed; and,
//! end to end, crawled permissions resolved by `sync::resolve` against the oracle.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::{DateTime, Utc};
use permdex::atlassian::confluence::Confluence;
use permdex::atlassian::model::{
    self, Attachment, Comment, Content, ContentAccess, ContentKind, Directory, Restriction, Space, SpaceKind,
    Subject,
};
use permdex::atlassian::{Client, ClientConfig, Error, Page};
use permdex::sim::model::{self as sim, SpacePrincipal, Status};
use permdex::sim::oracle::Scope;
use permdex::sim::run::RunningSim;
use permdex::sim::{files, fixture, generate, FaultConfig, Scale, SimConfig, Site};
use permdex::sync::resolve::{AclInput, PermissionSnapshot};

use crate::support;

fn client_config(sim: &RunningSim) -> ClientConfig {
    let mut config = support::client_config(sim);
    config.backoff_base = Duration::from_millis(1);
    config.max_retries = 10;
    config
}

async fn start(site: Site) -> (RunningSim, Confluence) {
    let config = SimConfig::new(site.seed, Scale::Tiny);
    let sim = support::start_site(site, config).await;
    let crawler = Confluence::new(Client::new(client_config(&sim)).expect("client"));
    (sim, crawler)
}

/// A crawler over the same simulator whose client gives up at the first failure.
fn impatient(sim: &RunningSim) -> Confluence {
    let mut config = client_config(sim);
    config.max_retries = 0;
    config.max_throttle_wait = Duration::ZERO;
    Confluence::new(Client::new(config).expect("client"))
}

/// Walks a paged listing to its end: every item, and how many pages it took.
macro_rules! walk {
    ($cursor:ident => $call:expr) => {{
        let mut items = Vec::new();
        let mut $cursor: Option<String> = None;
        let mut pages = 0usize;
        loop {
            let page: Page<_> = $call.await.expect("listing page");
            pages += 1;
            assert!(pages < 10_000, "the listing does not end");
            items.extend(page.items);
            match page.next {
                Some(next) => $cursor = Some(next),
                None => break,
            }
        }
        (items, pages)
    }};
}

// ---------------------------------------------------------------------------------------------------------
// What the model says, in the crawler's types.

fn time(ms: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(ms)
}

fn expected_spaces(site: &Site, url: &str) -> BTreeMap<String, Space> {
    site.spaces
        .values()
        .map(|s| {
            let readers: BTreeSet<Subject> = s
                .permissions
                .iter()
                .filter(|p| p.operation == "read" && p.target == "space")
                .map(|p| match &p.principal {
                    SpacePrincipal::User(a) => Subject::User(a.clone()),
                    SpacePrincipal::Group(g) => Subject::Group(g.clone()),
                    SpacePrincipal::Role(r) if r == "ANONYMOUS" => Subject::Anonymous,
                    SpacePrincipal::Role(r) => Subject::Unknown(format!("role:{r}")),
                })
                .collect();
            let space = Space {
                id: s.id.to_string(),
                key: s.key.clone(),
                name: s.name.clone(),
                kind: match &s.kind {
                    sim::SpaceKind::Global => SpaceKind::Global,
                    sim::SpaceKind::Personal { owner } => SpaceKind::Personal { owner: Some(owner.clone()) },
                },
                archived: s.status == Status::Archived,
                readers: readers.into_iter().collect(),
                role_viewers: Vec::new(),
                url: format!("{url}/wiki/spaces/{}", s.key),
            };
            (space.id.clone(), space)
        })
        .collect()
}

fn kind_of(kind: sim::ContentKind) -> ContentKind {
    match kind {
        sim::ContentKind::Page => ContentKind::Page,
        sim::ContentKind::BlogPost => ContentKind::BlogPost,
    }
}

/// The fields of a content item the crawler must reproduce (the url's path is the simulator's business).
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ContentFacts {
    id: String,
    kind: String,
    space_id: String,
    title: String,
    body: String,
    version: u64,
    archived: bool,
    created: Option<DateTime<Utc>>,
    updated: Option<DateTime<Utc>>,
    author: Option<String>,
    parent_id: Option<String>,
    labels: Vec<String>,
}

fn facts(c: &Content) -> ContentFacts {
    ContentFacts {
        id: c.id.clone(),
        kind: format!("{:?}", c.kind),
        space_id: c.space_id.clone(),
        title: c.title.clone(),
        body: c.body.clone(),
        version: c.version,
        archived: c.archived,
        created: c.created,
        updated: c.updated,
        author: c.author.clone(),
        parent_id: c.parent_id.clone(),
        labels: c.labels.clone(),
    }
}

fn model_facts(c: &sim::Content) -> ContentFacts {
    ContentFacts {
        id: c.id.to_string(),
        kind: format!("{:?}", kind_of(c.kind)),
        space_id: c.space_id.to_string(),
        title: c.title.clone(),
        body: c.body.clone(),
        version: u64::from(c.version),
        archived: c.status == Status::Archived,
        created: time(c.created),
        updated: time(c.updated),
        author: Some(c.author.clone()),
        parent_id: c.parent_id.map(|p| p.to_string()),
        labels: c.labels.clone(),
    }
}

fn expected_contents(site: &Site, kind: sim::ContentKind, include_archived: bool) -> Vec<ContentFacts> {
    let mut all: Vec<ContentFacts> = site
        .contents
        .values()
        .filter(|c| c.kind == kind && (include_archived || c.status == Status::Current))
        .map(model_facts)
        .collect();
    all.sort();
    all
}

fn expected_access(site: &Site, include_archived: bool) -> BTreeMap<String, ContentAccess> {
    site.contents
        .values()
        .filter(|c| include_archived || c.status == Status::Current)
        .map(|c| {
            let access = ContentAccess {
                id: c.id.to_string(),
                kind: kind_of(c.kind),
                space_id: c.space_id.to_string(),
                version: u64::from(c.version),
                archived: c.status == Status::Archived,
                ancestors: site.ancestors(c.id).iter().map(u64::to_string).collect(),
                restriction: Some(Restriction {
                    users: c.read_restriction.users.clone(),
                    groups: c.read_restriction.groups.clone(),
                }),
            };
            (access.id.clone(), access)
        })
        .collect()
}

/// Id, container, container kind, parent, body, version, author.
type CommentFacts = (String, String, ContentKind, Option<String>, String, u64, String);

fn expected_comments(site: &Site) -> Vec<CommentFacts> {
    site.comments
        .values()
        .map(|c| {
            (
                c.id.to_string(),
                c.container_id.to_string(),
                kind_of(site.contents[&c.container_id].kind),
                c.parent_comment_id.map(|p| p.to_string()),
                c.body.clone(),
                u64::from(c.version),
                c.author.clone(),
            )
        })
        .collect()
}

fn comment_facts(c: &Comment) -> CommentFacts {
    (
        c.id.clone(),
        c.container_id.clone(),
        c.container_kind,
        c.parent_comment_id.clone(),
        c.body.clone(),
        c.version,
        c.author.clone().unwrap_or_default(),
    )
}

/// Id, container, container kind, title, media type, size, version, author.
type AttachmentFacts = (String, String, ContentKind, String, Option<String>, Option<u64>, u64, String);

fn expected_attachments(site: &Site) -> Vec<AttachmentFacts> {
    site.attachments
        .values()
        .map(|a| {
            (
                format!("att{}", a.id),
                a.container_id.to_string(),
                kind_of(site.contents[&a.container_id].kind),
                a.file.filename.clone(),
                Some(a.file.kind.media_type().to_string()),
                Some(a.file.size),
                u64::from(a.version),
                a.author.clone(),
            )
        })
        .collect()
}

fn attachment_facts(a: &Attachment) -> AttachmentFacts {
    (
        a.id.clone(),
        a.container_id.clone(),
        a.container_kind,
        a.title.clone(),
        a.media_type.clone(),
        a.size,
        a.version,
        a.author.clone().unwrap_or_default(),
    )
}

fn expected_directory(site: &Site, extra: &[&str]) -> Directory {
    let mut directory = Directory::default();
    let mut named: BTreeSet<String> = extra.iter().map(|a| a.to_string()).collect();
    for g in &site.groups {
        named.extend(g.members.iter().cloned());
        directory
            .groups
            .insert(g.id.clone(), model::DirectoryGroup { name: g.name.clone(), members: g.members.clone() });
    }
    for account in named {
        if let Some(u) = site.user(&account) {
            directory.users.insert(
                account,
                model::DirectoryUser {
                    display_name: u.display_name.clone(),
                    active: u.active,
                    email: (!u.email_hidden).then(|| u.email.clone()),
                },
            );
        }
    }
    directory
}

/// Everything a full crawl reads (without bytes), keyed for comparison.
#[derive(Debug, PartialEq)]
struct Crawl {
    spaces: BTreeMap<String, Space>,
    pages: Vec<ContentFacts>,
    posts: Vec<ContentFacts>,
    access: BTreeMap<String, ContentAccess>,
    comments: Vec<CommentFacts>,
    attachments: Vec<AttachmentFacts>,
    directory: Directory,
}

/// Crawls everything, checking on the way that no listing serves an item twice.
async fn crawl(crawler: &Confluence, extra: &[&str]) -> Crawl {
    let spaces = crawler.spaces().await.expect("spaces");
    let space_ids: Vec<String> = spaces.iter().map(|s| s.id.clone()).collect();
    let space_keys: Vec<String> = spaces.iter().map(|s| s.key.clone()).collect();
    let (pages, _) = walk!(c => crawler.contents(ContentKind::Page, &space_ids, true, c.as_deref()));
    let (posts, _) = walk!(c => crawler.contents(ContentKind::BlogPost, &space_ids, true, c.as_deref()));
    let (access, _) = walk!(c => crawler.access(&space_keys, true, c.as_deref()));
    let (comments, _) = walk!(c => crawler.comments(c.as_deref()));
    let (attachments, _) = walk!(c => crawler.attachments(c.as_deref()));
    let extra: Vec<String> = extra.iter().map(|a| a.to_string()).collect();
    let directory = crawler.directory(&extra).await.expect("directory");
    let unique = |ids: Vec<&String>| {
        let n = ids.len();
        assert_eq!(ids.into_iter().collect::<BTreeSet<_>>().len(), n, "a listing served an item twice");
    };
    unique(spaces.iter().map(|s| &s.id).collect());
    unique(pages.iter().chain(&posts).map(|c| &c.id).collect());
    unique(access.iter().map(|a| &a.id).collect());
    unique(comments.iter().map(|c| &c.id).collect());
    unique(attachments.iter().map(|a| &a.id).collect());
    let mut pages: Vec<ContentFacts> = pages.iter().map(facts).collect();
    pages.sort();
    let mut posts: Vec<ContentFacts> = posts.iter().map(facts).collect();
    posts.sort();
    let mut comments: Vec<_> = comments.iter().map(comment_facts).collect();
    comments.sort();
    let mut attachments: Vec<_> = attachments.iter().map(attachment_facts).collect();
    attachments.sort();
    Crawl {
        spaces: spaces
            .into_iter()
            .map(|mut s| {
                s.readers.sort();
                (s.id.clone(), s)
            })
            .collect(),
        pages,
        posts,
        access: access.into_iter().map(|a| (a.id.clone(), a)).collect(),
        comments,
        attachments,
        directory,
    }
}

fn expected_crawl(site: &Site, url: &str, extra: &[&str]) -> Crawl {
    let mut comments = expected_comments(site);
    comments.sort();
    let mut attachments = expected_attachments(site);
    attachments.sort();
    Crawl {
        spaces: expected_spaces(site, url),
        pages: expected_contents(site, sim::ContentKind::Page, true),
        posts: expected_contents(site, sim::ContentKind::BlogPost, true),
        access: expected_access(site, true),
        comments,
        attachments,
        directory: expected_directory(site, extra),
    }
}

fn assert_same(got: &Crawl, want: &Crawl) {
    assert_eq!(got.spaces, want.spaces, "spaces");
    assert_eq!(got.pages, want.pages, "pages");
    assert_eq!(got.posts, want.posts, "blog posts");
    assert_eq!(got.access, want.access, "access");
    assert_eq!(got.comments, want.comments, "comments");
    assert_eq!(got.attachments, want.attachments, "attachments");
    assert_eq!(got.directory, want.directory, "directory");
}

// ---------------------------------------------------------------------------------------------------------
// Whole crawls.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_of_the_fixture_reads_what_the_model_holds() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let got = crawl(&crawler, &["dave", "ghost"]).await;
    let want = expected_crawl(&sim.state.read(), &sim.url, &["dave", "ghost"]);
    assert_same(&got, &want);
    // Spot checks written out by hand, so a shared mistake in the expectations cannot hide.
    assert_eq!(got.spaces["2"].readers, vec![Subject::Anonymous]);
    assert_eq!(got.spaces["3"].kind, SpaceKind::Personal { owner: Some("dave".into()) });
    assert_eq!(got.spaces["1"].url, format!("{}/wiki/spaces/ENG", sim.url));
    assert_eq!(got.access["102"].ancestors, ["100", "101"]);
    assert_eq!(
        got.access["103"].restriction.as_ref().map(|r| r.users.iter().cloned().collect::<Vec<_>>()),
        Some(vec!["gone-user".to_string()])
    );
    assert_eq!(got.access["110"].ancestors, Vec::<String>::new());
    assert!(!got.directory.users["erin"].active);
    assert!(got.directory.users["dave"].active);
    assert!(!got.directory.users.contains_key("ghost"));
    let page = got.pages.iter().find(|p| p.id == "102").expect("page 102");
    assert_eq!(page.parent_id.as_deref(), Some("101"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crawl_of_a_generated_site_reads_what_the_model_holds() {
    let site = generate::generate(&SimConfig::new(7, Scale::Tiny)).expect("generate");
    assert!(site.contents.len() > 50 && !site.comments.is_empty() && !site.attachments.is_empty());
    let (sim, crawler) = start(site).await;
    let got = crawl(&crawler, &[]).await;
    let want = expected_crawl(&sim.state.read(), &sim.url, &[]);
    assert_same(&got, &want);
    assert!(
        got.access.values().any(|a| a.restriction.as_ref().is_some_and(|r| !r.is_empty())),
        "the generated site has restricted content"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn archived_content_is_read_only_when_asked_for() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let ids: Vec<String> = ["1", "2", "3"].map(String::from).to_vec();
    let keys: Vec<String> = ["ENG", "PUB", "~dave"].map(String::from).to_vec();
    let site = sim.state.read().clone();
    for archived in [false, true] {
        let (pages, _) = walk!(c => crawler.contents(ContentKind::Page, &ids, archived, c.as_deref()));
        let mut got: Vec<ContentFacts> = pages.iter().map(facts).collect();
        got.sort();
        assert_eq!(got, expected_contents(&site, sim::ContentKind::Page, archived), "archived {archived}");
        assert_eq!(pages.iter().any(|p| p.id == "104"), archived);
        let (access, _) = walk!(c => crawler.access(&keys, archived, c.as_deref()));
        let got: BTreeMap<String, ContentAccess> = access.into_iter().map(|a| (a.id.clone(), a)).collect();
        assert_eq!(got, expected_access(&site, archived), "archived {archived}");
    }
}

#[tokio::test]
async fn listings_of_a_subset_of_spaces_stay_inside_it() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let (pages, _) = walk!(c => crawler.contents(ContentKind::Page, &["2".to_string()], true, c.as_deref()));
    assert_eq!(pages.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(), ["200"]);
    assert_eq!(pages[0].url, format!("{}/wiki/spaces/PUB/pages/200/Public+handbook", sim.url));
    let (access, _) = walk!(c => crawler.access(&["~dave".to_string()], false, c.as_deref()));
    assert_eq!(access.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["300"]);
    let (none, pages) = walk!(c => crawler.contents(ContentKind::Page, &[], true, c.as_deref()));
    assert!(none.is_empty());
    assert_eq!(pages, 1);
}

// ---------------------------------------------------------------------------------------------------------
// Single items.

#[tokio::test]
async fn single_items_come_with_labels_and_gone_ones_are_none() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let site = sim.state.read().clone();
    let page = crawler.content(ContentKind::Page, "102").await.expect("page").expect("exists");
    assert_eq!(facts(&page), model_facts(&site.contents[&102]));
    assert_eq!(page.labels, site.contents[&102].labels);
    let post = crawler.content(ContentKind::BlogPost, "110").await.expect("post").expect("exists");
    assert_eq!(facts(&post), model_facts(&site.contents[&110]));
    assert_eq!(crawler.content(ContentKind::Page, "999999").await.expect("404 is not an error"), None);
    assert_eq!(crawler.content(ContentKind::Page, "110").await.expect("a post is not a page"), None);
    assert_eq!(crawler.access_of(ContentKind::Page, "999999").await.expect("404"), None);

    let access = crawler.access_of(ContentKind::Page, "102").await.expect("access").expect("exists");
    assert_eq!(access, expected_access(&site, true)["102"]);
    let access = crawler.access_of(ContentKind::BlogPost, "110").await.expect("access").expect("exists");
    assert_eq!(access, expected_access(&site, true)["110"]);

    let mut comments = crawler.comments_of(ContentKind::Page, "102").await.expect("comments");
    comments.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(comments.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["120", "121"]);
    assert_eq!(comments[1].parent_comment_id.as_deref(), Some("120"));
    assert!(comments.iter().all(|c| c.container_id == "102" && c.container_kind == ContentKind::Page));
    let attachments = crawler.attachments_of(ContentKind::Page, "102").await.expect("attachments");
    assert_eq!(attachments.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), ["att130"]);
}

#[tokio::test]
async fn downloads_give_the_rendered_bytes_within_the_cap() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let site = sim.state.read().clone();
    let (attachments, _) = walk!(c => crawler.attachments(c.as_deref()));
    assert_eq!(attachments.len(), site.attachments.len());
    for a in &attachments {
        let id: u64 = a.id.trim_start_matches("att").parse().expect("numeric id");
        let want = files::render(&site.attachments[&id].file);
        assert_eq!(crawler.download(a, 10 << 20).await.expect("download"), want, "{}", a.id);
        let small = (want.len() as u64).saturating_sub(1);
        match crawler.download(a, small).await {
            Err(Error::TooLarge { limit, .. }) => assert_eq!(limit, small),
            other => panic!("{}: a cap below the size must be TooLarge, got {other:?}", a.id),
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Restrictions: long ones completed, unreadable ones fail closed.

/// The fixture with page 200 restricted to 150 accounts: more than one restriction page holds.
fn crowded_site() -> Site {
    let mut site = fixture::tiny_site();
    if let Some(page) = site.contents.get_mut(&200) {
        page.read_restriction.users = (0..150).map(|n| format!("u{n:04}")).collect();
        page.read_restriction.groups = ["g-eng".to_string()].into();
    }
    site.reindex();
    site
}

#[tokio::test]
async fn restrictions_longer_than_the_expansion_are_read_in_full() {
    let (sim, crawler) = start(crowded_site()).await;
    let (access, _) = walk!(c => crawler.access(&["PUB".to_string()], false, c.as_deref()));
    let want = expected_access(&sim.state.read(), false);
    assert_eq!(access.len(), 1);
    assert_eq!(access[0], want["200"]);
    assert_eq!(access[0].restriction.as_ref().map(|r| r.users.len()), Some(150));
    let single = crawler.access_of(ContentKind::Page, "200").await.expect("access").expect("exists");
    assert_eq!(single, want["200"]);
}

#[tokio::test]
async fn an_unreadable_restriction_leaves_that_item_unknown_not_public() {
    let (sim, _) = start(crowded_site()).await;
    let crawler = impatient(&sim);
    // One request gets through: the listing. The extra read page 200's long restriction needs is refused.
    sim.state.guard.set_rate_limit(Some(support::rate_limit(1, Duration::from_secs(3600))));
    let keys: Vec<String> = ["ENG", "PUB"].map(String::from).to_vec();
    let page = crawler.access(&keys, false, None).await.expect("the listing itself succeeded");
    let want = expected_access(&sim.state.read(), false);
    let crowded = page.items.iter().find(|a| a.id == "200").expect("page 200 listed");
    assert_eq!(crowded.restriction, None, "unreadable restriction must be unknown");
    assert_eq!(crowded.ancestors, want["200"].ancestors);
    for a in page.items.iter().filter(|a| a.id != "200") {
        assert_eq!(a, &want[&a.id], "items whose expansion was complete are unaffected");
    }
    assert!(sim.state.guard.stats().rate_limited >= 1);

    // A listing call that fails is an error, not a short listing.
    let failed = crawler.access(&keys, false, None).await;
    assert!(matches!(failed, Err(Error::Status { status: 429, .. })), "{failed:?}");

    // access_of reads page, ancestors, then the restriction: only the restriction is refused.
    sim.state.guard.set_rate_limit(Some(support::rate_limit(2, Duration::from_secs(3600))));
    let single = crawler.access_of(ContentKind::Page, "102").await.expect("page and ancestors read");
    let single = single.expect("exists");
    assert_eq!(single.ancestors, ["100", "101"]);
    assert_eq!(single.restriction, None);
}

// ---------------------------------------------------------------------------------------------------------
// Listings under faults and rate limits.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_walks_once_with_invented_empty_next_pages() {
    let site = generate::generate(&SimConfig::new(11, Scale::Tiny)).expect("generate");
    let (sim, crawler) = start(site).await;
    let want = expected_crawl(&sim.state.read(), &sim.url, &["nobody"]);
    sim.state.guard.set_faults(FaultConfig { empty_next: 1.0, ..FaultConfig::default() });
    let got = crawl(&crawler, &["nobody"]).await;
    assert_same(&got, &want);
    assert!(sim.state.guard.stats().empty_next > 0, "the fault was injected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listing_walks_once_under_a_rate_limit() {
    let site = generate::generate(&SimConfig::new(13, Scale::Tiny)).expect("generate");
    let (sim, crawler) = start(site).await;
    let want = expected_crawl(&sim.state.read(), &sim.url, &[]);
    sim.state.guard.set_rate_limit(Some(support::rate_limit(4, Duration::from_millis(40))));
    let got = crawl(&crawler, &[]).await;
    assert_same(&got, &want);
    assert!(sim.state.guard.stats().rate_limited > 0, "the limit was hit");
    assert!(crawler.client().stats().throttled > 0);
}

/// The fixture plus 130 more spaces of two pages each: more spaces than one listing call or one CQL
/// query takes, and more pages than one search page holds.
fn many_spaces_site() -> Site {
    let mut site = fixture::tiny_site();
    let space_template = site.spaces[&2].clone();
    let page_template = site.contents[&200].clone();
    for n in 0..130u64 {
        let space_id = 1_000 + n;
        let key = format!("S{n}");
        site.spaces
            .insert(space_id, sim::Space { id: space_id, key, homepage_id: None, ..space_template.clone() });
        for k in 0..2u64 {
            let id = 10_000 + n * 2 + k;
            let parent_id = (k == 1).then_some(id - 1);
            let title = format!("Page {id}");
            site.contents
                .insert(id, sim::Content { id, space_id, parent_id, title, ..page_template.clone() });
        }
    }
    site.reindex();
    site
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn many_spaces_are_listed_in_chunks_that_resume_from_their_cursor() {
    let (sim, crawler) = start(many_spaces_site()).await;
    let site = sim.state.read().clone();
    let ids: Vec<String> = site.spaces.keys().map(u64::to_string).collect();
    let keys: Vec<String> = site.spaces.values().map(|s| s.key.clone()).collect();
    assert!(ids.len() > 100);
    let (pages, calls) = walk!(c => crawler.contents(ContentKind::Page, &ids, true, c.as_deref()));
    assert!(calls >= 2, "two chunks of space ids: {calls} call(s)");
    let mut got: Vec<ContentFacts> = pages.iter().map(facts).collect();
    got.sort();
    assert_eq!(got, expected_contents(&site, sim::ContentKind::Page, true));
    let (access, calls) = walk!(c => crawler.access(&keys, true, c.as_deref()));
    assert!(calls >= 3, "two queries, more than a search page: {calls} call(s)");
    let got: BTreeMap<String, ContentAccess> = access.into_iter().map(|a| (a.id.clone(), a)).collect();
    assert_eq!(got, expected_access(&site, true));
    assert_eq!(got["10001"].ancestors, ["10000"]);

    // A stored cursor resumes where the walk stopped.
    let first = crawler.access(&keys, true, None).await.expect("first page");
    let next = first.next.expect("more pages");
    let resumed = crawler.access(&keys, true, Some(&next)).await.expect("resumed page");
    let first_ids: BTreeSet<&str> = first.items.iter().map(|a| a.id.as_str()).collect();
    assert!(!resumed.items.is_empty());
    assert!(resumed.items.iter().all(|a| !first_ids.contains(a.id.as_str())));
    assert!(crawler.access(&keys, true, Some("not a cursor")).await.is_err());
}

// ---------------------------------------------------------------------------------------------------------
// End to end: crawled permissions resolved by `sync::resolve`, against the oracle.

/// Who may read each Confluence document, as permdex would decide from this crawl, against the oracle:
/// for every account the site knows or names, and every page, blog post, comment and attachment.
fn assert_crawl_is_exact(site: &Site, crawl: &Crawl) {
    let snapshot = PermissionSnapshot {
        spaces: crawl.spaces.clone(),
        access: crawl.access.clone(),
        directory: crawl.directory.clone(),
        ..Default::default()
    };
    let input = |content_id: &str| AclInput::Confluence {
        space_id: crawl.access.get(content_id).map(|a| a.space_id.clone()).unwrap_or_default(),
        content_id: content_id.to_string(),
    };
    let mut inputs: Vec<(String, AclInput)> = Vec::new();
    for c in crawl.pages.iter().chain(&crawl.posts) {
        let kind = if c.kind == "Page" { "page" } else { "blogpost" };
        inputs.push((format!("confluence:{kind}:{}", c.id), input(&c.id)));
    }
    for c in &crawl.comments {
        inputs.push((format!("confluence:comment:{}", c.0), input(&c.1)));
    }
    for a in &crawl.attachments {
        inputs.push((format!("confluence:attachment:{}", a.0), input(&a.1)));
    }
    let crawled: BTreeSet<String> = inputs.iter().map(|(doc, _)| doc.clone()).collect();
    let in_scope = support::oracle_docs(site, Scope { include_archived: true }, "confluence:");
    assert_eq!(crawled, in_scope, "the crawl covers exactly the Confluence documents");

    let mut accounts: BTreeSet<String> = site.users.iter().map(|u| u.account_id.clone()).collect();
    accounts.extend(site.contents.values().flat_map(|c| c.read_restriction.users.iter().cloned()));
    accounts.insert("never-an-account".into());
    support::assert_acls_match_oracle(site, &snapshot, &inputs, &accounts);
}

/// Every account of the site, as the engine learns them (the Jira user listing names them all).
fn all_accounts(site: &Site) -> Vec<String> {
    site.users.iter().map(|u| u.account_id.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crawled_permissions_resolve_exactly_as_the_oracle_says() {
    let (sim, crawler) = start(fixture::tiny_site()).await;
    let site = sim.state.read().clone();
    let accounts = all_accounts(&site);
    let extra: Vec<&str> = accounts.iter().map(String::as_str).collect();
    assert_crawl_is_exact(&site, &crawl(&crawler, &extra).await);

    for seed in [41, 42] {
        let site = generate::generate(&SimConfig::new(seed, Scale::Tiny)).expect("generate");
        let (sim, crawler) = start(site).await;
        let accounts = all_accounts(&sim.state.read());
        let extra: Vec<&str> = accounts.iter().map(String::as_str).collect();
        let site = sim.state.read().clone();
        assert_crawl_is_exact(&site, &crawl(&crawler, &extra).await);

        // After permission and content changes, a new crawl is exact again.
        support::apply_random_mutations(&sim, seed, 40);
        let site = sim.state.read().clone();
        assert_crawl_is_exact(&site, &crawl(&crawler, &extra).await);
    }
}
