//! The sync schedule of `permdex serve`: each source is synced by itself, incrementally every `interval`,
//! permissions-only every `permissions_interval` and in full every `full_interval` (its
//! [`Schedule`]), each wait lengthened by a random jitter so that sources and
//! servers do not all call Atlassian at the same moment.
//!
//! One task per source ([`Schedules`], which also takes a source added while the server runs, and stops the
//! schedule of a source removed while it runs: at once when it waits, after its run when one is going on),
//! so a source
//! never has two runs at once from here; the run itself also takes the
//! source's lock (`sync::lock`), which `permdex sync` and the admin API take too, so a run started
//! elsewhere makes the scheduled one wait for its next turn ([`BUSY_RETRY`]) instead of running beside it.
//! A run that is due resets the clocks it covers: a full run counts as an incremental run and a permission
//! refresh, an incremental run (which ends with a permission refresh) as a permission refresh. At start the
//! clocks continue from the last runs on record, so a restart neither skips nor repeats a full run.
//!
//! Every run logs one line when it ends: source, mode, outcome, counts, duration.
//!
//! [`Plan`] decides what is due and when (pure, tested on a paused clock); [`run`] waits and starts runs
//! the way the admin API does (its busy flag, the reload after the run, the metrics).

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::Rng;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::admin::{self, RunSummary};
use super::error::ApiError;
use super::AppState;
use crate::config::Schedule;
use crate::sync::Mode;

/// How long a run that found its source busy waits before trying again.
pub const BUSY_RETRY: Duration = Duration::from_secs(60);

/// The longest jitter added to one wait.
pub const MAX_JITTER: Duration = Duration::from_secs(5 * 60);

/// The jitter of a wait of `interval`: up to a tenth of it, at most [`MAX_JITTER`], drawn from `rng`.
pub fn jitter(interval: Duration, rng: &mut impl Rng) -> Duration {
    let most = (interval / 10).min(MAX_JITTER);
    if most.is_zero() {
        return Duration::ZERO;
    }
    Duration::from_nanos(rng.gen_range(0..=most.as_nanos() as u64))
}

/// The three clocks of one source: when each kind of run is due next (`None`: off).
#[derive(Debug, Clone)]
pub struct Plan {
    schedule: Schedule,
    /// Due times of full, incremental and permissions-only runs, in that order.
    due: [Option<Instant>; 3],
}

/// The modes in order of precedence: a due full run is run rather than an incremental one it covers.
const MODES: [Mode; 3] = [Mode::Full, Mode::Incremental, Mode::PermissionsOnly];

impl Plan {
    /// Clocks that continue from the last runs on record (`last_started`: when the last completed run of
    /// each mode started, by mode), as seen at `now` (wall clock `wall_now`). A mode never run before is
    /// due one interval from now, except incremental runs, due at once so a new server syncs.
    pub fn new(
        schedule: Schedule,
        last_started: impl Fn(Mode) -> Option<DateTime<Utc>>,
        now: Instant,
        wall_now: DateTime<Utc>,
        rng: &mut impl Rng,
    ) -> Plan {
        let mut due = [None; 3];
        for (slot, mode) in due.iter_mut().zip(MODES) {
            let Some(interval) = interval_of(&schedule, mode) else { continue };
            // The latest run that covers this mode.
            let last = MODES
                .iter()
                .take_while(|m| **m != mode)
                .chain(std::iter::once(&mode))
                .filter_map(|m| last_started(*m))
                .max();
            *slot = Some(match last {
                Some(at) => {
                    let since = (wall_now - at).to_std().unwrap_or_default();
                    if since >= interval {
                        now
                    } else {
                        now + (interval - since) + jitter(interval, rng)
                    }
                }
                None if mode == Mode::Incremental => now,
                None => now + interval + jitter(interval, rng),
            });
        }
        Plan { schedule, due }
    }

