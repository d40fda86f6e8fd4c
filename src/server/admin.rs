//! The admin API (admin key only): sources and their last runs, starting a sync, purging a source's
//! documents, replacing a source's API token without a restart.
//!
//! - `GET /api/v1/admin/sources`: each configured source with its URL, products, whether a sync is
//!   running, and its last runs (counts and failures). Never a token, in any form.
//! - `POST /api/v1/admin/sources/{name}/sync`: starts an incremental sync in the background; 202, or 409
//!   when a sync or purge of that source is already running.
//! - `DELETE /api/v1/admin/sources/{name}/documents`: deletes every document of the source from its index,
//!   for good (the source stays configured; the next sync starts from nothing); 204, or 409 while a sync
//!   runs. (`DELETE /api/v1/admin/sources/{name}` removes the source itself: `remove.rs`.)
//! - `POST /api/v1/admin/sources/{name}/check`: "Test connection": the checks of `permdex check` with the
//!   source's current token (about a dozen calls), one line per capability with what to do on failure,
//!   and the include/exclude keys the site does not have. 200 whatever the checks found: `passed` says,
//!   and `error` when the check itself could not run.
//! - `PUT /api/v1/admin/sources/{name}/token` with `{"token": "…"}`: the next sync of the source uses
//!   this token; 200 with `{"persisted", "detail"}`. It is written to the source's token file (0600) so
//!   it survives a restart; a token read from an environment variable cannot be, and `detail` says so.
//!   Never echoed, never logged.
//!
//! After a sync or purge the source's index is reloaded, so searches see the new commit; searches in
//! flight finish on the one they started with; after a sync, malloc's free pages go back to the system
//! (`trim.rs`). The work itself (crawling, deleting, reading run records)
//! is behind [`SyncRunner`]; this file only decides when it may start and who may ask.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::routing::{delete, get, post, put};
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use super::auth::Admin;
use super::error::{ApiError, BackendError};
use super::{AppState, Route};
use crate::config::{Secret, Source};
use crate::sync::Mode;

/// How many past runs `GET /api/v1/admin/sources` shows per source.
pub const RUNS_SHOWN: usize = 5;
/// How many failures of one run it shows (the count is always complete).
pub const FAILURES_SHOWN: usize = 20;

/// A future a [`SyncRunner`] returns.
pub type RunFuture = Pin<Box<dyn Future<Output = Result<RunSummary, BackendError>> + Send>>;

/// The work behind the admin API. `backend.rs` implements it over the sync engine; tests use fakes.
pub trait SyncRunner: Send + Sync {
    /// One sync of `source` in `mode`, with the token it carries, to the end, or until `stop` is cancelled:
    /// the run then stops at its next stop point and is recorded as cancelled.
    fn sync(&self, source: Source, mode: Mode, stop: CancellationToken) -> RunFuture;
    /// Deletes every document of `source` from its index and commits (blocking).
    fn purge(&self, source: &Source) -> Result<(), BackendError>;
    /// Deletes what the server keeps of `source`, removed from the configuration: its index directory
    /// and its run records (blocking; no run of it may be going on). Answers what it deleted.
    fn forget(&self, source: &Source) -> Result<Vec<std::path::PathBuf>, BackendError>;
    /// The last `limit` runs of `source`, oldest first (blocking: reads a file).
    fn last_runs(&self, source: &str, limit: usize) -> Result<Vec<RunSummary>, BackendError>;
    /// How the run of `source` going on now is doing; `None` when none is (or the runner cannot say).
    fn progress(&self, _source: &str) -> Option<LiveProgress> {
        None
    }
}

/// A run going on now, as the integrations page shows it: the whole run (documents seen, rate, time
/// spent) and the kind being read now, with its expected total and time left where the site can say
/// (pages and blog posts from the access listing, Jira's approximate issue count).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LiveProgress {
    /// The phase, e.g. `confluence content`.
    pub phase: String,
    /// Documents seen so far in the run.
    pub done: u64,
    /// Documents per second since the run started.
    pub per_second: f64,
    /// The kind being read now (`jira:issue`), how many of it were seen, and how many are expected.
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub kind_done: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind_total: Option<u64>,
    /// Seconds left for this kind at its current rate, when its total is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eta_seconds: Option<u64>,
    /// Seconds since the run started.
    pub seconds: u64,
}

