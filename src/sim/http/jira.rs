//! The simulated Jira Cloud platform REST v3 API: the read endpoints a permission-aware crawler uses.
//!
//! Issues: `GET|POST /search/jql` (bounded JQL subset from [`super::jql`], opaque `nextPageToken`),
//! `POST /search/approximate-count`,
//! `POST /issue/bulkfetch`, `GET /issue/{idOrKey}`, `GET /issue/{idOrKey}/comment`, `POST /comment/list`,
//! attachment metadata and content (303 to a tokenised media URL on the same host, or the bytes with
//! `redirect=false`). Permissions: projects, permission schemes (with `expand`ed holders), project roles
//! and their actors, issue security schemes and level members, groups (`group/bulk`) and their members,
//! users, `myself`, `field`.
//!
//! Responses are built from the wire types in [`crate::atlassian::wire::jira`] so they have the spec's
//! shape; errors have Jira's shape. The caller is always the site admin, who sees every issue except
//! archived ones and those of archived projects (both are hidden from search and from viewing):
//! permission filtering is the crawler's job, checked against the oracle. Auth, rate limits and faults
//! are not handled here but in `guard.rs`; the media route must stay outside Basic auth.
//!
//! Search pages are cut by keyset, not by offset: the token carries the sort values of the last issue
//! served, so an issue edited during a walk moves rather than shifting every later issue by one.

use std::cmp::Ordering;
use std::collections::{BTreeSet, HashSet};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::common::{error_response, jira_time, json_response, Product};
use super::guard::Caller;
use super::jql::{self, Clause, Comparison, DateField, Direction, OrderBy, ProjectRef, SortField};
use super::SimState;
use crate::atlassian::wire::jira as wire;
use crate::sim::model::{
    Holder, Issue, IssueComment, IssueType, JiraAttachment, Millis, Project, SecurityLevel, SecurityScheme,
    Site, Visibility,
};

const API: &str = "/rest/api/3";
/// Jira's answer for an issue that does not exist or cannot be seen; deliberately the same for both.
const NO_ISSUE: &str = "Issue does not exist or you do not have permission to see it.";
/// Search page sizes: ids/keys only, and with any other field.
const SEARCH_DEFAULT: usize = 50;
const SEARCH_MAX_IDS: usize = 5_000;
const SEARCH_MAX_FIELDS: usize = 100;
/// Comments embedded in an issue's `fields.comment`; the rest must be paged separately.
const EMBEDDED_COMMENTS: usize = 20;
const BULKFETCH_MAX: usize = 100;
const COMMENTS_DEFAULT: usize = 100;
const COMMENTS_MAX: usize = 5_000;
const PROJECTS_DEFAULT: usize = 50;
const PROJECTS_MAX: usize = 100;
const LEVEL_MEMBERS_DEFAULT: usize = 50;
const LEVEL_MEMBERS_MAX: usize = 100;
const GROUP_MEMBERS_DEFAULT: usize = 50;
const GROUP_MEMBERS_MAX: usize = 50;
const USERS_DEFAULT: usize = 50;
const USERS_MAX: usize = 1_000;
/// Most ids one `POST /comment/list` may name.
const COMMENT_LIST_MAX: usize = 1_000;
const GROUPS_DEFAULT: usize = 50;
const GROUPS_MAX: usize = 50;

/// The Jira routes, including the media route that attachment downloads redirect to.
pub fn routes() -> Router<SimState> {
    Router::new()
        .route(&format!("{API}/search/jql"), get(search_get).post(search_post))
        .route(&format!("{API}/search/approximate-count"), post(approximate_count))
        .route(&format!("{API}/issue/bulkfetch"), post(bulkfetch))
        .route(&format!("{API}/issue/{{issue}}"), get(issue))
        .route(&format!("{API}/issue/{{issue}}/comment"), get(issue_comments))
        .route(&format!("{API}/comment/list"), post(comment_list))
        .route(&format!("{API}/attachment/{{id}}"), get(attachment_metadata))
        .route(&format!("{API}/attachment/content/{{id}}"), get(attachment_content))
        .route(&format!("{API}/project/search"), get(project_search))
        .route(&format!("{API}/project/{{project}}"), get(project))
        .route(&format!("{API}/project/{{project}}/permissionscheme"), get(project_permission_scheme))
        .route(&format!("{API}/project/{{project}}/role"), get(project_roles))
        .route(&format!("{API}/project/{{project}}/role/{{role}}"), get(project_role))
        .route(&format!("{API}/project/{{project}}/issuesecuritylevelscheme"), get(project_security_scheme))
        .route(&format!("{API}/permissionscheme/{{scheme}}"), get(permission_scheme))
        .route(&format!("{API}/issuesecurityschemes/project"), get(security_scheme_projects))
        .route(&format!("{API}/issuesecurityschemes/level"), get(security_levels))
        .route(&format!("{API}/issuesecurityschemes/level/member"), get(level_members))
        .route(&format!("{API}/group/bulk"), get(group_bulk))
        .route(&format!("{API}/group/member"), get(group_members))
        .route(&format!("{API}/users/search"), get(users_search))
        .route(&format!("{API}/myself"), get(myself))
        .route(&format!("{API}/applicationrole"), get(application_roles))
        .route(&format!("{API}/applicationrole/{{key}}"), get(application_role))
        .route(&format!("{API}/field"), get(fields))
        .route(MEDIA_ROUTE, get(media))
}

/// Where attachment content redirects to. Served without Basic auth, like Atlassian's media service:
/// the `token` query parameter is the credential.
pub const MEDIA_ROUTE: &str = "/_media/jira/{attachment}";

/// The media token of an attachment: hex of SHA-256 over the site seed and the attachment id.
pub fn media_token(seed: u64, attachment_id: u64) -> String {
    let mut hasher = Sha256::new();
    hasher.update(seed.to_le_bytes());
    hasher.update(b":jira-attachment:");
    hasher.update(attachment_id.to_string().as_bytes());
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The IANA zone Jira would report for a fixed UTC offset, preferring zones without daylight saving.
pub fn time_zone_name(offset_minutes: i32) -> String {
    let named = match offset_minutes {
        0 => "UTC",
        60 => "Africa/Lagos",
        120 => "Africa/Johannesburg",
        180 => "Europe/Istanbul",
        210 => "Asia/Tehran",
        240 => "Asia/Dubai",
        270 => "Asia/Kabul",
        300 => "Asia/Karachi",
        330 => "Asia/Kolkata",
        345 => "Asia/Kathmandu",
        360 => "Asia/Dhaka",
        390 => "Asia/Yangon",
        420 => "Asia/Bangkok",
        480 => "Asia/Singapore",
        525 => "Australia/Eucla",
        540 => "Asia/Tokyo",
        570 => "Australia/Darwin",
        600 => "Australia/Brisbane",
        660 => "Pacific/Guadalcanal",
        720 => "Pacific/Tarawa",
        780 => "Pacific/Tongatapu",
        -180 => "America/Sao_Paulo",
        -240 => "America/Puerto_Rico",
        -300 => "America/Panama",
        -360 => "America/Regina",
        -420 => "America/Phoenix",
        -480 => "Pacific/Pitcairn",
        -540 => "Pacific/Gambier",
        -570 => "Pacific/Marquesas",
        -600 => "Pacific/Honolulu",
        -660 => "Pacific/Pago_Pago",
        _ => "",
    };
    if !named.is_empty() {
        return named.to_string();
    }
    // Etc zones have inverted signs: Etc/GMT-10 is ten hours east of UTC.
    format!("Etc/GMT{:+}", -(offset_minutes / 60))
}

// ---------------------------------------------------------------------------------------------------
// Request plumbing
// ---------------------------------------------------------------------------------------------------

/// An error answer: handlers return it with `?`, and it renders in Jira's error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct JiraError {
    status: StatusCode,
    message: String,
}

impl IntoResponse for JiraError {
    fn into_response(self) -> Response {
        error_response(Product::Jira, self.status, &self.message)
    }
}

/// What a handler answers: a response, or an error in Jira's shape.
pub(super) type Answer = Result<Response, JiraError>;

pub(super) fn bad_request(message: &str) -> JiraError {
    JiraError { status: StatusCode::BAD_REQUEST, message: message.to_string() }
}

/// What Jira answers a caller without the global permission an admin call needs.
fn forbidden(permission: &str) -> JiraError {
    JiraError {
        status: StatusCode::FORBIDDEN,
        message: format!("You do not have the permission to perform this action: {permission} is required."),
    }
}

/// Refuses a caller who is not the site admin.
fn admin_only(caller: &Caller, permission: &str) -> Result<(), JiraError> {
    match caller {
        Caller::Admin => Ok(()),
        Caller::User(_) | Caller::Member => Err(forbidden(permission)),
    }
}

/// The global permission the admin-only reads of permission and security schemes need.
const ADMINISTER_JIRA: &str = "the Administer Jira global permission";

pub(super) fn not_found(message: &str) -> JiraError {
    JiraError { status: StatusCode::NOT_FOUND, message: message.to_string() }
}

pub(super) fn ok_json<T: Serialize>(body: &T) -> Answer {
    match serde_json::to_value(body) {
        Ok(v) => Ok(json_response(StatusCode::OK, v)),
        Err(e) => {
            // 5xx bodies stay generic; the detail goes to the log.
            tracing::error!("cannot serialise jira response: {e}");
            Err(JiraError {
                status: StatusCode::INTERNAL_SERVER_ERROR,
                message: "Internal server error.".into(),
            })
        }
    }
}

/// The site's base URL as the client addressed it.
pub(super) fn base_url(headers: &HeaderMap) -> String {
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
    format!("http://{host}")
}

/// Query parameters in order, repeated names kept (Jira takes `keys=A&keys=B` and comma lists).
pub(super) struct Params(Vec<(String, String)>);

impl Params {
    pub(super) fn parse(raw: Option<String>) -> Self {
        let raw = raw.unwrap_or_default();
        Params(url::form_urlencoded::parse(raw.as_bytes()).into_owned().collect())
    }

    fn first(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, comma lists split, blanks dropped.
    fn list(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty())
            .collect()
    }

