//! [`IndexDoc`]: one searchable document as the index layer sees it, the [`Product`] and [`Kind`] it has,
//! the [`DocId`] of a synced document, and the Jira issue-key scanner.
//!
//! The sync engine converts crawled Confluence and Jira items into this type; nothing here knows their JSON.
//! The index stores any id string; the sync engine names what it writes with [`DocId`]s.
//! Issue keys (`HADOOP-1234`) are not part of the document: the writer finds them in the title and body with
//! [`issue_keys`] so that every document is treated the same way.

use std::collections::BTreeSet;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::acl::ProfileId;

/// The Atlassian product a document comes from; stored in the index's `source` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    Confluence,
    Jira,
}

/// What a document is; the `kind` field. Comments and attachments exist in both products.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Page,
    Blogpost,
    Comment,
    Attachment,
    Issue,
}

/// A document to index, or one read back from the index's stored fields.
///
/// Times are kept to the millisecond: finer parts are dropped when written.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexDoc {
    /// Stable, unique id, e.g. `confluence:page:123` or `jira:issue:10042`. Upserts replace by this id.
    pub id: String,
    pub product: Product,
    pub kind: Kind,
    /// The title as searched and ranked.
    pub title: String,
    /// The title as shown, when it differs from the searched one: an issue is searched by its summary and shown
    /// as `KEY: summary` (its key is found through the `keys` field, so it does not weigh on the title's ranking).
    pub display_title: Option<String>,
    /// Extracted plain text.
    pub body: String,
    /// Confluence space key.
    pub space: Option<String>,
    /// Confluence: the space's name, shown with the document.
    pub space_name: Option<String>,
    /// Confluence: the ids of the documents above this one, root first: a page's ancestor pages; for a
    /// comment or attachment, its container's ancestors and then the container. Search shows a breadcrumb
    /// of the titles of those the caller may read.
    pub ancestors: Vec<String>,
    /// Jira project key.
    pub project: Option<String>,
    /// Id of the parent or container (the page of a comment, the issue of an attachment).
    pub container: Option<String>,
    pub labels: Vec<String>,
    /// Author's accountId.
    pub author: Option<String>,
    /// Author's display name, for search and display.
    pub author_name: Option<String>,
    /// Jira: the issue's key (for a comment or attachment, its issue's).
    pub issue_key: Option<String>,
    /// Jira: the issue's type as the site names it (`Bug`).
    pub issue_type: Option<String>,
    /// Jira: the issue's status as the site names it (`In Progress`).
    pub status: Option<String>,
    /// Jira: the key of the status's category (`new`, `indeterminate`, `done`), which says how far along
    /// the issue is whatever its workflow calls the status.
    pub status_category: Option<String>,
    /// Jira: the assignee's accountId; `None` when the issue is unassigned.
    pub assignee: Option<String>,
    /// Jira: the assignee's display name, for search and display.
    pub assignee_name: Option<String>,
    pub created: DateTime<Utc>,
    pub updated: DateTime<Utc>,
    /// Link to the item in Atlassian.
    pub url: String,
    /// The ACL profile the document points at; a profile the committed ACL store does not know hides it.
    pub acl_profile: ProfileId,
    /// The source's version number, so a sync can skip items it already holds.
    pub version: u64,
}

impl IndexDoc {
    /// A document with the given identity and access and nothing else: empty text, no optional fields, times
    /// at the Unix epoch, version 0. Set the public fields for the rest.
    pub fn new(id: impl Into<String>, product: Product, kind: Kind, acl_profile: ProfileId) -> IndexDoc {
        IndexDoc {
            id: id.into(),
            product,
            kind,
            title: String::new(),
            display_title: None,
            body: String::new(),
            space: None,
            space_name: None,
            ancestors: Vec::new(),
            project: None,
            container: None,
            labels: Vec::new(),
            author: None,
            author_name: None,
            issue_key: None,
            issue_type: None,
            status: None,
            status_category: None,
            assignee: None,
            assignee_name: None,
            created: DateTime::<Utc>::UNIX_EPOCH,
            updated: DateTime::<Utc>::UNIX_EPOCH,
            url: String::new(),
            acl_profile,
            version: 0,
        }
    }

    /// The Jira issue keys named in the title and body, deduplicated, in sorted order.
    pub fn issue_keys(&self) -> BTreeSet<&str> {
        issue_keys(&self.title)
            .chain(self.display_title.iter().flat_map(|t| issue_keys(t)))
            .chain(issue_keys(&self.body))
            .collect()
    }
}

impl IndexDoc {
    /// A document named by `id`, with its product and kind, and nothing else (see [`IndexDoc::new`]).
    pub fn named(id: &DocId, acl_profile: ProfileId) -> IndexDoc {
        IndexDoc::new(id.to_string(), id.product, id.kind, acl_profile)
    }
}

