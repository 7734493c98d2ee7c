//! The whole archiver-core conformance suite against a real S3-compatible server (SeaweedFS via
//! `.ci/servers.sh`), each run under a fresh random prefix.

mod support;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use archiver_core::testing::{self, Capabilities, Fixture};
use archiver_core::{ArchiveUri, HistoryArchiver, HistorySource, VisibilityArchiver};
use archiver_s3::{S3HistoryArchiver, S3Store, S3VisibilityArchiver};

struct S3Fixture {
    store: S3Store,
    base: String,
    next: AtomicU64,
    archivers: Mutex<Vec<Arc<S3HistoryArchiver>>>,
}

impl S3Fixture {
    fn new(server: &support::Server, tag: &str) -> Self {
        S3Fixture {
            store: S3Store::new(server.settings()),
            base: server.fresh_uri(tag),
            next: AtomicU64::new(0),
            archivers: Mutex::new(Vec::new()),
        }
    }
}

impl Fixture for S3Fixture {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        let archiver = Arc::new(
            S3HistoryArchiver::new(self.store.clone(), source)
                .with_target_blob_size(target_blob_size),
        );
        self.archivers.lock().unwrap().push(Arc::clone(&archiver));
        archiver
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(S3VisibilityArchiver::new(self.store.clone()))
    }

    fn new_uri(&self) -> ArchiveUri {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        ArchiveUri::parse(&format!("{}/scenario-{n}", self.base)).expect("s3 URI")
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
    testing::run_history_suite(&S3Fixture::new(&server, "history")).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn visibility_conformance() {
    let Some(server) = support::server("visibility_conformance") else {
        return;
    };
    testing::run_visibility_suite(&S3Fixture::new(&server, "visibility")).await;
}
