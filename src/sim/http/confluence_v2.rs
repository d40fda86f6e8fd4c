//! The simulated Confluence REST v2 API (`/wiki/api/v2`): spaces, space permissions, pages, blog posts,
//! the page tree, footer comments (per container and site-wide), attachments (per container and
//! site-wide), labels and `POST /users-bulk`, over the [`Site`] model.
//!
//! Listings page with opaque cursors, give the next page both as `_links.next` (relative, starting with
//! `/wiki/api/v2/`, the request's own parameters plus `cursor`) and as a `Link: <…>; rel="next"` header, and
//! cap `limit` as Atlassian does. A listing never scans the whole site per page: it starts from the cursor
//! in an id-ordered map or index list and stops after `limit + 1` matches. Errors use v2's error body.
//!
//! Deliberately absent: anything a read-only crawler does not call (writes, inline comments, whiteboards,
//! folders, likes, operations), orders other than id order, and bodies in formats other than `storage`
//! (asking for `atlas_doc_format` or `view` gives an empty `body` object).
//!
//! The request helpers at the top (`Ctx`, `Params`, `Problem`) are shared with `confluence_v1.rs`.

use std::collections::{BTreeSet, HashMap};
use std::convert::Infallible;
use std::str::FromStr;

use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Serialize;

use super::common::{
    clamp_limit, confluence_time, cursor_page, decode_cursor, encode_cursor, error_response, with_next_link,
    BadCursor, Product,
};
use super::SimState;
use crate::atlassian::wire::confluence::v2;
use crate::sim::model::{
    Attachment, Comment, Content, ContentKind, Site, Space, SpaceKind, SpacePrincipal, Status,
};

/// Most items a v2 listing returns per page, whatever `limit` asks.
pub(super) const MAX_LIMIT: usize = 250;
/// Page size of v2 listings without `limit`.
pub(super) const DEFAULT_LIMIT: usize = 25;
/// Page size of attachment listings without `limit`.
const DEFAULT_ATTACHMENT_LIMIT: usize = 50;
/// Most account ids `POST /users-bulk` accepts.
const MAX_BULK_USERS: usize = 250;

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/wiki/api/v2/spaces", get(list_spaces))
        .route("/wiki/api/v2/spaces/{id}", get(get_space))
        .route("/wiki/api/v2/spaces/{id}/permissions", get(list_space_permissions))
        .route("/wiki/api/v2/spaces/{id}/pages", get(list_space_pages))
        .route("/wiki/api/v2/spaces/{id}/blogposts", get(list_space_blogposts))
        .route("/wiki/api/v2/pages", get(list_pages))
        .route("/wiki/api/v2/pages/{id}", get(get_page))
        .route("/wiki/api/v2/pages/{id}/ancestors", get(list_ancestors))
        .route("/wiki/api/v2/pages/{id}/children", get(list_children))
        .route("/wiki/api/v2/pages/{id}/direct-children", get(list_direct_children))
        .route("/wiki/api/v2/pages/{id}/footer-comments", get(list_page_comments))
        .route("/wiki/api/v2/pages/{id}/attachments", get(list_page_attachments))
        .route("/wiki/api/v2/pages/{id}/labels", get(list_page_labels))
        .route("/wiki/api/v2/blogposts", get(list_blogposts))
        .route("/wiki/api/v2/blogposts/{id}", get(get_blogpost))
        .route("/wiki/api/v2/blogposts/{id}/footer-comments", get(list_blogpost_comments))
        .route("/wiki/api/v2/blogposts/{id}/attachments", get(list_blogpost_attachments))
        .route("/wiki/api/v2/blogposts/{id}/labels", get(list_blogpost_labels))
        .route("/wiki/api/v2/footer-comments", get(list_all_comments))
        .route("/wiki/api/v2/footer-comments/{id}", get(get_comment))
        .route("/wiki/api/v2/footer-comments/{id}/children", get(list_comment_replies))
        .route("/wiki/api/v2/attachments", get(list_all_attachments))
        .route("/wiki/api/v2/attachments/{id}", get(get_attachment))
        .route("/wiki/api/v2/users-bulk", post(users_bulk))
}

// ---------------------------------------------------------------------------------------------------------
// Request helpers shared with v1.

/// A request failure, answered in the error shape of the API that raised it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub status: StatusCode,
    pub message: String,
}

impl Problem {
    pub fn bad_request(message: impl Into<String>) -> Self {
        Problem { status: StatusCode::BAD_REQUEST, message: message.into() }
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Problem { status: StatusCode::NOT_FOUND, message: message.into() }
    }
}

/// A [`Problem`] in v2's error body.
pub(super) struct V2Error(pub Problem);

impl From<Problem> for V2Error {
    fn from(p: Problem) -> Self {
        V2Error(p)
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        error_response(Product::ConfluenceV2, self.0.status, &self.0.message)
    }
}

pub(super) type Answer = Result<Response, V2Error>;

/// Query parameters in request order. Array parameters may be repeated (`status=a&status=b`) or
/// comma-separated (`status=a,b`); Atlassian accepts both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(super) struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Params { pairs }
    }

    /// The first value of `name`, if any.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, repeated or comma-separated, trimmed, empty ones dropped.
    pub fn list(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .flat_map(|(_, v)| v.split(','))
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// `name` parsed as a number; a value that does not parse is a 400.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, Problem> {
        match self.first(name) {
            None => Ok(None),
            Some(v) => {
                v.trim().parse().map(Some).map_err(|_| {
                    Problem::bad_request(format!("parameter {name} must be an integer, not {v:?}"))
                })
            }
        }
    }

    /// Every value of `name` parsed as an id.
    pub fn ids(&self, name: &str) -> Result<Vec<u64>, Problem> {
        self.list(name)
            .into_iter()
            .map(|v| {
                v.parse().map_err(|_| Problem::bad_request(format!("parameter {name} has a bad id {v:?}")))
            })
            .collect()
    }

    /// `limit`, defaulted and capped.
    pub fn limit(&self, default: usize, max: usize) -> Result<usize, Problem> {
        let requested: Option<i64> = self.number("limit")?;
        Ok(clamp_limit(requested.map(|n| n.max(1) as usize), default, max))
    }

    /// `path` with these parameters minus the ones named in `drop`, then `extra` appended, URL-encoded.
    pub fn link(&self, path: &str, drop: &[&str], extra: &[(&str, &str)]) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.pairs {
            if !drop.contains(&k.as_str()) {
                query.append_pair(k, v);
            }
        }
        for (k, v) in extra {
            query.append_pair(k, v);
        }
        let query = query.finish();
        if query.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{query}")
        }
    }
}

