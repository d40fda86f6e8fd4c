//! ACL exactness: permission resolution against the simulator's oracle, for every user × document.
//!
//! The snapshot and the per-document inputs are built straight from the simulator's model by [`adapt`],
//! which only translates field shapes into the crawled model (the way the crawlers serve them) and decides
//! nothing about who may read what. Every document's profile is then checked against
//! `oracle::can_view`: a caller's allowed profiles must contain it exactly when the oracle says the caller
//! may read it. On the hand-written fixture, on generated sites of several seeds, and after random
//! mutations, re-resolved into the same store as a permissions-only refresh would.

use std::collections::{BTreeMap, BTreeSet};

use permdex::acl::{AclStore, ProfileId};
use permdex::atlassian::model as crawled;
use permdex::sim::fixture::tiny_site;
use permdex::sim::generate::{generate, generate_with};
use permdex::sim::model::{self as sim, Site, Status};
use permdex::sim::mutate::{apply, random_mutation, Mutation};
use permdex::sim::oracle::{all_docs, can_view, Scope};
use permdex::sim::{DocId, Scale, SimConfig, SiteFeatures};
use permdex::sync::resolve::{
    caller_principals, refresh_all, resolve, AclInput, PermissionSnapshot, Request, Visibility,
};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The permission snapshot of a site and the input of every in-scope, non-archived document, as a crawl of
/// the site would produce them.
struct Adapted {
    snapshot: PermissionSnapshot,
    inputs: BTreeMap<DocId, AclInput>,
}

