//! The two provider traits: [`HistoryArchiver`] and [`VisibilityArchiver`].
//!
//! Both are object safe (used as `Arc<dyn HistoryArchiver>` by the registry) and implemented for
//! `Arc<T>` and `Box<T>` of any implementor, `dyn` included, so wrappers and generic code take
//! either form.

use std::sync::Arc;

use async_trait::async_trait;
use visibility_query::SearchAttributes;

use crate::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, GetHistoryRequest, GetHistoryResponse,
    QueryRequest, QueryResponse, Result, VisibilityRecord,
};

/// Archives closed workflow histories to one kind of storage, and reads them back.
///
/// Contract every provider keeps (the conformance suite checks it):
/// - `archive` may run several times, even concurrently, for the same run: the result is one
///   complete archive, and a reader never sees a partial one.
/// - History that no longer exists at the source is success (nothing to archive); history that
///   changed while being archived is [`Error::HistoryMutated`](crate::Error::HistoryMutated).
/// - `get` without a version reads the highest archived version; a missing run is
///   [`Error::NotFound`](crate::Error::NotFound); a damaged or foreign page token is
///   [`Error::CorruptedToken`](crate::Error::CorruptedToken).
#[async_trait]
pub trait HistoryArchiver: Send + Sync + std::fmt::Debug {
    /// The URI scheme this provider serves: `"file"`, `"s3"`, `"gs"`, `"memory"`.
    fn scheme(&self) -> &'static str;

    /// Reads the run's history from the source and stores it under `uri`.
    async fn archive(
        &self,
        uri: &ArchiveUri,
        request: &ArchiveHistoryRequest,
        options: &ArchiveOptions,
    ) -> Result<()>;

    /// Reads one page of an archived history.
    async fn get(
        &self,
        uri: &ArchiveUri,
        request: &GetHistoryRequest,
    ) -> Result<GetHistoryResponse>;

    /// Checks that `uri` is one this provider can archive to (scheme, bucket, directory).
    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()>;
}

/// Archives visibility records of closed workflows, and queries them with the list-filter language.
///
/// Contract: an acknowledged record is durable (no batching in memory); archiving the same
/// record twice keeps one; every provider accepts the whole query language with the same results.
#[async_trait]
pub trait VisibilityArchiver: Send + Sync + std::fmt::Debug {
    /// The URI scheme this provider serves.
    fn scheme(&self) -> &'static str;

    /// Stores one record under `uri`.
    async fn archive(
        &self,
        uri: &ArchiveUri,
        record: &VisibilityRecord,
        options: &ArchiveOptions,
    ) -> Result<()>;

    /// Returns one page of the records under `uri` that match the request's query.
    async fn query(
        &self,
        uri: &ArchiveUri,
        request: &QueryRequest,
        search_attributes: &SearchAttributes,
    ) -> Result<QueryResponse>;

    /// Checks that `uri` is one this provider can archive to.
    async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()>;
}

/// Forwards both traits through a smart pointer. Every method is listed so a wrapper never
/// silently falls back to a default.
macro_rules! forward_archivers {
    ($($ptr:ident),*) => {$(
        #[async_trait]
        impl<T: HistoryArchiver + ?Sized> HistoryArchiver for $ptr<T> {
            fn scheme(&self) -> &'static str {
                (**self).scheme()
            }
            async fn archive(
                &self,
                uri: &ArchiveUri,
                request: &ArchiveHistoryRequest,
                options: &ArchiveOptions,
            ) -> Result<()> {
                (**self).archive(uri, request, options).await
            }
            async fn get(
                &self,
                uri: &ArchiveUri,
                request: &GetHistoryRequest,
            ) -> Result<GetHistoryResponse> {
                (**self).get(uri, request).await
            }
            async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
                (**self).validate_uri(uri).await
            }
        }

        #[async_trait]
        impl<T: VisibilityArchiver + ?Sized> VisibilityArchiver for $ptr<T> {
            fn scheme(&self) -> &'static str {
                (**self).scheme()
            }
            async fn archive(
                &self,
                uri: &ArchiveUri,
                record: &VisibilityRecord,
                options: &ArchiveOptions,
            ) -> Result<()> {
                (**self).archive(uri, record, options).await
            }
            async fn query(
                &self,
                uri: &ArchiveUri,
                request: &QueryRequest,
                search_attributes: &SearchAttributes,
            ) -> Result<QueryResponse> {
                (**self).query(uri, request, search_attributes).await
            }
            async fn validate_uri(&self, uri: &ArchiveUri) -> Result<()> {
                (**self).validate_uri(uri).await
            }
        }
    )*};
}

forward_archivers!(Arc, Box);

/// Checks that `uri` has the scheme `provider` serves; the first check of every provider.
pub fn check_scheme(provider: &'static str, uri: &ArchiveUri) -> Result<()> {
    if uri.scheme() != provider {
        return Err(crate::Error::SchemeMismatch {
            expected: provider.to_owned(),
            found: uri.scheme().to_owned(),
        });
    }
    Ok(())
}
