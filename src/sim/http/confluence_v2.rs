//! Routes of the simulated API: confluence_v2 (being written).

use axum::Router;

use super::SimState;

pub fn routes() -> Router<SimState> {
    Router::new()
}
