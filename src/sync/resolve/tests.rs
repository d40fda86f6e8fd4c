//! Unit tests of the permission rules in `resolve`: each rule of Confluence and Jira against hand-built
//! permission tables, including the holders that must grant nobody.

use std::collections::BTreeSet;

use super::*;
use crate::atlassian::model::{
    ContentKind, DirectoryGroup, DirectoryUser, Restriction, RoleActors, SpaceKind,
};

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

/// People: alice (g-eng), bob (g-eng, g-mgr), carol (g-mgr), dave (no group), erin (inactive, g-eng).
fn directory() -> Directory {
    let mut d = Directory::default();
    for (id, active) in [("alice", true), ("bob", true), ("carol", true), ("dave", true), ("erin", false)] {
        d.users.insert(id.into(), DirectoryUser { display_name: id.to_uppercase(), active, email: None });
    }
    for (id, members) in [("g-eng", &["alice", "bob", "erin"][..]), ("g-mgr", &["bob", "carol"][..])] {
        d.groups.insert(id.into(), DirectoryGroup { name: id.into(), members: set(members) });
    }
    d
}

fn space(id: &str, readers: Vec<Subject>) -> Space {
    Space {
        id: id.into(),
        key: format!("K{id}"),
        name: id.into(),
        kind: SpaceKind::Global,
        archived: false,
        readers,
        role_viewers: Vec::new(),
        url: String::new(),
    }
}

fn access(id: &str, space: &str, ancestors: &[&str], restriction: Option<Restriction>) -> ContentAccess {
    ContentAccess {
        id: id.into(),
        kind: ContentKind::Page,
        space_id: space.into(),
        version: 1,
        archived: false,
        ancestors: ancestors.iter().map(|s| s.to_string()).collect(),
        restriction,
    }
}

fn restricted(users: &[&str], groups: &[&str]) -> Option<Restriction> {
    Some(Restriction { users: set(users), groups: set(groups) })
}

fn open() -> Option<Restriction> {
    Some(Restriction::default())
}

/// Space 1 read by g-eng and carol; space 2 anonymous; space 3 with only an unknown role.
/// Pages: 10 open → 11 (g-mgr) → 12 (alice, bob); 13 under 10 restricted to a departed account;
/// 14 with an unreadable restriction and 15 under it; 16 under a page the snapshot lacks; 20 in space 2;
/// 30 in space 3; 40 in a space the snapshot lacks.
fn confluence_snapshot() -> PermissionSnapshot {
    let mut s = PermissionSnapshot { directory: directory(), ..Default::default() };
    for sp in [
        space("1", vec![Subject::Group("g-eng".into()), Subject::User("carol".into())]),
        space("2", vec![Subject::Anonymous]),
        space("3", vec![Subject::Unknown("ADMINISTRATOR".into())]),
    ] {
        s.spaces.insert(sp.id.clone(), sp);
    }
    for a in [
        access("10", "1", &[], open()),
        access("11", "1", &["10"], restricted(&[], &["g-mgr"])),
        access("12", "1", &["10", "11"], restricted(&["alice", "bob"], &[])),
        access("13", "1", &["10"], restricted(&["gone-user"], &[])),
        access("14", "1", &[], None),
        access("15", "1", &["14"], open()),
        access("16", "1", &["99"], open()),
        access("20", "2", &[], open()),
        access("30", "3", &[], open()),
        access("40", "404", &[], open()),
    ] {
        s.access.insert(a.id.clone(), a);
    }
    s
}

const PEOPLE: [&str; 6] = ["alice", "bob", "carol", "dave", "erin", "nobody-at-all"];

/// Who of [`PEOPLE`] may read the document with `profile`.
fn readers(store: &AclStore, dir: &Directory, profile: ProfileId) -> Vec<&'static str> {
    PEOPLE
        .iter()
        .copied()
        .filter(|p| {
            caller_principals(dir, p)
                .is_some_and(|c| store.allowed_profiles(&store.caller(c.iter())).contains(profile.0))
        })
        .collect()
}

fn content(id: &str) -> AclInput {
    content_in("1", id)
}

fn content_in(space: &str, id: &str) -> AclInput {
    AclInput::Confluence { space_id: space.into(), content_id: id.into() }
}

