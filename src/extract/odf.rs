//! OpenDocument (ODT text, ODS spreadsheets, ODP presentations) to text: `content.xml` read with quick-xml
//! through the same bounded zip reader as Office Open XML (the `Package` reader), so the zip-bomb limits hold.
//!
//! Paragraphs, headings, list items, frames and notes become lines; table cells are separated by tabs and
//! rows by lines (a spreadsheet's sheets each start with their name); `text:s` and `text:tab` keep their
//! spaces. Deleted text kept for change tracking, form controls and sequence declarations are not text.
//! Not handled: flat (single-XML) OpenDocument files, encrypted packages, embedded objects.

use quick_xml::events::Event;
use quick_xml::Reader;

use super::office::{attribute, local_name, xml_error, Package};
use super::text::{decode_entities, Gap, TextSink};
use super::{Error, ZipLimits};

/// The media types an OpenDocument package declares in its `mimetype` entry, by kind.
pub const TEXT: &str = "application/vnd.oasis.opendocument.text";
pub const SPREADSHEET: &str = "application/vnd.oasis.opendocument.spreadsheet";
pub const PRESENTATION: &str = "application/vnd.oasis.opendocument.presentation";

/// Extracts the text of an OpenDocument package (any of the three kinds: their content reads alike).
pub fn odf_to_text(bytes: &[u8], limits: &ZipLimits) -> Result<String, Error> {
    let mut package = Package::open(bytes, limits)?;
    let content = package.require("content.xml")?;
    let mut sink = TextSink::new();
    content_text(&content, &mut sink)?;
    Ok(sink.finish())
}

/// Elements whose subtree is not visible text.
const HIDDEN: &[&str] =
    &["tracked-changes", "forms", "sequence-decls", "note-citation", "script", "event-listeners"];
/// Elements that are blocks of text.
const BLOCKS: &[&str] = &["p", "h", "list-item", "frame", "note", "table-row", "table", "page", "annotation"];