impl Product {
    pub const ALL: [Product; 2] = [Product::Confluence, Product::Jira];

    /// The value stored in the `source` field, and the first part of a [`DocId`].
    pub fn as_str(self) -> &'static str {
        match self {
            Product::Confluence => "confluence",
            Product::Jira => "jira",
        }
    }
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Page, Kind::Blogpost, Kind::Comment, Kind::Attachment, Kind::Issue];

    /// The value stored in the `kind` field.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Page => "page",
            Kind::Blogpost => "blogpost",
            Kind::Comment => "comment",
            Kind::Attachment => "attachment",
            Kind::Issue => "issue",
        }
    }
}

/// A product, kind or document id that names nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?}")]
pub struct UnknownValue {
    pub what: &'static str,
    pub value: String,
}

impl FromStr for Product {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Product::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue { what: "product", value: s.to_string() })
    }
}

impl FromStr for Kind {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| UnknownValue { what: "kind", value: s.to_string() })
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The id of a synced document: `{product}:{kind}:{native}`, e.g. `confluence:page:123`,
/// `confluence:attachment:att123` or `jira:comment:10042`, where `native` is the item's id as the product's
/// API serves it. Upserts replace by this id; the simulator's oracle spells ids the same way.
///
/// Ids order as their strings do, so maps keyed by them iterate in the same order as the ids' text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocId {
    pub product: Product,
    pub kind: Kind,
    pub native: String,
}

impl DocId {
    pub fn new(product: Product, kind: Kind, native: impl Into<String>) -> DocId {
        DocId { product, kind, native: native.into() }
    }

    pub fn confluence(kind: Kind, native: impl Into<String>) -> DocId {
        DocId::new(Product::Confluence, kind, native)
    }

    pub fn jira(kind: Kind, native: impl Into<String>) -> DocId {
        DocId::new(Product::Jira, kind, native)
    }
}

impl fmt::Display for DocId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.product, self.kind, self.native)
    }
}

impl FromStr for DocId {
    type Err = UnknownValue;
    /// `product:kind:native`; the native id may itself hold `:` but not be empty.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || UnknownValue { what: "document id", value: s.to_string() };
        let mut parts = s.splitn(3, ':');
        let (Some(product), Some(kind), Some(native)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(bad());
        };
        if native.is_empty() {
            return Err(bad());
        }
        Ok(DocId {
            product: product.parse().map_err(|_| bad())?,
            kind: kind.parse().map_err(|_| bad())?,
            native: native.to_string(),
        })
    }
}

impl Ord for DocId {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        // No product or kind name is a prefix of another, so comparing part by part is comparing the text.
        (self.product.as_str(), self.kind.as_str(), &self.native).cmp(&(
            other.product.as_str(),
            other.kind.as_str(),
            &other.native,
        ))
    }
}

