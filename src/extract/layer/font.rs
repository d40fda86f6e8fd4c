//! A PDF font as the text walker needs it: how a string's bytes split into character codes, the text
//! each code stands for, and each code's advance width.
//!
//! Text comes from the font's `/ToUnicode` map first, then from its encoding: a simple font's base
//! encoding with its `/Differences` glyph names, or a composite font's predefined CMap when that CMap is
//! Unicode or a legacy national encoding (see `encoding.rs`). Widths come from `/Widths` (simple fonts)
//! or `/W` (composite fonts) and a Type3 font's `/FontMatrix`. Not here: the font programs themselves
//! (no glyph outlines, no built-in encodings or cmaps of embedded font files).

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object};

use super::cid::CidText;
use super::cmap::{CMap, CodeRange};
use super::encoding::{self, Legacy, Predefined, Table};
use super::{resolve, stream_bytes};

/// One character code of a shown string.
#[derive(Debug, Clone, PartialEq)]
pub struct Glyph {
    /// What the code reads as; empty when the font does not say.
    pub text: String,
    /// Horizontal (or, in vertical fonts, vertical) advance in text space units per unit of font size.
    pub width: f64,
    /// A single-byte code 32, to which word spacing (`Tw`) applies.
    pub word_space: bool,
}

/// How a string's bytes split into codes.
#[derive(Debug, Clone, PartialEq)]
enum Codes {
    OneByte,
    TwoByte,
    Ranges(Vec<CodeRange>),
    Legacy(Legacy),
    Utf16,
}

/// Where a code's text comes from when `/ToUnicode` does not say.
#[derive(Debug, Clone, PartialEq)]
enum Fallback {
    /// A simple font's encoding, code by code.
    Table(Box<[Option<String>; 256]>),
    Ucs2,
    Utf16,
    Legacy(Legacy),
    /// A CID's text, from the font program or the character collection.
    Cid(CidText),
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Widths {
    first_char: u32,
    simple: Vec<f64>,
    cids: HashMap<u32, f64>,
    /// `(first, last, width)` runs of a composite font's `/W`.
    runs: Vec<(u32, u32, f64)>,
    default: f64,
}

/// A loaded font.
#[derive(Debug, Clone, PartialEq)]
pub struct Font {
    codes: Codes,
    to_unicode: Option<CMap>,
    fallback: Fallback,
    /// A composite font's code to CID map, when it embeds one.
    cid_map: Option<CMap>,
    widths: Widths,
    /// Glyph space to text space: 1/1000, or a Type3 font's `/FontMatrix`.
    glyph_scale: f64,
    /// The em of the font in text space units per unit of font size (1, except Type3 fonts).
    pub em: f64,
    pub vertical: bool,
}

/// Widths this font does not give are taken as half an em: a guess only used to place what follows.
const UNKNOWN_WIDTH: f64 = 500.0;

impl Font {
    pub fn load(doc: &Document, dict: &Dictionary) -> Font {
        let subtype = name_of(doc, dict, b"Subtype").unwrap_or_default();
        let to_unicode = dict
            .get(b"ToUnicode")
            .ok()
            .and_then(|object| stream_bytes(doc, object))
            .map(|bytes| CMap::parse(&bytes))
            .filter(|cmap| !cmap.is_empty());
        if subtype == b"Type0" {
            let mut font = Self::composite(doc, dict, to_unicode);
            // `/ToUnicode /Identity-H` (a name where a stream belongs): producers mean codes that are UCS-2.
            let identity = dict.get(b"ToUnicode").ok().and_then(|t| resolve(doc, t).as_name().ok());
            if identity.is_some_and(|name| name.starts_with(b"Identity")) {
                font.fallback = Fallback::Ucs2;
            }
            return font;
        }
        let matrix = numbers(doc, dict.get(b"FontMatrix").ok());
        let glyph_scale = match (subtype.as_slice(), matrix.first()) {
            (b"Type3", Some(scale)) if scale.abs() > 1e-9 => *scale,
            _ => 0.001,
        };
        let descriptor = dict.get(b"FontDescriptor").ok().and_then(|d| resolve(doc, d).as_dict().ok());
        let missing = descriptor
            .and_then(|d| d.get(b"MissingWidth").ok())
            .and_then(|w| number(doc, w))
            .filter(|w| *w > 0.0)
            .unwrap_or(UNKNOWN_WIDTH);
        let widths = Widths {
            first_char: dict.get(b"FirstChar").ok().and_then(|n| number(doc, n)).unwrap_or(0.0).max(0.0)
                as u32,
            simple: numbers(doc, dict.get(b"Widths").ok()),
            default: missing,
            ..Widths::default()
        };
        let fallback = Fallback::Table(Box::new(simple_encoding(doc, dict, &subtype)));
        let mut font = Font {
            codes: Codes::OneByte,
            to_unicode,
            fallback,
            cid_map: None,
            widths,
            glyph_scale,
            em: 1.0,
            vertical: false,
        };
        if subtype == b"Type3" {
            let aspect = match matrix.as_slice() {
                [a, _, _, d, ..] if a.abs() > 1e-9 => (d / a).abs(),
                _ => 1.0,
            };
            font.em = font.type3_em() * aspect;
        }
        font
    }