#[test]
fn confluence_rules() {
    let snapshot = confluence_snapshot();
    let cases: Vec<(&str, AclInput, Vec<&str>)> = vec![
        ("space read by group or user; erin is inactive", content("10"), vec!["alice", "bob", "carol"]),
        ("restriction naming a group", content("11"), vec!["bob", "carol"]),
        ("inherited: space ∧ g-mgr ∧ alice|bob", content("12"), vec!["bob"]),
        ("restricted to a departed account", content("13"), vec![]),
        ("unreadable restriction", content("14"), vec![]),
        ("ancestor with an unreadable restriction", content("15"), vec![]),
        ("ancestor missing from the snapshot", content("16"), vec![]),
        ("content missing from the snapshot", content("17"), vec![]),
        ("anonymous space", content("20"), vec!["alice", "bob", "carol", "dave"]),
        ("space read only by an unknown role", content("30"), vec![]),
        ("unknown space", content("40"), vec![]),
    ];
    for (why, input, expected) in cases {
        let mut store = AclStore::default();
        let profile = resolve(&mut store, &snapshot, &input);
        assert_eq!(readers(&store, &snapshot.directory, profile), expected, "{input:?}: {why}");
    }
}

#[test]
fn viewing_roles_add_their_holders_to_the_space_clause() {
    let licensed = RoleHolder::AccessClass(AccessClass::AllLicensedUsers);
    let anonymous = RoleHolder::AccessClass(AccessClass::AnonymousUsers);
    let authenticated = RoleHolder::AccessClass(AccessClass::AuthenticatedUsers);
    // (why, the space's viewers by role, confluence_licensed_groups, who reads it)
    type Case<'a> = (&'a str, Vec<RoleHolder>, Option<&'a [&'a str]>, Vec<&'a str>);
    let cases: Vec<Case> = vec![
        ("a user", vec![RoleHolder::User("dave".into())], None, vec!["dave"]),
        ("a group", vec![RoleHolder::Group("g-mgr".into())], None, vec!["bob", "carol"]),
        (
            "all licensed users: the licensed groups",
            vec![licensed.clone()],
            Some(&["g-eng"]),
            vec!["alice", "bob"],
        ),
        ("all licensed users, none configured", vec![licensed], None, vec![]),
        ("anonymous users: everyone", vec![anonymous], None, vec!["alice", "bob", "carol", "dave"]),
        ("an access class not modelled", vec![authenticated], Some(&["g-eng"]), vec![]),
        ("an unknown principal", vec![RoleHolder::Unknown("TEAM:t1".into())], None, vec![]),
    ];
    for (why, viewers, licensed, expected) in cases {
        let mut snapshot = confluence_snapshot();
        snapshot.products.confluence_licensed = licensed.map(set);
        if let Some(s) = snapshot.spaces.get_mut("3") {
            s.role_viewers = viewers;
        }
        let mut store = AclStore::default();
        let profile = resolve(&mut store, &snapshot, &content_in("3", "30"));
        assert_eq!(readers(&store, &snapshot.directory, profile), expected, "{why}");
    }
}

#[test]
fn a_space_anonymous_users_view_by_role_is_open_to_anyone_beyond_product_access() {
    let mut snapshot = confluence_snapshot();
    snapshot.products.confluence = Some(set(&["g-eng"]));
    if let Some(s) = snapshot.spaces.get_mut("3") {
        s.role_viewers = vec![RoleHolder::AccessClass(AccessClass::AnonymousUsers)];
    }
    let mut store = AclStore::default();
    let profile = resolve(&mut store, &snapshot, &content_in("3", "30"));
    let anonymous = store.caller([&Principal::Anyone]);
    assert!(store.allowed_profiles(&anonymous).contains(profile.0), "anonymous access reads it");
    // Without the role, the same space is for Confluence users only.
    let mut closed = snapshot.clone();
    if let Some(s) = closed.spaces.get_mut("3") {
        s.role_viewers = vec![RoleHolder::User("dave".into())];
    }
    let profile = resolve(&mut store, &closed, &content_in("3", "30"));
    assert!(!store.allowed_profiles(&anonymous).contains(profile.0));
}

