//! Office Open XML documents (DOCX, PPTX, XLSX) to text, with the `zip` crate and quick-xml.
//!
//! - DOCX: `word/document.xml` paragraphs and tables (deleted text, field codes and compatibility
//!   fallbacks skipped).
//! - PPTX: slides in presentation order (from `ppt/presentation.xml` and its relationships), `a:t` runs,
//!   paragraphs and table cells.
//! - XLSX: every sheet in workbook order, its name then its rows: shared strings, inline strings, numbers and
//!   formula results, cells separated by tabs.
//!
//! A zip is hostile until read: the declared sizes in its directory are never trusted. Every part is read
//! through a `take()` bound on what is left of the archive budget ([`ZipLimits::max_total_uncompressed`]),
//! the number of entries is capped, and a part that inflates more than [`ZipLimits::max_ratio`] times its
//! compressed size is refused as it streams, so a zip bomb costs at most the budget in memory and time.
//! Not handled: legacy binary formats, encrypted documents, embedded objects, speaker notes, comments.

use std::collections::HashMap;
use std::io::{Cursor, Read};

use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;
use serde::{Deserialize, Serialize};

use super::sniff::FileType;
use super::text::{decode_entities, Gap, TextSink};
use super::Error;

/// Bounds on what reading one archive may cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZipLimits {
    /// Archives with more entries than this are refused outright.
    pub max_entries: usize,
    /// Total bytes that may be inflated from one archive, across every part read.
    pub max_total_uncompressed: u64,
    /// Largest accepted ratio of inflated to compressed size for a part, once it exceeds
    /// [`RATIO_GRACE_BYTES`] (small parts legitimately compress extremely well).
    pub max_ratio: u64,
}

/// Inflated bytes a part may reach before the compression ratio is checked.
pub const RATIO_GRACE_BYTES: u64 = 1 << 20;

impl Default for ZipLimits {
    fn default() -> Self {
        Self { max_entries: 10_000, max_total_uncompressed: 128 << 20, max_ratio: 200 }
    }
}

/// Extracts the text of an Office Open XML document of the given type.
pub fn office_to_text(bytes: &[u8], file_type: FileType, limits: &ZipLimits) -> Result<String, Error> {
    let mut package = Package::open(bytes, limits)?;
    let mut sink = TextSink::new();
    match file_type {
        FileType::Docx => docx(&mut package, &mut sink)?,
        FileType::Pptx => pptx(&mut package, &mut sink)?,
        FileType::Xlsx => xlsx(&mut package, &mut sink)?,
        other => return Err(Error::NotOffice { file_type: other }),
    }
    Ok(sink.finish())
}

/// An opened archive and what is left of its inflation budget.
pub(crate) struct Package<'a> {
    archive: zip::ZipArchive<Cursor<&'a [u8]>>,
    archive_len: u64,
    limits: ZipLimits,
    inflated: u64,
}

impl<'a> Package<'a> {
    pub(crate) fn open(bytes: &'a [u8], limits: &ZipLimits) -> Result<Self, Error> {
        let archive = zip::ZipArchive::new(Cursor::new(bytes))
            .map_err(|err| Error::Archive { reason: err.to_string() })?;
        if archive.len() > limits.max_entries {
            return Err(Error::TooManyEntries { entries: archive.len(), limit: limits.max_entries });
        }
        Ok(Self { archive, archive_len: bytes.len() as u64, limits: *limits, inflated: 0 })
    }

    fn has(&self, name: &str) -> bool {
        self.archive.index_for_name(name).is_some()
    }

    /// The names of the archive's entries, in directory order.
    pub(crate) fn names(&self) -> Vec<String> {
        self.archive.file_names().map(str::to_owned).collect()
    }

    /// Whether the inflation budget is spent: reading any further part would fail.
    pub(crate) fn budget_spent(&self) -> bool {
        self.inflated >= self.limits.max_total_uncompressed
    }

    fn names_matching(&self, prefix: &str, suffix: &str) -> Vec<String> {
        self.archive
            .file_names()
            .filter(|n| n.starts_with(prefix) && n.ends_with(suffix))
            .map(str::to_owned)
            .collect()
    }