    pub(super) fn number(&self, name: &str) -> Result<Option<i64>, JiraError> {
        match self.first(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| bad_request(&format!("The value '{v}' is not a valid number for '{name}'."))),
        }
    }

    fn ids(&self, name: &str) -> Result<Vec<u64>, JiraError> {
        self.list(name)
            .iter()
            .map(|v| {
                v.parse()
                    .map_err(|_| bad_request(&format!("The value '{v}' is not a valid id for '{name}'.")))
            })
            .collect()
    }

    fn is_true(&self, name: &str) -> bool {
        self.first(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    fn is_false(&self, name: &str) -> bool {
        self.first(name).is_some_and(|v| v.eq_ignore_ascii_case("false"))
    }

    /// `startAt` and `maxResults` of an offset listing, defaulted and capped.
    fn offset_page(&self, default: usize, max: usize) -> Result<(usize, usize), JiraError> {
        let start = self.number("startAt")?.unwrap_or(0).max(0) as usize;
        let size = self.number("maxResults")?.map_or(default, |n| n.clamp(1, max as i64) as usize).min(max);
        Ok((start, size))
    }

    /// This query with `startAt`/`maxResults` replaced, for `self` and `nextPage` links.
    fn with_page(&self, start: usize, size: usize) -> String {
        let mut out = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.0 {
            if k != "startAt" && k != "maxResults" {
                out.append_pair(k, v);
            }
        }
        out.append_pair("startAt", &start.to_string());
        out.append_pair("maxResults", &size.to_string());
        out.finish()
    }
}

/// One page of an offset listing in Jira's `PageBean` envelope.
fn page_bean<T: Clone>(
    items: &[T],
    start: usize,
    size: usize,
    url_path: &str,
    params: &Params,
) -> wire::PageBean<T> {
    let total = items.len();
    let page: Vec<T> = items.iter().skip(start).take(size).cloned().collect();
    let end = start.saturating_add(page.len());
    let is_last = end >= total;
    wire::PageBean {
        self_url: Some(format!("{url_path}?{}", params.with_page(start, size))),
        next_page: (!is_last).then(|| format!("{url_path}?{}", params.with_page(end, size))),
        max_results: Some(size as u32),
        start_at: Some(start as u64),
        total: Some(total as u64),
        is_last: Some(is_last),
        values: page,
    }
}

// ---------------------------------------------------------------------------------------------------
// Rendering the model as wire types
// ---------------------------------------------------------------------------------------------------

/// The issue fields this simulator serves, in `GET /field` order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum IssueField {
    Summary,
    Description,
    Project,
    IssueType,
    Parent,
    Subtasks,
    Status,
    Priority,
    Labels,
    Reporter,
    Assignee,
    Creator,
    Created,
    Updated,
    Security,
    Comment,
    Attachment,
    /// Jira Service Management's custom fields, on sites with a service desk.
    RequestParticipants,
    Organizations,
    RequestType,
}

struct FieldDef {
    field: IssueField,
    id: &'static str,
    name: &'static str,
    navigable: bool,
    orderable: bool,
    clause_names: &'static [&'static str],
    schema_type: &'static str,
    schema_items: Option<&'static str>,
    /// A custom field's type key and id (`schema.custom`, `schema.customId`).
    custom: Option<(&'static str, u64)>,
}

const FIELD_DEFS: &[FieldDef] = &[
    FieldDef {
        field: IssueField::Summary,
        id: "summary",
        name: "Summary",
        navigable: true,
        orderable: true,
        clause_names: &["summary"],
        schema_type: "string",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Description,
        id: "description",
        name: "Description",
        navigable: true,
        orderable: true,
        clause_names: &["description"],
        schema_type: "string",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Project,
        id: "project",
        name: "Project",
        navigable: true,
        orderable: false,
        clause_names: &["project"],
        schema_type: "project",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::IssueType,
        id: "issuetype",
        name: "Issue Type",
        navigable: true,
        orderable: true,
        clause_names: &["issuetype", "type"],
        schema_type: "issuetype",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Parent,
        id: "parent",
        name: "Parent",
        navigable: true,
        orderable: false,
        clause_names: &["parent"],
        schema_type: "issuelink",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Subtasks,
        id: "subtasks",
        name: "Sub-tasks",
        navigable: true,
        orderable: false,
        clause_names: &["subtasks"],
        schema_type: "array",
        schema_items: Some("issuelinks"),
        custom: None,
    },
    FieldDef {
        field: IssueField::Status,
        id: "status",
        name: "Status",
        navigable: true,
        orderable: false,
        clause_names: &["status"],
        schema_type: "status",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Priority,
        id: "priority",
        name: "Priority",
        navigable: true,
        orderable: true,
        clause_names: &["priority"],
        schema_type: "priority",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Labels,
        id: "labels",
        name: "Labels",
        navigable: true,
        orderable: true,
        clause_names: &["labels"],
        schema_type: "array",
        schema_items: Some("string"),
        custom: None,
    },
    FieldDef {
        field: IssueField::Reporter,
        id: "reporter",
        name: "Reporter",
        navigable: true,
        orderable: true,
        clause_names: &["reporter"],
        schema_type: "user",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Assignee,
        id: "assignee",
        name: "Assignee",
        navigable: true,
        orderable: true,
        clause_names: &["assignee"],
        schema_type: "user",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Creator,
        id: "creator",
        name: "Creator",
        navigable: true,
        orderable: false,
        clause_names: &["creator"],
        schema_type: "user",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Created,
        id: "created",
        name: "Created",
        navigable: true,
        orderable: false,
        clause_names: &["created", "createdDate"],
        schema_type: "datetime",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Updated,
        id: "updated",
        name: "Updated",
        navigable: true,
        orderable: false,
        clause_names: &["updated", "updatedDate"],
        schema_type: "datetime",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Security,
        id: "security",
        name: "Security Level",
        navigable: true,
        orderable: true,
        clause_names: &["level"],
        schema_type: "securitylevel",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Comment,
        id: "comment",
        name: "Comment",
        navigable: false,
        orderable: true,
        clause_names: &["comment"],
        schema_type: "comments-page",
        schema_items: None,
        custom: None,
    },
    FieldDef {
        field: IssueField::Attachment,
        id: "attachment",
        name: "Attachment",
        navigable: true,
        orderable: true,
        clause_names: &["attachments"],
        schema_type: "array",
        schema_items: Some("attachment"),
        custom: None,
    },
    FieldDef {
        field: IssueField::RequestParticipants,
        id: PARTICIPANTS_FIELD_ID,
        name: "Request participants",
        navigable: true,
        orderable: true,
        clause_names: &["cf[10026]", "Request participants"],
        schema_type: "array",
        schema_items: Some("user"),
        custom: Some((wire::PARTICIPANTS_FIELD, 10026)),
    },
    FieldDef {
        field: IssueField::Organizations,
        id: ORGANIZATIONS_FIELD_ID,
        name: "Organizations",
        navigable: true,
        orderable: true,
        clause_names: &["cf[10002]", "Organizations"],
        schema_type: "array",
        schema_items: Some("sd-customerorganization"),
        custom: Some((wire::ORGANIZATIONS_FIELD, 10002)),
    },
    FieldDef {
        field: IssueField::RequestType,
        id: REQUEST_TYPE_FIELD_ID,
        name: "Request Type",
        navigable: true,
        orderable: true,
        clause_names: &["cf[10010]", "Customer Request Type", "Request Type"],
        schema_type: "sd-customerrequesttype",
        schema_items: None,
        custom: Some((wire::REQUEST_TYPE_FIELD, 10010)),
    },
];

/// The ids of Jira Service Management's custom fields on this site.
const PARTICIPANTS_FIELD_ID: &str = "customfield_10026";
const ORGANIZATIONS_FIELD_ID: &str = "customfield_10002";
const REQUEST_TYPE_FIELD_ID: &str = "customfield_10010";

/// Which parts of an issue a request asked for. `id` is always served.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct FieldSelection {
    key: bool,
    fields: BTreeSet<IssueField>,
}

/// The selection a request starts from when it names no fields, or names only exclusions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DefaultFields {
    /// `search/jql`: ids only.
    IdOnly,
    /// `issue/bulkfetch`.
    Navigable,
    /// `GET issue`.
    All,
}

impl FieldSelection {
    fn all() -> BTreeSet<IssueField> {
        FIELD_DEFS.iter().map(|d| d.field).collect()
    }

    fn navigable() -> BTreeSet<IssueField> {
        FIELD_DEFS.iter().filter(|d| d.navigable).map(|d| d.field).collect()
    }

    fn everything(fields: BTreeSet<IssueField>) -> Self {
        FieldSelection { key: true, fields }
    }

    /// Reads `fields` entries (ids, `*all`, `*navigable`, `-field`, comma lists). Unknown ids are
    /// ignored, as Jira does.
    fn parse(entries: &[String], default: DefaultFields) -> Self {
        let mut include = FieldSelection::default();
        let mut exclude = BTreeSet::new();
        let mut named_any = false;
        for entry in entries.iter().flat_map(|e| e.split(',')).map(str::trim).filter(|e| !e.is_empty()) {
            if let Some(name) = entry.strip_prefix('-') {
                exclude.extend(FIELD_DEFS.iter().filter(|d| d.id == name).map(|d| d.field));
                continue;
            }
            named_any = true;
            match entry {
                "*all" => include = FieldSelection::everything(FieldSelection::all()),
                "*navigable" => {
                    include.key = true;
                    include.fields.extend(FieldSelection::navigable());
                }
                "id" => {}
                "key" => include.key = true,
                name => include.fields.extend(FIELD_DEFS.iter().filter(|d| d.id == name).map(|d| d.field)),
            }
        }
        if !named_any {
            include = match default {
                DefaultFields::IdOnly if exclude.is_empty() => FieldSelection::default(),
                // "-description" alone means the navigable fields without it, whatever the default.
                DefaultFields::IdOnly | DefaultFields::Navigable => {
                    FieldSelection::everything(FieldSelection::navigable())
                }
                DefaultFields::All => FieldSelection::everything(FieldSelection::all()),
            };
        }
        include.fields.retain(|f| !exclude.contains(f));
        include
    }