#[test]
fn fail_closed_cases_get_the_nobody_profile_and_empty_clauses_are_kept() {
    let snapshot = confluence_snapshot();
    let mut store = AclStore::default();
    for id in ["14", "15", "16", "17", "40"] {
        assert_eq!(resolve(&mut store, &snapshot, &content(id)), AclStore::NOBODY, "content {id}");
    }
    // A space readable by nobody still gives a clause (empty), not a missing one.
    let profile = resolve(&mut store, &snapshot, &content("30"));
    assert_ne!(profile, AclStore::NOBODY);
    let clauses = store.profile_clauses(profile).expect("profile");
    assert_eq!(clauses.len(), 1);
    assert!(store.clause(clauses[0]).expect("clause").is_empty());
}

#[test]
fn clause_keys_and_sharing() {
    let snapshot = confluence_snapshot();
    let mut store = AclStore::default();
    let p12 = resolve(&mut store, &snapshot, &content("12"));
    let keys: Vec<&str> =
        store.profile_clauses(p12).expect("profile").iter().map(|&c| key_of(&store, c)).collect();
    let mut keys = keys;
    keys.sort_unstable();
    assert_eq!(keys, ["confluence:content:11:read", "confluence:content:12:read", "confluence:space:1:read"]);
    // An unrestricted page under an unrestricted parent shares the profile of that parent.
    let mut other = snapshot.clone();
    other.access.insert("18".into(), access("18", "1", &["10"], open()));
    let p10 = resolve(&mut store, &other, &content("10"));
    assert_eq!(resolve(&mut store, &other, &content("18")), p10);
}

fn key_of(store: &AclStore, clause: ClauseId) -> &'static str {
    // The store does not expose keys; find it among the ones these tests use.
    const KEYS: &[&str] = &[
        "confluence:content:11:read",
        "confluence:content:12:read",
        "confluence:space:1:read",
        "jira:project:P:browse",
        "jira:issue:I1:browse",
        "jira:project:P:level:L1",
        "jira:issue:I1:level",
        "jira:comment-group:g-eng",
        "jira:project:P:role:R1",
        "jira:product",
        "jira:project:P:product",
    ];
    KEYS.iter().copied().find(|k| store.clause_id(&ClauseKey(k.to_string())) == Some(clause)).unwrap_or("?")
}

/// Project P (lead dave): role R1 = alice + g-mgr, role R2 without actors. Level L1 = g-eng, L2 =
/// assignee ∪ role R1, L3 = an unknown holder.
fn project(browse: Vec<Holder>) -> Project {
    let mut roles = BTreeMap::new();
    roles.insert("R1".into(), RoleActors { users: set(&["alice"]), groups: set(&["g-mgr"]) });
    roles.insert("R2".into(), RoleActors::default());
    let mut levels = BTreeMap::new();
    levels.insert("L1".into(), vec![Holder::Group("g-eng".into())]);
    levels.insert("L2".into(), vec![Holder::Assignee, Holder::ProjectRole("R1".into())]);
    levels.insert("L3".into(), vec![Holder::Unknown("groupCustomField".into())]);
    Project {
        id: "P".into(),
        key: "P".into(),
        name: "P".into(),
        lead: Some("dave".into()),
        browse,
        roles,
        security_levels: levels,
        url: String::new(),
        service_desk: None,
    }
}

/// Jira Software is used by everyone (`g-jira`), Jira Service Management by g-mgr.
fn jira_snapshot(browse: Vec<Holder>) -> PermissionSnapshot {
    let mut s = PermissionSnapshot { directory: directory(), ..Default::default() };
    let everyone = set(&["alice", "bob", "carol", "dave", "erin"]);
    s.directory
        .groups
        .insert("g-jira".into(), DirectoryGroup { name: "jira-users".into(), members: everyone });
    s.products.jira = Some(
        [("jira-software".to_string(), set(&["g-jira"])), ("jira-servicedesk".to_string(), set(&["g-mgr"]))]
            .into(),
    );
    s.projects.insert("P".into(), project(browse));
    s
}

fn issue(reporter: Option<&str>, assignee: Option<&str>, level: Option<&str>) -> AclInput {
    AclInput::JiraIssue {
        project_id: "P".into(),
        issue_id: "I1".into(),
        reporter: reporter.map(str::to_string),
        assignee: assignee.map(str::to_string),
        level_id: level.map(str::to_string),
        request: None,
    }
}

