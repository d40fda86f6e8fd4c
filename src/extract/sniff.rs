//! File type detection from the bytes themselves. The filename and the media type Atlassian reports are
//! only hints: they choose between text flavours (Markdown, CSV…) and name a damaged container, but bytes
//! that are plainly a PDF are a PDF whatever the attachment is called.
//!
//! This module does not extract anything; it only decides which extractor gets the bytes.

use std::io::{Cursor, Read};

use serde::{Deserialize, Serialize};

/// What an attachment really is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileType {
    Pdf,
    Docx,
    Pptx,
    Xlsx,
    /// OpenDocument text, spreadsheet and presentation.
    Odt,
    Ods,
    Odp,
    /// A legacy binary Excel workbook (BIFF in an OLE2 compound file).
    Xls,
    /// An e-mail message (RFC 5322, MIME).
    Eml,
    /// A zip archive that is not a document.
    Zip,
    Text,
    Markdown,
    Csv,
    Json,
    Html,
    Xml,
    /// Raster images: text only through OCR, when it is turned on.
    Image,
    /// gzip, 7z, rar: containers nothing here opens.
    Archive,
    /// OLE2 compound files other than workbooks: .doc/.ppt and password-protected Office documents.
    LegacyOffice,
    Rtf,
    /// Binary content nothing here recognises.
    Binary,
}

impl FileType {
    /// A short lowercase label, the same as the serialised form.
    pub fn label(self) -> &'static str {
        match self {
            FileType::Pdf => "pdf",
            FileType::Docx => "docx",
            FileType::Pptx => "pptx",
            FileType::Xlsx => "xlsx",
            FileType::Odt => "odt",
            FileType::Ods => "ods",
            FileType::Odp => "odp",
            FileType::Xls => "xls",
            FileType::Eml => "eml",
            FileType::Zip => "zip",
            FileType::Text => "text",
            FileType::Markdown => "markdown",
            FileType::Csv => "csv",
            FileType::Json => "json",
            FileType::Html => "html",
            FileType::Xml => "xml",
            FileType::Image => "image",
            FileType::Archive => "archive",
            FileType::LegacyOffice => "legacy_office",
            FileType::Rtf => "rtf",
            FileType::Binary => "binary",
        }
    }

    /// Why files of this type are not extracted, or `None` when they are.
    pub fn unsupported_reason(self) -> Option<&'static str> {
        match self {
            FileType::Image => Some("image without a text layer (ocr is off)"),
            FileType::Archive => Some("archive format other than zip is not supported"),
            FileType::LegacyOffice => Some(
                "legacy word or powerpoint binary format, or password-protected office document, is not supported",
            ),
            FileType::Binary => Some("unrecognised binary content"),
            _ => None,
        }
    }
}

impl std::fmt::Display for FileType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// What the source says about an attachment: its filename and the media type it was uploaded with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hint {
    pub filename: Option<String>,
    pub media_type: Option<String>,
}

impl Hint {
    pub fn from_filename(filename: impl Into<String>) -> Self {
        Self { filename: Some(filename.into()), media_type: None }
    }

