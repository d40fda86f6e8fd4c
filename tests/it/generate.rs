//! The site generator: determinism, sizes per scale, the model invariants the REST layer and the oracle
//! rely on, and the corpus loaders on the real data sets.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use permdex::sim::files::render;
use permdex::sim::generate::{admin_credentials, generate};
use permdex::sim::model::*;
use permdex::sim::oracle::can_view;
use permdex::sim::{Corpus, DocId, Error, Scale, SimConfig};

const START: Millis = 1_704_067_200_000; // 2024-01-01T00:00:00Z
const END: Millis = 1_780_272_000_000; // 2026-06-01T00:00:00Z
const DATASETS: &str = "/work/shared/datasets";

fn site(seed: u64, scale: Scale) -> Site {
    generate(&SimConfig::new(seed, scale)).expect("generation without a corpus cannot fail")
}

fn items(site: &Site) -> usize {
    site.contents.len()
        + site.comments.len()
        + site.attachments.len()
        + site.issues.len()
        + site.issue_comments.len()
        + site.jira_attachments.len()
}

#[test]
fn same_seed_same_site_other_seed_other_site() {
    for scale in [Scale::Tiny, Scale::Small] {
        let a = site(42, scale);
        let b = site(42, scale);
        assert!(a == b, "{scale:?}: two generations from one seed differ");
        assert_eq!(admin_credentials(&a), admin_credentials(&b));
        let c = site(43, scale);
        assert!(a.contents != c.contents, "{scale:?}: another seed gave the same pages");
        assert_ne!(admin_credentials(&a).token, admin_credentials(&c).token);
    }
}

#[test]
fn sizes_follow_the_scale() {
    // (scale, items, users, groups)
    let cases = [
        (Scale::Tiny, 250..=380, 12..=12, 4..=6),
        (Scale::Small, 2_200..=2_900, 60..=60, 10..=10),
        (Scale::Medium, 18_000..=23_000, 300..=300, 25..=25),
    ];
    for (scale, item_range, users, groups) in cases {
        let s = site(7, scale);
        assert!(item_range.contains(&items(&s)), "{scale:?}: {} items", items(&s));
        assert!(users.contains(&s.users.len()), "{scale:?}: {} users", s.users.len());
        assert!(groups.contains(&s.groups.len()), "{scale:?}: {} groups", s.groups.len());
    }
}

/// Holder types as Jira names them.
fn holder_type(h: &Holder) -> &'static str {
    match h {
        Holder::Anyone => "anyone",
        Holder::Group(_) => "group",
        Holder::User(_) => "user",
        Holder::ProjectRole(_) => "projectRole",
        Holder::ApplicationRole(_) => "applicationRole",
        Holder::ProjectLead => "projectLead",
        Holder::Reporter => "reporter",
        Holder::Assignee => "assignee",
        Holder::CustomerPortal => "sd.customer.portal.only",
    }
}