    fn ids_and_keys_only(&self) -> bool {
        self.fields.is_empty()
    }
}

/// Renders model objects for one request: the site and the base URL the client used.
pub(super) struct Render<'a> {
    pub(super) site: &'a Site,
    pub(super) base: String,
}

fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

impl<'a> Render<'a> {
    fn time(&self, ms: Millis) -> String {
        jira_time(ms, self.site.admin_utc_offset_minutes)
    }

    fn user_avatars(&self, account_id: &str) -> wire::AvatarUrls {
        let url = |size: u32| Some(format!("{}/_avatar/user/{account_id}?s={size}", self.base));
        wire::AvatarUrls { x16: url(16), x24: url(24), x32: url(32), x48: url(48) }
    }

    fn user(&self, account_id: &str) -> wire::User {
        let self_url = Some(format!("{}{API}/user?accountId={account_id}", self.base));
        match self.site.user(account_id) {
            Some(u) => wire::User {
                self_url,
                account_id: u.account_id.clone(),
                account_type: Some(u.account_type.as_str().into()),
                email_address: (!u.email_hidden).then(|| u.email.clone()),
                avatar_urls: Some(self.user_avatars(account_id)),
                display_name: Some(u.display_name.clone()),
                active: Some(u.active),
                time_zone: None,
                locale: None,
            },
            // Deleted accounts still appear where they acted, as Atlassian's "Former user".
            None => wire::User {
                self_url,
                account_id: account_id.to_string(),
                account_type: Some("unknown".into()),
                email_address: None,
                avatar_urls: Some(self.user_avatars(account_id)),
                display_name: Some("Former user".into()),
                active: Some(false),
                time_zone: None,
                locale: None,
            },
        }
    }

    fn project_avatars(&self, project_id: u64) -> wire::AvatarUrls {
        let url =
            |size: &str| Some(format!("{}/secure/projectavatar?size={size}&pid={project_id}", self.base));
        wire::AvatarUrls { x16: url("xsmall"), x24: url("small"), x32: url("medium"), x48: url("large") }
    }

    /// The project as it appears in `fields.project` and in project search.
    fn project_brief(&self, p: &Project) -> wire::Project {
        wire::Project {
            expand: None,
            self_url: Some(format!("{}{API}/project/{}", self.base, p.id)),
            id: p.id.to_string(),
            key: p.key.clone(),
            name: Some(p.name.clone()),
            description: None,
            lead: None,
            avatar_urls: Some(self.project_avatars(p.id)),
            project_type_key: Some("software".into()),
            simplified: Some(false),
            style: Some("classic".into()),
            is_private: None,
            archived: None,
            roles: None,
        }
    }

    fn project_listed(&self, p: &Project) -> wire::Project {
        wire::Project {
            expand: Some("description,lead,issueTypes,url,projectKeys,permissions,insight".into()),
            is_private: Some(false),
            archived: p.archived.then_some(true),
            ..self.project_brief(p)
        }
    }

    fn project_full(&self, p: &Project) -> wire::Project {
        wire::Project {
            description: Some(p.description.clone()),
            lead: Some(self.user(&p.lead)),
            roles: Some(self.role_urls(p)),
            ..self.project_listed(p)
        }
    }

    fn role_urls(&self, p: &Project) -> wire::ProjectRoles {
        self.site
            .roles
            .iter()
            .map(|r| (r.name.clone(), format!("{}{API}/project/{}/role/{}", self.base, p.id, r.id)))
            .collect()
    }

    fn issue_type(&self, t: IssueType) -> wire::IssueTypeDetails {
        let (id, level, description) = match t {
            IssueType::Epic => (10000, 1, "A big user story that needs to be broken down."),
            IssueType::Story => (10001, 0, "Functionality or a feature expressed as a user goal."),
            IssueType::Task => (10002, 0, "A small, distinct piece of work."),
            IssueType::Bug => (10003, 0, "A problem or error."),
            IssueType::Subtask => (10004, -1, "A small piece of work that's part of a larger task."),
        };
        wire::IssueTypeDetails {
            self_url: Some(format!("{}{API}/issuetype/{id}", self.base)),
            id: id.to_string(),
            description: Some(description.into()),
            icon_url: Some(format!("{}/images/icons/issuetypes/{}.svg", self.base, t.name().to_lowercase())),
            name: t.name().into(),
            subtask: t.is_subtask(),
            hierarchy_level: Some(level),
        }
    }

    fn status(&self, name: &str) -> wire::StatusDetails {
        let (id, category) = match name {
            "To Do" | "Open" | "Backlog" => (10000, (2, "new", "blue-gray", "To Do")),
            "In Progress" => (3, (4, "indeterminate", "yellow", "In Progress")),
            "In Review" => (10002, (4, "indeterminate", "yellow", "In Progress")),
            "Done" | "Closed" | "Resolved" => (10001, (3, "done", "green", "Done")),
            other => (20_000 + fnv(other) % 10_000, (4, "indeterminate", "yellow", "In Progress")),
        };
        let (category_id, key, color, category_name) = category;
        wire::StatusDetails {
            self_url: Some(format!("{}{API}/status/{id}", self.base)),
            description: Some(String::new()),
            icon_url: Some(format!("{}/images/icons/statuses/generic.png", self.base)),
            name: name.into(),
            id: id.to_string(),
            status_category: Some(wire::StatusCategory {
                self_url: Some(format!("{}{API}/statuscategory/{category_id}", self.base)),
                id: Some(category_id),
                key: key.into(),
                color_name: Some(color.into()),
                name: category_name.into(),
            }),
        }
    }

    fn priority(&self, name: &str) -> wire::Priority {
        let id = match name {
            "Highest" => 1,
            "High" => 2,
            "Medium" => 3,
            "Low" => 4,
            "Lowest" => 5,
            other => 100 + fnv(other) % 10_000,
        };
        wire::Priority {
            self_url: Some(format!("{}{API}/priority/{id}", self.base)),
            icon_url: Some(format!("{}/images/icons/priorities/{}.svg", self.base, name.to_lowercase())),
            name: name.into(),
            id: id.to_string(),
        }
    }

    fn level(&self, scheme: &SecurityScheme, level: &SecurityLevel) -> wire::SecurityLevel {
        wire::SecurityLevel {
            self_url: Some(format!("{}{API}/securitylevel/{}", self.base, level.id)),
            id: level.id.to_string(),
            description: Some(level.description.clone()),
            name: level.name.clone(),
            is_default: Some(scheme.default_level_id == Some(level.id)),
            issue_security_scheme_id: Some(scheme.id.to_string()),
        }
    }

    /// `fields.security`: the level in effect, which for a sub-task is its parent's.
    fn effective_level(&self, issue: &Issue) -> Option<wire::SecurityLevel> {
        let level_id = self.site.effective_security_level(issue)?;
        let (scheme, level) = find_level(self.site, level_id)?;
        Some(wire::SecurityLevel {
            is_default: None,
            issue_security_scheme_id: None,
            ..self.level(scheme, level)
        })
    }

    fn visibility(&self, v: &Visibility) -> wire::Visibility {
        match v {
            Visibility::Group(group_id) => {
                let name = self.site.group(group_id).map_or_else(|| group_id.clone(), |g| g.name.clone());
                wire::Visibility {
                    kind: wire::VisibilityType::Group,
                    value: Some(name),
                    identifier: Some(group_id.clone()),
                }
            }
            Visibility::Role(role_id) => {
                let name = self
                    .site
                    .roles
                    .iter()
                    .find(|r| r.id == *role_id)
                    .map_or_else(|| role_id.to_string(), |r| r.name.clone());
                wire::Visibility {
                    kind: wire::VisibilityType::Role,
                    value: Some(name.clone()),
                    identifier: Some(name),
                }
            }
        }
    }

    fn comment(&self, c: &IssueComment) -> wire::Comment {
        wire::Comment {
            self_url: Some(format!("{}{API}/issue/{}/comment/{}", self.base, c.issue_id, c.id)),
            id: c.id.to_string(),
            author: Some(self.user(&c.author)),
            body: Some(adf(&c.body)),
            rendered_body: None,
            update_author: Some(self.user(&c.author)),
            created: Some(self.time(c.created)),
            updated: Some(self.time(c.updated)),
            visibility: c.visibility.as_ref().map(|v| self.visibility(v)),
            jsd_public: Some(!c.internal),
        }
    }

    fn attachment(&self, a: &JiraAttachment) -> wire::IssueAttachment {
        wire::IssueAttachment {
            self_url: Some(format!("{}{API}/attachment/{}", self.base, a.id)),
            id: a.id.to_string(),
            filename: a.file.filename.clone(),
            author: Some(self.user(&a.author)),
            created: Some(self.time(a.created)),
            size: Some(a.file.size),
            mime_type: Some(a.file.kind.media_type().into()),
            content: Some(format!("{}{API}/attachment/content/{}", self.base, a.id)),
            thumbnail: None,
        }
    }

    fn attachment_metadata(&self, a: &JiraAttachment) -> wire::AttachmentMetadata {
        let listed = self.attachment(a);
        wire::AttachmentMetadata {
            self_url: listed.self_url,
            id: a.id,
            filename: listed.filename,
            author: listed.author,
            created: listed.created,
            size: listed.size,
            mime_type: listed.mime_type,
            content: listed.content,
            thumbnail: None,
        }
    }

