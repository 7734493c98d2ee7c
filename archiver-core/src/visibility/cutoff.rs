//! Stopping early: when the query's order starts with `CloseTime` or `StartTime` and a
//! provider's index carries those times (file names, object keys), the provider can read
//! candidates in result order and stop as soon as the page is decided, instead of reading every
//! candidate. The logic is the same for every provider: this is it, with no I/O.
//!
//! Once `page_size + 1` matches past the token's position are in hand, only candidates tied
//! (same rank) with the last of them can still change the page; everything ranked after it
//! cannot. [`page_of`](super::page_of) then picks the page from what was read, exactly as it
//! would from every candidate.

use visibility_query::CheckedQuery;

use super::VisibilityRecord;
use crate::QueryRequest;
use crate::page_token::decode_query_token;

/// Which indexed time the query's order starts with, and in which direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeOrder {
    /// `ORDER BY CloseTime` (the default order is `CloseTime DESC`).
    CloseTime {
        /// Newest first.
        descending: bool,
    },
    /// `ORDER BY StartTime`.
    StartTime {
        /// Newest first.
        descending: bool,
    },
}

impl TimeOrder {
    /// The order of `query` when it starts with an indexed time; `None` otherwise (the page
    /// then needs every candidate).
    pub fn of(query: &CheckedQuery) -> Option<Self> {
        let Some(first) = query.order_by().first() else {
            return Some(TimeOrder::CloseTime { descending: true });
        };
        let name = first.name.value.as_str();
        let descending = first.descending;
        if name.eq_ignore_ascii_case("CloseTime") {
            Some(TimeOrder::CloseTime { descending })
        } else if name.eq_ignore_ascii_case("StartTime") {
            Some(TimeOrder::StartTime { descending })
        } else {
            None
        }
    }

    /// The position in result order of a record with these times (Unix nanoseconds); smaller
    /// comes first. Records of equal rank are ordered by the query's later keys.
    pub fn rank(self, close_nanos: i128, start_nanos: i128) -> i128 {
        let (t, descending) = match self {
            TimeOrder::CloseTime { descending } => (close_nanos, descending),
            TimeOrder::StartTime { descending } => (start_nanos, descending),
        };
        if descending { -t } else { t }
    }
}

/// Decides, candidate by candidate in rank order, which candidates a page still needs.
///
/// Use: for each candidate in ascending [`rank`](Self::rank): stop when
/// [`decided`](Self::decided); skip it when [`skips`](Self::skips); otherwise read it, call
/// [`observe`](Self::observe), and keep it for [`page_of`](super::page_of). Without a
/// [`TimeOrder`] nothing is ever decided or skipped: every candidate is read.
#[derive(Debug)]
pub struct PageCutoff<'q> {
    query: &'q CheckedQuery,
    namespace_id: &'q str,
    order: Option<TimeOrder>,
    /// Matches needed past the token to decide the page.
    need: usize,
    counted: usize,
    /// Rank of the token's record: candidates ranked before it are skipped; those tied with
    /// it are read (they may follow it) but not counted.
    resume: Option<i128>,
    /// Rank of the `need`-th counted match: candidates ranked after it are not on the page.
    boundary: Option<i128>,
}

impl<'q> PageCutoff<'q> {
    /// A cutoff for `request` (its page size and token) under `query`'s order.
    ///
    /// A token that does not decode is ignored here; [`page_of`](super::page_of) rejects it.
    pub fn new(query: &'q CheckedQuery, request: &'q QueryRequest) -> Self {
        let times = token_times(request);
        // A token this cutoff cannot read must not be counted from the start: without its
        // position, read every candidate and leave the token to `page_of`.
        let order =
            TimeOrder::of(query).filter(|_| request.next_page_token.is_none() || times.is_some());
        let resume = order
            .zip(times)
            .map(|(order, (close, start))| order.rank(close, start));
        PageCutoff {
            query,
            namespace_id: &request.namespace_id,
            order,
            need: request.page_size.saturating_add(1),
            counted: 0,
            resume,
            boundary: None,
        }
    }

    /// The query's order, when it starts with an indexed time.
    pub fn order(&self) -> Option<TimeOrder> {
        self.order
    }

    /// The rank of a candidate with these times; `0` (all equal) without a [`TimeOrder`].
    pub fn rank(&self, close_nanos: i128, start_nanos: i128) -> i128 {
        self.order
            .map_or(0, |order| order.rank(close_nanos, start_nanos))
    }

    /// The rank of the token's record, when there is a token and an order: candidates ranked
    /// before it are already returned.
    pub fn resume_rank(&self) -> Option<i128> {
        self.resume
    }

    /// Whether a candidate of this rank was on an earlier page (no need to read it).
    pub fn skips(&self, rank: i128) -> bool {
        self.resume.is_some_and(|resume| rank < resume)
    }