/// One run as the admin API shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunSummary {
    pub run_id: String,
    pub mode: String,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    /// `completed`, `cancelled` or `aborted`.
    pub outcome: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome_reason: Option<String>,
    /// Counts per document kind.
    pub counts: BTreeMap<String, RunCounts>,
    pub api_calls: u64,
    pub throttled: u64,
    /// All failures of the run (see `failures` for the first few).
    pub failure_count: u64,
    pub failures: Vec<RunFailure>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunCounts {
    pub seen: u64,
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub failed: u64,
    pub skipped: u64,
    pub acl_unknown: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunFailure {
    pub item: String,
    pub reason: String,
}

/// One source as `GET /api/v1/admin/sources` shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceStatus {
    pub name: String,
    pub url: String,
    pub products: Products,
    pub sync_running: bool,
    /// When `permdex serve` syncs it (`PATCH /api/v1/admin/sources/{name}` changes it).
    pub schedule: super::reschedule::ScheduleBody,
    /// Why the source's index cannot be trusted (it serves nothing until a sync rebuilds it), if it cannot.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub integrity_problem: Option<String>,
    /// The run going on now, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress: Option<LiveProgress>,
    /// What the index holds now and how fresh its permissions are, apart from the last runs; absent when
    /// the server serves no index for the source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub served: Option<super::search::ServedSource>,
    pub last_runs: Vec<RunSummary>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Products {
    pub confluence: bool,
    pub jira: bool,
}

/// The configured sources, each with its current credentials and whether work on it is running. A
/// source added while the server runs joins them ([`Sources::add`]); a removed one leaves them
/// (`Sources::remove`), its running sync cancelled.
pub struct Sources {
    entries: RwLock<BTreeMap<String, Arc<Entry>>>,
    runner: Arc<dyn SyncRunner>,
    running: Arc<AtomicU64>,
}

struct Entry {
    /// The source as configured, with the token last set through the API.
    source: Mutex<Source>,
    /// A sync or purge of this source is running (watched, so that a removal can wait for its end).
    busy: tokio::sync::watch::Sender<bool>,
    /// Cancelled when the source is removed: its run stops, and no work on it starts any more.
    removed: CancellationToken,
}

impl Entry {
    fn new(source: Source) -> Entry {
        Entry {
            source: Mutex::new(source),
            busy: tokio::sync::watch::Sender::new(false),
            removed: CancellationToken::new(),
        }
    }

    fn is_busy(&self) -> bool {
        *self.busy.borrow()
    }
}

/// Clears a source's busy flag when the work ends, however it ends (a panic included).
struct BusyGuard {
    entry: Arc<Entry>,
    running: Arc<AtomicU64>,
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.entry.busy.send_replace(false);
        self.running.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A source taken out of [`Sources`]: its run, if one was going on, is cancelled.
pub(super) struct RemovedSource {
    entry: Arc<Entry>,
}

impl RemovedSource {
    /// The source as it was configured, with its last token.
    pub fn source(&self) -> Source {
        self.entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Whether a sync or purge of it was still running when asked.
    pub fn was_busy(&self) -> bool {
        self.entry.is_busy()
    }

    /// Resolves once no sync or purge of the source runs any more (the cancelled run recorded).
    pub async fn idle(&self) {
        let mut busy = self.entry.busy.subscribe();
        // The sender lives in the entry this holds: the wait ends only when the flag is down.
        let _ = busy.wait_for(|busy| !*busy).await;
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources").field("names", &self.names()).finish()
    }
}

impl Sources {
    pub fn new(sources: &[Source], runner: Arc<dyn SyncRunner>) -> Sources {
        let entries =
            sources.iter().map(|s| (s.name().as_str().to_owned(), Arc::new(Entry::new(s.clone())))).collect();
        Sources { entries: RwLock::new(entries), runner, running: Arc::new(AtomicU64::new(0)) }
    }

    /// Adds `source`, written to the configuration file while the server runs; 409 when a source of its
    /// name is there already.
    pub fn add(&self, source: Source) -> Result<(), ApiError> {
        let name = source.name().as_str().to_owned();
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.contains_key(&name) {
            return Err(ApiError::Conflict(format!("a source named {name} is configured already")));
        }
        entries.insert(name, Arc::new(Entry::new(source)));
        Ok(())
    }

    /// Takes `name` out (listed no more, never synced or purged again) and cancels its running sync; 404
    /// for an unknown name, 409 for the only source (a configuration needs one).
    pub(super) fn remove(&self, name: &str) -> Result<RemovedSource, ApiError> {
        let mut entries = self.entries.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if !entries.contains_key(name) {
            return Err(ApiError::NotFound(format!("no source named {name:?}")));
        }
        if entries.len() == 1 {
            return Err(ApiError::Conflict(format!(
                "{name} is the only source this server has, and a configuration needs one: add another \
                 source first"
            )));
        }
        let entry =
            entries.remove(name).ok_or_else(|| ApiError::NotFound(format!("no source named {name:?}")))?;
        entry.removed.cancel();
        Ok(RemovedSource { entry })
    }

    /// The sources' names, in order.
    pub fn names(&self) -> Vec<String> {
        self.listed().into_iter().map(|(name, _)| name).collect()
    }

    fn listed(&self) -> Vec<(String, Arc<Entry>)> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.iter().map(|(name, entry)| (name.clone(), entry.clone())).collect()
    }

    /// Syncs and purges running now.
    pub fn running(&self) -> u64 {
        self.running.load(Ordering::Acquire)
    }

    fn entry(&self, name: &str) -> Result<Arc<Entry>, ApiError> {
        let entries = self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner);
        entries.get(name).cloned().ok_or_else(|| ApiError::NotFound(format!("no source named {name:?}")))
    }

    /// Marks `name` busy, or says it already is (or was removed meanwhile).
    fn claim(&self, name: &str) -> Result<BusyGuard, ApiError> {
        let entry = self.entry(name)?;
        let claimed = entry.busy.send_if_modified(|busy| !std::mem::replace(busy, true));
        if !claimed {
            return Err(ApiError::Conflict(format!("a sync or purge of source {name} is already running")));
        }
        self.running.fetch_add(1, Ordering::AcqRel);
        let guard = BusyGuard { entry: entry.clone(), running: self.running.clone() };
        // Busy first, then this check: a removal cancels first, then waits for the flag to drop, so
        // either it waits for this work or this work sees it and does not start.
        if entry.removed.is_cancelled() {
            return Err(ApiError::NotFound(format!("no source named {name:?}: it was removed")));
        }
        Ok(guard)
    }

    /// Claims `name` and creates its run in `mode` (the busy flag is cleared when the returned future
    /// ends or is dropped); 409 when work on the source is already running.
    fn start(&self, name: &str, mode: Mode) -> Result<RunFuture, ApiError> {
        let source = self.source(name)?;
        let busy = self.claim(name)?;
        let run = self.runner.sync(source, mode, busy.entry.removed.clone());
        Ok(Box::pin(async move {
            let _busy = busy;
            run.await
        }))
    }

    /// Whether a source of this name is configured.
    pub fn contains(&self, name: &str) -> bool {
        self.entries.read().unwrap_or_else(std::sync::PoisonError::into_inner).contains_key(name)
    }

    /// Puts `name` on `schedule` (changed in the configuration file); 404 when it was removed meanwhile.
    pub(super) fn set_schedule(&self, name: &str, schedule: crate::config::Schedule) -> Result<(), ApiError> {
        let entry = self.entry(name)?;
        let mut source = entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *source = source.clone().with_schedule(schedule);
        Ok(())
    }

    /// Whether a source here reads its token from `path`.
    pub(super) fn reads_token_file(&self, path: &std::path::Path) -> bool {
        self.listed().iter().any(|(_, entry)| {
            let source = entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            matches!(source.token_origin(), crate::config::TokenOrigin::File(p) if p == path)
        })
    }

    /// Deletes what the server keeps of `source`, removed ([`SyncRunner::forget`]; blocking).
    pub(super) fn forget(&self, source: &Source) -> Result<Vec<std::path::PathBuf>, BackendError> {
        self.runner.forget(source)
    }

    /// The last `limit` runs of `name`, oldest first (blocking: reads a file).
    pub fn last_runs(&self, name: &str, limit: usize) -> Result<Vec<RunSummary>, BackendError> {
        self.runner.last_runs(name, limit)
    }

    fn source(&self, name: &str) -> Result<Source, ApiError> {
        let entry = self.entry(name)?;
        let source = entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        Ok(source)
    }
}

pub(super) fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/admin/sources", get(list_sources)),
        Route::new(Method::POST, "/api/v1/admin/sources/{name}/sync", post(start_sync)),
        Route::new(Method::DELETE, "/api/v1/admin/sources/{name}/documents", delete(purge_source)),
        Route::new(Method::POST, "/api/v1/admin/sources/{name}/check", post(check_source)),
        Route::new(Method::PUT, "/api/v1/admin/sources/{name}/token", put(replace_token)),
    ]
}

