//! Serde types for Atlassian's JSON, in the shapes of the official OpenAPI specs.
//!
//! They serialise exactly as Atlassian does (the simulator builds its responses from them) and deserialise
//! leniently (the crawler must survive `null` where the spec promises a value, and fields it does not know):
//! every field reads through `lenient`, so a surprise in one field costs that field (read as unknown),
//! an odd item in a list costs that item, and neither ever fails a listing.

pub mod confluence;
pub mod jira;
mod lenient;
