//! Attachment bytes, rendered on demand from a [`FileBody`]'s kind and text.
//!
//! The model keeps only the words an attachment carries; [`render`] turns them into the bytes the
//! simulator serves, so a site with thousands of attachments costs no more memory than their text.
//! Every renderer is a pure function of `(kind, filename, text)`: the same body always yields the same
//! bytes (zip entries carry a fixed time stamp, nothing reads the clock).
//!
//! - `Pdf`: a hand-built PDF 1.4 with one standard Type1 font (Helvetica, WinAnsi encoding), the text
//!   wrapped into lines and spread over as many pages as it needs, and a correct cross-reference table.
//! - `Docx`: a minimal WordprocessingML package, one paragraph per line of text.
//! - `Xlsx`: a minimal SpreadsheetML package, one row per line of text and one cell per tab-separated field;
//!   numeric fields become number cells, the rest shared strings.
//! - `Text`, `Markdown`, `Csv`: the text itself.
//! - `CorruptPdf`: a PDF header followed by a truncated object and garbage; no reader can recover the text.
//! - `Oversized`: a CSV well above 24 MiB whose size is known without rendering it.
//!
//! This module does not decide what an attachment says (see `generate/`) nor extract text from bytes
//! (that is the crawler's job).

use std::io::{Cursor, Write};

use sha2::{Digest, Sha256};

use super::model::{FileBody, FileKind};

/// Lines of generated data an `Oversized` CSV carries after its text.
const OVERSIZED_ROWS: u64 = 450_000;
/// Every generated row of an `Oversized` CSV has exactly this many bytes, newline included, so the size
/// of the file is known without rendering it.
const OVERSIZED_ROW_LEN: u64 = 62;

/// Characters per line in a rendered PDF: 10 pt Helvetica averages about 5 pt per character and the
/// text column is 468 pt wide.
const PDF_LINE_CHARS: usize = 88;
const PDF_LINES_PER_PAGE: usize = 52;

impl FileBody {
    /// Describes an attachment and records the size of its rendered bytes.
    pub fn new(kind: FileKind, filename: impl Into<String>, text: impl Into<String>) -> FileBody {
        let mut file = FileBody { kind, filename: filename.into(), text: text.into(), size: 0 };
        file.size = match kind {
            // Computed, not rendered: the whole point of this kind is that it is too big to keep around.
            FileKind::Oversized => oversized_len(&file.text),
            _ => render(&file).len() as u64,
        };
        file
    }
}

/// The bytes of an attachment.
pub fn render(file: &FileBody) -> Vec<u8> {
    match file.kind {
        FileKind::Pdf => render_pdf(&file.text),
        FileKind::Docx => render_docx(&file.text),
        FileKind::Xlsx => render_xlsx(&file.text),
        FileKind::Text | FileKind::Markdown | FileKind::Csv => file.text.as_bytes().to_vec(),
        FileKind::CorruptPdf => render_corrupt_pdf(&file.text),
        FileKind::Oversized => render_oversized(&file.text),
    }
}

// ---------------------------------------------------------------------------------------------------------
// PDF

/// Splits text into lines of at most [`PDF_LINE_CHARS`] characters, breaking at spaces so no word is cut
/// (a single word longer than a line gets a line of its own). Blank lines of the text are kept.
fn wrap_lines(text: &str) -> Vec<String> {
    let mut lines = Vec::new();
    for source_line in text.lines() {
        let mut line = String::new();
        for word in source_line.split_whitespace() {
            if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > PDF_LINE_CHARS {
                lines.push(std::mem::take(&mut line));
            }
            if !line.is_empty() {
                line.push(' ');
            }
            line.push_str(word);
        }
        lines.push(line);
    }
    lines
}

