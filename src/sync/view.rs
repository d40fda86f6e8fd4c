//! [`SourceIndex`]: a source's committed index read together with its sync state, so that a caller's
//! principals come from the directory of the very commit whose documents and ACL store are searched.
//!
//! A caller is known only if the directory lists them as an active account and the configuration keeps
//! them in user scope; anyone else gets no principals at all and so sees nothing (fail closed).
//!
//! This file does not search or rank: it answers "who is this caller" and hands out the reader.

use chrono::{DateTime, Utc};

use crate::acl::{CallerPrincipals, Principal};
use crate::atlassian::model::Directory;
use crate::config::{Config, Source};
use crate::index::IndexReader;

use super::engine::index_dir;
use super::resolve;
use super::state::SyncState;
use super::Error;

/// A source's index at its last commit, with that commit's directory.
pub struct SourceIndex {
    reader: IndexReader,
    state: Option<SyncState>,
    directory: Directory,
    source: Source,
}

impl std::fmt::Debug for SourceIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SourceIndex")
            .field("source", self.source.name())
            .field("reader", &self.reader)
            .finish()
    }
}

impl SourceIndex {
    /// Opens the index of `source`. A commit whose state cannot be read has no directory: nobody is a
    /// known caller until the next sync.
    pub fn open(config: &Config, source: &Source) -> Result<SourceIndex, Error> {
        let reader = IndexReader::open(&index_dir(config.data_dir(), source.name().as_str()))?;
        let state = SyncState::decode(reader.state(), source.name().as_str()).ok().flatten();
        let directory = state.as_ref().map(|s| Directory::from(&s.directory)).unwrap_or_default();
        Ok(SourceIndex { reader, state, directory, source: source.clone() })
    }

    pub fn reader(&self) -> &IndexReader {
        &self.reader
    }

    /// The reader and the directory, for a search service that outlives this view.
    pub fn into_parts(self) -> (IndexReader, Directory) {
        (self.reader, self.directory)
    }

    /// The sync state of the commit, if readable.
    pub fn state(&self) -> Option<&SyncState> {
        self.state.as_ref()
    }

    pub fn directory(&self) -> &Directory {
        &self.directory
    }

    /// The principals `account_id` holds in this source (see [`principals_in`]).
    pub fn principals(&self, account_id: &str) -> Option<Vec<Principal>> {
        principals_in(&self.source, &self.directory, account_id)
    }

    /// The principals `account_id` holds in this index: none for an unknown, inactive or out-of-scope account.
    pub fn caller(&self, account_id: &str) -> CallerPrincipals {
        match principals_in(&self.source, &self.directory, account_id) {
            Some(principals) => self.reader.acl().caller(principals.iter()),
            None => CallerPrincipals::default(),
        }
    }

    /// Ids of every document `account_id` may see (for tests and audits).
    pub fn visible_ids(&self, account_id: &str) -> Result<Vec<String>, Error> {
        Ok(self.reader.visible_ids(&self.caller(account_id))?)
    }
}

/// What a server needs from the sync state of the commit `reader` is at, decoded once.
#[derive(Debug, Clone, Default)]
pub struct CommitFacts {
    /// The directory; empty when the state cannot be read (nobody is a known caller).
    pub directory: Directory,
    /// When the commit's permissions were last read in full (see
    /// [`SyncState::permissions_refreshed`]); `None` when never, or when the state cannot be read.
    pub permissions_refreshed: Option<DateTime<Utc>>,
}

/// The [`CommitFacts`] of the commit `reader` is at.
pub fn facts_of(reader: &IndexReader, source: &Source) -> CommitFacts {
    match SyncState::decode(reader.state(), source.name().as_str()) {
        Ok(Some(state)) => CommitFacts {
            directory: Directory::from(&state.directory),
            permissions_refreshed: state.permissions_refreshed,
        },
        _ => CommitFacts::default(),
    }
}

/// The principals `account_id` holds in `source`, given that source's synced `directory`: `None` for an
/// account the configuration keeps out of scope, and for one the directory does not list as active.
pub fn principals_in(source: &Source, directory: &Directory, account_id: &str) -> Option<Vec<Principal>> {
    if !source.user_in_scope(account_id) {
        return None;
    }
    resolve::caller_principals(directory, account_id)
}
