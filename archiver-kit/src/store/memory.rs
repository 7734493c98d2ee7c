//! [`MemoryStore`]: buckets of objects in a map.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::object::{Failure, ListPage, ObjectLocation, ObjectStore, PutMode, PutOutcome};
use archiver_core::{ArchiveUri, Result};
use async_trait::async_trait;
use bytes::Bytes;

/// An [`ObjectStore`] in memory for `memory://<bucket>/<prefix>` URIs: what tests and
/// single-process tools use. Clones share the objects.
///
/// ```
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// use archiver_kit::object::{ObjectStore, PutMode};
/// use archiver_kit::store::MemoryStore;
/// let store = MemoryStore::new();
/// store.put("b", "k", "v".into(), PutMode::CreateOnly).await.unwrap();
/// assert_eq!(store.get("b", "k").await.unwrap().unwrap(), "v");
/// # });
/// ```
#[derive(Debug, Clone, Default)]
pub struct MemoryStore {
    objects: Arc<Mutex<BTreeMap<(String, String), Bytes>>>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        MemoryStore::default()
    }

    fn objects(&self) -> std::sync::MutexGuard<'_, BTreeMap<(String, String), Bytes>> {
        self.objects.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn scheme(&self) -> &'static str {
        "memory"
    }

    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation> {
        ObjectLocation::from_uri(uri, "memory", |b| !b.is_empty(), "any non-empty name")
    }

    async fn validate_bucket(&self, _location: &ObjectLocation) -> Result<()> {
        Ok(())
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        mode: PutMode,
    ) -> std::result::Result<PutOutcome, Failure> {
        let mut objects = self.objects();
        let slot = (bucket.to_owned(), key.to_owned());
        if mode == PutMode::CreateOnly && objects.contains_key(&slot) {
            return Ok(PutOutcome::AlreadyExists);
        }
        objects.insert(slot, body);
        Ok(PutOutcome::Created)
    }

    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure> {
        Ok(self
            .objects()
            .get(&(bucket.to_owned(), key.to_owned()))
            .cloned())
    }

    async fn exists(&self, bucket: &str, key: &str) -> std::result::Result<bool, Failure> {
        Ok(self
            .objects()
            .contains_key(&(bucket.to_owned(), key.to_owned())))
    }

    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        _page: Option<String>,
    ) -> std::result::Result<ListPage, Failure> {
        let start = match start_after {
            Some(after) if after > prefix => after,
            _ => prefix,
        };
        let from = (bucket.to_owned(), start.to_owned());
        let keys = self
            .objects()
            .range(from..)
            .map(|((b, k), _)| (b, k))
            .take_while(|(b, k)| *b == bucket && k.starts_with(prefix))
            .filter(|(_, k)| Some(k.as_str()) != start_after)
            .map(|(_, k)| k.clone())
            .collect();
        Ok(ListPage { keys, next: None })
    }

    async fn delete(&self, bucket: &str, keys: &[String]) -> std::result::Result<(), Failure> {
        let mut objects = self.objects();
        for key in keys {
            objects.remove(&(bucket.to_owned(), key.clone()));
        }
        Ok(())
    }
}
