//! Whether a commit's segment files are the bytes tantivy wrote: every file of every segment, its CRC32
//! against the one in its tantivy footer.
//!
//! tantivy checks a footer's format when it opens a file, but never its checksum, so a flipped bit in a
//! posting list, a stored document or the `acl_profile` column would be read as data. The reader
//! (`reader.rs`) runs [`damaged_files`] on a commit's segments before it opens them, at open and at every
//! reload, and `permdex doctor` runs it offline.
//!
//! Files are read with plain positioned reads in 1 MiB chunks, not through tantivy's memory maps, so a
//! check neither keeps the index resident in the process nor costs more memory than one chunk.
//!
//! This file does not open segments, search or repair anything: a damaged index is dropped and rebuilt by
//! the next sync.

use std::path::{Path, PathBuf};

use tantivy::directory::footer::Footer;
use tantivy::directory::FileSlice;
use tantivy::index::{SegmentComponent, SegmentMeta};

/// What is wrong with one file of a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Damage {
    /// The file, relative to the index directory (`tantivy/{segment}.store`).
    pub file: PathBuf,
    pub problem: DamageKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DamageKind {
    /// The commit names the file but it is not there.
    Missing,
    /// It could not be read, or its footer is not tantivy's.
    Unreadable(String),
    /// Its contents do not hash to the checksum in its footer.
    ChecksumMismatch { expected: u32, found: u32 },
}

impl std::fmt::Display for Damage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let file = self.file.display();
        match &self.problem {
            DamageKind::Missing => write!(f, "{file} is missing"),
            DamageKind::Unreadable(reason) => write!(f, "{file} is unreadable: {reason}"),
            DamageKind::ChecksumMismatch { expected, found } => {
                write!(f, "{file} fails its checksum (footer {expected:08x}, contents {found:08x})")
            }
        }
    }
}

/// The components every segment of a permdex index has: the schema indexes text with positions, stores
/// documents and keeps fast columns, so each of these files exists for every segment tantivy writes.
const COMPONENTS: [SegmentComponent; 6] = [
    SegmentComponent::Postings,
    SegmentComponent::Positions,
    SegmentComponent::Terms,
    SegmentComponent::Store,
    SegmentComponent::FastFields,
    SegmentComponent::FieldNorms,
];

/// The files the segments `metas` are read from, relative to the tantivy directory: each component, and
/// the alive-documents file of a segment with deletes.
pub fn segment_files(metas: &[SegmentMeta]) -> Vec<PathBuf> {
    let mut files = Vec::with_capacity(metas.len() * (COMPONENTS.len() + 1));
    for meta in metas {
        files.extend(COMPONENTS.iter().map(|c| meta.relative_path(c.clone())));
        if meta.has_deletes() {
            files.push(meta.relative_path(SegmentComponent::Delete));
        }
    }
    files
}

/// Checks every file of the segments `metas` in `tantivy_dir`; empty when all are intact.
pub fn damaged_files(tantivy_dir: &Path, metas: &[SegmentMeta]) -> Vec<Damage> {
    segment_files(metas)
        .into_iter()
        .filter_map(|file| {
            let problem = check_file(&tantivy_dir.join(&file)).err()?;
            Some(Damage { file: Path::new("tantivy").join(file), problem })
        })
        .collect()
}

/// One file against its footer's checksum.
fn check_file(path: &Path) -> Result<(), DamageKind> {
    let unreadable = |e: std::io::Error| DamageKind::Unreadable(e.to_string());
    let file = FileSlice::open(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DamageKind::Missing,
        _ => unreadable(e),
    })?;
    let (footer, body) = Footer::extract_footer(file).map_err(unreadable)?;
    let mut hasher = crc32fast::Hasher::new();
    for chunk in body.stream_file_chunks() {
        hasher.update(chunk.map_err(unreadable)?.as_slice());
    }
    let found = hasher.finalize();
    if found != footer.crc {
        return Err(DamageKind::ChecksumMismatch { expected: footer.crc, found });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_is_checked_against_its_footer() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f");
        let body = b"some segment bytes".repeat(100_000);
        let crc = crc32fast::hash(&body);
        let footer = format!("{{\"version\":{{\"major\":0,\"minor\":27,\"patch\":0,\"index_format_version\":7}},\"crc\":{crc}}}");
        let mut bytes = body.clone();
        bytes.extend_from_slice(footer.as_bytes());
        bytes.extend_from_slice(&(footer.len() as u32).to_le_bytes());
        bytes.extend_from_slice(&1337u32.to_le_bytes());
        std::fs::write(&path, &bytes).expect("write");
        assert_eq!(check_file(&path), Ok(()));

        let mut flipped = bytes.clone();
        flipped[1_500_000] ^= 0x04;
        std::fs::write(&path, &flipped).expect("write");
        assert!(matches!(check_file(&path), Err(DamageKind::ChecksumMismatch { .. })));

        let mut bad_magic = bytes.clone();
        let last = bad_magic.len() - 1;
        bad_magic[last] ^= 0x01;
        std::fs::write(&path, &bad_magic).expect("write");
        assert!(matches!(check_file(&path), Err(DamageKind::Unreadable(_))));

        std::fs::write(&path, b"ab").expect("write");
        assert!(matches!(check_file(&path), Err(DamageKind::Unreadable(_))));

        assert_eq!(check_file(&dir.path().join("gone")), Err(DamageKind::Missing));
    }
}
