//! Projects and who may browse them: live projects (`/project/search`), the `BROWSE_PROJECTS` grants of
//! each project's permission scheme (`/project/{id}/permissionscheme`), its roles (`/project/{id}/role`)
//! and their actors (`/project/{id}/role/{roleId}`), its issue security scheme's levels
//! (`security_levels.rs`, for every project at once) and their members
//! (`/issuesecurityschemes/level/member`, one walk for every scheme), and the site's application roles
//! (`/applicationrole`, admin only).
//!
//! Holders and role actors are translated as Jira states them, never widened: a group named only by a
//! name no group has any more, a role the project does not know, a holder type this code does not resolve
//! all become `Unknown`, which grants nothing. Not here: what a holder means for a document
//! (`sync::resolve`), comment visibilities (`comments.rs`), the directory of users and groups
//! (`directory.rs`).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use tokio::task::JoinSet;

use super::{
    account_id, is_id, joined, Jira, ADMINISTER_JIRA, API, BROWSE_PROJECTS, LEVEL_MEMBERS_PAGE,
    PROJECTS_PAGE, TEAM_MANAGED,
};
use crate::atlassian::client::Client;
use crate::atlassian::model::{ApplicationRole, Holder, Project, RoleActors};
use crate::atlassian::paginate::OffsetPager;
use crate::atlassian::path::{query, segment};
use crate::atlassian::wire::jira as wire;
use crate::atlassian::Error;

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
        let mut levels = super::security_levels::levels_by_project(&self.client, &ids).await?;
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
            // Read beside the projects, for those whose browse holders need it (`service_desk.rs`).
            service_desk: None,
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
/// roles its browse grants and its levels' members name plus those the caller lists for it. Returns the
/// projects (by index into `raw`, ascending) one of whose roles could not be read, with the error.
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
pub(in crate::atlassian) fn role_actors_of(
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
pub(in crate::atlassian) fn role_ids_by_name(roles: &wire::ProjectRoles) -> BTreeMap<String, String> {
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
pub(in crate::atlassian) fn holder(
    h: &wire::PermissionHolder,
    group_ids: &HashMap<String, String>,
) -> Holder {
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
        wire::HolderType::CustomerPortalOnly => Holder::CustomerPortal,
        other => Holder::Unknown(String::from(other.clone())),
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
            (json!({"type": "sd.customer.portal.only"}), Holder::CustomerPortal),
            (json!({}), Holder::Unknown(String::new())),
        ];
        for (input, expected) in cases {
            assert_eq!(holder(&wire_holder(input.clone()), &groups), expected, "{input}");
        }
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
