//! Jira comments: a comment and its `visibility` (the group or project role it is restricted to), the
//! page of an issue's comments (`GET /issue/{key}/comment`), the page embedded in `fields.comment`, and
//! the body of `POST /comment/list`.
//!
//! What a visibility means for who may read is the crawler's business. See the parent module for the rules
//! every type keeps.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{lenient, User};

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
/// The answer is a [`PageBean`](super::PageBean) of the [`Comment`]s that exist and can be seen.
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
