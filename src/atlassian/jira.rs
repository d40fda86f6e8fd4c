//! The Jira crawler: reads a Jira Cloud site (REST v3) through the shared [`Client`] and hands back
//! permdex's own [`model`](super::model) types.
//!
//! - [`Jira::projects`]: live projects with who may browse them (`BROWSE_PROJECTS` grants of their
//!   permission scheme), their role actors and their issue security levels' members;
//!   [`Jira::projects_with_roles_in_use`] reads only the roles something names, [`Jira::role_actors`]
//!   one more when a comment first names it.
//! - [`Jira::issue_ids`] then [`Jira::issues`]: ids first (`search/jql`, 5000 per page), then the issues
//!   themselves (`issue/bulkfetch`, 100 per call), as Atlassian recommends.
//! - [`Jira::comments`], [`Jira::existing_comments`], [`Jira::download`], [`Jira::directory`].
//!
//! Holders, visibilities and role actors are translated as Jira states them, never widened: a group named
//! only by a name that no group has any more, a role name the project does not know, a holder type this
//! code does not resolve all become `Unknown`, which grants nothing. What they mean for a document is
//! `sync::resolve`'s business, not this file's. Nothing here retries or paces: the client does.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use tokio::task::JoinSet;

mod security_levels;

use super::client::Client;
use super::model::{
    ApplicationRole, CommentVisibility, Directory, DirectoryGroup, DirectoryUser, Holder, Issue,
    IssueAttachment, IssueComment, Project, RoleActors,
};
use super::paginate::{OffsetPage, OffsetPager, OffsetParts};
use super::path::{query, segment};
use super::wire::jira as wire;
use super::{Error, Page};

const API: &str = "/rest/api/3";
/// Issue ids per `search/jql` page: Jira's maximum when only ids are asked for.
pub const ISSUE_IDS_PAGE: usize = 5_000;
/// Issues per page of [`Jira::issue_access`]: Jira serves 100 when fields besides the id are asked for.
pub const ISSUE_ACCESS_PAGE: usize = 100;
/// The restriction of an internal service-management comment (`jsdPublic: false`).
pub const INTERNAL_COMMENT: &str = "internal comment (agents only)";
/// Issues per `issue/bulkfetch` call: Jira's maximum.
pub const BULKFETCH_MAX: usize = 100;
/// Comment ids per `comment/list` call: Jira's maximum.
pub const COMMENT_LIST_MAX: usize = 1_000;
const PROJECTS_PAGE: u32 = 100;
const LEVEL_MEMBERS_PAGE: u32 = 100;
const COMMENTS_PAGE: u32 = 100;
const GROUPS_PAGE: u32 = 50;
const GROUP_MEMBERS_PAGE: u32 = 50;
const USERS_PAGE: u32 = 1_000;
/// What reading application roles needs.
pub const ADMINISTER_JIRA: &str = "the Administer Jira global permission";
/// The permission that lets a user see a project and its issues.
const BROWSE_PROJECTS: &str = "BROWSE_PROJECTS";
/// The security level of an issue whose `fields.security` names a level without a readable id: no
/// project has it, so nobody is a member.
pub const UNKNOWN_LEVEL: &str = "unknown security level";
/// The `Unknown` browse holder of a team-managed project.
pub const TEAM_MANAGED: &str = "team-managed project";
/// The fields [`Jira::issues`] asks for.
const ISSUE_FIELDS: [&str; 14] = [
    "summary",
    "description",
    "issuetype",
    "parent",
    "subtasks",
    "status",
    "labels",
    "reporter",
    "assignee",
    "security",
    "created",
    "updated",
    "attachment",
    "project",
];

/// A Jira site. Remembers group names and each project's role names between calls, so comment
/// visibilities (which name a role, and sometimes only a group's name) resolve to ids without asking again.
#[derive(Debug)]
pub struct Jira {
    client: Client,
    names: Mutex<Names>,
}

#[derive(Debug, Default)]
struct Names {
    /// Group name → group id, from the last `group/bulk` walk; `None` until one was needed.
    group_ids: Option<HashMap<String, String>>,
    /// Project id → (role name → role id), from the last read of the project's roles.
    role_ids: HashMap<String, BTreeMap<String, String>>,
}

/// What an issue's access depends on besides its project (see [`Jira::issue_access`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IssueAccess {
    pub id: String,
    pub reporter: Option<String>,
    pub assignee: Option<String>,
    /// As [`Issue::security_level_id`].
    pub security_level_id: Option<String>,
}

/// What [`Jira::projects_with_roles_in_use`] read: the projects read in full, and those that could not be.
#[derive(Debug)]
pub struct ProjectsRead {
    pub projects: Vec<Project>,
    pub unreadable: Vec<UnreadableProject>,
}

/// A project whose permissions could not be read, and why.
#[derive(Debug)]
pub struct UnreadableProject {
    pub id: String,
    pub key: String,
    pub error: Error,
}

/// Role ids by project id: the roles whose actors a caller needs besides those the permission objects name.
pub type RoleUses = BTreeMap<String, BTreeSet<String>>;

/// Which roles' actors a project read fetches.
#[derive(Debug, Clone, Copy)]
enum RoleReads<'a> {
    /// Every role the project lists.
    Every,
    /// Those its grants and levels name, and those listed for it.
    Named(&'a RoleUses),
}

/// Whether a project read lists the project's roles (names and ids).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum RoleListing {
    Read,
    Skip,
}

