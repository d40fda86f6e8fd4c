//! The simulated Confluence REST v1 endpoints (`/wiki/rest/api`) that v2 does not replace: content
//! restrictions by operation, CQL content search (the only "modified since" query), groups and their
//! members, the current user, and attachment bytes (a 302 from the v1 download endpoint to a media URL
//! that carries its own token, so the media route needs no Basic auth).
//!
//! CQL is a subset, enough for a crawler: `type`, `space`, `id`, `lastmodified` (dates read in the admin's
//! time zone, as Confluence reads them in the calling user's), `and`, parentheses and
//! `order by lastmodified|id`. Content search expands `space`, `version`, `ancestors`, `container`,
//! `body.storage`, `metadata.labels` and `restrictions.{read,update}.restrictions.{user,group}`.
//! Anything else is a 400 that names what was not understood. Content search is current content unless
//! `cqlcontext` asks for other statuses.
//!
//! Deliberately absent: writes, the site search (`/wiki/rest/api/search`), CQL `or`/`not`/text search.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use base64::Engine;
use sha2::{Digest, Sha256};

use super::common::{clamp_limit, confluence_time, error_response, Product};
use super::confluence_v2::{
    attachment_id, attachment_webui, content_webui, download_link, label_id, tiny_code, Ctx, Params, Problem,
};
use super::SimState;
use crate::atlassian::wire::confluence::v1;
use crate::sim::model::{
    Attachment, Comment, Content, ContentKind, FileBody, Restriction, Site, Space, SpaceKind, Status,
};

/// Labels in content's `metadata.labels` expansion.
const LABEL_LIMIT: usize = 200;
/// Users and groups per restriction page, and the most `limit` may ask for.
const RESTRICTION_LIMIT: usize = 100;
/// Group and member listings: default and most per page.
const GROUP_LIMIT: usize = 200;
/// Content search: default page size.
const SEARCH_DEFAULT_LIMIT: usize = 25;

pub fn routes() -> Router<SimState> {
    Router::new()
        .route("/wiki/rest/api/content/{id}/restriction/byOperation", get(restrictions_by_operation))
        .route(
            "/wiki/rest/api/content/{id}/restriction/byOperation/{operation}",
            get(restriction_for_operation),
        )
        .route("/wiki/rest/api/content/search", get(content_search))
        .route("/wiki/rest/api/group", get(list_groups))
        .route("/wiki/rest/api/group/by-id", get(group_by_id))
        .route("/wiki/rest/api/group/{group_id}/membersByGroupId", get(group_members))
        .route("/wiki/rest/api/user/current", get(current_user))
        .route(
            "/wiki/rest/api/content/{id}/child/attachment/{attachment_id}/download",
            get(download_attachment),
        )
        .route("/wiki/download/attachments/{*rest}", get(download_link_refused))
        .route("/_media/file/{file_id}/binary", get(media_file))
}

/// A [`Problem`] in v1's error body.
struct V1Error(Problem);

impl From<Problem> for V1Error {
    fn from(p: Problem) -> Self {
        V1Error(p)
    }
}

impl IntoResponse for V1Error {
    fn into_response(self) -> Response {
        error_response(Product::ConfluenceV1, self.0.status, &self.0.message)
    }
}

type Answer = Result<Response, V1Error>;

/// v1 `_links` of a whole response: `base`, `context` and `self`.
fn response_links(ctx: &Ctx) -> v1::Links {
    let rest = ctx.path.strip_prefix("/wiki").unwrap_or(&ctx.path);
    v1::Links {
        base: Some(ctx.base()),
        context: Some("/wiki".into()),
        self_link: Some(format!("{}{}", ctx.base(), ctx.params.link(rest, &[], &[]))),
        ..Default::default()
    }
}

/// `start` and `limit` of an offset listing.
fn offset_params(params: &Params, default: usize, max: usize) -> Result<(usize, usize), Problem> {
    let start: Option<i64> = params.number("start")?;
    let limit: Option<i64> = params.number("limit")?;
    let start = usize::try_from(start.unwrap_or(0).max(0)).unwrap_or(0);
    Ok((start, clamp_limit(limit.map(|l| l.max(1) as usize), default, max)))
}

/// `expand` values, repeated or comma-separated.
fn expansions(params: &Params) -> BTreeSet<&str> {
    params.list("expand").into_iter().collect()
}

/// `_expandable` from `(name, where)` pairs.
fn expandable(entries: &[(&str, String)]) -> v1::Expandable {
    entries.iter().map(|(k, v)| (k.to_string(), serde_json::Value::String(v.clone()))).collect()
}

// ---------------------------------------------------------------------------------------------------------
// Users and groups.

/// A user as v1 shows them. An account id the site no longer knows is an `unknown` user, still named by
/// its account id, so a restriction to it stays a restriction.
fn user_json(site: &Site, base: &str, account_id: &str) -> v1::User {
    let links = Some(v1::Links {
        self_link: Some(format!("{base}/rest/api/user?accountId={account_id}")),
        ..Default::default()
    });
    let picture = Some(v1::Icon {
        path: format!("/wiki/aa-avatar/{account_id}"),
        width: 48,
        height: 48,
        is_default: false,
    });
    let expandable = Some(expandable(&[("operations", String::new()), ("personalSpace", String::new())]));
    match site.user(account_id) {
        Some(u) => v1::User {
            kind: "known".into(),
            account_id: Some(u.account_id.clone()),
            account_type: Some(u.account_type.as_str().into()),
            email: Some(if u.email_hidden { String::new() } else { u.email.clone() }),
            public_name: Some(u.display_name.clone()),
            profile_picture: picture,
            display_name: Some(u.display_name.clone()),
            time_zone: None,
            is_external_collaborator: Some(false),
            is_guest: Some(false),
            account_status: Some(if u.active { "active" } else { "inactive" }.into()),
            expandable,
            links,
        },
        None => v1::User {
            kind: "unknown".into(),
            account_id: Some(account_id.to_string()),
            account_type: Some(String::new()),
            email: Some(String::new()),
            public_name: Some("Unknown user".into()),
            profile_picture: picture,
            display_name: Some("Unknown user".into()),
            time_zone: None,
            is_external_collaborator: Some(false),
            is_guest: Some(false),
            account_status: None,
            expandable,
            links,
        },
    }
}

/// A group as v1 shows it. A group id the site no longer knows keeps its id as its name: deleted groups
/// can still be named by restrictions.
fn group_json(site: &Site, base: &str, group_id: &str) -> v1::Group {
    v1::Group {
        kind: "group".into(),
        name: site.group(group_id).map_or_else(|| group_id.to_string(), |g| g.name.clone()),
        id: group_id.to_string(),
        usage_type: Some("USERBASE_GROUP".into()),
        managed_by: Some("ADMINS".into()),
        links: Some(v1::Links {
            self_link: Some(format!("{base}/rest/api/group/by-id?id={group_id}")),
            ..Default::default()
        }),
    }
}

/// The `next` link of an offset listing: this request with `start` moved on, relative to `/wiki`.
fn offset_next(ctx: &Ctx, start: usize, limit: usize, total: usize) -> Option<String> {
    let next_start = start + limit;
    (next_start < total).then(|| {
        let rest = ctx.path.strip_prefix("/wiki").unwrap_or(&ctx.path);
        ctx.params.link(
            rest,
            &["start", "limit", "next"],
            &[("next", "true"), ("limit", &limit.to_string()), ("start", &next_start.to_string())],
        )
    })
}

