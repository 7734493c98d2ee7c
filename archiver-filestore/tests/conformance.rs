//! The archiver-core conformance suite, run against the filestore on a temp directory.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use archiver_core::testing::{self, BlobWriteTally, Capabilities, Fixture};
use archiver_core::{ArchiveUri, HistoryArchiver, HistorySource, VisibilityArchiver};
use archiver_filestore::{FilestoreHistoryArchiver, FilestoreVisibilityArchiver};

struct FilestoreFixture {
    root: tempfile::TempDir,
    next: AtomicU64,
    blob_writes: BlobWriteTally,
}

impl FilestoreFixture {
    fn new() -> Self {
        Self {
            root: tempfile::tempdir().expect("temp dir"),
            next: AtomicU64::new(0),
            blob_writes: BlobWriteTally::default(),
        }
    }
}

impl Fixture for FilestoreFixture {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        let archiver =
            Arc::new(FilestoreHistoryArchiver::new(source).with_target_blob_size(target_blob_size));
        self.blob_writes
            .track(&archiver, FilestoreHistoryArchiver::blob_writes);
        archiver
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(FilestoreVisibilityArchiver::new())
    }

    fn new_uri(&self) -> ArchiveUri {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let dir = self.root.path().join(format!("scenario-{n}"));
        ArchiveUri::parse(&format!("file://{}", dir.display())).expect("file URI")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(true)
    }

    fn blob_writes(&self) -> Option<u64> {
        Some(self.blob_writes.total())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_conformance() {
    testing::run_history_suite(&FilestoreFixture::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_conformance() {
    testing::run_visibility_suite(&FilestoreFixture::new()).await;
}