impl Jira {
    pub fn new(client: Client) -> Self {
        Jira { client, names: Mutex::new(Names::default()) }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Every live project with its browse holders (the `BROWSE_PROJECTS` grants of its permission scheme),
    /// the actors of every role it has (`/project/{id}/role` and each `/role/{id}`), and the members of each
    /// level of its issue security scheme (none when the project has no scheme). Projects are read
    /// concurrently, as far as the client allows; any failure fails the whole call.
    pub async fn projects(&self) -> Result<Vec<Project>, Error> {
        let read = self.read_projects(RoleReads::Every).await?;
        match read.unreadable.into_iter().next() {
            Some(failure) => Err(failure.error),
            None => Ok(read.projects),
        }
    }

    /// Like [`projects`](Self::projects), but each project's [`Project::roles`] holds only the roles whose
    /// actors can matter: those its browse grants and its security levels' members name, and those
    /// `in_use` lists for it (by project id: e.g. roles that indexed comments are restricted to). Each is
    /// read directly (`/project/{id}/role/{roleId}`, a role that no longer exists having no actors), and
    /// the role listing is not read: a comment visibility that names a role reads it when first met.
    ///
    /// A role left out can change nothing a document's access depends on: resolution expands a role only
    /// where a grant, a level member or a comment visibility names it, and whoever meets a visibility
    /// naming a role not held here reads it with [`role_actors`](Self::role_actors) first.
    ///
    /// A project whose scheme, role listing or role actors cannot be read is left out and named in
    /// [`ProjectsRead::unreadable`]; the others are read as usual. The listing of projects, the projects'
    /// security schemes and levels, and the levels' members (each one walk for every project) fail the
    /// whole call.
    pub async fn projects_with_roles_in_use(&self, in_use: &RoleUses) -> Result<ProjectsRead, Error> {
        self.read_projects(RoleReads::Named(in_use)).await
    }

    async fn read_projects(&self, reads: RoleReads<'_>) -> Result<ProjectsRead, Error> {
        let listed = OffsetPager::<wire::PageBean<wire::Project>>::new(
            format!("{API}/project/search?expand=lead&orderBy=id"),
            PROJECTS_PAGE,
        )
        .collect_all(&self.client)
        .await?;
        let mut seen = BTreeSet::new();
        let mut tasks = JoinSet::new();
        for (position, project) in listed.into_iter().enumerate() {
            // `status=live` is the default; archived ones are skipped should a site list them anyway.
            if project.archived == Some(true) || !is_id(&project.id) || !seen.insert(project.id.clone()) {
                continue;
            }
            let client = self.client.clone();
            let listing = match reads {
                RoleReads::Every => RoleListing::Read,
                RoleReads::Named(_) => RoleListing::Skip,
            };
            let (id, key) = (project.id.clone(), project.key.clone());
            tasks.spawn(async move { (position, id, key, read_project(&client, project, listing).await) });
        }
        let mut raw = Vec::new();
        let mut unreadable = Vec::new();
        while let Some(done) = tasks.join_next().await {
            let (position, id, key, read) = joined(done);
            match read {
                Ok(project) => raw.push((position, project)),
                Err(error) => unreadable.push(UnreadableProject { id, key, error }),
            }
        }
        raw.sort_by_key(|(position, _)| *position);
        let ids = raw.iter().map(|(_, p)| p.id.clone()).collect();
        let mut levels = security_levels::levels_by_project(&self.client, &ids).await?;
        for (_, project) in &mut raw {
            project.levels = levels.remove(&project.id).unwrap_or_default();
        }
        let level_members = read_level_members(&self.client, &raw).await?;
        for (index, error) in
            read_roles(&self.client, &mut raw, &level_members, &reads).await.into_iter().rev()
        {
            let (_, project) = raw.remove(index);
            unreadable.push(UnreadableProject { id: project.id, key: project.key, error });
        }
        // A run that is stopping stops here rather than recording every project as unreadable.
        if let Some(i) = unreadable.iter().position(|u| matches!(u.error, Error::Cancelled { .. })) {
            return Err(unreadable.swap_remove(i).error);
        }
        unreadable.sort_by(|a, b| a.id.cmp(&b.id));

        let needs_group_names = raw.iter().any(|(_, p)| p.names_groups_by_name(&level_members));
        let group_ids = if needs_group_names { self.group_ids().await? } else { HashMap::new() };
        let base = self.web_base();
        let mut projects = Vec::with_capacity(raw.len());
        let mut role_ids = HashMap::new();
        for (_, p) in raw {
            projects.push(p.to_project(&group_ids, &level_members, &base));
            if matches!(reads, RoleReads::Every) {
                role_ids.insert(p.id, p.role_ids);
            }
        }
        // Role names are remembered from this read, or (when the listing was not read) read again when a
        // comment names one: never kept from an earlier snapshot.
        self.names().role_ids = role_ids;
        Ok(ProjectsRead { projects, unreadable })
    }

    /// Every Jira application of the site with the groups whose members use it (`GET /applicationrole`,
    /// by `groupDetails`, or by `groups` names when a site sends only those). Admin only: a token without
    /// the Administer Jira global permission gets [`Error::MissingRight`], and then no application role
    /// holder can be resolved (it must grant nobody). A role without a key is left out.
    pub async fn application_roles(&self) -> Result<Vec<ApplicationRole>, Error> {
        let path = format!("{API}/applicationrole");
        let listed: Vec<wire::ApplicationRole> = match self.client.get_json_right_optional(&path).await {
            Err(e) if e.status() == Some(403) => {
                return Err(Error::MissingRight { path, right: ADMINISTER_JIRA });
            }
            listed => listed?,
        };
        let needs_names = listed.iter().any(|r| r.group_details.len() < r.groups.len());
        let by_name = if needs_names { self.group_ids().await? } else { HashMap::new() };
        let mut roles: Vec<ApplicationRole> = listed
            .into_iter()
            .filter(|r| !r.key.is_empty())
            .map(|r| {
                let mut groups: BTreeSet<String> = r
                    .group_details
                    .iter()
                    .filter_map(|g| g.group_id.clone())
                    .filter(|id| is_id(id))
                    .collect();
                let named: BTreeSet<&str> =
                    r.group_details.iter().filter_map(|g| g.name.as_deref()).collect();
                for name in r.groups.iter().filter(|n| !named.contains(n.as_str())) {
                    match by_name.get(name) {
                        Some(id) => {
                            groups.insert(id.clone());
                        }
                        None => tracing::warn!(
                            application = r.key,
                            group = name,
                            "access group without a known id left out"
                        ),
                    }
                }
                ApplicationRole { name: r.name.unwrap_or_else(|| r.key.clone()), key: r.key, groups }
            })
            .collect();
        roles.sort_by(|a, b| a.key.cmp(&b.key));
        roles.dedup_by(|a, b| a.key == b.key);
        Ok(roles)
    }

    /// The actors of one role in one project (`/project/{id}/role/{roleId}`); a project or role that no
    /// longer exists has none. Group actors named only by a group name that no group has are left out.
    pub async fn role_actors(&self, project_id: &str, role_id: &str) -> Result<RoleActors, Error> {
        let actors = read_role(&self.client, &segment(project_id), role_id).await?;
        let needs_group_names =
            actors.iter().any(|a| a.kind == wire::RoleActorType::Group && actor_group_id(a).is_none());
        let group_ids = if needs_group_names { self.group_ids().await? } else { HashMap::new() };
        Ok(role_actors_of(&actors, &group_ids, project_id, role_id))
    }

    /// One page of the ids of the issues of `project_keys` (all of them, or those updated at or after
    /// `updated_since`), in ascending id order, up to 5000 per page. `token` is the `next` of the previous
    /// page (`None` for the first): it is the last id served, so a stored token resumes the walk at any
    /// later time (Jira's own page tokens expire), and a walk cannot loop. Archived issues and those of
    /// archived projects are not searchable, so they are never listed.
    pub async fn issue_ids(
        &self,
        project_keys: &[String],
        updated_since: Option<DateTime<Utc>>,
        token: Option<&str>,
    ) -> Result<Page<String>, Error> {
        let path = format!("{API}/search/jql");
        if project_keys.is_empty() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let after = match token {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| Error::InvalidRequest {
                path: path.clone(),
                reason: format!("{text:?} is not a page token of an issue id listing"),
            })?),
        };
        let page =
            self.search_page(&path, project_keys, updated_since, after, &["id"], ISSUE_IDS_PAGE).await?;
        let mut ids = Vec::with_capacity(page.issues.len());
        for issue in &page.issues {
            let id = issue.id.parse::<u64>().ok().filter(|id| after.is_none_or(|a| *id > a));
            let Some(id) = id else {
                return Err(malformed(
                    &path,
                    format!("issue id {:?} is not a number above the page start", issue.id),
                ));
            };
            ids.push(id);
        }
        let more =
            page.is_last != Some(true) && page.next_page_token.as_deref().is_some_and(|t| !t.is_empty());
        // Every id is above `after`, so the next page starts strictly later; an empty page ends the walk
        // whatever it claims, since nothing above `after` matched.
        let next = if more { ids.iter().max().map(u64::to_string) } else { None };
        Ok(Page { items: ids.iter().map(u64::to_string).collect(), next })
    }

    /// Jira's estimate of how many issues of these projects a listing will return
    /// (`POST /search/approximate-count`), for progress only: the count may lag recent changes. `None`
    /// for no projects.
    pub async fn approximate_issue_count(&self, project_keys: &[String]) -> Result<Option<u64>, Error> {
        if project_keys.is_empty() {
            return Ok(None);
        }
        let request = wire::JqlCountRequest { jql: Some(issue_filter(project_keys, None, None)) };
        let answer: wire::JqlCountResults =
            self.client.post_json(&format!("{API}/search/approximate-count"), &request).await?;
        Ok(answer.count)
    }

    /// What an issue's access depends on besides its project (its level, reporter and assignee), for every
    /// issue of these projects, a page (100 issues) per call, walked like [`issue_ids`](Self::issue_ids).
    /// A permission refresh reads these to follow changes that bodies need not be fetched for.
    pub async fn issue_access(
        &self,
        project_keys: &[String],
        token: Option<&str>,
    ) -> Result<Page<IssueAccess>, Error> {
        let path = format!("{API}/search/jql");
        if project_keys.is_empty() {
            return Ok(Page { items: Vec::new(), next: None });
        }
        let after = match token {
            None => None,
            Some(text) => Some(text.parse::<u64>().map_err(|_| Error::InvalidRequest {
                path: path.clone(),
                reason: format!("{text:?} is not a page token of an issue listing"),
            })?),
        };
        let fields = ["id", "security", "reporter", "assignee"];
        let page = self.search_page(&path, project_keys, None, after, &fields, ISSUE_ACCESS_PAGE).await?;
        let more =
            page.is_last != Some(true) && page.next_page_token.as_deref().is_some_and(|t| !t.is_empty());
        let mut items = Vec::with_capacity(page.issues.len());
        let mut last = None;
        for bean in page.issues {
            let Some(id) = bean.id.parse::<u64>().ok().filter(|id| after.is_none_or(|a| *id > a)) else {
                return Err(malformed(
                    &path,
                    format!("issue id {:?} is not a number above the page start", bean.id),
                ));
            };
            last = last.max(Some(id));
            let fields = bean.fields.unwrap_or_default();
            items.push(IssueAccess {
                id: id.to_string(),
                reporter: fields.reporter.flatten().and_then(account_id),
                assignee: fields.assignee.flatten().and_then(account_id),
                security_level_id: fields.security.map(|s| {
                    if is_id(&s.id) {
                        s.id
                    } else {
                        UNKNOWN_LEVEL.to_owned()
                    }
                }),
            });
        }
        let next = if more { last.map(|id| id.to_string()) } else { None };
        Ok(Page { items, next })
    }

    async fn search_page(
        &self,
        path: &str,
        project_keys: &[String],
        updated_since: Option<DateTime<Utc>>,
        after: Option<u64>,
        fields: &[&str],
        page_size: usize,
    ) -> Result<wire::SearchAndReconcileResults, Error> {
        let request = wire::SearchRequest {
            jql: Some(issue_jql(project_keys, updated_since, after)),
            max_results: Some(page_size as i64),
            fields: fields.iter().map(|f| f.to_string()).collect(),
            ..Default::default()
        };
        self.client.post_json(path, &request).await
    }

    /// The issues with these ids (any number: fetched 100 per call), and the ids Jira could not return,
    /// with its message (deleted, archived, or not visible). An issue missing from the answer without an
    /// error, or without its project, is reported the same way.
    pub async fn issues(&self, ids: &[String]) -> Result<(Vec<Issue>, Vec<(String, String)>), Error> {
        let path = format!("{API}/issue/bulkfetch");
        let base = self.web_base();
        // The chunks are fetched side by side (the client bounds how many at once) and put back in order.
        let mut tasks = JoinSet::new();
        for (n, chunk) in ids.chunks(BULKFETCH_MAX).enumerate() {
            let request = wire::BulkFetchRequest {
                issue_ids_or_keys: chunk.to_vec(),
                fields: ISSUE_FIELDS.iter().map(|f| f.to_string()).collect(),
                ..Default::default()
            };
            let (client, path) = (self.client.clone(), path.clone());
            tasks.spawn(
                async move { (n, client.post_json::<_, wire::BulkIssueResults>(&path, &request).await) },
            );
        }
        let mut answers: Vec<Option<wire::BulkIssueResults>> = (0..tasks.len()).map(|_| None).collect();
        while let Some(done) = tasks.join_next().await {
            let (n, answer) = joined(done);
            answers[n] = Some(answer?);
        }
        let mut issues = Vec::with_capacity(ids.len());
        let mut errors = Vec::new();
        for (chunk, answer) in ids.chunks(BULKFETCH_MAX).zip(answers) {
            let answer = answer.unwrap_or_default();
            let mut answered = BTreeSet::new();
            for bean in answer.issues {
                answered.insert(bean.id.clone());
                if let Some(key) = &bean.key {
                    answered.insert(key.clone());
                }
                match issue_from_wire(bean, &base) {
                    Ok(issue) => issues.push(issue),
                    Err(error) => errors.push(error),
                }
            }
            for error in answer.issue_errors {
                answered.insert(error.id.clone());
                errors.push((error.id, error.error_message));
            }
            for id in chunk.iter().filter(|id| !answered.contains(*id)) {
                errors.push((id.clone(), "not in the bulk fetch answer".into()));
            }
        }
        Ok((issues, errors))
    }

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
            comments.push(IssueComment {
                id: comment.id,
                issue_id: issue_id.to_string(),
                author: comment.author.and_then(account_id),
                body: comment.body.unwrap_or(serde_json::Value::Null),
                created: comment.created.as_deref().and_then(parse_time),
                updated: comment.updated.as_deref().and_then(parse_time),
                visibility,
            });
        }
        Ok(comments)
    }

    /// Which of these comment ids still exist (and are on an issue that can be seen): `POST /comment/list`,
    /// 1000 ids per call. Ids that are not numbers cannot be Jira comments and are never in the answer.
    pub async fn existing_comments(&self, ids: &[String]) -> Result<BTreeSet<String>, Error> {
        Ok(self.listed_comments(ids).await?.into_iter().map(|c| c.id).collect())
    }

    /// The visibility of each of these comments (by comment id, with its project's id) that still exists:
    /// `None` for an open one. A permission refresh reads these to follow restrictions set or lifted.
    pub async fn comment_visibilities(
        &self,
        comments: &[(String, String)],
    ) -> Result<BTreeMap<String, Option<CommentVisibility>>, Error> {
        let project_of: HashMap<&str, &str> =
            comments.iter().map(|(c, p)| (c.as_str(), p.as_str())).collect();
        let ids: Vec<String> = comments.iter().map(|(c, _)| c.clone()).collect();
        let mut visibilities = BTreeMap::new();
        for comment in self.listed_comments(&ids).await? {
            let Some(project_id) = project_of.get(comment.id.as_str()) else { continue };
            let visibility = self.comment_visibility(&comment, project_id).await?;
            visibilities.insert(comment.id, visibility);
        }
        Ok(visibilities)
    }

    /// A comment's restriction: its `visibility`, and for an internal service-management comment
    /// (`jsdPublic: false`), which only the project's agents see, a restriction nobody passes (who is an
    /// agent is not read).
    async fn comment_visibility(
        &self,
        comment: &wire::Comment,
        project_id: &str,
    ) -> Result<Option<CommentVisibility>, Error> {
        if comment.jsd_public == Some(false) {
            return Ok(Some(CommentVisibility::Unknown(INTERNAL_COMMENT.into())));
        }
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

    /// The attachment's bytes, at most `max_bytes` (a larger file is [`Error::TooLarge`]). Jira answers
    /// with a redirect to its media service, which the client follows without sending credentials.
    pub async fn download(&self, attachment: &IssueAttachment, max_bytes: u64) -> Result<Vec<u8>, Error> {
        Ok(self.client.download(&attachment.download_path, max_bytes).await?.bytes)
    }

    /// Users (`/users/search`, every page; display name and active flag) and groups (`/group/bulk`) with
    /// their members (`/group/member`, inactive users included). A member the user listing missed is
    /// added with what the member listing says about them.
    pub async fn directory(&self) -> Result<Directory, Error> {
        let mut directory = Directory { users: self.users().await?, groups: BTreeMap::new() };
        let groups = self.groups().await?;
        let mut tasks = JoinSet::new();
        for (group_id, name) in groups {
            let client = self.client.clone();
            tasks.spawn(async move {
                let path = format!(
                    "{API}/group/member?{}",
                    query(&[("groupId", &group_id), ("includeInactiveUsers", "true")])
                );
                let members = OffsetPager::<wire::PageBean<wire::User>>::new(path, GROUP_MEMBERS_PAGE)
                    .collect_all(&client)
                    .await;
                (group_id, name, members)
            });
        }
        while let Some(done) = tasks.join_next().await {
            let (group_id, name, members) = joined(done);
            let mut group = DirectoryGroup { name, members: BTreeSet::new() };
            for member in members? {
                if let Some((id, entry)) = directory_user(member) {
                    group.members.insert(id.clone());
                    directory.users.entry(id).or_insert(entry);
                }
            }
            directory.groups.insert(group_id, group);
        }
        Ok(directory)
    }

    /// Every user the site lists (`/users/search`, every page) with display name and active flag.
    pub async fn users(&self) -> Result<BTreeMap<String, DirectoryUser>, Error> {
        let listed = OffsetPager::<UserList>::new(format!("{API}/users/search"), USERS_PAGE)
            .collect_all(&self.client)
            .await?;
        Ok(listed.into_iter().filter_map(directory_user).collect())
    }

    /// Every group as (id, name), and the name → id map remembered for later resolution.
    async fn groups(&self) -> Result<Vec<(String, String)>, Error> {
        let listed =
            OffsetPager::<wire::PageBean<wire::GroupName>>::new(format!("{API}/group/bulk"), GROUPS_PAGE)
                .collect_all(&self.client)
                .await?;
        let mut groups = BTreeMap::new();
        for group in listed {
            // A group without an id cannot be named by any grant that permdex keeps (grants keep ids).
            if let Some(id) = group.group_id.filter(|id| is_id(id)) {
                groups.insert(id, group.name.unwrap_or_default());
            }
        }
        let by_name = groups.iter().map(|(id, name)| (name.clone(), id.clone())).collect();
        self.names().group_ids = Some(by_name);
        Ok(groups.into_iter().collect())
    }

    /// Group name → id: remembered from the last walk, or walked now.
    async fn group_ids(&self) -> Result<HashMap<String, String>, Error> {
        if let Some(known) = self.names().group_ids.clone() {
            return Ok(known);
        }
        self.groups().await?;
        Ok(self.names().group_ids.clone().unwrap_or_default())
    }

    /// A project's role name → id: remembered, or read now (once more when `name` is not among them, in
    /// case the role was added or renamed since).
    async fn role_id(&self, project_id: &str, name: &str) -> Result<Option<String>, Error> {
        let known = self.names().role_ids.get(project_id).and_then(|roles| roles.get(name).cloned());
        if known.is_some() {
            return Ok(known);
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

    fn names(&self) -> std::sync::MutexGuard<'_, Names> {
        // Only plain map updates happen under the lock, so a poisoned one still holds consistent data.
        self.names.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The site's address without a trailing slash, for web URLs.
    fn web_base(&self) -> String {
        self.client.base_url().as_str().trim_end_matches('/').to_string()
    }
}

/// A comment visibility as the comment states it, before names are resolved to ids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum NamedVisibility {
    GroupId(String),
    /// A group named only by its (mutable) name.
    GroupName(String),
    /// Roles are named by name; the project's role listing gives the id.
    RoleName(String),
    /// A type this code does not know, or a group or role it cannot name: nobody passes it.
    Unknown(String),
}

pub(super) fn named_visibility(v: &wire::Visibility) -> NamedVisibility {
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

/// `users/search` answers a bare array; the walk ends on the first empty page, because Jira may answer
/// fewer users than asked for before the end.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
struct UserList(Vec<wire::User>);

impl OffsetPage for UserList {
    type Item = wire::User;
    const START_PARAM: &'static str = "startAt";
    const LIMIT_PARAM: &'static str = "maxResults";
    fn into_parts(self) -> OffsetParts<wire::User> {
        OffsetParts { items: self.0, limit: None, total: None, is_last: Some(false) }
    }
}

/// A project as read, before holders are translated (which may need the site's group names).
struct RawProject {
    id: String,
    key: String,
    name: String,
    lead: Option<String>,
    browse: Vec<wire::PermissionHolder>,
    /// Role id → its actors, for the roles read.
    roles: BTreeMap<String, Vec<wire::RoleActor>>,
    /// Role name → id, when the role listing was read.
    role_ids: BTreeMap<String, String>,
    /// Level id → the id of the security scheme it belongs to.
    levels: BTreeMap<String, String>,
}

impl RawProject {
    fn names_groups_by_name(&self, level_members: &LevelMembers) -> bool {
        let members = self
            .levels
            .iter()
            .filter_map(|(level, scheme)| level_members.get(&(scheme.clone(), level.clone())))
            .flatten();
        let holders = self.browse.iter().chain(members);
        holders.into_iter().any(|h| h.kind == wire::HolderType::Group && group_id_of(h).is_none())
            || self
                .roles
                .values()
                .flatten()
                .any(|a| a.kind == wire::RoleActorType::Group && actor_group_id(a).is_none())
    }

    /// The roles this project's browse grants and its security levels' members name.
    fn named_roles(&self, level_members: &LevelMembers) -> BTreeSet<String> {
        let members = self
            .levels
            .iter()
            .filter_map(|(level, scheme)| level_members.get(&(scheme.clone(), level.clone())))
            .flatten();
        self.browse
            .iter()
            .chain(members)
            .filter(|h| h.kind == wire::HolderType::ProjectRole)
            .filter_map(role_id_of)
            .collect()
    }

    fn to_project(
        &self,
        group_ids: &HashMap<String, String>,
        level_members: &LevelMembers,
        base: &str,
    ) -> Project {
        let holders = |list: &[wire::PermissionHolder]| -> Vec<Holder> {
            let mut out: Vec<Holder> = list.iter().map(|h| holder(h, group_ids)).collect();
            out.sort();
            out.dedup();
            out
        };
        let roles = self
            .roles
            .iter()
            .map(|(role_id, actors)| (role_id.clone(), role_actors_of(actors, group_ids, &self.key, role_id)))
            .collect();
        Project {
            id: self.id.clone(),
            key: self.key.clone(),
            name: self.name.clone(),
            lead: self.lead.clone(),
            browse: holders(&self.browse),
            roles,
            security_levels: self
                .levels
                .iter()
                .map(|(level, scheme)| {
                    let members = level_members.get(&(scheme.clone(), level.clone())).map_or(&[][..], |m| m);
                    (level.clone(), holders(members))
                })
                .collect(),
            url: format!("{base}/browse/{}", self.key),
        }
    }
}

/// (Security scheme id, level id) → the level's members' holders.
type LevelMembers = HashMap<(String, String), Vec<wire::PermissionHolder>>;

/// The members of every security level the projects' schemes name, in one walk over all those schemes
/// (`schemeId` repeated): projects sharing a scheme share its levels. Each member is filed under the level
/// it names; one that names no level, or a level none of the projects has, is left out (it grants
/// nothing).
async fn read_level_members(client: &Client, raw: &[(usize, RawProject)]) -> Result<LevelMembers, Error> {
    let wanted: BTreeMap<String, String> = raw
        .iter()
        .flat_map(|(_, p)| p.levels.iter().map(|(level, scheme)| (level.clone(), scheme.clone())))
        .collect();
    let mut read: LevelMembers =
        wanted.iter().map(|(level, scheme)| ((scheme.clone(), level.clone()), Vec::new())).collect();
    let schemes: BTreeSet<&String> = wanted.values().collect();
    if schemes.is_empty() {
        return Ok(read);
    }
    let pairs: Vec<(&str, &str)> = schemes.iter().map(|s| ("schemeId", s.as_str())).collect();
    let path = format!("{API}/issuesecurityschemes/level/member?{}", query(&pairs));
    let members = OffsetPager::<wire::PageBean<wire::SecurityLevelMember>>::new(path, LEVEL_MEMBERS_PAGE)
        .collect_all(client)
        .await?;
    for member in members {
        let level = &member.issue_security_level_id;
        let Some(scheme) = wanted.get(level) else {
            tracing::debug!(level, member = member.id, "security level member of no level in use skipped");
            continue;
        };
        if member.issue_security_scheme_id.as_ref().is_some_and(|s| !s.is_empty() && s != scheme) {
            continue;
        }
        if let Some(holders) = read.get_mut(&(scheme.clone(), level.clone())) {
            holders.push(member.holder);
        }
    }
    Ok(read)
}

/// Reads one project's scheme grants, the ids of its security levels and, when `listing` says so, the name
/// and id of each of its roles.
async fn read_project(
    client: &Client,
    project: wire::Project,
    listing: RoleListing,
) -> Result<RawProject, Error> {
    let id = segment(&project.id);
    let browse = if project.simplified == Some(true) {
        // Team-managed projects decide access per project, not through a shared scheme, and the scheme
        // endpoint does not describe it: nobody is granted until that model is read.
        tracing::warn!(
            project = project.key,
            "team-managed project: its access is not read, so nobody is granted"
        );
        vec![wire::PermissionHolder {
            kind: wire::HolderType::Other(TEAM_MANAGED.into()),
            ..Default::default()
        }]
    } else {
        let scheme: wire::PermissionScheme = client
            .get_json(&format!(
                "{API}/project/{id}/permissionscheme?expand=permissions,user,group,projectRole"
            ))
            .await?;
        // A scheme answered without its grants grants nothing here: fail closed.
        scheme
            .permissions
            .unwrap_or_default()
            .into_iter()
            .filter(|g| g.permission == BROWSE_PROJECTS)
            .map(|g| g.holder)
            .collect()
    };

    // Role actors are read once the roles to read are known (see `read_roles`).
    let role_ids = if listing == RoleListing::Read {
        let role_urls: wire::RoleUrls = client.get_json(&format!("{API}/project/{id}/role")).await?;
        role_ids_by_name(&role_urls.0)
    } else {
        BTreeMap::new()
    };

    Ok(RawProject {
        name: project.name.clone().unwrap_or_else(|| project.key.clone()),
        lead: project.lead.and_then(account_id),
        id: project.id,
        key: project.key,
        browse,
        roles: BTreeMap::new(),
        role_ids,
        // Read for every project at once by the caller.
        levels: BTreeMap::new(),
    })
}

/// Reads the actors of the roles each project needs: every listed role ([`RoleReads::Every`]), or the
/// roles its browse grants and its levels' members name plus those the caller lists for it.
/// Reads the actors of the roles each project needs; returns the projects (by index into `raw`, ascending)
/// one of whose roles could not be read, with the error.
async fn read_roles(
    client: &Client,
    raw: &mut [(usize, RawProject)],
    level_members: &LevelMembers,
    reads: &RoleReads<'_>,
) -> Vec<(usize, Error)> {
    let mut tasks = JoinSet::new();
    for (index, (_, project)) in raw.iter().enumerate() {
        let wanted: BTreeSet<String> = match reads {
            RoleReads::Every => project.role_ids.values().cloned().collect(),
            RoleReads::Named(in_use) => {
                let mut named = project.named_roles(level_members);
                named.extend(in_use.get(&project.id).into_iter().flatten().cloned());
                named
            }
        };
        for role_id in wanted {
            let client = client.clone();
            let project_id = segment(&project.id);
            tasks.spawn(
                async move { (index, role_id.clone(), read_role(&client, &project_id, &role_id).await) },
            );
        }
    }
    let mut failed = BTreeMap::new();
    while let Some(done) = tasks.join_next().await {
        match joined(done) {
            (index, role_id, Ok(actors)) => {
                raw[index].1.roles.insert(role_id, actors);
            }
            (index, _, Err(e)) => {
                failed.entry(index).or_insert(e);
            }
        }
    }
    failed.into_iter().collect()
}

/// The actors of one role of a project (`project` already a path segment); none when the project or the
/// role no longer exists (404), which grants nothing.
async fn read_role(client: &Client, project: &str, role_id: &str) -> Result<Vec<wire::RoleActor>, Error> {
    let path = format!("{API}/project/{project}/role/{}", segment(role_id));
    match client.get_json::<wire::ProjectRole>(&path).await {
        Ok(role) => Ok(role.actors.unwrap_or_default()),
        Err(e) if e.status() == Some(404) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// Role actors in permdex's terms: users by account id, groups by id (or by a name `group_ids` knows).
/// Other actor types, and groups that cannot be pinned to an id, grant nothing.
pub(super) fn role_actors_of(
    actors: &[wire::RoleActor],
    group_ids: &HashMap<String, String>,
    project: &str,
    role_id: &str,
) -> RoleActors {
    let mut entry = RoleActors::default();
    for actor in actors {
        match actor.kind {
            wire::RoleActorType::User => {
                if let Some(user) = actor.actor_user.as_ref().filter(|u| is_id(&u.account_id)) {
                    entry.users.insert(user.account_id.clone());
                }
            }
            wire::RoleActorType::Group => {
                let by_name = || {
                    let group = actor.actor_group.as_ref()?;
                    let name = group.name.as_ref().or(group.display_name.as_ref())?;
                    group_ids.get(name).cloned()
                };
                match actor_group_id(actor).or_else(by_name) {
                    Some(id) => {
                        entry.groups.insert(id);
                    }
                    None => {
                        tracing::warn!(project, role_id, "role group actor without a known group id skipped")
                    }
                }
            }
            // Other actor types grant nothing permdex can resolve.
            _ => {}
        }
    }
    entry
}

/// The role a `projectRole` holder names: `value`, `parameter` or the expanded role's id.
fn role_id_of(h: &wire::PermissionHolder) -> Option<String> {
    let text = |v: &Option<String>| v.clone().filter(|v| is_id(v));
    text(&h.value)
        .or_else(|| text(&h.parameter))
        .or_else(|| h.project_role.as_ref().filter(|r| r.id != 0).map(|r| r.id.to_string()))
}

/// Role name → role id from a project's role map (the id ends each role URL).
pub(super) fn role_ids_by_name(roles: &wire::ProjectRoles) -> BTreeMap<String, String> {
    roles
        .iter()
        .filter_map(|(name, url)| match wire::role_id_from_url(url) {
            Some(id) => Some((name.clone(), id.to_string())),
            None => {
                tracing::warn!(role = name, "project role url without a role id skipped");
                None
            }
        })
        .collect()
}

/// A holder's group id: `value`, or the expanded group's id.
fn group_id_of(h: &wire::PermissionHolder) -> Option<String> {
    h.value
        .clone()
        .filter(|v| is_id(v))
        .or_else(|| h.group.as_ref().and_then(|g| g.group_id.clone()).filter(|v| is_id(v)))
}

fn actor_group_id(actor: &wire::RoleActor) -> Option<String> {
    actor.actor_group.as_ref().and_then(|g| g.group_id.clone()).filter(|id| is_id(id))
}

/// One grant or level member holder in permdex's terms. Anything that cannot be pinned to an id is
/// `Unknown`, which grants nothing.
pub(super) fn holder(h: &wire::PermissionHolder, group_ids: &HashMap<String, String>) -> Holder {
    let text = |v: &Option<String>| v.clone().filter(|v| is_id(v));
    match &h.kind {
        wire::HolderType::Anyone => Holder::Anyone,
        // No parameter: any Jira application. One that names no application grants nothing.
        wire::HolderType::ApplicationRole => match h.parameter.as_deref() {
            None => Holder::ApplicationRole(None),
            Some(key) if is_id(key) => Holder::ApplicationRole(Some(key.to_owned())),
            Some(key) => Holder::Unknown(format!("applicationRole {key:?}")),
        },
        wire::HolderType::Group => {
            let by_name = || {
                let name = text(&h.parameter).or_else(|| h.group.as_ref().and_then(|g| text(&g.name)))?;
                group_ids.get(&name).cloned()
            };
            match group_id_of(h).or_else(by_name) {
                Some(id) => Holder::Group(id),
                None => Holder::Unknown(format!("group {}", h.parameter.as_deref().unwrap_or_default())),
            }
        }
        wire::HolderType::User => {
            let id = text(&h.value)
                .or_else(|| text(&h.parameter))
                .or_else(|| h.user.as_ref().map(|u| u.account_id.clone()).filter(|a| is_id(a)));
            id.map_or_else(|| Holder::Unknown("user".into()), Holder::User)
        }
        wire::HolderType::ProjectRole => {
            role_id_of(h).map_or_else(|| Holder::Unknown("projectRole".into()), Holder::ProjectRole)
        }
        wire::HolderType::ProjectLead => Holder::ProjectLead,
        wire::HolderType::Reporter => Holder::Reporter,
        wire::HolderType::Assignee => Holder::Assignee,
        other => Holder::Unknown(String::from(other.clone())),
    }
}

/// `project in ("A", "B") [AND id > n] [AND updated >= millis] ORDER BY id ASC`. Epoch milliseconds are
/// read the same in every time zone, unlike JQL's date literals.
fn issue_jql(project_keys: &[String], updated_since: Option<DateTime<Utc>>, after: Option<u64>) -> String {
    let mut jql = issue_filter(project_keys, updated_since, after);
    jql.push_str(" ORDER BY id ASC");
    jql
}

/// The search restriction of [`issue_jql`], without its order.
fn issue_filter(project_keys: &[String], updated_since: Option<DateTime<Utc>>, after: Option<u64>) -> String {
    let keys: Vec<String> = project_keys
        .iter()
        .map(|k| format!("\"{}\"", k.replace('\\', "\\\\").replace('"', "\\\"")))
        .collect();
    let mut jql = format!("project in ({})", keys.join(", "));
    if let Some(after) = after {
        jql.push_str(&format!(" AND id > {after}"));
    }
    if let Some(since) = updated_since {
        jql.push_str(&format!(" AND updated >= {}", since.timestamp_millis()));
    }
    jql
}

/// A bulk-fetched issue in permdex's terms, or why it cannot be one.
pub(super) fn issue_from_wire(bean: wire::IssueBean, base: &str) -> Result<Issue, (String, String)> {
    if !is_id(&bean.id) {
        return Err((bean.id, "answered without a usable id".into()));
    }
    let Some(fields) = bean.fields else { return Err((bean.id, "answered without fields".into())) };
    let Some(project) = fields.project.filter(|p| is_id(&p.id)) else {
        return Err((bean.id, "answered without its project".into()));
    };
    let key = bean.key.unwrap_or_default();
    let attachments = fields
        .attachment
        .unwrap_or_default()
        .into_iter()
        .filter(|a| !a.id.is_empty())
        .map(|a| IssueAttachment {
            download_path: format!("{API}/attachment/content/{}", segment(&a.id)),
            id: a.id,
            issue_id: bean.id.clone(),
            filename: a.filename,
            media_type: a.mime_type,
            size: a.size,
            created: a.created.as_deref().and_then(parse_time),
            author: a.author.and_then(account_id),
        })
        .collect();
    Ok(Issue {
        url: format!("{base}/browse/{key}"),
        key,
        project_id: project.id,
        summary: fields.summary.unwrap_or_default(),
        description: fields.description.unwrap_or(serde_json::Value::Null),
        issue_type: fields.issuetype.map(|t| t.name).unwrap_or_default(),
        parent_id: fields.parent.map(|p| p.id).filter(|id| !id.is_empty()),
        subtask_ids: fields
            .subtasks
            .unwrap_or_default()
            .into_iter()
            .map(|s| s.id)
            .filter(|id| !id.is_empty())
            .collect(),
        status: fields.status.map(|s| s.name).filter(|n| !n.is_empty()),
        labels: fields.labels.unwrap_or_default(),
        reporter: fields.reporter.flatten().and_then(account_id),
        assignee: fields.assignee.flatten().and_then(account_id),
        // A level the site names but whose id cannot be read is a level nobody is known to be in.
        security_level_id: fields
            .security
            .map(|s| if is_id(&s.id) { s.id } else { UNKNOWN_LEVEL.to_owned() }),
        created: fields.created.as_deref().and_then(parse_time),
        updated: fields.updated.as_deref().and_then(parse_time),
        attachments,
        id: bean.id,
    })
}

fn account_id(user: wire::User) -> Option<String> {
    Some(user.account_id).filter(|id| is_id(id))
}

fn directory_user(user: wire::User) -> Option<(String, DirectoryUser)> {
    let id = Some(user.account_id).filter(|id| is_id(id))?;
    // An account whose state is not said is not treated as active.
    let entry = DirectoryUser {
        display_name: user.display_name.unwrap_or_default(),
        active: user.active.unwrap_or(false),
        email: user.email_address.filter(|e| !e.trim().is_empty()),
    };
    Some((id, entry))
}

/// Jira's `2021-02-26T01:45:03.821+0000`, or RFC 3339.
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    wire::parse_jira_time(text).map(|t| t.with_timezone(&Utc))
}

/// Whether a value can be an id: not empty, and not a sentinel such as `-1` that stands for "none".
fn is_id(value: &str) -> bool {
    let value = value.trim();
    !value.is_empty() && !value.starts_with('-') && value != "null"
}

fn malformed(path: &str, reason: String) -> Error {
    Error::Malformed { path: path.to_string(), reason, attempts: 1 }
}

/// The result of a joined task. Tasks here are never aborted while their set is alive, so a join error
/// is a panic, which is passed on.
fn joined<T>(done: Result<T, tokio::task::JoinError>) -> T {
    match done {
        Ok(value) => value,
        Err(e) => match e.try_into_panic() {
            Ok(panic) => std::panic::resume_unwind(panic),
            Err(e) => unreachable!("task {e} was cancelled while its set was alive"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn wire_holder(value: serde_json::Value) -> wire::PermissionHolder {
        serde_json::from_value(value).expect("holder parses")
    }

    #[test]
    fn holders_map_to_model_holders() {
        let groups: HashMap<String, String> = [("managers".to_string(), "g-mgr".to_string())].into();
        let cases = [
            (json!({"type": "anyone"}), Holder::Anyone),
            (
                json!({"type": "applicationRole", "parameter": "jira-software"}),
                Holder::ApplicationRole(Some("jira-software".into())),
            ),
            (json!({"type": "applicationRole"}), Holder::ApplicationRole(None)),
            (
                json!({"type": "applicationRole", "parameter": "-1"}),
                Holder::Unknown("applicationRole \"-1\"".into()),
            ),
            (
                json!({"type": "group", "parameter": "engineering", "value": "g-eng"}),
                Holder::Group("g-eng".into()),
            ),
            (json!({"type": "group", "parameter": "managers"}), Holder::Group("g-mgr".into())),
            (json!({"type": "group", "group": {"groupId": "g-x", "name": "x"}}), Holder::Group("g-x".into())),
            (
                json!({"type": "group", "parameter": "renamed-away"}),
                Holder::Unknown("group renamed-away".into()),
            ),
            (json!({"type": "user", "parameter": "acc-1", "value": "acc-1"}), Holder::User("acc-1".into())),
            (json!({"type": "user", "user": {"accountId": "acc-2"}}), Holder::User("acc-2".into())),
            (json!({"type": "user"}), Holder::Unknown("user".into())),
            (json!({"type": "projectRole", "value": "10001"}), Holder::ProjectRole("10001".into())),
            (json!({"type": "projectrole", "parameter": "10002"}), Holder::ProjectRole("10002".into())),
            (
                json!({"type": "projectRole", "projectRole": {"id": 10003, "name": "R"}}),
                Holder::ProjectRole("10003".into()),
            ),
            (json!({"type": "projectLead"}), Holder::ProjectLead),
            (json!({"type": "reporter"}), Holder::Reporter),
            (json!({"type": "assignee"}), Holder::Assignee),
            (
                json!({"type": "userCustomField", "parameter": "customfield_1"}),
                Holder::Unknown("userCustomField".into()),
            ),
            (json!({"type": "sd.customer.portal.only"}), Holder::Unknown("sd.customer.portal.only".into())),
            (json!({}), Holder::Unknown(String::new())),
        ];
        for (input, expected) in cases {
            assert_eq!(holder(&wire_holder(input.clone()), &groups), expected, "{input}");
        }
    }

    #[test]
    fn jql_is_bounded_by_projects_and_uses_epoch_millis() {
        let keys = ["APP".to_string(), "O\"DD".to_string()];
        let since = DateTime::from_timestamp_millis(1_700_000_000_123).expect("valid time");
        let cases = [
            (None, None, r#"project in ("APP", "O\"DD") ORDER BY id ASC"#),
            (
                Some(since),
                None,
                r#"project in ("APP", "O\"DD") AND updated >= 1700000000123 ORDER BY id ASC"#,
            ),
            (
                Some(since),
                Some(10_100),
                r#"project in ("APP", "O\"DD") AND id > 10100 AND updated >= 1700000000123 ORDER BY id ASC"#,
            ),
        ];
        for (since, after, expected) in cases {
            assert_eq!(issue_jql(&keys, since, after), expected);
        }
    }

    #[test]
    fn times_parse_in_jira_and_rfc3339_forms() {
        let cases = [
            ("2021-02-26T01:45:03.821+0000", Some(1_614_303_903_821)),
            ("2021-02-26T11:45:03.821+1000", Some(1_614_303_903_821)),
            ("2021-02-26T01:45:03.821Z", Some(1_614_303_903_821)),
            ("26/02/2021", None),
        ];
        for (text, millis) in cases {
            assert_eq!(parse_time(text).map(|t| t.timestamp_millis()), millis, "{text}");
        }
    }

    #[test]
    fn issues_without_project_or_fields_are_errors() {
        let bare: wire::IssueBean = serde_json::from_value(json!({"id": "1"})).expect("parses");
        assert_eq!(
            issue_from_wire(bare, "http://x").map(|i| i.id),
            Err(("1".into(), "answered without fields".into()))
        );
        let orphan: wire::IssueBean =
            serde_json::from_value(json!({"id": "2", "fields": {"summary": "s"}})).expect("parses");
        assert!(issue_from_wire(orphan, "http://x").is_err());
    }

    #[test]
    fn role_ids_come_from_role_urls() {
        let roles: wire::ProjectRoles = [
            ("Developers".to_string(), "http://x/rest/api/3/project/1/role/10001".to_string()),
            ("Broken".to_string(), "http://x/rest/api/3/project/1/role/".to_string()),
        ]
        .into();
        let ids = role_ids_by_name(&roles);
        assert_eq!(ids, [("Developers".to_string(), "10001".to_string())].into());
    }
}
