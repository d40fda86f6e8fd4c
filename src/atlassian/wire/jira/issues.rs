//! A Jira issue: `IssueBean` and its `fields` (type, status, priority, people, security level, comments,
//! attachments, custom fields kept as sent), an attachment's metadata, an issue's change log, and the
//! site's field list (`GET /field`).
//!
//! Not here: the requests and pages that carry issues (`search.rs`), comments beyond the embedded first
//! page (`comments.rs`). See the parent module for the rules every type keeps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{lenient, CommentField, Project, SecurityLevel, User};

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
    /// `2021-02-26T01:45:03.821+0000`; see [`parse_jira_time`](super::parse_jira_time).
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
