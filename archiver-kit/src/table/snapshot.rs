//! A namespace's state as a reader sees it: one listing of its log gives the newest manifest
//! and the batches not yet folded into its segments.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::object::{ObjectLocation, ObjectStore, decode_visibility_record, list_all};
use archiver_core::{Error, Result, VisibilityRecord};

use super::VisibilityTable;
use super::batch;
use super::keys::{LogKey, TableKeys};
use super::manifest::Manifest;

/// Batches read at once.
const BATCH_CONCURRENCY: usize = 16;

/// The newest manifest and the batches it has not folded.
#[derive(Debug)]
pub(crate) struct Snapshot {
    pub(crate) manifest: Arc<Manifest>,
    /// The key of `manifest` (`None` before the first compaction).
    pub(crate) manifest_key: Option<String>,
    /// Batch keys not folded into the manifest's segments, oldest first: the per-record
    /// layout's records first (older than any batch), then the batches.
    pub(crate) batches: Vec<String>,
    /// How many of `batches` are records of the per-record layout.
    pub(crate) legacy: usize,
}

/// A run: what a re-archived record replaces.
pub(crate) type RunKey = (String, String);

pub(crate) fn run_of(record: &VisibilityRecord) -> RunKey {
    (record.workflow_id.clone(), record.run_id.clone())
}

impl<S: ObjectStore> VisibilityTable<S> {
    pub(crate) async fn snapshot(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
    ) -> Result<Snapshot> {
        let store = &self.inner.store;
        let listed = list_all(store.as_ref(), location.bucket(), keys.log())
            .await
            .map_err(|f| f.into_core("list visibility log", &location.describe(keys.log())))?;
        let mut batches = Vec::new();
        let mut newest: Option<(u64, String)> = None;
        for key in listed {
            match keys.parse(&key) {
                Some(LogKey::Batch) => batches.push(key),
                Some(LogKey::Manifest(generation))
                    if newest.as_ref().is_none_or(|(g, _)| generation > *g) =>
                {
                    newest = Some((generation, key));
                }
                Some(LogKey::Manifest(_)) => {}
                None => {} // not ours
            }
        }
        let (manifest, manifest_key) = match newest {
            None => (Arc::new(Manifest::empty(keys.namespace_id())), None),
            Some((generation, key)) => (
                self.manifest(location, keys, &key, generation).await?,
                Some(key),
            ),
        };
        let mut unfolded = if manifest.legacy_folded {
            Vec::new()
        } else {
            list_all(store.as_ref(), location.bucket(), keys.legacy())
                .await
                .map_err(|f| {
                    f.into_core(
                        "list per-record visibility objects",
                        &location.describe(keys.legacy()),
                    )
                })?
        };
        let legacy = unfolded.len();
        unfolded.append(&mut batches);
        let folded: HashSet<&str> = manifest.folded.iter().map(|f| f.key.as_str()).collect();
        let (mut kept, mut legacy_kept) = (Vec::with_capacity(unfolded.len()), 0);
        for (i, key) in unfolded.into_iter().enumerate() {
            if !folded.contains(key.as_str()) {
                legacy_kept += usize::from(i < legacy);
                kept.push(key);
            }
        }
        Ok(Snapshot {
            manifest,
            manifest_key,
            batches: kept,
            legacy: legacy_kept,
        })
    }

    /// Manifest `key`, from the cache (manifests never change once written) or the store.
    async fn manifest(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
        key: &str,
        generation: u64,
    ) -> Result<Arc<Manifest>> {
        let cache_key = format!("{}/{key}", location.bucket());
        if let Some(manifest) = self.inner.cache.manifest(&cache_key) {
            return Ok(manifest);
        }
        let describe = location.describe(key);
        let bytes = self
            .inner
            .store
            .get(location.bucket(), key)
            .await
            .map_err(|f| f.into_core("read manifest", &describe))?
            .ok_or_else(|| {
                Error::backend(
                    self.inner.store.scheme(),
                    "read manifest",
                    format!("{describe} was removed after it was listed; try again"),
                    true,
                )
            })?;
        let manifest = Arc::new(Manifest::decode(
            &bytes,
            keys.namespace_id(),
            generation,
            &describe,
        )?);
        self.inner
            .cache
            .put_manifest(cache_key, Arc::clone(&manifest));
        Ok(manifest)
    }

    /// The records of `batches` (oldest first; a record of the per-record layout is a batch
    /// of one), one per run: a later batch's record replaces an earlier one's.
    pub(crate) async fn read_batches(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
        batches: &[String],
    ) -> Result<HashMap<RunKey, VisibilityRecord>> {
        let mut latest = HashMap::new();
        for record in self.read_batch_records(location, keys, batches).await? {
            latest.insert(run_of(&record), record);
        }
        Ok(latest)
    }

    /// The records of `batches`, in batch order (a run archived again appears again, later).
    /// Batches are decoded on the blocking pool, several at once: decoding JSON is most of what
    /// reading them costs.
    pub(crate) async fn read_batch_records(
        &self,
        location: &ObjectLocation,
        keys: &TableKeys,
        batches: &[String],
    ) -> Result<Vec<VisibilityRecord>> {
        use futures::StreamExt;
        let store = &self.inner.store;
        let fetched: Vec<Vec<VisibilityRecord>> = futures::stream::iter(batches.iter().cloned())
            .map(|key| async move {
                let describe = location.describe(&key);
                let bytes = store
                    .get(location.bucket(), &key)
                    .await
                    .map_err(|f| f.into_core("read visibility batch", &describe))?
                    .ok_or_else(|| {
                        Error::backend(
                            store.scheme(),
                            "read visibility batch",
                            format!(
                                "{describe} was removed after it was listed (a compaction \
                                     folded it); try again"
                            ),
                            true,
                        )
                    })?;
                if keys.is_legacy(&key) {
                    let record = decode_visibility_record(&bytes, &describe)?;
                    if record.namespace_id != keys.namespace_id() {
                        return Err(Error::corrupted(
                            describe,
                            "the record belongs to another namespace than its key names",
                        ));
                    }
                    return Ok(vec![record]);
                }
                let namespace_id = keys.namespace_id().to_owned();
                tokio::task::spawn_blocking(move || batch::decode(&bytes, &namespace_id, &describe))
                    .await
                    .map_err(|e| {
                        Error::backend(store.scheme(), "decode visibility batch", e, false)
                    })?
            })
            .buffered(BATCH_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_>>()?;
        Ok(fetched.into_iter().flatten().collect())
    }
}
