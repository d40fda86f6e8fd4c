//! The changes a simulated site undergoes between syncs, applied the way Atlassian applies them.
//!
//! A [`Mutation`] is one change (it is also the JSON body of `POST /_sim/mutate`); [`apply`] checks it against
//! the site, rejects it without touching anything if Atlassian would, and otherwise applies it with
//! Atlassian's side effects:
//!
//! - content edits, moves, archiving and restoring bump the page's `version` and `updated`; moving a page into
//!   another space takes its subtree along; deleting a page moves its children up to its parent and deletes
//!   its comments and attachments; deleting a Jira issue deletes its sub-tasks, comments and attachments;
//! - Jira field edits (summary, description, security level, assignee, reporter) and comment additions or
//!   visibility changes bump the issue's `updated` (and the comment's);
//! - permission-only changes (restrictions, space permissions, grants, level members, role actors, group
//!   membership, renames, deactivations) touch no version and no time stamp, exactly as in Atlassian: an
//!   incremental crawler that only asks "what changed since" misses them and must refresh permissions;
//! - renaming a space, and moves or deletions above a page, change where the page shows but not its
//!   version: a crawler that shows space names and breadcrumbs must refresh them too.
//!
//! [`random_mutation`] draws a valid mutation of any kind but a space rename for property tests.
//!
//! Deliberately not modelled: page title uniqueness within a space, attachment versions, the trash, and who
//! makes a change (new comments and attachments are authored by the site admin account).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::model::{
    AccessRule, Attachment, Comment, Content, ContentKind, FileBody, FileKind, Holder, IdSequences,
    InlineComment, Issue, IssueComment, IssueType, LevelMember, PermissionGrant, Resolution, RoleActors,
    RoleAssignment, RoleMode, RolePrincipal, SecurityLevel, Site, SpacePermission, SpacePrincipal, Status,
    Visibility,
};
use super::Error;

/// One change to a site. Optional fields may be left out of the JSON form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Mutation {
    /// A new version of a page or blog post with a new title and/or body (storage XHTML).
    EditPage {
        id: u64,
        title: Option<String>,
        body: Option<String>,
    },
    /// Moves a page under `new_parent_id`, or to the top level of `new_space_id` (or of its own space) when no
    /// parent is given. Moving into another space takes the whole subtree. Blog posts only change space.
    MovePage {
        id: u64,
        new_parent_id: Option<u64>,
        new_space_id: Option<u64>,
    },
    /// Deletes a page or blog post; its children move up to its parent, its comments and attachments go.
    DeletePage {
        id: u64,
    },
    /// Archives a page (blog posts cannot be archived); its children stay where they are.
    ArchivePage {
        id: u64,
    },
    RestorePage {
        id: u64,
    },
    /// Replaces the read restriction of a page or blog post (both sets empty: unrestricted).
    SetReadRestriction {
        id: u64,
        users: BTreeSet<String>,
        groups: BTreeSet<String>,
    },
    /// Grants (`grant: true`) or revokes the space-level `read` permission of a principal.
    SetSpacePermission {
        space_id: u64,
        principal: SpacePrincipal,
        grant: bool,
    },
    /// Renames a space. Like on Atlassian it touches no page's version or time, though every page shows
    /// the new name. Not drawn by [`random_mutation`]: tests name it when they need it.
    RenameSpace {
        space_id: u64,
        name: String,
    },
    /// A footer comment on a page or blog post, or a reply to one of its comments. `body` is plain text.
    AddComment {
        container_id: u64,
        parent_comment_id: Option<u64>,
        body: String,
    },
    /// Deletes a Confluence comment (footer or inline) and its replies.
    DeleteComment {
        id: u64,
    },
    /// An inline comment on `selection` of a page or blog post, or a reply in one's thread (which keeps
    /// the thread's selection). `body` is plain text.
    AddInlineComment {
        container_id: u64,
        parent_comment_id: Option<u64>,
        body: String,
        selection: String,
    },
    /// Resolves, reopens (…) an inline comment thread: the comment and its replies.
    SetInlineResolution {
        id: u64,
        resolution: Resolution,
    },
    /// Assigns (`assign: true`) or unassigns a space role to a principal on a space, on a site with
    /// role-based space access. Like every permission change it touches no version.
    SetSpaceRoleAssignment {
        space_id: u64,
        principal: RolePrincipal,
        role_id: String,
        assign: bool,
    },
    AddAttachment {
        container_id: u64,
        filename: String,
        kind: FileKind,
        text: String,
    },
    DeleteAttachment {
        id: u64,
    },
    EditIssue {
        id: u64,
        summary: Option<String>,
        description_text: Option<String>,
    },
    /// Sets or clears an issue's security level (not allowed on sub-tasks: they take their parent's).
    SetIssueSecurityLevel {
        id: u64,
        level_id: Option<u64>,
    },
    SetAssignee {
        id: u64,
        account_id: Option<String>,
    },
    SetReporter {
        id: u64,
        account_id: Option<String>,
    },
    /// Deletes an issue with its sub-tasks, comments and attachments.
    DeleteIssue {
        id: u64,
    },
    /// Archives an issue with its sub-tasks (sub-tasks cannot be archived on their own).
    ArchiveIssue {
        id: u64,
    },
    AddIssueComment {
        issue_id: u64,
        body_text: String,
        visibility: Option<Visibility>,
    },
    /// Changes who may see a Jira comment.
    SetCommentVisibility {
        id: u64,
        visibility: Option<Visibility>,
    },
    DeleteIssueComment {
        id: u64,
    },
    /// Adds a `BROWSE_PROJECTS` grant to a permission scheme.
    AddGrant {
        scheme_id: u64,
        holder: Holder,
    },
    RemoveGrant {
        scheme_id: u64,
        grant_id: u64,
    },
    /// Adds a member to a security level (level ids are unique across schemes).
    AddLevelMember {
        level_id: u64,
        holder: Holder,
    },
    RemoveLevelMember {
        level_id: u64,
        member_id: u64,
    },
    /// Replaces the actors of a role in a project.
    SetRoleActors {
        project_id: u64,
        role_id: u64,
        users: BTreeSet<String>,
        groups: BTreeSet<String>,
    },
    AddGroupMember {
        group_id: String,
        account_id: String,
    },
    RemoveGroupMember {
        group_id: String,
        account_id: String,
    },
    /// Renames a group; its id, and so every grant naming it, stays.
    RenameGroup {
        group_id: String,
        name: String,
    },
    DeactivateUser {
        account_id: String,
    },
    /// Adds (`participant: true`) or removes a request participant of a service desk request. An edit of
    /// the request's participants field, so the issue's `updated` moves.
    SetRequestParticipant {
        issue_id: u64,
        account_id: String,
        participant: bool,
    },
    /// Shares (`shared: true`) a service desk request with an organisation, or stops sharing it. An edit
    /// of the request's organisations field, so the issue's `updated` moves.
    ShareRequest {
        issue_id: u64,
        organisation_id: u64,
        shared: bool,
    },
    /// Adds (`member: true`) or removes a customer organisation's member. Like every permission change it
    /// touches no issue.
    SetOrganisationMember {
        organisation_id: u64,
        account_id: String,
        member: bool,
    },
}

