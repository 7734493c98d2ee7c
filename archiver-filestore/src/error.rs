//! Mapping file-system errors to core's error kinds.

use std::io;
use std::path::Path;

use archiver_core::Error;

/// The provider name carried by backend errors.
pub(crate) const PROVIDER: &str = "file";

/// Whether retrying an operation that failed with `err` can help.
///
/// Only transient conditions are: an interrupted or would-block call, a timeout. A full disk,
/// an I/O error, a missing permission or a read-only file system need an operator.
pub(crate) fn is_transient(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::Interrupted | io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// A core [`Error::Backend`] for `operation` on `path`.
pub(crate) fn io_error(operation: &str, path: &Path, err: io::Error) -> Error {
    let retryable = is_transient(&err);
    Error::backend(
        PROVIDER,
        format!("{operation} {}", path.display()),
        err,
        retryable,
    )
}

/// A core error for a failure of [`open_regular`](crate::fsio::open_regular) on the stored file
/// `path`: a special file in its place is [`Error::Corrupted`] naming it (it is not what we
/// stored), any other failure [`Error::Backend`].
pub(crate) fn open_error(path: &Path, err: io::Error) -> Error {
    if err.kind() == io::ErrorKind::InvalidData {
        Error::corrupted(path.display().to_string(), err.to_string())
    } else {
        io_error("open", path, err)
    }
}

/// A core error for a blocking task that panicked or was cancelled.
pub(crate) fn join_error(operation: &str, err: tokio::task::JoinError) -> Error {
    Error::backend(PROVIDER, operation.to_owned(), err, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classification_follows_the_io_kind() {
        let path = Path::new("/archive/x");
        let transient = io_error("write", path, io::ErrorKind::Interrupted.into());
        assert!(transient.is_retryable());
        for kind in [
            io::ErrorKind::StorageFull,
            io::ErrorKind::PermissionDenied,
            io::ErrorKind::ReadOnlyFilesystem,
            io::ErrorKind::Other,
        ] {
            assert!(
                !io_error("write", path, kind.into()).is_retryable(),
                "{kind:?}"
            );
        }
        let enospc = io::Error::from_raw_os_error(28);
        assert!(!io_error("write", path, enospc).is_retryable());
    }

    #[test]
    fn message_names_operation_and_path() {
        let err = io_error(
            "write blob",
            Path::new("/archive/x"),
            io::ErrorKind::Other.into(),
        );
        let text = err.to_string();
        assert!(text.contains("write blob /archive/x"), "{text}");
        assert!(text.starts_with("file backend error"), "{text}");
    }
}
