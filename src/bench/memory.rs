//! A process's memory as Linux reports it in `/proc/PID/`, sampled over time, and the verdict on whether it
//! stays flat after a warm-up.
//!
//! Resident memory is read apart as anonymous (the heap: what a leak or the allocator keeps) and file-backed
//! (mapped index files: the kernel's page cache, which it reclaims under pressure). Two signs of a leak are
//! read beside it: files still mapped after they were deleted (index segments whose searchers were never
//! released) and the number of threads.
//!
//! This file reads numbers; it starts and stops nothing.

use serde::{Deserialize, Serialize};

/// One reading of a process's memory.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct MemorySample {
    /// Seconds since the measurement started.
    pub at_seconds: f64,
    /// `VmRSS`: everything resident.
    pub rss_bytes: u64,
    /// `RssAnon`: heap and other private memory.
    pub anon_bytes: u64,
    /// `RssFile`: resident pages of mapped files (the index's segments).
    pub file_bytes: u64,
    /// `VmHWM`: the highest `VmRSS` so far.
    pub peak_bytes: u64,
    pub threads: u64,
    /// Distinct files mapped although deleted: segments a searcher still holds after a merge removed them.
    pub deleted_mapped_files: usize,
}

impl MemorySample {
    /// Reads process `pid` now; `None` when it is gone or `/proc` is not there.
    pub fn read(pid: u32, at_seconds: f64) -> Option<MemorySample> {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let mut sample = MemorySample { at_seconds, ..MemorySample::default() };
        for line in status.lines() {
            let Some((key, value)) = line.split_once(':') else { continue };
            let number = || value.split_whitespace().next().and_then(|n| n.parse::<u64>().ok()).unwrap_or(0);
            match key {
                "VmRSS" => sample.rss_bytes = number() * 1024,
                "RssAnon" => sample.anon_bytes = number() * 1024,
                "RssFile" => sample.file_bytes = number() * 1024,
                "VmHWM" => sample.peak_bytes = number() * 1024,
                "Threads" => sample.threads = number(),
                _ => {}
            }
        }
        let maps = std::fs::read_to_string(format!("/proc/{pid}/maps")).unwrap_or_default();
        let deleted: std::collections::BTreeSet<&str> =
            maps.lines().filter_map(|line| line.strip_suffix(" (deleted)")).filter_map(mapped_path).collect();
        sample.deleted_mapped_files = deleted.len();
        Some(sample)
    }
}

/// The path of a `/proc/PID/maps` line (the sixth column), if it maps a file.
fn mapped_path(line: &str) -> Option<&str> {
    let mut rest = line;
    for _ in 0..5 {
        rest = rest.trim_start().split_once(' ')?.1;
    }
    let path = rest.trim_start();
    path.starts_with('/').then_some(path)
}

/// Whether memory stayed flat after the warm-up, and the figures that say so.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemoryVerdict {
    /// Samples before this many seconds are the warm-up and are not judged.
    pub warm_up_seconds: f64,
    /// Highest resident memory in the first and in the second half of the judged samples.
    pub first_half_peak_bytes: u64,
    pub second_half_peak_bytes: u64,
    /// The same for anonymous memory alone (the part a leak grows).
    pub first_half_anon_peak_bytes: u64,
    pub second_half_anon_peak_bytes: u64,
    /// Least-squares slope of resident memory over the judged samples, in MiB per hour.
    pub slope_mib_per_hour: f64,
    /// How much the second half's peak may pass the first's and still count as flat.
    pub tolerance_bytes: u64,
    /// The second half's peak is within the tolerance of the first half's.
    pub flat: bool,
    /// Deleted files still mapped at the last sample.
    pub deleted_mapped_files_at_end: usize,
    /// One line for people.
    pub summary: String,
}

/// The tolerance of [`judge`]: 10% of the first half's peak, and never under this.
pub const MIN_TOLERANCE_BYTES: u64 = 8 * 1024 * 1024;