/// Checks `m` against the site and applies it, or returns why Atlassian would refuse it (site unchanged).
///
/// Expects `site.index` to be current (as [`Site::reindex`] leaves it) and leaves it current.
pub fn apply(site: &mut Site, m: &Mutation) -> Result<(), Error> {
    validate(site, m)?;
    perform(site, m);
    site.reindex();
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Validation: every reason to refuse is found here, before anything changes.

fn not_found(kind: &'static str, id: impl ToString) -> Error {
    Error::NotFound { kind, id: id.to_string() }
}

fn invalid(reason: String) -> Error {
    Error::InvalidMutation(reason)
}

fn content(site: &Site, id: u64) -> Result<&Content, Error> {
    site.contents.get(&id).ok_or_else(|| not_found("content", id))
}

fn issue(site: &Site, id: u64) -> Result<&Issue, Error> {
    site.issues.get(&id).ok_or_else(|| not_found("issue", id))
}

/// Archived pages cannot be edited or commented on until restored.
fn current_content(site: &Site, id: u64) -> Result<&Content, Error> {
    let c = content(site, id)?;
    match c.status {
        Status::Current => Ok(c),
        Status::Archived => Err(invalid(format!("content {id} is archived"))),
    }
}

/// A live issue that is a service desk request.
fn request(site: &Site, id: u64) -> Result<(), Error> {
    let i = live_issue(site, id)?;
    if !site.requests.contains_key(&id) {
        return Err(invalid(format!("issue {} is no service desk request", i.key)));
    }
    Ok(())
}

/// Archived issues are read-only.
fn live_issue(site: &Site, id: u64) -> Result<&Issue, Error> {
    let i = issue(site, id)?;
    if i.archived {
        return Err(invalid(format!("issue {} is archived", i.key)));
    }
    Ok(i)
}

fn known_user(site: &Site, account_id: &str) -> Result<(), Error> {
    site.user(account_id).map(|_| ()).ok_or_else(|| not_found("user", account_id))
}

fn active_user(site: &Site, account_id: &str) -> Result<(), Error> {
    match site.user(account_id) {
        Some(u) if u.active => Ok(()),
        Some(_) => Err(invalid(format!("user {account_id} is deactivated"))),
        None => Err(not_found("user", account_id)),
    }
}

fn known_group(site: &Site, group_id: &str) -> Result<(), Error> {
    site.group(group_id).map(|_| ()).ok_or_else(|| not_found("group", group_id))
}

fn known_role(site: &Site, role_id: u64) -> Result<(), Error> {
    site.roles.iter().any(|r| r.id == role_id).then_some(()).ok_or_else(|| not_found("project role", role_id))
}

fn known_holder(site: &Site, holder: &Holder) -> Result<(), Error> {
    match holder {
        Holder::Group(g) => known_group(site, g),
        Holder::User(u) => known_user(site, u),
        Holder::ProjectRole(r) => known_role(site, *r),
        Holder::Anyone
        | Holder::ApplicationRole(_)
        | Holder::ProjectLead
        | Holder::Reporter
        | Holder::Assignee
        | Holder::CustomerPortal => Ok(()),
    }
}

fn known_visibility(site: &Site, visibility: Option<&Visibility>) -> Result<(), Error> {
    match visibility {
        None => Ok(()),
        Some(Visibility::Group(g)) => known_group(site, g),
        Some(Visibility::Role(r)) => known_role(site, *r),
    }
}

fn known_principals(site: &Site, users: &BTreeSet<String>, groups: &BTreeSet<String>) -> Result<(), Error> {
    users.iter().try_for_each(|u| known_user(site, u))?;
    groups.iter().try_for_each(|g| known_group(site, g))
}

fn non_empty_text(what: &str, text: &str) -> Result<(), Error> {
    if text.trim().is_empty() {
        return Err(invalid(format!("{what} is empty")));
    }
    Ok(())
}

fn find_level(site: &Site, level_id: u64) -> Option<&SecurityLevel> {
    site.security_schemes.values().flat_map(|s| &s.levels).find(|l| l.id == level_id)
}

/// The pages below `id`, found through the index (breadth first).
fn descendants(site: &Site, id: u64) -> Vec<u64> {
    let mut found = Vec::new();
    let mut seen = HashSet::from([id]);
    let mut next = 0;
    let mut frontier = vec![id];
    while next < frontier.len() {
        let cur = frontier[next];
        next += 1;
        for &child in site.index.children_of.get(&cur).into_iter().flatten() {
            // `seen` keeps a corrupted (cyclic) tree from looping forever.
            if seen.insert(child) {
                found.push(child);
                frontier.push(child);
            }
        }
    }
    found
}

/// The issue's sub-tasks (children of other types, such as an epic's stories, are only linked to it).
fn subtasks(site: &Site, id: u64) -> Vec<u64> {
    let children = site.index.subtasks_of.get(&id).into_iter().flatten();
    children.copied().filter(|c| site.issues.get(c).is_some_and(|i| i.issue_type.is_subtask())).collect()
}

fn validate(site: &Site, m: &Mutation) -> Result<(), Error> {
    match m {
        Mutation::EditPage { id, title, .. } => {
            current_content(site, *id)?;
            title.as_deref().map_or(Ok(()), |t| non_empty_text("title", t))
        }
        Mutation::MovePage { id, new_parent_id, new_space_id } => {
            validate_move(site, *id, *new_parent_id, *new_space_id)
        }
        Mutation::DeletePage { id } => content(site, *id).map(|_| ()),
        Mutation::ArchivePage { id } => match current_content(site, *id)?.kind {
            ContentKind::Page => Ok(()),
            // Confluence's blog post statuses have no `archived`.
            ContentKind::BlogPost => Err(invalid(format!("blog post {id} cannot be archived"))),
        },
        Mutation::RestorePage { id } => match content(site, *id)?.status {
            Status::Archived => Ok(()),
            Status::Current => Err(invalid(format!("content {id} is not archived"))),
        },
        Mutation::SetReadRestriction { id, users, groups } => {
            content(site, *id)?;
            known_principals(site, users, groups)
        }
        Mutation::RenameSpace { space_id, name } => {
            site.spaces.get(space_id).ok_or_else(|| not_found("space", space_id))?;
            non_empty_text("space name", name)
        }
        Mutation::SetSpacePermission { space_id, principal, .. } => {
            site.spaces.get(space_id).ok_or_else(|| not_found("space", space_id))?;
            match principal {
                SpacePrincipal::User(u) => known_user(site, u),
                SpacePrincipal::Group(g) => known_group(site, g),
                SpacePrincipal::Role(r) if r == "ANONYMOUS" => Ok(()),
                SpacePrincipal::Role(r) => Err(not_found("space role", r)),
            }
        }
        Mutation::AddComment { container_id, parent_comment_id, body } => {
            current_content(site, *container_id)?;
            non_empty_text("comment body", body)?;
            match parent_comment_id {
                None => Ok(()),
                Some(p) => {
                    let parent = site.comments.get(p).ok_or_else(|| not_found("comment", p))?;
                    if parent.container_id != *container_id {
                        return Err(invalid(format!("comment {p} is not on content {container_id}")));
                    }
                    Ok(())
                }
            }
        }
        Mutation::DeleteComment { id } => {
            let exists = site.comments.contains_key(id) || site.inline_comments.contains_key(id);
            exists.then_some(()).ok_or_else(|| not_found("comment", id))
        }
        Mutation::AddInlineComment { container_id, parent_comment_id, body, selection } => {
            current_content(site, *container_id)?;
            non_empty_text("comment body", body)?;
            if let Some(parent) = parent_comment_id {
                let c =
                    site.inline_comments.get(parent).ok_or_else(|| not_found("inline comment", parent))?;
                if c.container_id != *container_id {
                    return Err(invalid(format!("inline comment {parent} is not on content {container_id}")));
                }
            } else {
                non_empty_text("highlighted text", selection)?;
            }
            Ok(())
        }
        Mutation::SetSpaceRoleAssignment { space_id, principal, role_id, .. } => {
            site.spaces.get(space_id).ok_or_else(|| not_found("space", space_id))?;
            if site.space_roles.mode == RoleMode::PreRoles {
                return Err(invalid("the site has no role-based space access".to_string()));
            }
            if !site.space_roles.roles.iter().any(|r| r.id == *role_id) {
                return Err(not_found("space role", role_id));
            }
            match principal {
                RolePrincipal::User(u) => known_user(site, u),
                RolePrincipal::Group(g) => known_group(site, g),
                RolePrincipal::AccessClass(class) if ACCESS_CLASSES.contains(&class.as_str()) => Ok(()),
                RolePrincipal::AccessClass(class) => Err(not_found("access class", class)),
            }
        }
        Mutation::SetInlineResolution { id, .. } => match site.inline_comments.get(id) {
            Some(c) if c.parent_comment_id.is_none() => Ok(()),
            Some(_) => {
                Err(invalid(format!("inline comment {id} is a reply: its thread is resolved, not it")))
            }
            None => Err(not_found("inline comment", id)),
        },
        Mutation::AddAttachment { container_id, filename, .. } => {
            current_content(site, *container_id)?;
            non_empty_text("file name", filename)?;
            let siblings = site.index.attachments_of.get(container_id).into_iter().flatten();
            if siblings.filter_map(|a| site.attachments.get(a)).any(|a| a.file.filename == *filename) {
                return Err(invalid(format!(
                    "content {container_id} already has an attachment named {filename}"
                )));
            }
            Ok(())
        }
        Mutation::DeleteAttachment { id } => {
            site.attachments.get(id).map(|_| ()).ok_or_else(|| not_found("attachment", id))
        }
        Mutation::EditIssue { id, summary, .. } => {
            live_issue(site, *id)?;
            summary.as_deref().map_or(Ok(()), |s| non_empty_text("summary", s))
        }
        Mutation::SetIssueSecurityLevel { id, level_id } => {
            let i = live_issue(site, *id)?;
            if i.issue_type.is_subtask() {
                return Err(invalid(format!("sub-task {} takes its parent's security level", i.key)));
            }
            let Some(level_id) = level_id else {
                return Ok(());
            };
            let project =
                site.projects.get(&i.project_id).ok_or_else(|| not_found("project", i.project_id))?;
            let scheme = project.security_scheme_id.and_then(|s| site.security_schemes.get(&s));
            if !scheme.is_some_and(|s| s.levels.iter().any(|l| l.id == *level_id)) {
                return Err(invalid(format!(
                    "security level {level_id} is not in the security scheme of project {}",
                    project.key
                )));
            }
            Ok(())
        }
        Mutation::SetAssignee { id, account_id } | Mutation::SetReporter { id, account_id } => {
            live_issue(site, *id)?;
            account_id.as_deref().map_or(Ok(()), |a| active_user(site, a))
        }
        Mutation::DeleteIssue { id } => issue(site, *id).map(|_| ()),
        Mutation::ArchiveIssue { id } => {
            let i = live_issue(site, *id)?;
            if i.issue_type.is_subtask() {
                return Err(invalid(format!("sub-task {} is archived with its parent only", i.key)));
            }
            Ok(())
        }
        Mutation::AddIssueComment { issue_id, body_text, visibility } => {
            live_issue(site, *issue_id)?;
            non_empty_text("comment body", body_text)?;
            known_visibility(site, visibility.as_ref())
        }
        Mutation::SetCommentVisibility { id, visibility } => {
            let c = site.issue_comments.get(id).ok_or_else(|| not_found("issue comment", id))?;
            live_issue(site, c.issue_id)?;
            known_visibility(site, visibility.as_ref())
        }
        Mutation::DeleteIssueComment { id } => {
            site.issue_comments.get(id).map(|_| ()).ok_or_else(|| not_found("issue comment", id))
        }
        Mutation::AddGrant { scheme_id, holder } => {
            let scheme = site
                .permission_schemes
                .get(scheme_id)
                .ok_or_else(|| not_found("permission scheme", scheme_id))?;
            known_holder(site, holder)?;
            if scheme.grants.iter().any(|g| g.permission == BROWSE_PROJECTS && g.holder == *holder) {
                return Err(invalid(format!(
                    "scheme {scheme_id} already grants BROWSE_PROJECTS to {holder:?}"
                )));
            }
            Ok(())
        }
        Mutation::RemoveGrant { scheme_id, grant_id } => {
            let scheme = site
                .permission_schemes
                .get(scheme_id)
                .ok_or_else(|| not_found("permission scheme", scheme_id))?;
            scheme
                .grants
                .iter()
                .any(|g| g.id == *grant_id)
                .then_some(())
                .ok_or_else(|| not_found("grant", grant_id))
        }
        Mutation::AddLevelMember { level_id, holder } => {
            let level = find_level(site, *level_id).ok_or_else(|| not_found("security level", level_id))?;
            known_holder(site, holder)?;
            if level.members.iter().any(|m| m.holder == *holder) {
                return Err(invalid(format!("security level {level_id} already holds {holder:?}")));
            }
            Ok(())
        }
        Mutation::RemoveLevelMember { level_id, member_id } => {
            let level = find_level(site, *level_id).ok_or_else(|| not_found("security level", level_id))?;
            level
                .members
                .iter()
                .any(|m| m.id == *member_id)
                .then_some(())
                .ok_or_else(|| not_found("level member", member_id))
        }
        Mutation::SetRoleActors { project_id, role_id, users, groups } => {
            site.projects.get(project_id).ok_or_else(|| not_found("project", project_id))?;
            known_role(site, *role_id)?;
            known_principals(site, users, groups)
        }
        Mutation::AddGroupMember { group_id, account_id } => {
            known_group(site, group_id)?;
            known_user(site, account_id)?;
            if site.is_member(account_id, group_id) {
                return Err(invalid(format!("user {account_id} is already in group {group_id}")));
            }
            Ok(())
        }
        Mutation::RemoveGroupMember { group_id, account_id } => {
            known_group(site, group_id)?;
            if !site.is_member(account_id, group_id) {
                return Err(invalid(format!("user {account_id} is not in group {group_id}")));
            }
            // Where product access is not enforced, every account uses every product: the access groups
            // the site serves must keep holding every account.
            let access = &site.product_access;
            let grants_access = access.jira.values().any(|app| app.groups.contains(group_id))
                || access.confluence_users.contains(group_id)
                || access.confluence_guests.contains(group_id);
            if access.rule == AccessRule::Everyone && grants_access {
                return Err(invalid(format!(
                    "group {group_id} grants product access on a site that gives every account every product"
                )));
            }
            Ok(())
        }
        Mutation::RenameGroup { group_id, name } => {
            known_group(site, group_id)?;
            non_empty_text("group name", name)?;
            // Group names are unique regardless of case.
            if site.groups.iter().any(|g| g.id != *group_id && g.name.eq_ignore_ascii_case(name)) {
                return Err(invalid(format!("a group named {name} already exists")));
            }
            Ok(())
        }
        Mutation::SetRequestParticipant { issue_id, account_id, .. } => {
            request(site, *issue_id)?;
            known_user(site, account_id)
        }
        Mutation::ShareRequest { issue_id, organisation_id, .. } => {
            request(site, *issue_id)?;
            site.organisations
                .get(organisation_id)
                .map(|_| ())
                .ok_or_else(|| not_found("organization", organisation_id))
        }
        Mutation::SetOrganisationMember { organisation_id, account_id, .. } => {
            site.organisations
                .get(organisation_id)
                .ok_or_else(|| not_found("organization", organisation_id))?;
            known_user(site, account_id)
        }
        Mutation::DeactivateUser { account_id } => {
            active_user(site, account_id)?;
            // The simulator's REST API authenticates as this account; deactivating it would end every crawl.
            if *account_id == site.admin_account_id {
                return Err(invalid(format!("user {account_id} is the site admin")));
            }
            Ok(())
        }
    }
}

const BROWSE_PROJECTS: &str = "BROWSE_PROJECTS";

fn validate_move(
    site: &Site,
    id: u64,
    new_parent_id: Option<u64>,
    new_space_id: Option<u64>,
) -> Result<(), Error> {
    let moved = content(site, id)?;
    let below = descendants(site, id);
    let target_space = match (moved.kind, new_parent_id) {
        (ContentKind::BlogPost, Some(_)) => {
            return Err(invalid(format!("blog post {id} cannot have a parent")))
        }
        (ContentKind::Page, Some(p)) => {
            let parent = content(site, p)?;
            if parent.kind != ContentKind::Page {
                return Err(invalid(format!("content {p} is not a page")));
            }
            if p == id || below.contains(&p) {
                return Err(invalid(format!("page {id} cannot move under itself or its descendant {p}")));
            }
            if new_space_id.is_some_and(|s| s != parent.space_id) {
                return Err(invalid(format!(
                    "page {p} is not in space {}",
                    new_space_id.unwrap_or_default()
                )));
            }
            parent.space_id
        }
        (_, None) => new_space_id.unwrap_or(moved.space_id),
    };
    site.spaces.get(&target_space).ok_or_else(|| not_found("space", target_space))?;
    if target_space != moved.space_id {
        let homepages: HashSet<u64> = site.spaces.values().filter_map(|s| s.homepage_id).collect();
        if let Some(home) = std::iter::once(id).chain(below).find(|c| homepages.contains(c)) {
            return Err(invalid(format!("page {home} is a space home page and cannot leave its space")));
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------------
// Application: runs only after `validate` accepted the mutation, so lookups cannot miss; they are written as
// `if let` rather than unwraps all the same.

fn perform(site: &mut Site, m: &Mutation) {
    match m {
        Mutation::EditPage { id, title, body } => {
            let now = site.tick();
            if let Some(c) = site.contents.get_mut(id) {
                if let Some(t) = title {
                    c.title.clone_from(t);
                }
                if let Some(b) = body {
                    c.body.clone_from(b);
                }
                new_version(c, now);
            }
        }
        Mutation::MovePage { id, new_parent_id, new_space_id } => {
            move_page(site, *id, *new_parent_id, *new_space_id)
        }
        Mutation::DeletePage { id } => delete_page(site, *id),
        Mutation::ArchivePage { id } => set_status(site, *id, Status::Archived),
        Mutation::RestorePage { id } => set_status(site, *id, Status::Current),
        Mutation::SetReadRestriction { id, users, groups } => {
            if let Some(c) = site.contents.get_mut(id) {
                c.read_restriction.users.clone_from(users);
                c.read_restriction.groups.clone_from(groups);
            }
        }
        Mutation::SetSpacePermission { space_id, principal, grant } => {
            set_space_read(site, *space_id, principal, *grant);
        }
        Mutation::RenameSpace { space_id, name } => {
            if let Some(space) = site.spaces.get_mut(space_id) {
                space.name.clone_from(name);
            }
        }
        Mutation::AddComment { container_id, parent_comment_id, body } => {
            let id = fresh_content_id(site);
            let now = site.tick();
            let comment = Comment {
                id,
                container_id: *container_id,
                parent_comment_id: *parent_comment_id,
                body: storage_paragraphs(body),
                version: 1,
                created: now,
                updated: now,
                author: site.admin_account_id.clone(),
            };
            site.comments.insert(id, comment);
        }
        Mutation::DeleteComment { id } => {
            let mut doomed = vec![*id];
            let mut next = 0;
            while next < doomed.len() {
                let at = doomed[next];
                let replies = site.index.replies_of.get(&at).into_iter().flatten();
                let inline_replies = site.index.inline_replies_of.get(&at).into_iter().flatten();
                doomed.extend(replies.chain(inline_replies).copied().collect::<Vec<_>>());
                next += 1;
            }
            for c in doomed {
                site.comments.remove(&c);
                site.inline_comments.remove(&c);
            }
        }
        Mutation::AddInlineComment { container_id, parent_comment_id, body, selection } => {
            let id = fresh_content_id(site);
            let now = site.tick();
            let thread = parent_comment_id.and_then(|p| site.inline_comments.get(&p));
            let (marker_ref, selection, resolution) = match thread {
                Some(parent) => (parent.marker_ref.clone(), parent.selection.clone(), parent.resolution),
                None => (
                    format!("{:08x}-0000-4000-8000-{id:012x}", site.seed as u32),
                    selection.clone(),
                    Resolution::Open,
                ),
            };
            let comment = InlineComment {
                id,
                container_id: *container_id,
                parent_comment_id: *parent_comment_id,
                body: storage_paragraphs(body),
                version: 1,
                created: now,
                updated: now,
                author: site.admin_account_id.clone(),
                resolution,
                resolution_changed: None,
                marker_ref,
                selection,
            };
            site.inline_comments.insert(id, comment);
        }
        Mutation::SetInlineResolution { id, resolution } => {
            let now = site.tick();
            let admin = site.admin_account_id.clone();
            let thread: Vec<u64> = std::iter::once(*id)
                .chain(site.index.inline_replies_of.get(id).into_iter().flatten().copied())
                .collect();
            for c in thread {
                if let Some(comment) = site.inline_comments.get_mut(&c) {
                    comment.resolution = *resolution;
                    comment.resolution_changed = Some((admin.clone(), now));
                }
            }
        }
        Mutation::SetSpaceRoleAssignment { space_id, principal, role_id, assign } => {
            let on_space = site.space_roles.assignments.entry(*space_id).or_default();
            on_space.retain(|a| !(a.principal == *principal && a.role_id == *role_id));
            if *assign {
                on_space.push(RoleAssignment { principal: principal.clone(), role_id: role_id.clone() });
            }
        }
        Mutation::AddAttachment { container_id, filename, kind, text } => {
            let id = fresh_content_id(site);
            let now = site.tick();
            let attachment = Attachment {
                id,
                container_id: *container_id,
                file: file_body(*kind, filename, text),
                file_id: format!("{:08x}-0000-4000-8000-{:012x}", site.seed as u32, id),
                comment: String::new(),
                version: 1,
                created: now,
                updated: now,
                author: site.admin_account_id.clone(),
            };
            site.attachments.insert(id, attachment);
        }
        Mutation::DeleteAttachment { id } => {
            site.attachments.remove(id);
        }
        Mutation::EditIssue { id, summary, description_text } => edit_issue(site, *id, |i| {
            if let Some(s) = summary {
                i.summary.clone_from(s);
            }
            if let Some(d) = description_text {
                i.description = adf_paragraphs(d);
            }
        }),
        Mutation::SetIssueSecurityLevel { id, level_id } => {
            edit_issue(site, *id, |i| i.security_level_id = *level_id)
        }
        Mutation::SetAssignee { id, account_id } => {
            edit_issue(site, *id, |i| i.assignee.clone_from(account_id))
        }
        Mutation::SetReporter { id, account_id } => {
            edit_issue(site, *id, |i| i.reporter.clone_from(account_id))
        }
        Mutation::DeleteIssue { id } => delete_issue(site, *id),
        Mutation::ArchiveIssue { id } => {
            for i in std::iter::once(*id).chain(subtasks(site, *id)) {
                if let Some(issue) = site.issues.get_mut(&i) {
                    issue.archived = true;
                }
            }
        }
        Mutation::AddIssueComment { issue_id, body_text, visibility } => {
            let id = fresh_id(&mut site.ids.issue_comment, |c| site.issue_comments.contains_key(&c));
            let now = site.tick();
            let comment = IssueComment {
                id,
                issue_id: *issue_id,
                author: site.admin_account_id.clone(),
                body: adf_paragraphs(body_text),
                created: now,
                updated: now,
                visibility: visibility.clone(),
                internal: false,
            };
            site.issue_comments.insert(id, comment);
            if let Some(i) = site.issues.get_mut(issue_id) {
                i.updated = now;
            }
        }
        Mutation::SetCommentVisibility { id, visibility } => {
            let now = site.tick();
            if let Some(c) = site.issue_comments.get_mut(id) {
                c.visibility.clone_from(visibility);
                c.updated = now;
                if let Some(i) = site.issues.get_mut(&c.issue_id) {
                    i.updated = now;
                }
            }
        }
        Mutation::DeleteIssueComment { id } => {
            site.issue_comments.remove(id);
        }
        Mutation::AddGrant { scheme_id, holder } => {
            let taken: HashSet<u64> =
                site.permission_schemes.values().flat_map(|s| &s.grants).map(|g| g.id).collect();
            let id = fresh_id(&mut site.ids.grant, |g| taken.contains(&g));
            if let Some(s) = site.permission_schemes.get_mut(scheme_id) {
                s.grants.push(PermissionGrant {
                    id,
                    permission: BROWSE_PROJECTS.to_string(),
                    holder: holder.clone(),
                });
            }
        }
        Mutation::RemoveGrant { scheme_id, grant_id } => {
            if let Some(s) = site.permission_schemes.get_mut(scheme_id) {
                s.grants.retain(|g| g.id != *grant_id);
            }
        }
        Mutation::AddLevelMember { level_id, holder } => {
            let taken: HashSet<u64> = site
                .security_schemes
                .values()
                .flat_map(|s| &s.levels)
                .flat_map(|l| &l.members)
                .map(|m| m.id)
                .collect();
            let id = fresh_id(&mut site.ids.level_member, |m| taken.contains(&m));
            if let Some(level) = level_mut(site, *level_id) {
                level.members.push(LevelMember { id, holder: holder.clone() });
            }
        }
        Mutation::RemoveLevelMember { level_id, member_id } => {
            if let Some(level) = level_mut(site, *level_id) {
                level.members.retain(|m| m.id != *member_id);
            }
        }
        Mutation::SetRoleActors { project_id, role_id, users, groups } => {
            if let Some(p) = site.projects.get_mut(project_id) {
                p.roles.insert(*role_id, RoleActors { users: users.clone(), groups: groups.clone() });
            }
        }
        Mutation::AddGroupMember { group_id, account_id } => {
            if let Some(g) = site.groups.iter_mut().find(|g| g.id == *group_id) {
                g.members.insert(account_id.clone());
            }
        }
        Mutation::RemoveGroupMember { group_id, account_id } => {
            if let Some(g) = site.groups.iter_mut().find(|g| g.id == *group_id) {
                g.members.remove(account_id);
            }
        }
        Mutation::RenameGroup { group_id, name } => {
            if let Some(g) = site.groups.iter_mut().find(|g| g.id == *group_id) {
                g.name.clone_from(name);
            }
        }
        Mutation::DeactivateUser { account_id } => {
            if let Some(u) = site.users.iter_mut().find(|u| u.account_id == *account_id) {
                u.active = false;
            }
        }
        Mutation::SetRequestParticipant { issue_id, account_id, participant } => {
            if let Some(r) = site.requests.get_mut(issue_id) {
                if *participant {
                    r.participants.insert(account_id.clone());
                } else {
                    r.participants.remove(account_id);
                }
            }
            edit_issue(site, *issue_id, |_| {});
        }
        Mutation::ShareRequest { issue_id, organisation_id, shared } => {
            if let Some(r) = site.requests.get_mut(issue_id) {
                if *shared {
                    r.organisations.insert(*organisation_id);
                } else {
                    r.organisations.remove(organisation_id);
                }
            }
            edit_issue(site, *issue_id, |_| {});
        }
        Mutation::SetOrganisationMember { organisation_id, account_id, member } => {
            if let Some(org) = site.organisations.get_mut(organisation_id) {
                if *member {
                    org.members.insert(account_id.clone());
                } else {
                    org.members.remove(account_id);
                }
            }
        }
    }
}

fn new_version(c: &mut Content, now: i64) {
    c.version += 1;
    c.updated = now;
}

fn set_status(site: &mut Site, id: u64, status: Status) {
    let now = site.tick();
    if let Some(c) = site.contents.get_mut(&id) {
        c.status = status;
        new_version(c, now);
    }
}

fn move_page(site: &mut Site, id: u64, new_parent_id: Option<u64>, new_space_id: Option<u64>) {
    let Some(moved) = site.contents.get(&id) else {
        return;
    };
    let target_space = match new_parent_id {
        Some(p) => site.contents.get(&p).map_or(moved.space_id, |parent| parent.space_id),
        None => new_space_id.unwrap_or(moved.space_id),
    };
    let space_changes = target_space != moved.space_id;
    // The page goes last among its new siblings.
    let siblings: Vec<u64> = match new_parent_id {
        Some(p) => site.index.children_of.get(&p).cloned().unwrap_or_default(),
        None => site.index.contents_of_space.get(&target_space).cloned().unwrap_or_default(),
    };
    let last = siblings
        .iter()
        .filter(|&&s| s != id)
        .filter_map(|s| site.contents.get(s))
        .filter(|s| s.parent_id == new_parent_id && s.kind == moved.kind)
        .map(|s| s.position)
        .max();
    let position = last.map_or(0, |p| p.saturating_add(1));
    if space_changes {
        for d in descendants(site, id) {
            if let Some(c) = site.contents.get_mut(&d) {
                c.space_id = target_space;
            }
        }
    }
    let now = site.tick();
    if let Some(c) = site.contents.get_mut(&id) {
        c.parent_id = new_parent_id;
        c.space_id = target_space;
        c.position = position;
        new_version(c, now);
    }
}

fn delete_page(site: &mut Site, id: u64) {
    let Some(deleted) = site.contents.remove(&id) else {
        return;
    };
    for child in site.index.children_of.get(&id).into_iter().flatten() {
        if let Some(c) = site.contents.get_mut(child) {
            c.parent_id = deleted.parent_id;
        }
    }
    site.comments.retain(|_, c| c.container_id != id);
    site.inline_comments.retain(|_, c| c.container_id != id);
    site.attachments.retain(|_, a| a.container_id != id);
    for space in site.spaces.values_mut() {
        if space.homepage_id == Some(id) {
            space.homepage_id = None;
        }
    }
}

fn set_space_read(site: &mut Site, space_id: u64, principal: &SpacePrincipal, grant: bool) {
    let taken: HashSet<u64> = site.spaces.values().flat_map(|s| &s.permissions).map(|p| p.id).collect();
    let Some(space) = site.spaces.get(&space_id) else {
        return;
    };
    let is_read =
        |p: &SpacePermission| p.principal == *principal && p.operation == "read" && p.target == "space";
    let holds = space.permissions.iter().any(is_read);
    if grant && !holds {
        let id = fresh_id(&mut site.ids.space_permission, |p| taken.contains(&p));
        if let Some(space) = site.spaces.get_mut(&space_id) {
            space.permissions.push(SpacePermission {
                id,
                principal: principal.clone(),
                operation: "read".into(),
                target: "space".into(),
            });
        }
    } else if !grant {
        if let Some(space) = site.spaces.get_mut(&space_id) {
            space.permissions.retain(|p| !is_read(p));
        }
    }
}

fn edit_issue(site: &mut Site, id: u64, change: impl FnOnce(&mut Issue)) {
    let now = site.tick();
    if let Some(i) = site.issues.get_mut(&id) {
        change(i);
        i.updated = now;
    }
}

fn delete_issue(site: &mut Site, id: u64) {
    let doomed: HashSet<u64> = std::iter::once(id).chain(subtasks(site, id)).collect();
    // Other children (an epic's stories) survive, unlinked.
    for child in site.index.subtasks_of.get(&id).into_iter().flatten() {
        if !doomed.contains(child) {
            if let Some(c) = site.issues.get_mut(child) {
                c.parent_id = None;
            }
        }
    }
    site.issues.retain(|i, _| !doomed.contains(i));
    site.issue_comments.retain(|_, c| !doomed.contains(&c.issue_id));
    site.jira_attachments.retain(|_, a| !doomed.contains(&a.issue_id));
    site.requests.retain(|i, _| !doomed.contains(i));
}

fn level_mut(site: &mut Site, level_id: u64) -> Option<&mut SecurityLevel> {
    site.security_schemes.values_mut().flat_map(|s| &mut s.levels).find(|l| l.id == level_id)
}

/// Takes ids from a sequence until one is free (generated or imported data may already use some).
fn fresh_id(seq: &mut u64, taken: impl Fn(u64) -> bool) -> u64 {
    loop {
        let id = IdSequences::take(seq);
        if !taken(id) {
            return id;
        }
    }
}

/// Pages, blog posts, comments and attachments share one id space.
fn fresh_content_id(site: &mut Site) -> u64 {
    let (contents, comments, attachments) = (&site.contents, &site.comments, &site.attachments);
    let inline = &site.inline_comments;
    fresh_id(&mut site.ids.content, |id| {
        contents.contains_key(&id)
            || comments.contains_key(&id)
            || inline.contains_key(&id)
            || attachments.contains_key(&id)
    })
}

/// Storage XHTML for plain text: one `<p>` per non-blank line.
fn storage_paragraphs(text: &str) -> String {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| format!("<p>{}</p>", quick_xml::escape::escape(l)))
        .collect()
}

/// An Atlassian Document Format document for plain text: one paragraph per non-blank line.
fn adf_paragraphs(text: &str) -> String {
    let paragraphs: Vec<serde_json::Value> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::json!({"type": "paragraph", "content": [{"type": "text", "text": l}]}))
        .collect();
    serde_json::json!({"type": "doc", "version": 1, "content": paragraphs}).to_string()
}

/// The description of a new attachment's bytes. The size is the text's length until the renderer can say
/// how large the rendered file is.
fn file_body(kind: FileKind, filename: &str, text: &str) -> FileBody {
    FileBody::new(kind, filename, text)
}

// ---------------------------------------------------------------------------------------------------------
// Random mutations for property tests.

/// The kinds of [`Mutation`], for drawing one at random.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    EditPage,
    MovePage,
    DeletePage,
    ArchivePage,
    RestorePage,
    SetReadRestriction,
    SetSpacePermission,
    AddComment,
    DeleteComment,
    AddAttachment,
    DeleteAttachment,
    EditIssue,
    SetIssueSecurityLevel,
    SetAssignee,
    SetReporter,
    DeleteIssue,
    ArchiveIssue,
    AddIssueComment,
    SetCommentVisibility,
    DeleteIssueComment,
    AddGrant,
    RemoveGrant,
    AddLevelMember,
    RemoveLevelMember,
    SetRoleActors,
    AddGroupMember,
    RemoveGroupMember,
    RenameGroup,
    DeactivateUser,
    AddInlineComment,
    SetInlineResolution,
    SetSpaceRoleAssignment,
    SetRequestParticipant,
    ShareRequest,
    SetOrganisationMember,
}

const KINDS: [Kind; 29] = [
    Kind::EditPage,
    Kind::MovePage,
    Kind::DeletePage,
    Kind::ArchivePage,
    Kind::RestorePage,
    Kind::SetReadRestriction,
    Kind::SetSpacePermission,
    Kind::AddComment,
    Kind::DeleteComment,
    Kind::AddAttachment,
    Kind::DeleteAttachment,
    Kind::EditIssue,
    Kind::SetIssueSecurityLevel,
    Kind::SetAssignee,
    Kind::SetReporter,
    Kind::DeleteIssue,
    Kind::ArchiveIssue,
    Kind::AddIssueComment,
    Kind::SetCommentVisibility,
    Kind::DeleteIssueComment,
    Kind::AddGrant,
    Kind::RemoveGrant,
    Kind::AddLevelMember,
    Kind::RemoveLevelMember,
    Kind::SetRoleActors,
    Kind::AddGroupMember,
    Kind::RemoveGroupMember,
    Kind::RenameGroup,
    Kind::DeactivateUser,
];

/// The kinds of the inline comments feature, drawn only on sites that have it.
const INLINE_KINDS: [Kind; 2] = [Kind::AddInlineComment, Kind::SetInlineResolution];

/// The kinds of the space roles feature, drawn only on sites that have it.
const ROLE_KINDS: [Kind; 1] = [Kind::SetSpaceRoleAssignment];

/// The kinds of the service management feature, drawn only on sites that have it.
const SERVICE_DESK_KINDS: [Kind; 3] =
    [Kind::SetRequestParticipant, Kind::ShareRequest, Kind::SetOrganisationMember];

/// The access classes a space role can be assigned to.
const ACCESS_CLASSES: [&str; 5] = [
    "anonymous-users",
    "authenticated-users",
    "all-licensed-users",
    "all-product-admins",
    "jsm-project-admins",
];

/// The kinds of mutation a site can undergo: the original ones, plus those of the features it has.
fn kinds_of(site: &Site) -> Vec<Kind> {
    let mut kinds = KINDS.to_vec();
    if site.features.inline_comments {
        kinds.extend(INLINE_KINDS);
    }
    if site.features.space_roles {
        kinds.extend(ROLE_KINDS);
    }
    if site.features.service_management {
        kinds.extend(SERVICE_DESK_KINDS);
    }
    kinds
}

/// Draws before giving up on a random kind and sweeping all kinds in order.
const RANDOM_ATTEMPTS: usize = 64;

/// A random mutation that [`apply`] accepts, of any kind the site allows; the same rng state on the same site
/// gives the same mutation.
///
/// On a site with nothing to change (no content, no issues, no groups, no users, no schemes) the result is a
/// mutation that `apply` rejects.
pub fn random_mutation(site: &Site, rng: &mut impl Rng) -> Mutation {
    let mut last = None;
    let kinds = kinds_of(site);
    for _ in 0..RANDOM_ATTEMPTS {
        let kind = kinds[rng.gen_range(0..kinds.len())];
        if let Some(m) = candidate(site, rng, kind) {
            if validate(site, &m).is_ok() {
                return m;
            }
            last = Some(m);
        }
    }
    for kind in kinds {
        for _ in 0..RANDOM_ATTEMPTS {
            if let Some(m) = candidate(site, rng, kind) {
                if validate(site, &m).is_ok() {
                    return m;
                }
                last = Some(m);
            }
        }
    }
    last.unwrap_or(Mutation::DeactivateUser { account_id: String::new() })
}

const WORDS: [&str; 16] = [
    "budget",
    "launch",
    "review",
    "latency",
    "roadmap",
    "customer",
    "migration",
    "incident",
    "design",
    "audit",
    "invoice",
    "rollout",
    "schema",
    "onboarding",
    "quarterly",
    "<escaped & kept>",
];

fn words(rng: &mut impl Rng, n: usize) -> String {
    (0..n).filter_map(|_| WORDS.choose(rng).copied()).collect::<Vec<_>>().join(" ")
}

fn pick_key<K: Copy, V>(rng: &mut impl Rng, map: &BTreeMap<K, V>) -> Option<K> {
    if map.is_empty() {
        return None;
    }
    map.keys().nth(rng.gen_range(0..map.len())).copied()
}

fn pick_user(rng: &mut impl Rng, site: &Site) -> Option<String> {
    site.users.choose(rng).map(|u| u.account_id.clone())
}

fn pick_active_user(rng: &mut impl Rng, site: &Site) -> Option<String> {
    let active: Vec<&str> = site.users.iter().filter(|u| u.active).map(|u| u.account_id.as_str()).collect();
    active.choose(rng).map(|a| a.to_string())
}

/// Mostly a portal customer, sometimes anyone.
fn pick_customer_or_user(rng: &mut impl Rng, site: &Site) -> Option<String> {
    let customers: Vec<&str> = site
        .users
        .iter()
        .filter(|u| u.account_type == crate::sim::model::AccountType::Customer)
        .map(|u| u.account_id.as_str())
        .collect();
    match customers.choose(rng) {
        Some(c) if rng.gen_bool(0.8) => Some(c.to_string()),
        _ => pick_user(rng, site),
    }
}

fn pick_group(rng: &mut impl Rng, site: &Site) -> Option<String> {
    site.groups.choose(rng).map(|g| g.id.clone())
}

fn pick_role(rng: &mut impl Rng, site: &Site) -> Option<u64> {
    site.roles.choose(rng).map(|r| r.id)
}

/// A random subset (often empty, so that restrictions and actors also get cleared).
fn subset<'a>(rng: &mut impl Rng, items: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    if rng.gen_bool(0.3) {
        return BTreeSet::new();
    }
    items.filter(|_| rng.gen_bool(0.35)).map(str::to_string).collect()
}

