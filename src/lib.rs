//! # archiver
//!
//! Archive closed workflows' histories and visibility records to durable storage, read the
//! histories back page by page, and query the visibility records with Temporal's list-filter
//! language, on every provider.
//!
//! This crate is the facade: it re-exports [`archiver_core`]'s contract (traits, requests, URI,
//! options, errors, config, registry) and its modules, the provider kit as [`kit`] (its
//! object-store engine also as [`object`]), the list-filter language as [`query`], and one
//! module per provider. [`registry`] builds a [`ProviderRegistry`] with every built-in
//! provider this build has.
//!
//! | feature | scheme | provider |
//! |---|---|---|
//! | `filestore` (default) | `file://` | `filestore` (`archiver-filestore`) |
//! | `s3` | `s3://` | `s3` (`archiver-s3`) |
//! | `gcs` | `gs://` | `gcs` (`archiver-gcs`) |
//! | always | `memory://` | [`memory`]: in-process (tests, examples, trying the API out) |
//! | `sql`, `sql-postgres`, `sql-mysql` | | `sql` (`visibility-sql`): a SQL visibility store |
//! | `testing` | | `testing`: the conformance suite a custom archiver proves itself with |
//!
//! ```
//! use std::sync::Arc;
//! use archiver::{ArchiveUri, MemoryHistorySource, config::ArchivalConfig};
//!
//! let registry = archiver::registry(ArchivalConfig::default(), Arc::new(MemoryHistorySource::new()));
//! let uri: ArchiveUri = "memory://demo/archive".parse()?;
//! let history = registry.history_archiver(uri.scheme())?;
//! assert_eq!(history.scheme(), "memory");
//! # Ok::<(), archiver::Error>(())
//! ```
//!
//! A custom archiver's tests need only this crate: with
//! `archiver = { version = "0.1", features = ["testing"] }` among the dev-dependencies,
//! `archiver::testing::run_history_suite` and `run_visibility_suite` run the scenarios every
//! built-in provider passes (`examples/custom_archiver.rs` does it for a toy key-value store).

use std::sync::Arc;

pub mod memory;

// What an engine calls: the two traits, their requests and responses, URI, options, errors.
pub use archiver_core::{
    ArchiveHistoryRequest, ArchiveOptions, ArchiveUri, BoxError, CallerError, Error,
    GetHistoryRequest, GetHistoryResponse, HistoryArchiver, MemoryProgressManager, ProgressManager,
    QueryRequest, QueryResponse, Result, VisibilityArchiver, VisibilityRecord,
};
// The registry: scheme -> provider, built lazily from factories.
pub use archiver_core::{
    HistoryArchiverFactory, ProviderContext, ProviderRegistry, VisibilityArchiverFactory,
};
// The history model, and where histories come from.
pub use archiver_core::{History, HistoryEvent, HistorySource, MemoryHistorySource};
// What a provider is built from: the blob iterator and pager, and the checks every provider makes.
pub use archiver_core::{
    DEFAULT_TARGET_BLOB_SIZE, HistoryBlob, HistoryIterator, HistoryPager, IteratorState,
    check_history_mutated, check_scheme,
};
// The in-memory archivers (archiver-kit's), also under [`memory`] with their registration.
pub use archiver_kit::memory::{MemoryHistoryArchiver, MemoryVisibilityArchiver};
// archiver-core's modules, whole.
pub use archiver_core::{config, history, page_token, visibility};
/// The object-store engine ([`archiver_kit::object`]): a provider implements
/// [`object::ObjectStore`] over its SDK and gets the history archiver; its visibility archiver
/// is the kit's table ([`kit::table::VisibilityTable`]) over the same store.
pub use archiver_kit::object;

/// The list-filter language ([`visibility_query`]): parse, check, evaluate, plan.
pub use visibility_query as query;

