//! The workflow-id index of visibility records (index version 1): an empty pointer file per
//! record, so `WorkflowId = '...'` lists one small directory instead of every day.
//!
//! ```text
//! <ns>/by-workflow/COMPLETE-v1                                  marker (see below)
//! <ns>/by-workflow/<2 hex>/<32 hex digest of workflow id>_<record file name>
//! ```
//! The shard (`<2 hex>`) is the digest's first byte: 256 directories whatever the number of
//! workflows, so a record costs no new directory once its shard exists. A pointer names the
//! record's file; its day directory follows from the close time in that name. A pointer is
//! created before its record is renamed into place, and both directories are fsynced before
//! `archive` returns. A pointer whose record is missing (a crash between the two, a removed
//! record) is skipped; a stray name is ignored; records read through pointers are checked
//! against their names and the whole filter like any other.
//!
//! The marker is written by the writer that creates the namespace directory: it says every
//! record of the namespace has its pointer. Namespaces without it (written before the index
//! existed, or whose creator crashed before writing it) are queried by scanning day directories.

use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::fsio::{self, Modes};
use crate::naming::{digest_parts, hex};

use super::visname::VisName;

/// The index directory inside a namespace directory.
pub(crate) const INDEX_DIR: &str = "by-workflow";
/// The marker saying every record of the namespace has a pointer (index version 1).
const COMPLETE_MARKER: &str = "COMPLETE-v1";

/// 32 hex digits of the workflow id's digest.
fn workflow_digest(workflow_id: &str) -> String {
    hex(&digest_parts(&[workflow_id])[..16])
}

/// The shard directory of a workflow id's pointers.
pub(crate) fn shard_dir(namespace_dir: &Path, workflow_id: &str) -> PathBuf {
    let digest = workflow_digest(workflow_id);
    namespace_dir.join(INDEX_DIR).join(&digest[..2])
}

/// The pointer file name of a record.
pub(crate) fn pointer_name(workflow_id: &str, record_file: &str) -> String {
    format!("{}_{record_file}", workflow_digest(workflow_id))
}

/// Whether the namespace's records all have pointers.
pub(crate) fn is_complete(namespace_dir: &Path) -> bool {
    namespace_dir
        .join(INDEX_DIR)
        .join(COMPLETE_MARKER)
        .is_file()
}

/// Creates the namespace directory when missing; the writer that creates it also writes the
/// marker (every record it will hold gets a pointer). Blocking.
pub(crate) fn ensure_namespace(namespace_dir: &Path, modes: Modes) -> io::Result<()> {
    if namespace_dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = namespace_dir.parent() {
        fsio::create_dir_all(parent, modes.dir)?;
    }
    match fs::DirBuilder::new().mode(modes.dir).create(namespace_dir) {
        Ok(()) => {}
        // Another writer created it: it writes the marker.
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => return Ok(()),
        Err(err) => return Err(err),
    }
    fs::set_permissions(namespace_dir, fs::Permissions::from_mode(modes.dir))?;
    let index = namespace_dir.join(INDEX_DIR);
    fsio::create_dir_all(&index, modes.dir)?;
    fsio::create_empty(&index.join(COMPLETE_MARKER), modes.file)?;
    fsio::sync_dir(&index)?;
    if let Some(parent) = namespace_dir.parent() {
        fsio::sync_dir(parent)?;
    }
    Ok(())
}

/// The record file names the pointers of `workflow_id` name, with the names parsed. A missing
/// shard has none. Blocking.
pub(crate) fn lookup(
    namespace_dir: &Path,
    workflow_id: &str,
) -> io::Result<Vec<(String, VisName)>> {
    let prefix = format!("{}_", workflow_digest(workflow_id));
    let entries = match fs::read_dir(shard_dir(namespace_dir, workflow_id)) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(record_file) = name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue; // another workflow's pointer, a temp file or a stray
        };
        if let Some(parsed) = VisName::parse(record_file) {
            out.push((record_file.to_owned(), parsed));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::visibility::visname::Indexed;

    const MODES: Modes = Modes {
        file: 0o640,
        dir: 0o750,
    };

    fn name(workflow_id: &str, run_id: &str) -> String {
        VisName::new(Indexed {
            namespace_id: "ns",
            workflow_id,
            run_id,
            workflow_type: "t",
            close_time: "2024-05-06T00:00:00Z".parse().unwrap(),
            start_time: "2024-05-05T00:00:00Z".parse().unwrap(),
            status: 2,
        })
        .file_name()
    }

    #[test]
    fn pointers_are_found_by_workflow_and_strays_ignored() {
        let root = tempfile::tempdir().unwrap();
        let ns = root.path().join("ns");
        ensure_namespace(&ns, MODES).unwrap();
        assert!(is_complete(&ns));
        for (wf, run) in [("wf/1", "a"), ("wf/1", "b"), ("wf-2", "c")] {
            let shard = shard_dir(&ns, wf);
            fsio::create_dir_all(&shard, MODES.dir).unwrap();
            fsio::create_empty(&shard.join(pointer_name(wf, &name(wf, run))), MODES.file).unwrap();
        }
        let shard = shard_dir(&ns, "wf/1");
        fs::write(shard.join("junk"), b"").unwrap();
        fs::write(
            shard.join(format!("{}_junk.vis", workflow_digest("wf/1"))),
            b"",
        )
        .unwrap();
        let mut found: Vec<_> = lookup(&ns, "wf/1")
            .unwrap()
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        found.sort();
        let mut expected = vec![name("wf/1", "a"), name("wf/1", "b")];
        expected.sort();
        assert_eq!(found, expected);
        assert!(lookup(&ns, "nobody").unwrap().is_empty());
        assert!(shard.starts_with(ns.join(INDEX_DIR)));
    }

    #[test]
    fn only_the_namespace_creator_marks_it_complete() {
        let root = tempfile::tempdir().unwrap();
        let old = root.path().join("old");
        fs::create_dir(&old).unwrap();
        ensure_namespace(&old, MODES).unwrap();
        assert!(
            !is_complete(&old),
            "records written before the index have no pointers"
        );
    }
}