    /// Whether candidates of this rank or later can no longer be on the page.
    pub fn decided(&self, rank: i128) -> bool {
        self.boundary.is_some_and(|boundary| rank > boundary)
    }

    /// Counts `record` (a candidate of this rank that was read) if it is on the page's side of
    /// the token and matches the query.
    pub fn observe(&mut self, rank: i128, record: &VisibilityRecord) {
        if self.order.is_none() || self.boundary.is_some() {
            return;
        }
        if self.resume.is_none_or(|resume| rank > resume)
            && record.namespace_id == self.namespace_id
            && self.query.matches(record)
        {
            self.counted += 1;
            if self.counted == self.need {
                self.boundary = Some(rank);
            }
        }
    }
}

/// The close and start times (Unix nanoseconds) of the record `request`'s token continues
/// after, when the token is core's for this request.
fn token_times(request: &QueryRequest) -> Option<(i128, i128)> {
    let after = decode_query_token(request).ok()??;
    Some((
        after.close_time.as_nanosecond(),
        after.start_time.as_nanosecond(),
    ))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;
    use visibility_query::{ExecutionStatus, SearchAttributes};

    use super::*;
    use crate::visibility::page_of;

    fn record(i: usize, minute: i64, failed: bool) -> VisibilityRecord {
        let at = Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minute);
        VisibilityRecord {
            namespace_id: "ns".into(),
            namespace: "n".into(),
            workflow_id: format!("wf-{}", i % 3),
            run_id: format!("run-{i}"),
            workflow_type_name: "t".into(),
            start_time: at - SignedDuration::from_mins((i % 4) as i64),
            execution_time: at,
            close_time: at,
            status: if failed {
                ExecutionStatus::Failed
            } else {
                ExecutionStatus::Completed
            },
            history_length: 1,
            memo: None,
            search_attributes: BTreeMap::new(),
            history_archival_uri: String::new(),
            execution_duration_nanos: None,
        }
    }

    /// What a provider does: read candidates in rank order until decided, then page.
    fn early_page(
        records: &[VisibilityRecord],
        query: &CheckedQuery,
        request: &QueryRequest,
    ) -> (crate::QueryResponse, usize) {
        let mut cutoff = PageCutoff::new(query, request);
        let mut ranked: Vec<_> = records
            .iter()
            .map(|r| {
                let rank = cutoff.rank(r.close_time.as_nanosecond(), r.start_time.as_nanosecond());
                (rank, r)
            })
            .collect();
        ranked.sort_by_key(|(rank, _)| *rank);
        let mut read = Vec::new();
        for (rank, r) in ranked {
            if cutoff.decided(rank) {
                break;
            }
            if cutoff.skips(rank) {
                continue;
            }
            cutoff.observe(rank, r);
            read.push(r);
        }
        let count = read.len();
        (page_of(read, query, request).unwrap(), count)
    }

    proptest! {
        #[test]
        fn early_stop_pages_equal_full_pages(
            rows in prop::collection::vec((0i64..10, any::<bool>()), 0..50),
            page_size in 1usize..6,
            text in prop::sample::select(vec![
                "",
                "ExecutionStatus = 'Failed'",
                "ORDER BY CloseTime ASC",
                "ORDER BY StartTime DESC",
                "ExecutionStatus = 'Completed' ORDER BY StartTime ASC",
                "ORDER BY WorkflowId",
            ]),
        ) {
            let records: Vec<_> = rows
                .iter()
                .enumerate()
                .map(|(i, (minute, failed))| record(i, *minute, *failed))
                .collect();
            let query = visibility_query::compile(text, &SearchAttributes::new()).unwrap();
            let mut request = QueryRequest::new("ns", text).with_page_size(page_size);
            loop {
                let full = page_of(&records, &query, &request).unwrap();
                let (early, _) = early_page(&records, &query, &request);
                prop_assert_eq!(&early, &full);
                match full.next_page_token {
                    Some(token) => request.next_page_token = Some(token),
                    None => break,
                }
            }
        }
    }

    #[test]
    fn default_order_reads_about_one_page() {
        let records: Vec<_> = (0..1_000).map(|i| record(i, i as i64, false)).collect();
        let query = visibility_query::compile("", &SearchAttributes::new()).unwrap();
        let request = QueryRequest::new("ns", "").with_page_size(10);
        let (page, read) = early_page(&records, &query, &request);
        assert_eq!(page.executions.len(), 10);
        assert_eq!(read, 11, "stops after page_size + 1 matches");
        let unordered =
            visibility_query::compile("ORDER BY WorkflowId", &SearchAttributes::new()).unwrap();
        assert_eq!(TimeOrder::of(&unordered), None);
    }
}
