//! Integration tests: one binary, one module per area.

mod acl_api;
mod browser;
mod client;
mod config;
mod confluence_crawl;
mod extract;
mod features;
mod generate;
mod index;
mod jira_crawl;
mod oracle;
mod path_encoding;
mod resolve;
mod search;
mod search_cli;
mod server;
mod sim_confluence;
mod sim_determinism;
mod sim_guard;
mod sim_jira;
mod support;
mod sync;
