//! Simulator: files (being written).
