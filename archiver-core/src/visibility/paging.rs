//! One page of query results, the same way for every provider.
//!
//! The order is the query's ([`CheckedQuery::compare`]: its `ORDER BY` keys, then close time and
//! start time newest first, run id, workflow id), which is total over a namespace's records. The
//! page token carries the last returned record's sort keys: the next page starts *after* that
//! key, so every record is returned exactly once even when records are archived between pages.
//! Selection keeps only the best `page_size + 1` candidates in a bounded heap: O(n log page_size)
//! time, O(page_size) memory.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use visibility_query::{CheckedQuery, SearchAttributes};

use super::VisibilityRecord;
use crate::page_token::{decode_query_token, encode_page_token, query_fingerprint};
use crate::{Error, QueryRequest, QueryResponse, Result};

/// Validates `request` and compiles its query against `search_attributes`
/// ([`Error::InvalidQuery`] when it does not parse or type-check).
pub fn compile_query(
    request: &QueryRequest,
    search_attributes: &SearchAttributes,
) -> Result<CheckedQuery> {
    request.validate()?;
    Ok(visibility_query::compile(
        &request.query,
        search_attributes,
    )?)
}

/// The total order of results: [`CheckedQuery::compare`] (its `ORDER BY` keys, then close time
/// and start time newest first, then run id, then workflow id). The workflow id and run id
/// comparisons after it never decide: `compare` calls two records equal only when both ids are
/// equal too.
fn order(query: &CheckedQuery, a: &VisibilityRecord, b: &VisibilityRecord) -> Ordering {
    query
        .compare(a, b)
        .then_with(|| a.workflow_id.cmp(&b.workflow_id))
        .then_with(|| a.run_id.cmp(&b.run_id))
}

/// A candidate in the bounded heap; the greatest is the one that would be returned last.
struct Ranked<'q, R> {
    record: R,
    query: &'q CheckedQuery,
}

impl<R: Borrow<VisibilityRecord>> PartialEq for Ranked<'_, R> {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl<R: Borrow<VisibilityRecord>> Eq for Ranked<'_, R> {}
impl<R: Borrow<VisibilityRecord>> PartialOrd for Ranked<'_, R> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<R: Borrow<VisibilityRecord>> Ord for Ranked<'_, R> {
    fn cmp(&self, other: &Self) -> Ordering {
        order(self.query, self.record.borrow(), other.record.borrow())
    }
}

/// Returns the page of `request` from `candidates`: the records of the request's namespace
/// that match `query`, in order, after the request's token.
///
/// `candidates` may be a superset (a provider's index prunes, it need not be exact); records of
/// other namespaces and non-matching records are dropped here. Candidates may be borrowed:
/// only the returned page is cloned.
pub fn page_of<R: Borrow<VisibilityRecord>>(
    candidates: impl IntoIterator<Item = R>,
    query: &CheckedQuery,
    request: &QueryRequest,
) -> Result<QueryResponse> {
    request.validate()?;
    let after = decode_query_token(request)?;
    let keep = request.page_size.saturating_add(1);
    let mut heap = BinaryHeap::with_capacity(keep.min(4096) + 1);
    for record in candidates {
        let candidate = record.borrow();
        if candidate.namespace_id != request.namespace_id || !query.matches(candidate) {
            continue;
        }
        if after
            .as_ref()
            .is_some_and(|after| order(query, candidate, after) != Ordering::Greater)
        {
            continue;
        }
        let ranked = Ranked { record, query };
        if heap.len() == keep {
            // Full: the newcomer only gets in by beating the current last.
            if heap.peek().is_some_and(|last| ranked < *last) {
                heap.pop();
                heap.push(ranked);
            }
        } else {
            heap.push(ranked);
        }
    }
    let mut executions: Vec<VisibilityRecord> = heap
        .into_sorted_vec()
        .into_iter()
        .map(|r| r.record.borrow().clone())
        .collect();
    let next_page_token = if executions.len() > request.page_size {
        executions.truncate(request.page_size);
        let last = executions
            .last()
            .map(cursor_of)
            .ok_or_else(|| Error::CorruptedToken {
                reason: "empty page".into(),
            })?;
        Some(encode_page_token(query_fingerprint(request), &last)?)
    } else {
        None
    };
    Ok(QueryResponse {
        executions,
        next_page_token,
    })
}

