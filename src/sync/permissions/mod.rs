//! The permission side of a run: reading the snapshot every document is resolved against, and refreshing
//! the documents the run did not rewrite.
//!
//! [`read`] fetches the directory, the spaces in scope with their readers, the access listing (ancestors
//! and read restrictions of every page and blog post), and the projects in scope with their browse
//! holders, security levels and the actors of the roles those or stored comments name; where a project grants
//! `sd.customer.portal.only`, its service desk's organisations and their members, and the service desk
//! custom fields the issue reads then take. A Jira comment
//! restricted to a role the snapshot lacks has that role read when the comment is met
//! ([`Permissions::read_comment_roles`]). [`refresh`] resolves every stored document's
//! [`AclInput`] again against the snapshot: clauses are rewritten in place and documents whose profile
//! changed are re-pointed, without fetching a body.
//!
//! Failures: what cannot be read is recorded, and that product's permissions stay as last committed
//! (never widened, never dropped): its documents are neither refreshed nor crawled. A project or a space
//! whose permissions (or, for a space, access listing) cannot be read costs that project or space only.
//!
//! Confluence's part of the snapshot is read by `confluence.rs`. This file decides no permission rule
//! (`resolve.rs` does) and crawls no content.

mod confluence;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use futures_util::future::join_all;

use super::docs::Location;
use super::ledger::{Ledger, Step};
use super::listing::Walk;
use super::progress::ProgressEvent;
use super::resolve::{AclInput, PermissionSnapshot, Request, Visibility};
use super::runs::Counted;
use super::state::StoredDirectory;
use crate::acl::AclStore;
use crate::atlassian::confluence::Confluence;
use crate::atlassian::jira::{Jira, ProjectsRead, RoleUses, COMMENT_LIST_MAX};
use crate::atlassian::model::{
    ApplicationRole, CommentVisibility, Directory, Holder, IssueComment, Project, ServiceDeskAccess, Space,
    Subject,
};
use crate::config::Source;
use crate::index::{DocId, Kind, Product};

/// The permission snapshot of a run and what could be read of it.
#[derive(Debug, Default)]
pub(super) struct Permissions {
    pub(super) snapshot: PermissionSnapshot,
    /// Pages and blog posts the access listing showed in scope (the snapshot also holds ancestors that are
    /// not indexed themselves, e.g. archived ones).
    pub(super) listed_content: BTreeSet<String>,
    /// Whether Confluence's permission sources were read in full this run.
    pub(super) confluence: bool,
    /// Whether Jira's projects and permissions were read this run.
    pub(super) jira: bool,
    /// Inputs re-read this run that differ from the stored ones (a permissions-only run re-reads issue
    /// levels, reporters, assignees and comment visibilities): the refresh resolves these instead.
    pub(super) inputs: HashMap<DocId, AclInput>,
    /// Projects in scope whose permissions could not be read this run (by id): their documents stay as
    /// last committed, neither refreshed nor crawled; a project never indexed stays invisible.
    pub(super) unreadable_projects: BTreeSet<String>,
    /// Spaces in scope whose viewers or access listing could not be read this run (by id): their
    /// documents stay as last committed, neither refreshed nor crawled; a space never indexed stays
    /// invisible.
    pub(super) unreadable_spaces: BTreeSet<String>,
    /// Whether the directory (users, groups, members) was read this run.
    pub(super) directory: bool,
}

impl Permissions {
    /// Whether the permissions of `product` were read this run (else its documents are left alone).
    pub(super) fn read_for(&self, product: Product) -> bool {
        match product {
            Product::Confluence => self.confluence,
            Product::Jira => self.jira,
        }
    }

    /// Whether the permissions a document depends on were read this run.
    pub(super) fn read_for_input(&self, product: Product, input: &AclInput) -> bool {
        self.read_for(product)
            && input.project_id().is_none_or(|p| !self.unreadable_projects.contains(p))
            && input.space_id().is_none_or(|s| !self.unreadable_spaces.contains(s))
    }

    /// Whether the directory and each product's permission sources were read, if only in part (projects
    /// and spaces in scope may be unreadable): without this a run cannot do what it is for.
    pub(super) fn read_enough(&self, source: &Source) -> bool {
        let products = source.products();
        self.directory && (!products.confluence || self.confluence) && (!products.jira || self.jira)
    }

