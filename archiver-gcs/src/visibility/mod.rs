//! [`GcsVisibilityArchiver`].

mod key;
mod query;

use archiver_core::visibility::compile_query;
use archiver_core::{
    ArchiveOptions, ArchiveUri, Error, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};
use async_trait::async_trait;
use bytes::Bytes;
use visibility_query::SearchAttributes;

use crate::error::PROVIDER;
use crate::location::{Location, SCHEME};
use crate::store::GcsStore;
use key::VisKey;

/// The `gs://` [`VisibilityArchiver`]: one object per record (one upload), whose key carries
/// what queries prune on, so non-matching records are never downloaded (see the crate docs).
#[derive(Debug, Clone)]
pub struct GcsVisibilityArchiver {
    store: GcsStore,
}

impl GcsVisibilityArchiver {
    /// An archiver storing records through `store`.
    pub fn new(store: GcsStore) -> Self {
        GcsVisibilityArchiver { store }
    }

    /// The store this archiver writes through.
    pub fn store(&self) -> &GcsStore {
        &self.store
    }

    async fn store_record(&self, uri: &ArchiveUri, record: &VisibilityRecord) -> Result<()> {
        let location = Location::from_uri(uri)?;
        record.validate()?;
        let key = format!(
            "{}{}",
            location.visibility_prefix(&record.namespace_id),
            VisKey::of(record).name()
        );
        let body = serde_json::to_vec(record)
            .map_err(|e| Error::backend(PROVIDER, "encode visibility record", e, false))?;
        // Overwriting is idempotent: the same record always gets the same key and bytes.
        self.store
            .put(&location.bucket, &key, Bytes::from(body), false)
            .await
            .map(drop)
            .map_err(|f| f.into_core("write record", &location.describe(&key)))
    }
}

#[async_trait]
impl VisibilityArchiver for GcsVisibilityArchiver {
    fn scheme(&self) -> &'static str {
        SCHEME
    }

    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()> {
        options.finish(self.store_record(uri, record).await)
    }

    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse> {
        let location = Location::from_uri(uri)?;
        let query = compile_query(request, search_attributes)?;
        self.run_query(&location, request, &query).await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        crate::validate::validate_uri(&self.store, uri).await
    }
}
