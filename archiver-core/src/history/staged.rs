//! The archive loop every history provider shares: read the source blob by blob, stage each
//! blob, record progress, commit once; skip a history the source no longer has; keep what a
//! retry can resume from and nothing else.
//!
//! A provider says how it stages ([`StagedArchive`]); [`archive_staged`] does the rest, so the
//! rules of resuming, skipping and cleaning up are written once.

use std::future::Future;
use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use super::{HistoryBlob, HistoryIterator, HistorySource, IteratorState};
use crate::page_token::fingerprint;
use crate::{ArchiveHistoryRequest, ArchiveOptions, Error, Result};

/// What a provider's [`StagedArchive::put`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The blob is staged.
    Staged,
    /// This run and version turned out to be archived already: the archive stops, successfully,
    /// and what was staged is abandoned.
    AlreadyArchived,
}

/// One archive attempt as a provider stages it: blobs put one by one where readers do not look,
/// then made visible in one step by [`commit`](StagedArchive::commit).
///
/// The provider makes the value (that is the "begin": a fresh staging place, after any check it
/// wants up front) and hands it to [`archive_staged`], which calls the methods below.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use archiver_core::history::{
///     ArchiveRun, MemoryHistorySource, Put, RunKey, StagedArchive, archive_staged,
/// };
/// use archiver_core::{ArchiveHistoryRequest, ArchiveOptions, History, HistoryBlob, HistoryEvent, Result};
///
/// /// Stages blobs in a Vec; committing publishes them to `archived`.
/// struct Staging { blobs: Vec<bytes::Bytes>, archived: Arc<Mutex<Vec<bytes::Bytes>>> }
///
/// impl StagedArchive for Staging {
///     type Checkpoint = usize;
///     async fn resume(&mut self, _blobs: usize) -> Result<bool> { Ok(false) } // cannot resume
///     async fn put(&mut self, blob: HistoryBlob, _durable: bool) -> Result<Put> {
///         self.blobs.push(blob.data);
///         Ok(Put::Staged)
///     }
///     fn checkpoint(&self) -> usize { self.blobs.len() }
///     async fn commit(mut self, only: Option<HistoryBlob>) -> Result<()> {
///         self.blobs.extend(only.map(|b| b.data));
///         *self.archived.lock().unwrap() = self.blobs;
///         Ok(())
///     }
///     async fn abandon(self) {}
/// }
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let source = Arc::new(MemoryHistorySource::new());
/// let event = HistoryEvent { event_id: 1, version: 1, ..Default::default() };
/// source.insert(RunKey::new("ns", "wf", "run"), vec![History::new(vec![event])]);
/// let request = ArchiveHistoryRequest {
///     namespace_id: "ns".into(), namespace: "n".into(), workflow_id: "wf".into(),
///     run_id: "run".into(), next_event_id: 2, close_failover_version: 1, ..Default::default()
/// };
/// let archived = Arc::new(Mutex::new(Vec::new()));
/// let stage = Staging { blobs: Vec::new(), archived: archived.clone() };
/// let options = ArchiveOptions::default();
/// let run = ArchiveRun::new(source, &request, &options, 1 << 20);
/// archive_staged(stage, run, &["kv", "ns", "wf", "run", "1"]).await?;
/// assert_eq!(archived.lock().unwrap().len(), 1);
/// # Ok::<(), archiver_core::Error>(()) }).unwrap();
/// ```
pub trait StagedArchive: Send + Sized {
    /// What the provider needs to pick this attempt up again (where its staging is, how much
    /// of it is durable). Recorded through the caller's
    /// [`ProgressManager`](crate::ProgressManager) after every staged blob.
    type Checkpoint: Serialize + DeserializeOwned + Send;

    /// Adopts the staging a previous attempt recorded. `Ok(false)`: it is gone or unusable,
    /// and the archive starts over with this value's own staging.
    fn resume(&mut self, checkpoint: Self::Checkpoint)
    -> impl Future<Output = Result<bool>> + Send;

    /// Stages one blob. With `durable`, the blob is durable when this returns, because a
    /// checkpoint naming it is recorded next; without, the provider may finish writing it
    /// during the next call.
    fn put(&mut self, blob: HistoryBlob, durable: bool)
    -> impl Future<Output = Result<Put>> + Send;

    /// Where this attempt stands, after a `put` with `durable`.
    fn checkpoint(&self) -> Self::Checkpoint;