async fn list_groups(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let (start, limit) = offset_params(&ctx.params, GROUP_LIMIT, GROUP_LIMIT)?;
    if let Some(t) = ctx.params.first("accessType") {
        if !["user", "admin", "site-admin"].contains(&t) {
            return Err(
                Problem::bad_request(format!("accessType {t:?} is not user, admin or site-admin")).into()
            );
        }
    }
    let site = state.read();
    let base = ctx.base();
    let results: Vec<v1::Group> =
        site.groups.iter().skip(start).take(limit).map(|g| group_json(&site, &base, &g.id)).collect();
    let mut links = response_links(&ctx);
    links.next = offset_next(&ctx, start, limit, site.groups.len());
    let body = v1::GroupArray {
        size: Some(results.len() as u32),
        results,
        start: Some(start as u32),
        limit: Some(limit as u32),
        total_size: None,
        links: Some(links),
    };
    Ok(Json(body).into_response())
}

async fn group_by_id(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let id = ctx.params.first("id").ok_or_else(|| Problem::bad_request("parameter id is required"))?;
    let site = state.read();
    if site.group(id).is_none() {
        return Err(Problem::not_found(format!("no group with id {id}")).into());
    }
    Ok(Json(group_json(&site, &ctx.base(), id)).into_response())
}

async fn group_members(State(state): State<SimState>, Path(group_id): Path<String>, ctx: Ctx) -> Answer {
    let (start, limit) = offset_params(&ctx.params, GROUP_LIMIT, GROUP_LIMIT)?;
    let with_total = match ctx.params.first("shouldReturnTotalSize") {
        None | Some("false") => false,
        Some("true") => true,
        Some(v) => {
            return Err(Problem::bad_request(format!(
                "shouldReturnTotalSize must be true or false, not {v:?}"
            ))
            .into())
        }
    };
    let site = state.read();
    let group =
        site.group(&group_id).ok_or_else(|| Problem::not_found(format!("no group with id {group_id}")))?;
    let base = ctx.base();
    let results: Vec<v1::User> =
        group.members.iter().skip(start).take(limit).map(|m| user_json(&site, &base, m)).collect();
    let mut links = response_links(&ctx);
    links.next = offset_next(&ctx, start, limit, group.members.len());
    let body = v1::UserArray {
        size: Some(results.len() as u32),
        results,
        start: Some(start as u32),
        limit: Some(limit as u32),
        total_size: with_total.then_some(group.members.len() as u64),
        links: Some(links),
    };
    Ok(Json(body).into_response())
}

