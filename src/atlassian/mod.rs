//! Everything that knows Atlassian's REST APIs: the wire types (shared with the simulator, which serialises
//! them, while the crawler deserialises them), and, later, the HTTP client and the Confluence and Jira crawlers.
//!
//! Invariant: Atlassian JSON shapes live in `wire/` and nowhere else outside `sim/`.

pub mod wire;
