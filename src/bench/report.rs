//! The result of a `bench acl` run as data ([`BenchResult`], one JSON file with every figure), and the
//! Markdown and CSV drawn from it. The plots (`plot.rs`) read the same JSON, so a result file is all anyone
//! needs to redraw or re-tabulate a run.
//!
//! Ratios are always a strategy's latency over unfiltered latency (top-k with an exact count) for the same
//! caller's queries, measured in the same rounds, so drift on a shared machine hits both sides alike.
//!
//! This file measures nothing.

use std::fmt::Write as _;
use std::path::Path;

use super::callers::Caller;
use super::corpus::CorpusParams;
use super::queries::{BenchQuery, Shape};
use super::strategy::StrategyName;
use super::Error;

/// Version of the result file's layout.
pub const FORMAT: u32 = 1;

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BenchResult {
    pub format: u32,
    /// `permdex bench acl`.
    pub tool: String,
    pub version: String,
    /// UTC, RFC 3339.
    pub started: String,
    pub seconds: f64,
    pub machine: Machine,
    pub commit: Option<Commit>,
    pub parameters: Parameters,
    pub corpus: CorpusFacts,
    pub callers: Vec<Caller>,
    pub unreachable: Vec<Unreachable>,
    pub queries: Vec<BenchQuery>,
    pub strategies: Vec<StrategyFacts>,
    pub correctness: Correctness,
    /// One thread: per strategy, shape and caller (unfiltered too, measured in the same rounds).
    pub latency: Vec<Cell>,
    /// Several threads (and one, for comparison): per strategy and caller, all shapes mixed.
    pub throughput: Vec<Cell>,
    pub cold: Vec<Cold>,
    pub reloads: Vec<Reload>,
    pub permission_changes: Vec<PermissionChange>,
    pub targets: Vec<TargetCheck>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    pub cpu: String,
    pub cores: usize,
    pub memory_bytes: u64,
    pub os: String,
    /// 1-minute load average when the run started and ended (other work on the machine skews times).
    pub load_start: Option<f64>,
    pub load_end: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Commit {
    pub revision: String,
    /// The working tree had changes not committed.
    pub dirty: bool,
}

impl Machine {
    /// This machine, as far as Linux tells.
    pub fn detect() -> Machine {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpu = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name").and_then(|r| r.split(':').nth(1)))
            .map_or_else(|| std::env::consts::ARCH.to_string(), |s| s.trim().to_string());
        let memory_bytes = read("/proc/meminfo")
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|r| r.split_whitespace().next().and_then(|kb| kb.parse::<u64>().ok()))
            .map_or(0, |kb| kb * 1024);
        let os = read("/etc/os-release")
            .lines()
            .find_map(|l| l.strip_prefix("PRETTY_NAME="))
            .map_or_else(|| std::env::consts::OS.to_string(), |s| s.trim_matches('"').to_string());
        Machine {
            cpu,
            cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
            memory_bytes,
            os,
            load_start: None,
            load_end: None,
        }
    }
}

/// "TOOL on CPU (N cores), permdex VERSION at COMMIT; load average A → B.": the first line of a report.
pub fn run_line(tool: &str, machine: &Machine, version: &str, commit: Option<&Commit>) -> String {
    let load = |v: Option<f64>| v.map_or("?".into(), |v| format!("{v:.2}"));
    format!(
        "{tool} on {} ({} cores), permdex {version}{}; load average {} → {}.",
        machine.cpu,
        machine.cores,
        commit.map(|c| format!(" at {}", &c.revision[..c.revision.len().min(10)])).unwrap_or_default(),
        load(machine.load_start),
        load(machine.load_end),
    )
}

/// The 1-minute load average, where the system tells it.
pub fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg").ok()?.split_whitespace().next()?.parse().ok()
}