/// An IANA zone name for a fixed UTC offset: `Etc/GMT-10` for +10:00 (the `Etc` zones invert the sign),
/// a zone without daylight saving time for the usual half-hour offsets, else the offset itself (`+05:45`).
pub fn time_zone_name(offset_minutes: i32) -> String {
    const HALF_HOUR_ZONES: &[(i32, &str)] = &[
        (-570, "Pacific/Marquesas"),
        (210, "Asia/Tehran"),
        (270, "Asia/Kabul"),
        (330, "Asia/Kolkata"),
        (345, "Asia/Kathmandu"),
        (390, "Asia/Yangon"),
        (525, "Australia/Eucla"),
        (570, "Australia/Darwin"),
    ];
    if offset_minutes == 0 {
        return "Etc/UTC".into();
    }
    if offset_minutes % 60 == 0 && (-12 * 60..=14 * 60).contains(&offset_minutes) {
        let hours = offset_minutes / 60;
        return if hours > 0 { format!("Etc/GMT-{hours}") } else { format!("Etc/GMT+{}", -hours) };
    }
    if let Some((_, name)) = HALF_HOUR_ZONES.iter().find(|(o, _)| *o == offset_minutes) {
        return (*name).into();
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    format!("{sign}{:02}:{:02}", offset_minutes.abs() / 60, offset_minutes.abs() % 60)
}

/// `GET /user/current`: the admin whose token the site accepts, with the time zone CQL dates are read in.
async fn current_user(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let site = state.read();
    let base = ctx.base();
    let admin = site.admin_account_id.clone();
    let mut user = user_json(&site, &base, &admin);
    if site.user(&admin).is_none() {
        // The admin of a generated site need not be one of its modelled users; it is still a real account.
        user.kind = "known".into();
        user.account_type = Some("atlassian".into());
        user.display_name = Some("Site admin".into());
        user.public_name = Some("Site admin".into());
        user.account_status = Some("active".into());
    }
    user.email = Some(state.credentials.email.clone());
    user.time_zone = Some(time_zone_name(site.admin_utc_offset_minutes));
    Ok(Json(user).into_response())
}

// ---------------------------------------------------------------------------------------------------------
// Content as v1 shows it.

/// Any piece of v1 content: what restrictions, search results and containers are built from.
#[derive(Debug, Clone, Copy)]
enum Item<'a> {
    Content(&'a Content),
    Comment(&'a Comment),
    Attachment(&'a Attachment),
}

impl<'a> Item<'a> {
    /// Finds content by a v1 id: `att123` is an attachment; a number may be any kind, as all kinds share
    /// one id sequence.
    fn find(site: &'a Site, raw: &str) -> Result<Item<'a>, Problem> {
        if raw.starts_with("att") {
            let id = attachment_id(raw)?;
            return site.attachments.get(&id).map(Item::Attachment).ok_or_else(|| no_content(raw));
        }
        let id: u64 =
            raw.parse().map_err(|_| Problem::bad_request(format!("id {raw:?} is not a content id")))?;
        if let Some(c) = site.contents.get(&id) {
            return Ok(Item::Content(c));
        }
        if let Some(c) = site.comments.get(&id) {
            return Ok(Item::Comment(c));
        }
        site.attachments.get(&id).map(Item::Attachment).ok_or_else(|| no_content(raw))
    }

    fn v1_id(self) -> String {
        match self {
            Item::Content(c) => c.id.to_string(),
            Item::Comment(c) => c.id.to_string(),
            Item::Attachment(a) => format!("att{}", a.id),
        }
    }

    fn type_name(self) -> &'static str {
        match self {
            Item::Content(c) => c.kind.as_str(),
            Item::Comment(_) => "comment",
            Item::Attachment(_) => "attachment",
        }
    }

    fn status(self) -> Status {
        match self {
            Item::Content(c) => c.status,
            Item::Comment(_) | Item::Attachment(_) => Status::Current,
        }
    }

    /// The page or blog post the item is, or belongs to.
    fn container(self, site: &'a Site) -> Option<&'a Content> {
        match self {
            Item::Content(c) => Some(c),
            Item::Comment(c) => site.contents.get(&c.container_id),
            Item::Attachment(a) => site.contents.get(&a.container_id),
        }
    }

    fn space_id(self, site: &Site) -> Option<u64> {
        self.container(site).map(|c| c.space_id)
    }

    fn updated(self) -> i64 {
        match self {
            Item::Content(c) => c.updated,
            Item::Comment(c) => c.updated,
            Item::Attachment(a) => a.updated,
        }
    }

    fn title(self, site: &Site) -> String {
        match self {
            Item::Content(c) => c.title.clone(),
            Item::Comment(_) => format!("Re: {}", self.container(site).map_or("", |c| c.title.as_str())),
            Item::Attachment(a) => a.file.filename.clone(),
        }
    }

    fn webui(self, site: &Site) -> String {
        match self {
            Item::Content(c) => content_webui(site, c),
            Item::Comment(cm) => self
                .container(site)
                .map(|c| format!("{}?focusedCommentId={}", content_webui(site, c), cm.id))
                .unwrap_or_default(),
            Item::Attachment(a) => attachment_webui(a),
        }
    }

    /// The restriction of one operation; comments and attachments have none of their own.
    fn restriction(self, operation: Operation) -> Option<&'a Restriction> {
        match (self, operation) {
            (Item::Content(c), Operation::Read) => Some(&c.read_restriction),
            (Item::Content(c), Operation::Update) => Some(&c.update_restriction),
            _ => None,
        }
    }
}

fn no_content(raw: &str) -> Problem {
    Problem::not_found(format!("no content with id {raw}"))
}

/// A v1 space, as content embeds it.
fn space_json(space: &Space, base: &str) -> v1::Space {
    v1::Space {
        id: i64::try_from(space.id).ok(),
        key: space.key.clone(),
        alias: Some(space.key.clone()),
        name: space.name.clone(),
        kind: match space.kind {
            SpaceKind::Global => "global".into(),
            SpaceKind::Personal { .. } => "personal".into(),
        },
        status: space.status.as_str().into(),
        expandable: expandable(&[
            ("settings", format!("/rest/api/space/{}/settings", space.key)),
            ("metadata", String::new()),
            ("operations", String::new()),
            ("permissions", String::new()),
            ("icon", String::new()),
            ("description", String::new()),
            ("homepage", space.homepage_id.map(|h| format!("/rest/api/content/{h}")).unwrap_or_default()),
        ]),
        links: v1::Links {
            webui: Some(format!("/spaces/{}", space.key)),
            self_link: Some(format!("{base}/rest/api/space/{}", space.key)),
            ..Default::default()
        },
    }
}

/// The smallest v1 content: id, type, status, title and links. Ancestors and containers look like this.
fn content_stub(site: &Site, item: Item<'_>, base: &str) -> v1::Content {
    let id = item.v1_id();
    v1::Content {
        kind: item.type_name().into(),
        status: item.status().as_str().into(),
        title: Some(item.title(site)),
        expandable: Some(expandable(&[
            ("history", format!("/rest/api/content/{id}/history")),
            ("version", String::new()),
            ("space", String::new()),
        ])),
        links: Some(v1::Links {
            webui: Some(item.webui(site)),
            self_link: Some(format!("{base}/rest/api/content/{id}")),
            ..Default::default()
        }),
        id,
        ..Default::default()
    }
}

/// The friendly date v1 shows beside `when`: `Jan 01, 2024`.
fn friendly_when(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms).unwrap_or_default().format("%b %d, %Y").to_string()
}

/// Which optional parts of v1 content a request expanded.
#[derive(Debug, Clone, Copy, Default)]
struct ContentExpand {
    space: bool,
    version: bool,
    ancestors: bool,
    container: bool,
    body_storage: bool,
    /// `metadata.labels`.
    labels: bool,
    /// `restrictions` or any `restrictions.…` path: the content's restrictions object.
    restrictions: bool,
    /// `restrictions.read…`: the read restriction, with the parts its path names.
    read: Option<RestrictionExpand>,
    update: Option<RestrictionExpand>,
}

impl ContentExpand {
    fn parse(params: &Params) -> Self {
        let e = expansions(params);
        let under = |prefix: &str| e.iter().any(|x| *x == prefix || x.starts_with(&format!("{prefix}.")));
        let operation = |op: &str| {
            let prefix = format!("restrictions.{op}");
            under(&prefix).then(|| RestrictionExpand {
                users: e.contains(format!("{prefix}.restrictions.user").as_str()),
                groups: e.contains(format!("{prefix}.restrictions.group").as_str()),
                content: e.contains(format!("{prefix}.content").as_str()),
            })
        };
        ContentExpand {
            space: e.contains("space"),
            version: under("version"),
            ancestors: e.contains("ancestors"),
            container: e.contains("container"),
            body_storage: e.contains("body.storage"),
            labels: e.contains("metadata.labels"),
            restrictions: under("restrictions"),
            read: operation("read"),
            update: operation("update"),
        }
    }
}

/// Content's `restrictions` expansion: the operations asked for, each with at most
/// [`RESTRICTION_LIMIT`] users and groups as on the byOperation endpoint; the others in `_expandable`.
fn content_restrictions(
    site: &Site,
    item: Item<'_>,
    base: &str,
    expand: ContentExpand,
) -> v1::RestrictionsByOperation {
    let id = item.v1_id();
    let page = (0, RESTRICTION_LIMIT);
    let mut unexpanded = Vec::new();
    let mut operation = |op: Operation, wanted: Option<RestrictionExpand>| match wanted {
        Some(parts) => Some(restriction_json(site, item, op, parts, page, base)),
        None => {
            unexpanded.push((
                op.as_str(),
                format!("/rest/api/content/{id}/restriction/byOperation/{}", op.as_str()),
            ));
            None
        }
    };
    let read = operation(Operation::Read, expand.read);
    let update = operation(Operation::Update, expand.update);
    v1::RestrictionsByOperation {
        read,
        update,
        expandable: (!unexpanded.is_empty()).then(|| expandable(&unexpanded)),
        links: Some(v1::Links {
            self_link: Some(format!("{base}/rest/api/content/{id}/restriction/byOperation")),
            base: Some(base.to_string()),
            context: Some("/wiki".into()),
            ..Default::default()
        }),
    }
}

/// Full v1 content with the asked-for expansions; the others are listed in `_expandable`.
fn content_json(site: &Site, item: Item<'_>, base: &str, expand: ContentExpand) -> v1::Content {
    let mut json = content_stub(site, item, base);
    let id = json.id.clone();
    let space = item.space_id(site).and_then(|s| site.spaces.get(&s));
    let mut unexpanded: Vec<(&str, String)> = vec![
        ("history", format!("/rest/api/content/{id}/history")),
        ("children", format!("/rest/api/content/{id}/child")),
    ];
    if expand.labels {
        let names: &[String] = match item {
            Item::Content(c) => &c.labels,
            Item::Comment(_) | Item::Attachment(_) => &[],
        };
        let results: Vec<v1::Label> = names
            .iter()
            .take(LABEL_LIMIT)
            .map(|name| v1::Label {
                prefix: "global".into(),
                name: name.clone(),
                id: label_id(name).to_string(),
                label: name.clone(),
            })
            .collect();
        json.metadata = Some(v1::ContentMetadata {
            labels: Some(v1::LabelArray {
                size: Some(results.len() as u32),
                results,
                start: Some(0),
                limit: Some(LABEL_LIMIT as u32),
                total_size: None,
                links: None,
            }),
            expandable: Some(expandable(&[
                ("currentuser", String::new()),
                ("properties", String::new()),
                ("frontend", String::new()),
            ])),
        });
    } else {
        unexpanded.push(("metadata", String::new()));
    }
    if expand.restrictions {
        json.restrictions = Some(content_restrictions(site, item, base, expand));
    } else {
        unexpanded.push(("restrictions", format!("/rest/api/content/{id}/restriction/byOperation")));
    }
    let space_path = space.map(|s| format!("/rest/api/space/{}", s.key)).unwrap_or_default();
    if expand.space {
        json.space = space.map(|s| space_json(s, base));
    } else {
        unexpanded.push(("space", space_path.clone()));
    }
    if expand.version {
        let (number, author) = match item {
            Item::Content(c) => (c.version, c.last_editor.as_str()),
            Item::Comment(c) => (c.version, c.author.as_str()),
            Item::Attachment(a) => (a.version, a.author.as_str()),
        };
        json.version = Some(v1::Version {
            by: Some(user_json(site, base, author)),
            when: Some(confluence_time(item.updated())),
            friendly_when: Some(friendly_when(item.updated())),
            message: Some(String::new()),
            number,
            minor_edit: false,
            expandable: Some(expandable(&[
                ("collaborators", String::new()),
                ("content", format!("/rest/api/content/{id}")),
            ])),
            links: Some(v1::Links {
                self_link: Some(format!("{base}/rest/api/content/{id}/version/{number}")),
                ..Default::default()
            }),
        });
    } else {
        unexpanded.push(("version", String::new()));
    }
    if expand.ancestors {
        let chain: Vec<v1::Content> = match item {
            Item::Content(c) if c.kind == ContentKind::Page => site
                .ancestors(c.id)
                .iter()
                .filter_map(|a| site.contents.get(a))
                .map(|a| content_stub(site, Item::Content(a), base))
                .collect(),
            Item::Comment(cm) => comment_ancestors(site, cm)
                .into_iter()
                .map(|a| content_stub(site, Item::Comment(a), base))
                .collect(),
            _ => Vec::new(),
        };
        json.ancestors = Some(chain);
    } else {
        unexpanded.push(("ancestors", String::new()));
    }
    if expand.container {
        json.container = match item {
            Item::Content(_) => space.map(|s| {
                Box::new(v1::Content {
                    id: s.id.to_string(),
                    kind: space_json(s, base).kind,
                    status: s.status.as_str().into(),
                    title: None,
                    key: Some(s.key.clone()),
                    name: Some(s.name.clone()),
                    links: Some(v1::Links {
                        webui: Some(format!("/spaces/{}", s.key)),
                        self_link: Some(format!("{base}{space_path}")),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            }),
            Item::Comment(_) | Item::Attachment(_) => {
                item.container(site).map(|c| Box::new(content_stub(site, Item::Content(c), base)))
            }
        };
    } else {
        let container_path = match item {
            Item::Content(_) => space_path.clone(),
            Item::Comment(_) | Item::Attachment(_) => {
                item.container(site).map(|c| format!("/rest/api/content/{}", c.id)).unwrap_or_default()
            }
        };
        unexpanded.push(("container", container_path));
    }
    let storage = match item {
        Item::Content(c) => Some(c.body.as_str()),
        Item::Comment(c) => Some(c.body.as_str()),
        Item::Attachment(_) => None,
    };
    match (expand.body_storage, storage) {
        (true, Some(value)) => {
            json.body = Some(v1::ContentBodies {
                storage: Some(v1::ContentBody { value: value.to_string(), representation: "storage".into() }),
                view: None,
                expandable: Some(expandable(&[("view", String::new()), ("export_view", String::new())])),
            });
        }
        _ => unexpanded.push(("body", String::new())),
    }
    json.extensions = match item {
        Item::Content(c) if c.kind == ContentKind::Page => {
            Some(v1::ContentExtensions { position: Some(c.position.into()), ..Default::default() })
        }
        Item::Content(_) => None,
        Item::Comment(_) => {
            Some(v1::ContentExtensions { location: Some("footer".into()), ..Default::default() })
        }
        Item::Attachment(a) => {
            let media_type = a.file.kind.media_type();
            Some(v1::ContentExtensions {
                media_type: Some(media_type.into()),
                file_size: Some(a.file.size),
                file_id: Some(a.file_id.clone()),
                comment: Some(a.comment.clone()),
                ..Default::default()
            })
        }
    };
    if let Item::Attachment(a) = item {
        if let Some(links) = json.links.as_mut() {
            links.download = Some(download_link(a));
        }
    }
    if let (Item::Content(c), Some(links)) = (item, json.links.as_mut()) {
        links.tinyui = Some(format!("/x/{}", tiny_code(c.id)));
    }
    json.expandable = Some(expandable(&unexpanded));
    json
}

/// Parent comments of a reply, root first.
fn comment_ancestors<'a>(site: &'a Site, cm: &Comment) -> Vec<&'a Comment> {
    let mut chain = Vec::new();
    let mut cur = cm.parent_comment_id.and_then(|p| site.comments.get(&p));
    while let Some(parent) = cur {
        // Replies cannot form cycles through the model's mutations; the bound only guards a corrupt model.
        if chain.len() > 1_000 {
            break;
        }
        chain.push(parent);
        cur = parent.parent_comment_id.and_then(|p| site.comments.get(&p));
    }
    chain.reverse();
    chain
}

// ---------------------------------------------------------------------------------------------------------
// Restrictions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Operation {
    Read,
    Update,
}

impl Operation {
    fn parse(raw: &str) -> Result<Self, Problem> {
        match raw {
            "read" => Ok(Operation::Read),
            "update" => Ok(Operation::Update),
            other => Err(Problem::bad_request(format!("operation {other:?} is not read or update"))),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Operation::Read => "read",
            Operation::Update => "update",
        }
    }
}

/// Which parts of a restriction a request expanded. Without `expand`, users and groups are expanded
/// (the spec's default) and the content is not.
#[derive(Debug, Clone, Copy)]
struct RestrictionExpand {
    users: bool,
    groups: bool,
    content: bool,
}

impl RestrictionExpand {
    fn parse(params: &Params) -> Self {
        let e = expansions(params);
        if e.is_empty() {
            return RestrictionExpand { users: true, groups: true, content: false };
        }
        RestrictionExpand {
            users: e.contains("restrictions.user"),
            groups: e.contains("restrictions.group"),
            content: e.contains("content"),
        }
    }
}

/// One operation's restriction on `item`, its users and groups cut to `start..start + limit`.
fn restriction_json(
    site: &Site,
    item: Item<'_>,
    operation: Operation,
    expand: RestrictionExpand,
    (start, limit): (usize, usize),
    base: &str,
) -> v1::ContentRestriction {
    let id = item.v1_id();
    let op = operation.as_str();
    let empty = Restriction::default();
    let restriction = item.restriction(operation).unwrap_or(&empty);
    let mut unexpanded = Vec::new();
    let user = if expand.users {
        let results: Vec<v1::User> =
            restriction.users.iter().skip(start).take(limit).map(|a| user_json(site, base, a)).collect();
        Some(v1::UserArray {
            size: Some(results.len() as u32),
            results,
            start: Some(start as u32),
            limit: Some(limit as u32),
            total_size: None,
            links: None,
        })
    } else {
        unexpanded.push(("user", format!("/rest/api/content/{id}/restriction/byOperation/{op}/user")));
        None
    };
    let group = if expand.groups {
        let results: Vec<v1::Group> =
            restriction.groups.iter().skip(start).take(limit).map(|g| group_json(site, base, g)).collect();
        Some(v1::GroupArray {
            size: Some(results.len() as u32),
            results,
            start: Some(start as u32),
            limit: Some(limit as u32),
            total_size: None,
            links: None,
        })
    } else {
        unexpanded.push(("group", format!("/rest/api/content/{id}/restriction/byOperation/{op}/group")));
        None
    };
    let content_path = format!("/rest/api/content/{id}");
    v1::ContentRestriction {
        operation: op.into(),
        restrictions: Some(v1::Restrictions {
            user,
            group,
            expandable: (!unexpanded.is_empty()).then(|| expandable(&unexpanded)),
        }),
        content: expand.content.then(|| Box::new(content_stub(site, item, base))),
        expandable: if expand.content {
            v1::Expandable::new()
        } else {
            expandable(&[("content", content_path)])
        },
        links: v1::Links {
            self_link: Some(format!("{base}/rest/api/content/{id}/restriction/byOperation/{op}")),
            ..Default::default()
        },
    }
}

/// `GET /content/{id}/restriction/byOperation`: read and update, each with at most 100 users and 100
/// groups; a client that gets a full list pages on with the per-operation endpoint.
async fn restrictions_by_operation(
    State(state): State<SimState>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Answer {
    let expand = RestrictionExpand::parse(&ctx.params);
    let site = state.read();
    let item = Item::find(&site, &id)?;
    let base = ctx.base();
    let page = (0, RESTRICTION_LIMIT);
    let body = v1::RestrictionsByOperation {
        read: Some(restriction_json(&site, item, Operation::Read, expand, page, &base)),
        update: Some(restriction_json(&site, item, Operation::Update, expand, page, &base)),
        expandable: None,
        links: Some(response_links(&ctx)),
    };
    Ok(Json(body).into_response())
}

async fn restriction_for_operation(
    State(state): State<SimState>,
    Path((id, operation)): Path<(String, String)>,
    ctx: Ctx,
) -> Answer {
    let operation = Operation::parse(&operation)?;
    let expand = RestrictionExpand::parse(&ctx.params);
    let page = offset_params(&ctx.params, RESTRICTION_LIMIT, RESTRICTION_LIMIT)?;
    let site = state.read();
    let item = Item::find(&site, &id)?;
    let mut body = restriction_json(&site, item, operation, expand, page, &ctx.base());
    body.links = response_links(&ctx);
    Ok(Json(body).into_response())
}

// ---------------------------------------------------------------------------------------------------------
// CQL content search.

/// A content search cursor: the sort key and id of the last result served.
fn encode_search_cursor(key: i64, id: u64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(format!("cql:{key}:{id}"))
}

fn decode_search_cursor(cursor: &str) -> Option<(i64, u64)> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (key, id) = text.strip_prefix("cql:")?.split_once(':')?;
    Some((key.parse().ok()?, id.parse().ok()?))
}

/// `cqlcontext`: the content statuses to search (the rest of the object is not needed here).
fn searched_statuses(params: &Params) -> Result<Vec<Status>, Problem> {
    let current = vec![Status::Current];
    let Some(raw) = params.first("cqlcontext") else { return Ok(current) };
    let context: serde_json::Value = serde_json::from_str(raw)
        .map_err(|e| Problem::bad_request(format!("cqlcontext is not a JSON object: {e}")))?;
    let Some(statuses) = context.get("contentStatuses").and_then(|s| s.as_array()) else {
        return Ok(current);
    };
    statuses
        .iter()
        .map(|s| match s.as_str() {
            Some("current") => Ok(Status::Current),
            Some("archived") => Ok(Status::Archived),
            other => {
                Err(Problem::bad_request(format!("cqlcontext content status {other:?} is not supported")))
            }
        })
        .collect()
}

/// Every item in one space: its pages and blog posts, their comments and replies, their attachments.
fn items_of_space(site: &Site, space_id: u64) -> Vec<Item<'_>> {
    let mut items = Vec::new();
    for cid in site.index.contents_of_space.get(&space_id).into_iter().flatten() {
        let Some(c) = site.contents.get(cid) else { continue };
        items.push(Item::Content(c));
        let mut pending: Vec<u64> = site.index.comments_of.get(cid).cloned().unwrap_or_default();
        while let Some(cm) = pending.pop() {
            if let Some(comment) = site.comments.get(&cm) {
                items.push(Item::Comment(comment));
            }
            pending.extend(site.index.replies_of.get(&cm).into_iter().flatten());
        }
        items.extend(
            site.index
                .attachments_of
                .get(cid)
                .into_iter()
                .flatten()
                .filter_map(|a| site.attachments.get(a))
                .map(Item::Attachment),
        );
    }
    items
}

/// Every hit among all candidates: the items of the query's first space set (through the index), or of
/// the whole site.
fn search_all<'a>(
    site: &'a Site,
    space_sets: &[BTreeSet<u64>],
    to_hit: impl Fn(Item<'a>) -> Option<Hit<'a>>,
) -> Vec<Hit<'a>> {
    match space_sets.first() {
        Some(spaces) => spaces.iter().flat_map(|&s| items_of_space(site, s)).filter_map(to_hit).collect(),
        None => site
            .contents
            .values()
            .map(Item::Content)
            .chain(site.comments.values().map(Item::Comment))
            .chain(site.attachments.values().map(Item::Attachment))
            .filter_map(to_hit)
            .collect(),
    }
}

/// A search result: its sort key (update time, or 0 when ordering by id), its id and the item.
type Hit<'a> = (i64, u64, Item<'a>);

