//! `permdex check`: one small call per capability the crawler depends on, so an operator learns before a
//! sync (or instead of a failed one) which right is missing; [`list_spaces`] and [`list_projects`] for `check --list`: the
//! spaces and projects the account can see, to pick scope keys from.
//!
//! Each [`Capability`] is tried with the first page of the listing the crawler reads (one item), on the
//! first space, page, group or project found, so a check costs about a dozen calls whatever the site's
//! size. What it says on failure comes from [`super::diagnosis`]: credentials refused, a named right
//! missing, the host unreachable or not Atlassian Cloud.
//!
//! This file reads nothing into the index and decides no permission.

use std::collections::BTreeSet;

use serde_json::Value;

use super::diagnosis::{diagnose, diagnose_first_call, Diagnosis};
use super::paginate::{CursorPager, OffsetPager};
use super::wire::confluence::v2;
use super::wire::jira;
use super::{Client, ClientConfig, Error};
use crate::config::Source;

/// What one capability check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    /// Nothing to try it on (no space, no group): neither a pass nor a failure.
    Skipped(String),
    /// The call failed; what to do about it.
    Failed(String),
}

/// One capability the crawler depends on, and how its check went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Capability {
    /// `confluence` or `jira`.
    pub product: &'static str,
    /// What the crawler uses it for, e.g. `space permissions`.
    pub name: &'static str,
    /// The call tried, e.g. `GET /wiki/api/v2/spaces/{id}/permissions`.
    pub call: String,
    pub outcome: Outcome,
    /// The permanent failure behind a [`Outcome::Failed`], when there is one.
    pub diagnosis: Option<Diagnosis>,
}

/// What to do when a capability fails for a reason that is not permanent.
fn advice(error: &Error) -> String {
    format!("{error}: the site did not answer this call; try again, or see the site's status page")
}

/// Tries the call at `path` (its first page) and records it as `name`; the JSON answer on success.
async fn try_call(
    client: &Client,
    out: &mut Vec<Capability>,
    product: &'static str,
    name: &'static str,
    template: &str,
    path: &str,
    first: bool,
) -> Option<Value> {
    let result = client.get_json::<Value>(path).await;
    let (outcome, diagnosis, value) = match result {
        Ok(value) => (Outcome::Ok, None, Some(value)),
        // Jira answers 404 for a project without an issue security scheme: nothing is missing.
        Err(Error::Status { status: 404, .. }) if name == "issue security levels" => {
            (Outcome::Skipped("the project has no issue security scheme".into()), None, None)
        }
        Err(error) => {
            let diagnosis = if first { diagnose_first_call(&error) } else { diagnose(&error) };
            let text = diagnosis.as_ref().map_or_else(|| advice(&error), ToString::to_string);
            (Outcome::Failed(text), diagnosis, None)
        }
    };
    out.push(Capability { product, name, call: format!("GET {template}"), outcome, diagnosis });
    value
}

fn skipped(out: &mut Vec<Capability>, product: &'static str, name: &'static str, template: &str, why: &str) {
    out.push(Capability {
        product,
        name,
        call: format!("GET {template}"),
        outcome: Outcome::Skipped(why.to_owned()),
        diagnosis: None,
    });
}

