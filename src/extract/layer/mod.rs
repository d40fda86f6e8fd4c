//! permdex's own PDF text-layer engine: a walk over each page's content streams (and its annotations'
//! appearances) with lopdf, placing every shown character, then lines and words from the positions.
//!
//! It exists for what the crates it sits beside get wrong (see `pdf.rs`): `/ToUnicode` maps with
//! one-byte or array destinations, predefined CJK CMaps (read through their legacy encodings), Type3
//! fonts, right-to-left lines written in visual order, words spaced by position rather than by the
//! producer's space characters, form field appearances, and documents encrypted with an empty user
//! password (lopdf tries it). Everything is bounded: an operator budget per document, a cap on recorded
//! characters, a depth limit for nested forms. Not here: glyph outlines or font programs (a code without a
//! `/ToUnicode` entry or a known encoding has no text), OCR, and any repair of the file beyond lopdf's.

mod annotations;
mod cid;
mod cmap;
mod content;
mod encoding;
mod font;
mod layout;
mod lexer;
mod repair;

use lopdf::{Dictionary, Document, Object, ObjectId, Stream};

use self::content::{Interpreter, IDENTITY};
use super::Error;

/// Operators run per document at most: enough for thousands of dense pages, and a stop for forms that
/// draw each other in a fan.
const OPERATOR_BUDGET: usize = 20_000_000;
/// Characters recorded per page at most (each costs about a hundred bytes until the page is laid out).
const MAX_CHARS_PER_PAGE: usize = 1 << 20;

/// The text of every page of a PDF, pages separated by blank lines; stops once `max_output` bytes are had.
pub fn layer_text(bytes: &[u8], max_output: usize) -> Result<String, Error> {
    let doc = repair::load(bytes).map_err(|err| Error::Pdf { reason: err.to_string() })?;
    if doc.is_encrypted() {
        return Err(Error::Pdf { reason: "encrypted with a user password".to_owned() });
    }
    let mut interpreter = Interpreter::new(&doc, OPERATOR_BUDGET, MAX_CHARS_PER_PAGE);
    let mut text = String::new();
    for page_id in doc.get_pages().into_values() {
        if text.len() >= max_output || interpreter.exhausted() {
            break;
        }
        interpreter.placed.clear();
        let resources = page_resources(&doc, page_id);
        let content = page_content(&doc, page_id);
        interpreter.run(&content, &resources, IDENTITY);
        text.push_str(&layout::lines(&interpreter.placed));
        interpreter.placed.clear();
        let mut values = String::new();
        for annotation in annotations::annotations(&doc, page_id) {
            let before = interpreter.placed.len();
            if let Some((appearance, dict, ctm)) = &annotation.appearance {
                interpreter.run_form(appearance, dict, &resources, ctm);
            }
            // A field shown without an appearance of its own (`/NeedAppearances`) still has its value.
            if let Some(value) = annotation.value.filter(|_| interpreter.placed.len() == before) {
                values.push_str(&value);
                values.push('\n');
            }
        }
        text.push_str(&layout::lines(&interpreter.placed));
        text.push_str(&values);
        text.push('\n');
    }
    Ok(text)
}

/// Follows references (a bounded number of hops); an unresolvable one reads as `null`.
fn resolve<'a>(doc: &'a Document, mut object: &'a Object) -> &'a Object {
    for _ in 0..16 {
        match object {
            Object::Reference(id) => match doc.get_object(*id) {
                Ok(target) => object = target,
                Err(_) => return &Object::Null,
            },
            _ => return object,
        }
    }
    &Object::Null
}

/// A stream's decoded bytes.
fn stream_bytes(doc: &Document, object: &Object) -> Option<Vec<u8>> {
    decoded(resolve(doc, object).as_stream().ok()?)
}

/// A stream's data through its filters: lopdf's, and `ASCIIHexDecode`, which lopdf lacks.
fn decoded(stream: &Stream) -> Option<Vec<u8>> {
    let filters = stream.filters().unwrap_or_default();
    if !filters.iter().any(|f| *f == b"ASCIIHexDecode" || *f == b"AHx") {
        return stream.get_plain_content().ok();
    }
    let mut data = stream.content.clone();
    for filter in filters {
        data = if filter == b"ASCIIHexDecode" || filter == b"AHx" {
            let end = data.iter().position(|&b| b == b'>').unwrap_or(data.len());
            let digits: Vec<u8> =
                data[..end].iter().filter_map(|&b| (b as char).to_digit(16)).map(|d| d as u8).collect();
            digits.chunks(2).map(|pair| pair[0] << 4 | pair.get(1).copied().unwrap_or(0)).collect()
        } else {
            let mut dict = Dictionary::new();
            dict.set("Filter", Object::Name(filter.to_vec()));
            if let Ok(params) = stream.dict.get(b"DecodeParms") {
                dict.set("DecodeParms", params.clone());
            }
            Stream::new(dict, data).decompressed_content().ok()?
        };
    }
    Some(data)
}

/// The page's content streams, decoded and joined; a stream that cannot be decoded is left out.
fn page_content(doc: &Document, page_id: ObjectId) -> Vec<u8> {
    let Ok(page) = doc.get_dictionary(page_id) else { return Vec::new() };
    let Ok(contents) = page.get(b"Contents") else { return Vec::new() };
    let streams: Vec<&Object> = match resolve(doc, contents) {
        Object::Array(items) => items.iter().collect(),
        _ => vec![contents],
    };
    let mut content = Vec::new();
    for stream in streams {
        if let Some(bytes) = stream_bytes(doc, stream) {
            content.extend_from_slice(&bytes);
            content.push(b'\n');
        }
    }
    content
}

/// The page's resource dictionaries, its own first, then those it inherits from the page tree.
fn page_resources(doc: &Document, page_id: ObjectId) -> Vec<&Dictionary> {
    let mut resources = Vec::new();
    let mut node = doc.get_dictionary(page_id).ok();
    let mut seen = Vec::new();
    while let Some(dict) = node {
        if let Some(own) = dict.get(b"Resources").ok().and_then(|r| resolve(doc, r).as_dict().ok()) {
            resources.push(own);
        }
        let parent = dict.get(b"Parent").ok().and_then(|p| p.as_reference().ok());
        node = match parent {
            Some(id) if !seen.contains(&id) && seen.len() < 64 => {
                seen.push(id);
                doc.get_dictionary(id).ok()
            }
            _ => None,
        };
    }
    resources
}
