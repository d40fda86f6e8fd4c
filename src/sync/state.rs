//! The sync state of one source: what the engine must remember between runs, serialised into the state
//! blob of every index commit (so it is always exactly as current as the documents and the ACL store).
//!
//! Per product: the watermark (the latest `updated` time the site reported, never the local clock) and,
//! while a run is under way, its checkpoint (run id, phase, cursor). Per document: its version, what its
//! permissions depend on ([`AclInput`]), the profile it points at, and the keys scope decisions need.
//! Plus the site's directory (users, groups, members), so that a caller's principals can be worked out at
//! query time from the same commit the documents come from.
//!
//! The blob is versioned JSON. A blob this code cannot read (another version, corruption) is not an error:
//! [`SyncState::decode`] says why, and the engine starts over with a full sync.
//!
//! This file does no I/O and knows nothing of HTTP; it is data plus (de)serialisation.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::resolve::AclInput;
use crate::atlassian::model::{Directory, DirectoryGroup, DirectoryUser};
use crate::index::{DocId, Product};

/// Version of the state blob's layout. Bump it when a field changes meaning; older blobs then force a
/// full sync instead of being misread.
pub const STATE_VERSION: u32 = 1;

/// Everything remembered about one source.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub version: u32,
    /// The source this state belongs to (a state is never shared between sources).
    pub source: String,
    /// A summary of the scope the documents were selected with; a different scope forces a full sync.
    pub scope: String,
    pub confluence: ProductState,
    pub jira: ProductState,
    /// Every indexed document of the source, by id.
    pub docs: BTreeMap<DocId, DocState>,
    /// Users and groups as last read from the site.
    pub directory: StoredDirectory,
    /// When the last permission snapshot that was read in full (directory and every synced product's
    /// permission sources) began to be read; every document's permissions are at least this fresh.
    /// `None` until a run reads one in full. The server withholds the source's documents once this is
    /// older than the source's `max_permission_age`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub permissions_refreshed: Option<DateTime<Utc>>,
    /// The record of a run as of its last checkpoint, while it runs; `None` once it ended. A committed
    /// state that still holds one was left by a run that was killed: the next run records it as such
    /// and, when it resumes that run, carries its failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unfinished: Option<super::runs::RunRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProductState {
    /// The latest `updated` time seen on an item of this product, as the site reported it.
    pub watermark: Option<DateTime<Utc>>,
    /// When the last run of this product completed its listings (a full sync, or an incremental one).
    pub last_complete_run: Option<String>,
    /// Set while a run is under way; a later run with the same mode resumes from it.
    pub checkpoint: Option<Checkpoint>,
    /// Items a run could not read in full (Jira: issues whose fetch or whose comments failed), by native
    /// id: the next run reads each again with its children, whatever its version says, because the
    /// watermark has moved past them.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub reread: BTreeSet<String>,
}

/// Where an interrupted run stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    pub run_id: String,
    pub phase: Phase,
    /// The cursor of the next listing page of `phase` (`None`: the phase starts from its beginning).
    pub cursor: Option<String>,
    /// Items of that page already processed.
    #[serde(default)]
    pub offset: usize,
    /// Spaces (Confluence) or projects (Jira) in scope, by id, whose permissions the run could not read
    /// before this checkpoint, so that their content was not listed: a resumed run that can read one of
    /// them lists the product again from the start.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub unlisted: BTreeSet<String>,
}

/// The resumable phases of a full sync, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pages,
    BlogPosts,
    Comments,
    InlineComments,
    Attachments,
    Issues,
}

/// What the engine remembers about one indexed document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DocState {
    /// The site's version (Confluence) or `updated` in epoch millis (Jira): unchanged means skip.
    pub version: u64,
    /// What the document's permissions depend on.
    pub acl: AclInput,
    /// The profile the indexed document points at.
    pub profile: u32,
    /// Space key (Confluence) or project key (Jira): decides scope.
    pub scope_key: String,
    /// Owner of the personal space the document is in, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub space_owner: Option<String>,
    /// The page, blog post or issue a comment or attachment belongs to (its id as the API serves it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
    /// The fingerprint of a Confluence document's location (its space's name and the pages above it, as
    /// `docs::Location` has them) as written into it: the permission refresh rewrites the document when
    /// the snapshot places it elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<u64>,
    /// The run that last saw the document in a listing; deletion reconciliation compares it.
    pub seen_in: String,
    /// For an attachment: what its extraction gave and which extractor gave it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraction: Option<ExtractionStamp>,
}

