//! The visibility table: visibility records at scale on any [`ObjectStore`], written in
//! group-committed batches, compacted into Parquet [segments](crate::segment) under a manifest,
//! and queried with the whole list-filter language by reading only what the filter needs.
//!
//! # Layout (under the URI's prefix)
//!
//! ```text
//! visibility/v2/log/<h(ns id)>/b/<micros>-<random>       batches: one per group commit
//! visibility/v2/log/<h(ns id)>/m/<generation>            manifests: the committed snapshots
//! visibility/v2/segments/namespace_id=<id>/close_date=<YYYY-MM-DD>/<generation>-<random>.parquet
//! ```
//!
//! **Write.** Concurrent [`archive`](VisibilityArchiver::archive) calls of one namespace are
//! grouped into one batch object ([`TableOptions::with_batch_window`], bounded by size) written
//! create-only under a fresh name; each call returns once its batch is durable. A batch is
//! JSON lines with a CRC-32C trailer line.
//!
//! **Compact.** [`compact`](VisibilityTable::compact) (or the table itself, in the background,
//! every [`TableOptions::with_auto_compaction`] records of a namespace) folds the batches into segments,
//! partitioned by close day (Hive style, readable by DuckDB, Spark, Trino, Athena), sorted by
//! close time, one row per run (the latest archive of a run wins), and commits the next
//! manifest create-only: of concurrent compactors one wins, and the loser removes what it
//! wrote. The manifest lists the live segments with their time ranges and the checksums of
//! their Bloom filters and footers, the folded batches, and the objects retired, which are
//! deleted after the grace period ([`TableOptions::with_grace`]). Segments that no manifest
//! names (a compactor killed before its commit left them) are deleted by the next `compact`:
//! it lists the namespace's segments once and removes those of a committed generation that the
//! new manifest neither keeps nor retires.
//!
//! **Records of the per-record layout.** Records that the per-record layout holds (one object
//! each under `v1/visibility/<ns>/`, the built-in providers' layout before the table, see
//! [`object`](crate::object#object-store-layout-version-1); decoded by
//! [`decode_visibility_record`](crate::object::decode_visibility_record))
//! are read like batches of one record until a compaction folds them into segments; the
//! manifest then says so and readers stop listing them. Run [`compact`](VisibilityTable::compact)
//! once per namespace after moving to the table, with every writer upgraded first: a record an
//! old writer adds after that compaction is not read.
//!
//! **A run's close time is its place.** A run archived again replaces its earlier record
//! wherever that is as long as its close time is the same (as it is for a closed run). Archived
//! again with another close time, the earlier row stays in the segment its close time put it
//! in once a compaction has folded the new one elsewhere, and queries can return both.
//!
//! **Query.** One listing of the namespace's log gives the newest manifest (cached: manifests
//! never change) and the unfolded batches, which are read whole. Segments whose time ranges the
//! filter's [`Plan`](visibility_query::Plan) excludes are skipped; of the rest, the footer and
//! offset index (cached) and, for id, type and Keyword lookups, the Bloom filters (one range
//! request, cached) rule out row groups; of the surviving groups, the filter's own columns are
//! read first, then the order columns of only the rows they admit, then whole rows of only
//! those that can make the page, each from the pages holding them (range requests, near ones
//! joined).
//! Every row is checked with the evaluator, rows of runs archived again since the compaction
//! give way to the batches' records, and core's `page_of` orders and pages the result: its
//! keyset token stays right across compactions, since a run is in exactly one place at a time.
//!
//! ```
//! # async fn demo() -> archiver_core::Result<()> {
//! use archiver_core::{ArchiveOptions, QueryRequest, VisibilityArchiver};
//! use archiver_kit::store::MemoryStore;
//! use archiver_kit::table::VisibilityTable;
//!
//! let table = VisibilityTable::new(MemoryStore::new());
//! let uri = "memory://bucket/archive".parse()?;
//! let attributes = archiver_core::testing::search_attributes();
//! for record in archiver_core::testing::test_records("ns", 10) {
//!     table.archive(&uri, &record, &ArchiveOptions::default()).await?;
//! }
//! table.compact(&uri, "ns", &attributes).await?;
//! let page = table
//!     .query(&uri, &QueryRequest::new("ns", "WorkflowId = 'wf-3'"), &attributes)
//!     .await?;
//! assert_eq!(page.executions.len(), 1);
//! # Ok(()) }
//! # tokio::runtime::Runtime::new().unwrap().block_on(demo()).unwrap();
//! ```