fn comment(on: AclInput, visibility: Option<Visibility>) -> AclInput {
    AclInput::JiraComment { issue: Box::new(on), comment_id: "C1".into(), visibility, internal: false }
}

#[test]
fn jira_rules() {
    use Holder::*;
    let role = |r: &str| ProjectRole(r.into());
    let cases: Vec<(&str, Vec<Holder>, AclInput, Vec<&str>)> = vec![
        ("anyone", vec![Anyone], issue(None, None, None), vec!["alice", "bob", "carol", "dave"]),
        (
            "application role of any application",
            vec![ApplicationRole(None)],
            issue(None, None, None),
            vec!["alice", "bob", "carol", "dave"],
        ),
        (
            "application role of one application",
            vec![ApplicationRole(Some("jira-servicedesk".into()))],
            issue(None, None, None),
            vec!["bob", "carol"],
        ),
        (
            "application role of an application the site lacks",
            vec![ApplicationRole(Some("jira-core".into()))],
            issue(None, None, None),
            vec![],
        ),
        (
            "role actors: user and group",
            vec![role("R1")],
            issue(None, None, None),
            vec!["alice", "bob", "carol"],
        ),
        ("role without actors", vec![role("R2")], issue(None, None, None), vec![]),
        ("role the project lacks", vec![role("R9")], issue(None, None, None), vec![]),
        (
            "project lead and a user",
            vec![ProjectLead, User("carol".into())],
            issue(None, None, None),
            vec!["carol", "dave"],
        ),
        (
            "reporter holder",
            vec![role("R2"), Reporter],
            issue(Some("dave"), Some("carol"), None),
            vec!["dave"],
        ),
        ("assignee holder", vec![Assignee], issue(Some("dave"), Some("carol"), None), vec!["carol"]),
        ("reporter holder, no reporter", vec![Reporter], issue(None, Some("carol"), None), vec![]),
        (
            "unknown holder grants nothing",
            vec![Unknown("userCustomField".into())],
            issue(None, None, None),
            vec![],
        ),
        ("no holders", vec![], issue(None, None, None), vec![]),
        ("level L1", vec![Anyone], issue(None, None, Some("L1")), vec!["alice", "bob"]),
        (
            "level with assignee and role",
            vec![Anyone],
            issue(Some("bob"), Some("dave"), Some("L2")),
            vec!["alice", "bob", "carol", "dave"],
        ),
        (
            "level with assignee, none set",
            vec![Group("g-eng".into())],
            issue(None, None, Some("L2")),
            vec!["alice", "bob"],
        ),
        ("level of unknown holders", vec![Anyone], issue(None, None, Some("L3")), vec![]),
        ("level the project lacks", vec![Anyone], issue(None, None, Some("L9")), vec![]),
        ("browse ∧ level", vec![role("R1")], issue(None, None, Some("L1")), vec!["alice", "bob"]),
        (
            "open comment",
            vec![Anyone],
            comment(issue(None, None, None), None),
            vec!["alice", "bob", "carol", "dave"],
        ),
        (
            "comment for a group",
            vec![Anyone],
            comment(issue(None, None, None), Some(Visibility::Group("g-mgr".into()))),
            vec!["bob", "carol"],
        ),
        (
            "comment for a role",
            vec![Anyone],
            comment(issue(None, None, None), Some(Visibility::Role("R1".into()))),
            vec!["alice", "bob", "carol"],
        ),
        (
            "comment for a role without actors",
            vec![Anyone],
            comment(issue(None, None, None), Some(Visibility::Role("R2".into()))),
            vec![],
        ),
        (
            "comment for an unknown visibility",
            vec![Anyone],
            comment(issue(None, None, None), Some(Visibility::Unknown("x".into()))),
            vec![],
        ),
        (
            "comment ∧ issue level",
            vec![Anyone],
            comment(issue(None, None, Some("L1")), Some(Visibility::Group("g-mgr".into()))),
            vec!["bob"],
        ),
        ("comment wrapping a non-issue", vec![Anyone], comment(content("10"), None), vec![]),
    ];
    for (why, browse, input, expected) in cases {
        let snapshot = jira_snapshot(browse);
        let mut store = AclStore::default();
        let profile = resolve(&mut store, &snapshot, &input);
        assert_eq!(readers(&store, &snapshot.directory, profile), expected, "{why}: {input:?}");
    }
    let mut store = AclStore::default();
    let snapshot = jira_snapshot(vec![Anyone]);
    let unknown_project = AclInput::JiraIssue {
        project_id: "Q".into(),
        issue_id: "I2".into(),
        reporter: None,
        assignee: None,
        level_id: None,
        request: None,
    };
    assert_eq!(resolve(&mut store, &snapshot, &unknown_project), AclStore::NOBODY);
}

