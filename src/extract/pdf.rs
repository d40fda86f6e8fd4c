//! PDF to text, in the current process: pdf-extract first, then our text-layer engine (`layer/`) and
//! pdf_oxide when pdf-extract fails or its text does not read as words, poppler's `pdftotext` when
//! configured, and OCR for a PDF whose text layer is empty.
//!
//! Why three built-in engines: measured against poppler on the test corpus (README, "Extraction"), each reads
//! files the others cannot. pdf-extract spaces most files well but panics on some CJK CMaps, gives up on
//! damaged cross-reference tables, writes right-to-left scripts in visual (reversed) order, and on some fonts
//! emits text glued together or split into fragments. The text layer places every character and spaces words
//! by position, reads predefined CJK CMaps, Type3 fonts, form fields and broken files, but knows no glyph
//! outline: a font without `/ToUnicode` or a known encoding has no text for it. pdf_oxide reads identity
//! CMaps through the embedded font programs, but mangles a few font encodings. So each engine's text is
//! judged by how it reads (`Reading`: word-like tokens of plausible length): the first engine whose text
//! reads well and is substantial wins; otherwise the next engine is asked, and its text wins when it reads
//! clearly better (the text layer replaces pdf-extract's text unless that reads clearly better); a
//! text-layer text that wins and reads well ends the search.
//!
//! The engines panic, overflow their stacks, loop and allocate without bound on hostile files, which no code
//! inside the process can stop. So this module is only ever called inside the extraction worker (see
//! `worker.rs`), never in the crawler's own process; panics are caught and become a failed engine.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::text::collapse_blank_lines;
use super::{helper, ocr, Engines, Error};

/// A PDF text extractor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "engine", rename_all = "snake_case")]
pub enum PdfEngine {
    /// The pdf-extract crate.
    PdfExtract,
    /// The pdf_oxide crate.
    PdfOxide,
    /// permdex's own walk over the text layer (`layer/`).
    TextLayer,
    /// poppler's `pdftotext` program (opt-in: it must be installed).
    Pdftotext { program: PathBuf },
}

impl PdfEngine {
    /// The engines compiled into permdex, in the order they are tried.
    pub const BUILT_IN: [PdfEngine; 3] = [PdfEngine::PdfExtract, PdfEngine::TextLayer, PdfEngine::PdfOxide];

    /// poppler's `pdftotext` from `PATH`, when it is installed.
    pub fn pdftotext() -> Option<Self> {
        helper::find_program("pdftotext").map(|program| PdfEngine::Pdftotext { program })
    }

    pub fn label(&self) -> &'static str {
        match self {
            PdfEngine::PdfExtract => "pdf-extract",
            PdfEngine::PdfOxide => "pdf_oxide",
            PdfEngine::TextLayer => "text layer",
            PdfEngine::Pdftotext { .. } => "pdftotext",
        }
    }

    fn text(&self, bytes: &[u8], max_output: usize) -> Result<String, Error> {
        // The closures only read `bytes`; nothing they touch outlives a panic in a broken state.
        let raw = match self {
            PdfEngine::PdfExtract => {
                catch_unwind(AssertUnwindSafe(|| pdf_extract::extract_text_from_mem(bytes)))
                    .map_err(|payload| Error::Panicked { reason: panic_message(payload.as_ref()) })?
                    .map_err(|err| Error::Pdf { reason: err.to_string() })?
            }
            PdfEngine::PdfOxide => catch_unwind(AssertUnwindSafe(|| oxide_text(bytes, max_output)))
                .map_err(|payload| Error::Panicked { reason: panic_message(payload.as_ref()) })??,
            PdfEngine::TextLayer => {
                catch_unwind(AssertUnwindSafe(|| super::layer::layer_text(bytes, max_output)))
                    .map_err(|payload| Error::Panicked { reason: panic_message(payload.as_ref()) })??
            }
            PdfEngine::Pdftotext { program } => {
                let output = helper::run(program, &["-q", "-enc", "UTF-8", "-", "-"], bytes, max_output)
                    .map_err(|reason| Error::Pdf { reason })?;
                String::from_utf8_lossy(&output).into_owned()
            }
        };
        Ok(clean(&raw))
    }
}

/// Every page's text with pdf_oxide; a page that fails is skipped, a document that cannot be opened fails.
fn oxide_text(bytes: &[u8], max_output: usize) -> Result<String, Error> {
    let pdf_error = |err: pdf_oxide::error::Error| Error::Pdf { reason: err.to_string() };
    let document = pdf_oxide::document::PdfDocument::from_bytes(bytes.to_vec()).map_err(pdf_error)?;
    let pages = document.page_count().map_err(pdf_error)?;
    let mut text = String::new();
    for page in 0..pages {
        if text.len() >= max_output {
            break;
        }
        if let Ok(page_text) = document.extract_text(page) {
            text.push_str(&page_text);
            text.push('\n');
        }
    }
    Ok(text)
}