    /// Makes the staged blobs the archive, in one step readers see whole or not at all. `only`
    /// is the whole history when it is one blob and nothing was staged (the provider may then
    /// write it and commit in one go). Cleaning up after a failed commit is the provider's:
    /// only it knows whether the commit may have landed.
    fn commit(self, only: Option<HistoryBlob>) -> impl Future<Output = Result<()>> + Send;

    /// Removes what was staged, best effort (readers never see it; this only saves storage).
    fn abandon(self) -> impl Future<Output = ()> + Send;
}

/// The history side of one archive call: where blobs come from and how big they are cut.
#[derive(Debug, Clone)]
pub struct ArchiveRun<'a> {
    source: Arc<dyn HistorySource>,
    request: &'a ArchiveHistoryRequest,
    options: &'a ArchiveOptions,
    target_blob_size: usize,
}

impl<'a> ArchiveRun<'a> {
    /// `request`'s history read from `source` in blobs of at least `target_blob_size` bytes,
    /// with `options`' progress manager.
    pub fn new(
        source: Arc<dyn HistorySource>,
        request: &'a ArchiveHistoryRequest,
        options: &'a ArchiveOptions,
        target_blob_size: usize,
    ) -> Self {
        Self {
            source,
            request,
            options,
            target_blob_size,
        }
    }
}

/// What a progress manager holds between attempts: which archive, where the source stands,
/// and the provider's checkpoint.
#[derive(Debug, Serialize, Deserialize)]
struct Progress<C> {
    /// Binds the progress to one archive: progress of another is ignored.
    archive: String,
    iterator: IteratorState,
    staged: C,
}

/// Archives `run`'s history through `stage`: resumes from recorded progress bound to
/// `binding` (the parts naming this archive: provider, location, run, version), stages every
/// blob recording progress after each, and commits.
///
/// A history the source no longer has is skipped (success, nothing kept). On a failure, what
/// was staged is kept only when a retry can resume from it: the error is retryable and progress
/// is being recorded.
pub async fn archive_staged<A: StagedArchive>(
    mut stage: A,
    run: ArchiveRun<'_>,
    binding: &[&str],
) -> Result<()> {
    let manager = run.options.progress_manager();
    let archive = format!("{:016x}", fingerprint(binding));
    let mut resumed = None;
    if let Some(manager) = manager
        && let Some(bytes) = manager.load_progress().await?
        // Progress from another provider or archive is ignored, not an error: start over.
        && let Ok(progress) = serde_json::from_slice::<Progress<A::Checkpoint>>(&bytes)
        && progress.archive == archive
        && stage.resume(progress.staged).await?
    {
        resumed = Some(progress.iterator);
    }
    let mut staged_any = resumed.is_some();
    let mut iterator = match resumed {
        Some(state) => {
            HistoryIterator::resume(run.source, run.request, run.target_blob_size, state)
        }
        None => HistoryIterator::new(run.source, run.request, run.target_blob_size),
    };
    loop {
        let blob = match iterator.next().await {
            Ok(Some(blob)) => blob,
            Ok(None) => return stage.commit(None).await,
            Err(Error::NotFound { .. }) => {
                tracing::info!(workflow_id = %run.request.workflow_id, run_id = %run.request.run_id,
                    "history not found at the source, archival skipped");
                stage.abandon().await;
                return Ok(());
            }
            Err(err) => return Err(give_up(stage, err, run.options).await),
        };
        if blob.is_last && !staged_any {
            return stage.commit(Some(blob)).await;
        }
        match stage.put(blob, manager.is_some()).await {
            Ok(Put::Staged) => staged_any = true,
            Ok(Put::AlreadyArchived) => {
                stage.abandon().await;
                return Ok(());
            }
            Err(err) => return Err(give_up(stage, err, run.options).await),
        }
        if let Some(manager) = manager {
            let progress = Progress {
                archive: archive.clone(),
                iterator: iterator.state(),
                staged: stage.checkpoint(),
            };
            let bytes = serde_json::to_vec(&progress)
                .map_err(|err| Error::backend("archive", "encode progress", err, false))?;
            manager.record_progress(&bytes).await?;
        }
    }
}

/// Abandons the staging unless a retry can resume from it; returns `err`.
async fn give_up<A: StagedArchive>(stage: A, err: Error, options: &ArchiveOptions) -> Error {
    if !(err.is_retryable() && options.progress_manager().is_some()) {
        stage.abandon().await;
    }
    err
}
