//! Atlassian's read rules turned into ACL clauses: who may read each document, as a profile of the
//! [`AclStore`], and who a caller is, as principals.
//!
//! A document's permissions depend on a small [`AclInput`] (which space and page, which project, reporter,
//! assignee and level, which comment visibility), stored beside the document, and on a
//! [`PermissionSnapshot`] of the site's permission objects. [`resolve`] combines the two into a profile;
//! [`refresh_all`] does it for every stored document after the snapshot was re-read, so a permissions-only
//! sync never re-fetches bodies. The rules (written out in `docs/permissions.md`):
//!
//! - Confluence page or blog post: the space's `read` holders and, on a site with role-based space access,
//!   the holders of a role that views it (anonymous users are *anyone*, all licensed users the configured
//!   licensed groups, other access classes nobody), and one clause per restricted item among the content
//!   and its ancestors. Comments (footer and inline) and attachments use their container's input.
//! - Jira issue: the `BROWSE_PROJECTS` holders, and the members of its security level if it has one.
//!   Comments with a visibility add a clause of that group or role. Attachments use the issue's input.
//!   An `applicationRole` holder is the access groups of its application (of every Jira application
//!   without a key); none when the applications could not be read.
//! - Product access: every document also takes a clause of its product's access groups (`jira:product`:
//!   the groups of every Jira application; `confluence:product`: the configured Confluence access groups,
//!   no clause when none are configured). What anonymous access opens to everyone (unrestricted content
//!   of a space readable anonymously, an issue without a level of a project browsable by `anyone`, and
//!   its comments without a visibility) takes the per-space or per-project variant instead
//!   (`confluence:space:{id}:product`, `jira:project:{id}:product`), which then also holds *anyone*.
//!
//! Clauses are keyed by the permission object they come from (`confluence:space:{id}:read`,
//! `confluence:content:{id}:read`, `jira:project:{id}:browse`, `jira:project:{pid}:level:{lid}`,
//! `jira:comment-group:{gid}`, `jira:project:{pid}:role:{rid}`, and per issue `jira:issue:{id}:browse` /
//! `jira:issue:{id}:level` when reporter or assignee holders make the clause depend on the issue). A level
//! clause is keyed per project because its project-role and project-lead members expand per project, and
//! one security scheme may serve several projects. Each key's principals are set from the snapshot every
//! time it is resolved, so a permission change rewrites one clause and profile ids of unchanged documents
//! stay as they were.
//!
//! Fail closed: an unknown space or project, an ancestor the snapshot does not hold, a restriction that
//! could not be read, a level the project does not have or a visibility this code does not understand gives
//! [`AclStore::NOBODY`]. A clause whose holders resolve to no principal is kept, and nobody satisfies it.
//!
//! This module decides nothing about scope (which spaces, projects or accounts are indexed) and fetches
//! nothing.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use crate::acl::{AclStore, ClauseId, ClauseKey, Principal, ProfileId};
use crate::atlassian::model::{
    AccessClass, CommentVisibility, Content, ContentAccess, Directory, Holder, Issue, IssueComment, Project,
    RoleHolder, Space, Subject,
};

/// Everything permissions depend on, as last read from the site.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PermissionSnapshot {
    /// By space id.
    pub spaces: BTreeMap<String, Space>,
    /// By content id: every page and blog post whose documents are indexed, and every ancestor of one
    /// (archived ancestors included: their restrictions still apply to their current children).
    pub access: BTreeMap<String, ContentAccess>,
    /// By project id.
    pub projects: BTreeMap<String, Project>,
    pub directory: Directory,
    pub products: ProductAccess,
}

/// Who uses each product: product access is a precondition of reading it, beyond any grant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProductAccess {
    /// The site's Jira applications by key, each with the ids of its access groups; `None` when they could
    /// not be read (then application-role holders grant nobody, and Jira documents are readable only where
    /// anonymous access opens them).
    pub jira: Option<BTreeMap<String, BTreeSet<String>>>,
    /// The Confluence access groups (ids) of the source's `confluence_access_groups`; `None` when not
    /// configured: a member of a granted group is then taken to have Confluence access.
    pub confluence: Option<BTreeSet<String>>,
    /// The licensed Confluence users' groups (ids) of the source's `confluence_licensed_groups`: whom a
    /// space role assigned to all licensed users admits. `None` when not configured: nobody.
    pub confluence_licensed: Option<BTreeSet<String>>,
}

