//! [`TableOptions`]: how batches are grouped, segments written and old objects kept.

use std::time::Duration;

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
}
