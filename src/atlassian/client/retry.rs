//! When a request tries again, and how long it waits first: exponential backoff with jitter, the site's
//! `Retry-After` (delay-seconds or an HTTP date) as the least wait, and the two budgets one request spends
//! apart. Failures a retry may fix (5xx, a connection failure or timeout, a malformed body) count against
//! `max_retries`; 429s are waited out up to `max_throttle_wait` in all, so a rate-limit storm slows a run
//! without costing items.
//!
//! Not here: which failures may be retried at all (`failure.rs`), how a 429 slows the other requests
//! ([`super::super::pacer`]), and the sleeping itself, which the client does so that cancellation ends it.

use std::time::Duration;

use reqwest::header::{self, HeaderMap};

/// The longest `Retry-After` honoured: a site asking for more is treated as asking for this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How a client retries: its backoff and its two budgets, the same for every request.
#[derive(Debug, Clone, Copy)]
pub(super) struct RetryPolicy {
    pub backoff: Backoff,
    /// Retries after a failure a retry may fix.
    pub max_retries: u32,
    /// Longest total wait on 429 answers.
    pub max_throttle_wait: Duration,
}

impl RetryPolicy {
    /// The budget of one request, nothing spent yet.
    pub fn budget(self) -> Budget {
        Budget { policy: self, failed: 0, throttled: 0, throttle_wait: Duration::ZERO }
    }
}

/// What one request has spent: failures a retry may fix, and 429s with the time waited on them.
#[derive(Debug)]
pub(super) struct Budget {
    policy: RetryPolicy,
    failed: u32,
    throttled: u32,
    throttle_wait: Duration,
}

/// What follows a failed attempt: the wait it calls for, and whether the budget it counts against is
/// spent (then the request fails instead of waiting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Wait {
    pub delay: Duration,
    pub exhausted: bool,
}

impl Budget {
    /// After a 429: backoff over the 429s so far (at least `retry_after`); exhausted once the waits on
    /// 429s, this one included, exceed `max_throttle_wait`.
    pub fn throttled(&mut self, retry_after: Option<Duration>, jitter: f64) -> Wait {
        self.throttled += 1;
        let delay = self.policy.backoff.delay(self.throttled, retry_after, jitter);
        self.throttle_wait += delay;
        Wait { delay, exhausted: self.throttle_wait > self.policy.max_throttle_wait }
    }

    /// After a failure a retry may fix: backoff over such failures so far (at least `retry_after`);
    /// exhausted after more than `max_retries` of them.
    pub fn failed(&mut self, retry_after: Option<Duration>, jitter: f64) -> Wait {
        self.failed += 1;
        let delay = self.policy.backoff.delay(self.failed, retry_after, jitter);
        Wait { delay, exhausted: self.failed > self.policy.max_retries }
    }
}

/// Exponential backoff with jitter.
#[derive(Debug, Clone, Copy)]
pub(super) struct Backoff {
    pub base: Duration,
    pub cap: Duration,
}

impl Backoff {
    /// The wait before attempt `failed_attempt + 1`: `base · 2^(failed_attempt-1)`, capped, times `jitter`
    /// (0.7–1.3, so clients that failed together do not retry together), and never less than what the
    /// site asked for with `Retry-After`.
    pub fn delay(&self, failed_attempt: u32, retry_after: Option<Duration>, jitter: f64) -> Duration {
        let doublings = failed_attempt.saturating_sub(1).min(30);
        let exponential = self.base.saturating_mul(1u32 << doublings).min(self.cap);
        let jittered = exponential.mul_f64(jitter.clamp(0.7, 1.3));
        jittered.max(retry_after.unwrap_or(Duration::ZERO))
    }
}

/// The `Retry-After` wait: delay-seconds or an HTTP date (a date in the past means now), capped at
/// [`MAX_RETRY_AFTER`]. `None` when absent or unreadable.
pub(super) fn retry_after(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    parse_retry_after(headers.get(header::RETRY_AFTER)?.to_str().ok()?, now)
}

fn parse_retry_after(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let value = value.trim();
    let wait = if let Ok(seconds) = value.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
        (at.with_timezone(&chrono::Utc) - now).to_std().unwrap_or(Duration::ZERO)
    };
    Some(wait.min(MAX_RETRY_AFTER))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now =
            chrono::DateTime::parse_from_rfc3339("2026-03-02T10:00:00Z").unwrap().with_timezone(&chrono::Utc);
        let cases = [
            ("30", Some(Duration::from_secs(30))),
            (" 0 ", Some(Duration::ZERO)),
            ("Mon, 02 Mar 2026 10:00:45 GMT", Some(Duration::from_secs(45))),
            ("Mon, 02 Mar 2026 09:59:00 GMT", Some(Duration::ZERO)),
            ("999999", Some(MAX_RETRY_AFTER)),
            ("-5", None),
            ("soon", None),
            ("1.5", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn backoff_doubles_is_capped_jittered_and_respects_retry_after() {
        let backoff = Backoff { base: Duration::from_millis(500), cap: Duration::from_secs(60) };
        let s = Duration::from_secs;
        let ms = Duration::from_millis;
        let cases = [
            (1, None, 1.0, ms(500)),
            (2, None, 1.0, s(1)),
            (3, None, 1.0, s(2)),
            (4, None, 0.7, ms(2800)),
            (4, None, 1.3, ms(5200)),
            (20, None, 1.0, s(60)),
            (u32::MAX, None, 1.3, s(78)),
            (1, Some(s(30)), 1.0, s(30)),
            (3, Some(s(1)), 1.0, s(2)),
            (1, None, 5.0, ms(650)),
        ];
        for (attempt, retry_after, jitter, expected) in cases {
            assert_eq!(
                backoff.delay(attempt, retry_after, jitter),
                expected,
                "{attempt} {retry_after:?} {jitter}"
            );
        }
    }

    #[test]
    fn the_retry_and_throttle_budgets_are_spent_apart() {
        let s = Duration::from_secs;
        let retry = |secs| Wait { delay: s(secs), exhausted: false };
        let give_up = |secs| Wait { delay: s(secs), exhausted: true };
        let policy = RetryPolicy {
            backoff: Backoff { base: s(1), cap: s(60) },
            max_retries: 2,
            max_throttle_wait: s(10),
        };
        let mut budget = policy.budget();
        // 429s: 1 + 2 + 4 = 7 seconds waited, then 8 more would pass the 10 allowed.
        assert_eq!(budget.throttled(None, 1.0), retry(1));
        assert_eq!(budget.failed(None, 1.0), retry(1));
        assert_eq!(budget.throttled(None, 1.0), retry(2));
        assert_eq!(budget.throttled(None, 1.0), retry(4));
        // Failures count from their own first, whatever the 429s spent.
        assert_eq!(budget.failed(None, 1.0), retry(2));
        assert_eq!(budget.throttled(None, 1.0), give_up(8));
        assert_eq!(budget.failed(None, 1.0), give_up(4));

        // A `Retry-After` is waited in full and counts in full against the throttle budget.
        let mut budget = policy.budget();
        assert_eq!(budget.throttled(Some(s(9)), 1.0), retry(9));
        assert_eq!(budget.throttled(Some(s(2)), 1.0), give_up(2));
    }
}