#[test]
fn jira_clause_keys_depend_on_issue_holders() {
    let cases: Vec<(Vec<Holder>, AclInput, Vec<&str>)> = vec![
        (
            vec![Holder::Anyone],
            issue(None, None, Some("L1")),
            vec!["jira:product", "jira:project:P:browse", "jira:project:P:level:L1"],
        ),
        (
            vec![Holder::Reporter],
            issue(None, None, Some("L2")),
            vec!["jira:issue:I1:browse", "jira:issue:I1:level", "jira:product"],
        ),
        (
            vec![Holder::Anyone],
            comment(issue(None, None, None), Some(Visibility::Role("R1".into()))),
            vec!["jira:product", "jira:project:P:browse", "jira:project:P:product", "jira:project:P:role:R1"],
        ),
        (
            vec![Holder::Anyone],
            comment(issue(None, None, None), Some(Visibility::Group("g-eng".into()))),
            vec![
                "jira:comment-group:g-eng",
                "jira:product",
                "jira:project:P:browse",
                "jira:project:P:product",
            ],
        ),
        (
            vec![Holder::Anyone],
            issue(None, None, None),
            vec!["jira:project:P:browse", "jira:project:P:product"],
        ),
    ];
    for (browse, input, expected) in cases {
        let snapshot = jira_snapshot(browse);
        let mut store = AclStore::default();
        let profile = resolve(&mut store, &snapshot, &input);
        let mut keys: Vec<&str> =
            store.profile_clauses(profile).expect("profile").iter().map(|&c| key_of(&store, c)).collect();
        keys.sort_unstable();
        assert_eq!(keys, expected, "{input:?}");
    }
}

#[test]
fn product_access_is_a_precondition_beyond_every_grant() {
    use Holder::*;
    let readers_of = |snapshot: &PermissionSnapshot, input: &AclInput| {
        let mut store = AclStore::default();
        let profile = resolve(&mut store, snapshot, input);
        readers(&store, &snapshot.directory, profile)
    };
    // Only g-eng (alice, bob) uses Jira: carol and dave, granted by group and by name, read nothing.
    let mut jira = jira_snapshot(vec![Group("g-mgr".into()), User("dave".into())]);
    jira.products.jira = Some([("jira-software".to_string(), set(&["g-eng"]))].into());
    assert_eq!(readers_of(&jira, &issue(None, None, None)), ["bob"]);
    // Anonymous access opens an issue without a level to everyone, Jira users or not, but not its
    // restricted comments nor its levels.
    jira.projects.insert("P".into(), project(vec![Anyone]));
    assert_eq!(readers_of(&jira, &issue(None, None, None)), ["alice", "bob", "carol", "dave"]);
    assert_eq!(readers_of(&jira, &comment(issue(None, None, None), None)), ["alice", "bob", "carol", "dave"]);
    let for_managers = Some(Visibility::Group("g-mgr".into()));
    assert_eq!(readers_of(&jira, &comment(issue(None, None, None), for_managers)), ["bob"]);
    assert_eq!(readers_of(&jira, &issue(None, Some("dave"), Some("L2"))), ["alice", "bob"]);
    // Applications that could not be read: application roles and every grant but anonymous access admit
    // nobody.
    jira.products.jira = None;
    assert_eq!(readers_of(&jira, &issue(None, None, None)), ["alice", "bob", "carol", "dave"]);
    jira.projects.insert("P".into(), project(vec![ApplicationRole(None), Group("g-eng".into())]));
    assert!(readers_of(&jira, &issue(None, None, None)).is_empty());

    // Confluence access for g-eng only: carol loses space 1; the anonymous space stays open to all,
    // unless a restriction narrows it.
    let mut confluence = confluence_snapshot();
    confluence.products.confluence = Some(set(&["g-eng"]));
    assert_eq!(readers_of(&confluence, &content("10")), ["alice", "bob"]);
    assert_eq!(readers_of(&confluence, &content("20")), ["alice", "bob", "carol", "dave"]);
    confluence.access.insert("21".into(), access("21", "2", &["20"], restricted(&["carol", "alice"], &[])));
    assert_eq!(readers_of(&confluence, &content("21")), ["alice"]);
}

