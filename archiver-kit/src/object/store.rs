//! [`ObjectStore`]: the few object operations the object-store archivers need from a provider.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;

use super::{Failure, ObjectLocation};
use archiver_core::{ArchiveUri, Result};

/// How a [`put`](ObjectStore::put) treats an existing object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutMode {
    /// Replace whatever is there.
    Overwrite,
    /// Write only if no object has the key (S3 `If-None-Match: *`, GCS `ifGenerationMatch=0`).
    CreateOnly,
}

/// What a [`put`](ObjectStore::put) did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PutOutcome {
    /// The object was written.
    Created,
    /// [`PutMode::CreateOnly`] met an existing object; nothing was written.
    AlreadyExists,
}

/// One page of a listing.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListPage {
    /// Keys in ascending byte order.
    pub keys: Vec<String>,
    /// Pass back to continue; `None` at the end.
    pub next: Option<String>,
}

/// A provider's object store: buckets of keyed byte objects. Implement it over the SDK, with
/// every failure classified into a [`Failure`] in one place; the archivers in this module do
/// the rest (layout, commit, reading, querying).
///
/// Retries are the implementation's (its SDK's or its own): a failure returned is final.
#[async_trait]
pub trait ObjectStore: fmt::Debug + Send + Sync + 'static {
    /// The URI scheme, e.g. `"s3"`; also the provider name in [`Error::Backend`](archiver_core::Error::Backend).
    fn scheme(&self) -> &'static str;

    /// Checks `uri` without the network (scheme, bucket name rules, prefix length) and returns
    /// where it points.
    fn location(&self, uri: &ArchiveUri) -> Result<ObjectLocation>;

    /// Checks that the location's bucket exists and is usable: a missing bucket is
    /// [`Error::InvalidUri`](archiver_core::Error::InvalidUri), a denial non-retryable, an unreachable
    /// endpoint retryable.
    async fn validate_bucket(&self, location: &ObjectLocation) -> Result<()>;

    /// Writes `body` at `key`.
    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        mode: PutMode,
    ) -> std::result::Result<PutOutcome, Failure>;

    /// The whole object; `None` when the key does not exist.
    async fn get(&self, bucket: &str, key: &str) -> std::result::Result<Option<Bytes>, Failure>;

    /// `len` bytes of the object from byte `offset` (fewer when the object ends first); `None`
    /// when the key does not exist. Readers of large immutable objects (Parquet segments) fetch
    /// only the parts they need. The default fetches the whole object and slices it: a provider
    /// whose service serves ranges (HTTP `Range`) overrides it.
    async fn get_range(
        &self,
        bucket: &str,
        key: &str,
        offset: u64,
        len: u64,
    ) -> std::result::Result<Option<Bytes>, Failure> {
        Ok(self.get(bucket, key).await?.map(|whole| {
            let start = usize::try_from(offset)
                .unwrap_or(usize::MAX)
                .min(whole.len());
            let end = usize::try_from(offset.saturating_add(len))
                .unwrap_or(usize::MAX)
                .min(whole.len());
            whole.slice(start..end)
        }))
    }

    /// Whether the key exists.
    async fn exists(&self, bucket: &str, key: &str) -> std::result::Result<bool, Failure>;

    /// One page of the keys under `prefix`. On the first page (`page` is `None`), listing
    /// starts at `start_after`: whether a key equal to it is listed is the provider's (S3
    /// excludes it, GCS includes it), so callers pass a bound that is never a key.
    async fn list(
        &self,
        bucket: &str,
        prefix: &str,
        start_after: Option<&str>,
        page: Option<String>,
    ) -> std::result::Result<ListPage, Failure>;

    /// Deletes `keys`; missing keys are not an error.
    async fn delete(&self, bucket: &str, keys: &[String]) -> std::result::Result<(), Failure>;
}

/// Every key under `prefix`, in order (all pages).
pub async fn list_all<S: ObjectStore + ?Sized>(
    store: &S,
    bucket: &str,
    prefix: &str,
) -> std::result::Result<Vec<String>, Failure> {
    let mut keys = Vec::new();
    let mut page = None;
    loop {
        let listed = store.list(bucket, prefix, None, page).await?;
        keys.extend(listed.keys);
        match listed.next {
            Some(next) => page = Some(next),
            None => return Ok(keys),
        }
    }
}
