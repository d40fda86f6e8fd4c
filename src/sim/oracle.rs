//! Ground truth for "who may read what": Atlassian's read rules evaluated directly on the model.
//!
//! The crawler and the index are tested against this module, so it is written from Atlassian's documented
//! rules alone and shares no code with them. It answers three questions:
//!
//! - [`can_view`]: may this account read this item, whatever the index scope?
//! - [`visible`]: every in-scope item the account may read (memoised, for large sites);
//! - [`all_docs`]: every in-scope item.
//!
//! The rules (fail closed everywhere: anything unknown grants nothing):
//!
//! - Inactive and unknown accounts read nothing.
//! - Product access is a precondition. An account reads Confluence as a licensed user or a guest when
//!   it is in one of the site's Confluence access groups, and Jira when it is in an access group of any
//!   Jira application. Without a product's access, an account reads of it only what anonymous access
//!   opens to everyone: Confluence content of a space readable by `ANONYMOUS` (or assigned a viewing role
//!   for `anonymous-users`) with no read restriction on it or its ancestors, and issues of a project that
//!   grants `BROWSE_PROJECTS` to `anyone`, without a security level, and their comments without a
//!   visibility. On a site that does not model product access, every active account uses every product.
//! - Confluence pages: `read` on the space (target `space`; a user, a group the account is in, or the
//!   `ANONYMOUS` role, which admits everyone), or, on a site in role mode (`ROLES_TRANSITION`, `ROLES`), a
//!   space role holding `read/space` assigned to the account, a group it is in, or an access class:
//!   `anonymous-users` admits everyone, `all-licensed-users` every licensed Confluence user (not guests);
//!   the other classes (`authenticated-users`, `all-product-admins`, `jsm-project-admins`) are not
//!   modelled and admit nobody. And, for the page and every ancestor with a non-empty read
//!   restriction, be listed in it by account or by group. Update restrictions do not matter. Blog posts: the
//!   space and their own restriction. Comments (footer and inline, resolved or not) and attachments:
//!   exactly their container's rule. Archived
//!   content stays readable by whoever could read it before.
//! - Jira issues: a `BROWSE_PROJECTS` grant of the project's permission scheme, and, if the issue's effective
//!   security level (a sub-task's is its parent's) is set, membership of that level. An `applicationRole`
//!   holder with a key admits the users of that Jira application (members of its access groups); without
//!   a key, the users of any Jira application. `sd.customer.portal.only` grants nothing through Jira (it
//!   is the portal's, below). Comments with a visibility also need that group or project role.
//!   Attachments: the issue's rule. Archived issues, and issues of archived projects, are hidden from
//!   everyone. This is the *agent path*.
//! - Jira Service Management requests (issues of a service desk's project) have a second, the *customer
//!   path*, through the portal: the project's scheme grants `BROWSE_PROJECTS` to `sd.customer.portal.only`,
//!   the issue has a customer request type (one created in Jira without one is no portal request), and the
//!   account is involved in it: its reporter, a request participant, or a member of an organisation the
//!   request is shared with that is added to the service desk. Security levels bind customers too
//!   (Atlassian: "request participants follow issue-level security schemes"): at a level the account must be
//!   a member, where `sd.customer.portal.only` as a member admits every involved account, and the level's
//!   other members count without product access (a customer named as reporter passes a `reporter`
//!   member). The customer path needs no product access: portal-only customers have none.
//!   A request is readable by the agent path or the customer path. Its public comments likewise; internal
//!   comments (`jsdPublic: false`) and comments with a visibility by the agent path only (the portal shows
//!   neither), and only by Jira users (anonymous access opens neither); attachments by the agent path only (the portal shows only some attachments, which the model
//!   does not tell apart).
//!
//! It deliberately does not model team-managed Jira projects or custom-field holders: the simulator's
//! model has none of them.

use std::collections::{BTreeSet, HashMap};

use super::model::{
    AccessRule, Attachment, Content, ContentKind, Holder, Issue, IssueComment, JiraAttachment, Project,
    Restriction, RoleMode, RolePrincipal, Site, Space, SpacePrincipal, Status, Visibility, VIEW_SPACE,
};
use super::DocId;

/// What an index is expected to hold.
///
/// Archived pages and blog posts (with their comments and attachments) and everything in archived spaces
/// are in scope only with `include_archived`. Archived Jira issues are never in scope: Jira hides them from
/// search.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Scope {
    pub include_archived: bool,
}

/// Whether `account_id` may read `doc` by Atlassian's rules, regardless of scope. Unknown ids give `false`.
pub fn can_view(site: &Site, account_id: &str, doc: &DocId) -> bool {
    let Some(viewer) = Viewer::new(site, account_id) else {
        return false;
    };
    let Some(item) = Item::parse(doc) else {
        return false;
    };
    // This path deliberately walks every ancestor afresh (no memo), so that it cross-checks `visible`.
    match item {
        Item::Content(kind, id) => {
            site.contents.get(&id).is_some_and(|c| c.kind == kind && viewer.reads_content(c))
        }
        Item::Comment(id) => container_of_comment(site, id).is_some_and(|c| viewer.reads_container(c)),
        Item::Attachment(id) => {
            site.attachments.get(&id).is_some_and(|a| viewer.reads_container(a.container_id))
        }
        Item::Issue(id) => site.issues.get(&id).is_some_and(|i| viewer.reads_issue(i)),
        Item::IssueComment(id) => site.issue_comments.get(&id).is_some_and(|c| viewer.reads_issue_comment(c)),
        Item::JiraAttachment(id) => site
            .jira_attachments
            .get(&id)
            .and_then(|a| site.issues.get(&a.issue_id))
            .is_some_and(|i| viewer.reads_issue_as_agent(i)),
    }
}