/// The outcome of an attachment's extraction and the extractor version that produced it
/// ([`crate::extract::EXTRACTOR_VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractionStamp {
    pub status: ExtractionStatus,
    pub extractor: u32,
}

/// What an attachment's extraction gave.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExtractionStatus {
    Ok,
    /// Read without error, but no text.
    Empty,
    Failed,
    Skipped,
    /// Not downloaded (the download failed, or the run stopped): whatever the extractor, a later run
    /// downloads it again.
    Unread,
}

impl DocState {
    /// An attachment whose text a newer extractor may find: its last extraction failed, found nothing or
    /// was skipped, by an older extractor; or one never downloaded. An attachment stored before outcomes
    /// were stamped counts as one.
    pub fn extraction_outdated(&self) -> bool {
        match self.extraction {
            None => true,
            Some(stamp) if stamp.status == ExtractionStatus::Unread => true,
            Some(stamp) => {
                stamp.status != ExtractionStatus::Ok && stamp.extractor < crate::extract::EXTRACTOR_VERSION
            }
        }
    }
}

impl SyncState {
    /// An empty state for `source`.
    pub fn new(source: &str, scope: String) -> SyncState {
        SyncState { version: STATE_VERSION, source: source.to_string(), scope, ..SyncState::default() }
    }

    pub fn product(&self, product: Product) -> &ProductState {
        match product {
            Product::Confluence => &self.confluence,
            Product::Jira => &self.jira,
        }
    }

    pub fn product_mut(&mut self, product: Product) -> &mut ProductState {
        match product {
            Product::Confluence => &mut self.confluence,
            Product::Jira => &mut self.jira,
        }
    }

    /// Serialises the state for an index commit.
    pub fn encode(&self) -> Vec<u8> {
        // Plain data (strings, numbers, maps with string keys) always serialises.
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a state blob of `source`. An empty blob (no commit yet) is a fresh state; anything that cannot
    /// be trusted is `Err` with the reason, and the caller starts over.
    pub fn decode(bytes: &[u8], source: &str) -> Result<Option<SyncState>, String> {
        if bytes.is_empty() {
            return Ok(None);
        }
        #[derive(Deserialize)]
        struct VersionOnly {
            version: u32,
        }
        let version: VersionOnly =
            serde_json::from_slice(bytes).map_err(|e| format!("sync state is unreadable: {e}"))?;
        if version.version != STATE_VERSION {
            return Err(format!(
                "sync state has layout version {}, this permdex reads version {STATE_VERSION}",
                version.version
            ));
        }
        let state: SyncState =
            serde_json::from_slice(bytes).map_err(|e| format!("sync state is unreadable: {e}"))?;
        if state.source != source {
            return Err(format!("sync state belongs to source {:?}, not {source:?}", state.source));
        }
        Ok(Some(state))
    }

    /// Ids of the documents of one product.
    pub fn doc_ids_of(&self, product: Product) -> impl Iterator<Item = &DocId> + '_ {
        self.docs.keys().filter(move |id| id.product == product)
    }
}

/// The directory in a serialisable form.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredDirectory {
    pub users: BTreeMap<String, StoredUser>,
    pub groups: BTreeMap<String, StoredGroup>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredUser {
    pub name: String,
    pub active: bool,
    /// Written since sign-in by e-mail; states from before it read as "no address known".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredGroup {
    pub name: String,
    pub members: BTreeSet<String>,
}

impl From<&Directory> for StoredDirectory {
    fn from(d: &Directory) -> Self {
        StoredDirectory {
            users: d
                .users
                .iter()
                .map(|(id, u)| {
                    (
                        id.clone(),
                        StoredUser { name: u.display_name.clone(), active: u.active, email: u.email.clone() },
                    )
                })
                .collect(),
            groups: d
                .groups
                .iter()
                .map(|(id, g)| (id.clone(), StoredGroup { name: g.name.clone(), members: g.members.clone() }))
                .collect(),
        }
    }
}