/// What every handler needs to know about its request besides the model: the parameters, the path and
/// where the site lives (for `_links.base` and redirects).
#[derive(Debug, Clone)]
pub(super) struct Ctx {
    pub params: Params,
    pub path: String,
    /// `http://host:port`, from the `Host` header.
    pub origin: String,
}

impl Ctx {
    /// `_links.base`: the site's Confluence root.
    pub fn base(&self) -> String {
        format!("{}/wiki", self.origin)
    }

    /// This request again with another cursor: the `next` link of a v2 listing.
    fn next_link(&self, cursor: &str) -> String {
        self.params.link(&self.path, &["cursor"], &[("cursor", cursor)])
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        let host = parts.headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("localhost");
        Ok(Ctx {
            params: Params::parse(parts.uri.query()),
            path: parts.uri.path().to_string(),
            origin: format!("http://{host}"),
        })
    }
}

/// A path id as v2 spells it (an int64); anything else is a 400.
pub(super) fn path_id(raw: &str) -> Result<u64, Problem> {
    raw.parse().map_err(|_| Problem::bad_request(format!("id {raw:?} is not a valid content id")))
}

/// The cursor's "after" id, or `None` for the first page. A cursor we did not make is a 400.
pub(super) fn cursor_after(params: &Params) -> Result<Option<u64>, Problem> {
    match params.first("cursor") {
        None | Some("") => Ok(None),
        Some(c) => {
            decode_cursor(c).map(Some).ok_or_else(|| Problem::bad_request(format!("invalid cursor {c:?}")))
        }
    }
}

/// Takes one page of ascending ids from `candidates` (which already start after the cursor): the ids to
/// serve and the cursor of the next page, present only if another match exists.
pub(super) fn take_page(
    mut candidates: impl Iterator<Item = u64>,
    limit: usize,
) -> (Vec<u64>, Option<String>) {
    let page: Vec<u64> = candidates.by_ref().take(limit).collect();
    let next = match (page.last(), candidates.next()) {
        (Some(&last), Some(_)) => Some(encode_cursor(last)),
        _ => None,
    };
    (page, next)
}

/// A v2 listing response: `results`, `_links` and the `Link` header.
pub(super) fn listing<T: Serialize>(ctx: &Ctx, results: Vec<T>, next_cursor: Option<String>) -> Response {
    let next = next_cursor.map(|c| ctx.next_link(&c));
    let body = v2::MultiEntityResult {
        results,
        links: v2::MultiEntityLinks { next: next.clone(), base: Some(ctx.base()) },
    };
    with_next_link(Json(body).into_response(), next.as_deref())
}

