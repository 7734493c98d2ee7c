//! [`cleanup`]: removing what killed writers staged, across a whole archive.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, SystemTime};

use archiver_core::{ArchiveUri, Result};

use crate::error::io_error;
use crate::fsio;
use crate::layout::{LAYOUT_DIR, Layout};
use crate::task::blocking;

/// Removes every staged file (`.tmp-*`) of the archive at `uri` that nobody has written to for
/// `older_than`, and returns how many were removed.
///
/// Archives clean the directories they write in (see the crate docs), but a run that is never
/// archived again keeps what its killed attempts staged; this call sweeps the whole archive
/// (the root's own entries and everything under the layout directory; symlinks are not
/// followed). Run it when no archive is in flight, or with an `older_than` longer than any
/// archive takes (an hour, as the archives' own cleanup uses): a staged file younger than that
/// may belong to a live writer, or to an archive that a retry resumes from its staged file.
///
/// A directory that cannot be listed or a file that cannot be removed is an
/// [`Error::Backend`](archiver_core::Error::Backend) naming it.
pub async fn cleanup(uri: &ArchiveUri, older_than: Duration) -> Result<u64> {
    let layout = Layout::from_uri(uri)?;
    blocking("clean staged files", move || {
        let now = SystemTime::now();
        let mut removed = 0;
        let root = layout.root();
        sweep(root, now, older_than, false, &mut removed)?;
        sweep(&root.join(LAYOUT_DIR), now, older_than, true, &mut removed)?;
        Ok(removed)
    })
    .await
}

/// Removes the stale staged files in `dir`, and in its subdirectories when `deep`.
fn sweep(
    dir: &Path,
    now: SystemTime,
    older_than: Duration,
    deep: bool,
    removed: &mut u64,
) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(err) => return Err(io_error("list", dir, err)),
    };
    for entry in entries {
        let entry = entry.map_err(|err| io_error("list", dir, err))?;
        let path = entry.path();
        if fsio::is_stale_temp(&entry, now, older_than) {
            match fs::remove_file(&path) {
                Ok(()) => *removed += 1,
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_error("remove staged file", &path, err)),
            }
        } else if deep && entry.file_type().is_ok_and(|kind| kind.is_dir()) {
            sweep(&path, now, older_than, true, removed)?;
        }
    }
    Ok(())
}
