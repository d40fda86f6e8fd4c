//! `permdex doctor`: a data directory checked offline, source by source, as a reader would find it — the
//! schema record, the last commit's ACL store and sync state against the hashes its payload names, every
//! segment file against its checksum, the sync state against its source, documents pointing at profiles the
//! ACL store does not know — and every directory or file other local accounts could read.
//!
//! It reads and never writes: a damaged source is rebuilt by its next sync (which drops the damaged
//! segments unread), modes are left for the operator to change.

use std::path::{Path, PathBuf};

use serde::Serialize;

use super::datadir;
use super::engine::index_dir;
use super::state::SyncState;
use crate::index::IndexReader;

/// What the check found in one data directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checkup {
    pub data_dir: PathBuf,
    pub sources: Vec<SourceCheckup>,
    /// Directories wider than 0700 and files wider than 0600, with their modes.
    pub exposed: Vec<Exposed>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceCheckup {
    pub name: String,
    /// `ok`, `damaged`, or `not_synced` (no index yet).
    pub status: &'static str,
    pub generation: u64,
    pub documents: u64,
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Exposed {
    pub path: PathBuf,
    /// The permission bits, e.g. `0755`.
    pub mode: String,
}

impl Checkup {
    /// Whether any source is damaged.
    pub fn damaged(&self) -> bool {
        self.sources.iter().any(|s| !s.problems.is_empty())
    }
}

/// The names of the sources that have a directory under `{data_dir}/sources`, sorted.
pub fn sources_on_disk(data_dir: &Path) -> std::io::Result<Vec<String>> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join("sources"))?
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    Ok(names)
}

/// Checks the indexes of `sources` in `data_dir`, and the modes of everything under it.
pub fn check(data_dir: &Path, sources: &[String]) -> Checkup {
    Checkup {
        data_dir: data_dir.to_path_buf(),
        sources: sources.iter().map(|name| check_source(data_dir, name)).collect(),
        exposed: datadir::wider_than_private(data_dir)
            .into_iter()
            .map(|(path, mode)| Exposed { path, mode: format!("{mode:04o}") })
            .collect(),
    }
}

/// Checks the index of the source `name` in `data_dir` (also what `permdex status` shows of it).
pub fn check_source(data_dir: &Path, name: &str) -> SourceCheckup {
    let mut checkup = SourceCheckup {
        name: name.to_owned(),
        status: "ok",
        generation: 0,
        documents: 0,
        problems: Vec::new(),
    };
    let dir = index_dir(data_dir, name);
    if !dir.exists() {
        checkup.status = "not_synced";
        return checkup;
    }
    match IndexReader::open(&dir) {
        Err(e) => checkup.problems.push(e.to_string()),
        Ok(reader) => {
            checkup.generation = reader.generation().0;
            checkup.documents = reader.doc_count();
            if let Some(problem) = reader.integrity_problem() {
                checkup.problems.push(problem.to_owned());
            } else {
                if let Err(problem) = SyncState::decode(reader.state(), name) {
                    checkup.problems.push(problem);
                }
                match reader.unknown_profile_count() {
                    Ok(0) => {}
                    Ok(n) => checkup.problems.push(format!(
                        "{n} document(s) point at acl profiles the store does not have (they are invisible)"
                    )),
                    Err(e) => checkup.problems.push(e.to_string()),
                }
            }
        }
    }
    if !checkup.problems.is_empty() {
        checkup.status = "damaged";
    }
    checkup
}