#[test]
fn refresh_rewrites_clauses_in_place_and_keeps_profile_ids() {
    let mut snapshot = confluence_snapshot();
    let mut store = AclStore::default();
    let inputs: Vec<(String, AclInput)> =
        ["10", "11", "12", "20"].iter().map(|id| (format!("confluence:page:{id}"), content(id))).collect();
    let first = refresh_all(&mut store, &snapshot, inputs.iter().map(|(d, i)| (d.as_str(), i)));
    let readers_of = |store: &AclStore, profiles: &[(String, ProfileId)], doc: &str| {
        let (_, p) = profiles.iter().find(|(d, _)| d == doc).expect("doc");
        readers(store, &snapshot.directory, *p)
    };
    assert_eq!(readers_of(&store, &first, "confluence:page:10"), ["alice", "bob", "carol"]);
    // dave joins the space; g-mgr's restriction on 11 becomes alice only.
    if let Some(s) = snapshot.spaces.get_mut("1") {
        s.readers.push(Subject::User("dave".into()));
    }
    if let Some(a) = snapshot.access.get_mut("11") {
        a.restriction = restricted(&["dave"], &[]);
    }
    let profiles_before = store.profile_count();
    let second = refresh_all(&mut store, &snapshot, inputs.iter().map(|(d, i)| (d.as_str(), i)));
    assert_eq!(first, second, "no clause list changed, so no document moves");
    assert_eq!(store.profile_count(), profiles_before);
    assert_eq!(readers_of(&store, &second, "confluence:page:10"), ["alice", "bob", "carol", "dave"]);
    assert_eq!(readers_of(&store, &second, "confluence:page:11"), ["dave"]);
    assert!(readers_of(&store, &second, "confluence:page:12").is_empty());
    // Lifting 12's restriction re-points it only.
    if let Some(a) = snapshot.access.get_mut("12") {
        a.restriction = open();
    }
    let third = refresh_all(&mut store, &snapshot, inputs.iter().map(|(d, i)| (d.as_str(), i)));
    let changed: Vec<&str> =
        first.iter().zip(&third).filter(|(a, b)| a.1 != b.1).map(|(a, _)| a.0.as_str()).collect();
    assert_eq!(changed, ["confluence:page:12"]);
    assert_eq!(readers_of(&store, &third, "confluence:page:12"), ["dave"]);
}

#[test]
fn callers() {
    let d = directory();
    let cases: Vec<(&str, Option<Vec<Principal>>)> = vec![
        (
            "bob",
            Some(vec![
                Principal::User("bob".into()),
                Principal::Group("g-eng".into()),
                Principal::Group("g-mgr".into()),
                Principal::Authenticated,
                Principal::Anyone,
            ]),
        ),
        ("dave", Some(vec![Principal::User("dave".into()), Principal::Authenticated, Principal::Anyone])),
        ("erin", None),
        ("nobody-at-all", None),
    ];
    for (account, expected) in cases {
        assert_eq!(caller_principals(&d, account), expected, "{account}");
    }
}

#[test]
fn acl_input_round_trips_through_json() {
    let input = comment(issue(Some("bob"), None, Some("L1")), Some(Visibility::Role("R1".into())));
    let json = serde_json::to_string(&input).expect("serialise");
    assert_eq!(serde_json::from_str::<AclInput>(&json).expect("parse"), input);
    let confluence = content("12");
    let json = serde_json::to_value(&confluence).expect("serialise");
    assert_eq!(json["type"], "confluence");
    assert_eq!(serde_json::from_value::<AclInput>(json).expect("parse"), confluence);
}
