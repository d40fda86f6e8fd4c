//! Text-like attachments (plain text, Markdown, CSV, JSON, XML) to clean text, plus the small building
//! blocks every extractor here shares: a whitespace-collapsing `TextSink`, a lenient entity decoder and a
//! forgiving markup stripper.
//!
//! The stripper is deliberately not an HTML parser (HTML goes through html2text, in `html.rs`): it reads
//! XML attachments and Confluence storage format too broken for the storage reader, and only needs to know
//! which tags end a block, which ones separate table cells and which ones hide their contents (script,
//! style). It never fails: whatever the input, some text comes out.

use std::borrow::Cow;

use super::sniff::TextEncoding;

/// How strongly two pieces of text must be separated. Ordered: a stronger gap absorbs a weaker one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Gap {
    None,
    Space,
    Cell,
    Line,
}

/// Accumulates text, collapsing runs of whitespace and turning structural boundaries into a single space,
/// tab (between table cells) or newline (between blocks). Separators are only written between two pieces
/// of text, so the result has no leading or trailing whitespace.
#[derive(Debug, Default)]
pub(crate) struct TextSink {
    out: String,
    pending: Option<Gap>,
}

impl TextSink {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Requests at least `gap` before the next piece of text.
    pub(crate) fn gap(&mut self, gap: Gap) {
        if gap == Gap::None {
            return;
        }
        self.pending = Some(self.pending.map_or(gap, |pending| pending.max(gap)));
    }

    fn flush_gap(&mut self) {
        if let Some(gap) = self.pending.take() {
            if !self.out.is_empty() {
                self.out.push_str(match gap {
                    Gap::None => "",
                    Gap::Space => " ",
                    Gap::Cell => "\t",
                    Gap::Line => "\n",
                });
            }
        }
    }

    /// Appends flowing text: every run of whitespace (including no-break spaces) becomes one space.
    pub(crate) fn text(&mut self, text: &str) {
        for word in split_keeping_edges(text) {
            match word {
                Piece::Space => self.gap(Gap::Space),
                Piece::Word(word) => {
                    self.flush_gap();
                    self.out.push_str(word);
                }
            }
        }
    }

    /// Appends preformatted text (a code block) as it is, apart from line endings and the blank lines around it,
    /// and keeps it on lines of its own.
    pub(crate) fn verbatim(&mut self, text: &str) {
        let text = text.replace("\r\n", "\n");
        let text = text.trim_matches(|c: char| c == '\n' || c == '\r');
        if text.trim().is_empty() {
            return;
        }
        self.gap(Gap::Line);
        self.flush_gap();
        for line in text.lines() {
            self.out.push_str(line.trim_end());
            self.out.push('\n');
        }
        self.out.pop();
        self.gap(Gap::Line);
    }

    pub(crate) fn finish(self) -> String {
        self.out
    }
}

enum Piece<'a> {
    Space,
    Word(&'a str),
}

/// Splits text into maximal runs of non-whitespace and markers for runs of whitespace.
fn split_keeping_edges(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    std::iter::from_fn(move || {
        let first = rest.chars().next()?;
        if first.is_whitespace() {
            let end = rest.find(|c: char| !c.is_whitespace()).unwrap_or(rest.len());
            rest = &rest[end..];
            Some(Piece::Space)
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            let (word, tail) = rest.split_at(end);
            rest = tail;
            Some(Piece::Word(word))
        }
    })
}

/// Decodes character references: numeric ones and every HTML5 named entity (a superset of XML's five).
/// Unknown or unterminated references are kept literally instead of failing, because Confluence storage
/// format and real-world HTML both contain stray ampersands.
pub(crate) fn decode_entities(raw: &str) -> Cow<'_, str> {
    if !raw.contains('&') {
        return Cow::Borrowed(raw);
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        let after = &rest[amp + 1..];
        // Entity names are short; looking further would let one stray '&' swallow a paragraph.
        let window = &after[..floor_char_boundary(after, 40)];
        let decoded = window.find(';').and_then(|semi| {
            let name = &window[..semi];
            resolve_entity(name).map(|text| (text, semi + 1))
        });
        match decoded {
            Some((text, consumed)) => {
                out.push_str(&text);
                rest = &after[consumed..];
            }
            None => {
                out.push('&');
                rest = after;
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn resolve_entity(name: &str) -> Option<Cow<'static, str>> {
    if let Some(number) = name.strip_prefix('#') {
        let code = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse::<u32>().ok()?,
        };
        let decoded = match char::from_u32(code) {
            Some('\0') | None => char::REPLACEMENT_CHARACTER,
            Some(c) => c,
        };
        return Some(Cow::Owned(decoded.to_string()));
    }
    quick_xml::escape::resolve_html5_entity(name).map(Cow::Borrowed)
}

/// The largest index ≤ `index` that falls on a char boundary of `text`.
pub(crate) fn floor_char_boundary(text: &str, index: usize) -> usize {
    if index >= text.len() {
        return text.len();
    }
    (0..=index).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0)
}

