//! The oracle and the mutations on more than the hand-worked fixture: random mutation sequences must keep the
//! model consistent, and the memoised `visible` must agree with the direct `can_view` on every site they
//! produce, and on a synthetic site with deep, randomly restricted page trees.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use permdex::sim::fixture::tiny_site;
use permdex::sim::model::*;
use permdex::sim::mutate::{apply, random_mutation};
use permdex::sim::oracle::{all_docs, can_view, visible, Scope};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const SCOPES: [Scope; 2] = [Scope { include_archived: false }, Scope { include_archived: true }];

/// Every structural rule the mutation API promises to keep.
fn check_invariants(site: &Site) -> Result<(), String> {
    for (&id, c) in &site.contents {
        if id != c.id {
            return Err(format!("content key {id} holds {}", c.id));
        }
        if !site.spaces.contains_key(&c.space_id) {
            return Err(format!("content {id} is in missing space {}", c.space_id));
        }
        if let Some(p) = c.parent_id {
            let parent = site.contents.get(&p).ok_or(format!("content {id} has missing parent {p}"))?;
            if c.kind != ContentKind::Page || parent.kind != ContentKind::Page {
                return Err(format!("content {id} under {p}: only pages nest"));
            }
            if parent.space_id != c.space_id {
                return Err(format!(
                    "page {id} in space {} under page {p} in space {}",
                    c.space_id, parent.space_id
                ));
            }
        }
        let mut steps = 0;
        let mut cur = c.parent_id;
        while let Some(p) = cur {
            steps += 1;
            if p == id || steps > site.contents.len() {
                return Err(format!("page {id} is on a parent cycle"));
            }
            cur = site.contents.get(&p).and_then(|c| c.parent_id);
        }
    }
    for s in site.spaces.values() {
        if let Some(h) = s.homepage_id {
            if site.contents.get(&h).is_none_or(|c| c.space_id != s.id) {
                return Err(format!("space {} has home page {h} outside it", s.key));
            }
        }
    }
    for (&id, c) in &site.comments {
        if id != c.id || !site.contents.contains_key(&c.container_id) {
            return Err(format!("comment {id} is orphaned"));
        }
        if let Some(p) = c.parent_comment_id {
            if site.comments.get(&p).is_none_or(|p| p.container_id != c.container_id) {
                return Err(format!("comment {id} replies to {p}, not on its page"));
            }
        }
    }
    for (&id, a) in &site.attachments {
        if id != a.id || !site.contents.contains_key(&a.container_id) {
            return Err(format!("attachment {id} is orphaned"));
        }
    }
    let content_ids = site.contents.len() + site.comments.len() + site.attachments.len();
    let distinct: HashSet<u64> =
        site.contents.keys().chain(site.comments.keys()).chain(site.attachments.keys()).copied().collect();
    if distinct.len() != content_ids {
        return Err("pages, comments and attachments share an id".into());
    }
    for (&id, i) in &site.issues {
        if id != i.id || !site.projects.contains_key(&i.project_id) {
            return Err(format!("issue {id} is orphaned"));
        }
        if let Some(p) = i.parent_id {
            if !site.issues.contains_key(&p) {
                return Err(format!("issue {} has missing parent {p}", i.key));
            }
        } else if i.issue_type.is_subtask() {
            return Err(format!("sub-task {} has no parent", i.key));
        }
    }
    for c in site.issue_comments.values() {
        if !site.issues.contains_key(&c.issue_id) {
            return Err(format!("issue comment {} is orphaned", c.id));
        }
    }
    for a in site.jira_attachments.values() {
        if !site.issues.contains_key(&a.issue_id) {
            return Err(format!("jira attachment {} is orphaned", a.id));
        }
    }
    let unique = |ids: Vec<u64>, what: &str| {
        let n = ids.len();
        if ids.into_iter().collect::<HashSet<_>>().len() == n {
            Ok(())
        } else {
            Err(format!("duplicate {what} ids"))
        }
    };
    unique(site.permission_schemes.values().flat_map(|s| &s.grants).map(|g| g.id).collect(), "grant")?;
    unique(
        site.security_schemes
            .values()
            .flat_map(|s| &s.levels)
            .flat_map(|l| &l.members)
            .map(|m| m.id)
            .collect(),
        "level member",
    )?;
    unique(site.spaces.values().flat_map(|s| &s.permissions).map(|p| p.id).collect(), "space permission")?;
    let names: HashSet<String> = site.groups.iter().map(|g| g.name.to_lowercase()).collect();
    if names.len() != site.groups.len() {
        return Err("two groups share a name".into());
    }
    let latest = site
        .contents
        .values()
        .map(|c| c.updated)
        .chain(site.comments.values().map(|c| c.updated))
        .chain(site.issues.values().map(|i| i.updated))
        .chain(site.issue_comments.values().map(|c| c.updated))
        .max()
        .unwrap_or(i64::MIN);
    if latest > site.clock {
        return Err(format!("a time stamp {latest} is later than the clock {}", site.clock));
    }
    let mut fresh = site.clone();
    fresh.reindex();
    if fresh.index != site.index {
        return Err("index differs from a fresh reindex".into());
    }
    Ok(())
}

