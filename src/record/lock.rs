//! Advisory file locks (the OS's `flock`, through std) for results directories that several
//! processes — a machine's runs, a cluster's array tasks — write at once.
//!
//! - A scenario's results directory has `.lock`: held *shared* by every shard of a sweep while
//!   it runs (shards write disjoint run directories), *exclusively* by `merge` and by plain
//!   runs, which write the scenario-wide files. So `merge` cannot start while a shard is still
//!   writing, and two plain runs cannot interleave their files.
//! - Each sweep run has `runs/<run>.lock`, held exclusively while it is computed and written:
//!   two processes never compute the same run.
//!
//! The exclusive holder writes who it is (pid, host, start time, command) into the lock file; a
//! process that collides gets [`LockError::Held`] naming the lock and, when known, its holder.
//! The OS releases a lock when its holder exits, however it exits, so no stale lock survives a
//! crash (the text left in the file then names the last holder, for the record only).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a lock could not be taken.
#[derive(Debug, Error)]
pub enum LockError {
    /// Another process holds it.
    #[error(
        "'{path}' is locked by another dendritic process ({holder}); wait for it to finish, or check that it is gone"
    )]
    Held {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, as far as known.
        holder: String,
    },
    /// The lock file cannot be created or locked.
    #[error("cannot lock '{path}': {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// A held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct Lock {
    file: File,
    path: PathBuf,
}

impl Lock {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

fn open(path: &Path) -> Result<File, LockError> {
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(io)
}

fn holder_of(file: &mut File) -> String {
    let mut text = String::new();
    let _ = file.seek(SeekFrom::Start(0));
    let _ = file.read_to_string(&mut text);
    let text = text.trim();
    if text.is_empty() {
        "shared by running shards of a sweep".into()
    } else {
        text.to_string()
    }
}

/// Who this process is, for the lock file.
fn me() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "?".into());
    let args: Vec<String> = std::env::args().collect();
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    format!(
        "pid {} on {host}, since unix time {since}: {}",
        std::process::id(),
        args.join(" ")
    )
}

/// Takes `path` exclusively, without waiting.
///
/// # Errors
/// [`LockError::Held`] when another process holds it (shared or exclusive); [`LockError::Io`].
pub fn exclusive(path: &Path) -> Result<Lock, LockError> {
    let mut file = open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(LockError::Held {
                path: path.to_path_buf(),
                holder: holder_of(&mut file),
            });
        }
        Err(TryLockError::Error(source)) => {
            return Err(LockError::Io {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    let io = |source| LockError::Io {
        path: path.to_path_buf(),
        source,
    };
    file.set_len(0).map_err(io)?;
    file.seek(SeekFrom::Start(0)).map_err(io)?;
    writeln!(file, "{}", me()).map_err(io)?;
    file.flush().map_err(io)?;
    Ok(Lock {
        file,
        path: path.to_path_buf(),
    })
}

/// Takes `path` shared (with other shared holders), without waiting.
///
/// # Errors
/// [`LockError::Held`] when another process holds it exclusively; [`LockError::Io`].
pub fn shared(path: &Path) -> Result<Lock, LockError> {
    let mut file = open(path)?;
    match file.try_lock_shared() {
        Ok(()) => {
            // No exclusive holder now: the text of the last one is history.
            let _ = file.set_len(0);
            Ok(Lock {
                file,
                path: path.to_path_buf(),
            })
        }
        Err(TryLockError::WouldBlock) => Err(LockError::Held {
            path: path.to_path_buf(),
            holder: holder_of(&mut file),
        }),
        Err(TryLockError::Error(source)) => Err(LockError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Writes `bytes` to `path` atomically: a temporary file of this process beside it, then a
/// rename (readers see the old or the new file, never a part; concurrent writers do not share
/// a temporary name).
///
/// # Errors
/// The I/O error, with the path.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = temporary(path);
    let named =
        |e: std::io::Error| std::io::Error::new(e.kind(), format!("{}: {e}", tmp.display()));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(&tmp, bytes).map_err(named)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    })
}

/// A temporary name beside `path`, unique to this process and call.
pub fn temporary(path: &Path) -> PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    path.with_file_name(format!(".{name}.{}.{n}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_exclusive_lock_excludes_and_names_its_holder() {
        let dir = std::env::temp_dir().join(format!("dendritic-lock-{}", std::process::id()));
        let path = dir.join(".lock");
        let held = exclusive(&path).unwrap();
        // A second open file description conflicts, as another process would.
        match exclusive(&path) {
            Err(LockError::Held { holder, .. }) => {
                assert!(
                    holder.contains(&format!("pid {}", std::process::id())),
                    "{holder}"
                )
            }
            other => panic!("second exclusive lock: {other:?}"),
        }
        assert!(matches!(shared(&path), Err(LockError::Held { .. })));
        drop(held);
        let a = shared(&path).unwrap();
        let b = shared(&path).unwrap();
        let err = exclusive(&path).unwrap_err().to_string();
        assert!(
            err.contains(".lock") && err.contains("shared by running shards"),
            "{err}"
        );
        drop((a, b));
        exclusive(&path).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn atomic_writes_use_unique_temporaries() {
        let p = Path::new("/x/summary.parquet");
        assert_ne!(temporary(p), temporary(p));
        assert_eq!(temporary(p).parent(), p.parent());
    }
}