/// Translates the simulator's model into the crawled model. What it does beyond renaming is what the
/// crawlers do by contract: space readers are the `read` operations on target `space` (v2 space
/// permissions), the `ANONYMOUS` role is anonymous access and other roles are not understood, browse holders
/// are the `BROWSE_PROJECTS` grants of the project's scheme, application roles are as `/applicationrole` serves them, a
/// project's levels are those of its security scheme, and an issue's level is the one Jira serves for it
/// (a sub-task's parent's).
fn adapt(site: &Site) -> Adapted {
    let mut snapshot = PermissionSnapshot::default();
    // What `GET /applicationrole` serves, and a `confluence_access_groups` naming the site's Confluence
    // access groups (licensed and guests) where product access is enforced.
    snapshot.products.jira =
        Some(site.product_access.jira.values().map(|app| (app.key.clone(), app.groups.clone())).collect());
    if site.product_access.rule == sim::AccessRule::Groups {
        let access = &site.product_access;
        snapshot.products.confluence =
            Some(access.confluence_users.union(&access.confluence_guests).cloned().collect());
    }
    for u in &site.users {
        snapshot.directory.users.insert(
            u.account_id.clone(),
            crawled::DirectoryUser { display_name: u.display_name.clone(), active: u.active, email: None },
        );
    }
    for g in &site.groups {
        snapshot.directory.groups.insert(
            g.id.clone(),
            crawled::DirectoryGroup { name: g.name.clone(), members: g.members.clone() },
        );
    }
    for s in site.spaces.values() {
        let readers = s
            .permissions
            .iter()
            .filter(|p| p.operation == "read" && p.target == "space")
            .map(|p| match &p.principal {
                sim::SpacePrincipal::User(u) => crawled::Subject::User(u.clone()),
                sim::SpacePrincipal::Group(g) => crawled::Subject::Group(g.clone()),
                sim::SpacePrincipal::Role(r) if r == "ANONYMOUS" => crawled::Subject::Anonymous,
                sim::SpacePrincipal::Role(r) => crawled::Subject::Unknown(r.clone()),
            })
            .collect();
        let kind = match &s.kind {
            sim::SpaceKind::Global => crawled::SpaceKind::Global,
            sim::SpaceKind::Personal { owner } => crawled::SpaceKind::Personal { owner: Some(owner.clone()) },
        };
        snapshot.spaces.insert(
            s.id.to_string(),
            crawled::Space {
                id: s.id.to_string(),
                key: s.key.clone(),
                name: s.name.clone(),
                kind,
                archived: s.status == Status::Archived,
                readers,
                role_viewers: Vec::new(),
                url: String::new(),
            },
        );
    }
    // Every page and blog post, archived ones included: an archived page's restriction still applies to
    // its current children.
    for c in site.contents.values() {
        snapshot.access.insert(
            c.id.to_string(),
            crawled::ContentAccess {
                id: c.id.to_string(),
                kind: content_kind(c.kind),
                space_id: c.space_id.to_string(),
                version: u64::from(c.version),
                archived: c.status == Status::Archived,
                ancestors: site.ancestors(c.id).iter().map(u64::to_string).collect(),
                restriction: Some(crawled::Restriction {
                    users: c.read_restriction.users.clone(),
                    groups: c.read_restriction.groups.clone(),
                }),
            },
        );
    }
    for p in site.projects.values() {
        let browse = site
            .permission_schemes
            .get(&p.permission_scheme_id)
            .map(|s| {
                s.grants
                    .iter()
                    .filter(|g| g.permission == "BROWSE_PROJECTS")
                    .map(|g| holder(&g.holder))
                    .collect()
            })
            .unwrap_or_default();
        let security_levels = p
            .security_scheme_id
            .and_then(|s| site.security_schemes.get(&s))
            .map(|s| {
                s.levels
                    .iter()
                    .map(|l| (l.id.to_string(), l.members.iter().map(|m| holder(&m.holder)).collect()))
                    .collect()
            })
            .unwrap_or_default();
        let roles = p
            .roles
            .iter()
            .map(|(id, a)| {
                (id.to_string(), crawled::RoleActors { users: a.users.clone(), groups: a.groups.clone() })
            })
            .collect();
        // What the service desk API serves: the desk's organisations with their members.
        let service_desk =
            site.index.service_desk_of_project.get(&p.id).and_then(|d| site.service_desks.get(d)).map(
                |desk| crawled::ServiceDeskAccess {
                    id: desk.id.to_string(),
                    organisations: desk
                        .organisations
                        .iter()
                        .map(|o| (o.to_string(), site.organisations.get(o).map(|org| org.members.clone())))
                        .collect(),
                },
            );
        snapshot.projects.insert(
            p.id.to_string(),
            crawled::Project {
                id: p.id.to_string(),
                key: p.key.clone(),
                name: p.name.clone(),
                lead: Some(p.lead.clone()),
                browse,
                roles,
                security_levels,
                url: String::new(),
                service_desk,
            },
        );
    }

    let content_input = |id: u64| {
        site.contents
            .get(&id)
            .map(|c| AclInput::Confluence { space_id: c.space_id.to_string(), content_id: c.id.to_string() })
    };
    let issue_input = |id: u64| {
        site.issues.get(&id).map(|i| AclInput::JiraIssue {
            project_id: i.project_id.to_string(),
            issue_id: i.id.to_string(),
            reporter: i.reporter.clone(),
            assignee: i.assignee.clone(),
            level_id: site.effective_security_level(i).map(|l| l.to_string()),
            // What the request fields serve: a request type, participants and organisations.
            request: site.requests.get(&i.id).filter(|r| r.request_type.is_some()).map(|r| Request {
                participants: r.participants.clone(),
                organisations: r.organisations.iter().map(u64::to_string).collect(),
            }),
        })
    };
    let mut inputs = BTreeMap::new();
    for c in site.contents.values() {
        inputs.insert(DocId::confluence_content(c.kind, c.id), content_input(c.id));
    }
    for c in site.comments.values() {
        inputs.insert(DocId::confluence_comment(c.id), content_input(c.container_id));
    }
    for a in site.attachments.values() {
        inputs.insert(DocId::confluence_attachment(a.id), content_input(a.container_id));
    }
    for i in site.issues.values() {
        inputs.insert(DocId::jira_issue(i.id), issue_input(i.id));
    }
    for c in site.issue_comments.values() {
        let input = issue_input(c.issue_id).map(|issue| AclInput::JiraComment {
            issue: Box::new(issue),
            comment_id: c.id.to_string(),
            visibility: c.visibility.as_ref().map(|v| match v {
                sim::Visibility::Group(g) => Visibility::Group(g.clone()),
                sim::Visibility::Role(r) => Visibility::Role(r.to_string()),
            }),
            internal: c.internal,
        });
        inputs.insert(DocId::jira_comment(c.id), input);
    }
    for a in site.jira_attachments.values() {
        // Attachments are read through Jira only, as `AclInput::of_issue_attachment` has it.
        let input = issue_input(a.issue_id).map(|mut i| {
            if let AclInput::JiraIssue { request, .. } = &mut i {
                *request = None;
            }
            i
        });
        inputs.insert(DocId::jira_attachment(a.id), input);
    }
    let in_scope: BTreeSet<DocId> = all_docs(site, Scope::default()).into_iter().collect();
    let inputs = inputs
        .into_iter()
        .filter(|(doc, _)| in_scope.contains(doc))
        .map(|(doc, input)| (doc, input.expect("an in-scope document has its container")))
        .collect();
    Adapted { snapshot, inputs }
}