fn content_text(xml: &str, sink: &mut TextSink) -> Result<(), Error> {
    let part = "content.xml";
    let mut reader = Reader::from_str(xml);
    let config = reader.config_mut();
    config.check_end_names = false;
    config.trim_text(false);
    let mut in_body = false;
    let mut hidden = 0usize;
    let mut cells = 0usize;
    loop {
        match reader.read_event().map_err(|err| xml_error(part, err))? {
            Event::Start(start) => {
                let name = local_name(&start);
                if name == "body" {
                    in_body = true;
                } else if hidden > 0 || HIDDEN.contains(&name.as_str()) {
                    hidden += 1;
                } else if name == "table-cell" || name == "covered-table-cell" {
                    sink.gap(Gap::Cell);
                    cells += 1;
                } else if name == "table" && cells == 0 {
                    // A sheet (or a text table) starts on its own line, under its name when it has one.
                    sink.gap(Gap::Line);
                    if let Some(table_name) = attribute(&start, "table:name") {
                        sink.text(&table_name);
                        sink.gap(Gap::Line);
                    }
                } else if BLOCKS.contains(&name.as_str()) {
                    sink.gap(if cells > 0 { Gap::Space } else { Gap::Line });
                }
            }
            Event::Empty(start) if hidden == 0 && in_body => match local_name(&start).as_str() {
                "s" => {
                    let count =
                        attribute(&start, "text:c").and_then(|c| c.parse::<usize>().ok()).unwrap_or(1);
                    sink.text(&" ".repeat(count.clamp(1, 8)));
                }
                "tab" | "table-cell" | "covered-table-cell" => sink.gap(Gap::Cell),
                "line-break" => sink.gap(if cells > 0 { Gap::Space } else { Gap::Line }),
                "p" | "h" => sink.gap(if cells > 0 { Gap::Space } else { Gap::Line }),
                _ => {}
            },
            Event::End(end) => {
                let name = String::from_utf8_lossy(end.local_name().as_ref()).into_owned();
                if hidden > 0 {
                    hidden -= 1;
                } else if name == "body" {
                    in_body = false;
                } else if name == "table-cell" || name == "covered-table-cell" {
                    cells = cells.saturating_sub(1);
                    sink.gap(Gap::Cell);
                } else if BLOCKS.contains(&name.as_str()) {
                    sink.gap(if cells > 0 { Gap::Space } else { Gap::Line });
                }
            }
            Event::Text(text) if hidden == 0 && in_body => {
                sink.text(&decode_entities(&String::from_utf8_lossy(text.as_ref())));
            }
            Event::CData(data) if hidden == 0 && in_body => sink.text(&String::from_utf8_lossy(&data)),
            Event::Eof => return Ok(()),
            _ => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::extract::office::tests::build_zip;

    /// An OpenDocument package: `mimetype` first (as the format requires), then `content.xml`.
    pub(crate) fn build_odf(media_type: &str, body: &str) -> Vec<u8> {
        let content = format!(
            "<?xml version=\"1.0\"?><office:document-content xmlns:office=\"o\" xmlns:text=\"t\" \
             xmlns:table=\"ta\" xmlns:draw=\"d\"><office:automatic-styles/><office:body>{body}</office:body>\
             </office:document-content>"
        );
        build_zip(&[("mimetype", media_type), ("content.xml", &content), ("meta.xml", "<x/>")])
    }

    #[test]
    fn odf_kinds_read_as_text() {
        let cases = [
            (
                "text with headings, lists, spaces, tabs and tracked deletions",
                TEXT,
                "<office:text><text:sequence-decls><text:sequence-decl text:name=\"Figure\"/></text:sequence-decls>\
                 <text:tracked-changes><text:changed-region><text:deletion><text:p>removed words</text:p>\
                 </text:deletion></text:changed-region></text:tracked-changes>\
                 <text:h text:outline-level=\"1\">Quarterly plan</text:h>\
                 <text:p>Ship <text:span>the</text:span> beta<text:s text:c=\"3\"/>then<text:tab/>rest</text:p>\
                 <text:list><text:list-item><text:p>first item</text:p></text:list-item>\
                 <text:list-item><text:p>second&amp;last</text:p></text:list-item></text:list>\
                 <text:p>line<text:line-break/>break</text:p></office:text>",
                "Quarterly plan\nShip the beta then\trest\nfirst item\nsecond&last\nline\nbreak",
            ),
            (
                "spreadsheet with sheet names and cells",
                SPREADSHEET,
                "<office:spreadsheet><table:table table:name=\"Budget\"><table:table-row>\
                 <table:table-cell><text:p>Item</text:p></table:table-cell><table:table-cell/>\
                 <table:table-cell><text:p>Cost</text:p></table:table-cell></table:table-row>\
                 <table:table-row><table:table-cell><text:p>Servers</text:p></table:table-cell>\
                 <table:table-cell><text:p>1200</text:p></table:table-cell></table:table-row></table:table>\
                 <table:table table:name=\"Notes\"><table:table-row><table:table-cell><text:p>ok</text:p>\
                 </table:table-cell></table:table-row></table:table></office:spreadsheet>",
                "Budget\nItem\tCost\nServers\t1200\nNotes\nok",
            ),
            (
                "presentation frames",
                PRESENTATION,
                "<office:presentation><draw:page draw:name=\"p1\"><draw:frame><draw:text-box>\
                 <text:p>Roadmap</text:p></draw:text-box></draw:frame><draw:frame><draw:text-box>\
                 <text:p>Launch in May</text:p></draw:text-box></draw:frame></draw:page></office:presentation>",
                "Roadmap\nLaunch in May",
            ),
        ];
        for (name, media_type, body, expected) in cases {
            let odf = build_odf(media_type, body);
            assert_eq!(odf_to_text(&odf, &ZipLimits::default()).unwrap(), expected, "case {name}");
        }
    }

    #[test]
    fn a_package_without_content_fails_with_the_part_name() {
        let zip = build_zip(&[("mimetype", TEXT)]);
        let err = odf_to_text(&zip, &ZipLimits::default()).unwrap_err();
        assert_eq!(err.to_string(), "document part content.xml is missing");
    }
}
