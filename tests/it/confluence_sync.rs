//! The Confluence side of the sync engine on sites with inline comments and role-based space access,
//! against the simulator's oracle: every user × document equals the oracle after full, incremental and
//! permissions-only runs; and a space whose permissions or listings cannot be read costs that space only
//! (its documents kept as last committed, or left unindexed on a first sync), never the other spaces, and
//! nothing widens.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use permdex::sim::model::{
    ContentKind, Resolution, RoleMode, RolePrincipal, Site, SpaceKind, SpacePrincipal, Status,
};
use permdex::sim::mutate::Mutation;
use permdex::sim::{BrokenTarget, DocId, Scale, SimConfig, SiteFeatures};
use permdex::sync::{Mode, RunOutcome, RunRecord};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::support;
use crate::sync::{harness_configured, harness_with, random_mutations, Harness};

fn features() -> SiteFeatures {
    SiteFeatures { inline_comments: true, space_roles: true, ..SiteFeatures::NONE }
}

/// The labels of an indexed document.
fn labels(h: &Harness, id: &str) -> Vec<String> {
    h.index().reader().get(id).expect("get").map(|d| d.labels).unwrap_or_default()
}

/// Every document of a space: its pages and blog posts, and their comments (footer and inline) and
/// attachments.
fn docs_of_space(site: &Site, space_id: u64) -> BTreeSet<String> {
    let contents: BTreeMap<u64, ContentKind> =
        site.contents.values().filter(|c| c.space_id == space_id).map(|c| (c.id, c.kind)).collect();
    let mut docs: BTreeSet<String> =
        contents.iter().map(|(id, kind)| DocId::confluence_content(*kind, *id).0).collect();
    let footer = site.comments.values().map(|c| (c.id, c.container_id));
    let inline = site.inline_comments.values().map(|c| (c.id, c.container_id));
    for (id, container) in footer.chain(inline) {
        if contents.contains_key(&container) {
            docs.insert(DocId::confluence_comment(id).0);
        }
    }
    for a in site.attachments.values().filter(|a| contents.contains_key(&a.container_id)) {
        docs.insert(DocId::confluence_attachment(a.id).0);
    }
    docs
}

/// What each account may read of `docs`, by the oracle (`want`) and by the index (`got`).
async fn visible_among(
    h: &Harness,
    docs: &BTreeSet<String>,
) -> (BTreeMap<String, Vec<String>>, BTreeMap<String, Vec<String>>) {
    let index = h.index();
    let (mut want, mut got) = (BTreeMap::new(), BTreeMap::new());
    for user in h.site().users {
        let among = |ids: Vec<String>| ids.into_iter().filter(|id| docs.contains(id)).collect::<Vec<_>>();
        want.insert(user.account_id.clone(), among(h.oracle(&user.account_id).await));
        got.insert(user.account_id.clone(), among(index.visible_ids(&user.account_id).expect("visible")));
    }
    (want, got)
}

/// For every account: the index shows exactly what the oracle shows, outside `except`.
async fn assert_matches_oracle_outside(h: &Harness, except: &BTreeSet<String>, context: &str) {
    let everything: BTreeSet<String> = h
        .index()
        .reader()
        .all_ids()
        .expect("ids")
        .into_iter()
        .map(|(id, _)| id)
        .chain(permdex::sim::oracle::all_docs(&h.site(), Default::default()).into_iter().map(|d| d.0))
        .filter(|id| !except.contains(id))
        .collect();
    let (want, got) = visible_among(h, &everything).await;
    for (account, want) in &want {
        assert_eq!(&got[account], want, "{context}: account {account}");
    }
}

fn failed_items(record: &RunRecord) -> Vec<String> {
    record.failures.iter().map(|f| f.item.clone()).collect()
}

