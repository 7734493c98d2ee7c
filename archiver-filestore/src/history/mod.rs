//! [`FilestoreHistoryArchiver`]: streams histories into `.hist` files.
//!
//! The history half of the provider: this module holds the archiver, [`histfile`] the `.hist`
//! format (writer, reader). It uses the crate's shared modules (`fsio`, `layout`, `naming`,
//! `task`, `validate`, `config`, `error`) and nothing of `visibility`.

mod histfile;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use archiver_core::history::{
    ArchiveRun, HistoryPager, Put, StagedArchive, archive_staged, decode_batches_at,
};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, DEFAULT_TARGET_BLOB_SIZE, Error,
    GetHistoryRequest, GetHistoryResponse, HistoryArchiver, HistoryBlob, HistorySource, Result,
};
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::config::{self, FilestoreConfig};
use crate::dirsync::{DirSyncs, Ticket};
use crate::error::io_error;
use crate::fsio::{self, Modes};
use crate::layout::{self, Layout, SCHEME};
use crate::task::blocking;
use histfile::{BlobMeta, HistReader, HistWriter, Identity};

/// Where an archive in progress stands: the staged file in the run directory and how much of
/// it is durable.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// The staged file's name in the run directory.
    temp: String,
    /// Bytes of the staged file made durable.
    len: u64,
}

/// The `file://` [`HistoryArchiver`].
///
/// One archive per (namespace, workflow, run, close failover version), written as a `.hist`
/// file (see the crate docs for the layout and guarantees).
#[derive(Debug)]
pub struct FilestoreHistoryArchiver {
    source: Arc<dyn HistorySource>,
    modes: Modes,
    target_blob_size: usize,
    blob_writes: AtomicU64,
    /// Directory fsyncs shared by this archiver's concurrent archives.
    dir_syncs: Arc<DirSyncs>,
}

impl FilestoreHistoryArchiver {
    /// An archiver reading histories from `source`, with default modes (files `0o666`,
    /// directories `0o766`, as Temporal) and 2 MiB blobs.
    pub fn new(source: Arc<dyn HistorySource>) -> Self {
        Self::with_config(source, &config::default_config())
    }

    /// An archiver with the file and directory modes of `config`.
    pub fn with_config(source: Arc<dyn HistorySource>, config: &FilestoreConfig) -> Self {
        Self {
            source,
            modes: config::modes(config),
            target_blob_size: DEFAULT_TARGET_BLOB_SIZE,
            blob_writes: AtomicU64::new(0),
            dir_syncs: Arc::default(),
        }
    }

    /// Cut blobs of at least `bytes` (default 2 MiB). Memory use while archiving is about one
    /// blob.
    pub fn with_target_blob_size(mut self, bytes: usize) -> Self {
        self.target_blob_size = bytes;
        self
    }

    /// How many blobs this archiver has written (a resumed archive writes none twice).
    pub fn blob_writes(&self) -> u64 {
        self.blob_writes.load(Ordering::Relaxed)
    }