/// What an element does to the text flow, for HTML and for Confluence storage format alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Layout {
    Inline,
    Block,
    Cell,
}

pub(crate) fn layout_of(name: &str) -> Layout {
    const BLOCKS: &[&str] = &[
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "br",
        "caption",
        "dd",
        "details",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "head",
        "header",
        "hr",
        "html",
        "legend",
        "li",
        "main",
        "nav",
        "ol",
        "option",
        "p",
        "pre",
        "section",
        "summary",
        "table",
        "tbody",
        "tfoot",
        "thead",
        "title",
        "tr",
        "ul",
    ];
    let lower = name.to_ascii_lowercase();
    if lower == "td" || lower == "th" {
        Layout::Cell
    } else if BLOCKS.contains(&lower.as_str()) {
        Layout::Block
    } else {
        Layout::Inline
    }
}

/// Elements whose contents are never text a reader sees.
fn is_hidden_html(name: &str) -> bool {
    ["script", "style", "template", "ac:parameter", "ac:placeholder"]
        .iter()
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// Strips markup from XML (or anything tag-shaped, such as malformed storage format): tags go, block tags
/// become newlines, table cells tabs, script and style bodies are dropped, CDATA sections are kept verbatim,
/// entities are decoded. Never fails.
pub fn strip_markup(html: &str) -> String {
    let mut sink = TextSink::new();
    let mut cell_depth = 0usize;
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            sink.text(&decode_entities(rest));
            break;
        };
        if lt > 0 {
            sink.text(&decode_entities(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            sink.verbatim(&after[..end]);
            rest = after.get(end + 3..).unwrap_or("");
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            rest = rest.find('>').map_or("", |end| &rest[end + 1..]);
        } else if let Some(tag) = parse_tag(rest) {
            rest = &rest[tag.len..];
            let layout = layout_of(tag.name);
            if !tag.closing && is_hidden_html(tag.name) && !tag.self_closing {
                rest = skip_past_closing_tag(rest, tag.name);
                continue;
            }
            if tag.name.eq_ignore_ascii_case("tr") {
                cell_depth = 0;
            }
            match layout {
                Layout::Inline => {}
                Layout::Block if cell_depth > 0 => sink.gap(Gap::Space),
                Layout::Block => sink.gap(Gap::Line),
                Layout::Cell => {
                    sink.gap(Gap::Cell);
                    match (tag.closing, tag.self_closing) {
                        (true, _) => cell_depth = cell_depth.saturating_sub(1),
                        (false, false) => cell_depth += 1,
                        (false, true) => {}
                    }
                }
            }
        } else {
            // A '<' that does not open a tag ("a < b") is text.
            sink.text("<");
            rest = &rest[1..];
        }
    }
    sink.finish()
}

struct Tag<'a> {
    name: &'a str,
    closing: bool,
    self_closing: bool,
    /// Bytes from the '<' to just past the '>'.
    len: usize,
}

fn parse_tag(input: &str) -> Option<Tag<'_>> {
    let bytes = input.as_bytes();
    let mut i = 1;
    let closing = bytes.get(i) == Some(&b'/');
    if closing {
        i += 1;
    }
    let name_start = i;
    if !bytes.get(i)?.is_ascii_alphabetic() {
        return None;
    }
    while bytes.get(i).is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b':' | b'_' | b'.')) {
        i += 1;
    }
    let name = &input[name_start..i];
    // Skip attributes up to the closing '>', honouring quotes so that '>' inside a value does not end the tag.
    let mut quote: Option<u8> = None;
    while let Some(&b) = bytes.get(i) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => {
                let self_closing = i > 0 && bytes[i - 1] == b'/';
                return Some(Tag { name, closing, self_closing, len: i + 1 });
            }
            (None, _) => {}
        }
        i += 1;
    }
    // Unterminated tag at the end of input: swallow the rest.
    Some(Tag { name, closing, self_closing: false, len: input.len() })
}

/// Returns what follows `</name…>` (case-insensitive), or "" when the element is never closed.
fn skip_past_closing_tag<'a>(rest: &'a str, name: &str) -> &'a str {
    let needle = format!("</{}", name.to_ascii_lowercase());
    let lower = rest.to_ascii_lowercase();
    match lower.find(&needle) {
        Some(start) => {
            let after = &rest[start..];
            after.find('>').map_or("", |end| &after[end + 1..])
        }
        None => "",
    }
}

