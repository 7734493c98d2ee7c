//! [`FilestoreVisibilityArchiver`]: one file per record, named by what queries prune on.
//!
//! The visibility half of the provider: this module holds the archiver; [`visfile`] the bytes
//! of a `.vis` file, [`visname`] record file names (what a query prunes with), [`visindex`] the
//! workflow-id index, [`scan`] pruning and reading candidates, [`visquery`] answering a query.
//! It uses the crate's shared modules (`fsio`, `layout`, `naming`, `task`, `validate`, `config`,
//! `error`) and nothing of `history`.

mod scan;
mod visfile;
mod visindex;
mod visname;
mod visquery;

use archiver_core::visibility::{compile_query, page_of};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use async_trait::async_trait;
use visibility_query::SearchAttributes;

use crate::config::{self, FilestoreConfig};
use crate::error::{PROVIDER, io_error};
use crate::fsio::{self, Modes};
use crate::layout::{Layout, SCHEME};
use crate::task::blocking;
use visname::{Indexed, VisName};

/// The `file://` [`VisibilityArchiver`].
///
/// Each record is one JSON file, written durably (staged, fsynced, renamed, directory fsynced)
/// under a day directory of its close time, with its indexed fields in the file name. A query
/// prunes day directories and names with the filter's [`Plan`](visibility_query::Plan) before
/// opening any file, then checks the candidates it reads with the full filter.
///
/// Archiving a run again replaces its record, also when the indexed fields (and so the file
/// name) changed: the earlier record is removed once the new one is durable. Archives of one
/// run through one archiver (and its clones) take turns for this; two processes archiving
/// one run with different values at the same moment may keep both.
#[derive(Debug, Clone)]
pub struct FilestoreVisibilityArchiver {
    modes: Modes,
    runs: Arc<RunLocks>,
}

/// Locks striped by a run's identity: the archives of one run take turns.
#[derive(Debug)]
struct RunLocks([Mutex<()>; 64]);

impl RunLocks {
    fn of(&self, identity: &str) -> MutexGuard<'_, ()> {
        let stripe = identity.bytes().fold(0usize, |h, b| {
            h.wrapping_mul(31).wrapping_add(usize::from(b))
        });
        self.0[stripe % self.0.len()]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

impl Default for FilestoreVisibilityArchiver {
    fn default() -> Self {
        Self::new()
    }
}

impl FilestoreVisibilityArchiver {
    /// An archiver with default modes (files `0o666`, directories `0o766`, as Temporal).
    pub fn new() -> Self {
        Self::with_config(&config::default_config())
    }

    /// An archiver with the file and directory modes of `config`.
    pub fn with_config(config: &FilestoreConfig) -> Self {
        Self {
            modes: config::modes(config),
            runs: Arc::new(RunLocks(std::array::from_fn(|_| Mutex::new(())))),
        }
    }

