//! Answering a query: list the namespace's keys, keep those the plan admits, download only
//! those (concurrently), and page with core's `page_of`.
//!
//! When the query's order starts with `CloseTime` or `StartTime` (both are in the key), the
//! candidates are downloaded in that order and downloading stops as soon as the page is
//! decided: once `page_size + 1` matches past the token's position are in hand, only keys tied
//! with the last of them can still change the page. In the default order (`CloseTime DESC`,
//! the listing's own order) listing stops then too, so a default query costs about one LIST
//! and `page_size` GETs however many records the namespace holds. Other orders download every
//! admitted record.

use archiver_core::page_token::{decode_page_token, fingerprint};
use archiver_core::visibility::page_of;
use archiver_core::{QueryRequest, QueryResponse, Result, VisibilityRecord};
use visibility_query::CheckedQuery;

use super::S3VisibilityArchiver;
use super::key::{KeyFilter, VisKey, close_field, identity_of};
use crate::location::Location;

/// Records downloaded at once.
const DOWNLOAD_CONCURRENCY: usize = 16;

/// How the query's order relates to what keys carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Walk {
    /// `CloseTime DESC` first: the listing order itself.
    NewestCloseFirst,
    /// `CloseTime` or `StartTime` first, in some direction: sort the listed keys.
    ByKeyTime { start_time: bool, descending: bool },
    /// Anything else: every admitted record is needed.
    Unordered,
}

impl Walk {
    fn of(query: &CheckedQuery) -> Self {
        let Some(first) = query.order_by().first() else {
            return Walk::NewestCloseFirst;
        };
        let name = first.name.value.as_str();
        let start_time = name.eq_ignore_ascii_case("StartTime");
        if !start_time && !name.eq_ignore_ascii_case("CloseTime") {
            return Walk::Unordered;
        }
        if !start_time && first.descending {
            return Walk::NewestCloseFirst;
        }
        Walk::ByKeyTime {
            start_time,
            descending: first.descending,
        }
    }

    /// The position in result order of a record with these times (smaller comes first);
    /// `None` when the order is not by a key time.
    fn rank(self, close_nanos: i128, start_nanos: i128) -> Option<i128> {
        match self {
            Walk::NewestCloseFirst => Some(-close_nanos),
            Walk::ByKeyTime {
                start_time,
                descending,
            } => {
                let t = if start_time { start_nanos } else { close_nanos };
                Some(if descending { -t } else { t })
            }
            Walk::Unordered => None,
        }
    }
}

/// A key that passed the filter, waiting to be downloaded.
struct Candidate {
    key: String,
    identity: String,
    /// Position in result order (0 for [`Walk::Unordered`]).
    rank: i128,
}

/// Downloads candidates (in rank order) until the page is decided.
struct Collector<'a> {
    request: &'a QueryRequest,
    query: &'a CheckedQuery,
    /// Matches needed past the token to decide the page.
    need: usize,
    counted: usize,
    /// Rank of the token's record: candidates ranked before it are skipped, those tied with it
    /// downloaded (they may follow it) but not counted.
    resume: Option<i128>,
    /// Rank of the `need`-th counted match: candidates ranked after it cannot be on the page.
    boundary: Option<i128>,
    records: Vec<VisibilityRecord>,
}

impl Collector<'_> {
    /// Whether candidates of this rank or later no longer matter.
    fn decided(&self, rank: i128) -> bool {
        self.boundary.is_some_and(|b| rank > b)
    }

    /// Downloads `candidates` (ascending rank) until decided; returns whether it is.
    async fn take(
        &mut self,
        archiver: &S3VisibilityArchiver,
        location: &Location,
        candidates: &[Candidate],
    ) -> Result<bool> {
        let mut rest = candidates;
        if let Some(resume) = self.resume {
            let skip = rest.partition_point(|c| c.rank < resume);
            rest = &rest[skip..];
        }
        while let Some(first) = rest.first() {
            if self.decided(first.rank) {
                return Ok(true);
            }
            // Until the page is decided, fetch no more than it still needs.
            let size = if self.boundary.is_none() {
                (self.need - self.counted).clamp(1, DOWNLOAD_CONCURRENCY)
            } else {
                DOWNLOAD_CONCURRENCY
            };
            let (chunk, next) = rest.split_at(size.min(rest.len()));
            rest = next;
            for (candidate, record) in archiver.download(location, chunk).await? {
                let Some(record) = record else { continue };
                if self.boundary.is_none()
                    && self.resume.is_none_or(|r| candidate.rank > r)
                    && record.namespace_id == self.request.namespace_id
                    && self.query.matches(&record)
                {
                    self.counted += 1;
                    if self.counted == self.need {
                        self.boundary = Some(candidate.rank);
                    }
                }
                self.records.push(record);
            }
        }
        Ok(false)
    }
}

impl S3VisibilityArchiver {
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
        let walk = Walk::of(query);
        let cursor = token_cursor(request);
        let mut collector = Collector {
            request,
            query,
            // Unordered walks never decide early.
            need: match walk {
                Walk::Unordered => usize::MAX,
                _ => request.page_size.saturating_add(1),
            },
            counted: 0,
            resume: cursor.and_then(|(close, start)| walk.rank(close, start)),
            boundary: None,
            records: Vec::new(),
        };
        // Newest-first walks start listing at the token's close time when there is one.
        let resume_close = cursor
            .filter(|_| walk == Walk::NewestCloseFirst)
            .map(|(close, _)| close);
        let start_close = match (filter.newest_close(), resume_close) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        // `<prefix><close field>` sorts just before every key with that close time.
        let start_after = start_close.map(|close| format!("{prefix}{}", close_field(close)));

        let mut sorted = Vec::new();
        let mut continuation = None;
        loop {
            let page = self
                .store
                .list(
                    &location.bucket,
                    &prefix,
                    start_after.as_deref(),
                    continuation.take(),
                )
                .await
                .map_err(|f| f.into_core("list records", &location.describe(&prefix)))?;
            let mut admitted = Vec::new();
            let mut past_range = false;
            for key in page.keys {
                let Some(parsed) = key.strip_prefix(&prefix).and_then(VisKey::parse) else {
                    continue; // not ours
                };
                if filter.older_than_range(parsed.close_nanos) {
                    past_range = true; // newest-first listing: the rest is older still
                    break;
                }
                if filter.admits(&parsed) {
                    admitted.push(Candidate {
                        rank: walk
                            .rank(parsed.close_nanos, parsed.start_nanos)
                            .unwrap_or(0),
                        key,
                        identity: parsed.identity,
                    });
                }
            }
            let decided = if walk == Walk::NewestCloseFirst {
                collector.take(self, location, &admitted).await?
            } else {
                sorted.extend(admitted);
                false
            };
            match page.continuation {
                Some(next) if !past_range && !decided => continuation = Some(next),
                _ => break,
            }
        }
        if !sorted.is_empty() {
            // Stable: ties keep key order, which is all `page_of` needs.
            sorted.sort_by_key(|c| c.rank);
            collector.take(self, location, &sorted).await?;
        }
        page_of(collector.records, query, request)
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

/// The close and start times of the record the token continues after, when the token is
/// core's for this request; anything else is left for `page_of` to reject.
fn token_cursor(request: &QueryRequest) -> Option<(i128, i128)> {
    let token = request.next_page_token.as_deref()?;
    let fp = fingerprint(&[&request.namespace_id, &request.query]);
    decode_page_token::<VisibilityRecord>(token, fp)
        .ok()
        .map(|after| {
            (
                after.close_time.as_nanosecond(),
                after.start_time.as_nanosecond(),
            )
        })
}