/// Every in-scope item `account_id` may read, sorted.
pub fn visible(site: &Site, account_id: &str, scope: Scope) -> Vec<DocId> {
    let Some(viewer) = Viewer::new(site, account_id) else {
        return Vec::new();
    };
    let mut memo = Memo::new(viewer);
    let mut docs = Vec::new();
    let in_scope = InScope { site, scope };
    for c in site.contents.values() {
        if in_scope.content(c) && memo.reads_content(c) {
            docs.push(DocId::confluence_content(c.kind, c.id));
        }
    }
    for (id, container) in comments(site) {
        if in_scope.container(container) && memo.reads_container(container) {
            docs.push(DocId::confluence_comment(id));
        }
    }
    for a in site.attachments.values() {
        if in_scope.attachment(a) && memo.reads_container(a.container_id) {
            docs.push(DocId::confluence_attachment(a.id));
        }
    }
    for i in site.issues.values() {
        if in_scope.issue(i) && memo.reads_issue(i) {
            docs.push(DocId::jira_issue(i.id));
        }
    }
    for c in site.issue_comments.values() {
        if in_scope.issue_comment(c) && memo.reads_issue_comment(c) {
            docs.push(DocId::jira_comment(c.id));
        }
    }
    for a in site.jira_attachments.values() {
        if in_scope.jira_attachment(a)
            && site.issues.get(&a.issue_id).is_some_and(|i| memo.reads_issue_as_agent(i))
        {
            docs.push(DocId::jira_attachment(a.id));
        }
    }
    docs.sort_unstable();
    docs
}

/// Every in-scope item, sorted.
pub fn all_docs(site: &Site, scope: Scope) -> Vec<DocId> {
    let in_scope = InScope { site, scope };
    let mut docs = Vec::new();
    docs.extend(
        site.contents
            .values()
            .filter(|c| in_scope.content(c))
            .map(|c| DocId::confluence_content(c.kind, c.id)),
    );
    docs.extend(
        comments(site)
            .filter(|&(_, container)| in_scope.container(container))
            .map(|(id, _)| DocId::confluence_comment(id)),
    );
    docs.extend(
        site.attachments
            .values()
            .filter(|a| in_scope.attachment(a))
            .map(|a| DocId::confluence_attachment(a.id)),
    );
    docs.extend(site.issues.values().filter(|i| in_scope.issue(i)).map(|i| DocId::jira_issue(i.id)));
    docs.extend(
        site.issue_comments.values().filter(|c| in_scope.issue_comment(c)).map(|c| DocId::jira_comment(c.id)),
    );
    docs.extend(
        site.jira_attachments
            .values()
            .filter(|a| in_scope.jira_attachment(a))
            .map(|a| DocId::jira_attachment(a.id)),
    );
    docs.sort_unstable();
    docs
}

/// Every Confluence comment, footer and inline, as (id, container id).
fn comments(site: &Site) -> impl Iterator<Item = (u64, u64)> + '_ {
    let footer = site.comments.values().map(|c| (c.id, c.container_id));
    footer.chain(site.inline_comments.values().map(|c| (c.id, c.container_id)))
}

/// The container of a footer or inline comment.
fn container_of_comment(site: &Site, id: u64) -> Option<u64> {
    site.comments
        .get(&id)
        .map(|c| c.container_id)
        .or_else(|| site.inline_comments.get(&id).map(|c| c.container_id))
}

/// A [`DocId`] taken apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Item {
    Content(ContentKind, u64),
    Comment(u64),
    Attachment(u64),
    Issue(u64),
    IssueComment(u64),
    JiraAttachment(u64),
}

impl Item {
    fn parse(doc: &DocId) -> Option<Item> {
        let mut parts = doc.0.splitn(3, ':');
        let (source, kind, id) = (parts.next()?, parts.next()?, parts.next()?);
        match (source, kind) {
            ("confluence", "page") => Some(Item::Content(ContentKind::Page, canonical_id(id)?)),
            ("confluence", "blogpost") => Some(Item::Content(ContentKind::BlogPost, canonical_id(id)?)),
            ("confluence", "comment") => Some(Item::Comment(canonical_id(id)?)),
            ("confluence", "attachment") => Some(Item::Attachment(canonical_id(id.strip_prefix("att")?)?)),
            ("jira", "issue") => Some(Item::Issue(canonical_id(id)?)),
            ("jira", "comment") => Some(Item::IssueComment(canonical_id(id)?)),
            ("jira", "attachment") => Some(Item::JiraAttachment(canonical_id(id)?)),
            _ => None,
        }
    }
}

/// Parses an id only in the spelling the API serves (`u64::from_str` would also take `+7` or `007`, which
/// name no item).
fn canonical_id(s: &str) -> Option<u64> {
    let id: u64 = s.parse().ok()?;
    (id.to_string() == s).then_some(id)
}

/// Which items an index with a given [`Scope`] holds. Items whose container is missing are out of scope.
struct InScope<'a> {
    site: &'a Site,
    scope: Scope,
}

