//! [`MemoryHistoryArchiver`].

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{SCHEME, lock};
use archiver_core::history::{
    ArchiveRun, HistoryPager, Put, RunKey, StagedArchive, archive_staged, decode_batches_at,
};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, DEFAULT_TARGET_BLOB_SIZE, Error,
    GetHistoryRequest, GetHistoryResponse, HistoryArchiver, HistoryBlob, HistorySource, Result,
    check_scheme,
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

/// Where a memory archive in progress stands: its staging area and how many blobs it holds.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    staging: u64,
    blobs: usize,
}

/// One archive attempt: blobs staged under `staging` until the commit inserts them whole.
struct Stage<'a> {
    archiver: &'a MemoryHistoryArchiver,
    location: Location,
    version: i64,
    staging: u64,
    blobs: usize,
}

impl StagedArchive for Stage<'_> {
    type Checkpoint = Checkpoint;

    async fn resume(&mut self, checkpoint: Checkpoint) -> Result<bool> {
        let mut store = lock(&self.archiver.store);
        match store.staging.get_mut(&checkpoint.staging) {
            Some(blobs) if blobs.len() >= checkpoint.blobs => {
                blobs.truncate(checkpoint.blobs);
                self.staging = checkpoint.staging;
                self.blobs = checkpoint.blobs;
                Ok(true)
            }
            _ => Ok(false),
        }
    }

    async fn put(&mut self, blob: HistoryBlob, _durable: bool) -> Result<Put> {
        let mut store = lock(&self.archiver.store);
        let staged = store.staging.entry(self.staging).or_default();
        staged.push(blob.data);
        self.blobs = staged.len();
        self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
        Ok(Put::Staged)
    }

    fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            staging: self.staging,
            blobs: self.blobs,
        }
    }

    async fn commit(self, only: Option<HistoryBlob>) -> Result<()> {
        let mut store = lock(&self.archiver.store);
        let mut blobs = store.staging.remove(&self.staging).unwrap_or_default();
        if let Some(blob) = only {
            blobs.push(blob.data);
            self.archiver.blob_writes.fetch_add(1, Ordering::Relaxed);
        }
        // A concurrent archive of the same run may have committed first: keep one.
        store
            .archives
            .entry(self.location)
            .or_default()
            .entry(self.version)
            .or_insert_with(|| Arc::new(blobs));
        Ok(())
    }

    async fn abandon(self) {
        lock(&self.archiver.store).staging.remove(&self.staging);
    }
}

/// The in-memory [`HistoryArchiver`].
///
/// Archives stream through [`archive_staged`] into a staging area, one blob at a time (with
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
        let archived = lock(&self.store)
            .archives
            .get(&location)
            .is_some_and(|versions| versions.contains_key(&version));
        if archived {
            return Ok(()); // the same run and version is archived already: idempotent
        }
        let stage = Stage {
            archiver: self,
            location,
            version,
            staging: self.next_staging.fetch_add(1, Ordering::Relaxed),
            blobs: 0,
        };
        let run = ArchiveRun::new(
            Arc::clone(&self.source),
            request,
            options,
            self.target_blob_size,
        );
        let binding = [
            SCHEME,
            &uri.to_string(),
            &request.namespace_id,
            &request.workflow_id,
            &request.run_id,
            &version.to_string(),
        ];
        archive_staged(stage, run, &binding).await
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