    /// The earliest moment a run is due; `None` when every kind of run is off.
    pub fn next_wake(&self) -> Option<Instant> {
        self.due.iter().flatten().min().copied()
    }

    /// The run due at `now`, if any: the one that covers most.
    pub fn due(&self, now: Instant) -> Option<Mode> {
        MODES.into_iter().zip(self.due).find(|(_, due)| due.is_some_and(|at| at <= now)).map(|(mode, _)| mode)
    }

    /// A run of `mode` started at `started`: its clock and those it covers restart from then.
    pub fn ran(&mut self, mode: Mode, started: Instant, rng: &mut impl Rng) {
        let covered = MODES.iter().position(|m| *m == mode).unwrap_or(0);
        for (slot, mode) in self.due.iter_mut().zip(MODES).skip(covered) {
            if let Some(interval) = interval_of(&self.schedule, mode) {
                *slot = Some(started + interval + jitter(interval, rng));
            }
        }
    }

    /// The run of `mode` could not start (the source was busy): it is tried again at `at`.
    pub fn postpone(&mut self, mode: Mode, at: Instant) {
        if let Some(slot) = MODES.iter().position(|m| *m == mode).and_then(|i| self.due[i].as_mut()) {
            *slot = at;
        }
    }
}

fn interval_of(schedule: &Schedule, mode: Mode) -> Option<Duration> {
    match mode {
        Mode::Full => schedule.full,
        Mode::Incremental => schedule.incremental,
        Mode::PermissionsOnly => schedule.permissions,
    }
}

/// Runs `name`'s schedule until the task is dropped, `stop` is cancelled or the source is removed: waits
/// for the next due run, starts it and logs how it ended.
pub async fn run(state: AppState, name: String, schedule: Schedule, stop: CancellationToken) {
    let history = {
        let sources = state.sources.clone();
        let name = name.clone();
        tokio::task::spawn_blocking(move || sources.last_runs(&name, 50)).await
    };
    let history: Vec<RunSummary> = match history {
        Ok(Ok(runs)) => runs,
        Ok(Err(e)) => {
            tracing::warn!(source = %name, error = %e, "cannot read past runs; the schedule starts from now");
            Vec::new()
        }
        Err(_) => Vec::new(),
    };
    let last_started = |mode: Mode| {
        history
            .iter()
            .filter(|r| r.mode == mode.as_str() && r.outcome == "completed")
            .map(|r| r.started)
            .max()
    };
    let mut plan = Plan::new(schedule, last_started, Instant::now(), Utc::now(), &mut rand::thread_rng());
    tracing::info!(
        source = %name,
        interval = %crate::config::format_duration(schedule.incremental),
        permissions_interval = %crate::config::format_duration(schedule.permissions),
        full_interval = %crate::config::format_duration(schedule.full),
        "sync schedule"
    );
    loop {
        let Some(wake) = plan.next_wake() else { return };
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => {}
            _ = stop.cancelled() => return,
        }
        let Some(mode) = plan.due(Instant::now()) else { continue };
        let started = Instant::now();
        match admin::run_now(&state, &name, mode).await {
            Ok(summary) => {
                log_run(&name, &summary, started.elapsed());
                plan.ran(mode, started, &mut rand::thread_rng());
            }
            Err(ApiError::NotFound(_)) => {
                tracing::info!(source = %name, "source removed: its schedule ends");
                return;
            }
            Err(ApiError::Conflict(_)) => {
                tracing::info!(source = %name, mode = mode.as_str(), "scheduled sync skipped: another run of this source is in progress; trying again later");
                plan.postpone(mode, Instant::now() + BUSY_RETRY);
            }
            Err(e) => {
                tracing::error!(source = %name, mode = mode.as_str(), error = %e, "scheduled sync failed");
                plan.ran(mode, started, &mut rand::thread_rng());
            }
        }
    }
}

