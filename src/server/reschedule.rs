//! Changing a source's sync schedule while the server runs (admin key only):
//! `PATCH /api/v1/admin/sources/{name}` with any of `{"interval", "permissions_interval", "full_interval"}`,
//! each a duration as the configuration file writes it (`"30m"`, `"6h"`, `"7d"`) or `"off"`.
//!
//! The keys are set in the source's table of the configuration file (its comments kept), which is then
//! loaded again by the rules of a restart; only when it loads is it written, atomically
//! ([`crate::config::edit::set_schedule`]), and the schedule it gives is what the server takes: the
//! source's entry and its schedule task, started again on the new intervals (a run going on finishes
//! first; the new clocks continue from the runs on record, as at a restart). A server that runs no
//! schedules keeps the file written and says the new schedule applies when `permdex serve` starts
//! (`restart_required`).
//!
//! Every other key of a source (its URL, credentials, scope, limits) is refused with a 400 that says it
//! takes an edit of the file and a restart: nothing is written then.

use std::collections::BTreeMap;
use std::path::PathBuf;

use axum::extract::{Path, State};
use axum::http::Method;
use axum::routing::patch;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::auth::Admin;
use super::error::ApiError;
use super::live::describe;
use super::{AppState, Route};
use crate::config::edit::{self, EditError, SCHEDULE_KEYS};
use crate::config::{format_duration, Schedule};

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::PATCH, "/api/v1/admin/sources/{name}", patch(change_source))]
}

/// A schedule as the API shows it: each interval as the file writes it, or `off`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScheduleBody {
    pub interval: String,
    pub permissions_interval: String,
    pub full_interval: String,
}

impl From<&Schedule> for ScheduleBody {
    fn from(schedule: &Schedule) -> Self {
        ScheduleBody {
            interval: format_duration(schedule.incremental),
            permissions_interval: format_duration(schedule.permissions),
            full_interval: format_duration(schedule.full),
        }
    }
}

/// The answer of `PATCH /api/v1/admin/sources/{name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceChanged {
    pub name: String,
    pub config_file: PathBuf,
    /// The source's schedule now, as the file gives it.
    pub schedule: ScheduleBody,
    /// Whether the running server does not sync on it (it runs no schedules): `detail` says when it applies.
    pub restart_required: bool,
    pub detail: String,
}

/// The keys asked for, with their texts; a key that is not a schedule key is refused, saying why.
fn schedule_values(
    name: &str,
    body: &BTreeMap<String, serde_json::Value>,
) -> Result<Vec<(&'static str, String)>, ApiError> {
    let mut values = Vec::new();
    for (key, value) in body {
        let Some(known) = SCHEDULE_KEYS.iter().find(|k| **k == key.as_str()) else {
            return Err(ApiError::BadRequest(format!(
                "{key} cannot be changed while the server runs: edit it in the configuration file and restart \
                 permdex; {} can",
                SCHEDULE_KEYS.join(", ")
            )));
        };
        let Some(text) = value.as_str() else {
            return Err(ApiError::BadRequest(format!(
                "{key} must be a duration as text, like \"15m\", \"6h\" or \"7d\", or \"off\""
            )));
        };
        values.push((*known, text.trim().to_owned()));
    }
    if values.is_empty() {
        return Err(ApiError::BadRequest(format!(
            "nothing to change for source {name}: give any of {}",
            SCHEDULE_KEYS.join(", ")
        )));
    }
    Ok(values)
}

/// `PATCH /api/v1/admin/sources/{name}`.
async fn change_source(
    _: Admin,
    State(state): State<AppState>,
    Path(name): Path<String>,
    Json(body): Json<BTreeMap<String, serde_json::Value>>,
) -> Result<Json<SourceChanged>, ApiError> {
    if !state.sources.contains(&name) {
        return Err(ApiError::NotFound(format!("no source named {name:?}")));
    }
    let values = schedule_values(&name, &body)?;
    let Some(file) = state.config_file.clone() else {
        return Err(ApiError::Conflict(
            "this server was started without a configuration file to change the source in".into(),
        ));
    };
    let _one_at_a_time = state.config_edit.lock().await;
    let editing = (file.to_path_buf(), name.clone());
    let schedule = tokio::task::spawn_blocking(move || edit::set_schedule(&editing.0, &editing.1, &values))
        .await
        .map_err(|e| ApiError::Internal(format!("configuration write task failed: {e}")))?
        .map_err(|e| match e {
            EditError::Invalid(_) => ApiError::BadRequest(format!("{e}; nothing was written")),
            EditError::Unsupported(_) | EditError::Exists(_) => {
                ApiError::Conflict(format!("{e}; nothing was written"))
            }
            EditError::Io { .. } => ApiError::Internal(e.to_string()),
        })?;
    // The source may have been removed while the file was written: it has no schedule to take then.
    state.sources.set_schedule(&name, schedule)?;
    tracing::info!(source = %name, schedule = %describe(&schedule), "sync schedule changed");
    let (restart_required, detail) = match &state.schedules {
        Some(schedules) => {
            schedules.start(std::future::ready(()), state.clone(), name.clone(), schedule);
            (false, format!("{name} is synced on its new schedule now ({})", describe(&schedule)))
        }
        None => (
            true,
            format!(
                "the new schedule ({}) is written, but this server syncs only when asked (it runs no \
                 schedules): it applies when permdex serve starts",
                describe(&schedule)
            ),
        ),
    };
    Ok(Json(SourceChanged {
        name,
        config_file: file.to_path_buf(),
        schedule: ScheduleBody::from(&schedule),
        restart_required,
        detail,
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn only_schedule_keys_as_text_and_at_least_one() {
        let body = |value: serde_json::Value| -> BTreeMap<String, serde_json::Value> {
            serde_json::from_value(value).unwrap()
        };
        let ok = schedule_values("a", &body(json!({"interval": " 30m ", "full_interval": "off"}))).unwrap();
        assert_eq!(ok, [("full_interval", "off".to_owned()), ("interval", "30m".to_owned())]);
        for (bad, part) in [
            (json!({"url": "https://x"}), "url cannot be changed while the server runs"),
            (json!({"interval": "1h", "include_spaces": ["A"]}), "include_spaces cannot be changed"),
            (json!({"interval": 60}), "duration as text"),
            (json!({}), "nothing to change"),
        ] {
            match schedule_values("a", &body(bad.clone())) {
                Err(ApiError::BadRequest(message)) => assert!(message.contains(part), "{bad}: {message}"),
                other => panic!("{bad}: {other:?}"),
            }
        }
    }
}
