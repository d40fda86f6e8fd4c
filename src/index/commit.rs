//! The on-disk layout of an index directory and the generation files committed with each tantivy commit.
//!
//! ```text
//! {dir}/tantivy/            the tantivy index
//! {dir}/meta/schema.json    the schema definition the index was created with (its version is checked on open)
//! {dir}/meta/gen-{n}.acl    the ACL store of generation n (AclStore::to_bytes)
//! {dir}/meta/gen-{n}.state  the sync engine's opaque state of generation n
//! ```
//!
//! Commit protocol for generation n: write `gen-{n}.acl` and `gen-{n}.state` (temp file, fsync, rename, fsync
//! the directory), then commit tantivy with the payload `{"generation": n, "acl_sha256": …, "state_sha256": …}`,
//! then delete the files of generations before n−1. A crash before the tantivy commit leaves the previous
//! commit pointing at generation n−1, whose files still exist; a crash after it leaves stale files that the
//! next commit deletes.
//!
//! This file knows file names, hashes, payloads and how to open the tantivy index after checking its schema
//! version; it does not write or read documents.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::schema::{ExtraField, IndexSchema};
use super::Error;

/// A commit's sequence number. Generation 0 means nothing has been committed yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Generation(pub u64);

impl Generation {
    pub const NONE: Generation = Generation(0);

    pub fn next(self) -> Generation {
        Generation(self.0 + 1)
    }
}

/// The paths of one index directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    root: PathBuf,
}

impl Layout {
    pub fn new(root: &Path) -> Layout {
        Layout { root: root.to_path_buf() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn tantivy_dir(&self) -> PathBuf {
        self.root.join("tantivy")
    }

    pub fn meta_dir(&self) -> PathBuf {
        self.root.join("meta")
    }

    pub fn schema_record(&self) -> PathBuf {
        self.meta_dir().join("schema.json")
    }

    pub fn acl_file(&self, generation: Generation) -> PathBuf {
        self.meta_dir().join(format!("gen-{}.acl", generation.0))
    }

    pub fn state_file(&self, generation: Generation) -> PathBuf {
        self.meta_dir().join(format!("gen-{}.state", generation.0))
    }

    /// `path` relative to the index directory, for messages that may leave the host (a readiness reason
    /// names `meta/gen-3.acl`, never where the data directory is).
    pub fn relative(&self, path: &Path) -> String {
        path.strip_prefix(&self.root).unwrap_or(path).display().to_string()
    }
}

/// What a tantivy commit's payload says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitPayload {
    pub generation: Generation,
    pub acl_sha256: String,
    pub state_sha256: String,
}

impl CommitPayload {
    pub fn for_files(generation: Generation, acl: &[u8], state: &[u8]) -> CommitPayload {
        CommitPayload { generation, acl_sha256: sha256_hex(acl), state_sha256: sha256_hex(state) }
    }