    async fn archive_run(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        let layout = Layout::from_uri(uri)?;
        request.validate()?;
        let identity = Identity {
            namespace_id: request.namespace_id.clone(),
            workflow_id: request.workflow_id.clone(),
            run_id: request.run_id.clone(),
            close_failover_version: request.close_failover_version,
        };
        let dir = layout.run_dir(
            &identity.namespace_id,
            &identity.workflow_id,
            &identity.run_id,
        );
        let staging = Staging {
            dir,
            parent_dirs: [
                layout.workflow_dir(&identity.namespace_id, &identity.workflow_id),
                layout.history_namespace_dir(&identity.namespace_id),
            ],
            identity,
            modes: self.modes,
            dir_syncs: Arc::clone(&self.dir_syncs),
            runtime: tokio::runtime::Handle::current(),
        };
        let (dir, identity) = (&staging.dir, &staging.identity);
        let target = dir.join(layout::history_file_name(identity.close_failover_version));
        if !identity.fits_header() {
            // The reader refuses such headers: archiving would succeed and never read back.
            return Err(Error::invalid_request(
                "workflow_id",
                format!(
                    "the ids take more than {} bytes as JSON (a .hist header's limit)",
                    histfile::format::MAX_IDENTITY
                ),
            ));
        }
        let archived = {
            let (target, staging) = (target.clone(), staging.clone());
            // Only a missing archive, or another run's (never served, see `get_page`), is
            // written; an archive that cannot be read is reported, not silently rewritten.
            blocking("check archive", move || match HistReader::open(&target) {
                Ok(reader) if reader.identity() == &staging.identity => {
                    // Every blob: "archived" must mean it reads back (a retry is rare, and
                    // reading the archive costs about what writing it did).
                    reader.verify()?;
                    // And that it is durable: the attempt that renamed it may still be
                    // fsyncing its directories, or may have failed to.
                    let parents = staging.sync_parents();
                    staging
                        .make_durable(parents)
                        .map_err(|err| io_error("make durable", &target, err))?;
                    // Stale files of killed attempts are cleaned here too, as on every commit:
                    // the archive may have been committed by another attempt.
                    fsio::remove_stale_temps(&staging.dir);
                    Ok(true)
                }
                Ok(_) => Ok(false),
                Err(Error::NotFound { .. }) => Ok(false),
                Err(err) => Err(err),
            })
            .await?
        };
        if archived {
            return Ok(()); // this run and version is archived already: idempotent
        }
        let binding = [
            SCHEME,
            &layout.root().to_string_lossy(),
            &request.namespace_id,
            &request.workflow_id,
            &request.run_id,
            &request.close_failover_version.to_string(),
        ];
        let stage = Stage {
            archiver: self,
            staging,
            target,
            writer: None,
            in_flight: None,
        };
        let run = ArchiveRun::new(
            Arc::clone(&self.source),
            request,
            options,
            self.target_blob_size,
        );
        archive_staged(stage, run, &binding).await
    }

    async fn get_page(
        &self,
        uri: &ArchiveUri,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        let layout = Layout::from_uri(uri)?;
        request.validate()?;
        let pager = HistoryPager::new(request)?;
        let dir = layout.run_dir(&request.namespace_id, &request.workflow_id, &request.run_id);
        let version = pager.version();
        let request = request.clone();
        blocking("read archive", move || {
            let version = match version {
                Some(version) => version,
                None => highest_version(&dir, &request)?,
            };
            let path = dir.join(layout::history_file_name(version));
            let reader = HistReader::open(&path)?;
            let expected = Identity {
                namespace_id: request.namespace_id.clone(),
                workflow_id: request.workflow_id.clone(),
                run_id: request.run_id.clone(),
                close_failover_version: version,
            };
            if reader.identity() != &expected {
                return Err(Error::corrupted(
                    path.display().to_string(),
                    "the archive belongs to another workflow run or version",
                ));
            }
            read_page(&reader, &path, pager, version)
        })
        .await
    }
}

/// One archive attempt: a staged file in the run directory, created with the first blob (a
/// skipped history leaves nothing behind).
struct Stage<'a> {
    archiver: &'a FilestoreHistoryArchiver,
    staging: Staging,
    /// The `.hist` file the commit renames the staged file to.
    target: PathBuf,
    /// The staged file, when no write is in flight.
    writer: Option<Staged>,
    /// A blob being written on the blocking pool.
    in_flight: Option<tokio::task::JoinHandle<Result<Staged>>>,
}

