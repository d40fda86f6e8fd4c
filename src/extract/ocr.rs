//! Optical character recognition with Tesseract, for images and for PDFs without a text layer (scans).
//! Off by default: an [`Ocr`] in the engines turns it on, naming the programs found when it was configured.
//!
//! Images go to `tesseract` as they are (PNG, JPEG, TIFF, GIF, BMP, PNM, WebP: what its image library reads).
//! A PDF's pages are rendered by poppler's `pdftoppm` into grey-scale PGM at [`Ocr::dpi`], at most
//! [`Ocr::max_pages`] of them, then recognised one by one. Both programs run inside the worker (see
//! `helper.rs`), so they live under its time, memory and sandbox bounds. Not here: layout analysis, or
//! choosing when a PDF needs OCR (`pdf.rs` decides).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::helper;
use super::text::plain_to_text;
use super::Error;

/// The OCR engine and its settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ocr {
    /// The `tesseract` program.
    pub tesseract: PathBuf,
    /// poppler's `pdftoppm`, which renders PDF pages for recognition; without it PDFs are not recognised.
    pub pdftoppm: Option<PathBuf>,
    /// Tesseract language codes joined by `+`, e.g. `eng+deu`.
    pub languages: String,
    /// Resolution PDF pages are rendered at.
    pub dpi: u32,
    /// Pages of one PDF recognised at most.
    pub max_pages: usize,
}

impl Ocr {
    /// OCR with the programs found in `PATH` (English, 300 dpi, 20 pages), or `None` without `tesseract`.
    pub fn detect() -> Option<Self> {
        Some(Self {
            tesseract: helper::find_program("tesseract")?,
            pdftoppm: helper::find_program("pdftoppm"),
            languages: "eng".to_owned(),
            dpi: 300,
            max_pages: 20,
        })
    }
}

/// Recognises the text of one image.
pub fn image_to_text(image: &[u8], ocr: &Ocr, max_output: usize) -> Result<String, Error> {
    let languages = ocr.languages.as_str();
    let output =
        helper::run(&ocr.tesseract, &["stdin", "stdout", "-l", languages, "--psm", "3"], image, max_output)
            .map_err(|reason| Error::Ocr { reason })?;
    Ok(plain_to_text(&String::from_utf8_lossy(&output)))
}

/// Renders a PDF's pages and recognises each; pages are separated by blank lines.
pub fn pdf_to_text(pdf: &[u8], ocr: &Ocr, max_output: usize) -> Result<String, Error> {
    let Some(pdftoppm) = &ocr.pdftoppm else {
        return Err(Error::Ocr {
            reason: "pdftoppm (poppler-utils) is needed to read scanned pdfs".to_owned(),
        });
    };
    let dpi = ocr.dpi.to_string();
    let last = ocr.max_pages.max(1).to_string();
    // Grey-scale PGM on stdout, one image after another: the simplest format to split and to recognise.
    let rendered = helper::run(pdftoppm, &["-gray", "-r", &dpi, "-f", "1", "-l", &last, "-"], pdf, 1 << 30)
        .map_err(|reason| Error::Ocr { reason })?;
    let mut pages = Vec::new();
    let mut written = 0;
    for page in split_pnm(&rendered) {
        if written >= max_output {
            break;
        }
        let text = image_to_text(page, ocr, max_output - written)?;
        written += text.len();
        pages.push(text);
    }
    Ok(pages.join("\n\n"))
}

/// Splits concatenated binary PNM images (`P5`/`P6` with 8-bit samples) into one slice per image.
fn split_pnm(mut bytes: &[u8]) -> Vec<&[u8]> {
    let mut images = Vec::new();
    while let Some(len) = pnm_len(bytes) {
        let (image, rest) = bytes.split_at(len);
        images.push(image);
        bytes = rest;
    }
    images
}

/// The length of the PNM image at the start of `bytes`, header included, when it is whole.
fn pnm_len(bytes: &[u8]) -> Option<usize> {
    let channels = match bytes.get(..2)? {
        b"P5" => 1,
        b"P6" => 3,
        _ => return None,
    };
    // Header: magic, width, height, maxval, separated by whitespace (comments are not written by pdftoppm),
    // then exactly one whitespace byte before the samples.
    let mut at = 2;
    let mut numbers = [0usize; 3];
    for number in &mut numbers {
        while bytes.get(at)?.is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while bytes.get(at)?.is_ascii_digit() {
            at += 1;
        }
        *number = std::str::from_utf8(&bytes[start..at]).ok()?.parse().ok()?;
    }
    let [width, height, maxval] = numbers;
    let sample_bytes = if maxval < 256 { 1 } else { 2 };
    let len = (at + 1).checked_add(width.checked_mul(height)?.checked_mul(channels * sample_bytes)?)?;
    (len <= bytes.len()).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn concatenated_pnm_images_split() {
        let mut stream = b"P5\n3 2\n255\n".to_vec();
        stream.extend_from_slice(&[0, 1, 2, 3, 4, 5]);
        stream.extend_from_slice(b"P6\n1 1\n255\n");
        stream.extend_from_slice(&[9, 9, 9]);
        let images = split_pnm(&stream);
        assert_eq!(images.len(), 2);
        assert_eq!(images[0].len(), 11 + 6);
        assert_eq!(images[1], b"P6\n1 1\n255\n\x09\x09\x09");
        assert!(split_pnm(b"P5\n3 2\n255\n\0\0").is_empty(), "a truncated image is dropped");
        assert!(split_pnm(b"P5\n99999999999999999999 2\n255\n").is_empty());
        assert!(split_pnm(b"not an image").is_empty());
    }
}
