//! The simulated organisation: users, groups, Confluence spaces and content, Jira projects and issues,
//! and every permission object Atlassian keeps about them.
//!
//! This is plain data. It knows nothing of HTTP (see `http/`), of how it was generated (`generate.rs`)
//! or of who may see what (`oracle.rs`). Maps are `BTreeMap`s so iteration order, and therefore every
//! listing the simulator serves, is deterministic. [`SiteIndex`] holds the derived lookups that the
//! REST handlers need to stay fast on large sites; it is rebuilt by [`Site::reindex`] after changes.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::SiteFeatures;

/// Milliseconds since the Unix epoch, UTC.
pub type Millis = i64;

/// A user as Atlassian Cloud knows them. Identified by `account_id` only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub account_id: String,
    pub display_name: String,
    pub email: String,
    /// Profile hides the email: APIs answer `null` (or omit it) instead.
    pub email_hidden: bool,
    /// Deactivated accounts cannot sign in and see nothing.
    pub active: bool,
    pub account_type: AccountType,
}

/// Jira's `accountType`: a person with an Atlassian account, or a service desk customer who only uses
/// the customer portal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccountType {
    #[default]
    Atlassian,
    Customer,
}

impl AccountType {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountType::Atlassian => "atlassian",
            AccountType::Customer => "customer",
        }
    }
}

/// A group, identified by its immutable `id`; the `name` can change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub id: String,
    pub name: String,
    /// Account ids of the members.
    pub members: BTreeSet<String>,
}

/// Current or archived: Atlassian's `status` for spaces, pages and blog posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    Current,
    Archived,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Current => "current",
            Status::Archived => "archived",
        }
    }
}

/// A global (team) space or a user's personal space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpaceKind {
    Global,
    Personal { owner: String },
}

/// Who a space permission is granted to (Confluence v2 `principal`).
/// Serialised (for `/_sim/mutate`) as `{"type": "user" | "group" | "role", "id": …}`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum SpacePrincipal {
    User(String),
    /// By group id.
    Group(String),
    /// A role principal; `ANONYMOUS` is anonymous access.
    Role(String),
}

/// One space permission: an operation (`read`, `create`, …) on a target type (`space`, `page`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpacePermission {
    pub id: u64,
    pub principal: SpacePrincipal,
    pub operation: String,
    pub target: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Space {
    pub id: u64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub kind: SpaceKind,
    pub status: Status,
    pub created: Millis,
    pub author: String,
    pub homepage_id: Option<u64>,
    /// Index into the generator's topic list; decides the vocabulary of the space's content.
    pub topic: usize,
    pub permissions: Vec<SpacePermission>,
}

/// Users and groups named by a content restriction. Empty means "no restriction of this kind".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Restriction {
    /// Account ids; may name accounts that no longer exist.
    pub users: BTreeSet<String>,
    /// Group ids.
    pub groups: BTreeSet<String>,
}

impl Restriction {
    pub fn is_empty(&self) -> bool {
        self.users.is_empty() && self.groups.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ContentKind {
    Page,
    BlogPost,
}

impl ContentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ContentKind::Page => "page",
            ContentKind::BlogPost => "blogpost",
        }
    }
}

/// A Confluence page or blog post. Blog posts have no parent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content {
    pub id: u64,
    pub kind: ContentKind,
    pub space_id: u64,
    pub parent_id: Option<u64>,
    pub title: String,
    /// Storage-format XHTML.
    pub body: String,
    pub status: Status,
    pub version: u32,
    pub created: Millis,
    pub updated: Millis,
    pub author: String,
    /// Author of the latest version.
    pub last_editor: String,
    pub read_restriction: Restriction,
    pub update_restriction: Restriction,
    pub labels: Vec<String>,
    /// Position among siblings.
    pub position: i32,
}

/// A footer comment on a page or blog post; replies name their parent comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub container_id: u64,
    pub parent_comment_id: Option<u64>,
    /// Storage-format XHTML.
    pub body: String,
    pub version: u32,
    pub created: Millis,
    pub updated: Millis,
    pub author: String,
}

