//! [`LocalStore`]: objects as files under a directory.

use std::fs::{self, File};
use std::io::{ErrorKind, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::object::{
    Failure, FailureKind, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome,
};
use archiver_core::{ArchiveUri, Error, Result};
use async_trait::async_trait;
use bytes::Bytes;

const SCHEME: &str = "file";
/// Staged files of writes in progress start with this; listings skip them.
const STAGED: &str = ".tmp-";

/// An [`ObjectStore`] over a local directory for `file:///absolute/dir` URIs: the key
/// `a/b/c` is the file `dir/a/b/c`. Writes are staged in the target directory, fsynced and
/// renamed into place (create-only writes are a hard link, which fails if the name exists), and
/// the directory is fsynced: a write is atomic and durable. All file work runs on tokio's
/// blocking pool.
///
/// Keys come from the layouts of this library, never from ids; a key with an empty, `.` or `..`
/// segment or a NUL is refused all the same.
#[derive(Debug, Clone, Copy, Default)]
pub struct LocalStore;

impl LocalStore {
    /// The store.
    pub fn new() -> Self {
        LocalStore
    }
}

fn failure(operation: &str, path: &Path, error: &std::io::Error) -> Failure {
    let kind = match error.kind() {
        ErrorKind::NotFound => FailureKind::NotFound,
        ErrorKind::PermissionDenied => FailureKind::AccessDenied,
        ErrorKind::InvalidInput => FailureKind::BadRequest,
        // Disk full, I/O errors: another try may find room or a healthy device.
        _ => FailureKind::ServerError,
    };
    Failure::new(
        SCHEME,
        kind,
        None,
        format!("{operation} {}: {error}", path.display()),
    )
}

fn path_of(bucket: &str, key: &str) -> std::result::Result<PathBuf, Failure> {
    let bad = key.is_empty()
        || key.contains('\0')
        || key
            .split('/')
            .any(|segment| segment.is_empty() || segment == "." || segment == "..");
    if bad {
        return Err(Failure::new(
            SCHEME,
            FailureKind::BadRequest,
            None,
            format!("{key:?} is not a key of this store"),
        ));
    }
    Ok(Path::new(bucket).join(key))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, Failure> + Send + 'static,
) -> std::result::Result<T, Failure> {
    tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
        Err(Failure::new(
            SCHEME,
            FailureKind::ServerError,
            None,
            format!("file task failed: {e}"),
        ))
    })
}

/// Creates `dir` and its missing parents, fsyncing each parent that gained an entry.
fn create_dirs(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_dirs(parent)?;
    }
    match fs::create_dir(dir) {
        Ok(()) => {
            if let Some(parent) = dir.parent() {
                File::open(parent)?.sync_all()?;
            }
            Ok(())
        }
        Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

fn staged_name() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u32(std::process::id());
    format!("{STAGED}{:016x}", hasher.finish())
}

fn put_file(path: &Path, body: &[u8], mode: PutMode) -> std::io::Result<PutOutcome> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    create_dirs(dir)?;
    let staged = dir.join(staged_name());
    let result = (|| {
        let mut file = File::options().write(true).create_new(true).open(&staged)?;
        file.write_all(body)?;
        file.sync_all()?;
        let outcome = match mode {
            PutMode::Overwrite => {
                fs::rename(&staged, path)?;
                PutOutcome::Created
            }
            PutMode::CreateOnly => match fs::hard_link(&staged, path) {
                Ok(()) => PutOutcome::Created,
                Err(e) if e.kind() == ErrorKind::AlreadyExists => PutOutcome::AlreadyExists,
                Err(e) => return Err(e),
            },
        };
        File::open(dir)?.sync_all()?;
        Ok(outcome)
    })();
    // After a rename there is nothing left to remove; after a link, or a failure, the name is.
    match fs::remove_file(&staged) {
        Err(e) if e.kind() != ErrorKind::NotFound => {
            tracing::warn!(path = %staged.display(), error = %e, "could not remove a staged file");
        }
        _ => {}
    }
    result
}

