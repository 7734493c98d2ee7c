//! Test support for object-store providers (feature `testing`): a conformance [`Fixture`]
//! over any [`ObjectStore`], fresh prefixes, one-run histories and reading them back, the
//! per-request fault [`proxy`], the [`scenarios`] every provider runs against its real
//! server through a [`ProviderFixture`], and the [`ServerGate`] that finds that server (or
//! skips, or fails under CI).

mod gate;
mod provider;
pub mod proxy;
pub mod scenarios;

pub use gate::{ServerGate, env_var, under_ci};
pub use provider::{ProviderFixture, Request};

/// Declares the shared scenarios as `#[tokio::test]`s named after them, each running on the
/// fixture `$fixture(test_name).await` returns (`None`: no server, the test is skipped).
///
/// - `scenario_tests!(conformance: support::fixture);`: `history_conformance` and
///   `visibility_conformance`.
/// - `scenario_tests!(behaviour: support::fixture);`: `requests_per_archived_workflow`,
///   `queries_read_only_what_the_filter_admits`, `hostile_ids_round_trip`,
///   `damaged_blobs_are_detected`, `damaged_objects_never_read_back_changed`.
/// - `scenario_tests!(faults: support::fixture);`: `fault_campaign_leaves_nothing_partial`, and
///   the measurement `fault_campaign_at_35_percent` (ignored: run it with `--ignored`).
///
/// The list lives in the macro, once, so a scenario added to [`scenarios`] and to it runs for
/// every provider. The calling crate needs `tokio` (with `macros` and `rt-multi-thread`).
pub use crate::__object_scenario_tests as scenario_tests;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use super::{ObjectHistoryArchiver, ObjectStore, RetrySettings};
use crate::table::VisibilityTable;
use archiver_core::history::{History, MemoryHistorySource, RunKey};
use archiver_core::testing::{
    BlobWriteTally, Capabilities, Fixture, search_attributes, source_with_run, test_records,
};
use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, HistoryArchiver, HistorySource,
    QueryRequest, VisibilityArchiver,
};

/// The conformance [`Fixture`] of an object-store provider: archivers over clones of one
/// store ([`ObjectHistoryArchiver`], and for visibility the [`VisibilityTable`] the providers
/// register), each scenario under `<base>/scenario-<n>`, blob writes counted.
#[derive(Debug)]
pub struct ObjectFixture<S> {
    store: S,
    base: String,
    next: AtomicU64,
    blob_writes: BlobWriteTally,
}

impl<S: ObjectStore + Clone> ObjectFixture<S> {
    /// A fixture archiving through `store` under `base` (a URI such as
    /// `s3://bucket/run-123`; use a fresh one per test run).
    pub fn new(store: S, base: impl Into<String>) -> Self {
        ObjectFixture {
            store,
            base: base.into(),
            next: AtomicU64::new(0),
            blob_writes: BlobWriteTally::default(),
        }
    }
}

impl<S: ObjectStore + Clone> Fixture for ObjectFixture<S> {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        let archiver = Arc::new(
            ObjectHistoryArchiver::new(self.store.clone(), source)
                .with_target_blob_size(target_blob_size),
        );
        self.blob_writes
            .track(&archiver, ObjectHistoryArchiver::blob_writes);
        archiver
    }

    /// The table, as the providers register it (default options).
    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(VisibilityTable::new(self.store.clone()))
    }

    fn new_uri(&self) -> ArchiveUri {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let uri = format!("{}/scenario-{n}", self.base);
        ArchiveUri::parse(&uri).unwrap_or_else(|e| panic!("fixture URI {uri}: {e}"))
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(true)
    }

    fn blob_writes(&self) -> Option<u64> {
        Some(self.blob_writes.total())
    }
}

/// Two attempts 10 to 50 ms apart: for tests whose requests are meant to fail (a denial, an
/// unreachable endpoint), so the failure comes fast and a retry still shows.
pub fn quick_retry() -> RetrySettings {
    RetrySettings {
        max_attempts: 2,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
    }
}

/// A prefix unique to this process and call (`test-<nanos>-<pid>-<n>`), so a test run sees
/// nothing of earlier runs on a shared server.
pub fn unique() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "test-{nanos:x}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A source holding one run (`ns-id`, `workflow_id`, `run-1`) of `batches` generated batches,
/// the run, its history, and the request archiving it.
pub fn one_run(
    workflow_id: &str,
    seed: u64,
    batches: usize,
) -> (
    Arc<MemoryHistorySource>,
    RunKey,
    Vec<History>,
    ArchiveHistoryRequest,
) {
    let run = RunKey::new("ns-id", workflow_id, "run-1");
    let (source, history, request) = source_with_run(&run, seed, batches, 1);
    (source, run, history, request)
}

/// Every page (7 events each) of the highest archived version of `run`.
pub async fn get_all(
    archiver: &dyn HistoryArchiver,
    uri: &ArchiveUri,
    run: &RunKey,
) -> archiver_core::Result<Vec<History>> {
    archiver_core::testing::read_history(archiver, uri, run, None, 7).await
}

/// Archives one record under `uri` (which must hold no other record of `ns-id`) and finds it
/// again with an empty filter: the smallest end-to-end use of a visibility archiver.
pub async fn archive_and_find_a_record(archiver: &dyn VisibilityArchiver, uri: &ArchiveUri) {
    let record = test_records("ns-id", 1).remove(0);
    archiver
        .archive(uri, &record, &ArchiveOptions::default())
        .await
        .expect("archive a record");
    let found = archiver
        .query(uri, &QueryRequest::new("ns-id", ""), &search_attributes())
        .await
        .expect("query");
    assert_eq!(found.executions, vec![record], "the record, found whole");
}