/// Extracts the text layer of a PDF with the configured engines (see the module header for how one is
/// chosen). A scanned PDF without a text layer yields an empty string, or its recognised text when OCR is on.
pub fn pdf_to_text(bytes: &[u8], engines: &Engines, max_output: usize) -> Result<String, Error> {
    // The best text so far: its score, its text, and the engine that read it.
    let mut best: Option<(f64, String, &PdfEngine)> = None;
    let mut failures = Vec::new();
    for engine in &engines.pdf {
        match engine.text(bytes, max_output) {
            Ok(text) => {
                let reading = Reading::of(&text);
                if reading.reads_well() && reading.words >= SUBSTANTIAL_WORDS {
                    return Ok(text);
                }
                // On short or damaged files the engines' word counts differ by a few either way, so a
                // later engine replaces an earlier doubtful text only when it reads clearly better, except
                // that the text layer, which measured more faithful than pdf-extract on such files, replaces
                // pdf-extract's text unless that reads clearly better.
                let score = reading.score();
                let better = best.as_ref().is_none_or(|(best, _, by)| match (engine, by) {
                    (PdfEngine::TextLayer, PdfEngine::PdfExtract) => score * CLEARLY_BETTER >= *best,
                    _ => score > *best * CLEARLY_BETTER,
                });
                if better {
                    // The text layer's text, when it reads well, measured as faithful as pdf_oxide's on every
                    // file: pdf_oxide, the slowest engine, is not asked.
                    let settled = *engine == PdfEngine::TextLayer && reading.reads_well();
                    best = Some((score, text, engine));
                    if settled {
                        break;
                    }
                }
            }
            Err(err) => {
                failures.push(format!("{}: {}", engine.label(), err.to_string().trim_start_matches("pdf: ")))
            }
        }
    }
    let has_words = best.as_ref().is_some_and(|(score, _, _)| *score > 0.0);
    if let (false, Some(ocr)) = (has_words, &engines.ocr) {
        return ocr::pdf_to_text(bytes, ocr, max_output);
    }
    match best {
        // No words, and an engine said why (a password, a broken file): the reason beats an empty text.
        Some((_, text, _)) if has_words || failures.is_empty() => Ok(text),
        _ => Err(Error::Pdf { reason: failures.join("; ") }),
    }
}

/// A text with this many distinct words, plausibly spaced, is taken without asking another engine; a
/// shorter one may be a damaged file read in part (asking costs little: short files are quick).
const SUBSTANTIAL_WORDS: usize = 50;
/// How much higher a later engine's score must be to replace an earlier engine's text.
const CLEARLY_BETTER: f64 = 1.5;

/// How an engine's text reads: its distinct word-like tokens (not numbers) and their mean length.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Reading {
    words: usize,
    mean_len: f64,
}

impl Reading {
    fn of(text: &str) -> Self {
        let mut distinct = std::collections::HashSet::new();
        let (mut tokens, mut chars, mut ideographs) = (0usize, 0usize, 0usize);
        for token in text.split(|c: char| !c.is_alphanumeric()).filter(|t| !t.is_empty()) {
            if token.chars().all(|c| c.is_numeric()) {
                continue;
            }
            // Ideographs are words of one character each, which nothing spaces: they have no word length.
            let spaced: String = token.chars().filter(|&c| !is_ideograph(c)).collect();
            ideographs += token.chars().count() - spaced.chars().count();
            if !spaced.is_empty() {
                tokens += 1;
                chars += spaced.chars().count();
            }
            distinct.insert(token);
        }
        let mean_len = match (tokens, ideographs) {
            (0, 0) => 0.0,
            // Text in ideographs alone is as well spaced as it can be.
            (0, _) => 5.0,
            _ => chars as f64 / tokens as f64,
        };
        Self { words: distinct.len() + ideographs, mean_len }
    }

    /// Words spaced as words are: not letters split apart (a mean under 3) nor glued together (over 10).
    /// Prose in European languages averages 4 to 6 letters a word.
    fn plausibly_spaced(&self) -> bool {
        (3.0..=10.0).contains(&self.mean_len)
    }

    fn reads_well(&self) -> bool {
        self.words > 0 && self.plausibly_spaced()
    }

    /// Distinct words, discounted tenfold when their spacing is implausible.
    fn score(&self) -> f64 {
        let words = self.words as f64;
        if self.plausibly_spaced() {
            words
        } else {
            words / 10.0
        }
    }
}

fn is_ideograph(c: char) -> bool {
    matches!(c as u32, 0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xF900..=0xFAFF | 0x20000..=0x3134F)
}

/// The message of a panic payload, when it is a string.
pub(crate) fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(message) = payload.downcast_ref::<&str>() {
        (*message).to_owned()
    } else if let Some(message) = payload.downcast_ref::<String>() {
        message.clone()
    } else {
        "panic without a message".to_owned()
    }
}

/// Engines emit runs of spaces, blank lines and stray control characters; keep words and lines.
fn clean(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        let mut previous_space = true;
        for c in line.chars() {
            if c.is_whitespace() || c.is_control() {
                if !previous_space {
                    out.push(' ');
                }
                previous_space = true;
            } else {
                out.push(c);
                previous_space = false;
            }
        }
        while out.ends_with(' ') {
            out.pop();
        }
        out.push('\n');
    }
    collapse_blank_lines(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_collapses_spacing() {
        assert_eq!(clean("\n\n  Hello   world \u{0}\n\n\n\nnext\tline  \n"), "Hello world\n\nnext line");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let cases: [&[u8]; 3] =
            [b"", b"%PDF-1.4\n", b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer\n%%EOF"];
        for bytes in cases {
            let result = pdf_to_text(bytes, &Engines::default(), 1 << 20);
            assert!(
                result.as_ref().map_or(true, |text| text.is_empty()),
                "{:?}: {result:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn readings_tell_words_from_fragments_and_glue() {
        let cases = [
            ("Beautiful is better than ugly.", true),
            ("Exa mp le do cumen t B ea utiful is b etter tha n ugly. Exp licit is b etter tha n imp licit.", false),
            ("Theanaturalmaunstoppableaprocessaofaacquiringa knowledgeaandamastery", false),
            ("日本語の文章です", true),
            ("12 345 6789", false),
            ("", false),
        ];
        for (text, reads_well) in cases {
            assert_eq!(Reading::of(text).reads_well(), reads_well, "{text:?}: {:?}", Reading::of(text));
        }
        assert!(
            Reading::of("several distinct words here").score() > Reading::of("Exa mp le do cu men t").score()
        );
    }
}