/// Judges `samples` (in time order): those after `warm_up_seconds` are split into two halves by count, and
/// memory is flat when the second half's resident peak is at most the first half's plus 10% (at least
/// [`MIN_TOLERANCE_BYTES`]). Peaks are compared, not single readings, because every sync raises memory for
/// a while (its index writer) and gives it back: a leak shows as peaks that keep rising. `None` with fewer
/// than two judged samples.
pub fn judge(samples: &[MemorySample], warm_up_seconds: f64) -> Option<MemoryVerdict> {
    let judged: Vec<&MemorySample> = samples.iter().filter(|s| s.at_seconds >= warm_up_seconds).collect();
    if judged.len() < 2 {
        return None;
    }
    let (first, second) = judged.split_at(judged.len() / 2);
    let peak =
        |half: &[&MemorySample], of: fn(&MemorySample) -> u64| half.iter().map(|s| of(s)).max().unwrap_or(0);
    let first_peak = peak(first, |s| s.rss_bytes);
    let second_peak = peak(second, |s| s.rss_bytes);
    let tolerance = (first_peak / 10).max(MIN_TOLERANCE_BYTES);
    let flat = second_peak <= first_peak + tolerance;
    let slope = slope_per_second(&judged) * 3600.0 / (1024.0 * 1024.0);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    let summary = format!(
        "{}: resident peak {:.1} MiB in the first half after warm-up, {:.1} MiB in the second (tolerance {:.1} MiB); \
         trend {:+.1} MiB/hour",
        if flat { "flat" } else { "growing" },
        mib(first_peak),
        mib(second_peak),
        mib(tolerance),
        slope
    );
    Some(MemoryVerdict {
        warm_up_seconds,
        first_half_peak_bytes: first_peak,
        second_half_peak_bytes: second_peak,
        first_half_anon_peak_bytes: peak(first, |s| s.anon_bytes),
        second_half_anon_peak_bytes: peak(second, |s| s.anon_bytes),
        slope_mib_per_hour: slope,
        tolerance_bytes: tolerance,
        flat,
        deleted_mapped_files_at_end: judged.last().map_or(0, |s| s.deleted_mapped_files),
        summary,
    })
}

/// Least-squares slope of resident bytes over seconds.
fn slope_per_second(samples: &[&MemorySample]) -> f64 {
    let n = samples.len() as f64;
    let mean_t = samples.iter().map(|s| s.at_seconds).sum::<f64>() / n;
    let mean_m = samples.iter().map(|s| s.rss_bytes as f64).sum::<f64>() / n;
    let (mut cov, mut var) = (0.0, 0.0);
    for s in samples {
        cov += (s.at_seconds - mean_t) * (s.rss_bytes as f64 - mean_m);
        var += (s.at_seconds - mean_t).powi(2);
    }
    if var > 0.0 {
        cov / var
    } else {
        0.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn at(seconds: f64, rss_mib: u64) -> MemorySample {
        MemorySample {
            at_seconds: seconds,
            rss_bytes: rss_mib * MIB,
            anon_bytes: rss_mib * MIB,
            ..MemorySample::default()
        }
    }

    #[test]
    fn this_process_reads_itself() {
        let sample = MemorySample::read(std::process::id(), 1.5).expect("/proc/self");
        assert!(sample.rss_bytes > 0 && sample.peak_bytes >= sample.rss_bytes, "{sample:?}");
        assert!(sample.anon_bytes > 0 && sample.threads >= 1, "{sample:?}");
        assert_eq!(sample.at_seconds, 1.5);
        assert_eq!(MemorySample::read(u32::MAX, 0.0), None, "no such process");
    }

    #[test]
    fn a_deleted_file_still_mapped_is_counted() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("segment.idx");
        std::fs::write(&path, vec![7u8; 8192]).expect("write");
        let file = std::fs::File::open(&path).expect("open");
        use std::os::fd::AsRawFd;
        // SAFETY: a read-only private mapping of a file this test owns, unmapped below.
        let map = unsafe {
            libc::mmap(std::ptr::null_mut(), 8192, libc::PROT_READ, libc::MAP_PRIVATE, file.as_raw_fd(), 0)
        };
        assert_ne!(map, libc::MAP_FAILED);
        let before = MemorySample::read(std::process::id(), 0.0).expect("read").deleted_mapped_files;
        std::fs::remove_file(&path).expect("remove");
        let after = MemorySample::read(std::process::id(), 0.0).expect("read").deleted_mapped_files;
        // SAFETY: the mapping made above, of that length.
        unsafe { libc::munmap(map, 8192) };
        assert!(after > before, "{before} → {after}");
    }

    #[test]
    fn rising_peaks_are_growth_and_a_sawtooth_is_flat() {
        // Warm-up to 40 MiB, then syncs that take 60 MiB for a while and give it back.
        let sawtooth: Vec<_> = (0..40)
            .map(|i| {
                at(
                    i as f64,
                    if i < 5 {
                        10 * i as u64
                    } else if i % 4 == 0 {
                        100
                    } else {
                        40
                    },
                )
            })
            .collect();
        let verdict = judge(&sawtooth, 5.0).expect("judged");
        assert!(verdict.flat, "{verdict:?}");
        assert!(verdict.summary.starts_with("flat"), "{}", verdict.summary);

        let leaking: Vec<_> = (0..40).map(|i| at(i as f64, 40 + 3 * i as u64)).collect();
        let verdict = judge(&leaking, 5.0).expect("judged");
        assert!(!verdict.flat, "{verdict:?}");
        assert!(verdict.slope_mib_per_hour > 3.0 * 3600.0 * 0.99, "{verdict:?}");
        assert!(verdict.summary.starts_with("growing"), "{}", verdict.summary);

        assert_eq!(judge(&leaking[..3], 5.0), None, "nothing after the warm-up");
    }
}
