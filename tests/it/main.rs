//! Integration tests: one binary, one module per area.

mod sim_guard;
mod support;
