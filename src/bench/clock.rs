//! What a search's time is counted in: the wall clock (what a user waits, including any time the searching
//! thread waits for a CPU that other processes hold), or the searching thread's own CPU time (what the
//! search costs; steady on a machine shared with other work, where wall-clock percentiles mostly measure
//! the scheduler).
//!
//! This file only reads clocks; `measure.rs` and `changes.rs` decide what to time.

use std::time::Instant;

/// The clock one-thread latencies and first queries are timed with (`permdex bench acl --clock`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Clock {
    #[default]
    Wall,
    Cpu,
}

impl Clock {
    pub fn parse(name: &str) -> Option<Clock> {
        match name {
            "wall" => Some(Clock::Wall),
            "cpu" => Some(Clock::Cpu),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Clock::Wall => "wall-clock time",
            Clock::Cpu => "CPU time of the searching thread",
        }
    }

    /// Starts timing on the calling thread.
    pub fn start(self) -> Started {
        match self {
            Clock::Wall => Started::Wall(Instant::now()),
            Clock::Cpu => Started::Cpu(thread_cpu_nanos()),
        }
    }
}

/// A started timing; read it on the thread that started it.
#[derive(Debug, Clone, Copy)]
pub enum Started {
    Wall(Instant),
    Cpu(u128),
}

impl Started {
    pub fn micros(&self) -> f64 {
        match self {
            Started::Wall(at) => at.elapsed().as_secs_f64() * 1e6,
            Started::Cpu(at) => thread_cpu_nanos().saturating_sub(*at) as f64 / 1e3,
        }
    }
}

/// CPU time the calling thread has used, in nanoseconds.
fn thread_cpu_nanos() -> u128 {
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable timespec, and CLOCK_THREAD_CPUTIME_ID is a clock every supported
    // platform (Linux, macOS) provides; on failure it is left at zero.
    let ok = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut now) } == 0;
    if !ok {
        return 0;
    }
    now.tv_sec as u128 * 1_000_000_000 + now.tv_nsec as u128
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_time_counts_work_and_not_sleep() {
        let slept = Clock::Cpu.start();
        std::thread::sleep(std::time::Duration::from_millis(30));
        let asleep = slept.micros();
        let worked = Clock::Cpu.start();
        let mut x = 0u64;
        let wall = Instant::now();
        while wall.elapsed().as_millis() < 30 {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        let busy = worked.micros();
        assert!(asleep < 10_000.0, "a 30 ms sleep counted {asleep} µs of CPU");
        assert!(busy > asleep, "30 ms of work ({busy} µs) counted no more than a sleep ({asleep} µs)");
        assert!(Clock::Wall.start().micros() >= 0.0);
        assert_eq!(Clock::parse("cpu"), Some(Clock::Cpu));
        assert_eq!(Clock::parse("wall"), Some(Clock::Wall));
        assert_eq!(Clock::parse("tsc"), None);
    }
}
