//! The Jira crawler against the simulator over loopback: projects and their permissions, issues, comments
//! and their visibility, attachments, the directory, incremental id listings, complete walks under
//! injected faults and rate limits, and, end to end, crawled permissions resolved by `sync::resolve`
//! against the oracle. Expected values come from the simulator's model or oracle, not from the crawler.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use chrono::DateTime;
use permdex::atlassian::jira::Jira;
use permdex::atlassian::model::{self, CommentVisibility, Holder};
use permdex::atlassian::{Client, Error};
use permdex::sim::model as sim;
use permdex::sim::mutate::{self, Mutation};
use permdex::sim::oracle::Scope;
use permdex::sim::run::RunningSim;
use permdex::sim::{fixture, generate, FaultConfig, Scale, SimConfig, Site};
use permdex::sync::resolve::{AclInput, PermissionSnapshot, ProductAccess};

use crate::support;

/// 2024-01-01T00:00:00Z, the fixture site's epoch.
const T0: i64 = 1_704_067_200_000;

/// A crawler for `sim` with quick retries and no pacing to speak of.
fn jira(sim: &RunningSim) -> Jira {
    let mut config = support::client_config(sim);
    config.backoff_base = Duration::from_millis(5);
    config.max_retries = 40;
    Jira::new(Client::new(config).expect("client"))
}

fn mutate(sim: &RunningSim, mutation: Mutation) {
    let mut site = sim.state.write();
    mutate::apply(&mut site, &mutation).expect("mutation applies");
}

fn keys(projects: &[model::Project]) -> Vec<String> {
    projects.iter().map(|p| p.key.clone()).collect()
}

/// Every issue id of the projects, walking the pages; checks each page's ids ascend past the last one.
async fn all_ids(jira: &Jira, keys: &[String], since: Option<DateTime<chrono::Utc>>) -> (Vec<String>, usize) {
    let mut ids = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let page = jira.issue_ids(keys, since, token.as_deref()).await.expect("issue ids");
        pages += 1;
        assert!(pages < 1_000, "the id walk does not end");
        ids.extend(page.items);
        match page.next {
            Some(next) => token = Some(next),
            None => break,
        }
    }
    let numbers: Vec<u64> = ids.iter().map(|id| id.parse().expect("numeric id")).collect();
    assert!(numbers.windows(2).all(|w| w[0] < w[1]), "ids ascend, each once");
    (ids, pages)
}

fn set<T: Ord + Clone>(items: &[T]) -> BTreeSet<T> {
    items.iter().cloned().collect()
}

