//! The data directory kept private: it holds the text of restricted pages (the indexes), who may read
//! them (ACL stores, sync state with the site's directory) and run records, so every directory permdex
//! creates in it is 0700 and every file 0600, and an existing directory that other local accounts can
//! enter is reported.
//!
//! The binary also sets its umask to 077 at start, which covers the files tantivy writes; the functions
//! here make the directories private whoever calls the library.
//!
//! This file neither changes the modes of what exists (an operator may have reasons) nor checks what
//! the files hold (`doctor.rs` does).

use std::path::{Path, PathBuf};

pub use crate::index::commit::{create_private_dir, private_file_options};

/// Mode bits that let anyone but the owner read, write or enter.
const GROUP_OR_OTHER: u32 = 0o077;

/// A warning when `data_dir` exists and other local accounts may read or enter it, with the fix.
pub fn exposure_warning(data_dir: &Path) -> Option<String> {
    let mode = mode_of(data_dir)?;
    (mode & GROUP_OR_OTHER != 0).then(|| {
        format!(
            "data directory {} has mode {mode:04o}: other local accounts can read the indexed text of \
             restricted pages; run `chmod -R go-rwx {}`",
            data_dir.display(),
            data_dir.display()
        )
    })
}

/// Every directory and file under `root` (itself included) that is wider than 0700 or 0600, with its
/// mode. Symbolic links are not followed.
pub fn wider_than_private(root: &Path) -> Vec<(PathBuf, u32)> {
    let mut found = Vec::new();
    let mut pending = vec![root.to_path_buf()];
    while let Some(path) = pending.pop() {
        let Ok(metadata) = std::fs::symlink_metadata(&path) else { continue };
        let Some(mode) = permission_bits(&metadata) else { continue };
        let allowed = if metadata.is_dir() { 0o700 } else { 0o600 };
        if mode & !allowed != 0 {
            found.push((path.clone(), mode));
        }
        if metadata.is_dir() {
            if let Ok(entries) = std::fs::read_dir(&path) {
                pending.extend(entries.flatten().map(|e| e.path()));
            }
        }
    }
    found.sort();
    found
}

fn mode_of(path: &Path) -> Option<u32> {
    permission_bits(&std::fs::metadata(path).ok()?)
}

#[cfg(unix)]
fn permission_bits(metadata: &std::fs::Metadata) -> Option<u32> {
    use std::os::unix::fs::PermissionsExt;
    Some(metadata.permissions().mode() & 0o777)
}

#[cfg(not(unix))]
fn permission_bits(_: &std::fs::Metadata) -> Option<u32> {
    None
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn private_dirs_and_the_wider_ones() {
        let root = tempfile::tempdir().expect("tempdir");
        let data = root.path().join("data");
        create_private_dir(&data.join("sources/a/index")).expect("create");
        for dir in [&data, &data.join("sources"), &data.join("sources/a/index")] {
            assert_eq!(mode_of(dir), Some(0o700), "{}", dir.display());
        }
        let file = data.join("runs.jsonl");
        private_file_options().open(&file).expect("file");
        assert_eq!(mode_of(&file), Some(0o600));
        assert_eq!(exposure_warning(&data), None);
        assert!(wider_than_private(&data).is_empty());

        chmod(&data, 0o755);
        chmod(&file, 0o644);
        let warning = exposure_warning(&data).expect("a warning");
        assert!(warning.contains("mode 0755") && warning.contains("chmod -R go-rwx"), "{warning}");
        assert_eq!(wider_than_private(&data), vec![(data.clone(), 0o755), (file, 0o644)]);
        assert_eq!(exposure_warning(&root.path().join("absent")), None);
    }
}
