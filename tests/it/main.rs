//! Integration tests: one binary, one module per area.

mod config;
mod generate;
mod index;
mod sim_confluence;
mod sim_jira;