/// The first item's `field` in a listing answer (`results` for Confluence, `values` for Jira).
fn first_of(listing: Option<&Value>, items: &str, field: &str) -> Option<String> {
    let item = listing?.get(items)?.as_array()?.first()?;
    match item.get(field)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Checks every Confluence capability the crawler uses, in the order a sync uses them. A failed
/// credential check stops there: every other call would fail the same way.
pub async fn check_confluence(client: &Client) -> Vec<Capability> {
    const P: &str = "confluence";
    let mut out = Vec::new();
    let who = "/wiki/rest/api/user/current";
    try_call(client, &mut out, P, "credentials", who, who, true).await;
    if out.iter().any(|c| c.diagnosis.is_some()) {
        return out;
    }
    let spaces =
        try_call(client, &mut out, P, "spaces", "/wiki/api/v2/spaces", "/wiki/api/v2/spaces?limit=1", false)
            .await;
    let template = "/wiki/api/v2/spaces/{id}/permissions";
    match first_of(spaces.as_ref(), "results", "id") {
        Some(id) => {
            let path = format!("/wiki/api/v2/spaces/{id}/permissions?limit=1");
            try_call(client, &mut out, P, "space permissions", template, &path, false).await;
        }
        None => skipped(&mut out, P, "space permissions", template, "no space is visible"),
    }
    let pages =
        try_call(client, &mut out, P, "pages", "/wiki/api/v2/pages", "/wiki/api/v2/pages?limit=1", false)
            .await;
    let template = "/wiki/rest/api/content/{id}/restriction/byOperation/read";
    match first_of(pages.as_ref(), "results", "id") {
        Some(id) => {
            let path = format!("/wiki/rest/api/content/{id}/restriction/byOperation/read?limit=1");
            try_call(client, &mut out, P, "page restrictions", template, &path, false).await;
        }
        None => skipped(&mut out, P, "page restrictions", template, "no page is visible"),
    }
    let groups = try_call(
        client,
        &mut out,
        P,
        "groups",
        "/wiki/rest/api/group",
        "/wiki/rest/api/group?limit=1",
        false,
    )
    .await;
    let template = "/wiki/rest/api/group/{id}/membersByGroupId";
    match first_of(groups.as_ref(), "results", "id") {
        Some(id) => {
            let path = format!("/wiki/rest/api/group/{id}/membersByGroupId?limit=1");
            try_call(client, &mut out, P, "group members", template, &path, false).await;
        }
        None => skipped(&mut out, P, "group members", template, "no group is visible"),
    }
    out
}

/// Checks every Jira capability the crawler uses; as [`check_confluence`].
pub async fn check_jira(client: &Client) -> Vec<Capability> {
    const P: &str = "jira";
    let mut out = Vec::new();
    let who = "/rest/api/3/myself";
    try_call(client, &mut out, P, "credentials", who, who, true).await;
    if out.iter().any(|c| c.diagnosis.is_some()) {
        return out;
    }
    let search = "/rest/api/3/project/search";
    let projects =
        try_call(client, &mut out, P, "projects", search, &format!("{search}?maxResults=1"), false).await;
    let project = first_of(projects.as_ref(), "values", "id");
    let per_project = [
        ("permission schemes", "/rest/api/3/project/{id}/permissionscheme"),
        ("project roles", "/rest/api/3/project/{id}/role"),
    ];
    for (name, template) in per_project {
        match &project {
            Some(id) => {
                let path = template.replace("{id}", id);
                try_call(client, &mut out, P, name, template, &path, false).await;
            }
            None => skipped(&mut out, P, name, template, "no project is visible"),
        }
    }
    let levels = "/rest/api/3/issuesecurityschemes/project";
    try_call(client, &mut out, P, "issue security levels", levels, &format!("{levels}?maxResults=1"), false)
        .await;
    let users = "/rest/api/3/users/search";
    try_call(client, &mut out, P, "user search", users, &format!("{users}?maxResults=1"), false).await;
    let bulk = "/rest/api/3/group/bulk";
    let groups = try_call(client, &mut out, P, "groups", bulk, &format!("{bulk}?maxResults=1"), false).await;
    let template = "/rest/api/3/group/member";
    match first_of(groups.as_ref(), "values", "groupId") {
        Some(id) => {
            let path = format!("{template}?groupId={id}&maxResults=1&includeInactiveUsers=true");
            try_call(client, &mut out, P, "group members", template, &path, false).await;
        }
        None => skipped(&mut out, P, "group members", template, "no group is visible"),
    }
    out
}

/// A space or project the account can see, for `check --list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopeEntry {
    /// `space` or `project`.
    pub kind: &'static str,
    pub key: String,
    pub name: String,
    pub archived: bool,
}