impl PartialOrd for DocId {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl TryFrom<String> for DocId {
    type Error = UnknownValue;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<DocId> for String {
    fn from(id: DocId) -> String {
        id.to_string()
    }
}

/// Longest key kept. Real Jira keys are far shorter; a longer match is noise (an identifier in a log line)
/// and would only bloat the term dictionary.
const MAX_KEY_LEN: usize = 64;

/// Jira issue keys in `text`: whole words of the form `[A-Z][A-Z0-9_]+-[0-9]+`, in order of appearance.
///
/// "Whole word" means the key is neither preceded nor followed by an ASCII letter, digit or underscore, so
/// `xHADOOP-1` and `HADOOP-12a` name no key, while `(HADOOP-12)` and `HADOOP-12.` do. Keys longer than 64
/// bytes are skipped.
pub fn issue_keys(text: &str) -> impl Iterator<Item = &str> {
    let bytes = text.as_bytes();
    let mut at = 0;
    std::iter::from_fn(move || {
        while at < bytes.len() {
            let start = at;
            let starts_word = start == 0 || !is_word_byte(bytes[start - 1]);
            if !(bytes[start].is_ascii_uppercase() && starts_word) {
                at += 1;
                continue;
            }
            let mut end = start + 1;
            while end < bytes.len() && is_project_key_byte(bytes[end]) {
                end += 1;
            }
            // Whatever happens next, no key can start inside this run: its bytes are all preceded by a word byte.
            at = end;
            if end - start < 2 || bytes.get(end) != Some(&b'-') {
                continue;
            }
            let digits_start = end + 1;
            let mut digits_end = digits_start;
            while digits_end < bytes.len() && bytes[digits_end].is_ascii_digit() {
                digits_end += 1;
            }
            if digits_end == digits_start {
                continue;
            }
            at = digits_end;
            let ends_word = digits_end == bytes.len() || !is_word_byte(bytes[digits_end]);
            if ends_word && digits_end - start <= MAX_KEY_LEN {
                // The key is ASCII and starts and ends at ASCII bytes, so these are char boundaries.
                return Some(&text[start..digits_end]);
            }
        }
        None
    })
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

fn is_project_key_byte(b: u8) -> bool {
    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
}

/// A document id's tie-break key, stored in the `id_hash` column: the first 8 bytes of the id's SHA-256,
/// big-endian. Search ranks equal scores by it (then by the id itself, for the astronomically rare equal
/// hashes), which orders ties the same way in every segment without reading id strings at query time. A
/// fixed function, so an index written by one build ranks the same in the next.
pub fn id_hash(id: &str) -> u64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    u64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_hash_is_the_sha256_prefix() {
        // SHA-256("abc") = ba7816bf8f01cfea…, the FIPS 180-2 example.
        assert_eq!(id_hash("abc"), 0xba78_16bf_8f01_cfea);
        assert_ne!(id_hash("confluence:page:1"), id_hash("confluence:page:2"));
    }

    #[test]
    fn issue_keys_are_whole_words() {
        let cases: &[(&str, &[&str])] = &[
            ("HADOOP-1234", &["HADOOP-1234"]),
            ("see HADOOP-1234, and (HDFS-7).", &["HADOOP-1234", "HDFS-7"]),
            ("A1_B-9 X2-3", &["A1_B-9", "X2-3"]),
            ("single letter A-1 is not a key", &[]),
            ("lowercase hadoop-1 and Mixed-2 are not keys", &[]),
            ("glued xHADOOP-1 or HADOOP-1x or HADOOP-1_ or _HADOOP-1", &[]),
            ("no digits HADOOP- or HADOOP-x", &[]),
            ("chain FOO-BAR-12 finds the tail", &["BAR-12"]),
            ("dashes after HADOOP-12-3", &["HADOOP-12"]),
            ("unicode éHADOOP-5ü around", &["HADOOP-5"]),
            ("1HADOOP-5 starts after a digit", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            let got: Vec<&str> = issue_keys(text).collect();
            assert_eq!(&got, want, "text {text:?}");
        }
    }

    #[test]
    fn overlong_keys_are_skipped() {
        let long = format!("{}-1", "A".repeat(MAX_KEY_LEN));
        let ok = format!("{}-1", "A".repeat(MAX_KEY_LEN - 2));
        assert_eq!(issue_keys(&format!("{long} {ok}")).collect::<Vec<_>>(), vec![ok.as_str()]);
    }

    #[test]
    fn doc_keys_merge_title_and_body() {
        let mut doc = IndexDoc::named(&DocId::jira(Kind::Issue, "1"), ProfileId(1));
        doc.title = "HDFS-2 blocks HADOOP-1".into();
        doc.body = "dup of HADOOP-1, see YARN-3".into();
        assert_eq!(doc.issue_keys().into_iter().collect::<Vec<_>>(), vec!["HADOOP-1", "HDFS-2", "YARN-3"]);
    }

    #[test]
    fn product_and_kind_names_round_trip() {
        for s in Product::ALL {
            assert_eq!(s.as_str().parse::<Product>(), Ok(s));
        }
        for k in Kind::ALL {
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert!("Page".parse::<Kind>().is_err());
        assert!("wiki".parse::<Product>().is_err());
    }

    #[test]
    fn doc_ids_read_back_and_order_as_text() {
        let ids = [
            ("confluence:attachment:att9", DocId::confluence(Kind::Attachment, "att9")),
            ("confluence:blogpost:2", DocId::confluence(Kind::Blogpost, "2")),
            ("confluence:page:1", DocId::confluence(Kind::Page, "1")),
            ("confluence:page:10", DocId::confluence(Kind::Page, "10")),
            ("jira:comment:5", DocId::jira(Kind::Comment, "5")),
            ("jira:issue:1:with:colons", DocId::jira(Kind::Issue, "1:with:colons")),
        ];
        for (text, id) in &ids {
            assert_eq!(id.to_string(), *text);
            assert_eq!(text.parse::<DocId>().as_ref(), Ok(id));
            assert_eq!(serde_json::to_string(id).unwrap(), format!("{text:?}"));
            assert_eq!(&serde_json::from_str::<DocId>(&format!("{text:?}")).unwrap(), id);
        }
        for pair in ids.windows(2) {
            assert!(pair[0].1 < pair[1].1 && pair[0].0 < pair[1].0, "{} < {}", pair[0].0, pair[1].0);
        }
        for bad in ["", "confluence", "confluence:page", "confluence:page:", "wiki:page:1", "jira:task:1"] {
            assert!(bad.parse::<DocId>().is_err(), "{bad:?}");
        }
    }
}
