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
//! - Jira Service Management request the portal shows (the project grants `sd.customer.portal.only`, the
//!   issue has a request type, its service desk was read): agents by the rule above, or its customers
//!   (reporter, participants, members of the organisations on the desk it is shared with, expanded to
//!   account ids) where its level admits them. "Agent path or customer path" is expressed exactly by adding
//!   the customers to each agent clause, and to the level clause only when the level names
//!   `sd.customer.portal.only` (`Resolver::request_clauses` says why this cannot leak). Internal notes,
//!   comments with a visibility and attachments take the agent clauses alone.
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
//! `jira:issue:{id}:level` when reporter or assignee holders make the clause depend on the issue, and
//! `jira:request:{id}:browse|level|product` for a request the portal shows). A level
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
    AccessClass, CommentVisibility, Content, ContentAccess, Directory, Holder, Issue, IssueComment,
    PortalRequest, Project, RoleHolder, Space, Subject,
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
        /// Who the customer portal shows the issue to besides its reporter, for a Jira Service Management
        /// request; `None` for an issue the portal shows to no customer (no request, people unreadable), and
        /// for an attachment (agents only).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        request: Option<Request>,
    },
    /// A Jira comment: its issue's input, its own visibility, if any, and whether it is an internal note.
    JiraComment {
        issue: Box<AclInput>,
        comment_id: String,
        visibility: Option<Visibility>,
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        internal: bool,
    },
}

/// A Jira Service Management request's people besides its reporter, as stored in an [`AclInput`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    /// Request participants (account ids).
    pub participants: BTreeSet<String>,
    /// Organisations the request is shared with (ids).
    pub organisations: BTreeSet<String>,
}

impl Request {
    /// The people of a request the portal shows; `None` for an issue it shows to no customer.
    pub fn of(portal: &PortalRequest) -> Option<Request> {
        match portal {
            PortalRequest::Request(people) => Some(Request {
                participants: people.participants.clone(),
                organisations: people.organisations.clone(),
            }),
            PortalRequest::None | PortalRequest::Unreadable(_) => None,
        }
    }
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

    /// The input of an issue.
    pub fn of_issue(issue: &Issue) -> AclInput {
        AclInput::JiraIssue {
            project_id: issue.project_id.clone(),
            issue_id: issue.id.clone(),
            reporter: issue.reporter.clone(),
            assignee: issue.assignee.clone(),
            level_id: issue.security_level_id.clone(),
            request: Request::of(&issue.portal),
        }
    }

    /// The input of an issue's attachment: the issue's, through Jira only (the portal shows some
    /// attachments to customers and not others, which cannot be told apart here).
    pub fn of_issue_attachment(issue: &Issue) -> AclInput {
        AclInput::of_issue(issue).through_jira_only()
    }

    /// The input of a comment on `issue`.
    pub fn of_issue_comment(issue: &Issue, comment: &IssueComment) -> AclInput {
        AclInput::JiraComment {
            issue: Box::new(AclInput::of_issue(issue)),
            comment_id: comment.id.clone(),
            visibility: comment.visibility.as_ref().map(Visibility::from),
            internal: comment.internal,
        }
    }

