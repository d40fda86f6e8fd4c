//! What a sync run tells whoever watches it, and how it is asked to stop: the [`Progress`] trait, the
//! events it receives, and [`Silent`], which reports nothing.
//!
//! This file neither syncs nor prints; the command line and the server implement [`Progress`].

use crate::index::{Kind, Product};

/// What a run tells whoever watches it, and how it is asked to stop.
pub trait Progress: Send {
    /// A phase started or a batch of items was processed.
    fn report(&mut self, event: &ProgressEvent<'_>);
    /// Polled between items; `true` makes the run checkpoint and return
    /// [`RunOutcome::Cancelled`](super::RunOutcome::Cancelled).
    fn should_stop(&mut self) -> bool {
        false
    }
}

/// What [`Progress::report`] is told.
#[derive(Debug, Clone, PartialEq)]
pub enum ProgressEvent<'a> {
    Phase {
        product: Product,
        phase: &'a str,
    },
    /// Documents processed so far in the current phase.
    Items {
        product: Product,
        kind: Kind,
        done: u64,
    },
    Checkpoint {
        generation: u64,
    },
}

/// Reports nothing and never stops.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn report(&mut self, _: &ProgressEvent<'_>) {}
}
