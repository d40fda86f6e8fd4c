//! Jira's bulk reads of issues: the bodies and answers of `POST /search/jql` (issues matching a JQL query,
//! token-paged), `POST /search/approximate-count`, `POST /issue/bulkfetch` (up to 100 issues by id) and
//! `POST /changelog/bulkfetch`.
//!
//! Envelopes only: the issues they carry are in `issues.rs`. See the parent module for the rules every
//! type keeps.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{lenient, IssueBean, IssueChangeLog};

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

/// Response of `POST /rest/api/3/changelog/bulkfetch`; `next_page_token` is absent on the last page.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BulkChangelogResults {
    #[serde(default, deserialize_with = "lenient::items")]
    pub issue_change_logs: Vec<IssueChangeLog>,
    #[serde(default, deserialize_with = "lenient::or_default", skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}