    /// Comments of an issue in creation order (ties by id).
    fn comments_of(&self, issue_id: u64) -> Vec<&'a IssueComment> {
        let mut comments: Vec<&IssueComment> = self
            .site
            .index
            .comments_of_issue
            .get(&issue_id)
            .into_iter()
            .flatten()
            .filter_map(|id| self.site.issue_comments.get(id))
            .collect();
        comments.sort_by_key(|c| (c.created, c.id));
        comments
    }

    fn issue(&self, issue: &Issue, selection: &FieldSelection) -> wire::IssueBean {
        if selection.ids_and_keys_only() {
            return wire::IssueBean {
                id: issue.id.to_string(),
                key: selection.key.then(|| issue.key.clone()),
                ..Default::default()
            };
        }
        let mut f = wire::IssueFields::default();
        for field in &selection.fields {
            match field {
                IssueField::Summary => f.summary = Some(issue.summary.clone()),
                IssueField::Description => f.description = Some(adf(&issue.description)),
                IssueField::Project => {
                    f.project = self.site.projects.get(&issue.project_id).map(|p| self.project_brief(p))
                }
                IssueField::IssueType => f.issuetype = Some(self.issue_type(issue.issue_type)),
                IssueField::Parent => {
                    f.parent = issue
                        .parent_id
                        .and_then(|p| self.site.issues.get(&p))
                        .map(|p| Box::new(self.parent(p)))
                }
                IssueField::Subtasks => {
                    // Archiving takes a parent's sub-tasks with it; the filter only guards odd models.
                    let subtasks = self
                        .site
                        .index
                        .subtasks_of
                        .get(&issue.id)
                        .into_iter()
                        .flatten()
                        .filter_map(|id| self.site.issues.get(id))
                        .filter(|s| !s.archived)
                        .map(|s| self.parent(s))
                        .collect();
                    f.subtasks = Some(subtasks);
                }
                IssueField::Status => f.status = Some(self.status(&issue.status)),
                IssueField::Priority => f.priority = Some(Some(self.priority(&issue.priority))),
                IssueField::Labels => f.labels = Some(issue.labels.clone()),
                IssueField::Reporter => f.reporter = Some(issue.reporter.as_deref().map(|a| self.user(a))),
                IssueField::Assignee => f.assignee = Some(issue.assignee.as_deref().map(|a| self.user(a))),
                // The model keeps no separate creator: the reporter created the issue.
                IssueField::Creator => f.creator = Some(issue.reporter.as_deref().map(|a| self.user(a))),
                IssueField::Created => f.created = Some(self.time(issue.created)),
                IssueField::Updated => f.updated = Some(self.time(issue.updated)),
                IssueField::Security => f.security = self.effective_level(issue),
                IssueField::Comment => {
                    let all = self.comments_of(issue.id);
                    let shown: Vec<wire::Comment> =
                        all.iter().take(EMBEDDED_COMMENTS).map(|c| self.comment(c)).collect();
                    f.comment = Some(wire::CommentField {
                        self_url: Some(format!("{}{API}/issue/{}/comment", self.base, issue.id)),
                        max_results: Some(shown.len() as u32),
                        total: Some(all.len() as u64),
                        start_at: Some(0),
                        comments: shown,
                    });
                }
                IssueField::Attachment => {
                    let attachments = self
                        .site
                        .index
                        .attachments_of_issue
                        .get(&issue.id)
                        .into_iter()
                        .flatten()
                        .filter_map(|id| self.site.jira_attachments.get(id))
                        .map(|a| self.attachment(a))
                        .collect();
                    f.attachment = Some(attachments);
                }
                IssueField::RequestParticipants | IssueField::Organizations | IssueField::RequestType => {
                    if let Some((id, value)) = self.service_desk_field(issue, *field) {
                        f.other.insert(id.into(), value);
                    }
                }
            }
        }
        wire::IssueBean {
            expand: Some(
                "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations".into(),
            ),
            id: issue.id.to_string(),
            self_url: Some(format!("{}{API}/issue/{}", self.base, issue.id)),
            key: Some(issue.key.clone()),
            fields: Some(f),
        }
    }

    /// A Jira Service Management field of an issue, on a site with a service desk (elsewhere the field
    /// does not exist): its id and value, `null` for an issue that is no request.
    fn service_desk_field(&self, issue: &Issue, field: IssueField) -> Option<(&'static str, Value)> {
        if self.site.service_desks.is_empty() {
            return None;
        }
        let request = self.site.requests.get(&issue.id);
        let desk = self.site.index.service_desk_of_project.get(&issue.project_id);
        let base = &self.base;
        let to_value = |v: Result<Value, serde_json::Error>| v.unwrap_or(Value::Null);
        Some(match field {
            IssueField::RequestParticipants => {
                let users: Option<Vec<wire::User>> = request
                    .filter(|r| !r.participants.is_empty())
                    .map(|r| r.participants.iter().map(|a| self.user(a)).collect());
                (PARTICIPANTS_FIELD_ID, to_value(serde_json::to_value(users)))
            }
            IssueField::Organizations => {
                let orgs: Option<Vec<Value>> = request.filter(|r| !r.organisations.is_empty()).map(|r| {
                    r.organisations
                        .iter()
                        .filter_map(|o| self.site.organisations.get(o))
                        .map(|o| {
                            serde_json::json!({
                                "id": o.id,
                                "name": o.name,
                                "_links": {"self": format!("{base}/rest/servicedeskapi/organization/{}", o.id)},
                            })
                        })
                        .collect()
                });
                (ORGANIZATIONS_FIELD_ID, to_value(serde_json::to_value(orgs)))
            }
            _ => {
                let kind = request.and_then(|r| r.request_type).zip(desk).map(|(t, desk)| {
                    wire::CustomerRequestType {
                        request_type: Some(wire::RequestType {
                            id: t.to_string(),
                            name: Some(
                                ["Get IT help", "Report a problem", "Ask a question"][(t as usize) % 3]
                                    .into(),
                            ),
                            service_desk_id: Some(desk.to_string()),
                        }),
                        links: Some(wire::SelfLink {
                            self_url: Some(format!("{base}/rest/servicedeskapi/request/{}", issue.id)),
                        }),
                    }
                });
                (REQUEST_TYPE_FIELD_ID, to_value(serde_json::to_value(kind)))
            }
        })
    }

    /// A parent or sub-task as Jira embeds it: id, key and a few fields.
    fn parent(&self, parent: &Issue) -> wire::IssueBean {
        wire::IssueBean {
            expand: None,
            id: parent.id.to_string(),
            self_url: Some(format!("{}{API}/issue/{}", self.base, parent.id)),
            key: Some(parent.key.clone()),
            fields: Some(wire::IssueFields {
                summary: Some(parent.summary.clone()),
                status: Some(self.status(&parent.status)),
                priority: Some(Some(self.priority(&parent.priority))),
                issuetype: Some(self.issue_type(parent.issue_type)),
                ..Default::default()
            }),
        }
    }

    fn group_name(&self, group_id: &str) -> wire::GroupName {
        wire::GroupName {
            group_id: Some(group_id.to_string()),
            name: self.site.group(group_id).map(|g| g.name.clone()),
            self_url: Some(format!("{}{API}/group?groupId={group_id}", self.base)),
        }
    }

    fn application_role(&self, app: &crate::sim::model::Application) -> wire::ApplicationRole {
        let names = |ids: &BTreeSet<String>| -> Vec<String> {
            ids.iter().filter_map(|id| self.site.group(id)).map(|g| g.name.clone()).collect()
        };
        let details = |ids: &BTreeSet<String>| -> Vec<wire::GroupName> {
            ids.iter().filter(|id| self.site.group(id).is_some()).map(|id| self.group_name(id)).collect()
        };
        let users: BTreeSet<&str> = app
            .groups
            .iter()
            .filter_map(|id| self.site.group(id))
            .flat_map(|g| g.members.iter().map(String::as_str))
            .filter(|a| self.site.user(a).is_some_and(|u| u.active))
            .collect();
        let seats = 5 * (users.len() as i64 / 5 + 2);
        wire::ApplicationRole {
            key: app.key.clone(),
            name: Some(app.name.clone()),
            groups: names(&app.groups),
            group_details: details(&app.groups),
            default_groups: names(&app.default_groups),
            default_groups_details: details(&app.default_groups),
            defined: Some(false),
            selected_by_default: Some(false),
            has_unlimited_seats: Some(false),
            number_of_seats: Some(seats),
            remaining_seats: Some(seats - users.len() as i64),
            user_count: Some(users.len() as i64),
            user_count_description: Some(format!("{} users", users.len())),
            platform: Some(false),
        }
    }

    fn role_brief(&self, role_id: u64) -> Option<wire::ProjectRole> {
        let role = self.site.roles.iter().find(|r| r.id == role_id)?;
        Some(wire::ProjectRole {
            self_url: Some(format!("{}{API}/role/{}", self.base, role.id)),
            name: role.name.clone(),
            id: role.id,
            description: Some(role.description.clone()),
            actors: None,
        })
    }

    fn holder(&self, holder: &Holder, expand: &HolderExpansion) -> wire::PermissionHolder {
        let plain = |kind| wire::PermissionHolder { kind, ..Default::default() };
        match holder {
            Holder::Anyone => plain(wire::HolderType::Anyone),
            Holder::ProjectLead => plain(wire::HolderType::ProjectLead),
            Holder::Reporter => plain(wire::HolderType::Reporter),
            Holder::Assignee => plain(wire::HolderType::Assignee),
            Holder::CustomerPortal => plain(wire::HolderType::CustomerPortalOnly),
            Holder::ApplicationRole(None) => plain(wire::HolderType::ApplicationRole),
            Holder::ApplicationRole(Some(app)) => wire::PermissionHolder {
                parameter: Some(app.clone()),
                value: Some(app.clone()),
                ..plain(wire::HolderType::ApplicationRole)
            },
            Holder::Group(group_id) => {
                let group = self.site.group(group_id);
                wire::PermissionHolder {
                    // A deleted group has no name any more; its id is all Jira can show.
                    parameter: Some(group.map_or_else(|| group_id.clone(), |g| g.name.clone())),
                    value: Some(group_id.clone()),
                    expand: Some("group".into()),
                    group: (expand.group && group.is_some()).then(|| self.group_name(group_id)),
                    ..plain(wire::HolderType::Group)
                }
            }
            Holder::User(account_id) => wire::PermissionHolder {
                parameter: Some(account_id.clone()),
                value: Some(account_id.clone()),
                expand: Some("user".into()),
                user: expand.user.then(|| self.user(account_id)),
                ..plain(wire::HolderType::User)
            },
            Holder::ProjectRole(role_id) => wire::PermissionHolder {
                parameter: Some(role_id.to_string()),
                value: Some(role_id.to_string()),
                expand: Some("projectRole".into()),
                project_role: if expand.project_role { self.role_brief(*role_id) } else { None },
                ..plain(wire::HolderType::ProjectRole)
            },
        }
    }

    fn permission_scheme(&self, scheme_id: u64, expand: &HolderExpansion) -> Option<wire::PermissionScheme> {
        let scheme = self.site.permission_schemes.get(&scheme_id)?;
        let permissions = expand.any.then(|| {
            scheme
                .grants
                .iter()
                .map(|g| wire::PermissionGrant {
                    id: g.id,
                    self_url: Some(format!(
                        "{}{API}/permissionscheme/{}/permission/{}",
                        self.base, scheme.id, g.id
                    )),
                    holder: self.holder(&g.holder, expand),
                    permission: g.permission.clone(),
                })
                .collect()
        });
        Some(wire::PermissionScheme {
            expand: Some("permissions,user,group,projectRole,field,all".into()),
            id: scheme.id,
            self_url: Some(format!("{}{API}/permissionscheme/{}", self.base, scheme.id)),
            name: scheme.name.clone(),
            description: Some(scheme.description.clone()),
            permissions,
        })
    }
}

