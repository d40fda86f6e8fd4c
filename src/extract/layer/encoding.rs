//! Character encodings a PDF names rather than embeds: the simple fonts' base encodings and glyph names,
//! and the predefined CMaps of composite fonts.
//!
//! The base encodings (Standard, WinAnsi, MacRoman, MacExpert) and the Adobe Glyph List come from
//! lopdf's tables. Predefined CJK CMaps are read without Adobe's CMap files: each one's character codes are
//! the bytes of a legacy national encoding (90ms-RKSJ is Shift-JIS, GBK-EUC is GBK, KSCms-UHC is EUC-KR
//! and so on; the plain `H`/`V` CMaps are JIS X 0208 row-cell codes, EUC-JP without the high bits), so
//! encoding_rs decodes them to Unicode, and the `Uni…` CMaps are Unicode already. Not here: CID to
//! Unicode tables for `Identity` fonts without a `/ToUnicode` map, which would need Adobe's collections.

use std::sync::OnceLock;

use encoding_rs::Encoding;
use lopdf::{Dictionary, Document, Object};

/// A simple font's code-to-character table.
pub type Table = [Option<char>; 256];

/// A simple font's base encoding by name (Symbol's is not among lopdf's tables).
pub fn base_encoding(name: &[u8]) -> Option<&'static Table> {
    static TABLES: OnceLock<[Table; 4]> = OnceLock::new();
    const NAMES: [&[u8]; 4] =
        [b"StandardEncoding", b"WinAnsiEncoding", b"MacRomanEncoding", b"MacExpertEncoding"];
    let index = NAMES.iter().position(|known| *known == name)?;
    let tables = TABLES.get_or_init(|| NAMES.map(|name| lopdf_table(Object::Name(name.to_vec()))));
    Some(&tables[index])
}

/// lopdf's decoding of each single byte under a font `/Encoding` entry; lopdf exposes its tables (the
/// base encodings and the Adobe Glyph List) only through decoding.
fn lopdf_table(encoding: Object) -> Table {
    let doc = Document::new();
    let mut font = Dictionary::new();
    font.set("Type", Object::Name(b"Font".to_vec()));
    font.set("Encoding", encoding);
    let Ok(decoder) = font.get_font_encoding(&doc) else { return [None; 256] };
    std::array::from_fn(|code| {
        let text = Document::decode_text(&decoder, &[code as u8]).ok()?;
        let mut chars = text.chars();
        chars.next().filter(|_| chars.next().is_none())
    })
}

/// The character the Adobe Glyph List gives a glyph name.
fn glyph_list(name: &[u8]) -> Option<char> {
    let differences = Object::Array(vec![Object::Integer(0), Object::Name(name.to_vec())]);
    let mut encoding = Dictionary::new();
    encoding.set("Type", Object::Name(b"Encoding".to_vec()));
    encoding.set("Differences", differences);
    // Code 0 has no character in the Standard encoding underneath, so only the name can give it one.
    lopdf_table(Object::Dictionary(encoding))[0]
}

/// The text a glyph name stands for: a name of the Adobe Glyph List, `uniXXXX…` and `uXXXX[XX]`, and
/// the composed forms producers write (`f_i`, `a.sc`).
pub fn glyph_name_text(name: &[u8]) -> Option<String> {
    if let Some(c) = glyph_list(name) {
        return Some(c.to_string());
    }
    let name = std::str::from_utf8(name).ok()?;
    // A suffix after a dot names a variant of the same character.
    let base = name.split('.').next().unwrap_or(name);
    if base.is_empty() {
        return None;
    }
    if base != name {
        return glyph_name_text(base.as_bytes());
    }
    if base.contains('_') {
        let parts: Option<String> = base.split('_').map(|part| glyph_name_text(part.as_bytes())).collect();
        return parts;
    }
    if let Some(hex) = base.strip_prefix("uni") {
        if hex.len() >= 4 && hex.len() % 4 == 0 && hex.is_ascii() {
            let units: Option<Vec<u16>> =
                (0..hex.len()).step_by(4).map(|i| u16::from_str_radix(&hex[i..i + 4], 16).ok()).collect();
            return Some(
                char::decode_utf16(units?).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect(),
            );
        }
    }
    if let Some(hex) = base.strip_prefix('u') {
        if (4..=6).contains(&hex.len()) {
            return u32::from_str_radix(hex, 16).ok().and_then(char::from_u32).map(String::from);
        }
    }
    None
}

/// A CMap a composite font names instead of embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predefined {
    /// Two-byte codes that are CIDs (`Identity-H`, `Identity-V`).
    Identity,
    /// Two-byte codes that are UCS-2 characters.
    Ucs2,
    /// UTF-16BE codes of two or four bytes.
    Utf16,
    /// Codes that are bytes of a legacy multi-byte encoding.
    Legacy(Legacy),
}

/// A legacy encoding, and whether its codes lack the high bits of its EUC form (JIS X 0208 row-cell).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Legacy {
    encoding: &'static Encoding,
    row_cell: bool,
}

