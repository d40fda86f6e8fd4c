//! The `permdex extract FILE…` command: extracts local files through the isolated worker and prints, per
//! file, the detected type, the outcome with its reason, the time taken and the text (or a JSON array).
//!
//! It exists to check extraction on real files and to measure it; it does not index anything.

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use permdex::extract::{Engines, Error, ExtractConfig, Extractor, Hint, Ocr, Outcome, PdfEngine};
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
    /// Recognise text in images and scanned PDFs with Tesseract (`tesseract`, and `pdftoppm` for PDFs,
    /// must be installed).
    #[arg(long)]
    pub ocr: bool,
    /// Read PDFs with poppler's `pdftotext` first (it must be installed), then with the built-in engines.
    #[arg(long)]
    pub pdftotext: bool,
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
        let mut engines = Engines::default();
        if self.ocr {
            engines.ocr = Some(Ocr::detect().ok_or_else(|| {
                Usage::flag("ocr", "tesseract is not installed (Debian package tesseract-ocr)".to_owned())
            })?);
        }
        if self.pdftotext {
            let poppler = PdfEngine::pdftotext().ok_or_else(|| {
                Usage::flag(
                    "pdftotext",
                    "pdftotext is not installed (Debian package poppler-utils)".to_owned(),
                )
            })?;
            engines.pdf.insert(0, poppler);
        }
        Ok(ExtractConfig {
            time_budget,
            memory_limit_bytes: self.memory_limit.saturating_mul(1 << 20),
            max_input_bytes: self.max_input.saturating_mul(1 << 20),
            engines,
            ..ExtractConfig::default()
        })
    }
}

/// Counts of a run, by outcome.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub ok: usize,
    /// Read without error but without text (a scan without OCR, an empty document).
    pub empty: usize,
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
    /// What the worker's sandbox enforced, e.g. "landlock full, seccomp on".
    #[serde(skip_serializing_if = "Option::is_none")]
    sandbox: Option<String>,
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
            "empty" => summary.empty += 1,
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
        writeln!(
            out,
            "{} ok, {} empty, {} failed, {} skipped",
            summary.ok, summary.empty, summary.failed, summary.skipped
        )?;
    }
    Ok(summary)
}

fn extract_file(extractor: &Extractor, path: &std::path::Path) -> FileReport {
    let shown = path.display().to_string();
    let hint =
        Hint { filename: path.file_name().map(|n| n.to_string_lossy().into_owned()), media_type: None };
    let extraction = match read_capped(path, extractor.config().max_input_bytes) {
        Ok(Capped::Whole(bytes)) => extractor.extract(&bytes, &hint),
        Ok(Capped::Over { head, len }) => extractor.oversized(&head, &hint, len),
        Err(source) => {
            return FileReport {
                path: shown.clone(),
                detected: None,
                status: "failed",
                reason: Some(Error::ReadFile { path: shown, source }.to_string()),
                elapsed_ms: 0.0,
                truncated: None,
                text: None,
                sandbox: None,
            }
        }
    };
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
        sandbox: extraction.confinement.map(|confinement| confinement.to_string()),
    }
}

/// A file read up to the size cap.
enum Capped {
    Whole(Vec<u8>),
    /// Over the cap: the bytes read (at most the cap plus one) and the size, when the file system knows it.
    Over {
        head: Vec<u8>,
        len: Option<u64>,
    },
}

/// Reads a file without ever holding more than `cap + 1` bytes of it, whatever its size (a pipe or a file
/// that grows while being read included).
fn read_capped(path: &std::path::Path, cap: usize) -> std::io::Result<Capped> {
    /// Enough of an oversized file to tell its type.
    const HEAD: u64 = 8 * 1024;
    let file = std::fs::File::open(path)?;
    let known_len = file.metadata().ok().filter(|meta| meta.is_file()).map(|meta| meta.len());
    if let Some(len) = known_len.filter(|&len| len > cap as u64) {
        let mut head = Vec::new();
        file.take(HEAD).read_to_end(&mut head)?;
        return Ok(Capped::Over { head, len: Some(len) });
    }
    let limit = cap as u64 + 1;
    let mut bytes = Vec::with_capacity(known_len.unwrap_or(0).min(limit) as usize);
    file.take(limit).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap as u64 {
        // A pipe, or a file that grew while being read: its size is not known, only that it is too large.
        return Ok(Capped::Over { head: bytes, len: None });
    }
    Ok(Capped::Whole(bytes))
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
