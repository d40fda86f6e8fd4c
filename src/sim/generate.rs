//! Simulator: generate (being written).