fn content_kind(kind: sim::ContentKind) -> crawled::ContentKind {
    match kind {
        sim::ContentKind::Page => crawled::ContentKind::Page,
        sim::ContentKind::BlogPost => crawled::ContentKind::BlogPost,
    }
}

fn holder(h: &sim::Holder) -> crawled::Holder {
    match h {
        sim::Holder::Anyone => crawled::Holder::Anyone,
        sim::Holder::Group(g) => crawled::Holder::Group(g.clone()),
        sim::Holder::User(u) => crawled::Holder::User(u.clone()),
        sim::Holder::ProjectRole(r) => crawled::Holder::ProjectRole(r.to_string()),
        sim::Holder::ApplicationRole(key) => crawled::Holder::ApplicationRole(key.clone()),
        sim::Holder::ProjectLead => crawled::Holder::ProjectLead,
        sim::Holder::Reporter => crawled::Holder::Reporter,
        sim::Holder::Assignee => crawled::Holder::Assignee,
        sim::Holder::CustomerPortal => crawled::Holder::CustomerPortal,
    }
}

/// Resolves every document of `adapted` into `store`, as a permissions-only refresh does.
fn resolve_all(store: &mut AclStore, adapted: &Adapted) -> BTreeMap<DocId, ProfileId> {
    let ids: Vec<(String, &AclInput)> = adapted.inputs.iter().map(|(d, i)| (d.0.clone(), i)).collect();
    refresh_all(store, &adapted.snapshot, ids.iter().map(|(d, i)| (d.as_str(), *i)))
        .into_iter()
        .map(|(d, p)| (DocId(d), p))
        .collect()
}

/// Every account of the site, every account a restriction or an issue names (departed ones among them),
/// and one that never existed.
fn accounts(site: &Site) -> BTreeSet<String> {
    let mut all: BTreeSet<String> = site.users.iter().map(|u| u.account_id.clone()).collect();
    for c in site.contents.values() {
        all.extend(c.read_restriction.users.iter().cloned());
    }
    for i in site.issues.values() {
        all.extend(i.reporter.iter().chain(&i.assignee).cloned());
    }
    all.insert("never-an-account".into());
    all
}

/// Leaks and misses of `profiles` against the oracle, for every account × document.
fn mismatches(
    site: &Site,
    store: &AclStore,
    adapted: &Adapted,
    profiles: &BTreeMap<DocId, ProfileId>,
) -> Vec<String> {
    let mut wrong = Vec::new();
    for account in accounts(site) {
        let allowed = match caller_principals(&adapted.snapshot.directory, &account) {
            Some(principals) => store.allowed_profiles(&store.caller(principals.iter())),
            None => Default::default(),
        };
        for (doc, profile) in profiles {
            let granted = allowed.contains(profile.0);
            let expected = can_view(site, &account, doc);
            if granted != expected {
                let what = if granted { "leak" } else { "miss" };
                wrong.push(format!("{what}: {account} {doc} ({:?})", adapted.inputs.get(doc)));
            }
        }
    }
    wrong
}

