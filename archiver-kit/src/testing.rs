//! The visibility table's suite, run whole on every object store (memory, a local directory,
//! S3, GCS): the visibility conformance suite with compactions at arbitrary points, paging
//! against the in-memory reference across compactions and re-archives, group commit, racing
//! compactors, requests per lookup, and damage at rest.
//!
//! ```no_run
//! # async fn demo() {
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use archiver_kit::store::MemoryStore;
//! let n = AtomicU64::new(0);
//! archiver_kit::testing::run_table_suite(MemoryStore::new(), move |tag| {
//!     let n = n.fetch_add(1, Ordering::Relaxed);
//!     format!("memory://suite/{tag}-{n}").parse().unwrap()
//! })
//! .await;
//! # }
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};
use crate::object::{
    Failure, FailureKind, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome, list_all,
};
use archiver_core::testing::{
    Capabilities, Fixture, run_visibility_suite, search_attributes, test_records,
};
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, HistoryArchiver, HistorySource, QueryRequest, QueryResponse,
    Result, VisibilityArchiver, VisibilityRecord,
};
use async_trait::async_trait;
use bytes::Bytes;
use visibility_query::SearchAttributes;

use crate::segment::SegmentOptions;
use crate::table::{TableOptions, VisibilityTable};

/// Fresh URIs: each call names an empty location (`tag` says what for).
pub type FreshUri = Arc<dyn Fn(&str) -> ArchiveUri + Send + Sync>;

/// Small batches windows, segments and row groups, so a few records make many of each.
pub fn suite_options() -> TableOptions {
    TableOptions::default()
        .with_batch_window(Duration::from_millis(1))
        .with_max_segment_rows(40)
        .with_segment_options(SegmentOptions::default().with_row_group_rows(8))
}