/// A PDF literal string for `line` in WinAnsi encoding: delimiters and backslashes escaped, Latin-1
/// characters as octal escapes, anything else as `?`.
fn pdf_string(line: &str) -> String {
    let mut out = String::with_capacity(line.len() + 2);
    out.push('(');
    for c in line.chars() {
        match c {
            '(' | ')' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            ' '..='~' => out.push(c),
            '\u{a0}'..='\u{ff}' => out.push_str(&format!("\\{:03o}", c as u32)),
            _ => out.push('?'),
        }
    }
    out.push(')');
    out
}

/// The content stream of one page: a text object that writes each line and steps down by the leading.
fn pdf_page_stream(lines: &[String]) -> String {
    let mut s = String::from("BT\n/F1 10 Tf\n14 TL\n72 740 Td\n");
    for line in lines {
        s.push_str(&pdf_string(line));
        s.push_str(" Tj T*\n");
    }
    s.push_str("ET\n");
    s
}

/// Assembles numbered objects into a PDF file with a correct xref table. `objects[i]` is object `i + 1`.
fn pdf_file(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out: Vec<u8> = Vec::new();
    // The comment with high-bit bytes tells transfer tools the file is binary, as PDF writers do.
    out.extend_from_slice(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n");
    let mut offsets = Vec::with_capacity(objects.len());
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref_at = out.len();
    out.extend_from_slice(format!("xref\n0 {}\n", objects.len() + 1).as_bytes());
    // Each entry is exactly 20 bytes, ending in space + newline.
    out.extend_from_slice(b"0000000000 65535 f \n");
    for off in offsets {
        out.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!("trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n", objects.len() + 1)
            .as_bytes(),
    );
    out
}

fn render_pdf(text: &str) -> Vec<u8> {
    let lines = wrap_lines(text);
    let pages: Vec<&[String]> =
        if lines.is_empty() { vec![&[][..]] } else { lines.chunks(PDF_LINES_PER_PAGE).collect() };
    // Objects: 1 catalog, 2 page tree, 3 font, then a (page, content stream) pair per page.
    let page_obj = |i: usize| 4 + 2 * i;
    let kids: Vec<String> = (0..pages.len()).map(|i| format!("{} 0 R", page_obj(i))).collect();
    let mut objects: Vec<Vec<u8>> = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), pages.len()).into_bytes(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_vec(),
    ];
    for (i, page_lines) in pages.iter().enumerate() {
        objects.push(
            format!(
                "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >> \
                 /Contents {} 0 R >>",
                page_obj(i) + 1
            )
            .into_bytes(),
        );
        let stream = pdf_page_stream(page_lines);
        let mut obj = format!("<< /Length {} >>\nstream\n", stream.len()).into_bytes();
        obj.extend_from_slice(stream.as_bytes());
        obj.extend_from_slice(b"\nendstream");
        objects.push(obj);
    }
    pdf_file(&objects)
}

