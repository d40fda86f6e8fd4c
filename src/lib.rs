//! permdex: a self-hosted, permission-aware search engine for Confluence and Jira.
//!
//! The library holds every part; the binary (`src/main.rs` and `src/cli/`) only parses arguments, calls in
//! here, prints, and maps errors to exit statuses. Each module has its own error enum; nothing here knows
//! clap or the exit statuses.
//! Modules, in the direction data flows:
//!
//! - [`config`]: `permdex.toml` → a validated [`config::Config`] (sources, scope, limits, server, secrets).
//! - [`sim`]: a deterministic Atlassian Cloud simulator (organisation model, REST API, faults, visibility oracle).
//! - [`extract`]: text out of Confluence storage XHTML, Jira ADF and attachments, in an isolated worker.
//! - [`index`]: the tantivy index and its schema as data, committed together with the ACL store.
//! - [`server`]: the query server: authentication, search and admin API, health, metrics, OpenAPI.
//! - [`sync`]: crawled items → index documents, Atlassian permission rules → ACL clauses.
//! - [`search`]: permission-filtered search: query language, ACL filter, ranking, facets, snippets, cursors.
//! - [`demo`]: `permdex demo`, the simulator, a sync and the server in demo mode in one process.
//! - [`bench`](mod@bench): `permdex bench`: ACL-filter strategies against unfiltered search on generated
//!   corpora, checked against brute force; the real pipeline under HTTP load.
//!
//! See ARCHITECTURE.md for the map and the invariants.

pub mod acl;
pub mod atlassian;
pub mod bench;
pub mod config;
pub mod demo;
pub mod eval;
pub mod extract;
pub mod index;
pub mod search;
pub mod server;
pub mod sim;
pub mod sync;