mod batch;
mod commit;
mod compact;
mod create;
mod factory;
mod keys;
mod manifest;
mod options;
mod query;
mod read;
mod snapshot;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use crate::object::{ObjectLocation, ObjectStore};
use archiver_core::visibility::compile_query;
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};
use async_trait::async_trait;
use visibility_query::SearchAttributes;

pub use compact::CompactReport;
pub use factory::visibility_factory;
pub use options::TableOptions;
pub use query::QueryStats;

use commit::Committer;
use keys::TableKeys;
use read::Cache;

/// A live segment: where it is and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LiveSegment {
    /// Its key in the location's bucket (for `file://`, its path under the directory).
    pub key: String,
    /// Rows (one per run).
    pub rows: u64,
    /// Its size.
    pub bytes: u64,
    /// The earliest close time it holds.
    pub min_close: jiff::Timestamp,
    /// The latest close time it holds.
    pub max_close: jiff::Timestamp,
}

/// A [`VisibilityArchiver`] over any [`ObjectStore`] that batches writes, compacts them into
/// Parquet segments and answers queries from both (see the [module docs](self)). Cheap to
/// clone: clones share their batches in progress and their caches.
pub struct VisibilityTable<S> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    store: Arc<S>,
    options: TableOptions,
    committer: Arc<Committer>,
    cache: Cache,
    background: Mutex<Background>,
}

/// What background compaction keeps per namespace (by bucket and log prefix).
#[derive(Default)]
struct Background {
    /// Records this process archived since it last started a compaction.
    archived: HashMap<(String, String), usize>,
    /// Compactions running now.
    running: HashSet<(String, String)>,
    /// The search attributes the namespace's latest query brought.
    attributes: HashMap<String, SearchAttributes>,
}

impl<S> Clone for VisibilityTable<S> {
    fn clone(&self) -> Self {
        VisibilityTable {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S: ObjectStore> std::fmt::Debug for VisibilityTable<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VisibilityTable")
            .field("store", &self.inner.store)
            .field("options", &self.inner.options)
            .finish_non_exhaustive()
    }
}

impl<S: ObjectStore> VisibilityTable<S> {
    /// A table storing through `store`, with the default [`TableOptions`].
    pub fn new(store: S) -> Self {
        Self::with_options(store, TableOptions::default())
    }

    /// A table storing through `store`, as `options` say.
    pub fn with_options(store: S, options: TableOptions) -> Self {
        VisibilityTable {
            inner: Arc::new(Inner {
                store: Arc::new(store),
                options,
                committer: Arc::default(),
                cache: Cache::default(),
                background: Mutex::default(),
            }),
        }
    }

    /// The store this table writes through.
    pub fn store(&self) -> &S {
        &self.inner.store
    }

    /// Folds the namespace's batches into segments and commits the next snapshot; deletes
    /// objects superseded longer than the grace period ago. Safe to run while records are
    /// archived and queried, and from several processes at once (one commit wins). The custom
    /// search attributes of `attributes` get typed columns; records' other attributes are kept
    /// exactly too, in the segments' `Extra` column.
    pub async fn compact(
        &self,
        uri: &ArchiveUri,
        namespace_id: &str,
        attributes: &SearchAttributes,
    ) -> Result<CompactReport> {
        let location = self.inner.store.location(uri)?;
        QueryRequest::new(namespace_id, "").validate()?;
        self.compact_all(&location, namespace_id, attributes).await
    }