/// The schedule tasks of a running server: one per source, including sources added while it runs. A
/// source's task ends when [`Schedules::stop_source`] is called for it (it was removed); every task ends
/// when [`Schedules::stop`] is called (the server stops) or this is dropped.
#[derive(Default)]
pub struct Schedules {
    tasks: Mutex<JoinSet<()>>,
    /// What stops each source's task, by name.
    stops: Mutex<BTreeMap<String, CancellationToken>>,
}

impl Schedules {
    /// Runs `name`'s schedule once `before` has finished (the source's first sync, say) ([`run`]).
    pub fn start(
        &self,
        before: impl Future<Output = ()> + Send + 'static,
        state: AppState,
        name: String,
        schedule: Schedule,
    ) {
        let stop = CancellationToken::new();
        let earlier = self
            .stops
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(name.clone(), stop.clone());
        if let Some(earlier) = earlier {
            earlier.cancel();
        }
        let mut tasks = self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        tasks.spawn(async move {
            tokio::select! {
                _ = before => {}
                _ = stop.cancelled() => return,
            }
            run(state, name, schedule, stop).await;
        });
    }

    /// Ends `name`'s schedule: at once when it waits for its next run; a run going on is left to end
    /// (a removal cancels it through the source), and no run starts after it.
    pub fn stop_source(&self, name: &str) {
        let stop = self.stops.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(name);
        if let Some(stop) = stop {
            stop.cancel();
        }
    }

    /// Ends every schedule task (a run in progress is dropped with it, as when the process ends).
    pub fn stop(&self) {
        self.tasks.lock().unwrap_or_else(std::sync::PoisonError::into_inner).abort_all();
    }
}