    /// The type the hint alone suggests, from the media type first and then the file extension.
    pub fn suggested_type(&self) -> Option<FileType> {
        let media =
            self.media_type.as_deref().map(|m| m.split(';').next().unwrap_or("").trim().to_ascii_lowercase());
        let from_media = media.as_deref().and_then(|m| match m {
            "application/pdf" => Some(FileType::Pdf),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Some(FileType::Docx),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation" => {
                Some(FileType::Pptx)
            }
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => Some(FileType::Xlsx),
            super::odf::TEXT => Some(FileType::Odt),
            super::odf::SPREADSHEET => Some(FileType::Ods),
            super::odf::PRESENTATION => Some(FileType::Odp),
            "application/vnd.ms-excel" => Some(FileType::Xls),
            "message/rfc822" => Some(FileType::Eml),
            "application/zip" | "application/x-zip-compressed" => Some(FileType::Zip),
            "application/rtf" | "text/rtf" => Some(FileType::Rtf),
            "text/markdown" | "text/x-markdown" => Some(FileType::Markdown),
            "text/csv" | "text/tab-separated-values" => Some(FileType::Csv),
            "application/json" => Some(FileType::Json),
            "text/html" | "application/xhtml+xml" => Some(FileType::Html),
            "application/xml" | "text/xml" => Some(FileType::Xml),
            "text/plain" => Some(FileType::Text),
            _ => None,
        });
        let extension = self
            .filename
            .as_deref()
            .and_then(|name| name.rsplit_once('.'))
            .map(|(_, ext)| ext.to_ascii_lowercase());
        let from_extension = extension.as_deref().and_then(|ext| match ext {
            "pdf" => Some(FileType::Pdf),
            "docx" | "docm" => Some(FileType::Docx),
            "pptx" | "pptm" => Some(FileType::Pptx),
            "xlsx" | "xlsm" => Some(FileType::Xlsx),
            "odt" => Some(FileType::Odt),
            "ods" => Some(FileType::Ods),
            "odp" => Some(FileType::Odp),
            "xls" => Some(FileType::Xls),
            "eml" => Some(FileType::Eml),
            "zip" => Some(FileType::Zip),
            "rtf" => Some(FileType::Rtf),
            "md" | "markdown" => Some(FileType::Markdown),
            "csv" | "tsv" => Some(FileType::Csv),
            "json" => Some(FileType::Json),
            "html" | "htm" | "xhtml" => Some(FileType::Html),
            "xml" => Some(FileType::Xml),
            "txt" | "text" | "log" => Some(FileType::Text),
            _ => None,
        });
        from_media.or(from_extension)
    }
}

/// How text bytes are encoded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextEncoding {
    Utf8,
    Utf16Le,
    Utf16Be,
    /// Not valid UTF-8 but plausibly an 8-bit legacy encoding (Latin-1, Windows-1252).
    Latin1,
}

/// How many leading bytes the heuristics look at.
const SAMPLE_LEN: usize = 8192;

/// Detects the type from magic numbers alone, without opening containers. Cheap and safe on any input;
/// used for inputs too large to hand to a worker.
pub fn sniff_magic(bytes: &[u8], hint: &Hint) -> FileType {
    let head = &bytes[..bytes.len().min(1024)];
    if head.windows(5).any(|w| w == b"%PDF-") {
        return FileType::Pdf;
    }
    if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(b"PK\x05\x06") {
        return match hint.suggested_type() {
            Some(document) if is_zip_document(document) => document,
            _ => FileType::Zip,
        };
    }
    if bytes.starts_with(OLE2_MAGIC) {
        return ole2_kind(bytes);
    }
    if let Some(kind) = binary_magic(bytes) {
        return kind;
    }
    match detect_text_encoding(bytes) {
        Some(_) => hint.suggested_type().filter(|t| is_text_type(*t)).unwrap_or(FileType::Text),
        None => FileType::Binary,
    }
}

/// Detects the type from the bytes, opening zip containers to tell DOCX, PPTX and XLSX apart and looking
/// at text to recognise JSON, HTML and XML. The hint breaks ties between text flavours.
pub fn sniff(bytes: &[u8], hint: &Hint) -> FileType {
    let magic = sniff_magic(bytes, hint);
    match magic {
        FileType::Zip => sniff_zip(bytes, hint),
        document if is_zip_document(document) => sniff_zip(bytes, hint),
        text if is_text_type(text) => sniff_text(bytes, hint),
        other => other,
    }
}

fn is_zip_document(file_type: FileType) -> bool {
    matches!(
        file_type,
        FileType::Docx | FileType::Pptx | FileType::Xlsx | FileType::Odt | FileType::Ods | FileType::Odp
    )
}

const OLE2_MAGIC: &[u8] = b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1";

