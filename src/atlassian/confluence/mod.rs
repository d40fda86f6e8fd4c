//! The Confluence crawler: reads a Confluence Cloud site (or the simulator) through the shared
//! [`Client`] and hands back the [`model`](super::model) types, never wire types.
//!
//! What comes from where, one file per topic:
//! - `spaces.rs` — spaces and who may view them: v2 `/spaces`, `/spaces/{id}/permissions` (only `read` on
//!   `space` counts) and, on sites with role-based access, `/space-role-mode`, `/space-roles` and
//!   `/spaces/{id}/role-assignments`;
//! - `content.rs` — pages and blog posts with storage bodies: v2 `/pages`, `/blogposts` (≤ 100 space ids
//!   per call), their labels;
//! - `access.rs` — ancestors and read restrictions of many items per call: v1 CQL content search with
//!   `expand=ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group`;
//! - `comments.rs` — footer and inline comments: v2 `/footer-comments`, `/inline-comments` (the whole
//!   site) or per page or blog post with each thread's `children`;
//! - `attachments.rs` — attachments of the whole site (v2 `/attachments`) and their bytes (v1
//!   `/content/{id}/child/attachment/{attId}/download`: the `downloadLink` refuses API tokens);
//! - `directory.rs` — users and groups: v1 `/group` and `membersByGroupId`, v2 `POST /users-bulk`.
//!
//! This file holds the crawler itself and what every topic shares: limits, URLs, cursors, times.
//!
//! Listings that the engine walks page by page (`contents`, `access`, `comments`, `inline_comments`,
//! `attachments`) return one [`Page`] per call with an opaque cursor that can be stored and passed back.
//! A listing call that fails is an error: the engine records it, a listing never ends early in silence.
//! What fails for one item only (its restriction, its ancestors) makes that item's access unknown
//! (`restriction: None`, readable by nobody), never public.
//!
//! Deliberately absent: whiteboards, databases and folders as content, and CQL `lastmodified` queries:
//! the sync engine finds changes by comparing the versions the access listing carries, which needs no
//! time zone.

use chrono::{DateTime, Utc};

use super::client::Client;
use super::model::ContentKind;
use super::paginate::{CursorAnomaly, CursorPage, CursorPager};
use super::path::segment;
use super::wire::confluence::{v1, v2};
use super::{Error, Page};

mod access;
mod attachments;
mod comments;
mod content;
mod directory;
mod spaces;

pub use spaces::{SpacesRead, UnreadableSpace};

/// For the wire variance test, which reads fixtures as the crawler does.
#[cfg(test)]
pub(super) use access::{expanded_restriction, Expansion};
#[cfg(test)]
pub(super) use spaces::{role_holder, subject_of};

/// Items per page of v2 listings: the documented maximum.
const V2_LIMIT: u32 = 250;
/// Space ids per v2 content listing call (`space-id` takes at most 100).
const SPACE_IDS_PER_CALL: usize = 100;
/// Space keys per CQL query, keeping the URL well under common length limits.
pub const SPACE_KEYS_PER_QUERY: usize = 100;
/// Results asked for per CQL content search page. The spec sets no maximum except 25 for the
/// `body.export_view`/`body.styled_view` expansions, which this crawler never asks for; Atlassian's own
/// figure for searches with other expansions is 200. A site that serves fewer per page costs more pages,
/// never items: the walk follows `next` links and never takes a short page for the last one.
const SEARCH_LIMIT: u32 = 200;
/// Users and groups per page of a restriction.
const RESTRICTION_LIMIT: u32 = 100;
/// Groups and members per v1 group listing page.
const GROUP_LIMIT: u32 = 200;
/// Account ids per `POST /users-bulk`.
const USERS_PER_BULK: usize = 250;
/// Restriction pages read for one item before giving up on it (at 100 per page: 100 000 principals).
const MAX_RESTRICTION_PAGES: u32 = 1_000;
/// Ancestor calls for one page before giving up (at 250 per call: a tree 25 000 levels deep).
const MAX_ANCESTOR_CALLS: u32 = 100;