    /// A Type3 font's em, which its glyph space does not tell without drawing the glyphs: guessed from
    /// its widths, taking an `m` as 0.6 em wide and any other letter (or any glyph) as half an em.
    fn type3_em(&self) -> f64 {
        let Fallback::Table(table) = &self.fallback else { return 1.0 };
        // Only codes the font gives a width: its encoding names characters it has no glyph for.
        let first = self.widths.first_char;
        let width_of = |wanted: &dyn Fn(&str) -> bool| {
            (first..first.saturating_add(self.widths.simple.len() as u32).min(256))
                .filter(|&code| table[code as usize].as_deref().is_some_and(wanted))
                .map(|code| self.width(code, 1) * self.glyph_scale)
                .find(|width| *width > 0.0)
        };
        width_of(&|text| text == "m")
            .map(|width| width / 0.6)
            .or_else(|| width_of(&|text| text.chars().all(char::is_alphabetic)).map(|width| width / 0.5))
            .or_else(|| width_of(&|_| true).map(|width| width / 0.5))
            .unwrap_or(1.0)
    }

    fn composite(doc: &Document, dict: &Dictionary, to_unicode: Option<CMap>) -> Font {
        let encoding = dict.get(b"Encoding").map(|e| resolve(doc, e));
        let (codes, fallback, cid_map, vertical) = match encoding {
            Ok(Object::Name(name)) => {
                let vertical = Predefined::is_vertical(name);
                match Predefined::by_name(name) {
                    Some(Predefined::Ucs2) => (Codes::TwoByte, Fallback::Ucs2, None, vertical),
                    Some(Predefined::Utf16) => (Codes::Utf16, Fallback::Utf16, None, vertical),
                    Some(Predefined::Legacy(legacy)) => {
                        (Codes::Legacy(legacy), Fallback::Legacy(legacy), None, vertical)
                    }
                    Some(Predefined::Identity) | None => {
                        (Codes::TwoByte, Fallback::Cid(CidText::Unknown), None, vertical)
                    }
                }
            }
            Ok(stream @ Object::Stream(_)) => {
                let cmap = stream_bytes(doc, stream).map(|bytes| CMap::parse(&bytes)).unwrap_or_default();
                let vertical = cmap.parent.as_deref().is_some_and(Predefined::is_vertical);
                let codes = if cmap.codespace.is_empty() {
                    Codes::TwoByte
                } else {
                    Codes::Ranges(cmap.codespace.clone())
                };
                (codes, Fallback::Cid(CidText::Unknown), Some(cmap), vertical)
            }
            _ => (Codes::TwoByte, Fallback::Cid(CidText::Unknown), None, false),
        };
        let descendant = dict
            .get(b"DescendantFonts")
            .ok()
            .map(|d| resolve(doc, d))
            .and_then(|d| d.as_array().ok())
            .and_then(|fonts| fonts.first())
            .and_then(|d| resolve(doc, d).as_dict().ok());
        let mut widths = Widths { default: 1000.0, ..Widths::default() };
        if let Some(descendant) = descendant {
            if let Some(dw) = descendant.get(b"DW").ok().and_then(|n| number(doc, n)) {
                widths.default = dw;
            }
            read_cid_widths(doc, descendant.get(b"W").ok(), &mut widths);
        }
        let fallback = match (fallback, descendant) {
            (Fallback::Cid(_), Some(descendant)) if to_unicode.is_none() => {
                Fallback::Cid(CidText::of(doc, descendant))
            }
            (fallback, _) => fallback,
        };
        Font { codes, to_unicode, fallback, cid_map, widths, glyph_scale: 0.001, em: 1.0, vertical }
    }

