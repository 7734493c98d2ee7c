//! `validate_uri`: the URI names a directory we can create and write.

use archiver_core::{ArchiveUri, Error, Result};

use crate::fsio::{self, Modes};
use crate::layout::Layout;
use crate::task::blocking;

/// Checks `uri` (see [`Layout::from_uri`]), then makes sure its directory exists or can be
/// created, and that a file can be written in it (a probe file is created and removed).
/// Failures are [`Error::InvalidUri`] with the reason.
pub(crate) async fn validate_root(uri: &ArchiveUri, modes: Modes) -> Result<()> {
    let layout = Layout::from_uri(uri)?;
    let redacted = uri.redacted();
    blocking("validate URI", move || {
        let root = layout.root();
        let invalid = |what: &str, err: std::io::Error| Error::InvalidUri {
            uri: redacted.clone(),
            reason: format!("{what} {}: {err}", root.display()),
        };
        fsio::create_dir_all(root, modes.dir)
            .map_err(|err| invalid("cannot create directory", err))?;
        let (file, probe) = fsio::create_temp(root, "probe", modes.file)
            .map_err(|err| invalid("cannot write in directory", err))?;
        drop(file);
        std::fs::remove_file(&probe).map_err(|err| invalid("cannot remove a probe file in", err))
    })
    .await
}