    /// Reads one part as text, or `None` when the archive has no such part.
    pub(crate) fn read(&mut self, name: &str) -> Result<Option<String>, Error> {
        Ok(self.read_bytes(name)?.map(|data| match String::from_utf8(data) {
            Ok(text) => text,
            Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
        }))
    }

    /// Reads one part, or `None` when the archive has no such part.
    pub(crate) fn read_bytes(&mut self, name: &str) -> Result<Option<Vec<u8>>, Error> {
        let mut entry = match self.archive.by_name(name) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) => return Ok(None),
            Err(err) => return Err(Error::Archive { reason: format!("{name}: {err}") }),
        };
        // The declared compressed size bounds what the zip reader consumes, and it cannot exceed the archive.
        let compressed = entry.compressed_size().clamp(1, self.archive_len.max(1));
        let remaining = self.limits.max_total_uncompressed.saturating_sub(self.inflated);
        let mut limited = (&mut entry).take(remaining.saturating_add(1));
        let mut data = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            let read = limited
                .read(&mut chunk)
                .map_err(|err| Error::Archive { reason: format!("{name}: {err}") })?;
            if read == 0 {
                break;
            }
            // Grow by doubling but never past the budget: the default growth could reserve twice the budget.
            if data.capacity() - data.len() < read {
                let ceiling = usize::try_from(remaining.saturating_add(1)).unwrap_or(usize::MAX);
                let wanted =
                    (data.capacity().saturating_mul(2)).max(chunk.len()).min(ceiling.max(data.len() + read));
                data.reserve_exact(wanted - data.len());
            }
            data.extend_from_slice(&chunk[..read]);
            let inflated = data.len() as u64;
            if inflated > remaining {
                return Err(Error::ArchiveTooLarge {
                    part: name.to_owned(),
                    limit: self.limits.max_total_uncompressed,
                });
            }
            if inflated > RATIO_GRACE_BYTES && inflated / compressed > self.limits.max_ratio {
                return Err(Error::CompressionRatio {
                    part: name.to_owned(),
                    ratio: inflated / compressed,
                    limit: self.limits.max_ratio,
                });
            }
        }
        self.inflated += data.len() as u64;
        Ok(Some(data))
    }

    pub(crate) fn require(&mut self, name: &str) -> Result<String, Error> {
        self.read(name)?.ok_or_else(|| Error::MissingPart { part: name.to_owned() })
    }

    /// The relationship targets of a part, by relationship id, resolved to archive paths.
    fn relationships(&mut self, part: &str) -> Result<HashMap<String, String>, Error> {
        let (dir, file) = part.rsplit_once('/').unwrap_or(("", part));
        let rels_name =
            if dir.is_empty() { format!("_rels/{file}.rels") } else { format!("{dir}/_rels/{file}.rels") };
        let Some(xml) = self.read(&rels_name)? else {
            return Ok(HashMap::new());
        };
        let mut targets = HashMap::new();
        for_each_element(&xml, &rels_name, |start| {
            if local_name(start) == "Relationship"
                && attribute(start, "TargetMode").as_deref() != Some("External")
            {
                if let (Some(id), Some(target)) = (attribute(start, "Id"), attribute(start, "Target")) {
                    targets.insert(id, resolve_target(dir, &target));
                }
            }
        })?;
        Ok(targets)
    }
}

/// Resolves a relationship target relative to the directory of its source part.
fn resolve_target(base_dir: &str, target: &str) -> String {
    let mut segments: Vec<&str> = match target.strip_prefix('/') {
        Some(_) => Vec::new(),
        None => base_dir.split('/').filter(|s| !s.is_empty()).collect(),
    };
    for segment in target.trim_start_matches('/').split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                segments.pop();
            }
            other => segments.push(other),
        }
    }
    segments.join("/")
}

/// The element name without its namespace prefix.
pub(crate) fn local_name(start: &BytesStart<'_>) -> String {
    String::from_utf8_lossy(start.local_name().as_ref()).into_owned()
}