/// What an attachment's bytes are, and so how `files.rs` renders them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Pdf,
    Docx,
    Xlsx,
    Text,
    Markdown,
    Csv,
    /// Bytes that start like a PDF and then stop making sense.
    CorruptPdf,
    /// A file larger than any sensible attachment size cap.
    Oversized,
}

impl FileKind {
    pub fn media_type(self) -> &'static str {
        match self {
            FileKind::Pdf | FileKind::CorruptPdf => "application/pdf",
            FileKind::Docx => "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            FileKind::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            FileKind::Text => "text/plain",
            FileKind::Markdown => "text/markdown",
            FileKind::Csv | FileKind::Oversized => "text/csv",
        }
    }
}

/// The bytes of an attachment, described well enough to render them on demand (see `files.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileBody {
    pub kind: FileKind,
    pub filename: String,
    /// The text the file carries; a crawler that extracts well finds exactly these words.
    pub text: String,
    /// Size in bytes of the rendered file.
    pub size: u64,
}

/// A Confluence attachment. Served with id `att{id}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub id: u64,
    pub container_id: u64,
    pub file: FileBody,
    /// Media-service file id (a UUID).
    pub file_id: String,
    pub comment: String,
    pub version: u32,
    pub created: Millis,
    pub updated: Millis,
    pub author: String,
}

/// A global project role definition (Administrators, Developers, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProjectRole {
    pub id: u64,
    pub name: String,
    pub description: String,
}

/// Users and groups acting in a project role.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleActors {
    pub users: BTreeSet<String>,
    /// Group ids.
    pub groups: BTreeSet<String>,
}

/// Who may use each product. Reading a product needs access to it (DESIGN §4): an account in a granted
/// group but without the product sees nothing of it, except what anonymous access opens to everyone.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductAccess {
    pub rule: AccessRule,
    /// Jira applications by key (`jira-software`, `jira-servicedesk`, …).
    pub jira: BTreeMap<String, Application>,
    /// Group ids whose members use Confluence as licensed users.
    pub confluence_users: BTreeSet<String>,
    /// Group ids whose members use Confluence as guests: they read what is granted to them, by name or
    /// through a group, but are not among "all licensed users".
    pub confluence_guests: BTreeSet<String>,
}

/// Whether product access is modelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessRule {
    /// Not modelled: every active account uses every product and holds every application role. Sites
    /// generated without the product-access feature, and the fixture, are like this.
    #[default]
    Everyone,
    /// The access groups decide.
    Groups,
}

/// A Jira application (`GET /rest/api/3/applicationrole`): who may use it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Application {
    /// `jira-software`, `jira-servicedesk`, `jira-product-discovery`, …
    pub key: String,
    pub name: String,
    /// Group ids granting access to the application.
    pub groups: BTreeSet<String>,
    /// Group ids new users of the application are put in (a subset of `groups`).
    pub default_groups: BTreeSet<String>,
}

