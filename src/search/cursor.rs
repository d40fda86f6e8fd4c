//! Opaque page cursors: where the last page ended (sort key and document id) and which search it belongs to.
//!
//! A cursor is `base64url("1:" fingerprint ":" key ":" id)`. The fingerprint hashes the query, filters and
//! sort, so a cursor replayed against another search is refused ([`Error::BadCursor`]) instead of yielding a
//! page of something else. Ranking is total (key, then id), so following cursors over one index state gives
//! every hit once, with no gaps. A cursor carries no permission: the next page is filtered for its caller.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

use super::collect::After;
use super::Error;

const VERSION: &str = "1";

/// The identity of a search for cursor purposes: everything that orders or selects hits, except the page.
pub fn fingerprint(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize()[..12].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn encode(fingerprint: &str, after: &After) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}:{fingerprint}:{}:{}", after.key, after.id))
}

pub fn decode(cursor: &str, fingerprint: &str) -> Result<After, Error> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor.trim()).map_err(|_| Error::BadCursor)?;
    let text = String::from_utf8(bytes).map_err(|_| Error::BadCursor)?;
    let mut parts = text.splitn(4, ':');
    let (Some(VERSION), Some(fp), Some(key), Some(id)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::BadCursor);
    };
    if fp != fingerprint {
        return Err(Error::BadCursor);
    }
    let key = key.parse::<u64>().map_err(|_| Error::BadCursor)?;
    Ok(After { key, id: id.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_refusals() {
        let fp = fingerprint(&["kafka", "relevance"]);
        let after = After { key: 42, id: "jira:issue:1:with:colons".into() };
        let cursor = encode(&fp, &after);
        assert_eq!(decode(&cursor, &fp).expect("decodes"), after);
        let other = fingerprint(&["kafka", "updated"]);
        assert_ne!(fp, other);
        let bad = [
            decode(&cursor, &other),
            decode("not base64 !!", &fp),
            decode(&URL_SAFE_NO_PAD.encode("2:x:1:a"), &fp),
            decode(&URL_SAFE_NO_PAD.encode(format!("1:{fp}:nan:a")), &fp),
            decode(&URL_SAFE_NO_PAD.encode(format!("1:{fp}:5")), &fp),
            decode("", &fp),
        ];
        for result in bad {
            assert!(matches!(result, Err(Error::BadCursor)), "{result:?}");
        }
        // Fingerprints separate their parts: ["ab", "c"] is not ["a", "bc"].
        assert_ne!(fingerprint(&["ab", "c"]), fingerprint(&["a", "bc"]));
    }
}
