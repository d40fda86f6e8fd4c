//! Integration tests: one binary, one module per area.
mod sim_jira;
