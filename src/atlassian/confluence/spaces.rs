//! Spaces and who may view them: the space listing, each space's `read` permissions, and on sites with
//! role-based space access the site's mode, its roles and each space's role assignments.
//!
//! This file turns what the site says into model types; which holders admit whom is `sync::resolve`'s
//! business.

use std::collections::BTreeSet;

use super::{collect_cursor, is_id, malformed, not_found_as_none, Confluence, V2_LIMIT};
use crate::atlassian::client::Client;
use crate::atlassian::model::{
    AccessClass, RoleAssignment, RoleHolder, Space, SpaceKind, SpaceRole, SpaceRoleMode, Subject,
};
use crate::atlassian::path::segment;
use crate::atlassian::wire::confluence::v2;
use crate::atlassian::Error;

/// What [`Confluence::spaces_where`] read: the spaces with who may view them, and the spaces whose
/// viewers could not be read.
#[derive(Debug)]
pub struct SpacesRead {
    pub spaces: Vec<Space>,
    pub unreadable: Vec<UnreadableSpace>,
}

/// A space whose viewers could not be read, and why: it must be readable by nobody new.
#[derive(Debug)]
pub struct UnreadableSpace {
    pub id: String,
    pub key: String,
    pub error: Error,
}

impl Confluence {
    /// Every space (global, personal; current and archived) with who may view it; the first space whose
    /// viewers cannot be read fails the call.
    pub async fn spaces(&self) -> Result<Vec<Space>, Error> {
        let read = self.spaces_where(|_| true).await?;
        match read.unreadable.into_iter().next() {
            Some(failure) => Err(failure.error),
            None => Ok(read.spaces),
        }
    }

    /// The spaces `keep` accepts, with who may view them: the holders of `read` on the space and, on a
    /// site in role mode (`ROLES_TRANSITION`, `ROLES`), the holders of a role with `read/space` there.
    /// `keep` sees each space before its permissions are read (no readers), so spaces left out cost no
    /// call.
    ///
    /// A space whose permissions or role assignments cannot be read is named in
    /// [`SpacesRead::unreadable`], and so is every space of a site in a role mode this code does not
    /// know; the others are read as usual. The space listing, the mode and the site's roles fail the whole
    /// call, and so does a cancellation.
    pub async fn spaces_where(&self, keep: impl Fn(&Space) -> bool) -> Result<SpacesRead, Error> {
        let listed: Vec<v2::Space> = collect_cursor::<v2::MultiEntityResult<v2::Space>>(
            &self.client,
            format!("/wiki/api/v2/spaces?limit={V2_LIMIT}"),
        )
        .await?;
        let listed: Vec<v2::Space> = listed
            .into_iter()
            .filter(|space| is_id(&space.id) && keep(&self.space_model(space, &[], Vec::new())))
            .collect();
        let roles = match self.space_role_mode().await? {
            SpaceRoleMode::PreRoles => None,
            SpaceRoleMode::Transition | SpaceRoleMode::Roles => Some(self.space_roles().await?),
            SpaceRoleMode::Unknown(unknown) => {
                let reason = format!("space role mode {unknown:?} is not one this crawler knows");
                let unreadable = listed
                    .into_iter()
                    .map(|s| UnreadableSpace {
                        id: s.id,
                        key: s.key,
                        error: malformed("/wiki/api/v2/space-role-mode", &reason),
                    })
                    .collect();
                return Ok(SpacesRead { spaces: Vec::new(), unreadable });
            }
        };
        // Every listing is started at once; the client's concurrency limit decides how many run, so a
        // listing that waits out a 429 holds up no other.
        let mut tasks = tokio::task::JoinSet::new();
        for (i, space) in listed.iter().enumerate() {
            let (client, id) = (self.client.clone(), space.id.clone());
            tasks.spawn(async move { (i, Listed::Permissions(permissions_of(&client, &id).await)) });
            if roles.is_some() {
                let (client, id) = (self.client.clone(), space.id.clone());
                tasks.spawn(async move { (i, Listed::Assignments(assignments_of(&client, &id).await)) });
            }
        }
        let not_done = || Error::InvalidRequest {
            path: "/wiki/api/v2/spaces/{id}/permissions".into(),
            reason: "the permission listing task did not finish".into(),
        };
        let mut permissions: Vec<Result<Vec<v2::SpacePermission>, Error>> =
            listed.iter().map(|_| Err(not_done())).collect();
        let mut assignments: Vec<Result<Vec<RoleAssignment>, Error>> =
            listed.iter().map(|_| Ok(Vec::new())).collect();
        while let Some(joined) = tasks.join_next().await {
            let (i, read) = joined.map_err(|e| Error::InvalidRequest {
                path: "/wiki/api/v2/spaces/{id}/permissions".into(),
                reason: format!("permission listing task failed: {e}"),
            })?;
            match read {
                Listed::Permissions(read) => permissions[i] = read,
                Listed::Assignments(read) => assignments[i] = read,
            }
        }
        let roles = roles.unwrap_or_default();
        let mut spaces = Vec::with_capacity(listed.len());
        let mut unreadable = Vec::new();
        for ((space, permissions), assignments) in listed.into_iter().zip(permissions).zip(assignments) {
            match permissions.and_then(|p| assignments.map(|a| (p, a))) {
                Ok((permissions, assignments)) => {
                    let viewers = role_viewers(&roles, &assignments);
                    spaces.push(self.space_model(&space, &permissions, viewers));
                }
                // A run that is stopping stops here rather than recording every space as unreadable.
                Err(error @ Error::Cancelled { .. }) => return Err(error),
                Err(error) => unreadable.push(UnreadableSpace { id: space.id, key: space.key, error }),
            }
        }
        Ok(SpacesRead { spaces, unreadable })
    }