    /// The glyphs of a shown string, code by code.
    pub fn glyphs(&self, bytes: &[u8]) -> Vec<Glyph> {
        let mut glyphs = Vec::with_capacity(bytes.len());
        let mut at = 0;
        while at < bytes.len() {
            let len = self.code_len(&bytes[at..]).clamp(1, bytes.len() - at);
            let code_bytes = &bytes[at..at + len];
            at += len;
            let code = code_bytes.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
            let text = self.text(code, code_bytes);
            let width = self.width(code, len) * self.glyph_scale;
            glyphs.push(Glyph { text, width, word_space: len == 1 && code == 32 });
        }
        glyphs
    }

    fn code_len(&self, bytes: &[u8]) -> usize {
        match &self.codes {
            Codes::OneByte => 1,
            Codes::TwoByte => 2,
            Codes::Utf16 => {
                if matches!(bytes[0], 0xd8..=0xdb) {
                    4
                } else {
                    2
                }
            }
            Codes::Legacy(legacy) => legacy.code_len(bytes),
            Codes::Ranges(ranges) => {
                let fits = |len: usize| {
                    let code = bytes.get(..len)?.iter().fold(0u32, |acc, &b| acc << 8 | u32::from(b));
                    ranges.iter().any(|r| r.bytes == len && r.low <= code && code <= r.high).then_some(len)
                };
                (1..=4).find_map(fits).or_else(|| ranges.iter().map(|r| r.bytes).min()).unwrap_or(2)
            }
        }
    }

    fn text(&self, code: u32, code_bytes: &[u8]) -> String {
        if let Some(text) = self.to_unicode.as_ref().and_then(|map| map.text(code)) {
            if !text.is_empty() && !text.starts_with('\0') {
                return text;
            }
        }
        match &self.fallback {
            Fallback::Table(table) => table[code as usize & 0xff].clone().unwrap_or_default(),
            Fallback::Ucs2 => char::from_u32(code).map(String::from).unwrap_or_default(),
            Fallback::Utf16 => {
                let units = code_bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
                char::decode_utf16(units).filter_map(Result::ok).collect()
            }
            Fallback::Legacy(legacy) => legacy.decode(code_bytes),
            Fallback::Cid(cids) => {
                let cid = self.cid_map.as_ref().and_then(|map| map.cid(code)).unwrap_or(code);
                cids.text(cid).map(String::from).unwrap_or_default()
            }
        }
    }