/// The provider conformance suite (feature `testing`): a custom archiver's tests implement
/// [`testing::Fixture`] and run every scenario the built-in providers pass.
#[cfg(feature = "testing")]
pub use archiver_core::testing;
/// The `file://` provider.
#[cfg(feature = "filestore")]
pub use archiver_filestore as filestore;
/// The `gs://` provider.
#[cfg(feature = "gcs")]
pub use archiver_gcs as gcs;
/// The provider kit ([`archiver_kit`]): the object-store engine (also as [`object`]), the
/// visibility table ([`kit::table::VisibilityTable`], a `VisibilityArchiver` over any
/// [`object::ObjectStore`] that batches writes, compacts them into Parquet segments outside
/// engines can read, and answers every list filter from both), Parquet segments, and the local
/// and in-memory object stores.
pub use archiver_kit as kit;
/// The `s3://` provider.
#[cfg(feature = "s3")]
pub use archiver_s3 as s3;
/// A SQL visibility store ([`visibility_sql`]): Temporal's `executions_visibility` schema on
/// SQLite, PostgreSQL or MySQL, queried with the list-filter language.
#[cfg(feature = "sql")]
pub use visibility_sql as sql;

/// A registry with every built-in provider of this build: `memory`, and `file`, `s3` and `gs`
/// with the `filestore`, `s3` and `gcs` features, each added by its module's `register`. A
/// built-in scheme whose feature is off is registered too, as a factory that fails with
/// [`Error::InvalidConfig`] naming the feature, so the error says what to change rather than
/// that the scheme is unknown. Add your own with
/// [`ProviderRegistry::register_history`] / [`register_visibility`](ProviderRegistry::register_visibility);
/// a custom registration overrides a built-in one of the same scheme.
///
/// Providers are built on first use from their section of `config` (a missing section gives
/// [`Error::ProviderNotConfigured`]; `memory` needs none); `history_source` is the engine's
/// persistence that history archivers read from.
pub fn registry(
    config: config::ArchivalConfig,
    history_source: Arc<dyn HistorySource>,
) -> ProviderRegistry {
    let mut registry = ProviderRegistry::new(config, history_source);
    memory::register(&mut registry);
    #[cfg(feature = "filestore")]
    archiver_filestore::register(&mut registry);
    #[cfg(not(feature = "filestore"))]
    feature_off(&mut registry, "file", "filestore");
    #[cfg(feature = "s3")]
    archiver_s3::register(&mut registry);
    #[cfg(not(feature = "s3"))]
    feature_off(&mut registry, "s3", "s3");
    #[cfg(feature = "gcs")]
    archiver_gcs::register(&mut registry);
    #[cfg(not(feature = "gcs"))]
    feature_off(&mut registry, "gs", "gcs");
    registry
}

/// Registers `scheme` as a built-in whose factory says which feature to enable.
#[cfg(not(all(feature = "filestore", feature = "s3", feature = "gcs")))]
fn feature_off(registry: &mut ProviderRegistry, scheme: &'static str, feature: &'static str) {
    let error = move || Error::InvalidConfig {
        key: format!("archival URI scheme {scheme:?}"),
        reason: format!("the `{feature}` feature of the `archiver` crate is not enabled"),
    };
    registry
        .register_builtin_history(scheme, Arc::new(move |_: &ProviderContext| Err(error())))
        .register_builtin_visibility(scheme, Arc::new(move |_: &ProviderContext| Err(error())));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_schemes_list_the_built_ins() {
        let registry = registry(
            config::ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        let err = registry.history_archiver("ftp").unwrap_err();
        let Error::UnsupportedScheme { available, .. } = err else {
            panic!("expected UnsupportedScheme, got {err:?}");
        };
        assert!(available.contains(&"memory".to_owned()));
        #[cfg(feature = "filestore")]
        assert!(available.contains(&"file".to_owned()));
    }

    #[cfg(not(feature = "s3"))]
    #[test]
    fn a_scheme_whose_feature_is_off_names_the_feature() {
        let registry = registry(
            config::ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        let err = registry.visibility_archiver("s3").unwrap_err();
        assert!(
            err.to_string().contains("`s3` feature"),
            "unexpected error: {err}"
        );
    }

    #[cfg(feature = "filestore")]
    #[test]
    fn file_needs_its_config_section() {
        let registry = registry(
            config::ArchivalConfig::default(),
            Arc::new(MemoryHistorySource::new()),
        );
        assert!(matches!(
            registry.history_archiver("file"),
            Err(Error::ProviderNotConfigured { .. })
        ));
    }
}
