//! Simulator: oracle (being written).