    fn width(&self, code: u32, len: usize) -> f64 {
        let widths = &self.widths;
        if matches!(self.codes, Codes::OneByte) {
            let index = code.checked_sub(widths.first_char).map(|i| i as usize);
            return index.and_then(|i| widths.simple.get(i)).copied().unwrap_or(widths.default);
        }
        let cid = match (&self.codes, &self.cid_map) {
            (_, Some(map)) => map.cid(code).unwrap_or(code),
            (Codes::TwoByte, None) => code,
            // Without Adobe's CMap files the CID of a legacy code is unknown: full width for double
            // bytes, half for single.
            _ => return if len == 1 { widths.default / 2.0 } else { widths.default },
        };
        if let Some(width) = widths.cids.get(&cid) {
            return *width;
        }
        let at = widths.runs.partition_point(|run| run.0 <= cid);
        widths.runs[..at].iter().rev().take(8).find(|run| cid <= run.1).map_or(widths.default, |run| run.2)
    }
}

/// A simple font's code-to-text table: its base encoding, then its `/Differences`.
fn simple_encoding(doc: &Document, dict: &Dictionary, subtype: &[u8]) -> [Option<String>; 256] {
    let default_name: &[u8] = if subtype == b"TrueType" { b"WinAnsiEncoding" } else { b"StandardEncoding" };
    let default_base: &Table = encoding::base_encoding(default_name).unwrap_or(&[None; 256]);
    let encoding = dict.get(b"Encoding").ok().map(|e| resolve(doc, e));
    let (base, differences) = match encoding {
        Some(Object::Name(name)) => (encoding::base_encoding(name).unwrap_or(default_base), None),
        Some(Object::Dictionary(dict)) => {
            let base = name_of(doc, dict, b"BaseEncoding").and_then(|name| encoding::base_encoding(&name));
            let differences = dict.get(b"Differences").ok().map(|d| resolve(doc, d));
            (base.unwrap_or(default_base), differences.and_then(|d| d.as_array().ok()))
        }
        _ => (default_base, None),
    };
    let mut table: [Option<String>; 256] = std::array::from_fn(|code| base[code].map(String::from));
    let mut code = 0usize;
    for item in differences.into_iter().flatten() {
        match resolve(doc, item) {
            Object::Integer(n) => code = (*n).clamp(0, 256) as usize,
            Object::Real(n) => code = (*n as i64).clamp(0, 256) as usize,
            Object::Name(name) => {
                if code < 256 {
                    if let Some(text) = encoding::glyph_name_text(name) {
                        table[code] = Some(text);
                    }
                }
                code += 1;
            }
            _ => {}
        }
    }
    table
}

/// Reads a composite font's `/W`: `c [w1 w2 …]` and `c_first c_last w` entries.
fn read_cid_widths(doc: &Document, w: Option<&Object>, widths: &mut Widths) {
    let Some(items) = w.map(|w| resolve(doc, w)).and_then(|w| w.as_array().ok()) else { return };
    let mut at = 0;
    while at + 1 < items.len() {
        let Some(first) = number(doc, &items[at]) else {
            at += 1;
            continue;
        };
        let first = first.max(0.0) as u32;
        match resolve(doc, &items[at + 1]) {
            Object::Array(list) => {
                for (i, width) in list.iter().enumerate() {
                    if let Some(width) = number(doc, width) {
                        widths.cids.insert(first.saturating_add(i as u32), width);
                    }
                }
                at += 2;
            }
            last => {
                if let (Some(last), Some(width)) =
                    (number(doc, last), items.get(at + 2).and_then(|w| number(doc, w)))
                {
                    widths.runs.push((first, last.max(0.0) as u32, width));
                }
                at += 3;
            }
        }
    }
    widths.runs.sort_by_key(|run| run.0);
}

fn name_of(doc: &Document, dict: &Dictionary, key: &[u8]) -> Option<Vec<u8>> {
    dict.get(key).ok().and_then(|n| resolve(doc, n).as_name().ok()).map(<[u8]>::to_vec)
}

pub fn number(doc: &Document, object: &Object) -> Option<f64> {
    match resolve(doc, object) {
        Object::Integer(n) => Some(*n as f64),
        Object::Real(n) => Some(f64::from(*n)).filter(|n| n.is_finite()),
        _ => None,
    }
}

pub fn numbers(doc: &Document, object: Option<&Object>) -> Vec<f64> {
    let Some(array) = object.map(|o| resolve(doc, o)).and_then(|o| o.as_array().ok()) else {
        return Vec::new();
    };
    array.iter().map(|item| number(doc, item).unwrap_or(0.0)).collect()
}
