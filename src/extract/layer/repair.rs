//! Opening a PDF whose cross-reference table is broken, the way other readers do: when lopdf cannot load
//! the file (or loads no page), the objects are found by scanning the bytes for `N G obj`, and the file
//! is written anew from them (stream lengths measured to their `endstream`) with a fresh cross-reference
//! section and trailer, for lopdf to read instead.
//!
//! The trailer keeps the damaged file's `/Root`, `/Info`, `/Encrypt` and `/ID` when its last `trailer`
//! dictionary names them; without one, the object typed `/Catalog` is the root. Not here: objects kept
//! only inside object streams of a broken cross-reference stream (they are not found by scanning), and
//! any repair of the objects themselves.

use lopdf::Document;

/// Loads a document, repairing its cross-reference table when lopdf cannot use it.
pub fn load(bytes: &[u8]) -> Result<Document, lopdf::Error> {
    match Document::load_mem(bytes) {
        Ok(doc) if !doc.get_pages().is_empty() => Ok(doc),
        loaded => match rebuilt(bytes).and_then(|fixed| Document::load_mem(&fixed).ok()) {
            Some(doc) if !doc.get_pages().is_empty() => Ok(doc),
            _ => loaded,
        },
    }
}

/// The file rewritten from its `obj` headers: each object's last definition, in order, a stream's
/// `/Length` set to where its `endstream` really is, then a fresh cross-reference section and trailer.
/// `None` when the file has no object headers or no root.
fn rebuilt(bytes: &[u8]) -> Option<Vec<u8>> {
    let objects = scan_objects(bytes);
    let trailer = trailer_entries(bytes).or_else(|| catalog(bytes, &objects))?;
    let size = objects.iter().map(|&(number, _, _)| number).max()? + 1;
    // A later definition is an incremental update of an earlier one.
    let mut latest: Vec<Option<(u16, &[u8])>> = vec![None; size as usize];
    for (i, &(number, generation, offset)) in objects.iter().enumerate() {
        let next = objects.get(i + 1).map_or(bytes.len(), |o| o.2);
        let span = &bytes[offset..next.max(offset)];
        let span = find(span, b"endobj").map_or(span, |end| &span[..end + 6]);
        latest[number as usize] = Some((generation, span));
    }

    let mut fixed = b"%PDF-1.7\n".to_vec();
    let mut offsets = vec![None; size as usize];
    for (number, entry) in latest.iter().enumerate() {
        if let Some((generation, span)) = entry {
            offsets[number] = Some((*generation, fixed.len()));
            fixed.extend_from_slice(&with_true_length(span));
            fixed.extend_from_slice(b"\n");
        }
    }
    let xref_at = fixed.len();
    fixed.extend_from_slice(format!("xref\n0 {size}\n").as_bytes());
    for entry in &offsets {
        let line = match entry {
            Some((generation, offset)) => format!("{offset:010} {generation:05} n\r\n"),
            None => "0000000000 65535 f\r\n".to_owned(),
        };
        fixed.extend_from_slice(line.as_bytes());
    }
    fixed.extend_from_slice(
        format!("trailer\n<< /Size {size} {trailer} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes(),
    );
    Some(fixed)
}

/// An object's bytes with its stream's `/Length` replaced by the distance from `stream` to `endstream`.
fn with_true_length(object: &[u8]) -> Vec<u8> {
    let (Some(start), Some(end)) = (find(object, b"stream"), rfind(object, b"endstream")) else {
        return object.to_vec();
    };
    if end <= start {
        return object.to_vec();
    }
    let mut data_start = start + 6;
    if object.get(data_start) == Some(&b'\r') {
        data_start += 1;
    }
    if object.get(data_start) == Some(&b'\n') {
        data_start += 1;
    }
    let data = &object[data_start.min(end)..end];
    // The end of line before `endstream` is not part of the data.
    let data = data.strip_suffix(b"\n").unwrap_or(data);
    let data = data.strip_suffix(b"\r").unwrap_or(data);
    let dictionary = &object[..start];
    let Some(key) = find(dictionary, b"/Length") else { return object.to_vec() };
    let value_end = dictionary[key + 7..]
        .iter()
        .position(|&b| b == b'/' || b == b'>')
        .map_or(dictionary.len(), |i| key + 7 + i);
    let mut out = Vec::with_capacity(object.len() + 16);
    out.extend_from_slice(&dictionary[..key]);
    out.extend_from_slice(format!("/Length {} ", data.len()).as_bytes());
    out.extend_from_slice(&dictionary[value_end..]);
    out.extend_from_slice(b"stream\n");
    out.extend_from_slice(data);
    out.extend_from_slice(b"\nendstream\nendobj");
    out
}

/// Every `N G obj` header at the start of a line: object number, generation, byte offset.
fn scan_objects(bytes: &[u8]) -> Vec<(u32, u16, usize)> {
    let mut found = Vec::new();
    let mut at = 0;
    while let Some(offset) = find(&bytes[at..], b"obj").map(|i| i + at) {
        at = offset + 3;
        // Walk back over "G ", then "N ", to the start of the line.
        let before = &bytes[..offset];
        let Some((generation, rest)) = trailing_number(before.strip_suffix(b" ").unwrap_or(before)) else {
            continue;
        };
        let Some((number, rest)) = rest.strip_suffix(b" ").and_then(trailing_number) else { continue };
        let starts_line = rest.is_empty() || matches!(rest.last(), Some(b'\n' | b'\r'));
        if starts_line && number < 10_000_000 && generation <= u32::from(u16::MAX) {
            found.push((number, generation as u16, rest.len()));
        }
    }
    found
}

/// The decimal number at the end of `bytes`, and what precedes it.
fn trailing_number(bytes: &[u8]) -> Option<(u32, &[u8])> {
    let digits = bytes.iter().rev().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 9 {
        return None;
    }
    let (rest, number) = bytes.split_at(bytes.len() - digits);
    Some((std::str::from_utf8(number).ok()?.parse().ok()?, rest))
}

/// The `/Root`, `/Info`, `/Encrypt` and `/ID` entries of the last trailer dictionary, as PDF text.
fn trailer_entries(bytes: &[u8]) -> Option<String> {
    let at = rfind(bytes, b"trailer")?;
    let dictionary = &bytes[at..];
    let end = find(dictionary, b">>").map_or(dictionary.len(), |end| end + 2);
    let dictionary = String::from_utf8_lossy(&dictionary[..end]).into_owned();
    let mut entries = String::new();
    for key in ["/Root", "/Info", "/Encrypt"] {
        if let Some(reference) = reference_after(&dictionary, key) {
            entries.push_str(&format!("{key} {reference} "));
        }
    }
    if !entries.contains("/Root") {
        return None;
    }
    if let Some(id) = dictionary.find("/ID").and_then(|i| {
        let rest = &dictionary[i..];
        Some(&rest[..rest.find(']')? + 1])
    }) {
        entries.push_str(id);
    }
    Some(entries)
}

/// `N G R` after a key in a dictionary's text.
fn reference_after(dictionary: &str, key: &str) -> Option<String> {
    let rest = &dictionary[dictionary.find(key)? + key.len()..];
    let words: Vec<&str> = rest.split_whitespace().take(3).collect();
    let is_number = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_digit());
    match words.as_slice() {
        [number, generation, r] if is_number(number) && is_number(generation) && r.starts_with('R') => {
            Some(format!("{number} {generation} R"))
        }
        _ => None,
    }
}