/// `GET /api/v1/admin/sources`.
async fn list_sources(_: Admin, State(state): State<AppState>) -> Result<Json<Vec<SourceStatus>>, ApiError> {
    let sources = state.sources.clone();
    let mut problems = state.index.source_problems();
    let served = state.index.served();
    let statuses = tokio::task::spawn_blocking(move || {
        let listed = sources.listed();
        let mut statuses = Vec::with_capacity(listed.len());
        for (name, entry) in &listed {
            let source = entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
            let mut last_runs = sources
                .runner
                .last_runs(name, RUNS_SHOWN)
                .map_err(|e| e.into_api(&format!("run records of source {name}")))?;
            for run in &mut last_runs {
                run.failures.truncate(FAILURES_SHOWN);
            }
            let products = source.products();
            statuses.push(SourceStatus {
                name: name.clone(),
                url: source.url().to_string(),
                products: Products { confluence: products.confluence, jira: products.jira },
                sync_running: entry.is_busy(),
                schedule: super::reschedule::ScheduleBody::from(source.schedule()),
                integrity_problem: problems.remove(name),
                served: served.iter().find(|s| &s.name == name).cloned(),
                progress: sources.runner.progress(name),
                last_runs,
            });
        }
        Ok::<_, ApiError>(statuses)
    })
    .await
    .map_err(|e| ApiError::Internal(format!("source listing task failed: {e}")))??;
    Ok(Json(statuses))
}