impl ProductAccess {
    /// The access groups of the application `key`, or of every Jira application; none when unreadable.
    fn application_groups(&self, key: Option<&str>) -> Vec<Principal> {
        let Some(apps) = &self.jira else { return Vec::new() };
        let groups: BTreeSet<&String> = match key {
            Some(key) => apps.get(key).into_iter().flatten().collect(),
            None => apps.values().flatten().collect(),
        };
        groups.into_iter().map(|g| Principal::Group(g.clone())).collect()
    }
}

/// What a document's permissions depend on beyond the [`PermissionSnapshot`]; stored per document so a
/// permissions-only refresh can recompute its profile without re-fetching it.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum AclInput {
    /// A page or blog post, or a comment or attachment on one (they read exactly as their container).
    Confluence { space_id: String, content_id: String },
    /// A Jira issue or one of its attachments.
    JiraIssue {
        project_id: String,
        issue_id: String,
        reporter: Option<String>,
        assignee: Option<String>,
        /// The issue's effective security level (a sub-task's is its parent's, as Jira serves it).
        level_id: Option<String>,
    },
    /// A Jira comment: its issue's input and its own visibility, if any.
    JiraComment { issue: Box<AclInput>, comment_id: String, visibility: Option<Visibility> },
}

/// A Jira comment's visibility, as stored in an [`AclInput`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum Visibility {
    /// By group id.
    Group(String),
    /// By project role id.
    Role(String),
    /// A restriction this code cannot resolve: nobody may read the comment.
    Unknown(String),
}

impl From<&CommentVisibility> for Visibility {
    fn from(v: &CommentVisibility) -> Self {
        match v {
            CommentVisibility::Group(g) => Visibility::Group(g.clone()),
            CommentVisibility::Role(r) => Visibility::Role(r.clone()),
            CommentVisibility::Unknown(u) => Visibility::Unknown(u.clone()),
        }
    }
}

impl AclInput {
    /// The input of a page or blog post, and of every comment and attachment on it.
    pub fn of_content(content: &Content) -> AclInput {
        AclInput::Confluence { space_id: content.space_id.clone(), content_id: content.id.clone() }
    }

    /// The Jira project a document belongs to.
    pub fn project_id(&self) -> Option<&str> {
        match self {
            AclInput::Confluence { .. } => None,
            AclInput::JiraIssue { project_id, .. } => Some(project_id),
            AclInput::JiraComment { issue, .. } => issue.project_id(),
        }
    }

    /// The Confluence space a document belongs to (as last read: content may have moved since).
    pub fn space_id(&self) -> Option<&str> {
        match self {
            AclInput::Confluence { space_id, .. } => Some(space_id),
            AclInput::JiraIssue { .. } | AclInput::JiraComment { .. } => None,
        }
    }

    /// The input of an issue and of its attachments.
    pub fn of_issue(issue: &Issue) -> AclInput {
        AclInput::JiraIssue {
            project_id: issue.project_id.clone(),
            issue_id: issue.id.clone(),
            reporter: issue.reporter.clone(),
            assignee: issue.assignee.clone(),
            level_id: issue.security_level_id.clone(),
        }
    }

    /// The input of a comment on `issue`.
    pub fn of_issue_comment(issue: &Issue, comment: &IssueComment) -> AclInput {
        AclInput::JiraComment {
            issue: Box::new(AclInput::of_issue(issue)),
            comment_id: comment.id.clone(),
            visibility: comment.visibility.as_ref().map(Visibility::from),
        }
    }
}

