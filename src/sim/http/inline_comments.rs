//! The simulated Confluence REST v2 inline comments: `GET /pages/{id}/inline-comments`,
//! `GET /blogposts/{id}/inline-comments` (the threads of one page or blog post), `GET /inline-comments`
//! (every inline comment of the site, replies included), `GET /inline-comments/{id}` and
//! `GET /inline-comments/{id}/children` (a thread's replies).
//!
//! Each carries its `resolutionStatus` and its `properties` (the marker and the highlighted text); the
//! single get also says who last resolved or reopened it. Listings filter by `status` and
//! `resolution-status` and page in id order (= creation order) like every v2 listing here. Deliberately
//! absent: writes, likes, operations, versions.

use axum::extract::{Path, State};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use super::common::confluence_time;
use super::confluence_v2::{
    check_sort, content_of_kind, content_webui, cursor_after, listing, path_id, take_page, version_json,
    Answer, BodyFormat, Ctx, Params, Problem, StatusFilter, BULK_BODY_FORMATS, COMMENT_SORTS,
    CURRENT_AND_ARCHIVED, DEFAULT_LIMIT, MAX_LIMIT, SINGLE_BODY_FORMATS,
};
use super::SimState;
use crate::atlassian::wire::confluence::v2;
use crate::sim::model::{ContentKind, InlineComment, Resolution, Site};

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/wiki/api/v2/pages/{id}/inline-comments", get(list_page_threads))
        .route("/wiki/api/v2/blogposts/{id}/inline-comments", get(list_blogpost_threads))
        .route("/wiki/api/v2/inline-comments", get(list_all))
        .route("/wiki/api/v2/inline-comments/{id}", get(get_one))
        .route("/wiki/api/v2/inline-comments/{id}/children", get(list_children))
}

/// Which shape of the spec an answer has: they differ in which ids they carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `PageInlineCommentModel`, `BlogPostInlineCommentModel`: the container's id.
    OfContainer,
    /// `InlineCommentChildrenModel`: the parent comment's id.
    Child,
    /// `InlineCommentModel` (site-wide listing, single get): both, and the resolution's last change.
    Full,
}

fn inline_json(site: &Site, c: &InlineComment, body: BodyFormat, shape: Shape) -> v2::Comment {
    let container = site.contents.get(&c.container_id);
    let (page_id, blog_post_id) = match container.map(|k| k.kind) {
        Some(ContentKind::BlogPost) => (None, Some(c.container_id.to_string())),
        _ => (Some(c.container_id.to_string()), None),
    };
    let with_container = shape != Shape::Child;
    let (modifier, modified) = match (&c.resolution_changed, shape) {
        (Some((who, when)), Shape::Full) => (Some(who.clone()), Some(confluence_time(*when))),
        _ => (None, None),
    };
    v2::Comment {
        id: c.id.to_string(),
        status: "current".into(),
        title: Some(format!("Re: {}", container.map_or("", |k| k.title.as_str()))),
        page_id: page_id.filter(|_| with_container),
        blog_post_id: blog_post_id.filter(|_| with_container),
        parent_comment_id: c.parent_comment_id.filter(|_| shape != Shape::OfContainer).map(|p| p.to_string()),
        version: Some(version_json(c.version, c.updated, &c.author)),
        body: body.body(&c.body),
        resolution_status: Some(c.resolution.as_str().into()),
        resolution_last_modifier_id: modifier,
        resolution_last_modified_at: modified,
        properties: Some(v2::InlineProperties {
            inline_marker_ref: Some(c.marker_ref.clone()),
            inline_original_selection: Some(c.selection.clone()),
        }),
        links: v2::EntityLinks {
            webui: container.map(|k| format!("{}?focusedCommentId={}", content_webui(site, k), c.id)),
            ..Default::default()
        },
        ..Default::default()
    }
}

/// The `resolution-status` values a listing accepts; without any, every status.
fn resolutions(params: &Params) -> Result<Vec<Resolution>, Problem> {
    let all = [Resolution::Open, Resolution::Reopened, Resolution::Resolved, Resolution::Dangling];
    let asked = params.list("resolution-status");
    if asked.is_empty() {
        return Ok(all.to_vec());
    }
    asked
        .into_iter()
        .map(|v| {
            all.into_iter().find(|r| r.as_str() == v).ok_or_else(|| {
                Problem::bad_request(format!(
                    "resolution-status {v:?} is not one of open, reopened, resolved, dangling"
                ))
            })
        })
        .collect()
}

/// One page of the inline comments `ids` (ascending) that the request's filters admit.
fn inline_listing(site: &Site, ctx: &Ctx, ids: &[u64], shape: Shape) -> Answer {
    let p = &ctx.params;
    check_sort(p, COMMENT_SORTS)?;
    let body = BodyFormat::parse(p, BULK_BODY_FORMATS)?;
    let limit = p.limit(DEFAULT_LIMIT, MAX_LIMIT)?;
    // Inline comments are always current; a status filter without `current` selects none of them.
    let statuses = StatusFilter::parse(
        p,
        &["current", "archived", "trashed", "deleted", "historical", "draft"],
        CURRENT_AND_ARCHIVED,
    )?;
    let wanted = resolutions(p)?;
    let start = cursor_after(p)?.map_or(0, |a| a.saturating_add(1));
    let admitted = ids
        .iter()
        .copied()
        .filter(|&id| id >= start && statuses.current)
        .filter(|id| site.inline_comments.get(id).is_some_and(|c| wanted.contains(&c.resolution)));
    let (page, next) = take_page(admitted, limit);
    let results: Vec<v2::Comment> = page
        .iter()
        .filter_map(|id| site.inline_comments.get(id))
        .map(|c| inline_json(site, c, body, shape))
        .collect();
    Ok(listing(ctx, results, next))
}

fn list_threads(state: &SimState, ctx: &Ctx, id: &str, kind: ContentKind) -> Answer {
    let id = path_id(id)?;
    let site = state.read();
    content_of_kind(&site, id, kind)?;
    let ids = site.index.inline_comments_of.get(&id).map_or(&[][..], Vec::as_slice);
    inline_listing(&site, ctx, ids, Shape::OfContainer)
}

async fn list_page_threads(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_threads(&state, &ctx, &id, ContentKind::Page)
}

async fn list_blogpost_threads(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    list_threads(&state, &ctx, &id, ContentKind::BlogPost)
}

async fn list_all(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let site = state.read();
    let ids: Vec<u64> = site.inline_comments.keys().copied().collect();
    inline_listing(&site, &ctx, &ids, Shape::Full)
}

async fn list_children(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let site = state.read();
    if !site.inline_comments.contains_key(&id) {
        return Err(Problem::not_found(format!("no inline comment with id {id}")).into());
    }
    let ids = site.index.inline_replies_of.get(&id).map_or(&[][..], Vec::as_slice);
    inline_listing(&site, &ctx, ids, Shape::Child)
}

async fn get_one(State(state): State<SimState>, Path(id): Path<String>, ctx: Ctx) -> Answer {
    let id = path_id(&id)?;
    let body = BodyFormat::parse(&ctx.params, SINGLE_BODY_FORMATS)?;
    let site = state.read();
    let c = site
        .inline_comments
        .get(&id)
        .ok_or_else(|| Problem::not_found(format!("no inline comment with id {id}")))?;
    let mut json = inline_json(&site, c, body, Shape::Full);
    json.links.base = Some(ctx.base());
    Ok(Json(json).into_response())
}
