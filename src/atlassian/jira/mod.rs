//! The Jira crawler: reads a Jira Cloud site (REST v3) through the shared [`Client`] and hands back
//! permdex's own [`model`](super::model) types, never wire types.
//!
//! What comes from where, one file per topic:
//! - `projects.rs` — [`Jira::projects`]: live projects with who may browse them (`BROWSE_PROJECTS` grants
//!   of their permission scheme), their role actors and their issue security levels' members;
//!   [`Jira::projects_with_roles_in_use`] reads only the roles something names, [`Jira::role_actors`]
//!   one more when a comment first names it; [`Jira::application_roles`];
//! - `issues.rs` — [`Jira::issue_ids`] then [`Jira::issues`]: ids first (`search/jql`, 5000 per page),
//!   then the issues themselves (`issue/bulkfetch`, 100 per call), as Atlassian recommends;
//!   [`Jira::issue_access`], [`Jira::approximate_issue_count`], [`Jira::download`];
//! - `comments.rs` — [`Jira::comments`], [`Jira::existing_comments`], [`Jira::comment_visibilities`];
//! - `directory.rs` — [`Jira::directory`], [`Jira::users`], and the group names grants are resolved with;
//! - `service_desk.rs` — Jira Service Management: [`Jira::request_fields`] (the custom fields that hold a
//!   request's participants, organisations and request type), [`Jira::service_desks`],
//!   [`Jira::desk_organisations`], [`Jira::organisation_members`].
//!
//! This file holds the crawler itself and what every topic shares: limits, the names it remembers, ids,
//! times.
//!
//! Holders, visibilities and role actors are translated as Jira states them, never widened: a group named
//! only by a name that no group has any more, a role name the project does not know, a holder type this
//! code does not resolve all become `Unknown`, which grants nothing. What they mean for a document is
//! `sync::resolve`'s business, not this module's. Nothing here retries or paces: the client does.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use super::client::Client;
use super::wire::jira as wire;
use super::Error;

mod comments;
mod directory;
mod issues;
mod projects;
mod security_levels;
mod service_desk;

pub use comments::CommentAccess;
pub use issues::IssueAccess;
pub use projects::{ProjectsRead, RoleUses, UnreadableProject};
pub use service_desk::RequestFields;

/// For the wire variance test, which reads fixtures as the crawler does.
#[cfg(test)]
pub(super) use comments::{named_visibility, NamedVisibility};
#[cfg(test)]
pub(super) use issues::issue_from_wire;
#[cfg(test)]
pub(super) use projects::{holder, role_actors_of, role_ids_by_name};

const API: &str = "/rest/api/3";
/// Issue ids per `search/jql` page: Jira's maximum when only ids are asked for.
pub const ISSUE_IDS_PAGE: usize = 5_000;
/// Issues per page of [`Jira::issue_access`]: Jira serves 100 when fields besides the id are asked for.
pub const ISSUE_ACCESS_PAGE: usize = 100;
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
    /// Held while a name not remembered yet is read, so that requests side by side (the comments of many
    /// issues of one project) that miss the same names read them once.
    name_reads: tokio::sync::Mutex<()>,
    /// Jira Service Management's custom fields, once [`Jira::request_fields`] found them: issue fetches
    /// then ask for them.
    request_fields: Mutex<RequestFields>,
}

#[derive(Debug, Default)]
struct Names {
    /// Group name → group id, from the last `group/bulk` walk; `None` until one was needed.
    group_ids: Option<HashMap<String, String>>,
    /// Project id → (role name → role id), from the last read of the project's roles.
    role_ids: HashMap<String, BTreeMap<String, String>>,
}

impl Jira {
    pub fn new(client: Client) -> Self {
        Jira {
            client,
            names: Mutex::new(Names::default()),
            name_reads: tokio::sync::Mutex::new(()),
            request_fields: Mutex::new(RequestFields::default()),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
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

fn account_id(user: wire::User) -> Option<String> {
    Some(user.account_id).filter(|id| is_id(id))
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
}
