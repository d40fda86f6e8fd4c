//! What a page's annotations show: each visible annotation's normal appearance stream (form fields,
//! stamps, free text), and, for an annotation that leaves drawing itself to the reader (a form with
//! `/NeedAppearances`, a free-text note without an appearance), the text it would draw: a text or choice
//! field's value, a free-text note's contents.
//!
//! Not here: running the appearances (`content.rs` does, as forms placed at the annotation's rectangle),
//! pop-up notes and link targets, which are not shown on the page.

use lopdf::{decode_text_string, Dictionary, Document, Object, ObjectId};

use super::content::{Matrix, IDENTITY};
use super::{decoded, font, resolve};

/// Annotations read per page at most.
const MAX_ANNOTATIONS: usize = 10_000;

/// One annotation's text sources.
pub struct Annotation<'a> {
    /// The appearance content, its stream dictionary, and the transform to the annotation's rectangle.
    pub appearance: Option<(Vec<u8>, &'a Dictionary, Matrix)>,
    /// What the annotation draws when it has no appearance: a text or choice field's value, a free-text
    /// note's contents.
    pub value: Option<String>,
}

/// The page's visible annotations.
pub fn annotations(doc: &Document, page_id: ObjectId) -> Vec<Annotation<'_>> {
    let Some(list) = doc
        .get_dictionary(page_id)
        .ok()
        .and_then(|page| page.get(b"Annots").ok())
        .and_then(|a| resolve(doc, a).as_array().ok())
    else {
        return Vec::new();
    };
    list.iter()
        .take(MAX_ANNOTATIONS)
        .filter_map(|annotation| resolve(doc, annotation).as_dict().ok())
        .filter(|annotation| {
            annotation.get(b"F").and_then(Object::as_i64).map_or(true, |flags| flags & 2 == 0)
        })
        .map(|annotation| Annotation {
            appearance: appearance(doc, annotation),
            value: drawn_text(doc, annotation),
        })
        .collect()
}

fn appearance<'a>(
    doc: &'a Document,
    annotation: &'a Dictionary,
) -> Option<(Vec<u8>, &'a Dictionary, Matrix)> {
    let normal = annotation.get(b"AP").ok().and_then(|ap| resolve(doc, ap).as_dict().ok())?.get(b"N").ok()?;
    // A field with several states (a check box) names the one shown in /AS.
    let stream = match resolve(doc, normal) {
        Object::Stream(stream) => stream,
        Object::Dictionary(states) => {
            let state = annotation.get(b"AS").and_then(Object::as_name).ok()?;
            resolve(doc, states.get(state).ok()?).as_stream().ok()?
        }
        _ => return None,
    };
    let content = decoded(stream)?;
    let rect = font::numbers(doc, annotation.get(b"Rect").ok());
    let origin = match rect.as_slice() {
        [x0, y0, x1, y1] => [1.0, 0.0, 0.0, 1.0, x0.min(*x1), y0.min(*y1)],
        _ => IDENTITY,
    };
    Some((content, &stream.dict, origin))
}

/// The value of a text (`/Tx`) or choice (`/Ch`) field (type and value may be inherited from its
/// parents), or the contents of a free-text note.
fn drawn_text(doc: &Document, annotation: &Dictionary) -> Option<String> {
    if annotation.get(b"Subtype").and_then(Object::as_name).ok() == Some(b"FreeText".as_slice()) {
        let contents = decode_text_string(resolve(doc, annotation.get(b"Contents").ok()?)).ok()?;
        return Some(contents).filter(|c| !c.trim().is_empty());
    }
    let kind = inherited(doc, annotation, b"FT").and_then(|t| t.as_name().ok())?;
    if kind != b"Tx" && kind != b"Ch" {
        return None;
    }
    let value = match inherited(doc, annotation, b"V")? {
        Object::Array(items) => items
            .iter()
            .filter_map(|item| decode_text_string(resolve(doc, item)).ok())
            .collect::<Vec<_>>()
            .join("\n"),
        value => decode_text_string(value).ok()?,
    };
    Some(value).filter(|v| !v.trim().is_empty())
}

/// A field entry from the field or the nearest of its parents that has it.
fn inherited<'a>(doc: &'a Document, field: &'a Dictionary, key: &[u8]) -> Option<&'a Object> {
    let mut node = field;
    for _ in 0..16 {
        if let Ok(value) = node.get(key) {
            return Some(resolve(doc, value));
        }
        node = resolve(doc, node.get(b"Parent").ok()?).as_dict().ok()?;
    }
    None
}