/// Checks every invariant of a generated site; returns nothing, panics with the first violation.
fn check_invariants(s: &Site) {
    let users: BTreeSet<&str> = s.users.iter().map(|u| u.account_id.as_str()).collect();
    let groups: BTreeSet<&str> = s.groups.iter().map(|g| g.id.as_str()).collect();
    let role_ids: BTreeSet<u64> = s.roles.iter().map(|r| r.id).collect();

    // People.
    let admin = s.user(&s.admin_account_id).expect("admin is a user");
    assert!(admin.active && !admin.email_hidden);
    let creds = admin_credentials(s);
    assert_eq!(creds.email, admin.email);
    assert!(creds.token.starts_with("ATATT") && creds.token.len() > 40, "{}", creds.token);
    assert!(s.users.iter().any(|u| !u.active), "some inactive users");
    assert!(s.users.iter().any(|u| u.email_hidden), "some hidden emails");
    assert_eq!(users.len(), s.users.len(), "account ids unique");
    assert_eq!(groups.len(), s.groups.len(), "group ids unique");
    for g in &s.groups {
        assert!(g.members.iter().all(|m| users.contains(m.as_str())), "group {} has unknown members", g.name);
    }

    // Spaces and their permissions.
    let mut anonymous = false;
    let mut non_read = false;
    for space in s.spaces.values() {
        for p in &space.permissions {
            match &p.principal {
                SpacePrincipal::User(a) => {
                    assert!(users.contains(a.as_str()), "space {} grants unknown {a}", space.key)
                }
                SpacePrincipal::Group(g) => {
                    assert!(groups.contains(g.as_str()), "space {} grants unknown {g}", space.key)
                }
                SpacePrincipal::Role(r) => {
                    assert_eq!(r, "ANONYMOUS");
                    anonymous |= p.operation == "read";
                }
            }
            non_read |= p.operation != "read";
        }
        if let SpaceKind::Personal { owner } = &space.kind {
            assert!(space.key.starts_with('~'));
            assert!(space
                .permissions
                .iter()
                .any(|p| p.operation == "read" && p.principal == SpacePrincipal::User(owner.clone())));
        }
        let home = space.homepage_id.expect("every space has a home page");
        assert_eq!(s.contents[&home].space_id, space.id);
    }
    assert!(anonymous, "at least one space is readable anonymously");
    assert!(non_read, "space permissions beyond read exist");
    assert!(s.spaces.values().any(|sp| sp.status == Status::Archived), "an archived space");
    assert!(s.spaces.values().any(|sp| matches!(sp.kind, SpaceKind::Personal { .. })), "personal spaces");
    let keys: BTreeSet<&str> = s.spaces.values().map(|sp| sp.key.as_str()).collect();
    assert_eq!(keys.len(), s.spaces.len(), "space keys unique");

    // Pages, trees and restrictions.
    let mut unknown_account_restrictions = 0;
    let mut restricted_depths = BTreeSet::new();
    let mut titles_per_space: BTreeMap<u64, BTreeSet<&str>> = BTreeMap::new();
    for c in s.contents.values() {
        assert!(s.spaces.contains_key(&c.space_id));
        assert!(
            titles_per_space.entry(c.space_id).or_default().insert(&c.title),
            "title {:?} repeats",
            c.title
        );
        match c.kind {
            ContentKind::BlogPost => assert_eq!(c.parent_id, None, "blog posts have no parent"),
            ContentKind::Page => {
                if let Some(p) = c.parent_id {
                    let parent = &s.contents[&p];
                    assert_eq!((parent.kind, parent.space_id), (ContentKind::Page, c.space_id));
                }
            }
        }
        let ancestors = s.ancestors(c.id);
        assert!(ancestors.len() <= 5, "page {} is deeper than six", c.id);
        assert!(!ancestors.contains(&c.id), "page {} is its own ancestor", c.id);
        for r in [&c.read_restriction, &c.update_restriction] {
            assert!(
                r.groups.iter().all(|g| groups.contains(g.as_str())),
                "page {} restricts to unknown group",
                c.id
            );
        }
        assert!(c.update_restriction.users.iter().all(|u| users.contains(u.as_str())));
        if c.read_restriction.users.iter().any(|u| !users.contains(u.as_str())) {
            unknown_account_restrictions += 1;
        }
        if !c.read_restriction.is_empty() {
            restricted_depths.insert(ancestors.len());
        }
        assert!(c.created >= START && c.updated >= c.created && c.updated <= END, "page {} times", c.id);
        assert!(users.contains(c.author.as_str()) && users.contains(c.last_editor.as_str()));
    }
    assert_eq!(unknown_account_restrictions, 1, "exactly one restriction names a departed account");
    let pages = s.contents.values().filter(|c| c.kind == ContentKind::Page).count();
    // Shares are of the generated organisation; a corpus loaded beside it is unrestricted by design.
    let corpus_space = s.index.space_by_key.get("CRAN").copied();
    let generated: Vec<&Content> = s.contents.values().filter(|c| Some(c.space_id) != corpus_space).collect();
    let restricted = generated.iter().filter(|c| !c.read_restriction.is_empty()).count();
    assert!(
        restricted * 100 >= generated.len() * 4 && restricted * 100 <= generated.len() * 20,
        "{restricted} restricted"
    );
    assert!(s.contents.values().any(|c| !c.update_restriction.is_empty() && c.read_restriction.is_empty()));
    assert!(s.contents.values().any(|c| c.status == Status::Archived), "archived pages");
    assert!(s.contents.values().any(|c| c.kind == ContentKind::BlogPost), "blog posts");
    assert!(pages > 0);

    // Comments and attachments.
    for c in s.comments.values() {
        assert!(s.contents.contains_key(&c.container_id));
        if let Some(p) = c.parent_comment_id {
            let parent = &s.comments[&p];
            assert_eq!((parent.container_id, parent.parent_comment_id), (c.container_id, None));
            assert!(c.created >= parent.created);
        }
        assert!(c.created >= s.contents[&c.container_id].created && c.updated <= END);
    }
    assert!(s.comments.values().any(|c| c.parent_comment_id.is_some()), "replies exist");
    let mut kinds: BTreeMap<String, usize> = BTreeMap::new();
    let mut names = BTreeSet::new();
    for a in s.attachments.values() {
        let container = &s.contents[&a.container_id];
        *kinds.entry(format!("{:?}", a.file.kind)).or_default() += 1;
        assert!(
            names.insert((a.container_id, a.file.filename.clone())),
            "file name repeats on {}",
            a.container_id
        );
        assert!(a.file.size > 0 && a.created >= container.created);
    }
    for kind in ["Pdf", "Docx", "Xlsx", "Text", "Markdown", "Csv"] {
        assert!(kinds.get(kind).is_some_and(|n| *n > 0), "no {kind} attachment");
    }
    assert_eq!(kinds.get("CorruptPdf"), Some(&1));
    assert_eq!(kinds.get("Oversized"), Some(&1));
    assert!(s.attachments.values().any(|a| s.contents[&a.container_id].kind == ContentKind::BlogPost));
    assert!(s
        .jira_attachments
        .values()
        .all(|a| !matches!(a.file.kind, FileKind::CorruptPdf | FileKind::Oversized)));

    // Jira schemes and projects.
    let mut browse_variants = BTreeSet::new();
    let mut other_grants = 0;
    let check_holder = |h: &Holder, what: &str| match h {
        Holder::Group(g) => assert!(groups.contains(g.as_str()), "{what}: unknown group {g}"),
        Holder::User(u) => assert!(users.contains(u.as_str()), "{what}: unknown user {u}"),
        Holder::ProjectRole(r) => assert!(role_ids.contains(r), "{what}: unknown role {r}"),
        _ => {}
    };
    for scheme in s.permission_schemes.values() {
        for g in &scheme.grants {
            check_holder(&g.holder, &scheme.name);
            if g.permission == "BROWSE_PROJECTS" {
                browse_variants.insert(holder_type(&g.holder));
            } else {
                other_grants += 1;
            }
        }
    }
    for h in
        ["anyone", "group", "user", "projectRole", "applicationRole", "projectLead", "reporter", "assignee"]
    {
        assert!(browse_variants.contains(h), "no BROWSE_PROJECTS grant to {h}");
    }
    assert!(other_grants > 0, "grants of other permissions exist");
    let mut member_variants = BTreeSet::new();
    for scheme in s.security_schemes.values() {
        for level in &scheme.levels {
            for m in &level.members {
                check_holder(&m.holder, &level.name);
                member_variants.insert(holder_type(&m.holder));
            }
        }
    }
    for h in ["group", "user", "projectRole", "reporter", "assignee"] {
        assert!(member_variants.contains(h), "no level member of type {h}");
    }
    let level_ids: BTreeMap<u64, u64> =
        s.security_schemes.values().flat_map(|sc| sc.levels.iter().map(move |l| (l.id, sc.id))).collect();
    for p in s.projects.values() {
        assert!(s.permission_schemes.contains_key(&p.permission_scheme_id));
        assert!(p.security_scheme_id.is_none_or(|id| s.security_schemes.contains_key(&id)));
        assert!(users.contains(p.lead.as_str()));
        for (role, actors) in &p.roles {
            assert!(role_ids.contains(role));
            assert!(actors.users.iter().all(|u| users.contains(u.as_str())));
            assert!(actors.groups.iter().all(|g| groups.contains(g.as_str())));
        }
    }

    // Issues.
    let mut per_project: BTreeMap<u64, Vec<u64>> = BTreeMap::new();
    let mut keys = BTreeSet::new();
    let mut types = BTreeSet::new();
    for i in s.issues.values() {
        let project = &s.projects[&i.project_id];
        assert!(keys.insert(i.key.clone()), "key {} repeats", i.key);
        let (prefix, n) = i.key.rsplit_once('-').expect("KEY-n");
        assert_eq!(prefix, project.key);
        per_project.entry(i.project_id).or_default().push(n.parse().expect("numeric suffix"));
        types.insert(i.issue_type.name());
        if i.issue_type.is_subtask() {
            assert_eq!(i.security_level_id, None, "sub-task {} has its own level", i.key);
            let parent = &s.issues[&i.parent_id.expect("sub-tasks have parents")];
            assert!(!parent.issue_type.is_subtask() && parent.project_id == i.project_id);
        } else {
            assert_eq!(i.parent_id, None);
        }
        if let Some(level) = i.security_level_id {
            assert_eq!(
                Some(level_ids[&level]),
                project.security_scheme_id,
                "{} level outside its scheme",
                i.key
            );
        }
        for u in i.reporter.iter().chain(&i.assignee) {
            assert!(users.contains(u.as_str()));
        }
        assert!(i.created >= START && i.updated >= i.created && i.updated <= END);
    }
    for (project, mut numbers) in per_project {
        numbers.sort_unstable();
        assert_eq!(
            numbers,
            (1..=numbers.len() as u64).collect::<Vec<_>>(),
            "keys of project {project} run 1..n"
        );
    }
    for t in ["Epic", "Story", "Task", "Bug", "Subtask"] {
        assert!(types.contains(t), "no {t}");
    }
    let corpus_project = s.index.project_by_key.get("HADOOP").copied();
    let generated: Vec<&Issue> = s.issues.values().filter(|i| Some(i.project_id) != corpus_project).collect();
    let with_level = generated.iter().filter(|i| s.effective_security_level(i).is_some()).count();
    assert!(
        with_level * 100 >= generated.len() * 8 && with_level * 100 <= generated.len() * 25,
        "{with_level} with a level"
    );
    assert!(s.issues.values().any(|i| i.archived), "archived issues");
    let mut restricted_comments = 0;
    for c in s.issue_comments.values() {
        assert!(s.issues.contains_key(&c.issue_id) && users.contains(c.author.as_str()));
        match &c.visibility {
            Some(Visibility::Group(g)) => assert!(groups.contains(g.as_str())),
            Some(Visibility::Role(r)) => assert!(role_ids.contains(r)),
            None => {}
        }
        restricted_comments += usize::from(c.visibility.is_some());
        assert!(c.created >= s.issues[&c.issue_id].created);
    }
    let share = restricted_comments * 100 / s.issue_comments.len().max(1);
    assert!((7..=25).contains(&share), "{share}% restricted comments");
    for a in s.jira_attachments.values() {
        assert!(s.issues.contains_key(&a.issue_id));
    }

    // Sequences continue past every id in use.
    let max = |it: &mut dyn Iterator<Item = u64>| it.max().unwrap_or(0);
    let content_max =
        max(&mut s.contents.keys().chain(s.comments.keys()).chain(s.attachments.keys()).copied());
    assert!(s.ids.content > content_max);
    assert!(s.ids.space > max(&mut s.spaces.keys().copied()));
    assert!(
        s.ids.space_permission
            > max(&mut s.spaces.values().flat_map(|sp| sp.permissions.iter().map(|p| p.id)))
    );
    assert!(s.ids.issue > max(&mut s.issues.keys().copied()));
    assert!(s.ids.issue_comment > max(&mut s.issue_comments.keys().copied()));
    assert!(s.ids.jira_attachment > max(&mut s.jira_attachments.keys().copied()));
    assert!(
        s.ids.grant > max(&mut s.permission_schemes.values().flat_map(|p| p.grants.iter().map(|g| g.id)))
    );
    assert!(s.clock >= START && s.clock <= END);

    // The index was rebuilt.
    assert_eq!(s.index.user_by_account.len(), s.users.len());
    assert_eq!(s.index.issue_by_key.len(), s.issues.len());
}