fn random_holder(rng: &mut impl Rng, site: &Site) -> Option<Holder> {
    Some(match rng.gen_range(0..8) {
        0 => Holder::Anyone,
        1 => Holder::Group(pick_group(rng, site)?),
        2 => Holder::User(pick_user(rng, site)?),
        3 => Holder::ProjectRole(pick_role(rng, site)?),
        4 => Holder::ApplicationRole(rng.gen_bool(0.5).then(|| "jira-software".to_string())),
        5 => Holder::ProjectLead,
        6 => Holder::Reporter,
        _ => Holder::Assignee,
    })
}

fn random_visibility(rng: &mut impl Rng, site: &Site) -> Option<Option<Visibility>> {
    Some(match rng.gen_range(0..3) {
        0 => None,
        1 => Some(Visibility::Group(pick_group(rng, site)?)),
        _ => Some(Visibility::Role(pick_role(rng, site)?)),
    })
}

const FILE_KINDS: [(FileKind, &str); 8] = [
    (FileKind::Pdf, "pdf"),
    (FileKind::Docx, "docx"),
    (FileKind::Xlsx, "xlsx"),
    (FileKind::Text, "txt"),
    (FileKind::Markdown, "md"),
    (FileKind::Csv, "csv"),
    (FileKind::CorruptPdf, "pdf"),
    (FileKind::Oversized, "csv"),
];