/// An OLE2 compound file names its streams in UTF-16 in its directory: a workbook has a `Workbook` (or,
/// before Excel 97, `Book`) stream; anything else (`WordDocument`, `PowerPoint Document`,
/// `EncryptedPackage`) is not read here.
fn ole2_kind(bytes: &[u8]) -> FileType {
    let utf16 = |name: &str| name.encode_utf16().flat_map(u16::to_le_bytes).collect::<Vec<u8>>();
    let has = |name: &str| {
        let needle = utf16(name);
        bytes.windows(needle.len()).any(|window| window == needle.as_slice())
    };
    if has("EncryptedPackage") || has("WordDocument") || has("PowerPoint Document") {
        FileType::LegacyOffice
    } else if has("Workbook") || has("Book") {
        FileType::Xls
    } else {
        FileType::LegacyOffice
    }
}

fn is_text_type(file_type: FileType) -> bool {
    matches!(
        file_type,
        FileType::Text
            | FileType::Markdown
            | FileType::Csv
            | FileType::Json
            | FileType::Html
            | FileType::Xml
            | FileType::Eml
    )
}

fn binary_magic(bytes: &[u8]) -> Option<FileType> {
    const MAGICS: &[(&[u8], FileType)] = &[
        (b"\x89PNG\r\n\x1a\n", FileType::Image),
        (b"\xFF\xD8\xFF", FileType::Image),
        (b"GIF87a", FileType::Image),
        (b"GIF89a", FileType::Image),
        (b"II*\0", FileType::Image),
        (b"MM\0*", FileType::Image),
        (b"\x1F\x8B", FileType::Archive),
        (b"7z\xBC\xAF\x27\x1C", FileType::Archive),
        (b"Rar!\x1A\x07", FileType::Archive),
        (b"{\\rtf", FileType::Rtf),
    ];
    if bytes.len() >= 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        return Some(FileType::Image);
    }
    MAGICS.iter().find(|(magic, _)| bytes.starts_with(magic)).map(|(_, kind)| *kind)
}

/// Opens the zip directory (not the entries, apart from OpenDocument's tiny `mimetype`) and looks for the
/// part each document format must have.
fn sniff_zip(bytes: &[u8], hint: &Hint) -> FileType {
    let Ok(mut archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        // A damaged container: trust the hint so that the document extractor reports what is wrong with it.
        return match hint.suggested_type() {
            Some(document) if is_zip_document(document) => document,
            _ => FileType::Zip,
        };
    };
    let has = |name: &str| archive.index_for_name(name).is_some();
    // A package missing its main part but holding slides or sheets is still read (the extractors fall back to
    // part numbers), so that a damaged file yields its text or a precise failure instead of a skip.
    let has_under = |prefix: &str| archive.file_names().any(|name| name.starts_with(prefix));
    if has("word/document.xml") {
        return FileType::Docx;
    } else if has("ppt/presentation.xml") || has_under("ppt/slides/") {
        return FileType::Pptx;
    } else if has("xl/workbook.xml") || has_under("xl/worksheets/") {
        return FileType::Xlsx;
    }
    let has_content = has("content.xml");
    let mut declared = String::new();
    if let Ok(entry) = archive.by_name("mimetype") {
        let _ = entry.take(128).read_to_string(&mut declared);
    }
    match declared.trim() {
        super::odf::TEXT => FileType::Odt,
        super::odf::SPREADSHEET => FileType::Ods,
        super::odf::PRESENTATION => FileType::Odp,
        _ if has_content => match hint.suggested_type() {
            Some(kind @ (FileType::Odt | FileType::Ods | FileType::Odp)) => kind,
            _ => FileType::Zip,
        },
        _ => FileType::Zip,
    }
}

fn sniff_text(bytes: &[u8], hint: &Hint) -> FileType {
    let hinted = hint.suggested_type().filter(|t| is_text_type(*t));
    if let Some(explicit @ (FileType::Markdown | FileType::Csv | FileType::Html | FileType::Xml)) = hinted {
        return explicit;
    }
    let encoding = detect_text_encoding(bytes).unwrap_or(TextEncoding::Utf8);
    let sample_end = bytes.len().min(SAMPLE_LEN);
    let sample = super::text::decode_bytes(&bytes[..sample_end], encoding);
    let start = sample.trim_start_matches('\u{feff}').trim_start();
    let lower: String = start.chars().take(256).collect::<String>().to_ascii_lowercase();
    if (start.starts_with('{') || start.starts_with('[')) && hinted != Some(FileType::Text) {
        let whole = super::text::decode_bytes(bytes, encoding);
        if serde_json::from_str::<serde::de::IgnoredAny>(&whole).is_ok() {
            return FileType::Json;
        }
    }
    if hinted == Some(FileType::Json) {
        return FileType::Json;
    }
    if lower.starts_with("<!doctype html") || lower.starts_with("<html") || lower.starts_with("<head") {
        return FileType::Html;
    }
    if lower.starts_with("<?xml") || lower.starts_with("<svg") {
        return if lower.contains("<html") { FileType::Html } else { FileType::Xml };
    }
    if hinted == Some(FileType::Eml) || looks_like_mail(start) {
        return FileType::Eml;
    }
    hinted.unwrap_or(FileType::Text)
}