/// Rejects `sort` values other than the ones this listing serves (in id order).
pub(super) fn check_sort(params: &Params, served: &[&str]) -> Result<(), Problem> {
    match params.first("sort") {
        None => Ok(()),
        Some(s) if served.contains(&s) => Ok(()),
        Some(s) => {
            Err(Problem::bad_request(format!("sort {s:?} is not supported here; use one of {served:?}")))
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Filters.

/// Which of the model's statuses a listing's `status` parameter selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct StatusFilter {
    pub current: bool,
    pub archived: bool,
}

impl StatusFilter {
    /// Parses `status` against the values the endpoint accepts; without it, `default` applies.
    /// Accepted values the model never holds (`trashed`, `deleted`, …) simply match nothing.
    pub fn parse(params: &Params, accepted: &[&str], default: StatusFilter) -> Result<Self, Problem> {
        let values = params.list("status");
        if values.is_empty() {
            return Ok(default);
        }
        let mut filter = StatusFilter { current: false, archived: false };
        for v in values {
            if !accepted.contains(&v) {
                return Err(Problem::bad_request(format!("status {v:?} is not one of {accepted:?}")));
            }
            match v {
                "current" => filter.current = true,
                "archived" => filter.archived = true,
                _ => {}
            }
        }
        Ok(filter)
    }

    fn admits(self, status: Status) -> bool {
        match status {
            Status::Current => self.current,
            Status::Archived => self.archived,
        }
    }
}

pub(super) const CURRENT_AND_ARCHIVED: StatusFilter = StatusFilter { current: true, archived: true };
const CURRENT_ONLY: StatusFilter = StatusFilter { current: true, archived: false };

/// The body representation a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BodyFormat {
    /// No `body-format`: bulk listings leave `body` out.
    Omitted,
    Storage,
    /// A format the simulator does not render (`atlas_doc_format`, `view`, …): an empty `body`.
    Unrendered,
}

impl BodyFormat {
    pub fn parse(params: &Params, accepted: &[&str]) -> Result<Self, Problem> {
        match params.first("body-format") {
            None => Ok(BodyFormat::Omitted),
            Some("storage") => Ok(BodyFormat::Storage),
            Some(f) if accepted.contains(&f) => Ok(BodyFormat::Unrendered),
            Some(f) => Err(Problem::bad_request(format!("body-format {f:?} is not one of {accepted:?}"))),
        }
    }

    pub fn body(self, storage: &str) -> Option<v2::Body> {
        match self {
            BodyFormat::Omitted => None,
            BodyFormat::Storage => Some(v2::Body {
                storage: Some(v2::BodyType { representation: "storage".into(), value: storage.to_string() }),
                ..Default::default()
            }),
            BodyFormat::Unrendered => Some(v2::Body::default()),
        }
    }
}

pub(super) const BULK_BODY_FORMATS: &[&str] = &["storage", "atlas_doc_format"];
pub(super) const SINGLE_BODY_FORMATS: &[&str] =
    &["storage", "atlas_doc_format", "view", "export_view", "anonymous_export_view", "styled_view", "editor"];

/// What a page or blog post listing selects.
#[derive(Debug, Clone)]
struct ContentFilter {
    kind: ContentKind,
    statuses: StatusFilter,
    title: Option<String>,
    /// `depth=root`: only pages without a parent.
    roots_only: bool,
}

impl ContentFilter {
    fn admits(&self, c: &Content) -> bool {
        c.kind == self.kind
            && self.statuses.admits(c.status)
            && self.title.as_deref().is_none_or(|t| t == c.title)
            && (!self.roots_only || c.parent_id.is_none())
    }
}

/// One page of the contents matching `filter`, in id order: from the listed ids, or from the listed spaces,
/// or from the whole site. Each source is walked from the cursor and only as far as the page needs.
fn content_page(
    site: &Site,
    filter: &ContentFilter,
    ids: &[u64],
    space_ids: &[u64],
    after: Option<u64>,
    limit: usize,
) -> (Vec<u64>, Option<String>) {
    let start = after.map_or(0, |a| a.saturating_add(1));
    let admits = |id: &u64| site.contents.get(id).is_some_and(|c| filter.admits(c));
    if !ids.is_empty() {
        let wanted: BTreeSet<u64> = ids.iter().copied().filter(|&id| id >= start).collect();
        return take_page(wanted.into_iter().filter(admits), limit);
    }
    if !space_ids.is_empty() {
        // Each space's list is sorted, so its first `limit + 1` matches after the cursor are all it can
        // contribute to this page; merging those few keeps the cost independent of the site's size.
        let mut merged = BTreeSet::new();
        for sid in space_ids {
            let Some(list) = site.index.contents_of_space.get(sid) else { continue };
            let from = list.partition_point(|&id| id < start);
            merged.extend(list[from..].iter().copied().filter(admits).take(limit + 1));
        }
        return take_page(merged.into_iter(), limit);
    }
    take_page(site.contents.range(start..).map(|(&id, _)| id).filter(admits), limit)
}

// ---------------------------------------------------------------------------------------------------------
// Model → wire.

/// A URL path segment for a title, as Confluence spells it in web links (`Design+details`).
pub(super) fn title_slug(title: &str) -> String {
    url::form_urlencoded::byte_serialize(title.as_bytes()).collect()
}

/// The short code of a tiny link (`/x/AbCd`): the id's little-endian bytes, trailing zeros dropped, base64.
pub(super) fn tiny_code(id: u64) -> String {
    use base64::Engine;
    let bytes = id.to_le_bytes();
    let len = bytes.iter().rposition(|&b| b != 0).map_or(1, |i| i + 1);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes[..len])
}

fn space_key(site: &Site, space_id: u64) -> &str {
    site.spaces.get(&space_id).map_or("", |s| s.key.as_str())
}

/// The web UI path of a page or blog post, relative to `/wiki`.
pub(super) fn content_webui(site: &Site, c: &Content) -> String {
    let key = space_key(site, c.space_id);
    match c.kind {
        ContentKind::Page => format!("/spaces/{key}/pages/{}/{}", c.id, title_slug(&c.title)),
        ContentKind::BlogPost => {
            let day = chrono::DateTime::from_timestamp_millis(c.created).unwrap_or_default();
            format!("/spaces/{key}/blog/{}/{}/{}", day.format("%Y/%m/%d"), c.id, title_slug(&c.title))
        }
    }
}

/// A label's id: stable per name, as a site keeps one id per label name.
pub(super) fn label_id(name: &str) -> u64 {
    // FNV-1a: fixed across runs and platforms, unlike the standard library's hasher.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in name.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    100_000_000 + hash % 900_000_000
}

fn label_json(name: &str) -> v2::Label {
    v2::Label { id: label_id(name).to_string(), name: name.to_string(), prefix: "global".into() }
}

pub(super) fn version_json(number: u32, when: i64, author: &str) -> v2::Version {
    v2::Version {
        created_at: Some(confluence_time(when)),
        message: Some(String::new()),
        number,
        minor_edit: false,
        author_id: Some(author.to_string()),
    }
}

fn space_type(space: &Space) -> &'static str {
    match space.kind {
        SpaceKind::Global => "global",
        SpaceKind::Personal { .. } => "personal",
    }
}

fn space_json(space: &Space) -> v2::Space {
    let owner = match &space.kind {
        SpaceKind::Personal { owner } => owner.clone(),
        SpaceKind::Global => space.author.clone(),
    };
    v2::Space {
        id: space.id.to_string(),
        key: space.key.clone(),
        name: space.name.clone(),
        kind: space_type(space).into(),
        status: space.status.as_str().into(),
        author_id: Some(space.author.clone()),
        space_owner_id: Some(owner),
        current_active_alias: Some(space.key.clone()),
        created_at: Some(confluence_time(space.created)),
        homepage_id: space.homepage_id.map(|h| h.to_string()),
        description: None,
        icon: None,
        links: v2::EntityLinks { webui: Some(format!("/spaces/{}", space.key)), ..Default::default() },
    }
}

fn content_links(site: &Site, c: &Content) -> v2::EntityLinks {
    v2::EntityLinks {
        webui: Some(content_webui(site, c)),
        editui: Some(format!("/pages/resumedraft.action?draftId={}", c.id)),
        tinyui: Some(format!("/x/{}", tiny_code(c.id))),
        ..Default::default()
    }
}