/// What `expand` asked for on permission schemes and security level members.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct HolderExpansion {
    /// Any value at all: permission schemes then include their grants.
    any: bool,
    user: bool,
    group: bool,
    project_role: bool,
}

impl HolderExpansion {
    fn parse(expand: &[String]) -> Self {
        let has = |name: &str| expand.iter().any(|e| e == name || e == "all");
        HolderExpansion {
            any: !expand.is_empty(),
            user: has("user"),
            group: has("group"),
            project_role: has("projectRole"),
        }
    }
}

/// A stored ADF document as JSON; text that is not JSON is wrapped in a paragraph so clients still get ADF.
fn adf(stored: &str) -> Value {
    serde_json::from_str(stored).unwrap_or_else(|_| {
        serde_json::json!({"type": "doc", "version": 1, "content": [
            {"type": "paragraph", "content": [{"type": "text", "text": stored}]}
        ]})
    })
}

fn find_level(site: &Site, level_id: u64) -> Option<(&SecurityScheme, &SecurityLevel)> {
    site.security_schemes.values().find_map(|s| s.levels.iter().find(|l| l.id == level_id).map(|l| (s, l)))
}

/// An issue the admin can see: it exists, is not archived, and neither is its project.
fn visible_issue<'s>(site: &'s Site, id_or_key: &str) -> Option<&'s Issue> {
    let issue = match id_or_key.parse::<u64>() {
        Ok(id) => site.issues.get(&id),
        Err(_) => {
            site.index.issue_by_key.get(&id_or_key.to_ascii_uppercase()).and_then(|id| site.issues.get(id))
        }
    }?;
    is_searchable(site, issue).then_some(issue)
}

fn is_searchable(site: &Site, issue: &Issue) -> bool {
    !issue.archived && site.projects.get(&issue.project_id).is_some_and(|p| !p.archived)
}

fn find_project<'s>(site: &'s Site, id_or_key: &str) -> Result<&'s Project, JiraError> {
    let found = match id_or_key.parse::<u64>() {
        Ok(id) => site.projects.get(&id),
        Err(_) => site.index.project_by_key.get(id_or_key).and_then(|id| site.projects.get(id)),
    };
    found.ok_or_else(|| {
        let by = if id_or_key.parse::<u64>().is_ok() { "id" } else { "key" };
        not_found(&format!("No project could be found with {by} '{id_or_key}'."))
    })
}

// ---------------------------------------------------------------------------------------------------
// Issue search
// ---------------------------------------------------------------------------------------------------

/// A search request, whichever way it arrived.
struct SearchInput {
    jql: String,
    next_page_token: Option<String>,
    max_results: Option<i64>,
    fields: Vec<String>,
}

async fn search_get(State(state): State<SimState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Answer {
    let params = Params::parse(raw);
    let max_results = params.number("maxResults")?;
    let input = SearchInput {
        jql: params.first("jql").unwrap_or_default().to_string(),
        next_page_token: params.first("nextPageToken").filter(|t| !t.is_empty()).map(str::to_string),
        max_results,
        fields: params.list("fields"),
    };
    search(&state, &base_url(&headers), input)
}

async fn search_post(State(state): State<SimState>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: wire::SearchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return Err(bad_request(
                "Invalid request payload. Refer to the REST API documentation and try again.",
            ))
        }
    };
    let input = SearchInput {
        jql: request.jql.unwrap_or_default(),
        next_page_token: request.next_page_token.filter(|t| !t.is_empty()),
        max_results: request.max_results,
        fields: request.fields,
    };
    search(&state, &base_url(&headers), input)
}

/// A JQL clause resolved against the site.
enum Restriction {
    Projects(HashSet<u64>),
    Ids(HashSet<u64>),
    Id(Comparison, u64),
    Date(DateField, Comparison, Millis),
}

impl Restriction {
    fn admits(&self, issue: &Issue) -> bool {
        match self {
            Restriction::Projects(p) => p.contains(&issue.project_id),
            Restriction::Ids(ids) => ids.contains(&issue.id),
            Restriction::Id(op, n) => op.holds(issue.id, *n),
            Restriction::Date(DateField::Created, op, at) => op.holds(issue.created, *at),
            Restriction::Date(DateField::Updated, op, at) => op.holds(issue.updated, *at),
        }
    }
}

fn resolve(site: &Site, clause: &Clause, now: Millis) -> Result<Restriction, JiraError> {
    Ok(match clause {
        Clause::Project(refs) => {
            let mut ids = HashSet::new();
            for r in refs {
                let found = match r {
                    ProjectRef::Id(id) => site.projects.get(id).map(|p| p.id),
                    ProjectRef::KeyOrName(text) => {
                        site.index.project_by_key.get(&text.to_ascii_uppercase()).copied().or_else(|| {
                            site.projects.values().find(|p| p.name.eq_ignore_ascii_case(text)).map(|p| p.id)
                        })
                    }
                };
                let shown = match r {
                    ProjectRef::Id(id) => id.to_string(),
                    ProjectRef::KeyOrName(text) => text.clone(),
                };
                let id = found.ok_or_else(|| {
                    bad_request(&format!("The value '{shown}' does not exist for the field 'project'."))
                })?;
                ids.insert(id);
            }
            Restriction::Projects(ids)
        }
        Clause::Key(keys) => {
            let mut ids = HashSet::new();
            for key in keys {
                let id = site.index.issue_by_key.get(key).ok_or_else(|| {
                    bad_request(&format!("An issue with key '{key}' does not exist for field 'key'."))
                })?;
                ids.insert(*id);
            }
            Restriction::Ids(ids)
        }
        Clause::IdIn(ids) => Restriction::Ids(ids.iter().copied().collect()),
        Clause::Id(op, n) => Restriction::Id(*op, *n),
        Clause::Date(field, op, value) => {
            Restriction::Date(*field, *op, value.resolve(site.admin_utc_offset_minutes, now))
        }
    })
}

/// One value of an issue's sort key, per `ORDER BY` field.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(untagged)]
enum SortPart {
    Number(i64),
    /// Project key and issue number.
    Key(String, u64),
}

fn sort_parts(issue: &Issue, order: &[OrderBy]) -> Vec<SortPart> {
    order
        .iter()
        .map(|o| match o.field {
            SortField::Created => SortPart::Number(issue.created),
            SortField::Updated => SortPart::Number(issue.updated),
            SortField::Id => SortPart::Number(issue.id as i64),
            SortField::Key => {
                let (project, number) = issue.key.rsplit_once('-').unwrap_or((issue.key.as_str(), "0"));
                SortPart::Key(project.to_string(), number.parse().unwrap_or(0))
            }
        })
        .collect()
}

/// Orders two issues by the query's `ORDER BY`, then by id so the order is total.
fn compare(a: (&[SortPart], u64), b: (&[SortPart], u64), order: &[OrderBy]) -> Ordering {
    for ((x, y), o) in a.0.iter().zip(b.0).zip(order) {
        let c = match o.direction {
            Direction::Asc => x.cmp(y),
            Direction::Desc => y.cmp(x),
        };
        if c != Ordering::Equal {
            return c;
        }
    }
    a.1.cmp(&b.1)
}

/// The opaque `nextPageToken`: which query it belongs to, and where the last page ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct PageToken {
    #[serde(rename = "q")]
    query: String,
    #[serde(rename = "k")]
    last_sort: Vec<SortPart>,
    #[serde(rename = "i")]
    last_id: u64,
}

impl PageToken {
    fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json)
    }

    fn decode(token: &str) -> Option<Self> {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token).ok()?;
        serde_json::from_slice(&bytes).ok()
    }
}

fn query_fingerprint(jql: &str) -> String {
    let digest = Sha256::digest(jql.trim().as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The searchable issues every restriction admits, in no particular order.
fn matching<'a>(site: &'a Site, restrictions: &[Restriction]) -> Vec<&'a Issue> {
    // Start from the narrowest index the query allows; every restriction is still checked below.
    let candidates: Vec<&Issue> =
        if let Some(Restriction::Ids(ids)) = restrictions.iter().find(|r| matches!(r, Restriction::Ids(_))) {
            ids.iter().filter_map(|id| site.issues.get(id)).collect()
        } else if let Some(Restriction::Projects(projects)) =
            restrictions.iter().find(|r| matches!(r, Restriction::Projects(_)))
        {
            projects
                .iter()
                .flat_map(|p| site.index.issues_of_project.get(p).into_iter().flatten())
                .filter_map(|id| site.issues.get(id))
                .collect()
        } else {
            site.issues.values().collect()
        };
    candidates
        .into_iter()
        .filter(|i| is_searchable(site, i) && restrictions.iter().all(|r| r.admits(i)))
        .collect()
}

