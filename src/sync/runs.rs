//! Run records: what one sync of one source did, appended as one JSON line to `{data_dir}/runs/{source}.jsonl`
//! and read back by `permdex status`.
//!
//! A record holds the mode, start and end, the outcome, counts per [`Counted`] (a product's kind of
//! document, or a permission source: seen, added, updated, deleted, unchanged, failed, ACL unknown), the HTTP client's counters, and every failure with the item it
//! concerns and why. A run with failures says so: [`RunRecord::failed`] is what the CLI's exit status
//! follows.
//!
//! This file does not sync anything; it is the record's shape, its file, and its rendering.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Error;
use crate::atlassian::ClientStats;
use crate::index::{DocId, Kind, Product, UnknownValue};

/// What kind of sync ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Everything in scope, then deletion reconciliation.
    Full,
    /// What changed since the watermark, deletions, then a permission refresh.
    Incremental,
    /// Only permissions and group membership; no bodies.
    PermissionsOnly,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Full => "full",
            Mode::Incremental => "incremental",
            Mode::PermissionsOnly => "permissions-only",
        }
    }
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status", content = "reason")]
pub enum RunOutcome {
    /// Everything listed was processed (some items may still have failed: see the counts).
    Completed,
    /// Stopped on request after its last checkpoint; the next run of the same mode resumes.
    Cancelled,
    /// Stopped by an error that ended the run (the index keeps its last checkpoint).
    Aborted(String),
}

/// What a count is about: the documents of one product and kind, or a permission source (whose failures
/// are counted too). Written as `confluence:page`, `jira:comment`, `confluence:space`, `jira:project`,
/// `directory`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Counted {
    Docs(Product, Kind),
    /// Confluence spaces and their permissions.
    Spaces,
    /// Jira projects and their permission schemes, roles and security levels.
    Projects,
    /// Users, groups and their members.
    Directory,
}

impl From<&DocId> for Counted {
    fn from(id: &DocId) -> Counted {
        Counted::Docs(id.product, id.kind)
    }
}

impl std::fmt::Display for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Counted::Docs(product, kind) => write!(f, "{product}:{kind}"),
            Counted::Spaces => f.write_str("confluence:space"),
            Counted::Projects => f.write_str("jira:project"),
            Counted::Directory => f.write_str("directory"),
        }
    }
}

impl std::str::FromStr for Counted {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "confluence:space" => Ok(Counted::Spaces),
            "jira:project" => Ok(Counted::Projects),
            "directory" => Ok(Counted::Directory),
            _ => {
                let bad = || UnknownValue { what: "count", value: s.to_string() };
                let (product, kind) = s.split_once(':').ok_or_else(bad)?;
                Ok(Counted::Docs(product.parse().map_err(|_| bad())?, kind.parse().map_err(|_| bad())?))
            }
        }
    }
}

impl TryFrom<String> for Counted {
    type Error = UnknownValue;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<Counted> for String {
    fn from(counted: Counted) -> String {
        counted.to_string()
    }
}

/// Counters of one [`Counted`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counts {
    pub seen: u64,
    pub added: u64,
    pub updated: u64,
    pub deleted: u64,
    pub unchanged: u64,
    pub failed: u64,
    /// Indexed without text on purpose (an attachment over the size cap, a type that has no text).
    pub skipped: u64,
    /// Attachments whose text was extracted.
    #[serde(default)]
    pub extracted: u64,
    /// Attachments read without error but without text (a scan without OCR, an empty file).
    #[serde(default)]
    pub empty: u64,
    /// Indexed, but visible to nobody because its permissions could not be read.
    pub acl_unknown: u64,
    /// Documents whose ACL profile changed without their content changing.
    pub repointed: u64,
    /// Not read because the run stopped (Ctrl-C, SIGTERM) while their calls were on the way: not failures;
    /// the run is resumable and reads them again.
    #[serde(default)]
    pub interrupted: u64,
}

/// The client's counters for the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiCounts {
    pub calls: u64,
    pub throttled: u64,
    pub retries: u64,
    pub server_errors: u64,
    pub malformed: u64,
    pub failures: u64,
}

