//! Where things live under an archive root (`file:///root`): see the crate docs for the tree.

use std::path::{Path, PathBuf};

use archiver_core::{ArchiveUri, Error, Result, check_scheme};

use crate::naming::id_segment;

/// The provider's URI scheme.
pub(crate) const SCHEME: &str = "file";
/// The layout version directory under the root; a future incompatible layout gets `v3/`.
/// (`v1/` held visibility records without a checksum; it is not read.)
pub(crate) const LAYOUT_DIR: &str = "v2";
/// History archives live under `v2/history/`.
const HISTORY_DIR: &str = "history";
/// Visibility records live under `v2/visibility/`.
const VISIBILITY_DIR: &str = "visibility";
/// Extension of history archives.
const HISTORY_EXT: &str = ".hist";

/// The archive root of a `file://` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    /// The directory the URI names.
    root: PathBuf,
}

impl Layout {
    /// Checks the URI (scheme `file`, no host, an absolute non-empty path) and returns its layout.
    pub(crate) fn from_uri(uri: &ArchiveUri) -> Result<Self> {
        check_scheme(SCHEME, uri)?;
        let invalid = |reason: &str| Error::InvalidUri {
            uri: uri.redacted(),
            reason: reason.to_owned(),
        };
        if !matches!(uri.hostname(), "" | "localhost") {
            return Err(invalid(
                "a file URI names a local directory: use file:///absolute/path (no host)",
            ));
        }
        let path = uri.path();
        if path.is_empty() {
            return Err(invalid("directory path is empty"));
        }
        if !path.starts_with('/') {
            return Err(invalid("directory path must be absolute"));
        }
        if path.contains('\0') {
            return Err(invalid("directory path contains NUL"));
        }
        Ok(Self {
            root: PathBuf::from(path),
        })
    }

    /// The directory the URI names.
    pub(crate) fn root(&self) -> &Path {
        &self.root
    }

    /// `<root>/v2/history/<ns>`: a namespace's histories, a directory per workflow.
    pub(crate) fn history_namespace_dir(&self, namespace_id: &str) -> PathBuf {
        self.root
            .join(LAYOUT_DIR)
            .join(HISTORY_DIR)
            .join(id_segment(namespace_id))
    }

    /// `<root>/v2/history/<ns>/<workflow>`: a workflow's histories, a directory per run.
    pub(crate) fn workflow_dir(&self, namespace_id: &str, workflow_id: &str) -> PathBuf {
        self.history_namespace_dir(namespace_id)
            .join(id_segment(workflow_id))
    }

    /// `<root>/v2/history/<ns>/<workflow>/<run>`: the archives of one run, one file per version.
    pub(crate) fn run_dir(&self, namespace_id: &str, workflow_id: &str, run_id: &str) -> PathBuf {
        self.workflow_dir(namespace_id, workflow_id)
            .join(id_segment(run_id))
    }

    /// `<root>/v2/visibility/<ns>`: a namespace's records, in day directories.
    pub(crate) fn visibility_dir(&self, namespace_id: &str) -> PathBuf {
        self.root
            .join(LAYOUT_DIR)
            .join(VISIBILITY_DIR)
            .join(id_segment(namespace_id))
    }
}

/// `<version>.hist`.
pub(crate) fn history_file_name(close_failover_version: i64) -> String {
    format!("{close_failover_version}{HISTORY_EXT}")
}

/// The version of a history archive file name; `None` for any other name (temp files included).
pub(crate) fn parse_history_file_name(name: &str) -> Option<i64> {
    let version = name.strip_suffix(HISTORY_EXT)?;
    let parsed: i64 = version.parse().ok()?;
    // Only the canonical spelling ("+5" or "05" are not ours).
    (parsed.to_string() == version).then_some(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(uri: &str) -> Result<Layout> {
        Layout::from_uri(&ArchiveUri::parse(uri).unwrap())
    }

    #[test]
    fn accepts_absolute_paths_only() {
        assert_eq!(
            layout("file:///var/archive").unwrap().root(),
            Path::new("/var/archive")
        );
        assert!(layout("file://localhost/var/archive").is_ok());
        assert!(matches!(layout("file://"), Err(Error::InvalidUri { .. })));
        assert!(matches!(
            layout("file://relative/path"),
            Err(Error::InvalidUri { .. })
        ));
        assert!(matches!(
            layout("s3://bucket/path"),
            Err(Error::SchemeMismatch { .. })
        ));
    }

    #[test]
    fn ids_never_escape_the_root() {
        let layout = layout("file:///archive").unwrap();
        let dir = layout.run_dir("../..", "/etc/passwd", "a\0b");
        assert!(dir.starts_with("/archive/v2/history/"));
        assert_eq!(dir.components().count(), 7, "{}", dir.display());
        assert_eq!(
            Some(layout.workflow_dir("../..", "/etc/passwd").as_path()),
            dir.parent()
        );
        assert_eq!(
            Some(layout.history_namespace_dir("../..").as_path()),
            dir.parent().and_then(Path::parent)
        );
        assert!(dir.components().all(|c| matches!(
            c,
            std::path::Component::RootDir | std::path::Component::Normal(_)
        )));
        let vis = layout.visibility_dir("..");
        assert!(vis.starts_with("/archive/v2/visibility/"));
        assert_eq!(vis.components().count(), 5);
    }

    #[test]
    fn history_names_round_trip() {
        for version in [0, 5, -3, i64::MAX, i64::MIN] {
            assert_eq!(
                parse_history_file_name(&history_file_name(version)),
                Some(version)
            );
        }
        for stray in [
            "5",
            "5.hist.tmp",
            ".tmp-5-1-2-3",
            "+5.hist",
            "05.hist",
            "x.hist",
        ] {
            assert_eq!(parse_history_file_name(stray), None, "{stray}");
        }
    }
}