impl Predefined {
    /// A predefined CMap by name; `None` for names this module does not know.
    pub fn by_name(name: &[u8]) -> Option<Self> {
        let name = std::str::from_utf8(name).ok()?;
        let stem = name.strip_suffix("-H").or_else(|| name.strip_suffix("-V")).unwrap_or(name);
        if stem == "Identity" {
            return Some(Predefined::Identity);
        }
        if stem.starts_with("Uni") {
            if stem.contains("UCS2") {
                return Some(Predefined::Ucs2);
            }
            if stem.contains("UTF16") {
                return Some(Predefined::Utf16);
            }
            return None;
        }
        let legacy = |encoding, row_cell| Some(Predefined::Legacy(Legacy { encoding, row_cell }));
        match stem {
            "H" | "V" | "78-H" | "78-V" | "Add-H" | "Add-V" | "Ext-H" | "Ext-V" | "NWP-H" | "NWP-V" => {
                return legacy(encoding_rs::EUC_JP, true)
            }
            "GB" => return legacy(encoding_rs::GBK, true),
            "KSC" => return legacy(encoding_rs::EUC_KR, true),
            _ => {}
        }
        if stem.contains("RKSJ") {
            legacy(encoding_rs::SHIFT_JIS, false)
        } else if stem == "EUC"
            || stem == "78-EUC"
            || stem.starts_with("Add-EUC")
            || stem.starts_with("Ext-EUC")
        {
            legacy(encoding_rs::EUC_JP, false)
        } else if stem.starts_with("GBK2K") {
            legacy(encoding_rs::GB18030, false)
        } else if stem.starts_with("GB") {
            legacy(encoding_rs::GBK, false)
        } else if stem.contains("B5") {
            legacy(encoding_rs::BIG5, false)
        } else if stem.starts_with("KSC") {
            legacy(encoding_rs::EUC_KR, false)
        } else {
            None
        }
    }

    /// Whether the CMap writes vertically.
    pub fn is_vertical(name: &[u8]) -> bool {
        name.ends_with(b"-V") || name == b"V"
    }
}

impl Legacy {
    /// How many bytes the code starting at `bytes[0]` takes.
    pub fn code_len(&self, bytes: &[u8]) -> usize {
        let first = bytes[0];
        let len = if self.row_cell {
            2
        } else if self.encoding == encoding_rs::SHIFT_JIS {
            if matches!(first, 0x81..=0x9f | 0xe0..=0xfc) {
                2
            } else {
                1
            }
        } else if self.encoding == encoding_rs::EUC_JP {
            match first {
                0x8f => 3,
                0x8e | 0xa1..=0xfe => 2,
                _ => 1,
            }
        } else if self.encoding == encoding_rs::GB18030 && bytes.get(1).is_some_and(|b| b.is_ascii_digit()) {
            4
        } else if (0x81..=0xfe).contains(&first) {
            2
        } else {
            1
        };
        len.min(bytes.len())
    }

    /// The text of one code.
    pub fn decode(&self, code: &[u8]) -> String {
        let bytes: Vec<u8> =
            if self.row_cell { code.iter().map(|b| b | 0x80).collect() } else { code.to_vec() };
        let (text, _) = self.encoding.decode_without_bom_handling(&bytes);
        text.into_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glyph_names() {
        let cases: [(&[u8], Option<&str>); 9] = [
            (b"A", Some("A")),
            (b"eacute", Some("é")),
            (b"fi", Some("\u{fb01}")),
            (b"uni0041", Some("A")),
            (b"uni00660069", Some("fi")),
            (b"u1F600", Some("\u{1f600}")),
            (b"T_h", Some("Th")),
            (b"a.sc", Some("a")),
            (b"g123", None),
        ];
        for (name, text) in cases {
            assert_eq!(glyph_name_text(name).as_deref(), text, "{}", String::from_utf8_lossy(name));
        }
    }

    #[test]
    fn predefined_cmaps_decode_their_legacy_encodings() {
        let cases: [(&[u8], &[u8], &str); 6] = [
            (b"90ms-RKSJ-H", b"\x93\xfa\x96\x7bA", "日本A"),
            (b"V", b"\x24\x22\x24\x24", "あい"),
            (b"GBK-EUC-H", b"\xd6\xd0\xce\xc4", "中文"),
            (b"ETen-B5-H", b"\xa4\xa4\xa4\xe5", "中文"),
            (b"KSCms-UHC-H", b"\xc7\xd1\xb1\xdb", "한글"),
            (b"EUC-H", b"\xc6\xfc\xcb\xdc", "日本"),
        ];
        for (name, bytes, expected) in cases {
            let Some(Predefined::Legacy(legacy)) = Predefined::by_name(name) else {
                panic!("{} is not a legacy cmap", String::from_utf8_lossy(name));
            };
            let mut text = String::new();
            let mut at = 0;
            while at < bytes.len() {
                let len = legacy.code_len(&bytes[at..]);
                text.push_str(&legacy.decode(&bytes[at..at + len]));
                at += len;
            }
            assert_eq!(text, expected, "{}", String::from_utf8_lossy(name));
        }
        assert_eq!(Predefined::by_name(b"Identity-V"), Some(Predefined::Identity));
        assert_eq!(Predefined::by_name(b"UniJIS-UCS2-H"), Some(Predefined::Ucs2));
        assert_eq!(Predefined::by_name(b"UniGB-UTF16-V"), Some(Predefined::Utf16));
        assert_eq!(Predefined::by_name(b"Adobe-Japan1-6"), None);
    }
}