    /// Whether everything `source` syncs was read: [`read_enough`](Self::read_enough), every project and
    /// space in scope included.
    pub(super) fn complete(&self, source: &Source) -> bool {
        self.read_enough(source) && self.unreadable_projects.is_empty() && self.unreadable_spaces.is_empty()
    }

    pub(super) fn space(&self, space_id: &str) -> Option<Space> {
        self.snapshot.spaces.get(space_id).cloned()
    }

    /// The space of a comment's or attachment's container, when the container is in scope.
    pub(super) fn container_space(&self, container_id: &str) -> Option<Space> {
        if !self.listed_content.contains(container_id) {
            return None;
        }
        let access = self.snapshot.access.get(container_id)?;
        self.space(&access.space_id)
    }

    /// Reads the actors of roles that fetched comments are restricted to and the snapshot does not hold
    /// yet (the projects were read with only the roles in use then). One that cannot be read is recorded
    /// and stays absent, so its comments are readable by nobody until a later run reads it.
    pub(super) async fn read_comment_roles(
        &mut self,
        ledger: &mut Ledger<'_>,
        jira: &Jira,
        comments: &[(String, &[IssueComment])],
    ) {
        let mut missing: BTreeSet<(String, String)> = BTreeSet::new();
        for (project_id, comments) in comments {
            let Some(project) = self.snapshot.projects.get(project_id) else { continue };
            for comment in comments.iter() {
                if let Some(CommentVisibility::Role(role)) = &comment.visibility {
                    if !project.roles.contains_key(role) {
                        missing.insert((project_id.clone(), role.clone()));
                    }
                }
            }
        }
        self.read_roles(ledger, jira, missing).await;
    }

    /// Reads the actors of these (project, role) pairs into the snapshot; one that cannot be read is
    /// recorded and stays absent (its comments readable by nobody).
    async fn read_roles(
        &mut self,
        ledger: &mut Ledger<'_>,
        jira: &Jira,
        missing: BTreeSet<(String, String)>,
    ) {
        // Read side by side: a role whose read waits out a 429 holds up no other.
        let reads =
            join_all(missing.iter().map(|(project_id, role)| jira.role_actors(project_id, role))).await;
        for ((project_id, role), read) in missing.into_iter().zip(reads) {
            match read {
                Ok(actors) => {
                    if let Some(project) = self.snapshot.projects.get_mut(&project_id) {
                        project.roles.insert(role, actors);
                    }
                }
                Err(e) => ledger.record.fail_call(
                    Counted::Docs(Product::Jira, Kind::Comment),
                    format!("role {role} of project {project_id}"),
                    &e,
                    format!("role actors: {e}"),
                ),
            }
        }
    }
}

