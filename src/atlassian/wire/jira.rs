//! Jira Cloud platform REST v3 wire types: the JSON of the endpoints a permission-aware crawler reads.
//!
//! One struct per response shape of the official spec (`SearchAndReconcileResults`, `IssueBean`,
//! `PageOfComments`, `PageBean<T>`, `PermissionScheme`, `ProjectRole`, `SecurityScheme`, …). Field names
//! and JSON types follow the spec, so the simulator serialises them into responses that validate against
//! it; optional members are skipped rather than written as `null`.
//!
//! Reading is lenient, because real sites and the spec's own examples disagree with the schemas: ids
//! arrive as numbers or strings, `null` appears where a list or flag is promised, `fields.comment` is an
//! object on real sites and a bare array in the examples, time stamps are sometimes numbers. Unknown
//! members are ignored, and unknown issue fields (custom fields) are kept in [`IssueFields::other`].
//!
//! These are wire shapes only: no conversion to permdex's own types and no HTTP happen here.

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The project role map of `GET /project/{key}/role`: role name → role URL (the role id ends the URL).
pub type ProjectRoles = BTreeMap<String, String>;

/// How the crawler reads a [`ProjectRoles`] map: entries that are not text are left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct RoleUrls(#[serde(deserialize_with = "lenient::string_map")] pub ProjectRoles);

/// Parses Jira's time stamp format `2021-02-26T01:45:03.821+0000`, and RFC 3339 as a fallback.
pub fn parse_jira_time(text: &str) -> Option<DateTime<FixedOffset>> {
    DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z")
        .ok()
        .or_else(|| DateTime::parse_from_rfc3339(text).ok())
}

/// The role id at the end of a role URL from [`ProjectRoles`], e.g. `…/project/10000/role/10002` → 10002.
pub fn role_id_from_url(url: &str) -> Option<u64> {
    url.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

/// Body of `POST /rest/api/3/search/jql` (`SearchAndReconcileRequestBean`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_results: Option<i64>,
    /// Field ids, `*all`, `*navigable`, `-field`; empty means the default (`id` only).
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_by_keys: Option<bool>,
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub reconcile_issues: Vec<i64>,
}

/// Body of `POST /rest/api/3/search/approximate-count` (`JQLCountRequestBean`): a bounded query.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JqlCountRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jql: Option<String>,
}

/// Response of `POST /rest/api/3/search/approximate-count` (`JQLCountResultsBean`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct JqlCountResults {
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// Response of `GET|POST /rest/api/3/search/jql`. `next_page_token` is absent on the last page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchAndReconcileResults {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_last: Option<bool>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub issues: Vec<IssueBean>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub names: Option<BTreeMap<String, String>>,
}

/// Body of `POST /rest/api/3/issue/bulkfetch` (`BulkFetchIssueRequestBean`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkFetchRequest {
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub issue_ids_or_keys: Vec<String>,
    /// Empty means the default (`*navigable`).
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<String>,
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub expand: Vec<String>,
    #[serde(default, deserialize_with = "lenient::null_default", skip_serializing_if = "Vec::is_empty")]
    pub properties: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_by_keys: Option<bool>,
}

/// Response of `POST /rest/api/3/issue/bulkfetch`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkIssueResults {
    #[serde(default, deserialize_with = "lenient::items")]
    pub issues: Vec<IssueBean>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub issue_errors: Vec<IssueError>,
}

/// An issue that bulk fetch could not return, with the reason.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueError {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub error_message: String,
}

/// An issue (`IssueBean`). Search pages that asked for ids only carry just `id`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueBean {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub fields: Option<IssueFields>,
}

