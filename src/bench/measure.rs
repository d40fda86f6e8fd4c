//! Timing: every strategy answering every (caller, query), on one thread in interleaved rounds and on
//! several threads at once, each answer checked against its expected one after its time is taken.
//!
//! One-thread cells interleave strategies: for each caller and shape, each round runs every strategy over
//! the shape's queries in turn, so a burst of other work on the machine lands on all strategies alike. The
//! first pass over everything ([`Runner::check_all`]) is untimed: it proves every strategy right before a
//! single time counts, and it warms caches and the page cache. Throughput runs hand the (caller, query)
//! pairs of one strategy and caller to `threads` threads and count searches over the wall time.
//!
//! This file decides nothing about how strategies work; it calls them.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use super::clock::Clock;
use super::oracle::{check, Expected};
use super::queries::{BenchQuery, Shape};
use super::report::{Cell, Failure, Summary};
use super::strategy::{BenchCaller, Strategy, StrategyName};
use super::{Error, Progress};

/// The expected answers: per caller and query, and per query for the unfiltered baseline.
pub struct Expectations {
    pub by_caller: Vec<Vec<Expected>>,
    pub unfiltered: Vec<Expected>,
}

impl Expectations {
    fn get(&self, strategy: StrategyName, caller: usize, query: usize) -> &Expected {
        match strategy {
            StrategyName::Unfiltered => &self.unfiltered[query],
            _ => &self.by_caller[caller][query],
        }
    }
}

/// Everything a measurement needs.
pub struct Runner<'a> {
    pub strategies: &'a [Box<dyn Strategy>],
    pub callers: &'a [BenchCaller],
    /// Each caller's share of the corpus, for the cells.
    pub shares: &'a [f64],
    pub queries: &'a [BenchQuery],
    pub expected: &'a Expectations,
    pub k: usize,
    /// What one-thread latencies are timed in (throughput runs always count wall time).
    pub clock: Clock,
    checked: AtomicU64,
    failures: Mutex<Vec<Failure>>,
}

