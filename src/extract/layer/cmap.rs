//! CMaps embedded in PDFs: a font's `/ToUnicode` map (character code to text) and an embedded `/Encoding`
//! CMap of a composite font (character code to CID, and how many bytes each code takes).
//!
//! Parsed from the lexer's tokens, leniently: a malformed entry is skipped, the rest is kept. Ranges stay
//! ranges (a hostile `<00000000> <ffffffff>` costs one entry, not four billion). Not here: the CMaps that
//! PDFs name instead of embedding (`Identity-H`, `90ms-RKSJ-H`, …), which `font.rs` knows by name.

use std::collections::HashMap;

use super::lexer::{Lexer, Operand, Token};

/// The byte lengths and value bounds of valid codes, from `begincodespacerange`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CodeRange {
    pub bytes: usize,
    pub low: u32,
    pub high: u32,
}

/// What a range of codes maps to.
#[derive(Debug, Clone, PartialEq)]
enum RangeTarget {
    /// The first code's text; each next code increments its last character.
    Start(String),
    /// One text per code.
    Each(Vec<String>),
}

#[derive(Debug, Clone, PartialEq)]
struct Range {
    low: u32,
    high: u32,
    target: RangeTarget,
}

/// A parsed CMap.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CMap {
    pub codespace: Vec<CodeRange>,
    chars: HashMap<u32, String>,
    /// Sorted by `low`.
    ranges: Vec<Range>,
    cids: HashMap<u32, u32>,
    /// `(low, high, first CID)`, sorted by `low`.
    cid_ranges: Vec<(u32, u32, u32)>,
    /// The CMap this one extends (`/Identity-H usecmap`).
    pub parent: Option<Vec<u8>>,
}

impl CMap {
    pub fn parse(bytes: &[u8]) -> Self {
        let mut cmap = CMap::default();
        let mut operands: Vec<Operand> = Vec::new();
        for token in Lexer::new(bytes) {
            let operator = match token {
                Token::Operand(operand) => {
                    operands.push(operand);
                    continue;
                }
                Token::Operator(operator) => operator,
            };
            match operator.as_slice() {
                b"endcodespacerange" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::String(low), Operand::String(high)) = (&pair[0], &pair[1]) {
                            if (1..=4).contains(&low.len()) {
                                cmap.codespace.push(CodeRange {
                                    bytes: low.len(),
                                    low: value(low),
                                    high: value(high),
                                });
                            }
                        }
                    }
                }
                b"endbfchar" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::String(code), Operand::String(text)) = (&pair[0], &pair[1]) {
                            cmap.chars.insert(value(code), utf16_text(text));
                        }
                    }
                }
                b"endbfrange" => {
                    for triple in operands.chunks_exact(3) {
                        let (Operand::String(low), Operand::String(high)) = (&triple[0], &triple[1]) else {
                            continue;
                        };
                        let target = match &triple[2] {
                            Operand::String(start) => RangeTarget::Start(utf16_text(start)),
                            Operand::Array(items) => RangeTarget::Each(
                                items
                                    .iter()
                                    .map(|item| match item {
                                        Operand::String(text) => utf16_text(text),
                                        _ => String::new(),
                                    })
                                    .collect(),
                            ),
                            _ => continue,
                        };
                        let (low, high) = (value(low), value(high));
                        if low <= high {
                            cmap.ranges.push(Range { low, high, target });
                        }
                    }
                }
                b"endcidchar" => {
                    for pair in operands.chunks_exact(2) {
                        if let (Operand::String(code), Some(cid)) = (&pair[0], pair[1].number()) {
                            cmap.cids.insert(value(code), cid as u32);
                        }
                    }
                }
                b"endcidrange" => {
                    for triple in operands.chunks_exact(3) {
                        if let (Operand::String(low), Operand::String(high), Some(cid)) =
                            (&triple[0], &triple[1], triple[2].number())
                        {
                            let (low, high) = (value(low), value(high));
                            if low <= high {
                                cmap.cid_ranges.push((low, high, cid as u32));
                            }
                        }
                    }
                }
                b"usecmap" => {
                    if let Some(Operand::Name(name)) = operands.last() {
                        cmap.parent = Some(name.clone());
                    }
                }
                _ => {}
            }
            operands.clear();
        }
        cmap.ranges.sort_by_key(|range| range.low);
        cmap.cid_ranges.sort_by_key(|range| range.0);
        cmap
    }

    pub fn is_empty(&self) -> bool {
        self.chars.is_empty() && self.ranges.is_empty()
    }

    /// The text of a code, when the map has it.
    pub fn text(&self, code: u32) -> Option<String> {
        if let Some(text) = self.chars.get(&code) {
            return Some(text.clone());
        }
        let at = self.ranges.partition_point(|range| range.low <= code);
        // Ranges rarely overlap; the nearest few below the code are enough to find the one that holds it.
        let range = self.ranges[..at].iter().rev().take(8).find(|range| code <= range.high)?;
        let offset = code - range.low;
        match &range.target {
            RangeTarget::Each(texts) => texts.get(offset as usize).cloned(),
            RangeTarget::Start(start) => {
                let mut chars: Vec<char> = start.chars().collect();
                let last = chars.pop()?;
                chars.push(char::from_u32(last as u32 + offset)?);
                Some(chars.into_iter().collect())
            }
        }
    }

    /// The CID of a code, when the map has one.
    pub fn cid(&self, code: u32) -> Option<u32> {
        if let Some(cid) = self.cids.get(&code) {
            return Some(*cid);
        }
        let at = self.cid_ranges.partition_point(|range| range.0 <= code);
        let (low, _, first) = self.cid_ranges[..at].iter().rev().take(8).find(|range| code <= range.1)?;
        Some(first + (code - low))
    }
}

