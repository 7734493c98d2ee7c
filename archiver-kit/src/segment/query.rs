//! Answering a list filter from a segment: row groups the filter's plan rules out are skipped
//! by their statistics (`CloseTime`, `StartTime`) and Bloom filters (`WorkflowId`, `RunId`,
//! `WorkflowType`, custom Keyword columns); the rest are read and every row is checked with the evaluator, so the
//! result is exactly the filter's, whatever the plan could use.

use std::collections::BTreeSet;
use std::ops::Bound;

use archiver_core::VisibilityRecord;
use bytes::Bytes;
use parquet::bloom_filter::Sbbf;
use parquet::file::metadata::RowGroupMetaData;
use parquet::file::statistics::Statistics;
use visibility_query::{CheckedQuery, Plan, TimeRange};

use super::SegmentError;
use super::columns::{self, SYSTEM};
use super::decode::read_groups;
use super::extra::split_time;
use super::footer::{SegmentFooter, SegmentTail};
use super::sparse::SparseFile;

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

/// The records of the segment in `bytes` that `query` matches. `tail` is what was recorded when
/// the segment was written ([`SegmentTail::of`]): the footer and Bloom filters are verified
/// against it before they prune anything.
///
/// ```
/// use archiver_kit::segment::{encode_segment, query_segment, SegmentOptions, SegmentTail};
/// use visibility_query::{compile, SearchAttributes};
///
/// let records = archiver_core::testing::test_records("ns", 100);
/// let attributes = archiver_core::testing::search_attributes();
/// let options = SegmentOptions::default().with_row_group_rows(10);
/// let bytes = encode_segment(records, &attributes, &options).unwrap();
/// let tail = SegmentTail::of(&bytes).unwrap();
/// let query = compile("WorkflowId = 'wf-42'", &attributes).unwrap();
/// let found = query_segment(bytes.into(), &tail, &query).unwrap();
/// assert_eq!(found.records.len(), 1);
/// assert!(found.row_groups_read < found.row_groups);
/// ```
pub fn query_segment(
    bytes: Bytes,
    tail: &SegmentTail,
    query: &CheckedQuery,
) -> Result<SegmentMatches, SegmentError> {
    let file = SparseFile::whole(bytes);
    let footer = SegmentFooter::read(&file, Some(tail))?;
    if let Some(blooms) = &tail.blooms {
        blooms.verify(&file, "Bloom filters")?;
    }
    let plan = query.plan();
    let groups = footer.candidate_groups(&plan);
    let groups = footer.prune_by_blooms(&file, groups, &plan)?;
    let row_groups_read = groups.len();
    let records = read_groups(&file, &footer, groups, |record| query.matches(record))?;
    Ok(SegmentMatches {
        records,
        row_groups: footer.row_groups(),
        row_groups_read,
    })
}

impl SegmentFooter {
    /// The row groups that may hold rows `plan` admits, by their `CloseTime` and `StartTime`
    /// statistics (no I/O).
    pub fn candidate_groups(&self, plan: &Plan) -> Vec<usize> {
        if plan.is_empty() {
            return Vec::new();
        }
        (0..self.row_groups())
            .filter(|&g| {
                let group = self.metadata().row_group(g);
                may_overlap(&plan.close_time, group, columns::CLOSE_TIME)
                    && may_overlap(&plan.start_time, group, columns::START_TIME)
            })
            .collect()
    }

    /// Whether `plan` names values the Bloom filters can rule out (ids, types, keywords).
    pub fn uses_blooms(plan: &Plan) -> bool {
        plan.workflow_ids.is_some()
            || plan.run_ids.is_some()
            || plan.workflow_types.is_some()
            || !plan.keywords.is_empty()
    }

    /// `groups` without those whose Bloom filters rule out every value `plan` names. `file`
    /// holds the segment's Bloom filters, verified against its [`SegmentTail`], whenever
    /// [`uses_blooms`](Self::uses_blooms) says they are read.
    pub fn prune_by_blooms(
        &self,
        file: &SparseFile,
        groups: Vec<usize>,
        plan: &Plan,
    ) -> Result<Vec<usize>, SegmentError> {
        if !Self::uses_blooms(plan) {
            return Ok(groups);
        }
        // Keyword columns by the segment's own description: a column of another type, or an
        // attribute kept only in `Extra`, rules nothing out.
        let keywords: Vec<(usize, &BTreeSet<String>)> = plan
            .keywords
            .iter()
            .filter_map(|(name, values)| {
                let at = self.description.attributes.iter().position(|(n, ty)| {
                    n == name && *ty == visibility_query::SearchAttributeType::Keyword
                })?;
                Some((SYSTEM.len() + at, values))
            })
            .collect();
        let system = [
            (columns::WORKFLOW_ID, plan.workflow_ids.as_ref()),
            (columns::RUN_ID, plan.run_ids.as_ref()),
            (columns::WORKFLOW_TYPE, plan.workflow_types.as_ref()),
        ];
        let named: Vec<(usize, &BTreeSet<String>)> = system
            .into_iter()
            .filter_map(|(column, values)| Some((column_index(column), values?)))
            .chain(keywords)
            .collect();
        let mut kept = Vec::with_capacity(groups.len());
        for g in groups {
            let mut may = true;
            for (c, values) in &named {
                may = may && self.may_hold(file, g, *c, values)?;
            }
            if may {
                kept.push(g);
            }
        }
        Ok(kept)
    }

    /// Whether row group `g` may hold one of `values` in leaf column `c`, by its Bloom filter.
    fn may_hold(
        &self,
        file: &SparseFile,
        g: usize,
        c: usize,
        values: &BTreeSet<String>,
    ) -> Result<bool, SegmentError> {
        let chunk = self.metadata().row_group(g).column(c);
        let column = chunk.column_path().string();
        if chunk.bloom_filter_offset().is_none() {
            return Ok(true);
        }
        let filter = Sbbf::read_from_column_chunk(chunk, file)
            .map_err(|e| SegmentError::corrupted(format!("Bloom filter of {column}: {e}")))?;
        Ok(match filter {
            Some(filter) => values.iter().any(|v| filter.check(&v.as_str())),
            None => true,
        })
    }
}

fn column_index(name: &str) -> usize {
    SYSTEM
        .iter()
        .position(|c| *c == name)
        .unwrap_or_else(|| unreachable!("{name} is a system column"))
}

impl SegmentFooter {
    /// The least and greatest `CloseTime` (`close`) or `StartTime` of row group `g` in
    /// microseconds (floored), by its statistics; `None` without them.
    pub fn group_time_range(&self, g: usize, close: bool) -> Option<(i64, i64)> {
        let column = if close {
            columns::CLOSE_TIME
        } else {
            columns::START_TIME
        };
        let group = self.metadata().row_groups().get(g)?;
        let Some(Statistics::Int64(stats)) = group.column(column_index(column)).statistics() else {
            return None;
        };
        Some((*stats.min_opt()?, *stats.max_opt()?))
    }
}

/// Whether a row group's time column may hold a time in `range`, by its statistics. The column
/// holds microseconds (the time floored), so a bound is compared at its own microsecond.
fn may_overlap(range: &TimeRange, group: &RowGroupMetaData, column: &str) -> bool {
    if range.is_unbounded() {
        return true;
    }
    let Some(Statistics::Int64(stats)) = group.column(column_index(column)).statistics() else {
        // Without statistics nothing can be ruled out.
        return true;
    };
    let (Some(&min), Some(&max)) = (stats.min_opt(), stats.max_opt()) else {
        return true;
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
    above_start && below_end
}