    pub fn to_json(&self) -> String {
        // A struct of a number and two strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }

    pub fn parse(payload: &str) -> Result<CommitPayload, String> {
        serde_json::from_str(payload).map_err(|e| format!("commit payload {payload:?}: {e}"))
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// The index's committed generation, read from the last tantivy commit's payload. No payload means nothing
/// was committed through [`crate::index::IndexWriter::commit`] yet.
pub fn committed_generation(payload: Option<&str>) -> Result<Option<CommitPayload>, String> {
    payload.map(CommitPayload::parse).transpose()
}

/// Creates `dir` and its missing parents readable only by their owner (mode 0700 on Unix): an index holds
/// the text of restricted pages.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir)
}

/// Options that create (or truncate) a file readable only by its owner (mode 0600 on Unix).
pub fn private_file_options() -> fs::OpenOptions {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options
}

/// Writes `bytes` to `path` so that a reader sees either the old file or the whole new one, never a part: a
/// temporary file beside it (readable only by its owner), fsynced, renamed over, and the directory fsynced
/// so the rename is durable.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    let tmp = tmp_path(path);
    let result = (|| {
        let mut file = private_file_options().open(&tmp).map_err(Error::io(&tmp))?;
        file.write_all(bytes).map_err(Error::io(&tmp))?;
        file.sync_all().map_err(Error::io(&tmp))?;
        fs::rename(&tmp, path).map_err(Error::io(path))?;
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
        Ok(())
    })();
    if result.is_err() {
        // Best effort: a leftover temp file is harmless (the next commit removes it) but untidy.
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".tmp");
    path.with_file_name(name)
}

/// Makes renames and creations inside `dir` durable. Directories cannot be opened for syncing on Windows;
/// there the rename's own durability is what the platform offers.
pub fn sync_dir(dir: &Path) -> Result<(), Error> {
    #[cfg(unix)]
    {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(Error::io(dir))?;
    }
    #[cfg(not(unix))]
    let _ = dir;
    Ok(())
}

/// Writes generation `generation`'s ACL and state files and returns the payload that names them.
pub fn write_generation(
    layout: &Layout,
    generation: Generation,
    acl: &[u8],
    state: &[u8],
) -> Result<CommitPayload, Error> {
    write_atomically(&layout.acl_file(generation), acl)?;
    write_atomically(&layout.state_file(generation), state)?;
    Ok(CommitPayload::for_files(generation, acl, state))
}

/// A generation's files, read and verified against the payload that names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenerationFiles {
    pub acl: Vec<u8>,
    pub state: Vec<u8>,
}

/// Reads the files `payload` names and checks their hashes. The error says which file (relative to the
/// index directory) and what is wrong.
pub fn read_generation(layout: &Layout, payload: &CommitPayload) -> Result<GenerationFiles, String> {
    let read = |path: PathBuf, want: &str| -> Result<Vec<u8>, String> {
        let name = layout.relative(&path);
        let bytes = fs::read(&path).map_err(|e| format!("{name}: {e}"))?;
        let got = sha256_hex(&bytes);
        if got != want {
            return Err(format!("{name}: sha256 {got} does not match the commit's {want}"));
        }
        Ok(bytes)
    };
    Ok(GenerationFiles {
        acl: read(layout.acl_file(payload.generation), &payload.acl_sha256)?,
        state: read(layout.state_file(payload.generation), &payload.state_sha256)?,
    })
}

/// Deletes every generation file (and leftover temp file) in the meta dir except those of `keep` and the
/// generation before it. Returns the paths it could not delete; they are retried on the next commit.
pub fn remove_stale_generations(layout: &Layout, keep: Generation) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(layout.meta_dir()) else {
        return Vec::new();
    };
    let mut failed = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let stale = match parse_generation_file(name) {
            Some(GenerationFileName { generation, temporary }) => {
                temporary || !(generation == keep || generation.next() == keep)
            }
            None => false,
        };
        if stale && fs::remove_file(entry.path()).is_err() {
            failed.push(entry.path());
        }
    }
    failed
}

#[derive(Debug, PartialEq, Eq)]
struct GenerationFileName {
    generation: Generation,
    temporary: bool,
}

/// `gen-{n}.acl`, `gen-{n}.state`, and their `.tmp` forms. Anything else (schema.json, files a person put
/// there) is not ours to delete.
fn parse_generation_file(name: &str) -> Option<GenerationFileName> {
    let rest = name.strip_prefix("gen-")?;
    let (rest, temporary) = match rest.strip_suffix(".tmp") {
        Some(r) => (r, true),
        None => (rest, false),
    };
    let number = rest.strip_suffix(".acl").or_else(|| rest.strip_suffix(".state"))?;
    let n: u64 = number.parse().ok()?;
    Some(GenerationFileName { generation: Generation(n), temporary })
}

/// Only the version of a schema record, so that a record written by another permdex (with a schema this one
/// cannot parse) still yields a clear version error.
#[derive(Deserialize)]
struct SchemaRecordVersion {
    version: u64,
}

/// The extra fields a schema record names (see [`crate::index::schema::ExtraField`]); read only once its
/// version is known to be this permdex's.
#[derive(Deserialize)]
struct SchemaRecordExtras {
    #[serde(default)]
    extra_fields: Vec<ExtraField>,
}

fn read_schema_record(layout: &Layout) -> Result<Vec<u8>, Error> {
    let path = layout.schema_record();
    match fs::read(&path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Err(Error::NotAnIndex { path: layout.root().to_path_buf() })
        }
        Err(e) => Err(Error::Io { path, source: e }),
    }
}

