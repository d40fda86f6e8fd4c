//! What the crawlers hand to the rest of permdex: Atlassian content and permissions in our own types.
//!
//! Wire types (`wire/`) stop at the crawlers; everything downstream (ACL resolution, the sync engine, the
//! index) sees only these. They carry exactly what Atlassian said, not what it means: turning holders,
//! restrictions and visibilities into clauses of principals is the job of `sync::resolve`.
//!
//! Ids are kept as the API serves them (strings), so they print the same as in the site's URLs and in
//! the index's document ids.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

/// Who a Confluence space permission or restriction names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Subject {
    /// Anonymous access (`role` principal `ANONYMOUS`).
    Anonymous,
    User(String),
    /// By group id.
    Group(String),
    /// A principal this code does not understand (another role, a new type). Grants nothing: fail closed.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceKind {
    Global,
    /// A personal space and its owner's accountId, when the site says who it is.
    Personal {
        owner: Option<String>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: String,
    pub key: String,
    pub name: String,
    pub kind: SpaceKind,
    pub archived: bool,
    /// Subjects holding the `read` operation on the space itself; no other space permission counts for
    /// reading.
    pub readers: Vec<Subject>,
    /// On a site with role-based space access (`ROLES_TRANSITION`, `ROLES`): the holders of a role that
    /// lets them view the space (`read/space`), besides the `readers`. Empty on other sites.
    pub role_viewers: Vec<RoleHolder>,
    /// Absolute web URL of the space.
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentKind {
    Page,
    BlogPost,
}

/// A page or blog post with its storage-format body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: String,
    pub kind: ContentKind,
    pub space_id: String,
    pub title: String,
    /// Storage-format XHTML.
    pub body: String,
    pub version: u64,
    pub archived: bool,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub parent_id: Option<String>,
    pub labels: Vec<String>,
    /// Absolute web URL.
    pub url: String,
}

/// What decides who may read a page or blog post beyond its space: its own read restriction and those
/// of its ancestors, root first. Read separately from bodies, so permissions refresh without them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentAccess {
    pub id: String,
    pub kind: ContentKind,
    pub space_id: String,
    pub version: u64,
    pub archived: bool,
    /// Ancestor ids, root first, not including the content itself.
    pub ancestors: Vec<String>,
    /// The content's own read restriction; `None` when it could not be read (then nobody may read it).
    pub restriction: Option<Restriction>,
}

/// A read restriction: users and groups named. Empty lists mean "not restricted".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restriction {
    pub users: BTreeSet<String>,
    /// Group ids.
    pub groups: BTreeSet<String>,
}

impl Restriction {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

/// A footer comment (or reply) on a page or blog post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: String,
    pub container_id: String,
    pub container_kind: ContentKind,
    pub parent_comment_id: Option<String>,
    /// Storage-format XHTML.
    pub body: String,
    pub version: u64,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub author: Option<String>,
    pub url: String,
}

/// An inline comment (or reply) on highlighted text of a page or blog post: read exactly like a footer
/// comment, by its container's readers, resolved or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineComment {
    pub comment: Comment,
    pub resolution: InlineResolution,
    /// The highlighted text, when the site says.
    pub selection: Option<String>,
}

/// `resolutionStatus` of an inline comment's thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InlineResolution {
    Open,
    Reopened,
    Resolved,
    /// The highlighted text is gone.
    Dangling,
    /// Missing or a value this code does not know (it decides nothing about who may read).
    Unknown(String),
}

/// A Confluence attachment's metadata; the bytes are downloaded separately.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// As served, e.g. `att65600`.
    pub id: String,
    pub container_id: String,
    pub container_kind: ContentKind,
    pub title: String,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub version: u64,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub author: Option<String>,
    /// Path (relative to the site) that downloads the bytes with API-token auth.
    pub download_path: String,
    pub url: String,
}

