//! The pacer every request of one [`Client`](super::Client) takes a slot from, and how it reacts to 429s.
//!
//! Slots are spaced `1 / requests_per_second` apart. What a 429 does depends on what the site said:
//!
//! - **A limit on the whole tenant** (`RateLimit-Reason` names a quota, or a reason this code does not
//!   know, as Atlassian advises): every request waits until the `Retry-After` (or the backoff the refused
//!   request takes) has passed. Sending anything earlier only earns more 429s.
//! - **A burst limit with `Retry-After`** (`…-burst-based`, `…-per-issue-on-write`, or no reason): the
//!   refused request waits what the site asked for, and its slot is given back, since the site did not do
//!   the work. Atlassian's burst limits are per endpoint, so the other requests keep going at full speed
//!   and full concurrency.
//! - **A 429 that says nothing** (no `Retry-After`): the refused request backs off on its own, and the pacer
//!   doubles its interval for everyone, at most once per [`REACTION`] however many 429s arrive together.
//!
//! The slowdown wears off with time, not with successes: its excess over normal halves every
//! [`HALF_LIFE`]. A storm of 429s therefore costs a few seconds of slower pacing, never a crawl that lasts
//! until enough requests happen to succeed.
//!
//! This module knows nothing of HTTP; the client tells it what a 429 said. Its state is two instants and
//! a factor, updated without awaiting, so a poisoned lock is used as it is.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// 429s closer together than this count as one: they are the same overload, seen by requests in flight.
pub const REACTION: Duration = Duration::from_secs(1);
/// The excess of the slowdown over normal halves every `HALF_LIFE`.
pub const HALF_LIFE: Duration = Duration::from_secs(2);
/// The slowest the pacer gets on its own: no interval longer than this (unless normal is longer).
pub const SLOWEST: Duration = Duration::from_secs(10);

/// What a 429 said about the limit it hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Throttle {
    /// A limit on the whole site (a quota, or a reason not known to be narrower): hold everyone back.
    Tenant { wait: Duration },
    /// A limit on one endpoint that said when to come back: only the refused request waits.
    Endpoint { retry_after: Duration },
    /// No `Retry-After`: slow everyone down for a while.
    Unspecified,
}

impl Throttle {
    /// Classifies a 429 by its `RateLimit-Reason` and `Retry-After`; `backoff` is what the refused
    /// request will wait when the site gave no `Retry-After`.
    pub fn of(reason: Option<&str>, retry_after: Option<Duration>, backoff: Duration) -> Throttle {
        let reason = reason.map(str::trim).filter(|r| !r.is_empty()).map(str::to_ascii_lowercase);
        let narrow = |r: &str| r.contains("burst") || r.contains("per-issue");
        match (reason.as_deref(), retry_after) {
            (Some(r), wait) if !narrow(r) => Throttle::Tenant { wait: wait.unwrap_or(backoff) },
            (_, Some(retry_after)) => Throttle::Endpoint { retry_after },
            (_, None) => Throttle::Unspecified,
        }
    }
}

/// The shared pacer of one client.
#[derive(Debug)]
pub struct Pacer {
    state: Mutex<PacerState>,
}

impl Pacer {
    pub fn new(normal: Duration) -> Self {
        Pacer { state: Mutex::new(PacerState::new(normal, Instant::now())) }
    }

    /// The next free slot; the caller sleeps until then.
    pub fn reserve(&self) -> Instant {
        self.lock().reserve(Instant::now())
    }

