//! URL pieces built from values a site hands out (ids, keys, group ids): RFC 3986 path segments and query
//! values.
//!
//! A path segment keeps the unreserved characters (`A-Z a-z 0-9 - . _ ~`) as they are and percent-encodes
//! every other byte of the value's UTF-8: spaces, non-ASCII, `/`, `?`, `#`, `%` and the sub-delimiters.
//! Encoding an unreserved character (`-` as `%2D`) is allowed by the RFC to mean the same, but servers and
//! proxies in front of them do not all normalise it, so it is never done here. A value that is `.` or `..`
//! cannot be a segment at all (URL parsers resolve `%2E` like `.`): it is encoded as `%2E`/`%2E%2E`, which
//! the client refuses to send rather than call another path.
//!
//! This module knows no endpoint; the crawlers put the pieces together.

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// `raw` as one path segment.
pub fn segment(raw: &str) -> String {
    match raw {
        "." => "%2E".to_owned(),
        ".." => "%2E%2E".to_owned(),
        _ => utf8_percent_encode(raw, PATH_SEGMENT).to_string(),
    }
}

/// `name=value` pairs as a query string (`application/x-www-form-urlencoded`, as Atlassian reads queries).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut serializer = url::form_urlencoded::Serializer::new(String::new());
    for (name, value) in pairs {
        serializer.append_pair(name, value);
    }
    serializer.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_keep_unreserved_characters_and_encode_the_rest() {
        let cases = [
            ("10001", "10001"),
            ("a-b.c_d~e", "a-b.c_d~e"),
            ("6e87dc72-4f1f-421f-9382-2fee8b652487", "6e87dc72-4f1f-421f-9382-2fee8b652487"),
            ("two words", "two%20words"),
            ("äöü", "%C3%A4%C3%B6%C3%BC"),
            ("a/b?c#d%e", "a%2Fb%3Fc%23d%25e"),
            ("~557058:abc", "~557058%3Aabc"),
            ("x+y=z&w", "x%2By%3Dz%26w"),
            (".", "%2E"),
            ("..", "%2E%2E"),
            ("...", "..."),
            ("", ""),
        ];
        for (raw, expected) in cases {
            assert_eq!(segment(raw), expected, "{raw:?}");
        }
    }

    #[test]
    fn encoded_segments_survive_url_parsing_unchanged() {
        for raw in ["a b", "ä-ö.ü_~", "x/y", "q?r", "h#i", "p%q", "...", "a.."] {
            let url = url::Url::parse(&format!("http://h/group/{}/members", segment(raw))).expect("url");
            let last = url.path_segments().and_then(|mut s| s.nth(1)).expect("segment");
            let decoded = percent_encoding::percent_decode_str(last).decode_utf8().expect("utf-8");
            assert_eq!(decoded, raw, "{}", url);
        }
    }

    #[test]
    fn queries_are_form_encoded() {
        assert_eq!(query(&[("groupId", "a b-c"), ("x", "ä&=")]), "groupId=a+b-c&x=%C3%A4%26%3D");
    }
}