/// The answer of `POST /api/v1/admin/sources/{name}/check`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectionCheck {
    pub source: String,
    /// No capability failed and every scope key is on the site.
    pub passed: bool,
    pub capabilities: Vec<CapabilityCheck>,
    /// Include/exclude keys that match nothing on the site, e.g. `project "OPS"`.
    pub unknown_keys: Vec<String>,
    /// Why the check itself could not run or finish (no token, the scope listing failed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One capability the crawler depends on, and how its check went.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapabilityCheck {
    pub product: String,
    pub name: String,
    /// The call tried, e.g. `GET /wiki/api/v2/spaces/{id}/permissions`.
    pub call: String,
    /// `ok`, `skipped` or `failed`.
    pub outcome: String,
    /// Why it was skipped, or what to do about a failure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// `POST /api/v1/admin/sources/{name}/check`.
async fn check_source(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<Json<ConnectionCheck>, ApiError> {
    use crate::atlassian::probe::{self, Outcome};
    let source = state.sources.source(&name)?;
    let failed = |error: String| ConnectionCheck {
        source: name.clone(),
        passed: false,
        capabilities: Vec::new(),
        unknown_keys: Vec::new(),
        error: Some(error),
    };
    let client = match probe::check_client(&source) {
        Ok(client) => client,
        Err(e) => return Ok(Json(failed(format!("the source cannot be checked: {e}")))),
    };
    let checked = match probe::check_source(&client, &source).await {
        Ok(checked) => checked,
        Err(e) => return Ok(Json(failed(format!("listing the spaces and projects failed: {e}")))),
    };
    let capabilities = checked
        .capabilities
        .iter()
        .map(|c| {
            let (outcome, detail) = match &c.outcome {
                Outcome::Ok => ("ok", None),
                Outcome::Skipped(why) => ("skipped", Some(why.clone())),
                Outcome::Failed(what_to_do) => ("failed", Some(what_to_do.clone())),
            };
            CapabilityCheck {
                product: c.product.to_owned(),
                name: c.name.to_owned(),
                call: c.call.clone(),
                outcome: outcome.to_owned(),
                detail,
            }
        })
        .collect();
    let unknown_keys = checked.unknown_keys.iter().map(|(kind, key)| format!("{kind} {key:?}")).collect();
    Ok(Json(ConnectionCheck {
        source: name,
        passed: checked.passed(),
        capabilities,
        unknown_keys,
        error: None,
    }))
}

/// The answer of `POST /api/v1/admin/sources/{name}/sync`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStarted {
    pub source: String,
    pub status: String,
}