/// A mutation of the given kind with random targets; `None` when the site has nothing of that kind to change.
/// It may still be invalid (e.g. a move under a descendant): the caller checks.
fn candidate(site: &Site, rng: &mut impl Rng, kind: Kind) -> Option<Mutation> {
    Some(match kind {
        Kind::EditPage => Mutation::EditPage {
            id: pick_key(rng, &site.contents)?,
            title: rng.gen_bool(0.5).then(|| format!("{} {}", words(rng, 2), rng.gen_range(1..1000))),
            body: rng.gen_bool(0.7).then(|| storage_paragraphs(&words(rng, 12))),
        },
        Kind::MovePage => {
            let id = pick_key(rng, &site.contents)?;
            let is_page = site.contents.get(&id).is_some_and(|c| c.kind == ContentKind::Page);
            // Half under another page (pages only), a quarter to the top of some space, a quarter to the top of its own.
            match rng.gen_range(0..4) {
                0 | 1 if is_page => Mutation::MovePage {
                    id,
                    new_parent_id: Some(pick_key(rng, &site.contents)?),
                    new_space_id: None,
                },
                3 => Mutation::MovePage { id, new_parent_id: None, new_space_id: None },
                _ => {
                    Mutation::MovePage { id, new_parent_id: None, new_space_id: pick_key(rng, &site.spaces) }
                }
            }
        }
        Kind::DeletePage => Mutation::DeletePage { id: pick_key(rng, &site.contents)? },
        Kind::ArchivePage => Mutation::ArchivePage { id: pick_key(rng, &site.contents)? },
        Kind::RestorePage => {
            let archived: Vec<u64> =
                site.contents.values().filter(|c| c.status == Status::Archived).map(|c| c.id).collect();
            Mutation::RestorePage { id: *archived.choose(rng)? }
        }
        Kind::SetReadRestriction => Mutation::SetReadRestriction {
            id: pick_key(rng, &site.contents)?,
            users: subset(rng, site.users.iter().map(|u| u.account_id.as_str())),
            groups: subset(rng, site.groups.iter().map(|g| g.id.as_str())),
        },
        Kind::SetSpacePermission => Mutation::SetSpacePermission {
            space_id: pick_key(rng, &site.spaces)?,
            principal: match rng.gen_range(0..3) {
                0 => SpacePrincipal::User(pick_user(rng, site)?),
                1 => SpacePrincipal::Group(pick_group(rng, site)?),
                _ => SpacePrincipal::Role("ANONYMOUS".into()),
            },
            grant: rng.gen_bool(0.5),
        },
        Kind::AddComment => {
            let container_id = pick_key(rng, &site.contents)?;
            let on_container: Vec<u64> =
                site.comments.values().filter(|c| c.container_id == container_id).map(|c| c.id).collect();
            Mutation::AddComment {
                container_id,
                parent_comment_id: if rng.gen_bool(0.5) { on_container.choose(rng).copied() } else { None },
                body: words(rng, 8),
            }
        }
        Kind::DeleteComment => Mutation::DeleteComment { id: pick_key(rng, &site.comments)? },
        Kind::AddInlineComment => {
            let container_id = pick_key(rng, &site.contents)?;
            let threads: Vec<u64> =
                site.index.inline_comments_of.get(&container_id).cloned().unwrap_or_default();
            Mutation::AddInlineComment {
                container_id,
                parent_comment_id: if rng.gen_bool(0.5) { threads.choose(rng).copied() } else { None },
                body: words(rng, 6),
                selection: words(rng, 3),
            }
        }
        Kind::SetInlineResolution => {
            let threads: Vec<u64> = site
                .inline_comments
                .values()
                .filter(|c| c.parent_comment_id.is_none())
                .map(|c| c.id)
                .collect();
            let resolution =
                *[Resolution::Resolved, Resolution::Reopened, Resolution::Dangling, Resolution::Open]
                    .choose(rng)?;
            Mutation::SetInlineResolution { id: *threads.choose(rng)?, resolution }
        }
        Kind::SetRequestParticipant => Mutation::SetRequestParticipant {
            issue_id: pick_key(rng, &site.requests)?,
            account_id: pick_customer_or_user(rng, site)?,
            participant: rng.gen_bool(0.5),
        },
        Kind::ShareRequest => Mutation::ShareRequest {
            issue_id: pick_key(rng, &site.requests)?,
            organisation_id: pick_key(rng, &site.organisations)?,
            shared: rng.gen_bool(0.5),
        },
        Kind::SetOrganisationMember => Mutation::SetOrganisationMember {
            organisation_id: pick_key(rng, &site.organisations)?,
            account_id: pick_customer_or_user(rng, site)?,
            member: rng.gen_bool(0.5),
        },
        Kind::SetSpaceRoleAssignment => {
            let role_id = site.space_roles.roles.choose(rng)?.id.clone();
            let principal = match rng.gen_range(0..4) {
                0 => RolePrincipal::User(pick_user(rng, site)?),
                1 => RolePrincipal::Group(pick_group(rng, site)?),
                _ => RolePrincipal::AccessClass(ACCESS_CLASSES.choose(rng)?.to_string()),
            };
            Mutation::SetSpaceRoleAssignment {
                space_id: pick_key(rng, &site.spaces)?,
                principal,
                role_id,
                assign: rng.gen_bool(0.6),
            }
        }
        Kind::AddAttachment => {
            let (kind, extension) = *FILE_KINDS.choose(rng)?;
            Mutation::AddAttachment {
                container_id: pick_key(rng, &site.contents)?,
                filename: format!("{}-{}.{extension}", words(rng, 1), rng.gen::<u32>()),
                kind,
                text: words(rng, 20),
            }
        }
        Kind::DeleteAttachment => Mutation::DeleteAttachment { id: pick_key(rng, &site.attachments)? },
        Kind::EditIssue => Mutation::EditIssue {
            id: pick_key(rng, &site.issues)?,
            summary: rng.gen_bool(0.5).then(|| words(rng, 4)),
            description_text: rng.gen_bool(0.7).then(|| words(rng, 15)),
        },
        Kind::SetIssueSecurityLevel => {
            let id = pick_key(rng, &site.issues)?;
            let scheme = site
                .issues
                .get(&id)
                .and_then(|i| site.projects.get(&i.project_id))
                .and_then(|p| p.security_scheme_id)
                .and_then(|s| site.security_schemes.get(&s));
            let levels: Vec<u64> =
                scheme.map(|s| s.levels.iter().map(|l| l.id).collect()).unwrap_or_default();
            let level_id = if rng.gen_bool(0.3) { None } else { levels.choose(rng).copied() };
            Mutation::SetIssueSecurityLevel { id, level_id }
        }
        Kind::SetAssignee => Mutation::SetAssignee {
            id: pick_key(rng, &site.issues)?,
            account_id: if rng.gen_bool(0.25) { None } else { pick_active_user(rng, site) },
        },
        Kind::SetReporter => Mutation::SetReporter {
            id: pick_key(rng, &site.issues)?,
            account_id: if rng.gen_bool(0.25) { None } else { pick_active_user(rng, site) },
        },
        Kind::DeleteIssue => Mutation::DeleteIssue { id: pick_key(rng, &site.issues)? },
        Kind::ArchiveIssue => {
            let archivable: Vec<u64> = site
                .issues
                .values()
                .filter(|i| !i.archived && i.issue_type != IssueType::Subtask)
                .map(|i| i.id)
                .collect();
            Mutation::ArchiveIssue { id: *archivable.choose(rng)? }
        }
        Kind::AddIssueComment => Mutation::AddIssueComment {
            issue_id: pick_key(rng, &site.issues)?,
            body_text: words(rng, 10),
            visibility: random_visibility(rng, site)?,
        },
        Kind::SetCommentVisibility => Mutation::SetCommentVisibility {
            id: pick_key(rng, &site.issue_comments)?,
            visibility: random_visibility(rng, site)?,
        },
        Kind::DeleteIssueComment => Mutation::DeleteIssueComment { id: pick_key(rng, &site.issue_comments)? },
        Kind::AddGrant => Mutation::AddGrant {
            scheme_id: pick_key(rng, &site.permission_schemes)?,
            holder: random_holder(rng, site)?,
        },
        Kind::RemoveGrant => {
            let scheme_id = pick_key(rng, &site.permission_schemes)?;
            let grants = &site.permission_schemes.get(&scheme_id)?.grants;
            Mutation::RemoveGrant { scheme_id, grant_id: grants.choose(rng)?.id }
        }
        Kind::AddLevelMember => {
            let levels: Vec<u64> =
                site.security_schemes.values().flat_map(|s| &s.levels).map(|l| l.id).collect();
            Mutation::AddLevelMember { level_id: *levels.choose(rng)?, holder: random_holder(rng, site)? }
        }
        Kind::RemoveLevelMember => {
            let levels: Vec<&SecurityLevel> =
                site.security_schemes.values().flat_map(|s| &s.levels).collect();
            let level = levels.choose(rng)?;
            Mutation::RemoveLevelMember { level_id: level.id, member_id: level.members.choose(rng)?.id }
        }
        Kind::SetRoleActors => Mutation::SetRoleActors {
            project_id: pick_key(rng, &site.projects)?,
            role_id: pick_role(rng, site)?,
            users: subset(rng, site.users.iter().map(|u| u.account_id.as_str())),
            groups: subset(rng, site.groups.iter().map(|g| g.id.as_str())),
        },
        Kind::AddGroupMember => {
            Mutation::AddGroupMember { group_id: pick_group(rng, site)?, account_id: pick_user(rng, site)? }
        }
        Kind::RemoveGroupMember => {
            let group = site.groups.choose(rng)?;
            let members: Vec<&String> = group.members.iter().collect();
            Mutation::RemoveGroupMember {
                group_id: group.id.clone(),
                account_id: members.choose(rng)?.to_string(),
            }
        }
        Kind::RenameGroup => Mutation::RenameGroup {
            group_id: pick_group(rng, site)?,
            name: format!("{}-{}", words(rng, 1).replace(' ', "-"), rng.gen_range(1..10_000)),
        },
        Kind::DeactivateUser => Mutation::DeactivateUser { account_id: pick_active_user(rng, site)? },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::fixture::tiny_site;
    use crate::sim::oracle::{all_docs, can_view, Scope};
    use crate::sim::DocId;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const ACCOUNTS: [&str; 5] = ["alice", "bob", "carol", "dave", "erin"];
    const EVERYONE: &[&str] = &["alice", "bob", "carol", "dave"];
    const NOBODY: &[&str] = &[];

    fn page(id: u64) -> DocId {
        DocId::confluence_content(ContentKind::Page, id)
    }
    fn comment(id: u64) -> DocId {
        DocId::confluence_comment(id)
    }
    fn att(id: u64) -> DocId {
        DocId::confluence_attachment(id)
    }
    fn issue(id: u64) -> DocId {
        DocId::jira_issue(id)
    }
    fn jcomment(id: u64) -> DocId {
        DocId::jira_comment(id)
    }
    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    /// Readers of every document either site holds (archived content included).
    fn reader_table(sites: [&Site; 2]) -> Vec<BTreeMap<DocId, Vec<&'static str>>> {
        let scope = Scope { include_archived: true };
        let mut docs: BTreeSet<DocId> = all_docs(sites[0], scope).into_iter().collect();
        docs.extend(all_docs(sites[1], scope));
        sites
            .iter()
            .map(|site| {
                docs.iter()
                    .map(|d| (d.clone(), ACCOUNTS.iter().copied().filter(|a| can_view(site, a, d)).collect()))
                    .collect()
            })
            .collect()
    }

    type Change = (DocId, &'static [&'static str], &'static [&'static str]);

    /// Applies `m` to the fixture and checks that exactly the listed documents changed readers, as listed.
    fn check_visibility(m: Mutation, expected: Vec<Change>) {
        let before = tiny_site();
        let mut after = before.clone();
        apply(&mut after, &m).unwrap_or_else(|e| panic!("{m:?}: {e}"));
        let tables = reader_table([&before, &after]);
        let changed: Vec<(DocId, Vec<&str>, Vec<&str>)> = tables[0]
            .iter()
            .filter(|(d, r)| tables[1][*d] != **r)
            .map(|(d, r)| (d.clone(), r.clone(), tables[1][d].clone()))
            .collect();
        let expected: Vec<(DocId, Vec<&str>, Vec<&str>)> =
            expected.into_iter().map(|(d, b, a)| (d, b.to_vec(), a.to_vec())).collect();
        assert_eq!(changed, expected, "{m:?}");
    }

    #[test]
    fn confluence_mutations_change_exactly_the_expected_readers() {
        const BOB: &[&str] = &["bob"];
        const ALICE_BOB: &[&str] = &["alice", "bob"];
        const ENG: &[&str] = &["alice", "bob", "carol"];
        const ENG_DAVE: &[&str] = &["alice", "bob", "carol", "dave"];
        let new_content = tiny_site().ids.content;
        let under_102 = |before, after| {
            vec![
                (att(130), before, after),
                (comment(120), before, after),
                (comment(121), before, after),
                (page(102), before, after),
            ]
        };
        let cases: Vec<(Mutation, Vec<Change>)> = vec![
            (Mutation::SetReadRestriction { id: 101, users: set(&[]), groups: set(&[]) }, {
                let mut c = under_102(BOB, ALICE_BOB);
                c.push((page(101), &["bob", "carol"], ENG));
                c.sort();
                c
            }),
            (
                Mutation::SetReadRestriction { id: 300, users: set(&["alice"]), groups: set(&[]) },
                vec![(page(300), &["dave"], NOBODY)],
            ),
            (
                Mutation::MovePage { id: 102, new_parent_id: Some(100), new_space_id: None },
                under_102(BOB, ALICE_BOB),
            ),
            (
                Mutation::MovePage { id: 102, new_parent_id: None, new_space_id: Some(2) },
                under_102(BOB, ALICE_BOB),
            ),
            (Mutation::MovePage { id: 101, new_parent_id: None, new_space_id: Some(3) }, {
                let mut c = under_102(BOB, NOBODY);
                c.push((page(101), &["bob", "carol"], NOBODY));
                c.sort();
                c
            }),
            (Mutation::DeletePage { id: 101 }, {
                let mut c = under_102(BOB, ALICE_BOB);
                c.push((page(101), &["bob", "carol"], NOBODY));
                c.sort();
                c
            }),
            (Mutation::DeletePage { id: 102 }, under_102(BOB, NOBODY)),
            (Mutation::ArchivePage { id: 100 }, vec![]),
            (Mutation::RestorePage { id: 104 }, vec![]),
            (Mutation::EditPage { id: 102, title: Some("Renamed".into()), body: None }, vec![]),
            (
                Mutation::SetSpacePermission {
                    space_id: 1,
                    principal: SpacePrincipal::User("dave".into()),
                    grant: true,
                },
                vec![
                    (att(131), ENG, ENG_DAVE),
                    (DocId::confluence_content(ContentKind::BlogPost, 110), NOBODY, &["dave"]),
                    (comment(122), ENG, ENG_DAVE),
                    (page(100), ENG, ENG_DAVE),
                    (page(104), ENG, ENG_DAVE),
                ],
            ),
            (
                Mutation::SetSpacePermission {
                    space_id: 1,
                    principal: SpacePrincipal::Group("g-eng".into()),
                    grant: false,
                },
                vec![
                    (att(130), BOB, NOBODY),
                    (att(131), ENG, &["carol"]),
                    (comment(120), BOB, NOBODY),
                    (comment(121), BOB, NOBODY),
                    (comment(122), ENG, &["carol"]),
                    (page(100), ENG, &["carol"]),
                    (page(101), &["bob", "carol"], &["carol"]),
                    (page(102), BOB, NOBODY),
                    (page(104), ENG, &["carol"]),
                ],
            ),
            (
                Mutation::SetSpacePermission {
                    space_id: 2,
                    principal: SpacePrincipal::Role("ANONYMOUS".into()),
                    grant: false,
                },
                vec![(att(230), EVERYONE, NOBODY), (page(200), EVERYONE, NOBODY)],
            ),
            (
                Mutation::AddComment {
                    container_id: 102,
                    parent_comment_id: Some(120),
                    body: "Agreed.".into(),
                },
                vec![(comment(new_content), NOBODY, BOB)],
            ),
            (
                Mutation::AddAttachment {
                    container_id: 200,
                    filename: "rules.txt".into(),
                    kind: FileKind::Text,
                    text: "Be kind.".into(),
                },
                vec![(att(new_content), NOBODY, EVERYONE)],
            ),
            (
                Mutation::DeleteComment { id: 120 },
                vec![(comment(120), BOB, NOBODY), (comment(121), BOB, NOBODY)],
            ),
            (Mutation::DeleteAttachment { id: 130 }, vec![(att(130), BOB, NOBODY)]),
        ];
        for (m, expected) in cases {
            check_visibility(m, expected);
        }
    }

    #[test]
    fn jira_and_directory_mutations_change_exactly_the_expected_readers() {
        const AB: &[&str] = &["alice", "bob"];
        const ABC: &[&str] = &["alice", "bob", "carol"];
        const ACD: &[&str] = &["alice", "carol", "dave"];
        let new_issue_comment = tiny_site().ids.issue_comment;
        let cases: Vec<(Mutation, Vec<Change>)> = vec![
            (
                Mutation::SetIssueSecurityLevel { id: 10100, level_id: Some(5001) },
                vec![(jcomment(10200), EVERYONE, AB), (issue(10100), EVERYONE, AB)],
            ),
            (Mutation::SetIssueSecurityLevel { id: 10101, level_id: None }, vec![(issue(10102), AB, ABC)]),
            (
                Mutation::SetAssignee { id: 10102, account_id: Some("carol".into()) },
                vec![(issue(10102), AB, ABC)],
            ),
            (
                Mutation::SetAssignee { id: 10101, account_id: Some("dave".into()) },
                vec![(DocId::jira_attachment(10300), ABC, AB), (issue(10101), ABC, AB)],
            ),
            (
                Mutation::SetReporter { id: 10100, account_id: None },
                vec![(jcomment(10200), EVERYONE, ABC), (issue(10100), EVERYONE, ABC)],
            ),
            (Mutation::EditIssue { id: 10100, summary: Some("New".into()), description_text: None }, vec![]),
            (
                Mutation::DeleteIssue { id: 10101 },
                vec![
                    (DocId::jira_attachment(10300), ABC, NOBODY),
                    (issue(10101), ABC, NOBODY),
                    (issue(10102), AB, NOBODY),
                ],
            ),
            (
                Mutation::ArchiveIssue { id: 10100 },
                vec![
                    (jcomment(10200), EVERYONE, NOBODY),
                    (jcomment(10201), AB, NOBODY),
                    (issue(10100), EVERYONE, NOBODY),
                ],
            ),
            (
                Mutation::AddIssueComment {
                    issue_id: 10100,
                    body_text: "Developers only.".into(),
                    visibility: Some(Visibility::Role(10001)),
                },
                vec![(jcomment(new_issue_comment), NOBODY, ABC)],
            ),
            (
                Mutation::SetCommentVisibility { id: 10202, visibility: None },
                vec![(jcomment(10202), NOBODY, EVERYONE)],
            ),
            (Mutation::DeleteIssueComment { id: 10201 }, vec![(jcomment(10201), AB, NOBODY)]),
            (
                Mutation::AddGrant { scheme_id: 3, holder: Holder::ApplicationRole(None) },
                vec![(issue(10120), &["bob", "dave"], EVERYONE)],
            ),
            (
                Mutation::RemoveGrant { scheme_id: 3, grant_id: 5 },
                vec![(issue(10120), &["bob", "dave"], &["dave"])],
            ),
            (
                Mutation::RemoveLevelMember { level_id: 5001, member_id: 2 },
                vec![(DocId::jira_attachment(10300), ABC, AB), (issue(10101), ABC, AB)],
            ),
            (
                Mutation::AddLevelMember { level_id: 5001, holder: Holder::ProjectLead },
                vec![(issue(10102), AB, ABC)],
            ),
            (
                Mutation::SetRoleActors {
                    project_id: 10000,
                    role_id: 10001,
                    users: set(&["dave"]),
                    groups: set(&[]),
                },
                vec![
                    (DocId::jira_attachment(10300), ABC, &["bob"]),
                    (jcomment(10200), EVERYONE, &["dave"]),
                    (jcomment(10201), AB, NOBODY),
                    (issue(10100), EVERYONE, &["dave"]),
                    (issue(10101), ABC, &["bob"]),
                    (issue(10102), AB, &["alice"]),
                ],
            ),
            (
                Mutation::SetRoleActors {
                    project_id: 10000,
                    role_id: 10002,
                    users: set(&[]),
                    groups: set(&["g-mgr"]),
                },
                vec![(jcomment(10202), NOBODY, &["bob", "carol"])],
            ),
            (
                Mutation::AddGroupMember { group_id: "g-eng".into(), account_id: "dave".into() },
                vec![
                    (att(131), ABC, EVERYONE),
                    (DocId::confluence_content(ContentKind::BlogPost, 110), NOBODY, &["dave"]),
                    (comment(122), ABC, EVERYONE),
                    (page(100), ABC, EVERYONE),
                    (page(104), ABC, EVERYONE),
                    (jcomment(10201), AB, &["alice", "bob", "dave"]),
                ],
            ),
            (
                Mutation::RemoveGroupMember { group_id: "g-mgr".into(), account_id: "bob".into() },
                vec![
                    (att(130), &["bob"], NOBODY),
                    (comment(120), &["bob"], NOBODY),
                    (comment(121), &["bob"], NOBODY),
                    (page(101), &["bob", "carol"], &["carol"]),
                    (page(102), &["bob"], NOBODY),
                    (jcomment(10200), EVERYONE, ACD),
                    (jcomment(10201), AB, &["alice"]),
                    (issue(10100), EVERYONE, ACD),
                    (issue(10102), AB, &["alice"]),
                ],
            ),
            (Mutation::RenameGroup { group_id: "g-eng".into(), name: "builders".into() }, vec![]),
        ];
        for (m, expected) in cases {
            check_visibility(m, expected);
        }
    }

    #[test]
    fn deactivated_user_loses_everything_and_nobody_else_changes() {
        let before = tiny_site();
        let mut after = before.clone();
        apply(&mut after, &Mutation::DeactivateUser { account_id: "bob".into() }).unwrap();
        let tables = reader_table([&before, &after]);
        assert!(tables[0].values().filter(|r| r.contains(&"bob")).count() > 10);
        for (doc, readers) in &tables[0] {
            let without_bob: Vec<&str> = readers.iter().copied().filter(|a| *a != "bob").collect();
            assert_eq!(tables[1][doc], without_bob, "{doc}");
        }
    }

    #[test]
    fn moves_and_deletes_restructure_the_tree() {
        let mut site = tiny_site();
        apply(&mut site, &Mutation::MovePage { id: 101, new_parent_id: None, new_space_id: Some(3) })
            .unwrap();
        assert_eq!((site.contents[&101].space_id, site.contents[&101].parent_id), (3, None));
        assert_eq!(
            (site.contents[&102].space_id, site.contents[&102].parent_id),
            (3, Some(101)),
            "subtree follows"
        );
        assert_eq!(site.contents[&102].version, 1, "only the moved page gets a new version");
        assert!(site.index.contents_of_space[&3].contains(&102));

        let mut site = tiny_site();
        apply(&mut site, &Mutation::MovePage { id: 103, new_parent_id: Some(102), new_space_id: None })
            .unwrap();
        assert_eq!(site.ancestors(103), [100, 101, 102]);

        let mut site = tiny_site();
        apply(&mut site, &Mutation::DeletePage { id: 100 }).unwrap();
        for child in [101, 103, 104] {
            assert_eq!(site.contents[&child].parent_id, None, "child {child} moves up to the top level");
        }
        assert!(!site.comments.contains_key(&122) && !site.attachments.contains_key(&131));
        assert_eq!(site.spaces[&1].homepage_id, None);

        let mut site = tiny_site();
        apply(&mut site, &Mutation::DeleteIssue { id: 10101 }).unwrap();
        assert!(!site.issues.contains_key(&10102), "sub-task goes with its parent");
        assert!(!site.jira_attachments.contains_key(&10300));

        let mut site = tiny_site();
        apply(&mut site, &Mutation::ArchiveIssue { id: 10101 }).unwrap();
        assert!(
            site.issues[&10101].archived && site.issues[&10102].archived,
            "sub-task is archived with its parent"
        );
    }

    #[test]
    fn archiving_moves_content_out_of_the_default_scope_only() {
        let mut site = tiny_site();
        apply(&mut site, &Mutation::ArchivePage { id: 100 }).unwrap();
        let default = all_docs(&site, Scope::default());
        for doc in [page(100), comment(122), att(131)] {
            assert!(!default.contains(&doc), "{doc}");
            assert!(all_docs(&site, Scope { include_archived: true }).contains(&doc), "{doc}");
        }
        assert!(default.contains(&page(101)), "a current child of an archived page stays in scope");
        apply(&mut site, &Mutation::RestorePage { id: 104 }).unwrap();
        assert!(all_docs(&site, Scope::default()).contains(&page(104)));
    }

    /// Versions and time stamps of every content item, issue and comment, and the clock.
    fn stamps(site: &Site) -> Vec<(String, i64)> {
        let mut s = vec![("clock".to_string(), site.clock)];
        s.extend(site.contents.values().flat_map(|c| {
            [(format!("c{} v", c.id), i64::from(c.version)), (format!("c{} updated", c.id), c.updated)]
        }));
        s.extend(site.comments.values().map(|c| (format!("cc{} updated", c.id), c.updated)));
        s.extend(site.attachments.values().map(|a| (format!("a{} updated", a.id), a.updated)));
        s.extend(site.issues.values().map(|i| (format!("i{} updated", i.id), i.updated)));
        s.extend(site.issue_comments.values().map(|c| (format!("ic{} updated", c.id), c.updated)));
        s
    }

    #[test]
    fn permission_only_changes_touch_no_version_or_time() {
        for m in [
            Mutation::SetReadRestriction { id: 102, users: set(&["alice"]), groups: set(&["g-mgr"]) },
            Mutation::SetSpacePermission {
                space_id: 1,
                principal: SpacePrincipal::Group("g-mgr".into()),
                grant: true,
            },
            Mutation::SetSpacePermission {
                space_id: 1,
                principal: SpacePrincipal::User("carol".into()),
                grant: false,
            },
            Mutation::AddGrant { scheme_id: 1, holder: Holder::Anyone },
            Mutation::RemoveGrant { scheme_id: 1, grant_id: 1 },
            Mutation::AddLevelMember { level_id: 5001, holder: Holder::User("dave".into()) },
            Mutation::RemoveLevelMember { level_id: 5001, member_id: 1 },
            Mutation::SetRoleActors {
                project_id: 10000,
                role_id: 10002,
                users: set(&["dave"]),
                groups: set(&[]),
            },
            Mutation::AddGroupMember { group_id: "g-mgr".into(), account_id: "alice".into() },
            Mutation::RemoveGroupMember { group_id: "g-eng".into(), account_id: "alice".into() },
            Mutation::RenameGroup { group_id: "g-mgr".into(), name: "leads".into() },
            Mutation::DeactivateUser { account_id: "carol".into() },
        ] {
            let mut site = tiny_site();
            let before = stamps(&site);
            apply(&mut site, &m).unwrap();
            assert_ne!(site, tiny_site(), "{m:?} changed something");
            assert_eq!(stamps(&site), before, "{m:?}");
        }
    }

    #[test]
    fn content_changes_bump_version_and_updated() {
        for (m, id) in [
            (Mutation::EditPage { id: 102, title: Some("Renamed".into()), body: None }, 102),
            (Mutation::EditPage { id: 110, title: None, body: Some("<p>News</p>".into()) }, 110),
            (Mutation::MovePage { id: 102, new_parent_id: Some(100), new_space_id: None }, 102),
            (Mutation::ArchivePage { id: 101 }, 101),
            (Mutation::RestorePage { id: 104 }, 104),
        ] {
            let mut site = tiny_site();
            let old = site.contents[&id].clone();
            apply(&mut site, &m).unwrap();
            let new = &site.contents[&id];
            assert_eq!(new.version, old.version + 1, "{m:?}");
            assert!(new.updated > old.updated && new.updated == site.clock, "{m:?}");
        }
        let mut site = tiny_site();
        apply(&mut site, &Mutation::EditPage { id: 102, title: Some("Renamed".into()), body: None }).unwrap();
        assert_eq!(site.contents[&102].title, "Renamed");
        assert_eq!(site.contents[&102].body, tiny_site().contents[&102].body);
    }

    #[test]
    fn new_comments_and_attachments_get_fresh_ids_and_times() {
        let mut site = tiny_site();
        let (next_id, old_clock) = (site.ids.content, site.clock);
        apply(
            &mut site,
            &Mutation::AddComment { container_id: 100, parent_comment_id: None, body: "a < b & c".into() },
        )
        .unwrap();
        let c = site.comments[&next_id].clone();
        assert_eq!(c.body, "<p>a &lt; b &amp; c</p>");
        assert!(c.created > old_clock && c.created == c.updated);
        assert_eq!(site.contents[&100].version, 1, "a comment is not a page version");
        assert_eq!(site.index.comments_of[&100], [122, next_id]);

        apply(
            &mut site,
            &Mutation::AddAttachment {
                container_id: 100,
                filename: "plan.md".into(),
                kind: FileKind::Markdown,
                text: "# Plan".into(),
            },
        )
        .unwrap();
        let a = &site.attachments[&(next_id + 1)];
        assert_eq!(
            (a.file.kind, a.file.filename.as_str(), a.file.text.as_str()),
            (FileKind::Markdown, "plan.md", "# Plan")
        );
        assert!(a.file.size > 0);
        assert!(a.created > c.created);
    }

    #[test]
    fn jira_field_and_comment_changes_bump_updated() {
        for m in [
            Mutation::EditIssue { id: 10100, summary: Some("New summary".into()), description_text: None },
            Mutation::EditIssue {
                id: 10100,
                summary: None,
                description_text: Some("Line one\nLine two".into()),
            },
            Mutation::SetIssueSecurityLevel { id: 10100, level_id: Some(5001) },
            Mutation::SetAssignee { id: 10100, account_id: Some("bob".into()) },
            Mutation::SetReporter { id: 10100, account_id: Some("bob".into()) },
            Mutation::AddIssueComment { issue_id: 10100, body_text: "Seen.".into(), visibility: None },
            Mutation::SetCommentVisibility { id: 10200, visibility: Some(Visibility::Group("g-mgr".into())) },
        ] {
            let mut site = tiny_site();
            let old = site.issues[&10100].updated;
            apply(&mut site, &m).unwrap();
            assert!(site.issues[&10100].updated > old, "{m:?}");
            assert_eq!(site.issues[&10100].updated, site.clock, "{m:?}");
        }
        let mut site = tiny_site();
        apply(&mut site, &Mutation::SetCommentVisibility { id: 10200, visibility: None }).unwrap();
        assert_eq!(site.issue_comments[&10200].updated, site.clock);

        let mut site = tiny_site();
        apply(
            &mut site,
            &Mutation::EditIssue { id: 10100, summary: None, description_text: Some("One\n\nTwo".into()) },
        )
        .unwrap();
        let adf: serde_json::Value = serde_json::from_str(&site.issues[&10100].description).unwrap();
        assert_eq!(adf["type"], "doc");
        assert_eq!(adf["content"].as_array().map(Vec::len), Some(2));
        assert_eq!(adf["content"][1]["content"][0]["text"], "Two");
    }

    #[test]
    fn invalid_mutations_are_rejected_and_leave_the_site_unchanged() {
        let not_found = |e: &Error| matches!(e, Error::NotFound { .. });
        let invalid = |e: &Error| matches!(e, Error::InvalidMutation(_));
        type IsExpected<'a> = &'a dyn Fn(&Error) -> bool;
        let cases: Vec<(Mutation, IsExpected)> = vec![
            (Mutation::EditPage { id: 999, title: None, body: None }, &not_found),
            (Mutation::EditPage { id: 104, title: Some("x".into()), body: None }, &invalid),
            (Mutation::EditPage { id: 100, title: Some(" ".into()), body: None }, &invalid),
            (Mutation::MovePage { id: 100, new_parent_id: Some(102), new_space_id: None }, &invalid),
            (Mutation::MovePage { id: 101, new_parent_id: Some(101), new_space_id: None }, &invalid),
            (Mutation::MovePage { id: 100, new_parent_id: None, new_space_id: Some(2) }, &invalid),
            (Mutation::MovePage { id: 101, new_parent_id: Some(200), new_space_id: Some(1) }, &invalid),
            (Mutation::MovePage { id: 101, new_parent_id: Some(110), new_space_id: None }, &invalid),
            (Mutation::MovePage { id: 110, new_parent_id: Some(100), new_space_id: None }, &invalid),
            (Mutation::MovePage { id: 101, new_parent_id: None, new_space_id: Some(77) }, &not_found),
            (Mutation::MovePage { id: 101, new_parent_id: Some(999), new_space_id: None }, &not_found),
            (Mutation::DeletePage { id: 120 }, &not_found),
            (Mutation::ArchivePage { id: 104 }, &invalid),
            (Mutation::ArchivePage { id: 110 }, &invalid),
            (Mutation::RestorePage { id: 100 }, &invalid),
            (Mutation::SetReadRestriction { id: 100, users: set(&["zed"]), groups: set(&[]) }, &not_found),
            (Mutation::SetReadRestriction { id: 100, users: set(&[]), groups: set(&["g-none"]) }, &not_found),
            (
                Mutation::SetSpacePermission {
                    space_id: 1,
                    principal: SpacePrincipal::Role("ADMIN".into()),
                    grant: true,
                },
                &not_found,
            ),
            (
                Mutation::SetSpacePermission {
                    space_id: 9,
                    principal: SpacePrincipal::User("bob".into()),
                    grant: true,
                },
                &not_found,
            ),
            (Mutation::AddComment { container_id: 104, parent_comment_id: None, body: "x".into() }, &invalid),
            (
                Mutation::AddComment { container_id: 102, parent_comment_id: Some(122), body: "x".into() },
                &invalid,
            ),
            (
                Mutation::AddComment { container_id: 102, parent_comment_id: None, body: "  ".into() },
                &invalid,
            ),
            (Mutation::DeleteComment { id: 130 }, &not_found),
            (
                Mutation::AddAttachment {
                    container_id: 100,
                    filename: "readme.txt".into(),
                    kind: FileKind::Text,
                    text: "again".into(),
                },
                &invalid,
            ),
            (Mutation::DeleteAttachment { id: 120 }, &not_found),
            (Mutation::EditIssue { id: 10103, summary: Some("x".into()), description_text: None }, &invalid),
            (Mutation::SetIssueSecurityLevel { id: 10100, level_id: Some(9999) }, &invalid),
            (Mutation::SetIssueSecurityLevel { id: 10110, level_id: Some(5001) }, &invalid),
            (Mutation::SetIssueSecurityLevel { id: 10102, level_id: None }, &invalid),
            (Mutation::SetAssignee { id: 10100, account_id: Some("zed".into()) }, &not_found),
            (Mutation::SetAssignee { id: 10100, account_id: Some("erin".into()) }, &invalid),
            (Mutation::SetReporter { id: 99, account_id: None }, &not_found),
            (Mutation::DeleteIssue { id: 99 }, &not_found),
            (Mutation::ArchiveIssue { id: 10102 }, &invalid),
            (Mutation::ArchiveIssue { id: 10103 }, &invalid),
            (
                Mutation::AddIssueComment {
                    issue_id: 10100,
                    body_text: "x".into(),
                    visibility: Some(Visibility::Group("g-none".into())),
                },
                &not_found,
            ),
            (
                Mutation::AddIssueComment {
                    issue_id: 10100,
                    body_text: "x".into(),
                    visibility: Some(Visibility::Role(7)),
                },
                &not_found,
            ),
            (Mutation::SetCommentVisibility { id: 1, visibility: None }, &not_found),
            (Mutation::DeleteIssueComment { id: 1 }, &not_found),
            (Mutation::AddGrant { scheme_id: 1, holder: Holder::ProjectRole(10001) }, &invalid),
            (Mutation::AddGrant { scheme_id: 1, holder: Holder::Group("g-none".into()) }, &not_found),
            (Mutation::AddGrant { scheme_id: 9, holder: Holder::Anyone }, &not_found),
            (Mutation::RemoveGrant { scheme_id: 2, grant_id: 1 }, &not_found),
            (Mutation::AddLevelMember { level_id: 5001, holder: Holder::Assignee }, &invalid),
            (Mutation::AddLevelMember { level_id: 5002, holder: Holder::Anyone }, &not_found),
            (Mutation::RemoveLevelMember { level_id: 5001, member_id: 3 }, &not_found),
            (
                Mutation::SetRoleActors { project_id: 10000, role_id: 3, users: set(&[]), groups: set(&[]) },
                &not_found,
            ),
            (
                Mutation::SetRoleActors { project_id: 1, role_id: 10001, users: set(&[]), groups: set(&[]) },
                &not_found,
            ),
            (Mutation::AddGroupMember { group_id: "g-eng".into(), account_id: "alice".into() }, &invalid),
            (Mutation::AddGroupMember { group_id: "g-eng".into(), account_id: "zed".into() }, &not_found),
            (Mutation::RemoveGroupMember { group_id: "g-mgr".into(), account_id: "alice".into() }, &invalid),
            (Mutation::RenameGroup { group_id: "g-eng".into(), name: "Managers".into() }, &invalid),
            (Mutation::RenameGroup { group_id: "g-none".into(), name: "x".into() }, &not_found),
            (Mutation::DeactivateUser { account_id: "erin".into() }, &invalid),
            (Mutation::DeactivateUser { account_id: "zed".into() }, &not_found),
        ];
        for (m, expected) in cases {
            let mut site = tiny_site();
            let err = apply(&mut site, &m).expect_err(&format!("{m:?} should be rejected"));
            assert!(expected(&err), "{m:?}: unexpected error {err}");
            assert_eq!(site, tiny_site(), "{m:?} changed the site");
        }
    }

    #[test]
    fn the_admin_account_cannot_be_deactivated() {
        let mut site = tiny_site();
        site.admin_account_id = "alice".into();
        let before = site.clone();
        assert!(apply(&mut site, &Mutation::DeactivateUser { account_id: "alice".into() }).is_err());
        assert_eq!(site, before);
    }

    #[test]
    fn json_form_is_tagged_by_op() {
        let m: Mutation = serde_json::from_str(
            r#"{"op":"set_space_permission","space_id":1,"principal":{"type":"group","id":"g-eng"},"grant":false}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            Mutation::SetSpacePermission {
                space_id: 1,
                principal: SpacePrincipal::Group("g-eng".into()),
                grant: false
            }
        );
        let m: Mutation = serde_json::from_str(r#"{"op":"move_page","id":5}"#).unwrap();
        assert_eq!(m, Mutation::MovePage { id: 5, new_parent_id: None, new_space_id: None });
        let m: Mutation = serde_json::from_str(
            r#"{"op":"add_grant","scheme_id":1,"holder":{"type":"project_role","value":10002}}"#,
        )
        .unwrap();
        assert_eq!(m, Mutation::AddGrant { scheme_id: 1, holder: Holder::ProjectRole(10002) });
        let m: Mutation = serde_json::from_str(
            r#"{"op":"add_issue_comment","issue_id":7,"body_text":"x","visibility":{"type":"role","value":3}}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            Mutation::AddIssueComment {
                issue_id: 7,
                body_text: "x".into(),
                visibility: Some(Visibility::Role(3))
            }
        );
        let value =
            serde_json::to_value(Mutation::AddLevelMember { level_id: 1, holder: Holder::Anyone }).unwrap();
        assert_eq!(
            value,
            serde_json::json!({"op": "add_level_member", "level_id": 1, "holder": {"type": "anyone"}})
        );
        assert!(serde_json::from_str::<Mutation>(r#"{"op":"launch_rockets"}"#).is_err());
    }

    #[test]
    fn random_mutations_cover_every_kind_are_valid_and_round_trip_through_json() {
        let site = tiny_site();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut ops = BTreeSet::new();
        for _ in 0..3_000 {
            let m = random_mutation(&site, &mut rng);
            let json = serde_json::to_string(&m).unwrap();
            let back: Mutation = serde_json::from_str(&json).unwrap();
            assert_eq!(back, m, "{json}");
            let mut applied = site.clone();
            apply(&mut applied, &m).unwrap_or_else(|e| panic!("{m:?}: {e}"));
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            ops.insert(value["op"].as_str().unwrap_or_default().to_string());
        }
        assert_eq!(ops.len(), KINDS.len(), "{ops:?}");
    }

    #[test]
    fn random_mutation_is_deterministic_given_the_rng() {
        let draw = |seed| {
            let mut site = tiny_site();
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..40)
                .map(|_| {
                    let m = random_mutation(&site, &mut rng);
                    apply(&mut site, &m).unwrap();
                    m
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(3), draw(3));
        assert_ne!(draw(3), draw(4));
    }
}