impl From<&StoredDirectory> for Directory {
    fn from(d: &StoredDirectory) -> Self {
        Directory {
            users: d
                .users
                .iter()
                .map(|(id, u)| {
                    (
                        id.clone(),
                        DirectoryUser {
                            display_name: u.name.clone(),
                            active: u.active,
                            email: u.email.clone(),
                        },
                    )
                })
                .collect(),
            groups: d
                .groups
                .iter()
                .map(|(id, g)| {
                    (id.clone(), DirectoryGroup { name: g.name.clone(), members: g.members.clone() })
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::Kind;

    fn sample() -> SyncState {
        let mut state = SyncState::new("acme", "spaces=*".into());
        state.confluence.watermark = DateTime::from_timestamp_millis(1_700_000_000_000);
        state.jira.checkpoint = Some(Checkpoint {
            run_id: "r1".into(),
            phase: Phase::Issues,
            cursor: Some("tok".into()),
            offset: 7,
            unlisted: BTreeSet::from(["10004".to_string()]),
        });
        state.docs.insert(
            DocId::confluence(Kind::Page, "1"),
            DocState {
                version: 3,
                acl: AclInput::Confluence { space_id: "9".into(), content_id: "1".into() },
                profile: 4,
                scope_key: "ENG".into(),
                space_owner: None,
                container: None,
                location: Some(17),
                seen_in: "r1".into(),
                extraction: Some(ExtractionStamp { status: ExtractionStatus::Failed, extractor: 1 }),
            },
        );
        let mut directory = Directory::default();
        directory
            .users
            .insert("u1".into(), DirectoryUser { display_name: "Ada".into(), active: true, email: None });
        directory
            .groups
            .insert("g1".into(), DirectoryGroup { name: "eng".into(), members: ["u1".to_string()].into() });
        state.directory = StoredDirectory::from(&directory);
        state
    }

    #[test]
    fn round_trips() {
        let state = sample();
        let back = SyncState::decode(&state.encode(), "acme").expect("readable").expect("present");
        assert_eq!(back, state);
        assert_eq!(Directory::from(&back.directory).users["u1"].display_name, "Ada");
    }

    #[test]
    fn unreadable_states_say_why() {
        let mut other_version = serde_json::to_value(sample()).expect("json");
        other_version["version"] = serde_json::json!(STATE_VERSION + 1);
        let other_version = serde_json::to_vec(&other_version).expect("bytes");
        let cases: [(&[u8], &str, &str); 3] = [
            (b"{not json", "acme", "unreadable"),
            (&other_version, "acme", "layout version"),
            (&sample().encode(), "other", "belongs to source"),
        ];
        for (bytes, source, want) in cases {
            let err = SyncState::decode(bytes, source).expect_err("refused");
            assert!(err.contains(want), "{err}");
        }
        assert_eq!(SyncState::decode(b"", "acme"), Ok(None));
    }

    #[test]
    fn doc_ids_by_product() {
        let mut state = sample();
        let jira = state.docs[&DocId::confluence(Kind::Page, "1")].clone();
        state.docs.insert(DocId::jira(Kind::Issue, "5"), jira);
        assert_eq!(state.doc_ids_of(Product::Jira).collect::<Vec<_>>(), [&DocId::jira(Kind::Issue, "5")]);
        assert_eq!(state.doc_ids_of(Product::Confluence).count(), 1);
    }

    #[test]
    fn older_extractors_failures_are_outdated() {
        let current = crate::extract::EXTRACTOR_VERSION;
        let cases = [
            (None, true),
            (Some((ExtractionStatus::Ok, 1)), false),
            (Some((ExtractionStatus::Failed, current - 1)), true),
            (Some((ExtractionStatus::Empty, current - 1)), true),
            (Some((ExtractionStatus::Skipped, current - 1)), true),
            (Some((ExtractionStatus::Failed, current)), false),
            (Some((ExtractionStatus::Empty, current)), false),
            (Some((ExtractionStatus::Unread, current)), true),
        ];
        let mut doc = sample().docs.values().next().expect("a sample document").clone();
        for (stamp, outdated) in cases {
            doc.extraction = stamp.map(|(status, extractor)| ExtractionStamp { status, extractor });
            assert_eq!(doc.extraction_outdated(), outdated, "{stamp:?}");
        }
    }
}