/// Reads the directory and each product's permission sources. What cannot be read is recorded; that
/// product's permissions then stay as last committed.
pub(super) async fn read(
    ledger: &mut Ledger<'_>,
    source: &Source,
    confluence: Option<&Confluence>,
    jira: Option<&Jira>,
) -> Permissions {
    let product = if confluence.is_some() { Product::Confluence } else { Product::Jira };
    ledger.report(&ProgressEvent::Phase { product, phase: "permissions" });
    let mut permissions = Permissions::default();
    // Jira's application roles, projects and their permissions depend neither on the directory nor on
    // Confluence: they are read side by side with those, so that a wait on one side (a 429's Retry-After)
    // holds up nothing on the other.
    let roles_in_use = roles_of_stored_comments(ledger);
    let jira_sources = async {
        match jira {
            Some(jira) => Some(read_jira_sources(jira, &roles_in_use).await),
            None => None,
        }
    };
    let directory_and_confluence = async {
        let directory = match (jira, confluence) {
            (Some(jira), Some(confluence)) => both_directory(jira, confluence).await,
            (Some(jira), None) => jira.directory().await,
            (None, Some(confluence)) => confluence.directory(&[]).await,
            (None, None) => Ok(Directory::default()),
        };
        match directory {
            Ok(directory) => {
                ledger.state.directory = StoredDirectory::from(&directory);
                permissions.snapshot.directory = directory;
                permissions.directory = true;
            }
            Err(e) => {
                ledger.record.fail_call(
                    Counted::Directory,
                    "directory",
                    &e,
                    format!("users and groups: {e} (kept the last read)"),
                );
                permissions.snapshot.directory = Directory::from(&ledger.state.directory);
            }
        }
        if let Some(confluence) = confluence {
            confluence::read(&mut permissions, ledger, source, confluence).await;
        }
    };
    let ((), jira_sources) = tokio::join!(directory_and_confluence, jira_sources);
    if let Some(JiraSources { applications, projects }) = jira_sources {
        let applications = match applications {
            Ok(roles) => Some(Some(roles.into_iter().map(|r| (r.key, r.groups)).collect())),
            // A definite answer: without the right, application roles grant nobody.
            Err(e @ crate::atlassian::Error::MissingRight { .. }) => {
                ledger.record.fail(
                    Counted::Projects,
                    "application roles",
                    format!(
                        "{e}: application-role grants admit nobody, and Jira documents only whom anonymous \
                         access admits"
                    ),
                );
                Some(None)
            }
            Err(e) => {
                ledger.record.fail_call(
                    Counted::Projects,
                    "application roles",
                    &e,
                    format!("{e} (kept the last read)"),
                );
                None
            }
        };
        match applications {
            Some(applications) => permissions.snapshot.products.jira = applications,
            // Jira's permissions stay as last committed.
            None => return permissions,
        }
        match projects {
            None => {}
            Some(Ok(read)) => {
                let on_site: BTreeSet<&str> = read
                    .projects
                    .iter()
                    .map(|p| p.key.as_str())
                    .chain(read.unreadable.iter().map(|u| u.key.as_str()))
                    .collect();
                note_unknown_keys(ledger, "project", source.projects().unknown_keys(|k| on_site.contains(k)));
                permissions.snapshot.projects = read
                    .projects
                    .into_iter()
                    .filter(|p| source.project_in_scope(&p.key))
                    .map(|p| (p.id.clone(), p))
                    .collect();
                for failure in read.unreadable.into_iter().filter(|u| source.project_in_scope(&u.key)) {
                    ledger.record.fail(
                        Counted::Projects,
                        format!("project {}", failure.key),
                        format!("permissions: {} (its issues kept as last indexed)", failure.error),
                    );
                    permissions.unreadable_projects.insert(failure.id);
                }
                // One project that cannot be read costs that project only; when none can, Jira's
                // permissions were not read at all (an account without the right to read them, typically).
                permissions.jira =
                    !permissions.snapshot.projects.is_empty() || permissions.unreadable_projects.is_empty();
                if let Some(jira) = jira {
                    read_service_desks(ledger, jira, &mut permissions.snapshot.projects).await;
                }
            }
            Some(Err(e)) => ledger.record.fail_call(
                Counted::Projects,
                "projects",
                &e,
                format!("projects and permissions: {e}"),
            ),
        }
    }
    note_unreadable_holders(ledger, &permissions.snapshot);
    permissions
}

/// Says in the run's notes which spaces and projects name permission holders that permdex cannot read (a
/// principal or holder type it does not know, a holder without a usable id, a type it does not model): each
/// admits nobody, so the documents behind it are narrower here than on the site, never wider.
fn note_unreadable_holders(ledger: &mut Ledger<'_>, snapshot: &PermissionSnapshot) {
    let mut named = Vec::new();
    for space in snapshot.spaces.values() {
        let n = space.readers.iter().filter(|s| matches!(s, Subject::Unknown(_))).count();
        if n > 0 {
            named.push(format!("space {} ({n})", space.key));
        }
    }
    for project in snapshot.projects.values() {
        let holders = project.browse.iter().chain(project.security_levels.values().flatten());
        let kinds: BTreeSet<&str> = holders
            .filter_map(|h| match h {
                Holder::Unknown(kind) => Some(kind.as_str()),
                _ => None,
            })
            .collect();
        if !kinds.is_empty() {
            named.push(format!(
                "project {} ({})",
                project.key,
                kinds.into_iter().collect::<Vec<_>>().join(", ")
            ));
        }
    }
    if !named.is_empty() {
        ledger.record.notes.push(format!(
            "permission holders that admit nobody here (unknown or unreadable on the site): {}",
            named.join("; ")
        ));
    }
}