/// The `fields` of an issue. Every member is present only when it was asked for; `Some(None)` in the
/// double options is a field sent as `null` (e.g. an unassigned issue's `assignee`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct IssueFields {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Atlassian Document Format in v3 (the spec's examples show a plain string: any JSON is kept).
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<Value>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project: Option<Project>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub issuetype: Option<IssueTypeDetails>,
    /// The parent issue (an epic, or the issue a sub-task belongs to), with a few of its fields.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub parent: Option<Box<IssueBean>>,
    /// The issue's sub-tasks, each with its id, key and a few fields, like `parent`.
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub subtasks: Option<Vec<IssueBean>>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub status: Option<StatusDetails>,
    #[serde(default, deserialize_with = "lenient::double_option", skip_serializing_if = "Option::is_none")]
    pub priority: Option<Option<Priority>>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<String>>,
    #[serde(default, deserialize_with = "lenient::double_option", skip_serializing_if = "Option::is_none")]
    pub reporter: Option<Option<User>>,
    #[serde(default, deserialize_with = "lenient::double_option", skip_serializing_if = "Option::is_none")]
    pub assignee: Option<Option<User>>,
    #[serde(default, deserialize_with = "lenient::double_option", skip_serializing_if = "Option::is_none")]
    pub creator: Option<Option<User>>,
    /// `2021-02-26T01:45:03.821+0000`; see [`parse_jira_time`].
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    /// The issue security level in effect (a sub-task shows its parent's). Absent or `null`: none.
    #[serde(
        default,
        deserialize_with = "lenient::present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub security: Option<SecurityLevel>,
    /// At most the first 20 comments; page `GET /issue/{key}/comment` for the rest.
    #[serde(default, deserialize_with = "lenient::comment_field", skip_serializing_if = "Option::is_none")]
    pub comment: Option<CommentField>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub attachment: Option<Vec<IssueAttachment>>,
    /// Every other field (custom fields, watcher, worklog, …), as sent.
    #[serde(flatten)]
    pub other: BTreeMap<String, Value>,
}

/// The embedded `fields.comment` page of an issue.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentField {
    #[serde(default, deserialize_with = "lenient::items")]
    pub comments: Vec<Comment>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub start_at: Option<u64>,
}

/// Issue type, with the sub-task flag that decides whose security level applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueTypeDetails {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub subtask: bool,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub hierarchy_level: Option<i32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusDetails {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub status_category: Option<StatusCategory>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusCategory {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub color_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Priority {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub icon_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
}

/// An issue security level: `fields.security`, or one level of a [`SecurityScheme`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityLevel {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_default: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme_id: Option<String>,
}

/// A comment (`Comment`). `visibility` narrows who may read it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Comment {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    /// ADF in v3 (a string in the spec's search example).
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub rendered_body: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub update_author: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub updated: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::present_or_default",
        skip_serializing_if = "Option::is_none"
    )]
    pub visibility: Option<Visibility>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub jsd_public: Option<bool>,
}

/// Who a comment is restricted to: a group (`identifier` = group id, `value` = name) or a project role
/// (`value` = role name).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Visibility {
    #[serde(default, deserialize_with = "lenient::or_default", rename = "type")]
    pub kind: VisibilityType,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub identifier: Option<String>,
}

/// `visibility.type`. `Other` keeps a type this crate does not know (and a missing one, as `Other("")`),
/// so a reader can fail closed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum VisibilityType {
    Group,
    Role,
    Other(String),
}

impl Default for VisibilityType {
    fn default() -> Self {
        VisibilityType::Other(String::new())
    }
}

impl From<String> for VisibilityType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "group" => VisibilityType::Group,
            "role" => VisibilityType::Role,
            _ => VisibilityType::Other(s),
        }
    }
}

impl From<VisibilityType> for String {
    fn from(t: VisibilityType) -> Self {
        match t {
            VisibilityType::Group => "group".into(),
            VisibilityType::Role => "role".into(),
            VisibilityType::Other(s) => s,
        }
    }
}

/// Body of `POST /rest/api/3/comment/list` (`IssueCommentListRequestBean`): at most 1000 comment ids.
/// The answer is a [`PageBean`] of the [`Comment`]s that exist and can be seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommentListRequest {
    #[serde(default, deserialize_with = "lenient::null_default")]
    pub ids: Vec<u64>,
}

/// Response of `GET /rest/api/3/issue/{key}/comment`. Page on until `start_at + len >= total`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageOfComments {
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub start_at: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub comments: Vec<Comment>,
}

/// An attachment as listed in `fields.attachment` (ids are strings there on real sites).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueAttachment {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub filename: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    /// Download URL: `…/rest/api/3/attachment/content/{id}`.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// Response of `GET /rest/api/3/attachment/{id}` (`AttachmentMetadata`; the id is a number here).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentMetadata {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub filename: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub mime_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub thumbnail: Option<String>,
}