#[test]
fn tiny_and_small_sites_keep_every_invariant() {
    for seed in [1, 2, 3] {
        check_invariants(&site(seed, Scale::Tiny));
    }
    let small = site(11, Scale::Small);
    check_invariants(&small);
    // With a few hundred restricted pages, restrictions sit at several depths.
    let depths: BTreeSet<usize> = small
        .contents
        .values()
        .filter(|c| !c.read_restriction.is_empty())
        .map(|c| small.ancestors(c.id).len())
        .collect();
    assert!(depths.len() >= 3, "restrictions only at depths {depths:?}");
    assert!(small.contents.values().any(|c| small.ancestors(c.id).len() == 5), "some tree reaches depth six");
    assert!(
        small.contents.values().any(|c| c.kind == ContentKind::BlogPost && !c.read_restriction.is_empty()),
        "restricted blog posts"
    );
}

#[test]
fn large_site_reaches_a_hundred_thousand_items_and_keeps_every_invariant() {
    let s = site(1, Scale::Large);
    assert!((100_000..=125_000).contains(&items(&s)), "{} items", items(&s));
    assert_eq!((s.users.len(), s.groups.len()), (2_000, 80));
    check_invariants(&s);
}

#[test]
fn recorded_attachment_sizes_match_rendered_bytes() {
    let s = site(5, Scale::Tiny);
    for file in s.attachments.values().map(|a| &a.file).chain(s.jira_attachments.values().map(|a| &a.file)) {
        if file.kind != FileKind::Oversized {
            assert_eq!(render(file).len() as u64, file.size, "{}", file.filename);
        }
    }
    let oversized =
        s.attachments.values().find(|a| a.file.kind == FileKind::Oversized).expect("one oversized");
    assert!(oversized.file.size > 24 * 1024 * 1024);
}