impl InScope<'_> {
    fn content(&self, c: &Content) -> bool {
        match self.site.spaces.get(&c.space_id) {
            Some(space) => {
                self.scope.include_archived
                    || (space.status == Status::Current && c.status == Status::Current)
            }
            None => false,
        }
    }

    fn container(&self, container_id: u64) -> bool {
        self.site.contents.get(&container_id).is_some_and(|c| self.content(c))
    }

    fn attachment(&self, a: &Attachment) -> bool {
        self.container(a.container_id)
    }

    fn issue(&self, i: &Issue) -> bool {
        issue_is_live(self.site, i)
    }

    fn issue_comment(&self, c: &IssueComment) -> bool {
        self.site.issues.get(&c.issue_id).is_some_and(|i| self.issue(i))
    }

    fn jira_attachment(&self, a: &JiraAttachment) -> bool {
        self.site.issues.get(&a.issue_id).is_some_and(|i| self.issue(i))
    }
}

/// Neither the issue nor its project is archived (Jira hides both kinds from everyone's search and view).
fn issue_is_live(site: &Site, issue: &Issue) -> bool {
    !issue.archived && site.projects.get(&issue.project_id).is_some_and(|p| !p.archived)
}

/// The one role principal that admits everyone.
const ANONYMOUS_ROLE: &str = "ANONYMOUS";
/// The access class that admits everyone, signed in or not.
const ANONYMOUS_USERS: &str = "anonymous-users";
/// The access class of every licensed Confluence user (guests are not licensed users).
const ALL_LICENSED_USERS: &str = "all-licensed-users";
/// The Jira permission that decides who can see a project's issues.
const BROWSE_PROJECTS: &str = "BROWSE_PROJECTS";

/// How an account uses Confluence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ConfluenceUse {
    Licensed,
    Guest,
    /// No Confluence access: only what anonymous access opens.
    Without,
}

/// An active account and the groups it belongs to: the principals whose rules are being evaluated.
struct Viewer<'a> {
    site: &'a Site,
    account_id: &'a str,
    groups: Option<&'a BTreeSet<String>>,
    confluence: ConfluenceUse,
    /// The keys of the Jira applications the account uses; `None` when product access is not modelled
    /// (then it uses every one).
    jira_apps: Option<BTreeSet<&'a str>>,
}

