//! Answering a query: list the namespace's keys newest close time first, keep those the plan
//! admits, download only those (concurrently), and page with core's `page_of`.
//!
//! When the query is ordered by close time descending (the default), listing stops as soon as
//! the page is decided: once `page_size + 1` matches past the token's position are in hand,
//! only keys tied with the last of them can still change the page. A default query therefore
//! costs about one LIST and `page_size` GETs however many records the namespace holds.

use archiver_core::page_token::{decode_page_token, fingerprint};
use archiver_core::visibility::page_of;
use archiver_core::{QueryRequest, QueryResponse, Result, VisibilityRecord};
use visibility_query::CheckedQuery;

use super::GcsVisibilityArchiver;
use super::key::{KeyFilter, VisKey, close_field, identity_of};
use crate::location::Location;

/// Records downloaded at once.
const DOWNLOAD_CONCURRENCY: usize = 16;

/// A key that passed the filter, waiting to be downloaded.
struct Candidate {
    key: String,
    close_nanos: i128,
    identity: String,
}

impl GcsVisibilityArchiver {
    pub(super) async fn run_query(
        &self,
        location: &Location,
        request: &QueryRequest,
        query: &CheckedQuery,
    ) -> Result<QueryResponse> {
        let plan = query.plan();
        if plan.is_empty() {
            return page_of(Vec::<VisibilityRecord>::new(), query, request);
        }
        let filter = KeyFilter::new(&plan);
        let prefix = location.visibility_prefix(&request.namespace_id);
        let newest_first = is_close_time_descending(query);
        // With newest-first order, records at or before the token's close time come next.
        let resume_close = if newest_first {
            token_close_nanos(request)
        } else {
            None
        };
        let start_close = match (filter.newest_close(), resume_close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // `<prefix><close field>` is no record's name and sorts just before every name with
        // that close time, so GCS's inclusive `startOffset` starts exactly there.
        let start = start_close.map(|close| format!("{prefix}{}", close_field(close)));
        let need = request.page_size.saturating_add(1);

        let mut records: Vec<VisibilityRecord> = Vec::new();
        let mut counted = 0usize;
        let mut boundary: Option<i128> = None;
        let mut continuation = None;
        'listing: loop {
            let page = self
                .store
                .list(
                    &location.bucket,
                    &prefix,
                    start.as_deref(),
                    continuation.take(),
                )
                .await
                .map_err(|f| f.into_core("list records", &location.describe(&prefix)))?;
            let mut batch = Vec::new();
            let mut stop = false;
            for key in page.names {
                let Some(parsed) = key.strip_prefix(&prefix).and_then(VisKey::parse) else {
                    continue; // not ours
                };
                if filter.older_than_range(parsed.close_nanos)
                    || boundary.is_some_and(|b| parsed.close_nanos < b)
                {
                    stop = true;
                    break;
                }
                if filter.admits(&parsed) {
                    batch.push(Candidate {
                        key,
                        close_nanos: parsed.close_nanos,
                        identity: parsed.identity,
                    });
                }
            }
            let mut rest = &batch[..];
            while !rest.is_empty() {
                if newest_first && boundary.is_some_and(|b| rest[0].close_nanos < b) {
                    break 'listing;
                }
                // Until the page is decided, fetch no more than it still needs.
                let size = if newest_first && boundary.is_none() {
                    (need - counted).clamp(1, DOWNLOAD_CONCURRENCY)
                } else {
                    DOWNLOAD_CONCURRENCY
                };
                let (chunk, next) = rest.split_at(size.min(rest.len()));
                rest = next;
                for (candidate, record) in self.download(location, chunk).await? {
                    let Some(record) = record else { continue };
                    if newest_first
                        && boundary.is_none()
                        && record.namespace_id == request.namespace_id
                        && query.matches(&record)
                        && resume_close.is_none_or(|r| candidate.close_nanos < r)
                    {
                        counted += 1;
                        if counted == need {
                            boundary = Some(candidate.close_nanos);
                        }
                    }
                    records.push(record);
                }
            }
            match page.next {
                Some(next) if !stop => continuation = Some(next),
                _ => break,
            }
        }
        page_of(records, query, request)
    }

    /// Downloads `chunk` concurrently, in order. Objects that vanished, do not decode, or hold
    /// a record other than their key names are skipped (logged): one bad object never fails a
    /// query.
    async fn download<'c>(
        &self,
        location: &Location,
        chunk: &'c [Candidate],
    ) -> Result<Vec<(&'c Candidate, Option<VisibilityRecord>)>> {
        // A chunk is at most DOWNLOAD_CONCURRENCY keys: all of it is in flight at once.
        let fetched = futures::future::join_all(
            chunk
                .iter()
                .map(|candidate| self.store.get(&location.bucket, &candidate.key)),
        )
        .await;
        let mut out = Vec::with_capacity(fetched.len());
        for (candidate, fetched) in chunk.iter().zip(fetched) {
            let data = fetched
                .map_err(|f| f.into_core("read record", &location.describe(&candidate.key)))?;
            let record =
                data.and_then(
                    |bytes| match serde_json::from_slice::<VisibilityRecord>(&bytes) {
                        Ok(record) if identity_of(&record) == candidate.identity => Some(record),
                        Ok(_) => {
                            tracing::warn!(key = %location.describe(&candidate.key),
                            "visibility record does not belong to its key, skipped");
                            None
                        }
                        Err(error) => {
                            tracing::warn!(key = %location.describe(&candidate.key), %error,
                            "visibility record does not decode, skipped");
                            None
                        }
                    },
                );
            out.push((candidate, record));
        }
        Ok(out)
    }
}

/// Whether results are ordered by close time, newest first, before anything else: the key
/// order, which lets the listing stop early.
fn is_close_time_descending(query: &CheckedQuery) -> bool {
    match query.order_by().first() {
        None => true,
        Some(first) => first.descending && first.name.value.eq_ignore_ascii_case("CloseTime"),
    }
}

/// The close time of the record the token continues after, when the token is core's for this
/// request; anything else is left for `page_of` to reject.
fn token_close_nanos(request: &QueryRequest) -> Option<i128> {
    let token = request.next_page_token.as_deref()?;
    let fp = fingerprint(&[&request.namespace_id, &request.query]);
    decode_page_token::<VisibilityRecord>(token, fp)
        .ok()
        .map(|after| after.close_time.as_nanosecond())
}
