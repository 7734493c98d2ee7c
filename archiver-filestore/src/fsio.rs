//! Durable file-system primitives: directories created with an exact mode, staged temp files,
//! atomic rename, directory fsync. All functions block: call them from `spawn_blocking`.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Every staged file's name starts with this; readers skip such names.
pub(crate) const TEMP_PREFIX: &str = ".tmp-";

/// A staged file untouched for this long belongs to a dead writer and may be removed.
pub(crate) const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);

/// Modes applied to what we create.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Modes {
    /// Permission bits of files, applied exactly (the umask does not narrow them).
    pub(crate) file: u32,
    /// Permission bits of directories we create, applied exactly.
    pub(crate) dir: u32,
}

/// Whether `name` is a staged (temp) file name.
pub(crate) fn is_temp_name(name: &str) -> bool {
    name.starts_with(TEMP_PREFIX)
}

/// A staged-file name unique across processes and concurrent calls: `.tmp-<tag>-<pid>-<nanos>-<n>`.
pub(crate) fn temp_name(tag: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    format!("{TEMP_PREFIX}{tag}-{}-{nanos}-{n}", std::process::id())
}

/// Opens the stored file `path` for reading (and writing when `write`) without ever blocking on
/// a special file, and refuses anything but a regular file.
///
/// Opening a FIFO for reading blocks in `open` itself until a writer appears, so the file is
/// opened with `O_NONBLOCK` (which regular files ignore) and `O_NOCTTY`, and then the opened
/// file's type is checked with `fstat` (checking the path before opening would race with a swap).
/// Anything else than a regular file (FIFO, socket, device, directory) is an
/// [`io::ErrorKind::InvalidData`] error saying what it is: see [`crate::error::open_error`].
pub(crate) fn open_regular(path: &Path, write: bool) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(write)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    only_regular(file)
}

/// `file`, if it is a regular file; otherwise an [`io::ErrorKind::InvalidData`] error naming
/// what it is.
fn only_regular(file: File) -> io::Result<File> {
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else {
        "a special file"
    };
    Err(io::Error::new(
        io::ErrorKind::InvalidData,
        format!("{what} where a regular file is expected"),
    ))
}

/// Creates (or keeps) the empty regular file `path` with exactly `mode`, never blocking on a
/// special file in its place (see [`open_regular`]). Not durable until its directory is fsynced.
pub(crate) fn create_empty(path: &Path, mode: u32) -> io::Result<()> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    only_regular(file)?.set_permissions(fs::Permissions::from_mode(mode))
}

/// fsync a directory, making the entries created or renamed in it durable. `O_DIRECTORY`: a
/// FIFO swapped in place of the directory fails the open instead of blocking it.
pub(crate) fn sync_dir(dir: &Path) -> io::Result<()> {
    OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY)
        .open(dir)?
        .sync_all()
}

/// Create `dir` and any missing parents, each with exactly `mode`, and fsync the parent of each
/// directory created so the new entries survive a crash.
pub(crate) fn create_dir_all(dir: &Path, mode: u32) -> io::Result<()> {
    let created = create_dirs(dir, mode)?;
    // Every mkdir first, then the parents' fsyncs: the first fsync commits the file system's
    // journal with all the new entries, so the others find nothing left to do (one journal
    // commit instead of one per level).
    for path in created.iter().rev() {
        if let Some(parent) = path.parent() {
            sync_dir(parent)?;
        }
    }
    Ok(())
}

/// Create `dir` and any missing parents, each with exactly `mode`, *without* making the new
/// entries durable: returns the directories created, outermost first, whose parents the caller
/// fsyncs.
pub(crate) fn create_dirs(dir: &Path, mode: u32) -> io::Result<Vec<PathBuf>> {
    let mut missing = Vec::new();
    let mut cursor = Some(dir);
    while let Some(path) = cursor {
        match fs::metadata(path) {
            Ok(meta) if meta.is_dir() => break,
            Ok(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotADirectory,
                    format!("{} exists and is not a directory", path.display()),
                ));
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound => missing.push(path),
            Err(err) => return Err(err),
        }
        cursor = path.parent();
    }
    let mut created = Vec::new();
    for path in missing.into_iter().rev() {
        match fs::DirBuilder::new().mode(mode).create(path) {
            Ok(()) => {
                fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
                created.push(path.to_owned());
            }
            // Another writer created it between our stat and mkdir: fine.
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists && path.is_dir() => {}
            Err(err) => return Err(err),
        }
    }
    Ok(created)
}