/// Jira's offset-paginated envelope. Stop on `is_last == Some(true)` or an empty `values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "T: serde::de::DeserializeOwned + Default"))]
pub struct PageBean<T> {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next_page: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub max_results: Option<u32>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub start_at: Option<u64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub total: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_last: Option<bool>,
    #[serde(default = "Vec::new", deserialize_with = "lenient::items")]
    pub values: Vec<T>,
}

/// Avatar URLs by size (`16x16`, `24x24`, `32x32`, `48x48`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AvatarUrls {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "16x16",
        skip_serializing_if = "Option::is_none"
    )]
    pub x16: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "24x24",
        skip_serializing_if = "Option::is_none"
    )]
    pub x24: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "32x32",
        skip_serializing_if = "Option::is_none"
    )]
    pub x32: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "48x48",
        skip_serializing_if = "Option::is_none"
    )]
    pub x48: Option<String>,
}

/// A project: an entry of `GET /project/search`, `GET /project/{key}`, or `fields.project`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Project {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub lead: Option<User>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub avatar_urls: Option<AvatarUrls>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_type_key: Option<String>,
    /// `true` for team-managed projects, whose access is not governed by shared schemes.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub simplified: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub style: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub is_private: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub archived: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub roles: Option<ProjectRoles>,
}

/// A permission scheme; `permissions` is present when the request named any `expand`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionScheme {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub permissions: Option<Vec<PermissionGrant>>,
}

/// Response of `GET /rest/api/3/permissionscheme`: every scheme, grants included only when expanded.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionSchemes {
    #[serde(default, deserialize_with = "lenient::items")]
    pub permission_schemes: Vec<PermissionScheme>,
}

/// Response of `GET /rest/api/3/permissionscheme/{id}/permission`: the grants of one scheme.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionGrants {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub permissions: Vec<PermissionGrant>,
}

/// One grant: a permission key (`BROWSE_PROJECTS`, …) given to a holder.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PermissionGrant {
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub holder: PermissionHolder,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub permission: String,
}

/// Who a grant or a security level membership is given to.
///
/// `parameter`/`value` by type: group → group name / group id; user → account id; projectRole → role id;
/// applicationRole → application key (absent: any application). `user`, `group` and `projectRole` carry
/// the holder's details when the request expanded them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionHolder {
    #[serde(deserialize_with = "lenient::or_default", rename = "type", default)]
    pub kind: HolderType,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub expand: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group: Option<GroupName>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub project_role: Option<ProjectRole>,
}

/// Holder `type`. `Other` keeps a type this crate does not know, so a reader can fail closed on it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum HolderType {
    Anyone,
    Group,
    User,
    /// Spelled `projectRole` in grants and sometimes `projectrole` in security level members.
    ProjectRole,
    ApplicationRole,
    ProjectLead,
    Reporter,
    Assignee,
    UserCustomField,
    GroupCustomField,
    /// `sd.customer.portal.only`: service desk customers, on the customer portal only.
    CustomerPortalOnly,
    Other(String),
    /// No `type` was sent.
    #[default]
    Missing,
}

impl From<String> for HolderType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "anyone" => HolderType::Anyone,
            "group" => HolderType::Group,
            "user" => HolderType::User,
            "projectRole" | "projectrole" => HolderType::ProjectRole,
            "applicationRole" => HolderType::ApplicationRole,
            "projectLead" => HolderType::ProjectLead,
            "reporter" => HolderType::Reporter,
            "assignee" => HolderType::Assignee,
            "userCustomField" => HolderType::UserCustomField,
            "groupCustomField" => HolderType::GroupCustomField,
            "sd.customer.portal.only" => HolderType::CustomerPortalOnly,
            "" => HolderType::Missing,
            _ => HolderType::Other(s),
        }
    }
}

impl From<HolderType> for String {
    fn from(t: HolderType) -> Self {
        match t {
            HolderType::Anyone => "anyone".into(),
            HolderType::Group => "group".into(),
            HolderType::User => "user".into(),
            HolderType::ProjectRole => "projectRole".into(),
            HolderType::ApplicationRole => "applicationRole".into(),
            HolderType::ProjectLead => "projectLead".into(),
            HolderType::Reporter => "reporter".into(),
            HolderType::Assignee => "assignee".into(),
            HolderType::UserCustomField => "userCustomField".into(),
            HolderType::GroupCustomField => "groupCustomField".into(),
            HolderType::CustomerPortalOnly => "sd.customer.portal.only".into(),
            HolderType::Other(s) => s,
            HolderType::Missing => String::new(),
        }
    }
}

