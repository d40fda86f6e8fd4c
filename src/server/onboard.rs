//! Adding a source from the integrations page (admin key only): what a token can see on a site, then the
//! source written to the configuration file the server was started with.
//!
//! - `POST /api/v1/admin/discover` with `{url, email, token}`: the spaces and projects the token can see
//!   (archived ones marked), and which products the site has for it: a product whose listing answers 404
//!   is not there. A site that cannot be reached, or refuses the token, answers 200 with `error` saying
//!   why and what to do (the diagnosis a sync would give).
//! - `POST /api/v1/admin/sources` with `{name, url, email, token, confluence, jira, include_spaces,
//!   include_projects, start_sync}`: writes the source to the configuration file, its comments and layout
//!   kept, and its token to a new owner-only file beside it ([`crate::config::edit`]); then the running
//!   server takes it (`live.rs`): listed, followed, synced in full at once (unless `start_sync` is false)
//!   and on its schedule, searched as its first commit lands. 201 with where and what happens now (or, when
//!   the server could not take it, that a restart is needed and why), or 400 with every rule the source
//!   breaks, or 409 when the name is in use.
//!
//! The token travels in the request body, as with "replace token", and is never logged or echoed. The
//! admin cannot name an environment variable or a file for permdex to read instead: permdex would then send
//! whatever secret it holds there (its JWT secret, another site's token) to a URL the request chooses.

use std::path::PathBuf;

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::post;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Admin;
use super::error::ApiError;
use super::live::{self, FirstSync};
use super::{AppState, Route};
use crate::atlassian::diagnosis::{diagnose, Diagnosis};
use crate::atlassian::probe::{self, ScopeEntry};
use crate::atlassian::{Client, ClientConfig};
use crate::config::edit::{self, EditError, NewSource};
use crate::config::{Email, Secret, Url};

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, "/api/v1/admin/discover", post(discover)),
        Route::new(Method::POST, "/api/v1/admin/sources", post(add_source)),
    ]
}

/// A site and the credentials to read it with.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SiteCredentials {
    pub url: String,
    pub email: String,
    pub token: String,
}

/// What a token can see on a site.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Discovered {
    pub confluence: bool,
    pub jira: bool,
    pub spaces: Vec<ScopeItem>,
    pub projects: Vec<ScopeItem>,
    /// What could not be listed, besides a product the site does not have.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// Why nothing could be listed, and what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// A space or project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeItem {
    pub key: String,
    pub name: String,
    pub archived: bool,
}

impl From<ScopeEntry> for ScopeItem {
    fn from(entry: ScopeEntry) -> Self {
        ScopeItem { key: entry.key, name: entry.name, archived: entry.archived }
    }
}

/// The request's site and credentials, checked as far as a request can be without calling the site.
fn client_for(site: &SiteCredentials) -> Result<Client, ApiError> {
    let url = Url::parse(site.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "https" | "http") && u.host_str().is_some())
        .ok_or_else(|| {
            ApiError::BadRequest("url must be the site's address, e.g. https://acme.atlassian.net".into())
        })?;
    let email = Email::parse(site.email.trim()).map_err(|e| ApiError::BadRequest(format!("email: {e}")))?;
    let token = token_of(&site.token)?;
    Client::new(ClientConfig {
        max_retries: 1,
        max_throttle_wait: probe::CHECK_THROTTLE_WAIT,
        ..ClientConfig::new(url, email, token)
    })
    .map_err(|e| ApiError::BadRequest(e.to_string()))
}

fn token_of(text: &str) -> Result<Secret, ApiError> {
    let token = text.trim();
    if token.is_empty() || token.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("token must be non-empty text without control characters".into()));
    }
    Ok(Secret::new(token.to_owned()))
}