/// One page of the items a query selects, in result order, starting after the cursor's `(key, id)`;
/// and whether more follow. Costs one pass over the candidates and a sort of the page only.
fn search<'a>(
    site: &'a Site,
    query: &cql::Query,
    statuses: &[Status],
    after: Option<(i64, u64)>,
    limit: usize,
) -> (Vec<Hit<'a>>, bool) {
    let offset_ms = i64::from(site.admin_utc_offset_minutes) * 60_000;
    // Resolve space keys and local times once, not per item.
    let space_sets: Vec<BTreeSet<u64>> = query
        .clauses
        .iter()
        .filter_map(|c| match c {
            cql::Clause::Space(keys) => {
                Some(keys.iter().filter_map(|k| site.index.space_by_key.get(k).copied()).collect())
            }
            _ => None,
        })
        .collect();
    let times: Vec<(cql::Comparison, (i64, i64))> = query
        .clauses
        .iter()
        .filter_map(|c| match c {
            cql::Clause::LastModified(cmp, local) => Some((*cmp, local.to_utc_millis(offset_ms))),
            _ => None,
        })
        .collect();
    let id_sets: Vec<BTreeSet<&str>> = query
        .clauses
        .iter()
        .filter_map(|c| match c {
            cql::Clause::Id(ids) => Some(ids.iter().map(String::as_str).collect()),
            _ => None,
        })
        .collect();
    let type_lists: Vec<&Vec<String>> = query
        .clauses
        .iter()
        .filter_map(|c| match c {
            cql::Clause::Type(types) => Some(types),
            _ => None,
        })
        .collect();
    let descending = query.order.descending;
    let beyond = |key: (i64, u64)| match after {
        None => true,
        Some(last) if descending => key < last,
        Some(last) => key > last,
    };
    let to_hit = |item: Item<'a>| -> Option<Hit<'a>> {
        let updated = item.updated();
        let admitted = statuses.contains(&item.status())
            && type_lists.iter().all(|types| types.iter().any(|t| t == item.type_name()))
            && times.iter().all(|(cmp, unit)| cmp.holds(updated, *unit))
            && (id_sets.is_empty() || id_sets.iter().all(|set| set.contains(item.v1_id().as_str())))
            && (space_sets.is_empty()
                || item.space_id(site).is_some_and(|s| space_sets.iter().all(|set| set.contains(&s))));
        let id = match item {
            Item::Content(c) => c.id,
            Item::Comment(c) => c.id,
            Item::Attachment(a) => a.id,
        };
        let key = match query.order.field {
            cql::OrderField::LastModified => updated,
            cql::OrderField::Id => 0,
        };
        (admitted && beyond((key, id))).then_some((key, id, item))
    };
    // Pages and blog posts in id order (what a permission crawl asks for) come from id-ordered lists:
    // each source is walked from the cursor and stops after `limit + 1` hits, so a page costs the same
    // on a site of a hundred thousand items as on a small one.
    let contents_only = type_lists.iter().any(|types| {
        types.iter().all(|t| t == ContentKind::Page.as_str() || t == ContentKind::BlogPost.as_str())
    });
    let mut hits: Vec<Hit<'a>> = if let Some(ids) = id_sets.first() {
        // Listed ids are looked up directly; an id listed twice is one hit.
        let mut found: BTreeMap<u64, Hit<'a>> = BTreeMap::new();
        for hit in ids.iter().filter_map(|raw| Item::find(site, raw).ok()).filter_map(to_hit) {
            found.insert(hit.1, hit);
        }
        found.into_values().collect()
    } else if contents_only && query.order.field == cql::OrderField::Id && !descending {
        let start = after.map_or(0, |(_, id)| id.saturating_add(1));
        match space_sets.first() {
            Some(spaces) => {
                let mut merged = Vec::new();
                for list in spaces.iter().filter_map(|s| site.index.contents_of_space.get(s)) {
                    let from = list.partition_point(|&id| id < start);
                    merged.extend(
                        list[from..]
                            .iter()
                            .filter_map(|id| site.contents.get(id))
                            .map(Item::Content)
                            .filter_map(to_hit)
                            .take(limit + 1),
                    );
                }
                merged
            }
            None => site
                .contents
                .range(start..)
                .map(|(_, c)| Item::Content(c))
                .filter_map(to_hit)
                .take(limit + 1)
                .collect(),
        }
    } else {
        search_all(site, &space_sets, to_hit)
    };

    let order = |a: &Hit<'_>, b: &Hit<'_>| {
        let ascending = (a.0, a.1).cmp(&(b.0, b.1));
        if descending {
            ascending.reverse()
        } else {
            ascending
        }
    };
    let more = hits.len() > limit;
    if more {
        hits.select_nth_unstable_by(limit, order);
        hits.truncate(limit);
    }
    hits.sort_unstable_by(order);
    (hits, more)
}