/// A group by id and (mutable) name; also the `GroupDetails` entries of `GET /group/bulk`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupName {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
}

/// A project role; from `GET /project/{key}/role/{id}` it lists the role's actors in that project.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectRole {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_items", skip_serializing_if = "Option::is_none")]
    pub actors: Option<Vec<RoleActor>>,
}

/// A user or group acting in a project role.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleActor {
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(deserialize_with = "lenient::or_default", rename = "type", default)]
    pub kind: RoleActorType,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub actor_user: Option<ActorUser>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub actor_group: Option<ActorGroup>,
}

/// `atlassian-user-role-actor` or `atlassian-group-role-actor`; `Other` keeps anything else.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum RoleActorType {
    User,
    Group,
    Other(String),
    #[default]
    Missing,
}

impl From<String> for RoleActorType {
    fn from(s: String) -> Self {
        match s.as_str() {
            "atlassian-user-role-actor" => RoleActorType::User,
            "atlassian-group-role-actor" => RoleActorType::Group,
            "" => RoleActorType::Missing,
            _ => RoleActorType::Other(s),
        }
    }
}

impl From<RoleActorType> for String {
    fn from(t: RoleActorType) -> Self {
        match t {
            RoleActorType::User => "atlassian-user-role-actor".into(),
            RoleActorType::Group => "atlassian-group-role-actor".into(),
            RoleActorType::Other(s) => s,
            RoleActorType::Missing => String::new(),
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorUser {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub account_id: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorGroup {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub group_id: Option<String>,
}

/// Response of `GET /project/{key}/issuesecuritylevelscheme` (`SecurityScheme`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityScheme {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::id_number")]
    pub id: u64,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub default_security_level_id: Option<u64>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub levels: Vec<SecurityLevel>,
}

/// One project and the issue security scheme it uses (`IssueSecuritySchemeToProjectMapping`, the items of
/// `GET /issuesecurityschemes/project`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecuritySchemeProject {
    #[serde(default, deserialize_with = "lenient::id")]
    pub issue_security_scheme_id: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub project_id: String,
}

/// Response of `GET /project/{key}/securitylevel`: the levels the caller may set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProjectSecurityLevels {
    #[serde(default, deserialize_with = "lenient::items")]
    pub levels: Vec<SecurityLevel>,
}

/// One member of an issue security level (`SecurityLevelMember`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SecurityLevelMember {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::id")]
    pub issue_security_level_id: String,
    #[serde(default, deserialize_with = "lenient::opt_id", skip_serializing_if = "Option::is_none")]
    pub issue_security_scheme_id: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub holder: PermissionHolder,
}

/// A Jira application and who may use it (`GET /applicationrole`, `GET /applicationrole/{key}`): the
/// groups granting access, by name (`groups`) and with their ids (`groupDetails`). Admin only.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApplicationRole {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub key: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub groups: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub group_details: Vec<GroupName>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub default_groups: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub default_groups_details: Vec<GroupName>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub defined: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub selected_by_default: Option<bool>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub has_unlimited_seats: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub number_of_seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub remaining_seats: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub user_count: Option<i64>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub user_count_description: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub platform: Option<bool>,
}

/// A user (`User` / `UserDetails`): `/myself`, `/users/search`, `/group/member`, issue people.
/// `email_address` is absent when the profile hides it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "self",
        skip_serializing_if = "Option::is_none"
    )]
    pub self_url: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub account_id: String,
    /// `atlassian`, `app`, `customer` or `unknown`.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub account_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub email_address: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub avatar_urls: Option<AvatarUrls>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    /// IANA zone the user's JQL dates are read in, e.g. `Australia/Brisbane`.
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
}

/// Response of `POST /rest/api/3/changelog/bulkfetch`; `next_page_token` is absent on the last page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkChangelogResults {
    #[serde(default, deserialize_with = "lenient::items")]
    pub issue_change_logs: Vec<IssueChangeLog>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssueChangeLog {
    #[serde(default, deserialize_with = "lenient::id")]
    pub issue_id: String,
    #[serde(default, deserialize_with = "lenient::items")]
    pub change_histories: Vec<Changelog>,
}