impl<'a> Runner<'a> {
    pub fn new(
        strategies: &'a [Box<dyn Strategy>],
        callers: &'a [BenchCaller],
        shares: &'a [f64],
        queries: &'a [BenchQuery],
        expected: &'a Expectations,
        k: usize,
        clock: Clock,
    ) -> Runner<'a> {
        Runner {
            strategies,
            callers,
            shares,
            queries,
            expected,
            k,
            clock,
            checked: AtomicU64::new(0),
            failures: Mutex::new(Vec::new()),
        }
    }

    pub fn checked(&self) -> u64 {
        self.checked.load(Ordering::Relaxed)
    }

    pub fn failures(&self) -> Vec<Failure> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Runs one search and checks its answer; returns the microseconds it took by `clock`.
    fn search(
        &self,
        strategy: &dyn Strategy,
        caller: usize,
        query: usize,
        clock: Clock,
    ) -> Result<f64, Error> {
        let q = &self.queries[query];
        let started = clock.start();
        let answer = strategy.search(&self.callers[caller], q, self.k)?;
        let micros = started.micros();
        let name = strategy.name();
        let expected = self.expected.get(name, caller, query);
        self.checked.fetch_add(1, Ordering::Relaxed);
        if let Err(problem) = check(expected, &answer, self.k, name.exact_counts(), q.shape.facets()) {
            let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
            // A broken strategy fails the same way thousands of times: keep the first few per strategy.
            if failures.iter().filter(|f| f.strategy == name).count() < 20 {
                failures.push(Failure {
                    strategy: name,
                    caller: self.callers[caller].label.clone(),
                    query: q.text.clone(),
                    problem,
                });
            }
        }
        Ok(micros)
    }

    /// Every strategy answers every (caller, query) once, untimed.
    pub fn check_all(&self, progress: &mut dyn Progress) -> Result<(), Error> {
        progress.stage("checking every answer", (self.strategies.len() * self.callers.len()) as u64);
        for strategy in self.strategies {
            for caller in 0..self.callers.len() {
                for query in 0..self.queries.len() {
                    self.search(strategy.as_ref(), caller, query, Clock::Wall)?;
                }
                progress.advance(1);
            }
        }
        Ok(())
    }

    /// One-thread cells: per caller and shape, `rounds` rounds of every strategy over the shape's queries.
    pub fn latency(&self, rounds: usize, progress: &mut dyn Progress) -> Result<Vec<Cell>, Error> {
        let shapes: Vec<Shape> =
            Shape::ALL.into_iter().filter(|s| self.queries.iter().any(|q| q.shape == *s)).collect();
        progress.stage("timing, one thread", (self.callers.len() * shapes.len() * rounds) as u64);
        let mut cells = Vec::new();
        for caller in 0..self.callers.len() {
            for &shape in &shapes {
                let queries: Vec<usize> =
                    (0..self.queries.len()).filter(|&q| self.queries[q].shape == shape).collect();
                let mut samples: Vec<Vec<f64>> = vec![Vec::new(); self.strategies.len()];
                let mut walls = vec![0.0f64; self.strategies.len()];
                for _ in 0..rounds {
                    for (s, strategy) in self.strategies.iter().enumerate() {
                        let started = Instant::now();
                        for &query in &queries {
                            samples[s].push(self.search(strategy.as_ref(), caller, query, self.clock)?);
                        }
                        walls[s] += started.elapsed().as_secs_f64();
                    }
                    progress.advance(1);
                }
                for (s, strategy) in self.strategies.iter().enumerate() {
                    cells.push(Cell {
                        strategy: strategy.name(),
                        shape: Some(shape),
                        caller: self.callers[caller].label.clone(),
                        share: self.shares[caller],
                        threads: 1,
                        latency: Summary::of(std::mem::take(&mut samples[s]), walls[s]),
                    });
                }
            }
        }
        Ok(cells)
    }

    /// Per strategy and caller: every query, `rounds` times, spread over `threads` threads at once.
    pub fn throughput(
        &self,
        threads: usize,
        rounds: usize,
        progress: &mut dyn Progress,
    ) -> Result<Vec<Cell>, Error> {
        progress.stage(
            &format!("throughput, {threads} thread(s)"),
            (self.strategies.len() * self.callers.len()) as u64,
        );
        let mut cells = Vec::new();
        for strategy in self.strategies {
            for caller in 0..self.callers.len() {
                let work: Vec<usize> = (0..rounds).flat_map(|_| 0..self.queries.len()).collect();
                let started = Instant::now();
                let per_thread: Vec<Result<Vec<f64>, Error>> = std::thread::scope(|scope| {
                    let handles: Vec<_> = (0..threads)
                        .map(|t| {
                            let work = &work;
                            scope.spawn(move || {
                                let mut micros = Vec::new();
                                for &query in work.iter().skip(t).step_by(threads) {
                                    micros.push(self.search(
                                        strategy.as_ref(),
                                        caller,
                                        query,
                                        Clock::Wall,
                                    )?);
                                }
                                Ok(micros)
                            })
                        })
                        .collect();
                    handles
                        .into_iter()
                        .map(|h| {
                            h.join()
                                .unwrap_or_else(|_| Err(Error::Parameter("a search thread panicked".into())))
                        })
                        .collect()
                });
                let wall = started.elapsed().as_secs_f64();
                let mut micros = Vec::new();
                for part in per_thread {
                    micros.extend(part?);
                }
                cells.push(Cell {
                    strategy: strategy.name(),
                    shape: None,
                    caller: self.callers[caller].label.clone(),
                    share: self.shares[caller],
                    threads,
                    latency: Summary::of(micros, wall),
                });
                progress.advance(1);
            }
        }
        Ok(cells)
    }
}
