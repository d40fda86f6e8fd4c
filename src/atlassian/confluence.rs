//! The Confluence crawler: reads a Confluence Cloud site (or the simulator) through the shared
//! [`Client`] and hands back the [`model`](super::model) types, never wire types.
//!
//! What comes from where:
//! - spaces and their readers: v2 `/spaces` and `/spaces/{id}/permissions` (only `read` on `space` counts);
//! - pages and blog posts with storage bodies: v2 `/pages`, `/blogposts` (≤ 100 space ids per call);
//! - ancestors and read restrictions of many items per call: v1 CQL content search with
//!   `expand=ancestors,restrictions.read.restrictions.user,restrictions.read.restrictions.group`;
//! - footer comments and attachments of the whole site: v2 `/footer-comments`, `/attachments`;
//! - inline comments: v2 `/inline-comments` (the whole site) or `/pages/{id}/inline-comments` with each
//!   thread's `/inline-comments/{id}/children`;
//! - bytes: v1 `/content/{id}/child/attachment/{attId}/download` (the `downloadLink` refuses API tokens);
//! - users and groups: v1 `/group` and `membersByGroupId`, v2 `POST /users-bulk`;
//! - role-based space access: v2 `/space-role-mode`, `/space-roles`, `/spaces/{id}/role-assignments`.
//!
//! Listings that the engine walks page by page (`contents`, `access`, `comments`, `attachments`) return
//! one [`Page`] per call with an opaque cursor that can be stored and passed back.
//! A listing call that fails is an error: the engine records it, a listing never ends early in silence.
//! What fails for one item only (its restriction, its ancestors) makes that item's access unknown
//! (`restriction: None`, readable by nobody), never public.
//!
//! Labels: v2 bulk listings cannot include them, so each page of contents costs one more CQL search per
//! 200 items (`id in (…)`, `expand=metadata.labels`).
//!
//! Deliberately absent: whiteboards, databases and folders as content, and CQL `lastmodified` queries:
//! the sync engine finds changes by comparing the versions the access listing carries, which needs no
//! time zone.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::client::Client;
use super::model::{
    AccessClass, Attachment, Comment, Content, ContentAccess, ContentKind, Directory, DirectoryGroup,
    DirectoryUser, InlineComment, InlineResolution, Restriction, RoleAssignment, RoleHolder, Space,
    SpaceKind, SpaceRole, SpaceRoleMode, Subject,
};
use super::paginate::{CursorAnomaly, CursorPage, CursorPager, OffsetPager};
use super::path::segment;
use super::wire::confluence::{v1, v2};
use super::{Error, Page};