fn strings(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// A model holder as the crawler should report it.
fn expected_holder(h: &sim::Holder) -> Holder {
    match h {
        sim::Holder::Anyone => Holder::Anyone,
        sim::Holder::Group(g) => Holder::Group(g.clone()),
        sim::Holder::User(u) => Holder::User(u.clone()),
        sim::Holder::ProjectRole(r) => Holder::ProjectRole(r.to_string()),
        sim::Holder::ApplicationRole(key) => Holder::ApplicationRole(key.clone()),
        sim::Holder::ProjectLead => Holder::ProjectLead,
        sim::Holder::Reporter => Holder::Reporter,
        sim::Holder::Assignee => Holder::Assignee,
        sim::Holder::CustomerPortal => Holder::Unknown("sd.customer.portal.only".into()),
    }
}

fn searchable(site: &Site, issue: &sim::Issue) -> bool {
    !issue.archived && !site.projects[&issue.project_id].archived
}

#[tokio::test]
async fn projects_carry_browse_holders_roles_and_levels() {
    let mut site = fixture::tiny_site();
    let mut archived = site.projects[&10001].clone();
    (archived.id, archived.key, archived.archived) = (10009, "GONE".into(), true);
    site.projects.insert(archived.id, archived);
    site.reindex();
    let sim = support::start_site(site, SimConfig::new(1, Scale::Tiny)).await;
    let projects = jira(&sim).projects().await.expect("projects");

    assert_eq!(keys(&projects), ["APP", "OPEN", "LEAD"], "live projects only, in id order");
    let app = &projects[0];
    assert_eq!((app.id.as_str(), app.lead.as_deref()), ("10000", Some("carol")));
    assert_eq!(app.url, format!("{}/browse/APP", sim.url));
    // CREATE_ISSUES for dave is in the same scheme and must not count.
    assert_eq!(set(&app.browse), set(&[Holder::ProjectRole("10001".into()), Holder::Reporter]));
    let developers = &app.roles["10001"];
    assert_eq!((&developers.users, &developers.groups), (&strings(&["alice"]), &strings(&["g-mgr"])));
    assert!(app.roles["10002"].users.is_empty() && app.roles["10002"].groups.is_empty());
    assert_eq!(app.security_levels.keys().collect::<Vec<_>>(), ["5001"]);
    assert_eq!(set(&app.security_levels["5001"]), set(&[Holder::Group("g-eng".into()), Holder::Assignee]));

    assert_eq!(projects[1].browse, [Holder::Anyone]);
    assert!(projects[1].security_levels.is_empty(), "no issue security scheme, no levels");
    assert_eq!(set(&projects[2].browse), set(&[Holder::ProjectLead, Holder::User("dave".into())]));
    assert_eq!(projects[2].lead.as_deref(), Some("bob"));
}

#[tokio::test]
async fn generated_projects_match_the_model() {
    let site = generate::generate(&SimConfig::new(7, Scale::Tiny)).expect("site");
    let sim = support::start_site(site.clone(), SimConfig::new(7, Scale::Tiny)).await;
    let projects = jira(&sim).projects().await.expect("projects");
    let live: Vec<&sim::Project> = site.projects.values().filter(|p| !p.archived).collect();
    assert_eq!(projects.len(), live.len());
    assert!(!projects.is_empty());
    for (got, want) in projects.iter().zip(live) {
        assert_eq!((got.id.as_str(), got.key.as_str()), (want.id.to_string().as_str(), want.key.as_str()));
        assert_eq!(got.lead.as_deref(), Some(want.lead.as_str()));
        let grants = &site.permission_schemes[&want.permission_scheme_id].grants;
        let browse: BTreeSet<Holder> = grants
            .iter()
            .filter(|g| g.permission == "BROWSE_PROJECTS")
            .map(|g| expected_holder(&g.holder))
            .collect();
        assert_eq!(set(&got.browse), browse, "{}", want.key);
        for role in &site.roles {
            let actors = want.roles.get(&role.id).cloned().unwrap_or_default();
            let crawled = &got.roles[&role.id.to_string()];
            assert_eq!(
                (&crawled.users, &crawled.groups),
                (&actors.users, &actors.groups),
                "{} {}",
                want.key,
                role.name
            );
        }
        let levels: BTreeMap<String, BTreeSet<Holder>> = want
            .security_scheme_id
            .map(|id| &site.security_schemes[&id])
            .into_iter()
            .flat_map(|s| &s.levels)
            .map(|l| (l.id.to_string(), l.members.iter().map(|m| expected_holder(&m.holder)).collect()))
            .collect();
        let crawled: BTreeMap<String, BTreeSet<Holder>> =
            got.security_levels.iter().map(|(id, h)| (id.clone(), set(h))).collect();
        assert_eq!(crawled, levels, "{}", want.key);
    }
}

#[tokio::test]
async fn issues_carry_their_fields() {
    let site = fixture::tiny_site();
    let sim = support::start_site(site.clone(), SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    let project_keys: Vec<String> = ["APP", "OPEN", "LEAD"].map(String::from).into();
    let (ids, _) = all_ids(&jira, &project_keys, None).await;
    assert_eq!(ids, ["10100", "10101", "10102", "10110", "10120"], "archived APP-4 is not listed");

    let (issues, errors) = jira.issues(&ids).await.expect("issues");
    assert!(errors.is_empty(), "{errors:?}");
    let by_id: BTreeMap<&str, &model::Issue> = issues.iter().map(|i| (i.id.as_str(), i)).collect();
    assert_eq!(by_id.keys().copied().collect::<Vec<_>>(), ids);
    for issue in &issues {
        let want = &site.issues[&issue.id.parse::<u64>().expect("numeric")];
        assert_eq!(issue.key, want.key);
        assert_eq!(issue.project_id, want.project_id.to_string());
        assert_eq!(issue.summary, want.summary);
        assert_eq!(
            issue.description,
            serde_json::from_str::<serde_json::Value>(&want.description).expect("adf")
        );
        assert_eq!(issue.issue_type, want.issue_type.name());
        assert_eq!(issue.status.as_deref(), Some(want.status.as_str()));
        assert_eq!((&issue.reporter, &issue.assignee), (&want.reporter, &want.assignee));
        assert_eq!(issue.created.map(|t| t.timestamp_millis()), Some(want.created));
        assert_eq!(issue.updated.map(|t| t.timestamp_millis()), Some(want.updated));
        assert_eq!(issue.url, format!("{}/browse/{}", sim.url, want.key));
    }
    let app2 = by_id["10101"];
    assert_eq!(app2.security_level_id.as_deref(), Some("5001"));
    assert_eq!(app2.subtask_ids, ["10102"]);
    assert_eq!(app2.parent_id, None);
    let attachment = &app2.attachments[..];
    assert_eq!(attachment.len(), 1);
    assert_eq!(
        (attachment[0].id.as_str(), attachment[0].filename.as_str(), attachment[0].media_type.as_deref()),
        ("10300", "crash.csv", Some("text/csv"))
    );
    assert_eq!(attachment[0].author.as_deref(), Some("bob"));
    assert_eq!(attachment[0].created.map(|t| t.timestamp_millis()), Some(T0));
    let app3 = by_id["10102"];
    assert_eq!(app3.parent_id.as_deref(), Some("10101"));
    assert_eq!(app3.security_level_id.as_deref(), Some("5001"), "a sub-task shows its parent's level");
    assert_eq!(by_id["10100"].security_level_id, None);

    let (issues, errors) =
        jira.issues(&["10103".into(), "99999".into(), "10110".into()]).await.expect("issues");
    assert_eq!(issues.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), ["10110"]);
    assert_eq!(
        errors.iter().map(|(id, _)| id.as_str()).collect::<BTreeSet<_>>(),
        strings(&["10103", "99999"]).iter().map(String::as_str).collect()
    );
}

#[tokio::test]
async fn comments_carry_their_visibility() {
    let sim = support::start_site(fixture::tiny_site(), SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    // Without a prior `projects()`: the role name is resolved by reading the project's roles on demand.
    let comments = jira.comments("10100", "10000").await.expect("comments");
    let got: Vec<(&str, Option<&CommentVisibility>)> =
        comments.iter().map(|c| (c.id.as_str(), c.visibility.as_ref())).collect();
    assert_eq!(
        got,
        [
            ("10200", None),
            ("10201", Some(&CommentVisibility::Group("g-eng".into()))),
            ("10202", Some(&CommentVisibility::Role("10002".into()))),
        ]
    );
    assert!(comments.iter().all(|c| c.issue_id == "10100" && c.author.as_deref() == Some("alice")));
    assert_eq!(comments[0].created.map(|t| t.timestamp_millis()), Some(T0 + 10_200_000));
    assert_eq!(comments[0].body["type"], "doc");

    // A role name the project does not know (here: asked against another project's roles) fails closed.
    let elsewhere = jira.comments("10100", "99999").await.expect("comments");
    assert_eq!(elsewhere[2].visibility, Some(CommentVisibility::Unknown("role \"Viewers\"".into())));
    assert!(jira.comments("10103", "10000").await.is_err(), "an archived issue's comments cannot be read");
}

#[tokio::test]
async fn comments_of_a_busy_issue_come_once_each_in_order() {
    let site = generate::generate(&SimConfig::new(3, Scale::Tiny)).expect("site");
    let sim = support::start_site(site.clone(), SimConfig::new(3, Scale::Tiny)).await;
    let jira = jira(&sim);
    let mut checked = 0;
    for issue in site.issues.values().filter(|i| searchable(&site, i)) {
        let mut want: Vec<&sim::IssueComment> =
            site.issue_comments.values().filter(|c| c.issue_id == issue.id).collect();
        if want.is_empty() {
            continue;
        }
        want.sort_by_key(|c| (c.created, c.id));
        let got =
            jira.comments(&issue.id.to_string(), &issue.project_id.to_string()).await.expect("comments");
        let ids: Vec<String> = got.iter().map(|c| c.id.clone()).collect();
        assert_eq!(ids, want.iter().map(|c| c.id.to_string()).collect::<Vec<_>>(), "{}", issue.key);
        for (c, w) in got.iter().zip(&want) {
            let expected = w.visibility.as_ref().map(|v| match v {
                sim::Visibility::Group(g) => CommentVisibility::Group(g.clone()),
                sim::Visibility::Role(r) => CommentVisibility::Role(r.to_string()),
            });
            assert_eq!(c.visibility, expected, "comment {}", c.id);
        }
        checked += got.len();
    }
    assert!(checked > 0, "the generated site has comments");
}

#[tokio::test]
async fn existing_comments_follow_deletions_and_archiving() {
    let sim = support::start_site(fixture::tiny_site(), SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    let asked: Vec<String> = ["10200", "10201", "10202", "not-a-number", "424242"].map(String::from).into();
    assert_eq!(jira.existing_comments(&asked).await.expect("list"), strings(&["10200", "10201", "10202"]));

    mutate(&sim, Mutation::DeleteIssueComment { id: 10201 });
    assert_eq!(jira.existing_comments(&asked).await.expect("list"), strings(&["10200", "10202"]));

    // More than one call's worth of ids: split, and still exact.
    let before = jira.client().stats().api_calls;
    let many: Vec<String> = (0..2_500u64).map(|n| (9_000 + n).to_string()).chain(asked.clone()).collect();
    assert_eq!(jira.existing_comments(&many).await.expect("list"), strings(&["10200", "10202"]));
    assert_eq!(jira.client().stats().api_calls - before, 3, "1000 ids per call");

    mutate(&sim, Mutation::ArchiveIssue { id: 10100 });
    assert!(
        jira.existing_comments(&asked).await.expect("list").is_empty(),
        "comments of archived issues are gone"
    );
    assert!(jira.existing_comments(&[]).await.expect("nothing asked").is_empty());
}

#[tokio::test]
async fn attachments_download_the_files_bytes() {
    let site = generate::generate(&SimConfig::new(5, Scale::Tiny)).expect("site");
    let sim = support::start_site(site.clone(), SimConfig::new(5, Scale::Tiny)).await;
    let jira = jira(&sim);
    let projects = jira.projects().await.expect("projects");
    let (ids, _) = all_ids(&jira, &keys(&projects), None).await;
    let (issues, _) = jira.issues(&ids).await.expect("issues");
    let mut downloaded = 0;
    for attachment in issues.iter().flat_map(|i| &i.attachments) {
        let want = &site.jira_attachments[&attachment.id.parse::<u64>().expect("numeric")];
        assert_eq!(attachment.size, Some(want.file.size));
        let cap = 4 << 20;
        match jira.download(attachment, cap).await {
            Ok(bytes) => {
                assert_eq!(bytes, permdex::sim::files::render(&want.file), "attachment {}", attachment.id);
                downloaded += 1;
            }
            Err(Error::TooLarge { .. }) => {
                assert!(want.file.size > cap, "attachment {} is small", attachment.id)
            }
            Err(e) => panic!("attachment {}: {e}", attachment.id),
        }
    }
    assert!(downloaded > 0, "some attachments were downloaded");

    let fixture_sim = support::start_site(fixture::tiny_site(), SimConfig::new(1, Scale::Tiny)).await;
    let fixture_jira = self::jira(&fixture_sim);
    let (issues, _) = fixture_jira.issues(&["10101".into()]).await.expect("issue");
    let attachment = &issues[0].attachments[0];
    assert!(
        matches!(fixture_jira.download(attachment, 5).await, Err(Error::TooLarge { .. })),
        "the cap holds"
    );
}

#[tokio::test]
async fn directory_lists_users_groups_and_members() {
    let sim = support::start_site(fixture::tiny_site(), SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    let directory = jira.directory().await.expect("directory");
    let users: BTreeMap<&str, (&str, bool)> =
        directory.users.iter().map(|(id, u)| (id.as_str(), (u.display_name.as_str(), u.active))).collect();
    assert_eq!(
        users,
        [
            ("alice", ("Alice", true)),
            ("bob", ("Bob", true)),
            ("carol", ("Carol", true)),
            ("dave", ("Dave", true)),
            ("erin", ("Erin", false)),
        ]
        .into()
    );
    assert_eq!(directory.groups.keys().collect::<Vec<_>>(), ["g-eng", "g-jira", "g-mgr"]);
    assert_eq!(directory.groups["g-eng"].name, "engineering");
    assert_eq!(directory.groups["g-eng"].members, strings(&["alice", "bob", "erin"]), "inactive members too");
    assert_eq!(directory.groups["g-mgr"].members, strings(&["bob", "carol"]));

    mutate(&sim, Mutation::DeactivateUser { account_id: "bob".into() });
    mutate(&sim, Mutation::RenameGroup { group_id: "g-mgr".into(), name: "leads".into() });
    let directory = jira.directory().await.expect("directory");
    assert!(!directory.users["bob"].active);
    assert_eq!(directory.groups["g-mgr"].name, "leads");
}

#[tokio::test]
async fn generated_directory_matches_the_model() {
    let site = generate::generate(&SimConfig::new(11, Scale::Tiny)).expect("site");
    let sim = support::start_site(site.clone(), SimConfig::new(11, Scale::Tiny)).await;
    let directory = jira(&sim).directory().await.expect("directory");
    let want_users: BTreeMap<String, bool> =
        site.users.iter().map(|u| (u.account_id.clone(), u.active)).collect();
    let got_users: BTreeMap<String, bool> =
        directory.users.iter().map(|(id, u)| (id.clone(), u.active)).collect();
    assert_eq!(got_users, want_users);
    let want_groups: BTreeMap<String, BTreeSet<String>> = site
        .groups
        .iter()
        .map(|g| (g.id.clone(), g.members.iter().filter(|m| site.user(m).is_some()).cloned().collect()))
        .collect();
    let got_groups: BTreeMap<String, BTreeSet<String>> =
        directory.groups.iter().map(|(id, g)| (id.clone(), g.members.clone())).collect();
    assert_eq!(got_groups, want_groups);
}

#[tokio::test]
async fn issue_ids_since_a_time_are_the_ones_updated_since() {
    let sim = support::start_site(fixture::tiny_site(), SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    let project_keys: Vec<String> = ["APP", "OPEN", "LEAD"].map(String::from).into();
    let after_generation = DateTime::from_timestamp_millis(T0 + 2 * 86_400_000).expect("time");
    assert!(all_ids(&jira, &project_keys, Some(after_generation)).await.0.is_empty());

    mutate(&sim, Mutation::EditIssue { id: 10110, summary: Some("edited".into()), description_text: None });
    mutate(&sim, Mutation::SetAssignee { id: 10100, account_id: Some("bob".into()) });
    let (ids, _) = all_ids(&jira, &project_keys, Some(after_generation)).await;
    assert_eq!(ids, ["10100", "10110"]);

    // The bound is inclusive, to the millisecond, whatever the site's time zone.
    let updated = sim.state.read().issues[&10110].updated;
    let at = |ms| DateTime::from_timestamp_millis(ms).expect("time");
    assert!(all_ids(&jira, &project_keys, Some(at(updated))).await.0.contains(&"10110".to_string()));
    assert!(!all_ids(&jira, &project_keys, Some(at(updated + 1))).await.0.contains(&"10110".to_string()));
    assert!(jira.issue_ids(&[], None, None).await.expect("no projects").items.is_empty());
    assert!(matches!(
        jira.issue_ids(&project_keys, None, Some("not a token")).await,
        Err(Error::InvalidRequest { .. })
    ));
}

#[tokio::test]
async fn issue_ids_page_at_five_thousand() {
    let mut site = fixture::tiny_site();
    let template = site.issues[&10110].clone();
    for n in 0..6_001u64 {
        let id = 100_000 + n;
        let issue =
            sim::Issue { id, key: format!("OPEN-{}", n + 2), archived: n % 1_000 == 999, ..template.clone() };
        site.issues.insert(id, issue);
    }
    site.reindex();
    let want: Vec<String> = site
        .issues
        .values()
        .filter(|i| i.project_id == 10001 && searchable(&site, i))
        .map(|i| i.id.to_string())
        .collect();
    let sim = support::start_site(site, SimConfig::new(1, Scale::Tiny)).await;
    let jira = jira(&sim);
    let first = jira.issue_ids(&["OPEN".into()], None, None).await.expect("page");
    assert_eq!(first.items.len(), 5_000);
    assert!(first.next.is_some());
    let (ids, pages) = all_ids(&jira, &["OPEN".into()], None).await;
    assert_eq!(pages, 2);
    assert_eq!(ids, want);
}

/// Everything the crawler reads of a site, for comparing crawls.
#[derive(Debug, PartialEq)]
struct Crawl {
    projects: Vec<model::Project>,
    issues: Vec<model::Issue>,
    comments: Vec<model::IssueComment>,
    directory: model::Directory,
    /// Jira applications by key with their access groups (`/applicationrole`).
    applications: BTreeMap<String, BTreeSet<String>>,
}

/// Crawls everything but attachment bytes. Web URLs are kept relative to the site, so crawls of two
/// simulators (on two ports) compare.
async fn crawl(jira: &Jira) -> Crawl {
    let base = jira.client().base_url().as_str().trim_end_matches('/').to_string();
    let relative = |url: &mut String| *url = url.strip_prefix(&base).expect("url on the site").to_string();
    let mut projects = jira.projects().await.expect("projects");
    projects.iter_mut().for_each(|p| relative(&mut p.url));
    let (ids, _) = all_ids(jira, &keys(&projects), None).await;
    let (mut issues, errors) = jira.issues(&ids).await.expect("issues");
    assert!(errors.is_empty(), "{errors:?}");
    issues.iter_mut().for_each(|i| relative(&mut i.url));
    let mut comments = Vec::new();
    for issue in &issues {
        comments.extend(jira.comments(&issue.id, &issue.project_id).await.expect("comments"));
    }
    let applications = jira.application_roles().await.expect("application roles");
    let applications = applications.into_iter().map(|a| (a.key, a.groups)).collect();
    Crawl { projects, issues, comments, directory: jira.directory().await.expect("directory"), applications }
}

#[tokio::test]
async fn walks_are_complete_and_single_under_empty_next_pages() {
    let site = generate::generate(&SimConfig::new(21, Scale::Tiny)).expect("site");
    let clean = support::start_site(site.clone(), SimConfig::new(21, Scale::Tiny)).await;
    let expected = crawl(&jira(&clean)).await;
    let want_issues = site.issues.values().filter(|i| searchable(&site, i)).count();
    assert_eq!(expected.issues.len(), want_issues);

    let faults = FaultConfig { seed: 4, empty_next: 1.0, ..FaultConfig::default() };
    let faulty = support::start_site(site, SimConfig { faults, ..SimConfig::new(21, Scale::Tiny) }).await;
    let got = crawl(&jira(&faulty)).await;
    assert!(faulty.state.guard.stats().empty_next > 0, "the fault was injected");
    assert_eq!(got, expected);
}

#[tokio::test]
async fn a_rate_limited_crawl_reads_the_same_site() {
    let site = generate::generate(&SimConfig::new(22, Scale::Tiny)).expect("site");
    let clean = support::start_site(site.clone(), SimConfig::new(22, Scale::Tiny)).await;
    let expected = crawl(&jira(&clean)).await;

    // A small burst: a tiny crawl makes few calls at once, and a loaded machine makes them slowly.
    let rate_limit = support::rate_limit(8, Duration::from_millis(100));
    let limited = support::start_site(
        site,
        SimConfig { rate_limit: Some(rate_limit), ..SimConfig::new(22, Scale::Tiny) },
    )
    .await;
    let jira = jira(&limited);
    let got = crawl(&jira).await;
    assert!(jira.client().stats().throttled > 0, "the limit was hit");
    assert!(jira.client().stats().retries >= jira.client().stats().throttled);
    assert_eq!(got, expected);
}

/// Who may read each Jira document, as permdex would decide from this crawl, against the oracle: for every
/// account the site knows or names, and every issue, comment and attachment in scope.
fn assert_crawl_is_exact(site: &Site, crawl: &Crawl) {
    let snapshot = PermissionSnapshot {
        projects: crawl.projects.iter().map(|p| (p.id.clone(), p.clone())).collect(),
        directory: crawl.directory.clone(),
        products: ProductAccess {
            jira: Some(crawl.applications.clone()),
            confluence: None,
            confluence_licensed: None,
        },
        ..Default::default()
    };
    let issues: BTreeMap<&str, &model::Issue> = crawl.issues.iter().map(|i| (i.id.as_str(), i)).collect();
    let mut inputs: Vec<(String, AclInput)> = Vec::new();
    for issue in &crawl.issues {
        inputs.push((format!("jira:issue:{}", issue.id), AclInput::of_issue(issue)));
        for attachment in &issue.attachments {
            inputs.push((format!("jira:attachment:{}", attachment.id), AclInput::of_issue(issue)));
        }
    }
    for comment in &crawl.comments {
        inputs.push((
            format!("jira:comment:{}", comment.id),
            AclInput::of_issue_comment(issues[comment.issue_id.as_str()], comment),
        ));
    }
    let crawled: BTreeSet<String> = inputs.iter().map(|(doc, _)| doc.clone()).collect();
    let in_scope = support::oracle_docs(site, Scope::default(), "jira:");
    assert_eq!(crawled, in_scope, "the crawl covers exactly the Jira documents in scope");

    let mut accounts: BTreeSet<String> = site.users.iter().map(|u| u.account_id.clone()).collect();
    accounts.extend(site.issues.values().flat_map(|i| i.reporter.iter().chain(&i.assignee).cloned()));
    accounts.insert("never-an-account".into());
    support::assert_acls_match_oracle(site, &snapshot, &inputs, &accounts);
}

#[tokio::test]
async fn crawled_permissions_resolve_exactly_as_the_oracle_says() {
    let fixture_site = fixture::tiny_site();
    let sim = support::start_site(fixture_site.clone(), SimConfig::new(1, Scale::Tiny)).await;
    assert_crawl_is_exact(&fixture_site, &crawl(&jira(&sim)).await);

    for seed in [31, 32] {
        let site = generate::generate(&SimConfig::new(seed, Scale::Tiny)).expect("site");
        let sim = support::start_site(site.clone(), SimConfig::new(seed, Scale::Tiny)).await;
        let jira = jira(&sim);
        assert_crawl_is_exact(&site, &crawl(&jira).await);

        // After permission and content changes, a new crawl is exact again.
        support::apply_random_mutations(&sim, seed, 40);
        let site = sim.state.read().clone();
        assert_crawl_is_exact(&site, &crawl(&jira).await);
    }
}