/// The system limit on a content search's `limit`, which depends on the expansions asked for. The spec
/// states one: at most 25 with `body.export_view` or `body.styled_view`. For the others it only says the
/// limit "may be restricted by fixed system limits"; the ones served here are those Atlassian documents
/// for the same endpoint on Data Center (50 with any other body expansion, 200 with other expansions,
/// 1000 without any), as Cloud publishes none.
fn search_max_limit(params: &Params) -> usize {
    let expand = expansions(params);
    let body = |x: &&str| *x == "body" || x.starts_with("body.");
    if expand.iter().any(|x| x.starts_with("body.export_view") || x.starts_with("body.styled_view")) {
        25
    } else if expand.iter().any(body) {
        50
    } else if !expand.is_empty() {
        200
    } else {
        1000
    }
}

/// `GET /content/search?cql=…`: v1 content with cursor pagination. `_links.next` is relative to `/wiki`.
async fn content_search(State(state): State<SimState>, ctx: Ctx) -> Answer {
    let p = &ctx.params;
    let raw_cql = p.first("cql").ok_or_else(|| Problem::bad_request("parameter cql is required"))?;
    let query = cql::parse(raw_cql)
        .map_err(|e| Problem::bad_request(format!("could not parse cql {raw_cql:?}: {e}")))?;
    let statuses = searched_statuses(p)?;
    let limit: Option<i64> = p.number("limit")?;
    let limit = clamp_limit(limit.map(|l| l.max(1) as usize), SEARCH_DEFAULT_LIMIT, search_max_limit(p));
    let after = match p.first("cursor") {
        None | Some("") => None,
        Some(c) => Some(
            decode_search_cursor(c).ok_or_else(|| Problem::bad_request(format!("invalid cursor {c:?}")))?,
        ),
    };
    let expand = ContentExpand::parse(p);
    let site = state.read();
    let (page, more) = search(&site, &query, &statuses, after, limit);
    let base = ctx.base();
    let results: Vec<v1::Content> =
        page.iter().map(|&(_, _, item)| content_json(&site, item, &base, expand)).collect();
    let mut links = response_links(&ctx);
    if let (true, Some(&(key, id, _))) = (more, page.last()) {
        let cursor = encode_search_cursor(key, id);
        links.next = Some(p.link(
            "/rest/api/content/search",
            &["cursor", "next"],
            &[("next", "true"), ("cursor", &cursor)],
        ));
    }
    let body = v1::ContentArray {
        size: Some(results.len() as u32),
        results,
        start: Some(0),
        limit: Some(limit as u32),
        total_size: None,
        links: Some(links),
    };
    Ok(Json(body).into_response())
}

