//! A small hand-written site, every permission of which can be worked out on paper.
//!
//! Tests of the oracle, the REST handlers and (later) the crawler use it where a generated site would
//! hide the case under test among thousands of others. It is not a generator: see `generate.rs`.
//!
//! People and groups:
//! - alice (engineering), bob (engineering, managers), carol (managers), dave (no group but Jira's),
//!   erin (inactive, engineering), and `gone-user`, named by a restriction but no longer an account.
//! - engineering `g-eng`, managers `g-mgr`, and `g-jira` (jira-software-users, everyone): the access group
//!   of the one Jira application, Jira Software. Product access is not enforced (`AccessRule::Everyone`),
//!   and `g-jira` is granted nothing, so it changes no reading.
//!
//! Confluence:
//! - space ENG (id 1): read for g-eng and for carol. Page tree: 100 Home → 101 Design (restricted to g-mgr)
//!   → 102 Design details (restricted to alice and bob). 103 Roadmap (under Home, restricted to `gone-user`).
//!   104 Old notes: archived. Blog post 110 (restricted to dave). Comments 120 on 102 and reply 121 to it;
//!   comment 122 on 100. Attachments 130 (PDF) on 102, 131 (text) on 100.
//! - space PUB (id 2): read for ANONYMOUS. Page 200, attachment 230 on it.
//! - space ~dave (id 3): dave's personal space, read for dave only. Page 300.
//!
//! Jira (roles: 10001 Developers, 10002 Viewers):
//! - project APP (id 10000), lead carol, scheme 1: BROWSE_PROJECTS for role Developers (actors: alice,
//!   group g-mgr) and for reporter. Security scheme 1 with level 5001 "Staff" = {group g-eng, assignee}.
//!   Issues: 10100 APP-1 (no level, reporter dave), 10101 APP-2 (level Staff, assignee carol, reporter bob),
//!   10102 APP-3 sub-task of APP-2 (no own level, reporter alice), 10103 APP-4 archived.
//!   Comments: 10200 on APP-1 open, 10201 on APP-1 visible to group g-eng, 10202 on APP-1 visible to role Viewers
//!   (no actors). Attachment 10300 on APP-2.
//! - project OPEN (id 10001), lead alice, scheme 2: BROWSE_PROJECTS for anyone. Issue 10110 OPEN-1.
//! - project LEAD (id 10002), lead bob, scheme 3: BROWSE_PROJECTS for projectLead and applicationRole(jira-software)
//!   is NOT granted; only the lead and user dave. Issue 10120 LEAD-1.

use std::collections::{BTreeMap, BTreeSet};

use super::model::*;
use super::SiteFeatures;

const T0: Millis = 1_704_067_200_000; // 2024-01-01T00:00:00Z

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

fn user(id: &str, name: &str, active: bool) -> User {
    User {
        account_id: id.to_string(),
        display_name: name.to_string(),
        email: format!("{}@example.com", name.to_lowercase()),
        email_hidden: id == "dave",
        active,
        account_type: AccountType::Atlassian,
    }
}

fn read_perm(id: u64, principal: SpacePrincipal) -> SpacePermission {
    SpacePermission { id, principal, operation: "read".into(), target: "space".into() }
}

fn page(id: u64, space_id: u64, parent_id: Option<u64>, title: &str, restricted_to: Restriction) -> Content {
    Content {
        id,
        kind: ContentKind::Page,
        space_id,
        parent_id,
        title: title.to_string(),
        body: format!("<p>{title} is the page about fixture topic {id}.</p>"),
        status: Status::Current,
        version: 1,
        created: T0 + id as i64 * 1000,
        updated: T0 + id as i64 * 1000,
        author: "alice".into(),
        last_editor: "alice".into(),
        read_restriction: restricted_to,
        update_restriction: Restriction::default(),
        labels: vec!["fixture".into()],
        position: id as i32,
    }
}

fn restriction(users: &[&str], groups: &[&str]) -> Restriction {
    Restriction { users: set(users), groups: set(groups) }
}

fn text_file(kind: FileKind, filename: &str, text: &str) -> FileBody {
    FileBody::new(kind, filename, text)
}

fn attachment(id: u64, container_id: u64, file: FileBody) -> Attachment {
    Attachment {
        id,
        container_id,
        file,
        file_id: format!("00000000-0000-4000-8000-{id:012}"),
        comment: String::new(),
        version: 1,
        created: T0 + id as i64 * 1000,
        updated: T0 + id as i64 * 1000,
        author: "bob".into(),
    }
}

fn comment(id: u64, container_id: u64, parent: Option<u64>) -> Comment {
    Comment {
        id,
        container_id,
        parent_comment_id: parent,
        body: format!("<p>Comment {id} on fixture content.</p>"),
        version: 1,
        created: T0 + id as i64 * 1000,
        updated: T0 + id as i64 * 1000,
        author: "bob".into(),
    }
}