/// Reads the schema version an index directory was created with.
pub fn recorded_schema_version(layout: &Layout) -> Result<u64, Error> {
    let bytes = read_schema_record(layout)?;
    let record: SchemaRecordVersion = serde_json::from_slice(&bytes).map_err(|e| Error::CommitRecord {
        path: layout.schema_record(),
        reason: format!("schema record: {e}"),
    })?;
    Ok(record.version)
}

/// Opens the tantivy index of `layout` after checking the recorded schema version, and registers tokenizers.
/// Shared by the writer and the reader. The returned schema carries the extra fields the record names.
pub fn open_index(layout: &Layout) -> Result<(IndexSchema, tantivy::Index), Error> {
    let embedded = IndexSchema::embedded()?;
    let found = recorded_schema_version(layout)?;
    if found != embedded.version() {
        return Err(Error::SchemaVersion {
            path: layout.root().to_path_buf(),
            found,
            expected: embedded.version(),
        });
    }
    let extras: SchemaRecordExtras = serde_json::from_slice(&read_schema_record(layout)?).map_err(|e| {
        Error::CommitRecord { path: layout.schema_record(), reason: format!("schema record: {e}") }
    })?;
    let schema = embedded.with_extra_fields(&extras.extra_fields)?;
    let index = tantivy::Index::open_in_dir(layout.tantivy_dir()).map_err(Error::tantivy(layout.root()))?;
    // Same version number, different fields: someone changed the schema without bumping the version.
    if index.schema() != *schema.schema() {
        return Err(Error::SchemaMismatch { path: layout.root().to_path_buf(), version: found });
    }
    schema.register_tokenizers(&index);
    Ok((schema, index))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generation_file_names() {
        let cases: &[(&str, Option<(u64, bool)>)] = &[
            ("gen-7.acl", Some((7, false))),
            ("gen-7.state", Some((7, false))),
            ("gen-12.acl.tmp", Some((12, true))),
            ("gen-x.acl", None),
            ("gen-7.txt", None),
            ("schema.json", None),
            ("gen-.acl", None),
        ];
        for (name, want) in cases {
            let got = parse_generation_file(name).map(|g| (g.generation.0, g.temporary));
            assert_eq!(got, *want, "{name}");
        }
    }

    #[test]
    fn stale_generations_are_removed_but_the_last_two_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path());
        fs::create_dir_all(layout.meta_dir()).expect("meta dir");
        for n in 1..=5 {
            write_generation(&layout, Generation(n), b"acl", b"state").expect("write");
        }
        fs::write(layout.meta_dir().join("gen-6.acl.tmp"), b"partial").expect("tmp");
        fs::write(layout.schema_record(), b"{\"version\": 1}").expect("record");
        assert!(remove_stale_generations(&layout, Generation(4)).is_empty());
        let mut left: Vec<String> = fs::read_dir(layout.meta_dir())
            .expect("read dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["gen-3.acl", "gen-3.state", "gen-4.acl", "gen-4.state", "schema.json"]);
    }

    #[test]
    fn read_generation_verifies_hashes() {
        let dir = tempfile::tempdir().expect("tempdir");
        let layout = Layout::new(dir.path());
        fs::create_dir_all(layout.meta_dir()).expect("meta dir");
        let payload = write_generation(&layout, Generation(3), b"acl bytes", b"state bytes").expect("write");
        let files = read_generation(&layout, &payload).expect("verified");
        assert_eq!((files.acl.as_slice(), files.state.as_slice()), (&b"acl bytes"[..], &b"state bytes"[..]));

        fs::write(layout.state_file(Generation(3)), b"state bytez").expect("overwrite");
        let err = read_generation(&layout, &payload).expect_err("tampered");
        assert!(err.contains("gen-3.state") && err.contains("does not match"), "{err}");

        fs::remove_file(layout.acl_file(Generation(3))).expect("remove");
        let err = read_generation(&layout, &payload).expect_err("missing");
        assert!(err.contains("gen-3.acl"), "{err}");
    }

    #[test]
    fn payload_round_trips() {
        let p = CommitPayload::for_files(Generation(9), b"a", b"");
        assert_eq!(CommitPayload::parse(&p.to_json()), Ok(p.clone()));
        assert_eq!(committed_generation(None), Ok(None));
        assert!(committed_generation(Some("Segments Merge: [abc]")).is_err());
        assert_eq!(p.state_sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    }
}
