//! `GET /api/v1/documents/{source}/{id}`: one document's indexed text, as the caller may read it, for the
//! search page's preview.
//!
//! The document is read through the [`SearchIndex`](super::SearchIndex), which applies the same permission check as a search
//! (the caller's principals in that source, the same allowed set). A document the caller may not read, one
//! that does not exist, one in a source that does not know the caller or whose documents are withheld, and
//! an unknown source all get the same 404 with the same message: the answer never tells whether something
//! exists that the caller cannot see.
//!
//! The text is the indexed text, cut at a word boundary after [`PREVIEW_CHARS`] characters (an attachment's
//! text may run to megabytes); `text_truncated` says so.

use axum::extract::{Path, State};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::error::ApiError;
use super::search::GlanceBody;
use super::AppState;

/// Longest text a preview carries, in characters.
pub const PREVIEW_CHARS: usize = 50_000;

/// The JSON answer: a document's fields and its indexed text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocumentBody {
    /// The configured source (site) the document comes from.
    pub source: String,
    pub id: String,
    /// The product: `confluence` or `jira`.
    pub product: String,
    pub kind: String,
    pub title: String,
    /// The indexed text (plain text), at most [`PREVIEW_CHARS`] characters.
    pub text: String,
    /// Whether the text goes on past what is given.
    pub text_truncated: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    /// The id of what the document sits in (a parent page, the issue of a comment).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The container's title, when the caller may read the container.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container_title: Option<String>,
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Space name and breadcrumb, or the key, type, status and assignee.
    #[serde(flatten)]
    pub glance: GlanceBody,
    /// The document on the Atlassian site.
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
}

/// `GET /api/v1/documents/{source}/{id}`.
pub async fn document(
    State(state): State<AppState>,
    caller: Caller,
    Path((source, id)): Path<(String, String)>,
) -> Result<Json<DocumentBody>, ApiError> {
    // As for a search: a source's removal is answered only after this answer is made.
    let _answering = state.answering.read().await;
    let index = state.index.clone();
    let (wanted_source, wanted_id) = (source.clone(), id.clone());
    let found = tokio::task::spawn_blocking(move || index.document(&caller, &wanted_source, &wanted_id))
        .await
        .map_err(|e| ApiError::Internal(format!("document task failed: {e}")))??;
    found.map(Json).ok_or_else(|| {
        ApiError::NotFound(format!("no document {id:?} in source {source:?} that you may read"))
    })
}