/// `POST /search/approximate-count`: how many issues a bounded query matches. Like Jira, a query
/// without a search restriction is refused.
async fn approximate_count(State(state): State<SimState>, body: Bytes) -> Answer {
    let Ok(request) = serde_json::from_slice::<wire::JqlCountRequest>(&body) else {
        return Err(bad_request(
            "Invalid request payload. Refer to the REST API documentation and try again.",
        ));
    };
    let query = match jql::parse(request.jql.as_deref().unwrap_or_default()) {
        Ok(q) => q,
        Err(e) => return Err(bad_request(&e.atlassian_message())),
    };
    if query.clauses.is_empty() {
        return Err(bad_request(
            "Unbounded JQL queries are not allowed here. Please add a search restriction.",
        ));
    }
    let site = state.read();
    let now = chrono::Utc::now().timestamp_millis();
    let restrictions = query.clauses.iter().map(|c| resolve(&site, c, now)).collect::<Result<Vec<_>, _>>()?;
    let count = matching(&site, &restrictions).len() as u64;
    ok_json(&wire::JqlCountResults { count: Some(count) })
}

fn search(state: &SimState, base: &str, input: SearchInput) -> Answer {
    let query = match jql::parse(&input.jql) {
        Ok(q) => q,
        Err(e) => return Err(bad_request(&e.atlassian_message())),
    };
    let selection = FieldSelection::parse(&input.fields, DefaultFields::IdOnly);
    let cap = if selection.ids_and_keys_only() { SEARCH_MAX_IDS } else { SEARCH_MAX_FIELDS };
    let limit = input.max_results.map_or(SEARCH_DEFAULT, |n| n.clamp(1, cap as i64) as usize).min(cap);
    let fingerprint = query_fingerprint(&input.jql);
    let after = match input.next_page_token.as_deref().map(PageToken::decode) {
        None => None,
        Some(Some(t)) if t.query == fingerprint && t.last_sort.len() == query.order_by.len() => Some(t),
        Some(_) => {
            return Err(bad_request(
                "The provided next page token is invalid or belongs to a different query.",
            ))
        }
    };

    let site = state.read();
    let now = chrono::Utc::now().timestamp_millis();
    let restrictions = query.clauses.iter().map(|c| resolve(&site, c, now)).collect::<Result<Vec<_>, _>>()?;

    let order = &query.order_by;
    let mut rows: Vec<(Vec<SortPart>, &Issue)> = matching(&site, &restrictions)
        .into_iter()
        .map(|i| (sort_parts(i, order), i))
        .filter(|(parts, i)| match &after {
            None => true,
            Some(t) => compare((parts, i.id), (&t.last_sort, t.last_id), order) == Ordering::Greater,
        })
        .collect();
    let by_order = |a: &(Vec<SortPart>, &Issue), b: &(Vec<SortPart>, &Issue)| {
        compare((&a.0, a.1.id), (&b.0, b.1.id), order)
    };
    let more = rows.len() > limit;
    if more {
        rows.select_nth_unstable_by(limit, by_order);
        rows.truncate(limit);
    }
    rows.sort_unstable_by(by_order);

    let render = Render { site: &site, base: base.to_string() };
    let next_page_token = if more {
        rows.last().map(|(parts, issue)| {
            PageToken { query: fingerprint.clone(), last_sort: parts.clone(), last_id: issue.id }.encode()
        })
    } else {
        None
    };
    let results = wire::SearchAndReconcileResults {
        is_last: Some(!more),
        issues: rows.iter().map(|(_, issue)| render.issue(issue, &selection)).collect(),
        next_page_token,
        names: None,
    };
    ok_json(&results)
}

// ---------------------------------------------------------------------------------------------------
// Issues, comments, attachments
// ---------------------------------------------------------------------------------------------------

async fn bulkfetch(State(state): State<SimState>, headers: HeaderMap, body: Bytes) -> Answer {
    let request: wire::BulkFetchRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(_) => {
            return Err(bad_request(
                "Invalid request payload. Refer to the REST API documentation and try again.",
            ))
        }
    };
    if request.issue_ids_or_keys.is_empty() {
        return Err(bad_request("At least one issue id or key must be given in 'issueIdsOrKeys'."));
    }
    if request.issue_ids_or_keys.len() > BULKFETCH_MAX {
        return Err(bad_request(&format!(
            "At most {BULKFETCH_MAX} issues can be fetched at once; {} were requested.",
            request.issue_ids_or_keys.len()
        )));
    }
    let selection = FieldSelection::parse(&request.fields, DefaultFields::Navigable);
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let mut found: Vec<&Issue> = Vec::new();
    let mut issue_errors = Vec::new();
    for wanted in &request.issue_ids_or_keys {
        match visible_issue(&site, wanted.trim()) {
            Some(issue) => found.push(issue),
            None => {
                issue_errors.push(wire::IssueError { id: wanted.clone(), error_message: NO_ISSUE.into() })
            }
        }
    }
    found.sort_by_key(|i| i.id);
    found.dedup_by_key(|i| i.id);
    ok_json(&wire::BulkIssueResults {
        issues: found.iter().map(|i| render.issue(i, &selection)).collect(),
        issue_errors,
    })
}

async fn issue(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id_or_key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let params = Params::parse(raw);
    let selection = FieldSelection::parse(&params.list("fields"), DefaultFields::All);
    let site = state.read();
    let Some(issue) = visible_issue(&site, &id_or_key) else { return Err(not_found(NO_ISSUE)) };
    ok_json(&Render { site: &site, base: base_url(&headers) }.issue(issue, &selection))
}

async fn issue_comments(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id_or_key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(COMMENTS_DEFAULT, COMMENTS_MAX)?;
    let newest_first = match params.first("orderBy") {
        None | Some("") | Some("created") | Some("+created") => false,
        Some("-created") => true,
        Some(other) => {
            return Err(bad_request(&format!(
                "The value '{other}' is not valid for 'orderBy': use 'created' or '-created'."
            )))
        }
    };
    let site = state.read();
    let Some(issue) = visible_issue(&site, &id_or_key) else { return Err(not_found(NO_ISSUE)) };
    let render = Render { site: &site, base: base_url(&headers) };
    let mut comments = render.comments_of(issue.id);
    if newest_first {
        comments.reverse();
    }
    let page: Vec<wire::Comment> =
        comments.iter().skip(start).take(size).map(|c| render.comment(c)).collect();
    ok_json(&wire::PageOfComments {
        start_at: Some(start as u64),
        max_results: Some(size as u32),
        total: Some(comments.len() as u64),
        comments: page,
    })
}

/// `POST /comment/list`: the comments among `ids` that exist and whose issue the admin can see, in id
/// order, as one page (Jira answers up to 1000 ids at once and takes no paging parameters here).
async fn comment_list(State(state): State<SimState>, headers: HeaderMap, body: Bytes) -> Answer {
    let Ok(request) = serde_json::from_slice::<wire::CommentListRequest>(&body) else {
        return Err(bad_request(
            "Invalid request payload. Refer to the REST API documentation and try again.",
        ));
    };
    if request.ids.is_empty() {
        return Err(bad_request("At least one comment id must be given in 'ids'."));
    }
    if request.ids.len() > COMMENT_LIST_MAX {
        return Err(bad_request(&format!(
            "At most {COMMENT_LIST_MAX} comments can be requested at once; {} were requested.",
            request.ids.len()
        )));
    }
    let wanted: BTreeSet<u64> = request.ids.into_iter().collect();
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let found: Vec<wire::Comment> = wanted
        .iter()
        .filter_map(|id| site.issue_comments.get(id))
        .filter(|c| site.issues.get(&c.issue_id).is_some_and(|i| is_searchable(&site, i)))
        .map(|c| render.comment(c))
        .collect();
    let total = found.len() as u64;
    ok_json(&wire::PageBean {
        self_url: Some(format!("{}{API}/comment/list", render.base)),
        next_page: None,
        max_results: Some(COMMENT_LIST_MAX as u32),
        start_at: Some(0),
        total: Some(total),
        is_last: Some(true),
        values: found,
    })
}

/// The attachment, if it exists and its issue is visible.
fn visible_attachment<'s>(site: &'s Site, id: &str) -> Result<&'s JiraAttachment, JiraError> {
    id.parse::<u64>()
        .ok()
        .and_then(|id| site.jira_attachments.get(&id))
        .filter(|a| site.issues.get(&a.issue_id).is_some_and(|i| is_searchable(site, i)))
        .ok_or_else(|| not_found(&format!("The attachment with id '{id}' does not exist.")))
}