    /// Tells the pacer about a 429.
    pub fn throttled(&self, throttle: Throttle) {
        self.lock().throttle(Instant::now(), throttle);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PacerState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
struct PacerState {
    normal: Duration,
    /// The earliest instant the next slot may be given.
    next_slot: Instant,
    /// How many times longer than normal the interval was at `since`; at least 1.
    slowdown: f64,
    since: Instant,
    /// When a 429 last raised the slowdown.
    last_raise: Option<Instant>,
    /// Every slot waits until then (a tenant-wide limit).
    hold_until: Option<Instant>,
}

impl PacerState {
    fn new(normal: Duration, now: Instant) -> Self {
        PacerState { normal, next_slot: now, slowdown: 1.0, since: now, last_raise: None, hold_until: None }
    }

    /// The slowdown at `now`: its excess over 1 decays by half every [`HALF_LIFE`].
    fn slowdown_at(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.since).as_secs_f64();
        1.0 + (self.slowdown - 1.0) * 0.5f64.powf(elapsed / HALF_LIFE.as_secs_f64())
    }

    fn interval_at(&self, now: Instant) -> Duration {
        let slowest = SLOWEST.max(self.normal);
        self.normal.mul_f64(self.slowdown_at(now)).min(slowest)
    }

    /// Takes the next free slot at or after `now` (an idle pacer does not bank slots).
    fn reserve(&mut self, now: Instant) -> Instant {
        let mut slot = self.next_slot.max(now);
        if let Some(hold) = self.hold_until {
            slot = slot.max(hold);
        }
        self.next_slot = slot + self.interval_at(slot);
        slot
    }

    fn throttle(&mut self, now: Instant, throttle: Throttle) {
        match throttle {
            Throttle::Endpoint { .. } => {
                // The refused request's slot is given back: the next one moves up by an interval.
                let interval = self.interval_at(now);
                self.next_slot = self.next_slot.checked_sub(interval).unwrap_or(now).max(now);
            }
            Throttle::Tenant { wait } => {
                let until = now + wait;
                self.hold_until = Some(self.hold_until.map_or(until, |h| h.max(until)));
            }
            Throttle::Unspecified => {
                if self.last_raise.is_some_and(|last| now.saturating_duration_since(last) < REACTION) {
                    return;
                }
                let most =
                    SLOWEST.max(self.normal).as_secs_f64() / self.normal.as_secs_f64().max(f64::MIN_POSITIVE);
                self.slowdown = (self.slowdown_at(now) * 2.0).min(most.max(1.0));
                self.since = now;
                self.last_raise = Some(now);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    #[test]
    fn slots_are_spaced_and_not_banked() {
        let t0 = Instant::now();
        let mut state = PacerState::new(MS(100), t0);
        assert_eq!(state.reserve(t0), t0);
        assert_eq!(state.reserve(t0), t0 + MS(100));
        assert_eq!(state.reserve(t0 + MS(500)), t0 + MS(500), "an idle pacer does not bank slots");
    }

    #[test]
    fn a_429_with_retry_after_on_one_endpoint_gives_its_slot_back_and_slows_nobody() {
        let t0 = Instant::now();
        let mut state = PacerState::new(MS(100), t0);
        assert_eq!(state.reserve(t0), t0);
        assert_eq!(state.reserve(t0), t0 + MS(100));
        state.throttle(t0 + MS(50), Throttle::Endpoint { retry_after: Duration::from_secs(30) });
        assert_eq!(state.reserve(t0 + MS(50)), t0 + MS(100), "the refused slot is free again");
        assert_eq!(state.reserve(t0 + MS(50)), t0 + MS(200), "and the pace is unchanged");
        assert_eq!((state.slowdown, state.hold_until), (1.0, None));
        state.throttle(t0 + MS(50), Throttle::Endpoint { retry_after: Duration::from_secs(30) });
        state.throttle(t0 + MS(50), Throttle::Endpoint { retry_after: Duration::from_secs(30) });
        state.throttle(t0 + MS(50), Throttle::Endpoint { retry_after: Duration::from_secs(30) });
        assert_eq!(state.reserve(t0 + MS(60)), t0 + MS(60), "never before now");
    }

    #[test]
    fn a_tenant_limit_holds_every_slot_until_it_ends() {
        let t0 = Instant::now();
        let mut state = PacerState::new(MS(100), t0);
        state.throttle(t0, Throttle::Tenant { wait: Duration::from_secs(5) });
        state.throttle(t0, Throttle::Tenant { wait: Duration::from_secs(2) });
        assert_eq!(state.reserve(t0 + MS(10)), t0 + Duration::from_secs(5), "the longer hold wins");
        assert_eq!(state.reserve(t0 + MS(10)), t0 + Duration::from_secs(5) + MS(100));
        assert_eq!(state.reserve(t0 + Duration::from_secs(9)), t0 + Duration::from_secs(9), "over after it");
    }

    #[test]
    fn silent_429s_slow_everyone_once_per_reaction_window() {
        let t0 = Instant::now();
        let mut state = PacerState::new(MS(100), t0);
        for i in 0..50 {
            state.throttle(t0 + MS(i), Throttle::Unspecified);
        }
        let once = state.interval_at(t0 + MS(50)).as_millis();
        assert!((195..=200).contains(&once), "fifty 429s at once double it once: {once} ms");
        state.throttle(t0 + REACTION, Throttle::Unspecified);
        let raised = state.interval_at(t0 + REACTION).as_millis();
        // By then the first doubling has partly worn off (1 + 0.71), and the new one doubles that.
        assert!((335..=350).contains(&raised), "a later 429 doubles it again: {raised} ms");
        for _ in 0..20 {
            state.throttle(state.last_raise.unwrap_or(t0) + REACTION, Throttle::Unspecified);
        }
        assert_eq!(state.interval_at(state.since), SLOWEST, "capped");
    }

    #[test]
    fn the_slowdown_wears_off_with_time_not_with_successes() {
        let t0 = Instant::now();
        let mut state = PacerState::new(MS(100), t0);
        for n in 0..20 {
            state.throttle(t0 + REACTION * n, Throttle::Unspecified);
        }
        let start = state.since;
        let at = |d: Duration| state.interval_at(start + d).as_secs_f64() * 1000.0;
        let peak = at(Duration::ZERO);
        assert!(peak > 10_000.0 - 1.0, "peaked at the cap: {peak}");
        let after_half_life = at(HALF_LIFE);
        assert!(after_half_life < peak, "{after_half_life} < {peak}");
        assert!(at(Duration::from_secs(20)) < 120.0, "{} ms after 20 s", at(Duration::from_secs(20)));
        assert!(at(Duration::from_secs(40)) < 100.5, "back to normal");
    }

    #[test]
    fn reasons_and_retry_after_classify_a_429() {
        let s = Duration::from_secs;
        let backoff = MS(500);
        let cases = [
            (Some("jira-quota-tenant-based"), Some(s(30)), Throttle::Tenant { wait: s(30) }),
            (Some("confluence-quota-global-based"), None, Throttle::Tenant { wait: backoff }),
            (Some("jira-cost-based"), Some(s(3)), Throttle::Tenant { wait: s(3) }),
            (Some("jira-burst-based"), Some(s(1)), Throttle::Endpoint { retry_after: s(1) }),
            (Some("Jira-Per-Issue-On-Write"), Some(s(2)), Throttle::Endpoint { retry_after: s(2) }),
            (None, Some(s(1)), Throttle::Endpoint { retry_after: s(1) }),
            (Some(" "), Some(s(1)), Throttle::Endpoint { retry_after: s(1) }),
            (Some("confluence-burst-based"), None, Throttle::Unspecified),
            (None, None, Throttle::Unspecified),
        ];
        for (reason, retry_after, expected) in cases {
            assert_eq!(Throttle::of(reason, retry_after, backoff), expected, "{reason:?} {retry_after:?}");
        }
    }
}