    /// This issue input without its customer path: who reads the issue in Jira.
    fn through_jira_only(mut self) -> AclInput {
        if let AclInput::JiraIssue { request, .. } = &mut self {
            *request = None;
        }
        self
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
            AclInput::JiraComment { issue, visibility, internal, .. } => {
                let AclInput::JiraIssue { project_id, .. } = issue.as_ref() else {
                    // A comment's input always wraps its issue's; anything else is a corrupt input.
                    return None;
                };
                if !*internal && visibility.is_none() {
                    return self.clauses_of(issue);
                }
                // An internal note or a restricted comment: the portal shows neither, so only the
                // issue's readers in Jira, and never anonymous access.
                let mut clauses = self.clauses_of(&issue.as_ref().clone().through_jira_only())?;
                if let Some(v) = visibility {
                    clauses.push(self.visibility_clause(project_id, v)?);
                }
                let product = self.jira_product_clause();
                if !clauses.contains(&product) {
                    clauses.push(product);
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

    /// The browse clause and, if the issue has a level, the level clause, and the product clause; for a
    /// request the portal shows, each widened by its customers (see [`customers`](Self::customers)).
    fn issue_clauses(&mut self, input: &AclInput) -> Option<Vec<ClauseId>> {
        let AclInput::JiraIssue { project_id, issue_id, reporter, assignee, level_id, request } = input
        else {
            return None;
        };
        let snapshot = self.snapshot;
        let project = snapshot.projects.get(project_id)?;
        let people = IssuePeople { reporter: reporter.as_deref(), assignee: assignee.as_deref() };
        if let Some(customers) = customers(project, reporter.as_deref(), request.as_ref()) {
            return self.request_clauses(project, issue_id, &people, level_id.as_deref(), customers);
        }
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

    /// The clauses of a request the portal shows to `customers`. Access is the agent path (browse ∧
    /// level ∧ product, as for any issue) or the customer path (involved ∧ the level admits them);
    /// as (A∧B)∨C = (A∨C)∧(B∨C), each agent clause takes the customers too, except a level without
    /// `sd.customer.portal.only`, which binds customers as it is. A caller holding none of the customer
    /// principals must satisfy the agent clauses; one holding some is involved, and passes the customer
    /// path exactly when it passes the level. The clauses are the issue's own (`jira:request:{id}:…`).
    fn request_clauses(
        &mut self,
        project: &Project,
        issue_id: &str,
        people: &IssuePeople<'_>,
        level_id: Option<&str>,
        customers: Vec<Principal>,
    ) -> Option<Vec<ClauseId>> {
        let snapshot = self.snapshot;
        let mut browse = self.browse_static(project);
        browse.extend(people.principals(&project.browse));
        browse.extend(customers.iter().cloned());
        let mut clauses = vec![self.store_clause(format!("jira:request:{issue_id}:browse"), &browse)];
        if let Some(level_id) = level_id {
            let members = project.security_levels.get(level_id)?;
            let mut level = static_principals(project, members, &snapshot.products);
            level.extend(people.principals(members));
            if members.contains(&Holder::CustomerPortal) {
                level.extend(customers.iter().cloned());
            }
            clauses.push(self.store_clause(format!("jira:request:{issue_id}:level"), &level));
        }
        let mut product = snapshot.products.application_groups(None);
        if level_id.is_none() && project.browse.contains(&Holder::Anyone) {
            product.push(Principal::Anyone);
        }
        product.extend(customers);
        clauses.push(self.store_clause(format!("jira:request:{issue_id}:product"), &product));
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

/// The accounts the customer portal shows a request to: its reporter, its participants and the members of
/// the organisations it is shared with that are added to the project's service desk. `None` when it shows
/// it to none: the project does not grant `BROWSE_PROJECTS` to `sd.customer.portal.only`, its service desk
/// was not read, the issue is no request, or an organisation it is shared with has members that could
/// not be read (then the request is readable through Jira only: never wider than the site).
fn customers(project: &Project, reporter: Option<&str>, request: Option<&Request>) -> Option<Vec<Principal>> {
    let request = request?;
    let desk = project.service_desk.as_ref()?;
    if !project.browse.contains(&Holder::CustomerPortal) {
        return None;
    }
    let mut accounts: BTreeSet<&str> = request.participants.iter().map(String::as_str).collect();
    accounts.extend(reporter);
    for org in &request.organisations {
        match desk.organisations.get(org) {
            Some(Some(members)) => accounts.extend(members.iter().map(String::as_str)),
            Some(None) => return None,
            // Not added to the service desk: sharing with it opens the request to nobody.
            None => {}
        }
    }
    Some(accounts.into_iter().map(|a| Principal::User(a.to_owned())).collect())
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
            // Issue-dependent holders are added per issue; the portal's customers per request (see
            // `customers`); unknown holder types grant nothing.
            Holder::Reporter | Holder::Assignee | Holder::CustomerPortal | Holder::Unknown(_) => {}
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
mod tests;
