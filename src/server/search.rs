//! `GET /api/v1/search`: the search API, its query parameters, its JSON, and the [`SearchIndex`] it runs on.
//!
//! Parameters (all optional): `q` (query language of `crate::search`), `source` (a configured source's
//! name, as in hits), `product` (`confluence` or `jira`, as in hits and facets), `kind`, `space`,
//! `project`, `label` (each repeatable; values of one parameter are alternatives), `updated_from` and `updated_to` (RFC 3339 or `YYYY-MM-DD`), `sort`
//! (`relevance` | `updated`), `offset` and `limit`, or `cursor` and `limit` (`limit` 1..=100, default 20),
//! `facets` and `snippets` (`true` | `false`). An unknown parameter is a 400, so a typo never silently
//! widens a search. Cursors page across every source searched; offsets are bounded by the work they cause
//! (see `crate::search::sources`).
//!
//! The types here are the API's wire types: the index backend converts them to and from the search library's
//! types, so the library can change without changing the API. The search itself is blocking work and runs
//! on the blocking pool.
//!
//! This file does not filter by permission; the [`SearchIndex`] does, for the [`Caller`] it is given.

use std::collections::BTreeMap;

use axum::extract::{RawQuery, State};
use axum::Json;
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::auth::Caller;
use super::document::DocumentBody;
use super::error::{ApiError, BackendError};
use super::AppState;
use crate::config::{Config, Source};

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 100;

/// A validated search request.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SearchQuery {
    pub q: String,
    /// Configured sources (sites) by name; none means every source the caller is known in.
    pub sources: Vec<String>,
    /// Products: `confluence`, `jira`.
    pub products: Vec<String>,
    pub kinds: Vec<String>,
    pub spaces: Vec<String>,
    pub projects: Vec<String>,
    pub labels: Vec<String>,
    pub updated_from: Option<DateTime<Utc>>,
    pub updated_to: Option<DateTime<Utc>>,
    pub sort: SortOrder,
    pub page: Page,
    pub facets: bool,
    pub snippets: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Relevance,
    /// Newest first.
    Updated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Offset { offset: usize, limit: usize },
    Cursor { cursor: String, limit: usize },
}

impl Default for Page {
    fn default() -> Self {
        Page::Offset { offset: 0, limit: DEFAULT_LIMIT }
    }
}

/// The JSON answer of a search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SearchResults {
    /// Matching documents the caller may read (exact).
    pub total: u64,
    pub hits: Vec<HitBody>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub facets: Option<FacetsBody>,
    /// Pass as `cursor` for the next page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
    /// Sources the caller is known in whose documents are not served now, and why (e.g. permissions older
    /// than the source's `max_permission_age`). Absent when every such source was searched.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub withheld: Vec<Withheld>,
}

/// A source left out of a search, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Withheld {
    pub source: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HitBody {
    /// The configured source (site) the document comes from; ids are unique within one source.
    pub source: String,
    pub id: String,
    /// The product: `confluence` or `jira`.
    pub product: String,
    pub kind: String,
    pub title: String,
    /// The title, HTML-escaped, with matches in `<mark>`.
    pub title_html: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub snippet_html: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub project: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author_name: Option<String>,
    /// Space name and breadcrumb, or the issue's key, type, status and assignee.
    #[serde(flatten)]
    pub glance: GlanceBody,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    pub score: f32,
}

/// What a result line shows at a glance besides title, author and labels: where a Confluence document sits,
/// and the state of a Jira issue. Part of hits and of documents.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GlanceBody {
    /// Confluence: the space's name (`space` is its key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_name: Option<String>,
    /// Confluence: the pages above the document (for a comment or attachment, up to and including the page
    /// it belongs to), root first; only those the caller may read are listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub breadcrumb: Vec<CrumbBody>,
    /// Jira: the issue's key (for a comment or attachment, its issue's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_key: Option<String>,
    /// Jira issues: the issue type as the site names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issue_type: Option<String>,
    /// Jira issues: the status as the site names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Jira issues: the status's category, `new` (to do), `indeterminate` (in progress) or `done`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status_category: Option<String>,
    /// Jira issues: the assignee's display name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee_name: Option<String>,
    /// Jira issues: true when the issue is assigned to nobody.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub unassigned: bool,
}

/// A document above another, which the caller may read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrumbBody {
    pub id: String,
    pub title: String,
}

/// Counts over the caller-visible matches, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct FacetsBody {
    /// Per configured source (site) searched.
    #[serde(default)]
    pub source: Vec<FacetCount>,
    pub product: Vec<FacetCount>,
    pub kind: Vec<FacetCount>,
    pub space: Vec<FacetCount>,
    pub project: Vec<FacetCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FacetCount {
    pub value: String,
    pub count: u64,
}

/// Why a search failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchFailure {
    /// The query does not parse: said to the caller as is.
    BadQuery(String),
    /// A request the index cannot answer (an unknown cursor, a source filter naming no source).
    BadRequest(String),
    /// Something failed in the index; logged, never shown.
    Internal(String),
}