/// A new staged file in `dir` (created exclusively), with `mode` applied exactly.
pub(crate) fn create_temp(dir: &Path, tag: &str, mode: u32) -> io::Result<(File, PathBuf)> {
    let path = dir.join(temp_name(tag));
    let file = OpenOptions::new()
        .write(true)
        .read(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    Ok((file, path))
}

/// Write `bytes` to `dir/name` atomically and durably: a reader sees the old file or the new one.
#[cfg(test)]
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8], modes: Modes) -> io::Result<()> {
    stage_and_rename(dir, dir, name, bytes, modes)?;
    sync_dir(dir)
}

/// Write `bytes` to `dir/name` atomically: staged in `staging` (same file system), fsynced,
/// renamed into place. The rename is durable once `dir` is fsynced (the caller's job, so that
/// writers can share it).
pub(crate) fn stage_and_rename(
    staging: &Path,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    modes: Modes,
) -> io::Result<()> {
    create_dir_all(dir, modes.dir)?;
    create_dir_all(staging, modes.dir)?;
    let (mut file, temp) = create_temp(staging, name, modes.file)?;
    let written = file
        .write_all(bytes)
        .and_then(|()| file.sync_data())
        .and_then(|()| fs::rename(&temp, dir.join(name)));
    if written.is_err() {
        // Best effort: a leftover temp file is harmless, readers skip it.
        let _ = fs::remove_file(&temp);
    }
    written
}

/// Whether `entry` is a staged file (a regular file named `.tmp-*`, symlinks not followed)
/// that nobody has written to for `older_than` at `now`.
pub(crate) fn is_stale_temp(entry: &fs::DirEntry, now: SystemTime, older_than: Duration) -> bool {
    let named = entry.file_name().to_str().is_some_and(is_temp_name);
    named
        && entry.file_type().is_ok_and(|kind| kind.is_file())
        && entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| {
                now.duration_since(modified)
                    .is_ok_and(|age| age >= older_than)
            })
}

/// Directory entries [`remove_stale_temps`] examines per call at most, so that an archive's
/// cleanup costs little whatever a storm of crashes left behind (later archives go on).
pub(crate) const CLEANUP_BUDGET: usize = 256;