/// How a Confluence site decides who may view a space (`GET /space-role-mode`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceRoleMode {
    /// Space permissions only.
    PreRoles,
    /// Space roles and space permissions side by side: a space's viewers are those of either.
    Transition,
    /// Space roles (and whatever space permissions spaces still hold).
    Roles,
    /// A mode this code does not know: no space's viewers can be read (they are readable by nobody new).
    Unknown(String),
}

/// A space role: a set of space permissions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceRole {
    pub id: String,
    pub name: String,
    /// Whether holding the role lets one view the space (it holds `read/space`).
    pub views_space: bool,
    /// Space permission ids.
    pub permissions: BTreeSet<String>,
}

/// A space role given to someone on one space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub holder: RoleHolder,
    pub role_id: String,
}

/// Who a space role is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RoleHolder {
    User(String),
    /// By group id.
    Group(String),
    AccessClass(AccessClass),
    /// A principal type or id this code does not understand: grants nothing.
    Unknown(String),
}

/// The classes of users a space role can be assigned to as a whole.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AccessClass {
    /// `anonymous-users`: everyone, signed in or not.
    AnonymousUsers,
    /// `authenticated-users`: every signed-in user.
    AuthenticatedUsers,
    /// `all-licensed-users`: every licensed Confluence user.
    AllLicensedUsers,
    /// `all-product-admins`.
    AllProductAdmins,
    /// `jsm-project-admins`.
    JsmProjectAdmins,
    /// A class this code does not know: grants nothing.
    Other(String),
}

impl AccessClass {
    /// The class as the API names it (`anonymous-users`, …).
    pub fn id(&self) -> &str {
        match self {
            AccessClass::AnonymousUsers => "anonymous-users",
            AccessClass::AuthenticatedUsers => "authenticated-users",
            AccessClass::AllLicensedUsers => "all-licensed-users",
            AccessClass::AllProductAdmins => "all-product-admins",
            AccessClass::JsmProjectAdmins => "jsm-project-admins",
            AccessClass::Other(id) => id,
        }
    }
}

/// Who a Jira permission grant or security level membership names.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Holder {
    Anyone,
    /// `applicationRole`: the users of the Jira application with this key (`jira-software`, …), or, without
    /// a key, the users of any Jira application: members of the applications' access groups.
    ApplicationRole(Option<String>),
    /// By group id.
    Group(String),
    User(String),
    /// By role id.
    ProjectRole(String),
    ProjectLead,
    Reporter,
    Assignee,
    /// `sd.customer.portal.only`: a Jira Service Management project's customers, through the portal only.
    /// Grants nothing through Jira; as a browse grant it opens a request to the accounts involved in it
    /// (reporter, participants, members of the organisations it is shared with), and as a security level
    /// member it admits them at that level.
    CustomerPortal,
    /// A holder type this code does not resolve (custom fields, new types). Grants nothing.
    Unknown(String),
}

/// A Jira application (`jira-software`, `jira-servicedesk`, …) and the groups whose members use it: the
/// `applicationRole` holder with this key admits them; the holder without a key admits the users of
/// every application.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApplicationRole {
    pub key: String,
    pub name: String,
    /// Group ids. A group the site named only by a name no group has is left out: it grants nothing.
    pub groups: BTreeSet<String>,
}

/// Users and groups (ids) acting in a project role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleActors {
    pub users: BTreeSet<String>,
    pub groups: BTreeSet<String>,
}

/// A Jira project with everything that decides who may browse its issues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: String,
    pub key: String,
    pub name: String,
    pub lead: Option<String>,
    /// Holders of `BROWSE_PROJECTS` in the project's permission scheme.
    pub browse: Vec<Holder>,
    /// Actors per role id.
    pub roles: BTreeMap<String, RoleActors>,
    /// Members of each issue security level of the project's scheme, by level id.
    pub security_levels: BTreeMap<String, Vec<Holder>>,
    pub url: String,
    /// The project's service desk, when it is a Jira Service Management project whose browse holders
    /// include [`Holder::CustomerPortal`] and its desk was read; `None` otherwise (its requests are then
    /// readable through Jira only).
    pub service_desk: Option<ServiceDeskAccess>,
}