impl ApiCounts {
    /// Adds the counters of one client (each product has its own).
    pub fn add(&mut self, s: ClientStats) {
        self.calls += s.api_calls;
        self.throttled += s.throttled;
        self.retries += s.retries;
        self.server_errors += s.server_errors;
        self.malformed += s.malformed;
        self.failures += s.failures;
    }
}

/// One failure: the item (document id, or the listing or permission source) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    pub item: String,
    pub reason: String,
}

/// What one sync run of one source did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub run_id: String,
    pub source: String,
    pub mode: Mode,
    pub started: DateTime<Utc>,
    pub ended: DateTime<Utc>,
    pub outcome: RunOutcome,
    /// Whether the run continued an interrupted one.
    #[serde(default)]
    pub resumed: bool,
    /// Per product and kind of document (`confluence:page`, `jira:comment`, …) and per permission source.
    pub counts: BTreeMap<Counted, Counts>,
    pub api: ApiCounts,
    pub failures: Vec<Failure>,
    /// Things the operator should know that are not failures (a forced full sync and why).
    #[serde(default)]
    pub notes: Vec<String>,
}

/// Most failures kept in one record; the count still says how many there were.
pub const MAX_RECORDED_FAILURES: usize = 1000;

impl RunRecord {
    pub fn new(run_id: String, source: &str, mode: Mode, started: DateTime<Utc>) -> RunRecord {
        RunRecord {
            run_id,
            source: source.to_string(),
            mode,
            started,
            ended: started,
            outcome: RunOutcome::Completed,
            resumed: false,
            counts: BTreeMap::new(),
            api: ApiCounts::default(),
            failures: Vec::new(),
            notes: Vec::new(),
        }
    }

    pub fn counts_mut(&mut self, counted: impl Into<Counted>) -> &mut Counts {
        self.counts.entry(counted.into()).or_default()
    }

    /// Records a failure of `item` (a document id or a listing) and counts it against `counted`.
    pub fn fail(&mut self, counted: impl Into<Counted>, item: impl Into<String>, reason: impl Into<String>) {
        self.counts_mut(counted).failed += 1;
        let failure = Failure { item: item.into(), reason: reason.into() };
        tracing::warn!(item = %failure.item, reason = %failure.reason, "sync failure");
        if self.failures.len() < MAX_RECORDED_FAILURES {
            self.failures.push(failure);
        }
    }

    /// Records that `item` could not be read because its call ended with `error`: a failure with `reason`,
    /// unless the call was cut short because the run is stopping; then the item is counted as interrupted
    /// (the run reads it again when it resumes), and nothing failed.
    pub fn fail_call(
        &mut self,
        counted: impl Into<Counted>,
        item: impl Into<String>,
        error: &crate::atlassian::Error,
        reason: impl Into<String>,
    ) {
        if error.is_cancelled() {
            self.counts_mut(counted).interrupted += 1;
        } else {
            self.fail(counted, item, reason);
        }
    }

    /// Records an item deliberately indexed without text, with the reason (not a failure).
    pub fn skip(&mut self, counted: impl Into<Counted>, item: impl Into<String>, reason: impl Into<String>) {
        self.counts_mut(counted).skipped += 1;
        if self.notes.len() < MAX_RECORDED_FAILURES {
            self.notes.push(format!("skipped {}: {}", item.into(), reason.into()));
        }
    }

    /// Records an attachment read without error but without text.
    pub fn empty(&mut self, counted: impl Into<Counted>, item: impl Into<String>) {
        self.counts_mut(counted).empty += 1;
        if self.notes.len() < MAX_RECORDED_FAILURES {
            self.notes.push(format!("empty {}: no text found", item.into()));
        }
    }

    /// Failures of the run: failed items plus a run that did not complete.
    pub fn failed(&self) -> u64 {
        let items: u64 = self.counts.values().map(|c| c.failed).sum();
        items + u64::from(matches!(self.outcome, RunOutcome::Aborted(_)))
    }

    /// Sum of the counts over every kind.
    pub fn total(&self) -> Counts {
        self.counts.values().fold(Counts::default(), |mut t, c| {
            t.seen += c.seen;
            t.added += c.added;
            t.updated += c.updated;
            t.deleted += c.deleted;
            t.unchanged += c.unchanged;
            t.failed += c.failed;
            t.skipped += c.skipped;
            t.extracted += c.extracted;
            t.empty += c.empty;
            t.acl_unknown += c.acl_unknown;
            t.repointed += c.repointed;
            t.interrupted += c.interrupted;
            t
        })
    }
}

