//! [`MemoryHistoryArchiver`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{SCHEME, lock};
use archiver_core::history::{
    HistoryIterator, HistoryPager, IteratorState, RunKey, decode_batches_at,
};
use archiver_core::page_token::fingerprint;
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, DEFAULT_TARGET_BLOB_SIZE, Error,
    GetHistoryRequest, GetHistoryResponse, HistoryArchiver, HistorySource, Result, check_scheme,
};

/// Where one archived run lives: location (the URI), run, close failover version.
type Location = (String, RunKey);

#[derive(Debug, Default)]
struct Store {
    /// Committed archives: location -> version -> blobs. Replaced whole, never in part.
    archives: HashMap<Location, BTreeMap<i64, Arc<Vec<Bytes>>>>,
    /// Blobs of archives in progress, by staging id.
    staging: HashMap<u64, Vec<Bytes>>,
}

/// What a [`ProgressManager`](archiver_core::ProgressManager) holds for a memory archive in progress.
#[derive(Debug, Serialize, Deserialize)]
struct Progress {
    /// Binds the progress to one archive (location, run, version).
    archive: u64,
    staging: u64,
    blobs: usize,
    iterator: IteratorState,
}

/// The in-memory [`HistoryArchiver`].
///
/// Archives stream through [`HistoryIterator`] into a staging area, one blob at a time (with
/// progress recorded after each when a progress manager is given), and are committed in one
/// step at the end: a reader sees no archive or a complete one.
#[derive(Debug)]
pub struct MemoryHistoryArchiver {
    source: Arc<dyn HistorySource>,
    target_blob_size: usize,
    store: Mutex<Store>,
    next_staging: AtomicU64,
    blob_writes: AtomicU64,
}

impl MemoryHistoryArchiver {
    /// An archiver reading histories from `source`, with 2 MiB blobs.
    pub fn new(source: Arc<dyn HistorySource>) -> Self {
        Self::with_target_blob_size(source, DEFAULT_TARGET_BLOB_SIZE)
    }

    /// An archiver cutting blobs of at least `target_blob_size` bytes.
    pub fn with_target_blob_size(source: Arc<dyn HistorySource>, target_blob_size: usize) -> Self {
        MemoryHistoryArchiver {
            source,
            target_blob_size,
            store: Mutex::default(),
            next_staging: AtomicU64::new(1),
            blob_writes: AtomicU64::new(0),
        }
    }

    /// How many blobs were written so far (the conformance suite checks resumes write none
    /// twice).
    pub fn blob_writes(&self) -> u64 {
        self.blob_writes.load(Ordering::Relaxed)
    }

    fn location(uri: &ArchiveUri, run: RunKey) -> Location {
        (uri.to_string(), run)
    }

    /// Loads recorded progress if it belongs to this archive and its staging area still exists.
    async fn resume_point(
        &self,
        options: &ArchiveOptions,
        archive: u64,
    ) -> Result<Option<(u64, IteratorState)>> {
        let Some(manager) = options.progress_manager() else {
            return Ok(None);
        };
        let Some(bytes) = manager.load_progress().await? else {
            return Ok(None);
        };
        // Progress from another provider or archive is ignored, not an error: start over.
        let Ok(progress) = serde_json::from_slice::<Progress>(&bytes) else {
            return Ok(None);
        };
        if progress.archive != archive {
            return Ok(None);
        }
        let mut store = lock(&self.store);
        match store.staging.get_mut(&progress.staging) {
            Some(blobs) if blobs.len() >= progress.blobs => {
                blobs.truncate(progress.blobs);
                Ok(Some((progress.staging, progress.iterator)))
            }
            _ => Ok(None),
        }
    }

    async fn archive_run(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        check_scheme(SCHEME, uri)?;
        request.validate()?;
        let location = Self::location(uri, RunKey::from(request));
        let version = request.close_failover_version;
        let archived = |store: &Store| {
            store
                .archives
                .get(&location)
                .is_some_and(|versions| versions.contains_key(&version))
        };
        if archived(&lock(&self.store)) {
            return Ok(()); // the same run and version is archived already: idempotent
        }
        let archive = fingerprint(&[
            &location.0,
            &location.1.namespace_id,
            &location.1.workflow_id,
            &location.1.run_id,
            &version.to_string(),
        ]);
        let (staging, mut iterator) = match self.resume_point(options, archive).await? {
            Some((staging, state)) => (
                staging,
                HistoryIterator::resume(
                    Arc::clone(&self.source),
                    request,
                    self.target_blob_size,
                    state,
                ),
            ),
            None => {
                let staging = self.next_staging.fetch_add(1, Ordering::Relaxed);
                lock(&self.store).staging.insert(staging, Vec::new());
                let iterator =
                    HistoryIterator::new(Arc::clone(&self.source), request, self.target_blob_size);
                (staging, iterator)
            }
        };
        let result = self
            .write_blobs(&mut iterator, staging, archive, options)
            .await;
        let mut store = lock(&self.store);
        match result {
            Ok(()) => {
                let blobs = store.staging.remove(&staging).unwrap_or_default();
                // A concurrent archive of the same run may have committed first: keep one.
                store
                    .archives
                    .entry(location)
                    .or_default()
                    .entry(version)
                    .or_insert_with(|| Arc::new(blobs));
                Ok(())
            }
            Err(Error::NotFound { .. }) => {
                // The history is gone at the source: nothing to archive.
                store.staging.remove(&staging);
                tracing::info!(workflow_id = %request.workflow_id, run_id = %request.run_id,
                    "history not found at the source, archival skipped");
                Ok(())
            }
            Err(err) => {
                // Keep the staged blobs only when a retry can resume from them.
                if !(err.is_retryable() && options.progress_manager().is_some()) {
                    store.staging.remove(&staging);
                }
                Err(err)
            }
        }
    }