/// Reads who the customers of the service projects in scope are, for the projects whose browse holders
/// include the portal's customers (`sd.customer.portal.only`); on a site without such a project nothing is
/// read. The service desk custom fields (so that issue reads take each request's people), the service
/// desks, the organisations added to each, and their members. What cannot be read is recorded, and costs
/// only the customer path of what depends on it: every request of the project (no fields, no desk) or the
/// requests shared with that organisation; their agents still read them.
async fn read_service_desks(ledger: &mut Ledger<'_>, jira: &Jira, projects: &mut BTreeMap<String, Project>) {
    let portal: Vec<String> = projects
        .values()
        .filter(|p| p.browse.contains(&Holder::CustomerPortal))
        .map(|p| p.id.clone())
        .collect();
    if portal.is_empty() {
        return;
    }
    let (fields, desks) = tokio::join!(jira.request_fields(), jira.service_desks());
    let lost = "its requests are readable by their agents only";
    let fields_known = match fields {
        Ok(f) if f.participants.is_some() && f.organisations.is_some() && f.request_type.is_some() => true,
        Ok(_) => {
            ledger.record.notes.push(format!(
                "service desk request fields (participants, organizations, request type) not found: {lost}"
            ));
            false
        }
        Err(e) => {
            ledger.record.fail(Counted::Projects, "service desk request fields", format!("{e}: {lost}"));
            false
        }
    };
    let desks = match desks {
        Ok(desks) => desks,
        Err(e) => {
            ledger.record.fail(Counted::Projects, "service desks", format!("{e}: {lost}"));
            return;
        }
    };
    if !fields_known {
        return;
    }
    let desk_of: BTreeMap<&str, &str> =
        desks.iter().map(|(desk, project)| (project.as_str(), desk.as_str())).collect();
    let wanted: Vec<(String, String)> =
        portal.iter().filter_map(|p| desk_of.get(p.as_str()).map(|d| (p.clone(), d.to_string()))).collect();
    let listed = join_all(wanted.iter().map(|(_, desk)| jira.desk_organisations(desk))).await;
    let mut orgs_of = Vec::new();
    for ((project_id, desk), listed) in wanted.into_iter().zip(listed) {
        match listed {
            Ok(orgs) => orgs_of.push((project_id, desk, orgs)),
            Err(e) => ledger.record.fail(
                Counted::Projects,
                format!("service desk {desk} of project {project_id}"),
                format!("organizations: {e}: {lost}"),
            ),
        }
    }
    let all_orgs: BTreeSet<&String> = orgs_of.iter().flat_map(|(_, _, orgs)| orgs).collect();
    let members = join_all(all_orgs.iter().map(|org| jira.organisation_members(org))).await;
    let mut members_of: BTreeMap<&str, Option<BTreeSet<String>>> = BTreeMap::new();
    for (org, read) in all_orgs.iter().zip(members) {
        match read {
            Ok(m) => {
                members_of.insert(org.as_str(), Some(m));
            }
            Err(e) => {
                ledger.record.fail(
                    Counted::Projects,
                    format!("organization {org}"),
                    format!("members: {e}: requests shared with it are readable by their agents only"),
                );
                members_of.insert(org.as_str(), None);
            }
        }
    }
    for (project_id, desk, orgs) in &orgs_of {
        let organisations =
            orgs.iter().map(|o| (o.clone(), members_of.get(o.as_str()).cloned().flatten())).collect();
        if let Some(project) = projects.get_mut(project_id) {
            project.service_desk = Some(ServiceDeskAccess { id: desk.clone(), organisations });
        }
    }
}

/// What a run reads of Jira's permission sources, before it is recorded.
struct JiraSources {
    applications: Result<Vec<ApplicationRole>, crate::atlassian::Error>,
    /// Not read when the application roles could not be (then Jira's permissions stay as last committed).
    projects: Option<Result<ProjectsRead, crate::atlassian::Error>>,
}

/// Reads the application roles, then the projects in scope with their permissions and the roles in use.
async fn read_jira_sources(jira: &Jira, roles_in_use: &RoleUses) -> JiraSources {
    let applications = jira.application_roles().await;
    let projects = match &applications {
        Ok(_) | Err(crate::atlassian::Error::MissingRight { .. }) => {
            Some(jira.projects_with_roles_in_use(roles_in_use).await)
        }
        Err(_) => None,
    };
    JiraSources { applications, projects }
}

