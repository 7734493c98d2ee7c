//! Reading a segment with range requests: its footer (cached: segments never change), its
//! Bloom filters when the query names ids or types (cached too), then only the pages of the
//! row groups left after pruning.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use archiver_core::object::{ObjectLocation, ObjectStore};
use archiver_core::{Error, Result, VisibilityRecord};
use bytes::Bytes;
use visibility_query::Plan;

use super::VisibilityTable;
use super::manifest::{Manifest, SegmentEntry};
use crate::segment::{Region, SegmentError, SegmentFooter, SparseFile, read_groups};

/// Ranges fetched at once.
const RANGE_CONCURRENCY: usize = 8;
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

    /// A region of a segment, checked against its recorded checksum.
    async fn fetch_region(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
        region: &Region,
        what: &str,
    ) -> Result<Bytes> {
        let bytes = self
            .fetch_exact(location, &entry.key, region.offset, region.len)
            .await?;
        let mut file = SparseFile::new(entry.bytes);
        file.insert(region.offset, bytes.clone());
        region
            .verify(&file, what)
            .map_err(|e| segment_error(&location.describe(&entry.key), e))?;
        Ok(bytes)
    }

    /// The segment's footer, verified, from the cache or one range request.
    pub(crate) async fn footer(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
    ) -> Result<SegmentFooter> {
        let cache_key = format!("{}/{}", location.bucket(), entry.key);
        if let Some(footer) = self.inner.cache.footer(&cache_key) {
            return Ok(footer);
        }
        let region = &entry.tail.footer;
        let bytes = self
            .fetch_exact(location, &entry.key, region.offset, region.len)
            .await?;
        let mut file = SparseFile::new(entry.bytes);
        file.insert(region.offset, bytes);
        let footer = SegmentFooter::read(&file, Some(&entry.tail))
            .map_err(|e| segment_error(&location.describe(&entry.key), e))?;
        self.inner.cache.put_footer(cache_key, footer.clone());
        Ok(footer)
    }

    /// The rows of segment `entry` that may match `plan` and that `keep` accepts, reading only
    /// the row groups that survive pruning. `keep` sees each group's rows in turn.
    pub(crate) async fn read_segment(
        &self,
        location: &ObjectLocation,
        entry: &SegmentEntry,
        plan: &Plan,
        mut keep: impl FnMut(Vec<VisibilityRecord>) -> Result<()>,
        row_filter: &(dyn Fn(&VisibilityRecord) -> bool + Sync),
    ) -> Result<SegmentRead> {
        use futures::StreamExt;
        let describe = location.describe(&entry.key);
        let footer = self.footer(location, entry).await?;
        let mut file = SparseFile::new(entry.bytes);
        let mut groups = footer.candidate_groups(plan);
        if !groups.is_empty() && SegmentFooter::uses_blooms(plan) {
            if let Some(region) = &entry.tail.blooms {
                let cache_key = format!("{}/{}", location.bucket(), entry.key);
                let bytes = match self.inner.cache.blooms(&cache_key) {
                    Some(bytes) => bytes,
                    None => {
                        let bytes = self
                            .fetch_region(location, entry, region, "Bloom filters")
                            .await?;
                        self.inner.cache.put_blooms(cache_key, bytes.clone());
                        bytes
                    }
                };
                file.insert(region.offset, bytes);
            }
            groups = footer
                .prune_by_blooms(&file, groups, plan)
                .map_err(|e| segment_error(&describe, e))?;
        }
        let read = SegmentRead {
            row_groups: footer.row_groups(),
            row_groups_read: groups.len(),
        };
        // Group by group: memory holds one group's pages and rows at a time beyond the page.
        for g in groups {
            let ranges = footer
                .page_ranges(&[g])
                .map_err(|e| segment_error(&describe, e))?;
            let fetched: Vec<(u64, Bytes)> = futures::stream::iter(ranges)
                .map(|(offset, len)| async move {
                    Ok::<_, Error>((
                        offset,
                        self.fetch_exact(location, &entry.key, offset, len).await?,
                    ))
                })
                .buffered(RANGE_CONCURRENCY)
                .collect::<Vec<_>>()
                .await
                .into_iter()
                .collect::<Result<_>>()?;
            let mut group_file = file.clone();
            for (offset, bytes) in fetched {
                group_file.insert(offset, bytes);
            }
            let rows = read_groups(&group_file, &footer, vec![g], row_filter)
                .map_err(|e| segment_error(&describe, e))?;
            keep(rows)?;
        }
        Ok(read)
    }
}

/// How much of a segment a read touched.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct SegmentRead {
    pub(crate) row_groups: usize,
    pub(crate) row_groups_read: usize,
}