fn labels_field(c: &Content, self_link: String) -> v2::OptionalField<v2::Label> {
    v2::OptionalField {
        results: c.labels.iter().map(|l| label_json(l)).collect(),
        meta: Some(v2::OptionalFieldMeta { has_more: false, cursor: None }),
        links: Some(v2::OptionalFieldLinks { self_link: Some(self_link) }),
    }
}

fn page_json(site: &Site, c: &Content, body: BodyFormat) -> v2::Page {
    v2::Page {
        id: c.id.to_string(),
        status: c.status.as_str().into(),
        title: c.title.clone(),
        space_id: c.space_id.to_string(),
        parent_id: c.parent_id.map(|p| p.to_string()),
        parent_type: c.parent_id.map(|_| "page".to_string()),
        position: Some(i64::from(c.position)),
        author_id: Some(c.author.clone()),
        owner_id: Some(c.author.clone()),
        last_owner_id: None,
        subtype: None,
        created_at: Some(confluence_time(c.created)),
        version: Some(version_json(c.version, c.updated, &c.last_editor)),
        body: body.body(&c.body),
        labels: None,
        links: content_links(site, c),
    }
}

fn blogpost_json(site: &Site, c: &Content, body: BodyFormat) -> v2::BlogPost {
    v2::BlogPost {
        id: c.id.to_string(),
        status: c.status.as_str().into(),
        title: c.title.clone(),
        space_id: c.space_id.to_string(),
        author_id: Some(c.author.clone()),
        created_at: Some(confluence_time(c.created)),
        version: Some(version_json(c.version, c.updated, &c.last_editor)),
        body: body.body(&c.body),
        labels: None,
        links: content_links(site, c),
    }
}

