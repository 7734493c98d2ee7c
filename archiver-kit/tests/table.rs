//! The visibility table on the in-memory and local-directory stores: the whole visibility
//! conformance suite with compactions at arbitrary points, paging against the reference across
//! compactions, group commit, racing compactors, and damage at rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use archiver_core::object::{Failure, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome};
use archiver_core::testing::{
    Capabilities, Fixture, run_visibility_suite, search_attributes, test_records,
};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, HistorySource, MemoryHistoryArchiver,
    MemoryVisibilityArchiver, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};
use archiver_kit::segment::SegmentOptions;
use archiver_kit::store::{LocalStore, MemoryStore};
use archiver_kit::table::{TableOptions, VisibilityTable};
use async_trait::async_trait;
use bytes::Bytes;
use visibility_query::SearchAttributes;

fn options() -> TableOptions {
    TableOptions::default()
        .with_batch_window(Duration::from_millis(1))
        .with_max_segment_rows(40)
        .with_segment_options(SegmentOptions::default().with_row_group_rows(8))
}

/// A table that compacts the namespace before every `every`-th call (archive or query), so
/// the suite's scenarios meet batches, segments and both mixed.
struct Compacting<S> {
    table: VisibilityTable<S>,
    calls: AtomicUsize,
    every: usize,
}

impl<S: ObjectStore> std::fmt::Debug for Compacting<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compacting")
            .field("table", &self.table)
            .finish()
    }
}

impl<S: ObjectStore> Compacting<S> {
    async fn maybe_compact(&self, uri: &ArchiveUri, namespace_id: &str) {
        if self.calls.fetch_add(1, Ordering::Relaxed) % self.every == self.every - 1
            && !namespace_id.is_empty()
        {
            self.table
                .compact(uri, namespace_id, &search_attributes())
                .await
                .expect("compaction");
        }
    }
}

#[async_trait]
impl<S: ObjectStore> VisibilityArchiver for Compacting<S> {
    fn scheme(&self) -> &'static str {
        self.table.scheme()
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        let result = self.table.archive(uri, record, options).await;
        if result.is_ok() {
            self.maybe_compact(uri, &record.namespace_id).await;
        }
        result
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        if request.validate().is_ok() {
            self.maybe_compact(uri, &request.namespace_id).await;
        }
        self.table.query(uri, request, search_attributes).await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        self.table.validate_uri(uri).await
    }
}

struct TableFixture<S> {
    store: S,
    every: usize,
    uri: Box<dyn Fn(u64) -> String + Send + Sync>,
    next: AtomicU64,
}

impl<S: ObjectStore + Clone> Fixture for TableFixture<S> {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        Arc::new(MemoryHistoryArchiver::with_target_blob_size(
            source,
            target_blob_size,
        ))
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(Compacting {
            table: VisibilityTable::new(self.store.clone(), options()),
            calls: AtomicUsize::new(0),
            every: self.every,
        })
    }

    fn new_uri(&self) -> ArchiveUri {
        (self.uri)(self.next.fetch_add(1, Ordering::Relaxed))
            .parse()
            .unwrap()
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(false)
    }
}