/// A message starts with header fields up to a blank line: every line a `Name: value` field or the
/// continuation of one, with at least two fields every message has and one that only messages have.
fn looks_like_mail(text: &str) -> bool {
    const COMMON: &[&str] = &["from", "to", "cc", "subject", "date", "content-type"];
    const MAIL_ONLY: &[&str] =
        &["received", "return-path", "message-id", "mime-version", "delivered-to", "x-mailer", "reply-to"];
    let (mut common, mut mail_only) = (0, 0);
    for line in text.lines().take(200) {
        if line.trim().is_empty() {
            break;
        }
        if line.starts_with([' ', '\t']) {
            continue;
        }
        let Some((name, _)) = line.split_once(':') else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            return false;
        }
        let name = name.to_ascii_lowercase();
        common += usize::from(COMMON.contains(&name.as_str()));
        mail_only += usize::from(MAIL_ONLY.contains(&name.as_str()));
    }
    common + mail_only >= 2 && mail_only >= 1
}

/// Decides whether bytes are text and in which encoding: a byte-order mark, else UTF-16 recognised by its
/// pattern of zero bytes, else valid UTF-8, else 8-bit text with few control characters. `None` means binary.
pub fn detect_text_encoding(bytes: &[u8]) -> Option<TextEncoding> {
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        return Some(TextEncoding::Utf8);
    }
    if bytes.starts_with(b"\xFF\xFE") {
        return Some(TextEncoding::Utf16Le);
    }
    if bytes.starts_with(b"\xFE\xFF") {
        return Some(TextEncoding::Utf16Be);
    }
    let sample = &bytes[..bytes.len().min(SAMPLE_LEN)];
    if sample.contains(&0) {
        return utf16_without_bom(sample);
    }
    let controls =
        sample.iter().filter(|&&b| (b < 0x20 && !b"\t\n\r\x0c\x1b".contains(&b)) || b == 0x7f).count();
    // A few stray control bytes occur in real text files; binary formats have them everywhere.
    if controls * 100 > sample.len() {
        return None;
    }
    if std::str::from_utf8(bytes).is_ok() {
        return Some(TextEncoding::Utf8);
    }
    let high = sample.iter().filter(|&&b| b >= 0x80).count();
    // Legacy 8-bit text is mostly ASCII with some accented letters; compressed data is half high bytes.
    (high * 100 <= sample.len() * 30).then_some(TextEncoding::Latin1)
}

