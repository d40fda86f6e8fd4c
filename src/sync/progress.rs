//! What a sync run tells whoever watches it, and how it is asked to stop: the [`Progress`] trait, the
//! events it receives, [`Silent`], which reports nothing, and [`StderrProgress`], which prints phases and
//! counts for a person at a terminal (`permdex sync`, `permdex demo`).
//!
//! This file does not sync; the server has its own [`Progress`] (a reload after each checkpoint).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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

/// Progress of a sync on stderr: phases as they start, item counts at most once a second. Stops the run
/// (at its next checkpoint) once `stop` is set, e.g. by Ctrl-C.
pub struct StderrProgress {
    source: String,
    stop: Arc<AtomicBool>,
    last_print: Option<Instant>,
}

impl StderrProgress {
    pub fn new(source: &str, stop: Arc<AtomicBool>) -> Self {
        StderrProgress { source: source.to_string(), stop, last_print: None }
    }
}

impl Progress for StderrProgress {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        match event {
            ProgressEvent::Phase { product, phase } => {
                eprintln!("{}: {} {phase}", self.source, product.as_str());
            }
            ProgressEvent::Items { product, kind, done } => {
                if self.last_print.is_none_or(|t| t.elapsed() >= Duration::from_secs(1)) {
                    eprintln!("{}:   {product}:{kind}: {done} on this page", self.source);
                    self.last_print = Some(Instant::now());
                }
            }
            ProgressEvent::Checkpoint { .. } => {}
        }
    }

    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
