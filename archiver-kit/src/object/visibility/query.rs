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

use visibility_query::CheckedQuery;

use super::ObjectVisibilityArchiver;
use crate::object::record;
use crate::object::vis_key::{KeyFilter, VisKey, close_field, identity_of};
use crate::object::{ObjectLocation, ObjectStore};
use archiver_core::visibility::{PageCutoff, TimeOrder, page_of};
use archiver_core::{Error, QueryRequest, QueryResponse, Result, VisibilityRecord};

/// Records downloaded at once.
const DOWNLOAD_CONCURRENCY: usize = 16;

/// A key that passed the filter, waiting to be downloaded.
struct Candidate {
    key: String,
    identity: String,
    /// Position in result order ([`PageCutoff::rank`]).
    rank: i128,
}

/// Downloads candidates (in rank order) until core's [`PageCutoff`] says the page is decided.
struct Collector<'q> {
    cutoff: PageCutoff<'q>,
    request: &'q QueryRequest,
    query: &'q CheckedQuery,
    /// Matches past the token still needed before the page can be decided: downloads are
    /// sized by it, so a page costs about `page_size + 1` GETs.
    missing: usize,
    records: Vec<VisibilityRecord>,
}

impl<'q> Collector<'q> {
    fn new(query: &'q CheckedQuery, request: &'q QueryRequest) -> Self {
        let cutoff = PageCutoff::new(query, request);
        Collector {
            missing: match cutoff.order() {
                // Without an indexed order nothing is decided early: download everything.
                None => usize::MAX,
                Some(_) => request.page_size.saturating_add(1),
            },
            cutoff,
            request,
            query,
            records: Vec::new(),
        }
    }

    /// Downloads `candidates` (ascending rank) until decided; returns whether it is.
    async fn take(
        &mut self,
        archiver: &ObjectVisibilityArchiver<impl ObjectStore>,
        location: &ObjectLocation,
        candidates: &[Candidate],
    ) -> Result<bool> {
        let skip = candidates.partition_point(|c| self.cutoff.skips(c.rank));
        let mut rest = &candidates[skip..];
        while let Some(first) = rest.first() {
            if self.cutoff.decided(first.rank) {
                return Ok(true);
            }
            // Until the page is decided, fetch no more than it still needs.
            let size = self.missing.clamp(1, DOWNLOAD_CONCURRENCY);
            let (chunk, next) = rest.split_at(size.min(rest.len()));
            rest = next;
            for (candidate, record) in archiver.download(location, chunk).await? {
                let Some(record) = record else { continue };
                if self.counts(candidate.rank, &record) {
                    self.missing = self.missing.saturating_sub(1);
                }
                self.cutoff.observe(candidate.rank, &record);
                self.records.push(record);
            }
        }
        Ok(false)
    }

    /// Whether `record` is a match past the token, one the cutoff counts towards the page.
    fn counts(&self, rank: i128, record: &VisibilityRecord) -> bool {
        self.cutoff.resume_rank().is_none_or(|resume| rank > resume)
            && record.namespace_id == self.request.namespace_id
            && self.query.matches(record)
    }
}

impl<S: ObjectStore> ObjectVisibilityArchiver<S> {
    pub(super) async fn run_query(
        &self,
        location: &ObjectLocation,
        request: &QueryRequest,
        query: &CheckedQuery,
    ) -> Result<QueryResponse> {
        let plan = query.plan();
        if plan.is_empty() {
            return page_of(Vec::<VisibilityRecord>::new(), query, request);
        }
        let filter = KeyFilter::new(&plan);
        let prefix = location.visibility_prefix(&request.namespace_id);
        let mut collector = Collector::new(query, request);
        // The listing's own order: candidates can be taken page by page as listed.
        let newest_close_first =
            collector.cutoff.order() == Some(TimeOrder::CloseTime { descending: true });
        // Newest-first walks start listing at the token's close time when there is one
        // (its rank is the negated close time).
        let resume_close = collector
            .cutoff
            .resume_rank()
            .filter(|_| newest_close_first)
            .map(|rank| -rank);
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
                    location.bucket(),
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
                        rank: collector
                            .cutoff
                            .rank(parsed.close_nanos, parsed.start_nanos),
                        key,
                        identity: parsed.identity,
                    });
                }
            }
            let decided = if newest_close_first {
                collector.take(self, location, &admitted).await?
            } else {
                sorted.extend(admitted);
                false
            };
            match page.next {
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

    /// Downloads `chunk` concurrently, in order, each record verified against its checksum.
    /// An object that vanished since the listing is skipped; one that is damaged, does not
    /// decode, or holds a record other than its key names fails the query as
    /// [`Error::Corrupted`](archiver_core::Error::Corrupted) naming the key: a record is returned
    /// exactly as archived or not at all.
    async fn download<'c>(
        &self,
        location: &ObjectLocation,
        chunk: &'c [Candidate],
    ) -> Result<Vec<(&'c Candidate, Option<VisibilityRecord>)>> {
        // A chunk is at most DOWNLOAD_CONCURRENCY keys: all of it is in flight at once.
        let fetched = futures::future::join_all(
            chunk
                .iter()
                .map(|candidate| self.store.get(location.bucket(), &candidate.key)),
        )
        .await;
        let mut out = Vec::with_capacity(fetched.len());
        for (candidate, fetched) in chunk.iter().zip(fetched) {
            let describe = location.describe(&candidate.key);
            let record = match fetched.map_err(|f| f.into_core("read record", &describe))? {
                None => None,
                Some(bytes) => {
                    let record = record::decode(&bytes, &describe)?;
                    if identity_of(&record) != candidate.identity {
                        return Err(Error::corrupted(
                            describe,
                            "the visibility record belongs to another workflow run than its key names",
                        ));
                    }
                    Some(record)
                }
            };
            out.push((candidate, record));
        }
        Ok(out)
    }
}