/// Resolves one document's clauses into `store` (setting each clause it uses from `snapshot`) and returns
/// its profile. Anything unknown or unreadable gives [`AclStore::NOBODY`].
///
/// To resolve many documents against one snapshot, use a [`Resolver`] (or [`refresh_all`]): it sets each
/// clause once instead of once per document.
pub fn resolve(store: &mut AclStore, snapshot: &PermissionSnapshot, input: &AclInput) -> ProfileId {
    Resolver::new(store, snapshot).resolve(input)
}

/// Re-resolves every stored document against a new snapshot (a permissions-only refresh): every clause the
/// documents use is rewritten in place, and each document's (possibly new) profile is returned.
pub fn refresh_all<'i>(
    store: &mut AclStore,
    snapshot: &PermissionSnapshot,
    inputs: impl IntoIterator<Item = (&'i str, &'i AclInput)>,
) -> Vec<(String, ProfileId)> {
    let mut resolver = Resolver::new(store, snapshot);
    inputs.into_iter().map(|(doc_id, input)| (doc_id.to_owned(), resolver.resolve(input))).collect()
}

/// The principals of a caller: `Some` only for a known, active account (inactive and unknown accounts
/// read nothing). The account, each group it belongs to, any signed-in user, anyone.
pub fn caller_principals(directory: &Directory, account_id: &str) -> Option<Vec<Principal>> {
    let user = directory.users.get(account_id)?;
    if !user.active {
        return None;
    }
    let mut principals = vec![Principal::User(account_id.to_owned())];
    principals.extend(directory.groups_of(account_id).map(|g| Principal::Group(g.to_owned())));
    principals.push(Principal::Authenticated);
    principals.push(Principal::Anyone);
    Some(principals)
}

/// Resolves documents against one snapshot, setting each clause once: the clauses it has set, and the
/// clause lists of the inputs it has resolved, are remembered for as long as it lives. Create a new one
/// for each new snapshot.
pub struct Resolver<'a> {
    store: &'a mut AclStore,
    snapshot: &'a PermissionSnapshot,
    /// Clauses set by this resolver, by key.
    clauses: HashMap<String, ClauseId>,
    /// Per content id: its own read restriction as a clause, `Some(None)` when unrestricted, `None` when
    /// the snapshot cannot say.
    restrictions: HashMap<String, Option<Option<ClauseId>>>,
    /// Per project id: the principals of its static browse holders.
    browse_static: HashMap<String, Vec<Principal>>,
    /// Clause lists of Confluence and Jira issue inputs; `None` is "nobody".
    resolved: HashMap<AclInput, Option<Vec<ClauseId>>>,
}

/// A holder list's shape: whether it depends on the issue (reporter or assignee holders).
fn names_issue_people(holders: &[Holder]) -> bool {
    holders.iter().any(|h| matches!(h, Holder::Reporter | Holder::Assignee))
}

