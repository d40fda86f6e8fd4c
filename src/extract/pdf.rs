//! PDF to text with pdf-extract, in the current process.
//!
//! pdf-extract panics on many real files (caught here and turned into an error), but it also overflows its
//! stack, loops and allocates without bound, which no code inside the process can stop. So this module is
//! only ever called inside the extraction worker (see `worker.rs`), never in the crawler's own process.
//! Layout is not preserved beyond lines; encrypted files without an empty user password fail.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::text::collapse_blank_lines;
use super::Error;

/// Extracts the text layer of a PDF. A scanned PDF without a text layer yields an empty string.
pub fn pdf_to_text(bytes: &[u8]) -> Result<String, Error> {
    // The closure only reads `bytes`; nothing it touches outlives a panic in a broken state.
    let result = catch_unwind(AssertUnwindSafe(|| pdf_extract::extract_text_from_mem(bytes)))
        .map_err(|payload| Error::Panicked { reason: panic_message(payload.as_ref()) })?;
    let raw = result.map_err(|err| Error::Pdf { reason: err.to_string() })?;
    Ok(clean(&raw))
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

/// pdf-extract emits runs of spaces, blank lines and stray control characters; keep words and lines.
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
            assert!(pdf_to_text(bytes).is_err(), "{:?}", String::from_utf8_lossy(bytes));
        }
    }
}