/// The memoised `visible` against `can_view` on every in-scope document, for every account.
fn check_visible_matches_can_view(site: &Site) -> Result<(), String> {
    let accounts = site.users.iter().map(|u| u.account_id.as_str()).chain(["gone-user", "nobody-at-all"]);
    for account in accounts {
        for scope in SCOPES {
            let expected: Vec<_> =
                all_docs(site, scope).into_iter().filter(|d| can_view(site, account, d)).collect();
            if visible(site, account, scope) != expected {
                return Err(format!("visible({account}, {scope:?}) disagrees with can_view"));
            }
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn random_mutation_sequences_keep_the_fixture_consistent(seed in any::<u64>(), steps in 1usize..120) {
        let mut site = tiny_site();
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for step in 0..steps {
            let m = random_mutation(&site, &mut rng);
            if let Err(e) = apply(&mut site, &m) {
                return Err(TestCaseError::fail(format!("step {step}: {m:?} rejected: {e}")));
            }
            check_invariants(&site).map_err(|e| TestCaseError::fail(format!("step {step} after {m:?}: {e}")))?;
        }
        check_visible_matches_can_view(&site).map_err(TestCaseError::fail)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(6))]

    #[test]
    fn random_mutation_sequences_keep_a_synthetic_site_consistent(seed in any::<u64>()) {
        let mut site = synthetic_site(seed, 300);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for step in 0..60 {
            let m = random_mutation(&site, &mut rng);
            if let Err(e) = apply(&mut site, &m) {
                return Err(TestCaseError::fail(format!("step {step}: {m:?} rejected: {e}")));
            }
        }
        check_invariants(&site).map_err(TestCaseError::fail)?;
        check_visible_matches_can_view(&site).map_err(TestCaseError::fail)?;
    }
}

#[test]
fn visible_agrees_with_can_view_on_deep_restricted_trees() {
    let site = synthetic_site(11, 3_000);
    check_invariants(&site).unwrap();
    check_visible_matches_can_view(&site).unwrap();
    // The site must exercise the rules, not only agree on trivia.
    let restricted = site.contents.values().filter(|c| !c.read_restriction.is_empty()).count();
    let deep = site.contents.keys().filter(|&&id| site.ancestors(id).len() >= 5).count();
    let leveled = site.issues.values().filter(|i| site.effective_security_level(i).is_some()).count();
    assert!(restricted > 100 && deep > 100 && leveled > 100, "{restricted} {deep} {leveled}");
    let seen: Vec<usize> =
        site.users.iter().map(|u| visible(&site, &u.account_id, Scope::default()).len()).collect();
    let total = all_docs(&site, Scope::default()).len();
    assert!(seen.iter().any(|&n| n > 0 && n < total), "readers differ: {seen:?} of {total}");
}

/// A site grown from the fixture with random users, groups, spaces, page trees (some deep and restricted),
/// comments, attachments and issues with levels and comment visibility. `pages` sets its size: it holds
/// roughly five items per page.
pub fn synthetic_site(seed: u64, pages: usize) -> Site {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut site = tiny_site();
    let t0 = site.clock;
    for n in 0..40 {
        site.users.push(User {
            account_id: format!("u{n}"),
            display_name: format!("User {n}"),
            email: format!("u{n}@example.com"),
            email_hidden: false,
            active: rng.gen_bool(0.95),
            account_type: Default::default(),
        });
    }
    let accounts: Vec<String> = site.users.iter().map(|u| u.account_id.clone()).collect();
    for n in 0..12 {
        let members = accounts.iter().filter(|_| rng.gen_bool(0.2)).cloned().collect();
        site.groups.push(Group { id: format!("sg{n}"), name: format!("synthetic {n}"), members });
    }
    let groups: Vec<String> = site.groups.iter().map(|g| g.id.clone()).collect();
    let pick = |rng: &mut ChaCha8Rng, items: &[String]| items[rng.gen_range(0..items.len())].clone();

    let mut next_perm = 100;
    let mut space_ids = Vec::new();
    for n in 0..(pages / 200).max(3) as u64 {
        let id = 100 + n;
        let mut permissions = Vec::new();
        for _ in 0..rng.gen_range(1..4) {
            let principal = match rng.gen_range(0..10) {
                0 => SpacePrincipal::Role("ANONYMOUS".into()),
                1..=3 => SpacePrincipal::User(pick(&mut rng, &accounts)),
                _ => SpacePrincipal::Group(pick(&mut rng, &groups)),
            };
            let operation = if rng.gen_bool(0.9) { "read" } else { "create" };
            permissions.push(SpacePermission {
                id: next_perm,
                principal,
                operation: operation.into(),
                target: "space".into(),
            });
            next_perm += 1;
        }
        site.spaces.insert(
            id,
            Space {
                id,
                key: format!("S{n}"),
                name: format!("Space {n}"),
                description: String::new(),
                kind: SpaceKind::Global,
                status: if rng.gen_bool(0.1) { Status::Archived } else { Status::Current },
                created: t0,
                author: "alice".into(),
                homepage_id: None,
                topic: 0,
                permissions,
            },
        );
        space_ids.push(id);
    }

    let restriction = |rng: &mut ChaCha8Rng| {
        if rng.gen_bool(0.85) {
            return Restriction::default();
        }
        let users: BTreeSet<String> = (0..rng.gen_range(0..3)).map(|_| pick(rng, &accounts)).collect();
        let groups: BTreeSet<String> = (0..rng.gen_range(0..3)).map(|_| pick(rng, &groups)).collect();
        Restriction { users, groups }
    };
    let mut next_id = 1_000u64;
    let mut by_space: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    for _ in 0..pages {
        let space_id = space_ids[rng.gen_range(0..space_ids.len())];
        let siblings = by_space.entry(space_id).or_default();
        let kind = if rng.gen_bool(0.1) { ContentKind::BlogPost } else { ContentKind::Page };
        // Prefer recent pages as parents, so that trees grow deep.
        let parent_id = match (kind, siblings.len()) {
            (ContentKind::Page, n) if n > 0 && rng.gen_bool(0.9) => {
                let candidate = siblings[n - 1 - rng.gen_range(0..n.min(4))];
                site.contents.get(&candidate).filter(|c| c.kind == ContentKind::Page).map(|c| c.id)
            }
            _ => None,
        };
        let id = next_id;
        next_id += 1;
        siblings.push(id);
        site.contents.insert(
            id,
            Content {
                id,
                kind,
                space_id,
                parent_id,
                title: format!("Page {id}"),
                body: format!("<p>Body {id}</p>"),
                status: if rng.gen_bool(0.05) { Status::Archived } else { Status::Current },
                version: 1,
                created: t0,
                updated: t0,
                author: "alice".into(),
                last_editor: "alice".into(),
                read_restriction: restriction(&mut rng),
                update_restriction: Restriction::default(),
                labels: vec![],
                position: 0,
            },
        );
        for _ in 0..rng.gen_range(0..3) {
            let c = next_id;
            next_id += 1;
            site.comments.insert(
                c,
                Comment {
                    id: c,
                    container_id: id,
                    parent_comment_id: None,
                    body: format!("<p>Comment {c}</p>"),
                    version: 1,
                    created: t0,
                    updated: t0,
                    author: "bob".into(),
                },
            );
        }
        if rng.gen_bool(0.4) {
            let a = next_id;
            next_id += 1;
            site.attachments.insert(
                a,
                Attachment {
                    id: a,
                    container_id: id,
                    file: FileBody {
                        kind: FileKind::Text,
                        filename: format!("f{a}.txt"),
                        text: "x".into(),
                        size: 1,
                    },
                    file_id: format!("file-{a}"),
                    comment: String::new(),
                    version: 1,
                    created: t0,
                    updated: t0,
                    author: "bob".into(),
                },
            );
        }
    }

    let projects: Vec<u64> = site.projects.keys().copied().collect();
    if let Some(app) = site.projects.get_mut(&10000) {
        app.roles.insert(
            10002,
            RoleActors { users: BTreeSet::new(), groups: groups.iter().take(3).cloned().collect() },
        );
    }
    let mut next_comment = 30_000u64;
    for id in (20_000u64..).take(pages) {
        let project_id = projects[rng.gen_range(0..projects.len())];
        let subtask_of = site
            .issues
            .values()
            .rev()
            .take(5)
            .find(|i| i.project_id == project_id && !i.issue_type.is_subtask())
            .map(|i| i.id)
            .filter(|_| rng.gen_bool(0.3));
        let person = |rng: &mut ChaCha8Rng| rng.gen_bool(0.8).then(|| pick(rng, &accounts));
        site.issues.insert(
            id,
            Issue {
                id,
                key: format!("SYN{project_id}-{id}"),
                project_id,
                issue_type: if subtask_of.is_some() { IssueType::Subtask } else { IssueType::Task },
                parent_id: subtask_of,
                summary: format!("Issue {id}"),
                description: "{}".into(),
                reporter: person(&mut rng),
                assignee: person(&mut rng),
                security_level_id: (project_id == 10000 && rng.gen_bool(0.5)).then_some(5001),
                status: "To Do".into(),
                priority: "Medium".into(),
                labels: vec![],
                created: t0,
                updated: t0,
                archived: rng.gen_bool(0.03),
            },
        );
        for _ in 0..rng.gen_range(0..3) {
            let c = next_comment;
            next_comment += 1;
            let visibility = match rng.gen_range(0..6) {
                0 => Some(Visibility::Group(pick(&mut rng, &groups))),
                1 => Some(Visibility::Role(10001 + rng.gen_range(0..2))),
                _ => None,
            };
            site.issue_comments.insert(
                c,
                IssueComment {
                    id: c,
                    issue_id: id,
                    author: "alice".into(),
                    body: "{}".into(),
                    created: t0,
                    updated: t0,
                    visibility,
                    internal: false,
                },
            );
        }
    }
    site.reindex();
    site
}
