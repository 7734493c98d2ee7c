//! The whole conformance suite on the in-memory provider, the reference behaviour.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use archiver_core::testing::{
    BlobWriteTally, Capabilities, Fixture, run_history_suite, run_visibility_suite,
};
use archiver_core::{ArchiveUri, HistoryArchiver, HistorySource, VisibilityArchiver};
use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};

#[derive(Default)]
struct MemoryFixture {
    blob_writes: BlobWriteTally,
    next_location: AtomicU64,
}

impl Fixture for MemoryFixture {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        let archiver = Arc::new(MemoryHistoryArchiver::with_target_blob_size(
            source,
            target_blob_size,
        ));
        self.blob_writes
            .track(&archiver, MemoryHistoryArchiver::blob_writes);
        archiver
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(MemoryVisibilityArchiver::new())
    }

    fn new_uri(&self) -> ArchiveUri {
        let n = self.next_location.fetch_add(1, Ordering::Relaxed);
        format!("memory://conformance/location-{n}")
            .parse()
            .unwrap()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(true)
    }

    fn blob_writes(&self) -> Option<u64> {
        Some(self.blob_writes.total())
    }
}

#[tokio::test]
async fn memory_history_conformance() {
    run_history_suite(&MemoryFixture::default()).await;
}

#[tokio::test]
async fn memory_visibility_conformance() {
    run_visibility_suite(&MemoryFixture::default()).await;
}

/// A fixture that forgot to declare a capability must not pass silently.
#[tokio::test]
#[should_panic(expected = "needs capability counts_blob_writes")]
async fn undeclared_capability_panics() {
    struct Undeclared(MemoryFixture);
    impl Fixture for Undeclared {
        fn history_archiver(
            &self,
            s: Arc<dyn HistorySource>,
            t: usize,
        ) -> Arc<dyn HistoryArchiver> {
            self.0.history_archiver(s, t)
        }
        fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
            self.0.visibility_archiver()
        }
        fn new_uri(&self) -> ArchiveUri {
            self.0.new_uri()
        }
        fn capabilities(&self) -> Capabilities {
            Capabilities::new()
        }
    }
    archiver_core::testing::resume_after_interruption(&Undeclared(MemoryFixture::default())).await;
}
