//! Routes of the simulated API: confluence_v1 (being written).

use axum::Router;

use super::SimState;

pub fn routes() -> Router<SimState> {
    Router::new()
}