fn assert_exact(
    site: &Site,
    store: &AclStore,
    adapted: &Adapted,
    profiles: &BTreeMap<DocId, ProfileId>,
    what: &str,
) {
    let wrong = mismatches(site, store, adapted, profiles);
    assert!(
        wrong.is_empty(),
        "{what}: {} mismatches, first: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(10)]
    );
}

fn generated(seed: u64, scale: Scale) -> Site {
    generate(&SimConfig::new(seed, scale)).expect("generation without a corpus cannot fail")
}

#[test]
fn fixture_is_exact_and_checks_every_rule() {
    let site = tiny_site();
    let adapted = adapt(&site);
    let mut store = AclStore::default();
    let profiles = resolve_all(&mut store, &adapted);
    assert_eq!(profiles.len(), all_docs(&site, Scope::default()).len());
    assert_exact(&site, &store, &adapted, &profiles, "fixture");
    // The fixture's unreadable documents are unreadable through a real clause, not only through NOBODY:
    // page 103 is restricted to a departed account, comment 10202 to a role without actors.
    for doc in ["confluence:page:103", "jira:comment:10202"] {
        assert_ne!(profiles[&DocId(doc.into())], AclStore::NOBODY, "{doc}");
    }
    // Spot checks of the rules the fixture was written for, beyond the oracle's word.
    let readers = |doc: &str| -> Vec<&str> {
        let profile = profiles[&DocId(doc.into())];
        ["alice", "bob", "carol", "dave", "erin", "gone-user"]
            .into_iter()
            .filter(|a| {
                caller_principals(&adapted.snapshot.directory, a)
                    .is_some_and(|p| store.allowed_profiles(&store.caller(p.iter())).contains(profile.0))
            })
            .collect()
    };
    let cases: &[(&str, &str, &[&str])] = &[
        ("inherited restriction", "confluence:page:102", &["bob"]),
        ("reply on a restricted page", "confluence:comment:121", &["bob"]),
        ("anonymous space", "confluence:attachment:att230", &["alice", "bob", "carol", "dave"]),
        ("sub-task at its parent's level", "jira:issue:10102", &["alice", "bob"]),
        ("reporter holder in browse", "jira:issue:10100", &["alice", "bob", "carol", "dave"]),
        ("assignee member of a level", "jira:attachment:10300", &["alice", "bob", "carol"]),
        ("comment for a group", "jira:comment:10201", &["alice", "bob"]),
    ];
    for (why, doc, expected) in cases {
        assert_eq!(readers(doc), *expected, "{doc}: {why}");
    }
    let sub_task = &adapted.inputs[&DocId("jira:issue:10102".into())];
    assert!(matches!(sub_task, AclInput::JiraIssue { level_id: Some(l), .. } if l == "5001"), "{sub_task:?}");
    // A single resolve agrees with the batch.
    let input = &adapted.inputs[&DocId("confluence:page:102".into())];
    assert_eq!(resolve(&mut store, &adapted.snapshot, input), profiles[&DocId("confluence:page:102".into())]);
}

#[test]
fn generated_sites_are_exact() {
    for (seed, scale) in
        [(1, Scale::Tiny), (2, Scale::Tiny), (3, Scale::Tiny), (7, Scale::Small), (11, Scale::Small)]
    {
        let site = generated(seed, scale);
        let adapted = adapt(&site);
        let mut store = AclStore::default();
        let profiles = resolve_all(&mut store, &adapted);
        assert!(profiles.len() > 100, "seed {seed}: only {} documents", profiles.len());
        // Sharing: far fewer profiles than documents.
        assert!(
            store.profile_count() < profiles.len() / 2,
            "seed {seed}: {} profiles",
            store.profile_count()
        );
        assert_exact(&site, &store, &adapted, &profiles, &format!("seed {seed} {scale:?}"));
    }
}