    /// Compaction rounds until no batch is left, or another compactor commits first.
    async fn compact_all(
        &self,
        location: &ObjectLocation,
        namespace_id: &str,
        attributes: &SearchAttributes,
    ) -> Result<CompactReport> {
        let mut report = CompactReport::default();
        loop {
            let round = self
                .run_compaction(location, namespace_id, attributes)
                .await?;
            let again = round.more && round.generation.is_some();
            report.add(round);
            if !again {
                report.more = false;
                return Ok(report);
            }
        }
    }

    /// The live segments of the namespace's newest snapshot: the files an outside engine
    /// should read. (A glob over the segment directories also sees segments a compaction
    /// replaced, until they are deleted after the grace period.)
    pub async fn segments(&self, uri: &ArchiveUri, namespace_id: &str) -> Result<Vec<LiveSegment>> {
        let location = self.inner.store.location(uri)?;
        QueryRequest::new(namespace_id, "").validate()?;
        let keys = TableKeys::new(&location, namespace_id);
        let snapshot = self.snapshot(&location, &keys).await?;
        Ok(snapshot
            .manifest
            .segments
            .iter()
            .map(|entry| LiveSegment {
                key: entry.key.clone(),
                rows: entry.rows,
                bytes: entry.bytes,
                min_close: entry.min_close,
                max_close: entry.max_close,
            })
            .collect())
    }

    /// [`query`](VisibilityArchiver::query), with what it read.
    pub async fn query_with_stats(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<(QueryResponse, QueryStats)> {
        let location = self.inner.store.location(uri)?;
        let query = compile_query(request, search_attributes)?;
        if self.inner.options.auto_compaction().is_some() {
            self.background()
                .attributes
                .insert(request.namespace_id.clone(), search_attributes.clone());
        }
        self.run_query(&location, request, &query).await
    }

    async fn archive_record(&self, uri: &ArchiveUri, record: &VisibilityRecord) -> Result<()> {
        let location = self.inner.store.location(uri)?;
        record.validate()?;
        let line = batch::line(record)?;
        let keys = TableKeys::new(&location, &record.namespace_id);
        let slot = (location.bucket().to_owned(), keys.log().to_owned());
        self.inner
            .committer
            .commit(
                &self.inner.store,
                &self.inner.options,
                &location,
                keys,
                line,
            )
            .await?;
        self.maybe_compact(location, &record.namespace_id, slot);
        Ok(())
    }

    fn background(&self) -> std::sync::MutexGuard<'_, Background> {
        self.inner
            .background
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// Counts an archived record and, past the auto-compaction threshold, starts compacting
    /// its namespace in the background (one compaction per namespace at a time).
    fn maybe_compact(&self, location: ObjectLocation, namespace_id: &str, slot: (String, String)) {
        let Some(after) = self.inner.options.auto_compaction() else {
            return;
        };
        let attributes = {
            let mut background = self.background();
            let archived = background.archived.entry(slot.clone()).or_default();
            *archived += 1;
            if *archived < after || background.running.contains(&slot) {
                return;
            }
            background.archived.insert(slot.clone(), 0);
            background.running.insert(slot.clone());
            background
                .attributes
                .get(namespace_id)
                .cloned()
                .unwrap_or_else(|| self.inner.options.search_attributes().clone())
        };
        let (table, namespace_id) = (self.clone(), namespace_id.to_owned());
        tokio::spawn(async move {
            match table
                .compact_all(&location, &namespace_id, &attributes)
                .await
            {
                Ok(report) => tracing::debug!(?report, namespace_id, "background compaction"),
                Err(error) => tracing::warn!(%error, namespace_id,
                    "background compaction failed; the next one retries"),
            }
            table.background().running.remove(&slot);
        });
    }
}

#[async_trait]
impl<S: ObjectStore> VisibilityArchiver for VisibilityTable<S> {
    fn scheme(&self) -> &'static str {
        self.inner.store.scheme()
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        options.finish(self.archive_record(uri, record).await)
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        Ok(self
            .query_with_stats(uri, request, search_attributes)
            .await?
            .0)
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        let store = &self.inner.store;
        store.validate_bucket(&store.location(uri)?).await
    }
}
