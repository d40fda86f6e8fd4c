//! Jira Cloud platform v3 wire types (being written).