/// Who a service desk's organisations are.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceDeskAccess {
    pub id: String,
    /// The organisations added to the desk (by id), each with its members' account ids; `None` when the
    /// members could not be read (a request shared with that organisation then opens to no customer).
    pub organisations: BTreeMap<String, Option<BTreeSet<String>>>,
}

/// What the customer portal shows of an issue: whether it is a request of a service desk (it has a
/// customer request type) and who besides its reporter takes part in it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum PortalRequest {
    /// No request the portal shows: not a service desk's, created in Jira without a request type, or on a
    /// site whose service desk fields were not read.
    #[default]
    None,
    Request(RequestPeople),
    /// The request's participants or organisations could not be read: it opens to no customer.
    Unreadable(String),
}

/// Who the portal shows a request to besides its reporter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestPeople {
    /// Request participants (account ids).
    pub participants: BTreeSet<String>,
    /// Organisations the request is shared with (ids).
    pub organisations: BTreeSet<String>,
}

/// A Jira issue with its description (ADF) and attachment metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub id: String,
    pub key: String,
    pub project_id: String,
    pub summary: String,
    /// Atlassian Document Format; `Null` when the issue has no description.
    pub description: serde_json::Value,
    pub issue_type: String,
    pub parent_id: Option<String>,
    pub subtask_ids: Vec<String>,
    pub status: Option<String>,
    /// The key of the status's category as the site sends it: `new` (to do), `indeterminate` (in
    /// progress), `done`, or another a site may add (`undefined`).
    pub status_category: Option<String>,
    pub labels: Vec<String>,
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    /// The assignee's display name as the issue carries it (the directory's is preferred when it has one).
    pub assignee_name: Option<String>,
    /// The level in `fields.security` (for a sub-task Jira shows its parent's).
    pub security_level_id: Option<String>,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub attachments: Vec<IssueAttachment>,
    pub url: String,
    pub portal: PortalRequest,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueAttachment {
    pub id: String,
    pub issue_id: String,
    pub filename: String,
    pub media_type: Option<String>,
    pub size: Option<u64>,
    pub created: Option<DateTime<Utc>>,
    pub author: Option<String>,
    /// Path (relative to the site) that downloads the bytes.
    pub download_path: String,
}

/// Who a Jira comment is restricted to, beyond its issue's readers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum CommentVisibility {
    /// By group id.
    Group(String),
    /// By role id.
    Role(String),
    /// A restriction this code cannot resolve: nobody may read the comment.
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct IssueComment {
    pub id: String,
    pub issue_id: String,
    pub author: Option<String>,
    /// Atlassian Document Format.
    pub body: serde_json::Value,
    pub created: Option<DateTime<Utc>>,
    pub updated: Option<DateTime<Utc>>,
    pub visibility: Option<CommentVisibility>,
    /// A Jira Service Management internal note (`jsdPublic: false`): agents only, never the portal.
    pub internal: bool,
}

/// Users and groups of the site: who exists, who is active, who belongs where.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Directory {
    pub users: BTreeMap<String, DirectoryUser>,
    /// By group id.
    pub groups: BTreeMap<String, DirectoryGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryUser {
    pub display_name: String,
    pub active: bool,
    /// The e-mail address, when the user's profile shows it (`None` when hidden or not listed). Only
    /// sign-in by e-mail (OpenID Connect) reads it; permissions never do.
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryGroup {
    pub name: String,
    /// Account ids.
    pub members: BTreeSet<String>,
}

impl Directory {
    /// Group ids the account belongs to.
    pub fn groups_of<'a>(&'a self, account_id: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.groups.iter().filter(move |(_, g)| g.members.contains(account_id)).map(|(id, _)| id.as_str())
    }
}