impl From<SearchFailure> for ApiError {
    fn from(failure: SearchFailure) -> Self {
        match failure {
            SearchFailure::BadQuery(message) => ApiError::BadQuery(message),
            SearchFailure::BadRequest(message) => ApiError::BadRequest(message),
            SearchFailure::Internal(detail) => ApiError::Internal(detail),
        }
    }
}

/// Whether the index can answer searches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readiness {
    Ready,
    /// Why not, for `/readyz` (e.g. an index not opened yet, an ACL store that failed its check).
    NotReady(String),
}

/// What the server serves of one source now: for `/readyz`, `/metrics` and the admin API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServedSource {
    pub name: String,
    /// The index commit searches see; 0 before the first.
    pub generation: u64,
    /// When the permissions of that commit were last read in full (directory and every permission
    /// source); absent when never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_refreshed: Option<DateTime<Utc>>,
    /// The source's `max_permission_age` in seconds; absent when it never withholds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_permission_age_secs: Option<u64>,
    /// Why the source's documents are not served now; absent when they are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub withheld: Option<String>,
    /// What the served commit holds now, whoever made it.
    pub indexed: IndexedCounts,
}

/// Documents an index commit holds, whoever may read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IndexedCounts {
    pub total: u64,
    /// Per product and kind, e.g. `confluence:page`; kinds with none are absent.
    pub by_kind: std::collections::BTreeMap<String, u64>,
    /// Documents nobody may read because their permissions could not be read.
    pub unreadable: u64,
}

/// Counters the index keeps about its ACL cache, for `/metrics`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AclCacheStats {
    pub hits: u64,
    pub misses: u64,
}

/// The indexes behind the search API. Every method that touches an index blocks; the server calls them
/// on the blocking pool.
pub trait SearchIndex: Send + Sync {
    /// Searches as `caller`: only documents the caller may read count, in results, total and facets.
    fn search(&self, caller: &Caller, query: &SearchQuery) -> Result<SearchResults, SearchFailure>;
    /// The document `id` of `source` as `caller` may read it, through the same permission check as a
    /// search; `None` alike when it does not exist, when the caller may not read it, and when the source
    /// is unknown, does not know the caller or is withheld.
    fn document(
        &self,
        caller: &Caller,
        source: &str,
        id: &str,
    ) -> Result<Option<DocumentBody>, SearchFailure>;
    fn readiness(&self) -> Readiness;
    /// The sources whose last commit cannot be trusted (they serve nothing until a sync rebuilds them),
    /// with why, in words that name no path.
    fn source_problems(&self) -> BTreeMap<String, String>;
    /// Picks up the latest commit of `source`'s index (and its directory), without disturbing searches in
    /// flight.
    fn reload(&self, source: &str) -> Result<(), BackendError>;
    fn acl_cache(&self) -> AclCacheStats;
    /// What is served of each source now (none for an index that serves no configured sources).
    fn served(&self) -> Vec<ServedSource> {
        Vec::new()
    }
    /// Serves `source`, just written to `config` (the configuration file read again), from now on
    /// (blocking): searched once its index has a commit. An index that serves a fixed set of sources
    /// says so, and the source waits for a restart.
    fn add_source(&self, _config: &Config, source: &Source) -> Result<(), BackendError> {
        Err(BackendError::NotAdded(format!("this server cannot serve {} until it restarts", source.name())))
    }
    /// Stops serving `name`, removed from the configuration: no search that starts from now on sees any
    /// of its documents (those in flight finish as they started). Nothing to do for a name not served.
    fn remove_source(&self, name: &str);
}

/// `GET /api/v1/search`.
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    RawQuery(raw): RawQuery,
) -> Result<Json<SearchResults>, ApiError> {
    let query = parse_query(raw.as_deref().unwrap_or(""))?;
    // Held until the answer is made: a source's removal is answered only after searches that may have
    // seen it have been.
    let _answering = state.answering.read().await;
    let index = state.index.clone();
    let results = tokio::task::spawn_blocking(move || index.search(&caller, &query))
        .await
        .map_err(|e| ApiError::Internal(format!("search task failed: {e}")))??;
    Ok(Json(results))
}

