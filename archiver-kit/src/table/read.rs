//! Reading a segment with range requests: its footer and offset index (cached: segments never
//! change), its Bloom filters when the query names ids, types or keywords (cached too), then
//! of the row groups left after pruning only the columns and pages the query needs.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex};

use crate::object::{ObjectLocation, ObjectStore};
use archiver_core::visibility::TimeOrder;
use archiver_core::{Error, Result, VisibilityRecord};
use bytes::Bytes;
use visibility_query::Plan;

use super::VisibilityTable;
use super::manifest::{Manifest, SegmentEntry};
use crate::segment::{SegmentError, SegmentFooter, SparseFile, read_group_fields, read_rows};

/// Ranges fetched at once.
const RANGE_CONCURRENCY: usize = 8;
/// Row groups whose first columns are fetched together.
pub(crate) const WINDOW_GROUPS: usize = 8;
/// Cached Bloom filter bytes, at most.
const BLOOM_CACHE_BYTES: usize = 64 << 20;
/// Cached footers and manifests, at most.
const CACHE_ENTRIES: usize = 4096;

/// What readers keep of immutable objects: manifests, segment footers and Bloom filters, by
/// `bucket/key`.
#[derive(Debug, Default)]
pub(crate) struct Cache {
    manifests: Mutex<HashMap<String, Arc<Manifest>>>,
    footers: Mutex<HashMap<String, SegmentFooter>>,
    blooms: Mutex<(usize, HashMap<String, Bytes>)>,
}

fn bounded_insert<V>(map: &mut HashMap<String, V>, key: String, value: V) {
    if map.len() >= CACHE_ENTRIES {
        map.clear(); // simple and bounded; immutable entries are fetched again when needed
    }
    map.insert(key, value);
}

impl Cache {
    pub(crate) fn manifest(&self, key: &str) -> Option<Arc<Manifest>> {
        lock(&self.manifests).get(key).cloned()
    }

    pub(crate) fn put_manifest(&self, key: String, manifest: Arc<Manifest>) {
        bounded_insert(&mut lock(&self.manifests), key, manifest);
    }

    fn footer(&self, key: &str) -> Option<SegmentFooter> {
        lock(&self.footers).get(key).cloned()
    }

    fn put_footer(&self, key: String, footer: SegmentFooter) {
        bounded_insert(&mut lock(&self.footers), key, footer);
    }

    fn blooms(&self, key: &str) -> Option<Bytes> {
        lock(&self.blooms).1.get(key).cloned()
    }