pub(crate) fn attribute(start: &BytesStart<'_>, key: &str) -> Option<String> {
    start.attributes().with_checks(false).flatten().find(|a| a.key.as_ref() == key.as_bytes()).map(|a| {
        let raw = String::from_utf8_lossy(&a.value).into_owned();
        decode_entities(&raw).into_owned()
    })
}

/// Calls `visit` for every start or empty element of `xml`.
fn for_each_element(xml: &str, part: &str, mut visit: impl FnMut(&BytesStart<'_>)) -> Result<(), Error> {
    let mut reader = Reader::from_str(xml);
    loop {
        match reader.read_event().map_err(|err| xml_error(part, err))? {
            Event::Start(start) | Event::Empty(start) => visit(&start),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

pub(crate) fn xml_error(part: &str, err: quick_xml::Error) -> Error {
    Error::Xml { part: part.to_owned(), reason: err.to_string() }
}

/// A streaming pass over WordprocessingML or DrawingML text: which local names carry text, break lines,
/// separate cells, or hide their subtree.
struct Dialect {
    text: &'static [&'static str],
    paragraph: &'static [&'static str],
    line_break: &'static [&'static str],
    tab: &'static [&'static str],
    cell: &'static [&'static str],
    hidden: &'static [&'static str],
}

const WORDPROCESSING: Dialect = Dialect {
    text: &["t"],
    paragraph: &["p", "tr", "tbl"],
    line_break: &["br", "cr"],
    tab: &["tab"],
    cell: &["tc"],
    // Deleted runs, field instructions, and the fallback copy of alternate content are not visible text.
    hidden: &["delText", "instrText", "Fallback", "rPr", "pPr"],
};

const DRAWING: Dialect = Dialect {
    text: &["t"],
    paragraph: &["p", "tr", "tbl", "sp"],
    line_break: &["br"],
    tab: &[],
    cell: &["tc"],
    hidden: &["Fallback", "rPr", "pPr"],
};