impl StagedArchive for Stage<'_> {
    type Checkpoint = Checkpoint;

    async fn resume(&mut self, checkpoint: Checkpoint) -> Result<bool> {
        if !fsio::is_temp_name(&checkpoint.temp) || checkpoint.temp.contains('/') {
            return Ok(false);
        }
        let temp = self.staging.dir.join(&checkpoint.temp);
        let identity = self.staging.identity.clone();
        let reopened = blocking("resume staged archive", move || {
            Ok(HistWriter::reopen(&temp, &identity, checkpoint.len)
                .map_err(|reason| (temp, reason)))
        })
        .await?;
        match reopened {
            // The directories exist (an earlier attempt made them, maybe not durably).
            Ok(writer) => {
                self.writer = Some(Staged {
                    writer,
                    parents: self.staging.sync_parents(),
                    fresh_dir: false,
                });
                Ok(true)
            }
            Err((temp, reason)) => {
                tracing::warn!(path = %temp.display(), %reason, "cannot resume the staged archive, starting over");
                Ok(false)
            }
        }
    }

    /// Without `durable`, blob `n` is written on the blocking pool while the source is read and
    /// blob `n + 1` encoded: at most two blobs are in memory. With it, the blob is written and
    /// fsynced before this returns, so a resumed archive never writes a blob twice.
    async fn put(&mut self, blob: HistoryBlob, durable: bool) -> Result<Put> {
        self.settle().await?;
        let current = self.writer.take();
        let staging = self.staging.clone();
        self.in_flight = Some(tokio::task::spawn_blocking(move || {
            let writer = match current {
                Some(writer) => writer,
                None => staging.create()?,
            };
            append(writer, blob, durable)
        }));
        if durable {
            self.settle().await?;
        }
        Ok(Put::Staged)
    }

    fn checkpoint(&self) -> Checkpoint {
        let writer = self.writer.as_ref().map(|staged| &staged.writer);
        Checkpoint {
            // No writer (never after a durable put): a name `resume` refuses.
            temp: writer
                .and_then(|w| w.temp_path().file_name())
                .and_then(|n| n.to_str())
                .unwrap_or_default()
                .to_owned(),
            len: writer.map_or(0, HistWriter::len),
        }
    }

    async fn commit(mut self, only: Option<HistoryBlob>) -> Result<()> {
        self.settle().await?;
        let (writer, staging, target) = (self.writer.take(), self.staging, self.target);
        let one_blob = only.is_some();
        blocking("commit archive", move || {
            let mut staged = match writer {
                Some(staged) => staged,
                None => staging.create()?,
            };
            if let Some(blob) = only {
                staged = append(staged, blob, false)?;
            }
            let Staged {
                writer,
                parents,
                fresh_dir,
            } = staged;
            let temp = writer.temp_path().to_owned();
            writer
                .finish(&target)
                .map_err(|err| io_error("commit archive", &temp, err))?;
            staging
                .make_durable(parents)
                .map_err(|err| io_error("commit archive", &target, err))?;
            if !fresh_dir {
                fsio::remove_stale_temps(&staging.dir);
            }
            Ok(())
        })
        .await?;
        if one_blob {
            self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn abandon(mut self) {
        // A failed write took its staged file with it (`append`).
        let _ = self.settle().await;
        if let Some(staged) = self.writer.take() {
            let _ = blocking("discard staged archive", move || {
                staged.writer.abandon();
                Ok(())
            })
            .await;
        }
    }
}

impl Stage<'_> {
    /// Waits for the blob write in flight, if any, and takes its writer back.
    async fn settle(&mut self) -> Result<()> {
        if let Some(write) = self.in_flight.take() {
            let staged = write
                .await
                .map_err(|err| crate::error::join_error("write blob", err))??;
            self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
            self.writer = Some(staged);
        }
        Ok(())
    }
}

/// What a new staged file needs: where, for whom, with which modes, and the directory fsyncs
/// its commit shares.
#[derive(Debug, Clone)]
struct Staging {
    /// The run directory.
    dir: PathBuf,
    /// The workflow directory and the namespace directory, whose entries (the run's, the
    /// workflow's) the archive needs durable.
    parent_dirs: [PathBuf; 2],
    identity: Identity,
    modes: Modes,
    dir_syncs: Arc<DirSyncs>,
    /// Where [`Staging::sync_parents`] runs its fsyncs.
    runtime: tokio::runtime::Handle,
}

/// A staged file, and the fsyncs making the entries of [`Staging::parent_dirs`] durable,
/// running beside its writing.
#[derive(Debug)]
struct Staged {
    writer: HistWriter,
    parents: ParentSyncs,
    /// Whether this archive made the run directory: then no killed writer left files there.
    fresh_dir: bool,
}

/// The fsyncs of [`Staging::sync_parents`], run by a task on the blocking pool, or by
/// [`ParentSyncs::wait`] when that task has not started yet (the pool may be full of callers
/// waiting, each for its own task).
#[derive(Debug)]
struct ParentSyncs(Arc<(Mutex<ParentState>, Condvar)>);