impl Commit {
    /// The git commit of the working directory, when it is a checkout.
    pub fn detect() -> Option<Commit> {
        let git = |args: &[&str]| {
            std::process::Command::new("git")
                .args(args)
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        };
        let revision = git(&["rev-parse", "HEAD"])?;
        let dirty = git(&["status", "--porcelain", "--untracked-files=no"]).is_some_and(|s| !s.is_empty());
        Some(Commit { revision, dirty })
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Parameters {
    pub corpus: CorpusParams,
    pub selectivities: Vec<f64>,
    pub strategies: Vec<StrategyName>,
    pub shapes: Vec<Shape>,
    pub per_shape: usize,
    pub rounds: usize,
    pub k: usize,
    pub threads: Vec<usize>,
    pub overfetch: usize,
    /// What one-thread latencies and first queries were timed in (results written before it: wall).
    #[serde(default)]
    pub clock: super::clock::Clock,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CorpusFacts {
    pub docs: u64,
    pub alive: u64,
    pub segments: Vec<SegmentFacts>,
    pub users: u32,
    pub groups: u32,
    pub groups_per_user: Spread,
    pub clauses: usize,
    pub profiles: usize,
    pub max_clauses: usize,
    pub public_share: f64,
    pub index_bytes: u64,
    pub generate_seconds: f64,
    pub build_seconds: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SegmentFacts {
    pub max_doc: u32,
    pub alive: u32,
}

/// Median, 99th percentile and maximum of a count.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut values: Vec<f64>) -> Spread {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            values.get(((values.len().max(1) - 1) as f64 * q).round() as usize).copied().unwrap_or(0.0)
        };
        Spread { p50: at(0.5), p99: at(0.99), max: values.last().copied().unwrap_or(0.0) }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Unreachable {
    pub target: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct StrategyFacts {
    pub name: StrategyName,
    pub description: String,
    /// Answers carry an exact total and facets.
    pub exact_counts: bool,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Correctness {
    pub answers_checked: u64,
    pub failures: Vec<Failure>,
    /// The expected answers, one JSON object per line (see the README).
    pub expected_file: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Failure {
    pub strategy: StrategyName,
    pub caller: String,
    pub query: String,
    pub problem: String,
}

/// Latency of many searches, in microseconds.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Summary {
    pub samples: usize,
    pub p50_us: f64,
    pub p95_us: f64,
    pub p99_us: f64,
    pub p999_us: f64,
    pub mean_us: f64,
    pub max_us: f64,
    /// Searches per second over the wall time of the measurement.
    pub qps: f64,
    /// Latency at each percent 0, 1, …, 100: the CDF the plots draw.
    pub percentiles_us: Vec<f64>,
}

impl Summary {
    /// Summarises `micros` measured over `wall_seconds`.
    pub fn of(mut micros: Vec<f64>, wall_seconds: f64) -> Summary {
        micros.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if micros.is_empty() {
                return 0.0;
            }
            // Nearest rank.
            let rank = ((q * micros.len() as f64).ceil() as usize).clamp(1, micros.len());
            micros[rank - 1]
        };
        let mean = if micros.is_empty() { 0.0 } else { micros.iter().sum::<f64>() / micros.len() as f64 };
        Summary {
            samples: micros.len(),
            p50_us: at(0.5),
            p95_us: at(0.95),
            p99_us: at(0.99),
            p999_us: at(0.999),
            mean_us: mean,
            max_us: micros.last().copied().unwrap_or(0.0),
            qps: if wall_seconds > 0.0 { micros.len() as f64 / wall_seconds } else { 0.0 },
            percentiles_us: (0..=100)
                .map(
                    |p| {
                        if p == 0 {
                            micros.first().copied().unwrap_or(0.0)
                        } else {
                            at(f64::from(p) / 100.0)
                        }
                    },
                )
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cell {
    pub strategy: StrategyName,
    /// `None`: all shapes mixed.
    pub shape: Option<Shape>,
    /// The caller's label (`1%`).
    pub caller: String,
    pub share: f64,
    pub threads: usize,
    pub latency: Summary,
}

/// The first query of a principal set the search service has not seen (the median of a few fresh
/// services, each warmed by another caller's queries; see `changes::cold_queries`), against the warm median,
/// with its parts and unfiltered search's first query on the same kind of fresh reader.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cold {
    pub caller: String,
    pub share: f64,
    pub shape: Shape,
    /// In the run's clock.
    pub first_us: f64,
    pub warm_p50_us: f64,
    /// The same first queries in wall-clock time (work on other threads counts here only).
    #[serde(default)]
    pub first_wall_us: Option<f64>,
    /// The first query taken step by step, in the run's clock.
    #[serde(default)]
    pub parts: Option<ColdParts>,
    /// Unfiltered search's first query of the same text on a reader warmed the same way, and its warm p50.
    #[serde(default)]
    pub unfiltered_first_us: Option<f64>,
    #[serde(default)]
    pub unfiltered_warm_p50_us: Option<f64>,
    /// The caller whose queries (other texts) warmed the reader first.
    #[serde(default)]
    pub warmed_by: Option<String>,
    /// Bytes the caller's per-segment allowed sets hold in the cache.
    pub cache_bytes: u64,
    pub cache_entries: u64,
    /// Bytes of the segments' profile indexes (one per segment, shared by every caller).
    #[serde(default)]
    pub profile_index_bytes: Option<u64>,
}

/// A first query's parts, each the median over fresh services.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ColdParts {
    /// The principal set to the caller's allowed profiles.
    pub profiles_us: f64,
    /// The caller's allowed set of every segment.
    pub allowed_us: f64,
    /// Ranking, counting and faceting (query weights, the collector), both of the above cached.
    pub search_us: f64,
    /// The page: stored documents read and turned into hits.
    pub page_us: f64,
}

/// A reload after the index changed shape, and the first queries after it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Reload {
    pub event: String,
    pub segments_after: usize,
    /// The commit or merge itself.
    pub change_ms: f64,
    /// The search service moving to it, pre-building recent callers' sets for new segments.
    pub reload_ms: f64,
    /// Per caller, the first query after the reload.
    pub first_queries: Vec<FirstQuery>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FirstQuery {
    pub caller: String,
    pub micros: f64,
    pub warm_p50_us: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PermissionChange {
    pub change: String,
    /// Documents whose readers change.
    pub documents_affected: u64,
    /// Documents written to the index for it (permdex).
    pub documents_rewritten: u64,
    /// Documents each rival design would have to rewrite for the same change.
    pub rival_rewrites: Vec<(StrategyName, u64)>,
    pub commit_ms: f64,
    pub reload_ms: f64,
    /// From the start of the commit to the first search that shows the change.
    pub time_to_effect_ms: f64,
    /// The searches that showed it agreed with the brute-force answer after the change.
    pub verified: bool,
    /// Other callers' searches, running meanwhile: before the change and while it happened.
    pub background_before: Summary,
    pub background_during: Summary,
}

/// One target of the issue, measured.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TargetCheck {
    pub target: String,
    pub measured: String,
    pub met: bool,
    /// For a missed target: by how much in absolute terms, and what the run's own figures say about why.
    #[serde(default)]
    pub why: String,
}

impl BenchResult {
    pub fn write_json(&self, path: &Path) -> Result<(), Error> {
        let json =
            serde_json::to_string_pretty(self).map_err(|source| Error::Json { path: path.into(), source })?;
        std::fs::write(path, json).map_err(Error::io(path))
    }

    pub fn read_json(path: &Path) -> Result<BenchResult, Error> {
        let text = std::fs::read_to_string(path).map_err(Error::io(path))?;
        let result: BenchResult =
            serde_json::from_str(&text).map_err(|source| Error::Json { path: path.into(), source })?;
        if result.format != FORMAT {
            return Err(Error::Parameter(format!(
                "{} has result format {}, this permdex reads {FORMAT}",
                path.display(),
                result.format
            )));
        }
        Ok(result)
    }

    /// The one-thread cell of `strategy` for `shape` and `caller`.
    pub fn cell(&self, strategy: StrategyName, shape: Shape, caller: &str) -> Option<&Cell> {
        self.latency.iter().find(|c| c.strategy == strategy && c.shape == Some(shape) && c.caller == caller)
    }

    /// (p50, p99) of `strategy` over unfiltered, for `shape` and `caller`.
    pub fn ratio(&self, strategy: StrategyName, shape: Shape, caller: &str) -> Option<(f64, f64)> {
        let cell = self.cell(strategy, shape, caller)?;
        let base = self.cell(StrategyName::Unfiltered, shape, caller)?;
        let over = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::NAN };
        Some((over(cell.latency.p50_us, base.latency.p50_us), over(cell.latency.p99_us, base.latency.p99_us)))
    }

    /// Shapes measured, in the order of [`Shape::ALL`].
    pub fn shapes(&self) -> Vec<Shape> {
        Shape::ALL.into_iter().filter(|s| self.latency.iter().any(|c| c.shape == Some(*s))).collect()
    }

    /// Strategies measured, in the order of [`StrategyName::ALL`].
    pub fn strategy_names(&self) -> Vec<StrategyName> {
        StrategyName::ALL.into_iter().filter(|s| self.latency.iter().any(|c| c.strategy == *s)).collect()
    }

    pub fn markdown(&self) -> String {
        let mut out = String::new();
        let _ = self.write_markdown(&mut out);
        out
    }

    fn write_markdown(&self, out: &mut String) -> std::fmt::Result {
        let p = &self.parameters;
        let c = &self.corpus;
        writeln!(out, "# permdex bench acl\n")?;
        writeln!(
            out,
            "{} on {} ({} cores, {:.1} GiB), {}; permdex {}{}; started {}, {:.0} s; load average {} → {}.\n",
            self.tool,
            self.machine.cpu,
            self.machine.cores,
            self.machine.memory_bytes as f64 / (1u64 << 30) as f64,
            self.machine.os,
            self.version,
            self.commit
                .as_ref()
                .map(|c| format!(" at {}{}", short(&c.revision), if c.dirty { " (modified)" } else { "" }))
                .unwrap_or_default(),
            self.started,
            self.seconds,
            opt(self.machine.load_start),
            opt(self.machine.load_end),
        )?;
        writeln!(
            out,
            "Corpus (seed {}): {} documents ({} alive) in {} segment(s), order {:?}, {} users, {} groups ({:.0} per user at the median, {:.0} at p99, {:.0} at most), {} clauses, {} profiles (at most {} clauses), public share {:.2}%; index {:.0} MB, built in {:.0} s.\n",
            p.corpus.seed,
            c.docs,
            c.alive,
            c.segments.len(),
            p.corpus.order,
            c.users,
            c.groups,
            c.groups_per_user.p50,
            c.groups_per_user.p99,
            c.groups_per_user.max,
            c.clauses,
            c.profiles,
            c.max_clauses,
            c.public_share * 100.0,
            c.index_bytes as f64 / 1e6,
            c.build_seconds,
        )?;
        writeln!(
            out,
            "Queries: {} of each shape, top {}, {} timed rounds; one-thread latencies and first queries in {}; every answer of every strategy checked against brute force: {} checked, {} wrong.\n",
            p.per_shape,
            p.k,
            p.rounds,
            p.clock.describe(),
            self.correctness.answers_checked,
            self.correctness.failures.len()
        )?;
        for f in self.correctness.failures.iter().take(20) {
            writeln!(out, "- WRONG: {} as {} for {:?}: {}", f.strategy.name(), f.caller, f.query, f.problem)?;
        }
        writeln!(out, "## Callers\n")?;
        writeln!(out, "| target | reads | share | principals | origin |")?;
        writeln!(out, "|---|---|---|---|---|")?;
        for caller in &self.callers {
            writeln!(
                out,
                "| {} | {} | {:.4}% | {} | {} |",
                caller.label,
                caller.visible,
                caller.share * 100.0,
                caller.principals.len(),
                caller.origin
            )?;
        }
        for u in &self.unreachable {
            writeln!(
                out,
                "\nTarget {} not measured: {}.",
                super::callers::percent_label(u.target),
                u.reason
            )?;
        }

        writeln!(
            out,
            "\n## One thread: p50 / p99 µs, and p50 as a multiple of unfiltered (top-k + exact count)\n"
        )?;
        let callers: Vec<&Caller> = self.callers.iter().collect();
        for shape in self.shapes() {
            writeln!(out, "### {}\n", shape.describe())?;
            write!(out, "| strategy |")?;
            for caller in &callers {
                write!(out, " {} |", caller.label)?;
            }
            writeln!(out, "\n|---|{}", "---|".repeat(callers.len()))?;
            for strategy in self.strategy_names() {
                write!(out, "| {} |", strategy.name())?;
                for caller in &callers {
                    match self.cell(strategy, shape, &caller.label) {
                        Some(cell) => {
                            let ratio = match self.ratio(strategy, shape, &caller.label) {
                                Some((r, _)) if strategy != StrategyName::Unfiltered => format!(" ({r:.2}×)"),
                                _ => String::new(),
                            };
                            write!(out, " {:.0} / {:.0}{ratio} |", cell.latency.p50_us, cell.latency.p99_us)?;
                        }
                        None => write!(out, " |")?,
                    }
                }
                writeln!(out)?;
            }
            writeln!(out)?;
        }

        if !self.throughput.is_empty() {
            writeln!(out, "## Throughput, all shapes mixed: searches/s (p50 / p99 µs)\n")?;
            let threads: Vec<usize> = {
                let mut t: Vec<usize> = self.throughput.iter().map(|c| c.threads).collect();
                t.sort_unstable();
                t.dedup();
                t
            };
            write!(out, "| strategy | caller |")?;
            for t in &threads {
                write!(out, " {t} thread(s) |")?;
            }
            writeln!(out, "\n|---|---|{}", "---|".repeat(threads.len()))?;
            for strategy in StrategyName::ALL {
                for caller in &callers {
                    let cells: Vec<Option<&Cell>> = threads
                        .iter()
                        .map(|t| {
                            self.throughput.iter().find(|c| {
                                c.strategy == strategy && c.caller == caller.label && c.threads == *t
                            })
                        })
                        .collect();
                    if cells.iter().all(Option::is_none) {
                        continue;
                    }
                    write!(out, "| {} | {} |", strategy.name(), caller.label)?;
                    for cell in cells {
                        match cell {
                            Some(c) => write!(
                                out,
                                " {:.0} ({:.0} / {:.0}) |",
                                c.latency.qps, c.latency.p50_us, c.latency.p99_us
                            )?,
                            None => write!(out, " |")?,
                        }
                    }
                    writeln!(out)?;
                }
            }
            writeln!(out)?;
        }

        if !self.cold.is_empty() {
            writeln!(out, "## First query of a new principal set (permdex)\n")?;
            writeln!(
                out,
                "Each on a search service just opened on the index (as after a reload or a merge) that has \
                 then served the widest other caller (`warmed by`) one query of each other shape, other \
                 texts: segment readers, columns, term dictionaries and the OS page cache are warm; the \
                 caller's profiles and allowed sets and the stored documents of its page are not. Parts are \
                 taken one by one on another such service: profiles (principal set → allowed profiles), \
                 allowed sets (every segment's), search (ranking, counting, facets), page (stored documents \
                 → hits). `unfiltered first` is unfiltered search's first query of the same text on a \
                 reader warmed the same way: what any engine pays after a reload. Medians of fresh \
                 services; µs in the run's clock, wall-clock µs beside the first query.\n"
            )?;
            writeln!(
                out,
                "| caller | shape | first µs (wall) | warm p50 µs | × warm | profiles | allowed sets | search \
                 | page | unfiltered first (warm p50) | warmed by | cache bytes (entries) |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|---|---|---|---|---|")?;
            let us = |v: Option<f64>| v.map_or("–".to_string(), |v| format!("{v:.0}"));
            for cold in &self.cold {
                let parts =
                    cold.parts.map_or(["–".to_string(), "–".into(), "–".into(), "–".into()], |p| {
                        [p.profiles_us, p.allowed_us, p.search_us, p.page_us].map(|v| format!("{v:.0}"))
                    });
                writeln!(
                    out,
                    "| {} | {} | {:.0} ({}) | {:.0} | {:.1} | {} | {} | {} | {} | {} ({}) | {} | {} ({}) |",
                    cold.caller,
                    cold.shape.describe(),
                    cold.first_us,
                    us(cold.first_wall_us),
                    cold.warm_p50_us,
                    cold.first_us / cold.warm_p50_us.max(1.0),
                    parts[0],
                    parts[1],
                    parts[2],
                    parts[3],
                    us(cold.unfiltered_first_us),
                    us(cold.unfiltered_warm_p50_us),
                    cold.warmed_by.as_deref().unwrap_or("–"),
                    cold.cache_bytes,
                    cold.cache_entries
                )?;
            }
            if let Some(bytes) = self.cold.iter().filter_map(|c| c.profile_index_bytes).max() {
                writeln!(
                    out,
                    "\nThe segments' profile indexes (alive documents grouped by profile, built when the \
                     service opens or reloads, shared by every caller): {bytes} bytes."
                )?;
            }
            writeln!(out)?;
        }

        if !self.reloads.is_empty() {
            writeln!(out, "## Reloads (permdex)\n")?;
            writeln!(
                out,
                "| event | segments after | change ms | reload ms | first query µs per caller (warm p50) |"
            )?;
            writeln!(out, "|---|---|---|---|---|")?;
            for r in &self.reloads {
                let firsts: Vec<String> = r
                    .first_queries
                    .iter()
                    .map(|f| format!("{}: {:.0} ({:.0})", f.caller, f.micros, f.warm_p50_us))
                    .collect();
                writeln!(
                    out,
                    "| {} | {} | {:.0} | {:.0} | {} |",
                    r.event,
                    r.segments_after,
                    r.change_ms,
                    r.reload_ms,
                    firsts.join(", ")
                )?;
            }
            writeln!(out)?;
        }

        if !self.permission_changes.is_empty() {
            writeln!(out, "## Permission changes while queries run (permdex)\n")?;
            writeln!(
                out,
                "| change | documents affected | rewritten (permdex) | rewritten (rivals) | commit ms | reload ms | time to effect ms | verified | other searches p50 / p99 µs before → during |"
            )?;
            writeln!(out, "|---|---|---|---|---|---|---|---|---|")?;
            for c in &self.permission_changes {
                let rivals: Vec<String> =
                    c.rival_rewrites.iter().map(|(s, n)| format!("{}: {n}", s.name())).collect();
                writeln!(
                    out,
                    "| {} | {} | {} | {} | {:.1} | {:.1} | {:.1} | {} | {:.0} / {:.0} → {:.0} / {:.0} ({} searches) |",
                    c.change,
                    c.documents_affected,
                    c.documents_rewritten,
                    rivals.join(", "),
                    c.commit_ms,
                    c.reload_ms,
                    c.time_to_effect_ms,
                    if c.verified { "yes" } else { "NO" },
                    c.background_before.p50_us,
                    c.background_before.p99_us,
                    c.background_during.p50_us,
                    c.background_during.p99_us,
                    c.background_during.samples,
                )?;
            }
            writeln!(out)?;
        }

        if !self.targets.is_empty() {
            writeln!(out, "## Targets\n")?;
            writeln!(out, "| target | measured | met | why missed |")?;
            writeln!(out, "|---|---|---|---|")?;
            for t in &self.targets {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    t.target,
                    t.measured,
                    if t.met { "yes" } else { "**no**" },
                    t.why
                )?;
            }
            writeln!(out)?;
        }
        Ok(())
    }

    /// One row per latency and throughput cell.
    pub fn csv(&self) -> String {
        let mut out = String::from(
            "kind,strategy,shape,caller,share,threads,samples,p50_us,p95_us,p99_us,p999_us,mean_us,max_us,qps,p50_ratio,p99_ratio\n",
        );
        for (kind, cells) in [("latency", &self.latency), ("throughput", &self.throughput)] {
            for c in cells {
                let ratio = c.shape.and_then(|s| self.ratio(c.strategy, s, &c.caller));
                let _ = writeln!(
                    out,
                    "{kind},{},{},{},{},{},{},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{:.1},{},{}",
                    c.strategy.name(),
                    c.shape.map_or("mixed", |s| s.name()),
                    c.caller,
                    c.share,
                    c.threads,
                    c.latency.samples,
                    c.latency.p50_us,
                    c.latency.p95_us,
                    c.latency.p99_us,
                    c.latency.p999_us,
                    c.latency.mean_us,
                    c.latency.max_us,
                    c.latency.qps,
                    ratio.map_or(String::new(), |r| format!("{:.3}", r.0)),
                    ratio.map_or(String::new(), |r| format!("{:.3}", r.1)),
                );
            }
        }
        out
    }
}

fn short(revision: &str) -> &str {
    &revision[..revision.len().min(10)]
}

fn opt(value: Option<f64>) -> String {
    value.map_or("?".to_string(), |v| format!("{v:.2}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summary_percentiles_use_the_nearest_rank() {
        let s = Summary::of((1..=1000).map(f64::from).collect(), 2.0);
        assert_eq!(
            (s.samples, s.p50_us, s.p95_us, s.p99_us, s.p999_us, s.max_us),
            (1000, 500.0, 950.0, 990.0, 999.0, 1000.0)
        );
        assert_eq!(s.qps, 500.0);
        assert_eq!(s.percentiles_us.len(), 101);
        assert_eq!((s.percentiles_us[0], s.percentiles_us[100]), (1.0, 1000.0));
        let empty = Summary::of(Vec::new(), 0.0);
        assert_eq!((empty.samples, empty.p50_us, empty.qps), (0, 0.0, 0.0));
    }
}
