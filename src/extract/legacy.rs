//! Legacy binary Excel workbooks (`.xls`, BIFF in an OLE2 compound file) to text with calamine: every
//! sheet in workbook order, its name then its rows, cells separated by tabs, as for XLSX.
//!
//! The other legacy Office binaries (`.doc`, `.ppt`) have no maintained Rust reader and are skipped with a
//! reason (see `sniff.rs`); password-protected workbooks fail with calamine's reason.

use std::io::Cursor;

use calamine::{Reader, Xls};

use super::text::{Gap, TextSink};
use super::Error;

/// Extracts the text of a legacy Excel workbook.
pub fn xls_to_text(bytes: &[u8]) -> Result<String, Error> {
    let mut workbook: Xls<_> =
        Xls::new(Cursor::new(bytes)).map_err(|err| Error::Xls { reason: err.to_string() })?;
    let mut sink = TextSink::new();
    for name in workbook.sheet_names() {
        let range = workbook.worksheet_range(&name).map_err(|err| Error::Xls { reason: err.to_string() })?;
        sink.gap(Gap::Line);
        sink.text(&name);
        for row in range.rows() {
            sink.gap(Gap::Line);
            for cell in row {
                let shown = cell.to_string();
                if !shown.trim().is_empty() {
                    sink.gap(Gap::Cell);
                    sink.text(&shown);
                    sink.gap(Gap::Cell);
                }
            }
        }
    }
    Ok(sink.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_workbook_is_an_error() {
        let ole_header = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0\0\0\0\0\0\0";
        assert!(xls_to_text(ole_header).is_err());
        assert!(xls_to_text(b"").is_err());
    }
}
