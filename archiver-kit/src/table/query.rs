//! Answering a list filter: snapshot -> the unfolded batches' records -> the segments whose
//! time ranges the plan admits -> their row groups left by statistics and Bloom filters -> the
//! evaluator on each row -> merged with the batches' records (which replace the segments' rows
//! of the same runs) -> ordered and paged by core's `page_of`, whose keyset token stays right
//! whatever compactions happen between two pages: every run is in exactly one place at a time.

use std::ops::Bound;

use archiver_core::object::{ObjectLocation, ObjectStore};
use archiver_core::visibility::page_of;
use archiver_core::{QueryRequest, QueryResponse, Result, VisibilityRecord};
use jiff::Timestamp;
use visibility_query::{CheckedQuery, TimeRange};

use super::VisibilityTable;
use super::keys::TableKeys;
use super::manifest::SegmentEntry;
use super::snapshot::run_of;

/// What one query read, for tests and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueryStats {
    /// Batches not yet folded, all read.
    pub batches: usize,
    /// Live segments in the snapshot.
    pub segments: usize,
    /// Segments whose time ranges the filter admits.
    pub segments_read: usize,
    /// Row groups in the segments read.
    pub row_groups: usize,
    /// Row groups whose pages were fetched whole (a group whose filter columns hold no match
    /// is not).
    pub row_groups_read: usize,
}

impl<S: ObjectStore> VisibilityTable<S> {
    pub(crate) async fn run_query(
        &self,
        location: &ObjectLocation,
        request: &QueryRequest,
        query: &CheckedQuery,
    ) -> Result<(QueryResponse, QueryStats)> {
        let plan = query.plan();
        let mut stats = QueryStats::default();
        if plan.is_empty() {
            return Ok((
                page_of(Vec::<VisibilityRecord>::new(), query, request)?,
                stats,
            ));
        }
        let keys = TableKeys::new(location, &request.namespace_id);
        let snapshot = self.snapshot(location, &keys).await?;
        let fresh = self
            .read_batches(location, &keys, &snapshot.batches)
            .await?;
        stats.batches = snapshot.batches.len();
        stats.segments = snapshot.manifest.segments.len();

        // A page and one more decides the page: keep that many of the best so far, so memory
        // holds a page and one row group's matches, whatever the archive holds.
        let wide = QueryRequest {
            page_size: request.page_size.saturating_add(1),
            next_page_token: request.next_page_token.clone(),
            ..request.clone()
        };
        let mut best: Vec<VisibilityRecord> = Vec::new();
        // Rows of runs archived again since the last compaction are the batches' to give.
        let row_filter = |record: &VisibilityRecord| {
            query.matches(record) && !fresh.contains_key(&run_of(record))
        };
        for entry in snapshot
            .manifest
            .segments
            .iter()
            .filter(|entry| admits(&plan.close_time, &plan.start_time, entry))
        {
            stats.segments_read += 1;
            let read = self
                .read_segment(
                    location,
                    entry,
                    query,
                    &plan,
                    |rows| {
                        if !rows.is_empty() {
                            best.extend(rows);
                            best = page_of(std::mem::take(&mut best), query, &wide)?.executions;
                        }
                        Ok(())
                    },
                    &row_filter,
                )
                .await?;
            stats.row_groups += read.row_groups;
            stats.row_groups_read += read.row_groups_read;
        }
        best.extend(fresh.into_values());
        Ok((page_of(best, query, request)?, stats))
    }
}

/// Whether a segment's close and start times may fall in the plan's ranges.
fn admits(close: &TimeRange, start: &TimeRange, entry: &SegmentEntry) -> bool {
    overlaps(close, entry.min_close, entry.max_close)
        && overlaps(start, entry.min_start, entry.max_start)
}

fn overlaps(range: &TimeRange, min: Timestamp, max: Timestamp) -> bool {
    let above_start = match range.start {
        Bound::Included(s) => max >= s,
        Bound::Excluded(s) => max > s,
        Bound::Unbounded => true,
    };
    let below_end = match range.end {
        Bound::Included(e) => min <= e,
        Bound::Excluded(e) => min < e,
        Bound::Unbounded => true,
    };
    above_start && below_end
}
