//! Routes of the simulated API: jira (being written).

use axum::Router;

use super::SimState;

pub fn routes() -> Router<SimState> {
    Router::new()
}