/// Who a Jira permission grant or security level membership is given to.
/// Serialised (for `/_sim/mutate`) as `{"type": "project_role", "value": 10001}`, `{"type": "anyone"}`, ….
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Holder {
    /// Anyone, including anonymous users.
    Anyone,
    /// By group id.
    Group(String),
    User(String),
    /// By role id; expands to the project's actors in that role.
    ProjectRole(u64),
    /// Everyone with access to the product (e.g. `jira-software`); `None` means any application.
    ApplicationRole(Option<String>),
    ProjectLead,
    Reporter,
    Assignee,
    /// `sd.customer.portal.only`: service desk customers, through the customer portal only: they see the
    /// requests they raised, take part in or that are shared with their organisations.
    CustomerPortal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionGrant {
    pub id: u64,
    /// `BROWSE_PROJECTS`, `CREATE_ISSUES`, …
    pub permission: String,
    pub holder: Holder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PermissionScheme {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub grants: Vec<PermissionGrant>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelMember {
    pub id: u64,
    pub holder: Holder,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityLevel {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub members: Vec<LevelMember>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecurityScheme {
    pub id: u64,
    pub name: String,
    pub description: String,
    pub default_level_id: Option<u64>,
    pub levels: Vec<SecurityLevel>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    pub id: u64,
    pub key: String,
    pub name: String,
    pub description: String,
    pub lead: String,
    pub permission_scheme_id: u64,
    pub security_scheme_id: Option<u64>,
    /// Actors per role id.
    pub roles: BTreeMap<u64, RoleActors>,
    pub topic: usize,
    pub archived: bool,
    pub created: Millis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IssueType {
    Epic,
    Story,
    Task,
    Bug,
    Subtask,
}

impl IssueType {
    pub fn name(self) -> &'static str {
        match self {
            IssueType::Epic => "Epic",
            IssueType::Story => "Story",
            IssueType::Task => "Task",
            IssueType::Bug => "Bug",
            IssueType::Subtask => "Subtask",
        }
    }

    pub fn is_subtask(self) -> bool {
        self == IssueType::Subtask
    }
}

/// A Jira issue. A sub-task's effective security level is its parent's (see [`Site::effective_security_level`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub id: u64,
    pub key: String,
    pub project_id: u64,
    pub issue_type: IssueType,
    pub parent_id: Option<u64>,
    pub summary: String,
    /// Atlassian Document Format, serialised JSON.
    pub description: String,
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    /// Own security level; ignored for sub-tasks, which take their parent's.
    pub security_level_id: Option<u64>,
    pub status: String,
    pub priority: String,
    pub labels: Vec<String>,
    pub created: Millis,
    pub updated: Millis,
    /// Archived issues are hidden from search and from everyone's view.
    pub archived: bool,
}

/// Who a Jira comment is restricted to.
/// Serialised (for `/_sim/mutate`) as `{"type": "group" | "role", "value": …}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "value", rename_all = "snake_case")]
pub enum Visibility {
    /// By group id.
    Group(String),
    /// By project role id.
    Role(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueComment {
    pub id: u64,
    pub issue_id: u64,
    pub author: String,
    /// Atlassian Document Format, serialised JSON.
    pub body: String,
    pub created: Millis,
    pub updated: Millis,
    pub visibility: Option<Visibility>,
    /// A service desk internal note (`jsdPublic: false`): only agents see it, never customers.
    pub internal: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JiraAttachment {
    pub id: u64,
    pub issue_id: u64,
    pub file: FileBody,
    pub author: String,
    pub created: Millis,
}

/// How an inline comment's thread stands (`resolutionStatus`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    Open,
    Reopened,
    Resolved,
    /// The highlighted text is gone from the page.
    Dangling,
}

impl Resolution {
    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Open => "open",
            Resolution::Reopened => "reopened",
            Resolution::Resolved => "resolved",
            Resolution::Dangling => "dangling",
        }
    }
}

/// An inline comment on highlighted text of a page or blog post; replies name their parent and share its
/// thread's resolution. Readable by exactly the container's readers, like a footer comment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlineComment {
    pub id: u64,
    pub container_id: u64,
    pub parent_comment_id: Option<u64>,
    /// Storage-format XHTML.
    pub body: String,
    pub version: u32,
    pub created: Millis,
    pub updated: Millis,
    pub author: String,
    pub resolution: Resolution,
    /// Who last resolved or reopened it, and when.
    pub resolution_changed: Option<(String, Millis)>,
    /// `inlineMarkerRef`: the marker in the page body the comment hangs on.
    pub marker_ref: String,
    /// `inlineOriginalSelection`: the text that was highlighted.
    pub selection: String,
}

/// The site's space permission model (`GET /space-role-mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum RoleMode {
    /// Space permissions only (`/spaces/{id}/permissions`); no roles.
    #[default]
    PreRoles,
    /// Roles and the space permissions spaces still hold side by side.
    Transition,
    /// Roles; spaces keep whatever space permissions they still hold.
    Roles,
}

impl RoleMode {
    pub fn as_str(self) -> &'static str {
        match self {
            RoleMode::PreRoles => "PRE_ROLES",
            RoleMode::Transition => "ROLES_TRANSITION",
            RoleMode::Roles => "ROLES",
        }
    }
}

/// A space role: a named set of space permissions (`read/space` lets its holders view the space).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpaceRole {
    pub id: String,
    pub name: String,
    pub description: String,
    /// `SYSTEM` (Admin, Manager, Collaborator, Viewer) or `CUSTOM`.
    pub system: bool,
    /// Space permission ids, e.g. `read/space`, `create/page`.
    pub permissions: BTreeSet<String>,
}