/// Opens a regular file for reading; `None` when there is none.
fn open_regular(path: &Path) -> std::io::Result<Option<File>> {
    match File::open(path) {
        Ok(file) => {
            if !file.metadata()?.is_file() {
                return Err(std::io::Error::new(
                    ErrorKind::InvalidInput,
                    "not a regular file",
                ));
            }
            Ok(Some(file))
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every key under `dir` (relative to `root`), depth first.
fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(STAGED) {
            continue;
        }
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(root, &path, out)?;
        } else if kind.is_file()
            && let Ok(relative) = path.strip_prefix(root)
            && let Some(key) = relative.to_str()
        {
            out.push(key.replace(std::path::MAIN_SEPARATOR, "/"));
        }
    }
    Ok(())
}

#[async_trait]
impl ObjectStore for LocalStore {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation> {
        let directory = uri.file_directory()?;
        Ok(ObjectLocation::new(SCHEME, directory, ""))
    }

    async fn validate_bucket(&self, location: &ObjectLocation) -> Result<()> {
        let dir = PathBuf::from(location.bucket());
        blocking(move || {
            create_dirs(&dir).map_err(|e| failure("create directory", &dir, &e))?;
            let probe = dir.join(staged_name());
            File::create(&probe)
                .and_then(|_| fs::remove_file(&probe))
                .map_err(|e| failure("write in", &dir, &e))
        })
        .await
        .map_err(|f| match f.kind() {
            FailureKind::AccessDenied | FailureKind::BadRequest => Error::InvalidUri {
                uri: location.describe(""),
                reason: f.to_string(),
            },
            _ => f.into_core("validate directory", &location.describe("")),
        })
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        mode: PutMode,
    ) -> std::result::Result<PutOutcome, Failure> {
        let path = path_of(bucket, key)?;
        blocking(move || put_file(&path, &body, mode).map_err(|e| failure("write", &path, &e)))
            .await
    }

    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure> {
        let path = path_of(bucket, key)?;
        blocking(move || {
            (|| {
                let Some(mut file) = open_regular(&path)? else {
                    return Ok(None);
                };
                let mut bytes = Vec::new();
                file.read_to_end(&mut bytes)?;
                Ok(Some(Bytes::from(bytes)))
            })()
            .map_err(|e| failure("read", &path, &e))
        })
        .await
    }

    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: u64,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        let path = path_of(bucket, key)?;
        blocking(move || {
            (|| {
                let Some(mut file) = open_regular(&path)? else {
                    return Ok(None);
                };
                file.seek(SeekFrom::Start(offset))?;
                let mut bytes = Vec::new();
                file.take(len).read_to_end(&mut bytes)?;
                Ok(Some(Bytes::from(bytes)))
            })()
            .map_err(|e| failure("read", &path, &e))
        })
        .await
    }

    async fn exists(&self, bucket: &str, key: &str) -> std::result::Result<bool, Failure> {
        let path = path_of(bucket, key)?;
        blocking(move || {
            open_regular(&path)
                .map(|file| file.is_some())
                .map_err(|e| failure("open", &path, &e))
        })
        .await
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        _page: Option<String>,
    ) -> std::result::Result<ListPage, Failure> {
        let root = PathBuf::from(bucket);
        let (prefix, start_after) = (prefix.to_owned(), start_after.map(str::to_owned));
        blocking(move || {
            // Walk only the directory the prefix names.
            let dir = match prefix.rfind('/') {
                Some(at) => root.join(&prefix[..at]),
                None => root.clone(),
            };
            let mut keys = Vec::new();
            walk(&root, &dir, &mut keys).map_err(|e| failure("list", &dir, &e))?;
            keys.retain(|k| {
                k.starts_with(&prefix)
                    && start_after
                        .as_deref()
                        .is_none_or(|after| k.as_str() > after)
            });
            keys.sort();
            Ok(ListPage { keys, next: None })
        })
        .await
    }

    async fn delete(&self, bucket: &str, keys: &[String]) -> std::result::Result<(), Failure> {
        let paths = keys
            .iter()
            .map(|key| path_of(bucket, key))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        blocking(move || {
            for path in paths {
                match fs::remove_file(&path) {
                    Err(e) if e.kind() != ErrorKind::NotFound => {
                        return Err(failure("delete", &path, &e));
                    }
                    _ => {}
                }
            }
            Ok(())
        })
        .await
    }
}
