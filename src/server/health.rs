//! Liveness and readiness: `GET /healthz` answers as long as the process serves HTTP; `GET /readyz`
//! answers 200 only when every source's index can answer searches (opened, its ACL store, state and
//! segment files trusted).
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
}

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/healthz", get(healthz)), Route::new(Method::GET, "/readyz", get(readyz))]
}

async fn healthz() -> Json<Status> {
    Json(Status { status: "ok".into(), reason: None })
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    match state.index.readiness() {
        Readiness::Ready => (StatusCode::OK, Json(Status { status: "ready".into(), reason: None })),
        Readiness::NotReady(reason) => {
            tracing::warn!(%reason, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(Status { status: "not_ready".into(), reason: Some(reason) }),
            )
        }
    }
}