fn adf(text: &str) -> String {
    serde_json::json!({"type": "doc", "version": 1, "content": [
        {"type": "paragraph", "content": [{"type": "text", "text": text}]}
    ]})
    .to_string()
}

#[allow(clippy::too_many_arguments)]
fn issue(
    id: u64,
    key: &str,
    project_id: u64,
    issue_type: IssueType,
    parent_id: Option<u64>,
    reporter: &str,
    assignee: Option<&str>,
    level: Option<u64>,
) -> Issue {
    Issue {
        id,
        key: key.into(),
        project_id,
        issue_type,
        parent_id,
        summary: format!("{key} fixture issue"),
        description: adf(&format!("Description of {key}.")),
        reporter: Some(reporter.into()),
        assignee: assignee.map(str::to_string),
        security_level_id: level,
        status: "To Do".into(),
        priority: "Medium".into(),
        labels: vec![],
        created: T0 + id as i64 * 1000,
        updated: T0 + id as i64 * 1000,
        archived: false,
    }
}

fn issue_comment(id: u64, issue_id: u64, visibility: Option<Visibility>) -> IssueComment {
    IssueComment {
        id,
        issue_id,
        author: "alice".into(),
        body: adf(&format!("Comment {id}.")),
        created: T0 + id as i64 * 1000,
        updated: T0 + id as i64 * 1000,
        visibility,
        internal: false,
    }
}

fn grant(id: u64, holder: Holder) -> PermissionGrant {
    PermissionGrant { id, permission: "BROWSE_PROJECTS".into(), holder }
}

fn project(id: u64, key: &str, lead: &str, scheme: u64, security: Option<u64>) -> Project {
    Project {
        id,
        key: key.into(),
        name: format!("{key} project"),
        description: String::new(),
        lead: lead.into(),
        permission_scheme_id: scheme,
        security_scheme_id: security,
        roles: BTreeMap::new(),
        topic: 0,
        archived: false,
        created: T0,
    }
}

