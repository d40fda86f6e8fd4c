//! What a sync run tells whoever watches it, and how it is asked to stop: the [`Progress`] trait, the
//! events it receives, [`Estimate`] (done, total, rate and ETA of the kind being read), [`Silent`], which
//! reports nothing, and [`StderrProgress`], which prints phases and counts for a person at a terminal
//! (`permdex sync`, `permdex demo`).
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
    /// How many documents of this kind the run expects to see in all, where the site can say (pages and
    /// blog posts from the access listing, Jira's approximate issue count): an estimate, since the site
    /// may change while the run reads it.
    Total {
        product: Product,
        kind: Kind,
        total: u64,
    },
    Checkpoint {
        generation: u64,
    },
}

/// Done, total, rate and time left of the kind of document a run is reading now, from its
/// [`ProgressEvent`]s: what both the terminal and the server's integrations page show.
#[derive(Debug, Clone)]
pub struct Estimate {
    product: Product,
    kind: Kind,
    done: u64,
    total: Option<u64>,
    /// When the reading of this kind started: the event before its first count.
    since: Instant,
    last_event: Instant,
    /// Expected totals of every kind announced so far in the run.
    totals: Vec<(Product, Kind, u64)>,
}

impl Default for Estimate {
    fn default() -> Self {
        Estimate {
            product: Product::Confluence,
            kind: Kind::Page,
            done: 0,
            total: None,
            since: Instant::now(),
            last_event: Instant::now(),
            totals: Vec::new(),
        }
    }
}

impl Estimate {
    /// Takes an event in; `now` is when it arrived.
    pub fn update(&mut self, event: &ProgressEvent<'_>, now: Instant) {
        match *event {
            ProgressEvent::Total { product, kind, total } => {
                self.totals.retain(|(p, k, _)| (*p, *k) != (product, kind));
                self.totals.push((product, kind, total));
                if (product, kind) == (self.product, self.kind) {
                    self.total = Some(total);
                }
            }
            ProgressEvent::Items { product, kind, done } => {
                if (product, kind) != (self.product, self.kind) {
                    self.product = product;
                    self.kind = kind;
                    // The first count of a kind already includes a chunk: its reading began at the event before.
                    self.since = self.last_event;
                    self.total =
                        self.totals.iter().find(|(p, k, _)| (*p, *k) == (product, kind)).map(|t| t.2);
                }
                self.done = done;
            }
            ProgressEvent::Phase { .. } | ProgressEvent::Checkpoint { .. } => {}
        }
        self.last_event = now;
    }

    /// `product:kind` of the documents being read.
    pub fn label(&self) -> String {
        format!("{}:{}", self.product, self.kind)
    }

    pub fn done(&self) -> u64 {
        self.done
    }

    /// The expected total, never below what was already seen.
    pub fn total(&self) -> Option<u64> {
        self.total.map(|t| t.max(self.done))
    }

    /// Documents per second of this kind, over the time it has been read (its count is the run's, so a
    /// run resumed after a stop counts from where it resumed).
    pub fn rate(&self, now: Instant) -> f64 {
        let secs = now.saturating_duration_since(self.since).as_secs_f64();
        if secs > 0.0 {
            self.done as f64 / secs
        } else {
            0.0
        }
    }

    /// Time left at the current rate, when the total is known and something was read.
    pub fn eta(&self, now: Instant) -> Option<Duration> {
        let left = self.total()?.saturating_sub(self.done);
        let rate = self.rate(now);
        (rate > 0.0).then(|| Duration::from_secs_f64(left as f64 / rate))
    }
}

/// Reports nothing and never stops.
#[derive(Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn report(&mut self, _: &ProgressEvent<'_>) {}
}

/// Progress of a sync on stderr. On a terminal, one live line (indicatif): a bar with done/total, rate
/// and ETA while the total of the kind being read is known, else a spinner with the count, rate and time
/// spent; phases that end are left above it. Not on a terminal (a log, cron), plain lines: each phase as
/// it starts and the count (with total, rate and ETA when known) at most every 5 s. Never colour, so
/// nothing to turn off for `NO_COLOR` or a pipe. Stops the run (at its next checkpoint) once `stop` is set,
/// e.g. by Ctrl-C.
pub struct StderrProgress {
    source: String,
    stop: Arc<AtomicBool>,
    /// The live line, on a terminal only, and whether it shows a bar (a known total) or a spinner.
    bar: Option<indicatif::ProgressBar>,
    bar_has_total: bool,
    /// When the count was last printed as a plain line.
    last_print: Option<Instant>,
    estimate: Estimate,
}

/// How often a plain-line count is printed when stderr is not a terminal.
pub const PLAIN_EVERY: Duration = Duration::from_secs(5);

const SPINNER: &str = "{spinner} {prefix}: {msg} {pos} seen, {per_sec}, {elapsed}";
const BAR: &str = "{spinner} {prefix}: {msg} [{wide_bar}] {pos}/{len}, {per_sec}, ETA {eta}";

impl StderrProgress {
    pub fn new(source: &str, stop: Arc<AtomicBool>) -> Self {
        use std::io::IsTerminal;
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new_spinner();
            bar.set_style(style(SPINNER));
            bar.set_prefix(source.to_owned());
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        StderrProgress {
            source: source.to_string(),
            stop,
            bar,
            bar_has_total: false,
            last_print: None,
            estimate: Estimate::default(),
        }
    }