/// `POST /api/v1/admin/discover`.
async fn discover(_: Admin, Json(site): Json<SiteCredentials>) -> Result<Json<Discovered>, ApiError> {
    let client = client_for(&site)?;
    let mut found = Discovered::default();
    let listings =
        [(probe::list_spaces(&client).await, "Confluence"), (probe::list_projects(&client).await, "Jira")];
    for (listed, product) in listings {
        let entries = match listed {
            Ok(entries) => entries,
            // The product is not on this site (or not for this account).
            Err(e) if e.status() == Some(404) => continue,
            Err(e) => match diagnose(&e) {
                // A right this account lacks for one product: the other may still be listed.
                Some(d @ Diagnosis::MissingRight { .. }) => {
                    found.problems.push(format!("{product}: {d}"));
                    continue;
                }
                // Refused credentials, a host that cannot be reached: nothing can be listed.
                Some(d) => {
                    return Ok(Json(Discovered { error: Some(d.to_string()), ..Discovered::default() }))
                }
                None => {
                    found.problems.push(format!("{product}: {e}"));
                    continue;
                }
            },
        };
        let items: Vec<ScopeItem> = entries.into_iter().map(ScopeItem::from).collect();
        if product == "Confluence" {
            (found.confluence, found.spaces) = (true, items);
        } else {
            (found.jira, found.projects) = (true, items);
        }
    }
    if !found.confluence && !found.jira && found.problems.is_empty() {
        found.error = Some("this account sees neither Confluence nor Jira on the site".into());
    }
    Ok(Json(found))
}

/// A source to add, as the integrations page sends it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewSourceBody {
    pub name: String,
    #[serde(flatten)]
    pub site: SiteCredentials,
    #[serde(default = "yes")]
    pub confluence: bool,
    #[serde(default = "yes")]
    pub jira: bool,
    #[serde(default)]
    pub include_spaces: Vec<String>,
    #[serde(default)]
    pub include_projects: Vec<String>,
    /// Whether the new source's first (full) sync starts at once.
    #[serde(default = "yes")]
    pub start_sync: bool,
}

fn yes() -> bool {
    true
}

/// The answer of `POST /api/v1/admin/sources`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceAdded {
    pub name: String,
    pub config_file: PathBuf,
    pub token_file: PathBuf,
    /// What the new source's settings warn about.
    pub warnings: Vec<String>,
    /// Whether the running server could not take the source: it is synced and searched after a restart
    /// (`detail` says why).
    pub restart_required: bool,
    /// Whether the source's first full sync is running.
    pub sync_started: bool,
    /// What happens now.
    pub detail: String,
}

/// `POST /api/v1/admin/sources`.
async fn add_source(
    _: Admin,
    State(state): State<AppState>,
    Json(body): Json<NewSourceBody>,
) -> Result<(StatusCode, Json<SourceAdded>), ApiError> {
    let Some(file) = state.config_file.clone() else {
        return Err(ApiError::Conflict(
            "this server was started without a configuration file to add to".into(),
        ));
    };
    let name = body.name.trim().to_owned();
    if state.sources.contains(&name) {
        return Err(ApiError::Conflict(format!("a source named {name} is configured already")));
    }
    let token = token_of(&body.site.token)?;
    let new = NewSource {
        name: name.clone(),
        url: body.site.url.trim().to_owned(),
        email: body.site.email.trim().to_owned(),
        confluence: body.confluence,
        jira: body.jira,
        include_spaces: body.include_spaces,
        include_projects: body.include_projects,
    };
    let first = if body.start_sync { FirstSync::Now } else { FirstSync::Later };
    let _one_at_a_time = state.config_edit.lock().await;
    let written = file.clone();
    let added = tokio::task::spawn_blocking(move || edit::add_source(&written, &new, &token))
        .await
        .map_err(|e| ApiError::Internal(format!("configuration write task failed: {e}")))?
        .map_err(|e| match e {
            EditError::Invalid(_) | EditError::Unsupported(_) => ApiError::BadRequest(e.to_string()),
            EditError::Exists(_) => ApiError::Conflict(e.to_string()),
            EditError::Io { .. } => ApiError::Internal(e.to_string()),
        })?;
    tracing::info!(source = %name, file = %added.config_file.display(), "source added to the configuration");
    let written = added.config_file.display();
    let (restart_required, sync_started, detail) = match live::register(&state, &file, &name, first).await {
        Ok(registered) => (
            false,
            registered.sync_started,
            format!("{name} is written to {written} and served now: {}", registered.what_now),
        ),
        Err(why) => {
            tracing::warn!(source = %name, reason = %why, "source added to the configuration; served after a restart");
            let detail = format!(
                "{name} is written to {written}, but the running server could not take it: {why}; restart \
                 permdex to sync and search {name}"
            );
            (true, false, detail)
        }
    };
    let answer = SourceAdded {
        name,
        config_file: added.config_file,
        token_file: added.token_file,
        warnings: added.warnings,
        restart_required,
        sync_started,
        detail,
    };
    Ok((StatusCode::CREATED, Json(answer)))
}