/// A PDF header, a catalog pointing at objects that never come, a content stream cut off in the middle
/// (its `/Length` promises far more than follows), then bytes that are no PDF syntax at all, and no xref.
fn render_corrupt_pdf(text: &str) -> Vec<u8> {
    let mut out: Vec<u8> = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n".to_vec();
    out.extend_from_slice(b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    out.extend_from_slice(b"5 0 obj\n<< /Length 98765 /Filter /FlateDecode >>\nstream\n");
    // Half of the first line, as the start of a page's text before the file was cut.
    let first_line = text.lines().next().unwrap_or_default();
    let cut = first_line.char_indices().nth(first_line.chars().count() / 2).map_or(0, |(i, _)| i);
    out.extend_from_slice(format!("BT /F1 10 Tf 72 740 Td {} Tj", pdf_string(&first_line[..cut])).as_bytes());
    // Garbage derived from the text, so it is the same on every render.
    let mut block: [u8; 32] = Sha256::digest(text.as_bytes()).into();
    for _ in 0..64 {
        out.extend_from_slice(&block);
        block = Sha256::digest(block).into();
    }
    out.extend_from_slice(b"\nendobj\n3 0 obj\n<< /Type /Font /Subtype /Typ");
    out
}

// ---------------------------------------------------------------------------------------------------------
// Office Open XML

/// Escapes text for XML character data and attribute values (quick-xml's escaper, the one the codebase
/// uses), after replacing the control characters XML 1.0 forbids; tabs and newlines are the callers' job.
fn xml_escape(text: &str) -> String {
    let allowed: String = text
        .chars()
        .map(
            |c| if matches!(c, '\u{0}'..='\u{8}' | '\u{b}' | '\u{c}' | '\u{e}'..='\u{1f}') { ' ' } else { c },
        )
        .collect();
    quick_xml::escape::escape(&allowed).into_owned()
}

/// A zip archive of `(name, contents)` entries, deflated, with a fixed time stamp so the bytes never change.
fn zip_package(entries: &[(&str, String)]) -> Vec<u8> {
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    // 2024-01-01 00:00:00 is a valid DOS date, so this cannot fail.
    let stamp = zip::DateTime::from_date_and_time(2024, 1, 1, 0, 0, 0).unwrap_or_default();
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(stamp);
    for (name, contents) in entries {
        // Writing into a Vec cannot fail with an I/O error and the names are distinct constants, so the zip
        // writer has no reason to refuse; if it ever did, an unreadable package is the honest result.
        if writer.start_file(*name, options).is_err() || writer.write_all(contents.as_bytes()).is_err() {
            break;
        }
    }
    writer.finish().map(Cursor::into_inner).unwrap_or_default()
}

const XML_HEADER: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>"#;

fn render_docx(text: &str) -> Vec<u8> {
    let content_types = format!(
        "{XML_HEADER}\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/word/document.xml\" \
         ContentType=\"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml\"/>\
         </Types>"
    );
    let rels = format!(
        "{XML_HEADER}\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
         Target=\"word/document.xml\"/></Relationships>"
    );
    let mut body = String::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            body.push_str("<w:p/>");
        } else {
            body.push_str("<w:p><w:r><w:t xml:space=\"preserve\">");
            body.push_str(&xml_escape(line));
            body.push_str("</w:t></w:r></w:p>");
        }
    }
    let document = format!(
        "{XML_HEADER}\n<w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
         <w:body>{body}<w:sectPr/></w:body></w:document>"
    );
    zip_package(&[
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("word/document.xml", document),
    ])
}