/// Mutations that change who holds a permission object, never which objects a document depends on.
fn changes_only_holders(m: &Mutation) -> bool {
    let issue_people = |h: &sim::Holder| matches!(h, sim::Holder::Reporter | sim::Holder::Assignee);
    match m {
        Mutation::SetSpacePermission { .. }
        | Mutation::SetRoleActors { .. }
        | Mutation::AddGroupMember { .. }
        | Mutation::RemoveGroupMember { .. }
        | Mutation::RenameGroup { .. }
        | Mutation::DeactivateUser { .. } => true,
        Mutation::AddGrant { holder, .. } | Mutation::AddLevelMember { holder, .. } => !issue_people(holder),
        _ => false,
    }
}

#[test]
fn mutated_sites_stay_exact_after_a_refresh_into_the_same_store() {
    for seed in [21, 22, 23] {
        let mut site = generated(seed, Scale::Tiny);
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut adapted = adapt(&site);
        let mut store = AclStore::default();
        let mut profiles = resolve_all(&mut store, &adapted);
        for round in 0..6 {
            // Even rounds change only who holds permissions: no document may move to another profile.
            let holders_only = round % 2 == 0;
            let mut applied = 0;
            while applied < 15 {
                let m = random_mutation(&site, &mut rng);
                if holders_only && !changes_only_holders(&m) {
                    continue;
                }
                if apply(&mut site, &m).is_ok() {
                    applied += 1;
                }
            }
            let next = adapt(&site);
            let next_profiles = resolve_all(&mut store, &next);
            assert_exact(&site, &store, &next, &next_profiles, &format!("seed {seed} round {round}"));
            if holders_only {
                for (doc, profile) in &next_profiles {
                    if adapted.inputs.get(doc) == next.inputs.get(doc) {
                        assert_eq!(
                            Some(profile),
                            profiles.get(doc),
                            "seed {seed} round {round}: {doc} moved"
                        );
                    }
                }
            }
            // Re-resolving an unchanged site changes nothing.
            assert_eq!(resolve_all(&mut store, &next), next_profiles, "seed {seed} round {round}");
            (adapted, profiles) = (next, next_profiles);
        }
    }
}

fn with_service_desk(seed: u64, scale: Scale) -> Site {
    let features = SiteFeatures { service_management: true, ..SiteFeatures::NONE };
    generate_with(&SimConfig::new(seed, scale), features).expect("generation without a corpus cannot fail")
}

#[test]
fn service_desk_sites_are_exact_and_stay_exact_after_mutations() {
    for (seed, scale) in [(31, Scale::Tiny), (32, Scale::Tiny), (33, Scale::Small)] {
        let mut site = with_service_desk(seed, scale);
        assert!(!site.requests.is_empty() && !site.organisations.is_empty(), "seed {seed}: no service desk");
        let adapted = adapt(&site);
        let mut store = AclStore::default();
        let profiles = resolve_all(&mut store, &adapted);
        assert_exact(&site, &store, &adapted, &profiles, &format!("service desk seed {seed}"));
        // Some customer reads something, and only through the portal: customers hold no group.
        let customers: Vec<&sim::User> =
            site.users.iter().filter(|u| u.account_type == sim::AccountType::Customer && u.active).collect();
        let reading = customers
            .iter()
            .filter(|c| profiles.keys().any(|doc| can_view(&site, &c.account_id, doc)))
            .count();
        assert!(reading > 0, "seed {seed}: no customer reads a request");
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        for round in 0..4 {
            let mut applied = 0;
            while applied < 20 {
                let m = random_mutation(&site, &mut rng);
                if apply(&mut site, &m).is_ok() {
                    applied += 1;
                }
            }
            let next = adapt(&site);
            let next_profiles = resolve_all(&mut store, &next);
            assert_exact(
                &site,
                &store,
                &next,
                &next_profiles,
                &format!("service desk seed {seed} round {round}"),
            );
        }
    }
}