/// One change of an issue: who, when (a Jira time stamp, or epoch seconds in the spec's example), what.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Changelog {
    #[serde(default, deserialize_with = "lenient::id")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub author: Option<User>,
    #[serde(default, deserialize_with = "lenient::opt_text", skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub items: Vec<ChangeItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangeItem {
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "fieldtype",
        skip_serializing_if = "Option::is_none"
    )]
    pub field_type: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "fromString",
        skip_serializing_if = "Option::is_none"
    )]
    pub from_text: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(
        default,
        deserialize_with = "lenient::or_default",
        rename = "toString",
        skip_serializing_if = "Option::is_none"
    )]
    pub to_text: Option<String>,
}

/// Response of `POST /rest/api/3/permissions/check`: which of the asked projects and issues the user may
/// access, per permission.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkPermissionGrants {
    #[serde(default, deserialize_with = "lenient::items")]
    pub global_permissions: Vec<String>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub project_permissions: Vec<BulkProjectPermissionGrants>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BulkProjectPermissionGrants {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub permission: String,
    #[serde(default, deserialize_with = "lenient::items")]
    pub issues: Vec<u64>,
    #[serde(default, deserialize_with = "lenient::items")]
    pub projects: Vec<u64>,
}

/// One entry of `GET /rest/api/3/field`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDetails {
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub id: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub key: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub name: String,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub custom: bool,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub orderable: bool,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub navigable: bool,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub searchable: bool,
    #[serde(default, deserialize_with = "lenient::items")]
    pub clause_names: Vec<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub schema: Option<JsonTypeBean>,
}

/// A field's type (`JsonTypeBean`): `system` names a built-in field, `custom`/`customId` a custom one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonTypeBean {
    #[serde(rename = "type", default, deserialize_with = "lenient::or_default")]
    pub kind: String,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub items: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub system: Option<String>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub custom: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_id_number", skip_serializing_if = "Option::is_none")]
    pub custom_id: Option<u64>,
}

/// Jira's error body: `{"errorMessages": [...], "errors": {field: message}, "status": n}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorCollection {
    #[serde(default, deserialize_with = "lenient::items")]
    pub error_messages: Vec<String>,
    #[serde(default, deserialize_with = "lenient::or_default")]
    pub errors: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "lenient::opt_int", skip_serializing_if = "Option::is_none")]
    pub status: Option<i32>,
}

/// The shared field readers, and the one only Jira needs.
mod lenient {
    pub use super::super::lenient::*;

    use serde::de::{DeserializeOwned, Deserializer, Error};
    use serde::Deserialize;
    use serde_json::Value;

    use super::{Comment, CommentField};