/// The one line a scheduled run leaves in the log.
fn log_run(name: &str, run: &RunSummary, took: Duration) {
    let seen: u64 = run.counts.values().map(|c| c.seen).sum();
    let changed: u64 = run.counts.values().map(|c| c.added + c.updated + c.deleted).sum();
    let secs = format!("{:.1}", took.as_secs_f64());
    match &run.outcome_reason {
        Some(reason) => tracing::error!(
            source = name, mode = %run.mode, outcome = %run.outcome, reason = %reason, secs = %secs,
            "scheduled sync ended"
        ),
        None => tracing::info!(
            source = name, mode = %run.mode, outcome = %run.outcome, seen, changed,
            failures = run.failure_count, api_calls = run.api_calls, secs = %secs,
            "scheduled sync ended"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn minutes(n: u64) -> Duration {
        Duration::from_secs(60 * n)
    }

    fn schedule() -> Schedule {
        Schedule {
            incremental: Some(minutes(15)),
            permissions: Some(minutes(5)),
            full: Some(minutes(7 * 24 * 60)),
        }
    }

    #[test]
    fn jitter_is_at_most_a_tenth_and_capped() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..1000 {
            assert!(jitter(minutes(15), &mut rng) <= Duration::from_secs(90));
            assert!(jitter(minutes(7 * 24 * 60), &mut rng) <= MAX_JITTER);
        }
        let draws: std::collections::BTreeSet<_> = (0..20).map(|_| jitter(minutes(15), &mut rng)).collect();
        assert!(draws.len() > 1, "jitter varies");
        assert_eq!(jitter(Duration::ZERO, &mut rng), Duration::ZERO);
    }

    /// Walks the clock forward by `step` until `until`, recording each run the plan starts.
    fn simulate(
        plan: &mut Plan,
        start: Instant,
        until: Duration,
        rng: &mut impl Rng,
    ) -> Vec<(Duration, Mode)> {
        let mut runs = Vec::new();
        let mut now = start;
        while now < start + until {
            now = plan.next_wake().expect("something is scheduled");
            if now >= start + until {
                break;
            }
            if let Some(mode) = plan.due(now) {
                runs.push((now - start, mode));
                plan.ran(mode, now, rng);
            }
        }
        runs
    }

    #[tokio::test(start_paused = true)]
    async fn a_new_source_syncs_at_once_then_on_each_interval_with_jitter() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let start = Instant::now();
        let mut plan = Plan::new(schedule(), |_| None, start, Utc::now(), &mut rng);
        assert_eq!(plan.due(start), Some(Mode::Incremental), "the first sync runs at once");
        let runs = simulate(&mut plan, start, minutes(60), &mut rng);
        let incremental: Vec<_> =
            runs.iter().filter(|(_, m)| *m == Mode::Incremental).map(|(t, _)| *t).collect();
        let permissions: Vec<_> =
            runs.iter().filter(|(_, m)| *m == Mode::PermissionsOnly).map(|(t, _)| *t).collect();
        assert!(runs.iter().all(|(_, m)| *m != Mode::Full), "no full run within the first hour: {runs:?}");
        // Incremental runs 15 min apart (plus up to 90 s of jitter); permission refreshes fill the gaps.
        assert_eq!(incremental.len(), 4, "{runs:?}");
        for pair in incremental.windows(2) {
            let gap = pair[1] - pair[0];
            assert!(gap >= minutes(15) && gap <= minutes(15) + Duration::from_secs(90), "{gap:?}");
        }
        assert!(permissions.len() >= 6, "about two refreshes between incremental runs: {runs:?}");
        for t in &permissions {
            let since_incremental = incremental.iter().filter(|i| *i < t).map(|i| *t - *i).min().unwrap();
            assert!(
                since_incremental >= minutes(5),
                "a refresh never follows an incremental run closer than 5 min"
            );
        }
        // Real time did not pass: the paused clock only moved where the plan said.
        tokio::time::advance(minutes(1)).await;
        assert!(Instant::now() - start >= minutes(1));
    }

    #[tokio::test(start_paused = true)]
    async fn clocks_continue_from_the_runs_on_record() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let now = Instant::now();
        let wall = Utc::now();
        let last = |mode: Mode| match mode {
            Mode::Full => Some(wall - chrono::Duration::days(8)),
            Mode::Incremental => Some(wall - chrono::Duration::minutes(10)),
            Mode::PermissionsOnly => None,
        };
        let plan = Plan::new(schedule(), last, now, wall, &mut rng);
        assert_eq!(plan.due(now), Some(Mode::Full), "a full run overdue by a day runs at once");
        let recent_full = |mode: Mode| (mode == Mode::Full).then(|| wall - chrono::Duration::minutes(2));
        let plan = Plan::new(schedule(), recent_full, now, wall, &mut rng);
        assert_eq!(plan.due(now), None, "a full run 2 min ago covers the incremental and the refresh");
        let wake = plan.next_wake().unwrap();
        assert!(
            wake >= now + minutes(3) && wake <= now + minutes(3) + Duration::from_secs(30),
            "{:?}",
            wake - now
        );
        assert_eq!(plan.due(wake), Some(Mode::PermissionsOnly));
    }

    #[tokio::test(start_paused = true)]
    async fn a_busy_source_is_tried_again_later_and_off_means_never() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let now = Instant::now();
        let off = Schedule { incremental: Some(minutes(15)), permissions: None, full: None };
        let mut plan = Plan::new(off, |_| None, now, Utc::now(), &mut rng);
        assert_eq!(plan.due(now), Some(Mode::Incremental));
        plan.postpone(Mode::Incremental, now + BUSY_RETRY);
        assert_eq!(plan.due(now), None);
        assert_eq!(plan.next_wake(), Some(now + BUSY_RETRY));
        plan.ran(Mode::Incremental, now + BUSY_RETRY, &mut rng);
        let runs = simulate(&mut plan, now, minutes(24 * 60), &mut rng);
        assert!(runs.iter().all(|(_, m)| *m == Mode::Incremental), "only incremental runs are on: {runs:?}");
        let none = Schedule { incremental: None, permissions: None, full: None };
        assert_eq!(Plan::new(none, |_| None, now, Utc::now(), &mut rng).next_wake(), None);
    }
}