/// The Confluence crawler of one site. Its methods take `&self`, so several tasks can call it at once.
#[derive(Debug)]
pub struct Confluence {
    client: Client,
}

impl Confluence {
    pub fn new(client: Client) -> Self {
        Confluence { client }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// An absolute web URL from a `webui` path (relative to `/wiki`), or the path itself when it is
    /// already absolute.
    fn web_url(&self, webui: &str) -> String {
        if webui.starts_with("http://") || webui.starts_with("https://") {
            return webui.to_owned();
        }
        let base = self.client.base_url().as_str().trim_end_matches('/');
        format!("{base}/wiki{webui}")
    }

    fn content_url(&self, webui: Option<&str>, id: &str) -> String {
        match webui {
            Some(webui) => self.web_url(webui),
            None => self.web_url(&format!("/pages/viewpage.action?pageId={}", segment(id))),
        }
    }
}

/// Whether a single get's status is one of content that still exists for search: current or archived
/// (or missing, as a `null` from a real site). Trashed, deleted, draft and historical content is gone.
fn is_live(status: &str) -> bool {
    matches!(status, "current" | "archived" | "")
}

/// The listing segment of a content kind.
fn collection(kind: ContentKind) -> &'static str {
    match kind {
        ContentKind::Page => "pages",
        ContentKind::BlogPost => "blogposts",
    }
}

fn content_kind(kind: &str) -> Option<ContentKind> {
    match kind {
        "page" => Some(ContentKind::Page),
        "blogpost" => Some(ContentKind::BlogPost),
        _ => None,
    }
}

/// Whether a value can be an id: not empty, and not a sentinel such as `-1` that stands for "none".
fn is_id(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && !value.starts_with('-') && value != "null"
}

fn account_of(user: &v1::User) -> Option<String> {
    user.account_id.clone().filter(|a| is_id(a))
}

fn storage_of(body: Option<&v2::Body>) -> String {
    body.and_then(|b| b.storage.as_ref()).map(|s| s.value.clone()).unwrap_or_default()
}

/// Whether a page of `len` results, of a listing that pages by `limit`, may have a successor.
fn is_full(len: usize, limit: Option<u32>) -> bool {
    len > 0 && len as u64 >= u64::from(limit.unwrap_or(RESTRICTION_LIMIT))
}

/// `GET /content/search` for `cql` with `expand`, over current (and archived) content.
fn search_path(cql: &str, expand: &str, include_archived: bool) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("cql", cql);
    if include_archived {
        query.append_pair("cqlcontext", r#"{"contentStatuses":["current","archived"]}"#);
    }
    query.append_pair("expand", expand);
    query.append_pair("limit", &SEARCH_LIMIT.to_string());
    format!("/wiki/rest/api/content/search?{}", query.finish())
}

