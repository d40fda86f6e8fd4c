//! The `permdex extract FILE…` command: extracts local files through the isolated worker and prints, per
//! file, the detected type, the outcome with its reason, the time taken and the text (or a JSON array).
//!
//! It exists to check extraction on real files and to measure it; it does not index anything.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use permdex::extract::{Error, ExtractConfig, Extractor, Hint, Outcome};
use serde::Serialize;

use super::Usage;

/// Flags of `permdex extract`.
#[derive(Debug, Clone, clap::Args)]
pub struct ExtractArgs {
    /// Files to extract.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Print one JSON array (path, detected, status, reason, elapsed_ms, text) instead of text.
    #[arg(long)]
    pub json: bool,
    /// Wall-clock budget per file, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 20.0)]
    pub time_budget: f64,
    /// Address-space limit of each worker, in MiB.
    #[arg(long, value_name = "MIB", default_value_t = 512)]
    pub memory_limit: u64,
    /// Files larger than this many MiB are skipped.
    #[arg(long, value_name = "MIB", default_value_t = 64)]
    pub max_input: usize,
}

impl ExtractArgs {
    /// The validated worker configuration these flags describe.
    pub fn config(&self) -> Result<ExtractConfig, Usage> {
        let time_budget = Duration::try_from_secs_f64(self.time_budget)
            .ok()
            .filter(|budget| !budget.is_zero())
            .ok_or_else(|| {
                Usage::flag(
                    "time-budget",
                    format!("{} is not a positive number of seconds", self.time_budget),
                )
            })?;
        Ok(ExtractConfig {
            time_budget,
            memory_limit_bytes: self.memory_limit.saturating_mul(1 << 20),
            max_input_bytes: self.max_input.saturating_mul(1 << 20),
            ..ExtractConfig::default()
        })
    }
}

/// Counts of a run, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    /// Success only when no file failed (skipped files are not failures: they were never meant to be read).
    pub fn exit_code(&self) -> ExitCode {
        if self.failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        }
    }
}

#[derive(Debug, Serialize)]
struct FileReport {
    path: String,
    detected: Option<String>,
    status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    elapsed_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    truncated: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<String>,
}

/// Extracts every file in `args`, writing the report to `out`.
pub fn run(args: &ExtractArgs, out: &mut dyn Write) -> anyhow::Result<Summary> {
    let extractor = Extractor::new(args.config()?);
    let mut summary = Summary::default();
    let mut reports = Vec::new();
    for path in &args.files {
        let report = extract_file(&extractor, path);
        match report.status {
            "ok" => summary.ok += 1,
            "skipped" => summary.skipped += 1,
            _ => summary.failed += 1,
        }
        if args.json {
            reports.push(report);
        } else {
            write_text_report(out, &report)?;
        }
    }
    if args.json {
        serde_json::to_writer_pretty(&mut *out, &reports)
            .map_err(|err| Error::Io(std::io::Error::other(err)))?;
        writeln!(out)?;
    } else {
        writeln!(out, "{} ok, {} failed, {} skipped", summary.ok, summary.failed, summary.skipped)?;
    }
    Ok(summary)
}

fn extract_file(extractor: &Extractor, path: &std::path::Path) -> FileReport {
    let shown = path.display().to_string();
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(source) => {
            return FileReport {
                path: shown.clone(),
                detected: None,
                status: "failed",
                reason: Some(Error::ReadFile { path: shown, source }.to_string()),
                elapsed_ms: 0.0,
                truncated: None,
                text: None,
            }
        }
    };
    let hint =
        Hint { filename: path.file_name().map(|n| n.to_string_lossy().into_owned()), media_type: None };
    let extraction = extractor.extract(&bytes, &hint);
    let status = extraction.outcome.label();
    let (reason, truncated, text) = match extraction.outcome {
        Outcome::Ok { text, truncated } => (None, Some(truncated), Some(text)),
        Outcome::Failed { reason } | Outcome::Skipped { reason } => (Some(reason), None, None),
    };
    FileReport {
        path: shown,
        detected: Some(extraction.detected.label().to_owned()),
        status,
        reason,
        elapsed_ms: extraction.elapsed.as_secs_f64() * 1000.0,
        truncated,
        text,
    }
}

fn write_text_report(out: &mut dyn Write, report: &FileReport) -> Result<(), Error> {
    let detected = report.detected.as_deref().unwrap_or("-");
    write!(out, "== {} ({detected}, {}, {:.1} ms", report.path, report.status, report.elapsed_ms)?;
    match (&report.text, &report.reason) {
        (Some(text), _) => {
            let truncated = if report.truncated == Some(true) { ", truncated" } else { "" };
            writeln!(out, ", {} chars{truncated})", text.chars().count())?;
            if !text.is_empty() {
                writeln!(out, "{text}")?;
            }
        }
        (None, Some(reason)) => writeln!(out, "): {reason}")?,
        (None, None) => writeln!(out, ")")?,
    }
    writeln!(out)?;
    Ok(())
}
