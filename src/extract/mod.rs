//! Text extraction: Confluence storage XHTML, Jira ADF and attachment files to clean text.
//!
//! - [`storage_to_text`]: Confluence storage format (XHTML with `ac:`/`ri:` macros) → text, mentions named
//!   through a [`UserNames`] lookup.
//! - [`adf_to_text`]: Atlassian Document Format JSON → text.
//! - [`Extractor`]: attachments (PDF, DOCX/PPTX/XLSX, ODT/ODS/ODP, XLS, RTF, HTML, e-mail, zip, plain text,
//!   Markdown, CSV, JSON, XML; images with OCR when [`Engines::ocr`] is on) → text, each in a child process
//!   with an empty environment, a sandbox, a time budget, a memory bound and size caps, so one hostile file
//!   costs one failed attachment and never the caller. The type comes from the bytes ([`sniff()`]); the filename
//!   and media type in the [`Hint`] only break ties. Files inside files (zip members, e-mail attachments) go
//!   through the same dispatcher ([`Nested`]), to a bounded depth.
//!
//! ```no_run
//! use permdex::extract::{ExtractConfig, Extractor, Hint, Outcome};
//!
//! let extractor = Extractor::new(ExtractConfig::default());
//! let bytes = std::fs::read("report.pdf").unwrap();
//! let extraction = extractor.extract(&bytes, &Hint::from_filename("report.pdf"));
//! match extraction.outcome {
//!     Outcome::Ok { text, .. } => println!("{}: {} chars", extraction.detected, text.len()),
//!     Outcome::Failed { reason } | Outcome::Skipped { reason } => eprintln!("not indexed: {reason}"),
//! }
//! ```
//!
//! Storage and ADF conversion run in-process: they are our own bounded code over text the API returned.
//! Nothing here fetches, indexes or decides permissions.

pub mod adf;
pub mod archive;
pub mod eml;
pub mod helper;
pub mod html;
pub mod layer;
pub mod legacy;
pub mod ocr;
pub mod odf;
pub mod office;
pub mod pdf;
pub mod rtf;
pub mod sandbox;
pub mod sniff;
pub mod storage;
pub mod text;
pub mod worker;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use adf::adf_to_text;
pub use ocr::Ocr;
pub use office::ZipLimits;
pub use pdf::PdfEngine;
pub use sandbox::Confinement;
pub use sniff::{sniff, FileType, Hint};
pub use storage::{storage_to_text, NoUserNames, UserNames};
pub use worker::{ExtractConfig, Extractor};

/// The version of what the extractors do: stored with each attachment's outcome, so that a later sync
/// extracts again what an older extractor failed on, found empty or skipped. Raise it whenever a change makes
/// the extractors read files (or types) they could not read before.
pub const EXTRACTOR_VERSION: u32 = 3;

/// Errors raised while extracting text. Per-file problems end up as an [`Outcome`] reason; these variants
/// are what those reasons are made of, plus the few failures of the machinery itself.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("extraction failed for {name}: {reason}")]
    Failed { name: String, reason: String },
    #[error("cannot read zip archive: {reason}")]
    Archive { reason: String },
    #[error("archive has {entries} entries, more than the limit of {limit}")]
    TooManyEntries { entries: usize, limit: usize },
    #[error("archive inflates beyond the limit of {limit} bytes (while reading {part})")]
    ArchiveTooLarge { part: String, limit: u64 },
    #[error("{part} inflates more than {ratio}:1, above the limit of {limit}:1 (zip bomb?)")]
    CompressionRatio { part: String, ratio: u64, limit: u64 },
    #[error("document part {part} is missing")]
    MissingPart { part: String },
    #[error("malformed xml in {part}: {reason}")]
    Xml { part: String, reason: String },
    #[error("{file_type} is not an office open xml type")]
    NotOffice { file_type: FileType },
    #[error("pdf: {reason}")]
    Pdf { reason: String },
    #[error("e-mail: {reason}")]
    Mail { reason: String },
    #[error("rtf: {reason}")]
    Rtf { reason: String },
    #[error("xls: {reason}")]
    Xls { reason: String },
    #[error("ocr: {reason}")]
    Ocr { reason: String },
    #[error("extractor panicked: {reason}")]
    Panicked { reason: String },
    #[error("extraction worker protocol: {reason}")]
    Protocol { reason: String },
    #[error("cannot read {path}: {source}")]
    ReadFile { path: String, source: std::io::Error },
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

/// What became of one attachment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    /// Text was extracted. `truncated` says the text was cut at the output cap.
    Ok { text: String, truncated: bool },
    /// Extraction was attempted and did not produce text: a broken file, a crash, a timeout, a memory limit.
    Failed { reason: String },
    /// Extraction was not attempted: unsupported type, input over the size cap.
    Skipped { reason: String },
}