/// The space permission that lets a space role's holders view the space.
pub const VIEW_SPACE: &str = "read/space";

/// Every space permission a role can hold, with its display name and what it requires.
pub const SPACE_PERMISSIONS: &[(&str, &str, &[&str])] = &[
    (VIEW_SPACE, "View space", &[]),
    ("create/page", "Create pages", &[VIEW_SPACE]),
    ("create/blogpost", "Create blogs", &[VIEW_SPACE]),
    ("create/comment", "Add comments", &[VIEW_SPACE]),
    ("create/attachment", "Add attachments", &[VIEW_SPACE]),
    ("delete/page", "Delete pages", &[VIEW_SPACE]),
    ("delete/comment", "Delete comments", &[VIEW_SPACE]),
    ("restrict_content/space", "Add and remove restrictions", &[VIEW_SPACE]),
    ("export/space", "Export space", &[VIEW_SPACE]),
    ("administer/space", "Administer space", &[VIEW_SPACE]),
];

/// Who a space role is assigned to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", content = "id", rename_all = "snake_case")]
pub enum RolePrincipal {
    User(String),
    /// By group id.
    Group(String),
    /// `anonymous-users`, `authenticated-users`, `all-licensed-users`, `all-product-admins`,
    /// `jsm-project-admins`.
    AccessClass(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleAssignment {
    pub principal: RolePrincipal,
    pub role_id: String,
}

/// Role-based space access: the mode, the site's roles and each space's assignments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SpaceRoles {
    pub mode: RoleMode,
    pub roles: Vec<SpaceRole>,
    /// By space id.
    pub assignments: BTreeMap<u64, Vec<RoleAssignment>>,
}

/// A Jira Service Management service desk: a project whose issues are requests.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceDesk {
    pub id: u64,
    pub project_id: u64,
    /// Organisation ids added to the service desk.
    pub organisations: BTreeSet<u64>,
}

/// A customer organisation of Jira Service Management.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Organisation {
    pub id: u64,
    pub name: String,
    /// Account ids.
    pub members: BTreeSet<String>,
}

/// Who besides its reporter may see a service desk request on the portal, and whether the portal shows it
/// at all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestSharing {
    /// The customer request type (`Customer Request Type`, `com.atlassian.servicedesk:vp-origin`). An issue
    /// created in Jira without one is no request the portal shows: customers see it nowhere.
    pub request_type: Option<u64>,
    /// Request participants (account ids).
    pub participants: BTreeSet<String>,
    /// Organisations the request is shared with.
    pub organisations: BTreeSet<u64>,
}

/// Next free ids, one sequence per id space, as Atlassian keeps them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdSequences {
    /// Confluence content: pages, blog posts, comments and attachments share one sequence.
    pub content: u64,
    pub space: u64,
    pub space_permission: u64,
    pub issue: u64,
    pub issue_comment: u64,
    pub jira_attachment: u64,
    pub grant: u64,
    pub level_member: u64,
    pub organisation: u64,
}

impl Default for IdSequences {
    fn default() -> Self {
        IdSequences {
            content: 65_537,
            space: 32_769,
            space_permission: 1_001,
            issue: 10_000,
            issue_comment: 10_000,
            jira_attachment: 10_000,
            grant: 10_000,
            level_member: 10_000,
            organisation: 1,
        }
    }
}

