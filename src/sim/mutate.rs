//! Simulator: mutate (being written).