/// The CQL subset: parsing and the clauses' meaning.
mod cql {
    use chrono::NaiveDateTime;

    /// A CQL query: a conjunction of clauses and an order.
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct Query {
        pub clauses: Vec<Clause>,
        pub order: Order,
    }

    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum Clause {
        /// `type = page`, `type in (page, blogpost, comment, attachment)`.
        Type(Vec<String>),
        /// `space = KEY`, `space in (A, B)`.
        Space(Vec<String>),
        /// `id = 123`, `id in (123, att456)`: content ids as v1 spells them.
        Id(Vec<String>),
        /// `lastmodified >= "2024/01/01 10:00"`: a local date or minute in the admin's time zone.
        LastModified(Comparison, LocalTime),
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Comparison {
        Equal,
        Less,
        LessOrEqual,
        Greater,
        GreaterOrEqual,
    }

    /// A date (`2024-01-01`) or a minute (`2024/01/01 10:00`) on the admin's wall clock.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct LocalTime {
        pub start: NaiveDateTime,
        /// The length of the unit written: a day or a minute, in milliseconds.
        pub unit_ms: i64,
    }

    impl LocalTime {
        /// The unit's first and last-plus-one instant in UTC milliseconds, for a zone `offset_ms` east of UTC.
        pub fn to_utc_millis(self, offset_ms: i64) -> (i64, i64) {
            let start = self.start.and_utc().timestamp_millis() - offset_ms;
            (start, start + self.unit_ms)
        }
    }

    impl Comparison {
        /// Whether `t` satisfies the comparison against the unit `[start, end)`: `=` means within the unit,
        /// the others compare with its first instant.
        pub fn holds(self, t: i64, (start, end): (i64, i64)) -> bool {
            match self {
                Comparison::Equal => start <= t && t < end,
                Comparison::Less => t < start,
                Comparison::LessOrEqual => t <= start,
                Comparison::Greater => t > start,
                Comparison::GreaterOrEqual => t >= start,
            }
        }
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum OrderField {
        LastModified,
        Id,
    }

    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct Order {
        pub field: OrderField,
        pub descending: bool,
    }

    /// The content types CQL knows. Those the simulator never holds select nothing.
    const TYPES: &[&str] =
        &["page", "blogpost", "comment", "attachment", "whiteboard", "database", "embed", "folder"];

    #[derive(Debug, Clone, PartialEq, Eq)]
    enum Token {
        Word(String),
        Quoted(String),
        Op(&'static str),
        Open,
        Close,
        Comma,
    }

    fn tokenize(input: &str) -> Result<Vec<Token>, String> {
        let mut tokens = Vec::new();
        let mut chars = input.chars().peekable();
        while let Some(&c) = chars.peek() {
            match c {
                c if c.is_whitespace() => {
                    chars.next();
                }
                '(' | ')' | ',' => {
                    chars.next();
                    tokens.push(match c {
                        '(' => Token::Open,
                        ')' => Token::Close,
                        _ => Token::Comma,
                    });
                }
                '"' | '\'' => {
                    chars.next();
                    let mut text = String::new();
                    loop {
                        match chars.next() {
                            None => return Err(format!("unterminated string starting {c}{text}")),
                            Some('\\') => text.extend(chars.next()),
                            Some(q) if q == c => break,
                            Some(other) => text.push(other),
                        }
                    }
                    tokens.push(Token::Quoted(text));
                }
                '=' | '!' | '<' | '>' | '~' => {
                    chars.next();
                    let followed_by_eq = chars.peek() == Some(&'=');
                    let op = match (c, followed_by_eq) {
                        ('=', _) => "=",
                        ('!', true) => "!=",
                        ('<', true) => "<=",
                        ('>', true) => ">=",
                        ('<', false) => "<",
                        ('>', false) => ">",
                        ('~', _) => "~",
                        _ => return Err("stray '!'".into()),
                    };
                    if op.len() == 2 {
                        chars.next();
                    }
                    if c == '!' && chars.peek() == Some(&'~') {
                        return Err("operator !~ is not supported".into());
                    }
                    tokens.push(Token::Op(op));
                }
                _ => {
                    let mut word = String::new();
                    while let Some(&w) = chars.peek() {
                        if w.is_whitespace() || "()=,!<>~\"'".contains(w) {
                            break;
                        }
                        word.push(w);
                        chars.next();
                    }
                    tokens.push(Token::Word(word));
                }
            }
        }
        Ok(tokens)
    }

    struct Parser {
        tokens: Vec<Token>,
        pos: usize,
    }

    impl Parser {
        fn peek(&self) -> Option<&Token> {
            self.tokens.get(self.pos)
        }

        fn next(&mut self) -> Option<Token> {
            let t = self.tokens.get(self.pos).cloned();
            self.pos += 1;
            t
        }

        fn peek_keyword(&self, keyword: &str) -> bool {
            matches!(self.peek(), Some(Token::Word(w)) if w.eq_ignore_ascii_case(keyword))
        }