/// The hand-written site described in this module's documentation.
pub fn tiny_site() -> Site {
    let users = vec![
        user("alice", "Alice", true),
        user("bob", "Bob", true),
        user("carol", "Carol", true),
        user("dave", "Dave", true),
        user("erin", "Erin", false),
    ];
    let groups = vec![
        Group { id: "g-eng".into(), name: "engineering".into(), members: set(&["alice", "bob", "erin"]) },
        Group { id: "g-mgr".into(), name: "managers".into(), members: set(&["bob", "carol"]) },
        Group {
            id: "g-jira".into(),
            name: "jira-software-users".into(),
            members: set(&["alice", "bob", "carol", "dave", "erin"]),
        },
    ];

    let mut spaces = BTreeMap::new();
    let space = |id: u64, key: &str, kind: SpaceKind, permissions: Vec<SpacePermission>, home: u64| Space {
        id,
        key: key.into(),
        name: format!("{key} space"),
        description: String::new(),
        kind,
        status: Status::Current,
        created: T0,
        author: "alice".into(),
        homepage_id: Some(home),
        topic: 0,
        permissions,
    };
    spaces.insert(
        1,
        space(
            1,
            "ENG",
            SpaceKind::Global,
            vec![
                read_perm(1, SpacePrincipal::Group("g-eng".into())),
                read_perm(2, SpacePrincipal::User("carol".into())),
            ],
            100,
        ),
    );
    spaces.insert(
        2,
        space(2, "PUB", SpaceKind::Global, vec![read_perm(3, SpacePrincipal::Role("ANONYMOUS".into()))], 200),
    );
    spaces.insert(
        3,
        space(
            3,
            "~dave",
            SpaceKind::Personal { owner: "dave".into() },
            vec![read_perm(4, SpacePrincipal::User("dave".into()))],
            300,
        ),
    );

    let mut contents = BTreeMap::new();
    let none = Restriction::default;
    for c in [
        page(100, 1, None, "Home", none()),
        page(101, 1, Some(100), "Design", restriction(&[], &["g-mgr"])),
        page(102, 1, Some(101), "Design details", restriction(&["alice", "bob"], &[])),
        page(103, 1, Some(100), "Roadmap", restriction(&["gone-user"], &[])),
        Content { status: Status::Archived, ..page(104, 1, Some(100), "Old notes", none()) },
        Content {
            kind: ContentKind::BlogPost,
            ..page(110, 1, None, "Team news", restriction(&["dave"], &[]))
        },
        page(200, 2, None, "Public handbook", none()),
        page(300, 3, None, "Dave's notes", none()),
    ] {
        contents.insert(c.id, c);
    }

    let mut comments = BTreeMap::new();
    for c in [comment(120, 102, None), comment(121, 102, Some(120)), comment(122, 100, None)] {
        comments.insert(c.id, c);
    }

    let mut attachments = BTreeMap::new();
    for a in [
        attachment(
            130,
            102,
            text_file(FileKind::Pdf, "design.pdf", "Design details in a portable document."),
        ),
        attachment(131, 100, text_file(FileKind::Text, "readme.txt", "Welcome to the engineering space.")),
        attachment(230, 200, text_file(FileKind::Markdown, "handbook.md", "# Handbook\nPublic rules.")),
    ] {
        attachments.insert(a.id, a);
    }

    let roles = vec![
        ProjectRole { id: 10001, name: "Developers".into(), description: "People who build".into() },
        ProjectRole { id: 10002, name: "Viewers".into(), description: "People who look".into() },
    ];

    let mut permission_schemes = BTreeMap::new();
    for s in [
        PermissionScheme {
            id: 1,
            name: "APP scheme".into(),
            description: String::new(),
            grants: vec![
                grant(1, Holder::ProjectRole(10001)),
                grant(2, Holder::Reporter),
                PermissionGrant {
                    id: 3,
                    permission: "CREATE_ISSUES".into(),
                    holder: Holder::User("dave".into()),
                },
            ],
        },
        PermissionScheme {
            id: 2,
            name: "Open scheme".into(),
            description: String::new(),
            grants: vec![grant(4, Holder::Anyone)],
        },
        PermissionScheme {
            id: 3,
            name: "Lead scheme".into(),
            description: String::new(),
            grants: vec![grant(5, Holder::ProjectLead), grant(6, Holder::User("dave".into()))],
        },
    ] {
        permission_schemes.insert(s.id, s);
    }

    let mut security_schemes = BTreeMap::new();
    security_schemes.insert(
        1,
        SecurityScheme {
            id: 1,
            name: "APP security".into(),
            description: String::new(),
            default_level_id: None,
            levels: vec![SecurityLevel {
                id: 5001,
                name: "Staff".into(),
                description: String::new(),
                members: vec![
                    LevelMember { id: 1, holder: Holder::Group("g-eng".into()) },
                    LevelMember { id: 2, holder: Holder::Assignee },
                ],
            }],
        },
    );

    let mut projects = BTreeMap::new();
    let mut app = project(10000, "APP", "carol", 1, Some(1));
    app.roles.insert(10001, RoleActors { users: set(&["alice"]), groups: set(&["g-mgr"]) });
    app.roles.insert(10002, RoleActors::default());
    projects.insert(app.id, app);
    projects.insert(10001, project(10001, "OPEN", "alice", 2, None));
    projects.insert(10002, project(10002, "LEAD", "bob", 3, None));

    let mut issues = BTreeMap::new();
    for i in [
        issue(10100, "APP-1", 10000, IssueType::Task, None, "dave", None, None),
        issue(10101, "APP-2", 10000, IssueType::Bug, None, "bob", Some("carol"), Some(5001)),
        issue(10102, "APP-3", 10000, IssueType::Subtask, Some(10101), "alice", None, None),
        Issue { archived: true, ..issue(10103, "APP-4", 10000, IssueType::Task, None, "alice", None, None) },
        issue(10110, "OPEN-1", 10001, IssueType::Story, None, "alice", None, None),
        issue(10120, "LEAD-1", 10002, IssueType::Task, None, "alice", None, None),
    ] {
        issues.insert(i.id, i);
    }

    let mut issue_comments = BTreeMap::new();
    for c in [
        issue_comment(10200, 10100, None),
        issue_comment(10201, 10100, Some(Visibility::Group("g-eng".into()))),
        issue_comment(10202, 10100, Some(Visibility::Role(10002))),
    ] {
        issue_comments.insert(c.id, c);
    }

    let mut jira_attachments = BTreeMap::new();
    jira_attachments.insert(
        10300,
        JiraAttachment {
            id: 10300,
            issue_id: 10101,
            file: text_file(FileKind::Csv, "crash.csv", "when,what\n2024-01-01,crash"),
            author: "bob".into(),
            created: T0,
        },
    );

    let mut site = Site {
        seed: 0,
        name: "fixture".into(),
        admin_account_id: "admin".into(),
        admin_utc_offset_minutes: 600,
        clock: T0 + 86_400_000,
        users,
        groups,
        spaces,
        contents,
        comments,
        attachments,
        roles,
        permission_schemes,
        security_schemes,
        projects,
        issues,
        issue_comments,
        jira_attachments,
        features: SiteFeatures::NONE,
        product_access: ProductAccess {
            rule: AccessRule::Everyone,
            jira: [(
                "jira-software".to_string(),
                Application {
                    key: "jira-software".into(),
                    name: "Jira Software".into(),
                    groups: set(&["g-jira"]),
                    default_groups: set(&["g-jira"]),
                },
            )]
            .into(),
            confluence_users: BTreeSet::new(),
            confluence_guests: BTreeSet::new(),
        },
        inline_comments: BTreeMap::new(),
        space_roles: SpaceRoles::default(),
        service_desks: BTreeMap::new(),
        organisations: BTreeMap::new(),
        requests: BTreeMap::new(),
        ids: IdSequences::default(),
        index: SiteIndex::default(),
    };
    site.reindex();
    site
}