/// The spreadsheet column name of a zero-based index: A, B, …, Z, AA, AB, …
fn column_name(mut index: usize) -> String {
    let mut name = Vec::new();
    loop {
        name.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    name.reverse();
    String::from_utf8_lossy(&name).into_owned()
}

/// A field is stored as a number cell when it reads back as the same number.
fn is_plain_number(field: &str) -> bool {
    !field.is_empty()
        && field.len() <= 15
        && field.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && field.parse::<f64>().is_ok()
        && !field.starts_with('.')
        && !field.ends_with('.')
        && !(field.starts_with('0') && field.len() > 1 && !field.starts_with("0."))
}

fn render_xlsx(text: &str) -> Vec<u8> {
    let content_types = format!(
        "{XML_HEADER}\n<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">\
         <Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>\
         <Default Extension=\"xml\" ContentType=\"application/xml\"/>\
         <Override PartName=\"/xl/workbook.xml\" \
         ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>\
         <Override PartName=\"/xl/worksheets/sheet1.xml\" \
         ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>\
         <Override PartName=\"/xl/sharedStrings.xml\" \
         ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml\"/>\
         </Types>"
    );
    let rels = format!(
        "{XML_HEADER}\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" \
         Target=\"xl/workbook.xml\"/></Relationships>"
    );
    let workbook = format!(
        "{XML_HEADER}\n<workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\">\
         <sheets><sheet name=\"Sheet1\" sheetId=\"1\" r:id=\"rId1\"/></sheets></workbook>"
    );
    let workbook_rels = format!(
        "{XML_HEADER}\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">\
         <Relationship Id=\"rId1\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" \
         Target=\"worksheets/sheet1.xml\"/>\
         <Relationship Id=\"rId2\" \
         Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings\" \
         Target=\"sharedStrings.xml\"/></Relationships>"
    );
    // Shared strings in order of first use; a linear search is fine for the few dozen strings a sheet holds.
    let mut strings: Vec<&str> = Vec::new();
    let mut string_uses = 0usize;
    let mut rows = String::new();
    for (r, line) in text.lines().enumerate() {
        rows.push_str(&format!("<row r=\"{}\">", r + 1));
        for (c, field) in line.split('\t').enumerate() {
            let cell_ref = format!("{}{}", column_name(c), r + 1);
            if field.is_empty() {
                continue;
            }
            if is_plain_number(field) {
                rows.push_str(&format!("<c r=\"{cell_ref}\"><v>{field}</v></c>"));
            } else {
                let index = strings.iter().position(|s| *s == field).unwrap_or_else(|| {
                    strings.push(field);
                    strings.len() - 1
                });
                string_uses += 1;
                rows.push_str(&format!("<c r=\"{cell_ref}\" t=\"s\"><v>{index}</v></c>"));
            }
        }
        rows.push_str("</row>");
    }
    let sheet = format!(
        "{XML_HEADER}\n<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">\
         <sheetData>{rows}</sheetData></worksheet>"
    );
    let mut shared = format!(
        "{XML_HEADER}\n<sst xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" \
         count=\"{string_uses}\" uniqueCount=\"{}\">",
        strings.len()
    );
    for s in &strings {
        shared.push_str("<si><t xml:space=\"preserve\">");
        shared.push_str(&xml_escape(s));
        shared.push_str("</t></si>");
    }
    shared.push_str("</sst>");
    zip_package(&[
        ("[Content_Types].xml", content_types),
        ("_rels/.rels", rels),
        ("xl/workbook.xml", workbook),
        ("xl/_rels/workbook.xml.rels", workbook_rels),
        ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", shared),
    ])
}

// ---------------------------------------------------------------------------------------------------------
// Oversized CSV

/// The text part of an oversized CSV: the body's text, ending in a newline.
fn oversized_head(text: &str) -> String {
    let mut head = text.to_string();
    if !head.ends_with('\n') {
        head.push('\n');
    }
    head
}

fn oversized_len(text: &str) -> u64 {
    oversized_head(text).len() as u64 + OVERSIZED_ROWS * OVERSIZED_ROW_LEN
}

/// One generated row, exactly [`OVERSIZED_ROW_LEN`] bytes: fixed-width numbers only.
fn oversized_row(i: u64) -> String {
    // A cheap deterministic mix so the columns are not all equal, without a random number generator.
    let mix = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 11;
    format!(
        "{i:09},{:010},{:06},{:08},{:04},{:05},{:03},{:09}\n",
        mix % 10_000_000_000,
        (mix >> 7) % 1_000_000,
        (mix >> 13) % 100_000_000,
        (mix >> 17) % 10_000,
        (mix >> 23) % 100_000,
        (mix >> 29) % 1_000,
        (mix >> 3) % 1_000_000_000,
    )
}

fn render_oversized(text: &str) -> Vec<u8> {
    let head = oversized_head(text);
    let mut out = Vec::with_capacity(oversized_len(text) as usize);
    out.extend_from_slice(head.as_bytes());
    for i in 0..OVERSIZED_ROWS {
        out.extend_from_slice(oversized_row(i).as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    const REPORT: &str = "Runbook: rotating TLS certificates for the payments gateway\n\
        The payments gateway terminates TLS with certificates issued by the internal CA (ops-ca-2).\n\
        Rotation happens every ninety days; the ledger service (settlement) needs a restart afterwards.\n\
        Parentheses (like these) and back\\slashes must survive, as must 100% of the words.";

    fn words(text: &str) -> Vec<String> {
        text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).map(str::to_lowercase).collect()
    }

    fn unzip_entry(bytes: &[u8], name: &str) -> String {
        let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).expect("valid zip");
        let mut entry = archive.by_name(name).expect("entry present");
        let mut out = String::new();
        entry.read_to_string(&mut out).expect("utf-8 entry");
        out
    }

    #[test]
    fn pdf_text_comes_back_out_through_pdf_extract() {
        let bytes = render(&FileBody::new(FileKind::Pdf, "runbook.pdf", REPORT));
        assert!(bytes.starts_with(b"%PDF-1.4"));
        let extracted = pdf_extract::extract_text_from_mem(&bytes).expect("pdf-extract reads the file");
        assert_eq!(words(&extracted), words(REPORT), "extracted: {extracted:?}");
    }

    #[test]
    fn long_pdf_spans_several_pages_and_keeps_every_word() {
        let paragraph =
            "The fraud scoring engine flags card-not-present transactions above the velocity limit. ";
        let text: String = (0..120).map(|i| format!("{paragraph}Line {i} ends here.\n")).collect();
        let bytes = render(&FileBody::new(FileKind::Pdf, "long.pdf", text.clone()));
        let pages = pdf_extract::extract_text_from_mem_by_pages(&bytes).expect("readable");
        assert!(pages.len() >= 3, "{} pages", pages.len());
        let extracted = pdf_extract::extract_text_from_mem(&bytes).expect("readable");
        assert_eq!(words(&extracted), words(&text));
    }

    #[test]
    fn pdf_xref_offsets_point_at_their_objects() {
        let bytes = render(&FileBody::new(FileKind::Pdf, "x.pdf", REPORT));
        let text = String::from_utf8_lossy(&bytes);
        let startxref: usize =
            text.rsplit("startxref\n").next().and_then(|t| t.lines().next()).unwrap().parse().unwrap();
        assert!(bytes[startxref..].starts_with(b"xref\n"));
        // The header comment holds non-UTF-8 bytes, so the table is read from the raw bytes, not `text`.
        let table = std::str::from_utf8(&bytes[startxref..]).unwrap();
        let entries: Vec<&str> = table.lines().skip(3).take_while(|l| l.ends_with(" n ")).collect();
        assert!(entries.len() >= 5);
        for (i, entry) in entries.iter().enumerate() {
            let offset: usize = entry[..10].parse().unwrap();
            let expected = format!("{} 0 obj", i + 1);
            assert!(bytes[offset..].starts_with(expected.as_bytes()), "object {} at {offset}", i + 1);
        }
    }

    #[test]
    fn pdf_string_escapes_delimiters_and_encodes_latin1() {
        for (input, expected) in [
            ("plain", "(plain)"),
            ("a (b) c", r"(a \(b\) c)"),
            (r"back\slash", r"(back\\slash)"),
            ("café", r"(caf\351)"),
            ("snow ☃", "(snow ?)"),
        ] {
            assert_eq!(pdf_string(input), expected, "{input}");
        }
    }

    #[test]
    fn wrapped_lines_stay_within_width_and_keep_words_whole() {
        let text = "word ".repeat(100) + "\n\nsecond paragraph";
        let lines = wrap_lines(&text);
        assert!(lines.iter().all(|l| l.chars().count() <= PDF_LINE_CHARS));
        assert_eq!(words(&lines.join(" ")), words(&text));
        assert!(lines.contains(&String::new()), "blank line kept");
    }

    #[test]
    fn corrupt_pdf_looks_like_a_pdf_but_yields_no_text() {
        let bytes = render(&FileBody::new(FileKind::CorruptPdf, "broken.pdf", REPORT));
        assert!(bytes.starts_with(b"%PDF-1.4"));
        assert!(!bytes.windows(4).any(|w| w == b"xref"));
        // pdf-extract may return an error or panic on broken input; either way no text comes out.
        let result = std::panic::catch_unwind(|| pdf_extract::extract_text_from_mem(&bytes));
        if let Ok(Ok(text)) = result {
            assert!(!text.contains("ninety"), "recovered text: {text:?}");
        }
    }

    #[test]
    fn docx_is_a_zip_whose_document_holds_every_line() {
        let bytes =
            render(&FileBody::new(FileKind::Docx, "minutes.docx", "Minutes & actions\n\nOwner: <Ana>"));
        let document = unzip_entry(&bytes, "word/document.xml");
        assert!(document.contains("Minutes &amp; actions"));
        assert!(document.contains("Owner: &lt;Ana&gt;"));
        assert_eq!(document.matches("<w:p>").count() + document.matches("<w:p/>").count(), 3);
        assert!(unzip_entry(&bytes, "[Content_Types].xml").contains("wordprocessingml.document.main+xml"));
        assert!(unzip_entry(&bytes, "_rels/.rels").contains("word/document.xml"));
    }

    #[test]
    fn xlsx_keeps_strings_shared_and_numbers_numeric() {
        let text = "Quarter\tRegion\tRevenue\nQ1\tEMEA\t1250.5\nQ2\tEMEA\t0042";
        let bytes = render(&FileBody::new(FileKind::Xlsx, "revenue.xlsx", text));
        let shared = unzip_entry(&bytes, "xl/sharedStrings.xml");
        for word in ["Quarter", "Region", "Revenue", "Q1", "Q2", "EMEA", "0042"] {
            assert!(shared.contains(&format!(">{word}<")), "{word} in {shared}");
        }
        assert_eq!(shared.matches("<si>").count(), 7, "EMEA stored once");
        let sheet = unzip_entry(&bytes, "xl/worksheets/sheet1.xml");
        assert!(sheet.contains("<c r=\"C2\"><v>1250.5</v></c>"));
        assert_eq!(sheet.matches("<row ").count(), 3);
        assert!(unzip_entry(&bytes, "xl/workbook.xml").contains("<sheet name=\"Sheet1\""));
    }

    #[test]
    fn column_names_follow_spreadsheet_order() {
        for (index, name) in [(0, "A"), (25, "Z"), (26, "AA"), (27, "AB"), (701, "ZZ"), (702, "AAA")] {
            assert_eq!(column_name(index), name);
        }
    }

    #[test]
    fn plain_kinds_are_their_text() {
        for kind in [FileKind::Text, FileKind::Markdown, FileKind::Csv] {
            assert_eq!(render(&FileBody::new(kind, "f", "a,b\n1,2")), b"a,b\n1,2");
        }
    }

    #[test]
    fn recorded_size_matches_rendered_bytes_for_every_kind() {
        for kind in [
            FileKind::Pdf,
            FileKind::Docx,
            FileKind::Xlsx,
            FileKind::Text,
            FileKind::Markdown,
            FileKind::Csv,
            FileKind::CorruptPdf,
            FileKind::Oversized,
        ] {
            let file = FileBody::new(kind, "file", REPORT);
            assert_eq!(file.size, render(&file).len() as u64, "{kind:?}");
        }
    }

    #[test]
    fn oversized_is_above_24_mib_and_starts_with_its_text() {
        let file = FileBody::new(FileKind::Oversized, "export.csv", "id,amount\n");
        assert!(file.size > 24 * 1024 * 1024, "{}", file.size);
        let bytes = render(&file);
        assert!(bytes.starts_with(b"id,amount\n000000000,"));
        assert!(bytes.ends_with(b"\n"));
        assert!((0..1_000).all(|i| oversized_row(i).len() as u64 == OVERSIZED_ROW_LEN));
    }

    #[test]
    fn rendering_is_deterministic() {
        for kind in [FileKind::Pdf, FileKind::Docx, FileKind::Xlsx, FileKind::CorruptPdf] {
            let file = FileBody::new(kind, "same", REPORT);
            assert_eq!(render(&file), render(&file.clone()), "{kind:?}");
        }
    }
}