/// A `/Root` entry for the object whose dictionary is typed `/Catalog`.
fn catalog(bytes: &[u8], objects: &[(u32, u16, usize)]) -> Option<String> {
    objects.iter().rev().find_map(|&(number, generation, offset)| {
        let body = &bytes[offset..bytes.len().min(offset + 4096)];
        let body = &body[..find(body, b"endobj").unwrap_or(body.len())];
        let text = String::from_utf8_lossy(body).replace(' ', "");
        text.contains("/Type/Catalog").then(|| format!("/Root {number} {generation} R"))
    })
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|window| window == needle)
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    const BROKEN: &str = "%PDF-1.4
1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj
2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj
3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] >> endobj
xref
0 4
garbage that is no table
trailer << /Size 4 /Root 1 0 R >>
startxref
9999
%%EOF";

    #[test]
    fn a_broken_table_is_rebuilt_from_object_headers() {
        assert_eq!(
            scan_objects(BROKEN.as_bytes()).iter().map(|o| (o.0, o.1)).collect::<Vec<_>>(),
            vec![(1, 0), (2, 0), (3, 0)]
        );
        let doc = load(BROKEN.as_bytes()).expect("repaired");
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn without_a_trailer_the_catalog_is_the_root() {
        let without = BROKEN.replace("trailer << /Size 4 /Root 1 0 R >>", "");
        let doc = load(without.as_bytes()).expect("repaired");
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn no_objects_is_the_original_error() {
        assert!(load(b"%PDF-1.4\nnothing here\n%%EOF").is_err());
    }
}