impl Outcome {
    /// "ok", "empty" (read without error, but no text: a scan without OCR, an empty document), "failed" or
    /// "skipped".
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Ok { text, .. } if text.trim().is_empty() => "empty",
            Outcome::Ok { .. } => "ok",
            Outcome::Failed { .. } => "failed",
            Outcome::Skipped { .. } => "skipped",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Ok { .. } => None,
            Outcome::Failed { reason } | Outcome::Skipped { reason } => Some(reason),
        }
    }

    pub fn text(&self) -> Option<&str> {
        match self {
            Outcome::Ok { text, .. } => Some(text),
            _ => None,
        }
    }
}

/// The result of extracting one attachment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extraction {
    pub detected: FileType,
    pub outcome: Outcome,
    /// Wall time, including starting the worker.
    pub elapsed: Duration,
    /// What the worker's sandbox enforced; `None` when no worker answered.
    pub confinement: Option<Confinement>,
}

/// Bounds that apply inside the extraction itself (the worker enforces time and memory around it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    /// Text beyond this many bytes is cut (at a character boundary) and the outcome marked truncated.
    pub max_output_bytes: usize,
    pub zip: ZipLimits,
}

impl Default for Limits {
    fn default() -> Self {
        Self { max_output_bytes: 8 << 20, zip: ZipLimits::default() }
    }
}

/// Everything the extraction inside a worker is told: its bounds and which engines it may use.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Settings {
    pub limits: Limits,
    pub engines: Engines,
}

/// Which extractors run where a type has several, and the optional external helpers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Engines {
    /// PDF text extractors, tried in order until one yields text that reads as words (see `pdf.rs`).
    pub pdf: Vec<PdfEngine>,
    /// OCR for images and for PDFs without a text layer; `None` (the default) turns it off.
    pub ocr: Option<Ocr>,
}

impl Default for Engines {
    /// The pure-Rust PDF engines, no OCR: nothing outside the binary is needed.
    fn default() -> Self {
        Self { pdf: PdfEngine::BUILT_IN.to_vec(), ocr: None }
    }
}

/// How deep files inside files (zip members, e-mail attachments) are read; deeper ones keep their names.
pub const MAX_NESTING: usize = 3;

/// Extraction of a file found inside another (a zip member, an e-mail attachment): the settings in force
/// and how deep the current file is.
pub struct Nested<'a> {
    settings: &'a Settings,
    depth: usize,
}

impl<'a> Nested<'a> {
    /// The outermost file.
    pub fn top(settings: &'a Settings) -> Self {
        Self { settings, depth: 0 }
    }

    pub fn limits(&self) -> &Limits {
        &self.settings.limits
    }

    /// A file inside the current one: its name on a line, then its text when it has any. A member that
    /// cannot be read, has no text, or sits too deep keeps its name, and never fails its container.
    pub fn attached(&self, name: &str, bytes: &[u8], hint: &Hint) -> String {
        let detected = sniff(bytes, hint);
        if self.depth + 1 >= MAX_NESTING || detected.unsupported_reason().is_some() {
            return name.to_owned();
        }
        let inner = Nested { settings: self.settings, depth: self.depth + 1 };
        let extracted = catch_unwind(AssertUnwindSafe(|| text_of(bytes, detected, &inner)));
        match extracted {
            Ok(Ok(text)) if !text.trim().is_empty() => format!("{name}\n{text}"),
            _ => name.to_owned(),
        }
    }
}

/// Detects the type and extracts text in the current process, with no isolation.
///
/// Panics are caught, but a PDF can still overflow the stack, loop or exhaust memory here: this is what
/// the worker process runs. Callers that hold anything of value use [`Extractor`].
pub fn extract_unisolated(bytes: &[u8], hint: &Hint, settings: &Settings) -> (FileType, Outcome) {
    let detected = sniff(bytes, hint);
    let ocr_reads_it = detected == FileType::Image && settings.engines.ocr.is_some();
    if let Some(reason) = detected.unsupported_reason().filter(|_| !ocr_reads_it) {
        return (detected, Outcome::Skipped { reason: reason.to_owned() });
    }
    let nested = Nested::top(settings);
    let extracted = catch_unwind(AssertUnwindSafe(|| text_of(bytes, detected, &nested)))
        .unwrap_or_else(|payload| Err(Error::Panicked { reason: pdf::panic_message(payload.as_ref()) }));
    let outcome = match extracted {
        Ok(text) => truncate(text, settings.limits.max_output_bytes),
        Err(err) => Outcome::Failed { reason: err.to_string() },
    };
    (detected, outcome)
}