#[derive(Debug)]
enum ParentState {
    Pending(Vec<Ticket>),
    Running,
    Done(std::io::Result<()>),
}

impl ParentSyncs {
    /// Starts redeeming `tickets` in order on `runtime`'s blocking pool.
    fn start(runtime: &tokio::runtime::Handle, tickets: Vec<Ticket>) -> Self {
        let shared = Arc::new((Mutex::new(ParentState::Pending(tickets)), Condvar::new()));
        let task = Arc::clone(&shared);
        runtime.spawn_blocking(move || {
            let (state, done) = &*task;
            let tickets = {
                let mut guard = lock(state);
                match std::mem::replace(&mut *guard, ParentState::Running) {
                    ParentState::Pending(tickets) => tickets,
                    // The waiter took them and runs them.
                    other => {
                        *guard = other;
                        return;
                    }
                }
            };
            let outcome = redeem_all(tickets);
            *lock(state) = ParentState::Done(outcome);
            done.notify_all();
        });
        Self(shared)
    }

    /// Waits for them (blocking), running them here if the task has not started.
    fn wait(self) -> std::io::Result<()> {
        let (state, done) = &*self.0;
        let mut guard = lock(state);
        loop {
            match std::mem::replace(&mut *guard, ParentState::Running) {
                ParentState::Pending(tickets) => {
                    drop(guard);
                    return redeem_all(tickets);
                }
                ParentState::Done(outcome) => return outcome,
                ParentState::Running => {
                    guard = done.wait(guard).unwrap_or_else(PoisonError::into_inner);
                }
            }
        }
    }
}