/// ASCII-heavy UTF-16 has a zero in (nearly) every other byte and almost none in the other half.
fn utf16_without_bom(sample: &[u8]) -> Option<TextEncoding> {
    let pairs = sample.len() / 2;
    if pairs < 2 {
        return None;
    }
    let even_zeros = sample.iter().step_by(2).filter(|&&b| b == 0).count();
    let odd_zeros = sample.iter().skip(1).step_by(2).filter(|&&b| b == 0).count();
    if odd_zeros * 10 >= pairs * 7 && even_zeros * 20 <= pairs {
        Some(TextEncoding::Utf16Le)
    } else if even_zeros * 10 >= pairs * 7 && odd_zeros * 20 <= pairs {
        Some(TextEncoding::Utf16Be)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn zip_with(entries: &[&str]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for name in entries {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(b"<x/>").unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    fn zip_with_content(entries: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in entries {
            writer.start_file(*name, zip::write::SimpleFileOptions::default()).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    /// The start of a compound file whose directory names these streams.
    fn ole2(streams: &[&str]) -> Vec<u8> {
        let mut bytes = OLE2_MAGIC.to_vec();
        bytes.resize(512, 0);
        for name in streams {
            let mut entry: Vec<u8> = name.encode_utf16().flat_map(u16::to_le_bytes).collect();
            entry.resize(128, 0);
            bytes.extend(entry);
        }
        bytes
    }

    fn utf16le(text: &str) -> Vec<u8> {
        text.encode_utf16().flat_map(u16::to_le_bytes).collect()
    }

    fn utf16be_with_bom(text: &str) -> Vec<u8> {
        let mut bytes = vec![0xFE, 0xFF];
        bytes.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        bytes
    }

    #[test]
    fn sniffs_bytes_with_hint_only_as_tiebreaker() {
        let none = Hint::default();
        let named = |name: &str| Hint::from_filename(name);
        let typed = |media: &str| Hint { filename: None, media_type: Some(media.to_owned()) };
        let docx = zip_with(&["[Content_Types].xml", "word/document.xml"]);
        let pptx = zip_with(&["[Content_Types].xml", "ppt/presentation.xml", "ppt/slides/slide1.xml"]);
        let slides_only = zip_with(&["ppt/slides/slide1.xml"]);
        let sheets_only = zip_with(&["xl/worksheets/sheet1.xml"]);
        let xlsx = zip_with(&["[Content_Types].xml", "xl/workbook.xml"]);
        let plain_zip = zip_with(&["readme.txt"]);
        let odt = zip_with_content(&[
            ("mimetype", "application/vnd.oasis.opendocument.text"),
            ("content.xml", "<x/>"),
        ]);
        let ods = zip_with_content(&[
            ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", "<x/>"),
        ]);
        let odp_unlabelled = zip_with_content(&[("content.xml", "<x/>")]);
        let mail: &[u8] = b"Received: from mx\r\nFrom: a@b.example\r\nSubject: hello\r\n\r\nbody";
        let cases: Vec<(&str, Vec<u8>, Hint, FileType)> = vec![
            ("pdf", b"%PDF-1.7\n...".to_vec(), none.clone(), FileType::Pdf),
            ("pdf named txt", b"%PDF-1.4\n".to_vec(), named("notes.txt"), FileType::Pdf),
            ("pdf after junk", b"\r\n\r\ngarbage %PDF-1.4\n".to_vec(), none.clone(), FileType::Pdf),
            ("docx", docx.clone(), none.clone(), FileType::Docx),
            ("docx named zip", docx, named("x.zip"), FileType::Docx),
            ("pptx", pptx, none.clone(), FileType::Pptx),
            ("slides without presentation part", slides_only, none.clone(), FileType::Pptx),
            ("sheets without workbook", sheets_only, none.clone(), FileType::Xlsx),
            ("xlsx", xlsx, named("book.xlsx"), FileType::Xlsx),
            ("plain zip", plain_zip.clone(), none.clone(), FileType::Zip),
            ("plain zip named docx", plain_zip, named("fake.docx"), FileType::Zip),
            ("odt by mimetype", odt.clone(), none.clone(), FileType::Odt),
            ("odt named zip", odt, named("bundle.zip"), FileType::Odt),
            ("ods by mimetype", ods, none.clone(), FileType::Ods),
            ("content without mimetype named odp", odp_unlabelled, named("deck.odp"), FileType::Odp),
            ("broken zip named docx", b"PK\x03\x04garbage".to_vec(), named("a.docx"), FileType::Docx),
            ("broken zip", b"PK\x03\x04garbage".to_vec(), none.clone(), FileType::Zip),
            ("xls", ole2(&["Root Entry", "Workbook", "SummaryInformation"]), none.clone(), FileType::Xls),
            (
                "doc named xls",
                ole2(&["Root Entry", "WordDocument", "1Table"]),
                named("a.xls"),
                FileType::LegacyOffice,
            ),
            (
                "encrypted xlsx",
                ole2(&["Root Entry", "EncryptedPackage"]),
                named("a.xlsx"),
                FileType::LegacyOffice,
            ),
            ("eml by headers", mail.to_vec(), none.clone(), FileType::Eml),
            ("eml by name", b"Subject: hi\n\nbody".to_vec(), named("note.eml"), FileType::Eml),
            ("headers-like text", b"Note: this\nTodo: that\n\nbody".to_vec(), none.clone(), FileType::Text),
            ("png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(), named("a.pdf"), FileType::Image),
            ("jpeg", b"\xFF\xD8\xFF\xE0\0\x10JFIF".to_vec(), none.clone(), FileType::Image),
            (
                "ole2",
                b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1\0\0".to_vec(),
                named("a.doc"),
                FileType::LegacyOffice,
            ),
            ("gzip", b"\x1F\x8B\x08\0\0\0".to_vec(), none.clone(), FileType::Archive),
            ("rtf", b"{\\rtf1\\ansi hello}".to_vec(), none.clone(), FileType::Rtf),
            ("random binary", (0u8..=255).cycle().take(4096).collect(), named("a.txt"), FileType::Binary),
            ("utf8 text", "héllo wörld\n".as_bytes().to_vec(), none.clone(), FileType::Text),
            ("markdown by name", b"# Title\n\ntext".to_vec(), named("README.md"), FileType::Markdown),
            ("csv by media type", b"a,b\n1,2\n".to_vec(), typed("text/csv; charset=utf-8"), FileType::Csv),
            ("json by content", br#"  {"a": [1, "b"]}"#.to_vec(), none.clone(), FileType::Json),
            ("json-looking but invalid", b"{not json".to_vec(), none.clone(), FileType::Text),
            ("json named txt", br#"{"a":1}"#.to_vec(), named("a.txt"), FileType::Text),
            ("html doctype", b"<!DOCTYPE html><p>x".to_vec(), none.clone(), FileType::Html),
            ("html by name", b"<p>fragment</p>".to_vec(), named("page.htm"), FileType::Html),
            ("xml", b"<?xml version=\"1.0\"?><root/>".to_vec(), none.clone(), FileType::Xml),
            ("utf16le no bom", utf16le("plain words here"), none.clone(), FileType::Text),
            ("utf16be bom json", utf16be_with_bom("{\"k\": \"v\"}"), none.clone(), FileType::Json),
            ("latin1 text", b"caf\xE9 cr\xE8me br\xFBl\xE9e".to_vec(), none.clone(), FileType::Text),
            ("empty", Vec::new(), none.clone(), FileType::Text),
        ];
        for (name, bytes, hint, expected) in cases {
            assert_eq!(sniff(&bytes, &hint), expected, "case {name}");
        }
    }

    #[test]
    fn text_encoding_detection() {
        let cases: Vec<(&str, Vec<u8>, Option<TextEncoding>)> = vec![
            ("ascii", b"hello".to_vec(), Some(TextEncoding::Utf8)),
            ("utf8 bom", b"\xEF\xBB\xBFhi".to_vec(), Some(TextEncoding::Utf8)),
            ("utf16le bom", b"\xFF\xFEh\0".to_vec(), Some(TextEncoding::Utf16Le)),
            ("utf16le plain", utf16le("some ascii text"), Some(TextEncoding::Utf16Le)),
            (
                "utf16be plain",
                "abc def".encode_utf16().flat_map(u16::to_be_bytes).collect(),
                Some(TextEncoding::Utf16Be),
            ),
            ("latin1", b"na\xEFve".to_vec(), Some(TextEncoding::Latin1)),
            ("controls", vec![1, 2, 3, 4, 5, 6, 7, 8, b'a'], None),
            ("nul in binary", vec![0x00, 0x13, 0x00, 0x00, 0xff, 0x00, 0x12, 0x00], None),
            ("high bytes", vec![0xC3, 0x28, 0xA0, 0xA1, 0xE2, 0x28, 0xA1, 0xF0, 0x28, 0x8C], None),
        ];
        for (name, bytes, expected) in cases {
            assert_eq!(detect_text_encoding(&bytes), expected, "case {name}");
        }
    }
}
