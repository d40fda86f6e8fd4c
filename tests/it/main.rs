//! Integration tests: one binary, one module per area.

mod client;
mod config;
mod index;
mod sim_confluence;
mod sim_jira;