    async fn archive_record(&self, uri: &ArchiveUri, record: &VisibilityRecord) -> Result<()> {
        let layout = Layout::from_uri(uri)?;
        record.validate()?;
        let vis_name = VisName::new(indexed(record));
        let name = vis_name.file_name();
        let namespace_dir = layout.visibility_dir(&record.namespace_id);
        let pointer = visindex::pointer_name(&record.workflow_id, &name);
        let shard = visindex::shard_dir(&namespace_dir, &record.workflow_id);
        let dir = namespace_dir.join(visname::day_dir(record.close_time));
        let bytes = visfile::encode(record)
            .map_err(|err| Error::backend(PROVIDER, "encode visibility record", err, false))?;
        let (modes, runs) = (self.modes, Arc::clone(&self.runs));
        let workflow_id = record.workflow_id.clone();
        blocking("write visibility record", move || {
            let _turn = runs.of(&vis_name.identity);
            write_record(&namespace_dir, &shard, &pointer, &dir, &name, &bytes, modes)?;
            remove_replaced(&namespace_dir, &shard, &workflow_id, &vis_name, &name)
        })
        .await
    }
}

/// The directory of a namespace where records are staged before their rename into a day
/// directory. It holds only staged files (in flight, or left by killed writers), so each
/// archive can clean it at little cost; day directories with many records are never listed
/// for cleanup.
pub(crate) const STAGING_DIR: &str = "staging";

/// Writes one record and its workflow-index pointer durably (blocking): the pointer first
/// (a dangling pointer is harmless, a record without one would be missed by `WorkflowId`
/// queries), then the record staged, fsynced and renamed, then both directories fsynced.
fn write_record(
    namespace_dir: &Path,
    shard: &Path,
    pointer: &str,
    dir: &Path,
    name: &str,
    bytes: &[u8],
    modes: Modes,
) -> Result<()> {
    let target = dir.join(name);
    let fail = |what: &str, path: &Path, err| io_error(what, path, err);
    visindex::ensure_namespace(namespace_dir, modes)
        .map_err(|err| fail("create namespace directory", namespace_dir, err))?;
    fsio::create_dir_all(shard, modes.dir).map_err(|err| fail("create directory", shard, err))?;
    let pointer = shard.join(pointer);
    fsio::create_empty(&pointer, modes.file)
        .map_err(|err| fail("write index pointer", &pointer, err))?;
    let staging = namespace_dir.join(STAGING_DIR);
    fsio::stage_and_rename(&staging, dir, name, bytes, modes)
        .map_err(|err| fail("write visibility record", &target, err))?;
    // Concurrent callers' fsyncs share journal commits in the kernel (measured: a user-space
    // round of fsyncs that callers wait on was several times slower than this).
    fsio::sync_dir(shard)
        .and_then(|()| fsio::sync_dir(dir))
        .map_err(|err| fail("commit visibility record", &target, err))?;
    fsio::remove_stale_temps(&staging);
    Ok(())
}

/// Removes the records of the run `ours` names that an earlier archive wrote under another
/// name (other status, type or times), then their pointers (blocking). Found through the
/// workflow index, so records of a namespace written before the index existed stay.
fn remove_replaced(
    namespace_dir: &Path,
    shard: &Path,
    workflow_id: &str,
    ours: &VisName,
    name: &str,
) -> Result<()> {
    let fail = |what: &str, path: &Path, err| io_error(what, path, err);
    let earlier = visindex::lookup(namespace_dir, workflow_id)
        .map_err(|err| fail("look up earlier records in", shard, err))?
        .into_iter()
        .filter(|(file, found)| found.identity == ours.identity && file != name);
    let mut removed = false;
    for (file, found) in earlier {
        let Ok(close) = jiff::Timestamp::from_nanosecond(found.close_nanos) else {
            continue;
        };
        let day = namespace_dir.join(visname::day_dir(close));
        let path = day.join(&file);
        // The record first: a pointer without its record is skipped by readers.
        match std::fs::remove_file(&path) {
            Ok(()) => {
                fsio::sync_dir(&day).map_err(|err| fail("remove replaced record", &path, err))?
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(fail("remove replaced record", &path, err)),
        }
        let pointer = shard.join(visindex::pointer_name(workflow_id, &file));
        match std::fs::remove_file(&pointer) {
            Ok(()) => removed = true,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(fail("remove replaced pointer", &pointer, err)),
        }
    }
    if removed {
        fsio::sync_dir(shard).map_err(|err| fail("remove replaced pointers in", shard, err))?;
    }
    Ok(())
}

/// The fields of `record` its file name carries.
pub(crate) fn indexed(record: &VisibilityRecord) -> Indexed<'_> {
    Indexed {
        namespace_id: &record.namespace_id,
        workflow_id: &record.workflow_id,
        run_id: &record.run_id,
        workflow_type: &record.workflow_type_name,
        close_time: record.close_time,
        start_time: record.start_time,
        status: record.status.as_i32(),
    }
}

#[async_trait]
impl VisibilityArchiver for FilestoreVisibilityArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        options.finish(self.archive_record(uri, record).await)
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        let layout = Layout::from_uri(uri)?;
        let query = compile_query(request, search_attributes)?;
        let plan = query.plan();
        let request = request.clone();
        blocking("query visibility records", move || {
            if plan.is_empty() {
                return page_of(std::iter::empty::<VisibilityRecord>(), &query, &request);
            }
            let namespace_dir = layout.visibility_dir(&request.namespace_id);
            visquery::run(&namespace_dir, &plan, &query, &request)
        })
        .await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        crate::validate::validate_root(uri, self.modes).await
    }
}