fn redeem_all(tickets: Vec<Ticket>) -> std::io::Result<()> {
    tickets.into_iter().try_for_each(Ticket::redeem)
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Staging {
    /// A new staged file in the run directory, made with its missing parents (blocking).
    ///
    /// The entries of the new workflow and run directories are made durable by fsyncs that run
    /// beside the writing of the file ([`Staging::sync_parents`]), and that the commit waits for
    /// ([`Staging::make_durable`]). A new namespace directory (or anything above it) is made
    /// durable at once.
    fn create(&self) -> Result<Staged> {
        let failed = |err| io_error("create staged archive in", &self.dir, err);
        let created = fsio::create_dirs(&self.dir, self.modes.dir).map_err(failed)?;
        for made in created.iter().rev() {
            match made.parent() {
                Some(parent) if !self.parent_dirs.iter().any(|p| p == parent) => {
                    self.dir_syncs.sync(parent).map_err(failed)?;
                }
                _ => {}
            }
        }
        let parents = self.sync_parents();
        let tag = self.identity.close_failover_version.to_string();
        let writer =
            HistWriter::create(&self.dir, &tag, &self.identity, self.modes).map_err(failed)?;
        Ok(Staged {
            writer,
            parents,
            fresh_dir: created.last() == Some(&self.dir),
        })
    }

    /// Starts making the entries in [`Staging::parent_dirs`] durable as they are now (this
    /// archive's run directory exists, whoever made it), on the blocking pool: an fsync of the
    /// workflow directory, then of the namespace directory, each one that started after this
    /// call (another archive's, when one did: see [`DirSyncs`]).
    ///
    /// They run beside the writing and fsyncing of the file, instead of after it: the archive
    /// then costs about the file's write, fsync, rename and directory fsync, not those plus two
    /// more directory fsyncs.
    fn sync_parents(&self) -> ParentSyncs {
        let tickets = self
            .parent_dirs
            .iter()
            .map(|dir| self.dir_syncs.ticket(dir))
            .collect();
        ParentSyncs::start(&self.runtime, tickets)
    }

    /// Makes the archive renamed into the run directory durable, with the run directory's and
    /// the workflow directory's entries: an fsync of the run directory, then waits for
    /// `parents`.
    fn make_durable(&self, parents: ParentSyncs) -> std::io::Result<()> {
        self.dir_syncs.sync(&self.dir)?;
        parents.wait()
    }
}

/// Appended bytes after which a blob write also fsyncs when no progress is recorded: the disk
/// then writes the archive while later blobs are encoded, instead of all of it at the final
/// fsync. At one default-size blob (2 MiB), `benches/history.rs` archived 64 MB in 56 ms where
/// 8 MiB took 66 ms (a plain write + fsync of the same bytes: 38 ms).
const SYNC_EVERY: u64 = 2 << 20;

/// Appends `blob` (then drops its bytes); fsyncs when progress will be recorded for it, or
/// when [`SYNC_EVERY`] bytes are not yet durable.
fn append(staged: Staged, blob: HistoryBlob, durable: bool) -> Result<Staged> {
    let Staged {
        mut writer,
        parents,
        fresh_dir,
    } = staged;
    let meta = BlobMeta {
        first_event_id: blob.first_event_id,
        last_event_id: blob.last_event_id,
        event_count: u32::try_from(blob.event_count).unwrap_or(u32::MAX),
        batch_count: u32::try_from(blob.batch_count).unwrap_or(u32::MAX),
    };
    let written = writer.append(&blob.data, meta).and_then(|()| {
        if durable || writer.unsynced() >= SYNC_EVERY {
            writer.sync()
        } else {
            Ok(())
        }
    });
    match written {
        Ok(()) => Ok(Staged {
            writer,
            parents,
            fresh_dir,
        }),
        Err(err) => {
            let temp = writer.temp_path().to_owned();
            writer.abandon();
            Err(io_error("write blob to", &temp, err))
        }
    }
}

/// The highest version archived in `dir`.
fn highest_version(dir: &Path, request: &GetHistoryRequest) -> Result<i64> {
    let not_found = || Error::NotFound {
        what: format!(
            "archived history of workflow {:?} run {:?}",
            request.workflow_id, request.run_id
        ),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Err(not_found()),
        Err(err) => return Err(io_error("list", dir, err)),
    };
    let mut highest = None;
    for entry in entries {
        let entry = entry.map_err(|err| io_error("list", dir, err))?;
        if let Some(version) = entry
            .file_name()
            .to_str()
            .and_then(layout::parse_history_file_name)
        {
            highest = highest.max(Some(version));
        }
    }
    highest.ok_or_else(not_found)
}

/// Fills `pager`'s page from the archive, reading only the blobs the page needs and decoding
/// only the batches it takes.
fn read_page(
    reader: &HistReader,
    path: &Path,
    mut pager: HistoryPager,
    version: i64,
) -> Result<GetHistoryResponse> {
    let blob_count = reader.frames().len();
    let location = path.display().to_string();
    while let Some(blob) = pager.next_blob(blob_count) {
        let data = reader.read_blob(blob)?;
        // One batch per line.
        let lines: Vec<&[u8]> = data
            .split(|&b| b == b'\n')
            .filter(|line| !line.is_empty())
            .collect();
        pager.add_blob(lines.len(), |i| {
            let mut batches = decode_batches_at(lines[i], &location)?;
            match (batches.pop(), batches.is_empty()) {
                (Some(batch), true) => Ok(batch),
                _ => Err(Error::corrupted(&location, "a line that is not one batch")),
            }
        })?;
    }
    pager.finish(version, blob_count)
}

#[async_trait]
impl HistoryArchiver for FilestoreHistoryArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        options.finish(self.archive_run(uri, request, options).await)
    }

    async fn get(
        &self,
        uri: &ArchiveUri,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        self.get_page(uri, request).await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        crate::validate::validate_root(uri, self.modes).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parent_syncs_run_in_the_waiter_when_the_pool_is_full() {
        let root = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(1)
            .build()
            .unwrap();
        // The pool's one thread is taken until released: the task cannot start.
        let (release, held) = std::sync::mpsc::channel::<()>();
        runtime.spawn_blocking(move || held.recv());
        let syncs = Arc::new(DirSyncs::default());
        let parents = ParentSyncs::start(runtime.handle(), vec![syncs.ticket(root.path())]);
        parents.wait().unwrap();
        release.send(()).unwrap();
    }

    #[test]
    fn parent_syncs_report_the_first_failure() {
        let root = tempfile::tempdir().unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let syncs = Arc::new(DirSyncs::default());
        let tickets = vec![
            syncs.ticket(root.path()),
            syncs.ticket(&root.path().join("missing")),
        ];
        let err = ParentSyncs::start(runtime.handle(), tickets)
            .wait()
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    }
}