/// Removes staged files in `dir` that nobody has written to for [`STALE_TEMP_AGE`]: leftovers
/// of crashed writers (live writers touch their file at least once per blob, and a visibility
/// record's in one go). Examines at most [`CLEANUP_BUDGET`] entries. Errors are ignored:
/// cleanup is best effort. Returns how many files were removed.
pub(crate) fn remove_stale_temps(dir: &Path) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let now = SystemTime::now();
    let mut removed = 0;
    for entry in entries.take(CLEANUP_BUDGET).flatten() {
        if is_stale_temp(&entry, now, STALE_TEMP_AGE) && fs::remove_file(entry.path()).is_ok() {
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    const MODES: Modes = Modes {
        file: 0o640,
        dir: 0o750,
    };

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn temp_names_are_unique_and_recognised() {
        let a = temp_name("x");
        let b = temp_name("x");
        assert_ne!(a, b);
        assert!(is_temp_name(&a));
        assert!(!is_temp_name("5.hist"));
    }

    #[test]
    fn create_dir_all_applies_exact_mode_despite_umask() {
        let root = tempfile::tempdir().unwrap();
        let deep = root.path().join("a/b/c");
        // 0o777 would be narrowed by a typical 022 umask if we relied on mkdir's mode.
        create_dir_all(&deep, 0o777).unwrap();
        for dir in ["a", "a/b", "a/b/c"] {
            assert_eq!(mode_of(&root.path().join(dir)), 0o777, "{dir}");
        }
        // Idempotent; existing directories keep their mode.
        create_dir_all(&deep, 0o700).unwrap();
        assert_eq!(mode_of(&deep), 0o777);
    }

    #[test]
    fn special_files_are_refused_without_blocking() {
        let root = tempfile::tempdir().unwrap();
        let fifo = root.path().join("fifo");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        // Each of these would block forever in a plain open of the FIFO.
        for write in [false, true] {
            let err = open_regular(&fifo, write).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidData, "{err}");
            assert!(err.to_string().contains("FIFO"), "{err}");
        }
        assert!(create_empty(&fifo, 0o644).is_err());
        assert!(sync_dir(&fifo).is_err());
        let err = open_regular(root.path(), false).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
    }

    #[test]
    fn create_dir_all_rejects_a_file_in_the_way() {
        let root = tempfile::tempdir().unwrap();
        fs::write(root.path().join("f"), b"x").unwrap();
        let err = create_dir_all(&root.path().join("f/sub"), 0o755).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotADirectory);
    }

    #[test]
    fn write_atomic_replaces_with_exact_mode_and_leaves_no_temp() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("d");
        write_atomic(&dir, "f", b"one", MODES).unwrap();
        write_atomic(
            &dir,
            "f",
            b"two",
            Modes {
                file: 0o666,
                ..MODES
            },
        )
        .unwrap();
        assert_eq!(fs::read(dir.join("f")).unwrap(), b"two");
        assert_eq!(mode_of(&dir.join("f")), 0o666);
        assert_eq!(mode_of(&dir), 0o750);
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["f"]);
    }

    #[test]
    fn write_atomic_onto_a_directory_fails_and_cleans_up() {
        let root = tempfile::tempdir().unwrap();
        fs::create_dir(root.path().join("f")).unwrap();
        fs::write(root.path().join("f/inner"), b"x").unwrap();
        assert!(write_atomic(root.path(), "f", b"x", MODES).is_err());
        let temps = fs::read_dir(root.path())
            .unwrap()
            .filter(|e| is_temp_name(e.as_ref().unwrap().file_name().to_str().unwrap()))
            .count();
        assert_eq!(temps, 0);
    }

    #[test]
    fn stale_temps_are_removed_fresh_ones_kept() {
        let root = tempfile::tempdir().unwrap();
        let (_, fresh) = create_temp(root.path(), "7", 0o600).unwrap();
        let (old_file, old) = create_temp(root.path(), "7", 0o600).unwrap();
        let (other_file, other) = create_temp(root.path(), "8", 0o600).unwrap();
        let long_ago = SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(5);
        old_file.set_modified(long_ago).unwrap();
        other_file.set_modified(long_ago).unwrap();
        let kept = root.path().join("7.hist");
        fs::write(&kept, b"x").unwrap();
        File::options()
            .write(true)
            .open(&kept)
            .unwrap()
            .set_modified(long_ago)
            .unwrap();
        fs::create_dir(root.path().join(".tmp-a-dir")).unwrap();
        assert_eq!(remove_stale_temps(root.path()), 2);
        assert!(fresh.exists());
        assert!(!old.exists());
        assert!(!other.exists(), "every staged file, whatever its tag");
        assert!(kept.exists(), "only staged files");
        assert!(root.path().join(".tmp-a-dir").is_dir(), "only files");
    }

    #[test]
    fn a_cleanup_examines_a_bounded_number_of_entries() {
        let root = tempfile::tempdir().unwrap();
        let long_ago = SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(5);
        let total = CLEANUP_BUDGET + 10;
        for _ in 0..total {
            let (file, _) = create_temp(root.path(), "x", 0o600).unwrap();
            file.set_modified(long_ago).unwrap();
        }
        assert_eq!(remove_stale_temps(root.path()), CLEANUP_BUDGET);
        assert_eq!(remove_stale_temps(root.path()), 10, "the next call goes on");
    }
}