impl<'a> Resolver<'a> {
    pub fn new(store: &'a mut AclStore, snapshot: &'a PermissionSnapshot) -> Resolver<'a> {
        Resolver {
            store,
            snapshot,
            clauses: HashMap::new(),
            restrictions: HashMap::new(),
            browse_static: HashMap::new(),
            resolved: HashMap::new(),
        }
    }

    /// The profile of one document.
    pub fn resolve(&mut self, input: &AclInput) -> ProfileId {
        match self.clauses_of(input) {
            Some(clauses) => self.store.profile(&clauses),
            None => AclStore::NOBODY,
        }
    }

    /// The clauses of a document, or `None` when it must be readable by nobody.
    fn clauses_of(&mut self, input: &AclInput) -> Option<Vec<ClauseId>> {
        match input {
            AclInput::Confluence { .. } | AclInput::JiraIssue { .. } => {
                if let Some(known) = self.resolved.get(input) {
                    return known.clone();
                }
                let clauses = match input {
                    AclInput::Confluence { content_id, .. } => self.content_clauses(content_id),
                    _ => self.issue_clauses(input),
                };
                self.resolved.insert(input.clone(), clauses.clone());
                clauses
            }
            AclInput::JiraComment { issue, visibility, .. } => {
                let AclInput::JiraIssue { project_id, .. } = issue.as_ref() else {
                    // A comment's input always wraps its issue's; anything else is a corrupt input.
                    return None;
                };
                let mut clauses = self.clauses_of(issue)?;
                if let Some(v) = visibility {
                    clauses.push(self.visibility_clause(project_id, v)?);
                    // A restricted comment is never open to anonymous access.
                    let product = self.jira_product_clause();
                    if !clauses.contains(&product) {
                        clauses.push(product);
                    }
                }
                Some(clauses)
            }
        }
    }

    /// The space clause and one clause per restricted item among the content and its ancestors. The space
    /// is the one the snapshot's access entry names: that is where the content is now.
    fn content_clauses(&mut self, content_id: &str) -> Option<Vec<ClauseId>> {
        let snapshot = self.snapshot;
        let access = snapshot.access.get(content_id)?;
        let space = snapshot.spaces.get(&access.space_id)?;
        let licensed = snapshot.products.confluence_licensed.as_ref();
        let mut clauses = vec![self.clause(format!("confluence:space:{}:read", space.id), || {
            let by_role = space.role_viewers.iter().flat_map(|h| role_holder_principals(h, licensed));
            space.readers.iter().filter_map(subject_principal).chain(by_role).collect()
        })];
        for id in access.ancestors.iter().map(String::as_str).chain(std::iter::once(content_id)) {
            if let Some(clause) = self.restriction_clause(id)? {
                clauses.push(clause);
            }
        }
        // Unrestricted content of a space readable anonymously is open to everyone: its product clause
        // (per space) says so.
        if let Some(groups) = &snapshot.products.confluence {
            let groups = || groups.iter().map(|g| Principal::Group(g.clone())).collect::<Vec<_>>();
            let product = if clauses.len() == 1 {
                self.clause(format!("confluence:space:{}:product", space.id), || {
                    let mut principals = groups();
                    if open_to_anonymous(space) {
                        principals.push(Principal::Anyone);
                    }
                    principals
                })
            } else {
                self.clause("confluence:product".into(), groups)
            };
            clauses.push(product);
        }
        Some(clauses)
    }

    /// The read restriction of one page or blog post: `Some(None)` when it has none, `None` when unknown.
    fn restriction_clause(&mut self, content_id: &str) -> Option<Option<ClauseId>> {
        if let Some(&known) = self.restrictions.get(content_id) {
            return known;
        }
        let snapshot = self.snapshot;
        let outcome = match snapshot.access.get(content_id).and_then(|a| a.restriction.as_ref()) {
            None => None,
            Some(r) if r.is_empty() => Some(None),
            Some(r) => Some(Some(self.clause(format!("confluence:content:{content_id}:read"), || {
                let users = r.users.iter().map(|u| Principal::User(u.clone()));
                users.chain(r.groups.iter().map(|g| Principal::Group(g.clone()))).collect()
            }))),
        };
        self.restrictions.insert(content_id.to_owned(), outcome);
        outcome
    }

    /// The browse clause and, if the issue has a level, the level clause.
    fn issue_clauses(&mut self, input: &AclInput) -> Option<Vec<ClauseId>> {
        let AclInput::JiraIssue { project_id, issue_id, reporter, assignee, level_id } = input else {
            return None;
        };
        let snapshot = self.snapshot;
        let project = snapshot.projects.get(project_id)?;
        let people = IssuePeople { reporter: reporter.as_deref(), assignee: assignee.as_deref() };
        let browse = if names_issue_people(&project.browse) {
            let mut principals = self.browse_static(project);
            principals.extend(people.principals(&project.browse));
            self.store_clause(format!("jira:issue:{issue_id}:browse"), &principals)
        } else {
            let principals = self.browse_static(project);
            self.clause(format!("jira:project:{}:browse", project.id), || principals)
        };
        let mut clauses = vec![browse];
        if let Some(level_id) = level_id {
            let members = project.security_levels.get(level_id)?;
            let level = if names_issue_people(members) {
                let mut principals = static_principals(project, members, &snapshot.products);
                principals.extend(people.principals(members));
                self.store_clause(format!("jira:issue:{issue_id}:level"), &principals)
            } else {
                self.clause(format!("jira:project:{}:level:{level_id}", project.id), || {
                    static_principals(project, members, &snapshot.products)
                })
            };
            clauses.push(level);
        }
        // Without a level, anonymous access to the project opens the issue to everyone; the clause says
        // so, rather than being left out, so that a grant to `anyone` changes a clause, not a clause list.
        let product = match level_id {
            None => self.jira_project_product_clause(project),
            Some(_) => self.jira_product_clause(),
        };
        clauses.push(product);
        Some(clauses)
    }

    /// Members of any Jira application's access groups.
    fn jira_product_clause(&mut self) -> ClauseId {
        let snapshot = self.snapshot;
        self.clause("jira:product".into(), || snapshot.products.application_groups(None))
    }

    /// [`jira_product_clause`](Self::jira_product_clause), and everyone when the project is browsable by
    /// `anyone`.
    fn jira_project_product_clause(&mut self, project: &Project) -> ClauseId {
        let snapshot = self.snapshot;
        self.clause(format!("jira:project:{}:product", project.id), || {
            let mut principals = snapshot.products.application_groups(None);
            if project.browse.contains(&Holder::Anyone) {
                principals.push(Principal::Anyone);
            }
            principals
        })
    }

    fn browse_static(&mut self, project: &Project) -> Vec<Principal> {
        let snapshot = self.snapshot;
        self.browse_static
            .entry(project.id.clone())
            .or_insert_with(|| static_principals(project, &project.browse, &snapshot.products))
            .clone()
    }

    /// The clause a comment visibility adds; `None` for a visibility nobody passes.
    fn visibility_clause(&mut self, project_id: &str, visibility: &Visibility) -> Option<ClauseId> {
        match visibility {
            Visibility::Group(g) => {
                Some(self.clause(format!("jira:comment-group:{g}"), || vec![Principal::Group(g.clone())]))
            }
            Visibility::Role(role) => {
                let snapshot = self.snapshot;
                let project = snapshot.projects.get(project_id)?;
                Some(self.clause(format!("jira:project:{project_id}:role:{role}"), || {
                    role_principals(project, role)
                }))
            }
            Visibility::Unknown(_) => None,
        }
    }

    /// The clause named `key`, set from `principals` the first time this resolver meets the key.
    fn clause(&mut self, key: String, principals: impl FnOnce() -> Vec<Principal>) -> ClauseId {
        if let Some(&id) = self.clauses.get(&key) {
            return id;
        }
        let id = self.store.set_clause(ClauseKey(key.clone()), &principals());
        self.clauses.insert(key, id);
        id
    }

    /// A clause of one issue, set every time: its key is met once per input, and the input is memoised.
    fn store_clause(&mut self, key: String, principals: &[Principal]) -> ClauseId {
        self.store.set_clause(ClauseKey(key), principals)
    }
}

