//! Comments of issues and who may read them: every comment of one issue (`/issue/{id}/comment`, oldest
//! first), which comments still exist (`POST /comment/list`, 1000 ids per call) and their visibilities,
//! resolved from the group or role they name to an id (a role by its name in the issue's project, a group
//! sometimes only by its name).
//!
//! A visibility that cannot be resolved leaves the comment [`CommentVisibility::Unknown`], which nobody
//! passes. A Jira Service Management internal note (`jsdPublic: false`) is marked `internal`. Not here:
//! what a visibility or an internal note means for a document (`sync::resolve`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::projects::role_ids_by_name;
use super::{account_id, is_id, parse_time, Jira, API, COMMENTS_PAGE, COMMENT_LIST_MAX};
use crate::atlassian::model::{CommentVisibility, IssueComment};
use crate::atlassian::paginate::OffsetPager;
use crate::atlassian::path::segment;
use crate::atlassian::wire::jira as wire;
use crate::atlassian::Error;

impl Jira {
    /// All comments of one issue, oldest first, each once. `project_id` is the issue's project: a comment
    /// restricted to a role names it by name, which is resolved with that project's roles (as read by the
    /// last [`projects`](Self::projects), or read now). A role or group that cannot be resolved leaves the
    /// comment [`CommentVisibility::Unknown`], which nobody passes.
    pub async fn comments(&self, issue_id: &str, project_id: &str) -> Result<Vec<IssueComment>, Error> {
        let path = format!("{API}/issue/{}/comment?orderBy=created", segment(issue_id));
        let listed =
            OffsetPager::<wire::PageOfComments>::new(path, COMMENTS_PAGE).collect_all(&self.client).await?;
        let mut seen = BTreeSet::new();
        let mut comments = Vec::with_capacity(listed.len());
        for comment in listed {
            // An offset walk over a list that grew meanwhile can serve one comment twice.
            if comment.id.is_empty() || !seen.insert(comment.id.clone()) {
                continue;
            }
            let visibility = self.comment_visibility(&comment, project_id).await?;
            let internal = is_internal(&comment);
            comments.push(IssueComment {
                id: comment.id,
                issue_id: issue_id.to_string(),
                author: comment.author.and_then(account_id),
                body: comment.body.unwrap_or(serde_json::Value::Null),
                created: comment.created.as_deref().and_then(parse_time),
                updated: comment.updated.as_deref().and_then(parse_time),
                visibility,
                internal,
            });
        }
        Ok(comments)
    }

    /// Which of these comment ids still exist (and are on an issue that can be seen): `POST /comment/list`,
    /// 1000 ids per call. Ids that are not numbers cannot be Jira comments and are never in the answer.
    pub async fn existing_comments(&self, ids: &[String]) -> Result<BTreeSet<String>, Error> {
        Ok(self.listed_comments(ids).await?.into_iter().map(|c| c.id).collect())
    }

    /// The restriction of each of these comments (by comment id, with its project's id) that still exists:
    /// its visibility (`None` for an open one) and whether it is an internal note. A permission refresh
    /// reads these to follow restrictions set or lifted.
    pub async fn comment_visibilities(
        &self,
        comments: &[(String, String)],
    ) -> Result<BTreeMap<String, CommentAccess>, Error> {
        let project_of: HashMap<&str, &str> =
            comments.iter().map(|(c, p)| (c.as_str(), p.as_str())).collect();
        let ids: Vec<String> = comments.iter().map(|(c, _)| c.clone()).collect();
        let mut visibilities = BTreeMap::new();
        for comment in self.listed_comments(&ids).await? {
            let Some(project_id) = project_of.get(comment.id.as_str()) else { continue };
            let visibility = self.comment_visibility(&comment, project_id).await?;
            let internal = is_internal(&comment);
            visibilities.insert(comment.id, CommentAccess { visibility, internal });
        }
        Ok(visibilities)
    }

    /// A comment's `visibility`.
    async fn comment_visibility(
        &self,
        comment: &wire::Comment,
        project_id: &str,
    ) -> Result<Option<CommentVisibility>, Error> {
        Ok(match &comment.visibility {
            None => None,
            Some(v) => Some(self.visibility(v, project_id).await?),
        })
    }