    async fn write_blobs(
        &self,
        iterator: &mut HistoryIterator,
        staging: u64,
        archive: u64,
        options: &ArchiveOptions,
    ) -> Result<()> {
        while let Some(blob) = iterator.next().await? {
            let blobs = {
                let mut store = lock(&self.store);
                let staged = store.staging.entry(staging).or_default();
                staged.push(blob.data);
                staged.len()
            };
            self.blob_writes.fetch_add(1, Ordering::Relaxed);
            if let Some(manager) = options.progress_manager() {
                let progress = Progress {
                    archive,
                    staging,
                    blobs,
                    iterator: iterator.state(),
                };
                let bytes = serde_json::to_vec(&progress)
                    .map_err(|e| Error::backend(SCHEME, "encode progress", e, false))?;
                manager.record_progress(&bytes).await?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl HistoryArchiver for MemoryHistoryArchiver {
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
        check_scheme(SCHEME, uri)?;
        request.validate()?;
        let run = RunKey::new(&request.namespace_id, &request.workflow_id, &request.run_id);
        let mut pager = HistoryPager::new(request)?;
        let not_found = || Error::NotFound {
            what: format!(
                "archived history of workflow {:?} run {:?}",
                run.workflow_id, run.run_id
            ),
        };
        let (version, blobs) = {
            let store = lock(&self.store);
            let versions = store
                .archives
                .get(&Self::location(uri, run.clone()))
                .ok_or_else(not_found)?;
            let found = match pager.version() {
                Some(version) => versions.get_key_value(&version),
                None => versions.last_key_value(),
            };
            let (version, blobs) = found.ok_or_else(not_found)?;
            (*version, Arc::clone(blobs))
        };
        while let Some(blob) = pager.next_blob(blobs.len()) {
            pager.add_batches(decode_batches_at(&blobs[blob], "memory archive")?)?;
        }
        pager.finish(version, blobs.len())
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        check_scheme(SCHEME, uri)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use archiver_core::history::{History, HistoryEvent, MemoryHistorySource};

    async fn archived() -> (MemoryHistoryArchiver, ArchiveUri, GetHistoryRequest) {
        let source = Arc::new(MemoryHistorySource::new());
        let run = RunKey::new("ns", "wf", "run");
        let batches: Vec<History> = (1..=6)
            .map(|id| {
                History::new(vec![HistoryEvent {
                    event_id: id,
                    version: 2,
                    ..Default::default()
                }])
            })
            .collect();
        source.insert(run, batches);
        let archiver = MemoryHistoryArchiver::with_target_blob_size(source, 1);
        let uri: ArchiveUri = "memory://test/a".parse().unwrap();
        let request = ArchiveHistoryRequest {
            namespace_id: "ns".into(),
            namespace: "n".into(),
            workflow_id: "wf".into(),
            run_id: "run".into(),
            next_event_id: 7,
            close_failover_version: 2,
            ..Default::default()
        };
        archiver
            .archive(&uri, &request, &ArchiveOptions::default())
            .await
            .unwrap();
        (archiver, uri, GetHistoryRequest::new("ns", "wf", "run", 4))
    }

    #[tokio::test]
    async fn pages_cross_blob_boundaries_and_tokens_keep_their_version() {
        let (archiver, uri, mut get) = archived().await;
        assert_eq!(
            archiver.blob_writes(),
            6,
            "target 1 byte: one blob per batch"
        );
        let first = archiver.get(&uri, &get).await.unwrap();
        assert_eq!(
            first.history_batches.len(),
            4,
            "a page spans four one-batch blobs"
        );
        get.next_page_token = first.next_page_token;
        get.close_failover_version = Some(3);
        assert!(matches!(
            archiver.get(&uri, &get).await,
            Err(Error::CorruptedToken { .. })
        ));
        get.close_failover_version = Some(2);
        let rest = archiver.get(&uri, &get).await.unwrap();
        assert_eq!(rest.history_batches.len(), 2);
        assert!(rest.next_page_token.is_none());
    }
}