impl<'a> Viewer<'a> {
    /// `None` for unknown and inactive accounts, which read nothing.
    fn new(site: &'a Site, account_id: &'a str) -> Option<Viewer<'a>> {
        let user = site.user(account_id)?;
        if !user.active {
            return None;
        }
        let groups = site.index.groups_of.get(account_id);
        let in_any = |ids: &BTreeSet<String>| groups.is_some_and(|g| ids.iter().any(|id| g.contains(id)));
        let access = &site.product_access;
        let (confluence, jira_apps) = match access.rule {
            AccessRule::Everyone => (ConfluenceUse::Licensed, None),
            AccessRule::Groups => {
                let confluence = if in_any(&access.confluence_users) {
                    ConfluenceUse::Licensed
                } else if in_any(&access.confluence_guests) {
                    ConfluenceUse::Guest
                } else {
                    ConfluenceUse::Without
                };
                let apps = access.jira.values().filter(|app| in_any(&app.groups)).map(|app| app.key.as_str());
                (confluence, Some(apps.collect()))
            }
        };
        Some(Viewer { site, account_id, groups, confluence, jira_apps })
    }

    fn in_group(&self, group_id: &str) -> bool {
        self.groups.is_some_and(|g| g.contains(group_id))
    }

    fn uses_confluence(&self) -> bool {
        self.confluence != ConfluenceUse::Without
    }

    fn uses_jira(&self) -> bool {
        self.jira_apps.as_ref().is_none_or(|apps| !apps.is_empty())
    }

    /// Holds an application role: of the application `key`, or of any Jira application.
    fn holds_application_role(&self, key: Option<&str>) -> bool {
        match (&self.jira_apps, key) {
            (None, _) => true,
            (Some(apps), Some(key)) => apps.contains(key),
            (Some(apps), None) => !apps.is_empty(),
        }
    }

    /// Holds `read` on the space (target `space`; no other operation grants reading), or, in role mode,
    /// a role with [`VIEW_SPACE`] on it. Grants by name or group count only for Confluence users.
    fn reads_space(&self, space: &Space) -> bool {
        let uses = self.uses_confluence();
        let by_permission = space.permissions.iter().any(|p| {
            p.operation == "read"
                && p.target == "space"
                && match &p.principal {
                    SpacePrincipal::User(id) => uses && id == self.account_id,
                    SpacePrincipal::Group(id) => uses && self.in_group(id),
                    SpacePrincipal::Role(role) => role == ANONYMOUS_ROLE,
                }
        });
        by_permission || self.reads_space_by_role(space.id)
    }

    fn reads_space_by_role(&self, space_id: u64) -> bool {
        let roles = &self.site.space_roles;
        if roles.mode == RoleMode::PreRoles {
            return false;
        }
        let Some(assignments) = roles.assignments.get(&space_id) else { return false };
        let uses = self.uses_confluence();
        assignments.iter().any(|a| {
            let views = roles.roles.iter().any(|r| r.id == a.role_id && r.permissions.contains(VIEW_SPACE));
            views
                && match &a.principal {
                    RolePrincipal::User(id) => uses && id == self.account_id,
                    RolePrincipal::Group(id) => uses && self.in_group(id),
                    RolePrincipal::AccessClass(class) if class == ANONYMOUS_USERS => true,
                    RolePrincipal::AccessClass(class) if class == ALL_LICENSED_USERS => {
                        self.confluence == ConfluenceUse::Licensed
                    }
                    // authenticated-users, all-product-admins, jsm-project-admins: not modelled.
                    RolePrincipal::AccessClass(_) => false,
                }
        })
    }

    /// An empty restriction admits everyone; otherwise the account must use Confluence and be listed or
    /// in a listed group.
    fn passes(&self, r: &Restriction) -> bool {
        r.is_empty()
            || (self.uses_confluence()
                && (r.users.contains(self.account_id) || r.groups.iter().any(|g| self.in_group(g))))
    }

    fn reads_content(&self, c: &Content) -> bool {
        let Some(space) = self.site.spaces.get(&c.space_id) else {
            return false;
        };
        self.reads_space(space)
            && self.passes(&c.read_restriction)
            && self
                .site
                .ancestors(c.id)
                .iter()
                .all(|a| self.site.contents.get(a).is_none_or(|p| self.passes(&p.read_restriction)))
    }

    fn reads_container(&self, container_id: u64) -> bool {
        self.site.contents.get(&container_id).is_some_and(|c| self.reads_content(c))
    }

    fn reads_issue(&self, issue: &Issue) -> bool {
        self.reads_issue_as_agent(issue) || self.reads_request_as_customer(issue)
    }

    /// The agent path: Jira's own rule.
    fn reads_issue_as_agent(&self, issue: &Issue) -> bool {
        let Some(project) = self.site.projects.get(&issue.project_id) else {
            return false;
        };
        issue_is_live(self.site, issue)
            && self.browse_access(project).admits(self.account_id, issue)
            && match self.site.effective_security_level(issue) {
                None => true,
                Some(level) => self.level_access(project, level).admits(self.account_id, issue),
            }
    }

    /// The customer path: the portal shows a request to the accounts involved in it, if the project lets
    /// its customers browse and the request's level (if any) admits them.
    fn reads_request_as_customer(&self, issue: &Issue) -> bool {
        let site = self.site;
        let Some(project) = site.projects.get(&issue.project_id) else { return false };
        let Some(desk) =
            site.index.service_desk_of_project.get(&project.id).and_then(|d| site.service_desks.get(d))
        else {
            return false;
        };
        let Some(request) = site.requests.get(&issue.id) else { return false };
        let grants_portal = site.permission_schemes.get(&project.permission_scheme_id).is_some_and(|s| {
            s.grants.iter().any(|g| g.permission == BROWSE_PROJECTS && g.holder == Holder::CustomerPortal)
        });
        let involved = issue.reporter.as_deref() == Some(self.account_id)
            || request.participants.contains(self.account_id)
            || request.organisations.iter().any(|o| {
                desk.organisations.contains(o)
                    && site.organisations.get(o).is_some_and(|org| org.members.contains(self.account_id))
            });
        issue_is_live(site, issue)
            && grants_portal
            && request.request_type.is_some()
            && involved
            && match site.effective_security_level(issue) {
                None => true,
                Some(level) => self.level_admits_customer(project, level, issue),
            }
    }

    /// Whether a level admits an account on the customer path: `sd.customer.portal.only` as a member admits
    /// every involved account; its other members count as they name the account, without product access.
    fn level_admits_customer(&self, project: &Project, level_id: u64, issue: &Issue) -> bool {
        let level = project
            .security_scheme_id
            .and_then(|s| self.site.security_schemes.get(&s))
            .and_then(|s| s.levels.iter().find(|l| l.id == level_id));
        let Some(level) = level else { return false };
        level.members.iter().any(|m| match &m.holder {
            Holder::CustomerPortal | Holder::Anyone => true,
            Holder::ApplicationRole(key) => self.holds_application_role(key.as_deref()),
            Holder::Group(g) => self.in_group(g),
            Holder::User(u) => u == self.account_id,
            Holder::ProjectRole(role) => self.is_role_actor(project, *role),
            Holder::ProjectLead => project.lead == self.account_id,
            Holder::Reporter => issue.reporter.as_deref() == Some(self.account_id),
            Holder::Assignee => issue.assignee.as_deref() == Some(self.account_id),
        })
    }

    fn reads_issue_comment(&self, c: &IssueComment) -> bool {
        let Some(issue) = self.site.issues.get(&c.issue_id) else {
            return false;
        };
        let by_path = if c.internal || c.visibility.is_some() {
            self.reads_issue_as_agent(issue)
        } else {
            self.reads_issue(issue)
        };
        by_path && self.passes_comment_limits(issue, c)
    }

    /// A comment's own limits: its visibility (a group or role, which only Jira users hold) and, for a
    /// service desk internal note, being a Jira user at all (anonymous access never opens one).
    fn passes_comment_limits(&self, issue: &Issue, c: &IssueComment) -> bool {
        if c.internal && !self.uses_jira() {
            return false;
        }
        match &c.visibility {
            None => true,
            Some(Visibility::Group(g)) => self.uses_jira() && self.in_group(g),
            Some(Visibility::Role(role)) => {
                self.uses_jira()
                    && self.site.projects.get(&issue.project_id).is_some_and(|p| self.is_role_actor(p, *role))
            }
        }
    }

    fn is_role_actor(&self, project: &Project, role_id: u64) -> bool {
        project
            .roles
            .get(&role_id)
            .is_some_and(|a| a.users.contains(self.account_id) || a.groups.iter().any(|g| self.in_group(g)))
    }

    /// Who holds `BROWSE_PROJECTS` in the project's permission scheme; a missing scheme grants nothing.
    fn browse_access(&self, project: &Project) -> HolderAccess {
        let grants =
            self.site.permission_schemes.get(&project.permission_scheme_id).map(|s| s.grants.as_slice());
        let holders =
            grants.unwrap_or_default().iter().filter(|g| g.permission == BROWSE_PROJECTS).map(|g| &g.holder);
        self.holder_access(project, holders)
    }

    /// Members of a security level; a level missing from the project's security scheme admits nobody.
    fn level_access(&self, project: &Project, level_id: u64) -> HolderAccess {
        let level = project
            .security_scheme_id
            .and_then(|s| self.site.security_schemes.get(&s))
            .and_then(|s| s.levels.iter().find(|l| l.id == level_id));
        match level {
            Some(level) => self.holder_access(project, level.members.iter().map(|m| &m.holder)),
            None => HolderAccess::default(),
        }
    }

    /// Evaluates holders for this account within a project, leaving the per-issue holders for
    /// [`HolderAccess::admits`]. Without Jira access only `anyone` counts.
    fn holder_access<'h>(
        &self,
        project: &Project,
        holders: impl Iterator<Item = &'h Holder>,
    ) -> HolderAccess {
        let mut access = HolderAccess::default();
        let uses_jira = self.uses_jira();
        for holder in holders {
            if !uses_jira && *holder != Holder::Anyone {
                continue;
            }
            match holder {
                Holder::Anyone => access.always = true,
                Holder::ApplicationRole(key) => access.always |= self.holds_application_role(key.as_deref()),
                // The customer portal is not Jira: see the service desk rules.
                Holder::CustomerPortal => {}
                Holder::Group(g) => access.always |= self.in_group(g),
                Holder::User(u) => access.always |= u == self.account_id,
                Holder::ProjectRole(role) => access.always |= self.is_role_actor(project, *role),
                Holder::ProjectLead => access.always |= project.lead == self.account_id,
                Holder::Reporter => access.as_reporter = true,
                Holder::Assignee => access.as_assignee = true,
            }
        }
        access
    }
}

