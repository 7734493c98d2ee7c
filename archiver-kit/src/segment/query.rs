//! Answering a list filter from a segment: row groups the filter's plan rules out are skipped
//! by their statistics (`CloseTime`, `StartTime`) and Bloom filters (`WorkflowId`, `RunId`,
//! `WorkflowType`); the rest are read and every row is checked with the evaluator, so the
//! result is exactly the filter's, whatever the plan could use.

use std::collections::BTreeSet;
use std::ops::Bound;

use archiver_core::VisibilityRecord;
use bytes::Bytes;
use parquet::bloom_filter::Sbbf;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;
use visibility_query::{CheckedQuery, TimeRange};

use super::SegmentError;
use super::columns::{self, SYSTEM};
use super::decode::Opened;
use super::extra::split_time;

/// The records of a segment that match a query, and how much of the segment was read.
#[derive(Debug, Clone, PartialEq)]
pub struct SegmentMatches {
    /// The matching records, in `CloseTime` order.
    pub records: Vec<VisibilityRecord>,
    /// Row groups in the segment.
    pub row_groups: usize,
    /// Row groups whose pages were read (the others were ruled out by the plan).
    pub row_groups_read: usize,
}

/// The records of the segment in `bytes` that `query` matches.
///
/// ```
/// use archiver_kit::segment::{encode_segment, query_segment, SegmentOptions};
/// use visibility_query::{compile, SearchAttributes};
///
/// let records = archiver_core::testing::test_records("ns", 100);
/// let attributes = archiver_core::testing::search_attributes();
/// let options = SegmentOptions::default().with_row_group_rows(10);
/// let bytes = encode_segment(records, &attributes, &options).unwrap();
/// let query = compile("WorkflowId = 'wf-42'", &attributes).unwrap();
/// let found = query_segment(bytes.into(), &query).unwrap();
/// assert_eq!(found.records.len(), 1);
/// assert!(found.row_groups_read < found.row_groups);
/// ```
pub fn query_segment(bytes: Bytes, query: &CheckedQuery) -> Result<SegmentMatches, SegmentError> {
    let segment = Opened::new(bytes)?;
    let row_groups = segment.row_groups();
    let plan = query.plan();
    let mut groups = Vec::new();
    if !plan.is_empty() {
        for g in 0..row_groups {
            let group = segment.metadata().row_group(g);
            let may_match = may_overlap(&plan.close_time, group, columns::CLOSE_TIME)?
                && may_overlap(&plan.start_time, group, columns::START_TIME)?
                && may_hold(
                    &segment,
                    g,
                    columns::WORKFLOW_ID,
                    plan.workflow_ids.as_ref(),
                )?
                && may_hold(&segment, g, columns::RUN_ID, plan.run_ids.as_ref())?
                && may_hold(
                    &segment,
                    g,
                    columns::WORKFLOW_TYPE,
                    plan.workflow_types.as_ref(),
                )?;
            if may_match {
                groups.push(g);
            }
        }
    }
    let row_groups_read = groups.len();
    let records = segment.read(groups, |record| query.matches(record))?;
    Ok(SegmentMatches {
        records,
        row_groups,
        row_groups_read,
    })
}

fn column_index(name: &str) -> usize {
    SYSTEM
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| unreachable!("{name} is a system column"))
}

/// Whether a row group's time column may hold a time in `range`, by its statistics. The column
/// holds microseconds (the time floored), so a bound is compared at its own microsecond.
fn may_overlap(
    range: &TimeRange,
    group: &RowGroupMetaData,
    column: &str,
) -> Result<bool, SegmentError> {
    if range.is_unbounded() {
        return Ok(true);
    }
    let Some(Statistics::Int64(stats)) = group.column(column_index(column)).statistics() else {
        // Without statistics nothing can be ruled out.
        return Ok(true);
    };
    let (Some(&min), Some(&max)) = (stats.min_opt(), stats.max_opt()) else {
        return Ok(true);
    };
    let micros = |t| split_time(t).0;
    let above_start = match range.start {
        Bound::Included(s) | Bound::Excluded(s) => max >= micros(s),
        Bound::Unbounded => true,
    };
    let below_end = match range.end {
        Bound::Included(e) | Bound::Excluded(e) => min <= micros(e),
        Bound::Unbounded => true,
    };
    Ok(above_start && below_end)
}

/// Whether a row group may hold one of `values` in `column`, by its (verified) Bloom filter.
fn may_hold(
    segment: &Opened,
    g: usize,
    column: &str,
    values: Option<&BTreeSet<String>>,
) -> Result<bool, SegmentError> {
    let Some(values) = values else {
        return Ok(true);
    };
    let c = column_index(column);
    let chunk = segment.metadata().row_group(g).column(c);
    if chunk.bloom_filter_offset().is_none() {
        return Ok(true);
    }
    segment
        .checksums()
        .verify_bloom(segment.bytes(), segment.metadata().row_groups(), g, c)?;
    let filter = Sbbf::read_from_column_chunk(chunk, segment.bytes())
        .map_err(|e| SegmentError::corrupted(format!("Bloom filter of {column}: {e}")))?;
    Ok(match filter {
        Some(filter) => values.iter().any(|v| filter.check(&v.as_str())),
        None => true,
    })
}