/// Every Confluence space the account can see (archived ones included, marked).
pub async fn list_spaces(client: &Client) -> Result<Vec<ScopeEntry>, Error> {
    let (spaces, _) = CursorPager::<v2::MultiEntityResult<v2::Space>>::new("/wiki/api/v2/spaces?limit=250")
        .collect_all(client)
        .await?;
    Ok(spaces
        .into_iter()
        .map(|s| ScopeEntry {
            kind: "space",
            archived: s.status.eq_ignore_ascii_case("archived"),
            key: s.key,
            name: s.name,
        })
        .collect())
}

/// Every Jira project the account can browse.
pub async fn list_projects(client: &Client) -> Result<Vec<ScopeEntry>, Error> {
    let projects =
        OffsetPager::<jira::PageBean<jira::Project>>::new("/rest/api/3/project/search?orderBy=key", 50)
            .collect_all(client)
            .await?;
    Ok(projects
        .into_iter()
        .map(|p| ScopeEntry {
            kind: "project",
            archived: p.archived == Some(true),
            name: p.name.unwrap_or_default(),
            key: p.key,
        })
        .collect())
}

/// How long a check waits out a site's 429s on one call before it reports the call as failed.
pub const CHECK_THROTTLE_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// A client for checking `source`: its URL, credentials and limits, one retry, and short patience with
/// 429s, so a check answers in seconds.
pub fn check_client(source: &Source) -> Result<Client, Error> {
    Client::new(ClientConfig {
        max_retries: 1,
        max_throttle_wait: CHECK_THROTTLE_WAIT,
        ..ClientConfig::for_source(source)?
    })
}

/// What checking one source found: each capability of its products, and (when they all passed) the
/// include/exclude keys that match nothing on the site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceCheck {
    pub capabilities: Vec<Capability>,
    /// `(space|project, key)`.
    pub unknown_keys: Vec<(&'static str, String)>,
}

impl SourceCheck {
    /// No capability failed and every scope key is on the site.
    pub fn passed(&self) -> bool {
        self.unknown_keys.is_empty()
            && self.capabilities.iter().all(|c| !matches!(c.outcome, Outcome::Failed(_)))
    }
}

/// Checks every capability of `source`'s products; when none failed, lists the spaces and projects the
/// account sees (a few calls more) to find scope keys that match nothing.
pub async fn check_source(client: &Client, source: &Source) -> Result<SourceCheck, Error> {
    let products = source.products();
    let mut capabilities = Vec::new();
    if products.confluence {
        capabilities.extend(check_confluence(client).await);
    }
    if products.jira {
        capabilities.extend(check_jira(client).await);
    }
    let mut unknown_keys = Vec::new();
    if capabilities.iter().all(|c| !matches!(c.outcome, Outcome::Failed(_))) {
        let mut entries = Vec::new();
        if products.confluence {
            entries.extend(list_spaces(client).await?);
        }
        if products.jira {
            entries.extend(list_projects(client).await?);
        }
        unknown_keys = unknown_scope_keys(source, &entries);
    }
    Ok(SourceCheck { capabilities, unknown_keys })
}

/// The include/exclude keys of `source` that none of `entries` has, as `(space|project, key)`.
pub fn unknown_scope_keys(source: &Source, entries: &[ScopeEntry]) -> Vec<(&'static str, String)> {
    let known = |kind: &str| -> BTreeSet<&str> {
        entries.iter().filter(|e| e.kind == kind).map(|e| e.key.as_str()).collect()
    };
    let (spaces, projects) = (known("space"), known("project"));
    let products = source.products();
    let mut unknown = Vec::new();
    if products.confluence {
        // Personal spaces (`~…`) are not all listed to every account; only global keys are checked.
        let keys = source.spaces().unknown_keys(|k| k.starts_with('~') || spaces.contains(k));
        unknown.extend(keys.into_iter().map(|k| ("space", k.to_owned())));
    }
    if products.jira {
        let keys = source.projects().unknown_keys(|k| projects.contains(k));
        unknown.extend(keys.into_iter().map(|k| ("project", k.to_owned())));
    }
    unknown
}