/// One account's standing against a list of Jira holders in one project: either admitted outright, or
/// admitted on an issue where it is the reporter or the assignee (if those holders are listed).
#[derive(Debug, Clone, Copy, Default)]
struct HolderAccess {
    always: bool,
    as_reporter: bool,
    as_assignee: bool,
}

impl HolderAccess {
    fn admits(self, account_id: &str, issue: &Issue) -> bool {
        self.always
            || (self.as_reporter && issue.reporter.as_deref() == Some(account_id))
            || (self.as_assignee && issue.assignee.as_deref() == Some(account_id))
    }
}

/// The [`Viewer`] rules with results shared across items: a space's read permission, a page's
/// restriction chain, a project's browse holders and a level's members are each evaluated once.
struct Memo<'a> {
    viewer: Viewer<'a>,
    space_read: HashMap<u64, bool>,
    /// Whether the page and every ancestor admit the account (restrictions only, not the space).
    chain_passes: HashMap<u64, bool>,
    browse: HashMap<u64, HolderAccess>,
    /// By (project id, level id): holders such as project roles depend on the project.
    level: HashMap<(u64, u64), HolderAccess>,
}

impl<'a> Memo<'a> {
    fn new(viewer: Viewer<'a>) -> Memo<'a> {
        Memo {
            viewer,
            space_read: HashMap::new(),
            chain_passes: HashMap::new(),
            browse: HashMap::new(),
            level: HashMap::new(),
        }
    }

    fn reads_content(&mut self, c: &Content) -> bool {
        let site = self.viewer.site;
        let reads_space = match self.space_read.get(&c.space_id) {
            Some(&r) => r,
            None => {
                let r = site.spaces.get(&c.space_id).is_some_and(|s| self.viewer.reads_space(s));
                self.space_read.insert(c.space_id, r);
                r
            }
        };
        reads_space && self.chain_passes(c.id)
    }

    fn reads_container(&mut self, container_id: u64) -> bool {
        let site = self.viewer.site;
        site.contents.get(&container_id).is_some_and(|c| self.reads_content(c))
    }

    /// Walks up to the first page already known (or the root), then fills the memo back down.
    fn chain_passes(&mut self, id: u64) -> bool {
        let site = self.viewer.site;
        let mut unknown = Vec::new();
        let mut inherited = true;
        let mut cur = Some(id);
        while let Some(cid) = cur {
            if let Some(&known) = self.chain_passes.get(&cid) {
                inherited = known;
                break;
            }
            // A parent id naming no page adds no restriction, as in `Site::ancestors`.
            let Some(content) = site.contents.get(&cid) else {
                break;
            };
            unknown.push(content);
            // The mutation API cannot build a cycle; should a corrupted model hold one, fail closed.
            if unknown.len() > site.contents.len() {
                inherited = false;
                break;
            }
            cur = content.parent_id;
        }
        for content in unknown.iter().rev() {
            inherited = inherited && self.viewer.passes(&content.read_restriction);
            self.chain_passes.insert(content.id, inherited);
        }
        self.chain_passes.get(&id).copied().unwrap_or(false)
    }

    fn reads_issue(&mut self, issue: &Issue) -> bool {
        self.reads_issue_as_agent(issue) || self.viewer.reads_request_as_customer(issue)
    }

    fn reads_issue_as_agent(&mut self, issue: &Issue) -> bool {
        let site = self.viewer.site;
        let Some(project) = site.projects.get(&issue.project_id) else {
            return false;
        };
        if !issue_is_live(site, issue) {
            return false;
        }
        let viewer = &self.viewer;
        let browse = *self.browse.entry(project.id).or_insert_with(|| viewer.browse_access(project));
        if !browse.admits(viewer.account_id, issue) {
            return false;
        }
        match site.effective_security_level(issue) {
            None => true,
            Some(level) => self
                .level
                .entry((project.id, level))
                .or_insert_with(|| viewer.level_access(project, level))
                .admits(viewer.account_id, issue),
        }
    }

    fn reads_issue_comment(&mut self, c: &IssueComment) -> bool {
        let site = self.viewer.site;
        let Some(issue) = site.issues.get(&c.issue_id) else {
            return false;
        };
        let by_path = if c.internal || c.visibility.is_some() {
            self.reads_issue_as_agent(issue)
        } else {
            self.reads_issue(issue)
        };
        by_path && self.viewer.passes_comment_limits(issue, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::tiny_site;
    use crate::sim::model::ContentKind::{BlogPost, Page};

    const ACCOUNTS: [&str; 7] = ["alice", "bob", "carol", "dave", "erin", "gone-user", "nobody-at-all"];

    fn page(id: u64) -> DocId {
        DocId::confluence_content(Page, id)
    }

    /// Every account of `ACCOUNTS` that may read `doc`, in that order.
    fn readers(site: &Site, doc: &DocId) -> Vec<&'static str> {
        ACCOUNTS.iter().copied().filter(|a| can_view(site, a, doc)).collect()
    }

    #[test]
    fn fixture_readers_follow_atlassian_rules() {
        let site = tiny_site();
        let all_active = vec!["alice", "bob", "carol", "dave"];
        let eng_readers = vec!["alice", "bob", "carol"];
        let cases: Vec<(&str, DocId, Vec<&str>)> = vec![
            ("space read via group or user; erin is inactive", page(100), eng_readers.clone()),
            ("restriction naming a group", page(101), vec!["bob", "carol"]),
            ("inherited: space ∧ g-mgr on 101 ∧ alice|bob on 102", page(102), vec!["bob"]),
            ("restricted to a departed account", page(103), vec![]),
            ("archived page stays readable", page(104), eng_readers.clone()),
            ("blog: dave is listed but lacks space read", DocId::confluence_content(BlogPost, 110), vec![]),
            ("comment follows its page", DocId::confluence_comment(120), vec!["bob"]),
            ("reply follows its page", DocId::confluence_comment(121), vec!["bob"]),
            ("comment on home", DocId::confluence_comment(122), eng_readers.clone()),
            ("attachment follows its page", DocId::confluence_attachment(130), vec!["bob"]),
            ("attachment on home", DocId::confluence_attachment(131), eng_readers.clone()),
            ("anonymous space", page(200), all_active.clone()),
            ("attachment in anonymous space", DocId::confluence_attachment(230), all_active.clone()),
            ("personal space", page(300), vec!["dave"]),
            ("role Developers (alice, g-mgr) or reporter dave", DocId::jira_issue(10100), all_active.clone()),
            ("level Staff: g-eng or assignee carol", DocId::jira_issue(10101), eng_readers.clone()),
            (
                "sub-task takes parent's level; its assignee is nobody",
                DocId::jira_issue(10102),
                vec!["alice", "bob"],
            ),
            ("archived issue", DocId::jira_issue(10103), vec![]),
            ("open comment", DocId::jira_comment(10200), all_active.clone()),
            ("comment for group g-eng", DocId::jira_comment(10201), vec!["alice", "bob"]),
            ("comment for a role without actors", DocId::jira_comment(10202), vec![]),
            ("attachment follows its issue", DocId::jira_attachment(10300), eng_readers.clone()),
            ("anyone grant", DocId::jira_issue(10110), all_active.clone()),
            ("project lead and user dave", DocId::jira_issue(10120), vec!["bob", "dave"]),
        ];
        for (why, doc, expected) in cases {
            assert_eq!(readers(&site, &doc), expected, "{doc}: {why}");
        }
    }

    #[test]
    fn unknown_and_malformed_ids_are_unreadable() {
        let site = tiny_site();
        for doc in [
            "confluence:page:999",
            "confluence:blogpost:100",
            "confluence:page:110",
            "confluence:page:+100",
            "confluence:page:0100",
            "confluence:attachment:131",
            "confluence:comment:100",
            "jira:issue:APP-1",
            "jira:issue:10200",
            "jira:comment:10100",
            "jira:attachment:att10300",
            "confluence:page",
            "page:100",
            "",
        ] {
            assert!(readers(&site, &DocId(doc.to_string())).is_empty(), "{doc}");
        }
    }

    #[test]
    fn default_scope_leaves_out_archived_content_and_never_holds_archived_issues() {
        let site = tiny_site();
        let default = all_docs(&site, Scope::default());
        let with_archived = all_docs(&site, Scope { include_archived: true });
        assert!(!default.contains(&page(104)));
        assert!(with_archived.contains(&page(104)));
        for docs in [&default, &with_archived] {
            assert!(!docs.contains(&DocId::jira_issue(10103)));
            assert!(docs.contains(&page(103)), "an unreadable page is still in scope");
            assert!(docs.windows(2).all(|w| w[0] < w[1]), "sorted and unique");
        }
        assert_eq!(with_archived.len(), default.len() + 1);
        // 8 contents + 3 comments + 3 attachments + 5 live issues + 3 comments + 1 attachment.
        assert_eq!(with_archived.len(), 23);
    }

    #[test]
    fn archived_space_is_in_scope_only_with_archived_content() {
        let mut site = tiny_site();
        if let Some(s) = site.spaces.get_mut(&2) {
            s.status = Status::Archived;
        }
        let default = all_docs(&site, Scope::default());
        assert!(!default.contains(&page(200)));
        assert!(!default.contains(&DocId::confluence_attachment(230)));
        assert!(all_docs(&site, Scope { include_archived: true }).contains(&page(200)));
        assert!(can_view(&site, "dave", &page(200)));
    }

    #[test]
    fn archived_project_hides_its_issues() {
        let mut site = tiny_site();
        if let Some(p) = site.projects.get_mut(&10001) {
            p.archived = true;
        }
        assert!(!can_view(&site, "alice", &DocId::jira_issue(10110)));
        assert!(!all_docs(&site, Scope { include_archived: true }).contains(&DocId::jira_issue(10110)));
    }

    #[test]
    fn visible_lists_exactly_the_readable_in_scope_docs() {
        let site = tiny_site();
        let bob = visible(&site, "bob", Scope::default());
        assert!(bob.contains(&page(102)) && bob.contains(&DocId::confluence_comment(121)));
        assert!(!bob.contains(&page(104)), "archived page is out of the default scope");
        assert!(visible(&site, "bob", Scope { include_archived: true }).contains(&page(104)));
        assert_eq!(
            visible(&site, "dave", Scope::default()),
            [
                "confluence:attachment:att230",
                "confluence:page:200",
                "confluence:page:300",
                "jira:comment:10200",
                "jira:issue:10100",
                "jira:issue:10110",
                "jira:issue:10120"
            ]
            .map(|s| DocId(s.to_string()))
        );
        for scope in [Scope::default(), Scope { include_archived: true }] {
            for account in ACCOUNTS {
                let expected: Vec<DocId> =
                    all_docs(&site, scope).into_iter().filter(|d| can_view(&site, account, d)).collect();
                assert_eq!(visible(&site, account, scope), expected, "{account} {scope:?}");
            }
        }
        for account in ["erin", "gone-user", "nobody-at-all"] {
            assert!(visible(&site, account, Scope { include_archived: true }).is_empty(), "{account}");
        }
    }

    #[test]
    fn other_operations_and_targets_do_not_grant_reading() {
        let mut site = tiny_site();
        if let Some(space) = site.spaces.get_mut(&3) {
            space.permissions.push(crate::sim::model::SpacePermission {
                id: 90,
                principal: SpacePrincipal::User("alice".into()),
                operation: "create".into(),
                target: "space".into(),
            });
            space.permissions.push(crate::sim::model::SpacePermission {
                id: 91,
                principal: SpacePrincipal::User("bob".into()),
                operation: "read".into(),
                target: "page".into(),
            });
            space.permissions.push(crate::sim::model::SpacePermission {
                id: 92,
                principal: SpacePrincipal::Role("ADMINISTRATOR".into()),
                operation: "read".into(),
                target: "space".into(),
            });
        }
        assert_eq!(readers(&site, &page(300)), ["dave"]);
    }

    #[test]
    fn update_restrictions_do_not_affect_reading() {
        let mut site = tiny_site();
        if let Some(c) = site.contents.get_mut(&100) {
            c.update_restriction.users.insert("alice".into());
        }
        assert_eq!(readers(&site, &page(100)), ["alice", "bob", "carol"]);
    }

    /// The fixture with product access modelled: alice uses Confluence and Jira Software, bob neither,
    /// carol Confluence and Jira Service Management, dave Jira Software and Confluence as a guest.
    fn fixture_with_product_access() -> Site {
        use crate::sim::model::{Application, Group, ProductAccess};
        let mut site = tiny_site();
        let group = |id: &str, members: &[&str]| Group {
            id: id.into(),
            name: id.into(),
            members: members.iter().map(|m| m.to_string()).collect(),
        };
        site.groups.extend([
            group("g-jsw", &["alice", "dave"]),
            group("g-jsm", &["carol"]),
            group("g-conf", &["alice", "carol"]),
            group("g-guests", &["dave"]),
        ]);
        let app = |key: &str, group: &str| Application {
            key: key.into(),
            name: key.into(),
            groups: [group.to_string()].into(),
            default_groups: [group.to_string()].into(),
        };
        site.product_access = ProductAccess {
            rule: AccessRule::Groups,
            jira: [
                ("jira-software".to_string(), app("jira-software", "g-jsw")),
                ("jira-servicedesk".to_string(), app("jira-servicedesk", "g-jsm")),
            ]
            .into(),
            confluence_users: ["g-conf".to_string()].into(),
            confluence_guests: ["g-guests".to_string()].into(),
        };
        site.reindex();
        site
    }

    #[test]
    fn product_access_is_a_precondition_of_reading_a_product() {
        let site = fixture_with_product_access();
        let cases: Vec<(&str, DocId, Vec<&str>)> = vec![
            ("bob is in g-eng but has no Confluence", page(100), vec!["alice", "carol"]),
            ("bob is in g-mgr but has no Confluence", page(101), vec!["carol"]),
            ("restricted to alice and bob: bob has no Confluence", page(102), vec![]),
            (
                "anonymous space: everyone, Confluence or not",
                page(200),
                vec!["alice", "bob", "carol", "dave"],
            ),
            ("a guest reads the space granted to him by name", page(300), vec!["dave"]),
            (
                "role Developers or reporter; bob has no Jira",
                DocId::jira_issue(10100),
                vec!["alice", "carol", "dave"],
            ),
            ("open comment, same readers", DocId::jira_comment(10200), vec!["alice", "carol", "dave"]),
            ("comment for g-eng: alice; bob has no Jira", DocId::jira_comment(10201), vec!["alice"]),
            (
                "anyone: everyone, Jira or not",
                DocId::jira_issue(10110),
                vec!["alice", "bob", "carol", "dave"],
            ),
            ("lead bob has no Jira; user dave", DocId::jira_issue(10120), vec!["dave"]),
        ];
        for (why, doc, expected) in cases {
            assert_eq!(readers(&site, &doc), expected, "{doc}: {why}");
        }
    }

    #[test]
    fn application_roles_admit_the_users_of_their_application() {
        let mut site = fixture_with_product_access();
        let lead_issue = DocId::jira_issue(10120);
        let cases: [(Option<&str>, Vec<&str>); 4] = [
            (Some("jira-servicedesk"), vec!["carol", "dave"]),
            (Some("jira-software"), vec!["alice", "dave"]),
            (Some("jira-product-discovery"), vec!["dave"]),
            (None, vec!["alice", "carol", "dave"]),
        ];
        for (key, expected) in cases {
            if let Some(s) = site.permission_schemes.get_mut(&3) {
                s.grants[0].holder = Holder::ApplicationRole(key.map(str::to_string));
            }
            assert_eq!(readers(&site, &lead_issue), expected, "applicationRole {key:?}");
        }
        let all_active = vec!["alice", "bob", "carol", "dave"];
        site.product_access.rule = AccessRule::Everyone;
        assert_eq!(readers(&site, &lead_issue), all_active, "without product access modelled");
    }

    #[test]
    fn space_roles_grant_viewing_in_role_mode_only() {
        use crate::sim::model::{RoleAssignment, SpaceRole};
        let mut site = fixture_with_product_access();
        site.space_roles.roles = vec![
            SpaceRole {
                id: "viewer".into(),
                name: "Viewer".into(),
                description: String::new(),
                system: true,
                permissions: [VIEW_SPACE.to_string(), "create/comment".to_string()].into(),
            },
            SpaceRole {
                id: "commenter".into(),
                name: "Commenter".into(),
                description: String::new(),
                system: false,
                permissions: ["create/comment".to_string()].into(),
            },
        ];
        let personal = page(300);
        let cases: Vec<(RolePrincipal, &str, Vec<&str>)> = vec![
            (RolePrincipal::AccessClass(ALL_LICENSED_USERS.into()), "viewer", vec!["alice", "carol", "dave"]),
            (
                RolePrincipal::AccessClass(ANONYMOUS_USERS.into()),
                "viewer",
                vec!["alice", "bob", "carol", "dave"],
            ),
            (RolePrincipal::AccessClass("authenticated-users".into()), "viewer", vec!["dave"]),
            (RolePrincipal::AccessClass("all-product-admins".into()), "viewer", vec!["dave"]),
            (RolePrincipal::Group("g-mgr".into()), "viewer", vec!["carol", "dave"]),
            (RolePrincipal::User("bob".into()), "viewer", vec!["dave"]),
            (RolePrincipal::User("alice".into()), "viewer", vec!["alice", "dave"]),
            (RolePrincipal::User("alice".into()), "commenter", vec!["dave"]),
            (RolePrincipal::User("alice".into()), "no-such-role", vec!["dave"]),
        ];
        for mode in [RoleMode::Transition, RoleMode::Roles] {
            site.space_roles.mode = mode;
            for (principal, role, expected) in &cases {
                let assignment = RoleAssignment { principal: principal.clone(), role_id: role.to_string() };
                site.space_roles.assignments.insert(3, vec![assignment]);
                assert_eq!(readers(&site, &personal), *expected, "{mode:?} {principal:?} {role}");
            }
        }
        site.space_roles.mode = RoleMode::PreRoles;
        assert_eq!(readers(&site, &personal), ["dave"], "assignments count only in role mode");
    }

    #[test]
    fn internal_comments_need_a_jira_user() {
        let mut site = fixture_with_product_access();
        if let Some(c) = site.issue_comments.get_mut(&10200) {
            c.internal = true;
        }
        if let Some(i) = site.issues.get_mut(&10100) {
            i.project_id = 10001;
        }
        assert_eq!(readers(&site, &DocId::jira_issue(10100)), ["alice", "bob", "carol", "dave"]);
        assert_eq!(readers(&site, &DocId::jira_comment(10200)), ["alice", "carol", "dave"]);
    }

    #[test]
    fn jira_holders_expand_as_documented() {
        let mut site = tiny_site();
        // Only BROWSE_PROJECTS counts: scheme 1 gives dave CREATE_ISSUES, which is why he reads APP-1 only as reporter.
        if let Some(i) = site.issues.get_mut(&10100) {
            i.reporter = Some("alice".into());
        }
        assert_eq!(readers(&site, &DocId::jira_issue(10100)), ["alice", "bob", "carol"]);
        // An application role admits every active account.
        if let Some(s) = site.permission_schemes.get_mut(&3) {
            s.grants[0].holder = Holder::ApplicationRole(Some("jira-software".into()));
        }
        assert_eq!(readers(&site, &DocId::jira_issue(10120)), ["alice", "bob", "carol", "dave"]);
        // A level id missing from the project's security scheme admits nobody.
        if let Some(i) = site.issues.get_mut(&10100) {
            i.security_level_id = Some(4242);
        }
        assert!(readers(&site, &DocId::jira_issue(10100)).is_empty());
        assert!(readers(&site, &DocId::jira_comment(10200)).is_empty());
        // A level on a project without a security scheme admits nobody either.
        if let Some(i) = site.issues.get_mut(&10110) {
            i.security_level_id = Some(5001);
        }
        assert!(readers(&site, &DocId::jira_issue(10110)).is_empty());
    }
}