impl IdSequences {
    /// Returns the current value of `seq` and advances it.
    pub fn take(seq: &mut u64) -> u64 {
        let id = *seq;
        *seq += 1;
        id
    }
}

/// The whole simulated Atlassian Cloud site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    pub seed: u64,
    /// Display name of the site, e.g. `acme`.
    pub name: String,
    /// The admin account whose email and token the REST API accepts.
    pub admin_account_id: String,
    /// Time zone the admin account's JQL and CQL dates are read in: a fixed offset in minutes east of UTC.
    pub admin_utc_offset_minutes: i32,
    /// Last time stamp handed out; mutations never go back in time.
    pub clock: Millis,
    pub users: Vec<User>,
    pub groups: Vec<Group>,
    pub spaces: BTreeMap<u64, Space>,
    pub contents: BTreeMap<u64, Content>,
    pub comments: BTreeMap<u64, Comment>,
    pub attachments: BTreeMap<u64, Attachment>,
    pub roles: Vec<ProjectRole>,
    pub permission_schemes: BTreeMap<u64, PermissionScheme>,
    pub security_schemes: BTreeMap<u64, SecurityScheme>,
    pub projects: BTreeMap<u64, Project>,
    pub issues: BTreeMap<u64, Issue>,
    pub issue_comments: BTreeMap<u64, IssueComment>,
    pub jira_attachments: BTreeMap<u64, JiraAttachment>,
    /// What the site models beyond the original site (each feature's data below is empty without it).
    pub features: SiteFeatures,
    pub product_access: ProductAccess,
    /// Ids share the Confluence content sequence.
    pub inline_comments: BTreeMap<u64, InlineComment>,
    pub space_roles: SpaceRoles,
    /// By service desk id.
    pub service_desks: BTreeMap<u64, ServiceDesk>,
    pub organisations: BTreeMap<u64, Organisation>,
    /// By issue id, for requests of service desk projects.
    pub requests: BTreeMap<u64, RequestSharing>,
    pub ids: IdSequences,
    pub index: SiteIndex,
}

/// Derived lookups, rebuilt by [`Site::reindex`]. Every list is sorted by id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SiteIndex {
    pub user_by_account: HashMap<String, usize>,
    pub group_by_id: HashMap<String, usize>,
    /// Group ids each account belongs to.
    pub groups_of: HashMap<String, BTreeSet<String>>,
    pub space_by_key: HashMap<String, u64>,
    /// Page and blog post ids per space.
    pub contents_of_space: HashMap<u64, Vec<u64>>,
    pub children_of: HashMap<u64, Vec<u64>>,
    /// Top-level comment ids per page or blog post.
    pub comments_of: HashMap<u64, Vec<u64>>,
    pub replies_of: HashMap<u64, Vec<u64>>,
    pub attachments_of: HashMap<u64, Vec<u64>>,
    pub project_by_key: HashMap<String, u64>,
    pub issue_by_key: HashMap<String, u64>,
    pub issues_of_project: HashMap<u64, Vec<u64>>,
    pub subtasks_of: HashMap<u64, Vec<u64>>,
    pub comments_of_issue: HashMap<u64, Vec<u64>>,
    pub attachments_of_issue: HashMap<u64, Vec<u64>>,
    /// Top-level inline comment ids per page or blog post.
    pub inline_comments_of: HashMap<u64, Vec<u64>>,
    pub inline_replies_of: HashMap<u64, Vec<u64>>,
    /// Service desk id per project id.
    pub service_desk_of_project: HashMap<u64, u64>,
}

