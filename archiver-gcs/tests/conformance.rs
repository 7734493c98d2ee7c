//! The whole archiver-core conformance suite against a real GCS emulator (fake-gcs-server via
//! `.ci/gcs-server.sh`), each run under a fresh random prefix.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use archiver_core::testing::{self, Capabilities, Fixture};
use archiver_core::{ArchiveUri, HistoryArchiver, HistorySource, VisibilityArchiver};
use archiver_gcs::{GcsHistoryArchiver, GcsStore, GcsVisibilityArchiver};

struct GcsFixture {
    store: GcsStore,
    base: String,
    next: AtomicU64,
    archivers: Mutex<Vec<Arc<GcsHistoryArchiver>>>,
}

impl GcsFixture {
    fn new(server: &support::Server, tag: &str) -> Self {
        GcsFixture {
            store: GcsStore::new(server.settings()),
            base: server.fresh_uri(tag),
            next: AtomicU64::new(0),
            archivers: Mutex::new(Vec::new()),
        }
    }
}

impl Fixture for GcsFixture {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        let archiver = Arc::new(
            GcsHistoryArchiver::new(self.store.clone(), source)
                .with_target_blob_size(target_blob_size),
        );
        self.archivers.lock().unwrap().push(Arc::clone(&archiver));
        archiver
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(GcsVisibilityArchiver::new(self.store.clone()))
    }

    fn new_uri(&self) -> ArchiveUri {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        ArchiveUri::parse(&format!("{}/scenario-{n}", self.base)).expect("gs URI")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(true)
    }

    fn blob_writes(&self) -> Option<u64> {
        Some(
            self.archivers
                .lock()
                .unwrap()
                .iter()
                .map(|a| a.blob_writes())
                .sum(),
        )
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_conformance() {
    let Some(server) = support::server("history_conformance") else {
        return;
    };
    testing::run_history_suite(&GcsFixture::new(&server, "history")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_conformance() {
    let Some(server) = support::server("visibility_conformance") else {
        return;
    };
    testing::run_visibility_suite(&GcsFixture::new(&server, "visibility")).await;
}
