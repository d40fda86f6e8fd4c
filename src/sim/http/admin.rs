//! Routes of the simulated API: admin (being written).

use axum::Router;

use super::SimState;

pub fn routes() -> Router<SimState> {
    Router::new()
}