/// The reporter and assignee of an issue, for the holders that name them.
struct IssuePeople<'a> {
    reporter: Option<&'a str>,
    assignee: Option<&'a str>,
}

impl IssuePeople<'_> {
    /// The principals the issue-dependent holders of `holders` name on this issue.
    fn principals(&self, holders: &[Holder]) -> Vec<Principal> {
        holders
            .iter()
            .filter_map(|h| match h {
                Holder::Reporter => self.reporter,
                Holder::Assignee => self.assignee,
                _ => None,
            })
            .map(|account| Principal::User(account.to_owned()))
            .collect()
    }
}

/// The principals the issue-independent holders of `holders` name in `project`.
fn static_principals(project: &Project, holders: &[Holder], products: &ProductAccess) -> Vec<Principal> {
    let mut principals = Vec::new();
    for holder in holders {
        match holder {
            Holder::Anyone => principals.push(Principal::Anyone),
            Holder::ApplicationRole(key) => principals.extend(products.application_groups(key.as_deref())),
            Holder::Group(g) => principals.push(Principal::Group(g.clone())),
            Holder::User(u) => principals.push(Principal::User(u.clone())),
            Holder::ProjectRole(role) => principals.extend(role_principals(project, role)),
            Holder::ProjectLead => principals.extend(project.lead.iter().map(|l| Principal::User(l.clone()))),
            // Issue-dependent holders are added per issue; unknown holder types grant nothing.
            Holder::Reporter | Holder::Assignee | Holder::Unknown(_) => {}
        }
    }
    principals
}

