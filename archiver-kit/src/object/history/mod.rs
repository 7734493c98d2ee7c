//! [`ObjectHistoryArchiver`].

mod archive;
mod read;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;

use super::ObjectStore;
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, DEFAULT_TARGET_BLOB_SIZE, GetHistoryRequest,
    GetHistoryResponse, HistoryArchiver, HistorySource, Result,
};

/// The [`HistoryArchiver`] of an object store: one archive per (run, close failover version),
/// committed by a manifest object created last (see the [module docs](super) for the layout).
#[derive(Debug)]
pub struct ObjectHistoryArchiver<S> {
    store: S,
    source: Arc<dyn HistorySource>,
    target_blob_size: usize,
    blob_writes: AtomicU64,
}

impl<S: ObjectStore> ObjectHistoryArchiver<S> {
    /// An archiver storing through `store` the histories it reads from `source`, in blobs of
    /// at least 2 MiB.
    pub fn new(store: S, source: Arc<dyn HistorySource>) -> Self {
        ObjectHistoryArchiver {
            store,
            source,
            target_blob_size: DEFAULT_TARGET_BLOB_SIZE,
            blob_writes: AtomicU64::new(0),
        }
    }

    /// Cut blobs of at least `bytes` (default 2 MiB). Memory while archiving is about one blob.
    pub fn with_target_blob_size(mut self, bytes: usize) -> Self {
        self.target_blob_size = bytes;
        self
    }

    /// The store this archiver writes through.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How many blobs this archiver has stored (an inline single-blob history counts one; a
    /// resumed or repeated archive stores none twice).
    pub fn blob_writes(&self) -> u64 {
        self.blob_writes.load(Ordering::Relaxed)
    }
}

#[async_trait]
impl<S: ObjectStore> HistoryArchiver for ObjectHistoryArchiver<S> {
    fn scheme(&self) -> &'static str {
        self.store.scheme()
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()> {
        let result = match self.store.location(uri) {
            Ok(location) => self.archive_run(location, request, options).await,
            Err(err) => Err(err),
        };
        options.finish(result)
    }

    async fn get(
        &self,
        uri: &ArchiveUri,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse> {
        self.get_page(self.store.location(uri)?, request).await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        self.store.validate_bucket(&self.store.location(uri)?).await
    }
}