impl Site {
    /// Rebuilds [`SiteIndex`] from the maps. Call after any change to the model.
    pub fn reindex(&mut self) {
        let mut ix = SiteIndex::default();
        for (i, u) in self.users.iter().enumerate() {
            ix.user_by_account.insert(u.account_id.clone(), i);
        }
        for (i, g) in self.groups.iter().enumerate() {
            ix.group_by_id.insert(g.id.clone(), i);
            for m in &g.members {
                ix.groups_of.entry(m.clone()).or_default().insert(g.id.clone());
            }
        }
        for s in self.spaces.values() {
            ix.space_by_key.insert(s.key.clone(), s.id);
        }
        for c in self.contents.values() {
            ix.contents_of_space.entry(c.space_id).or_default().push(c.id);
            if let Some(p) = c.parent_id {
                ix.children_of.entry(p).or_default().push(c.id);
            }
        }
        for c in self.comments.values() {
            match c.parent_comment_id {
                Some(p) => ix.replies_of.entry(p).or_default().push(c.id),
                None => ix.comments_of.entry(c.container_id).or_default().push(c.id),
            }
        }
        for a in self.attachments.values() {
            ix.attachments_of.entry(a.container_id).or_default().push(a.id);
        }
        for p in self.projects.values() {
            ix.project_by_key.insert(p.key.clone(), p.id);
        }
        for i in self.issues.values() {
            ix.issue_by_key.insert(i.key.clone(), i.id);
            ix.issues_of_project.entry(i.project_id).or_default().push(i.id);
            if let Some(p) = i.parent_id {
                ix.subtasks_of.entry(p).or_default().push(i.id);
            }
        }
        for c in self.issue_comments.values() {
            ix.comments_of_issue.entry(c.issue_id).or_default().push(c.id);
        }
        for a in self.jira_attachments.values() {
            ix.attachments_of_issue.entry(a.issue_id).or_default().push(a.id);
        }
        for c in self.inline_comments.values() {
            match c.parent_comment_id {
                Some(p) => ix.inline_replies_of.entry(p).or_default().push(c.id),
                None => ix.inline_comments_of.entry(c.container_id).or_default().push(c.id),
            }
        }
        for desk in self.service_desks.values() {
            ix.service_desk_of_project.insert(desk.project_id, desk.id);
        }
        self.index = ix;
    }

    pub fn user(&self, account_id: &str) -> Option<&User> {
        self.index.user_by_account.get(account_id).map(|&i| &self.users[i])
    }

    pub fn group(&self, group_id: &str) -> Option<&Group> {
        self.index.group_by_id.get(group_id).map(|&i| &self.groups[i])
    }

    /// Group ids the account belongs to (empty for unknown accounts).
    pub fn groups_of(&self, account_id: &str) -> impl Iterator<Item = &str> {
        self.index.groups_of.get(account_id).into_iter().flatten().map(String::as_str)
    }

    pub fn is_member(&self, account_id: &str, group_id: &str) -> bool {
        self.index.groups_of.get(account_id).is_some_and(|g| g.contains(group_id))
    }

    /// Ancestors of a page, root first, not including the page itself.
    pub fn ancestors(&self, content_id: u64) -> Vec<u64> {
        let mut chain = Vec::new();
        let mut cur = self.contents.get(&content_id).and_then(|c| c.parent_id);
        while let Some(id) = cur {
            // A cycle cannot be built through the mutation API; the bound only guards against a corrupted model.
            if chain.len() > 1_000 {
                break;
            }
            chain.push(id);
            cur = self.contents.get(&id).and_then(|c| c.parent_id);
        }
        chain.reverse();
        chain
    }

    /// The security level that applies to an issue: its own, or its parent's for a sub-task.
    pub fn effective_security_level(&self, issue: &Issue) -> Option<u64> {
        if issue.issue_type.is_subtask() {
            issue.parent_id.and_then(|p| self.issues.get(&p)).and_then(|p| p.security_level_id)
        } else {
            issue.security_level_id
        }
    }

    /// A fresh time stamp: the wall clock, but never earlier than (or equal to) the last one handed out.
    pub fn tick(&mut self) -> Millis {
        let now = chrono::Utc::now().timestamp_millis();
        self.clock = now.max(self.clock + 1_000);
        self.clock
    }
}