fn config_with(corpus: Corpus) -> SimConfig {
    SimConfig { corpus: Some(corpus), ..SimConfig::new(3, Scale::Tiny) }
}

#[test]
fn cranfield_corpus_becomes_a_space_in_three_parts() {
    let path = Path::new(DATASETS).join("cranfield/cran.all.1400");
    let s = generate(&config_with(Corpus::Cranfield(path))).expect("cranfield loads");
    let space = s.spaces.values().find(|sp| sp.key == "CRAN").expect("CRAN space");
    let docs: Vec<&Content> = s
        .contents
        .values()
        .filter(|c| c.space_id == space.id && c.labels.iter().any(|l| l.starts_with("cran-")))
        .collect();
    assert_eq!(docs.len(), 1400);
    let labels: BTreeSet<&str> = docs.iter().map(|c| c.labels[0].as_str()).collect();
    assert_eq!(labels.len(), 1400);
    assert!(labels.contains("cran-1") && labels.contains("cran-1400"));
    let first = docs.iter().find(|c| c.labels[0] == "cran-1").unwrap();
    assert_eq!(first.title, "experimental investigation of the aerodynamics of a wing in a slipstream .");
    assert!(first.body.contains("spanwise distribution of the lift"));
    // Readable by every active user through one group.
    let readers: Vec<&SpacePermission> = space.permissions.iter().filter(|p| p.operation == "read").collect();
    assert_eq!(readers.len(), 1);
    let SpacePrincipal::Group(g) = &readers[0].principal else { panic!("read goes to a group") };
    let group = s.group(g).expect("group exists");
    assert!(s.users.iter().filter(|u| u.active).all(|u| group.members.contains(&u.account_id)));
    // Documents carry no restriction of their own: they inherit their section's. One section is open,
    // two are restricted to a group each plus the same librarian.
    assert!(docs.iter().all(|c| c.read_restriction.is_empty()));
    let sections: BTreeSet<u64> = docs.iter().map(|c| c.parent_id.expect("under a section")).collect();
    assert_eq!(sections.len(), 3);
    let restrictions: Vec<&Restriction> =
        sections.iter().map(|id| &s.contents[id].read_restriction).collect();
    assert!(restrictions[0].is_empty(), "the first section is open");
    let librarian = restrictions[1].users.iter().next().expect("a named reader").clone();
    for r in &restrictions[1..] {
        assert_eq!((r.groups.len(), r.users.len()), (1, 1), "{r:?}");
        assert!(r.users.contains(&librarian));
    }
    assert_ne!(restrictions[1].groups, restrictions[2].groups);
    let share = |section: u64| docs.iter().filter(|c| c.parent_id == Some(section)).count() as f64 / 1400.0;
    let shares: Vec<f64> = sections.iter().map(|id| share(*id)).collect();
    for (got, want) in shares.iter().zip([0.60, 0.25, 0.15]) {
        assert!((got - want).abs() < 0.05, "shares {shares:?}");
    }
    // The oracle agrees: the librarian reads every document, someone outside both groups only the open ones.
    let id = |c: &Content| DocId::confluence_content(c.kind, c.id);
    assert!(docs.iter().all(|c| can_view(&s, &librarian, &id(c))));
    let in_group = |u: &User, r: &Restriction| {
        r.groups.iter().any(|g| s.group(g).is_some_and(|g| g.members.contains(&u.account_id)))
    };
    let outsider = s
        .users
        .iter()
        .find(|u| u.active && u.account_id != librarian && !restrictions[1..].iter().any(|r| in_group(u, r)))
        .expect("an active user outside both groups");
    let readable: BTreeSet<u64> = docs
        .iter()
        .filter(|c| can_view(&s, &outsider.account_id, &id(c)))
        .map(|c| c.parent_id.unwrap())
        .collect();
    assert_eq!(readable, BTreeSet::from([*sections.iter().next().unwrap()]));
    check_invariants(&s);
    // The organisation around it is still generated at its scale.
    assert!(s.spaces.len() > 5);
}