/// What the token keeps of a record: every field an `ORDER BY` may sort on, without the memo.
fn cursor_of(record: &VisibilityRecord) -> VisibilityRecord {
    VisibilityRecord {
        memo: None,
        history_archival_uri: String::new(),
        ..record.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use jiff::{SignedDuration, Timestamp};
    use proptest::prelude::*;
    use visibility_query::ExecutionStatus;

    use super::*;

    fn record(i: usize, minute: i64, kind: u8) -> VisibilityRecord {
        let at = Timestamp::UNIX_EPOCH + SignedDuration::from_mins(minute);
        VisibilityRecord {
            namespace_id: if kind == 3 {
                "other".into()
            } else {
                "ns".into()
            },
            namespace: "n".into(),
            workflow_id: format!("wf-{}", i % 5),
            run_id: format!("run-{i}"),
            workflow_type_name: ["a", "b", "c"][usize::from(kind % 3)].into(),
            start_time: at,
            execution_time: at,
            close_time: at,
            status: ExecutionStatus::Completed,
            history_length: 1,
            memo: None,
            search_attributes: BTreeMap::new(),
            history_archival_uri: String::new(),
            execution_duration_nanos: None,
        }
    }

    fn all_pages(
        records: &[VisibilityRecord],
        query: &CheckedQuery,
        mut request: QueryRequest,
    ) -> Vec<VisibilityRecord> {
        let mut out = Vec::new();
        loop {
            let page = page_of(records, query, &request).unwrap();
            assert!(page.executions.len() <= request.page_size);
            out.extend(page.executions);
            match page.next_page_token {
                Some(token) => request.next_page_token = Some(token),
                None => return out,
            }
        }
    }

    fn records_strategy() -> impl Strategy<Value = Vec<VisibilityRecord>> {
        // Few distinct minutes, so close times tie and the tie-breakers matter.
        prop::collection::vec((0i64..8, 0u8..4), 0..60).prop_map(|v| {
            v.into_iter()
                .enumerate()
                .map(|(i, (minute, kind))| record(i, minute, kind))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn pages_are_the_sorted_matches_exactly_once(
            records in records_strategy(),
            page_size in 1usize..10,
            text in prop::sample::select(vec!["", "WorkflowType = 'a'", "WorkflowType != 'b' ORDER BY CloseTime ASC"]),
        ) {
            let query = visibility_query::compile(text, &SearchAttributes::new()).unwrap();
            let mut expected: Vec<_> = records
                .iter()
                .filter(|r| r.namespace_id == "ns" && query.matches(*r))
                .cloned()
                .collect();
            expected.sort_by(|a, b| order(&query, a, b));
            let request = QueryRequest::new("ns", text).with_page_size(page_size);
            prop_assert_eq!(all_pages(&records, &query, request), expected);
        }

        #[test]
        fn records_added_between_pages_never_duplicate_or_drop_old_ones(
            records in records_strategy(),
            added in records_strategy(),
            page_size in 1usize..6,
        ) {
            let query = visibility_query::compile("", &SearchAttributes::new()).unwrap();
            let mut request = QueryRequest::new("ns", "").with_page_size(page_size);
            let first = page_of(&records, &query, &request).unwrap();
            let mut seen = first.executions;
            let mut all = records.clone();
            all.extend(added.into_iter().map(|mut r| { r.run_id = format!("new-{}", r.run_id); r }));
            if let Some(token) = first.next_page_token {
                request.next_page_token = Some(token);
                seen.extend(all_pages(&all, &query, request));
            }
            let mut ids: Vec<_> = seen.iter().map(|r| r.run_id.clone()).collect();
            ids.sort();
            let before = ids.len();
            ids.dedup();
            prop_assert_eq!(before, ids.len(), "a record was returned twice");
            for r in records.iter().filter(|r| r.namespace_id == "ns") {
                prop_assert!(ids.contains(&r.run_id), "{} was dropped", r.run_id);
            }
        }
    }

    #[test]
    fn tokens_are_bound_to_namespace_and_query() {
        let records: Vec<_> = (0..5).map(|i| record(i, i as i64, 0)).collect();
        let query = visibility_query::compile("", &SearchAttributes::new()).unwrap();
        let request = QueryRequest::new("ns", "").with_page_size(2);
        let token = page_of(&records, &query, &request).unwrap().next_page_token;
        assert!(token.is_some(), "more records follow a full page");
        for other in [
            QueryRequest::new("ns2", ""),
            QueryRequest::new("ns", "WorkflowType = 'a'"),
        ] {
            let other = other.with_page_size(2).with_next_page_token(token.clone());
            assert!(matches!(
                page_of(&records, &query, &other),
                Err(Error::CorruptedToken { .. })
            ));
        }
        // An exactly full last page gets no token (Temporal's filestore always gave one).
        let exact = QueryRequest::new("ns", "").with_page_size(5);
        assert!(
            page_of(&records, &query, &exact)
                .unwrap()
                .next_page_token
                .is_none()
        );
    }
}