/// A comment with both its container id and, for a reply, its parent comment id, as real sites send them.
fn comment_json(site: &Site, cm: &Comment, body: BodyFormat) -> v2::Comment {
    let container = site.contents.get(&cm.container_id);
    let (page_id, blog_post_id) = match container.map(|c| c.kind) {
        Some(ContentKind::BlogPost) => (None, Some(cm.container_id.to_string())),
        _ => (Some(cm.container_id.to_string()), None),
    };
    v2::Comment {
        id: cm.id.to_string(),
        status: "current".into(),
        title: Some(format!("Re: {}", container.map_or("", |c| c.title.as_str()))),
        page_id,
        blog_post_id,
        parent_comment_id: cm.parent_comment_id.map(|p| p.to_string()),
        version: Some(version_json(cm.version, cm.updated, &cm.author)),
        body: body.body(&cm.body),
        links: v2::EntityLinks {
            webui: container.map(|c| format!("{}?focusedCommentId={}", content_webui(site, c), cm.id)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// What a file type is called in the UI (`mediaTypeDescription`).
fn media_type_description(media_type: &str) -> &'static str {
    match media_type {
        "application/pdf" => "PDF Document",
        "text/plain" => "Text File",
        "text/markdown" => "Markdown File",
        "text/csv" => "CSV File",
        t if t.contains("wordprocessingml") => "Microsoft Word Document",
        t if t.contains("spreadsheetml") => "Microsoft Excel Spreadsheet",
        _ => "File",
    }
}

/// The `downloadLink` real sites give: the file name percent-encoded, version and modification date in
/// the query. API tokens get 401 from it; crawlers use the v1 download endpoint instead.
pub(super) fn download_link(a: &Attachment) -> String {
    let name = percent_encoding::utf8_percent_encode(&a.file.filename, percent_encoding::NON_ALPHANUMERIC);
    format!(
        "/download/attachments/{}/{name}?version={}&modificationDate={}&cacheVersion=1&api=v2",
        a.container_id, a.version, a.updated
    )
}

pub(super) fn attachment_webui(a: &Attachment) -> String {
    let preview: String = url::form_urlencoded::byte_serialize(
        format!("/{}/{}/{}", a.container_id, a.id, a.file.filename).as_bytes(),
    )
    .collect();
    format!("/pages/viewpageattachments.action?pageId={}&preview={preview}", a.container_id)
}

fn attachment_json(site: &Site, a: &Attachment) -> v2::Attachment {
    let container_kind = site.contents.get(&a.container_id).map(|c| c.kind);
    let (page_id, blog_post_id) = match container_kind {
        Some(ContentKind::BlogPost) => (None, Some(a.container_id.to_string())),
        _ => (Some(a.container_id.to_string()), None),
    };
    let media_type = a.file.kind.media_type();
    let download = download_link(a);
    let webui = attachment_webui(a);
    v2::Attachment {
        id: format!("att{}", a.id),
        status: "current".into(),
        title: a.file.filename.clone(),
        created_at: Some(confluence_time(a.created)),
        page_id,
        blog_post_id,
        custom_content_id: None,
        media_type: Some(media_type.into()),
        media_type_description: Some(media_type_description(media_type).into()),
        comment: Some(a.comment.clone()),
        file_id: Some(a.file_id.clone()),
        file_size: Some(a.file.size),
        webui_link: Some(webui.clone()),
        download_link: Some(download.clone()),
        version: Some(version_json(a.version, a.updated, &a.author)),
        labels: None,
        links: v2::EntityLinks { webui: Some(webui), download: Some(download), ..Default::default() },
    }
}

// ---------------------------------------------------------------------------------------------------------
// Spaces.

async fn list_spaces(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let p = &ctx.params;
    check_sort(p, &["id"])?;
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = cursor_after(p)?;
    let ids: BTreeSet<u64> = p.ids("ids")?.into_iter().collect();
    let keys: BTreeSet<&str> = p.list("keys").into_iter().collect();
    let kind = p.first("type");
    if let Some(k) = kind {
        const TYPES: &[&str] = &[
            "global",
            "collaboration",
            "knowledge_base",
            "personal",
            "system",
            "onboarding",
            "xflow_sample_space",
        ];
        if !TYPES.contains(&k) {
            return Err(Problem::bad_request(format!("type {k:?} is not a space type")).into());
        }
    }
    let status = match p.first("status") {
        None => CURRENT_AND_ARCHIVED,
        Some("current") => CURRENT_ONLY,
        Some("archived") => StatusFilter { current: false, archived: true },
        Some(s) => {
            return Err(Problem::bad_request(format!("status {s:?} is not current or archived")).into())
        }
    };
    let site = state.read();
    let start = after.map_or(0, |a| a.saturating_add(1));
    let admits = |s: &&Space| {
        (ids.is_empty() || ids.contains(&s.id))
            && (keys.is_empty() || keys.contains(s.key.as_str()))
            && kind.is_none_or(|k| k == space_type(s))
            && status.admits(s.status)
    };
    let (page, next) =
        take_page(site.spaces.range(start..).map(|(_, s)| s).filter(admits).map(|s| s.id), limit);
    let results: Vec<v2::Space> = page.iter().filter_map(|id| site.spaces.get(id)).map(space_json).collect();
    Ok(listing(&ctx, results, next))
}

async fn get_space(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let format = ctx.params.first("description-format");
    if let Some(f) = format {
        if f != "plain" && f != "view" {
            return Err(Problem::bad_request(format!("description-format {f:?} is not plain or view")).into());
        }
    }
    let site = state.read();
    let space = site.spaces.get(&id).ok_or_else(|| Problem::not_found(format!("no space with id {id}")))?;
    let mut json = space_json(space);
    if let Some(f) = format {
        let value = v2::BodyType { representation: f.into(), value: space.description.clone() };
        json.description = Some(match f {
            "view" => v2::SpaceDescription { view: Some(value), ..Default::default() },
            _ => v2::SpaceDescription { plain: Some(value), ..Default::default() },
        });
    }
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}

async fn list_space_permissions(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let limit = ctx.params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let site = state.read();
    let space = site.spaces.get(&id).ok_or_else(|| Problem::not_found(format!("no space with id {id}")))?;
    let by_id: HashMap<u64, &crate::sim::model::SpacePermission> =
        space.permissions.iter().map(|p| (p.id, p)).collect();
    let mut ids: Vec<u64> = by_id.keys().copied().collect();
    ids.sort_unstable();
    let (page, next) = cursor_page(&ids, ctx.params.first("cursor"), limit)
        .map_err(|_: BadCursor| Problem::bad_request("invalid cursor"))?;
    let results: Vec<v2::SpacePermission> = page
        .iter()
        .filter_map(|id| by_id.get(id))
        .map(|perm| {
            let (kind, principal) = match &perm.principal {
                SpacePrincipal::User(a) => ("user", a),
                SpacePrincipal::Group(g) => ("group", g),
                SpacePrincipal::Role(r) => ("role", r),
            };
            v2::SpacePermission {
                id: perm.id.to_string(),
                principal: v2::PermissionPrincipal { kind: kind.into(), id: principal.clone() },
                operation: v2::PermissionOperation {
                    key: perm.operation.clone(),
                    target_type: perm.target.clone(),
                },
            }
        })
        .collect();
    Ok(listing(&ctx, results, next))
}

// ---------------------------------------------------------------------------------------------------------
// Pages and blog posts.

/// The listing parameters pages and blog posts share.
struct ContentListing {
    filter: ContentFilter,
    body: BodyFormat,
    limit: usize,
    after: Option<u64>,
}

impl ContentListing {
    fn parse(params: &Params, kind: ContentKind) -> Result<Self, Problem> {
        let (sorts, statuses, default_status): (&[&str], &[&str], StatusFilter) = match kind {
            // The spec: pages default to current and archived; blog posts to current (and cannot be archived).
            ContentKind::Page => {
                (&["id"], &["current", "archived", "deleted", "trashed"], CURRENT_AND_ARCHIVED)
            }
            ContentKind::BlogPost => (&["id"], &["current", "deleted", "trashed", "archived"], CURRENT_ONLY),
        };
        check_sort(params, sorts)?;
        let roots_only = match params.first("depth") {
            None | Some("all") => false,
            Some("root") => true,
            Some(d) => return Err(Problem::bad_request(format!("depth {d:?} is not all or root"))),
        };
        Ok(ContentListing {
            filter: ContentFilter {
                kind,
                statuses: StatusFilter::parse(params, statuses, default_status)?,
                title: params.first("title").map(str::to_string),
                roots_only,
            },
            body: BodyFormat::parse(params, BULK_BODY_FORMATS)?,
            limit: params.limit(DEFAULT_LIMIT, MAX_LIMIT)?,
            after: cursor_after(params)?,
        })
    }
}

/// `GET /pages`, `/blogposts` (filtered by `id` and `space-id`) and their per-space variants.
fn list_contents(state: &SimState, ctx: &Ctx, kind: ContentKind, space: Option<u64>) -> Answer {
    let p = &ctx.params;
    let listing_params = ContentListing::parse(p, kind)?;
    let (ids, space_ids) = match space {
        Some(sid) => (Vec::new(), vec![sid]),
        None => (p.ids("id")?, p.ids("space-id")?),
    };
    let site = state.read();
    if let Some(sid) = space {
        if !site.spaces.contains_key(&sid) {
            return Err(Problem::not_found(format!("no space with id {sid}")).into());
        }
    }
    let (page, next) = content_page(
        &site,
        &listing_params.filter,
        &ids,
        &space_ids,
        listing_params.after,
        listing_params.limit,
    );
    let contents = page.iter().filter_map(|id| site.contents.get(id));
    let response = match kind {
        ContentKind::Page => {
            listing(ctx, contents.map(|c| page_json(&site, c, listing_params.body)).collect(), next)
        }
        ContentKind::BlogPost => {
            listing(ctx, contents.map(|c| blogpost_json(&site, c, listing_params.body)).collect(), next)
        }
    };
    Ok(response)
}

async fn list_pages(State(state): State<SimState>, ctx: Ctx) -> Answer {
    list_contents(&state, &ctx, ContentKind::Page, None)
}

async fn list_blogposts(State(state): State<SimState>, ctx: Ctx) -> Answer {
    list_contents(&state, &ctx, ContentKind::BlogPost, None)
}

async fn list_space_pages(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_contents(&state, &ctx, ContentKind::Page, Some(path_id(&id)?))
}

async fn list_space_blogposts(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_contents(&state, &ctx, ContentKind::BlogPost, Some(path_id(&id)?))
}

/// The page or blog post `id` of `kind`, or a 404 naming it.
pub(super) fn content_of_kind(site: &Site, id: u64, kind: ContentKind) -> Result<&Content, Problem> {
    site.contents
        .get(&id)
        .filter(|c| c.kind == kind)
        .ok_or_else(|| Problem::not_found(format!("no {} with id {id}", kind.as_str())))
}

/// Checks the single-get parameters `status` and `version` against the content.
fn check_single(params: &Params, c: &Content) -> Result<(), Problem> {
    let statuses = params.list("status");
    if !statuses.is_empty() && !statuses.contains(&c.status.as_str()) {
        return Err(Problem::not_found(format!(
            "{} {} has status {}",
            c.kind.as_str(),
            c.id,
            c.status.as_str()
        )));
    }
    match params.number::<u32>("version")? {
        Some(v) if v != c.version => {
            // Only the latest version is kept; older ones are gone as if purged.
            Err(Problem::not_found(format!("version {v} of {} {} is not available", c.kind.as_str(), c.id)))
        }
        _ => Ok(()),
    }
}

/// Whether a boolean `include-*` parameter is set.
fn flag(params: &Params, name: &str) -> Result<bool, Problem> {
    match params.first(name) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(v) => Err(Problem::bad_request(format!("parameter {name} must be true or false, not {v:?}"))),
    }
}

async fn get_page(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let body = BodyFormat::parse(&ctx.params, SINGLE_BODY_FORMATS)?;
    let with_labels = flag(&ctx.params, "include-labels")?;
    let site = state.read();
    let c = content_of_kind(&site, id, ContentKind::Page)?;
    check_single(&ctx.params, c)?;
    let mut json = page_json(&site, c, body);
    if with_labels {
        json.labels = Some(labels_field(c, format!("/wiki/api/v2/pages/{id}/labels")));
    }
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}

async fn get_blogpost(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let body = BodyFormat::parse(&ctx.params, SINGLE_BODY_FORMATS)?;
    let with_labels = flag(&ctx.params, "include-labels")?;
    let site = state.read();
    let c = content_of_kind(&site, id, ContentKind::BlogPost)?;
    check_single(&ctx.params, c)?;
    let mut json = blogpost_json(&site, c, body);
    if with_labels {
        json.labels = Some(labels_field(c, format!("/wiki/api/v2/blogposts/{id}/labels")));
    }
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}

/// `GET /pages/{id}/ancestors`: root first. With `limit`, the nearest ancestors; a client wanting more
/// asks again with the highest one returned, so there is no `next` link.
async fn list_ancestors(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let limit = ctx.params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let site = state.read();
    content_of_kind(&site, id, ContentKind::Page)?;
    let chain = site.ancestors(id);
    let nearest = &chain[chain.len().saturating_sub(limit)..];
    let results: Vec<v2::Ancestor> =
        nearest.iter().map(|a| v2::Ancestor { id: a.to_string(), kind: Some("page".into()) }).collect();
    Ok(listing(&ctx, results, None))
}

/// Children of a page in id order. `direct-children` names each child's `type`; the deprecated
/// `children` does not.
fn list_page_children(state: &SimState, ctx: &Ctx, id: &str, with_type: bool) -> Answer {
    let id = path_id(id)?;
    let limit = ctx.params.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let site = state.read();
    content_of_kind(&site, id, ContentKind::Page)?;
    let children = site.index.children_of.get(&id).map_or(&[][..], Vec::as_slice);
    let (page, next) = cursor_page(children, ctx.params.first("cursor"), limit)
        .map_err(|_: BadCursor| Problem::bad_request("invalid cursor"))?;
    let results: Vec<v2::Child> = page
        .iter()
        .filter_map(|cid| site.contents.get(cid))
        .map(|c| v2::Child {
            id: c.id.to_string(),
            status: c.status.as_str().into(),
            title: c.title.clone(),
            kind: with_type.then(|| "page".to_string()),
            space_id: Some(c.space_id.to_string()),
            child_position: Some(i64::from(c.position)),
        })
        .collect();
    Ok(listing(ctx, results, next))
}

async fn list_children(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_page_children(&state, &ctx, &id, false)
}

async fn list_direct_children(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_page_children(&state, &ctx, &id, true)
}

// ---------------------------------------------------------------------------------------------------------
// Comments.

/// Sorts a comment listing serves: ids grow with creation time, so id order is creation order.
pub(super) const COMMENT_SORTS: &[&str] = &["created-date"];

/// Comment ids of one index list, one page, as wire comments.
fn comment_listing(site: &Site, ctx: &Ctx, ids: &[u64]) -> Answer {
    let p = &ctx.params;
    check_sort(p, COMMENT_SORTS)?;
    let body = BodyFormat::parse(p, BULK_BODY_FORMATS)?;
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    // Comments are always current; a status filter without `current` selects none of them.
    let statuses = StatusFilter::parse(
        p,
        &["current", "archived", "trashed", "deleted", "historical", "draft"],
        CURRENT_AND_ARCHIVED,
    )?;
    let ids = if statuses.current { ids } else { &[][..] };
    let (page, next) = cursor_page(ids, p.first("cursor"), limit)
        .map_err(|_: BadCursor| Problem::bad_request("invalid cursor"))?;
    let results: Vec<v2::Comment> =
        page.iter().filter_map(|id| site.comments.get(id)).map(|cm| comment_json(site, cm, body)).collect();
    Ok(listing(ctx, results, next))
}

fn list_container_comments(state: &SimState, ctx: &Ctx, id: &str, kind: ContentKind) -> Answer {
    let id = path_id(id)?;
    let site = state.read();
    content_of_kind(&site, id, kind)?;
    let ids = site.index.comments_of.get(&id).map_or(&[][..], Vec::as_slice);
    comment_listing(&site, ctx, ids)
}

async fn list_page_comments(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_container_comments(&state, &ctx, &id, ContentKind::Page)
}

async fn list_blogpost_comments(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_container_comments(&state, &ctx, &id, ContentKind::BlogPost)
}

async fn list_comment_replies(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let site = state.read();
    if !site.comments.contains_key(&id) {
        return Err(Problem::not_found(format!("no footer comment with id {id}")).into());
    }
    let ids = site.index.replies_of.get(&id).map_or(&[][..], Vec::as_slice);
    comment_listing(&site, &ctx, ids)
}

/// `GET /footer-comments`: every footer comment of the site, replies included, in id order. The spec has
/// no status filter here: the model's comments are all current.
async fn list_all_comments(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let p = &ctx.params;
    check_sort(p, COMMENT_SORTS)?;
    let body = BodyFormat::parse(p, BULK_BODY_FORMATS)?;
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let after = cursor_after(p)?;
    let site = state.read();
    let start = after.map_or(0, |a| a.saturating_add(1));
    let (page, next) = take_page(site.comments.range(start..).map(|(&id, _)| id), limit);
    let results: Vec<v2::Comment> =
        page.iter().filter_map(|id| site.comments.get(id)).map(|cm| comment_json(&site, cm, body)).collect();
    Ok(listing(&ctx, results, next))
}

async fn get_comment(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let body = BodyFormat::parse(&ctx.params, SINGLE_BODY_FORMATS)?;
    let site = state.read();
    let cm = site
        .comments
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no footer comment with id {id}")))?;
    if let Some(v) = ctx.params.number::<u32>("version")? {
        if v != cm.version {
            return Err(Problem::not_found(format!("version {v} of comment {id} is not available")).into());
        }
    }
    let mut json = comment_json(&site, cm, body);
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Attachments.

fn list_container_attachments(state: &SimState, ctx: &Ctx, id: &str, kind: ContentKind) -> Answer {
    let id = path_id(id)?;
    let p = &ctx.params;
    check_sort(p, &["created-date"])?;
    let limit = p.limit(DEFAULT_ATTACHMENT_LIMIT, MAX_LIMIT)?;
    // Attachments are always current.
    let statuses = StatusFilter::parse(p, &["current", "archived", "trashed"], CURRENT_AND_ARCHIVED)?;
    let media_type = p.first("mediaType");
    let filename = p.first("filename");
    let after = cursor_after(p)?;
    let site = state.read();
    content_of_kind(&site, id, kind)?;
    let ids = site.index.attachments_of.get(&id).map_or(&[][..], Vec::as_slice);
    let from = after.map_or(0, |a| ids.partition_point(|&x| x <= a));
    let admits = |aid: &u64| {
        site.attachments.get(aid).is_some_and(|a| {
            statuses.current
                && media_type.is_none_or(|m| m == a.file.kind.media_type())
                && filename.is_none_or(|f| f == a.file.filename)
        })
    };
    let (page, next) = take_page(ids[from..].iter().copied().filter(admits), limit);
    let results: Vec<v2::Attachment> =
        page.iter().filter_map(|aid| site.attachments.get(aid)).map(|a| attachment_json(&site, a)).collect();
    Ok(listing(ctx, results, next))
}

async fn list_page_attachments(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_container_attachments(&state, &ctx, &id, ContentKind::Page)
}

async fn list_blogpost_attachments(
    State(state): State<SimState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Answer {
    list_container_attachments(&state, &ctx, &id, ContentKind::BlogPost)
}

/// `GET /attachments`: every attachment of the site in id order, walked from the cursor only as far as
/// the page needs.
async fn list_all_attachments(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let p = &ctx.params;
    check_sort(p, &["created-date"])?;
    let limit = p.limit(DEFAULT_ATTACHMENT_LIMIT, MAX_LIMIT)?;
    // The spec's default is current and archived; the model's attachments are all current.
    let statuses = StatusFilter::parse(p, &["current", "archived", "trashed"], CURRENT_AND_ARCHIVED)?;
    let media_type = p.first("mediaType");
    let filename = p.first("filename");
    let after = cursor_after(p)?;
    if !statuses.current {
        return Ok(listing(&ctx, Vec::<v2::Attachment>::new(), None));
    }
    let site = state.read();
    let start = after.map_or(0, |a| a.saturating_add(1));
    let admits = |a: &Attachment| {
        media_type.is_none_or(|m| m == a.file.kind.media_type())
            && filename.is_none_or(|f| f == a.file.filename)
    };
    let (page, next) =
        take_page(site.attachments.range(start..).filter(|(_, a)| admits(a)).map(|(&id, _)| id), limit);
    let results: Vec<v2::Attachment> =
        page.iter().filter_map(|aid| site.attachments.get(aid)).map(|a| attachment_json(&site, a)).collect();
    Ok(listing(&ctx, results, next))
}

/// An attachment id as paths spell it: `att123` or `123`.
pub(super) fn attachment_id(raw: &str) -> Result<u64, Problem> {
    raw.strip_prefix("att")
        .unwrap_or(raw)
        .parse()
        .map_err(|_| Problem::bad_request(format!("id {raw:?} is not a valid attachment id")))
}

async fn get_attachment(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = attachment_id(&id)?;
    let site = state.read();
    let a = site
        .attachments
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no attachment with id att{id}")))?;
    if let Some(v) = ctx.params.number::<u32>("version")? {
        if v != a.version {
            return Err(
                Problem::not_found(format!("version {v} of attachment att{id} is not available")).into()
            );
        }
    }
    let mut json = attachment_json(&site, a);
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Labels.

fn list_labels(state: &SimState, ctx: &Ctx, id: &str, kind: ContentKind) -> Answer {
    let id = path_id(id)?;
    let p = &ctx.params;
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    let prefix = p.first("prefix");
    if let Some(pre) = prefix {
        if !["my", "team", "global", "system"].contains(&pre) {
            return Err(
                Problem::bad_request(format!("prefix {pre:?} is not my, team, global or system")).into()
            );
        }
    }
    let site = state.read();
    let c = content_of_kind(&site, id, kind)?;
    // Every label the model holds is a global one.
    let mut labels: Vec<(u64, &str)> = if prefix.is_none_or(|pre| pre == "global") {
        c.labels.iter().map(|l| (label_id(l), l.as_str())).collect()
    } else {
        Vec::new()
    };
    labels.sort_unstable();
    labels.dedup_by_key(|(lid, _)| *lid);
    let ids: Vec<u64> = labels.iter().map(|(lid, _)| *lid).collect();
    let (page, next) = cursor_page(&ids, p.first("cursor"), limit)
        .map_err(|_: BadCursor| Problem::bad_request("invalid cursor"))?;
    let results: Vec<v2::Label> = page
        .iter()
        .filter_map(|lid| labels.iter().find(|(l, _)| l == lid))
        .map(|(_, name)| label_json(name))
        .collect();
    Ok(listing(ctx, results, next))
}

async fn list_page_labels(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_labels(&state, &ctx, &id, ContentKind::Page)
}

async fn list_blogpost_labels(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_labels(&state, &ctx, &id, ContentKind::BlogPost)
}

// ---------------------------------------------------------------------------------------------------------
// Users.

/// `POST /users-bulk`: the known accounts among `accountIds`, in request order. Unknown ids are left out;
/// a hidden email is served as the empty string, as the spec describes.
async fn users_bulk(State(state): State<SimState>, ctx: Ctx, body: axum::body::Bytes) -> Answer {
    let request: v2::UsersBulkRequest = serde_json::from_slice(&body)
        .map_err(|e| Problem::bad_request(format!("body must be {{\"accountIds\": [...]}}: {e}")))?;
    if request.account_ids.len() > MAX_BULK_USERS {
        return Err(Problem::bad_request(format!(
            "at most {MAX_BULK_USERS} account ids per request, got {}",
            request.account_ids.len()
        ))
        .into());
    }
    let site = state.read();
    let personal_spaces: HashMap<&str, u64> = site
        .spaces
        .values()
        .filter_map(|s| match &s.kind {
            SpaceKind::Personal { owner } => Some((owner.as_str(), s.id)),
            SpaceKind::Global => None,
        })
        .collect();
    let mut seen = BTreeSet::new();
    let results: Vec<v2::User> = request
        .account_ids
        .iter()
        .filter(|id| seen.insert(id.as_str()))
        .filter_map(|id| site.user(id))
        .map(|u| v2::User {
            account_id: u.account_id.clone(),
            account_type: Some(u.account_type.as_str().into()),
            account_status: Some(if u.active { "active" } else { "inactive" }.into()),
            display_name: Some(u.display_name.clone()),
            public_name: Some(u.display_name.clone()),
            email: Some(if u.email_hidden { String::new() } else { u.email.clone() }),
            time_zone: None,
            personal_space_id: personal_spaces.get(u.account_id.as_str()).map(|s| s.to_string()),
            is_external_collaborator: Some(false),
            profile_picture: Some(v2::Icon {
                path: format!("/wiki/aa-avatar/{}", u.account_id),
                is_default: false,
            }),
        })
        .collect();
    Ok(listing(&ctx, results, None))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn params_read_repeated_and_comma_separated_values() {
        let p = Params::parse(Some("status=current,archived&status=trashed&space-id=1&limit=5"));
        assert_eq!(p.list("status"), ["current", "archived", "trashed"]);
        assert_eq!(p.ids("space-id"), Ok(vec![1]));
        assert_eq!(p.limit(25, 250), Ok(5));
        assert!(Params::parse(Some("limit=ten")).limit(25, 250).is_err());
    }

    #[test]
    fn limits_are_defaulted_and_capped() {
        let cases = [("", 25), ("limit=1000", 250), ("limit=0", 1), ("limit=-3", 1), ("limit=7", 7)];
        for (query, expected) in cases {
            assert_eq!(Params::parse(Some(query)).limit(25, 250), Ok(expected), "{query}");
        }
    }

    #[test]
    fn next_link_keeps_parameters_and_replaces_cursor() {
        let ctx = Ctx {
            params: Params::parse(Some("space-id=1&cursor=old&body-format=storage&limit=2")),
            path: "/wiki/api/v2/pages".into(),
            origin: "http://x".into(),
        };
        assert_eq!(
            ctx.next_link("NEW"),
            "/wiki/api/v2/pages?space-id=1&body-format=storage&limit=2&cursor=NEW"
        );
    }

    #[test]
    fn take_page_emits_next_only_when_more_remain() {
        let (page, next) = take_page([1, 2, 3].into_iter(), 3);
        assert_eq!((page, next), (vec![1, 2, 3], None));
        let (page, next) = take_page([1, 2, 3, 4].into_iter(), 3);
        assert_eq!(page, vec![1, 2, 3]);
        assert_eq!(next.as_deref().and_then(decode_cursor), Some(3));
    }

    #[test]
    fn attachment_ids_accept_both_spellings() {
        assert_eq!(attachment_id("att130"), Ok(130));
        assert_eq!(attachment_id("130"), Ok(130));
        assert!(attachment_id("attx").is_err());
    }

    #[test]
    fn label_ids_are_stable_and_distinct() {
        assert_eq!(label_id("fixture"), label_id("fixture"));
        assert_ne!(label_id("fixture"), label_id("fixtures"));
        assert!((100_000_000..1_000_000_000).contains(&label_id("x")));
    }
}