    fn put_blooms(&self, key: String, bytes: Bytes) {
        let mut guard = lock(&self.blooms);
        let (size, map) = &mut *guard;
        if *size + bytes.len() > BLOOM_CACHE_BYTES {
            map.clear();
            *size = 0;
        }
        *size += bytes.len();
        map.insert(key, bytes);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A segment problem as the archiver reports it, naming the object.
pub(crate) fn segment_error(describe: &str, error: SegmentError) -> Error {
    match error {
        SegmentError::InvalidInput(reason) => Error::invalid_request("record", reason),
        other => Error::corrupted(describe, other.to_string()),
    }
}

impl<S: ObjectStore> VisibilityTable<S> {
    /// `len` bytes of `key` from `offset`, exactly.
    pub(crate) async fn fetch_exact(
        &self,
        location: &ObjectLocation,
        key: &str,
        offset: u64,
        len: u64,
    ) -> Result<Bytes> {
        let describe = location.describe(key);
        let bytes = self
            .inner
            .store
            .get_range(location.bucket(), key, offset, len)
            .await
            .map_err(|f| f.into_core("read segment", &describe))?
            .ok_or_else(|| {
                Error::backend(
                    self.inner.store.scheme(),
                    "read segment",
                    format!(
                        "{describe} was removed (the query outlived the grace period after a \
                         compaction); try again"
                    ),
                    true,
                )
            })?;
        if bytes.len() as u64 != len {
            return Err(Error::corrupted(
                describe,
                format!(
                    "asked for {len} bytes at {offset}, got {}: the segment is shorter than \
                     the manifest says",
                    bytes.len()
                ),
            ));
        }
        Ok(bytes)
    }

    /// `file` with `ranges` of `key` fetched into it.
    async fn fetch_ranges(
        &self,
        location: &ObjectLocation,
        key: &str,
        file: &SparseFile,
        ranges: Vec<(u64, u64)>,
    ) -> Result<SparseFile> {
        use futures::StreamExt;
        let fetched: Vec<(u64, Bytes)> = futures::stream::iter(ranges)
            .map(|(offset, len)| async move {
                Ok::<_, Error>((offset, self.fetch_exact(location, key, offset, len).await?))
            })
            .buffered(RANGE_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        let mut file = file.clone();
        for (offset, bytes) in fetched {
            file.insert(offset, bytes);
        }
        Ok(file)
    }

    /// The segment's footer, verified, from the cache or one range request; with
    /// `with_blooms`, its Bloom filters too (from the cache, or in the same request: they lie
    /// just before the footer).
    pub(crate) async fn footer(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
        with_blooms: bool,
    ) -> Result<(SegmentFooter, Option<Bytes>)> {
        let describe = location.describe(&entry.key);
        let cache_key = format!("{}/{}", location.bucket(), entry.key);
        let cache = &self.inner.cache;
        let cached = (cache.footer(&cache_key), cache.blooms(&cache_key));
        let blooms = entry.tail.blooms.as_ref().filter(|_| with_blooms);
        if let (Some(footer), cached_blooms) = &cached
            && (blooms.is_none() || cached_blooms.is_some())
        {
            return Ok((
                footer.clone(),
                cached_blooms.clone().filter(|_| with_blooms),
            ));
        }
        let footer_region = &entry.tail.footer;
        // One request for what is missing: the footer, the Bloom filters, or both together.
        let start = match (&cached.0, blooms) {
            (_, Some(b)) if cached.1.is_none() => b.offset,
            _ => entry.tail.metadata_start(),
        };
        let end = match &cached.0 {
            Some(_) => blooms.map_or(footer_region.offset, |b| b.offset + b.len),
            None => footer_region.offset + footer_region.len,
        };
        let bytes = self
            .fetch_exact(location, &entry.key, start, end - start)
            .await?;
        let mut file = SparseFile::new(entry.bytes);
        file.insert(start, bytes);
        let footer = match cached.0 {
            Some(footer) => footer,
            None => {
                let footer = SegmentFooter::read(&file, Some(&entry.tail))
                    .map_err(|e| segment_error(&describe, e))?;
                cache.put_footer(cache_key.clone(), footer.clone());
                footer
            }
        };
        let blooms = match (blooms, cached.1) {
            (None, _) => None,
            (Some(_), Some(bytes)) => Some(bytes),
            (Some(region), None) => {
                region
                    .verify(&file, "Bloom filters")
                    .map_err(|e| segment_error(&describe, e))?;
                let bytes = file
                    .slice(region.offset, region.len)
                    .map_err(|e| segment_error(&describe, e))?;
                cache.put_blooms(cache_key, bytes.clone());
                Some(bytes)
            }
        };
        Ok((footer, blooms))
    }

    /// The rows of segment `entry` that may match `plan`, read as `rows` says, reading only
    /// what is needed: of the row groups left after pruning, first the filter's own columns
    /// (when there are others), then for the rows they admit the columns of `rows.fields`,
    /// from which `rows.choose` picks the rows worth reading whole; only the pages holding
    /// those are fetched.
    pub(crate) async fn read_segment(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
        plan: &Plan,
        rows: Rows<'_>,
    ) -> Result<SegmentRead> {
        let Rows {
            order,
            beyond,
            filter_fields,
            matches,
            fields,
            choose,
            keep,
            filter: row_filter,
            fetch,
        } = rows;
        let describe = location.describe(&entry.key);
        let (footer, blooms) = self
            .footer(location, entry, SegmentFooter::uses_blooms(plan))
            .await?;
        let mut file = SparseFile::new(entry.bytes);
        let mut groups = footer.candidate_groups(plan);
        if !groups.is_empty() && SegmentFooter::uses_blooms(plan) {
            if let (Some(region), Some(bytes)) = (&entry.tail.blooms, blooms) {
                file.insert(region.offset, bytes);
            }
            groups = footer
                .prune_by_blooms(&file, groups, plan)
                .map_err(|e| segment_error(&describe, e))?;
        }
        let mut read = SegmentRead {
            row_groups: footer.row_groups(),
            ..SegmentRead::default()
        };
        let whole = footer.all_columns();
        // In the query's order, so the page fills from the first groups and the rest are
        // skipped by their statistics.
        let best_case = |g: usize| {
            let order = order?;
            let (close, descending) = match order {
                TimeOrder::CloseTime { descending } => (true, descending),
                TimeOrder::StartTime { descending } => (false, descending),
            };
            let (min, max) = footer.group_time_range(g, close)?;
            Some(if descending { max } else { min })
        };
        if let Some(order) = order {
            groups.sort_by_key(|&g| {
                best_case(g).map_or(i128::MIN, |t| order.rank(i128::from(t), i128::from(t)))
            });
        }
        // The columns every group is read for first, fetched for a window of groups at once (a
        // request's latency, not its bytes, is what a probe costs on a remote store).
        let filter_first = !filter_fields.is_empty() && filter_fields.len() < fields.len();
        let (first_columns, window_groups) = match fetch {
            GroupFetch::Columns => (
                footer.field_columns(if filter_first { filter_fields } else { fields }),
                WINDOW_GROUPS,
            ),
            // A group's column chunks are contiguous: one range.
            GroupFetch::Whole { window } => (whole.clone(), window.max(1)),
        };
        let mut window = SparseFile::new(entry.bytes);
        let mut window_end = 0;
        // Group by group: memory holds a window's first columns, one group's other fetched
        // pages, and rows beyond the page.
        for (i, &g) in groups.iter().enumerate() {
            if best_case(g).is_some_and(beyond) {
                continue;
            }
            if i >= window_end {
                let mut ranges = Vec::new();
                window_end = i;
                for &w in groups[i..]
                    .iter()
                    .filter(|&&w| !best_case(w).is_some_and(beyond))
                    .take(window_groups)
                {
                    ranges.extend(
                        footer
                            .ranges_to_fetch(&file, w, &first_columns, None)
                            .map_err(|e| segment_error(&describe, e))?,
                    );
                    window_end = groups[i..]
                        .iter()
                        .position(|&x| x == w)
                        .map_or(i, |p| i + p)
                        + 1;
                }
                window = self
                    .fetch_ranges(location, &entry.key, &file, ranges)
                    .await?;
            }
            let mut file = window.clone();
            read.row_groups_probed += 1;
            let mut admitted: Option<Vec<usize>> = None;
            if filter_first {
                let (indices, partial) = self
                    .read_fields(
                        location,
                        entry,
                        &footer,
                        &mut file,
                        g,
                        filter_fields,
                        None,
                        Some(plan),
                    )
                    .await?;
                let rows: Vec<usize> = (0..partial.len())
                    .filter(|&i| matches(&partial[i]))
                    .map(|i| indices[i])
                    .collect();
                if rows.is_empty() {
                    continue;
                }
                admitted = Some(rows);
            }
            let (indices, partial) = self
                .read_fields(
                    location,
                    entry,
                    &footer,
                    &mut file,
                    g,
                    fields,
                    admitted.as_deref(),
                    None,
                )
                .await?;
            let chosen: Vec<usize> = choose(&partial).into_iter().map(|i| indices[i]).collect();
            if chosen.is_empty() {
                continue;
            }
            read.row_groups_read += 1;
            let ranges = footer
                .ranges_to_fetch(&file, g, &whole, Some(&chosen))
                .map_err(|e| segment_error(&describe, e))?;
            let file = self
                .fetch_ranges(location, &entry.key, &file, ranges)
                .await?;
            let records = read_rows(&file, &footer, g, &chosen, row_filter)
                .map_err(|e| segment_error(&describe, e))?;
            keep(records)?;
        }
        Ok(read)
    }

    /// Row group `g`'s rows (those of `rows` when given; with a `plan`, only those whose
    /// values it allows) with only `fields` decoded, and their indices in the group, fetching
    /// into `file` what it lacks.
    #[allow(clippy::too_many_arguments)]
    async fn read_fields(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
        footer: &SegmentFooter,
        file: &mut SparseFile,
        g: usize,
        fields: &BTreeSet<String>,
        rows: Option<&[usize]>,
        plan: Option<&Plan>,
    ) -> Result<(Vec<usize>, Vec<VisibilityRecord>)> {
        let describe = location.describe(&entry.key);
        let ranges = footer
            .ranges_to_fetch(file, g, &footer.field_columns(fields), rows)
            .map_err(|e| segment_error(&describe, e))?;
        *file = self
            .fetch_ranges(location, &entry.key, file, ranges)
            .await?;
        read_group_fields(file, footer, g, fields, rows, plan)
            .map_err(|e| segment_error(&describe, e))
    }
}

/// What a segment read does with rows.
pub(crate) struct Rows<'a> {
    /// The query's order when it starts with a time: groups are read in that order, and one
    /// whose every row would come after the page so far is skipped.
    pub(crate) order: Option<TimeOrder>,
    /// Whether a group whose rows' time (in the order's field) is at best this (microseconds)
    /// comes wholly after the page so far.
    pub(crate) beyond: &'a (dyn Fn(i64) -> bool + Sync),
    /// The filter's own columns, read first when `fields` holds others.
    pub(crate) filter_fields: &'a BTreeSet<String>,
    /// The filter, on rows with only `filter_fields` read.
    pub(crate) matches: &'a (dyn Fn(&VisibilityRecord) -> bool + Sync),
    /// The columns read for the rows the filter admits.
    pub(crate) fields: &'a BTreeSet<String>,
    /// From a group's partial rows (only `fields` read), the indices worth reading whole.
    pub(crate) choose: &'a mut (dyn FnMut(&[VisibilityRecord]) -> Vec<usize> + Send),
    /// Takes each group's whole rows that `filter` accepted.
    pub(crate) keep: &'a mut (dyn FnMut(Vec<VisibilityRecord>) -> Result<()> + Send),
    /// Whole rows worth keeping.
    pub(crate) filter: &'a (dyn Fn(&VisibilityRecord) -> bool + Sync),
    /// How the query fetches a row group.
    pub(crate) fetch: GroupFetch,
}

/// How a query fetches a row group.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum GroupFetch {
    /// The filter's columns of a window of groups first, then of a group with matches the
    /// order columns of those rows, then every column's pages holding the rows that can make
    /// the page: the fewest bytes, for queries that may touch many groups.
    Columns,
    /// Whole groups, one request each, `window` groups at once: for queries that touch a few
    /// groups (a lookup by id, a page of a time order decided by times alone), where a
    /// request costs more than reading the rest of the group.
    Whole {
        /// Groups fetched at once.
        window: usize,
    },
}

/// How much of a segment a read touched.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SegmentRead {
    pub(crate) row_groups: usize,
    pub(crate) row_groups_probed: usize,
    pub(crate) row_groups_read: usize,
}