    /// Shows the estimate on the live line: a bar once the total is known.
    fn draw(&mut self, bar: &indicatif::ProgressBar) {
        let total = self.estimate.total();
        if total.is_some() != self.bar_has_total {
            self.bar_has_total = total.is_some();
            bar.set_style(style(if self.bar_has_total { BAR } else { SPINNER }));
        }
        if let Some(total) = total {
            bar.set_length(total);
        }
        bar.set_message(self.estimate.label());
        bar.set_position(self.estimate.done());
    }
}

fn style(template: &str) -> indicatif::ProgressStyle {
    indicatif::ProgressStyle::with_template(template)
        .map(|s| s.progress_chars("=> "))
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner())
}

/// The plain line for a log: `source:   jira:issue: 1200/4000 (85/s, ETA 33s)`, or `… 1200 seen (85/s)`
/// while the total is unknown.
pub fn plain_line(source: &str, estimate: &Estimate, now: Instant) -> String {
    let rate = estimate.rate(now);
    let label = estimate.label();
    let done = estimate.done();
    match (estimate.total(), estimate.eta(now)) {
        (Some(total), Some(eta)) => {
            format!(
                "{source}:   {label}: {done}/{total} ({rate:.0}/s, ETA {})",
                indicatif::HumanDuration(eta)
            )
        }
        (Some(total), None) => format!("{source}:   {label}: {done}/{total} ({rate:.0}/s)"),
        (None, _) => format!("{source}:   {label}: {done} seen ({rate:.0}/s)"),
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
        let now = Instant::now();
        let kind_before = self.estimate.label();
        self.estimate.update(event, now);
        match event {
            ProgressEvent::Phase { product, phase } => {
                let line = format!("{}: {} {phase}", self.source, product.as_str());
                match &self.bar {
                    Some(bar) => {
                        bar.println(line);
                        bar.set_message(format!("{} {phase}", product.as_str()));
                    }
                    None => eprintln!("{line}"),
                }
            }
            ProgressEvent::Items { .. } | ProgressEvent::Total { .. } => match self.bar.clone() {
                Some(bar) => {
                    if self.estimate.label() != kind_before {
                        bar.reset();
                    }
                    self.draw(&bar);
                }
                None => {
                    let due = self.last_print.is_none_or(|t| now.duration_since(t) >= PLAIN_EVERY);
                    if matches!(event, ProgressEvent::Items { .. }) && due {
                        eprintln!("{}", plain_line(&self.source, &self.estimate, now));
                        self.last_print = Some(now);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn items(kind: Kind, done: u64) -> ProgressEvent<'static> {
        ProgressEvent::Items { product: Product::Jira, kind, done }
    }

    #[test]
    fn the_estimate_follows_the_kind_being_read_with_its_total_rate_and_eta() {
        let t0 = Instant::now();
        let at = |ms: u64| t0 + Duration::from_millis(ms);
        let mut e = Estimate::default();
        e.update(&ProgressEvent::Phase { product: Product::Jira, phase: "issues" }, at(0));
        e.update(&ProgressEvent::Total { product: Product::Jira, kind: Kind::Issue, total: 1000 }, at(0));
        e.update(&items(Kind::Issue, 100), at(1000));
        assert_eq!((e.label().as_str(), e.done(), e.total()), ("jira:issue", 100, Some(1000)));
        e.update(&items(Kind::Issue, 300), at(3000));
        assert!((e.rate(at(3000)) - 100.0).abs() < 1e-9, "{}", e.rate(at(3000)));
        assert_eq!(e.eta(at(3000)), Some(Duration::from_secs(7)));

        // Another kind: no total known, its rate measured from the event before its first count.
        e.update(&items(Kind::Comment, 50), at(4000));
        assert_eq!(
            (e.label().as_str(), e.done(), e.total(), e.eta(at(4000))),
            ("jira:comment", 50, None, None)
        );
        assert!((e.rate(at(4000)) - 50.0).abs() < 1e-9);

        // A total below the count (the site grew while read) never shows less than was seen.
        e.update(&ProgressEvent::Total { product: Product::Jira, kind: Kind::Comment, total: 40 }, at(4000));
        assert_eq!(e.total(), Some(50));
        assert_eq!(e.eta(at(5000)), Some(Duration::ZERO));
    }

    #[test]
    fn plain_lines_show_done_total_rate_and_eta_when_known() {
        let t0 = Instant::now();
        let mut e = Estimate::default();
        e.update(&ProgressEvent::Phase { product: Product::Jira, phase: "issues" }, t0);
        e.update(&items(Kind::Issue, 10), t0);
        e.update(&items(Kind::Issue, 210), t0 + Duration::from_secs(2));
        assert_eq!(
            plain_line("acme", &e, t0 + Duration::from_secs(2)),
            "acme:   jira:issue: 210 seen (105/s)"
        );
        e.update(&ProgressEvent::Total { product: Product::Jira, kind: Kind::Issue, total: 1260 }, t0);
        let line = plain_line("acme", &e, t0 + Duration::from_secs(2));
        assert!(line.starts_with("acme:   jira:issue: 210/1260 (105/s, ETA "), "{line}");
        assert!(line.ends_with("10 seconds)"), "{line}");
    }
}
