//! [`TableOptions`]: how batches are grouped, segments written and old objects kept.

use std::time::Duration;

use visibility_query::SearchAttributes;

use crate::segment::SegmentOptions;

/// How a visibility table groups writes, compacts and keeps superseded objects.
///
/// ```
/// use std::time::Duration;
/// use archiver_kit::table::TableOptions;
/// let options = TableOptions::default()
///     .with_batch_window(Duration::from_millis(20))
///     .with_max_batch_records(500);
/// assert_eq!(options.batch_window(), Duration::from_millis(20));
/// ```
#[derive(Debug, Clone)]
pub struct TableOptions {
    batch_window: Duration,
    max_batch_records: usize,
    max_batch_bytes: usize,
    grace: Duration,
    max_segment_rows: usize,
    segment: SegmentOptions,
    auto_compact_after: Option<usize>,
    search_attributes: SearchAttributes,
}

impl Default for TableOptions {
    fn default() -> Self {
        TableOptions {
            // 50 ms at 500 closes/s: 25 records a batch, 0.04 writes per record.
            batch_window: Duration::from_millis(50),
            max_batch_records: 1000,
            max_batch_bytes: 8 << 20,
            grace: Duration::from_secs(600),
            max_segment_rows: 1 << 20,
            segment: SegmentOptions::default(),
            auto_compact_after: Some(50_000),
            search_attributes: SearchAttributes::new(),
        }
    }
}

impl TableOptions {
    /// How long the first record of a batch waits for others of its namespace before the
    /// batch is written (default 50 ms). Every `archive` call returns once its batch is
    /// durable, so this is added latency traded for fewer writes; zero still groups the
    /// records that arrive together.
    pub fn with_batch_window(mut self, window: Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// The batch window.
    pub fn batch_window(&self) -> Duration {
        self.batch_window
    }

    /// A batch is written as soon as it holds this many records (default 1,000; at least 1).
    pub fn with_max_batch_records(mut self, records: usize) -> Self {
        self.max_batch_records = records.max(1);
        self
    }

    /// The most records a batch holds.
    pub fn max_batch_records(&self) -> usize {
        self.max_batch_records
    }

    /// A batch is written as soon as its records' JSON reaches this many bytes (default 8 MiB).
    pub fn with_max_batch_bytes(mut self, bytes: usize) -> Self {
        self.max_batch_bytes = bytes.max(1);
        self
    }

    /// The batch size that triggers a write.
    pub fn max_batch_bytes(&self) -> usize {
        self.max_batch_bytes
    }

    /// How long folded batches, replaced segments and superseded manifests are kept before a
    /// compaction deletes them (default 10 minutes): a query that started from an older
    /// snapshot finds everything it names for this long.
    pub fn with_grace(mut self, grace: Duration) -> Self {
        self.grace = grace;
        self
    }

    /// The grace period.
    pub fn grace(&self) -> Duration {
        self.grace
    }

    /// The most rows one segment holds (default 1,048,576); a larger partition is several
    /// segments.
    pub fn with_max_segment_rows(mut self, rows: usize) -> Self {
        self.max_segment_rows = rows.max(1);
        self
    }

    /// The most rows one segment holds.
    pub fn max_segment_rows(&self) -> usize {
        self.max_segment_rows
    }

    /// How segments are encoded (row group size, compression).
    pub fn with_segment_options(mut self, segment: SegmentOptions) -> Self {
        self.segment = segment;
        self
    }

    /// How segments are encoded.
    pub fn segment_options(&self) -> &SegmentOptions {
        &self.segment
    }

    /// Compact a namespace in the background once this process has archived this many of its
    /// records since its last compaction (default 50,000); `None` leaves compaction to explicit
    /// [`compact`](super::VisibilityTable::compact) calls. Queries read uncompacted records
    /// whole, so this bounds what a query reads beyond the segments.
    pub fn with_auto_compaction(mut self, after_records: Option<usize>) -> Self {
        self.auto_compact_after = after_records.map(|n| n.max(1));
        self
    }

    /// When a namespace is compacted in the background.
    pub fn auto_compaction(&self) -> Option<usize> {
        self.auto_compact_after
    }

    /// The custom search attributes background compactions give typed columns, until a query
    /// of the namespace brings the namespace's own (default none: attributes then go to the
    /// segments' `Extra` column, still exact).
    pub fn with_search_attributes(mut self, attributes: SearchAttributes) -> Self {
        self.search_attributes = attributes;
        self
    }

    /// The search attributes background compactions start from.
    pub fn search_attributes(&self) -> &SearchAttributes {
        &self.search_attributes
    }
}