    fn space_model(
        &self,
        space: &v2::Space,
        permissions: &[v2::SpacePermission],
        role_viewers: Vec<RoleHolder>,
    ) -> Space {
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
            role_viewers,
            url,
        }
    }

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
        assignments_of(&self.client, space_id).await
    }
}

/// One of the listings a space's viewers are read from.
enum Listed {
    Permissions(Result<Vec<v2::SpacePermission>, Error>),
    Assignments(Result<Vec<RoleAssignment>, Error>),
}

/// The space permissions of one space.
async fn permissions_of(client: &Client, space_id: &str) -> Result<Vec<v2::SpacePermission>, Error> {
    let path = format!("/wiki/api/v2/spaces/{}/permissions?limit={V2_LIMIT}", segment(space_id));
    collect_cursor::<v2::MultiEntityResult<v2::SpacePermission>>(client, path).await
}

/// The role assignments of one space. An assignment of a role that cannot be named gives nothing anyone
/// could hold, and is left out.
async fn assignments_of(client: &Client, space_id: &str) -> Result<Vec<RoleAssignment>, Error> {
    let path = format!("/wiki/api/v2/spaces/{}/role-assignments?limit={V2_LIMIT}", segment(space_id));
    let listed = collect_cursor::<v2::MultiEntityResult<v2::SpaceRoleAssignment>>(client, path).await?;
    Ok(listed
        .into_iter()
        .filter(|a| is_id(&a.role_id))
        .map(|a| RoleAssignment { holder: role_holder(&a.principal), role_id: a.role_id })
        .collect())
}

/// The holders of the assignments whose role lets them view the space, each once. An assignment of a
/// role the site did not list grants nothing.
fn role_viewers(roles: &[SpaceRole], assignments: &[RoleAssignment]) -> Vec<RoleHolder> {
    let viewing: BTreeSet<&str> = roles.iter().filter(|r| r.views_space).map(|r| r.id.as_str()).collect();
    let mut viewers: Vec<RoleHolder> = Vec::new();
    for a in assignments.iter().filter(|a| viewing.contains(a.role_id.as_str())) {
        if !viewers.contains(&a.holder) {
            viewers.push(a.holder.clone());
        }
    }
    viewers
}

/// Who a space permission names. Anything but a user, a group or the anonymous role grants nothing.
pub(in crate::atlassian) fn subject_of(principal: &v2::PermissionPrincipal) -> Subject {
    match (principal.kind.as_str(), principal.id.as_str()) {
        ("user", id) if is_id(id) => Subject::User(id.to_owned()),
        ("group", id) if is_id(id) => Subject::Group(id.to_owned()),
        ("role", "ANONYMOUS") => Subject::Anonymous,
        (kind, id) => Subject::Unknown(format!("{kind}:{id}")),
    }
}

/// The space permission that lets a role's holders view the space.
const VIEW_SPACE: &str = "read/space";

/// Who a role assignment names. An id that is empty or a sentinel, or a type this code does not know,
/// grants nothing.
pub(in crate::atlassian) fn role_holder(principal: &v2::RolePrincipal) -> RoleHolder {
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn viewers_are_the_holders_of_roles_that_view_the_space_each_once() {
        let role = |id: &str, views_space: bool| SpaceRole {
            id: id.into(),
            name: id.into(),
            views_space,
            permissions: BTreeSet::new(),
        };
        let roles = [role("viewer", true), role("exporter", false)];
        let assign = |holder: RoleHolder, role_id: &str| RoleAssignment { holder, role_id: role_id.into() };
        let (ann, eng) = (RoleHolder::User("ann".into()), RoleHolder::Group("eng".into()));
        let assignments = [
            assign(ann.clone(), "viewer"),
            assign(ann.clone(), "viewer"),
            assign(eng.clone(), "exporter"),
            assign(eng.clone(), "a-role-the-site-did-not-list"),
            assign(RoleHolder::AccessClass(AccessClass::AnonymousUsers), "viewer"),
        ];
        assert_eq!(
            role_viewers(&roles, &assignments),
            [ann, RoleHolder::AccessClass(AccessClass::AnonymousUsers)]
        );
    }

    #[test]
    fn role_principals_map_to_holders_and_unknown_grants_nothing() {
        let cases = [
            ("USER", "abc", RoleHolder::User("abc".into())),
            ("GROUP", "g1", RoleHolder::Group("g1".into())),
            ("ACCESS_CLASS", "all-licensed-users", RoleHolder::AccessClass(AccessClass::AllLicensedUsers)),
            ("ACCESS_CLASS", "new-class", RoleHolder::AccessClass(AccessClass::Other("new-class".into()))),
            ("USER", "-1", RoleHolder::Unknown("USER:-1".into())),
            ("TEAM", "t1", RoleHolder::Unknown("TEAM:t1".into())),
        ];
        for (kind, id, want) in cases {
            let principal = v2::RolePrincipal { principal_type: kind.into(), principal_id: id.into() };
            assert_eq!(role_holder(&principal), want, "{kind} {id}");
        }
    }
}
