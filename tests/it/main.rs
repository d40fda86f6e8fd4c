//! Integration tests: one binary, one module per area.

mod acl_api;
mod bench;
mod browser;
mod client;
mod config;
mod confluence_crawl;
mod eval_collection;
mod eval_trec;
mod extract;
mod extract_formats;
mod generate;
mod index;
mod jira_crawl;
mod oracle;
mod pdf_recall;
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
mod tidy;