fn text_of(bytes: &[u8], file_type: FileType, nested: &Nested<'_>) -> Result<String, Error> {
    let decoded = || {
        let encoding = sniff::detect_text_encoding(bytes).unwrap_or(sniff::TextEncoding::Utf8);
        text::decode_bytes(bytes, encoding)
    };
    let settings = nested.settings;
    match file_type {
        FileType::Pdf => pdf::pdf_to_text(bytes, &settings.engines, settings.limits.max_output_bytes),
        FileType::Docx | FileType::Pptx | FileType::Xlsx => {
            office::office_to_text(bytes, file_type, &settings.limits.zip)
        }
        FileType::Odt | FileType::Ods | FileType::Odp => odf::odf_to_text(bytes, &settings.limits.zip),
        FileType::Xls => legacy::xls_to_text(bytes),
        FileType::Rtf => rtf::rtf_to_text(&decoded()),
        FileType::Eml => eml::eml_to_text(bytes, nested),
        FileType::Zip => archive::zip_to_text(bytes, nested),
        FileType::Text | FileType::Markdown => Ok(text::plain_to_text(&decoded())),
        FileType::Csv => Ok(text::csv_to_text(&decoded())),
        FileType::Json => Ok(text::json_to_text(&decoded())),
        FileType::Html => Ok(html::html_to_text(&decoded())),
        FileType::Xml => Ok(text::strip_markup(&decoded())),
        FileType::Image => match &settings.engines.ocr {
            Some(ocr) => ocr::image_to_text(bytes, ocr, settings.limits.max_output_bytes),
            None => Err(unsupported(file_type)),
        },
        FileType::Archive | FileType::LegacyOffice | FileType::Binary => Err(unsupported(file_type)),
    }
}

fn unsupported(file_type: FileType) -> Error {
    Error::Failed {
        name: file_type.label().to_owned(),
        reason: file_type.unsupported_reason().unwrap_or("unsupported").to_owned(),
    }
}

fn truncate(mut text: String, max_bytes: usize) -> Outcome {
    if text.len() <= max_bytes {
        return Outcome::Ok { text, truncated: false };
    }
    text.truncate(text::floor_char_boundary(&text, max_bytes));
    Outcome::Ok { text, truncated: true }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unisolated_dispatch_by_detected_type() {
        let settings = Settings::default();
        let docx = office::tests::build_zip(&[(
            "word/document.xml",
            "<w:document xmlns:w=\"w\"><w:body><w:p><w:r><w:t>docx words</w:t></w:r></w:p></w:body></w:document>",
        )]);
        let cases: Vec<(&str, Vec<u8>, Hint, FileType, Outcome)> = vec![
            (
                "docx",
                docx,
                Hint::default(),
                FileType::Docx,
                Outcome::Ok { text: "docx words".into(), truncated: false },
            ),
            (
                "markdown",
                b"# Title\r\n\r\nbody".to_vec(),
                Hint::from_filename("a.md"),
                FileType::Markdown,
                Outcome::Ok { text: "# Title\n\nbody".into(), truncated: false },
            ),
            (
                "csv",
                b"a,b\n".to_vec(),
                Hint::from_filename("a.csv"),
                FileType::Csv,
                Outcome::Ok { text: "a\tb".into(), truncated: false },
            ),
            (
                "json",
                br#"{"k":"value"}"#.to_vec(),
                Hint::default(),
                FileType::Json,
                Outcome::Ok { text: "value".into(), truncated: false },
            ),
            (
                "html",
                b"<!doctype html><p>x</p><script>y</script>".to_vec(),
                Hint::default(),
                FileType::Html,
                Outcome::Ok { text: "x".into(), truncated: false },
            ),
            (
                "image skipped",
                b"\x89PNG\r\n\x1a\n....".to_vec(),
                Hint::default(),
                FileType::Image,
                Outcome::Skipped { reason: "image without a text layer (ocr is off)".into() },
            ),
        ];
        for (name, bytes, hint, detected, outcome) in cases {
            assert_eq!(extract_unisolated(&bytes, &hint, &settings), (detected, outcome), "case {name}");
        }
    }

    #[test]
    fn output_is_truncated_at_a_char_boundary() {
        let mut settings = Settings::default();
        settings.limits.max_output_bytes = 5;
        let (_, outcome) = extract_unisolated("ééééé".as_bytes(), &Hint::default(), &settings);
        assert_eq!(outcome, Outcome::Ok { text: "éé".into(), truncated: true });
    }

    #[test]
    fn broken_office_file_fails_with_reason() {
        let (detected, outcome) = extract_unisolated(
            b"PK\x03\x04 truncated",
            &Hint::from_filename("q3.xlsx"),
            &Settings::default(),
        );
        assert_eq!(detected, FileType::Xlsx);
        assert!(
            matches!(&outcome, Outcome::Failed { reason } if reason.starts_with("cannot read zip archive")),
            "{outcome:?}"
        );
    }
}
