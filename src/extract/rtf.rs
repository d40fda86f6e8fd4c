//! RTF documents to text: a small reader of RTF's groups, control words and escapes.
//!
//! Text runs are kept, `\par`, `\line`, `\sect`, `\page` and `\row` end lines, `\tab` and `\cell` become
//! tabs; `\'hh` bytes are decoded in the document's code page (`\ansicpg`, Windows-1252 by default, through
//! encoding_rs) and `\uN` characters replace their `\ucN` fallback characters. Destinations that are not
//! text (font, colour and style tables, document information, pictures, objects, headers, footers, field
//! instructions, every `\*` destination) are skipped. Hand-written because the one RTF crate (rtf-parser)
//! glues paragraphs together ("planCafé") and treats `\'hh` as Latin-1 whatever the code page.
//! Not handled: embedded objects and pictures; the reader never fails on a malformed document, it reads
//! what it can (unbalanced groups, unknown control words).

use encoding_rs::{Encoding, WINDOWS_1252};

use super::text::plain_to_text;
use super::Error;

/// Destinations whose content is not text a reader sees.
const SKIPPED_DESTINATIONS: &[&str] = &[
    "fonttbl",
    "colortbl",
    "stylesheet",
    "info",
    "pict",
    "object",
    "header",
    "headerl",
    "headerr",
    "headerf",
    "footer",
    "footerl",
    "footerr",
    "footerf",
    "listtable",
    "listoverridetable",
    "rsidtbl",
    "generator",
    "fldinst",
    "themedata",
    "colorschememapping",
    "datastore",
    "latentstyles",
    "xmlnstbl",
    "filetbl",
    "revtbl",
];

/// Groups deeper than this are read as if flat: no real document nests this far.
const MAX_GROUP_DEPTH: usize = 512;

#[derive(Debug, Clone, Copy)]
struct Group {
    skipped: bool,
    /// Fallback characters that follow a `\uN` (`\ucN`).
    unicode_skip: usize,
}