/// Runs the whole suite on `store`.
pub async fn run_table_suite<S: ObjectStore + Clone>(
    store: S,
    fresh_uri: impl Fn(&str) -> ArchiveUri + Send + Sync + 'static,
) {
    let fresh_uri: FreshUri = Arc::new(fresh_uri);
    for every in [usize::MAX, 1, 5] {
        visibility_suite_with_compactions(store.clone(), fresh_uri.clone(), every).await;
    }
    pages_stay_exact_across_compactions(&store, &fresh_uri).await;
    concurrent_archives_share_batches(&store, &fresh_uri).await;
    racing_compactors_lose_nothing(&store, &fresh_uri).await;
    compactions_racing_archives_and_queries_lose_nothing(&store, &fresh_uri).await;
    auto_compaction_folds_in_the_background(&store, &fresh_uri).await;
    lookups_read_only_matching_row_groups(&store, &fresh_uri).await;
    damage_at_rest_is_refused(&store, &fresh_uri).await;
    per_record_layout_is_read_then_folded(&store, &fresh_uri).await;
    writes_whose_answers_are_lost_still_count(&store, &fresh_uri).await;
    orphan_segments_are_swept(&store, &fresh_uri).await;
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
        if self.calls.fetch_add(1, Ordering::Relaxed) % self.every == self.every - 1 {
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
        if request.validate().is_ok() && self.table.store().location(uri).is_ok() {
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
    fresh_uri: FreshUri,
}

impl<S: ObjectStore + Clone> Fixture for TableFixture<S> {
    fn history_archiver(
        &self,
        source: Arc<dyn HistorySource>,
        target_blob_size: usize,
    ) -> Arc<dyn HistoryArchiver> {
        // The visibility suite archives no history.
        Arc::new(MemoryHistoryArchiver::with_target_blob_size(
            source,
            target_blob_size,
        ))
    }

    fn visibility_archiver(&self) -> Arc<dyn VisibilityArchiver> {
        Arc::new(Compacting {
            table: VisibilityTable::with_options(self.store.clone(), suite_options()),
            calls: AtomicUsize::new(0),
            every: self.every,
        })
    }

    fn new_uri(&self) -> ArchiveUri {
        (self.fresh_uri)("suite")
    }

    fn capabilities(&self) -> Capabilities {
        Capabilities::new().with_counts_blob_writes(false)
    }
}

/// Core's visibility suite on a table that compacts before every `every`-th call.
pub async fn visibility_suite_with_compactions<S: ObjectStore + Clone>(
    store: S,
    fresh_uri: FreshUri,
    every: usize,
) {
    run_visibility_suite(&TableFixture {
        store,
        every,
        fresh_uri,
    })
    .await;
}

/// Counts writes and reads through a store, and can slow writes down so concurrent callers
/// overlap.
#[derive(Debug, Clone, Default)]
pub struct Instrumented<S> {
    inner: S,
    puts: Arc<AtomicUsize>,
    reads: Arc<AtomicUsize>,
    bytes_read: Arc<AtomicUsize>,
    put_delay: Duration,
    lost_answers: Arc<AtomicUsize>,
}

impl<S> Instrumented<S> {
    /// `inner`, counted, each write delayed by `put_delay`.
    pub fn new(inner: S, put_delay: Duration) -> Self {
        Instrumented {
            inner,
            puts: Arc::default(),
            reads: Arc::default(),
            bytes_read: Arc::default(),
            put_delay,
            lost_answers: Arc::default(),
        }
    }

    /// The next `writes` writes land but their answers are lost, as when a connection drops
    /// after the request: in turn a connection failure, and "already exists" (what a retry of
    /// a create-only write that landed gets).
    pub fn lose_answers(&self, writes: usize) {
        self.lost_answers.store(writes, Ordering::Relaxed);
    }

    /// Writes so far.
    pub fn puts(&self) -> usize {
        self.puts.load(Ordering::Relaxed)
    }

    /// Reads (whole, ranged) and listings so far.
    pub fn reads(&self) -> usize {
        self.reads.load(Ordering::Relaxed)
    }

    /// Bytes of objects read so far.
    pub fn bytes_read(&self) -> usize {
        self.bytes_read.load(Ordering::Relaxed)
    }

    /// The store counted.
    pub fn inner(&self) -> &S {
        &self.inner
    }
}

#[async_trait]
impl<S: ObjectStore> ObjectStore for Instrumented<S> {
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
        let outcome = self.inner.put(bucket, key, body, mode).await?;
        let lost = self
            .lost_answers
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        match lost {
            Ok(n) if n % 2 == 1 => Err(Failure::new(
                self.inner.scheme(),
                FailureKind::Connection,
                None,
                "the answer was lost (test)",
            )),
            Ok(_) if mode == PutMode::CreateOnly => Ok(PutOutcome::AlreadyExists),
            _ => Ok(outcome),
        }
    }
    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let got = self.inner.get(bucket, key).await?;
        let size = got.as_ref().map_or(0, Bytes::len);
        self.bytes_read.fetch_add(size, Ordering::Relaxed);
        Ok(got)
    }
    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: u64,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        let got = self.inner.get_range(bucket, key, offset, len).await?;
        let size = got.as_ref().map_or(0, Bytes::len);
        self.bytes_read.fetch_add(size, Ordering::Relaxed);
        Ok(got)
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

/// Every page of `request`, running `between` before each page after the first.
pub async fn all_pages(
    archiver: &dyn VisibilityArchiver,
    uri: &ArchiveUri,
    request: QueryRequest,
    mut between: impl AsyncFnMut(),
) -> Vec<VisibilityRecord> {
    let mut out = Vec::new();
    let mut request = request;
    loop {
        let page = archiver
            .query(uri, &request, &search_attributes())
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", request.query));
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

/// What the in-memory reference returns for `filter` over `records` (namespace `ns`).
pub async fn reference(records: &[VisibilityRecord], filter: &str) -> Vec<VisibilityRecord> {
    let reference = MemoryVisibilityArchiver::new();
    let uri: ArchiveUri = "memory://reference/x".parse().expect("a valid URI");
    for record in records {
        reference
            .archive(&uri, record, &ArchiveOptions::default())
            .await
            .expect("reference archive");
    }
    all_pages(
        &reference,
        &uri,
        QueryRequest::new("ns", filter).with_page_size(1000),
        async || {},
    )
    .await
}

async fn archive_all(
    table: &VisibilityTable<impl ObjectStore>,
    uri: &ArchiveUri,
    records: &[VisibilityRecord],
) {
    for record in records {
        table
            .archive(uri, record, &ArchiveOptions::default())
            .await
            .expect("archive");
    }
}

/// A table holding 120 runs: 60 compacted into segments, 60 in batches, and every ninth run
/// archived again (with a changed attribute) since, so segments and batches disagree.
async fn mixed_table<S: ObjectStore>(
    store: S,
    uri: &ArchiveUri,
) -> (VisibilityTable<S>, Vec<VisibilityRecord>) {
    let table = VisibilityTable::with_options(store, suite_options());
    let mut records = test_records("ns", 120);
    archive_all(&table, uri, &records[..60]).await;
    table
        .compact(uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    archive_all(&table, uri, &records[60..]).await;
    for record in records.iter_mut().step_by(9) {
        record.history_length += 1000;
    }
    let again: Vec<_> = records.iter().step_by(9).cloned().collect();
    archive_all(&table, uri, &again).await;
    (table, records)
}

/// Paged queries in several orders return exactly the reference, whether compactions happen
/// between pages or not: no run twice, none missed, the newest archive of each run.
pub async fn pages_stay_exact_across_compactions<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    for filter in [
        "",
        "ORDER BY StartTime ASC",
        "HistoryLength > 1000",
        "WorkflowType = 'type-1' OR ExecutionStatus = 'Failed'",
        "ORDER BY WorkflowId DESC",
    ] {
        for compact_every in [usize::MAX, 1, 4] {
            let uri = fresh_uri("pages");
            let (table, records) = mixed_table(store.clone(), &uri).await;
            let expected = reference(&records, filter).await;
            let mut round = 0;
            let found = all_pages(
                &table,
                &uri,
                QueryRequest::new("ns", filter).with_page_size(7),
                async || {
                    round += 1;
                    if round % compact_every == 0 {
                        table
                            .compact(&uri, "ns", &search_attributes())
                            .await
                            .expect("compaction");
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

/// 500 concurrent archives share a few batch writes, and every one is kept.
pub async fn concurrent_archives_share_batches<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("group-commit");
    let store = Instrumented::new(store.clone(), Duration::ZERO);
    let table = VisibilityTable::with_options(
        store.clone(),
        TableOptions::default().with_batch_window(Duration::from_millis(50)),
    );
    let records = test_records("ns", 500);
    let tasks: Vec<_> = records
        .iter()
        .cloned()
        .map(|record| {
            let (table, uri) = (table.clone(), uri.clone());
            tokio::spawn(async move {
                table
                    .archive(&uri, &record, &ArchiveOptions::default())
                    .await
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task").expect("archive");
    }
    let puts = store.puts();
    assert!(puts <= 25, "{puts} writes for 500 concurrent records");
    let found = all_pages(
        &table,
        &uri,
        QueryRequest::new("ns", "").with_page_size(97),
        async || {},
    )
    .await;
    assert_eq!(found, reference(&records, "").await);
}

/// Two compactors racing on slow writes: one commits each generation, the other reports it
/// was superseded, and nothing is lost or doubled.
pub async fn racing_compactors_lose_nothing<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("racing");
    let store = Instrumented::new(store.clone(), Duration::from_millis(5));
    // No grace: each compaction deletes what earlier ones retired.
    let options = suite_options().with_grace(Duration::ZERO);
    let a = VisibilityTable::with_options(store.clone(), options.clone());
    let b = VisibilityTable::with_options(store.clone(), options);
    let records = test_records("ns", 200);
    let (mut committed, mut superseded) = (0, 0);
    let attributes = search_attributes();
    for chunk in records.chunks(25) {
        archive_all(&a, &uri, chunk).await;
        let (ra, rb) = tokio::join!(
            a.compact(&uri, "ns", &attributes),
            b.compact(&uri, "ns", &attributes)
        );
        for report in [ra.expect("compaction a"), rb.expect("compaction b")] {
            committed += usize::from(report.generation.is_some());
            superseded += usize::from(report.superseded);
        }
    }
    assert!(committed >= 8, "{committed} commits");
    assert!(superseded >= 1, "{superseded} compactions lost a race");
    let found = all_pages(
        &b,
        &uri,
        QueryRequest::new("ns", "").with_page_size(1000),
        async || {},
    )
    .await;
    assert_eq!(found, reference(&records, "").await);
    // The losers removed what they wrote, and a last compaction deletes what the others
    // retired: every segment left is live in the newest snapshot.
    let last = a
        .compact(&uri, "ns", &attributes)
        .await
        .expect("compaction");
    assert!(last.objects_deleted > 0, "{last:?}");
    let location = store.location(&uri).expect("location");
    let segments = list_all(&store, location.bucket(), location.prefix())
        .await
        .expect("list")
        .into_iter()
        .filter(|k| k.ends_with(".parquet"))
        .count();
    let live = a.segments(&uri, "ns").await.expect("segments");
    assert_eq!(segments, live.len(), "segments stored vs live");
}

/// A table that compacts every 50 records folds them in the background while archives go on;
/// queries see every record exactly once throughout.
pub async fn auto_compaction_folds_in_the_background<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("auto-compaction");
    let table = VisibilityTable::with_options(
        store.clone(),
        suite_options().with_auto_compaction(Some(50)),
    );
    let records = test_records("ns", 180);
    for (i, chunk) in records.chunks(30).enumerate() {
        archive_all(&table, &uri, chunk).await;
        let found = all_pages(
            &table,
            &uri,
            QueryRequest::new("ns", "").with_page_size(64),
            async || {},
        )
        .await;
        assert_eq!(found, reference(&records[..30 * (i + 1)], "").await);
    }
    let mut live = Vec::new();
    for _ in 0..200 {
        live = table.segments(&uri, "ns").await.expect("segments");
        if live.iter().map(|s| s.rows).sum::<u64>() >= 150 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let rows: u64 = live.iter().map(|s| s.rows).sum();
    assert!(rows >= 150, "{rows} rows folded in the background");
}

/// A workflow-id lookup on a compacted table reads a few row groups; warm, it costs one
/// listing and one range request per row group read.
pub async fn lookups_read_only_matching_row_groups<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("lookups");
    let store = Instrumented::new(store.clone(), Duration::ZERO);
    let table =
        VisibilityTable::with_options(store.clone(), suite_options().with_max_segment_rows(10_000));
    let records = test_records("ns", 400);
    archive_all(&table, &uri, &records).await;
    table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    let wanted = &records[123];
    let request = QueryRequest::new("ns", format!("WorkflowId = '{}'", wanted.workflow_id));
    let (cold, stats) = table
        .query_with_stats(&uri, &request, &search_attributes())
        .await
        .expect("query");
    assert_eq!(cold.executions, vec![wanted.clone()]);
    assert!(stats.row_groups_read * 4 < stats.row_groups, "{stats:?}");
    assert!(stats.row_groups_probed * 4 < stats.row_groups, "{stats:?}");
    let before = store.reads();
    let (warm, _) = table
        .query_with_stats(&uri, &request, &search_attributes())
        .await
        .expect("query");
    assert_eq!(warm.executions, vec![wanted.clone()]);
    let requests = store.reads() - before;
    // One listing, then one range request per group the Bloom filters admit (the whole
    // group: a lookup touches one or two): footers, Bloom filters and the manifest are cached.
    assert!(
        requests <= 1 + stats.row_groups_probed,
        "{requests} requests, {stats:?}"
    );
    // A page in a time order reads the groups at the front of that order only: once the page
    // is full, the others are skipped by their statistics.
    for filter in ["", "ORDER BY CloseTime ASC", "ORDER BY StartTime DESC"] {
        let request = QueryRequest::new("ns", filter).with_page_size(5);
        let before = store.reads();
        let (page, stats) = table
            .query_with_stats(&uri, &request, &search_attributes())
            .await
            .expect("query");
        let requests = store.reads() - before;
        assert!(
            requests <= 1 + stats.row_groups_probed,
            "{filter:?}: {requests} requests, {stats:?}"
        );
        assert_eq!(
            page.executions,
            reference(&records, filter).await[..5].to_vec(),
            "{filter:?}"
        );
        assert!(
            stats.row_groups_probed <= 2 && stats.row_groups > 20,
            "{filter:?}: {stats:?}"
        );
    }
}

/// Every object of a table (batches, manifest, segments) damaged in turn: a query from a cold
/// table either returns exactly the reference or fails as `Corrupted` naming the object.
pub async fn damage_at_rest_is_refused<S: ObjectStore + Clone>(store: &S, fresh_uri: &FreshUri) {
    let uri = fresh_uri("damage");
    let table = VisibilityTable::with_options(store.clone(), suite_options());
    let records = test_records("ns", 30);
    archive_all(&table, &uri, &records).await;
    table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    archive_all(&table, &uri, &records[..3]).await;
    let location = store.location(&uri).expect("location");
    let bucket = location.bucket();
    let keys = list_all(store, bucket, location.prefix())
        .await
        .expect("list");
    assert!(keys.iter().any(|k| k.ends_with(".parquet")));
    assert!(keys.iter().any(|k| k.contains("/m/")));
    assert!(keys.iter().any(|k| k.contains("/b/")));
    let expected = reference(&records, "").await;
    let mut refused = 0;
    for key in keys {
        let original = store.get(bucket, &key).await.expect("get").expect("object");
        for at in (0..original.len()).step_by(original.len() / 40 + 1) {
            let mut damaged = original.to_vec();
            damaged[at] ^= 0x04;
            store
                .put(bucket, &key, damaged.into(), PutMode::Overwrite)
                .await
                .expect("put");
            // A fresh table: nothing cached from before the damage.
            let cold = VisibilityTable::with_options(store.clone(), suite_options());
            match cold
                .query(
                    &uri,
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
            .put(bucket, &key, original, PutMode::Overwrite)
            .await
            .expect("restore");
    }
    assert!(refused > 0);
}

/// Records the per-record layout wrote before the table (written here as it wrote them: the
/// same keys and bytes, see [`object`](crate::object#object-store-layout-version-1)) are found by the table's queries, give way to the table's own archive of the same run, and
/// are folded into segments by a compaction, which then removes them; nothing is lost or
/// doubled on the way, and readers stop listing that layout once it is folded.
pub async fn per_record_layout_is_read_then_folded<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("per-record-layout");
    let location = store.location(&uri).expect("a location");
    let mut records = test_records("ns", 40);
    for record in &records[..25] {
        let (key, body) = crate::object::record::legacy_object(&location, record);
        store
            .put(location.bucket(), &key, body, PutMode::Overwrite)
            .await
            .expect("a per-record object");
    }
    let table =
        VisibilityTable::with_options(store.clone(), suite_options().with_grace(Duration::ZERO));
    records[7].history_length += 1000; // archived again through the table
    archive_all(&table, &uri, &records[20..]).await;
    archive_all(&table, &uri, &records[7..8]).await;
    let check = async |when: &str| {
        for filter in [
            "",
            "HistoryLength > 1000",
            "WorkflowId = 'wf-7'",
            "CustomKeyword = 'red'",
        ] {
            let found = all_pages(
                &table,
                &uri,
                QueryRequest::new("ns", filter).with_page_size(7),
                async || {},
            )
            .await;
            assert_eq!(
                found,
                reference(&records, filter).await,
                "{when}: {filter:?}"
            );
        }
    };
    check("before the compaction").await;
    let prefix = location.visibility_prefix("ns");
    let report = table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    assert!(report.records_folded >= 25, "{report:?}");
    check("after the compaction").await;
    // The next compaction deletes what the grace period (none) no longer protects.
    table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    let left = list_all(store, location.bucket(), &prefix)
        .await
        .expect("list the per-record layout");
    assert!(
        left.is_empty(),
        "per-record objects left after folding: {left:?}"
    );
    check("after the per-record objects are gone").await;
    let cold = VisibilityTable::with_options(store.clone(), suite_options());
    let found = all_pages(&cold, &uri, QueryRequest::new("ns", ""), async || {}).await;
    assert_eq!(found, reference(&records, "").await, "a new reader");
}

/// Writes that land but whose answers are lost (a dropped connection, or the "already exists"
/// a retry then meets) are recognised as the writer's own by their bytes: archives succeed,
/// and a compaction keeps its segments and commits, losing nothing.
pub async fn writes_whose_answers_are_lost_still_count<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    let uri = fresh_uri("lost-answers");
    let store = Instrumented::new(store.clone(), Duration::ZERO);
    let table = VisibilityTable::with_options(store.clone(), suite_options());
    let records = test_records("ns", 30);
    store.lose_answers(usize::MAX);
    archive_all(&table, &uri, &records).await;
    let report = table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("a compaction through lost answers");
    assert!(
        report.generation.is_some() && !report.superseded,
        "{report:?}"
    );
    store.lose_answers(0);
    let found = all_pages(&table, &uri, QueryRequest::new("ns", ""), async || {}).await;
    assert_eq!(found, reference(&records, "").await);
    let stats = table
        .query_with_stats(&uri, &QueryRequest::new("ns", ""), &search_attributes())
        .await
        .expect("query")
        .1;
    assert_eq!(stats.batches, 0, "every batch folded: {stats:?}");
}

/// Archives, queries and compactions all at once: every query finds each record acknowledged
/// before it started (in that version or a later one), never a run twice, and after a last
/// compaction the table is exactly the reference.
pub async fn compactions_racing_archives_and_queries_lose_nothing<S: ObjectStore + Clone>(
    store: &S,
    fresh_uri: &FreshUri,
) {
    use std::collections::HashMap;
    use std::sync::Mutex;
    use std::sync::atomic::AtomicBool;

    let uri = fresh_uri("archives-queries-compactions");
    let table = VisibilityTable::with_options(store.clone(), suite_options());
    let mut records = test_records("ns", 160);
    // The last 40 are earlier runs archived again with another history length.
    for i in 120..160 {
        let mut again = records[i - 120].clone();
        again.history_length += 1000;
        records[i] = again;
    }
    let acked: Arc<Mutex<HashMap<String, i64>>> = Arc::default();
    let done = Arc::new(AtomicBool::new(false));
    let archiver = {
        let (table, uri, records, acked) =
            (table.clone(), uri.clone(), records.clone(), acked.clone());
        tokio::spawn(async move {
            let options = ArchiveOptions::default();
            for chunk in records.chunks(8) {
                let calls = chunk.iter().map(|r| table.archive(&uri, r, &options));
                for result in futures::future::join_all(calls).await {
                    result.expect("archive");
                }
                {
                    let mut acked = acked.lock().unwrap_or_else(|e| e.into_inner());
                    for record in chunk {
                        acked.insert(record.run_id.clone(), record.history_length);
                    }
                }
                // Room for queries and compactions in between.
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let compactor = {
        let (table, uri, done) = (table.clone(), uri.clone(), done.clone());
        tokio::spawn(async move {
            let mut rounds = 0;
            while !done.load(Ordering::Relaxed) {
                table
                    .compact(&uri, "ns", &search_attributes())
                    .await
                    .expect("compaction");
                rounds += 1;
                tokio::task::yield_now().await;
            }
            rounds
        })
    };
    let mut queries = 0;
    while !archiver.is_finished() {
        let before = acked.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let found = all_pages(
            &table,
            &uri,
            QueryRequest::new("ns", "").with_page_size(50),
            async || {},
        )
        .await;
        let runs: HashMap<&str, i64> = found
            .iter()
            .map(|r| (r.run_id.as_str(), r.history_length))
            .collect();
        assert_eq!(runs.len(), found.len(), "a run twice in query {queries}");
        for (run, length) in &before {
            let seen = runs.get(run.as_str());
            assert!(
                seen.is_some_and(|s| s >= length),
                "query {queries}: acknowledged {run} (length {length}) found as {seen:?}"
            );
        }
        queries += 1;
    }
    archiver.await.expect("archiver");
    done.store(true, Ordering::Relaxed);
    let rounds = compactor.await.expect("compactor");
    assert!(
        rounds >= 2 && queries >= 2,
        "{rounds} compactions, {queries} queries"
    );
    table
        .compact(&uri, "ns", &search_attributes())
        .await
        .expect("compaction");
    let found = all_pages(&table, &uri, QueryRequest::new("ns", ""), async || {}).await;
    let latest: Vec<VisibilityRecord> = {
        let mut by_run = std::collections::BTreeMap::new();
        for record in &records {
            by_run.insert(record.run_id.clone(), record.clone());
        }
        by_run.into_values().collect()
    };
    assert_eq!(found, reference(&latest, "").await);
}

/// Segments no manifest names (a crashed compactor's, of a generation committed since) are
/// deleted by the next compaction; a segment of a generation not committed yet (a compactor
/// still writing) and objects that are no segments stay, and queries lose nothing.
pub async fn orphan_segments_are_swept<S: ObjectStore + Clone>(store: &S, fresh_uri: &FreshUri) {
    let uri = fresh_uri("orphans");
    let table = VisibilityTable::with_options(store.clone(), suite_options());
    let attributes = search_attributes();
    let records = test_records("ns", 40);
    archive_all(&table, &uri, &records[..20]).await;
    let first = table
        .compact(&uri, "ns", &attributes)
        .await
        .expect("compaction");
    let committed = first.generation.expect("a generation committed");
    let live = table.segments(&uri, "ns").await.expect("segments");
    let location = store.location(&uri).expect("location");
    let bucket = location.bucket();
    let (partition, _) = live[0].key.rsplit_once('/').expect("a partition directory");
    let body = store
        .get(bucket, &live[0].key)
        .await
        .expect("get")
        .expect("the live segment");
    let orphan = format!("{partition}/{committed:020}-00000000deadbeef.parquet");
    let in_flight = format!("{:020}-00000000feedf00d.parquet", committed + 5);
    let in_flight = format!("{partition}/{in_flight}");
    let other = format!("{partition}/notes.txt");
    for key in [&orphan, &in_flight, &other] {
        store
            .put(bucket, key, body.clone(), PutMode::Overwrite)
            .await
            .expect("put");
    }

    archive_all(&table, &uri, &records[20..]).await;
    let report = table
        .compact(&uri, "ns", &attributes)
        .await
        .expect("compaction");
    assert_eq!(report.orphans_deleted, 1, "{report:?}");
    let keys = list_all(store, bucket, location.prefix())
        .await
        .expect("list");
    assert!(!keys.contains(&orphan), "the orphan is gone");
    assert!(
        keys.contains(&in_flight),
        "a generation being written stays"
    );
    assert!(keys.contains(&other), "what is no segment stays");
    let found = all_pages(
        &table,
        &uri,
        QueryRequest::new("ns", "").with_page_size(1000),
        async || {},
    )
    .await;
    assert_eq!(found, reference(&records, "").await);
    let again = table
        .compact(&uri, "ns", &attributes)
        .await
        .expect("compaction");
    assert_eq!(again.orphans_deleted, 0, "{again:?}");
}
