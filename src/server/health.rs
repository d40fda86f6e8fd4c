//! Liveness and readiness: `GET /healthz` answers as long as the process serves HTTP; `GET /readyz`
//! answers 200 only when every source's index can answer searches (opened, its ACL store, state and
//! segment files trusted, its permissions not older than `max_permission_age`), and lists each source's
//! last full permission read.
//!
//! Neither needs a credential. A 503 from `/readyz` says why in a `reason` that names a source and a
//! file inside its index (`tantivy/….store fails its checksum`), never a path on the host.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::routing::get;
use axum::Json;
use serde::{Deserialize, Serialize};

use super::search::Readiness;
use super::{AppState, Route};

/// The body of both endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// `ok`, `ready` or `not_ready`.
    pub status: String,
    /// Why not ready.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// `/readyz` only: each source's permission freshness.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<Freshness>,
}

/// How fresh one source's served permissions are, as `/readyz` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Freshness {
    pub name: String,
    /// When the served commit's permissions were last read in full; absent when never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_refreshed: Option<chrono::DateTime<chrono::Utc>>,
    /// Whether the source's documents are withheld now (why goes to the log and the admin API).
    pub withheld: bool,
}

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/healthz", get(healthz)), Route::new(Method::GET, "/readyz", get(readyz))]
}

async fn healthz() -> Json<Status> {
    Json(Status { status: "ok".into(), reason: None, sources: Vec::new() })
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    let sources = state
        .index
        .served()
        .into_iter()
        .map(|s| Freshness {
            name: s.name,
            permissions_refreshed: s.permissions_refreshed,
            withheld: s.withheld.is_some(),
        })
        .collect();
    match state.index.readiness() {
        Readiness::Ready => (StatusCode::OK, Json(Status { status: "ready".into(), reason: None, sources })),
        Readiness::NotReady(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Status { status: "not_ready".into(), reason: Some(reason), sources }),
            )
        }
    }
}