    /// `fields.comment`: the page object real sites send, or a bare array of comments (each item read
    /// leniently); anything else is absent.
    pub fn comment_field<'de, D: Deserializer<'de>>(d: D) -> Result<Option<CommentField>, D::Error> {
        fn parse<T: DeserializeOwned, E: Error>(v: Value) -> Result<T, E> {
            serde_json::from_value(v).map_err(E::custom)
        }
        Ok(match Value::deserialize(d)? {
            Value::Array(items) => {
                let comments: Vec<Comment> =
                    items.into_iter().map(|v| parse::<Comment, D::Error>(v).unwrap_or_default()).collect();
                Some(CommentField { total: Some(comments.len() as u64), comments, ..Default::default() })
            }
            object @ Value::Object(_) => parse::<CommentField, D::Error>(object).ok(),
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn ids_read_from_strings_and_numbers() {
        let cases = [
            (json!({"id": "10", "issueSecurityLevelId": 20}), ("10", "20")),
            (json!({"id": 10, "issueSecurityLevelId": "20"}), ("10", "20")),
            (json!({"id": null, "issueSecurityLevelId": "20"}), ("", "20")),
        ];
        for (input, (id, level)) in cases {
            let m: SecurityLevelMember = serde_json::from_value(input.clone()).expect("parses");
            assert_eq!((m.id.as_str(), m.issue_security_level_id.as_str()), (id, level), "{input}");
        }
        let grant: PermissionGrant =
            serde_json::from_value(json!({"id": "42", "permission": "X"})).expect("parses");
        assert_eq!(grant.id, 42);
        // An id that is no number reads as the "none" id rather than failing the grant (or its scheme).
        for odd in [json!("x42"), json!(-1), json!(null), json!({"id": 1})] {
            let grant: PermissionGrant =
                serde_json::from_value(json!({"id": odd, "permission": "BROWSE_PROJECTS"})).expect("parses");
            assert_eq!((grant.id, grant.permission.as_str()), (0, "BROWSE_PROJECTS"), "{odd}");
        }
    }

    #[test]
    fn double_option_tells_absent_from_null() {
        let absent: IssueFields = serde_json::from_value(json!({})).expect("parses");
        let null: IssueFields = serde_json::from_value(json!({"assignee": null})).expect("parses");
        let set: IssueFields =
            serde_json::from_value(json!({"assignee": {"accountId": "a"}})).expect("parses");
        assert_eq!(absent.assignee, None);
        assert_eq!(null.assignee, Some(None));
        assert_eq!(set.assignee.flatten().map(|u| u.account_id), Some("a".to_string()));
        assert_eq!(serde_json::to_value(&null).expect("serialises"), json!({"assignee": null}));
        assert_eq!(serde_json::to_value(&absent).expect("serialises"), json!({}));
    }

    #[test]
    fn comment_field_reads_object_and_array() {
        let object =
            json!({"comment": {"comments": [{"id": "1"}], "total": 5, "maxResults": 20, "startAt": 0}});
        let array = json!({"comment": [{"id": 1}, {"id": "2"}]});
        let a: IssueFields = serde_json::from_value(object).expect("parses");
        let b: IssueFields = serde_json::from_value(array).expect("parses");
        let a = a.comment.expect("present");
        let b = b.comment.expect("present");
        assert_eq!((a.comments.len(), a.total), (1, Some(5)));
        assert_eq!(b.comments.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), ["1", "2"]);
    }

    #[test]
    fn unknown_fields_are_kept_in_other() {
        let f: IssueFields = serde_json::from_value(
            json!({"summary": "s", "customfield_10010": {"type": "doc"}, "updated": 1}),
        )
        .expect("parses");
        assert_eq!(f.summary.as_deref(), Some("s"));
        assert_eq!(f.updated.as_deref(), Some("1"));
        assert_eq!(f.other.get("customfield_10010"), Some(&json!({"type": "doc"})));
    }

    #[test]
    fn type_enums_round_trip_and_keep_unknowns() {
        for (text, kind) in [
            ("group", HolderType::Group),
            ("projectRole", HolderType::ProjectRole),
            ("sd.customer.portal.only", HolderType::CustomerPortalOnly),
            ("someHolderNotYetKnown", HolderType::Other("someHolderNotYetKnown".into())),
        ] {
            let h: PermissionHolder = serde_json::from_value(json!({"type": text})).expect("parses");
            assert_eq!(h.kind, kind);
            assert_eq!(serde_json::to_value(&h).expect("serialises"), json!({"type": text}));
        }
        let h: PermissionHolder = serde_json::from_value(json!({"type": "projectrole"})).expect("parses");
        assert_eq!(h.kind, HolderType::ProjectRole);
        let v: Visibility = serde_json::from_value(json!({"type": "team", "value": "x"})).expect("parses");
        assert_eq!(v.kind, VisibilityType::Other("team".into()));
    }

    #[test]
    fn jira_times_parse_in_both_formats() {
        let cases = [
            ("2021-02-26T01:45:03.821+0000", Some(1_614_303_903_821)),
            ("2021-02-26T11:45:03.821+1000", Some(1_614_303_903_821)),
            ("2021-02-26T01:45:03.821Z", Some(1_614_303_903_821)),
            ("yesterday", None),
        ];
        for (text, ms) in cases {
            assert_eq!(parse_jira_time(text).map(|t| t.timestamp_millis()), ms, "{text}");
        }
    }

    #[test]
    fn role_ids_come_from_urls() {
        assert_eq!(
            role_id_from_url("https://x.atlassian.net/rest/api/3/project/MKY/role/10360"),
            Some(10360)
        );
        assert_eq!(role_id_from_url("https://x/role/"), None);
    }
}