/// Decodes bytes of a known text encoding to a string, replacing invalid sequences.
pub(crate) fn decode_bytes(bytes: &[u8], encoding: TextEncoding) -> Cow<'_, str> {
    match encoding {
        TextEncoding::Utf8 => {
            let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            String::from_utf8_lossy(bytes)
        }
        TextEncoding::Utf16Le | TextEncoding::Utf16Be => {
            let bytes = bytes
                .strip_prefix(b"\xFF\xFE")
                .filter(|_| encoding == TextEncoding::Utf16Le)
                .or_else(|| bytes.strip_prefix(b"\xFE\xFF").filter(|_| encoding == TextEncoding::Utf16Be))
                .unwrap_or(bytes);
            let units = bytes.chunks_exact(2).map(|pair| match encoding {
                TextEncoding::Utf16Le => u16::from_le_bytes([pair[0], pair[1]]),
                _ => u16::from_be_bytes([pair[0], pair[1]]),
            });
            Cow::Owned(char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect())
        }
        // Windows-1252 and Latin-1 agree on every letter that matters for search; bytes map to code points.
        TextEncoding::Latin1 => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
    }
}

/// Plain text and Markdown: line endings normalised, control characters dropped, trailing spaces trimmed.
/// Markdown syntax is kept: its punctuation does not hurt search and its words are the content.
pub fn plain_to_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let clean: String = line.chars().filter(|c| !c.is_control() || *c == '\t').collect();
        out.push_str(clean.trim_end());
        out.push('\n');
    }
    collapse_blank_lines(out.trim_matches('\n'))
}

/// Keeps at most one blank line between paragraphs.
pub(crate) fn collapse_blank_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut blank_run = 0;
    for line in text.lines() {
        if line.trim().is_empty() {
            blank_run += 1;
            if blank_run > 1 {
                continue;
            }
            out.push('\n');
        } else {
            blank_run = 0;
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    out.trim_matches('\n').to_owned()
}

/// CSV (RFC 4180, also tab- or semicolon-separated): quotes removed, cells separated by tabs, one record
/// per line. The separator is whichever of `,` `;` `\t` is most common on the first line.
pub fn csv_to_text(text: &str) -> String {
    let first_line = text.lines().next().unwrap_or("");
    let separator =
        [',', ';', '\t'].into_iter().max_by_key(|sep| first_line.matches(*sep).count()).unwrap_or(',');
    let mut out = String::with_capacity(text.len());
    let mut field = String::new();
    let mut fields: Vec<String> = Vec::new();
    let mut in_quotes = false;
    let mut chars = text.chars().peekable();
    let end_record = |fields: &mut Vec<String>, field: &mut String, out: &mut String| {
        fields.push(std::mem::take(field).trim().to_owned());
        let line = fields.iter().filter(|f| !f.is_empty()).cloned().collect::<Vec<_>>().join("\t");
        if !line.is_empty() {
            out.push_str(&line);
            out.push('\n');
        }
        fields.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '"' if in_quotes && chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            '"' if in_quotes => in_quotes = false,
            '"' if field.trim().is_empty() => {
                field.clear();
                in_quotes = true;
            }
            '\r' if !in_quotes => {}
            '\n' if !in_quotes => end_record(&mut fields, &mut field, &mut out),
            c if c == separator && !in_quotes => fields.push(std::mem::take(&mut field).trim().to_owned()),
            c if c.is_control() && c != '\n' && c != '\t' => {}
            c if c == '\n' || c == '\t' => field.push(' '),
            c => field.push(c),
        }
    }
    end_record(&mut fields, &mut field, &mut out);
    out.trim_end().to_owned()
}