#[test]
fn hadoop_csv_becomes_a_project_in_three_parts() {
    let path = Path::new(DATASETS).join("gitbugs-hadoop/hadoop_bugs.csv");
    let s = generate(&config_with(Corpus::JiraCsv(path))).expect("csv loads");
    let project = s.projects.values().find(|p| p.key == "HADOOP").expect("HADOOP project");
    let bugs: Vec<&Issue> = s.issues.values().filter(|i| i.project_id == project.id).collect();
    assert_eq!(bugs.len(), 2503);
    let jar = s.issues.get(&13404344).expect("the CSV's issue id is the Jira id");
    assert_eq!(jar.summary, "JAR in conflict with timestamp check causes AM errors");
    assert_eq!(jar.labels, ["orig-13404344"]);
    assert_eq!((jar.status.as_str(), jar.priority.as_str()), ("Resolved", "Blocker"));
    assert!(jar.description.contains("timestamp does not match"));
    assert!(bugs.iter().all(|i| i.labels == [format!("orig-{}", i.id)]));
    let scheme = &s.permission_schemes[&project.permission_scheme_id];
    let browse: Vec<&Holder> =
        scheme.grants.iter().filter(|g| g.permission == "BROWSE_PROJECTS").map(|g| &g.holder).collect();
    let [Holder::Group(g)] = browse.as_slice() else { panic!("browse goes to one group: {browse:?}") };
    let group = s.group(g).expect("group exists");
    assert!(s.users.iter().all(|u| group.members.contains(&u.account_id)));
    assert!(s.ids.issue > 13_603_492, "new issues never reuse an imported id");
    // Bugs are dealt into an open part and two security levels, each for a group and the librarian.
    let scheme = &s.security_schemes[&project.security_scheme_id.expect("a security scheme")];
    assert_eq!(scheme.levels.len(), 2);
    let at_level =
        |level: Option<u64>| bugs.iter().filter(|i| i.security_level_id == level).count() as f64 / 2503.0;
    for (level, want) in [(None, 0.60), (Some(scheme.levels[0].id), 0.25), (Some(scheme.levels[1].id), 0.15)]
    {
        let got = at_level(level);
        assert!((got - want).abs() < 0.05, "level {level:?}: {got}");
    }
    let librarians: Vec<BTreeSet<&Holder>> = scheme
        .levels
        .iter()
        .map(|l| l.members.iter().map(|m| &m.holder).filter(|h| matches!(h, Holder::User(_))).collect())
        .collect();
    assert_eq!(librarians[0], librarians[1], "the same librarian is in both levels");
    let Some(Holder::User(librarian)) = librarians[0].iter().next().copied() else { panic!("a librarian") };
    assert!(bugs.iter().all(|i| can_view(&s, librarian, &DocId::jira_issue(i.id))));
    check_invariants(&s);
}

#[test]
fn bad_corpora_fail_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let bad_csv = dir.path().join("bugs.csv");
    std::fs::write(&bad_csv, "Summary,Issue id\n\"unterminated,1\n").unwrap();
    let bad_cran = dir.path().join("cran.txt");
    std::fs::write(&bad_cran, "no markers here\n").unwrap();
    let missing = PathBuf::from("/nonexistent/cran.all.1400");
    for corpus in [
        Corpus::JiraCsv(bad_csv.clone()),
        Corpus::Cranfield(bad_cran.clone()),
        Corpus::Cranfield(missing.clone()),
    ] {
        let expected = match &corpus {
            Corpus::JiraCsv(p) | Corpus::Cranfield(p) => p.display().to_string(),
        };
        match generate(&config_with(corpus)) {
            Err(e @ Error::Corpus { .. }) => assert!(e.to_string().contains(&expected), "{e}"),
            other => panic!("expected a corpus error for {expected}, got {:?}", other.map(|s| s.name)),
        }
    }
}
