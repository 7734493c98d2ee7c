//! One page of query results, the same way for every provider.
//!
//! The order is the query's (`ORDER BY`, newest close time first by default) with workflow id
//! and run id breaking ties, so it is total. The page token carries the last returned record's
//! sort keys: the next page starts *after* that key, so every record is returned exactly once
//! even when records are archived between pages. Selection keeps only the best `page_size + 1`
//! candidates in a bounded heap: O(n log page_size) time, O(page_size) memory.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use visibility_query::{CheckedQuery, SearchAttributes};

use super::VisibilityRecord;
use crate::page_token::{decode_page_token, encode_page_token, fingerprint};
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

/// The total order of results: the query's, then workflow id, then run id.
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
    let token_fingerprint = fingerprint(&[&request.namespace_id, &request.query]);
    let after: Option<VisibilityRecord> = request
        .next_page_token
        .as_deref()
        .map(|token| decode_page_token(token, token_fingerprint))
        .transpose()?;
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
        Some(encode_page_token(token_fingerprint, &last)?)
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