/// JSON: the string values (not the keys, which are schema, nor numbers and booleans), one per line; object
/// members come in key order. Input that does not parse is treated as plain text.
pub fn json_to_text(text: &str) -> String {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return plain_to_text(text);
    };
    let mut lines = Vec::new();
    // An explicit stack instead of recursion: serde_json bounds parse depth, but this stays safe regardless.
    let mut stack = vec![&value];
    while let Some(value) = stack.pop() {
        match value {
            serde_json::Value::String(s) => {
                let s = s.trim();
                if !s.is_empty() {
                    lines.push(s.to_owned());
                }
            }
            serde_json::Value::Array(items) => stack.extend(items.iter().rev()),
            serde_json::Value::Object(map) => stack.extend(map.values().rev()),
            _ => {}
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entities_decode_named_numeric_and_keep_unknown() {
        let cases = [
            ("a &amp; b", "a & b"),
            ("&lt;tag&gt;", "<tag>"),
            ("it&rsquo;s &mdash; fine", "it\u{2019}s \u{2014} fine"),
            ("x&nbsp;y", "x\u{a0}y"),
            ("&#65;&#x42;&#X43;", "ABC"),
            ("&#0;", "\u{FFFD}"),
            ("&#xD800;", "\u{FFFD}"),
            ("AT&T rocks", "AT&T rocks"),
            ("&notanentity;", "&notanentity;"),
            ("trailing &", "trailing &"),
            ("&amp", "&amp"),
            ("caf&eacute; &euro;5", "café €5"),
            ("ünïcödé &amp; ok", "ünïcödé & ok"),
        ];
        for (input, expected) in cases {
            assert_eq!(decode_entities(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn sink_collapses_whitespace_and_orders_gaps() {
        let mut sink = TextSink::new();
        sink.gap(Gap::Line);
        sink.text("  hello \n\t world  ");
        sink.gap(Gap::Cell);
        sink.gap(Gap::Space);
        sink.text("cell");
        sink.gap(Gap::Space);
        sink.gap(Gap::Line);
        sink.verbatim("\nfn main() {\n    body();\n}\n\n");
        sink.text("after");
        sink.gap(Gap::Line);
        assert_eq!(sink.finish(), "hello world\tcell\nfn main() {\n    body();\n}\nafter");
    }

    #[test]
    fn markup_stripping() {
        let cases = [
            ("<p>one</p><p>two</p>", "one\ntwo"),
            ("<b>bold</b> and <i>it</i>", "bold and it"),
            ("<script>var x = '<p>';</script><p>shown</p>", "shown"),
            ("<STYLE>p { color: red }</STYLE>visible", "visible"),
            (
                "<table><tr><td>a</td><td>b</td></tr><tr><td>c</td><td><p>d</p><p>e</p></td></tr></table>",
                "a\tb\nc\td e",
            ),
            ("a<br>b<br/>c", "a\nb\nc"),
            ("<!-- hidden --><p title='x > y'>kept</p>", "kept"),
            ("<!DOCTYPE html><html><head><title>T</title></head><body>B</body></html>", "T\nB"),
            ("1 < 2 &amp;&amp; 3 > 2", "1 < 2 && 3 > 2"),
            ("<p>unclosed <b>bold", "unclosed bold"),
            ("<div", ""),
            ("<![CDATA[code <b>raw</b>]]>", "code <b>raw</b>"),
            ("<script>never closed", ""),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(strip_markup(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn csv_records_become_tab_separated_lines() {
        let cases = [
            ("a,b,c\n1,2,3\n", "a\tb\tc\n1\t2\t3"),
            ("name;city\r\n\"Doe; John\";\"Paris\"\r\n", "name\tcity\nDoe; John\tParis"),
            ("q,\"he said \"\"hi\"\"\"\n", "q\the said \"hi\""),
            ("x,\"multi\nline\"\n", "x\tmulti line"),
            ("a\tb\n", "a\tb"),
            ("", ""),
        ];
        for (input, expected) in cases {
            assert_eq!(csv_to_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn json_keeps_string_values_only() {
        let text = json_to_text(
            r#"{"title":"Quarterly report","n":3,"tags":["alpha","beta"],"nested":{"k":"deep value","t":true}}"#,
        );
        let mut lines: Vec<&str> = text.lines().collect();
        lines.sort_unstable();
        assert_eq!(lines, ["Quarterly report", "alpha", "beta", "deep value"]);
        assert_eq!(json_to_text("not json { at all"), "not json { at all");
    }

    #[test]
    fn plain_text_normalises_lines() {
        assert_eq!(plain_to_text("a  \r\nb\u{7}c\n\n\n\nd\n"), "a\nbc\n\nd");
    }

    #[test]
    fn decode_bytes_handles_boms_and_legacy_bytes() {
        assert_eq!(decode_bytes(b"\xEF\xBB\xBFhi", TextEncoding::Utf8), "hi");
        assert_eq!(decode_bytes(b"\xFF\xFEh\0i\0", TextEncoding::Utf16Le), "hi");
        assert_eq!(decode_bytes(b"\xFE\xFF\0h\0i", TextEncoding::Utf16Be), "hi");
        assert_eq!(decode_bytes(b"h\0i\0", TextEncoding::Utf16Le), "hi");
        assert_eq!(decode_bytes(b"caf\xE9", TextEncoding::Latin1), "café");
    }
}