/// `POST /api/v1/admin/sources/{name}/sync`.
async fn start_sync(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<(StatusCode, Json<SyncStarted>), ApiError> {
    spawn_run(&state, &name, Mode::Incremental)?;
    Ok((StatusCode::ACCEPTED, Json(SyncStarted { source: name, status: "started".into() })))
}

/// Starts a sync of `name` in `mode` in the background; the task ends when the run has ended and the
/// source's index is reloaded. 409 when work on the source is already running.
pub(super) fn spawn_run(
    state: &AppState,
    name: &str,
    mode: Mode,
) -> Result<tokio::task::JoinHandle<()>, ApiError> {
    // Claimed and created here, not in the task, so that a second request answers 409 at once and the
    // run has its credentials before the caller hears it started.
    let run = state.sources.start(name, mode)?;
    let task_state = state.clone();
    let task_name = name.to_owned();
    Ok(tokio::spawn(async move {
        let result = run.await;
        if let Ok(run) = &result {
            tracing::info!(source = %task_name, run = %run.run_id, outcome = %run.outcome, failures = run.failure_count, "sync ended");
        }
        finished(&task_state, &task_name, &result).await;
    }))
}

/// After a run ended, however: its outcome counted in the metrics and the source's index reloaded.
async fn finished(state: &AppState, name: &str, result: &Result<RunSummary, BackendError>) {
    let outcome = match result {
        Ok(run) if run.outcome == "completed" && run.failure_count > 0 => {
            "completed_with_failures".to_owned()
        }
        Ok(run) => run.outcome.clone(),
        Err(e) => {
            tracing::error!(source = %name, error = %e, "sync failed");
            "error".to_owned()
        }
    };
    state.metrics.record_sync(name, &outcome);
    reload(state, name).await;
    // What the run freed (its index writer above all, and the searchers the reload let go) goes back to
    // the system: otherwise malloc keeps it, and a server that syncs all day keeps growing.
    let _ = tokio::task::spawn_blocking(super::trim::release_freed_memory).await;
}

/// Runs a sync of `name` in `mode` to the end, as the schedule does: 409 (conflict) when a run of the
/// source is already going in this process; the run's lock refuses one going in another process.
pub(super) async fn run_now(state: &AppState, name: &str, mode: Mode) -> Result<RunSummary, ApiError> {
    let run = state.sources.start(name, mode)?;
    let result = run.await;
    finished(state, name, &result).await;
    result.map_err(|e| e.into_api(&format!("sync of source {name}")))
}

/// `DELETE /api/v1/admin/sources/{name}/documents`.
async fn purge_source(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let source = state.sources.source(&name)?;
    let sources = state.sources.clone();
    let purged = tokio::task::spawn_blocking(move || {
        let _busy = sources.claim(source.name().as_str())?;
        sources.runner.purge(&source).map_err(|e| e.into_api(&format!("purge of source {}", source.name())))
    })
    .await
    .map_err(|e| ApiError::Internal(format!("purge task failed: {e}")))?;
    purged?;
    tracing::info!(source = %name, "source purged");
    reload(&state, &name).await;
    Ok(StatusCode::NO_CONTENT)
}

/// The body of `PUT /api/v1/admin/sources/{name}/token`. Deliberately not `Debug`.
#[derive(Deserialize)]
struct TokenBody {
    token: String,
}

/// `PUT /api/v1/admin/sources/{name}/token`.
async fn replace_token(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<TokenBody>,
) -> Result<Json<TokenReplaced>, ApiError> {
    let entry = state.sources.entry(&name)?;
    let token = body.token.trim();
    if token.is_empty() || token.chars().any(char::is_control) {
        return Err(ApiError::BadRequest("token must be non-empty text without control characters".into()));
    }
    let token = Secret::new(token.to_owned());
    let current = entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let persisting = current.clone();
    let kept = {
        let token = token.clone();
        tokio::task::spawn_blocking(move || persisting.persist_token(&token))
            .await
            .map_err(|e| ApiError::Internal(format!("token write task failed: {e}")))?
    };
    *entry.source.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = current.with_token(token);
    let answer = match kept {
        Ok(path) => {
            tracing::info!(source = %name, file = %path.display(), "api token replaced and written to the token file");
            TokenReplaced { persisted: true, detail: format!("written to the token file {}", path.display()) }
        }
        Err(why) => {
            tracing::warn!(source = %name, reason = %why, "api token replaced in memory only");
            TokenReplaced { persisted: false, detail: why }
        }
    };
    Ok(Json(answer))
}

/// The answer of `PUT /api/v1/admin/sources/{name}/token`: whether the new token survives a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenReplaced {
    /// Written where the token is read from at start (the token file).
    pub persisted: bool,
    /// Where it was written, or why it could not be and what to do.
    pub detail: String,
}

/// Reloads `source`'s index after a commit; a failure is logged and searches go on with the old one. A
/// source removed meanwhile has nothing to reload.
async fn reload(state: &AppState, source: &str) {
    if !state.sources.contains(source) {
        return;
    }
    let index = state.index.clone();
    let name = source.to_owned();
    match tokio::task::spawn_blocking(move || index.reload(&name)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(source, error = %e, "index reload failed"),
        Err(e) => tracing::error!(source, error = %e, "index reload task failed"),
    }
}
