//! Removing a source while the server runs (admin key only): `DELETE /api/v1/admin/sources/{name}?data=keep`
//! or `?data=delete`. The source leaves the configuration file and the running server together, and from
//! the moment the removal is answered no search or document request returns anything of it.
//!
//! In this order:
//!
//! 1. the configuration file loses the source's table, written atomically, every other line kept
//!    ([`crate::config::edit::remove_source`]); a file that cannot be changed so (it does not parse,
//!    writes `sources` another way, or would keep no source) refuses the removal with nothing changed;
//! 2. the admin API stops listing it and its running sync is cancelled (`Sources::remove`): the run
//!    stops at its next stop point and is recorded as cancelled; nothing starts on it any more;
//! 3. the search index stops serving it
//!    ([`SearchIndex::remove_source`](super::SearchIndex::remove_source)): searches that start now do
//!    not see it;
//! 4. the server waits for every search and document request already running (they may have read the
//!    old set of sources) to be answered, through `AppState::answering`: after this, nothing that
//!    holds the source's documents can still be sent;
//! 5. its schedule stops;
//! 6. once its sync has stopped (a bounded wait; past it the answer says so and the rest goes on in the
//!    background), with `data=delete` its index directory, run records and token file are deleted (a
//!    token file another source reads too is kept); with `data=keep` they stay, and a source of the same
//!    name added again later takes the kept index up.
//!
//! The file comes first because it is the one step that can fail for reasons outside the server (a full
//! disk, a file edited by hand): when it fails nothing else has happened. Steps 2 to 4 cannot fail and run
//! without a pause between them, so the answer always finds the source gone from every search.
//!
//! `data` is required: a bare `DELETE` on a source used to delete its documents only (now
//! `DELETE …/{name}/documents`, `admin.rs`), and a client that still means that gets a 400 saying so
//! instead of losing the source.

use std::path::PathBuf;
use std::time::Duration;

use axum::extract::{Path, RawQuery, State};
use axum::http::Method;
use axum::routing::delete;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Admin;
use super::error::ApiError;
use super::{AppState, Route};
use crate::config::edit::{self, EditError, Removal};
use crate::config::{SourceName, TokenOrigin};

/// How long the answer waits for a cancelled sync to stop before it says the rest happens afterwards.
pub const RUN_STOP_WAIT: Duration = Duration::from_secs(5);

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::DELETE, "/api/v1/admin/sources/{name}", delete(remove_source))]
}

/// What becomes of a removed source's index directory, run records and token file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DataChoice {
    Keep,
    Delete,
}

impl DataChoice {
    fn as_str(self) -> &'static str {
        match self {
            DataChoice::Keep => "kept",
            DataChoice::Delete => "deleted",
        }
    }
}

/// The answer of `DELETE /api/v1/admin/sources/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceRemoved {
    pub name: String,
    pub config_file: PathBuf,
    /// Whether the file still had the source's table (false: it had been taken out by hand already).
    pub removed_from_file: bool,
    /// Whether a sync of the source was running and was cancelled.
    pub sync_cancelled: bool,
    /// `kept` or `deleted`: what was asked for its index directory, run records and token file.
    pub data: String,
    /// What was deleted, by path (empty with `data=keep`, or while the cancelled sync still stops).
    pub deleted: Vec<PathBuf>,
    /// What happened, and what is left to do, in sentences.
    pub detail: String,
}

/// The `data` parameter, the only one.
fn data_choice(raw: Option<&str>, name: &str) -> Result<DataChoice, ApiError> {
    let mut choice = None;
    for (key, value) in url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match (key.as_ref(), value.as_ref()) {
            ("data", "keep") if choice.is_none() => choice = Some(DataChoice::Keep),
            ("data", "delete") if choice.is_none() => choice = Some(DataChoice::Delete),
            ("data", _) => {
                return Err(ApiError::BadRequest("data must be given once, as keep or delete".into()))
            }
            (other, _) => return Err(ApiError::BadRequest(format!("unknown parameter {other}"))),
        }
    }
    choice.ok_or_else(|| {
        ApiError::BadRequest(format!(
            "removing source {name} needs data=keep or data=delete: what becomes of its index, run records \
             and token file; to delete only its documents and keep the source, use DELETE \
             /api/v1/admin/sources/{name}/documents"
        ))
    })
}