fn memory_fixture(every: usize) -> TableFixture<MemoryStore> {
    TableFixture {
        store: MemoryStore::new(),
        every,
        uri: Box::new(|n| format!("memory://conformance/location-{n}")),
        next: AtomicU64::new(0),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_visibility_suite_passes_on_memory_with_compactions_anywhere() {
    for every in [1_000_000, 1, 3, 7] {
        run_visibility_suite(&memory_fixture(every)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_visibility_suite_passes_on_a_local_directory_with_compactions_anywhere() {
    let dir = tempfile::tempdir().unwrap();
    for every in [1_000_000, 5] {
        let root = dir.path().join(format!("every-{every}"));
        run_visibility_suite(&TableFixture {
            store: LocalStore::new(),
            every,
            uri: Box::new(move |n| format!("file://{}/location-{n}", root.display())),
            next: AtomicU64::new(0),
        })
        .await;
    }
}

/// Counts writes and reads through a store, and can slow writes down (so concurrent callers
/// overlap).
#[derive(Debug, Clone, Default)]
struct Counting<S> {
    inner: S,
    puts: Arc<AtomicUsize>,
    reads: Arc<AtomicUsize>,
    put_delay: Duration,
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Counting<S> {
    fn scheme(&self) -> &'static str {
        self.inner.scheme()
    }
    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation> {
        self.inner.location(uri)
    }
    async fn validate_bucket(&self, location: &ObjectLocation) -> Result<()> {
        self.inner.validate_bucket(location).await
    }
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        mode: PutMode,
    ) -> std::result::Result<PutOutcome, Failure> {
        self.puts.fetch_add(1, Ordering::Relaxed);
        tokio::time::sleep(self.put_delay).await;
        self.inner.put(bucket, key, body, mode).await
    }
    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get(bucket, key).await
    }
    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: u64,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.get_range(bucket, key, offset, len).await
    }
    async fn exists(&self, bucket: &str, key: &str) -> std::result::Result<bool, Failure> {
        self.inner.exists(bucket, key).await
    }
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> std::result::Result<ListPage, Failure> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.list(bucket, prefix, start_after, page).await
    }
    async fn delete(&self, bucket: &str, keys: &[String]) -> std::result::Result<(), Failure> {
        self.inner.delete(bucket, keys).await
    }
}

fn uri() -> ArchiveUri {
    "memory://bucket/archive".parse().unwrap()
}

async fn all_pages(
    archiver: &dyn VisibilityArchiver,
    request: QueryRequest,
    between: impl AsyncFnMut(),
) -> Vec<VisibilityRecord> {
    let mut between = between;
    let mut out = Vec::new();
    let mut request = request;
    loop {
        let page = archiver
            .query(&uri(), &request, &search_attributes())
            .await
            .unwrap();
        out.extend(page.executions);
        match page.next_page_token {
            Some(token) => {
                between().await;
                request = request.with_next_page_token(Some(token));
            }
            None => return out,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_archives_share_batches_and_every_acknowledged_record_is_kept() {
    let store = Counting::<MemoryStore>::default();
    let table = VisibilityTable::new(
        store.clone(),
        TableOptions::default().with_batch_window(Duration::from_millis(50)),
    );
    let records = test_records("ns", 500);
    let tasks: Vec<_> = records
        .iter()
        .cloned()
        .map(|record| {
            let table = table.clone();
            tokio::spawn(async move {
                table
                    .archive(&uri(), &record, &ArchiveOptions::default())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    let puts = store.puts.load(Ordering::Relaxed);
    assert!(puts <= 25, "{puts} writes for 500 concurrent records");
    let found = all_pages(
        &table,
        QueryRequest::new("ns", "").with_page_size(97),
        async || {},
    )
    .await;
    let reference = reference_page(&records, "");
    assert_eq!(found, reference);
}

/// What the in-memory reference archiver returns for `filter` over `records`, all pages.
fn reference_page(records: &[VisibilityRecord], filter: &str) -> Vec<VisibilityRecord> {
    let reference = MemoryVisibilityArchiver::new();
    let runtime = tokio::runtime::Handle::current();
    tokio::task::block_in_place(|| {
        runtime.block_on(async {
            for record in records {
                reference
                    .archive(&uri(), record, &ArchiveOptions::default())
                    .await
                    .unwrap();
            }
            all_pages(
                &reference,
                QueryRequest::new("ns", filter).with_page_size(1000),
                async || {},
            )
            .await
        })
    })
}

/// A table holding 120 runs: 60 compacted into segments, 60 in batches, and every ninth run
/// archived again (with a changed attribute) since, so segments and batches disagree.
async fn mixed_table() -> (VisibilityTable<MemoryStore>, Vec<VisibilityRecord>) {
    let table = VisibilityTable::new(MemoryStore::new(), options());
    let mut records = test_records("ns", 120);
    for record in &records[..60] {
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    table
        .compact(&uri(), "ns", &search_attributes())
        .await
        .unwrap();
    for record in &records[60..] {
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    for record in records.iter_mut().step_by(9) {
        record.history_length += 1000;
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    (table, records)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pages_stay_exact_when_compactions_and_rearchives_happen_between_them() {
    for filter in [
        "",
        "ORDER BY StartTime ASC",
        "HistoryLength > 1000",
        "WorkflowType = 'type-1' OR ExecutionStatus = 'Failed'",
        "ORDER BY WorkflowId DESC",
    ] {
        for compact_every in [usize::MAX, 1, 4] {
            let (table, records) = mixed_table().await;
            let expected = reference_page(&records, filter);
            let mut round = 0;
            let found = all_pages(
                &table,
                QueryRequest::new("ns", filter).with_page_size(7),
                async || {
                    round += 1;
                    if round % compact_every == 0 {
                        table
                            .compact(&uri(), "ns", &search_attributes())
                            .await
                            .unwrap();
                    }
                },
            )
            .await;
            assert_eq!(
                found, expected,
                "{filter:?}, compacting every {compact_every} pages"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn racing_compactors_lose_nothing_and_one_commits_each_generation() {
    // Slow writes: both compactors take their snapshot before either commits.
    let store = Counting {
        put_delay: Duration::from_millis(5),
        ..Counting::<MemoryStore>::default()
    };
    let a = VisibilityTable::new(store.clone(), options());
    let b = VisibilityTable::new(store.clone(), options());
    let records = test_records("ns", 200);
    let mut committed = 0;
    let mut superseded = 0;
    for chunk in records.chunks(25) {
        for record in chunk {
            a.archive(&uri(), record, &ArchiveOptions::default())
                .await
                .unwrap();
        }
        let (attrs, at) = (search_attributes(), uri());
        let (ra, rb) = tokio::join!(a.compact(&at, "ns", &attrs), b.compact(&at, "ns", &attrs));
        for report in [ra.unwrap(), rb.unwrap()] {
            committed += usize::from(report.generation.is_some());
            superseded += usize::from(report.superseded);
        }
    }
    assert!(committed >= 8, "{committed} commits");
    assert!(superseded >= 1, "{superseded} compactions lost a race");
    eprintln!("{committed} commits, {superseded} superseded");
    let found = all_pages(
        &b,
        QueryRequest::new("ns", "").with_page_size(1000),
        async || {},
    )
    .await;
    assert_eq!(found, reference_page(&records, ""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookups_read_only_the_row_groups_that_can_match() {
    let store = Counting::<MemoryStore>::default();
    let table = VisibilityTable::new(store.clone(), options().with_max_segment_rows(10_000));
    let records = test_records("ns", 400);
    for record in &records {
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    table
        .compact(&uri(), "ns", &search_attributes())
        .await
        .unwrap();
    let wanted = &records[123];
    let request = QueryRequest::new("ns", format!("WorkflowId = '{}'", wanted.workflow_id));
    let (cold, stats) = table
        .query_with_stats(&uri(), &request, &search_attributes())
        .await
        .unwrap();
    assert_eq!(cold.executions, vec![wanted.clone()]);
    assert!(stats.row_groups_read * 4 < stats.row_groups, "{stats:?}");
    let before = store.reads.load(Ordering::Relaxed);
    let (warm, _) = table
        .query_with_stats(&uri(), &request, &search_attributes())
        .await
        .unwrap();
    assert_eq!(warm.executions, vec![wanted.clone()]);
    let requests = store.reads.load(Ordering::Relaxed) - before;
    // One listing, then one range request per row group read (footers, Bloom filters and the
    // manifest are cached).
    assert!(
        requests <= 1 + stats.row_groups_read,
        "{requests} requests, {stats:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damage_at_rest_is_refused_never_answered_differently() {
    let store = MemoryStore::new();
    let table = VisibilityTable::new(store.clone(), options());
    let records = test_records("ns", 30);
    for record in &records {
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    table
        .compact(&uri(), "ns", &search_attributes())
        .await
        .unwrap();
    for record in &records[..3] {
        table
            .archive(&uri(), record, &ArchiveOptions::default())
            .await
            .unwrap();
    }
    let keys = archiver_core::object::list_all(&store, "bucket", "archive/")
        .await
        .unwrap();
    assert!(keys.iter().any(|k| k.ends_with(".parquet")));
    assert!(keys.iter().any(|k| k.contains("/m/")));
    assert!(keys.iter().any(|k| k.contains("/b/")));
    let expected = reference_page(&records, "");
    let mut refused = 0;
    for key in keys {
        let original = store.get("bucket", &key).await.unwrap().unwrap();
        for at in (0..original.len()).step_by(original.len() / 40 + 1) {
            let mut damaged = original.to_vec();
            damaged[at] ^= 0x04;
            store
                .put("bucket", &key, damaged.into(), PutMode::Overwrite)
                .await
                .unwrap();
            // A fresh table: nothing cached from before the damage.
            let fresh = VisibilityTable::new(store.clone(), options());
            match fresh
                .query(
                    &uri(),
                    &QueryRequest::new("ns", "").with_page_size(1000),
                    &search_attributes(),
                )
                .await
            {
                Ok(page) => assert_eq!(page.executions, expected, "{key} byte {at}"),
                Err(Error::Corrupted { location, .. }) => {
                    assert!(location.contains(&key), "{location} names {key}");
                    refused += 1;
                }
                Err(other) => panic!("{key} byte {at}: {other}"),
            }
        }
        store
            .put("bucket", &key, original, PutMode::Overwrite)
            .await
            .unwrap();
    }
    assert!(refused > 0);
}