/// Parses and checks the query string.
pub fn parse_query(raw: &str) -> Result<SearchQuery, ApiError> {
    fn bad<T>(message: String) -> Result<T, ApiError> {
        Err(ApiError::BadRequest(message))
    }
    let mut query = SearchQuery::default();
    let (mut offset, mut limit, mut cursor) = (None, None, None);
    let mut seen_single = std::collections::BTreeSet::new();
    for (name, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        let value = value.into_owned();
        let repeatable =
            matches!(name.as_ref(), "source" | "product" | "kind" | "space" | "project" | "label");
        if !repeatable && !seen_single.insert(name.to_string()) {
            return bad(format!("parameter {name} given twice"));
        }
        match name.as_ref() {
            "q" => query.q = value,
            "source" => query.sources.push(value),
            "product" => query.products.push(value),
            "kind" => query.kinds.push(value),
            "space" => query.spaces.push(value),
            "project" => query.projects.push(value),
            "label" => query.labels.push(value),
            "updated_from" => query.updated_from = Some(parse_time("updated_from", &value, DayEdge::Start)?),
            "updated_to" => query.updated_to = Some(parse_time("updated_to", &value, DayEdge::End)?),
            "sort" => {
                query.sort = match value.as_str() {
                    "relevance" => SortOrder::Relevance,
                    "updated" => SortOrder::Updated,
                    _ => return bad(format!("sort must be relevance or updated, not {value:?}")),
                }
            }
            "offset" => {
                offset = Some(
                    value.parse::<usize>().or_else(|_| bad(format!("offset {value:?} is not a number")))?,
                )
            }
            "limit" => {
                let n =
                    value.parse::<usize>().or_else(|_| bad(format!("limit {value:?} is not a number")))?;
                if !(1..=MAX_LIMIT).contains(&n) {
                    return bad(format!("limit must be 1..={MAX_LIMIT}, not {n}"));
                }
                limit = Some(n);
            }
            "cursor" => cursor = Some(value),
            "facets" => query.facets = parse_flag("facets", &value)?,
            "snippets" => query.snippets = parse_flag("snippets", &value)?,
            other => return bad(format!("unknown parameter {other:?}")),
        }
    }
    if let (Some(from), Some(to)) = (query.updated_from, query.updated_to) {
        if from > to {
            return bad("updated_from is after updated_to".into());
        }
    }
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    query.page = match (offset, cursor) {
        (Some(_), Some(_)) => return bad("give offset or cursor, not both".into()),
        (_, Some(cursor)) => Page::Cursor { cursor, limit },
        (offset, None) => Page::Offset { offset: offset.unwrap_or(0), limit },
    };
    Ok(query)
}

fn parse_flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(ApiError::BadRequest(format!("{name} must be true or false, not {value:?}"))),
    }
}

/// Which end of a day a bare date stands for: `updated_to=2024-05-01` includes all of May 1st.
#[derive(Debug, Clone, Copy)]
enum DayEdge {
    Start,
    End,
}

fn parse_time(name: &str, value: &str, edge: DayEdge) -> Result<DateTime<Utc>, ApiError> {
    if let Ok(t) = DateTime::parse_from_rfc3339(value) {
        return Ok(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(value, "%Y-%m-%d").map_err(|_| {
        ApiError::BadRequest(format!("{name} {value:?} is not a date (YYYY-MM-DD) or an RFC 3339 time"))
    })?;
    let time = match edge {
        DayEdge::Start => day.and_hms_milli_opt(0, 0, 0, 0),
        DayEdge::End => day.and_hms_milli_opt(23, 59, 59, 999),
    };
    time.map(|t| t.and_utc()).ok_or_else(|| ApiError::BadRequest(format!("{name} {value:?} is out of range")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn good_queries() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let cases = [
            ("", SearchQuery::default()),
            (
                "q=%22release+notes%22+AND+-draft&label=a&label=b&source=acme&product=jira&sort=updated&limit=5&offset=10&facets=true",
                SearchQuery {
                    q: "\"release notes\" AND -draft".into(),
                    labels: vec!["a".into(), "b".into()],
                    sources: vec!["acme".into()],
                    products: vec!["jira".into()],
                    sort: SortOrder::Updated,
                    page: Page::Offset { offset: 10, limit: 5 },
                    facets: true,
                    ..SearchQuery::default()
                },
            ),
            (
                "cursor=abc&snippets=1&kind=page&kind=issue&space=ENG&project=OPS",
                SearchQuery {
                    kinds: vec!["page".into(), "issue".into()],
                    spaces: vec!["ENG".into()],
                    projects: vec!["OPS".into()],
                    page: Page::Cursor { cursor: "abc".into(), limit: DEFAULT_LIMIT },
                    snippets: true,
                    ..SearchQuery::default()
                },
            ),
            (
                "updated_from=2024-05-01&updated_to=2024-05-01",
                SearchQuery {
                    updated_from: Some(t("2024-05-01T00:00:00Z")),
                    updated_to: Some(t("2024-05-01T23:59:59.999Z")),
                    ..SearchQuery::default()
                },
            ),
            (
                "updated_from=2024-05-01T10:00:00%2B02:00",
                SearchQuery { updated_from: Some(t("2024-05-01T08:00:00Z")), ..SearchQuery::default() },
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(parse_query(raw).unwrap(), expected, "{raw}");
        }
    }

    #[test]
    fn bad_queries_say_what_is_wrong() {
        let cases = [
            ("limit=0", "limit must be"),
            ("limit=101", "limit must be"),
            ("limit=ten", "not a number"),
            ("offset=-1", "not a number"),
            ("offset=1&cursor=x", "not both"),
            ("sort=date", "sort must be"),
            ("facets=yes", "facets must be"),
            ("updated_from=yesterday", "not a date"),
            ("updated_from=2024-05-02&updated_to=2024-05-01", "after"),
            ("q=a&q=b", "given twice"),
            ("lables=x", "unknown parameter"),
        ];
        for (raw, fragment) in cases {
            match parse_query(raw) {
                Err(ApiError::BadRequest(message)) => assert!(message.contains(fragment), "{raw}: {message}"),
                other => panic!("{raw}: {other:?}"),
            }
        }
    }
}