/// A big-endian code of up to four bytes.
fn value(bytes: &[u8]) -> u32 {
    bytes.iter().rev().take(4).rev().fold(0u32, |acc, &b| acc << 8 | u32::from(b))
}

/// A destination string: UTF-16BE, except that producers also write single bytes (`<41>`), read as the
/// character with that value.
fn utf16_text(bytes: &[u8]) -> String {
    if bytes.len() % 2 == 1 {
        let mut padded = vec![0];
        padded.extend_from_slice(bytes);
        return utf16_text(&padded);
    }
    let units = bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
    char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TO_UNICODE: &str = "/CIDInit /ProcSet findresource begin 12 dict begin begincmap
        /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def
        /CMapName /Adobe-Identity-UCS def /CMapType 2 def
        1 begincodespacerange <0000> <FFFF> endcodespacerange
        2 beginbfchar <0003> <0020> <0011> <00660069> endbfchar
        3 beginbfrange <0024> <0026> <0041> <0030> <0031> [<0062> <D835DC9C>] <00> <7f> <00> endbfrange
        1 begincidrange <8140> <817e> 633 endcidrange
        endcmap CMapName currentdict /CMap defineresource pop end end";

    #[test]
    fn maps_codes_to_text_and_cids() {
        let cmap = CMap::parse(TO_UNICODE.as_bytes());
        assert_eq!(cmap.codespace, vec![CodeRange { bytes: 2, low: 0, high: 0xffff }]);
        let cases = [
            (0x03, Some(" ")),
            (0x11, Some("fi")),
            (0x24, Some("A")),
            (0x26, Some("C")),
            (0x27, Some("'")),
            (0x30, Some("b")),
            (0x31, Some("\u{1d49c}")),
            (0x48, Some("H")),
            (0x80, None),
        ];
        for (code, text) in cases {
            assert_eq!(cmap.text(code).as_deref(), text, "code {code:#x}");
        }
        assert_eq!(cmap.cid(0x8141), Some(634));
        assert_eq!(cmap.cid(0x8200), None);
    }

    #[test]
    fn malformed_entries_are_skipped() {
        let cmap = CMap::parse(
            b"2 beginbfchar <01> /glyph <02> <0042> <03> endbfchar 1 beginbfrange <10> endbfrange",
        );
        assert_eq!(cmap.text(2).as_deref(), Some("B"));
        assert_eq!(cmap.text(1), None);
        let cmap = CMap::parse(b"/Identity-H usecmap");
        assert_eq!(cmap.parent.as_deref(), Some(&b"Identity-H"[..]));
    }
}
