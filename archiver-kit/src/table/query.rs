//! Answering a list filter: snapshot -> the unfolded batches' records -> the segments whose
//! time ranges the plan admits -> their row groups left by statistics and Bloom filters -> the
//! evaluator on each row -> merged with the batches' records (which replace the segments' rows
//! of the same runs) -> ordered and paged by core's `page_of`, whose keyset token stays right
//! whatever compactions happen between two pages: every run is in exactly one place at a time.

use std::cmp::Ordering;
use std::ops::Bound;
use std::sync::Mutex;

use crate::object::{ObjectLocation, ObjectStore};
use archiver_core::page_token::decode_query_token;
use archiver_core::visibility::{TimeOrder, page_of};
use archiver_core::{QueryRequest, QueryResponse, Result, VisibilityRecord};
use jiff::Timestamp;
use visibility_query::{CheckedQuery, Plan, TimeRange};

use super::VisibilityTable;
use super::keys::TableKeys;
use super::manifest::SegmentEntry;
use super::read::{GroupFetch, Rows, WINDOW_GROUPS};
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
    /// Row groups whose filter columns were read.
    pub row_groups_probed: usize,
    /// Row groups with rows worth reading whole (of which only the pages holding those rows
    /// are fetched).
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
        let keep_best = request.page_size.saturating_add(1);
        let wide = QueryRequest {
            page_size: keep_best,
            next_page_token: request.next_page_token.clone(),
            ..request.clone()
        };
        // The columns a row group is first read for: the filter's, the order's, the times
        // every order ends with, and the ids when batch records may replace rows.
        let filter_fields = query.fields_read();
        let mut fields = filter_fields.clone();
        fields.extend(query.order_fields());
        fields.extend(["CloseTime".to_owned(), "StartTime".to_owned()]);
        if !fresh.is_empty() {
            fields.extend(["WorkflowId".to_owned(), "RunId".to_owned()]);
        }
        let ids_read = fields.contains("WorkflowId") && fields.contains("RunId");
        // Ids not read are empty in the partial rows: blank them in what rows are compared
        // with, so a tie in the rest keeps the row (the whole row decides later).
        let blank = |record: &VisibilityRecord| {
            let mut record = record.clone();
            if !fields.contains("WorkflowId") {
                record.workflow_id.clear();
            }
            if !fields.contains("RunId") {
                record.run_id.clear();
            }
            record
        };
        let cursor = decode_query_token(request)?.map(|c| blank(&c));
        // A mutex only to share it between the two closures; nothing runs in parallel here.
        let best: Mutex<Vec<VisibilityRecord>> = Mutex::new(Vec::new());
        // Rows of runs archived again since the compaction are the batches' to give.
        let row_filter = |record: &VisibilityRecord| {
            query.matches(record) && !fresh.contains_key(&run_of(record))
        };
        // From a group's partial rows, those that can still make the page.
        let mut choose = |partial: &[VisibilityRecord]| -> Vec<usize> {
            let best = best.lock().unwrap_or_else(|e| e.into_inner());
            let worst = best
                .get(keep_best.saturating_sub(1))
                .filter(|_| best.len() >= keep_best);
            let rows: Vec<usize> = (0..partial.len())
                .filter(|&i| {
                    let row = &partial[i];
                    query.matches(row)
                        && !(ids_read && fresh.contains_key(&run_of(row)))
                        && cursor
                            .as_ref()
                            .is_none_or(|c| query.compare(row, c) != Ordering::Less)
                        && worst.is_none_or(|w| query.compare(row, w) != Ordering::Greater)
                })
                .collect();
            // Rows tied with the token's record (ids not read) may be it: keep them without
            // letting them take a place among the best.
            let (mut rows, ties): (Vec<usize>, Vec<usize>) = rows.into_iter().partition(|&i| {
                cursor
                    .as_ref()
                    .is_none_or(|c| query.compare(&partial[i], c) != Ordering::Equal)
            });
            if rows.len() > keep_best {
                rows.sort_by(|&a, &b| query.compare(&partial[a], &partial[b]));
                let last = rows[keep_best - 1];
                rows.retain(|&i| query.compare(&partial[i], &partial[last]) != Ordering::Greater);
            }
            rows.extend(ties);
            rows.sort_unstable();
            rows
        };
        let mut keep = |rows: Vec<VisibilityRecord>| -> Result<()> {
            if !rows.is_empty() {
                let mut best = best.lock().unwrap_or_else(|e| e.into_inner());
                best.extend(rows);
                *best = page_of(std::mem::take(&mut *best), query, &wide)?.executions;
            }
            Ok(())
        };
        // Whether rows whose time (in the order's field) is at best `micros` all come after the
        // page so far: then their group, or segment, is not read.
        let order = TimeOrder::of(query);
        let beyond = |micros: i64| -> bool {
            let Some(order) = order else {
                return false;
            };
            let best = best.lock().unwrap_or_else(|e| e.into_inner());
            let Some(worst) = best.get(keep_best - 1) else {
                return false;
            };
            let (time, descending) = match order {
                TimeOrder::CloseTime { descending } => (worst.close_time, descending),
                TimeOrder::StartTime { descending } => (worst.start_time, descending),
            };
            let worst = floor_micros(time);
            if descending {
                micros < worst
            } else {
                micros > worst
            }
        };
        let fetch = group_fetch(&plan, order.is_some(), request.page_size);
        // Segments in the query's order too, by the end of their range nearest the front.
        let mut segments: Vec<&SegmentEntry> = snapshot
            .manifest
            .segments
            .iter()
            .filter(|entry| admits(&plan.close_time, &plan.start_time, entry))
            .collect();
        let segment_best = |entry: &SegmentEntry| {
            order.map(|order| match order {
                TimeOrder::CloseTime { descending: true } => floor_micros(entry.max_close),
                TimeOrder::CloseTime { descending: false } => floor_micros(entry.min_close),
                TimeOrder::StartTime { descending: true } => floor_micros(entry.max_start),
                TimeOrder::StartTime { descending: false } => floor_micros(entry.min_start),
            })
        };
        if let Some(order) = order {
            segments.sort_by_key(|entry| {
                segment_best(entry).map_or(i128::MIN, |t| order.rank(i128::from(t), i128::from(t)))
            });
        }
        for entry in segments {
            if segment_best(entry).is_some_and(beyond) {
                continue;
            }
            stats.segments_read += 1;
            let read = self
                .read_segment(
                    location,
                    entry,
                    &plan,
                    Rows {
                        order,
                        beyond: &beyond,
                        filter_fields: &filter_fields,
                        matches: &|row| query.matches(row),
                        fields: &fields,
                        choose: &mut choose,
                        keep: &mut keep,
                        filter: &row_filter,
                        fetch,
                    },
                )
                .await?;
            stats.row_groups += read.row_groups;
            stats.row_groups_probed += read.row_groups_probed;
            stats.row_groups_read += read.row_groups_read;
        }
        let mut best = best.into_inner().unwrap_or_else(|e| e.into_inner());
        best.extend(fresh.into_values());
        Ok((page_of(best, query, request)?, stats))
    }
}