        fn expect_keyword(&mut self, keyword: &str) -> Result<(), String> {
            if self.peek_keyword(keyword) {
                self.pos += 1;
                Ok(())
            } else {
                Err(format!("expected {keyword:?} at {}", self.describe_here()))
            }
        }

        fn describe_here(&self) -> String {
            match self.peek() {
                None => "the end".into(),
                Some(Token::Word(w)) => format!("{w:?}"),
                Some(Token::Quoted(q)) => format!("\"{q}\""),
                Some(Token::Op(o)) => format!("operator {o}"),
                Some(Token::Open) => "'('".into(),
                Some(Token::Close) => "')'".into(),
                Some(Token::Comma) => "','".into(),
            }
        }

        /// `term (and term)*`, stopping before `order`, `)` or the end.
        fn conjunction(&mut self, clauses: &mut Vec<Clause>) -> Result<(), String> {
            loop {
                self.term(clauses)?;
                if self.peek_keyword("and") {
                    self.pos += 1;
                    continue;
                }
                if self.peek_keyword("or") {
                    return Err("or is not supported; only and".into());
                }
                return Ok(());
            }
        }

        fn term(&mut self, clauses: &mut Vec<Clause>) -> Result<(), String> {
            match self.next() {
                Some(Token::Open) => {
                    self.conjunction(clauses)?;
                    match self.next() {
                        Some(Token::Close) => Ok(()),
                        _ => Err("missing ')'".into()),
                    }
                }
                Some(Token::Word(field)) if field.eq_ignore_ascii_case("not") => {
                    Err("not is not supported".into())
                }
                Some(Token::Word(field)) => self.clause(&field).map(|c| clauses.push(c)),
                _ => {
                    self.pos -= 1;
                    Err(format!("expected a field at {}", self.describe_here()))
                }
            }
        }

        fn value(&mut self) -> Result<String, String> {
            match self.next() {
                Some(Token::Word(w)) | Some(Token::Quoted(w)) => {
                    if w.ends_with(')') || self.peek() == Some(&Token::Open) {
                        return Err(format!("functions such as {w}() are not supported"));
                    }
                    Ok(w)
                }
                _ => {
                    self.pos -= 1;
                    Err(format!("expected a value at {}", self.describe_here()))
                }
            }
        }

        /// `= value` or `in (value, …)`.
        fn values(&mut self, field: &str) -> Result<Vec<String>, String> {
            if self.peek_keyword("in") {
                self.pos += 1;
                if self.next() != Some(Token::Open) {
                    return Err(format!("expected '(' after {field} in"));
                }
                let mut values = vec![self.value()?];
                loop {
                    match self.next() {
                        Some(Token::Comma) => values.push(self.value()?),
                        Some(Token::Close) => return Ok(values),
                        _ => return Err(format!("expected ',' or ')' in the list of {field}")),
                    }
                }
            }
            if self.peek_keyword("not") {
                return Err(format!("{field} not in is not supported"));
            }
            match self.next() {
                Some(Token::Op("=")) => Ok(vec![self.value()?]),
                Some(Token::Op(op)) => Err(format!("operator {op} is not supported for {field}")),
                _ => {
                    self.pos -= 1;
                    Err(format!("expected = or in after {field}, found {}", self.describe_here()))
                }
            }
        }

        fn clause(&mut self, field: &str) -> Result<Clause, String> {
            match field.to_ascii_lowercase().as_str() {
                "type" => {
                    let types = self.values("type")?;
                    for t in &types {
                        if !TYPES.contains(&t.as_str()) {
                            return Err(format!("unknown content type {t:?}"));
                        }
                    }
                    Ok(Clause::Type(types))
                }
                "space" | "space.key" => Ok(Clause::Space(self.values("space")?)),
                "id" | "content" => Ok(Clause::Id(self.values("id")?)),
                "lastmodified" => {
                    let cmp = match self.next() {
                        Some(Token::Op("=")) => Comparison::Equal,
                        Some(Token::Op("<")) => Comparison::Less,
                        Some(Token::Op("<=")) => Comparison::LessOrEqual,
                        Some(Token::Op(">")) => Comparison::Greater,
                        Some(Token::Op(">=")) => Comparison::GreaterOrEqual,
                        _ => return Err("lastmodified needs =, <, <=, > or >=".into()),
                    };
                    let value = self.value()?;
                    Ok(Clause::LastModified(cmp, parse_local_time(&value)?))
                }
                other => {
                    Err(format!("field {other:?} is not supported; use type, space, id or lastmodified"))
                }
            }
        }

        fn order(&mut self) -> Result<Order, String> {
            if self.peek().is_none() {
                return Ok(Order { field: OrderField::Id, descending: false });
            }
            self.expect_keyword("order")?;
            self.expect_keyword("by")?;
            let field = match self.next() {
                Some(Token::Word(f)) if f.eq_ignore_ascii_case("lastmodified") => OrderField::LastModified,
                Some(Token::Word(f)) if f.eq_ignore_ascii_case("id") => OrderField::Id,
                Some(Token::Word(f)) => {
                    return Err(format!("order by {f} is not supported; use lastmodified or id"))
                }
                _ => return Err("order by needs a field".into()),
            };
            let descending = if self.peek_keyword("desc") {
                self.pos += 1;
                true
            } else {
                if self.peek_keyword("asc") {
                    self.pos += 1;
                }
                false
            };
            match self.peek() {
                None => Ok(Order { field, descending }),
                Some(_) => Err(format!("unexpected {} after order by", self.describe_here())),
            }
        }
    }

    /// Parses a CQL query of the supported subset; the error names what is not understood.
    pub fn parse(input: &str) -> Result<Query, String> {
        let mut parser = Parser { tokens: tokenize(input)?, pos: 0 };
        let mut clauses = Vec::new();
        if !(parser.peek().is_none() || parser.peek_keyword("order")) {
            parser.conjunction(&mut clauses)?;
        }
        let order = parser.order()?;
        Ok(Query { clauses, order })
    }

    /// `yyyy/MM/dd HH:mm`, `yyyy-MM-dd HH:mm`, `yyyy/MM/dd` or `yyyy-MM-dd`.
    fn parse_local_time(value: &str) -> Result<LocalTime, String> {
        crate::sim::http::common::local_date_literal(value)
            .map(|(start, unit_ms)| LocalTime { start, unit_ms })
            .ok_or_else(|| {
                format!(
                    "date {:?} is not yyyy/MM/dd HH:mm, yyyy-MM-dd HH:mm, yyyy/MM/dd or yyyy-MM-dd",
                    value.trim()
                )
            })
    }

    #[cfg(test)]
    mod tests {
        use super::*;
        use chrono::{NaiveDate, NaiveTime};

        fn minute(s: &str) -> LocalTime {
            LocalTime {
                start: NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").expect("test time"),
                unit_ms: 60_000,
            }
        }

