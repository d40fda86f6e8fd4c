//! Confluence v1 and v2 wire types (being written).
