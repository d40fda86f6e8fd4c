//! Liveness and readiness: `GET /healthz` answers as long as the process serves HTTP; `GET /readyz`
//! answers 200 only when the index can answer searches (opened, and its ACL store trusted).
//!
//! Neither needs a credential, and neither says more than ready or not: why an index is not ready (a path,
//! a checksum) goes to the log.

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
}

pub(super) fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/healthz", get(healthz)), Route::new(Method::GET, "/readyz", get(readyz))]
}

async fn healthz() -> Json<Status> {
    Json(Status { status: "ok".into() })
}

async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Status>) {
    match state.index.readiness() {
        Readiness::Ready => (StatusCode::OK, Json(Status { status: "ready".into() })),
        Readiness::NotReady(reason) => {
            tracing::warn!(%reason, "not ready");
            (StatusCode::SERVICE_UNAVAILABLE, Json(Status { status: "not_ready".into() }))
        }
    }
}