/// Extracts the text of an RTF document.
pub fn rtf_to_text(rtf: &str) -> Result<String, Error> {
    if !rtf.trim_start().starts_with("{\\rtf") {
        return Err(Error::Rtf { reason: "missing the {\\rtf header".to_owned() });
    }
    let mut reader = RtfReader { out: String::new(), bytes: Vec::new(), encoding: WINDOWS_1252 };
    let mut groups = vec![Group { skipped: false, unicode_skip: 1 }];
    let mut pending_skip = 0usize;
    let mut chars = rtf.chars().peekable();
    while let Some(c) = chars.next() {
        let group = *groups.last().unwrap_or(&Group { skipped: false, unicode_skip: 1 });
        match c {
            '{' => {
                reader.flush_bytes();
                if groups.len() < MAX_GROUP_DEPTH {
                    groups.push(group);
                }
            }
            '}' => {
                reader.flush_bytes();
                if groups.len() > 1 {
                    groups.pop();
                }
            }
            '\r' | '\n' => {}
            '\\' => match chars.peek().copied() {
                Some(escaped @ ('\\' | '{' | '}')) => {
                    chars.next();
                    reader.text(escaped, group.skipped, &mut pending_skip);
                }
                Some('\'') => {
                    chars.next();
                    let hex: String = chars.by_ref().take(2).collect();
                    if let Ok(byte) = u8::from_str_radix(&hex, 16) {
                        if pending_skip > 0 {
                            pending_skip -= 1;
                        } else if !group.skipped {
                            reader.bytes.push(byte);
                        }
                    }
                }
                Some('*') => {
                    chars.next();
                    if let Some(current) = groups.last_mut() {
                        current.skipped = true;
                    }
                }
                Some('~') => {
                    chars.next();
                    reader.text(' ', group.skipped, &mut pending_skip);
                }
                Some('_') => {
                    chars.next();
                    reader.text('-', group.skipped, &mut pending_skip);
                }
                Some('\r' | '\n') => {
                    chars.next();
                    reader.text('\n', group.skipped, &mut pending_skip);
                }
                Some(letter) if letter.is_ascii_alphabetic() => {
                    let mut word = String::new();
                    while let Some(&l) = chars.peek().filter(|l| l.is_ascii_alphabetic()) {
                        word.push(l);
                        chars.next();
                    }
                    let mut digits = String::new();
                    if chars.peek() == Some(&'-') {
                        digits.push('-');
                        chars.next();
                    }
                    while let Some(&d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                        digits.push(d);
                        chars.next();
                    }
                    // One space after a control word is its delimiter, not text.
                    if chars.peek() == Some(&' ') {
                        chars.next();
                    }
                    let parameter = digits.parse::<i64>().ok();
                    match word.as_str() {
                        "par" | "line" | "sect" | "page" | "row" => {
                            reader.text('\n', group.skipped, &mut pending_skip)
                        }
                        "tab" | "cell" => reader.text('\t', group.skipped, &mut pending_skip),
                        "u" => {
                            reader.flush_bytes();
                            let code = parameter.unwrap_or(0);
                            let code = if code < 0 { code + 65536 } else { code };
                            let shown =
                                u32::try_from(code).ok().and_then(char::from_u32).unwrap_or('\u{FFFD}');
                            if !group.skipped {
                                reader.out.push(shown);
                            }
                            pending_skip = group.unicode_skip;
                        }
                        "uc" => {
                            if let Some(current) = groups.last_mut() {
                                current.unicode_skip =
                                    parameter.and_then(|n| usize::try_from(n).ok()).unwrap_or(1).min(8);
                            }
                        }
                        "ansicpg" => reader.encoding = code_page(parameter.unwrap_or(1252)),
                        destination if SKIPPED_DESTINATIONS.contains(&destination) => {
                            if let Some(current) = groups.last_mut() {
                                current.skipped = true;
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            },
            other => reader.text(other, group.skipped, &mut pending_skip),
        }
    }
    reader.flush_bytes();
    Ok(plain_to_text(&reader.out))
}

struct RtfReader {
    out: String,
    /// `\'hh` bytes waiting to be decoded together (a multi-byte code page spreads a character over several).
    bytes: Vec<u8>,
    encoding: &'static Encoding,
}

impl RtfReader {
    fn text(&mut self, c: char, skipped: bool, pending_skip: &mut usize) {
        if *pending_skip > 0 {
            *pending_skip -= 1;
            return;
        }
        if !skipped {
            self.flush_bytes();
            self.out.push(c);
        }
    }

    fn flush_bytes(&mut self) {
        if !self.bytes.is_empty() {
            let (decoded, _, _) = self.encoding.decode(&self.bytes);
            self.out.push_str(&decoded);
            self.bytes.clear();
        }
    }
}

/// The encoding of a Windows code page number, Windows-1252 when unknown.
fn code_page(number: i64) -> &'static Encoding {
    let label = match number {
        874 => "windows-874",
        932 => "shift_jis",
        936 => "gbk",
        949 => "euc-kr",
        950 => "big5",
        1250..=1258 => {
            return Encoding::for_label(format!("windows-{number}").as_bytes()).unwrap_or(WINDOWS_1252)
        }
        10000 => "macintosh",
        _ => "windows-1252",
    };
    Encoding::for_label(label.as_bytes()).unwrap_or(WINDOWS_1252)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rtf_reads_as_text() {
        let cases = [
            (
                r"{\rtf1\ansi\ansicpg1252\deff0{\fonttbl{\f0\fswiss Helvetica;}}{\colortbl;\red0\green0\blue0;}\f0\pard Quarterly {\b plan}\par Caf\'e9 opens\par}",
                "Quarterly plan\nCafé opens",
            ),
            (r"{\rtf1\ansi{\*\generator Writer;}\uc1 na\u239?ve text\par}", "naïve text"),
            (r"{\rtf1\ansi\ansicpg1251 \'cf\'f0\'e8\'e2\'e5\'f2}", "Привет"),
            (
                r"{\rtf1{\info{\title Hidden title}}a\tab b\cell c\line d \{braces\} and \\ slash}",
                "a\tb\tc\nd {braces} and \\ slash",
            ),
            (r"{\rtf1 {\field{\*\fldinst HYPERLINK x}{\fldrslt shown link}}}", "shown link"),
            (r"{\rtf1\uc2 \u26085\'93\'fa\u26412\'96\'7b}", "日本"),
        ];
        for (rtf, expected) in cases {
            assert_eq!(rtf_to_text(rtf).unwrap(), expected, "{rtf}");
        }
    }

    #[test]
    fn malformed_rtf_reads_what_it_can() {
        assert_eq!(rtf_to_text(r"{\rtf1 unbalanced {{{ words").unwrap(), "unbalanced  words");
        assert_eq!(rtf_to_text(r"{\rtf1 \'zz \u99999999999? x}}}}").unwrap().trim(), "\u{FFFD} x");
        assert!(rtf_to_text("not rtf").is_err());
        let deep = format!("{{\\rtf1 {}deep{}", "{".repeat(100_000), "}".repeat(100_000));
        assert_eq!(rtf_to_text(&deep).unwrap(), "deep");
    }
}