        #[test]
        fn supported_queries_parse() {
            let cases: Vec<(&str, Vec<Clause>, Order)> = vec![
                (
                    "type = page",
                    vec![Clause::Type(vec!["page".into()])],
                    Order { field: OrderField::Id, descending: false },
                ),
                (
                    "type in (page, blogpost,comment , attachment) AND space = \"ENG\"",
                    vec![
                        Clause::Type(vec![
                            "page".into(),
                            "blogpost".into(),
                            "comment".into(),
                            "attachment".into(),
                        ]),
                        Clause::Space(vec!["ENG".into()]),
                    ],
                    Order { field: OrderField::Id, descending: false },
                ),
                (
                    "lastmodified >= \"2024/03/01 10:05\" order by lastmodified desc",
                    vec![Clause::LastModified(Comparison::GreaterOrEqual, minute("2024-03-01 10:05"))],
                    Order { field: OrderField::LastModified, descending: true },
                ),
                (
                    "(space in (A, '~dave')) and lastModified<'2024-03-01' ORDER BY id asc",
                    vec![
                        Clause::Space(vec!["A".into(), "~dave".into()]),
                        Clause::LastModified(
                            Comparison::Less,
                            LocalTime {
                                start: NaiveDate::from_ymd_opt(2024, 3, 1)
                                    .expect("date")
                                    .and_time(NaiveTime::MIN),
                                unit_ms: 86_400_000,
                            },
                        ),
                    ],
                    Order { field: OrderField::Id, descending: false },
                ),
                (
                    "order by lastmodified",
                    vec![],
                    Order { field: OrderField::LastModified, descending: false },
                ),
                (
                    "id in (100, \"att130\") and type = page",
                    vec![Clause::Id(vec!["100".into(), "att130".into()]), Clause::Type(vec!["page".into()])],
                    Order { field: OrderField::Id, descending: false },
                ),
            ];
            for (input, clauses, order) in cases {
                assert_eq!(parse(input), Ok(Query { clauses, order }), "{input}");
            }
        }

        #[test]
        fn unsupported_queries_are_rejected_with_a_reason() {
            let cases = [
                ("type = page or type = blogpost", "or is not supported"),
                ("text ~ \"x\"", "field \"text\" is not supported"),
                ("type = pgae", "unknown content type"),
                ("lastmodified > now(\"-1d\")", "functions"),
                ("lastmodified >= \"yesterday\"", "is not yyyy/MM/dd"),
                ("type = page order by title", "order by title is not supported"),
                ("not type = page", "not is not supported"),
                ("type != page", "operator != is not supported"),
                ("space = \"ENG", "unterminated string"),
                ("type = page and", "expected a field"),
            ];
            for (input, reason) in cases {
                let err = parse(input).expect_err(input);
                assert!(err.contains(reason), "{input}: {err}");
            }
        }

        #[test]
        fn comparisons_against_a_minute() {
            // The minute 10:05 local at +10:00 starts at 00:05 UTC.
            let unit = minute("2024-03-01 10:05").to_utc_millis(600 * 60_000);
            let start = NaiveDateTime::parse_from_str("2024-03-01 00:05", "%Y-%m-%d %H:%M")
                .expect("time")
                .and_utc()
                .timestamp_millis();
            assert_eq!(unit, (start, start + 60_000));
            let table = [
                (Comparison::GreaterOrEqual, start, true),
                (Comparison::GreaterOrEqual, start - 1, false),
                (Comparison::Greater, start, false),
                (Comparison::Greater, start + 1, true),
                (Comparison::Less, start - 1, true),
                (Comparison::Less, start, false),
                (Comparison::LessOrEqual, start, true),
                (Comparison::Equal, start + 59_999, true),
                (Comparison::Equal, start + 60_000, false),
            ];
            for (cmp, t, expected) in table {
                assert_eq!(cmp.holds(t, unit), expected, "{cmp:?} {t}");
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------------------
// Attachment bytes.

/// The token of a media URL: derived from the file id and the site's seed, so it is stable for a site,
/// unguessable without the seed, and independent of the admin credential.
fn media_token(seed: u64, file_id: &str) -> String {
    let digest = Sha256::digest(format!("permdex-sim-media:{seed}:{file_id}").as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// The bytes of an attachment's file.
fn attachment_bytes(file: &FileBody) -> Vec<u8> {
    crate::sim::files::render(file)
}

/// `GET /content/{id}/child/attachment/{attId}/download`: 302 to the media URL, as real sites answer.
async fn download_attachment(
    State(state): State<SimState>,
    Path((container, attachment)): Path<(String, String)>,
    ctx: Ctx,
) -> Answer {
    let att_id = attachment_id(&attachment)?;
    let container_id: u64 = container
        .parse()
        .map_err(|_| Problem::bad_request(format!("id {container:?} is not a content id")))?;
    let version: Option<u32> = ctx.params.number("version")?;
    let site = state.read();
    let a =
        site.attachments.get(&att_id).filter(|a| a.container_id == container_id).ok_or_else(|| {
            Problem::not_found(format!("no attachment att{att_id} on content {container_id}"))
        })?;
    if version.is_some_and(|v| v != a.version) {
        return Err(Problem::not_found(format!(
            "version {version:?} of attachment att{att_id} is not available"
        ))
        .into());
    }
    let name: String = url::form_urlencoded::byte_serialize(a.file.filename.as_bytes()).collect();
    let location = format!(
        "{}/_media/file/{}/binary?token={}&client=permdex-sim&collection=contentId-{}&dl=true&name={name}",
        ctx.origin,
        a.file_id,
        media_token(site.seed, &a.file_id),
        a.container_id
    );
    let mut response = StatusCode::FOUND.into_response();
    let value = HeaderValue::from_str(&location).map_err(|_| Problem {
        status: StatusCode::INTERNAL_SERVER_ERROR,
        message: "bad media url".into(),
    })?;
    response.headers_mut().insert(header::LOCATION, value);
    Ok(response)
}

/// `downloadLink` and `_links.download` paths: API tokens get 401 here since 2026, as on real sites.
async fn download_link_refused() -> Response {
    error_response(
        Product::ConfluenceV1,
        StatusCode::UNAUTHORIZED,
        "download links do not accept API tokens; use /wiki/rest/api/content/{id}/child/attachment/{attachmentId}/download",
    )
}

/// The media service: serves a file's bytes to whoever holds the URL's token, without Basic auth.
async fn media_file(State(state): State<SimState>, Path(file_id): Path<String>, ctx: Ctx) -> Response {
    let refuse = |status: StatusCode, message: &str| (status, message.to_string()).into_response();
    let site = state.read();
    let token_ok = ctx.params.first("token").is_some_and(|t| t == media_token(site.seed, &file_id));
    if !token_ok {
        return refuse(StatusCode::UNAUTHORIZED, "missing or invalid media token");
    }
    let container = ctx
        .params
        .first("collection")
        .and_then(|c| c.strip_prefix("contentId-"))
        .and_then(|c| c.parse::<u64>().ok());
    let attachment = container
        .and_then(|c| site.index.attachments_of.get(&c))
        .into_iter()
        .flatten()
        .filter_map(|a| site.attachments.get(a))
        .find(|a| a.file_id == file_id);
    let Some(a) = attachment else { return refuse(StatusCode::NOT_FOUND, "no such file in this collection") };
    let disposition = format!("attachment; filename=\"{}\"", a.file.filename.replace(['"', '\\'], "_"));
    let mut response = attachment_bytes(&a.file).into_response();
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(a.file.kind.media_type()) {
        headers.insert(header::CONTENT_TYPE, v);
    }
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_zone_names() {
        let cases = [
            (0, "Etc/UTC"),
            (600, "Etc/GMT-10"),
            (-300, "Etc/GMT+5"),
            (330, "Asia/Kolkata"),
            (345, "Asia/Kathmandu"),
            (-150, "-02:30"),
        ];
        for (offset, name) in cases {
            assert_eq!(time_zone_name(offset), name, "{offset}");
        }
    }

    #[test]
    fn search_cursor_round_trips_and_rejects_others() {
        let c = encode_search_cursor(1_704_067_300_000, 130);
        assert_eq!(decode_search_cursor(&c), Some((1_704_067_300_000, 130)));
        assert_eq!(decode_search_cursor("bm9wZQ"), None);
        assert_eq!(decode_search_cursor(&super::super::common::encode_cursor(5)), None);
    }

    #[test]
    fn media_tokens_depend_on_seed_and_file() {
        assert_eq!(media_token(1, "f"), media_token(1, "f"));
        assert_ne!(media_token(1, "f"), media_token(2, "f"));
        assert_ne!(media_token(1, "f"), media_token(1, "g"));
    }
}
