//! The text of a CID in a composite font that has no `/ToUnicode` map, the two ways poppler finds it: an
//! embedded TrueType font's own `cmap` table (CID to glyph through `/CIDToGIDMap`, glyph back to the
//! character it draws), or, for fonts of Adobe's character collections (Japan1, GB1, CNS1, Korea1), the
//! collection's CID-to-Unicode table.
//!
//! The TrueType tables are read with ttf-parser; the collections' tables are data that pdf_oxide packages
//! (`pdf_oxide::fonts::cid_mappings`). Not here: CFF and Type1 font programs (their glyph names), and
//! collections other than these four.

use std::collections::HashMap;

use lopdf::{Dictionary, Document, Object};
use pdf_oxide::fonts::cid_mappings;

use super::{resolve, stream_bytes};

/// Where a composite font's CIDs get their text.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum CidText {
    /// Through the embedded TrueType font: its glyphs' characters, and the CID-to-glyph map when it is
    /// not the identity.
    TrueType { characters: HashMap<u16, char>, cid_to_gid: Option<Vec<u16>> },
    /// Through one of Adobe's character collections.
    Collection(Collection),
    #[default]
    Unknown,
}

/// Adobe's character collections with a CID-to-Unicode table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Collection {
    Japan1,
    Gb1,
    Cns1,
    Korea1,
}

impl Collection {
    fn unicode(self, cid: u16) -> Option<u32> {
        match self {
            Collection::Japan1 => cid_mappings::lookup_adobe_japan1(cid),
            Collection::Gb1 => cid_mappings::lookup_adobe_gb1(cid),
            Collection::Cns1 => cid_mappings::lookup_adobe_cns1(cid),
            Collection::Korea1 => cid_mappings::lookup_adobe_korea1(cid),
        }
    }
}

/// Glyphs read from an embedded font's `cmap` at most: a font cannot make the table grow without bound.
const MAX_GLYPHS: usize = 1 << 16;

impl CidText {
    /// How the descendant CIDFont of a composite font gives its CIDs text.
    pub fn of(doc: &Document, descendant: &Dictionary) -> Self {
        if let Some(truetype) = embedded_truetype(doc, descendant) {
            return truetype;
        }
        let ordering = descendant
            .get(b"CIDSystemInfo")
            .ok()
            .and_then(|info| resolve(doc, info).as_dict().ok())
            .filter(|info| info.get(b"Registry").and_then(Object::as_str).ok() == Some(b"Adobe".as_slice()))
            .and_then(|info| info.get(b"Ordering").ok())
            .and_then(|ordering| resolve(doc, ordering).as_str().ok());
        match ordering {
            Some(b"Japan1") => CidText::Collection(Collection::Japan1),
            Some(b"GB1") => CidText::Collection(Collection::Gb1),
            Some(b"CNS1") => CidText::Collection(Collection::Cns1),
            Some(b"Korea1") => CidText::Collection(Collection::Korea1),
            _ => CidText::Unknown,
        }
    }

    pub fn text(&self, cid: u32) -> Option<char> {
        let cid = u16::try_from(cid).ok()?;
        match self {
            CidText::TrueType { characters, cid_to_gid } => {
                let gid = match cid_to_gid {
                    Some(map) => *map.get(usize::from(cid))?,
                    None => cid,
                };
                characters.get(&gid).copied()
            }
            CidText::Collection(collection) => collection.unicode(cid).and_then(char::from_u32),
            CidText::Unknown => None,
        }
    }
}

/// The characters of an embedded TrueType font's glyphs (from its Unicode `cmap` subtables), with the
/// font's `/CIDToGIDMap` when that is a stream.
fn embedded_truetype(doc: &Document, descendant: &Dictionary) -> Option<CidText> {
    let descriptor = resolve(doc, descendant.get(b"FontDescriptor").ok()?).as_dict().ok()?;
    let program = stream_bytes(doc, descriptor.get(b"FontFile2").ok()?)?;
    let face = ttf_parser::Face::parse(&program, 0).ok()?;
    let mut characters = HashMap::new();
    for subtable in face.tables().cmap?.subtables {
        if !subtable.is_unicode() {
            continue;
        }
        subtable.codepoints(|code| {
            if characters.len() < MAX_GLYPHS {
                if let (Some(glyph), Some(c)) = (subtable.glyph_index(code), char::from_u32(code)) {
                    characters.entry(glyph.0).or_insert(c);
                }
            }
        });
    }
    if characters.is_empty() {
        return None;
    }
    let cid_to_gid = descendant
        .get(b"CIDToGIDMap")
        .ok()
        .and_then(|map| stream_bytes(doc, map))
        .map(|bytes| bytes.chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]])).collect());
    Some(CidText::TrueType { characters, cid_to_gid })
}
