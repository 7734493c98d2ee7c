//! [`ObjectVisibilityArchiver`].

mod query;

use async_trait::async_trait;
use visibility_query::SearchAttributes;

use super::record;
use super::vis_key::VisKey;
use super::{ObjectStore, PutMode};
use archiver_core::visibility::compile_query;
use archiver_core::{
    ArchiveOptions, ArchiveUri, QueryRequest, QueryResponse, Result, VisibilityArchiver,
    VisibilityRecord,
};

/// The [`VisibilityArchiver`] of an object store: one object per record (one write), whose key
/// carries what queries prune on, so non-matching records are never downloaded (see the
/// [module docs](super)).
#[derive(Debug, Clone)]
pub struct ObjectVisibilityArchiver<S> {
    store: S,
}

impl<S: ObjectStore> ObjectVisibilityArchiver<S> {
    /// An archiver storing records through `store`.
    pub fn new(store: S) -> Self {
        ObjectVisibilityArchiver { store }
    }

    /// The store this archiver writes through.
    pub fn store(&self) -> &S {
        &self.store
    }

    async fn store_record(&self, uri: &ArchiveUri, record: &VisibilityRecord) -> Result<()> {
        let location = self.store.location(uri)?;
        record.validate()?;
        let key = format!(
            "{}{}",
            location.visibility_prefix(&record.namespace_id),
            VisKey::of(record).name()
        );
        let body = record::encode(self.store.scheme(), record)?;
        // Overwriting is idempotent: the same record always gets the same key and bytes.
        self.store
            .put(location.bucket(), &key, body, PutMode::Overwrite)
            .await
            .map(drop)
            .map_err(|f| f.into_core("write record", &location.describe(&key)))
    }
}

#[async_trait]
impl<S: ObjectStore> VisibilityArchiver for ObjectVisibilityArchiver<S> {
    fn scheme(&self) -> &'static str {
        self.store.scheme()
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
        let location = self.store.location(uri)?;
        let query = compile_query(request, search_attributes)?;
        self.run_query(&location, request, &query).await
    }

    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
        self.store.validate_bucket(&self.store.location(uri)?).await
    }
}