    /// The comments of these ids that still exist (and are on an issue that can be seen), as listed.
    async fn listed_comments(&self, ids: &[String]) -> Result<Vec<wire::Comment>, Error> {
        let path = format!("{API}/comment/list");
        let numeric: Vec<u64> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        let mut existing = Vec::new();
        for chunk in numeric.chunks(COMMENT_LIST_MAX) {
            let request = wire::CommentListRequest { ids: chunk.to_vec() };
            let mut target = path.clone();
            // Jira answers up to 1000 ids in one page; should it ever page, its next link is followed, at
            // most once per id asked for, so a site that keeps promising more cannot loop this.
            for _ in 0..=chunk.len() {
                let page: wire::PageBean<wire::Comment> = self.client.post_json(&target, &request).await?;
                let received = page.values.len();
                existing.extend(page.values.into_iter().filter(|c| is_id(&c.id)));
                match page.next_page {
                    Some(next) if page.is_last == Some(false) && received > 0 => target = next,
                    _ => break,
                }
            }
        }
        Ok(existing)
    }

    /// A project's role name → id: remembered, or read now (once more when `name` is not among them, in
    /// case the role was added or renamed since).
    async fn role_id(&self, project_id: &str, name: &str) -> Result<Option<String>, Error> {
        let known = || self.names().role_ids.get(project_id).and_then(|roles| roles.get(name).cloned());
        if let Some(id) = known() {
            return Ok(Some(id));
        }
        let _reading = self.name_reads.lock().await;
        if let Some(id) = known() {
            // Read by the request this one waited for.
            return Ok(Some(id));
        }
        let path = format!("{API}/project/{}/role", segment(project_id));
        let roles = match self.client.get_json::<wire::RoleUrls>(&path).await {
            Ok(roles) => roles.0,
            // The project is gone: its comments resolve to nothing.
            Err(e) if e.status() == Some(404) => wire::ProjectRoles::new(),
            Err(e) => return Err(e),
        };
        let ids = role_ids_by_name(&roles);
        let found = ids.get(name).cloned();
        self.names().role_ids.insert(project_id.to_string(), ids);
        Ok(found)
    }

    async fn visibility(&self, v: &wire::Visibility, project_id: &str) -> Result<CommentVisibility, Error> {
        Ok(match named_visibility(v) {
            NamedVisibility::GroupId(id) => CommentVisibility::Group(id),
            NamedVisibility::GroupName(name) => match self.group_ids().await?.get(&name) {
                Some(id) => CommentVisibility::Group(id.clone()),
                None => CommentVisibility::Unknown(format!("group {name:?}")),
            },
            NamedVisibility::RoleName(name) => match self.role_id(project_id, &name).await? {
                Some(id) => CommentVisibility::Role(id),
                None => CommentVisibility::Unknown(format!("role {name:?}")),
            },
            NamedVisibility::Unknown(what) => CommentVisibility::Unknown(what),
        })
    }
}

/// A comment visibility as the comment states it, before names are resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(in crate::atlassian) enum NamedVisibility {
    GroupId(String),
    /// A group named only by its (mutable) name.
    GroupName(String),
    /// Roles are named by name; the project's role listing gives the id.
    RoleName(String),
    /// A type this code does not know, or a group or role it cannot name: nobody passes it.
    Unknown(String),
}

pub(in crate::atlassian) fn named_visibility(v: &wire::Visibility) -> NamedVisibility {
    let name = v.value.as_deref().unwrap_or_default().trim();
    match &v.kind {
        wire::VisibilityType::Group => match v.identifier.as_deref().filter(|id| is_id(id)) {
            Some(id) => NamedVisibility::GroupId(id.to_string()),
            None if is_id(name) => NamedVisibility::GroupName(name.to_string()),
            None => NamedVisibility::Unknown("group without an id or a name".into()),
        },
        wire::VisibilityType::Role => {
            // `identifier` of a role visibility is its name too; `value` is the documented one.
            let name =
                if name.is_empty() { v.identifier.as_deref().unwrap_or_default().trim() } else { name };
            if is_id(name) {
                NamedVisibility::RoleName(name.to_string())
            } else {
                NamedVisibility::Unknown("role without a name".into())
            }
        }
        wire::VisibilityType::Other(kind) => NamedVisibility::Unknown(kind.clone()),
    }
}

/// What a comment's readers depend on besides its issue (see [`Jira::comment_visibilities`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentAccess {
    pub visibility: Option<CommentVisibility>,
    pub internal: bool,
}

/// Whether a comment is a Jira Service Management internal note: `jsdPublic: false`. Only a definite
/// `false` is one; a comment outside a service project has no `jsdPublic` and is public, as is `true`.
fn is_internal(comment: &wire::Comment) -> bool {
    comment.jsd_public == Some(false)
}
