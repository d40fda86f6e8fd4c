//! One run of a source at a time, across processes: a sync (from `permdex sync`, cron, the server's
//! schedule or its admin API) and a purge hold an exclusive advisory lock on
//! `{data_dir}/sources/{name}/sync.lock` while they write the source's index. A second run of the same
//! source does not wait: it fails at once with [`Error::Busy`], and the caller says so or tries later.
//!
//! The lock is the operating system's (`flock` on Unix): it is released when the holder exits, however it
//! exits, so a killed run never leaves a stale lock behind. The file's content (the holder's pid) is only
//! for people reading it.
//!
//! This file does not run syncs; it only guards them.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::Error;

/// Held while one run writes a source's index; dropping it releases the lock.
#[derive(Debug)]
pub struct SourceLock {
    _file: File,
}

/// Where the lock of `source` lives.
pub fn lock_path(data_dir: &Path, source: &str) -> PathBuf {
    data_dir.join("sources").join(source).join("sync.lock")
}

impl SourceLock {
    /// Takes the lock of `source`, or fails with [`Error::Busy`] when another run (in this process or
    /// another) holds it.
    pub fn acquire(data_dir: &Path, source: &str) -> Result<SourceLock, Error> {
        let path = lock_path(data_dir, source);
        let io = |e| Error::Io { path: path.clone(), source: e };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        let mut file = OpenOptions::new().create(true).truncate(false).write(true).open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => return Err(Error::Busy { name: source.to_owned() }),
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        // Who holds it, for a person looking; the lock itself is what counts.
        let _ = file.set_len(0).and_then(|()| writeln!(file, "{}", std::process::id()));
        Ok(SourceLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let first = SourceLock::acquire(dir.path(), "acme").unwrap();
        assert!(matches!(SourceLock::acquire(dir.path(), "acme"), Err(Error::Busy { .. })));
        assert!(SourceLock::acquire(dir.path(), "other").is_ok(), "sources lock apart");
        drop(first);
        assert!(SourceLock::acquire(dir.path(), "acme").is_ok());
    }
}