/// The users and groups acting in a role of the project; a role the project does not list has none.
fn role_principals(project: &Project, role: &str) -> Vec<Principal> {
    match project.roles.get(role) {
        Some(actors) => {
            let users = actors.users.iter().map(|u| Principal::User(u.clone()));
            users.chain(actors.groups.iter().map(|g| Principal::Group(g.clone()))).collect()
        }
        None => Vec::new(),
    }
}

/// Whom a holder of a space role that views the space stands for. Of the access classes, anonymous users
/// are everyone and all licensed users are the configured licensed groups; the others
/// (`authenticated-users`, product and JSM admins, classes this code does not know) admit nobody.
fn role_holder_principals(holder: &RoleHolder, licensed: Option<&BTreeSet<String>>) -> Vec<Principal> {
    match holder {
        RoleHolder::User(u) => vec![Principal::User(u.clone())],
        RoleHolder::Group(g) => vec![Principal::Group(g.clone())],
        RoleHolder::AccessClass(AccessClass::AnonymousUsers) => vec![Principal::Anyone],
        RoleHolder::AccessClass(AccessClass::AllLicensedUsers) => {
            licensed.into_iter().flatten().map(|g| Principal::Group(g.clone())).collect()
        }
        RoleHolder::AccessClass(_) | RoleHolder::Unknown(_) => Vec::new(),
    }
}

/// Whether anonymous access may view the space: `read` for the anonymous role, or a viewing role
/// assigned to anonymous users.
fn open_to_anonymous(space: &Space) -> bool {
    space.readers.contains(&Subject::Anonymous)
        || space.role_viewers.contains(&RoleHolder::AccessClass(AccessClass::AnonymousUsers))
}

fn subject_principal(subject: &Subject) -> Option<Principal> {
    match subject {
        Subject::Anonymous => Some(Principal::Anyone),
        Subject::User(u) => Some(Principal::User(u.clone())),
        Subject::Group(g) => Some(Principal::Group(g.clone())),
        Subject::Unknown(_) => None,
    }
}

#[cfg(test)]
mod tests {
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
        for (id, active) in [("alice", true), ("bob", true), ("carol", true), ("dave", true), ("erin", false)]
        {
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
        assert_eq!(
            keys,
            ["confluence:content:11:read", "confluence:content:12:read", "confluence:space:1:read"]
        );
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
        KEYS.iter()
            .copied()
            .find(|k| store.clause_id(&ClauseKey(k.to_string())) == Some(clause))
            .unwrap_or("?")
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
            [
                ("jira-software".to_string(), set(&["g-jira"])),
                ("jira-servicedesk".to_string(), set(&["g-mgr"])),
            ]
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
        }
    }

    fn comment(on: AclInput, visibility: Option<Visibility>) -> AclInput {
        AclInput::JiraComment { issue: Box::new(on), comment_id: "C1".into(), visibility }
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
                vec![
                    "jira:product",
                    "jira:project:P:browse",
                    "jira:project:P:product",
                    "jira:project:P:role:R1",
                ],
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
        assert_eq!(
            readers_of(&jira, &comment(issue(None, None, None), None)),
            ["alice", "bob", "carol", "dave"]
        );
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
        confluence
            .access
            .insert("21".into(), access("21", "2", &["20"], restricted(&["carol", "alice"], &[])));
        assert_eq!(readers_of(&confluence, &content("21")), ["alice"]);
    }

    #[test]
    fn refresh_rewrites_clauses_in_place_and_keeps_profile_ids() {
        let mut snapshot = confluence_snapshot();
        let mut store = AclStore::default();
        let inputs: Vec<(String, AclInput)> = ["10", "11", "12", "20"]
            .iter()
            .map(|id| (format!("confluence:page:{id}"), content(id)))
            .collect();
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
}