/// Items per page of v2 listings: the documented maximum.
const V2_LIMIT: u32 = 250;
/// Space ids per v2 content listing call (`space-id` takes at most 100).
const SPACE_IDS_PER_CALL: usize = 100;
/// Space keys per CQL query, keeping the URL well under common length limits.
const SPACE_KEYS_PER_QUERY: usize = 100;
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

    // -----------------------------------------------------------------------------------------------------
    // Spaces.

    /// Every space (global, personal; current and archived) with its readers.
    pub async fn spaces(&self) -> Result<Vec<Space>, Error> {
        self.spaces_where(|_| true).await
    }

    /// The spaces `keep` accepts, with their readers. `keep` sees each space before its permissions are
    /// read (its `readers` are empty), so spaces left out cost no permission listing.
    pub async fn spaces_where(&self, keep: impl Fn(&Space) -> bool) -> Result<Vec<Space>, Error> {
        let listed: Vec<v2::Space> = collect_cursor::<v2::MultiEntityResult<v2::Space>>(
            &self.client,
            format!("/wiki/api/v2/spaces?limit={V2_LIMIT}"),
        )
        .await?;
        let listed: Vec<v2::Space> = listed
            .into_iter()
            .filter(|space| is_id(&space.id) && keep(&self.space_model(space, &[])))
            .collect();
        // Every listing is started at once; the client's concurrency limit decides how many run, so a
        // listing that waits out a 429 holds up no other.
        let mut tasks = tokio::task::JoinSet::new();
        for (i, space) in listed.iter().enumerate() {
            let client = self.client.clone();
            let path = format!("/wiki/api/v2/spaces/{}/permissions?limit={V2_LIMIT}", segment(&space.id));
            tasks.spawn(async move {
                (i, collect_cursor::<v2::MultiEntityResult<v2::SpacePermission>>(&client, path).await)
            });
        }
        let mut permissions: Vec<Vec<v2::SpacePermission>> = vec![Vec::new(); listed.len()];
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(|e| Error::InvalidRequest {
                path: "/wiki/api/v2/spaces/{id}/permissions".into(),
                reason: format!("permission listing task failed: {e}"),
            })?;
            permissions[i] = result?;
        }
        Ok(listed.iter().zip(&permissions).map(|(space, perms)| self.space_model(space, perms)).collect())
    }

    fn space_model(&self, space: &v2::Space, permissions: &[v2::SpacePermission]) -> Space {
        let mut readers: Vec<Subject> = Vec::new();
        for p in
            permissions.iter().filter(|p| p.operation.key == "read" && p.operation.target_type == "space")
        {
            let subject = subject_of(&p.principal);
            if !readers.contains(&subject) {
                readers.push(subject);
            }
        }
        let kind = if space.kind == "personal" {
            let owner =
                space.space_owner_id.clone().or_else(|| space.author_id.clone()).filter(|o| !o.is_empty());
            SpaceKind::Personal { owner }
        } else {
            SpaceKind::Global
        };
        let url = match space.links.webui.as_deref() {
            Some(webui) => self.web_url(webui),
            None => self.web_url(&format!("/spaces/{}", segment(&space.key))),
        };
        Space {
            id: space.id.clone(),
            key: space.key.clone(),
            name: space.name.clone(),
            kind,
            archived: space.status == "archived",
            readers,
            url,
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Space roles.

    /// How the site decides who may view a space. A site that does not answer the call (404: it has no
    /// roles, or the account may not see them) is taken to have none: its spaces' roles then grant nobody.
    pub async fn space_role_mode(&self) -> Result<SpaceRoleMode, Error> {
        let answer = self.client.get_json::<v2::SpaceRoleMode>("/wiki/api/v2/space-role-mode").await;
        Ok(match not_found_as_none(answer)? {
            None => SpaceRoleMode::PreRoles,
            Some(m) => match m.mode.as_str() {
                "PRE_ROLES" => SpaceRoleMode::PreRoles,
                "ROLES_TRANSITION" => SpaceRoleMode::Transition,
                "ROLES" => SpaceRoleMode::Roles,
                other => SpaceRoleMode::Unknown(other.to_owned()),
            },
        })
    }

    /// Every space role of the site (`GET /space-roles`). A role without an id is left out.
    pub async fn space_roles(&self) -> Result<Vec<SpaceRole>, Error> {
        let listed = collect_cursor::<v2::MultiEntityResult<v2::SpaceRole>>(
            &self.client,
            format!("/wiki/api/v2/space-roles?limit={V2_LIMIT}"),
        )
        .await?;
        Ok(listed
            .into_iter()
            .filter(|r| !r.id.is_empty())
            .map(|r| {
                let permissions: BTreeSet<String> = r.space_permissions.into_iter().collect();
                SpaceRole {
                    views_space: permissions.contains(VIEW_SPACE),
                    permissions,
                    id: r.id,
                    name: r.name,
                }
            })
            .collect())
    }

    /// The role assignments of one space (`GET /spaces/{id}/role-assignments`).
    pub async fn role_assignments(&self, space_id: &str) -> Result<Vec<RoleAssignment>, Error> {
        let path = format!("/wiki/api/v2/spaces/{}/role-assignments?limit={V2_LIMIT}", segment(space_id));
        let listed =
            collect_cursor::<v2::MultiEntityResult<v2::SpaceRoleAssignment>>(&self.client, path).await?;
        // An assignment of a role that cannot be named gives nothing anyone could hold.
        Ok(listed
            .into_iter()
            .filter(|a| is_id(&a.role_id))
            .map(|a| RoleAssignment { holder: role_holder(&a.principal), role_id: a.role_id })
            .collect())
    }

    // -----------------------------------------------------------------------------------------------------
    // Pages and blog posts.

    /// Pages or blog posts of the given spaces with storage bodies and labels, one page per call.
    pub async fn contents(
        &self,
        kind: ContentKind,
        space_ids: &[String],
        include_archived: bool,
        cursor: Option<&str>,
    ) -> Result<Page<Content>, Error> {
        let collection = collection(kind);
        // Blog posts cannot be archived, and their listing does not accept the status.
        let statuses: &[&str] = match (kind, include_archived) {
            (ContentKind::Page, true) => &["current", "archived"],
            _ => &["current"],
        };
        let firsts: Vec<String> = space_ids
            .chunks(SPACE_IDS_PER_CALL)
            .map(|chunk| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                query.append_pair("space-id", &chunk.join(","));
                for status in statuses {
                    query.append_pair("status", status);
                }
                query.append_pair("body-format", "storage");
                query.append_pair("limit", &V2_LIMIT.to_string());
                format!("/wiki/api/v2/{collection}?{}", query.finish())
            })
            .collect();
        let mut page = match kind {
            ContentKind::Page => {
                let page =
                    chunked_page::<v2::MultiEntityResult<v2::Page>>(&self.client, &firsts, cursor).await?;
                Page { items: page.items.iter().map(|p| self.page_model(p)).collect(), next: page.next }
            }
            ContentKind::BlogPost => {
                let page = chunked_page::<v2::MultiEntityResult<v2::BlogPost>>(&self.client, &firsts, cursor)
                    .await?;
                Page { items: page.items.iter().map(|b| self.blogpost_model(b)).collect(), next: page.next }
            }
        };
        // An item without a usable id cannot be fetched, indexed or deleted by id: it is left out.
        page.items.retain(|c| is_id(&c.id));
        self.fill_labels(kind, &mut page.items).await?;
        Ok(page)
    }

    /// Labels of listed contents, which v2 bulk listings cannot include: one CQL content search per
    /// [`SEARCH_LIMIT`] ids with `expand=metadata.labels`; an item with more labels than the expansion
    /// holds has them listed on their own.
    async fn fill_labels(&self, kind: ContentKind, items: &mut [Content]) -> Result<(), Error> {
        for chunk in items.chunks_mut(SEARCH_LIMIT as usize) {
            let ids: Vec<&str> = chunk.iter().map(|c| c.id.as_str()).collect();
            let cql = format!("id in ({})", cql_list(&ids));
            let path = search_path(&cql, "metadata.labels", true);
            let found = collect_cursor::<v1::ContentArray>(&self.client, path).await?;
            let mut labels: std::collections::HashMap<String, Option<v1::LabelArray>> =
                found.into_iter().map(|c| (c.id, c.metadata.and_then(|m| m.labels))).collect();
            for content in chunk.iter_mut() {
                content.labels = match labels.remove(&content.id).flatten() {
                    Some(array) if !is_full(array.results.len(), array.limit) => {
                        array.results.into_iter().map(|l| l.name).collect()
                    }
                    // Cut at the expansion's limit, or not returned at all (gone since it was listed):
                    // the labels endpoint says which, a 404 meaning gone.
                    _ => self.labels_of(kind, &content.id).await?,
                };
            }
        }
        Ok(())
    }

    /// Every label of one page or blog post; none for one that no longer exists.
    async fn labels_of(&self, kind: ContentKind, id: &str) -> Result<Vec<String>, Error> {
        let path = format!("/wiki/api/v2/{}/{}/labels?limit={V2_LIMIT}", collection(kind), segment(id));
        let labels =
            not_found_as_none(collect_cursor::<v2::MultiEntityResult<v2::Label>>(&self.client, path).await)?;
        Ok(labels.unwrap_or_default().into_iter().map(|l| l.name).collect())
    }

    /// One page or blog post with its body and labels; `Ok(None)` when it no longer exists (404, or
    /// trashed, deleted or a draft).
    pub async fn content(&self, kind: ContentKind, id: &str) -> Result<Option<Content>, Error> {
        let path = format!(
            "/wiki/api/v2/{}/{}?body-format=storage&include-labels=true",
            collection(kind),
            segment(id)
        );
        let (content, labels) = match kind {
            ContentKind::Page => match not_found_as_none(self.client.get_json::<v2::Page>(&path).await)? {
                Some(p) if is_live(&p.status) => (self.page_model(&p), p.labels),
                _ => return Ok(None),
            },
            ContentKind::BlogPost => {
                match not_found_as_none(self.client.get_json::<v2::BlogPost>(&path).await)? {
                    Some(b) if is_live(&b.status) => (self.blogpost_model(&b), b.labels),
                    _ => return Ok(None),
                }
            }
        };
        let labels = match labels {
            Some(field) if !field.meta.as_ref().is_some_and(|m| m.has_more) => {
                field.results.into_iter().map(|l| l.name).collect()
            }
            // More labels than the single get includes, or none included: read them all.
            _ => self.labels_of(kind, id).await?,
        };
        Ok(Some(Content { labels, ..content }))
    }

    fn page_model(&self, p: &v2::Page) -> Content {
        Content {
            id: p.id.clone(),
            kind: ContentKind::Page,
            space_id: p.space_id.clone(),
            title: p.title.clone(),
            body: storage_of(p.body.as_ref()),
            version: p.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: p.status == "archived",
            created: p.created_at.as_deref().and_then(parse_time),
            updated: p.version.as_ref().and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: p.author_id.clone(),
            parent_id: p.parent_id.clone(),
            labels: labels_of(p.labels.as_ref()),
            url: self.content_url(p.links.webui.as_deref(), &p.id),
        }
    }

    fn blogpost_model(&self, b: &v2::BlogPost) -> Content {
        Content {
            id: b.id.clone(),
            kind: ContentKind::BlogPost,
            space_id: b.space_id.clone(),
            title: b.title.clone(),
            body: storage_of(b.body.as_ref()),
            version: b.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: b.status == "archived",
            created: b.created_at.as_deref().and_then(parse_time),
            updated: b.version.as_ref().and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: b.author_id.clone(),
            parent_id: None,
            labels: labels_of(b.labels.as_ref()),
            url: self.content_url(b.links.webui.as_deref(), &b.id),
        }
    }

    // -----------------------------------------------------------------------------------------------------
    // Access: ancestors and read restrictions.

    /// Ancestors and own read restriction of every page and blog post in the given spaces, one page per
    /// call, from the CQL content search with the restriction expansion. A restriction longer than the
    /// expansion holds is completed from `restriction/byOperation/read`; one that cannot be read leaves
    /// that item's `restriction` at `None`.
    pub async fn access(
        &self,
        space_keys: &[String],
        include_archived: bool,
        cursor: Option<&str>,
    ) -> Result<Page<ContentAccess>, Error> {
        let expand = "ancestors,version,space,restrictions.read.restrictions.user,restrictions.read.restrictions.group";
        let firsts: Vec<String> = space_keys
            .chunks(SPACE_KEYS_PER_QUERY)
            .map(|chunk| {
                let cql = format!("type in (page, blogpost) and space in ({})", cql_list(chunk));
                search_path(&cql, expand, include_archived)
            })
            .collect();
        let page = chunked_page::<v1::ContentArray>(&self.client, &firsts, cursor).await?;
        let mut items = Vec::with_capacity(page.items.len());
        for content in page.items.iter().filter(|c| is_id(&c.id)) {
            let Some(kind) = content_kind(&content.kind) else { continue };
            items.push(self.access_model(kind, content).await);
        }
        Ok(Page { items, next: page.next })
    }

    async fn access_model(&self, kind: ContentKind, content: &v1::Content) -> ContentAccess {
        let ancestors = match (&content.ancestors, kind) {
            (_, ContentKind::BlogPost) => Some(Vec::new()),
            (Some(chain), ContentKind::Page) if chain.iter().all(|a| is_id(&a.id)) => {
                Some(chain.iter().map(|a| a.id.clone()).collect())
            }
            // Some sites send `null`, or an ancestor without a usable id: read them from v2.
            (_, ContentKind::Page) => {
                self.ancestors(&content.id).await.map_err(|e| unknown(&content.id, &e)).ok()
            }
        };
        let expanded =
            content.restrictions.as_ref().and_then(|r| r.read.as_ref()).and_then(expanded_restriction);
        let restriction = match expanded {
            Some(Expansion::Complete(restriction)) => Some(restriction),
            Some(Expansion::Partial) | None => {
                self.read_restriction(&content.id).await.map_err(|e| unknown(&content.id, &e)).ok()
            }
        };
        ContentAccess {
            id: content.id.clone(),
            kind,
            // A missing space id names no space, whose readers are nobody.
            space_id: content.space.as_ref().and_then(|s| s.id).map(|id| id.to_string()).unwrap_or_default(),
            version: content.version.as_ref().map_or(0, |v| u64::from(v.number)),
            archived: content.status == "archived",
            // Unreadable ancestors leave the item readable by nobody, like an unreadable restriction.
            restriction: restriction.filter(|_| ancestors.is_some()),
            ancestors: ancestors.unwrap_or_default(),
        }
    }

    /// Access of one page or blog post (for new or changed items): its version and space from v2, its
    /// ancestors, its read restriction. `Ok(None)` when it no longer exists.
    pub async fn access_of(&self, kind: ContentKind, id: &str) -> Result<Option<ContentAccess>, Error> {
        let path = format!("/wiki/api/v2/{}/{}", collection(kind), segment(id));
        let content = match kind {
            ContentKind::Page => not_found_as_none(self.client.get_json::<v2::Page>(&path).await)?
                .filter(|p| is_live(&p.status))
                .map(|p| self.page_model(&p)),
            ContentKind::BlogPost => not_found_as_none(self.client.get_json::<v2::BlogPost>(&path).await)?
                .filter(|b| is_live(&b.status))
                .map(|b| self.blogpost_model(&b)),
        };
        let Some(content) = content else { return Ok(None) };
        let ancestors = match kind {
            ContentKind::Page => self.ancestors(id).await?,
            ContentKind::BlogPost => Vec::new(),
        };
        let restriction = self.read_restriction(id).await.map_err(|e| unknown(id, &e)).ok();
        Ok(Some(ContentAccess {
            id: content.id,
            kind,
            space_id: content.space_id,
            version: content.version,
            archived: content.archived,
            ancestors,
            restriction,
        }))
    }

    /// Ancestor ids of a page, root first, from v2 `/pages/{id}/ancestors`, which gives the nearest
    /// `limit` ancestors: a full answer means the chain goes on above its first entry.
    async fn ancestors(&self, id: &str) -> Result<Vec<String>, Error> {
        let mut chain: Vec<String> = Vec::new();
        let mut from = id.to_owned();
        for _ in 0..MAX_ANCESTOR_CALLS {
            let path = format!("/wiki/api/v2/pages/{}/ancestors?limit={V2_LIMIT}", segment(&from));
            let listed = self.client.get_json::<v2::MultiEntityResult<v2::Ancestor>>(&path).await?;
            let full = listed.results.len() >= V2_LIMIT as usize;
            if listed.results.iter().any(|a| !is_id(&a.id)) {
                // An ancestor that cannot be named could be restricted: the page's access is unknown.
                return Err(malformed(&path, "an ancestor without an id"));
            }
            let mut above: Vec<String> = listed.results.into_iter().map(|a| a.id).collect();
            let top = above.first().cloned();
            above.append(&mut chain);
            chain = above;
            match top {
                Some(top) if full && top != from => from = top,
                _ => return Ok(chain),
            }
        }
        Err(Error::InvalidRequest {
            path: format!("/wiki/api/v2/pages/{id}/ancestors"),
            reason: format!("more than {MAX_ANCESTOR_CALLS} calls to read the ancestors"),
        })
    }

    /// The whole read restriction of one item, paged from `restriction/byOperation/read`.
    async fn read_restriction(&self, id: &str) -> Result<Restriction, Error> {
        let mut restriction = Restriction::default();
        for page in 0..MAX_RESTRICTION_PAGES {
            let start = u64::from(page) * u64::from(RESTRICTION_LIMIT);
            let path = format!(
                "/wiki/rest/api/content/{}/restriction/byOperation/read?expand=restrictions.user,restrictions.group&start={start}&limit={RESTRICTION_LIMIT}",
                segment(id)
            );
            let read: v1::ContentRestriction = self.client.get_json(&path).await?;
            let restrictions = read.restrictions.unwrap_or_default();
            let (Some(users), Some(groups)) = (restrictions.user, restrictions.group) else {
                return Err(malformed(&path, "the restriction lists no users or groups"));
            };
            let more =
                is_full(users.results.len(), users.limit) || is_full(groups.results.len(), groups.limit);
            for user in users.results {
                restriction.users.insert(
                    account_of(&user).ok_or_else(|| malformed(&path, "a user without an account id"))?,
                );
            }
            for group in groups.results {
                if !is_id(&group.id) {
                    return Err(malformed(&path, "a group without an id"));
                }
                restriction.groups.insert(group.id);
            }
            if !more {
                return Ok(restriction);
            }
        }
        Err(malformed(
            &format!("/wiki/rest/api/content/{id}/restriction/byOperation/read"),
            "too many restriction pages",
        ))
    }

    // -----------------------------------------------------------------------------------------------------
    // Comments and attachments.

    /// Every footer comment of the site, replies included, one page per call.
    pub async fn comments(&self, cursor: Option<&str>) -> Result<Page<Comment>, Error> {
        let first = [format!("/wiki/api/v2/footer-comments?body-format=storage&limit={V2_LIMIT}")];
        let page = chunked_page::<v2::MultiEntityResult<v2::Comment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|c| self.comment_model(c, None)).collect(),
            next: page.next,
        })
    }

    /// Footer comments of one page or blog post and their replies, recursively.
    pub async fn comments_of(&self, kind: ContentKind, container_id: &str) -> Result<Vec<Comment>, Error> {
        let container = Some((kind, container_id));
        let path = format!(
            "/wiki/api/v2/{}/{}/footer-comments?body-format=storage&limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let mut pending = collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
        let mut comments = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(comment) = pending.pop() {
            if !seen.insert(comment.id.clone()) {
                continue;
            }
            let path = format!(
                "/wiki/api/v2/footer-comments/{}/children?body-format=storage&limit={V2_LIMIT}",
                segment(&comment.id)
            );
            pending.extend(collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?);
            comments.extend(self.comment_model(&comment, container));
        }
        comments.sort_by(|a, b| id_order(&a.id, &b.id));
        Ok(comments)
    }

    /// Every inline comment of the site, replies included, one page per call.
    pub async fn inline_comments(&self, cursor: Option<&str>) -> Result<Page<InlineComment>, Error> {
        let first = [format!("/wiki/api/v2/inline-comments?body-format=storage&limit={V2_LIMIT}")];
        let page = chunked_page::<v2::MultiEntityResult<v2::Comment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|c| self.inline_model(c, None)).collect(),
            next: page.next,
        })
    }

    /// Inline comments of one page or blog post (`/pages/{id}/inline-comments`, every resolution status)
    /// and their replies (`/inline-comments/{id}/children`), in id order.
    pub async fn inline_comments_of(
        &self,
        kind: ContentKind,
        container_id: &str,
    ) -> Result<Vec<InlineComment>, Error> {
        let container = Some((kind, container_id));
        let path = format!(
            "/wiki/api/v2/{}/{}/inline-comments?body-format=storage&limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let mut pending = collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
        let mut comments = Vec::new();
        let mut seen = BTreeSet::new();
        while let Some(comment) = pending.pop() {
            if !seen.insert(comment.id.clone()) {
                continue;
            }
            let path = format!(
                "/wiki/api/v2/inline-comments/{}/children?body-format=storage&limit={V2_LIMIT}",
                segment(&comment.id)
            );
            let mut replies =
                collect_cursor::<v2::MultiEntityResult<v2::Comment>>(&self.client, path).await?;
            // A reply may leave its parent out; the thread it was listed under is its parent.
            for reply in &mut replies {
                reply.parent_comment_id.get_or_insert_with(|| comment.id.clone());
            }
            pending.extend(replies);
            comments.extend(self.inline_model(&comment, container));
        }
        comments.sort_by(|a, b| id_order(&a.comment.id, &b.comment.id));
        Ok(comments)
    }

    fn inline_model(&self, c: &v2::Comment, container: Option<(ContentKind, &str)>) -> Option<InlineComment> {
        let comment = self.comment_model(c, container)?;
        let resolution = match c.resolution_status.as_deref().unwrap_or_default() {
            "open" => InlineResolution::Open,
            "reopened" => InlineResolution::Reopened,
            "resolved" => InlineResolution::Resolved,
            "dangling" => InlineResolution::Dangling,
            other => InlineResolution::Unknown(other.to_owned()),
        };
        let selection = c
            .properties
            .as_ref()
            .and_then(|p| p.inline_original_selection.clone())
            .or_else(|| c.inline_comment_properties.as_ref().and_then(|p| p.text_selection.clone()))
            .filter(|s| !s.is_empty());
        Some(InlineComment { comment, resolution, selection })
    }

    /// A comment in the model; `None` for one not on a page or blog post (on an attachment or custom
    /// content). `container` fills in what a reply may leave out.
    fn comment_model(&self, c: &v2::Comment, container: Option<(ContentKind, &str)>) -> Option<Comment> {
        if !is_id(&c.id) {
            return None;
        }
        let usable = |id: &Option<String>| id.clone().filter(|id| is_id(id));
        let (container_kind, container_id) = match (usable(&c.page_id), usable(&c.blog_post_id), container) {
            (Some(page), _, _) => (ContentKind::Page, page),
            (None, Some(post), _) => (ContentKind::BlogPost, post),
            (None, None, Some((kind, id))) => (kind, id.to_owned()),
            (None, None, None) => {
                tracing::debug!(comment = c.id, "footer comment without a page or blog post skipped");
                return None;
            }
        };
        let url = match c.links.webui.as_deref() {
            Some(webui) => self.web_url(webui),
            None => self.web_url(&format!(
                "/pages/viewpage.action?pageId={}&focusedCommentId={}",
                segment(&container_id),
                segment(&c.id)
            )),
        };
        let version = c.version.as_ref();
        Some(Comment {
            id: c.id.clone(),
            container_id,
            container_kind,
            parent_comment_id: c.parent_comment_id.clone(),
            body: storage_of(c.body.as_ref()),
            version: version.map_or(0, |v| u64::from(v.number)),
            // v2 comments carry no creation time of their own; the first version's is not worth a call.
            created: None,
            updated: version.and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: version.and_then(|v| v.author_id.clone()),
            url,
        })
    }

    /// Every attachment of the site, one page per call.
    pub async fn attachments(&self, cursor: Option<&str>) -> Result<Page<Attachment>, Error> {
        let first = [format!("/wiki/api/v2/attachments?limit={V2_LIMIT}")];
        let page =
            chunked_page::<v2::MultiEntityResult<v2::Attachment>>(&self.client, &first, cursor).await?;
        Ok(Page {
            items: page.items.iter().filter_map(|a| self.attachment_model(a)).collect(),
            next: page.next,
        })
    }

    /// Attachments of one page or blog post.
    pub async fn attachments_of(
        &self,
        kind: ContentKind,
        container_id: &str,
    ) -> Result<Vec<Attachment>, Error> {
        let path = format!(
            "/wiki/api/v2/{}/{}/attachments?limit={V2_LIMIT}",
            collection(kind),
            segment(container_id)
        );
        let listed = collect_cursor::<v2::MultiEntityResult<v2::Attachment>>(&self.client, path).await?;
        Ok(listed.iter().filter_map(|a| self.attachment_model(a)).collect())
    }

    /// An attachment in the model; `None` for one not on a page or blog post.
    fn attachment_model(&self, a: &v2::Attachment) -> Option<Attachment> {
        if !is_id(&a.id) {
            return None;
        }
        let usable = |id: &Option<String>| id.clone().filter(|id| is_id(id));
        let (container_kind, container_id) = match (usable(&a.page_id), usable(&a.blog_post_id)) {
            (Some(page), _) => (ContentKind::Page, page),
            (None, Some(post)) => (ContentKind::BlogPost, post),
            (None, None) => {
                tracing::debug!(attachment = a.id, "attachment without a page or blog post skipped");
                return None;
            }
        };
        let version = a.version.as_ref();
        let url = match a.webui_link.as_deref().or(a.links.webui.as_deref()) {
            Some(webui) => self.web_url(webui),
            None => {
                self.web_url(&format!("/pages/viewpageattachments.action?pageId={}", segment(&container_id)))
            }
        };
        Some(Attachment {
            download_path: format!(
                "/wiki/rest/api/content/{}/child/attachment/{}/download",
                segment(&container_id),
                segment(&a.id)
            ),
            id: a.id.clone(),
            container_id,
            container_kind,
            title: a.title.clone(),
            media_type: a.media_type.clone().filter(|m| !m.is_empty()),
            size: a.file_size,
            version: version.map_or(0, |v| u64::from(v.number)),
            created: a.created_at.as_deref().and_then(parse_time),
            updated: version.and_then(|v| v.created_at.as_deref()).and_then(parse_time),
            author: version.and_then(|v| v.author_id.clone()),
            url,
        })
    }

    /// The bytes of an attachment, following the redirect to the media host (without credentials);
    /// larger than `max_bytes` is [`Error::TooLarge`].
    pub async fn download(&self, attachment: &Attachment, max_bytes: u64) -> Result<Vec<u8>, Error> {
        Ok(self.client.download(&attachment.download_path, max_bytes).await?.bytes)
    }

    // -----------------------------------------------------------------------------------------------------
    // Users and groups.

    /// Groups with their members, and the users they name (plus `extra_accounts`) with display name and
    /// active flag. Accounts `users-bulk` does not know are left out: unknown means no access.
    pub async fn directory(&self, extra_accounts: &[String]) -> Result<Directory, Error> {
        let groups = self.groups().await?;
        let accounts: BTreeSet<String> = extra_accounts
            .iter()
            .filter(|a| !a.is_empty())
            .cloned()
            .chain(groups.values().flat_map(|g| g.members.iter().cloned()))
            .collect();
        let accounts: Vec<String> = accounts.into_iter().collect();
        let users = self.users(&accounts).await?;
        Ok(Directory { users, groups })
    }

    /// Every group by id with its members' account ids (v1 `/group` and `membersByGroupId`, 200 a page).
    /// The member listings run side by side, as far as the client's concurrency allows.
    pub async fn groups(&self) -> Result<BTreeMap<String, DirectoryGroup>, Error> {
        let listed = OffsetPager::<v1::GroupArray>::new("/wiki/rest/api/group", GROUP_LIMIT)
            .collect_all(&self.client)
            .await?;
        let mut tasks = tokio::task::JoinSet::new();
        for group in listed.into_iter().filter(|g| is_id(&g.id)) {
            let client = self.client.clone();
            tasks.spawn(async move {
                let path = format!("/wiki/rest/api/group/{}/membersByGroupId", segment(&group.id));
                let members = OffsetPager::<v1::UserArray>::new(path, GROUP_LIMIT).collect_all(&client).await;
                (group, members)
            });
        }
        let mut groups = BTreeMap::new();
        while let Some(joined) = tasks.join_next().await {
            let (group, members) = joined.map_err(|e| Error::InvalidRequest {
                path: "/wiki/rest/api/group/{id}/membersByGroupId".into(),
                reason: format!("member listing task failed: {e}"),
            })?;
            let members: BTreeSet<String> = members?.iter().filter_map(account_of).collect();
            groups.insert(group.id, DirectoryGroup { name: group.name, members });
        }
        Ok(groups)
    }

    /// Display name and active flag of `accounts` (`POST /users-bulk`, 250 a request). Accounts the site
    /// does not know are left out: unknown means no access.
    pub async fn users(&self, accounts: &[String]) -> Result<BTreeMap<String, DirectoryUser>, Error> {
        let mut users = BTreeMap::new();
        for batch in accounts.chunks(USERS_PER_BULK) {
            let request = v2::UsersBulkRequest { account_ids: batch.to_vec() };
            let found: v2::MultiEntityResult<v2::User> =
                self.client.post_json("/wiki/api/v2/users-bulk", &request).await?;
            for user in found.results.into_iter().filter(|u| is_id(&u.account_id)) {
                let display_name = user.display_name.or(user.public_name).unwrap_or_default();
                let active = user.account_status.as_deref() == Some("active");
                // A hidden address comes as an empty string (or not at all).
                let email = user.email.filter(|e| !e.trim().is_empty());
                users.insert(user.account_id, DirectoryUser { display_name, active, email });
            }
        }
        Ok(users)
    }

    // -----------------------------------------------------------------------------------------------------
    // URLs.

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

/// Who a space permission names. Anything but a user, a group or the anonymous role grants nothing.
pub(super) fn subject_of(principal: &v2::PermissionPrincipal) -> Subject {
    match (principal.kind.as_str(), principal.id.as_str()) {
        ("user", id) if is_id(id) => Subject::User(id.to_owned()),
        ("group", id) if is_id(id) => Subject::Group(id.to_owned()),
        ("role", "ANONYMOUS") => Subject::Anonymous,
        (kind, id) => Subject::Unknown(format!("{kind}:{id}")),
    }
}

/// The space permission that lets a role's holders view the space.
const VIEW_SPACE: &str = "read/space";

/// Whether a value can be an id: not empty, and not a sentinel such as `-1` that stands for "none".
fn is_id(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && !value.starts_with('-') && value != "null"
}

/// Who a role assignment names. An id that is empty or a sentinel, or a type this code does not know,
/// grants nothing.
pub(super) fn role_holder(principal: &v2::RolePrincipal) -> RoleHolder {
    let id = principal.principal_id.trim();
    match (principal.principal_type.as_str(), is_id(id)) {
        ("USER", true) => RoleHolder::User(id.to_owned()),
        ("GROUP", true) => RoleHolder::Group(id.to_owned()),
        ("ACCESS_CLASS", true) => RoleHolder::AccessClass(match id {
            "anonymous-users" => AccessClass::AnonymousUsers,
            "authenticated-users" => AccessClass::AuthenticatedUsers,
            "all-licensed-users" => AccessClass::AllLicensedUsers,
            "all-product-admins" => AccessClass::AllProductAdmins,
            "jsm-project-admins" => AccessClass::JsmProjectAdmins,
            other => AccessClass::Other(other.to_owned()),
        }),
        (kind, _) => RoleHolder::Unknown(format!("{kind}:{id}")),
    }
}

fn account_of(user: &v1::User) -> Option<String> {
    user.account_id.clone().filter(|a| is_id(a))
}

fn storage_of(body: Option<&v2::Body>) -> String {
    body.and_then(|b| b.storage.as_ref()).map(|s| s.value.clone()).unwrap_or_default()
}

fn labels_of(labels: Option<&v2::OptionalField<v2::Label>>) -> Vec<String> {
    labels.map(|l| l.results.iter().map(|l| l.name.clone()).collect()).unwrap_or_default()
}

/// Whether a page of `len` results, of a listing that pages by `limit`, may have a successor.
fn is_full(len: usize, limit: Option<u32>) -> bool {
    len > 0 && len as u64 >= u64::from(limit.unwrap_or(RESTRICTION_LIMIT))
}

/// What the restriction expansion of one item says.
pub(super) enum Expansion {
    /// Every user and group of the restriction.
    Complete(Restriction),
    /// Cut at the expansion's limit, or not readable as it is: read the restriction on its own.
    Partial,
}

pub(super) fn expanded_restriction(read: &v1::ContentRestriction) -> Option<Expansion> {
    let restrictions = read.restrictions.as_ref()?;
    let (Some(users), Some(groups)) = (&restrictions.user, &restrictions.group) else {
        return Some(Expansion::Partial);
    };
    if is_full(users.results.len(), users.limit) || is_full(groups.results.len(), groups.limit) {
        return Some(Expansion::Partial);
    }
    let mut restriction = Restriction::default();
    for user in &users.results {
        let Some(account) = account_of(user) else { return Some(Expansion::Partial) };
        restriction.users.insert(account);
    }
    for group in &groups.results {
        if !is_id(&group.id) {
            return Some(Expansion::Partial);
        }
        restriction.groups.insert(group.id.clone());
    }
    Some(Expansion::Complete(restriction))
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

/// Logs why an item's access could not be read; the item then stays readable by nobody.
fn unknown(id: &str, error: &Error) {
    tracing::warn!(content = id, %error, "access of this item is unknown: readable by nobody");
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
    fn principals_map_to_subjects_and_unknown_grants_nothing() {
        let cases = [
            ("user", "abc", Subject::User("abc".into())),
            ("group", "g1", Subject::Group("g1".into())),
            ("role", "ANONYMOUS", Subject::Anonymous),
            ("role", "ADMIN", Subject::Unknown("role:ADMIN".into())),
            ("user", "", Subject::Unknown("user:".into())),
            ("access_class", "x", Subject::Unknown("access_class:x".into())),
        ];
        for (kind, id, want) in cases {
            let principal = v2::PermissionPrincipal { kind: kind.into(), id: id.into() };
            assert_eq!(subject_of(&principal), want, "{kind} {id}");
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

    #[test]
    fn restriction_expansions_are_complete_only_below_their_limit() {
        let users = |n: usize| v1::UserArray {
            results: (0..n)
                .map(|i| v1::User { account_id: Some(format!("u{i}")), ..Default::default() })
                .collect(),
            start: Some(0),
            limit: Some(100),
            size: Some(n as u32),
            total_size: None,
            links: None,
        };
        let groups = v1::GroupArray {
            results: vec![],
            start: Some(0),
            limit: Some(100),
            size: Some(0),
            total_size: None,
            links: None,
        };
        let read = |n: usize| v1::ContentRestriction {
            restrictions: Some(v1::Restrictions {
                user: Some(users(n)),
                group: Some(groups.clone()),
                expandable: None,
            }),
            ..Default::default()
        };
        assert!(matches!(expanded_restriction(&read(3)), Some(Expansion::Complete(r)) if r.users.len() == 3));
        assert!(matches!(expanded_restriction(&read(100)), Some(Expansion::Partial)));
        let no_groups = v1::ContentRestriction {
            restrictions: Some(v1::Restrictions { user: Some(users(1)), group: None, expandable: None }),
            ..Default::default()
        };
        assert!(matches!(expanded_restriction(&no_groups), Some(Expansion::Partial)));
        let mut nameless = read(1);
        if let Some(u) = nameless.restrictions.as_mut().and_then(|r| r.user.as_mut()) {
            u.results[0].account_id = None;
        }
        assert!(matches!(expanded_restriction(&nameless), Some(Expansion::Partial)));
    }
}