/// Ids a filter may pin and still be a lookup (a workflow has a few runs).
const LOOKUP_IDS: usize = 8;
/// Pages of a time order up to this size fill from a group or two (a group holds 16,384 rows
/// by default).
const TIME_PAGE_ROWS: usize = 1000;

/// How a query fetches its row groups: whole, one request each, when it touches a few
/// groups. A lookup by id finds its rows in the groups whose Bloom filters admit the ids (one
/// or two); a page in a time order whose filter is times alone (or nothing) fills from the
/// first group or two in that order. Otherwise the query may touch many groups, so it fetches
/// columns and then only the pages holding the rows it returns (fewest bytes).
fn group_fetch(plan: &Plan, time_ordered: bool, page_size: usize) -> GroupFetch {
    let lookup = [&plan.workflow_ids, &plan.run_ids]
        .into_iter()
        .flatten()
        .any(|ids| ids.len() <= LOOKUP_IDS);
    let times_only = plan.exact
        && plan.workflow_ids.is_none()
        && plan.run_ids.is_none()
        && plan.workflow_types.is_none()
        && plan.statuses.is_none()
        && plan.keywords.is_empty();
    if lookup {
        GroupFetch::Whole {
            window: WINDOW_GROUPS,
        }
    } else if time_ordered && times_only && page_size <= TIME_PAGE_ROWS {
        GroupFetch::Whole { window: 1 }
    } else {
        GroupFetch::Columns
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

/// `time` in whole microseconds, floored (as segment statistics hold times).
fn floor_micros(time: Timestamp) -> i64 {
    i64::try_from(time.as_nanosecond().div_euclid(1000)).unwrap_or(i64::MAX)
}