async fn attachment_metadata(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Answer {
    let site = state.read();
    match visible_attachment(&site, &id) {
        Ok(a) => ok_json(&Render { site: &site, base: base_url(&headers) }.attachment_metadata(a)),
        Err(e) => Err(e),
    }
}

/// The bytes of an attachment, rendered from its description in the model.
fn attachment_bytes(attachment: &JiraAttachment) -> Vec<u8> {
    crate::sim::files::render(&attachment.file)
}

fn file_response(attachment: &JiraAttachment) -> Response {
    let bytes = attachment_bytes(attachment);
    let disposition =
        format!("attachment; filename=\"{}\"", attachment.file.filename.replace(['"', '\\'], "_"));
    let mut response = Body::from(bytes).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(attachment.file.kind.media_type()));
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

async fn attachment_content(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let params = Params::parse(raw);
    let site = state.read();
    let attachment = visible_attachment(&site, &id)?;
    if params.is_false("redirect") {
        return Ok(file_response(attachment));
    }
    let location = format!(
        "{}/_media/jira/{}?token={}",
        base_url(&headers),
        attachment.id,
        media_token(site.seed, attachment.id)
    );
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    Ok(response)
}

async fn media(State(state): State<SimState>, Path(id): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let params = Params::parse(raw);
    let site = state.read();
    let attachment = match id.parse::<u64>().ok().and_then(|id| site.jira_attachments.get(&id)) {
        Some(a) if site.issues.get(&a.issue_id).is_some_and(|i| is_searchable(&site, i)) => a,
        _ => return (StatusCode::NOT_FOUND, "file not found").into_response(),
    };
    if params.first("token") != Some(media_token(site.seed, attachment.id).as_str()) {
        return (StatusCode::FORBIDDEN, "invalid or missing media token").into_response();
    }
    file_response(attachment)
}

// ---------------------------------------------------------------------------------------------------
// Projects, permission schemes, roles, issue security
// ---------------------------------------------------------------------------------------------------

async fn project_search(
    State(state): State<SimState>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(PROJECTS_DEFAULT, PROJECTS_MAX)?;
    let ids = params.ids("id")?;
    let keys = params.list("keys");
    let text = params.first("query").map(str::to_lowercase).filter(|q| !q.is_empty());
    let statuses = params.list("status");
    let (live, archived) = if statuses.is_empty() {
        (true, false)
    } else {
        (statuses.iter().any(|s| s == "live"), statuses.iter().any(|s| s == "archived"))
    };
    let order = params.first("orderBy").unwrap_or("key").to_string();
    let (descending, order_field) = match order.strip_prefix('-') {
        Some(f) => (true, f),
        None => (false, order.strip_prefix('+').unwrap_or(&order)),
    };
    if !matches!(order_field, "key" | "name" | "id") {
        return Err(bad_request(&format!(
            "Ordering projects by '{order}' is not supported; use key, name or id."
        )));
    }

    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let mut projects: Vec<&Project> = site
        .projects
        .values()
        .filter(|p| if p.archived { archived } else { live })
        .filter(|p| ids.is_empty() || ids.contains(&p.id))
        .filter(|p| keys.is_empty() || keys.iter().any(|k| k.eq_ignore_ascii_case(&p.key)))
        .filter(|p| {
            text.as_ref()
                .is_none_or(|q| p.key.to_lowercase().contains(q) || p.name.to_lowercase().contains(q))
        })
        .collect();
    match order_field {
        "name" => {
            projects.sort_by(|a, b| a.name.to_lowercase().cmp(&b.name.to_lowercase()).then(a.id.cmp(&b.id)))
        }
        "id" => projects.sort_by_key(|p| p.id),
        _ => projects.sort_by(|a, b| a.key.cmp(&b.key)),
    }
    if descending {
        projects.reverse();
    }
    // `expand` adds members the listing leaves out; the others it names are not simulated.
    let expand = params.list("expand");
    let expanded = |name: &str| expand.iter().any(|e| e == name);
    let values: Vec<wire::Project> = projects
        .iter()
        .map(|p| wire::Project {
            lead: expanded("lead").then(|| render.user(&p.lead)),
            description: expanded("description").then(|| p.description.clone()),
            ..render.project_listed(p)
        })
        .collect();
    ok_json(&page_bean(&values, start, size, &format!("{}{API}/project/search", render.base), &params))
}

async fn project(State(state): State<SimState>, headers: HeaderMap, Path(key): Path<String>) -> Answer {
    let site = state.read();
    match find_project(&site, &key) {
        Ok(p) => ok_json(&Render { site: &site, base: base_url(&headers) }.project_full(p)),
        Err(e) => Err(e),
    }
}

async fn project_permission_scheme(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    admin_only(&caller, ADMINISTER_JIRA)?;
    let expand = HolderExpansion::parse(&Params::parse(raw).list("expand"));
    let site = state.read();
    let project = find_project(&site, &key)?;
    match (Render { site: &site, base: base_url(&headers) })
        .permission_scheme(project.permission_scheme_id, &expand)
    {
        Some(scheme) => ok_json(&scheme),
        None => Err(not_found(&format!("The permission scheme of project '{key}' does not exist."))),
    }
}

async fn permission_scheme(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    Path(scheme_id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Answer {
    admin_only(&caller, ADMINISTER_JIRA)?;
    let expand = HolderExpansion::parse(&Params::parse(raw).list("expand"));
    let Ok(id) = scheme_id.parse::<u64>() else {
        return Err(bad_request(&format!("The permission scheme id '{scheme_id}' is not a number.")));
    };
    let site = state.read();
    match (Render { site: &site, base: base_url(&headers) }).permission_scheme(id, &expand) {
        Some(scheme) => ok_json(&scheme),
        None => Err(not_found(&format!("A permission scheme with id '{id}' does not exist."))),
    }
}

async fn project_roles(State(state): State<SimState>, headers: HeaderMap, Path(key): Path<String>) -> Answer {
    let site = state.read();
    match find_project(&site, &key) {
        Ok(p) => ok_json(&Render { site: &site, base: base_url(&headers) }.role_urls(p)),
        Err(e) => Err(e),
    }
}

/// A stable actor id (Jira numbers role actors; the model does not), from what the actor is.
fn actor_id(project_id: u64, role_id: u64, actor: &str) -> u64 {
    let digest = Sha256::digest(format!("{project_id}:{role_id}:{actor}").as_bytes());
    10_000 + u64::from(u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]) % 1_000_000_000)
}

async fn project_role(
    State(state): State<SimState>,
    headers: HeaderMap,
    Path((key, role_id)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Answer {
    let exclude_inactive = Params::parse(raw).is_true("excludeInactiveUsers");
    let Ok(role_id) = role_id.parse::<u64>() else {
        return Err(bad_request(&format!("The project role id '{role_id}' is not a number.")));
    };
    let site = state.read();
    let project = find_project(&site, &key)?;
    let render = Render { site: &site, base: base_url(&headers) };
    let Some(role) = site.roles.iter().find(|r| r.id == role_id) else {
        return Err(not_found(&format!("A project role with id '{role_id}' does not exist.")));
    };
    let mut actors = Vec::new();
    if let Some(members) = project.roles.get(&role_id) {
        for account_id in &members.users {
            let user = site.user(account_id);
            if exclude_inactive && !user.is_some_and(|u| u.active) {
                continue;
            }
            actors.push(wire::RoleActor {
                id: Some(actor_id(project.id, role_id, &format!("user:{account_id}"))),
                display_name: Some(
                    user.map_or_else(|| "Former user".to_string(), |u| u.display_name.clone()),
                ),
                kind: wire::RoleActorType::User,
                actor_user: Some(wire::ActorUser { account_id: account_id.clone() }),
                actor_group: None,
            });
        }
        for group_id in &members.groups {
            let name = site.group(group_id).map_or_else(|| group_id.clone(), |g| g.name.clone());
            actors.push(wire::RoleActor {
                id: Some(actor_id(project.id, role_id, &format!("group:{group_id}"))),
                display_name: Some(name.clone()),
                kind: wire::RoleActorType::Group,
                actor_user: None,
                actor_group: Some(wire::ActorGroup {
                    name: Some(name.clone()),
                    display_name: Some(name),
                    group_id: Some(group_id.clone()),
                }),
            });
        }
    }
    ok_json(&wire::ProjectRole {
        self_url: Some(format!("{}{API}/project/{}/role/{}", render.base, project.id, role.id)),
        name: role.name.clone(),
        id: role.id,
        description: Some(role.description.clone()),
        actors: Some(actors),
    })
}

async fn project_security_scheme(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Answer {
    admin_only(&caller, ADMINISTER_JIRA)?;
    let site = state.read();
    let project = find_project(&site, &key)?;
    let Some(scheme) = project.security_scheme_id.and_then(|id| site.security_schemes.get(&id)) else {
        return Err(not_found(&format!("Project '{}' has no issue security level scheme.", project.key)));
    };
    let render = Render { site: &site, base: base_url(&headers) };
    ok_json(&wire::SecurityScheme {
        self_url: Some(format!("{}{API}/issuesecurityschemes/{}", render.base, scheme.id)),
        id: scheme.id,
        name: scheme.name.clone(),
        description: Some(scheme.description.clone()),
        default_security_level_id: scheme.default_level_id,
        levels: scheme.levels.iter().map(|l| render.level(scheme, l)).collect(),
    })
}

/// How the admin-only offset listings of issue security schemes start: the caller's right, then the query
/// with its `startAt` and `maxResults`.
fn security_scheme_listing(
    caller: &Caller,
    raw: Option<String>,
) -> Result<(Params, usize, usize), JiraError> {
    admin_only(caller, ADMINISTER_JIRA)?;
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(LEVEL_MEMBERS_DEFAULT, LEVEL_MEMBERS_MAX)?;
    Ok((params, start, size))
}

/// `GET /issuesecurityschemes/project`: which project uses which issue security scheme, for every project
/// with one (optionally only the given `projectId`s or `issueSecuritySchemeId`s). Admin only.
async fn security_scheme_projects(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let (params, start, size) = security_scheme_listing(&caller, raw)?;
    let (projects, schemes) = (params.ids("projectId")?, params.ids("issueSecuritySchemeId")?);
    let site = state.read();
    let values: Vec<wire::SecuritySchemeProject> = site
        .projects
        .values()
        .filter(|p| projects.is_empty() || projects.contains(&p.id))
        .filter_map(|p| Some((p.id, p.security_scheme_id?)))
        .filter(|(_, scheme)| schemes.is_empty() || schemes.contains(scheme))
        .map(|(project, scheme)| wire::SecuritySchemeProject {
            issue_security_scheme_id: scheme.to_string(),
            project_id: project.to_string(),
        })
        .collect();
    let url = format!("{}{API}/issuesecurityschemes/project", base_url(&headers));
    ok_json(&page_bean(&values, start, size, &url, &params))
}

/// `GET /issuesecurityschemes/level`: the levels of every issue security scheme, or of the given
/// `schemeId`s and level `id`s (inclusive, as the spec says: a level matches either filter). Admin only.
async fn security_levels(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let (params, start, size) = security_scheme_listing(&caller, raw)?;
    let (schemes, levels) = (params.ids("schemeId")?, params.ids("id")?);
    let only_default = params.is_true("onlyDefault");
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let unfiltered = schemes.is_empty() && levels.is_empty();
    let mut values = Vec::new();
    for scheme in site.security_schemes.values() {
        for level in &scheme.levels {
            let wanted = unfiltered || schemes.contains(&scheme.id) || levels.contains(&level.id);
            if wanted && (!only_default || scheme.default_level_id == Some(level.id)) {
                values.push(render.level(scheme, level));
            }
        }
    }
    let url = format!("{}{API}/issuesecurityschemes/level", render.base);
    ok_json(&page_bean(&values, start, size, &url, &params))
}

async fn level_members(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Answer {
    let (params, start, size) = security_scheme_listing(&caller, raw)?;
    let filters = (params.ids("schemeId"), params.ids("levelId"), params.ids("id"));
    let (schemes, levels, member_ids) = match filters {
        (Ok(s), Ok(l), Ok(m)) => (s, l, m),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => return Err(e),
    };
    let expand = HolderExpansion::parse(&params.list("expand"));
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let mut values = Vec::new();
    for scheme in site.security_schemes.values().filter(|s| schemes.is_empty() || schemes.contains(&s.id)) {
        for level in scheme.levels.iter().filter(|l| levels.is_empty() || levels.contains(&l.id)) {
            for member in level.members.iter().filter(|m| member_ids.is_empty() || member_ids.contains(&m.id))
            {
                values.push(wire::SecurityLevelMember {
                    id: member.id.to_string(),
                    issue_security_level_id: level.id.to_string(),
                    issue_security_scheme_id: Some(scheme.id.to_string()),
                    holder: render.holder(&member.holder, &expand),
                });
            }
        }
    }
    let url = format!("{}{API}/issuesecurityschemes/level/member", render.base);
    ok_json(&page_bean(&values, start, size, &url, &params))
}

// ---------------------------------------------------------------------------------------------------
// Users, groups, fields
// ---------------------------------------------------------------------------------------------------

/// `GET /applicationrole`: every Jira application of the site with the groups granting access to it.
async fn application_roles(State(state): State<SimState>, caller: Caller, headers: HeaderMap) -> Answer {
    admin_only(&caller, ADMINISTER_JIRA)?;
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let roles: Vec<wire::ApplicationRole> =
        site.product_access.jira.values().map(|app| render.application_role(app)).collect();
    ok_json(&roles)
}

/// `GET /applicationrole/{key}`.
async fn application_role(
    State(state): State<SimState>,
    caller: Caller,
    headers: HeaderMap,
    Path(key): Path<String>,
) -> Answer {
    admin_only(&caller, ADMINISTER_JIRA)?;
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    match site.product_access.jira.get(&key) {
        Some(app) => ok_json(&render.application_role(app)),
        None => Err(not_found(&format!("The application role '{key}' does not exist."))),
    }
}

/// `GET /group/bulk`: groups by name (then id), optionally only those named by `groupId`/`groupName`.
async fn group_bulk(State(state): State<SimState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Answer {
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(GROUPS_DEFAULT, GROUPS_MAX)?;
    // Repeated parameters only: a group name may contain a comma.
    let values_of = |name: &str| -> BTreeSet<&str> {
        params.0.iter().filter(|(k, _)| k == name).map(|(_, v)| v.as_str()).collect()
    };
    let (ids, names) = (values_of("groupId"), values_of("groupName"));
    let site = state.read();
    let mut groups: Vec<&crate::sim::model::Group> = site
        .groups
        .iter()
        .filter(|g| ids.is_empty() || ids.contains(g.id.as_str()))
        .filter(|g| names.is_empty() || names.contains(g.name.as_str()))
        .collect();
    groups.sort_by(|a, b| a.name.cmp(&b.name).then_with(|| a.id.cmp(&b.id)));
    let values: Vec<wire::GroupName> = groups
        .iter()
        .map(|g| wire::GroupName { group_id: Some(g.id.clone()), name: Some(g.name.clone()), self_url: None })
        .collect();
    let url = format!("{}{API}/group/bulk", base_url(&headers));
    ok_json(&page_bean(&values, start, size, &url, &params))
}

async fn group_members(State(state): State<SimState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Answer {
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(GROUP_MEMBERS_DEFAULT, GROUP_MEMBERS_MAX)?;
    let include_inactive = params.is_true("includeInactiveUsers");
    let site = state.read();
    let group = match (params.first("groupId"), params.first("groupname")) {
        (Some(id), _) => site.group(id),
        (None, Some(name)) => site.groups.iter().find(|g| g.name == name),
        (None, None) => return Err(bad_request("You must specify a group with 'groupId' or 'groupname'.")),
    };
    let Some(group) = group else { return Err(not_found("The specified group does not exist.")) };
    let render = Render { site: &site, base: base_url(&headers) };
    let members: Vec<wire::User> = group
        .members
        .iter()
        .filter_map(|a| site.user(a))
        .filter(|u| include_inactive || u.active)
        .map(|u| render.user(&u.account_id))
        .collect();
    ok_json(&page_bean(&members, start, size, &format!("{}{API}/group/member", render.base), &params))
}

async fn users_search(State(state): State<SimState>, headers: HeaderMap, RawQuery(raw): RawQuery) -> Answer {
    let params = Params::parse(raw);
    let (start, size) = params.offset_page(USERS_DEFAULT, USERS_MAX)?;
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let users: Vec<wire::User> =
        site.users.iter().skip(start).take(size).map(|u| render.user(&u.account_id)).collect();
    ok_json(&users)
}

async fn myself(State(state): State<SimState>, headers: HeaderMap) -> Answer {
    let site = state.read();
    let render = Render { site: &site, base: base_url(&headers) };
    let admin = &site.admin_account_id;
    let mut me = match site.user(admin) {
        Some(_) => render.user(admin),
        // The token's owner need not be one of the simulated people; it is still an active account.
        None => wire::User {
            display_name: Some("Site administrator".into()),
            account_type: Some("atlassian".into()),
            email_address: Some(state.credentials.email.clone()),
            active: Some(true),
            ..render.user(admin)
        },
    };
    me.time_zone = Some(time_zone_name(site.admin_utc_offset_minutes));
    me.locale = Some("en_US".into());
    ok_json(&me)
}

async fn fields(State(state): State<SimState>) -> Answer {
    let with_service_desk = !state.read().service_desks.is_empty();
    let list: Vec<wire::FieldDetails> = FIELD_DEFS
        .iter()
        .filter(|d| d.custom.is_none() || with_service_desk)
        .map(|d| wire::FieldDetails {
            id: d.id.into(),
            key: Some(d.id.into()),
            name: d.name.into(),
            custom: d.custom.is_some(),
            orderable: d.orderable,
            navigable: d.navigable,
            searchable: true,
            clause_names: d.clause_names.iter().map(|c| c.to_string()).collect(),
            schema: Some(wire::JsonTypeBean {
                kind: d.schema_type.into(),
                items: d.schema_items.map(str::to_string),
                system: d.custom.is_none().then(|| d.id.into()),
                custom: d.custom.map(|(kind, _)| kind.into()),
                custom_id: d.custom.map(|(_, id)| id),
            }),
        })
        .collect();
    ok_json(&list)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_selection() {
        let s = |entries: &[&str], default| {
            let entries: Vec<String> = entries.iter().map(|e| e.to_string()).collect();
            FieldSelection::parse(&entries, default)
        };
        let navigable = FieldSelection::navigable();
        let all = FieldSelection::all();
        assert!(!navigable.contains(&IssueField::Comment) && all.contains(&IssueField::Comment));
        let cases: Vec<(FieldSelection, bool, BTreeSet<IssueField>)> = vec![
            (s(&[], DefaultFields::IdOnly), false, BTreeSet::new()),
            (s(&["id"], DefaultFields::All), false, BTreeSet::new()),
            (s(&["id,key"], DefaultFields::IdOnly), true, BTreeSet::new()),
            (s(&[], DefaultFields::Navigable), true, navigable.clone()),
            (s(&[], DefaultFields::All), true, all.clone()),
            (
                s(&["summary", "status,bogus"], DefaultFields::All),
                false,
                [IssueField::Summary, IssueField::Status].into(),
            ),
            (
                s(&["*all,-comment"], DefaultFields::IdOnly),
                true,
                all.iter().copied().filter(|f| *f != IssueField::Comment).collect(),
            ),
            (
                s(&["-description"], DefaultFields::IdOnly),
                true,
                navigable.iter().copied().filter(|f| *f != IssueField::Description).collect(),
            ),
        ];
        for (i, (got, key, fields)) in cases.into_iter().enumerate() {
            assert_eq!((got.key, got.fields), (key, fields), "case {i}");
        }
    }

    #[test]
    fn keyset_order_is_total_and_respects_direction() {
        let asc = [OrderBy { field: SortField::Updated, direction: Direction::Asc }];
        let desc = [OrderBy { field: SortField::Updated, direction: Direction::Desc }];
        let a = [SortPart::Number(1)];
        let b = [SortPart::Number(2)];
        assert_eq!(compare((&a, 9), (&b, 1), &asc), Ordering::Less);
        assert_eq!(compare((&a, 9), (&b, 1), &desc), Ordering::Greater);
        // Equal sort values fall back to ascending id, whatever the direction.
        assert_eq!(compare((&a, 1), (&a, 2), &desc), Ordering::Less);
        let k9 = [SortPart::Key("APP".into(), 9)];
        let k10 = [SortPart::Key("APP".into(), 10)];
        let key = [OrderBy { field: SortField::Key, direction: Direction::Asc }];
        assert_eq!(compare((&k9, 1), (&k10, 2), &key), Ordering::Less);
    }

    #[test]
    fn page_tokens_round_trip() {
        let t = PageToken {
            query: "abc".into(),
            last_sort: vec![SortPart::Key("APP".into(), 3), SortPart::Number(-5)],
            last_id: 7,
        };
        assert_eq!(PageToken::decode(&t.encode()), Some(t));
        assert_eq!(PageToken::decode("not a token"), None);
    }

    #[test]
    fn time_zone_names() {
        let cases = [(600, "Australia/Brisbane"), (0, "UTC"), (-300, "America/Panama"), (840, "Etc/GMT-14")];
        for (offset, name) in cases {
            assert_eq!(time_zone_name(offset), name);
        }
    }

    #[test]
    fn media_tokens_depend_on_seed_and_id() {
        let t = media_token(1, 10300);
        assert_eq!(t.len(), 64);
        assert_ne!(t, media_token(2, 10300));
        assert_ne!(t, media_token(1, 10301));
        assert_eq!(t, media_token(1, 10300));
    }
}