/// The site's one directory when both products are synced: Jira lists every user (1000 a page), and
/// Confluence lists group members 200 a page where Jira lists 50, so group memberships are read once,
/// from Confluence. A member the user listing missed is looked up by account id.
async fn both_directory(jira: &Jira, confluence: &Confluence) -> Result<Directory, crate::atlassian::Error> {
    // Side by side: neither listing needs the other.
    let (users, groups) = tokio::join!(jira.users(), confluence.groups());
    let (mut users, groups) = (users?, groups?);
    let missing: BTreeSet<String> =
        groups.values().flat_map(|g| g.members.iter()).filter(|a| !users.contains_key(*a)).cloned().collect();
    if !missing.is_empty() {
        let missing: Vec<String> = missing.into_iter().collect();
        users.extend(confluence.users(&missing).await?);
    }
    Ok(Directory { users, groups })
}

/// The roles stored comments are restricted to, by project: their actors are read with the projects
/// (besides the roles grants and levels name) so that a change to them re-points those comments.
fn roles_of_stored_comments(ledger: &Ledger<'_>) -> RoleUses {
    let mut uses = RoleUses::new();
    for doc in ledger.state.docs.values() {
        if let AclInput::JiraComment { issue, visibility: Some(Visibility::Role(role)), .. } = &doc.acl {
            if let AclInput::JiraIssue { project_id, .. } = issue.as_ref() {
                uses.entry(project_id.clone()).or_default().insert(role.clone());
            }
        }
    }
    uses
}

/// Re-resolves every stored document this run did not write, and re-points those whose profile changed.
/// Content gone from a complete access listing is deleted; a page that moved to another space takes its
/// comments and attachments along. A Confluence document whose [`Location`] changed (its space renamed, a
/// page above it moved or deleted) is rewritten with the new one.
pub(super) fn refresh(ledger: &mut Ledger<'_>, permissions: &Permissions, product: Product) -> Step {
    ledger.report(&ProgressEvent::Phase { product, phase: "permission refresh" });
    let ids: Vec<DocId> = ledger.state.docs.keys().filter(|id| !ledger.touched(id)).cloned().collect();
    // Each document's current input (and new space, for content that moved), then one resolution pass
    // that sets every clause once.
    let mut plans: Vec<Plan> = Vec::new();
    for id in ids {
        let Some(doc) = ledger.state.docs.get(&id) else { continue };
        if !permissions.read_for_input(id.product, &doc.acl) {
            continue;
        }
        let mut input = permissions.inputs.get(&id).unwrap_or(&doc.acl).clone();
        let mut new_space = None;
        let mut location = None;
        if let AclInput::Confluence { space_id, content_id } = &mut input {
            let listed = permissions.listed_content.contains(content_id.as_str());
            match permissions.snapshot.access.get(content_id.as_str()).filter(|_| listed) {
                Some(access) if access.space_id != *space_id => {
                    *space_id = access.space_id.clone();
                    new_space = permissions.snapshot.spaces.get(&access.space_id).map(|s| s.key.clone());
                }
                Some(_) => {}
                None => {
                    ledger.delete(&id)?;
                    continue;
                }
            }
            location = permissions
                .snapshot
                .spaces
                .get(space_id.as_str())
                .map(|space| Location::of(&id, space, content_id, &permissions.snapshot.access))
                .filter(|l| Some(l.fingerprint()) != doc.location);
        }
        plans.push(Plan { id, input, new_space, location });
    }
    let profiles = ledger.resolve_all(&permissions.snapshot, plans.iter().map(|p| &p.input));
    for (plan, profile) in plans.into_iter().zip(profiles) {
        if profile == AclStore::NOBODY {
            ledger.record.counts_mut(&plan.id).acl_unknown += 1;
        }
        let Some(doc) = ledger.state.docs.get(&plan.id) else { continue };
        let same_acl = profile.0 == doc.profile && plan.new_space.is_none() && plan.input == doc.acl;
        if same_acl && plan.location.is_none() {
            continue;
        }
        ledger.repoint(&plan.id, profile, plan.input, plan.new_space, plan.location)?;
    }
    Ok(())
}