/// Where the run records of `source` live.
pub fn runs_file(data_dir: &Path, source: &str) -> PathBuf {
    data_dir.join("runs").join(format!("{source}.jsonl"))
}

/// Appends `record` to its source's file (one line, flushed to disk).
pub fn append(data_dir: &Path, record: &RunRecord) -> Result<(), Error> {
    let path = runs_file(data_dir, &record.source);
    let io = |source| Error::Io { path: path.clone(), source };
    if let Some(parent) = path.parent() {
        super::datadir::create_private_dir(parent).map_err(io)?;
    }
    let mut line =
        serde_json::to_vec(record).map_err(|e| Error::Io { path: path.clone(), source: e.into() })?;
    line.push(b'\n');
    let mut options = super::datadir::private_file_options();
    options.truncate(false).append(true);
    let mut file = options.open(&path).map_err(io)?;
    file.write_all(&line).map_err(io)?;
    file.sync_all().map_err(io)
}

/// The last `limit` records of `source`, oldest first. Lines that do not parse (a record cut short by a
/// crash, a newer format) are skipped. No file means no runs.
/// Whether the records of `record.source` hold one of the same run attempt (same id and start).
pub fn contains(data_dir: &Path, record: &RunRecord) -> Result<bool, Error> {
    let path = runs_file(data_dir, &record.source);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(source) => return Err(Error::Io { path, source }),
    };
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|source| Error::Io { path: path.clone(), source })?;
        if let Ok(other) = serde_json::from_str::<RunRecord>(&line) {
            if other.run_id == record.run_id && other.started == record.started {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

pub fn read_last(data_dir: &Path, source: &str, limit: usize) -> Result<Vec<RunRecord>, Error> {
    let path = runs_file(data_dir, source);
    let file = match fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(Error::Io { path, source }),
    };
    let mut records = std::collections::VecDeque::with_capacity(limit);
    for line in std::io::BufReader::new(file).lines() {
        let line = line.map_err(|source| Error::Io { path: path.clone(), source })?;
        let Ok(record) = serde_json::from_str::<RunRecord>(&line) else { continue };
        if records.len() == limit {
            records.pop_front();
        }
        if limit > 0 {
            records.push_back(record);
        }
    }
    Ok(records.into())
}

/// A human table of runs, one line each, newest last.
pub fn render_table(records: &[RunRecord]) -> String {
    let mut out = String::new();
    out.push_str(&format!(
        "{:<10} {:<16} {:<20} {:>7} {:>6} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5}  {}\n",
        "source",
        "mode",
        "started (UTC)",
        "secs",
        "seen",
        "added",
        "updated",
        "deleted",
        "failed",
        "no-acl",
        "calls",
        "429s",
        "outcome"
    ));
    for r in records {
        let t = r.total();
        let secs = (r.ended - r.started).num_milliseconds() as f64 / 1000.0;
        let outcome = match &r.outcome {
            RunOutcome::Completed if r.failed() > 0 => format!("completed with {} failure(s)", r.failed()),
            RunOutcome::Completed => "ok".to_string(),
            RunOutcome::Cancelled => "cancelled (resumable)".to_string(),
            RunOutcome::Aborted(reason) => format!("failed: {reason}"),
        };
        out.push_str(&format!(
            "{:<10} {:<16} {:<20} {:>7.1} {:>6} {:>7} {:>7} {:>7} {:>6} {:>6} {:>6} {:>5}  {}\n",
            r.source,
            r.mode.as_str(),
            r.started.format("%Y-%m-%d %H:%M:%S"),
            secs,
            t.seen,
            t.added,
            t.updated,
            t.deleted,
            t.failed,
            t.acl_unknown,
            r.api.calls,
            r.api.throttled,
            outcome
        ));
        if t.extracted + t.empty + t.skipped > 0 {
            out.push_str(&format!(
                "    attachments extracted: {} ok, {} empty, {} skipped, failed ones below\n",
                t.extracted, t.empty, t.skipped
            ));
        }
        for note in r.notes.iter().filter(|n| n.starts_with("skipped ") || n.starts_with("empty ")).take(5) {
            out.push_str(&format!("    {note}\n"));
        }
        for f in r.failures.iter().take(5) {
            out.push_str(&format!("    failed {}: {}\n", f.item, f.reason));
        }
        if r.failures.len() > 5 {
            out.push_str(&format!("    … and {} more (see --json)\n", r.failures.len() - 5));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(n: u32, failed: u64) -> RunRecord {
        let started = DateTime::from_timestamp(1_700_000_000 + i64::from(n), 0).expect("time");
        let mut r = RunRecord::new(format!("run-{n}"), "acme", Mode::Full, started);
        r.counts_mut(Counted::Docs(Product::Confluence, Kind::Page)).seen = 10;
        for i in 0..failed {
            let id = DocId::jira(Kind::Attachment, i.to_string());
            r.fail(&id, id.to_string(), "corrupt pdf");
        }
        r
    }

    #[test]
    fn append_and_read_back_the_last_runs() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert!(read_last(dir.path(), "acme", 3).expect("no file").is_empty());
        for n in 0..5 {
            append(dir.path(), &record(n, u64::from(n % 2))).expect("append");
        }
        // A torn last line (a crash mid-write) is skipped, not fatal.
        let mut f = fs::OpenOptions::new().append(true).open(runs_file(dir.path(), "acme")).expect("open");
        f.write_all(b"{\"run_id\": \"torn").expect("write");
        let last = read_last(dir.path(), "acme", 3).expect("read");
        assert_eq!(last.iter().map(|r| r.run_id.as_str()).collect::<Vec<_>>(), ["run-2", "run-3", "run-4"]);
        assert_eq!(last[1].failed(), 1);
        assert_eq!(last[1].failures[0].item, "jira:attachment:0");
        assert_eq!(last[1].counts[&Counted::Docs(Product::Jira, Kind::Attachment)].failed, 1);
    }

    #[test]
    fn counted_names_round_trip() {
        let all = [
            (Counted::Docs(Product::Confluence, Kind::Blogpost), "confluence:blogpost"),
            (Counted::Docs(Product::Jira, Kind::Comment), "jira:comment"),
            (Counted::Spaces, "confluence:space"),
            (Counted::Projects, "jira:project"),
            (Counted::Directory, "directory"),
        ];
        for (counted, text) in all {
            assert_eq!((counted.to_string(), text.parse::<Counted>()), (text.to_string(), Ok(counted)));
        }
        for bad in ["", "confluence", "jira:task", "wiki:page", "confluence:page:1"] {
            assert!(bad.parse::<Counted>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn failures_count_and_show() {
        let cases = [(record(0, 0), 0, "ok"), (record(1, 2), 2, "completed with 2 failure(s)")];
        for (r, failed, outcome) in cases {
            assert_eq!(r.failed(), failed);
            let table = render_table(std::slice::from_ref(&r));
            assert!(table.contains(outcome), "{table}");
        }
        let mut aborted = record(2, 0);
        aborted.outcome = RunOutcome::Aborted("listing failed".into());
        assert_eq!(aborted.failed(), 1);
        assert!(render_table(&[aborted]).contains("failed: listing failed"));
    }

    #[test]
    fn a_call_cut_short_by_the_stop_is_interrupted_not_failed() {
        use crate::atlassian::Error;
        let mut r = record(3, 0);
        let id = DocId::jira(Kind::Issue, "7");
        let cut = Error::Cancelled { method: "GET".into(), path: "/rest/api/3/issue/7".into() };
        r.fail_call(&id, id.to_string(), &cut, format!("bulk fetch: {cut}"));
        assert_eq!((r.failed(), r.total().interrupted, r.failures.len()), (0, 1, 0));
        let refused = Error::MissingRight { path: "/rest/api/3/issue/7".into(), right: "Browse projects" };
        r.fail_call(&id, id.to_string(), &refused, format!("bulk fetch: {refused}"));
        assert_eq!((r.failed(), r.total().interrupted), (1, 1));
        assert!(r.failures[0].reason.contains("forbidden"), "{:?}", r.failures);
    }
}