/// `DELETE /api/v1/admin/sources/{name}`.
async fn remove_source(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Json<SourceRemoved>, ApiError> {
    SourceName::parse(&name).map_err(|e| ApiError::BadRequest(format!("source name {name:?}: {e}")))?;
    let data = data_choice(raw.as_deref(), &name)?;
    if !state.sources.contains(&name) {
        return Err(ApiError::NotFound(format!("no source named {name:?}")));
    }
    let Some(file) = state.config_file.clone() else {
        return Err(ApiError::Conflict(
            "this server was started without a configuration file to remove the source from".into(),
        ));
    };
    // Adding and removing take turns, so the count below holds until the source is out.
    let _one_at_a_time = state.config_edit.lock().await;
    if state.sources.names().len() == 1 {
        return Err(ApiError::Conflict(format!(
            "{name} is the only source this server has, and a configuration needs one: add another source first"
        )));
    }

    // 1. The file.
    let editing = (file.to_path_buf(), name.clone());
    let removal = tokio::task::spawn_blocking(move || edit::remove_source(&editing.0, &editing.1))
        .await
        .map_err(|e| ApiError::Internal(format!("configuration write task failed: {e}")))?
        .map_err(|e| match e {
            EditError::Unsupported(_) | EditError::Invalid(_) | EditError::Exists(_) => {
                ApiError::Conflict(format!("{e}; nothing was changed"))
            }
            EditError::Io { .. } => ApiError::Internal(e.to_string()),
        })?;

    // 2 to 4: no longer listed, synced or served, and every answer that may have held it made.
    let removed = state.sources.remove(&name)?;
    let sync_cancelled = removed.was_busy();
    state.index.remove_source(&name);
    drop(state.answering.write().await);
    // 5.
    if let Some(schedules) = &state.schedules {
        schedules.stop_source(&name);
    }
    tracing::info!(source = %name, file = %file.display(), data = data.as_str(), "source removed");

    // 6. Its data, once its sync has stopped.
    let source = removed.source();
    let (token_file, token_note) = match source.token_origin() {
        TokenOrigin::File(path) if state.sources.reads_token_file(path) => {
            (None, format!("; its token file {} is kept: another source reads it", path.display()))
        }
        TokenOrigin::File(path) => (Some(path.clone()), ", and its token file".to_owned()),
        TokenOrigin::Env(var) => (
            None,
            format!("; its token came from the environment variable {var}, which permdex does not change"),
        ),
    };
    let sources = state.sources.clone();
    let cleanup = tokio::spawn(async move {
        removed.idle().await;
        if data == DataChoice::Keep {
            return Ok(Vec::new());
        }
        tokio::task::spawn_blocking(move || {
            let mut deleted = sources.forget(&source)?;
            if let Some(path) = token_file {
                match std::fs::remove_file(&path) {
                    Ok(()) => deleted.push(path),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(super::BackendError::Sync(crate::sync::Error::Io { path, source: e }))
                    }
                }
            }
            Ok(deleted)
        })
        .await
        .unwrap_or_else(|e| Err(super::BackendError::NotAdded(format!("the deletion task failed: {e}"))))
    });
    let mut detail = match removal {
        Removal::Removed => format!("{name} is removed from {} and no longer served", file.display()),
        Removal::NotInFile => format!(
            "{name} is no longer served; {} did not name it any more (edited since the server started)",
            file.display()
        ),
    };
    if sync_cancelled {
        detail.push_str("; its running sync was cancelled");
    }
    let deleted = match tokio::time::timeout(RUN_STOP_WAIT, cleanup).await {
        Ok(Ok(Ok(deleted))) => {
            detail.push_str(what_became_of_data(data));
            if data == DataChoice::Delete {
                detail.push_str(&token_note);
            }
            deleted
        }
        Ok(Ok(Err(e))) => {
            tracing::error!(source = %name, error = %e, "data of a removed source not deleted");
            detail.push_str(&format!("; its data could not be deleted ({e}): delete its directory by hand"));
            Vec::new()
        }
        Ok(Err(e)) => return Err(ApiError::Internal(format!("removal task failed: {e}"))),
        Err(_) => {
            detail.push_str(&format!(
                "; its sync is still stopping, and its data is {} once it has stopped",
                data.as_str()
            ));
            Vec::new()
        }
    };
    Ok(Json(SourceRemoved {
        name,
        config_file: file.to_path_buf(),
        removed_from_file: removal == Removal::Removed,
        sync_cancelled,
        data: data.as_str().to_owned(),
        deleted,
        detail,
    }))
}

/// The answer's words about the source's data, once its sync has stopped.
fn what_became_of_data(data: DataChoice) -> &'static str {
    match data {
        DataChoice::Keep => {
            "; its index, run records and token file are kept: a source of the same name added again takes \
             the index up"
        }
        DataChoice::Delete => "; its index and run records are deleted",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_must_be_said_once_and_nothing_else() {
        let cases: [(Option<&str>, Result<DataChoice, &str>); 7] = [
            (Some("data=keep"), Ok(DataChoice::Keep)),
            (Some("data=delete"), Ok(DataChoice::Delete)),
            (None, Err("/api/v1/admin/sources/acme/documents")),
            (Some(""), Err("needs data=keep or data=delete")),
            (Some("data=all"), Err("keep or delete")),
            (Some("data=keep&data=delete"), Err("once")),
            (Some("data=keep&force=1"), Err("unknown parameter force")),
        ];
        for (raw, want) in cases {
            match (data_choice(raw, "acme"), want) {
                (Ok(got), Ok(want)) => assert_eq!(got, want, "{raw:?}"),
                (Err(ApiError::BadRequest(message)), Err(part)) => {
                    assert!(message.contains(part), "{raw:?}: {message}")
                }
                (got, want) => panic!("{raw:?}: {got:?}, wanted {want:?}"),
            }
        }
    }
}