/// What the refresh does to one stored document.
struct Plan {
    id: DocId,
    input: AclInput,
    /// The space key of content that moved to another space.
    new_space: Option<String>,
    /// A Confluence document's location, when it differs from the one written.
    location: Option<Location>,
}

/// In a permissions-only run: re-reads what stored Jira documents' inputs hold besides the snapshot (each
/// issue's level, reporter and assignee; each comment's visibility), so that the refresh applies changes to
/// them without fetching a body. What cannot be read is recorded, and those documents keep their inputs.
pub(super) async fn reread_jira_inputs(ledger: &mut Ledger<'_>, permissions: &mut Permissions, jira: &Jira) {
    if !permissions.jira {
        return;
    }
    let keys: Vec<String> = permissions.snapshot.projects.values().map(|p| p.key.clone()).collect();
    let keys = keys.as_slice();
    let mut issues = HashMap::new();
    let mut walk = Walk::new(Counted::Docs(Product::Jira, Kind::Issue), "listing issue levels");
    while let Some(listed) = walk
        .next(&mut ledger.record, |token| async move { jira.issue_access(keys, token.as_deref()).await })
        .await
    {
        issues.extend(listed.into_iter().map(|a| (a.id.clone(), a)));
    }
    let comments: Vec<(String, String)> = ledger
        .state
        .docs
        .values()
        .filter_map(|doc| match &doc.acl {
            AclInput::JiraComment { comment_id, .. } => {
                doc.acl.project_id().map(|p| (comment_id.clone(), p.to_owned()))
            }
            _ => None,
        })
        .collect();
    let mut visibilities = BTreeMap::new();
    for chunk in comments.chunks(COMMENT_LIST_MAX) {
        match jira.comment_visibilities(chunk).await {
            Ok(read) => visibilities.extend(read),
            Err(e) => {
                let comments = Counted::Docs(Product::Jira, Kind::Comment);
                ledger.record.fail_call(
                    comments,
                    "comment visibilities",
                    &e,
                    format!("{e} (kept the last read)"),
                );
                break;
            }
        }
    }
    // An attachment's input keeps no request: it is read through Jira only.
    let reread = |input: &mut AclInput, with_request: bool| {
        if let AclInput::JiraIssue { issue_id, reporter, assignee, level_id, request, .. } = input {
            if let Some(access) = issues.get(issue_id.as_str()) {
                reporter.clone_from(&access.reporter);
                assignee.clone_from(&access.assignee);
                level_id.clone_from(&access.security_level_id);
                if with_request {
                    *request = Request::of(&access.portal);
                }
            }
        }
    };
    let mut roles_wanted = BTreeSet::new();
    for (id, doc) in ledger.state.docs.iter().filter(|(id, _)| id.product == Product::Jira) {
        let mut input = doc.acl.clone();
        match &mut input {
            AclInput::JiraComment { issue, comment_id, visibility, internal } => {
                reread(issue, true);
                if let Some(read) = visibilities.get(comment_id.as_str()) {
                    *visibility = read.visibility.as_ref().map(Visibility::from);
                    *internal = read.internal;
                }
            }
            other => reread(other, id.kind != Kind::Attachment),
        }
        if let (AclInput::JiraComment { visibility: Some(Visibility::Role(role)), .. }, Some(project)) =
            (&input, input.project_id())
        {
            let known =
                permissions.snapshot.projects.get(project).is_some_and(|p| p.roles.contains_key(role));
            if !known {
                roles_wanted.insert((project.to_owned(), role.clone()));
            }
        }
        if input != doc.acl {
            permissions.inputs.insert(id.clone(), input);
        }
    }
    permissions.read_roles(ledger, jira, roles_wanted).await;
}

/// Says in the run's notes which include/exclude keys match nothing on the site (a typo, a renamed or
/// deleted space or project): such a key silently indexes nothing, so every run repeats it.
fn note_unknown_keys(ledger: &mut Ledger<'_>, what: &str, unknown: Vec<&str>) {
    for key in unknown {
        let note = format!(
            "scope: {what} key {key:?} in the include/exclude lists is not on the site (or not visible to this account)"
        );
        tracing::warn!("{note}");
        ledger.record.notes.push(note);
    }
}