fn markup_text(xml: &str, part: &str, dialect: &Dialect, sink: &mut TextSink) -> Result<(), Error> {
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    let mut in_text = 0usize;
    let mut hidden = 0usize;
    let mut cells = 0usize;
    let is = |names: &[&str], name: &str| names.contains(&name);
    loop {
        let event = reader.read_event().map_err(|err| xml_error(part, err))?;
        match event {
            Event::Start(start) => {
                let name = local_name(&start);
                if hidden > 0 || is(dialect.hidden, &name) {
                    hidden += 1;
                } else if is(dialect.text, &name) {
                    in_text += 1;
                } else if is(dialect.cell, &name) {
                    sink.gap(Gap::Cell);
                    cells += 1;
                } else if is(dialect.paragraph, &name) {
                    sink.gap(if cells > 0 { Gap::Space } else { Gap::Line });
                }
            }
            Event::Empty(start) if hidden == 0 => {
                let name = local_name(&start);
                if is(dialect.line_break, &name) || is(dialect.paragraph, &name) {
                    sink.gap(if cells > 0 { Gap::Space } else { Gap::Line });
                } else if is(dialect.tab, &name) {
                    sink.gap(Gap::Cell);
                }
            }
            Event::End(end) => {
                let name = String::from_utf8_lossy(end.local_name().as_ref()).into_owned();
                if hidden > 0 {
                    hidden -= 1;
                } else if is(dialect.text, &name) {
                    in_text = in_text.saturating_sub(1);
                } else if is(dialect.cell, &name) {
                    cells = cells.saturating_sub(1);
                    sink.gap(Gap::Cell);
                } else if is(dialect.paragraph, &name) {
                    sink.gap(if cells > 0 { Gap::Space } else { Gap::Line });
                }
            }
            Event::Text(text) if in_text > 0 && hidden == 0 => {
                sink.text(&decode_entities(&String::from_utf8_lossy(text.as_ref())));
            }
            Event::CData(cdata) if in_text > 0 && hidden == 0 => {
                sink.text(&String::from_utf8_lossy(cdata.as_ref()));
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

fn docx(package: &mut Package<'_>, sink: &mut TextSink) -> Result<(), Error> {
    let document = package.require("word/document.xml")?;
    markup_text(&document, "word/document.xml", &WORDPROCESSING, sink)
}

fn pptx(package: &mut Package<'_>, sink: &mut TextSink) -> Result<(), Error> {
    let slides = slide_order(package)?;
    for slide in slides {
        let Some(xml) = package.read(&slide)? else {
            continue;
        };
        sink.gap(Gap::Line);
        markup_text(&xml, &slide, &DRAWING, sink)?;
    }
    Ok(())
}

/// Slide parts in presentation order; falls back to slide file numbers when the presentation part does not
/// say (a damaged or minimal file).
fn slide_order(package: &mut Package<'_>) -> Result<Vec<String>, Error> {
    let mut ordered = Vec::new();
    if let Some(presentation) = package.read("ppt/presentation.xml")? {
        let rels = package.relationships("ppt/presentation.xml")?;
        for_each_element(&presentation, "ppt/presentation.xml", |start| {
            if local_name(start) == "sldId" {
                if let Some(target) = attribute(start, "r:id").and_then(|id| rels.get(&id)) {
                    ordered.push(target.clone());
                }
            }
        })?;
    }
    if ordered.iter().any(|slide| package.has(slide)) {
        return Ok(ordered);
    }
    Ok(numbered(package.names_matching("ppt/slides/slide", ".xml")))
}

/// Sorts part names by the number in their file name (`sheet10.xml` after `sheet9.xml`).
fn numbered(mut names: Vec<String>) -> Vec<String> {
    let number = |name: &str| -> u64 {
        let file = name.rsplit('/').next().unwrap_or(name);
        file.chars().filter(char::is_ascii_digit).collect::<String>().parse().unwrap_or(u64::MAX)
    };
    names.sort_by_key(|name| (number(name), name.clone()));
    names
}

fn xlsx(package: &mut Package<'_>, sink: &mut TextSink) -> Result<(), Error> {
    let shared = match package.read("xl/sharedStrings.xml")? {
        Some(xml) => shared_strings(&xml)?,
        None => Vec::new(),
    };
    for (name, part) in sheet_order(package)? {
        let Some(xml) = package.read(&part)? else {
            continue;
        };
        sink.gap(Gap::Line);
        if let Some(name) = name {
            sink.text(&name);
            sink.gap(Gap::Line);
        }
        sheet_text(&xml, &part, &shared, sink)?;
    }
    Ok(())
}

/// Sheets as (name, part) in workbook order; falls back to file numbers without names.
fn sheet_order(package: &mut Package<'_>) -> Result<Vec<(Option<String>, String)>, Error> {
    let mut sheets = Vec::new();
    if let Some(workbook) = package.read("xl/workbook.xml")? {
        let rels = package.relationships("xl/workbook.xml")?;
        for_each_element(&workbook, "xl/workbook.xml", |start| {
            if local_name(start) == "sheet" {
                if let Some(target) = attribute(start, "r:id").and_then(|id| rels.get(&id)) {
                    sheets.push((attribute(start, "name"), target.clone()));
                }
            }
        })?;
    }
    if sheets.iter().any(|(_, part)| package.has(part)) {
        return Ok(sheets);
    }
    Ok(numbered(package.names_matching("xl/worksheets/sheet", ".xml"))
        .into_iter()
        .map(|p| (None, p))
        .collect())
}

/// The shared string table: one entry per `si`, its `t` runs joined, phonetic guides (`rPh`) skipped.
fn shared_strings(xml: &str) -> Result<Vec<String>, Error> {
    let part = "xl/sharedStrings.xml";
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut strings = Vec::new();
    let mut current = String::new();
    let mut in_text = false;
    let mut in_phonetic = false;
    loop {
        match reader.read_event().map_err(|err| xml_error(part, err))? {
            Event::Start(start) => match local_name(&start).as_str() {
                "si" => current.clear(),
                "t" => in_text = true,
                "rPh" => in_phonetic = true,
                _ => {}
            },
            Event::Empty(start) if local_name(&start) == "si" => strings.push(String::new()),
            Event::End(end) => match end.local_name().as_ref() {
                b"si" => strings.push(std::mem::take(&mut current)),
                b"t" => in_text = false,
                b"rPh" => in_phonetic = false,
                _ => {}
            },
            Event::Text(text) if in_text && !in_phonetic => {
                current.push_str(&decode_entities(&String::from_utf8_lossy(text.as_ref())));
            }
            Event::Eof => return Ok(strings),
            _ => {}
        }
    }
}

/// Rows of one worksheet: each cell's displayed value (shared string, inline string, number, formula result).
fn sheet_text(xml: &str, part: &str, shared: &[String], sink: &mut TextSink) -> Result<(), Error> {
    let mut reader = Reader::from_str(xml);
    reader.config_mut().trim_text(false);
    let mut cell_type: Option<String> = None;
    let mut value = String::new();
    let mut inline = String::new();
    let mut reading: Option<&'static str> = None;
    loop {
        match reader.read_event().map_err(|err| xml_error(part, err))? {
            Event::Start(start) => match local_name(&start).as_str() {
                "row" => sink.gap(Gap::Line),
                "c" => {
                    cell_type = attribute(&start, "t");
                    value.clear();
                    inline.clear();
                }
                "v" => reading = Some("v"),
                "t" => reading = Some("t"),
                _ => {}
            },
            Event::End(end) => match end.local_name().as_ref() {
                b"v" | b"t" => reading = None,
                b"c" => {
                    let shown = match cell_type.as_deref() {
                        Some("s") => value.trim().parse::<usize>().ok().and_then(|i| shared.get(i)).cloned(),
                        Some("inlineStr") => Some(inline.clone()),
                        Some("b") => Some(if value.trim() == "1" { "TRUE" } else { "FALSE" }.to_owned()),
                        Some("e") => None,
                        _ => Some(value.clone()),
                    };
                    if let Some(shown) = shown.filter(|s| !s.trim().is_empty()) {
                        sink.gap(Gap::Cell);
                        sink.text(&shown);
                        sink.gap(Gap::Cell);
                    }
                }
                b"row" => sink.gap(Gap::Line),
                _ => {}
            },
            Event::Text(text) => {
                let decoded = decode_entities(&String::from_utf8_lossy(text.as_ref())).into_owned();
                match reading {
                    Some("v") => value.push_str(&decoded),
                    Some("t") => inline.push_str(&decoded),
                    _ => {}
                }
            }
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::*;

    /// Builds a zip from (name, content) pairs, deflated.
    pub(crate) fn build_zip(parts: &[(&str, &str)]) -> Vec<u8> {
        let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, content) in parts {
            writer.start_file(*name, SimpleFileOptions::default()).unwrap();
            writer.write_all(content.as_bytes()).unwrap();
        }
        writer.finish().unwrap().into_inner()
    }

    const W: &str = r#"xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main""#;

    #[test]
    fn docx_paragraphs_runs_and_tables() {
        let document = format!(
            r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document {W}><w:body>
<w:p><w:pPr><w:pStyle w:val="Title"/></w:pPr><w:r><w:t>Hel</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t>lo</w:t></w:r><w:r><w:t xml:space="preserve"> world &amp; more</w:t></w:r></w:p>
<w:p><w:r><w:t>line</w:t><w:br/><w:t>break</w:t><w:tab/><w:t>tabbed</w:t></w:r></w:p>
<w:p><w:r><w:delText>deleted</w:delText></w:r><w:r><w:instrText> HYPERLINK "x" </w:instrText></w:r><w:r><w:t>kept</w:t></w:r></w:p>
<w:tbl><w:tr><w:tc><w:p><w:r><w:t>A1</w:t></w:r></w:p></w:tc><w:tc><w:p><w:r><w:t>B1</w:t></w:r></w:p><w:p><w:r><w:t>more</w:t></w:r></w:p></w:tc></w:tr>
<w:tr><w:tc><w:p><w:r><w:t>A2</w:t></w:r></w:p></w:tc><w:tc><w:p/></w:tc></w:tr></w:tbl>
<w:p><w:r><w:t>after table</w:t></w:r></w:p>
</w:body></w:document>"#
        );
        let bytes = build_zip(&[("[Content_Types].xml", "<Types/>"), ("word/document.xml", &document)]);
        let text = office_to_text(&bytes, FileType::Docx, &ZipLimits::default()).unwrap();
        assert_eq!(text, "Hello world & more\nline\nbreak\ttabbed\nkept\nA1\tB1 more\nA2\nafter table");
    }

    #[test]
    fn pptx_slides_follow_presentation_order() {
        let presentation = r#"<p:presentation xmlns:p="p" xmlns:r="r"><p:sldIdLst><p:sldId id="256" r:id="rId7"/><p:sldId id="257" r:id="rId2"/></p:sldIdLst></p:presentation>"#;
        let rels = r#"<Relationships><Relationship Id="rId2" Target="slides/slide1.xml"/><Relationship Id="rId7" Target="/ppt/slides/slide2.xml"/><Relationship Id="rId9" Target="https://x" TargetMode="External"/></Relationships>"#;
        let slide = |title: &str, body: &str| {
            format!(
                r#"<p:sld xmlns:p="p" xmlns:a="a"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:rPr lang="en"/><a:t>{title}</a:t></a:r></a:p></p:txBody></p:sp><p:sp><p:txBody><a:p><a:r><a:t>{body}</a:t></a:r><a:br/><a:r><a:t>second line</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>"#
            )
        };
        let first = slide("Opening", "welcome");
        let second = slide("Closing", "thanks");
        let bytes = build_zip(&[
            ("ppt/presentation.xml", presentation),
            ("ppt/_rels/presentation.xml.rels", rels),
            ("ppt/slides/slide1.xml", &second),
            ("ppt/slides/slide2.xml", &first),
        ]);
        let text = office_to_text(&bytes, FileType::Pptx, &ZipLimits::default()).unwrap();
        assert_eq!(text, "Opening\nwelcome\nsecond line\nClosing\nthanks\nsecond line");
    }

    #[test]
    fn pptx_without_presentation_part_uses_slide_numbers() {
        let slide = |t: &str| {
            format!(r#"<p:sld xmlns:p="p" xmlns:a="a"><a:p><a:r><a:t>{t}</a:t></a:r></a:p></p:sld>"#)
        };
        let (s2, s10, s1) = (slide("two"), slide("ten"), slide("one"));
        let bytes = build_zip(&[
            ("ppt/slides/slide2.xml", &s2),
            ("ppt/slides/slide10.xml", &s10),
            ("ppt/slides/slide1.xml", &s1),
        ]);
        assert_eq!(office_to_text(&bytes, FileType::Pptx, &ZipLimits::default()).unwrap(), "one\ntwo\nten");
    }

    #[test]
    fn xlsx_shared_inline_numbers_and_sheet_names() {
        let workbook = r#"<workbook xmlns:r="r"><sheets><sheet name="Budget" sheetId="1" r:id="rId1"/><sheet name="Notes &amp; misc" sheetId="2" r:id="rId2"/></sheets></workbook>"#;
        let rels = r#"<Relationships><Relationship Id="rId1" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Target="worksheets/sheet2.xml"/></Relationships>"#;
        let shared = r#"<sst><si><t>Item</t></si><si><r><t>Co</t></r><r><t>st</t></r></si><si><t>Rent</t><rPh><t>ignored</t></rPh></si><si/></sst>"#;
        let sheet1 = r#"<worksheet><sheetData>
<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>
<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>1250.5</v></c><c r="C2"><f>B2*2</f><v>2501</v></c><c r="D2" t="b"><v>1</v></c><c r="E2" t="e"><v>#DIV/0!</v></c><c r="F2" t="s"><v>99</v></c></row>
</sheetData></worksheet>"#;
        let sheet2 = r#"<worksheet><sheetData><row><c t="inlineStr"><is><t>inline words</t></is></c><c t="str"><f>A1</f><v>formula text</v></c></row></sheetData></worksheet>"#;
        let bytes = build_zip(&[
            ("xl/workbook.xml", workbook),
            ("xl/_rels/workbook.xml.rels", rels),
            ("xl/sharedStrings.xml", shared),
            ("xl/worksheets/sheet1.xml", sheet1),
            ("xl/worksheets/sheet2.xml", sheet2),
        ]);
        let text = office_to_text(&bytes, FileType::Xlsx, &ZipLimits::default()).unwrap();
        assert_eq!(
            text,
            "Budget\nItem\tCost\nRent\t1250.5\t2501\tTRUE\nNotes & misc\ninline words\tformula text"
        );
    }

    #[test]
    fn broken_packages_fail_with_reasons() {
        let limits = ZipLimits::default();
        let no_document = build_zip(&[("word/other.xml", "<x/>")]);
        let bad_xml =
            build_zip(&[("word/document.xml", "<w:document><w:body><w:p w:x=\"unterminated><w:t>text")]);
        let cases: Vec<(&str, Vec<u8>, &str)> = vec![
            ("not a zip", b"PK\x03\x04 not really".to_vec(), "cannot read zip archive"),
            ("missing part", no_document, "word/document.xml is missing"),
            ("bad xml", bad_xml, "word/document.xml"),
        ];
        for (name, bytes, needle) in cases {
            let err = office_to_text(&bytes, FileType::Docx, &limits).expect_err(name).to_string();
            assert!(err.contains(needle), "case {name}: {err}");
        }
    }

    #[test]
    fn entry_count_is_capped() {
        let names: Vec<String> = (0..20).map(|i| format!("word/part{i}.xml")).collect();
        let parts: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), "<x/>")).collect();
        let bytes = build_zip(&parts);
        let limits = ZipLimits { max_entries: 10, ..ZipLimits::default() };
        let err = office_to_text(&bytes, FileType::Docx, &limits).unwrap_err();
        assert!(matches!(err, Error::TooManyEntries { entries: 20, limit: 10 }), "{err}");
    }

    #[test]
    fn inflation_budget_is_enforced_across_parts() {
        // Incompressible-looking text so that only the total budget, not the ratio check, can stop it.
        let noise: String = (0..300_000u32)
            .map(|i| char::from(b'a' + (i.wrapping_mul(2_654_435_761) >> 27) as u8 % 26))
            .collect();
        let sheet = format!(
            r#"<worksheet><sheetData><row><c t="inlineStr"><is><t>{noise}</t></is></c></row></sheetData></worksheet>"#
        );
        let bytes = build_zip(&[("xl/worksheets/sheet1.xml", &sheet), ("xl/worksheets/sheet2.xml", &sheet)]);
        let limits = ZipLimits { max_total_uncompressed: 500_000, ..ZipLimits::default() };
        let err = office_to_text(&bytes, FileType::Xlsx, &limits).unwrap_err();
        assert!(
            matches!(&err, Error::ArchiveTooLarge { part, .. } if part == "xl/worksheets/sheet2.xml"),
            "{err}"
        );
        let roomy = ZipLimits { max_total_uncompressed: 1_000_000, ..ZipLimits::default() };
        assert!(office_to_text(&bytes, FileType::Xlsx, &roomy).unwrap().contains(&noise[..1000]));
    }

    #[test]
    fn relationship_targets_resolve() {
        let cases = [
            ("ppt", "slides/slide1.xml", "ppt/slides/slide1.xml"),
            ("ppt", "/ppt/slides/slide1.xml", "ppt/slides/slide1.xml"),
            ("xl", "../xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
            ("xl", "./worksheets/./sheet1.xml", "xl/worksheets/sheet1.xml"),
            ("", "word/document.xml", "word/document.xml"),
        ];
        for (base, target, expected) in cases {
            assert_eq!(resolve_target(base, target), expected);
        }
    }
}