/// Values (space keys, ids) as a CQL list: each quoted, quotes and backslashes escaped.
fn cql_list(values: &[impl AsRef<str>]) -> String {
    values
        .iter()
        .map(|v| format!("\"{}\"", v.as_ref().replace('\\', "\\\\").replace('"', "\\\"")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Numeric ids in numeric order, others after them in string order.
fn id_order(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(x), Ok(y)) => x.cmp(&y),
        _ => a.cmp(b),
    }
}

fn malformed(path: &str, reason: &str) -> Error {
    Error::Malformed {
        path: path.split('?').next().unwrap_or(path).to_owned(),
        reason: reason.to_owned(),
        attempts: 1,
    }
}

fn not_found_as_none<T>(result: Result<T, Error>) -> Result<Option<T>, Error> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(e) if e.status() == Some(404) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A time as Confluence writes it: RFC 3339 (`2024-01-03T09:41:23.123Z`) or Atlassian's offset without
/// a colon (`2024-01-03T09:41:23.123+0000`). Anything else is `None`.
fn parse_time(raw: &str) -> Option<DateTime<Utc>> {
    let raw = raw.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(raw) {
        return Some(t.with_timezone(&Utc));
    }
    ["%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z"]
        .iter()
        .find_map(|f| DateTime::parse_from_str(raw, f).ok())
        .map(|t| t.with_timezone(&Utc))
}

/// Walks a cursor listing to its end. A next link that repeats is an error: the items after it would be
/// missing. An empty page that still links on is how some listings end.
async fn collect_cursor<P: CursorPage>(client: &Client, first: String) -> Result<Vec<P::Item>, Error> {
    let path = first.split('?').next().unwrap_or(&first).to_owned();
    let (items, anomaly) = CursorPager::<P>::new(first).collect_all(client).await?;
    match anomaly {
        Some(CursorAnomaly::RepeatedNext { pages, .. }) => Err(Error::RepeatedPageToken { path, pages }),
        Some(CursorAnomaly::EmptyPageWithNext { .. }) | None => Ok(items),
    }
}

/// One page of a listing made of several queries run one after the other (one per chunk of spaces),
/// `firsts` being each query's first page. The cursor says which query and which link within it:
/// `{chunk}:{link}`, the link empty at the start of a query.
async fn chunked_page<P: CursorPage>(
    client: &Client,
    firsts: &[String],
    cursor: Option<&str>,
) -> Result<Page<P::Item>, Error> {
    let (chunk, link) = match cursor {
        None => (0, None),
        Some(raw) => decode_cursor(raw)?,
    };
    let Some(first) = firsts.get(chunk) else { return Ok(Page { items: Vec::new(), next: None }) };
    let target = link.unwrap_or_else(|| first.clone());
    let page = client.get_json_page::<P>(&target).await?;
    let (items, body_next) = page.value.into_parts();
    let next = body_next.or(page.link_next);
    let within = match next {
        Some(next) if next == target => {
            let path = target.split('?').next().unwrap_or(&target).to_owned();
            return Err(Error::RepeatedPageToken { path, pages: 1 });
        }
        // An empty page that links on ends the query (Confluence does this at the end of some listings).
        Some(_) if items.is_empty() => None,
        other => other,
    };
    let next = match within {
        Some(link) => Some(format!("{chunk}:{link}")),
        None if chunk + 1 < firsts.len() => Some(format!("{}:", chunk + 1)),
        None => None,
    };
    Ok(Page { items, next })
}

fn decode_cursor(raw: &str) -> Result<(usize, Option<String>), Error> {
    let bad =
        || Error::InvalidRequest { path: "cursor".into(), reason: "not a cursor this crawler made".into() };
    let (chunk, link) = raw.split_once(':').ok_or_else(bad)?;
    let chunk = chunk.parse().map_err(|_| bad())?;
    Ok((chunk, (!link.is_empty()).then(|| link.to_owned())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn times_parse_in_both_atlassian_forms() {
        let expected = Utc
            .with_ymd_and_hms(2021, 2, 26, 1, 45, 3)
            .single()
            .map(|t| t + chrono::Duration::milliseconds(821));
        let cases = [
            ("2021-02-26T01:45:03.821Z", expected),
            ("2021-02-26T11:45:03.821+10:00", expected),
            ("2021-02-26T01:45:03.821+0000", expected),
            ("2021-02-26T11:45:03.821+1000", expected),
            ("2021-02-26T01:45:03Z", expected.map(|t| t - chrono::Duration::milliseconds(821))),
            ("yesterday", None),
            ("", None),
        ];
        for (raw, want) in cases {
            assert_eq!(parse_time(raw), want, "{raw}");
        }
    }

    #[test]
    fn cursors_round_trip_and_strangers_are_refused() {
        assert_eq!(
            decode_cursor("0:/wiki/api/v2/pages?cursor=a:b").ok(),
            Some((0, Some("/wiki/api/v2/pages?cursor=a:b".into())))
        );
        assert_eq!(decode_cursor("3:").ok(), Some((3, None)));
        assert!(decode_cursor("/wiki/api/v2/pages").is_err());
        assert!(decode_cursor("x:/wiki").is_err());
    }

    #[test]
    fn cql_lists_quote_keys() {
        assert_eq!(cql_list(&["ENG", "~a:b", "q\"x"]), r#""ENG", "~a:b", "q\"x""#);
    }
}
