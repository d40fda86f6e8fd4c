//! Opaque page cursors: where the last page ended and which search it belongs to.
//!
//! A cursor is the base64url of a small JSON object: a format version, a fingerprint of the search, and the
//! [`Position`] of the last hit returned (its sort key, its id and, across sources, its source's name). The
//! fingerprint hashes the query, filters, sort and (across sources) the sources asked for, so a cursor
//! replayed against another search is refused ([`Error::BadCursor`]) instead of yielding a page of something
//! else; so is anything that does not decode to exactly this shape.
//!
//! A cursor is not signed, and needs no secret: it carries no permission and names no document the caller
//! is given. It only says where in the caller's own ranking to resume, and every page is still filtered
//! for whoever sends it, so a forged cursor can skip results but never show one its sender may not read.
//! It never makes a request cost more either: a page after any position is one search per source, of
//! `limit + 1` hits.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Error;

/// The cursor format this build writes and reads.
const VERSION: u32 = 2;
/// Longest cursor read: a real one is about 150 characters; anything much longer is not one.
const MAX_CURSOR_CHARS: usize = 2048;

/// Where a page ended: the last hit's sort key (see [`super::collect::score_key`] and
/// [`super::collect::updated_key`]), its id, and the source it came from when several were searched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Position {
    pub key: u64,
    pub id: String,
    pub source: Option<String>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    v: u32,
    fp: String,
    key: u64,
    id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    source: Option<String>,
}

/// The identity of a search for cursor purposes: everything that orders or selects hits, except the page.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize()[..12].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn encode(fingerprint: &str, position: &Position) -> String {
    let wire = Wire {
        v: VERSION,
        fp: fingerprint.to_owned(),
        key: position.key,
        id: position.id.clone(),
        source: position.source.clone(),
    };
    // A struct of strings and numbers always serialises.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&wire).unwrap_or_default())
}

pub fn decode(cursor: &str, fingerprint: &str) -> Result<Position, Error> {
    let cursor = cursor.trim();
    if cursor.len() > MAX_CURSOR_CHARS {
        return Err(Error::BadCursor);
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| Error::BadCursor)?;
    let wire: Wire = serde_json::from_slice(&bytes).map_err(|_| Error::BadCursor)?;
    if wire.v != VERSION || wire.fp != fingerprint || wire.id.is_empty() {
        return Err(Error::BadCursor);
    }
    Ok(Position { key: wire.key, id: wire.id, source: wire.source })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let fp = fingerprint(&["kafka", "relevance"]);
        for source in [None, Some("acme".to_owned())] {
            let position = Position { key: 42, id: "jira:issue:1:with:colons".into(), source };
            let cursor = encode(&fp, &position);
            assert!(cursor.len() < 200, "{cursor}");
            assert_eq!(decode(&cursor, &fp).expect("decodes"), position);
        }
        let cursor = encode(&fp, &Position { key: 42, id: "a".into(), source: None });
        let other = fingerprint(&["kafka", "updated"]);
        assert_ne!(fp, other);
        let wire = |json: String| URL_SAFE_NO_PAD.encode(json);
        let bad = [
            decode(&cursor, &other),
            decode("not base64 !!", &fp),
            decode(&wire(format!(r#"{{"v":1,"fp":"{fp}","key":1,"id":"a"}}"#)), &fp),
            decode(&wire(format!(r#"{{"v":2,"fp":"{fp}","key":"nan","id":"a"}}"#)), &fp),
            decode(&wire(format!(r#"{{"v":2,"fp":"{fp}","key":-1,"id":"a"}}"#)), &fp),
            decode(&wire(format!(r#"{{"v":2,"fp":"{fp}","key":1}}"#)), &fp),
            decode(&wire(format!(r#"{{"v":2,"fp":"{fp}","key":1,"id":""}}"#)), &fp),
            decode(&wire(format!(r#"{{"v":2,"fp":"{fp}","key":1,"id":"a","acl":"all"}}"#)), &fp),
            decode(&wire("[1,2]".into()), &fp),
            decode(&"A".repeat(MAX_CURSOR_CHARS + 1), &fp),
            decode("", &fp),
        ];
        for result in bad {
            assert!(matches!(result, Err(Error::BadCursor)), "{result:?}");
        }
        // Fingerprints separate their parts: ["ab", "c"] is not ["a", "bc"].
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
