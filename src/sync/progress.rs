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
    /// Documents of this kind seen so far in the run.
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

/// Progress of a sync on stderr. On a terminal, one live line (indicatif): the phase, documents seen so
/// far, their rate and the time spent; phases that end are left above it. Not on a terminal (a log, cron),
/// plain lines: each phase as it starts and the count at most every 5 s. Never colour, so
/// nothing to turn off for `NO_COLOR` or a pipe. Stops the run (at its next checkpoint) once `stop` is set,
/// e.g. by Ctrl-C.
pub struct StderrProgress {
    source: String,
    stop: Arc<AtomicBool>,
    /// The live line, on a terminal only.
    bar: Option<indicatif::ProgressBar>,
    /// When the count was last printed as a plain line, and when the phase started.
    last_print: Option<Instant>,
    phase_started: Instant,
}

/// How often a plain-line count is printed when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

impl StderrProgress {
    pub fn new(source: &str, stop: Arc<AtomicBool>) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            let style = indicatif::ProgressStyle::with_template(
                "{spinner} {prefix}: {msg} {pos} seen, {per_sec}, {elapsed}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner());
            bar.set_style(style);
            bar.set_prefix(source.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        StderrProgress {
            source: source.to_string(),
            stop,
            bar,
            last_print: None,
            phase_started: Instant::now(),
        }
    }

    /// Documents per second since the phase started (`done` counts the whole run's documents of a kind).
    fn rate(&self, done: u64) -> f64 {
        let secs = self.phase_started.elapsed().as_secs_f64();
        if secs > 0.0 {
            done as f64 / secs
        } else {
            0.0
        }
    }
}

impl Drop for StderrProgress {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for StderrProgress {
    fn report(&mut self, event: &ProgressEvent<'_>) {
        match event {
            ProgressEvent::Phase { product, phase } => {
                let line = format!("{}: {} {phase}", self.source, product.as_str());
                match &self.bar {
                    Some(bar) => {
                        bar.println(line);
                        bar.set_message(format!("{} {phase}", product.as_str()));
                        bar.set_position(0);
                        bar.reset_eta();
                    }
                    None => eprintln!("{line}"),
                }
                self.phase_started = Instant::now();
            }
            ProgressEvent::Items { product, kind, done } => match &self.bar {
                Some(bar) => {
                    bar.set_message(format!("{product}:{kind}"));
                    bar.set_position(*done);
                }
                None => {
                    if self.last_print.is_none_or(|t| t.elapsed() >= PLAIN_EVERY) {
                        eprintln!(
                            "{}:   {product}:{kind}: {done} seen ({:.0}/s)",
                            self.source,
                            self.rate(*done)
                        );
                        self.last_print = Some(Instant::now());
                    }
                }
            },
            ProgressEvent::Checkpoint { .. } => {}
        }
    }

    fn should_stop(&mut self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}