/// The failures of a run besides attachments (generated sites hold files no extractor reads).
fn failures_but_files(record: &RunRecord) -> Vec<String> {
    failed_items(record).into_iter().filter(|item| !item.contains(":attachment:")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inline_comments_and_role_based_spaces_match_the_oracle_after_every_kind_of_run() {
    let with_access = SiteFeatures { product_access: true, ..features() };
    // The small scale is `sync::small_site_full_and_incremental_match_the_oracle`, on a site with both.
    for (seed, features) in [(2_u64, features()), (7, with_access), (11, features())] {
        // Attachments are indexed by name alone (none is downloaded): their text is not what this tests.
        let h =
            harness_configured(SimConfig::new(seed, Scale::Tiny), features, "max_attachment_bytes = 0").await;
        let site = h.site();
        assert_eq!(site.space_roles.mode, RoleMode::Transition);
        let record = h.sync(Mode::Full).await;
        assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed}: {:?}", record.failures);
        assert_eq!(failures_but_files(&record), Vec::<String>::new(), "seed {seed}");
        h.assert_matches_oracle(&format!("seed {seed} full")).await;
        h.assert_complete(&format!("seed {seed} full"));

        // Not vacuous: inline comments (resolved ones too) are indexed and marked, and a space that only
        // its roles open is read by somebody.
        let resolved = site
            .inline_comments
            .values()
            .find(|c| {
                c.resolution == Resolution::Resolved
                    && site.contents.get(&c.container_id).is_some_and(|p| p.status == Status::Current)
            })
            .expect("a resolved inline comment on current content");
        let id = DocId::confluence_comment(resolved.id).0;
        assert!(labels(&h, &id).contains(&"inline-comment:resolved".to_string()), "seed {seed}: {id}");
        let role_only: Vec<u64> = site
            .spaces
            .values()
            .filter(|s| !s.permissions.iter().any(|p| p.operation == "read"))
            .filter(|s| site.space_roles.assignments.contains_key(&s.id))
            .map(|s| s.id)
            .collect();
        let docs: BTreeSet<String> = role_only.iter().flat_map(|s| docs_of_space(&site, *s)).collect();
        let (_, got) = visible_among(&h, &docs).await;
        let through_roles: usize = got.values().map(Vec::len).sum();
        assert!(through_roles > 0, "seed {seed}: spaces {role_only:?} are read through their roles only");

        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for round in 0..2 {
            // One change of each inline kind, then random changes of every kind.
            let site = h.site();
            let thread =
                site.inline_comments.values().find(|c| c.parent_comment_id.is_none()).expect("a thread");
            let container = site.contents.values().find(|c| c.status == Status::Current).expect("content").id;
            let mut mutations = vec![
                Mutation::SetInlineResolution { id: thread.id, resolution: Resolution::Resolved },
                Mutation::AddInlineComment {
                    container_id: container,
                    parent_comment_id: None,
                    body: format!("round {round}: a new inline remark"),
                    selection: "highlighted".into(),
                },
            ];
            h.mutate(&mutations).await;
            let random = random_mutations(&h.site(), &mut rng, 6, |_| true);
            h.mutate(&random).await;
            mutations.extend(random);
            let record = h.sync(Mode::Incremental).await;
            assert_eq!(record.outcome, RunOutcome::Completed, "seed {seed} round {round}");
            let context = format!("seed {seed} round {round} after {mutations:?}");
            h.assert_matches_oracle(&context).await;
            h.assert_complete(&context);
            let thread_doc = DocId::confluence_comment(thread.id).0;
            if h.index().reader().get(&thread_doc).expect("get").is_some() {
                assert!(
                    labels(&h, &thread_doc).contains(&"inline-comment:resolved".to_string()),
                    "{context}"
                );
            }

            // Who holds a viewing role changes, and nothing else does.
            let site = h.site();
            let viewer = site.space_roles.roles.iter().find(|r| r.name == "Viewer").expect("viewer role");
            let user = site.users.iter().filter(|u| u.active).nth(round + 1).expect("a user");
            let mut mutations = random_mutations(&site, &mut rng, 6, support::permission_only);
            for space in &role_only {
                mutations.push(Mutation::SetSpaceRoleAssignment {
                    space_id: *space,
                    principal: RolePrincipal::User(user.account_id.clone()),
                    role_id: viewer.id.clone(),
                    assign: round == 0,
                });
            }
            h.mutate(&mutations).await;
            let record = h.sync(Mode::PermissionsOnly).await;
            assert_eq!(
                record.total().added + record.total().updated,
                0,
                "no bodies in a permissions-only run"
            );
            h.assert_matches_oracle(&format!(
                "seed {seed} round {round} permissions only after {mutations:?}"
            ))
            .await;
        }
    }
}

/// A current global space of the site with documents somebody reads, and an active account that reads
/// none of them (by the oracle).
async fn space_and_outsider(h: &Harness) -> (u64, String, String) {
    let site = h.site();
    for space in site.spaces.values().filter(|s| s.kind == SpaceKind::Global && s.status == Status::Current) {
        let docs = docs_of_space(&site, space.id);
        let (want, _) = visible_among(h, &docs).await;
        let outsider = want.iter().find(|(a, v)| v.is_empty() && site.user(a).is_some_and(|u| u.active));
        if want.values().any(|v| !v.is_empty()) {
            if let Some((outsider, _)) = outsider {
                return (space.id, space.key.clone(), outsider.clone());
            }
        }
    }
    panic!("no space with readers and an outsider");
}

/// Another current space than `not`, with documents.
fn other_space(site: &Site, not: u64) -> u64 {
    site.spaces
        .values()
        .filter(|s| s.id != not && s.status == Status::Current && !docs_of_space(site, s.id).is_empty())
        .map(|s| s.id)
        .next()
        .expect("another space")
}

fn break_requests(h: &Harness, broken: impl Fn(&str, &[(String, String)]) -> bool + Send + Sync + 'static) {
    let broken: BrokenTarget = Arc::new(broken);
    h.sim.state.guard.set_broken(Some(broken));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_space_whose_permissions_cannot_be_read_keeps_its_documents_and_costs_no_other_space() {
    let h = harness_with(SimConfig::new(12, Scale::Tiny), features()).await;
    assert_eq!(failures_but_files(&h.sync(Mode::Full).await), Vec::<String>::new());
    let (space, key, outsider) = space_and_outsider(&h).await;
    let docs = docs_of_space(&h.site(), space);
    let (_, before) = visible_among(&h, &docs).await;
    let other = other_space(&h.site(), space);

    // Each way a space's permission model can be unreadable: its permissions, its role assignments, its
    // part of the access listing (asked with other spaces' at first, then alone).
    let quoted_key = format!("\"{key}\"");
    let breakers: Vec<(&str, BrokenTarget)> = vec![
        ("permissions", {
            let path = format!("/wiki/api/v2/spaces/{space}/permissions");
            Arc::new(move |p: &str, _: &[(String, String)]| p == path)
        }),
        ("role assignments", {
            let path = format!("/wiki/api/v2/spaces/{space}/role-assignments");
            Arc::new(move |p: &str, _: &[(String, String)]| p == path)
        }),
        ("access listing", {
            Arc::new(move |p: &str, q: &[(String, String)]| {
                p == "/wiki/rest/api/content/search"
                    && q.iter().any(|(k, v)| k == "cql" && v.contains(&quoted_key))
            })
        }),
    ];
    for (round, (what, broken)) in breakers.into_iter().enumerate() {
        let context = format!("{what} of space {key} unreadable");
        h.sim.state.guard.set_broken(Some(broken));
        // The space now admits the outsider, and another space changes: only the other change may show.
        let site = h.site();
        let open = |space_id, grant| Mutation::SetSpacePermission {
            space_id,
            principal: SpacePrincipal::User(outsider.clone()),
            grant,
        };
        let reader = site.users.iter().filter(|u| u.active).nth(round).expect("a user").account_id.clone();
        h.mutate(&[
            open(space, true),
            Mutation::SetSpacePermission {
                space_id: other,
                principal: SpacePrincipal::User(reader),
                grant: round % 2 == 0,
            },
        ])
        .await;
        let (want_now, _) = visible_among(&h, &docs).await;
        assert_ne!(want_now[&outsider], before[&outsider], "{context}: the grant matters");
        for mode in [Mode::PermissionsOnly, Mode::Incremental] {
            let record = h.sync(mode).await;
            assert!(
                failed_items(&record).contains(&format!("space {key}")),
                "{context}, {mode:?}: recorded: {:?}",
                record.failures
            );
            assert_eq!(record.total().deleted, 0, "{context}, {mode:?}: nothing of the space is deleted");
            let (_, got) = visible_among(&h, &docs).await;
            assert_eq!(got, before, "{context}, {mode:?}: the space's documents stay as last committed");
            assert_matches_oracle_outside(&h, &docs, &format!("{context}, {mode:?}")).await;
        }
        // Mended: the space follows again.
        h.sim.state.guard.set_broken(None);
        let record = h.sync(Mode::Incremental).await;
        assert_eq!(failures_but_files(&record), Vec::<String>::new(), "{context}, mended");
        h.assert_matches_oracle(&format!("{context}, mended")).await;
        h.mutate(&[open(space, false)]).await;
        h.sync(Mode::PermissionsOnly).await;
        h.assert_matches_oracle(&format!("{context}, outsider out again")).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_first_sync_an_unreadable_space_stays_unindexed_and_the_others_are_complete() {
    let h = harness_with(SimConfig::new(13, Scale::Tiny), features()).await;
    let site = h.site();
    let space = site
        .spaces
        .values()
        .find(|s| {
            s.kind == SpaceKind::Global
                && s.status == Status::Current
                && !docs_of_space(&site, s.id).is_empty()
        })
        .expect("a space with documents");
    let docs = docs_of_space(&site, space.id);
    let path = format!("/wiki/api/v2/spaces/{}/permissions", space.id);
    break_requests(&h, move |p, _| p == path);
    let record = h.sync(Mode::Full).await;
    assert!(failed_items(&record).contains(&format!("space {}", space.key)), "{:?}", record.failures);
    let indexed: BTreeSet<String> =
        h.index().reader().all_ids().expect("ids").into_iter().map(|(id, _)| id).collect();
    assert!(indexed.is_disjoint(&docs), "nothing of the unreadable space is indexed");
    assert_matches_oracle_outside(&h, &docs, "first sync with one space unreadable").await;

    h.sim.state.guard.set_broken(None);
    let record = h.sync(Mode::Incremental).await;
    assert_eq!(failures_but_files(&record), Vec::<String>::new());
    h.assert_matches_oracle("mended").await;
    h.assert_complete("mended");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_listing_that_fails_for_one_space_costs_that_space_only() {
    let h = harness_with(SimConfig::new(14, Scale::Tiny), features()).await;
    let site = h.site();
    let space =
        site.spaces
            .values()
            .find(|s| {
                s.status == Status::Current
                    && site.contents.values().any(|c| {
                        c.space_id == s.id && c.kind == ContentKind::Page && c.status == Status::Current
                    })
            })
            .expect("a space with pages");
    let pages: BTreeSet<String> = site
        .contents
        .values()
        .filter(|c| c.space_id == space.id && c.kind == ContentKind::Page)
        .map(|c| DocId::confluence_content(c.kind, c.id).0)
        .collect();
    // The v2 page listing of any set of spaces that holds this one fails, every time.
    let id = space.id.to_string();
    break_requests(&h, move |p, q| {
        p == "/wiki/api/v2/pages" && q.iter().any(|(k, v)| k == "space-id" && v.split(',').any(|s| s == id))
    });
    let record = h.sync(Mode::Full).await;
    assert_eq!(record.outcome, RunOutcome::Completed);
    assert!(
        failed_items(&record).contains(&format!("space {}: listing pages", space.key)),
        "{:?}",
        record.failures
    );
    assert!(record.notes.iter().any(|n| n.contains("one space at a time")), "{:?}", record.notes);
    let indexed: BTreeSet<String> =
        h.index().reader().all_ids().expect("ids").into_iter().map(|(id, _)| id).collect();
    assert!(indexed.is_disjoint(&pages), "the space's pages could not be listed");
    assert_matches_oracle_outside(&h, &pages, "one space's page listing failing").await;

    h.sim.state.guard.set_broken(None);
    let record = h.sync(Mode::Incremental).await;
    assert_eq!(failures_but_files(&record), Vec::<String>::new());
    h.assert_matches_oracle("mended").await;
    h.assert_complete("mended");
}
